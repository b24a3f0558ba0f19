/* SPDX-License-Identifier: MIT */
/*
 * A fake CUDA driver for machines without a GPU (tests/unit/test_cuda_fake.c):
 * the driver API entry points the cuda provider loads, over host memory.
 * Like a copy engine, cuMemcpyHtoDAsync does nothing until the stream is
 * synchronized, so a frag handed up before its copy completed shows as
 * wrong data. "Device" pointers are host pointers; there are no kernels
 * (cuModuleLoadData fails as with no binary for the GPU).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

struct copy {
	void *dst;
	const void *src;
	size_t len;
};
struct stream {
	pthread_mutex_t lock;
	struct copy *q;
	size_t n, cap;
};

static _Atomic unsigned long long n_async, n_sync, n_pinned, n_alloc;

/* counters for the test: async copies, stream syncs, live pins, live allocs */
void fake_cuda_stats(unsigned long long out[4])
{
	out[0] = n_async, out[1] = n_sync, out[2] = n_pinned, out[3] = n_alloc;
}

CUresult cuInit(unsigned f) { (void)f; return 0; }
CUresult cuGetErrorName(CUresult r, const char **s)
{
	*s = r == 209 ? "CUDA_ERROR_NO_BINARY_FOR_GPU" : "CUDA_ERROR_FAKE";
	return 0;
}
CUresult cuDeviceGetCount(int *n) { *n = 1; return 0; }
CUresult cuDeviceGet(int *d, int i) { *d = i; return 0; }
CUresult cuDeviceGetAttribute(int *v, int a, int d) { (void)a, (void)d; *v = 0; return 0; }
CUresult cuDevicePrimaryCtxRetain(void **c, int d) { (void)d; *c = (void *)1; return 0; }
CUresult cuCtxSetCurrent(void *c) { (void)c; return 0; }
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n)
{
	void *m = calloc(1, n);
	if (!m)
		return 2;
	n_alloc++;
	*p = (CUdeviceptr)(uintptr_t)m;
	return 0;
}
CUresult cuMemFree_v2(CUdeviceptr p) { n_alloc--; free((void *)(uintptr_t)p); return 0; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n)
{
	memcpy((void *)(uintptr_t)d, s, n);
	return 0;
}
CUresult cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n)
{
	memcpy(d, (const void *)(uintptr_t)s, n);
	return 0;
}
CUresult cuStreamCreate(struct stream **s, unsigned f)
{
	(void)f;
	*s = calloc(1, sizeof(**s));
	pthread_mutex_init(&(*s)->lock, NULL);
	return 0;
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *src, size_t n, struct stream *s)
{
	if (!s)
		return 400; /* the provider always uses its own streams */
	pthread_mutex_lock(&s->lock);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->q = realloc(s->q, s->cap * sizeof(*s->q));
	}
	s->q[s->n++] = (struct copy){(void *)(uintptr_t)d, src, n};
	pthread_mutex_unlock(&s->lock);
	n_async++;
	return 0;
}
CUresult cuStreamSynchronize(struct stream *s)
{
	n_sync++;
	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++)
		memcpy(s->q[i].dst, s->q[i].src, s->q[i].len);
	s->n = 0;
	pthread_mutex_unlock(&s->lock);
	return 0;
}
CUresult cuStreamDestroy_v2(struct stream *s)
{
	pthread_mutex_destroy(&s->lock);
	free(s->q);
	free(s);
	return 0;
}
CUresult cuMemHostRegister_v2(void *p, size_t n, unsigned f) { (void)p, (void)n, (void)f; n_pinned++; return 0; }
CUresult cuMemHostUnregister(void *p) { (void)p; n_pinned--; return 0; }
CUresult cuMemGetHandleForAddressRange(void *h, CUdeviceptr d, size_t n, int t,
				       unsigned long long f)
{
	(void)h, (void)d, (void)n, (void)t, (void)f;
	return 801; /* not supported */
}
CUresult cuModuleLoadData(void **m, const void *img) { (void)m, (void)img; return 209; }
CUresult cuModuleGetFunction(void **f, void *m, const char *n) { (void)f, (void)m, (void)n; return 500; }
CUresult cuLaunchKernel(void *f, unsigned a, unsigned b, unsigned c, unsigned d, unsigned e,
			unsigned g, unsigned sh, void *st, void **p, void **x)
{
	(void)f, (void)a, (void)b, (void)c, (void)d, (void)e, (void)g, (void)sh, (void)st;
	(void)p, (void)x;
	return 98;
}
