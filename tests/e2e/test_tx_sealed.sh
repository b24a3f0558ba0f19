#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_tx_ipv4.sh on sealed memory (--mem sealed): a memfd the stack never
# maps. devmem-nc writes the pattern into it with pwrite, and the stack can
# only gather the payload through the provider's copy operation (the DMA
# step); a stray CPU touch of payload would fault on the NULL mapping.
# Same checks, 1 GiB (the sanitizer build sends 64 MiB).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init tx_sealed
tx_kernel_test 192.0.2.1 192.0.2.2 "$(e2e_size 1G 64M)" --mem sealed
e2e_finish
