#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# devmem-nc --conns 16 -v 7: sixteen kernel_sender connections of 64 MiB each
# at once, each validated with its own pattern counter in its own thread, all
# sharing one 64 MiB dmabuf (so the pool must be shared fairly and refilled).
# Pass: every connection validated with all its bytes, none linear, the total
# right, every buffer back in the pool.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init concurrent

CONNS=16
size=$(e2e_size 64M 16M)
bytes=$(to_bytes "$size")
ns_create srv
log=$E2E_TMP/devmem-nc.log
bg_ns "$NS" "$log" "$DEVMEM_NC" -l -f dmtun0 -s 192.0.2.1 -c 192.0.2.2 -p 5201 -v 7 --conns "$CONNS"
srv=$BG_PID
wait_listening "$log" "$srv" || fail "devmem-nc did not start"

t0=$SECONDS
pids=()
for ((i = 0; i < CONNS; i++)); do
	bg_ns "$NS" "$E2E_TMP/sender-$i.log" "$KERNEL_SENDER" 192.0.2.1 5201 "$size"
	pids+=("$BG_PID")
done
for ((i = 0; i < CONNS; i++)); do
	wait_exit "${pids[$i]}"
	rc=$?
	[ "$rc" = 0 ] || { bad "sender $i exit status $rc"; show "$E2E_TMP/sender-$i.log" "sender $i"; }
done
wait_exit "$srv" 60
rc=$?
echo "$CONNS x $size took $((SECONDS - t0)) s"
show "$log" "devmem-nc"
expect_eq "devmem-nc exit status" "$rc" 0

expect_eq "per-connection summaries" "$(grep -c '^conn [0-9]* summary:' "$log")" "$CONNS"
for ((i = 0; i < CONNS; i++)); do
	s=$(line "$log" "conn $i summary:")
	if [ "$(kv "$s" validated)" = yes ] && [ "$(kv "$s" bytes)" = "$bytes" ] &&
		[ "$(kv "$s" linear_frags)" = 0 ]; then
		ok "conn $i: $bytes bytes, validated"
	else
		bad "conn $i: ${s:-no summary}"
	fi
done
check_summary "$log" $((CONNS * bytes))
e2e_finish
