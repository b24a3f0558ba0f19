#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_nc_ipv4.sh on sealed host memory (--mem sealed): a memfd the stack
# never maps, so the payload reaches it only through the NIC's copy-op DMA
# step, and devmem-nc validates it through devmem_dmabuf_read. Any stray
# touch of payload by the stack would show as a validation failure.
# 256 MiB rather than 1 GiB: every byte is copied twice more (DMA step and
# read-back) and the IPv4 test already covers the long run; 256 MiB is
# 65536 frags, enough to cycle the 64 MiB dmabuf four times.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init nc_sealed
nc_pattern_test 192.0.2.1 192.0.2.2 "$(e2e_size 256M 64M)" --mem sealed
e2e_finish
