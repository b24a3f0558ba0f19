/* SPDX-License-Identifier: MIT */
/*
 * The pair link: two stacks joined in memory, a "wire" with a NIC at each
 * end. Each direction and queue is a bounded ring under a mutex (the
 * sender's threads produce, the receiver's poller consumes) with an eventfd
 * that poll() reports readable while new frames wait.
 *
 * Storage is a byte ring plus a ring of descriptors, both allocated once at
 * creation: a frame takes its own length, not a max-size slot, so an MTU of
 * 9000 or 64 KiB costs no more memory than 1500, and nothing is allocated
 * per frame. Byte positions are 64-bit counters that only grow; a frame
 * never wraps (the tail of the area is skipped instead), so both the DMA
 * copy and the checksum see one contiguous run.
 *
 * Its NIC does checksums in the DMA step, as virtio/Linux offloads define
 * them: on transmit it completes partial checksums (NEEDS_CSUM: sum from
 * csum_start to the end, the sender having seeded the field with the
 * pseudo-header sum); on receive it verifies the IPv4 header checksum and
 * the TCP/UDP/ICMP/ICMPv6 checksum while copying into the reader's buffers,
 * drops bad frames (-EBADMSG, rx_bad_csum) and marks good ones DATA_VALID.
 * Frames it cannot parse are delivered as they are, without a verdict.
 *
 * Faults are applied on transmit from a seeded PRNG. Every frame draws the
 * same number of random values whatever happens to it, so the fault
 * decisions are a function of (seed, frame index) alone, not of timing:
 * same seed, same faults.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "link/link.h"
#include "util/util.h"
#include "wire/wire.h"

#define PAIR_DESCS 4096              /* frames per direction and queue */
#define PAIR_RING_BYTES (8u << 20)   /* data bytes per direction and queue, at least */
#define PAIR_RING_FRAMES 128         /* ... and room for this many max-size frames */
#define PAIR_HOLD_MAX_US 1000        /* a reordered frame waits at most this long */

struct pair_desc {
	uint64_t end;  /* byte position just past the frame (start = end - len) */
	uint64_t due;  /* us, monotonic: not visible before (delay fault) */
	uint32_t len;  /* vnet header + IP packet */
};

struct ring {
	/*
	 * lock protects everything below except the bytes of the head frame
	 * while `reading`: the producer never writes bytes before rpos, and
	 * rpos moves only when the reader pops under the lock, so the reader
	 * may copy them out unlocked.
	 */
	pthread_mutex_t lock;
	struct pair_desc *desc;
	uint32_t head, count;         /* descriptor FIFO */
	uint8_t *data;
	uint64_t size;                /* bytes in data */
	uint64_t wpos, rpos;          /* monotonic byte positions, rpos <= wpos */
	bool reading;                 /* the reader is copying the head frame */
	int efd;
	bool signalled;               /* efd holds a count */
	/* faults, applied on transmit */
	bool faulty;
	struct devmem_pair_faults f;
	uint64_t rng;
	uint8_t *held;                /* one frame held back for reordering */
	uint32_t held_len;
	bool have_held;
	unsigned held_gap;            /* frames still to pass it */
	uint64_t held_due, held_since;
	struct link_stats st;         /* tx side: tx + faults; rx side: rx + bad */
};

struct pair {
	unsigned queues;
	uint32_t max_len;             /* vnet header + mtu */
	struct ring *dir[2];          /* dir[0]: a -> b, dir[1]: b -> a; [queue] */
	pthread_mutex_t lock;         /* refs */
	int refs;
	struct link ends[2];
};

/* ---- PRNG and fault decisions ------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64: small, fast, the same sequence for the same seed */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A uniform double in [0, 1) from the top 53 bits. */
static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

struct faults {
	bool drop, corrupt, dup, reorder;
	uint64_t corrupt_at;  /* random: position in the IP packet (mod its length) */
	uint8_t corrupt_bit;
	unsigned gap;         /* 1..3: frames to pass a held one */
};

