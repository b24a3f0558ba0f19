#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Stock nc (netcat-openbsd) sends 1 GiB of ncdevmem's -v 7 pattern over IPv4
# to `devmem-nc -l -v 7` on host device memory, in a fresh namespace. Pass:
# devmem-nc exits 0, validated=yes, every byte counted, every frag in device
# memory (dmabuf_frags > 0, linear_frags = 0), every buffer back in the pool.
# (Sanitizer builds send 256 MiB; E2E_BYTES overrides.)
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init nc_ipv4
nc_pattern_test 192.0.2.1 192.0.2.2 "$(e2e_size 1G 256M)"
e2e_finish
