/* SPDX-License-Identifier: MIT */
/*
 * mem: memory providers, dmabuf objects, buffer pools and payload frags.
 *
 * A provider is a small table of functions. A dmabuf is an fd-backed object
 * made by one provider; the stack maps it only when the provider allows
 * (host), otherwise it moves bytes with the provider's copy operations (the
 * NIC's DMA step). A pool carves a dmabuf (or anonymous host memory) into
 * fixed-size buffers with reference counts; a frag is a reference to bytes
 * inside one buffer. Payload travels through the stack as frags only.
 *
 * Threading: pools and frags are used under the owning stack's lock; the
 * dmabuf registry has its own lock.
 */
#ifndef DEVMEM_MEM_H
#define DEVMEM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devmem/devmem.h"

struct dmabuf;

struct mem_provider {
	const char *name;
	enum devmem_mem kind;
	/* Create the backing memory for d (d->size set); fill d->fd, d->map. */
	int (*alloc)(struct dmabuf *d, unsigned flags);
	void (*release)(struct dmabuf *d);
	/* DMA step into device memory: len bytes from host src to offset off. */
	int (*write)(struct dmabuf *d, uint64_t off, const void *src, size_t len);
	/* DMA step out of device memory: len bytes at off into host dst. */
	int (*read)(struct dmabuf *d, uint64_t off, void *dst, size_t len);
	/*
	 * Optional batched DMA step (a copy engine): write_async queues a copy
	 * of len bytes from host src to off on queue's channel (one stream per
	 * queue); src must stay untouched until flush(d, queue) has returned 0,
	 * which waits for every copy queued on that channel. The NIC flushes at
	 * the end of each burst, before any frag goes up. NULL: use write.
	 */
	int (*write_async)(struct dmabuf *d, unsigned queue, uint64_t off, const void *src,
			   size_t len);
	int (*flush)(struct dmabuf *d, unsigned queue);
	/* Optional: page-lock host memory the copy engine reads from (the NIC's
	 * bounce slots) so its copies run asynchronously; unpin undoes it. */
	int (*pin)(void *ptr, size_t len);
	void (*unpin)(void *ptr);
};

extern const struct mem_provider mem_provider_host;
extern const struct mem_provider mem_provider_sealed;
extern const struct mem_provider mem_provider_cuda; /* src/mem/cuda.c */
const struct mem_provider *mem_provider_get(enum devmem_mem kind);

struct dmabuf {
	int fd;                      /* the dmabuf's fd (memfd) */
	size_t size;
	const struct mem_provider *prov;
	uint8_t *map;                /* stack's mapping; NULL when never mapped */
	unsigned refs;               /* registry + bindings; freed at 0 */
	void *priv;                  /* provider state */
};

/* Registry of dmabufs by fd (process-wide, locked). */
struct dmabuf *dmabuf_create(enum devmem_mem kind, size_t size, unsigned flags);
struct dmabuf *dmabuf_lookup_get(int fd); /* takes a reference; NULL: EBADF */
void dmabuf_get(struct dmabuf *d);
void dmabuf_put(struct dmabuf *d);        /* drops a reference; frees at 0 */
/* Remove fd from the registry and drop the registry's reference. */
int dmabuf_unregister(int fd);

/* ---- pools --------------------------------------------------------------- */

/*
 * A pool of nbufs buffers of buf_size bytes, either carved from a dmabuf
 * starting at base (devmem == true) or from anonymous host memory the pool
 * allocates itself (devmem == false, host != NULL).
 */
struct pool {
	struct dmabuf *dmabuf;  /* NULL for a host pool */
	uint8_t *host;          /* host pool memory, or dmabuf->map, or NULL */
	uint64_t base;          /* offset of buffer 0 inside the dmabuf */
	uint32_t buf_size;
	uint32_t nbufs;
	uint32_t nfree;
	uint32_t *free_stack;   /* LIFO of free buffer indexes: warm buffers first */
	uint32_t *refs;         /* per-buffer reference count */
	uint32_t binding_id;    /* 0 for host pools */
	bool devmem;            /* payload here is device memory */
	bool dead;              /* owner let go; freed when the last buffer returns */
	void (*on_idle)(struct pool *p, void *arg); /* called when dead and all free */
	void *on_idle_arg;
};

/* Host pool of nbufs anonymous buffers. */
struct pool *pool_create_host(uint32_t nbufs, uint32_t buf_size);
/* Pool over [0, size) of dmabuf d: size / buf_size buffers. Takes a dmabuf ref. */
struct pool *pool_create_dmabuf(struct dmabuf *d, uint32_t buf_size, uint32_t binding_id);
/* The owner lets go: the pool frees itself (and its dmabuf ref) once every
 * buffer is back; immediately if all are free now. */
void pool_release(struct pool *p);

/* Take a free buffer (refs = 1); returns its index or -1 when empty. */
static inline int64_t pool_get(struct pool *p)
{
	if (p->nfree == 0)
		return -1;
	uint32_t idx = p->free_stack[--p->nfree];
	p->refs[idx] = 1;
	return idx;
}
static inline void pool_ref(struct pool *p, uint32_t idx) { p->refs[idx]++; }
void pool_put_slow(struct pool *p, uint32_t idx);
/* Drop a reference; the buffer returns to the free stack at 0. */
static inline void pool_put(struct pool *p, uint32_t idx)
{
	if (--p->refs[idx] == 0)
		pool_put_slow(p, idx);
}
/* Offset of buffer idx inside the dmabuf (devmem) or host memory. */
static inline uint64_t pool_buf_off(const struct pool *p, uint32_t idx)
{
	return p->base + (uint64_t)idx * p->buf_size;
}
/* Host address of buffer idx, or NULL when the stack may not touch it. */
static inline uint8_t *pool_buf_ptr(const struct pool *p, uint32_t idx)
{
	return p->host ? p->host + pool_buf_off(p, idx) : NULL;
}

/* ---- frags and payload bundles ------------------------------------------ */

struct frag {
	struct pool *pool;
	uint32_t idx;   /* buffer index in pool */
	uint32_t off;   /* offset inside the buffer */
	uint32_t len;
};

/* Largest payload of one frame (64 KiB GSO) over 4 KiB buffers, plus slack. */
#define PBUF_MAX_FRAGS 20

/*
 * The payload of one received frame (or a trimmed part of it): a list of
 * frags, each holding one reference on its buffer.
 */
struct pbuf {
	uint32_t len;     /* sum of frag lengths */
	uint8_t nfrags;
	uint8_t devmem;   /* arrived on a bound queue: recv needs MSG_SOCK_DEVMEM */
	struct frag frags[PBUF_MAX_FRAGS];
};

/* Drop n bytes from the front / back, releasing emptied frags' refs. */
void pbuf_trim_front(struct pbuf *pb, uint32_t n);
void pbuf_trim_back(struct pbuf *pb, uint32_t n);
/* Release every frag. */
void pbuf_release(struct pbuf *pb);
/* Copy len bytes starting at payload offset off into dst (host memory only:
 * host pools, or the provider's read op for a dmabuf). Returns 0 or -errno. */
int pbuf_copy_out(const struct pbuf *pb, uint32_t off, void *dst, uint32_t len);

#endif /* DEVMEM_MEM_H */
