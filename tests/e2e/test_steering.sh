#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ncdevmem's queue options on the real TUN link: `devmem-nc -l -q 1 -t 1`
# on a 2-queue stack binds queue 1, keeps RSS off it (equal 1) and, with -c,
# adds the 5-tuple rule that steers the flow (source port = PORT, as
# ncdevmem's client binds it) to queue 1. Stock nc sends from port 5201:
# every byte arrives in device memory, validated, and queue 1 took the
# frames. Then the same without -c (no rule): the flow lands on queue 0
# and devmem-nc reports a steering error and fails instead of silently
# copying. (Sanitizer builds send less; E2E_BYTES overrides.)
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init steering
require_tools nc yes head

size=$(e2e_size 256M 32M)
bytes=$(to_bytes "$size")

# send NS BYTES: the pattern from 192.0.2.2 port 5201 to the stack.
# shellcheck disable=SC2016 # the single-quoted script expands in the inner bash
send_from_5201() {
	in_ns "$1" timeout "$E2E_TIMEOUT" bash -c \
		'yes "$(echo -e \\x01\\x02\\x03\\x04\\x05\\x06)" | head -c "$1" | nc -N -p 5201 -s 192.0.2.2 192.0.2.1 5201' \
		send "$2"
}

echo "-- with the rule: -q 1 -t 1 -c"
ns_create steer
log=$E2E_TMP/with-rule.log
bg_ns "$NS" "$log" "$DEVMEM_NC" -l -f dmtun0 -s 192.0.2.1 -c 192.0.2.2 -p 5201 --queues 2 \
	-q 1 -t 1 -v 7
srv=$BG_PID
wait_listening "$log" "$srv" || fail "devmem-nc did not start"
send_from_5201 "$NS" "$bytes"
expect_eq "nc exit status" "$?" 0
wait_exit "$srv" 60
rc=$?
show "$log" "devmem-nc"
expect_eq "devmem-nc exit status" "$rc" 0
grep -q '^flow steering: rule' "$log" || bad "no steering rule reported"
check_summary "$log" "$bytes"
q1=$(line "$log" 'queue 1:')
expect_ge "queue 1 payload bytes" "$(kv "$q1" bytes)" "$bytes"
q0=$(line "$log" 'queue 0:')
expect_eq "queue 0 payload bytes" "$(kv "$q0" bytes)" 0

echo "-- without the rule: the flow lands on queue 0"
ns_create norule
log=$E2E_TMP/no-rule.log
bg_ns "$NS" "$log" "$DEVMEM_NC" -l -f dmtun0 -s 192.0.2.1 --tun-peer 192.0.2.2/24 -p 5201 \
	--queues 2 -q 1 -t 1 -v 7
srv=$BG_PID
wait_listening "$log" "$srv" || fail "devmem-nc did not start"
send_from_5201 "$NS" "$((4 << 20))"
wait_exit "$srv" 60
rc=$?
show "$log" "devmem-nc"
expect_eq "devmem-nc exit status (a steering error fails)" "$rc" 1
grep -q '^flow steering error' "$log" || bad "no steering error reported"
s=$(line "$log" 'summary:')
expect_eq "dmabuf_frags" "$(kv "$s" dmabuf_frags)" 0
e2e_finish
