#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# devmemctl against a running `devmem-nc -l --ctl SOCK -v 7` (two RX queues,
# queue 0 bound), in a fresh namespace. While it runs: the control socket is
# mode 0600; `devmemctl --json show bindings|queues` report devmem-nc's
# binding on queue 0; RSS, an ntuple rule and a second binding made by
# devmemctl itself (a memfd passed over the socket, held with --hold, gone
# when devmemctl exits) change what it shows; refusals exit 1 with the
# errno and the stack's reason. Stock nc then sends a known byte count, and
# `devmemctl --json show stats` must count exactly those payload bytes on
# queue 0 and none on queue 1. A second, empty connection ends devmem-nc,
# whose own summary and queue counters must agree.
# JSON is read with grep and sed only (no jq, no python on CI).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init devmemctl
require_tools nc yes head stat grep sed
DEVMEMCTL=$E2E_BUILD/devmemctl
[ -x "$DEVMEMCTL" ] || fail "$DEVMEMCTL not built (cmake --build ${E2E_BUILD})"

SERVER=192.0.2.1
CLIENT=192.0.2.2
PORT=5201
# not a round number: a count that can only match if every byte is counted once
BYTES=$(($(to_bytes "$(e2e_size 64M 16M)") + 12345))
SOCK=$E2E_TMP/ctl.sock

# bounded: a stack that stopped answering fails the check instead of the run
ctl() { timeout 10 "$DEVMEMCTL" -s "$SOCK" "$@"; }

# jnum JSON KEY: the first number after "KEY": in JSON
jnum() { echo "$1" | grep -o "\"$2\":-\{0,1\}[0-9]*" | head -n1 | cut -d: -f2; }
# jobj JSON ID: the flat object {"id":ID,...} (a queue, a binding)
jobj() { echo "$1" | grep -o "{\"id\":$2,[^{}]*}" | head -n1; }
# jcount JSON: how many {"id": objects
jcount() { echo "$1" | grep -o '{"id":' | wc -l | tr -d ' '; }

# expect_refusal DESC EXIT ERRNO_TEXT CMD...: devmemctl exits EXIT and says why
expect_refusal() {
	local desc=$1 want=$2 text=$3 rc err
	shift 3
	err=$(ctl "$@" 2>&1 >/dev/null)
	rc=$?
	expect_eq "$desc: exit status" "$rc" "$want"
	if [ -n "$text" ]; then
		if echo "$err" | grep -q -- "$text"; then ok "$desc: '$err'"; else bad "$desc: stderr '$err' lacks '$text'"; fi
	fi
}

ns_create srv
log=$E2E_TMP/devmem-nc.log
bg_ns "$NS" "$log" "$DEVMEM_NC" -l -f dmtun0 -s "$SERVER" -c "$CLIENT" -p "$PORT" -v 7 \
	--queues 2 --max-queues 4 --conns 2 --ctl "$SOCK"
srv=$BG_PID
wait_listening "$log" "$srv" || fail "devmem-nc did not start"
bid=$(sed -n 's/^listening on .*binding \([0-9]*\)).*/\1/p' "$log" | head -n1)
[ -n "$bid" ] || { show "$log" devmem-nc; fail "no binding id in devmem-nc's output"; }

# ---- the socket ----
expect_eq "control socket type" "$(stat -c %F "$SOCK")" socket
expect_eq "control socket mode" "$(stat -c %a "$SOCK")" 600

# ---- bindings and queues as devmem-nc made them ----
j=$(ctl --json show bindings)
expect_eq "show bindings exit status" "$?" 0
echo "bindings: $j"
expect_eq "bindings reply ok" "$(echo "$j" | grep -c '^{"ok":true,"verb":"bindings"')" 1
expect_eq "bindings" "$(jcount "$j")" 1
b=$(jobj "$j" "$bid")
expect_eq "binding $bid queues" "$(echo "$b" | grep -o '"queues":\[[^]]*\]')" '"queues":[0]'
expect_eq "binding $bid direction" "$(echo "$b" | grep -o '"tx":[a-z]*')" '"tx":false'
expect_eq "binding $bid memory" "$(echo "$b" | grep -o '"mem":"[a-z]*"')" '"mem":"host"'
expect_eq "binding $bid owner" "$(echo "$b" | grep -o '"owner":"[a-z]*"')" '"owner":"app"'

