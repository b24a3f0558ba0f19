/* SPDX-License-Identifier: MIT */
/*
 * Memory providers. host: a memfd the stack maps, so the NIC can place
 * payload straight into it. sealed: a memfd the stack never maps; its DMA
 * step is a copy operation (pwrite/pread), which makes invariant 1 (the CPU
 * never touches payload outside the DMA step) testable.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem/mem.h"

#define HUGE_2M (2u << 20)

/* memfd of d->size bytes, mapped shared; fd and map on success. */
static int memfd_map(struct dmabuf *d, unsigned mflags)
{
	int fd = memfd_create("devmem-host", mflags);
	void *map;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)d->size) < 0)
		goto fail;
	map = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED)
		goto fail;
	d->fd = fd;
	d->map = map;
	return 0;
fail:;
	int e = -errno;
	close(fd);
	return e;
}

static int host_alloc(struct dmabuf *d, unsigned flags)
{
	if (flags & DEVMEM_DMABUF_HUGEPAGES) {
		d->size = (d->size + HUGE_2M - 1) & ~(size_t)(HUGE_2M - 1);
		if (memfd_map(d, MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB) == 0)
			return 0;
		/* no hugetlb pages reserved here: transparent huge pages instead */
		int r = memfd_map(d, MFD_CLOEXEC);
		if (r == 0)
			madvise(d->map, d->size, MADV_HUGEPAGE);
		return r;
	}
	return memfd_map(d, MFD_CLOEXEC);
}

static void host_release(struct dmabuf *d)
{
	if (d->map)
		munmap(d->map, d->size);
	close(d->fd);
}

static int range_ok(const struct dmabuf *d, uint64_t off, size_t len)
{
	return off <= d->size && len <= d->size - off;
}

static int host_write(struct dmabuf *d, uint64_t off, const void *src, size_t len)
{
	if (!range_ok(d, off, len))
		return -EFAULT;
	memcpy(d->map + off, src, len);
	return 0;
}

static int host_read(struct dmabuf *d, uint64_t off, void *dst, size_t len)
{
	if (!range_ok(d, off, len))
		return -EFAULT;
	memcpy(dst, d->map + off, len);
	return 0;
}

static int sealed_alloc(struct dmabuf *d, unsigned flags)
{
	int fd = memfd_create("devmem-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	(void)flags;
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)d->size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	d->fd = fd;
	d->map = NULL; /* never mapped by the stack */
	return 0;
}

static void sealed_release(struct dmabuf *d)
{
	close(d->fd);
}

static int sealed_write(struct dmabuf *d, uint64_t off, const void *src, size_t len)
{
	const uint8_t *p = src;

	if (!range_ok(d, off, len))
		return -EFAULT;
	while (len) {
		ssize_t n = pwrite(d->fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n, off += (uint64_t)n, len -= (size_t)n;
	}
	return 0;
}

static int sealed_read(struct dmabuf *d, uint64_t off, void *dst, size_t len)
{
	uint8_t *p = dst;

	if (!range_ok(d, off, len))
		return -EFAULT;
	while (len) {
		ssize_t n = pread(d->fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EFAULT;
		p += n, off += (uint64_t)n, len -= (size_t)n;
	}
	return 0;
}

const struct mem_provider mem_provider_host = {
	.name = "host", .kind = DEVMEM_MEM_HOST, .alloc = host_alloc,
	.release = host_release, .write = host_write, .read = host_read,
};

const struct mem_provider mem_provider_sealed = {
	.name = "sealed", .kind = DEVMEM_MEM_SEALED, .alloc = sealed_alloc,
	.release = sealed_release, .write = sealed_write, .read = sealed_read,
};

const struct mem_provider *mem_provider_get(enum devmem_mem kind)
{
	switch (kind) {
	case DEVMEM_MEM_HOST:
		return &mem_provider_host;
	case DEVMEM_MEM_SEALED:
		return &mem_provider_sealed;
	case DEVMEM_MEM_CUDA:
		return &mem_provider_cuda;
	}
	return NULL;
}
