#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# With devmem-nc listening, the stack answers the kernel like a host would:
# ping and ping -6 get echo replies, and a connection to a closed port is
# refused at once (a RST: `nc -z` fails in well under its 2 s timeout, with
# "Connection refused"). IPv4 and IPv6 each get their own namespace and
# devmem-nc (one stack address per run); each run ends with a short pattern
# transfer so devmem-nc exits cleanly and its pool can be checked.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init ping_refused
require_tools ping nc yes head date

# probe NAME SERVER CLIENT PING_FLAGS...
probe() {
	local name=$1 server=$2 client=$3 log srv rc t0 ms out
	shift 3
	echo "-- $name: stack $server, kernel side $client"
	ns_create "$name"
	log=$E2E_TMP/devmem-nc-$name.log
	bg_ns "$NS" "$log" "$DEVMEM_NC" -l -f dmtun0 -s "$server" -c "$client" -p 5201 -v 7
	srv=$BG_PID
	wait_listening "$log" "$srv" || fail "devmem-nc did not start"

	in_ns "$NS" timeout 20 ping "$@" -c 3 -W 2 "$server"
	expect_eq "$name: ping $* -c 3 -W 2 $server exit status" $? 0

	out=$E2E_TMP/nc-z-$name.out
	t0=$(date +%s%N)
	in_ns "$NS" timeout 10 nc -z -v -w 2 "$server" 5999 >"$out" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	sed 's/^/  | /' "$out"
	if [ "$rc" != 0 ]; then ok "$name: nc -z to closed port 5999 failed (status $rc)"; else bad "$name: nc -z to closed port 5999 succeeded"; fi
	expect_le "$name: milliseconds until refused" "$ms" 999
	if grep -qi 'refused' "$out"; then ok "$name: connection refused"; else bad "$name: no 'Connection refused'"; fi

	nc_send "$NS" "$server" 5201 7000
	expect_eq "$name: nc exit status" $? 0
	wait_exit "$srv" 30
	rc=$?
	show "$log" "devmem-nc ($name)"
	expect_eq "$name: devmem-nc exit status" "$rc" 0
	check_summary "$log" 7000
}

probe v4 192.0.2.1 192.0.2.2
probe v6 2001:db8::1 2001:db8::2 -6
e2e_finish