j=$(ctl --json show queues)
echo "queues: $j"
expect_eq "queues in use" "$(jnum "$j" count)" 2
expect_eq "queue 0 binding" "$(jnum "$(jobj "$j" 0)" binding)" "$bid"
expect_eq "queue 1 binding" "$(jnum "$(jobj "$j" 1)" binding)" 0
expect_ge "queue 0 poller tid" "$(jnum "$(jobj "$j" 0)" poller_tid)" 1
j=$(ctl --json show pools)
expect_ge "page pool of binding $bid" "$(echo "$j" | grep -c "\"binding\":$bid,")" 1

# ---- steering: every flow to queue 0, and a rule for ours ----
j=$(ctl --json rss equal 1)
expect_eq "rss equal 1 exit status" "$?" 0
expect_eq "RSS entries naming queue 1" \
	"$(echo "$j" | grep -o '"indir":\[[^]]*\]' | grep -o '[[,]1[],]' | wc -l | tr -d ' ')" 0
out=$(ctl rule add flow-type tcp4 dst-ip "$SERVER" dst-port "$PORT" action 0 loc 7)
expect_eq "rule add" "$out" "Added rule with ID 7"
j=$(ctl --json show rules)
expect_eq "rule 7" "$(echo "$j" | grep -o '{"loc":7,[^}]*}')" \
	"{\"loc\":7,\"flow_type\":\"tcp4\",\"dst_ip\":\"$SERVER\",\"dst_port\":$PORT,\"action\":0}"

# ---- refusals: exit 1, the errno and the reason; usage: exit 2 ----
expect_refusal "header-split off while bound" 1 "devmemctl: header-split: Invalid argument (EINVAL: ." \
	header-split off
expect_refusal "rule del of an empty location" 1 "devmemctl: rule-del: No such file or directory (ENOENT" \
	rule del 1000
expect_refusal "rule on a queue that does not exist" 1 "Invalid argument (EINVAL" \
	rule add flow-type tcp4 dst-port 1 action 9
expect_refusal "channels 0" 1 "EINVAL" channels 0
expect_refusal "channels beyond --max-queues" 1 "EINVAL" channels 5
# ethtool -L at run time: up to the link's 4 queues and back
ctl channels 4 >/dev/null
expect_eq "channels 4: exit status" "$?" 0
expect_eq "queues active after channels 4" "$(ctl --json show queues | grep -o '"active":true' | wc -l)" 4
ctl channels 2 >/dev/null
expect_eq "channels 2: exit status" "$?" 0
expect_eq "queues active after channels 2" "$(ctl --json show queues | grep -o '"active":true' | wc -l)" 2
expect_refusal "show of an unknown object" 2 "" show nothing
expect_refusal "unknown command" 2 "" frobnicate
err=$("$DEVMEMCTL" -s "$E2E_TMP/none.sock" show queues 2>&1)
expect_eq "no stack at the socket: exit status" "$?" 1
echo "  ($err)"

# ---- readable tables ----
out=$(ctl show queues)
expect_eq "show queues exit status" "$?" 0
printf '%s\n' "$out" | sed 's/^/  | /' # the table as people see it
expect_eq "show queues title" "$(echo "$out" | head -n1)" "RX queues: 2 in use"
expect_eq "show queues header" "$(echo "$out" | sed -n 2p | awk '{print $1, $2, $3}')" "QUEUE ACTIVE BINDING"
ctl show bindings | sed 's/^/  | /'
ctl show rules | sed 's/^/  | /'
out=$(ctl show rss)
expect_eq "show rss title" "$(echo "$out" | head -n1)" "RX flow hash indirection table with 2 RX queue(s):"

# ---- a binding made by devmemctl lives as long as its connection ----
blog=$E2E_TMP/bind.log
"$DEVMEMCTL" -s "$SOCK" bind-rx --dmabuf-size 4M 1 --hold >"$blog" 2>&1 &
bpid=$!
E2E_PIDS+=("$bpid")
for ((i = 0; i < 100; i++)); do
	grep -q '^binding' "$blog" && break
	kill -0 "$bpid" 2>/dev/null || break
	sleep 0.05
done
if grep -q 'EOPNOTSUPP' "$blog"; then
	echo "note: this stack cannot adopt a memfd yet (devmem_dmabuf_import); bind-rx over the socket not checked"
	wait "$bpid"
