/* SPDX-License-Identifier: MIT */
/*
 * The NIC's receive path: header split and the DMA step. See nic.h for the
 * two phases and the exact-split scheme.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "nic/nic.h"
#include "util/util.h"

/* nic_flags of a frame between phase 1 and phase 2 */
#define RXF_LINEAR_COPY 0x1 /* TCP payload is in host memory at pkt: copy in phase 2 */

/* A payload destination inside one buffer. */
struct dest {
	uint32_t idx;
	uint32_t off;
	uint32_t len;
};

static uint32_t posted_at(const struct nic_rxq *q, uint32_t i)
{
	return q->posted[(q->posted_head + i) % q->posted_cap];
}

static bool cur_usable(const struct nic_rxq *q, uint32_t headroom)
{
	return q->have_cur && q->nic->buf_size - q->cur_off >= headroom + NIC_CUR_MIN;
}

/* Room for payload without touching the pool: the current buffer's tail and
 * the posted buffers. */
static uint64_t rx_capacity(const struct nic_rxq *q, uint32_t headroom)
{
	uint32_t bs = q->nic->buf_size;

	if (cur_usable(q, headroom))
		return bs - q->cur_off - headroom + (uint64_t)q->posted_count * bs;
	if (q->posted_count)
		return bs - headroom + (uint64_t)(q->posted_count - 1) * bs;
	return 0;
}

/*
 * Where len payload bytes go, in order: the current buffer after headroom if
 * it has room, else a fresh posted buffer after headroom, then whole posted
 * buffers. Pure: queue state is not changed. Returns the number of dests.
 */
static unsigned rx_layout(const struct nic_rxq *q, uint32_t len, uint32_t headroom,
			  struct dest *d, unsigned max)
{
	uint32_t bs = q->nic->buf_size;
	unsigned n = 0, next_posted = 0;

	if (len == 0)
		return 0;
	if (cur_usable(q, headroom)) {
		d[n].idx = q->cur_idx;
		d[n].off = q->cur_off + headroom;
	} else {
		if (!q->posted_count)
			return 0;
		d[n].idx = posted_at(q, next_posted++);
		d[n].off = headroom;
	}
	d[n].len = DEVMEM_MIN(len, bs - d[n].off);
	len -= d[n].len;
	n++;
	while (len && n < max && next_posted < q->posted_count) {
		d[n].idx = posted_at(q, next_posted++);
		d[n].off = 0;
		d[n].len = DEVMEM_MIN(len, bs);
		len -= d[n].len;
		n++;
	}
	return len ? 0 : n;
}

static void retire(struct nic_rxq *q, uint32_t idx)
{
	/* retired_cap covers every buffer the queue can own at once */
	q->retired[q->nretired++] = idx;
}

/* Make the queue state follow a layout that was filled with data. */
static void rx_consume(struct nic_rxq *q, const struct dest *d, unsigned n, uint32_t headroom)
{
	unsigned from_posted = n;
	bool first_is_cur = cur_usable(q, headroom);

	if (n == 0)
		return;
	if (first_is_cur)
		from_posted = n - 1;
	else if (q->have_cur)
		retire(q, q->cur_idx); /* too little room left: let it go */
	/* buffers taken from the posted ring */
	q->posted_head = (q->posted_head + from_posted) % q->posted_cap;
	q->posted_count -= from_posted;
	/* every buffer but the last is full; the last continues as current */
	if (first_is_cur && n > 1)
		retire(q, q->cur_idx);
	for (unsigned i = first_is_cur ? 1 : 0; i + 1 < n; i++)
		retire(q, d[i].idx);
	q->have_cur = true;
	q->cur_idx = d[n - 1].idx;
	/* keep frags 64-byte aligned, as NICs stride their buffers */
	q->cur_off = (d[n - 1].off + d[n - 1].len + 63u) & ~63u;
}

static void frags_from(struct nic_rxq *q, struct pbuf *pb, const struct dest *d, unsigned n,
		       uint32_t spill)
{
	pb->nfrags = (uint8_t)n;
	pb->len = 0;
	pb->devmem = q->bound != NULL;
	for (unsigned i = 0; i < n; i++) {
		pb->frags[i].pool = q->post_pool;
		pb->frags[i].idx = d[i].idx;
		pb->frags[i].off = d[i].off;
		pb->frags[i].len = d[i].len;
		pb->len += d[i].len;
	}
	if (n && spill) {
		pb->frags[0].off -= spill;
		pb->frags[0].len += spill;
		pb->len += spill;
	}
}

/* The DMA step of a copy-op provider (or memcpy when the pool is mapped).
 * A provider with a copy engine (write_async) gets the copy queued on this
 * queue's channel; nic_rx_burst waits for them all before frags go up. */
