#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Single-flow transmit throughput, kernel path against devmem path.
#
#   (a) kernel: kernel_sender --devbuf-size 64M (each 1 MiB chunk copied from
#       a stand-in device buffer into a host buffer, then send(), as an
#       application without devmem TX must) in one namespace, over a veth
#       pair to kernel_rx --no-copy (a plain sink) in another.
#   (b) devmem: `devmem-nc --bytes` (client mode, host device memory, no
#       validation) sending zero-copy from its TX binding through its TUN
#       interface to the same kernel_rx --no-copy in that namespace: no copy
#       of the payload by the sender at all.
# Both have the same receiver, so the difference is the sender's. Two more
# lines, device memory at both ends against none:
#   (c) kernel to kernel: (a)'s sender to kernel_rx with its copy into a
#       stand-in device buffer, over veth (bench/rx.sh's kernel receiver).
#   (d) stack to stack: `devmem-nc --bytes` (stack B, its own TUN) to
#       `devmem-nc -l` (stack A, another TUN) in one namespace whose kernel
#       forwards between the two TUN interfaces.
#
# Each measurement runs RUNS times (3); the median is reported. CPU is given
# two ways, per GiB: the processes' own user+sys time (the sender's for (a)
# and (b): kernel_sender's getrusage, devmem-nc's from /usr/bin/time; sender
# and receiver together for (c) and (d)), which leaves out the kernel's
# softirq work, and the whole machine's busy time from /proc/stat over the
# run (senders, receivers and kernel together: the fair comparison). The
# throughput is the receiver's figure (accept to EOF), and for (d) the
# server's. The last line is tx_ratio=X, devmem Gbit/s over kernel Gbit/s.
#
# Environment: BYTES (4G, K/M/G suffixes), RUNS (3), CC (cubic; the devmem
# stack implements cubic and reno), DEVMEM_BUILD (build/).
# Needs root. Traffic stays in namespaces dmb-<pid>-*, created here and
# deleted on exit, on 192.0.2.0/24 with no route out.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
BUILD=${DEVMEM_BUILD:-$REPO/build}
BYTES=${BYTES:-4G}
RUNS=${RUNS:-3}
# The senders' congestion control, the same on every path: CUBIC, Linux's
# default (this VM defaults to BBR, which the devmem stack does not have).
CC=${CC:-cubic}
PORT=5201
RUN_TIMEOUT=${RUN_TIMEOUT:-600}

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, TUN)"
for b in devmem-nc kernel_sender kernel_rx; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b not built (cmake --build $BUILD)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time)"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"

TAG="$$-$RANDOM"
NS_SND="dmb-$TAG-snd"
NS_RCV="dmb-$TAG-rcv"
NS_DM="dmb-$TAG-dm"
NS_FWD="dmb-$TAG-fwd"
TMP=$(mktemp -d /tmp/dm-bench-tx.XXXXXX)
PIDS=()

cleanup() {
	local pid ns p
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for ns in "$NS_SND" "$NS_RCV" "$NS_DM" "$NS_FWD"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for ns in "$NS_SND" "$NS_RCV" "$NS_DM" "$NS_FWD"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip link add dmb-s netns "$NS_SND" type veth peer name dmb-r netns "$NS_RCV"
ip -n "$NS_SND" addr add 192.0.2.2/24 dev dmb-s
ip -n "$NS_RCV" addr add 192.0.2.1/24 dev dmb-r
ip -n "$NS_SND" link set dmb-s up
ip -n "$NS_RCV" link set dmb-r up
# (d): stack A on 192.0.2.1 behind dmtunA (kernel side 192.0.2.126/25),
# stack B on 192.0.2.129 behind dmtunB (192.0.2.254/25); the kernel forwards.
ip netns exec "$NS_FWD" sysctl -qw net.ipv4.ip_forward=1

HZ=$(getconf CLK_TCK)

# user+sys seconds from a /usr/bin/time -f 'cpu_user=%U cpu_sys=%S' file
time_cpu() {
	awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); t += kv[2] } } END { printf "%.3f", t }' \
		<(grep -m1 '^cpu_user=' "$1")
}

sys_cpu() { # ticks0 ticks1
	awk -v d=$(($2 - $1)) -v hz="$HZ" 'BEGIN { printf "%.3f", d / hz }'
}

add() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'
}

