/* SPDX-License-Identifier: MIT */
/*
 * The pair link: two stacks joined in memory. Each direction and queue is a
 * bounded ring of preallocated frame slots under a mutex (the sender's
 * threads produce, the receiver's poller consumes) with an eventfd that is
 * readable while the ring holds frames.
 *
 * Its NIC does checksums in the DMA step: on transmit it completes partial
 * checksums (NEEDS_CSUM), on receive it verifies TCP/UDP/ICMP checksums
 * and drops bad frames (-EBADMSG, counted), marking good ones DATA_VALID.
 * Faults are injected on transmit from a seeded PRNG, so a run is
 * reproducible: drop, corrupt (after the checksum), duplicate, reorder,
 * delay.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "link/link.h"
#include "util/util.h"
#include "wire/wire.h"

#define PAIR_SLOTS 2048
#define PAIR_HOLD_MAX_US 1000 /* a reordered frame waits at most this long */

struct slot {
	uint32_t len;
	uint64_t due; /* us: not visible before */
	uint8_t *data;
};

struct ring {
	pthread_mutex_t lock;
	struct slot *slots;
	uint32_t head, count;
	int efd;
	bool signalled;
	/* faults, applied on transmit */
	bool faulty;
	struct devmem_pair_faults f;
	uint64_t rng;
	struct slot held;     /* a frame held back for reordering */
	bool have_held;
	unsigned held_gap;    /* frames still to pass it */
	uint64_t held_since;
	struct link_stats st; /* tx-side faults; rx-side counts */
};

struct pair {
	unsigned queues;
	uint32_t slot_size;
	struct ring *dir[2]; /* dir[0]: a -> b, dir[1]: b -> a; one ring per queue */
	int refs;
	pthread_mutex_t lock;
	struct link ends[2];
};

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64: small, fast, and the same sequence for the same seed */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool chance(struct ring *r, double p)
{
	if (p <= 0)
		return false;
	return (double)(rng_next(&r->rng) >> 11) * 0x1.0p-53 < p;
}

static int end_side(const struct link *l)
{
	const struct pair *p = l->priv;
	return l == &p->ends[0] ? 0 : 1;
}

static void ring_signal(struct ring *r)
{
	uint64_t one = 1;

	if (r->signalled)
		return;
	if (write(r->efd, &one, sizeof(one)) == sizeof(one))
		r->signalled = true;
}

static void ring_unsignal(struct ring *r)
{
	uint64_t v;

	if (!r->signalled)
		return;
	if (read(r->efd, &v, sizeof(v)) == sizeof(v) || errno == EAGAIN)
		r->signalled = false;
}

/* Append a frame to the ring (lock held). */
static void ring_push(struct ring *r, const uint8_t *data, uint32_t len, uint64_t due)
{
	struct slot *s;

	if (r->count == PAIR_SLOTS) {
		r->st.tx_full++;
		return;
	}
	s = &r->slots[(r->head + r->count) % PAIR_SLOTS];
	memcpy(s->data, data, len);
	s->len = len;
	s->due = due;
	r->count++;
	ring_signal(r);
}

static void release_held(struct ring *r)
{
	if (!r->have_held)
		return;
	ring_push(r, r->held.data, r->held.len, r->held.due);
	r->have_held = false;
}

/* Complete a partial checksum as a NIC does: sum from csum_start to the
 * end, store the complement at csum_start + csum_offset. */
static void finish_csum(uint8_t *frame, uint32_t len)
{
	struct wire_vnet v;
	uint8_t *pkt = frame + WIRE_VNET_LEN;
	uint32_t plen = len - WIRE_VNET_LEN;

	if (wire_vnet_parse(frame, len, &v) < 0 || !(v.flags & WIRE_VNET_F_NEEDS_CSUM))
		return;
	if ((uint32_t)v.csum_start + v.csum_offset + 2 > plen)
		return;
	uint16_t c = wire_csum_fold(wire_csum_add(0, pkt + v.csum_start, plen - v.csum_start));
	wire_put16(pkt + v.csum_start + v.csum_offset, c);
	v.flags &= (uint8_t)~WIRE_VNET_F_NEEDS_CSUM;
	wire_vnet_emit(&v, frame);
}

