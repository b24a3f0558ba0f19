#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_tx_ipv4.sh over IPv6: devmem-nc at 2001:db8::2 sends 256 MiB of the
# -v 7 pattern from device memory to kernel_rx at 2001:db8::1. Same checks.
# (Sanitizer builds send 64 MiB; E2E_BYTES overrides.)
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init tx_ipv6
tx_kernel_test 2001:db8::1 2001:db8::2 "$(e2e_size 256M 64M)"
e2e_finish
