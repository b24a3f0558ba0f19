/* SPDX-License-Identifier: MIT */
/*
 * dmabuf objects and the process-wide registry that finds them by fd, as the
 * kernel's dma_buf_get() does. A dmabuf lives while the registry (the
 * application's handle) or a pool (a binding) holds a reference.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem/mem.h"
#include "util/util.h"

#define REG_MAX 65536

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dmabuf *reg[REG_MAX];

struct dmabuf *dmabuf_create(enum devmem_mem kind, size_t size, unsigned flags)
{
	const struct mem_provider *prov = mem_provider_get(kind);
	struct dmabuf *d;
	int r;

	if (!prov || size == 0 || size > (1ull << 40) || (flags & ~DEVMEM_DMABUF_HUGEPAGES)) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	d->size = size;
	d->prov = prov;
	d->refs = 1; /* the registry's */
	r = prov->alloc(d, flags);
	if (r < 0) {
		free(d);
		errno = -r;
		return NULL;
	}
	if (d->fd >= REG_MAX) {
		prov->release(d);
		free(d);
		errno = EMFILE;
		return NULL;
	}
	pthread_mutex_lock(&reg_lock);
	reg[d->fd] = d;
	pthread_mutex_unlock(&reg_lock);
	return d;
}

struct dmabuf *dmabuf_lookup_get(int fd)
{
	struct dmabuf *d = NULL;

	if (fd < 0 || fd >= REG_MAX)
		return NULL;
	pthread_mutex_lock(&reg_lock);
	d = reg[fd];
	if (d)
		d->refs++;
	pthread_mutex_unlock(&reg_lock);
	return d;
}

void dmabuf_get(struct dmabuf *d)
{
	pthread_mutex_lock(&reg_lock);
	d->refs++;
	pthread_mutex_unlock(&reg_lock);
}

void dmabuf_put(struct dmabuf *d)
{
	unsigned left;

	pthread_mutex_lock(&reg_lock);
	left = --d->refs;
	pthread_mutex_unlock(&reg_lock);
	if (left == 0) {
		d->prov->release(d);
		free(d);
	}
}

int dmabuf_unregister(int fd)
{
	struct dmabuf *d;

	if (fd < 0 || fd >= REG_MAX)
		return -EBADF;
	pthread_mutex_lock(&reg_lock);
	d = reg[fd];
	reg[fd] = NULL;
	pthread_mutex_unlock(&reg_lock);
	if (!d)
		return -EBADF;
	dmabuf_put(d);
	return 0;
}

/* ---- public API ---------------------------------------------------------- */

int devmem_dmabuf_alloc(enum devmem_mem mem, size_t size, unsigned flags)
{
	struct dmabuf *d = dmabuf_create(mem, size, flags);

	return d ? d->fd : -1;
}

int devmem_dmabuf_free(int fd)
{
	return devmem_ret(dmabuf_unregister(fd)) < 0 ? -1 : 0;
}

ssize_t devmem_dmabuf_size(int fd)
{
	struct dmabuf *d = dmabuf_lookup_get(fd);
	ssize_t n;

	if (!d)
		return devmem_fail(-EBADF);
	n = (ssize_t)d->size;
	dmabuf_put(d);
	return n;
}

int devmem_dmabuf_mem(int fd)
{
	struct dmabuf *d = dmabuf_lookup_get(fd);
	int k;

	if (!d)
		return devmem_fail(-EBADF);
	k = d->prov->kind;
	dmabuf_put(d);
	return k;
}

ssize_t devmem_dmabuf_read(int fd, uint64_t off, void *dst, size_t len)
{
	struct dmabuf *d = dmabuf_lookup_get(fd);
	int r;

	if (!d)
		return devmem_fail(-EBADF);
	r = dst || !len ? d->prov->read(d, off, dst, len) : -EFAULT;
	dmabuf_put(d);
	return r < 0 ? devmem_fail(r) : (ssize_t)len;
}

ssize_t devmem_dmabuf_write(int fd, uint64_t off, const void *src, size_t len)
{
	struct dmabuf *d = dmabuf_lookup_get(fd);
	int r;

	if (!d)
		return devmem_fail(-EBADF);
	r = src || !len ? d->prov->write(d, off, src, len) : -EFAULT;
	dmabuf_put(d);
	return r < 0 ? devmem_fail(r) : (ssize_t)len;
}

int devmem_dmabuf_import(int fd, enum devmem_mem mem)
{
	const struct mem_provider *prov = mem_provider_get(mem);
	struct stat st;
	struct dmabuf *d;
	int seals, fl;

	if (fd < 0 || fstat(fd, &st) < 0 || (fl = fcntl(fd, F_GETFL)) < 0)
		return devmem_fail(devmem_reason(-EBADF, "fd %d is not open", fd));
	if (!prov)
		return devmem_fail(devmem_reason(-EINVAL, "unknown memory provider %d", (int)mem));
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > (1ull << 40))
		return devmem_fail(devmem_reason(-EINVAL, "not a memfd of 1 byte to 1 TiB"));
	if ((fl & O_ACCMODE) != O_RDWR)
		return devmem_fail(devmem_reason(-EACCES, "the memfd is not open for reading "
						 "and writing"));
	/* the other process must not shrink it under our mapping */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || ((~seals & (F_SEAL_SHRINK | F_SEAL_GROW)) &&
			  fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0))
		return devmem_fail(devmem_reason(-EINVAL, "the memfd cannot be sealed against "
						 "resizing"));
	if (fd >= REG_MAX)
		return devmem_fail(devmem_reason(-EMFILE, "fd %d beyond the registry", fd));
	d = calloc(1, sizeof(*d));
	if (!d)
		return devmem_fail(-ENOMEM);
	d->fd = fd;
	d->size = (size_t)st.st_size;
	d->prov = prov;
	d->refs = 1; /* the registry's */
	if (mem == DEVMEM_MEM_HOST) {
		void *m = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
		if (m == MAP_FAILED) {
			int e = errno;
			free(d);
			return devmem_fail(devmem_reason(-e, "cannot map the memfd"));
		}
		d->map = m;
	}
	pthread_mutex_lock(&reg_lock);
	if (reg[fd]) {
		pthread_mutex_unlock(&reg_lock);
		if (d->map)
			munmap(d->map, d->size);
		free(d);
		return devmem_fail(devmem_reason(-EEXIST, "fd %d is a dmabuf already", fd));
	}
	reg[fd] = d;
	pthread_mutex_unlock(&reg_lock);
	return fd;
}

int devmem_mem_parse(const char *name)
{
	if (name && strcasecmp(name, "host") == 0)
		return DEVMEM_MEM_HOST;
	if (name && strcasecmp(name, "sealed") == 0)
		return DEVMEM_MEM_SEALED;
	if (name && strcasecmp(name, "cuda") == 0)
		return DEVMEM_MEM_CUDA;
	return -1;
}

const char *devmem_mem_name(enum devmem_mem mem)
{
	const struct mem_provider *p = mem_provider_get(mem);
	return p ? p->name : "unknown";
}
