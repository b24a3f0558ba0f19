# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# What the benchmark scripts share: errors, waiting for a receiver, reading
# key=value output, medians and CPU accounting. Sourced after `set -euo
# pipefail`; die() names the script that sourced it.

die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# wait_listening LOG PID: until LOG has a line with "listening" (15 s).
wait_listening() {
	local log=$1 pid=$2 i
	for ((i = 0; i < 300; i++)); do
		grep -q listening "$log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "receiver exited early"; }
		sleep 0.05
	done
	cat "$log" >&2
	die "receiver not listening"
}

# kv LINE KEY: the value of KEY=value in LINE.
kv() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

# median of the arguments
median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
		END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

per_gib() { # seconds bytes
	awk -v s="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? s / (b / 1073741824) : 0) }'
}

# Busy ticks of the whole machine: user nice system irq softirq steal.
busy_ticks() {
	awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}