static int pool_write(struct nic_rxq *q, struct pool *p, uint32_t idx, uint32_t off,
		      const void *src, uint32_t len)
{
	const struct mem_provider *prov;

	if (p->host) {
		memcpy(p->host + pool_buf_off(p, idx) + off, src, len);
		return 0;
	}
	prov = p->dmabuf->prov;
	if (prov->write_async) {
		q->dma_pending = true;
		return prov->write_async(p->dmabuf, q->idx, pool_buf_off(p, idx) + off, src, len);
	}
	return prov->write(p->dmabuf, pool_buf_off(p, idx) + off, src, len);
}

/*
 * Parse a frame's IP and TCP headers. avail is how many bytes at pkt are
 * valid (the header iov for direct reads); len the frame's IP length.
 * Returns false for a malformed frame. Sets f->tcp when the TCP header lies
 * entirely within avail (splittable).
 */
static bool rx_parse(struct rx_frame *f, uint32_t avail, uint32_t len)
{
	uint32_t l3len, total;
	int r;

	f->family = 0;
	f->tcp = false;
	f->pay_len = 0;
	if (len < 1)
		return false;
	if ((f->pkt[0] >> 4) == 4) {
		if (avail < WIRE_IPV4_MIN)
			return false;
		r = wire_ipv4_parse(f->pkt, len, &f->ip4);
		if (r < 0 || (uint32_t)r > avail)
			return false;
		f->family = AF_INET;
		f->proto = f->ip4.proto;
		l3len = (uint32_t)r;
		total = f->ip4.total_len;
		if (f->ip4.frag & (WIRE_IPV4_MF | WIRE_IPV4_OFFMASK))
			return false; /* fragments are not reassembled: dropped */
	} else if ((f->pkt[0] >> 4) == 6) {
		if (avail < WIRE_IPV6_LEN)
			return false;
		r = wire_ipv6_parse(f->pkt, len, &f->ip6);
		if (r < 0)
			return false;
		f->family = AF_INET6;
		f->proto = f->ip6.proto;
		l3len = (uint32_t)r;
		total = WIRE_IPV6_LEN + f->ip6.payload_len;
		if (l3len > avail)
			return true; /* valid IP, but headers too long to split here */
	} else {
		return false;
	}
	f->pkt_len = total;
	f->l4_off = l3len;
	if (f->proto != WIRE_PROTO_TCP)
		return true;
	if (l3len + WIRE_TCP_MIN > avail)
		return true;
	/* only avail bytes are valid: a header running past them is not split */
	r = wire_tcp_parse(f->pkt + l3len, DEVMEM_MIN(total, avail) - l3len, &f->th);
	if (r == WIRE_ETRUNC && avail < total)
		return true;
	if (r < 0)
		return false;
	if (l3len + (uint32_t)r > avail)
		return true;
	f->tcp = true;
	f->pay_len = total - l3len - (uint32_t)r;
	return true;
}

static bool rx_csum_ok(const struct nic_rxq *q, const struct rx_frame *f)
{
	if (f->vnet.flags & (WIRE_VNET_F_NEEDS_CSUM | WIRE_VNET_F_DATA_VALID))
		return true;
	return q->nic->link->caps.rx_csum_trusted;
}

/* Read one frame; frames the queue holds back (ACKs) go out first, in the
 * same system call where the link can. */
static ssize_t link_read(struct nic_rxq *q, const struct iovec *iov, int iovcnt)
{
	struct link *l = q->nic->link;
	struct nic_txbatch *b = &q->txb;

	if (b->n && l->ops->rx_tx) {
		struct iovec tx[NIC_TXB_MAX];
		int n = (int)b->n;

		for (int i = 0; i < n; i++) {
			tx[i].iov_base = b->frame[i];
			tx[i].iov_len = b->len[i];
		}
		b->n = 0;
		return l->ops->rx_tx(l, q->idx, iov, iovcnt, tx, n);
	}
	return l->ops->rx(l, q->idx, iov, iovcnt);
}