/* Draw the decisions for one frame: always the same seven draws. */
static void faults_draw(struct ring *r, struct faults *fd)
{
	memset(fd, 0, sizeof(*fd));
	if (!r->faulty)
		return;
	fd->drop = rng_unit(&r->rng) < r->f.drop;
	fd->corrupt = rng_unit(&r->rng) < r->f.corrupt;
	fd->corrupt_at = rng_next(&r->rng);
	fd->corrupt_bit = (uint8_t)(1u << (rng_next(&r->rng) % 8));
	fd->dup = rng_unit(&r->rng) < r->f.duplicate;
	fd->reorder = rng_unit(&r->rng) < r->f.reorder;
	fd->gap = 1 + (unsigned)(rng_next(&r->rng) % 3);
}

/* ---- ring (all with r->lock held) -------------------------------------- */

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
	/* EAGAIN: already zero; either way the counter is clear now */
	if (read(r->efd, &v, sizeof(v)) == sizeof(v) || errno == EAGAIN)
		r->signalled = false;
}

/* Room for len contiguous bytes: returns where they go, or NULL when the
 * ring is full (descriptors or bytes). Commit with ring_commit. */
static uint8_t *ring_reserve(struct ring *r, uint32_t len, uint64_t *end)
{
	uint64_t start = r->wpos, off = start % r->size;

	if (r->count == PAIR_DESCS)
		return NULL;
	if (off + len > r->size)
		start += r->size - off; /* skip the tail: frames never wrap */
	if (start + len - r->rpos > r->size)
		return NULL;
	*end = start + len;
	return r->data + start % r->size;
}

static void ring_commit(struct ring *r, uint64_t end, uint32_t len, uint64_t due)
{
	struct pair_desc *d = &r->desc[(r->head + r->count) % PAIR_DESCS];

	d->end = end;
	d->len = len;
	d->due = due;
	r->wpos = end;
	r->count++;
	ring_signal(r);
}

/* Copy a whole frame in; false (and tx_full counted) when full. */
static bool ring_push(struct ring *r, const uint8_t *frame, uint32_t len, uint64_t due)
{
	uint64_t end;
	uint8_t *p = ring_reserve(r, len, &end);

	if (!p) {
		r->st.tx_full++;
		return false;
	}
	memcpy(p, frame, len);
	ring_commit(r, end, len, due);
	return true;
}

static void release_held(struct ring *r)
{
	if (!r->have_held)
		return;
	r->have_held = false;
	ring_push(r, r->held, r->held_len, r->held_due);
}

/* ---- checksums ---------------------------------------------------------- */

/* One's-complement add of a 16-bit value with end-around carry. */
static uint32_t sum16(uint32_t sum, uint16_t v)
{
	uint64_t s = (uint64_t)sum + v;

	return (uint32_t)((s & 0xffffffffu) + (s >> 32));
}

/* Add a chunk that starts `odd` bytes into the checksummed range: at an
 * odd offset its bytes sit in the other half of each 16-bit word, and the
 * one's-complement sum is byte-order independent, so its own sum swapped
 * is its contribution (RFC 1071 2(B)). */
static uint32_t sum_chunk(uint32_t sum, const uint8_t *p, size_t n, bool odd)
{
	uint16_t s;

	if (!odd)
		return wire_csum_add(sum, p, n);
	s = (uint16_t)~wire_csum_fold(wire_csum_add(0, p, n));
	return sum16(sum, (uint16_t)(s << 8 | s >> 8));
}

/*
 * Transmit offload (virtio NEEDS_CSUM): sum from csum_start to the end and
 * store the complement at csum_start + csum_offset. A result of 0 is
 * stored as 0xffff, as Linux's skb_checksum_help does (CSUM_MANGLED_0):
 * both mean zero in one's complement, and UDP reserves 0 for "none"
 * (RFC 768). The NIC consumes the request: NEEDS_CSUM and any DATA_VALID
 * the sender set are cleared, so a receiver never sees them from the
 * sender, only the verdict of its own NIC. Offsets that do not fit are
 * ignored: the packet goes as it is and the receiver's check judges it.
 */
