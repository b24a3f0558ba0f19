/* SPDX-License-Identifier: MIT */
/*
 * The cuda memory provider: GPU memory, allocated with the CUDA driver API
 * (cuMemAlloc, aligned to 2 MiB), exported as a dmabuf fd where the device
 * supports it (cuMemGetHandleForAddressRange). The driver is loaded with
 * dlopen on first use, so the library links and runs without CUDA; with no
 * driver or no device, alloc fails with ENODEV and says why.
 *
 * The DMA step is the GPU's copy engine: the NIC reads frames into its host
 * bounce slots (page-locked with cuMemHostRegister through the pin op), then
 * write_async queues one cuMemcpyHtoDAsync per frag on the queue's own
 * stream and flush waits for the whole burst before frags go up. Transmit
 * uses read (cuMemcpyDtoH into the stack's bounce buffer, synchronous). The
 * CPU never loads or stores GPU memory: it has no mapping of it.
 *
 * CUDA's types and values below are the driver API's (cuda.h, CUDA 12/13);
 * only what this file calls is declared, so no CUDA header is needed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devmem/cuda.h"
#include "mem/mem.h"
#include "util/util.h"

#ifdef DEVMEM_HAVE_CUDA_KERNELS
#include "cuda_kernels_fatbin.h" /* generated: devmem_cuda_fatbin[] */
#endif

typedef int CUresult; /* CUDA_SUCCESS = 0 */
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUstream_st *CUstream;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;

#define CU_STREAM_NON_BLOCKING 0x1
#define CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED 124
#define CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD 0x1

#define CUDA_ALIGN (2u << 20)  /* GPU pages of 2 MiB: dmabuf export granularity */
#define CUDA_STREAMS 64        /* streams per dmabuf; queues beyond share them */

/* The driver's entry points, by their versioned symbol names. */
static struct {
	CUresult (*Init)(unsigned);
	CUresult (*GetErrorName)(CUresult, const char **);
	CUresult (*DeviceGetCount)(int *);
	CUresult (*DeviceGet)(CUdevice *, int);
	CUresult (*DeviceGetAttribute)(int *, int, CUdevice);
	CUresult (*DevicePrimaryCtxRetain)(CUcontext *, CUdevice);
	CUresult (*CtxSetCurrent)(CUcontext);
	CUresult (*MemAlloc)(CUdeviceptr *, size_t);
	CUresult (*MemFree)(CUdeviceptr);
	CUresult (*MemcpyHtoD)(CUdeviceptr, const void *, size_t);
	CUresult (*MemcpyDtoH)(void *, CUdeviceptr, size_t);
	CUresult (*MemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
	CUresult (*StreamCreate)(CUstream *, unsigned);
	CUresult (*StreamDestroy)(CUstream);
	CUresult (*StreamSynchronize)(CUstream);
	CUresult (*MemHostRegister)(void *, size_t, unsigned);
	CUresult (*MemHostUnregister)(void *);
	CUresult (*MemGetHandleForAddressRange)(void *, CUdeviceptr, size_t, int,
						unsigned long long);
	CUresult (*ModuleLoadData)(CUmodule *, const void *);
	CUresult (*ModuleGetFunction)(CUfunction *, CUmodule, const char *);
	CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
				 unsigned, unsigned, CUstream, void **, void **);
} cu;

static pthread_once_t cu_once = PTHREAD_ONCE_INIT;
static int cu_state;         /* 0 ok (count devices), -errno otherwise */
static int cu_ndev;
static char cu_why[192];     /* why there is no GPU */
static CUdevice cu_dev;
static CUcontext cu_ctx;     /* device 0's primary context */

static const char *cu_err(CUresult r)
{
	const char *s = NULL;

	if (cu.GetErrorName && cu.GetErrorName(r, &s) == 0 && s)
		return s;
	return "CUDA_ERROR_UNKNOWN";
}

