#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Path MTU discovery against Linux. `devmem-nc --bytes N -v 7` (stack on
# dmtun0) sends to kernel_rx in another namespace through a router namespace
# whose link toward the receiver has a smaller MTU (1280) than both ends
# (1500). The receiver's MSS says 1460, so only the router's ICMP
# "fragmentation needed" (IPv4, RFC 1191) or "packet too big" (IPv6,
# RFC 8201) can tell the stack; it must shrink its segments and resend.
#   router: dmtun0 (kernel 192.0.2.2/25, 2001:db8:1::fe/64; stack .1, ::1)
#           vr (192.0.2.129/25, 2001:db8:2::1/64, MTU 1280)
#   recv:   vk (192.0.2.130/25, 2001:db8:2::2/64, MTU 1500)
# Pass: the bytes arrive validated, every send completed exactly once, the
# router sent ICMP errors, and the stack counted them (icmp_pmtu > 0).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init tx_pmtu
[ -x "$KERNEL_RX" ] || fail "$KERNEL_RX not built (cmake --build ${E2E_BUILD})"

ns_create rtr
RTR=$NS
ns_create rcv
RCV=$NS
in_ns "$RTR" sysctl -qw net.ipv4.ip_forward=1 || skip "cannot enable forwarding in $RTR"
in_ns "$RTR" sysctl -qw net.ipv6.conf.all.forwarding=1 || skip "cannot enable IPv6 forwarding"
ip link add vr netns "$RTR" type veth peer name vk netns "$RCV" || skip "cannot create a veth pair"
in_ns "$RTR" ip link set vr mtu 1280 up
in_ns "$RCV" ip link set vk mtu 1500 up
in_ns "$RTR" ip addr add 192.0.2.129/25 dev vr
in_ns "$RCV" ip addr add 192.0.2.130/25 dev vk
in_ns "$RTR" ip addr add 2001:db8:2::1/64 dev vr nodad
in_ns "$RCV" ip addr add 2001:db8:2::2/64 dev vk nodad
in_ns "$RCV" ip route add 192.0.2.0/25 via 192.0.2.129
in_ns "$RCV" ip -6 route add 2001:db8:1::/64 via 2001:db8:2::1

# icmp_out FAMILY: ICMP errors the router has sent so far.
icmp_out() {
	if [ "$1" = 4 ]; then
		in_ns "$RTR" awk '/^Icmp: / { if (!h) { for (i = 1; i <= NF; i++) if ($i == "OutDestUnreachs") c = i; h = 1 } else print $c }' /proc/net/snmp
	else
		in_ns "$RTR" awk '$1 == "Icmp6OutPktTooBigs" { print $2 }' /proc/net/snmp6
	fi
}

# pmtu FAMILY STACK_ADDR TUN_PEER RECEIVER SIZE PORT
pmtu() {
	local fam=$1 me=$2 peer=$3 dst=$4 size=$5 port=$6 any=0.0.0.0 bytes rlog clog rc i0 i1
	[ "$fam" = 6 ] && any=::
	bytes=$(to_bytes "$size")
	echo "-- IPv$fam: $size to $dst over a 1280-byte hop"
	rlog=$E2E_TMP/kernel_rx$fam.log
	clog=$E2E_TMP/devmem-nc$fam.log
	i0=$(icmp_out "$fam")
	bg_ns "$RCV" "$rlog" "$KERNEL_RX" "$any" "$port" --no-copy -v 7
	local rx=$BG_PID
	wait_listening "$rlog" "$rx" || fail "kernel_rx did not start"
	bg_ns "$RTR" "$clog" "$DEVMEM_NC" -f "dmtun$fam" -s "$dst" -c "$me" --tun-peer "$peer" \
		-p "$port" --bytes "$bytes" -v 7
	local tx=$BG_PID
	wait_exit "$tx"
	rc=$?
	show "$clog" "devmem-nc"
	expect_eq "devmem-nc exit status" "$rc" 0
	wait_exit "$rx" 30
	rc=$?
	show "$rlog" "kernel_rx"
	expect_eq "kernel_rx exit status" "$rc" 0
	local r s
	r=$(line "$rlog" 'bytes=')
	expect_eq "bytes received" "$(kv "$r" bytes)" "$bytes"
	expect_eq "received data validated" "$(kv "$r" validated)" yes
	check_tx "$clog" "$bytes"
	i1=$(icmp_out "$fam")
	expect_ge "ICMP errors the router sent" $((i1 - i0)) 1
	s=$(line "$clog" 'stack:')
	expect_ge "stack icmp_pmtu" "$(kv "$s" icmp_pmtu)" 1
}

pmtu 4 192.0.2.1 192.0.2.2/25 192.0.2.130 "$(e2e_size 128M 32M)" 5201
pmtu 6 2001:db8:1::1 2001:db8:1::fe/64 2001:db8:2::2 "$(e2e_size 128M 32M)" 5202
e2e_finish
