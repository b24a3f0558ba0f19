#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_nc_ipv4.sh into GPU memory (--mem cuda, docs/gpu.md): the kernel's
# nc sends 1 GiB of the -v 7 pattern, the software NIC reads each frame into
# a pinned bounce slot and the GPU's copy engine moves the payload into the
# bound dmabuf; devmem-nc checks every frag with a GPU kernel (the CPU never
# reads the payload). Skips where no CUDA GPU answers.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 ||
	skip "no CUDA GPU (nvidia-smi -L finds none)"
e2e_init nc_cuda
nc_pattern_test 192.0.2.1 192.0.2.2 "$(e2e_size 1G 64M)" --mem cuda
e2e_finish
