# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# Common functions of the end-to-end tests (tier c): real tools (devmem-nc,
# stock nc, ping, kernel_sender, kernel_rx) over a real TUN link, each test
# inside network namespaces it creates and deletes.
#
# A test sources this file, calls e2e_init NAME, and ends with e2e_finish.
# Exit status: 0 pass, 1 fail, 77 skip (no root, no TUN, no netns, no tool).
#
# Network safety: traffic stays inside namespaces named dm-$$-*, which get
# only lo and the TUN interface devmem-nc creates, addresses from
# 192.0.2.0/24 and 2001:db8::/32, and no route out.
#
# Environment: DEVMEM_BUILD (build directory; ctest sets it), DEVMEM_SRC,
# E2E_BYTES (override a test's transfer size), E2E_TIMEOUT (seconds for one
# transfer, 180).

set -u

E2E_REPO=${DEVMEM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
E2E_BUILD=${DEVMEM_BUILD:-$E2E_REPO/build}
DEVMEM_NC=$E2E_BUILD/devmem-nc
KERNEL_SENDER=$E2E_BUILD/kernel_sender
KERNEL_RX=$E2E_BUILD/kernel_rx
E2E_TIMEOUT=${E2E_TIMEOUT:-180}

E2E_NAME=
E2E_TMP=
E2E_FAILS=0
E2E_SANITIZED=0
E2E_NS_LIST=()
E2E_PIDS=()
NS=
BG_PID=

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*"
	exit 1
}

require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, TUN)"
}

require_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "tool '$t' not installed (scripts/setup.sh installs it)"
	done
}

# e2e_init NAME: check prerequisites, make a scratch directory, arm cleanup.
e2e_init() {
	E2E_NAME=$1
	require_root
	require_tools ip timeout awk
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	[ -x "$DEVMEM_NC" ] || fail "$DEVMEM_NC not built (cmake --build ${E2E_BUILD})"
	[ -x "$KERNEL_SENDER" ] || fail "$KERNEL_SENDER not built (cmake --build ${E2E_BUILD})"
	if grep -qs '^DEVMEM_SANITIZE:BOOL=ON' "$E2E_BUILD/CMakeCache.txt"; then
		E2E_SANITIZED=1
	fi
	E2E_TMP=$(mktemp -d "/tmp/dm-e2e-$E2E_NAME.XXXXXX")
	trap e2e_cleanup EXIT
	trap 'echo "interrupted"; exit 1' INT TERM
	echo "== $E2E_NAME (build $E2E_BUILD$([ $E2E_SANITIZED = 1 ] && echo ', sanitizers'))"
}

# Kill what we started (by pid), then delete our namespaces: their TUN
# interfaces and anything still running inside go with them.
e2e_cleanup() {
	local pid ns p
	for pid in "${E2E_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for ns in "${E2E_NS_LIST[@]}"; do
		# Processes inside a namespace this test created were started by it.
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$p" 2>/dev/null
		done
	done
	sleep 0.2
	for pid in "${E2E_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	for ns in "${E2E_NS_LIST[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
}

# ns_create NAME: a namespace dm-$$-NAME with lo up and nothing else; sets NS.
ns_create() {
	NS="dm-$$-$1"
	ip netns add "$NS" 2>"$E2E_TMP/netns.err" ||
		skip "cannot create a network namespace: $(cat "$E2E_TMP/netns.err")"
	E2E_NS_LIST+=("$NS")
	ip -n "$NS" link set lo up || fail "cannot bring lo up in $NS"
}

# in_ns NS CMD...: run CMD inside NS.
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# bg_ns NS LOG CMD...: start CMD inside NS in the background, bounded by
# E2E_TIMEOUT, output to LOG; sets BG_PID.
bg_ns() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" timeout "$E2E_TIMEOUT" "$@" >"$log" 2>&1 &
	BG_PID=$!
	E2E_PIDS+=("$BG_PID")
}

# wait_listening LOG PID [SECONDS]: until LOG has a line with "listening".
wait_listening() {
	local log=$1 pid=$2 secs=${3:-15} i
	for ((i = 0; i < secs * 20; i++)); do
		grep -q listening "$log" 2>/dev/null && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "server exited before listening:"
			sed 's/^/  | /' "$log"
			return 1
		fi
		sleep 0.05
	done
	echo "server not listening after ${secs}s:"
	sed 's/^/  | /' "$log"
	return 1
}

# wait_exit PID [SECONDS]: wait for a background job; prints nothing,
# returns its exit status (124 after killing it on timeout).
wait_exit() {
	local pid=$1 secs=${2:-$E2E_TIMEOUT} i
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"
}

# pattern BYTES: ncdevmem's -v 7 stream (01 02 03 04 05 06 0a ...).
pattern() {
	yes "$(echo -e \\x01\\x02\\x03\\x04\\x05\\x06)" | head -c "$1"
}

# nc_send NS SERVER PORT BYTES: the command of ncdevmem's documentation,
# inside NS: yes ... | head -c BYTES | nc -N SERVER PORT.
# shellcheck disable=SC2016 # the single-quoted script expands in the inner bash
nc_send() {
	in_ns "$1" timeout "$E2E_TIMEOUT" bash -c \
		'yes "$(echo -e \\x01\\x02\\x03\\x04\\x05\\x06)" | head -c "$1" | nc -N "$2" "$3"' \
		nc_send "$4" "$2" "$3"
}

# to_bytes SIZE: 1G -> 1073741824 (K/M/G suffixes, powers of 1024).
to_bytes() {
	local s=$1 n=${1%[KkMmGg]}
	case $s in
	*[Kk]) echo $((n << 10)) ;;
	*[Mm]) echo $((n << 20)) ;;
	*[Gg]) echo $((n << 30)) ;;
	*) echo "$s" ;;
	esac
}

