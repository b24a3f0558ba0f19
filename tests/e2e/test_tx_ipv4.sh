#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Device-memory transmit over IPv4: `devmem-nc --bytes 1G -v 7` (client
# mode, host device memory) sends from its TX binding through its TUN to
# kernel_rx -v 7 in the same fresh namespace. Pass: every byte arrives and
# validates at the kernel's socket, every zero-copy send completed exactly
# once, in order, all bytes came from device memory (none copied), and the
# binding has nothing pending at exit. (Sanitizer builds send 256 MiB;
# E2E_BYTES overrides.)
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init tx_ipv4
tx_kernel_test 192.0.2.1 192.0.2.2 "$(e2e_size 1G 256M)"
e2e_finish
