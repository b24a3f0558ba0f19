/* SPDX-License-Identifier: MIT */
/*
 * Buffer pools: a dmabuf (or anonymous host memory) carved into fixed-size
 * buffers with reference counts and a LIFO free stack, so the buffers most
 * recently used (warm in cache) are handed out first.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "mem/mem.h"

static struct pool *pool_alloc(uint32_t nbufs, uint32_t buf_size)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->buf_size = buf_size;
	p->nbufs = nbufs;
	p->free_stack = malloc((size_t)nbufs * sizeof(*p->free_stack));
	p->refs = calloc(nbufs, sizeof(*p->refs));
	if (!p->free_stack || !p->refs) {
		free(p->free_stack);
		free(p->refs);
		free(p);
		return NULL;
	}
	/* buffer 0 on top: the first pool_get returns 0, then 1, ... */
	for (uint32_t i = 0; i < nbufs; i++)
		p->free_stack[i] = nbufs - 1 - i;
	p->nfree = nbufs;
	return p;
}

struct pool *pool_create_host(uint32_t nbufs, uint32_t buf_size)
{
	struct pool *p;
	void *mem;

	if (nbufs == 0 || buf_size == 0)
		return NULL;
	mem = mmap(NULL, (size_t)nbufs * buf_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	p = pool_alloc(nbufs, buf_size);
	if (!p) {
		munmap(mem, (size_t)nbufs * buf_size);
		return NULL;
	}
	p->host = mem;
	return p;
}

struct pool *pool_create_dmabuf(struct dmabuf *d, uint32_t buf_size, uint32_t binding_id)
{
	struct pool *p;
	uint64_t n = buf_size ? d->size / buf_size : 0;

	if (n == 0 || n > UINT32_MAX)
		return NULL;
	p = pool_alloc((uint32_t)n, buf_size);
	if (!p)
		return NULL;
	dmabuf_get(d);
	p->dmabuf = d;
	p->host = d->map;
	p->base = 0;
	p->binding_id = binding_id;
	p->devmem = true;
	return p;
}

static void pool_free(struct pool *p)
{
	if (p->on_idle)
		p->on_idle(p, p->on_idle_arg);
	if (p->dmabuf)
		dmabuf_put(p->dmabuf);
	else if (p->host)
		munmap(p->host, (size_t)p->nbufs * p->buf_size);
	free(p->free_stack);
	free(p->refs);
	free(p);
}

void pool_put_slow(struct pool *p, uint32_t idx)
{
	/* a put on a free buffer would corrupt the free stack: never let it */
	assert(p->nfree < p->nbufs);
	if (p->nfree >= p->nbufs)
		return;
	p->free_stack[p->nfree++] = idx;
	if (p->dead && p->nfree == p->nbufs)
		pool_free(p);
}

void pool_release(struct pool *p)
{
	if (!p)
		return;
	p->dead = true;
	if (p->nfree == p->nbufs)
		pool_free(p);
}
