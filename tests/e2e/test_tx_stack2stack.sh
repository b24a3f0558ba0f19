#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Stack to stack, device memory at both ends: `devmem-nc -l -v 7` (stack A,
# its own TUN) receives what `devmem-nc --bytes N -v 7` (stack B, another
# TUN) sends zero-copy from its TX binding, in one namespace whose kernel
# forwards between the two TUN interfaces (ip_forward). --tun-peer puts the
# kernel side of each TUN in its own half of the prefix:
#   IPv4: A 192.0.2.1, dmtunA4 192.0.2.126/25; B 192.0.2.129, dmtunB4 192.0.2.254/25
#   IPv6: A 2001:db8:1::1, dmtunA6 2001:db8:1::fe/64; B 2001:db8:2::1, dmtunB6 2001:db8:2::fe/64
# Pass, for 1 GiB over IPv4 and 256 MiB over IPv6: A validated every byte in
# its device memory with none linear and every buffer back in its pool; B's
# sends all completed exactly once from device memory with nothing copied
# and nothing pending; the kernel forwarded the datagrams. (Sanitizer
# builds send 256 MiB and 64 MiB; E2E_BYTES overrides both.)
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init tx_stack2stack

ns_create fwd
in_ns "$NS" sysctl -qw net.ipv4.ip_forward=1 || skip "cannot enable IPv4 forwarding in $NS"
in_ns "$NS" sysctl -qw net.ipv6.conf.all.forwarding=1 || skip "cannot enable IPv6 forwarding in $NS"

# forwarded NAME: the kernel's forwarded-datagram counter (Ip ForwDatagrams
# or Ip6OutForwDatagrams) in the namespace.
# shellcheck disable=SC2016 # awk programs, single-quoted on purpose
forwarded() {
	if [ "$1" = 4 ]; then
		in_ns "$NS" awk '/^Ip: / { if (!h) { for (i = 1; i <= NF; i++) if ($i == "ForwDatagrams") c = i; h = 1 } else print $c }' /proc/net/snmp
	else
		in_ns "$NS" awk '$1 == "Ip6OutForwDatagrams" { print $2 }' /proc/net/snmp6
	fi
}

# stack2stack FAMILY A_ADDR A_TUN_PEER B_ADDR B_TUN_PEER SIZE PORT
stack2stack() {
	local fam=$1 a=$2 a_peer=$3 b=$4 b_peer=$5 size=$6 port=$7 bytes slog clog rc f0 f1
	bytes=$(to_bytes "$size")
	echo "-- IPv$fam: $size from stack B ($b) to stack A ($a) through the kernel"
	slog=$E2E_TMP/server$fam.log
	clog=$E2E_TMP/client$fam.log
	f0=$(forwarded "$fam")
	bg_ns "$NS" "$slog" "$DEVMEM_NC" -l -f "dmtunA$fam" -s "$a" --tun-peer "$a_peer" -p "$port" -v 7
	local srv=$BG_PID
	wait_listening "$slog" "$srv" || fail "devmem-nc -l did not start"
	local t0=$SECONDS
	bg_ns "$NS" "$clog" "$DEVMEM_NC" -f "dmtunB$fam" -s "$a" -c "$b" --tun-peer "$b_peer" \
		-p "$port" --bytes "$bytes" -v 7
	local cli=$BG_PID
	wait_exit "$cli"
	rc=$?
	echo "transfer of $size took $((SECONDS - t0)) s"
	show "$clog" "devmem-nc (client, stack B)"
	expect_eq "client exit status" "$rc" 0
	wait_exit "$srv" 30
	rc=$?
	show "$slog" "devmem-nc -l (server, stack A)"
	expect_eq "server exit status" "$rc" 0
	check_summary "$slog" "$bytes"
	check_tx "$clog" "$bytes"
	f1=$(forwarded "$fam")
	expect_ge "datagrams the kernel forwarded" $((f1 - f0)) 1000
}

stack2stack 4 192.0.2.1 192.0.2.126/25 192.0.2.129 192.0.2.254/25 "$(e2e_size 1G 256M)" 5201
stack2stack 6 2001:db8:1::1 2001:db8:1::fe/64 2001:db8:2::1 2001:db8:2::fe/64 \
	"$(e2e_size 256M 64M)" 5202
e2e_finish
