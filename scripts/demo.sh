#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The main job, end to end: the kernel's TCP sends 1 GiB with stock nc, and
# the devmem stack puts every payload byte straight into device memory (host
# memory registered as a dmabuf), validated with ncdevmem's -v 7 pattern.
#
# Runs setup.sh (install, build), then in a private network namespace:
#   devmem-nc -l -f dmtun0 -s 192.0.2.1 -c 192.0.2.2 -p 5201 -v 7
#   yes $(echo -e \\x01\\x02\\x03\\x04\\x05\\x06) | head -c 1G | nc -N 192.0.2.1 5201
# and shows bytes, throughput, validation, frags in device memory and that
# every buffer went back to its pool. Exit 0 when all of that holds.
#
# Environment: DEMO_BYTES (1G), DEMO_MEM (host; or sealed), DEVMEM_BUILD
# (build/), DEMO_SKIP_SETUP=1 (use the build as it is).
# Needs root. The namespace (dm-demo-<pid>) is deleted on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BYTES=${DEMO_BYTES:-1G}
MEM=${DEMO_MEM:-host}

if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (it creates a network namespace and a TUN interface)" >&2
	exit 1
fi
[ "${DEMO_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
BUILD=${DEVMEM_BUILD:-build}

NS="dm-demo-$$"
TMP=$(mktemp -d /tmp/dm-demo.XXXXXX)
LOG=$TMP/devmem-nc.log
SRV=

cleanup() {
	local p
	[ -n "$SRV" ] && kill -TERM "$SRV" 2>/dev/null
	for p in $(ip netns pids "$NS" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null || true
	done
	ip netns del "$NS" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

kv() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

ip netns add "$NS"
ip -n "$NS" link set lo up

echo
echo "== devmem demo: $BYTES from the kernel's TCP (nc) into device memory ($MEM)"
echo "   namespace $NS; stack 192.0.2.1 on TUN dmtun0, kernel side 192.0.2.2"
ip netns exec "$NS" timeout 600 "$BUILD/devmem-nc" -l -f dmtun0 -s 192.0.2.1 -c 192.0.2.2 -p 5201 \
	-v 7 --mem "$MEM" >"$LOG" 2>&1 &
SRV=$!
for ((i = 0; i < 300; i++)); do
	grep -q listening "$LOG" && break
	kill -0 "$SRV" 2>/dev/null || break
	sleep 0.05
done
grep -q listening "$LOG" || {
	cat "$LOG"
	echo "demo: devmem-nc did not start" >&2
	exit 1
}
sed 's/^/   devmem-nc: /' "$LOG"

# shellcheck disable=SC2016 # printed, not run
printf '   sending: %s\n' 'yes $(echo -e \\x01\\x02\\x03\\x04\\x05\\x06) | head -c '"$BYTES"' | nc -N 192.0.2.1 5201'
# shellcheck disable=SC2016 # the single-quoted script expands in the inner bash
ip netns exec "$NS" timeout 600 bash -c \
	'yes $(echo -e \\x01\\x02\\x03\\x04\\x05\\x06) | head -c "$1" | nc -N 192.0.2.1 5201' demo "$BYTES" ||
	echo "demo: nc failed" >&2
rc=0
wait "$SRV" || rc=$?
SRV=

echo
sed 's/^/   devmem-nc: /' "$LOG" | grep -v ' listening on ' || true
echo

s=$(grep -m1 '^summary:' "$LOG" || true)
p=$(grep -m1 '^pool:' "$LOG" || true)
ok=1
if [ -z "$s" ] || [ -z "$p" ]; then
	echo "FAILED: devmem-nc did not finish (exit status $rc)"
	exit 1
fi
bytes=$(kv "$s" bytes)
frags=$(kv "$s" dmabuf_frags)
linear=$(kv "$s" linear_frags)
printf '   received     %s bytes in %s s: %s Gbit/s\n' "$bytes" "$(kv "$s" seconds)" "$(kv "$s" gbps)"
printf '   validated    %s (ncdevmem -v 7 pattern, every byte)\n' "$(kv "$s" validated)"
printf '   device mem   %s frags landed in the dmabuf, %s in host memory\n' "$frags" "$linear"
[ "$(kv "$s" validated)" = yes ] || ok=0
[ "${frags:-0}" -gt 0 ] || ok=0
[ "$rc" = 0 ] || ok=0
bufs=$(kv "$p" buffers)
free=$(kv "$p" free)
toks=$(kv "$p" tokens_outstanding)
if [ "$bufs" = "$free" ] && [ "$toks" = 0 ]; then
	echo "   pool         all $bufs buffers back in the pool, no token outstanding"
else
	echo "   pool         FAILED: $free of $bufs buffers back in the pool, $toks tokens outstanding"
	ok=0
fi
echo
if ((ok)); then
	echo "demo: OK"
else
	echo "demo: FAILED (devmem-nc exit status $rc)"
	exit 1
fi
