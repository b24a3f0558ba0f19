#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Single-flow receive throughput, kernel path against devmem path.
#
#   (a) kernel: kernel_rx (recv into host memory, then a copy into a stand-in
#       device buffer) in one namespace, fed by kernel_sender from another
#       namespace over a veth pair.
#   (b) devmem: kernel_sender in a namespace whose TUN interface leads into
#       `devmem-nc -l` (host device memory, no validation) in that namespace:
#       the payload lands in the dmabuf with no copy by the receiver.
#
# Each measurement runs RUNS times (3); the median is reported. CPU is given
# two ways, per GiB received: the receiving process's own user+sys time
# (kernel_rx's getrusage; devmem-nc's from /usr/bin/time), which leaves out
# the kernel's softirq work on the kernel path, and the whole machine's busy
# time from /proc/stat over the run (sender, receiver and kernel together:
# the fair comparison). The last line is rx_ratio=X, devmem Gbit/s over
# kernel Gbit/s.
#
# Environment: BYTES (4G, K/M/G suffixes), RUNS (3), CC (cubic), DEVMEM_BUILD (build/).
# Needs root. Traffic stays in namespaces dmb-<pid>-*, created here and
# deleted on exit, on 192.0.2.0/24 with no route out.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
BUILD=${DEVMEM_BUILD:-$REPO/build}
BYTES=${BYTES:-4G}
RUNS=${RUNS:-3}
# The sender's congestion control, the same for both paths: CUBIC, Linux's
# default. (This VM defaults to BBR, whose cwnd follows the minimum RTT and
# so penalises whichever path queues more; CC=bbr measures that too.)
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
TMP=$(mktemp -d /tmp/dm-bench-rx.XXXXXX)
PIDS=()

cleanup() {
	local pid ns p
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for ns in "$NS_SND" "$NS_RCV" "$NS_DM"; do
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

for ns in "$NS_SND" "$NS_RCV" "$NS_DM"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip link add dmb-s netns "$NS_SND" type veth peer name dmb-r netns "$NS_RCV"
ip -n "$NS_SND" addr add 192.0.2.2/24 dev dmb-s
ip -n "$NS_RCV" addr add 192.0.2.1/24 dev dmb-r
ip -n "$NS_SND" link set dmb-s up
ip -n "$NS_RCV" link set dmb-r up

HZ=$(getconf CLK_TCK)

K_GBPS=() K_PROC=() K_SYS=() D_GBPS=() D_PROC=() D_SYS=()

run_kernel() {
	local i=$1 log=$TMP/krx.log pid c0 c1 out bytes cpu sys
	rm -f "$log" # the last run's "listening" must not count for this one
	ip netns exec "$NS_RCV" timeout "$RUN_TIMEOUT" "$BUILD/kernel_rx" 192.0.2.1 "$PORT" >"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_listening "$log" "$pid"
	c0=$(busy_ticks)
	ip netns exec "$NS_SND" timeout "$RUN_TIMEOUT" "$BUILD/kernel_sender" 192.0.2.1 "$PORT" "$BYTES" \
		--cc "$CC" >"$TMP/ksnd.log" 2>&1 || { cat "$TMP/ksnd.log" >&2; die "kernel_sender failed"; }
	wait "$pid" || { cat "$log" >&2; die "kernel_rx failed"; }
	c1=$(busy_ticks)
	out=$(grep -m1 '^bytes=' "$log")
	bytes=$(kv "$out" bytes)
	cpu=$(kv "$out" cpu_s)
	sys=$(awk -v d=$((c1 - c0)) -v hz="$HZ" 'BEGIN { printf "%.3f", d / hz }')
	K_GBPS+=("$(kv "$out" gbps)")
	K_PROC+=("$(per_gib "$cpu" "$bytes")")
	K_SYS+=("$(per_gib "$sys" "$bytes")")
	echo "kernel run $i: ${K_GBPS[-1]} Gbit/s, kernel_rx cpu ${cpu} s, system cpu ${sys} s, ${bytes} bytes"
}

run_devmem() {
	local i=$1 log=$TMP/dm.log tf=$TMP/dm.time pid c0 c1 s bytes cpu sys
	rm -f "$log" # the last run's "listening" must not count for this one
	ip netns exec "$NS_DM" timeout "$RUN_TIMEOUT" /usr/bin/time -f 'cpu_user=%U cpu_sys=%S' -o "$tf" \
		"$BUILD/devmem-nc" -l -f dmtun0 -s 192.0.2.1 -c 192.0.2.2 -p "$PORT" --mem host >"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_listening "$log" "$pid"
	c0=$(busy_ticks)
	ip netns exec "$NS_DM" timeout "$RUN_TIMEOUT" "$BUILD/kernel_sender" 192.0.2.1 "$PORT" "$BYTES" \
		--cc "$CC" >"$TMP/dsnd.log" 2>&1 || { cat "$TMP/dsnd.log" "$log" >&2; die "kernel_sender failed"; }
	wait "$pid" || { cat "$log" >&2; die "devmem-nc failed"; }
	c1=$(busy_ticks)
	s=$(grep -m1 '^summary:' "$log")
	bytes=$(kv "$s" bytes)
	cpu=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); t += kv[2] } } END { printf "%.3f", t }' \
		<(grep -m1 '^cpu_user=' "$tf"))
	sys=$(awk -v d=$((c1 - c0)) -v hz="$HZ" 'BEGIN { printf "%.3f", d / hz }')
	D_GBPS+=("$(kv "$s" gbps)")
	D_PROC+=("$(per_gib "$cpu" "$bytes")")
	D_SYS+=("$(per_gib "$sys" "$bytes")")
	echo "devmem run $i: ${D_GBPS[-1]} Gbit/s, devmem-nc cpu ${cpu} s, system cpu ${sys} s," \
		"$(kv "$s" dmabuf_frags) dmabuf frags, $(kv "$s" linear_frags) linear"
}

echo "single-flow receive, $BYTES per run, $RUNS runs each, $(nproc) CPUs, sender congestion control $CC"
for ((r = 1; r <= RUNS; r++)); do
	run_kernel "$r"
	run_devmem "$r"
done

kg=$(median "${K_GBPS[@]}")
dg=$(median "${D_GBPS[@]}")
echo
printf '%-7s %12s %28s %28s\n' path Gbit/s "receiver-process cpu s/GiB" "system-wide cpu s/GiB"
printf '%-7s %12.2f %28.3f %28.3f\n' kernel "$kg" "$(median "${K_PROC[@]}")" "$(median "${K_SYS[@]}")"
printf '%-7s %12.2f %28.3f %28.3f\n' devmem "$dg" "$(median "${D_PROC[@]}")" "$(median "${D_SYS[@]}")"
echo "(medians; receiver-process cpu leaves out the kernel's softirq work, so the"
echo " system-wide figure, sender and receiver together, is the fair comparison)"
awk -v d="$dg" -v k="$kg" 'BEGIN { printf "rx_ratio=%.2f\n", (k > 0 ? d / k : 0) }'
