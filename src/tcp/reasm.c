/* SPDX-License-Identifier: MIT */
/*
 * reasm.c: the receive queues. In-order payload goes to rcvq; segments
 * above rcv_nxt wait in the out-of-order list (sorted by seq, disjoint,
 * adjacent segments coalesced while their frags fit in one pbuf) until
 * rcv_nxt reaches them. Overlaps are resolved by trimming frag references
 * (pbuf_trim_front/back) or dropping covered segments: payload bytes are
 * never read. Also the SACK blocks we report (RFC 2018 4).
 */
#include <string.h>

#include "tcp/tcp_int.h"

static inline uint32_t seg_end(const struct rxseg *s) { return s->seq + s->pb.len; }

static void seg_free(struct tcp_conn *c, struct rxseg *s)
{
	c->env->seg_free(c->ctx, s);
}

void tcp_rcvq_append(struct tcp_conn *c, struct rxseg *s)
{
	uint32_t len = s->pb.len;
	s->next = NULL;
	if (c->rcvq_tail)
		c->rcvq_tail->next = s;
	else
		c->rcvq_head = s;
	c->rcvq_tail = s;
	c->rcvq_bytes += len;
	c->rcv_nxt += len;
	c->st.bytes_in += len;
}

/* Move b's frags to the end of a (a and b adjacent in sequence space). */
static bool pb_join(struct pbuf *a, struct pbuf *b)
{
	if (a->nfrags + b->nfrags > PBUF_MAX_FRAGS || a->devmem != b->devmem)
		return false;
	memcpy(&a->frags[a->nfrags], b->frags, b->nfrags * sizeof(b->frags[0]));
	a->nfrags = (uint8_t)(a->nfrags + b->nfrags);
	a->len += b->len;
	b->nfrags = 0;
	b->len = 0;
	return true;
}

/* Coalesce s with its successor when adjacent and the frags fit. */
static void try_join_next(struct tcp_conn *c, struct rxseg *s)
{
	struct rxseg *n = s->next;
	if (!n || seg_end(s) != n->seq)
		return;
	if (!pb_join(&s->pb, &n->pb))
		return;
	s->next = n->next;
	c->ooo_count--;
	seg_free(c, n);
}

void tcp_ooo_insert(struct tcp_conn *c, struct rxseg *s, uint64_t now)
{
	(void)now;
	uint32_t start = s->seq, end = s->seq + s->pb.len;
	uint32_t first_seq = start;

	/* Bound the queue by bytes up front; trimming below only shrinks. */
	if (c->ooo_bytes + s->pb.len > c->cfg.rcvbuf) {
		c->st.ooo_dropped++;
		seg_free(c, s);
		return;
	}

	struct rxseg *prev = NULL, *cur = c->ooo;
	while (cur) {
		uint32_t cend = seg_end(cur);
		if (seq_le(cend, start)) {
			prev = cur;
			cur = cur->next;
			continue;
		}
		if (seq_ge(cur->seq, end))
			break;
		if (seq_le(cur->seq, start) && seq_ge(cend, end)) {
			/* Nothing new: a duplicate of held data. */
			c->st.dup_segs++;
			seg_free(c, s);
			tcp_sack_refresh(c, true, first_seq);
			return;
		}
		if (seq_lt(cur->seq, start)) {
			/* cur holds our front: keep it, trim ours. */
			pbuf_trim_front(&s->pb, cend - start);
			start = cend;
			s->seq = start;
			prev = cur;
			cur = cur->next;
			continue;
		}
		if (seq_le(cend, end)) {
			/* cur lies inside the new segment: the new one replaces it. */
			struct rxseg *n = cur->next;
			if (prev)
				prev->next = n;
			else
				c->ooo = n;
			c->ooo_count--;
			c->ooo_bytes -= cur->pb.len;
			seg_free(c, cur);
			cur = n;
			continue;
		}
		/* cur overlaps our back: trim ours. */
		pbuf_trim_back(&s->pb, end - cur->seq);
		end = cur->seq;
		break;
	}

	uint32_t len = end - start;
	if (prev && seg_end(prev) == start && pb_join(&prev->pb, &s->pb)) {
		c->ooo_bytes += len;
		seg_free(c, s);
		try_join_next(c, prev);
	} else if (c->ooo_count >= TCP_OOO_MAX) {
		/* Only reached when nothing was removed above: no held data is lost. */
		c->st.ooo_dropped++;
		seg_free(c, s);
		return;
	} else {
		s->next = cur;
		if (prev)
			prev->next = s;
		else
			c->ooo = s;
		c->ooo_count++;
		c->ooo_bytes += len;
		try_join_next(c, s);
	}
	tcp_sack_refresh(c, true, first_seq);
}