static void cu_load(void)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define S(field, sym) {sym, offsetof(__typeof__(cu), field)}
		S(Init, "cuInit"),
		S(GetErrorName, "cuGetErrorName"),
		S(DeviceGetCount, "cuDeviceGetCount"),
		S(DeviceGet, "cuDeviceGet"),
		S(DeviceGetAttribute, "cuDeviceGetAttribute"),
		S(DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
		S(CtxSetCurrent, "cuCtxSetCurrent"),
		S(MemAlloc, "cuMemAlloc_v2"),
		S(MemFree, "cuMemFree_v2"),
		S(MemcpyHtoD, "cuMemcpyHtoD_v2"),
		S(MemcpyDtoH, "cuMemcpyDtoH_v2"),
		S(MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2"),
		S(StreamCreate, "cuStreamCreate"),
		S(StreamDestroy, "cuStreamDestroy_v2"),
		S(StreamSynchronize, "cuStreamSynchronize"),
		S(MemHostRegister, "cuMemHostRegister_v2"),
		S(MemHostUnregister, "cuMemHostUnregister"),
		S(MemGetHandleForAddressRange, "cuMemGetHandleForAddressRange"),
		S(ModuleLoadData, "cuModuleLoadData"),
		S(ModuleGetFunction, "cuModuleGetFunction"),
		S(LaunchKernel, "cuLaunchKernel"),
#undef S
	};
	const char *lib = getenv("DEVMEM_LIBCUDA");
	void *h;
	CUresult r;

	cu_state = -ENODEV;
	if (!lib || !*lib)
		lib = "libcuda.so.1";
	h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(cu_why, sizeof(cu_why), "cannot load the CUDA driver (%s)",
			 e ? e : lib);
		return;
	}
	/* the handle stays open for the process's life: the driver does not
	 * support being unloaded under live contexts */
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *f = dlsym(h, syms[i].name);

		if (!f) {
			snprintf(cu_why, sizeof(cu_why), "%s: no %s (driver too old)", lib,
				 syms[i].name);
			memset(&cu, 0, sizeof(cu));
			return;
		}
		memcpy((char *)&cu + syms[i].off, &f, sizeof(f));
	}
	if ((r = cu.Init(0)) != 0) {
		snprintf(cu_why, sizeof(cu_why), "cuInit: %s", cu_err(r));
		return;
	}
	if ((r = cu.DeviceGetCount(&cu_ndev)) != 0 || cu_ndev <= 0) {
		snprintf(cu_why, sizeof(cu_why), "cuDeviceGetCount: %s",
			 r ? cu_err(r) : "0 devices");
		return;
	}
	if ((r = cu.DeviceGet(&cu_dev, 0)) != 0 ||
	    (r = cu.DevicePrimaryCtxRetain(&cu_ctx, cu_dev)) != 0) {
		snprintf(cu_why, sizeof(cu_why), "device 0: %s", cu_err(r));
		return;
	}
	cu_state = 0;
}

/* Load the driver once; make device 0's context current on this thread. */
static int cu_enter(void)
{
	pthread_once(&cu_once, cu_load);
	if (cu_state < 0)
		return devmem_reason(cu_state, "no CUDA GPU: %s", cu_why);
	if (cu.CtxSetCurrent(cu_ctx) != 0)
		return devmem_reason(-EIO, "no CUDA GPU: cuCtxSetCurrent failed");
	return 0;
}

int devmem_cuda_probe(void)
{
	int r = cu_enter();

	return r < 0 ? devmem_fail(r) : cu_ndev;
}

/* ---- the provider -------------------------------------------------------- */

struct cuda_buf {
	CUdeviceptr raw;   /* what cuMemAlloc returned */
	CUdeviceptr base;  /* raw rounded up to 2 MiB: offset 0 of the dmabuf */
	pthread_mutex_t lock; /* creating streams */
	CUstream stream[CUDA_STREAMS]; /* one per RX queue, made on first use */
};

static int cu_fail(CUresult r, const char *what)
{
	return devmem_reason(-EIO, "cuda: %s: %s", what, cu_err(r));
}

static int cuda_alloc(struct dmabuf *d, unsigned flags)
{
	struct cuda_buf *b;
	int r, fd = -1, dmabuf_ok = 0;
	CUresult cr;

	(void)flags; /* GPU memory is in 2 MiB pages anyway */
	if ((r = cu_enter()) < 0)
		return r;
	d->size = (d->size + CUDA_ALIGN - 1) & ~(size_t)(CUDA_ALIGN - 1);
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	pthread_mutex_init(&b->lock, NULL);
	if ((cr = cu.MemAlloc(&b->raw, d->size + CUDA_ALIGN)) != 0) {
		r = cr == 2 /* CUDA_ERROR_OUT_OF_MEMORY */ ? -ENOMEM : cu_fail(cr, "cuMemAlloc");
		goto fail;
	}
	b->base = (b->raw + CUDA_ALIGN - 1) & ~(CUdeviceptr)(CUDA_ALIGN - 1);
	if (cu.DeviceGetAttribute(&dmabuf_ok, CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED, cu_dev))
		dmabuf_ok = 0;
	if (!dmabuf_ok || cu.MemGetHandleForAddressRange(&fd, b->base, d->size,
							 CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD,
							 0) != 0)
		fd = -1;
	if (fd < 0) {
		/* No dma-buf export here (driver, kernel or device): the stack
		 * moves bytes with the copy engine either way and needs the fd
		 * only as the dmabuf's identity in the registry, so an empty
		 * memfd stands in for it. It names the memory; it is not it. */
		fd = memfd_create("devmem-cuda-key", MFD_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			cu.MemFree(b->raw);
			goto fail;
		}
	}
	d->fd = fd;
	d->map = NULL; /* GPU memory: the CPU has no mapping */
	d->priv = b;
	return 0;
fail:
	pthread_mutex_destroy(&b->lock);
	free(b);
	return r;
}

