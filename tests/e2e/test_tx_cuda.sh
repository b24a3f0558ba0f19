#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_tx_ipv4.sh from GPU memory (--mem cuda, docs/gpu.md): a GPU kernel
# fills the dmabuf with the -v 7 pattern, the stack gathers each segment's
# payload with the copy engine (device to bounce) and the kernel's TCP
# receives and checks it. Skips where no CUDA GPU answers.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 ||
	skip "no CUDA GPU (nvidia-smi -L finds none)"
e2e_init tx_cuda
tx_kernel_test 192.0.2.1 192.0.2.2 "$(e2e_size 1G 64M)" --mem cuda
e2e_finish
