#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Multi-queue, multi-flow receive throughput, kernel path against devmem path:
# for Q in QUEUES (1 2 4) and F in FLOWS (1 2 8), BYTES in all, split evenly
# over F concurrent flows, each from its own kernel_sender process.
#
#   (a) kernel: `kernel_rx --conns F` (one thread per connection, recv into
#       host memory, then a copy into its slice of a stand-in device buffer)
#       in one namespace, fed over a veth pair from another namespace. Both
#       veth ends get Q RX and Q TX channels (`ethtool -L ... rx Q tx Q`;
#       veth has no "combined" channels). Without ethtool the pair is made
#       with numrxqueues/numtxqueues Q instead.
#   (b) devmem: `devmem-nc -l --queues Q -q Q -t 0 --conns F` (all Q queues
#       bound to one host dmabuf of DMABUF_SIZE, no validation) behind a TUN
#       interface, fed by the F senders in its namespace. The TUN side gets
#       its address with --tun-peer instead of -c, so that devmem-nc adds no
#       5-tuple rule (-c steers source port PORT, ncdevmem's client, to queue
#       START) and RSS (Toeplitz over the 4-tuple, indirection table spread
#       evenly over the Q queues) places every flow. Each flow's ephemeral
#       source port decides its queue, so two flows may share one queue
#       while another idles: the per-queue packet counts that devmem-nc
#       prints (`queue N: packets=...`) are reported to show the spread.
#
# Before each point the machine's busy share over BG_SAMPLE seconds with
# nothing of ours running is printed (bg%): the machine may be shared, and
# the system-wide CPU figures include whatever else runs.
#
# Per (Q,F) one line: each path's Gbit/s, CPU seconds per GiB (the receiving
# process's own user+sys, which leaves out the kernel's softirq work; and the
# whole machine's busy time from /proc/stat, the fair figure; a receiver's
# CPU before it listens, its buffers' set-up, is left out), how many CPUs
# were busy on average during the run (from /proc/stat), devmem over
# kernel Gbit/s, and devmem's packets per queue. Medians of RUNS runs.
#
# Environment: BYTES (2G per point, K/M/G suffixes), RUNS (1), CC (cubic),
# QUEUES ("1 2 4"), FLOWS ("1 2 8"), DMABUF_SIZE (256M), BG_SAMPLE (0.5),
# DEVMEM_BUILD (build/). Needs root. Traffic stays in namespaces
# dmq-<pid>-*, created here and deleted on exit, on 192.0.2.0/24 with no
# route out.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
BUILD=${DEVMEM_BUILD:-$REPO/build}
BYTES=${BYTES:-2G}
RUNS=${RUNS:-1}
CC=${CC:-cubic}
QUEUES=${QUEUES:-1 2 4}
FLOWS=${FLOWS:-1 2 8}
DMABUF_SIZE=${DMABUF_SIZE:-256M}
BG_SAMPLE=${BG_SAMPLE:-0.5}
PORT=5201
RUN_TIMEOUT=${RUN_TIMEOUT:-300}

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, veth, TUN): run it as root"
for b in devmem-nc kernel_sender kernel_rx; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b not built (cmake --build $BUILD)"
done
case $("$BUILD/kernel_rx" --help 2>&1 || true) in
*--conns*) ;;
*) die "$BUILD/kernel_rx has no --conns: rebuild it (cmake --build $BUILD)" ;;
esac
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time)"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
for q in $QUEUES; do [[ "$q" =~ ^[1-9][0-9]*$ ]] || die "QUEUES: '$q' is not a queue count"; done
for f in $FLOWS; do [[ "$f" =~ ^[1-9][0-9]*$ ]] || die "FLOWS: '$f' is not a flow count"; done

# BYTES as a number (K/M/G/T, binary, as kernel_sender reads it)
to_bytes() {
	local s=$1 n m=1
	case $s in
	*[kK]) m=$((1 << 10)) ;;
	*[mM]) m=$((1 << 20)) ;;
	*[gG]) m=$((1 << 30)) ;;
	*[tT]) m=$((1 << 40)) ;;
	esac
	n=${s%[kKmMgGtT]}
	[[ "$n" =~ ^[0-9]+$ ]] || die "BYTES: '$s' is not a size"
	echo $((n * m))
}
TOTAL=$(to_bytes "$BYTES")