else
	show "$blog" "devmemctl bind-rx"
	nid=$(sed -n 's/^binding \([0-9]*\): RX queues 1, host memory, 4 MiB$/\1/p' "$blog")
	expect_ge "devmemctl bind-rx id" "${nid:-x}" 1
	j=$(ctl --json show bindings)
	expect_eq "bindings while devmemctl holds one" "$(jcount "$j")" 2
	expect_eq "binding $nid owner" "$(jobj "$j" "${nid:-0}" | grep -o '"owner":"[a-z]*"')" '"owner":"ctl"'
	expect_eq "queue 1 binding" "$(jnum "$(jobj "$(ctl --json show queues)" 1)" binding)" "$nid"
	kill -TERM "$bpid"
	wait "$bpid"
	expect_eq "devmemctl --hold exit status after SIGTERM" "$?" 0
	for ((i = 0; i < 40; i++)); do
		[ "$(jcount "$(ctl --json show bindings)")" = 1 ] && break
		sleep 0.05
	done
	expect_eq "bindings after devmemctl exited" "$(jcount "$(ctl --json show bindings)")" 1
	expect_eq "queue 1 binding after devmemctl exited" \
		"$(jnum "$(jobj "$(ctl --json show queues)" 1)" binding)" 0
fi

# ---- traffic: the counters against what was sent ----
# nc -N waits for the server's FIN, and devmem-nc --conns 2 closes its
# connections only once both ended: this nc runs in the background, and
# the counters say when every byte was placed.
t0=$SECONDS
# shellcheck disable=SC2016 # the single-quoted script expands in the inner bash
bg_ns "$NS" "$E2E_TMP/nc.log" bash -c \
	'yes "$(echo -e \\x01\\x02\\x03\\x04\\x05\\x06)" | head -c "$1" | nc -N "$2" "$3"' \
	nc_send "$BYTES" "$SERVER" "$PORT"
ncpid=$BG_PID
j=
q0=
for ((i = 0; i < 600; i++)); do
	kill -0 "$srv" 2>/dev/null || break
	j=$(ctl --json show stats 2>/dev/null)
	if [ $? = 124 ]; then
		bad "show stats: no answer within 10 s (the control thread is stuck)"
		break
	fi
	q0=$(jobj "$j" 0)
	[ "$(jnum "$q0" bytes)" -ge "$BYTES" ] 2>/dev/null && break
	sleep 0.1
done
echo "transfer of $BYTES bytes took $((SECONDS - t0)) s"
echo "stats: $j"
q1=$(jobj "$j" 1)
dup=$(jnum "$j" tcp_dup)
placed=$(jnum "$q0" bytes)
if [ "${dup:-0}" = 0 ] && [ "$(jnum "$q0" drop_nobuf)" = 0 ]; then
	expect_eq "queue 0 payload bytes (== sent)" "$placed" "$BYTES"
else
	# a segment the kernel sent twice is placed twice
	expect_ge "queue 0 payload bytes (>= sent; tcp_dup=$dup)" "$placed" "$BYTES"
fi
expect_ge "queue 0 packets" "$(jnum "$q0" packets)" $((BYTES / 65536))
expect_eq "queue 1 payload bytes" "$(jnum "$q1" bytes)" 0
expect_ge "NIC rx_packets (>= queue 0)" "$(jnum "$j" rx_packets)" "$(jnum "$q0" packets)"
expect_ge "NIC rx_steered (rule 7)" "$(jnum "$j" rx_steered)" 1
expect_ge "stack tcp_in" "$(jnum "$j" tcp_in)" 1
out=$(ctl show stats)
expect_eq "show stats exit status" "$?" 0
if echo "$out" | grep -q '^  rx_packets '; then ok "show stats lists rx_packets"; else bad "show stats: no rx_packets line"; fi
expect_eq "rule del 7" "$(ctl rule del 7)" "Deleted rule with ID 7"

# ---- the end: an empty second connection, devmem-nc's own view ----
nc_send "$NS" "$SERVER" "$PORT" 0
expect_eq "second nc exit status" "$?" 0
wait_exit "$srv" 60
rc=$?
show "$log" "devmem-nc"
expect_eq "devmem-nc exit status" "$rc" 0
wait_exit "$ncpid" 30
expect_eq "first nc exit status" "$?" 0
s=$(line "$log" 'summary:')
expect_eq "devmem-nc bytes" "$(kv "$s" bytes)" "$BYTES"
expect_eq "devmem-nc validated" "$(kv "$s" validated)" yes
expect_eq "devmem-nc linear_frags" "$(kv "$s" linear_frags)" 0
expect_eq "devmem-nc queue 0 bytes (== devmemctl's)" "$(kv "$(line "$log" 'queue 0:')" bytes)" "$placed"
if [ -e "$SOCK" ]; then bad "control socket still there after devmem-nc exited"; else ok "control socket removed at exit"; fi
e2e_finish
