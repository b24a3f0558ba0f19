#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# devmem-nc --hold-ms 2000: after the first frag it keeps every token for
# 2 s while it goes on reading, so the bound queue's buffers stay pinned. The
# stack should close the receive window (the sender waits) rather than fill
# the pool and then drop frame after frame (drop_nobuf climbing while TCP
# retransmits into an empty pool). Then every token goes back and the
# transfer completes.
#
# Pass: 256 MiB validated, every buffer back, the stack advertised a zero
# window while the tokens were held, and not one frame was dropped for lack
# of buffers.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init hold_tokens

size=$(e2e_size 256M 64M)
bytes=$(to_bytes "$size")
ns_create srv
log=$E2E_TMP/devmem-nc.log
bg_ns "$NS" "$log" "$DEVMEM_NC" -l -f dmtun0 -s 192.0.2.1 -c 192.0.2.2 -p 5201 -v 7 --hold-ms 2000
srv=$BG_PID
wait_listening "$log" "$srv" || fail "devmem-nc did not start"

t0=$SECONDS
in_ns "$NS" timeout "$E2E_TIMEOUT" "$KERNEL_SENDER" 192.0.2.1 5201 "$size"
expect_eq "kernel_sender exit status" $? 0
wait_exit "$srv" 60
rc=$?
echo "transfer of $size with a 2 s hold took $((SECONDS - t0)) s"
show "$log" "devmem-nc"
expect_eq "devmem-nc exit status" "$rc" 0
check_summary "$log" "$bytes"

h=$(grep -m1 'hold: kept' "$log")
if [ -n "$h" ]; then ok "tokens were held: ${h#*hold: }"; else bad "no 'hold: kept' line"; fi
q=$(line "$log" 'queue 0:')
echo "queue 0 after the hold: ${q#queue 0: }"
expect_eq "queue 0 drop_nobuf" "$(kv "$q" drop_nobuf)" 0
st=$(line "$log" 'stack:')
expect_ge "zero windows advertised" "$(kv "$st" tcp_zero_window)" 1
e2e_finish
