#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --mem cuda where no GPU answers (docs/gpu.md): devmem-nc says so plainly
# ("no CUDA GPU: ...") and exits 1, in server and client mode, before it
# touches any interface (so no root is needed). The driver is hidden with
# DEVMEM_LIBCUDA, so this runs on GPU machines too; without the override
# the real answer is checked where the machine has no GPU.
set -u
NC=${DEVMEM_BUILD:-build}/devmem-nc
[ -x "$NC" ] || { echo "SKIP: $NC not built"; exit 77; }
fails=0
expect_nogpu() { # name, then the command
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 1 ] || ! grep -q -- "--mem cuda: no CUDA GPU: " <<<"$out"; then
		echo "FAIL $name: rc=$rc: $out"
		fails=$((fails + 1))
	else
		echo "ok   $name: $out"
	fi
}
args=(-f dmcuda0 -s 192.0.2.1 -c 192.0.2.2 -p 5201 --mem cuda)
expect_nogpu server-nodriver env DEVMEM_LIBCUDA=/nonexistent/libcuda.so.1 "$NC" -l "${args[@]}" -v 7
expect_nogpu client-nodriver env DEVMEM_LIBCUDA=/nonexistent/libcuda.so.1 \
	"$NC" "${args[@]}" --bytes 1M -v 7
# the machine's own answer: only where it has no GPU
if ! out=$(timeout 20 "$NC" -l "${args[@]}" -v 7 2>&1 </dev/null) &&
	grep -q "no CUDA GPU" <<<"$out"; then
	expect_nogpu server-real "$NC" -l "${args[@]}" -v 7
else
	echo "this machine has a CUDA GPU: the real no-GPU path is not checked here"
fi
out=$("$NC" -l -f x -s 192.0.2.1 -c 192.0.2.2 -p 1 --mem nosuch 2>&1)
grep -q "host, sealed or cuda" <<<"$out" || { echo "FAIL: --mem nosuch: $out"; fails=$((fails + 1)); }
[ $fails -eq 0 ] || exit 1
echo PASS