static void cuda_release(struct dmabuf *d)
{
	struct cuda_buf *b = d->priv;

	if (cu_enter() == 0) {
		for (unsigned i = 0; i < CUDA_STREAMS; i++)
			if (b->stream[i]) {
				cu.StreamSynchronize(b->stream[i]);
				cu.StreamDestroy(b->stream[i]);
			}
		cu.MemFree(b->raw);
	}
	pthread_mutex_destroy(&b->lock);
	free(b);
	close(d->fd);
}

static int range_ok(const struct dmabuf *d, uint64_t off, size_t len)
{
	return off <= d->size && len <= d->size - off;
}

static int cuda_write(struct dmabuf *d, uint64_t off, const void *src, size_t len)
{
	const struct cuda_buf *b = d->priv;
	int r;
	CUresult cr;

	if (!range_ok(d, off, len))
		return -EFAULT;
	if ((r = cu_enter()) < 0)
		return r;
	if (len && (cr = cu.MemcpyHtoD(b->base + off, src, len)) != 0)
		return cu_fail(cr, "cuMemcpyHtoD");
	return 0;
}

static int cuda_read(struct dmabuf *d, uint64_t off, void *dst, size_t len)
{
	const struct cuda_buf *b = d->priv;
	int r;
	CUresult cr;

	if (!range_ok(d, off, len))
		return -EFAULT;
	if ((r = cu_enter()) < 0)
		return r;
	if (len && (cr = cu.MemcpyDtoH(dst, b->base + off, len)) != 0)
		return cu_fail(cr, "cuMemcpyDtoH");
	return 0;
}

/* The queue's stream, made on first use. */
static CUstream queue_stream(struct cuda_buf *b, unsigned queue)
{
	CUstream *s = &b->stream[queue % CUDA_STREAMS];

	pthread_mutex_lock(&b->lock);
	/* non-blocking: the copies do not wait for the validation kernels that
	 * run on the legacy default stream, and the other way round */
	if (!*s && cu.StreamCreate(s, CU_STREAM_NON_BLOCKING) != 0)
		*s = NULL;
	pthread_mutex_unlock(&b->lock);
	return *s;
}

static int cuda_write_async(struct dmabuf *d, unsigned queue, uint64_t off, const void *src,
			    size_t len)
{
	struct cuda_buf *b = d->priv;
	CUstream s;
	CUresult cr;
	int r;

	if (!range_ok(d, off, len))
		return -EFAULT;
	if ((r = cu_enter()) < 0)
		return r;
	if (!(s = queue_stream(b, queue)))
		return devmem_reason(-EIO, "cuda: cuStreamCreate failed");
	if (len && (cr = cu.MemcpyHtoDAsync(b->base + off, src, len, s)) != 0)
		return cu_fail(cr, "cuMemcpyHtoDAsync");
	return 0;
}

static int cuda_flush(struct dmabuf *d, unsigned queue)
{
	struct cuda_buf *b = d->priv;
	CUstream s = b->stream[queue % CUDA_STREAMS];
	CUresult cr;
	int r;

	if (!s)
		return 0;
	if ((r = cu_enter()) < 0)
		return r;
	if ((cr = cu.StreamSynchronize(s)) != 0)
		return cu_fail(cr, "cuStreamSynchronize");
	return 0;
}

static int cuda_pin(void *ptr, size_t len)
{
	int r = cu_enter();
	CUresult cr;

	if (r < 0)
		return r;
	if ((cr = cu.MemHostRegister(ptr, len, 0)) != 0)
		return cu_fail(cr, "cuMemHostRegister");
	return 0;
}