QMAX=1
for q in $QUEUES; do if ((q > QMAX)); then QMAX=$q; fi; done
ETHTOOL=$(command -v ethtool || true)

TAG="$$-$RANDOM"
NS_SND="dmq-$TAG-snd"
NS_RCV="dmq-$TAG-rcv"
NS_DM="dmq-$TAG-dm"
TMP=$(mktemp -d /tmp/dm-bench-mq.XXXXXX)
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

# The veth pair with N queues each way (made with NMAX, then ethtool -L N).
VETH_HOW=
veth_setup() {
	local n=$1 nmax=$2
	ip -n "$NS_SND" link del dmq-s 2>/dev/null || true
	ip link add dmq-s netns "$NS_SND" numtxqueues "$nmax" numrxqueues "$nmax" type veth \
		peer name dmq-r netns "$NS_RCV" numtxqueues "$nmax" numrxqueues "$nmax"
	ip -n "$NS_SND" addr add 192.0.2.2/24 dev dmq-s
	ip -n "$NS_RCV" addr add 192.0.2.1/24 dev dmq-r
	ip -n "$NS_SND" link set dmq-s up
	ip -n "$NS_RCV" link set dmq-r up
}
veth_channels() {
	local q=$1
	if [ -n "$ETHTOOL" ]; then
		[ -n "$VETH_HOW" ] || veth_setup "$QMAX" "$QMAX"
		if ip netns exec "$NS_RCV" "$ETHTOOL" -L dmq-r rx "$q" tx "$q" 2>"$TMP/eth.err" &&
			ip netns exec "$NS_SND" "$ETHTOOL" -L dmq-s rx "$q" tx "$q" 2>>"$TMP/eth.err"; then
			VETH_HOW="ethtool -L rx $q tx $q on both ends"
			return
		fi
		echo "ethtool -L on veth failed ($(tr '\n' ' ' <"$TMP/eth.err")): making the pair with $q queues" >&2
	fi
	veth_setup "$q" "$q"
	VETH_HOW="made with numrxqueues $q numtxqueues $q (no ethtool -L)"
}

HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

# Ticks of the whole machine: busy (user nice system irq softirq steal), all.
all_ticks() {
	awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}
background() {
	local b0 t0 b1 t1
	read -r b0 t0 < <(all_ticks)
	sleep "$BG_SAMPLE"
	read -r b1 t1 < <(all_ticks)
	awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.0f", (t > 0 ? 100 * b / t : 0) }'
}

# CPU seconds (user + sys, all threads) used so far by the process named
# COMM in namespace NS: what a receiver spent before it listened (allocating
# and faulting in its buffers) is left out of its figure.
proc_cpu() {
	local ns=$1 comm=$2 p
	for p in $(ip netns pids "$ns"); do
		if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$comm" ]; then
			awk -v hz="$HZ" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$p/stat"
			return
		fi
	done
	echo 0
}

# CPUs busy on average between two all_ticks samples: busy0 all0 busy1 all1
cores() {
	awk -v b=$(($3 - $1)) -v t=$(($4 - $2)) -v n="$NCPU" 'BEGIN { printf "%.2f", (t > 0 ? n * b / t : 0) }'
}

range() { # min-max of the arguments
	printf '%s\n' "$@" | sort -g | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.1f-%.1f", a, b }'
}

# F senders of PER bytes each, started together inside namespace NS;
# fails when any of them fails (their logs in $TMP/LABEL.snd*).
senders() {
	local ns=$1 f=$2 per=$3 label=$4
	ip netns exec "$ns" timeout "$RUN_TIMEOUT" bash -c '
		bin=$1 port=$2 per=$3 cc=$4 f=$5 logs=$6 pids=() rc=0
		for ((i = 0; i < f; i++)); do
			"$bin" 192.0.2.1 "$port" "$per" --cc "$cc" >"$logs.snd$i" 2>&1 &
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p" || rc=1; done
		exit $rc' _ "$BUILD/kernel_sender" "$PORT" "$per" "$CC" "$f" "$TMP/$label"
}