uint32_t tcp_ooo_pull(struct tcp_conn *c)
{
	uint32_t moved = 0;
	while (c->ooo && seq_le(c->ooo->seq, c->rcv_nxt)) {
		struct rxseg *s = c->ooo;
		c->ooo = s->next;
		c->ooo_count--;
		c->ooo_bytes -= s->pb.len;
		if (seq_le(seg_end(s), c->rcv_nxt)) {
			seg_free(c, s); /* all of it arrived again in order */
			continue;
		}
		uint32_t old = c->rcv_nxt - s->seq;
		if (old) {
			pbuf_trim_front(&s->pb, old);
			s->seq = c->rcv_nxt;
		}
		moved += s->pb.len;
		tcp_rcvq_append(c, s);
	}
	return moved;
}

void tcp_ooo_purge(struct tcp_conn *c)
{
	while (c->ooo) {
		struct rxseg *s = c->ooo;
		c->ooo = s->next;
		seg_free(c, s);
	}
	c->ooo_count = 0;
	c->ooo_bytes = 0;
	c->nsack_blocks = 0;
}

/* The maximal contiguous run of OOO data that contains x. */
static bool run_containing(const struct tcp_conn *c, uint32_t x, struct wire_sack_block *out)
{
	const struct rxseg *s = c->ooo;
	while (s) {
		uint32_t rs = s->seq, re = seg_end(s);
		while (s->next && s->next->seq == re) {
			s = s->next;
			re = seg_end(s);
		}
		if (seq_le(rs, x) && seq_lt(x, re)) {
			out->start = rs;
			out->end = re;
			return true;
		}
		if (seq_gt(rs, x))
			return false;
		s = s->next;
	}
	return false;
}

void tcp_sack_refresh(struct tcp_conn *c, bool have_seq, uint32_t seq)
{
	struct wire_sack_block nb[WIRE_TCP_MAX_SACK];
	unsigned n = 0;

	if (!c->sack_ok || !c->ooo) {
		c->nsack_blocks = 0;
		return;
	}
	/* RFC 2018 4: the first block holds the most recently received
	 * segment; then the most recently reported others, still held. */
	if (have_seq && run_containing(c, seq, &nb[0]))
		n = 1;
	for (unsigned i = 0; i < c->nsack_blocks && n < WIRE_TCP_MAX_SACK; i++) {
		struct wire_sack_block b;
		if (!run_containing(c, c->sack_blocks[i].start, &b))
			continue;
		bool dup = false;
		for (unsigned j = 0; j < n; j++)
			if (nb[j].start == b.start)
				dup = true;
		if (!dup)
			nb[n++] = b;
	}
	/* Fill up with runs never reported yet, lowest first. */
	for (const struct rxseg *s = c->ooo; s && n < WIRE_TCP_MAX_SACK; s = s->next) {
		struct wire_sack_block b = { s->seq, seg_end(s) };
		while (s->next && s->next->seq == b.end) {
			s = s->next;
			b.end = seg_end(s);
		}
		bool dup = false;
		for (unsigned j = 0; j < n; j++)
			if (nb[j].start == b.start)
				dup = true;
		if (!dup)
			nb[n++] = b;
	}
	memcpy(c->sack_blocks, nb, n * sizeof(nb[0]));
	c->nsack_blocks = n;
}