static void cuda_unpin(void *ptr)
{
	if (cu_enter() == 0)
		cu.MemHostUnregister(ptr);
}

const struct mem_provider mem_provider_cuda = {
	.name = "cuda", .kind = DEVMEM_MEM_CUDA, .alloc = cuda_alloc,
	.release = cuda_release, .write = cuda_write, .read = cuda_read,
	.write_async = cuda_write_async, .flush = cuda_flush,
	.pin = cuda_pin, .unpin = cuda_unpin,
};

/* ---- ncdevmem's pattern on the GPU --------------------------------------- */

int devmem_cuda_have_kernels(void)
{
#ifdef DEVMEM_HAVE_CUDA_KERNELS
	return 1;
#else
	return 0;
#endif
}

#ifdef DEVMEM_HAVE_CUDA_KERNELS
#define PAT_MAX 1024 /* tools/pattern.h: the period is at most 256 */

/* One period of the pattern for N (tools/pattern.h, pattern_fill). */
static unsigned pattern_table(unsigned char *t, unsigned long n)
{
	unsigned char seed = 1;
	unsigned p = 0;

	do {
		t[p++] = seed ? seed : '\n';
		seed++;
		if (seed == n)
			seed = 0;
	} while (seed != 1 && p < PAT_MAX);
	return p;
}

/* The cuda dmabuf behind fd, with a reference; NULL after setting errno. */
static struct dmabuf *cuda_lookup(int fd)
{
	struct dmabuf *d = dmabuf_lookup_get(fd);

	if (!d) {
		devmem_fail(devmem_reason(-EBADF, "fd %d is not a dmabuf", fd));
		return NULL;
	}
	if (d->prov != &mem_provider_cuda) {
		dmabuf_put(d);
		devmem_fail(devmem_reason(-EINVAL, "dmabuf %d is not cuda memory", fd));
		return NULL;
	}
	return d;
}

static pthread_once_t kern_once = PTHREAD_ONCE_INIT;
static CUfunction kern_check, kern_fill;
static CUresult kern_err;
/* device scratch for the batch tables, guarded by kern_lock */
static pthread_mutex_t kern_lock = PTHREAD_MUTEX_INITIALIZER;
static CUdeviceptr kern_scratch;
static size_t kern_scratch_cap;

static void kern_load(void)
{
	CUmodule m;

	if ((kern_err = cu.ModuleLoadData(&m, devmem_cuda_fatbin)) != 0)
		return;
	if ((kern_err = cu.ModuleGetFunction(&kern_check, m, "devmem_pattern_check")) != 0 ||
	    (kern_err = cu.ModuleGetFunction(&kern_fill, m, "devmem_pattern_fill")) != 0)
		return;
}

static int kern_enter(void)
{
	int r = cu_enter();

	if (r < 0)
		return r;
	pthread_once(&kern_once, kern_load);
	return kern_err ? cu_fail(kern_err, "loading the validation kernels") : 0;
}

/* Scratch of at least need bytes (kern_lock held). */
static int scratch_reserve(size_t need)
{
	CUresult cr;

	if (need <= kern_scratch_cap)
		return 0;
	if (kern_scratch)
		cu.MemFree(kern_scratch);
	kern_scratch = 0;
	kern_scratch_cap = 0;
	need = (need + 65535) & ~(size_t)65535;
	if ((cr = cu.MemAlloc(&kern_scratch, need)) != 0)
		return cu_fail(cr, "cuMemAlloc(scratch)");
	kern_scratch_cap = need;
	return 0;
}
#endif