# results of one point's runs
K_GBPS=() K_PROC=() K_SYS=() K_CORES=() D_GBPS=() D_PROC=() D_SYS=() D_CORES=() D_QPK=()

run_kernel() {
	local q=$1 f=$2 per=$3 log=$TMP/krx.log pid pre c0 c1 t0 t1 out bytes cpu sys
	# no stale "listening" line for wait_listening, no stale sender logs
	rm -f "$log" "$TMP"/k.snd*
	ip netns exec "$NS_RCV" timeout "$RUN_TIMEOUT" "$BUILD/kernel_rx" 192.0.2.1 "$PORT" \
		--conns "$f" >"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_listening "$log" "$pid"
	pre=$(proc_cpu "$NS_RCV" kernel_rx)
	read -r c0 t0 < <(all_ticks)
	senders "$NS_SND" "$f" "$per" k ||
		{ cat "$TMP"/k.snd* "$log" >&2; die "kernel_sender failed (kernel path, Q=$q F=$f)"; }
	wait "$pid" || { cat "$log" >&2; die "kernel_rx failed"; }
	read -r c1 t1 < <(all_ticks)
	out=$(grep -m1 '^bytes=' "$log")
	bytes=$(kv "$out" bytes)
	cpu=$(awk -v a="$(kv "$out" cpu_s)" -v b="$pre" 'BEGIN { printf "%.3f", a - b }')
	sys=$(awk -v d=$((c1 - c0)) -v hz="$HZ" 'BEGIN { printf "%.3f", d / hz }')
	K_GBPS+=("$(kv "$out" gbps)")
	K_PROC+=("$(per_gib "$cpu" "$bytes")")
	K_SYS+=("$(per_gib "$sys" "$bytes")")
	K_CORES+=("$(cores "$c0" "$t0" "$c1" "$t1")")
	echo "  kernel: ${K_GBPS[-1]} Gbit/s, kernel_rx cpu ${cpu} s, system cpu ${sys} s" \
		"(${K_CORES[-1]} CPUs busy), ${bytes} bytes"
}

run_devmem() {
	local q=$1 f=$2 per=$3 log=$TMP/dm.log tf=$TMP/dm.time pid pre c0 c1 t0 t1 s bytes cpu sys qpk
	rm -f "$log" "$tf" "$TMP"/d.snd*
	ip netns exec "$NS_DM" timeout "$RUN_TIMEOUT" /usr/bin/time -f 'cpu_user=%U cpu_sys=%S' -o "$tf" \
		"$BUILD/devmem-nc" -l -f dmtun0 -s 192.0.2.1 --tun-peer 192.0.2.2/24 -p "$PORT" \
		--queues "$q" -q "$q" -t 0 --conns "$f" --dmabuf-size "$DMABUF_SIZE" --mem host \
		>"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_listening "$log" "$pid"
	pre=$(proc_cpu "$NS_DM" devmem-nc)
	read -r c0 t0 < <(all_ticks)
	senders "$NS_DM" "$f" "$per" d ||
		{ cat "$TMP"/d.snd* "$log" >&2; die "kernel_sender failed (devmem path, Q=$q F=$f)"; }
	wait "$pid" || { cat "$log" >&2; die "devmem-nc failed"; }
	read -r c1 t1 < <(all_ticks)
	if grep -q 'steering error' "$log"; then
		cat "$log" >&2
		die "devmem-nc reports a flow steering error (Q=$q F=$f)"
	fi
	s=$(grep -m1 '^summary:' "$log")
	bytes=$(kv "$s" bytes)
	cpu=$(awk -v pre="$pre" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); t += kv[2] } }
		END { printf "%.3f", t - pre }' <(grep -m1 '^cpu_user=' "$tf"))
	sys=$(awk -v d=$((c1 - c0)) -v hz="$HZ" 'BEGIN { printf "%.3f", d / hz }')
	qpk=$(sed -n 's/^queue \([0-9]*\): packets=\([0-9]*\).*/q\1=\2/p' "$log" | paste -sd' ')
	D_GBPS+=("$(kv "$s" gbps)")
	D_PROC+=("$(per_gib "$cpu" "$bytes")")
	D_SYS+=("$(per_gib "$sys" "$bytes")")
	D_CORES+=("$(cores "$c0" "$t0" "$c1" "$t1")")
	D_QPK+=("$qpk")
	echo "  devmem: ${D_GBPS[-1]} Gbit/s, devmem-nc cpu ${cpu} s, system cpu ${sys} s" \
		"(${D_CORES[-1]} CPUs busy)," \
		"$(kv "$s" dmabuf_frags) dmabuf frags, $(kv "$s" linear_frags) linear; packets $qpk"
}

