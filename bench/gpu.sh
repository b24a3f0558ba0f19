#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Receive into GPU memory: the traditional path against devmem (docs/gpu.md).
#
#   (a) traditional: kernel_sender over a veth pair to `kernel_rx --cuda`:
#       recv() into host memory (the CPU copies every byte out of the
#       socket), then a copy into GPU memory by the copy engine
#       (cuMemcpyHtoD through the cuda provider).
#   (b) devmem: the same sender, through a TUN interface, into
#       `devmem-nc -l --mem cuda`: the software NIC reads each frame into a
#       pinned bounce slot and the copy engine moves the payload into the
#       bound GPU buffer; the application copies nothing.
#
# Printed: median Gbit/s of RUNS runs, the receiver's CPU seconds per GiB,
# the whole machine's CPU seconds per GiB, the bytes the CPU copied on the
# receive side, and last gpu_ratio=X (devmem Gbit/s over traditional).
# On this software NIC the link's read into the bounce slot is a copy the
# kernel's CPU makes (it stands in for the NIC's DMA); the table says so.
#
# Environment: BYTES (4G), RUNS (3), CC (cubic), DEVMEM_BUILD (build/).
# Needs root and a CUDA GPU: exits 77 (skip) without one. Traffic stays in
# namespaces dmg-<pid>-*, created here and deleted on exit, on 192.0.2.0/24.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
BUILD=${DEVMEM_BUILD:-$REPO/build}
BYTES=${BYTES:-4G}
RUNS=${RUNS:-3}
CC=${CC:-cubic}
PORT=5201

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, TUN)"
if ! { command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; }; then
	echo "gpu.sh: SKIP: no CUDA GPU (nvidia-smi -L finds none)"
	exit 77
fi
for b in devmem-nc kernel_sender kernel_rx; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b not built (cmake --build $BUILD)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time)"

TAG="$$-$RANDOM"
NS_SND="dmg-$TAG-snd"
NS_RCV="dmg-$TAG-rcv"
NS_DM="dmg-$TAG-dm"
TMP=$(mktemp -d /tmp/dm-bench-gpu.XXXXXX)

cleanup() {
	local ns p
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
ip link add dmg-s netns "$NS_SND" type veth peer name dmg-r netns "$NS_RCV"
ip -n "$NS_SND" addr add 192.0.2.2/24 dev dmg-s
ip -n "$NS_RCV" addr add 192.0.2.1/24 dev dmg-r
ip -n "$NS_SND" link set dmg-s up
ip -n "$NS_RCV" link set dmg-r up

HZ=$(getconf CLK_TCK)

K_GBPS=() K_PROC=() K_SYS=() D_GBPS=() D_PROC=() D_SYS=()
KBYTES=0

run_kernel() {
	local log=$TMP/krx.log tf=$TMP/krx.time pid c0 c1 out bytes cpu
	rm -f "$log"
	ip netns exec "$NS_RCV" /usr/bin/time -f 'cpu_user=%U cpu_sys=%S' -o "$tf" \
		"$BUILD/kernel_rx" 192.0.2.1 "$PORT" --cuda --devbuf-size 256M >"$log" 2>&1 &
	pid=$!
	wait_listening "$log" "$pid"
	c0=$(busy_ticks)
	ip netns exec "$NS_SND" "$BUILD/kernel_sender" 192.0.2.1 "$PORT" "$BYTES" --cc "$CC" \
		>/dev/null || die "kernel_sender failed"
	wait "$pid" || { cat "$log" >&2; die "kernel_rx --cuda failed"; }
	c1=$(busy_ticks)
	out=$(grep '^bytes=' "$log")
	bytes=$(kv "$out" bytes)
	KBYTES=$bytes
	cpu=$(awk -F'[= ]' '{ print $2 + $4 }' "$tf")
	K_GBPS+=("$(kv "$out" gbps)")
	K_PROC+=("$(per_gib "$cpu" "$bytes")")
	K_SYS+=("$(per_gib "$(awk -v t=$((c1 - c0)) -v h="$HZ" 'BEGIN { print t / h }')" "$bytes")")
}

run_devmem() {
	local log=$TMP/dm.log tf=$TMP/dm.time pid c0 c1 s bytes cpu
	rm -f "$log"
	ip netns exec "$NS_DM" /usr/bin/time -f 'cpu_user=%U cpu_sys=%S' -o "$tf" \
		"$BUILD/devmem-nc" -l -f dmtun0 -s 192.0.2.1 -c 192.0.2.2 -p "$PORT" --mem cuda \
		--dmabuf-size 256M >"$log" 2>&1 &
	pid=$!
	wait_listening "$log" "$pid"
	c0=$(busy_ticks)
	ip netns exec "$NS_DM" "$BUILD/kernel_sender" 192.0.2.1 "$PORT" "$BYTES" --cc "$CC" \
		>/dev/null || die "kernel_sender failed"
	wait "$pid" || { cat "$log" >&2; die "devmem-nc --mem cuda failed"; }
	c1=$(busy_ticks)
	s=$(grep '^summary:' "$log")
	bytes=$(kv "$s" bytes)
	cpu=$(awk -F'[= ]' '{ print $2 + $4 }' "$tf")
	D_GBPS+=("$(kv "$s" gbps)")
	D_PROC+=("$(per_gib "$cpu" "$bytes")")
	D_SYS+=("$(per_gib "$(awk -v t=$((c1 - c0)) -v h="$HZ" 'BEGIN { print t / h }')" "$bytes")")
}

for ((i = 1; i <= RUNS; i++)); do
	run_kernel
	echo "traditional run $i: ${K_GBPS[-1]} Gbit/s"
	run_devmem
	echo "devmem run $i: ${D_GBPS[-1]} Gbit/s"
done

kg=$(median "${K_GBPS[@]}")
dg=$(median "${D_GBPS[@]}")
echo
printf '%-12s %8s %22s %22s  %s\n' path Gbit/s "receiver cpu s/GiB" "system cpu s/GiB" \
	"bytes the CPU copied on receive"
printf '%-12s %8s %22s %22s  %s\n' traditional "$kg" "$(median "${K_PROC[@]}")" \
	"$(median "${K_SYS[@]}")" "$KBYTES (recv into host memory); GPU copy by the copy engine"
printf '%-12s %8s %22s %22s  %s\n' devmem "$dg" "$(median "${D_PROC[@]}")" \
	"$(median "${D_SYS[@]}")" "0 by the application; the link's read into the bounce slot stands in for NIC DMA"
awk -v d="$dg" -v k="$kg" 'BEGIN { printf "gpu_ratio=%.2f\n", (k > 0 ? d / k : 0) }'