# e2e_size NORMAL SANITIZED: the transfer size of this run (E2E_BYTES wins).
e2e_size() {
	if [ -n "${E2E_BYTES:-}" ]; then
		echo "$E2E_BYTES"
	elif [ "$E2E_SANITIZED" = 1 ]; then
		echo "$2"
	else
		echo "$1"
	fi
}

# line LOG PREFIX: the first line of LOG that starts with PREFIX.
line() {
	grep -m1 "^$2" "$1"
}

# kv LINE KEY: the value of KEY=value in LINE.
kv() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

ok() {
	echo "ok: $*"
}

bad() {
	echo "FAIL: $*"
	E2E_FAILS=$((E2E_FAILS + 1))
}

# expect_eq DESC ACTUAL WANT; expect_ge DESC ACTUAL MIN; expect_le DESC ACTUAL MAX
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1 = $2"; else bad "$1: got '$2', want '$3'"; fi
}
expect_ge() {
	if [[ "$2" =~ ^[0-9]+$ ]] && (($2 >= $3)); then ok "$1 = $2 (>= $3)"; else bad "$1: got '$2', want >= $3"; fi
}
expect_le() {
	if [[ "$2" =~ ^[0-9]+$ ]] && (($2 <= $3)); then ok "$1 = $2 (<= $3)"; else bad "$1: got '$2', want <= $3"; fi
}

# show LOG TITLE: print a log, indented, so failures explain themselves.
show() {
	echo "-- $2:"
	sed 's/^/  | /' "$1"
}

# check_summary LOG BYTES: devmem-nc's summary says every byte arrived in
# device memory and validated, and the pool got every buffer back.
check_summary() {
	local log=$1 bytes=$2 s p
	s=$(line "$log" 'summary:')
	if [ -z "$s" ]; then
		bad "no summary line"
		return
	fi
	expect_eq "validated" "$(kv "$s" validated)" yes
	expect_eq "bytes" "$(kv "$s" bytes)" "$bytes"
	expect_eq "linear_frags" "$(kv "$s" linear_frags)" 0
	expect_ge "dmabuf_frags" "$(kv "$s" dmabuf_frags)" 1
	grep -q '^flow steering error' "$log" && bad "flow steering error reported"
	check_pool "$log"
}

# check_pool LOG: free == buffers and no token outstanding.
check_pool() {
	local p
	p=$(line "$1" 'pool:')
	if [ -z "$p" ]; then
		bad "no pool line"
		return
	fi
	expect_ge "pool buffers" "$(kv "$p" buffers)" 1
	expect_eq "pool free (== buffers)" "$(kv "$p" free)" "$(kv "$p" buffers)"
	expect_eq "tokens_outstanding" "$(kv "$p" tokens_outstanding)" 0
}

# nc_pattern_test SERVER CLIENT SIZE [devmem-nc options...]: devmem-nc -v 7
# in a fresh namespace, stock nc sends SIZE of the pattern, and the summary
# is checked. Used by the nc tests for IPv4, IPv6 and sealed memory.
nc_pattern_test() {
	local server=$1 client=$2 size=$3 bytes log rc
	shift 3
	require_tools nc yes head
	bytes=$(to_bytes "$size")
	ns_create srv
	log=$E2E_TMP/devmem-nc.log
	bg_ns "$NS" "$log" "$DEVMEM_NC" -l -f dmtun0 -s "$server" -c "$client" -p 5201 -v 7 "$@"
	local srv=$BG_PID
	wait_listening "$log" "$srv" || fail "devmem-nc did not start"
	local t0=$SECONDS
	nc_send "$NS" "$server" 5201 "$bytes"
	rc=$?
	expect_eq "nc exit status" "$rc" 0
	wait_exit "$srv" 60
	rc=$?
	echo "transfer of $size took $((SECONDS - t0)) s"
	show "$log" "devmem-nc"
	expect_eq "devmem-nc exit status" "$rc" 0
	check_summary "$log" "$bytes"
}