static void tx_offload(uint8_t *frame, uint32_t len)
{
	struct wire_vnet v;
	uint8_t *pkt = frame + WIRE_VNET_LEN;
	uint32_t plen = len - WIRE_VNET_LEN;

	if (wire_vnet_parse(frame, len, &v) < 0)
		return;
	if ((v.flags & WIRE_VNET_F_NEEDS_CSUM) &&
	    (uint32_t)v.csum_start + v.csum_offset + 2 <= plen) {
		uint8_t *field = pkt + v.csum_start + v.csum_offset;
		uint16_t c = wire_csum_fold(wire_csum_add(0, pkt + v.csum_start,
							  plen - v.csum_start));
		wire_put16(field, c ? c : 0xffff);
	}
	frame[0] = (uint8_t)(v.flags & ~(WIRE_VNET_F_NEEDS_CSUM | WIRE_VNET_F_DATA_VALID));
}

enum verdict { V_NONE, V_GOOD, V_BAD };

/* What the receive check covers: the L4 range and its starting sum. */
struct rx_check {
	enum verdict v;       /* V_BAD already (IPv4 header), or V_NONE / pending */
	bool judge;           /* verify [l4_start, l4_end) during the copy */
	uint32_t l4_start, l4_end; /* frame offsets */
	uint32_t sum;         /* pseudo-header sum (0 for ICMPv4) */
};

/*
 * Decide from the headers (read from the ring, host memory) what to check.
 * Not judged: non-IP, malformed, fragments, unknown L4, L4 too short to
 * hold its checksum field, UDP over IPv4 with checksum 0 ("no checksum",
 * RFC 768). Bad at once: an IPv4 header whose own checksum is wrong (a NIC
 * checks it too), UDP over IPv6 with checksum 0 (RFC 8200 8.1).
 */
static void rx_classify(const uint8_t *frame, uint32_t len, struct rx_check *c)
{
	const uint8_t *pkt = frame + WIRE_VNET_LEN;
	uint32_t plen, l4off, l4len, csum_at;
	uint8_t proto;
	int r;

	memset(c, 0, sizeof(*c));
	if (len <= WIRE_VNET_LEN)
		return;
	plen = len - WIRE_VNET_LEN;
	if (pkt[0] >> 4 == 4) {
		struct wire_ipv4 ip;

		r = wire_ipv4_parse(pkt, plen, &ip);
		if (r == WIRE_ECSUM) {
			c->v = V_BAD;
			return;
		}
		if (r < 0 || (ip.frag & (WIRE_IPV4_MF | WIRE_IPV4_OFFMASK)))
			return;
		proto = ip.proto;
		l4off = (uint32_t)r;
		l4len = ip.total_len - l4off;
		if (proto == WIRE_PROTO_TCP || proto == WIRE_PROTO_UDP)
			c->sum = wire_pseudo4(ip.src, ip.dst, proto, l4len);
		else if (proto != WIRE_PROTO_ICMP)
			return;
	} else if (pkt[0] >> 4 == 6) {
		struct wire_ipv6 ip;

		r = wire_ipv6_parse(pkt, plen, &ip);
		if (r < 0)
			return;
		proto = ip.proto;
		l4off = (uint32_t)r;
		l4len = WIRE_IPV6_LEN + ip.payload_len - l4off;
		if (proto != WIRE_PROTO_TCP && proto != WIRE_PROTO_UDP &&
		    proto != WIRE_PROTO_ICMPV6)
			return;
		c->sum = wire_pseudo6(ip.src, ip.dst, proto, l4len);
	} else {
		return;
	}
	csum_at = proto == WIRE_PROTO_TCP ? 16 : proto == WIRE_PROTO_UDP ? 6 : 2;
	if (l4len < csum_at + 2)
		return;
	if (proto == WIRE_PROTO_UDP && wire_get16(pkt + l4off + 6) == 0) {
		if (pkt[0] >> 4 == 6)
			c->v = V_BAD;
		return;
	}
	c->judge = true;
	c->l4_start = WIRE_VNET_LEN + l4off;
	c->l4_end = c->l4_start + l4len;
}

/*
 * The DMA: copy the frame into the reader's iovs and, on the way, sum the
 * L4 range as a NIC's receive checksum engine does (one pass, each chunk
 * summed while it is hot). Returns the verdict.
 */
