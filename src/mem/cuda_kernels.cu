// SPDX-License-Identifier: MIT
//
// GPU kernels of the cuda provider (src/mem/cuda.c): ncdevmem's validation
// pattern checked and written where the payload lives, so the CPU never
// reads or writes it. Built with nvcc into a fatbin that the library embeds
// and loads with cuModuleLoadData; pat[] holds one period of the pattern
// (tools/pattern.h), so byte k of a stream is pat[k % period].

extern "C" __global__ void devmem_pattern_check(const unsigned char *base,
		const unsigned long long *off, const unsigned *len,
		const unsigned long long *pos, unsigned n, const unsigned char *pat,
		unsigned period, unsigned long long *res /* [0] mismatches, [1] first */)
{
	for (unsigned f = blockIdx.x; f < n; f += gridDim.x) {
		const unsigned char *p = base + off[f];
		unsigned long long s = pos[f], bad = 0, first = ~0ull;

		for (unsigned i = threadIdx.x; i < len[f]; i += blockDim.x) {
			if (p[i] != pat[(s + i) % period]) {
				bad++;
				if (s + i < first)
					first = s + i;
			}
		}
		if (bad) {
			atomicAdd(&res[0], bad);
			atomicMin(&res[1], first);
		}
	}
}

extern "C" __global__ void devmem_pattern_fill(unsigned char *dst, unsigned long long len,
		unsigned long long pos, const unsigned char *pat, unsigned period)
{
	unsigned long long step = (unsigned long long)gridDim.x * blockDim.x;

	for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
	     i < len; i += step)
		dst[i] = pat[(pos + i) % period];
}
