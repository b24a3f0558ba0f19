/* SPDX-License-Identifier: MIT */
/*
 * The cuda memory provider's extras (docs/gpu.md). DEVMEM_MEM_CUDA dmabufs
 * are GPU memory; the library loads the CUDA driver (libcuda.so.1) at run
 * time, so everything here builds and links without CUDA and fails with
 * ENODEV, saying why in devmem_last_error(), where no GPU answers.
 *
 * The pattern functions run ncdevmem's validation pattern (tools/pattern.h)
 * on the GPU; the CPU never reads or writes the payload. They need the
 * kernels, compiled in when nvcc was found at build time (else ENOTSUP).
 */
#ifndef DEVMEM_CUDA_H
#define DEVMEM_CUDA_H

#include <stddef.h>
#include <stdint.h>

/* Number of CUDA devices (> 0), or -1 with errno ENODEV and the reason
 * ("no CUDA GPU: cuInit: CUDA_ERROR_NO_DEVICE", ...) in devmem_last_error(). */
int devmem_cuda_probe(void);
/* Whether the GPU kernels were compiled into this library. */
int devmem_cuda_have_kernels(void);

/*
 * Check n frags of cuda dmabuf dmabuf_fd against ncdevmem's pattern for N:
 * frag i is len[i] bytes at dmabuf offset off[i] and starts at stream
 * position pos[i]. One kernel launch for the batch. Adds the mismatching
 * bytes to *mismatches and lowers *first_bad (a stream position; start it at
 * UINT64_MAX) to the first mismatch. 0, or -1 with errno.
 */
int devmem_cuda_pattern_check(int dmabuf_fd, const uint64_t *off, const uint32_t *len,
			      const uint64_t *pos, unsigned n, unsigned long pattern_n,
			      uint64_t *mismatches, uint64_t *first_bad);
/* Fill [off, off + len) of cuda dmabuf dmabuf_fd with the pattern for N
 * from stream position pos, with a GPU kernel. 0, or -1 with errno. */
int devmem_cuda_pattern_fill(int dmabuf_fd, uint64_t off, uint64_t len, uint64_t pos,
			     unsigned long pattern_n);

#endif /* DEVMEM_CUDA_H */