static enum verdict rx_dma(const uint8_t *src, uint32_t len, const struct iovec *iov,
			   int iovcnt, const struct rx_check *c)
{
	uint32_t pos = 0, sum = c->sum;
	uint8_t *first = NULL;

	for (int i = 0; i < iovcnt && pos < len; i++) {
		uint32_t n = (uint32_t)DEVMEM_MIN(iov[i].iov_len, (size_t)(len - pos));
		uint8_t *dst = iov[i].iov_base;

		if (n == 0)
			continue;
		if (!first)
			first = dst;
		memcpy(dst, src + pos, n);
		if (c->judge) {
			uint32_t a = DEVMEM_MAX(pos, c->l4_start);
			uint32_t b = DEVMEM_MIN(pos + n, c->l4_end);

			if (a < b)
				sum = sum_chunk(sum, src + a, b - a, (a - c->l4_start) & 1);
		}
		pos += n;
	}
	if (c->v == V_BAD)
		return V_BAD;
	if (!c->judge)
		return V_NONE;
	if (wire_csum_fold(sum) != 0)
		return V_BAD;
	/* flags are the frame's first byte, in the reader's first buffer */
	if (first && len >= WIRE_VNET_LEN)
		first[0] |= WIRE_VNET_F_DATA_VALID;
	return V_GOOD;
}

/* ---- link ops ----------------------------------------------------------- */

static int end_side(const struct link *l)
{
	const struct pair *p = l->priv;

	return l == &p->ends[0] ? 0 : 1;
}

static void gather(uint8_t *dst, const struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++) {
		memcpy(dst, iov[i].iov_base, iov[i].iov_len);
		dst += iov[i].iov_len;
	}
}

static int pair_tx(struct link *l, unsigned q, const struct iovec *iov, int iovcnt)
{
	struct pair *p = l->priv;
	struct ring *r;
	struct faults fd;
	uint64_t now, due, end = 0;
	uint8_t *dst;
	size_t len = 0;
	bool hold;

	if (q >= p->queues || iovcnt < 0)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len > p->max_len)
		return -EMSGSIZE;
	r = &p->dir[end_side(l)][q];
	now = devmem_now_us();

	/*
	 * The whole transmit runs under the ring lock: the sender's threads
	 * share the ring and the fault state, and the PRNG must see frames in
	 * the order they enter the ring for a run to be reproducible. The
	 * copy in is at most one MTU.
	 */
	pthread_mutex_lock(&r->lock);
	r->st.tx_frames++;
	faults_draw(r, &fd);
	if (fd.drop) {
		r->st.dropped++;
		goto out;
	}
	due = r->faulty && r->f.delay_us ? now + r->f.delay_us : 0;
	hold = fd.reorder && !r->have_held;
	if (hold) {
		dst = r->held;
	} else {
		dst = ring_reserve(r, (uint32_t)len, &end);
		if (!dst) {
			/* like a wire: the frame is lost, the sender is not told */
			r->st.tx_full++;
			goto out;
		}
	}
	gather(dst, iov, iovcnt);
	if (len >= WIRE_VNET_LEN)
		tx_offload(dst, (uint32_t)len);
	if (fd.corrupt && len > WIRE_VNET_LEN) {
		/* after the checksum: on the wire, inside the IP packet */
		dst[WIRE_VNET_LEN + fd.corrupt_at % (len - WIRE_VNET_LEN)] ^= fd.corrupt_bit;
		r->st.corrupted++;
	}
	if (due)
		r->st.delayed++;
	if (hold) {
		r->held_len = (uint32_t)len;
		r->held_due = due;
		r->held_gap = fd.gap;
		r->held_since = now;
		r->have_held = true;
		r->st.reordered++;
		goto out;
	}
	ring_commit(r, end, (uint32_t)len, due);
	if (fd.dup) {
		/* counted when injected, so that delivered + tx_full always
		 * equals tx_frames + duplicated (less drops and in flight);
		 * the first copy is committed: reserving cannot move it */
		r->st.duplicated++;
		ring_push(r, dst, (uint32_t)len, due);
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
	struct pair_desc d;
	struct rx_check c;
	const uint8_t *src;
	uint64_t now = devmem_now_us();
	size_t cap = 0;
	enum verdict v = V_NONE;
	ssize_t ret;

	if (q >= p->queues || iovcnt < 0)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++)
		cap += iov[i].iov_len;
	r = &p->dir[1 - end_side(l)][q];

	pthread_mutex_lock(&r->lock);
	if (r->have_held && now - r->held_since >= PAIR_HOLD_MAX_US)
		release_held(r); /* never hold forever */
	if (r->count == 0 || r->reading || r->desc[r->head].due > now) {
		/*
		 * Nothing deliverable. Clear the eventfd so the poller sleeps:
		 * new frames set it again, a delayed or held one is announced
		 * by rx_due_us. (`reading`: a second reader on one queue breaks
		 * the link contract; make it wait rather than deliver twice.)
		 */
		if (!r->reading)
			ring_unsignal(r);
		pthread_mutex_unlock(&r->lock);
		return -EAGAIN;
	}
	d = r->desc[r->head];
	src = r->data + (d.end - d.len) % r->size;
	r->reading = true;
	pthread_mutex_unlock(&r->lock);

	/*
	 * Copy out without the lock: the producer saw these bytes committed
	 * (the mutex orders its writes before our reads) and will not reuse
	 * them before rpos passes them, which happens only below, after the
	 * copy, under the lock again (ordering our reads before its writes).
	 */
	if (d.len > cap) {
		ret = -EMSGSIZE;
	} else {
		rx_classify(src, d.len, &c);
		v = rx_dma(src, d.len, iov, iovcnt, &c);
		ret = v == V_BAD ? -EBADMSG : (ssize_t)d.len;
	}

	pthread_mutex_lock(&r->lock);
	r->reading = false;
	r->rpos = d.end;
	r->head = (r->head + 1) % PAIR_DESCS;
	r->count--;
	if (r->count == 0)
		ring_unsignal(r);
	if (v == V_BAD)
		r->st.rx_bad_csum++;
	else if (ret >= 0)
		r->st.rx_frames++;
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static int pair_rx_fd(struct link *l, unsigned q)
{
	struct pair *p = l->priv;

	return q < p->queues ? p->dir[1 - end_side(l)][q].efd : -1;
}

