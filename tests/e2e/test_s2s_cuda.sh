#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# GPU to GPU, stack to stack (docs/gpu.md): test_tx_stack2stack.sh with GPU
# memory at both ends. Stack B sends 1 GiB of the -v 7 pattern that the GPU
# wrote into its TX dmabuf (copy engine device to host, then the link);
# stack A receives it into its RX dmabuf in GPU memory (link, pinned bounce,
# copy engine) and checks every frag with a GPU kernel; the kernel forwards
# between the two TUN interfaces. Skips where no CUDA GPU answers.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 ||
	skip "no CUDA GPU (nvidia-smi -L finds none)"
e2e_init s2s_cuda

ns_create fwd
in_ns "$NS" sysctl -qw net.ipv4.ip_forward=1 || skip "cannot enable IPv4 forwarding in $NS"
size=$(e2e_size 1G 64M)
bytes=$(to_bytes "$size")
slog=$E2E_TMP/server.log
clog=$E2E_TMP/client.log
bg_ns "$NS" "$slog" "$DEVMEM_NC" -l -f dmtunA -s 192.0.2.1 --tun-peer 192.0.2.126/25 -p 5201 \
	-v 7 --mem cuda
srv=$BG_PID
wait_listening "$slog" "$srv" || fail "devmem-nc -l --mem cuda did not start"
t0=$SECONDS
bg_ns "$NS" "$clog" "$DEVMEM_NC" -f dmtunB -s 192.0.2.1 -c 192.0.2.129 --tun-peer 192.0.2.254/25 \
	-p 5201 --bytes "$bytes" -v 7 --mem cuda
cli=$BG_PID
wait_exit "$cli"
rc=$?
echo "transfer of $size took $((SECONDS - t0)) s"
show "$clog" "devmem-nc (client, stack B, GPU)"
expect_eq "client exit status" "$rc" 0
wait_exit "$srv" 60
rc=$?
show "$slog" "devmem-nc -l (server, stack A, GPU)"
expect_eq "server exit status" "$rc" 0
check_summary "$slog" "$bytes"
check_tx "$clog" "$bytes"
e2e_finish