# The index of the run whose value is nearest the median (for its queue split).
nearest() {
	local m=$1 i best=0
	shift
	local -a v=("$@")
	for ((i = 1; i < ${#v[@]}; i++)); do
		awk -v a="${v[i]}" -v b="${v[best]}" -v m="$m" \
			'BEGIN { da = a - m; db = b - m; exit !(da * da < db * db) }' && best=$i
	done
	echo "$best"
}

echo "multi-queue receive: $BYTES per point split over F flows, $RUNS run(s) each, $(nproc) CPUs," \
	"sender congestion control $CC, devmem dmabuf $DMABUF_SIZE; $(uname -r)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
LINES_OUT=() SPREAD_OUT=()
for q in $QUEUES; do
	veth_channels "$q"
	echo "Q=$q: devmem --queues $q -q $q -t 0 (RSS over all $q); veth $VETH_HOW"
	for f in $FLOWS; do
		per=$((TOTAL / f))
		K_GBPS=() K_PROC=() K_SYS=() K_CORES=() D_GBPS=() D_PROC=() D_SYS=() D_CORES=() D_QPK=()
		bg=$(background)
		echo " Q=$q F=$f: $f x $per bytes, background busy ${bg}%"
		for ((r = 1; r <= RUNS; r++)); do
			run_kernel "$q" "$f" "$per"
			run_devmem "$q" "$f" "$per"
		done
		kg=$(median "${K_GBPS[@]}")
		dg=$(median "${D_GBPS[@]}")
		qpk=${D_QPK[$(nearest "$dg" "${D_GBPS[@]}")]}
		LINES_OUT+=("$(printf '%2s %2s %3s%% | %6.2f %6.3f %6.3f %5.2f | %6.2f %6.3f %6.3f %5.2f | %5.2f | %s' \
			"$q" "$f" "$bg" "$kg" "$(median "${K_PROC[@]}")" "$(median "${K_SYS[@]}")" \
			"$(median "${K_CORES[@]}")" \
			"$dg" "$(median "${D_PROC[@]}")" "$(median "${D_SYS[@]}")" "$(median "${D_CORES[@]}")" \
			"$(awk -v d="$dg" -v k="$kg" 'BEGIN { printf "%.2f", (k > 0 ? d / k : 0) }')" "$qpk")")
		SPREAD_OUT+=("$(printf '%2s %2s | %-13s | %s' "$q" "$f" "$(range "${K_GBPS[@]}")" \
			"$(range "${D_GBPS[@]}")")")
	done
done

echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%2s %2s %4s | %-26s | %-26s | %5s |\n' "" "" "" "kernel (veth)" "devmem (TUN)" ""
printf '%2s %2s %4s | %6s %6s %6s %5s | %6s %6s %6s %5s | %5s | %s\n' Q F bg Gbit/s proc/G sys/G CPUs \
	Gbit/s proc/G sys/G CPUs ratio "devmem packets per queue"
printf '%s\n' "${LINES_OUT[@]}"
echo "(medians of $RUNS run(s); bg: the machine's busy share just before the point;"
echo " proc/G: the receiving process's CPU s per GiB from listening to exit, without the"
echo " kernel's softirq work; sys/G: the whole machine's busy CPU s per GiB, sender, receiver"
echo " and kernel together, and anything else running (bg); CPUs: how many of the $NCPU CPUs"
echo " were busy on average during the run; ratio: devmem over kernel Gbit/s)"
if ((RUNS > 1)); then
	echo
	echo "spread of the $RUNS runs, Gbit/s (min-max):"
	printf '%2s %2s | %-13s | %s\n' Q F kernel devmem
	printf '%s\n' "${SPREAD_OUT[@]}"
fi