/* Receive-side check: true when the L4 checksum is right. Frames we cannot
 * parse are not judged (*judged = false): the stack's parser drops them. */
static bool verify_csum(const uint8_t *pkt, uint32_t len, bool *judged)
{
	uint8_t proto;
	uint32_t l4off, l4len, sum = 0;

	*judged = false;
	if (len < 1)
		return false;
	if ((pkt[0] >> 4) == 4) {
		struct wire_ipv4 ip;
		int r = wire_ipv4_parse(pkt, len, &ip);
		if (r < 0 || (ip.frag & (WIRE_IPV4_MF | WIRE_IPV4_OFFMASK)))
			return false;
		proto = ip.proto;
		l4off = (uint32_t)r;
		l4len = ip.total_len - l4off;
		if (proto != WIRE_PROTO_ICMP)
			sum = wire_pseudo4(ip.src, ip.dst, proto, l4len);
	} else if ((pkt[0] >> 4) == 6) {
		struct wire_ipv6 ip;
		int r = wire_ipv6_parse(pkt, len, &ip);
		if (r < 0)
			return false;
		proto = ip.proto;
		l4off = (uint32_t)r;
		l4len = WIRE_IPV6_LEN + ip.payload_len - l4off;
		sum = wire_pseudo6(ip.src, ip.dst, proto, l4len);
	} else {
		return false;
	}
	if (proto != WIRE_PROTO_TCP && proto != WIRE_PROTO_UDP && proto != WIRE_PROTO_ICMP &&
	    proto != WIRE_PROTO_ICMPV6)
		return false;
	*judged = true;
	return wire_csum_fold(wire_csum_add(sum, pkt + l4off, l4len)) == 0;
}

