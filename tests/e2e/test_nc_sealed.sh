#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_nc_ipv4.sh on sealed host memory (--mem sealed): a memfd the stack
# never maps, so the payload reaches it only through the NIC's copy-op DMA
# step, and devmem-nc validates it through devmem_dmabuf_read. Any stray
# touch of payload by the stack would show as a validation failure.
# 1 GiB as the issue asks (the sanitizer build sends 64 MiB).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init nc_sealed
nc_pattern_test 192.0.2.1 192.0.2.2 "$(e2e_size 1G 64M)" --mem sealed
e2e_finish