static int64_t until(uint64_t t, uint64_t now)
{
	return t > now ? (int64_t)(t - now) : 0;
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
	pthread_mutex_lock(&r->lock); /* held and head state change under it */
	if (r->have_held)
		due = until(r->held_since + PAIR_HOLD_MAX_US, now);
	if (r->count) {
		int64_t d = until(r->desc[r->head].due, now);

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

		/* counters change under the ring locks: take them one at a time */
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
	free(r->desc);
	free(r->data);
	free(r->held);
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

/* Each end is destroyed by its own stack; the memory goes with the last. */
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

static int ring_init(struct ring *r, uint32_t max_len, const struct devmem_pair_faults *f)
{
	r->size = DEVMEM_MAX((uint64_t)PAIR_RING_BYTES, (uint64_t)PAIR_RING_FRAMES * max_len);
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->desc = calloc(PAIR_DESCS, sizeof(*r->desc));
	/* large: malloc maps it, and pages are touched only as frames use them */
	r->data = malloc(r->size);
	r->held = malloc(max_len);
	if (r->efd < 0 || !r->desc || !r->data || !r->held)
		return -ENOMEM;
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
	int err = -ENOMEM;

	if (queues == 0 || queues > 64 || mtu < 576 || mtu > 65535 || !a || !b)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->queues = queues; /* pair_free walks this many rings per direction */
	p->max_len = WIRE_VNET_LEN + mtu;
	p->refs = 2;
	for (int d = 0; d < 2; d++) {
		p->dir[d] = calloc(queues, sizeof(struct ring));
		if (!p->dir[d])
			goto fail;
		/* every ring finishable before any can fail */
		for (unsigned q = 0; q < queues; q++) {
			pthread_mutex_init(&p->dir[d][q].lock, NULL);
			p->dir[d][q].efd = -1;
		}
		for (unsigned q = 0; q < queues; q++)
			if ((err = ring_init(&p->dir[d][q], p->max_len,
					     d == 0 ? a_to_b : b_to_a)) < 0)
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
	return err;
}
