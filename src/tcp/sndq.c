/* SPDX-License-Identifier: MIT */
/*
 * sndq.c: the send queue. Everything queued from snd_una on is a list of
 * extents: bytes copied into the socket's ring (send()), caller memory held
 * by reference (MSG_ZEROCOPY), or ranges of a TX binding's dmabuf. A segment
 * is gathered from up to TCP_TXP_MAX pieces, so retransmissions come from the
 * same memory as the first transmission and payload is never copied by the
 * core. Zero-copy send calls leave a mark at their end; when the cumulative
 * ACK passes a mark, the call is complete (the memory may be reused).
 *
 * Extents and marks live in power-of-two rings indexed by absolute positions
 * that only grow; a cursor remembers where the last gather ended, so sending
 * new data does not walk the queue from its head.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_int.h"

#define SQ_EXT_MIN 64u
#define SQ_EXT_MAX (1u << 16) /* beyond this the queue counts as full */
#define SQ_ZC_MIN 64u

static inline struct tcp_txp *ext_at(const struct tcp_sndq *q, uint32_t pos)
{
	return &q->ext[pos & (q->cap - 1)];
}

/* Grow a ring of elements of size sz to newcap, keeping absolute positions. */
static void *ring_grow(void *old, uint32_t oldcap, uint32_t newcap, size_t sz, uint32_t head,
		       uint32_t n)
{
	uint8_t *nw = malloc((size_t)newcap * sz);

	if (!nw)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t pos = head + i;
		memcpy(nw + (size_t)(pos & (newcap - 1)) * sz,
		       (uint8_t *)old + (size_t)(pos & (oldcap - 1)) * sz, sz);
	}
	free(old);
	return nw;
}

/* Sequence number of the first byte of the head extent. */
static inline uint32_t head_seq(const struct tcp_conn *c)
{
	return c->snd_una - c->sq.skip;
}

bool tcp_sndq_room(const struct tcp_conn *c)
{
	return c->sq.n < SQ_EXT_MAX;
}

int tcp_sndq_add(struct tcp_conn *c, const struct tcp_txp *p)
{
	struct tcp_sndq *q = &c->sq;

	if (q->n) {
		/* merge with the last extent when the bytes continue it */
		struct tcp_txp *l = ext_at(q, q->head + q->n - 1);
		bool cont = l->kind == p->kind && l->mem == p->mem && l->owner == p->owner &&
			    (uint64_t)l->len + p->len <= UINT32_MAX &&
			    (l->mem ? l->off + l->len == p->off : true) &&
			    (l->ptr ? l->ptr + l->len == p->ptr : !p->ptr);
		if (cont) {
			if (q->cur_pos == q->head + q->n) { /* cursor at the end: back onto l */
				q->cur_pos--;
				q->cur_seq -= l->len;
			}
			l->len += p->len;
			return 0;
		}
	}
	if (q->n == q->cap) {
		uint32_t nc = q->cap ? q->cap * 2 : SQ_EXT_MIN;
		if (nc > SQ_EXT_MAX)
			return -ENOBUFS;
		void *e = ring_grow(q->ext, q->cap, nc, sizeof(*q->ext), q->head, q->n);
		if (!e)
			return -ENOMEM;
		q->ext = e;
		q->cap = nc;
	}
	if (q->n == 0) {
		q->skip = 0;
		q->cur_pos = q->head;
		q->cur_seq = c->snd_una + c->snd_len;
	}
	*ext_at(q, q->head + q->n) = *p;
	q->n++;
	return 0;
}

uint32_t tcp_sndq_gather(struct tcp_conn *c, uint32_t seq, uint32_t len, struct tcp_txp *out,
			 int *nout)
{
	struct tcp_sndq *q = &c->sq;
	uint32_t pos = q->head, pseq = head_seq(c), got = 0;
	int n = 0;

	/* start from the cursor when seq lies at or after it */
	if (seq_le(q->cur_seq, seq) && q->cur_pos - q->head <= q->n &&
	    seq_ge(q->cur_seq, pseq)) {
		pos = q->cur_pos;
		pseq = q->cur_seq;
	}
	while (pos - q->head < q->n && seq_ge(seq, pseq + ext_at(q, pos)->len)) {
		pseq += ext_at(q, pos)->len;
		pos++;
	}
	while (got < len && n < TCP_TXP_MAX && pos - q->head < q->n) {
		const struct tcp_txp *e = ext_at(q, pos);
		uint32_t in = seq + got - pseq; /* offset inside e */
		uint32_t take = DEVMEM_MIN(e->len - in, len - got);

		out[n] = *e;
		out[n].len = take;
		if (e->ptr)
			out[n].ptr = e->ptr + in;
		out[n].off = e->off + in;
		n++;
		got += take;
		if (in + take == e->len) {
			pseq += e->len;
			pos++;
		}
	}
	q->cur_pos = pos;
	q->cur_seq = pseq;
	*nout = n;
	return got;
}

