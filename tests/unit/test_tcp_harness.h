/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_harness.h: a recording environment for the tcp core's state
 * machine tests (tier b). Emitted segments are captured (header + a copy of
 * the payload), events are logged per connection, rx_space is set by the
 * test, children come from a static array, and received payload is made of
 * frags of a host pool whose bytes the core never reads. Time is injected.
 */
#ifndef DEVMEM_TEST_TCP_HARNESS_H
#define DEVMEM_TEST_TCP_HARNESS_H

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "tcp/tcp.h"
#include "tcp/tcp_int.h"

#define T0 1000000000ull /* tests start at 1000 s */
#define MS 1000ull
#define OUT_MAX 8192
#define EV_MAX 1024
#define CHILD_MAX 8
#define POOL_BUF 4096
#define POOL_NBUF 8192

struct out_seg {
	struct tcp_conn *c;
	struct wire_tcp th;
	uint32_t paylen;
	uint8_t *pay; /* copy of the payload (host memory: the test may look) */
};

struct ev_rec {
	struct tcp_conn *c;
	unsigned ev;
};

struct tenv {
	struct tcp_env env;
	struct out_seg out[OUT_MAX];
	unsigned nout;
	struct ev_rec evs[EV_MAX];
	unsigned nev;
	int64_t rx_space;      /* < 0: rcvbuf - rcvq_bytes (a socket's view) */
	struct tcp_conn children[CHILD_MAX];
	unsigned nchildren;
	bool refuse_child;
	struct pool *pool;
	unsigned segs_freed;
	struct tcp_cfg cfg;
};

static inline void tenv_emit(void *ctx, struct tcp_conn *c, const struct wire_tcp *th,
		      const struct tcp_txp *iov, int niov, uint32_t paylen)
{
	struct tenv *e = ctx;
	if (e->nout >= OUT_MAX) {
		fprintf(stderr, "harness: too many segments\n");
		abort();
	}
	struct out_seg *o = &e->out[e->nout++];
	o->c = c;
	o->th = *th;
	o->paylen = paylen;
	o->pay = NULL;
	if (paylen) {
		o->pay = malloc(paylen);
		uint32_t n = 0;
		for (int i = 0; i < niov; i++) {
			if (iov[i].ptr)
				memcpy(o->pay + n, iov[i].ptr, iov[i].len);
			else if (iov[i].mem->prov->read(iov[i].mem, iov[i].off, o->pay + n,
							iov[i].len) < 0)
				abort();
			n += iov[i].len;
		}
		if (n != paylen) {
			fprintf(stderr, "harness: iov sum %u != paylen %u\n", n, paylen);
			abort();
		}
	}
}

static inline uint32_t tenv_rx_space(void *ctx, struct tcp_conn *c)
{
	struct tenv *e = ctx;
	if (e->rx_space >= 0)
		return (uint32_t)e->rx_space;
	return c->cfg.rcvbuf > c->rcvq_bytes ? c->cfg.rcvbuf - c->rcvq_bytes : 0;
}

static inline void tenv_event(void *ctx, struct tcp_conn *c, unsigned ev)
{
	struct tenv *e = ctx;
	if (e->nev < EV_MAX)
		e->evs[e->nev++] = (struct ev_rec){ c, ev };
}

static inline struct tcp_conn *tenv_new_child(void *ctx, struct tcp_conn *l, const struct tcp_ep *ep)
{
	struct tenv *e = ctx;
	(void)l;
	if (e->refuse_child || e->nchildren >= CHILD_MAX)
		return NULL;
	struct tcp_conn *c = &e->children[e->nchildren++];
	tcp_conn_init(c, ep, &l->cfg, &e->env, e);
	return c;
}

static inline void tenv_seg_free(void *ctx, struct rxseg *s)
{
	struct tenv *e = ctx;
	pbuf_release(&s->pb);
	free(s);
	e->segs_freed++;
}

static inline void tenv_clear_out(struct tenv *e)
{
	for (unsigned i = 0; i < e->nout; i++)
		free(e->out[i].pay);
	e->nout = 0;
}

static inline struct tenv *tenv_new(void)
{
	struct tenv *e = calloc(1, sizeof(*e));
	e->env.emit = tenv_emit;
	e->env.rx_space = tenv_rx_space;
	e->env.event = tenv_event;
	e->env.new_child = tenv_new_child;
	e->env.seg_free = tenv_seg_free;
	e->rx_space = -1;
	e->pool = pool_create_host(POOL_NBUF, POOL_BUF);
	if (!e->pool) {
		fprintf(stderr, "pool_create_host failed\n");
		exit(1);
	}
	tcp_cfg_default(&e->cfg);
	e->cfg.rcvbuf = 256u << 10;
	e->cfg.sndbuf = 256u << 10;
	e->cfg.mss = 1460;
	e->cfg.tx_mss_max = 1460;
	for (int i = 0; i < 16; i++)
		e->cfg.isn_key[i] = (uint8_t)(i * 7 + 1);
	return e;
}