K_GBPS=() K_PROC=() K_SYS=() D_GBPS=() D_PROC=() D_SYS=()
KK_GBPS=() KK_PROC=() KK_SYS=() SS_GBPS=() SS_PROC=() SS_SYS=()

# (a) and (c): kernel_sender with its device-to-host copy over veth to
# kernel_rx, a sink (--no-copy) or with its own copy (RX_ARGS empty).
run_kernel() {
	local what=$1 log=$TMP/krx.log slog=$TMP/ksnd.log pid c0 c1 out snd bytes cpu sys
	shift
	rm -f "$log" # the last run's "listening" must not count for this one
	ip netns exec "$NS_RCV" timeout "$RUN_TIMEOUT" "$BUILD/kernel_rx" 192.0.2.1 "$PORT" "$@" \
		>"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_listening "$log" "$pid"
	c0=$(busy_ticks)
	ip netns exec "$NS_SND" timeout "$RUN_TIMEOUT" "$BUILD/kernel_sender" 192.0.2.1 "$PORT" "$BYTES" \
		--cc "$CC" --devbuf-size 64M >"$slog" 2>&1 || { cat "$slog" >&2; die "kernel_sender failed"; }
	wait "$pid" || { cat "$log" >&2; die "kernel_rx failed"; }
	c1=$(busy_ticks)
	out=$(grep -m1 '^bytes=' "$log")
	snd=$(grep -m1 '^bytes=' "$slog")
	bytes=$(kv "$out" bytes)
	sys=$(sys_cpu "$c0" "$c1")
	if [ "$what" = kernel ]; then
		cpu=$(kv "$snd" cpu_s)
		K_GBPS+=("$(kv "$out" gbps)")
		K_PROC+=("$(per_gib "$cpu" "$bytes")")
		K_SYS+=("$(per_gib "$sys" "$bytes")")
		echo "kernel run $r: $(kv "$out" gbps) Gbit/s, kernel_sender cpu ${cpu} s, system cpu ${sys} s, ${bytes} bytes"
	else
		cpu=$(add "$(kv "$snd" cpu_s)" "$(kv "$out" cpu_s)")
		KK_GBPS+=("$(kv "$out" gbps)")
		KK_PROC+=("$(per_gib "$cpu" "$bytes")")
		KK_SYS+=("$(per_gib "$sys" "$bytes")")
		echo "kernel-to-kernel run $r: $(kv "$out" gbps) Gbit/s, sender+receiver cpu ${cpu} s, system cpu ${sys} s"
	fi
}

# (b): devmem-nc --bytes over TUN to kernel_rx --no-copy in the same namespace
# (listening on the wildcard: 192.0.2.1 exists once devmem-nc made its TUN).
run_devmem() {
	local log=$TMP/drx.log clog=$TMP/dnc.log tf=$TMP/dnc.time pid c0 c1 out s bytes cpu sys
	rm -f "$log"
	ip netns exec "$NS_DM" timeout "$RUN_TIMEOUT" "$BUILD/kernel_rx" 0.0.0.0 "$PORT" --no-copy \
		>"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_listening "$log" "$pid"
	c0=$(busy_ticks)
	ip netns exec "$NS_DM" timeout "$RUN_TIMEOUT" /usr/bin/time -f 'cpu_user=%U cpu_sys=%S' -o "$tf" \
		"$BUILD/devmem-nc" -f dmtun0 -s 192.0.2.1 -c 192.0.2.2 -p "$PORT" --mem host \
		--bytes "$BYTES" --cc "$CC" >"$clog" 2>&1 || { cat "$clog" >&2; die "devmem-nc failed"; }
	wait "$pid" || { cat "$log" >&2; die "kernel_rx failed"; }
	c1=$(busy_ticks)
	out=$(grep -m1 '^bytes=' "$log")
	s=$(grep -m1 '^summary:' "$clog")
	[ "$(kv "$s" completed_once)" = yes ] || { cat "$clog" >&2; die "devmem-nc: sends not completed exactly once"; }
	bytes=$(kv "$out" bytes)
	cpu=$(time_cpu "$tf")
	sys=$(sys_cpu "$c0" "$c1")
	D_GBPS+=("$(kv "$out" gbps)")
	D_PROC+=("$(per_gib "$cpu" "$bytes")")
	D_SYS+=("$(per_gib "$sys" "$bytes")")
	echo "devmem run $r: $(kv "$out" gbps) Gbit/s, devmem-nc cpu ${cpu} s, system cpu ${sys} s," \
		"$(kv "$s" sends) sends, tx $(kv "$(grep -m1 '^tx:' "$clog")" dev_bytes) bytes from device memory"
}

