#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Idempotent setup: install the tools the build and the tests need (only what
# is missing; `apt-get update` only then), then configure and build
#   build/       the release build (RelWithDebInfo: -O2 -g)
#   build-asan/  the same with AddressSanitizer and UBSan (DEVMEM_SANITIZE=ON)
# A second run installs nothing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PKGS=(build-essential cmake pkg-config liburing-dev netcat-openbsd iputils-ping iproute2 iperf3 procps time)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	SUDO=()
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || {
			echo "setup: need root to install: ${missing[*]}" >&2
			exit 1
		}
		SUDO=(sudo)
	fi
	echo "setup: installing ${missing[*]}"
	"${SUDO[@]}" apt-get update -q
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
echo "setup: building build/ (release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "setup: building build-asan/ (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEVMEM_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "setup: done"