/* Give the ring bytes and the owners' bytes of a consumed extent part back. */
static void release_part(struct tcp_conn *c, const struct tcp_txp *e, uint32_t bytes)
{
	struct tcp_sndq *q = &c->sq;

	if (e->kind == TCP_TXP_COPY) {
		q->ring_head = (q->ring_head + bytes) % c->cfg.sndbuf;
		q->ring_len -= bytes;
	} else if (e->owner && c->env->tx_release) {
		c->env->tx_release(c->ctx, e->owner, bytes);
	}
}

void tcp_sndq_ack(struct tcp_conn *c, uint32_t bytes)
{
	struct tcp_sndq *q = &c->sq;

	/* snd_una has moved by bytes already: the head starts at the old una */
	uint32_t old_una = c->snd_una - bytes;
	while (bytes && q->n) {
		struct tcp_txp *e = ext_at(q, q->head);
		uint32_t left = e->len - q->skip;
		uint32_t take = DEVMEM_MIN(left, bytes);

		release_part(c, e, take);
		bytes -= take;
		old_una += take;
		if (take == left) {
			q->head++;
			q->n--;
			q->skip = 0;
		} else {
			q->skip += take;
		}
	}
	if (q->cur_pos - q->head > q->n || !q->n) { /* the cursor's extent is gone */
		q->cur_pos = q->head;
		q->cur_seq = head_seq(c);
	}
}

static void zc_report(struct tcp_conn *c, uint32_t lo, uint32_t hi)
{
	c->st.zc_completions += hi - lo + 1;
	if (c->env->zc_done)
		c->env->zc_done(c->ctx, c, lo, hi);
	tcp_ev(c, TCP_EV_ZC);
}

void tcp_sndq_complete(struct tcp_conn *c, bool all)
{
	struct tcp_sndq *q = &c->sq;
	uint32_t lo = 0, hi = 0;
	bool have = false;

	while (q->zc_n) {
		const struct tcp_zcmark *m = &q->zc[q->zc_head & (q->zc_cap - 1)];
		if (!all && seq_gt(m->end_seq, c->snd_una))
			break;
		if (!have) {
			lo = m->id;
			have = true;
		}
		hi = m->id;
		q->zc_head++;
		q->zc_n--;
	}
	if (have)
		zc_report(c, lo, hi);
}

uint32_t tcp_zc_mark(struct tcp_conn *c)
{
	struct tcp_sndq *q = &c->sq;
	uint32_t id = q->zc_next++;
	uint32_t end = tcp_data_end(c);

	if (seq_le(end, c->snd_una) && !q->zc_n) {
		zc_report(c, id, id); /* all of it was acknowledged already */
		tcp_ev_flush(c);
		return id;
	}
	if (q->zc_n == q->zc_cap) {
		uint32_t nc = q->zc_cap ? q->zc_cap * 2 : SQ_ZC_MIN;
		void *z = ring_grow(q->zc, q->zc_cap, nc, sizeof(*q->zc), q->zc_head, q->zc_n);
		if (!z) {
			/* cannot track it: complete at once rather than never */
			zc_report(c, id, id);
			tcp_ev_flush(c);
			return id;
		}
		q->zc = z;
		q->zc_cap = nc;
	}
	q->zc[(q->zc_head + q->zc_n) & (q->zc_cap - 1)] = (struct tcp_zcmark){end, id};
	q->zc_n++;
	return id;
}

void tcp_sndq_free(struct tcp_conn *c)
{
	struct tcp_sndq *q = &c->sq;

	while (q->n) {
		struct tcp_txp *e = ext_at(q, q->head);
		release_part(c, e, e->len - q->skip);
		q->skip = 0;
		q->head++;
		q->n--;
	}
	c->snd_len = 0;
	/* nothing will be sent again: every call is complete */
	tcp_sndq_complete(c, true);
	free(q->ext);
	free(q->ring);
	free(q->zc);
	q->ext = NULL;
	q->ring = NULL;
	q->zc = NULL;
	q->cap = q->zc_cap = 0;
	q->ring_head = q->ring_len = 0;
}