/* Read one frame with the payload placed straight into posted buffers. */
static int rx_direct(struct nic_rxq *q, struct rx_frame *f, uint8_t *slot)
{
	struct nic *nic = q->nic;
	struct dest d[PBUF_MAX_FRAGS];
	struct iovec iov[PBUF_MAX_FRAGS + 1];
	uint32_t maxpay = nic->max_frame - NIC_MIN_HDR;
	unsigned n = rx_layout(q, maxpay, NIC_HEADROOM, d, PBUF_MAX_FRAGS);
	ssize_t r;

	iov[0].iov_base = slot;
	iov[0].iov_len = WIRE_VNET_LEN + NIC_HDR_SPLIT;
	for (unsigned i = 0; i < n; i++) {
		iov[i + 1].iov_base = pool_buf_ptr(q->post_pool, d[i].idx) + d[i].off;
		iov[i + 1].iov_len = d[i].len;
	}
	r = link_read(q, iov, (int)n + 1);
	if (r < 0)
		return (int)r;
	if (r < WIRE_VNET_LEN || wire_vnet_parse(slot, (size_t)r, &f->vnet) < 0)
		return -EBADMSG;

	uint32_t len = (uint32_t)r - WIRE_VNET_LEN;
	uint32_t avail = DEVMEM_MIN(len, NIC_HDR_SPLIT);

	f->pkt = slot + WIRE_VNET_LEN;
	if (!rx_parse(f, avail, len))
		return -EBADMSG;
	f->csum_ok = rx_csum_ok(q, f);
	if (f->tcp) {
		uint32_t hdr = f->l4_off + f->th.hdr_len;
		uint32_t spill = DEVMEM_MIN(f->pay_len, NIC_HDR_SPLIT - hdr);
		unsigned used = rx_layout(q, f->pay_len - spill, NIC_HEADROOM, d, PBUF_MAX_FRAGS);

		f->split = true;
		if (f->pay_len == 0) {
			f->pb.nfrags = 0, f->pb.len = 0;
			return 0;
		}
		if (f->pay_len == spill) {
			/* all payload fell into the header iov: one small frag */
			used = rx_layout(q, 1, NIC_HEADROOM, d, 1);
			d[0].len = 0;
		}
		/* the NIC moves the spilled bytes in front of the rest */
		memcpy(pool_buf_ptr(q->post_pool, d[0].idx) + d[0].off - spill, f->pkt + hdr, spill);
		frags_from(q, &f->pb, d, used, spill);
		rx_consume(q, d, used, NIC_HEADROOM);
		q->st.split++;
		return 0;
	}
	/* not splittable: gather the rest of the frame back behind the headers */
	if (len > avail) {
		uint32_t done = avail, i = 0;
		while (done < len && i < n) {
			uint32_t c = DEVMEM_MIN(d[i].len, len - done);
			memcpy(f->pkt + done, iov[i + 1].iov_base, c);
			done += c;
			i++;
		}
		/* re-parse now that the whole packet is in host memory */
		if (!rx_parse(f, len, len))
			return -EBADMSG;
		f->csum_ok = rx_csum_ok(q, f);
	}
	f->split = false;
	if (f->tcp && f->pay_len)
		f->nic_flags |= RXF_LINEAR_COPY;
	return 0;
}

/* Read one frame whole into the slot, then place its payload with the
 * pool's copy operation (sealed memory, split off, or too few buffers
 * posted for direct placement). */
static int rx_bounce(struct nic_rxq *q, struct rx_frame *f, uint8_t *slot)
{
	struct nic *nic = q->nic;
	struct iovec iov = {slot, q->slot_size};
	struct dest d[PBUF_MAX_FRAGS];
	ssize_t r = link_read(q, &iov, 1);

	if (r < 0)
		return (int)r;
	if (r < WIRE_VNET_LEN || wire_vnet_parse(slot, (size_t)r, &f->vnet) < 0)
		return -EBADMSG;
	uint32_t len = (uint32_t)r - WIRE_VNET_LEN;

	f->pkt = slot + WIRE_VNET_LEN;
	if (!rx_parse(f, len, len))
		return -EBADMSG;
	f->csum_ok = rx_csum_ok(q, f);
	f->split = false;
	if (!f->tcp || f->pay_len == 0) {
		f->pb.nfrags = 0, f->pb.len = 0;
		return 0;
	}
	if (!nic->header_split) {
		f->nic_flags |= RXF_LINEAR_COPY;
		return 0;
	}
	unsigned n = rx_layout(q, f->pay_len, 0, d, PBUF_MAX_FRAGS);
	if (n == 0)
		return -ENOBUFS;
	const uint8_t *src = f->pkt + f->l4_off + f->th.hdr_len;
	for (unsigned i = 0; i < n; i++) {
		if (pool_write(q, q->post_pool, d[i].idx, d[i].off, src, d[i].len) < 0)
			return -EIO;
		src += d[i].len;
	}
	frags_from(q, &f->pb, d, n, 0);
	rx_consume(q, d, n, 0);
	f->split = true;
	q->st.split++;
	return 0;
}

