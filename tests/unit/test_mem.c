/* SPDX-License-Identifier: MIT */
/*
 * Memory providers, the dmabuf registry, pools and payload frags: round
 * trips, errors, reference counting, and that the sealed provider's memory
 * is never mapped by the stack and cannot change size.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "mem/mem.h"

static void test_providers(void)
{
	uint8_t in[5000], out[5000];

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 3);
	for (int kind = DEVMEM_MEM_HOST; kind <= DEVMEM_MEM_SEALED; kind++) {
		struct dmabuf *d = dmabuf_create(kind, 1u << 20, 0);
		CHECK(d != NULL);
		if (!d)
			continue;
		CHECK_EQ(d->prov->kind, kind);
		CHECK_EQ(devmem_dmabuf_size(d->fd), 1u << 20);
		CHECK_EQ(devmem_dmabuf_mem(d->fd), kind);
		/* the DMA step in, the application's read out */
		CHECK_EQ(d->prov->write(d, 4093, in, sizeof(in)), 0);
		CHECK_EQ(devmem_dmabuf_read(d->fd, 4093, out, sizeof(out)), (ssize_t)sizeof(out));
		CHECK_MEM(in, out, sizeof(in));
		/* out of range: EFAULT, never a write past the end */
		CHECK_EQ(d->prov->write(d, (1u << 20) - 10, in, 11), -EFAULT);
		errno = 0;
		CHECK_EQ(devmem_dmabuf_read(d->fd, 1u << 20, out, 1), -1);
		CHECK_EQ(errno, EFAULT);
		if (kind == DEVMEM_MEM_SEALED) {
			/* never mapped by the stack, and its size is sealed */
			CHECK(d->map == NULL);
			CHECK(ftruncate(d->fd, 2u << 20) < 0);
		} else {
			CHECK(d->map != NULL);
		}
		CHECK_EQ(devmem_dmabuf_free(d->fd), 0);
	}
}

static void test_api_errors(void)
{
	errno = 0;
	CHECK_EQ(devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 0, 0), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(devmem_dmabuf_alloc((enum devmem_mem)7, 4096, 0), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 4096, 0x80), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(devmem_dmabuf_free(0), -1); /* stdin is no dmabuf */
	CHECK_EQ(errno, EBADF);
	errno = 0;
	CHECK_EQ(devmem_dmabuf_size(-1), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(devmem_mem_parse("host"), DEVMEM_MEM_HOST);
	CHECK_EQ(devmem_mem_parse("SEALED"), DEVMEM_MEM_SEALED);
	CHECK_EQ(devmem_mem_parse("gpu"), -1);
	CHECK(strcmp(devmem_mem_name(DEVMEM_MEM_SEALED), "sealed") == 0);
	/* huge pages when asked: the size rounds up to 2 MiB either way */
	int fd = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 3u << 20, DEVMEM_DMABUF_HUGEPAGES);
	CHECK(fd >= 0);
	CHECK_EQ(devmem_dmabuf_size(fd), 4u << 20);
	CHECK_EQ(devmem_dmabuf_free(fd), 0);
}

static unsigned idle_calls;
static void on_idle(struct pool *p, void *arg)
{
	(void)p, (void)arg;
	idle_calls++;
}

static void test_pool_and_registry(void)
{
	struct dmabuf *d = dmabuf_create(DEVMEM_MEM_HOST, 64 * 4096, 0);
	int fd = d->fd;
	struct pool *p = pool_create_dmabuf(d, 4096, 9);

	CHECK(p != NULL);
	CHECK_EQ(p->nbufs, 64);
	CHECK_EQ(p->binding_id, 9);
	CHECK(p->devmem);
	/* the application lets go of its fd: the pool keeps the memory */
	CHECK_EQ(devmem_dmabuf_free(fd), 0);
	CHECK(dmabuf_lookup_get(fd) == NULL);
	/* first buffers in order, then LIFO */
	CHECK_EQ(pool_get(p), 0);
	CHECK_EQ(pool_get(p), 1);
	pool_put(p, 0);
	CHECK_EQ(pool_get(p), 0);
	/* exhaustion */
	for (int i = 2; i < 64; i++)
		CHECK_EQ(pool_get(p), i);
	CHECK_EQ(pool_get(p), -1);
	/* references: a buffer comes back only with its last reference */
	pool_ref(p, 5);
	pool_put(p, 5);
	CHECK_EQ(p->nfree, 0);
	pool_put(p, 5);
	CHECK_EQ(p->nfree, 1);
	/* released while buffers are out: freed when the last returns */
	p->on_idle = on_idle;
	pool_release(p);
	CHECK_EQ(idle_calls, 0);
	for (uint32_t i = 0; i < 64; i++)
		if (i != 5 && i != 63)
			pool_put(p, i);
	CHECK_EQ(idle_calls, 0);
	pool_put(p, 63);
	CHECK_EQ(idle_calls, 1); /* and the dmabuf went with it (ASan: no leak) */
}

static void test_pbuf(void)
{
	struct pool *p = pool_create_host(8, 4096);
	struct pbuf pb = {0};

	/* three frags: [100..4096) of buf 0, all of buf 1, [0..50) of buf 2 */
	for (uint32_t i = 0; i < 3; i++) {
		int64_t idx = pool_get(p);
		memset(pool_buf_ptr(p, (uint32_t)idx), 'a' + (int)i, 4096);
	}
	pb.frags[0] = (struct frag){p, 0, 100, 3996};
	pb.frags[1] = (struct frag){p, 1, 0, 4096};
	pb.frags[2] = (struct frag){p, 2, 0, 50};
	pb.nfrags = 3;
	pb.len = 3996 + 4096 + 50;
	uint8_t out[8];
	CHECK_EQ(pbuf_copy_out(&pb, 3990, out, 8), 0);
	CHECK_MEM(out, "aaaaaabb", 8);
	CHECK_EQ(pbuf_copy_out(&pb, pb.len - 4, out, 8), -EFAULT);
	/* trim across a frag boundary: buf 0 goes back to the pool */
	pbuf_trim_front(&pb, 4000);
	CHECK_EQ(pb.nfrags, 2);
	CHECK_EQ(pb.frags[0].idx, 1);
	CHECK_EQ(pb.frags[0].off, 4);
	CHECK_EQ(p->nfree, 6);
	pbuf_trim_back(&pb, 60);
	CHECK_EQ(pb.nfrags, 1);
	CHECK_EQ(pb.len, 4092 - 10);
	CHECK_EQ(p->nfree, 7);
	pbuf_release(&pb);
	CHECK_EQ(pb.len, 0);
	CHECK_EQ(p->nfree, 8); /* leak check: everything back */
	pool_release(p);
}

int main(void)
{
	RUN(test_providers);
	RUN(test_api_errors);
	RUN(test_pool_and_registry);
	RUN(test_pbuf);
	return CHECK_DONE();
}
