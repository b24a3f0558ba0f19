#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_nc_ipv4.sh over IPv6: stock nc sends 1 GiB of the -v 7 pattern to
# devmem-nc at 2001:db8::1 (kernel side 2001:db8::2). Same checks.
# (Sanitizer builds send 256 MiB; E2E_BYTES overrides.)
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init nc_ipv6
nc_pattern_test 2001:db8::1 2001:db8::2 "$(e2e_size 1G 256M)"
e2e_finish