static int pair_tx(struct link *l, unsigned q, const struct iovec *iov, int iovcnt)
{
	struct pair *p = l->priv;
	struct ring *r;
	uint8_t *buf;
	uint32_t len = 0;
	uint64_t now = devmem_now_us();

	if (q >= p->queues)
		return -EINVAL;
	r = &p->dir[end_side(l)][q];
	pthread_mutex_lock(&r->lock);
	r->st.tx_frames++;
	/* gather into the held slot's spare buffer: the frame is built once */
	buf = r->slots[PAIR_SLOTS].data;
	for (int i = 0; i < iovcnt; i++) {
		if (len + iov[i].iov_len > p->slot_size) {
			pthread_mutex_unlock(&r->lock);
			return -EMSGSIZE;
		}
		memcpy(buf + len, iov[i].iov_base, iov[i].iov_len);
		len += (uint32_t)iov[i].iov_len;
	}
	if (len >= WIRE_VNET_LEN)
		finish_csum(buf, len);
	if (r->faulty) {
		if (chance(r, r->f.drop)) {
			r->st.dropped++;
			goto out;
		}
		if (len > WIRE_VNET_LEN && chance(r, r->f.corrupt)) {
			uint32_t at = WIRE_VNET_LEN + (uint32_t)(rng_next(&r->rng) % (len - WIRE_VNET_LEN));
			buf[at] ^= (uint8_t)(1u << (rng_next(&r->rng) % 8));
			r->st.corrupted++;
		}
	}
	uint64_t due = r->faulty && r->f.delay_us ? now + r->f.delay_us : 0;
	if (due)
		r->st.delayed++;
	if (r->faulty && !r->have_held && chance(r, r->f.reorder)) {
		memcpy(r->held.data, buf, len);
		r->held.len = len;
		r->held.due = due;
		r->have_held = true;
		r->held_gap = 1 + (unsigned)(rng_next(&r->rng) % 3);
		r->held_since = now;
		r->st.reordered++;
		goto out;
	}
	ring_push(r, buf, len, due);
	if (r->faulty && chance(r, r->f.duplicate)) {
		ring_push(r, buf, len, due);
		r->st.duplicated++;
	}
	if (r->have_held && --r->held_gap == 0)
		release_held(r);
out:
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static ssize_t pair_rx(struct link *l, unsigned q, const struct iovec *iov, int iovcnt)
{
	struct pair *p = l->priv;
	struct ring *r;
	struct slot *s;
	uint64_t now = devmem_now_us();
	size_t cap = 0;
	ssize_t ret;

	if (q >= p->queues)
		return -EINVAL;
	r = &p->dir[1 - end_side(l)][q];
	pthread_mutex_lock(&r->lock);
	if (r->have_held && now - r->held_since >= PAIR_HOLD_MAX_US)
		release_held(r);
	if (r->count == 0 || r->slots[r->head].due > now) {
		/* nothing deliverable: held or delayed frames wake the poller
		 * through rx_due_us, new frames through the eventfd */
		ring_unsignal(r);
		pthread_mutex_unlock(&r->lock);
		return -EAGAIN;
	}
	s = &r->slots[r->head];
	r->head = (r->head + 1) % PAIR_SLOTS;
	r->count--;
	if (r->count == 0)
		ring_unsignal(r);
	for (int i = 0; i < iovcnt; i++)
		cap += iov[i].iov_len;
	if (s->len > cap) {
		ret = -EMSGSIZE;
		goto out;
	}
	if (s->len >= WIRE_VNET_LEN) {
		bool judged;
		bool ok = verify_csum(s->data + WIRE_VNET_LEN, s->len - WIRE_VNET_LEN, &judged);
		if (judged && !ok) {
			r->st.rx_bad_csum++;
			ret = -EBADMSG;
			goto out;
		}
		if (judged)
			s->data[0] |= WIRE_VNET_F_DATA_VALID; /* flags is the first byte */
	}
	/* the copy into the reader's buffers is this NIC's DMA */
	size_t done = 0;
	for (int i = 0; i < iovcnt && done < s->len; i++) {
		size_t c = DEVMEM_MIN(iov[i].iov_len, s->len - done);
		memcpy(iov[i].iov_base, s->data + done, c);
		done += c;
	}
	r->st.rx_frames++;
	ret = s->len;
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static int pair_rx_fd(struct link *l, unsigned q)
{
	struct pair *p = l->priv;
	return q < p->queues ? p->dir[1 - end_side(l)][q].efd : -1;
}

static int64_t pair_rx_due_us(struct link *l, unsigned q)
{
	struct pair *p = l->priv;
	struct ring *r;
	uint64_t now = devmem_now_us();
	int64_t due = -1;

	if (q >= p->queues)
		return -1;
	r = &p->dir[1 - end_side(l)][q];
	pthread_mutex_lock(&r->lock);
	if (r->have_held) {
		uint64_t t = r->held_since + PAIR_HOLD_MAX_US;
		due = t > now ? (int64_t)(t - now) : 0;
	}
	if (r->count) {
		uint64_t t = r->slots[r->head].due;
		int64_t d = t > now ? (int64_t)(t - now) : 0;
		if (due < 0 || d < due)
			due = d;
	}
	pthread_mutex_unlock(&r->lock);
	return due;
}

static void pair_stats(struct link *l, struct link_stats *st)
{
	struct pair *p = l->priv;
	int side = end_side(l);

	memset(st, 0, sizeof(*st));
	for (unsigned q = 0; q < p->queues; q++) {
		struct ring *out = &p->dir[side][q], *in = &p->dir[1 - side][q];
		pthread_mutex_lock(&out->lock);
		st->tx_frames += out->st.tx_frames;
		st->dropped += out->st.dropped;
		st->duplicated += out->st.duplicated;
		st->reordered += out->st.reordered;
		st->corrupted += out->st.corrupted;
		st->delayed += out->st.delayed;
		st->tx_full += out->st.tx_full;
		pthread_mutex_unlock(&out->lock);
		pthread_mutex_lock(&in->lock);
		st->rx_frames += in->st.rx_frames;
		st->rx_bad_csum += in->st.rx_bad_csum;
		pthread_mutex_unlock(&in->lock);
	}
}

static void ring_fini(struct ring *r)
{
	if (r->slots) {
		free(r->slots[0].data);
		free(r->slots);
	}
	if (r->efd >= 0)
		close(r->efd);
	pthread_mutex_destroy(&r->lock);
}

static void pair_free(struct pair *p)
{
	for (int d = 0; d < 2; d++) {
		if (!p->dir[d])
			continue;
		for (unsigned q = 0; q < p->queues; q++)
			ring_fini(&p->dir[d][q]);
		free(p->dir[d]);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void pair_destroy(struct link *l)
{
	struct pair *p = l->priv;
	int left;

	pthread_mutex_lock(&p->lock);
	left = --p->refs;
	pthread_mutex_unlock(&p->lock);
	if (left == 0)
		pair_free(p);
}

static const struct link_ops pair_ops = {
	.rx = pair_rx,
	.rx_fd = pair_rx_fd,
	.rx_due_us = pair_rx_due_us,
	.tx = pair_tx,
	.stats = pair_stats,
	.destroy = pair_destroy,
};

static int ring_init(struct ring *r, uint32_t slot_size, const struct devmem_pair_faults *f)
{
	uint8_t *mem;

	pthread_mutex_init(&r->lock, NULL);
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* PAIR_SLOTS ring slots, one gather buffer, one held frame: one allocation */
	r->slots = calloc(PAIR_SLOTS + 1, sizeof(*r->slots));
	mem = malloc((size_t)(PAIR_SLOTS + 2) * slot_size);
	if (r->efd < 0 || !r->slots || !mem) {
		free(mem);
		return -ENOMEM;
	}
	for (unsigned i = 0; i <= PAIR_SLOTS; i++)
		r->slots[i].data = mem + (size_t)i * slot_size;
	r->held.data = mem + (size_t)(PAIR_SLOTS + 1) * slot_size;
	if (f) {
		r->faulty = true;
		r->f = *f;
		r->rng = f->seed;
	}
	return 0;
}

int link_pair_create(unsigned queues, uint32_t mtu, const struct devmem_pair_faults *a_to_b,
		     const struct devmem_pair_faults *b_to_a, struct link **a, struct link **b)
{
	struct pair *p;

	if (queues == 0 || queues > 64 || mtu < 576 || mtu > 65535)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->queues = queues;
	p->slot_size = WIRE_VNET_LEN + mtu;
	p->refs = 2;
	for (int d = 0; d < 2; d++) {
		p->dir[d] = calloc(queues, sizeof(struct ring));
		if (!p->dir[d])
			goto fail;
		for (unsigned q = 0; q < queues; q++)
			p->dir[d][q].efd = -1;
		for (unsigned q = 0; q < queues; q++)
			if (ring_init(&p->dir[d][q], p->slot_size, d == 0 ? a_to_b : b_to_a) < 0)
				goto fail;
	}
	for (int e = 0; e < 2; e++) {
		struct link *l = &p->ends[e];
		l->ops = &pair_ops;
		l->priv = p;
		l->caps = (struct link_caps){.queues = queues, .mtu = mtu, .max_frame = mtu,
					     .rx_gso = false, .tx_gso = false, .tx_csum = true};
		snprintf(l->name, sizeof(l->name), "pair%c", e ? 'b' : 'a');
	}
	*a = &p->ends[0];
	*b = &p->ends[1];
	return 0;
fail:
	pair_free(p);
	return -ENOMEM;
}