/* Free e; every pool buffer must be back (leak check). */
static inline void tenv_free(struct tenv *e, struct tcp_conn *const *conns, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (conns[i])
			tcp_conn_destroy(conns[i]);
	for (unsigned i = 0; i < e->nchildren; i++)
		tcp_conn_destroy(&e->children[i]);
	tenv_clear_out(e);
	CHECK_EQ(e->pool->nfree, e->pool->nbufs);
	pool_release(e->pool);
	free(e);
}

/* Events recorded for c (ORed), optionally clearing the log. */
static inline unsigned ev_of(struct tenv *e, struct tcp_conn *c)
{
	unsigned ev = 0;
	for (unsigned i = 0; i < e->nev; i++)
		if (e->evs[i].c == c)
			ev |= e->evs[i].ev;
	return ev;
}

static inline unsigned ev_count(struct tenv *e, struct tcp_conn *c, unsigned bit)
{
	unsigned n = 0;
	for (unsigned i = 0; i < e->nev; i++)
		if (e->evs[i].c == c && (e->evs[i].ev & bit))
			n++;
	return n;
}

static inline const struct out_seg *last_out(struct tenv *e)
{
	return e->nout ? &e->out[e->nout - 1] : NULL;
}

/* ---- building input segments --------------------------------------------------- */

static inline uint8_t pattern_byte(uint32_t seq) { return (uint8_t)(seq * 2654435761u >> 24); }

/* A payload rxseg of len bytes from the host pool, bytes = pattern(seq). */
static inline struct rxseg *mk_payload(struct tenv *e, uint32_t seq, uint32_t len, const uint8_t *src)
{
	struct rxseg *s = calloc(1, sizeof(*s));
	s->seq = seq;
	uint32_t off = 0;
	while (off < len) {
		int64_t idx = pool_get(e->pool);
		if (idx < 0 || s->pb.nfrags >= PBUF_MAX_FRAGS) {
			fprintf(stderr, "harness: pool empty / too many frags\n");
			abort();
		}
		uint32_t n = len - off < POOL_BUF ? len - off : POOL_BUF;
		uint8_t *p = pool_buf_ptr(e->pool, (uint32_t)idx);
		for (uint32_t i = 0; i < n; i++)
			p[i] = src ? src[off + i] : pattern_byte(seq + off + i);
		s->pb.frags[s->pb.nfrags++] = (struct frag){ e->pool, (uint32_t)idx, 0, n };
		s->pb.len += n;
		off += n;
	}
	return s;
}

static inline struct tcp_seg mkseg(struct tenv *e, uint32_t seq, uint32_t ack, uint8_t flags,
			    uint16_t win, uint32_t len)
{
	struct tcp_seg s;
	memset(&s, 0, sizeof(s));
	s.th.sport = 40000;
	s.th.dport = 80;
	s.th.seq = seq;
	s.th.ack = ack;
	s.th.flags = flags;
	s.th.window = win;
	s.th.hdr_len = WIRE_TCP_MIN;
	s.len = len;
	if (len)
		s.data = mk_payload(e, seq, len, NULL);
	return s;
}

static inline void seg_ts(struct tcp_seg *s, uint32_t tsval, uint32_t tsecr)
{
	s->th.opts.present |= WIRE_OPT_TS;
	s->th.opts.tsval = tsval;
	s->th.opts.tsecr = tsecr;
}

static inline void seg_sack(struct tcp_seg *s, unsigned n, const uint32_t *edges)
{
	s->th.opts.present |= WIRE_OPT_SACK;
	s->th.opts.nsack = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		s->th.opts.sack[i].start = edges[2 * i];
		s->th.opts.sack[i].end = edges[2 * i + 1];
	}
}

/* The peer's SYN as Linux sends it: MSS, SACKOK, TS, WS 7. */
static inline struct tcp_seg mk_linux_syn(struct tenv *e, uint32_t seq, uint32_t tsval)
{
	struct tcp_seg s = mkseg(e, seq, 0, WIRE_TCP_SYN, 64240, 0);
	s.th.opts.present = WIRE_OPT_MSS | WIRE_OPT_SACKOK | WIRE_OPT_TS | WIRE_OPT_WSCALE;
	s.th.opts.mss = 1460;
	s.th.opts.wscale = 7;
	s.th.opts.tsval = tsval;
	return s;
}

/* ---- whole-state checks --------------------------------------------------------- */