unsigned nic_rx_burst(struct nic_rxq *q)
{
	struct nic *nic = q->nic;
	bool direct = nic->header_split && q->post_pool->host != NULL;
	unsigned n = 0;

	while (n < NIC_BURST) {
		struct rx_frame *f = &q->frames[n];
		uint8_t *slot = q->slots + (size_t)n * q->slot_size;
		int r;

		f->nic_flags = 0;
		f->pb.nfrags = 0;
		f->pb.len = 0;
		if (direct && rx_capacity(q, NIC_HEADROOM) >= nic->max_frame - NIC_MIN_HDR)
			r = rx_direct(q, f, slot);
		else
			r = rx_bounce(q, f, slot);
		if (r == -EAGAIN)
			break;
		q->st.packets++;
		if (r == -ENOBUFS) {
			q->st.drop_nobuf++;
			continue;
		}
		if (r < 0) {
			q->st.bad++;
			continue;
		}
		q->st.bytes += f->pay_len;
		if (!f->split)
			q->st.linear++;
		n++;
	}
	if (q->dma_pending) {
		/* The copy engine's batch: every frag of this burst is in device
		 * memory before phase 2 hands any of them up; the slots it read
		 * are reused only by the next burst. */
		struct dmabuf *dm = q->post_pool->dmabuf;

		q->dma_pending = false;
		if (dm->prov->flush(dm, q->idx) < 0) {
			/* where the bytes went is unknown: the burst is lost on
			 * the wire, and TCP retransmits it */
			q->st.bad += n;
			n = 0;
		}
	}
	return n;
}

bool nic_rx_commit(struct nic_rxq *q, struct rx_frame *f)
{
	if (f->nic_flags & RXF_LINEAR_COPY) {
		/* payload in host memory: into the host pool, reported as linear */
		struct pool *p = q->host_pool;
		const uint8_t *src = f->pkt + f->l4_off + f->th.hdr_len;
		uint32_t left = f->pay_len;

		f->pb.nfrags = 0;
		f->pb.len = 0;
		f->pb.devmem = q->bound != NULL;
		while (left) {
			int64_t idx;
			uint32_t c = DEVMEM_MIN(left, p->buf_size);

			if (f->pb.nfrags == PBUF_MAX_FRAGS || (idx = pool_get(p)) < 0) {
				pbuf_release(&f->pb);
				q->st.drop_nobuf++;
				return false;
			}
			memcpy(pool_buf_ptr(p, (uint32_t)idx), src, c);
			f->pb.frags[f->pb.nfrags++] = (struct frag){p, (uint32_t)idx, 0, c};
			f->pb.len += c;
			src += c;
			left -= c;
		}
		f->nic_flags &= ~RXF_LINEAR_COPY;
		return true;
	}
	for (unsigned i = 0; i < f->pb.nfrags; i++)
		pool_ref(f->pb.frags[i].pool, f->pb.frags[i].idx);
	return true;
}

void nic_rx_refill(struct nic_rxq *q)
{
	struct pool *p = q->post_pool;
	/* enough for a full burst of the largest frames */
	uint32_t want = q->posted_cap;

	for (uint32_t i = 0; i < q->nretired; i++)
		pool_put(p, q->retired[i]);
	q->nretired = 0;
	while (q->posted_count < want) {
		int64_t idx = pool_get(p);
		if (idx < 0)
			break;
		q->posted[(q->posted_head + q->posted_count) % q->posted_cap] = (uint32_t)idx;
		q->posted_count++;
	}
	q->posted_snap = q->posted_count;
	q->st.pool_bufs = p->nbufs;
	q->st.pool_free = p->nfree + q->posted_count;
}

uint32_t nic_rx_space(const struct nic_rxq *q)
{
	/* free and posted buffers, less what packing and headroom waste */
	uint64_t bufs = (uint64_t)q->post_pool->nfree + q->posted_snap;
	uint64_t bytes = bufs * q->nic->buf_size / 8 * 7;
	return bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
}

static void rxq_drop_buffers(struct nic_rxq *q)
{
	struct pool *p = q->post_pool;

	for (uint32_t i = 0; i < q->nretired; i++)
		pool_put(p, q->retired[i]);
	q->nretired = 0;
	while (q->posted_count) {
		pool_put(p, posted_at(q, 0));
		q->posted_head = (q->posted_head + 1) % q->posted_cap;
		q->posted_count--;
	}
	if (q->have_cur)
		pool_put(p, q->cur_idx);
	q->have_cur = false;
}

void nic_rxq_set_pool(struct nic_rxq *q, struct pool *bound, struct devmem_binding *b)
{
	rxq_drop_buffers(q);
	q->bound = bound;
	q->binding = b;
	q->post_pool = bound ? bound : q->host_pool;
	q->st.binding_id = bound ? bound->binding_id : 0;
	if (bound && bound->dmabuf && bound->dmabuf->prov->pin && !q->slots_pin &&
	    bound->dmabuf->prov->pin(q->slots, (size_t)q->slot_size * NIC_BURST) == 0)
		q->slots_pin = bound->dmabuf->prov; /* else its copies read pageable memory */
	nic_rx_refill(q);
}

void nic_rxq_fini(struct nic_rxq *q)
{
	rxq_drop_buffers(q);
}
