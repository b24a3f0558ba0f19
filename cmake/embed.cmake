# cmake -DIN=file -DOUT=header -DNAME=symbol -P embed.cmake
# Writes IN as `static const unsigned char NAME[]`, 16-byte aligned (a CUDA
# fatbin for cuModuleLoadData).
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "/* generated from ${IN} */\n"
  "static const unsigned char ${NAME}[] __attribute__((aligned(16))) = {\n${bytes}\n};\n")