/* Internal invariants of the receive side. */
static inline void sanity_(const char *file, int line, const struct tcp_conn *c)
{
	uint32_t sum = 0;
	const struct rxseg *s, *prev = NULL;
	for (s = c->rcvq_head; s; prev = s, s = s->next) {
		sum += s->pb.len;
		if (prev && prev->seq + prev->pb.len != s->seq)
			fprintf(stderr, "%s:%d: rcvq gap at %u\n", file, line, s->seq), check_failures++;
	}
	if (prev && prev != c->rcvq_tail)
		fprintf(stderr, "%s:%d: rcvq_tail wrong\n", file, line), check_failures++;
	if (sum != c->rcvq_bytes)
		fprintf(stderr, "%s:%d: rcvq_bytes %u != %u\n", file, line, c->rcvq_bytes, sum),
			check_failures++;
	if (prev && prev->seq + prev->pb.len != c->rcv_nxt - (c->fin_rcvd ? 1 : 0))
		fprintf(stderr, "%s:%d: rcvq end != rcv_nxt\n", file, line), check_failures++;
	sum = 0;
	unsigned n = 0;
	prev = NULL;
	for (s = c->ooo; s; prev = s, s = s->next) {
		uint32_t plen = 0;
		for (unsigned i = 0; i < s->pb.nfrags; i++)
			plen += s->pb.frags[i].len;
		if (plen != s->pb.len || !s->pb.len)
			fprintf(stderr, "%s:%d: ooo pbuf len\n", file, line), check_failures++;
		sum += s->pb.len;
		n++;
		if (!seq_gt(s->seq, c->rcv_nxt))
			fprintf(stderr, "%s:%d: ooo seg %u not above rcv_nxt %u\n", file, line, s->seq,
				c->rcv_nxt), check_failures++;
		if (prev && seq_gt(prev->seq + prev->pb.len, s->seq))
			fprintf(stderr, "%s:%d: ooo overlap at %u\n", file, line, s->seq), check_failures++;
	}
	if (sum != c->ooo_bytes || n != c->ooo_count)
		fprintf(stderr, "%s:%d: ooo accounting %u/%u vs %u/%u\n", file, line, c->ooo_bytes,
			c->ooo_count, sum, n), check_failures++;
	if (seq_lt(c->rcv_adv, c->rcv_nxt) && c->state != TCP_LISTEN)
		fprintf(stderr, "%s:%d: rcv_adv below rcv_nxt\n", file, line), check_failures++;
}
#define SANITY(c) sanity_(__FILE__, __LINE__, (c))

/* state, snd_una, rcv_nxt and the window (rcv_adv - rcv_nxt) at once. */
static inline void check_conn_(const char *file, int line, const struct tcp_conn *c, enum tcp_state st,
			uint32_t snd_una, uint32_t rcv_nxt, int64_t wnd)
{
	if (c->state != st || c->snd_una != snd_una || c->rcv_nxt != rcv_nxt ||
	    (wnd >= 0 && c->rcv_adv - c->rcv_nxt != (uint32_t)wnd)) {
		fprintf(stderr,
			"%s:%d: conn is %s una=%u rcv_nxt=%u wnd=%u, expected %s una=%u rcv_nxt=%u wnd=%lld\n",
			file, line, tcp_state_name(c->state), c->snd_una, c->rcv_nxt,
			c->rcv_adv - c->rcv_nxt, tcp_state_name(st), snd_una, rcv_nxt, (long long)wnd);
		check_failures++;
	}
	sanity_(file, line, c);
}
#define CHECK_CONN(c, st, una, rnxt, wnd) check_conn_(__FILE__, __LINE__, (c), (st), (una), (rnxt), (wnd))

/* Check a recorded segment: flags, seq, ack, payload length. */
static inline void check_out_(const char *file, int line, const struct out_seg *o, uint8_t flags,
		       uint32_t seq, uint32_t ack, uint32_t paylen)
{
	if (!o) {
		fprintf(stderr, "%s:%d: no segment emitted\n", file, line);
		check_failures++;
		return;
	}
	if (o->th.flags != flags || o->th.seq != seq || ((flags & WIRE_TCP_ACK) && o->th.ack != ack) ||
	    o->paylen != paylen) {
		fprintf(stderr,
			"%s:%d: segment flags=%#x seq=%u ack=%u len=%u, expected flags=%#x seq=%u ack=%u len=%u\n",
			file, line, o->th.flags, o->th.seq, o->th.ack, o->paylen, flags, seq, ack, paylen);
		check_failures++;
	}
}
#define CHECK_OUT(o, fl, sq, ak, len) check_out_(__FILE__, __LINE__, (o), (fl), (sq), (ak), (len))

#endif