# check_tx LOG BYTES: devmem-nc's client summary says every byte was sent,
# every zero-copy send completed exactly once and in order, all of it came
# from device memory with nothing copied, and nothing is left pending on
# the TX binding.
check_tx() {
	local log=$1 bytes=$2 s t
	s=$(line "$log" 'summary:')
	if [ -z "$s" ]; then
		bad "no client summary line"
		return
	fi
	expect_eq "bytes sent" "$(kv "$s" bytes)" "$bytes"
	expect_eq "completed_once" "$(kv "$s" completed_once)" yes
	expect_ge "sends" "$(kv "$s" sends)" 1
	expect_eq "completions (== sends)" "$(kv "$s" completions)" "$(kv "$s" sends)"
	expect_eq "zc_copied" "$(kv "$s" zc_copied)" 0
	grep -q '^completion error' "$log" && bad "completion errors reported"
	t=$(line "$log" 'tx:')
	if [ -z "$t" ]; then
		bad "no tx line"
		return
	fi
	expect_eq "tx copied_bytes" "$(kv "$t" copied_bytes)" 0
	expect_ge "tx dev_bytes" "$(kv "$t" dev_bytes)" "$bytes"
	expect_eq "tx dev_bytes (== tx bytes)" "$(kv "$t" dev_bytes)" "$(kv "$t" bytes)"
	expect_eq "stack zc_completions (== sends)" "$(kv "$t" zc_completions)" "$(kv "$s" sends)"
	expect_eq "tx dma_errors" "$(kv "$t" dma_errors)" 0
	expect_ge "binding_tx_bytes" "$(kv "$t" binding_tx_bytes)" "$bytes"
	expect_eq "binding_tx_pending" "$(kv "$t" binding_tx_pending)" 0
}

# tx_kernel_test SERVER CLIENT SIZE [devmem-nc options...]: in a fresh
# namespace, kernel_rx -v 7 listens on the wildcard address (SERVER exists
# only once devmem-nc gave it to the kernel side of its TUN), and
# `devmem-nc --bytes SIZE -v 7` sends from device memory to SERVER. Checks:
# both exit 0, the receiver got SIZE bytes and validated them, check_tx.
tx_kernel_test() {
	local server=$1 client=$2 size=$3 bytes rlog clog rc any=0.0.0.0
	shift 3
	[ -x "$KERNEL_RX" ] || fail "$KERNEL_RX not built (cmake --build ${E2E_BUILD})"
	[[ "$server" == *:* ]] && any=::
	bytes=$(to_bytes "$size")
	ns_create tx
	rlog=$E2E_TMP/kernel_rx.log
	clog=$E2E_TMP/devmem-nc.log
	bg_ns "$NS" "$rlog" "$KERNEL_RX" "$any" 5201 --no-copy -v 7
	local rx=$BG_PID
	wait_listening "$rlog" "$rx" || fail "kernel_rx did not start"
	local t0=$SECONDS
	bg_ns "$NS" "$clog" "$DEVMEM_NC" -f dmtun0 -s "$server" -c "$client" -p 5201 \
		--bytes "$bytes" -v 7 "$@"
	local tx=$BG_PID
	wait_exit "$tx"
	rc=$?
	echo "transfer of $size took $((SECONDS - t0)) s"
	show "$clog" "devmem-nc"
	expect_eq "devmem-nc exit status" "$rc" 0
	wait_exit "$rx" 30
	rc=$?
	show "$rlog" "kernel_rx"
	expect_eq "kernel_rx exit status" "$rc" 0
	local r
	r=$(line "$rlog" 'bytes=')
	expect_eq "bytes received" "$(kv "$r" bytes)" "$bytes"
	expect_eq "received data validated" "$(kv "$r" validated)" yes
	check_tx "$clog" "$bytes"
}

# e2e_finish: the verdict.
e2e_finish() {
	if ((E2E_FAILS)); then
		echo "FAIL: $E2E_NAME: $E2E_FAILS check(s) failed"
		exit 1
	fi
	echo "PASS: $E2E_NAME"
	exit 0
}
