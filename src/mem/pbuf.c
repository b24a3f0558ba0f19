/* SPDX-License-Identifier: MIT */
/* Payload bundles: lists of frag references, trimmed and released without
 * touching the payload itself. */
#include <errno.h>
#include <string.h>

#include "mem/mem.h"

void pbuf_trim_front(struct pbuf *pb, uint32_t n)
{
	unsigned drop = 0;

	if (n >= pb->len) {
		pbuf_release(pb);
		return;
	}
	pb->len -= n;
	while (n) {
		struct frag *f = &pb->frags[drop];
		if (n < f->len) {
			f->off += n;
			f->len -= n;
			break;
		}
		n -= f->len;
		pool_put(f->pool, f->idx);
		drop++;
	}
	if (drop) {
		memmove(pb->frags, pb->frags + drop, (pb->nfrags - drop) * sizeof(pb->frags[0]));
		pb->nfrags = (uint8_t)(pb->nfrags - drop);
	}
}

void pbuf_trim_back(struct pbuf *pb, uint32_t n)
{
	if (n >= pb->len) {
		pbuf_release(pb);
		return;
	}
	pb->len -= n;
	while (n) {
		struct frag *f = &pb->frags[pb->nfrags - 1];
		if (n < f->len) {
			f->len -= n;
			break;
		}
		n -= f->len;
		pool_put(f->pool, f->idx);
		pb->nfrags--;
	}
}

void pbuf_release(struct pbuf *pb)
{
	for (unsigned i = 0; i < pb->nfrags; i++)
		pool_put(pb->frags[i].pool, pb->frags[i].idx);
	pb->nfrags = 0;
	pb->len = 0;
}

int pbuf_copy_out(const struct pbuf *pb, uint32_t off, void *dst, uint32_t len)
{
	uint8_t *out = dst;

	if ((uint64_t)off + len > pb->len)
		return -EFAULT;
	for (unsigned i = 0; i < pb->nfrags && len; i++) {
		const struct frag *f = &pb->frags[i];
		if (off >= f->len) {
			off -= f->len;
			continue;
		}
		uint32_t c = f->len - off < len ? f->len - off : len;
		struct pool *p = f->pool;
		if (p->host) {
			memcpy(out, p->host + pool_buf_off(p, f->idx) + f->off + off, c);
		} else {
			int r = p->dmabuf->prov->read(p->dmabuf, pool_buf_off(p, f->idx) + f->off + off,
						      out, c);
			if (r < 0)
				return r;
		}
		out += c;
		len -= c;
		off = 0;
	}
	return 0;
}