int devmem_cuda_pattern_check(int dmabuf_fd, const uint64_t *off, const uint32_t *len,
			      const uint64_t *pos, unsigned n, unsigned long pattern_n,
			      uint64_t *mismatches, uint64_t *first_bad)
{
#ifdef DEVMEM_HAVE_CUDA_KERNELS
	struct dmabuf *d;
	struct cuda_buf *b;
	unsigned char pat[PAT_MAX];
	unsigned period = pattern_table(pat, pattern_n);
	uint64_t res[2] = {0, UINT64_MAX};
	size_t t_off = 16, t_len, t_pos, t_pat, need;
	CUresult cr = 0;
	int r;

	if (n == 0)
		return 0;
	if ((r = kern_enter()) < 0)
		return devmem_fail(r);
	if (!(d = cuda_lookup(dmabuf_fd)))
		return -1;
	b = d->priv;
	for (unsigned i = 0; i < n; i++)
		if (!range_ok(d, off[i], len[i])) {
			dmabuf_put(d);
			return devmem_fail(devmem_reason(-EFAULT, "frag %u [%" PRIu64 ", +%u) "
							 "outside the dmabuf", i, off[i], len[i]));
		}
	/* scratch layout: result[2] | off[n] | pos[n] | len[n] | pattern */
	t_off = 16;
	t_pos = t_off + 8 * (size_t)n;
	t_len = t_pos + 8 * (size_t)n;
	t_pat = t_len + 4 * (size_t)n;
	need = t_pat + period;
	pthread_mutex_lock(&kern_lock);
	if ((r = scratch_reserve(need)) < 0)
		goto out;
	CUdeviceptr s = kern_scratch, base = b->base, p_off = s + t_off, p_pos = s + t_pos,
		    p_len = s + t_len, p_pat = s + t_pat;
	unsigned nn = n;
	void *args[] = {&base, &p_off, &p_len, &p_pos, &nn, &p_pat, &period, &s};

	if ((cr = cu.MemcpyHtoD(s, res, sizeof(res))) ||
	    (cr = cu.MemcpyHtoD(p_off, off, 8 * (size_t)n)) ||
	    (cr = cu.MemcpyHtoD(p_pos, pos, 8 * (size_t)n)) ||
	    (cr = cu.MemcpyHtoD(p_len, len, 4 * (size_t)n)) ||
	    (cr = cu.MemcpyHtoD(p_pat, pat, period)) ||
	    /* one block per frag (grid-strided), 256 threads over its bytes */
	    (cr = cu.LaunchKernel(kern_check, n < 65535 ? n : 65535, 1, 1, 256, 1, 1, 0, NULL,
				  args, NULL)) ||
	    /* synchronous on the legacy stream: waits for the kernel */
	    (cr = cu.MemcpyDtoH(res, s, sizeof(res)))) {
		r = cu_fail(cr, "pattern check");
		goto out;
	}
	*mismatches += res[0];
	if (res[1] < *first_bad)
		*first_bad = res[1];
out:
	pthread_mutex_unlock(&kern_lock);
	dmabuf_put(d);
	return r < 0 ? devmem_fail(r) : 0;
#else
	(void)dmabuf_fd, (void)off, (void)len, (void)pos, (void)n, (void)pattern_n;
	(void)mismatches, (void)first_bad;
	return devmem_fail(devmem_reason(-ENOTSUP, "built without the CUDA kernels (no nvcc)"));
#endif
}

int devmem_cuda_pattern_fill(int dmabuf_fd, uint64_t off, uint64_t len, uint64_t pos,
			     unsigned long pattern_n)
{
#ifdef DEVMEM_HAVE_CUDA_KERNELS
	struct dmabuf *d;
	struct cuda_buf *b;
	unsigned char pat[PAT_MAX];
	unsigned period = pattern_table(pat, pattern_n);
	CUresult cr;
	int r;

	if ((r = kern_enter()) < 0)
		return devmem_fail(r);
	if (!(d = cuda_lookup(dmabuf_fd)))
		return -1;
	b = d->priv;
	if (!range_ok(d, off, len)) {
		dmabuf_put(d);
		return devmem_fail(-EFAULT);
	}
	pthread_mutex_lock(&kern_lock);
	if ((r = scratch_reserve(period)) < 0)
		goto out;
	CUdeviceptr dst = b->base + off, p_pat = kern_scratch;
	unsigned long long l = len, p = pos;
	void *args[] = {&dst, &l, &p, &p_pat, &period};
	unsigned blocks = (unsigned)((len + 255) / 256);

	if (blocks > 4096)
		blocks = 4096;
	if (blocks == 0) {
		r = 0;
		goto out;
	}
	if ((cr = cu.MemcpyHtoD(p_pat, pat, period)) ||
	    (cr = cu.LaunchKernel(kern_fill, blocks, 1, 1, 256, 1, 1, 0, NULL, args, NULL)) ||
	    (cr = cu.StreamSynchronize(NULL)))
		r = cu_fail(cr, "pattern fill");
out:
	pthread_mutex_unlock(&kern_lock);
	dmabuf_put(d);
	return r < 0 ? devmem_fail(r) : 0;
#else
	(void)dmabuf_fd, (void)off, (void)len, (void)pos, (void)pattern_n;
	return devmem_fail(devmem_reason(-ENOTSUP, "built without the CUDA kernels (no nvcc)"));
#endif
}
