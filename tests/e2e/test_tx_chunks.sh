#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# devmem-nc's client line mode with -z 3, as the kernel's check_tx_chunks
# (tools/testing/selftests/drivers/net/hw/devmem.py): each stdin line is
# written into the TX dmabuf, sent zero-copy as iovs of 3 bytes, and its
# completion awaited before the next line. The lines vary in length: the
# selftest's "hello" and "world", empty lines, 1 to 10 bytes, lengths around
# 64 and around 3072 (1024 iovs of 3, one sendmsg's worth), 5000 bytes, and
# a last line without a newline. Pass: kernel_rx received exactly stdin,
# every send completed exactly once, none copied, the binding is clean.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init tx_chunks
[ -x "$KERNEL_RX" ] || fail "$KERNEL_RX not built (cmake --build ${E2E_BUILD})"

in=$E2E_TMP/lines.in
out=$E2E_TMP/lines.out
{
	printf 'hello\nworld\n\n\n'
	for n in 1 2 3 4 5 6 7 8 9 10 63 64 65 1000 3071 3072 3073 5000; do
		# n characters cycling through the printable ones, then '\n'
		awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "%c", 33 + (i * 7 + n) % 94; printf "\n" }'
	done
	printf 'no newline at the end'
} >"$in"
lines=$(($(wc -l <"$in") + 1))
bytes=$(wc -c <"$in")

ns_create tx
rlog=$E2E_TMP/kernel_rx.log
clog=$E2E_TMP/devmem-nc.log
bg_ns "$NS" "$rlog" "$KERNEL_RX" 0.0.0.0 5201 --no-copy --out "$out"
rx=$BG_PID
wait_listening "$rlog" "$rx" || fail "kernel_rx did not start"
# in the foreground: a background job's stdin would be /dev/null
in_ns "$NS" timeout "$E2E_TIMEOUT" "$DEVMEM_NC" -f dmtun0 -s 192.0.2.1 -c 192.0.2.2 -p 5201 \
	-z 3 <"$in" >"$clog" 2>&1
rc=$?
show "$clog" "devmem-nc"
expect_eq "devmem-nc exit status" "$rc" 0
wait_exit "$rx" 30
rc=$?
show "$rlog" "kernel_rx"
expect_eq "kernel_rx exit status" "$rc" 0

expect_eq "bytes received" "$(kv "$(line "$rlog" 'bytes=')" bytes)" "$bytes"
if cmp -s "$in" "$out"; then
	ok "received bytes equal stdin ($lines lines, $bytes bytes)"
else
	bad "received bytes differ from stdin: $(cmp "$in" "$out" 2>&1)"
fi
# a line is at least one call; longer than 3072 bytes, at least two
expect_ge "sends (one or more per line)" "$(kv "$(line "$clog" 'summary:')" sends)" $((lines + 2))
check_tx "$clog" "$bytes"
e2e_finish