# (d): devmem-nc to devmem-nc -l, two stacks, two TUNs, the kernel forwarding.
run_s2s() {
	local slog=$TMP/s2s-srv.log clog=$TMP/s2s-cli.log st=$TMP/s2s-srv.time ct=$TMP/s2s-cli.time
	local pid c0 c1 s bytes cpu sys
	rm -f "$slog"
	ip netns exec "$NS_FWD" timeout "$RUN_TIMEOUT" /usr/bin/time -f 'cpu_user=%U cpu_sys=%S' -o "$st" \
		"$BUILD/devmem-nc" -l -f dmtunA -s 192.0.2.1 --tun-peer 192.0.2.126/25 -p "$PORT" \
		--mem host >"$slog" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_listening "$slog" "$pid"
	c0=$(busy_ticks)
	ip netns exec "$NS_FWD" timeout "$RUN_TIMEOUT" /usr/bin/time -f 'cpu_user=%U cpu_sys=%S' -o "$ct" \
		"$BUILD/devmem-nc" -f dmtunB -s 192.0.2.1 -c 192.0.2.129 --tun-peer 192.0.2.254/25 \
		-p "$PORT" --mem host --bytes "$BYTES" --cc "$CC" >"$clog" 2>&1 ||
		{ cat "$clog" >&2; die "devmem-nc (client) failed"; }
	wait "$pid" || { cat "$slog" >&2; die "devmem-nc -l failed"; }
	c1=$(busy_ticks)
	s=$(grep -m1 '^summary:' "$slog")
	bytes=$(kv "$s" bytes)
	cpu=$(add "$(time_cpu "$st")" "$(time_cpu "$ct")")
	sys=$(sys_cpu "$c0" "$c1")
	SS_GBPS+=("$(kv "$s" gbps)")
	SS_PROC+=("$(per_gib "$cpu" "$bytes")")
	SS_SYS+=("$(per_gib "$sys" "$bytes")")
	echo "stack-to-stack run $r: $(kv "$s" gbps) Gbit/s, both devmem-nc cpu ${cpu} s, system cpu ${sys} s," \
		"$(kv "$s" dmabuf_frags) dmabuf frags, $(kv "$s" linear_frags) linear"
}

echo "single-flow transmit, $BYTES per run, $RUNS runs each, $(nproc) CPUs, congestion control $CC"
for ((r = 1; r <= RUNS; r++)); do
	run_kernel kernel --no-copy
	run_devmem
	run_kernel k2k
	run_s2s
done

kg=$(median "${K_GBPS[@]}")
dg=$(median "${D_GBPS[@]}")
kkg=$(median "${KK_GBPS[@]}")
ssg=$(median "${SS_GBPS[@]}")
echo
printf '%-17s %9s %26s %26s\n' path Gbit/s "process cpu s/GiB" "system-wide cpu s/GiB"
printf '%-17s %9.2f %26.3f %26.3f\n' kernel "$kg" "$(median "${K_PROC[@]}")" "$(median "${K_SYS[@]}")"
printf '%-17s %9.2f %26.3f %26.3f\n' devmem "$dg" "$(median "${D_PROC[@]}")" "$(median "${D_SYS[@]}")"
printf '%-17s %9.2f %26.3f %26.3f\n' kernel-to-kernel "$kkg" "$(median "${KK_PROC[@]}")" "$(median "${KK_SYS[@]}")"
printf '%-17s %9.2f %26.3f %26.3f\n' stack-to-stack "$ssg" "$(median "${SS_PROC[@]}")" "$(median "${SS_SYS[@]}")"
echo "(medians; kernel and devmem: the sender's process cpu, same kernel_rx sink as"
echo " receiver; kernel-to-kernel and stack-to-stack: sender and receiver processes."
echo " Process cpu leaves out the kernel's softirq work, so the system-wide figure"
echo " is the fair comparison)"
awk -v d="$ssg" -v k="$kkg" 'BEGIN { printf "s2s_ratio=%.2f\n", (k > 0 ? d / k : 0) }'
awk -v d="$dg" -v k="$kg" 'BEGIN { printf "tx_ratio=%.2f\n", (k > 0 ? d / k : 0) }'
