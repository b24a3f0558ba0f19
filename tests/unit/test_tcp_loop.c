/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_loop: two tcp cores back to back through a simulated link that
 * drops, duplicates and reorders (seeded), in simulated time. A client
 * connects to a listener, sends a few MB, both close; the server must read
 * exactly the bytes sent (payload here is host memory, so the test may
 * look at it). GSO segments are cut at snd_mss by the link like a NIC.
 */
#include "test_tcp_harness.h"

#define LINK_DELAY_US 50
#define HEAP_MAX (1 << 16)

struct pkt {
	uint64_t t;
	uint64_t order;       /* FIFO among equal times */
	int to;               /* 0: to the client, 1: to the server */
	struct wire_tcp th;
	uint32_t len;
	uint8_t *pay;
};

struct side;

struct net {
	struct pkt heap[HEAP_MAX];
	unsigned n;
	uint64_t order;
	uint64_t rng;
	unsigned loss_ppm, dup_ppm, reorder_ppm;
	uint64_t now;
	uint64_t sent, dropped, duped, reordered;
	struct side *sides[2];
};

struct side {
	struct tcp_env env;
	struct net *net;
	int id; /* 0 client, 1 server */
	struct pool *pool;
	struct tcp_conn conn;     /* client conn, or the server's child */
	struct tcp_conn listener; /* server only */
	bool have_conn;
	bool closed;
	unsigned events;
};

static uint64_t rnd(struct net *n)
{
	/* xorshift64* */
	n->rng ^= n->rng >> 12;
	n->rng ^= n->rng << 25;
	n->rng ^= n->rng >> 27;
	return n->rng * 2685821657736338717ull;
}

static bool chance(struct net *n, unsigned ppm) { return rnd(n) % 1000000 < ppm; }

static bool pkt_before(const struct pkt *a, const struct pkt *b)
{
	return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static void heap_push(struct net *n, const struct pkt *p)
{
	if (n->n >= HEAP_MAX) {
		fprintf(stderr, "link queue overflow\n");
		abort();
	}
	unsigned i = n->n++;
	n->heap[i] = *p;
	while (i) {
		unsigned parent = (i - 1) / 2;
		if (!pkt_before(&n->heap[i], &n->heap[parent]))
			break;
		struct pkt t = n->heap[i];
		n->heap[i] = n->heap[parent];
		n->heap[parent] = t;
		i = parent;
	}
}

static struct pkt heap_pop(struct net *n)
{
	struct pkt top = n->heap[0];
	n->heap[0] = n->heap[--n->n];
	unsigned i = 0;
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;
		if (l < n->n && pkt_before(&n->heap[l], &n->heap[m]))
			m = l;
		if (r < n->n && pkt_before(&n->heap[r], &n->heap[m]))
			m = r;
		if (m == i)
			break;
		struct pkt t = n->heap[i];
		n->heap[i] = n->heap[m];
		n->heap[m] = t;
		i = m;
	}
	return top;
}

/* One wire packet onto the link, with the faults. */
static void link_send(struct net *n, int to, const struct wire_tcp *th, const uint8_t *pay,
		      uint32_t len)
{
	n->sent++;
	if (chance(n, n->loss_ppm)) {
		n->dropped++;
		return;
	}
	int copies = chance(n, n->dup_ppm) ? 2 : 1;
	if (copies == 2)
		n->duped++;
	for (int k = 0; k < copies; k++) {
		struct pkt p = { .t = n->now + LINK_DELAY_US, .order = n->order++, .to = to, .th = *th,
				 .len = len };
		if (chance(n, n->reorder_ppm)) {
			p.t += 1 + rnd(n) % 200; /* overtaken by later packets */
			n->reordered++;
		}
		if (len) {
			p.pay = malloc(len);
			memcpy(p.pay, pay, len);
		}
		heap_push(n, &p);
	}
}

static void side_emit(void *ctx, struct tcp_conn *c, const struct wire_tcp *th,
		      const struct tcp_txp *iov, int niov, uint32_t paylen)
{
	struct side *s = ctx;
	uint8_t *buf = paylen ? malloc(paylen) : NULL;
	uint32_t off = 0;
	for (int i = 0; i < niov; i++) {
		memcpy(buf + off, iov[i].ptr, iov[i].len);
		off += iov[i].len;
	}
	/* The NIC's TSO: cut at snd_mss, PSH/FIN on the last piece only. */
	uint32_t mss = c->snd_mss;
	if (paylen <= mss) {
		link_send(s->net, !s->id, th, buf, paylen);
	} else {
		for (uint32_t o = 0; o < paylen; o += mss) {
			struct wire_tcp piece = *th;
			uint32_t n = paylen - o < mss ? paylen - o : mss;
			piece.seq = th->seq + o;
			if (o + n < paylen)
				piece.flags &= (uint8_t)~(WIRE_TCP_FIN | WIRE_TCP_PSH);
			link_send(s->net, !s->id, &piece, buf + o, n);
		}
	}
	free(buf);
}

static uint32_t side_rx_space(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	return c->cfg.rcvbuf > c->rcvq_bytes ? c->cfg.rcvbuf - c->rcvq_bytes : 0;
}

static void side_event(void *ctx, struct tcp_conn *c, unsigned ev)
{
	struct side *s = ctx;
	(void)c;
	if (c == &s->listener)
		return;
	s->events |= ev;
	if (ev & TCP_EV_CLOSED)
		s->closed = true;
}

static struct tcp_conn *side_new_child(void *ctx, struct tcp_conn *l, const struct tcp_ep *ep)
{
	struct side *s = ctx;
	if (s->have_conn)
		return NULL;
	tcp_conn_init(&s->conn, ep, &l->cfg, &s->env, s);
	s->have_conn = true;
	return &s->conn;
}

static void side_seg_free(void *ctx, struct rxseg *seg)
{
	(void)ctx;
	pbuf_release(&seg->pb);
	free(seg);
}

static void side_init(struct side *s, struct net *n, int id)
{
	memset(s, 0, sizeof(*s));
	s->env.emit = side_emit;
	s->env.rx_space = side_rx_space;
	s->env.event = side_event;
	s->env.new_child = side_new_child;
	s->env.seg_free = side_seg_free;
	s->net = n;
	s->id = id;
	s->pool = pool_create_host(16384, 2048);
	n->sides[id] = s;
}

/* The NIC + demux of the receiving side. */
static void deliver(struct net *n, struct pkt *p)
{
	struct side *s = n->sides[p->to];
	struct tcp_seg seg;
	memset(&seg, 0, sizeof(seg));
	seg.th = p->th;
	seg.len = p->len;
	if (p->len) {
		struct rxseg *r = calloc(1, sizeof(*r));
		int64_t idx = pool_get(s->pool);
		if (idx < 0) {
			free(r); /* NIC out of buffers: a drop */
			free(p->pay);
			return;
		}
		memcpy(pool_buf_ptr(s->pool, (uint32_t)idx), p->pay, p->len);
		r->pb.frags[0] = (struct frag){ s->pool, (uint32_t)idx, 0, p->len };
		r->pb.nfrags = 1;
		r->pb.len = p->len;
		r->seq = p->th.seq;
		seg.data = r;
	}
	free(p->pay);
	struct tcp_conn *c = NULL;
	if (s->have_conn && !s->closed)
		c = &s->conn;
	else if (s->id == 1 && !s->have_conn)
		c = &s->listener;
	if (!c) {
		if (seg.data)
			side_seg_free(s, seg.data);
		return;
	}
	tcp_input(c, &seg, n->now); /* RSTs for strays are not simulated */
}

static uint8_t stream_byte(uint64_t off) { return (uint8_t)(off * 7 + (off >> 11) * 13); }

struct loop_result {
	bool ok;
	uint64_t sim_us;
	uint64_t retrans, rtos, fast;
};

static struct loop_result run_loop(uint64_t seed, uint32_t total, unsigned loss_ppm,
				   unsigned dup_ppm, unsigned reorder_ppm, bool sack, uint16_t tx_mss_max,
				   uint32_t rcvbuf)
{
	struct loop_result res = { 0 };
	struct net *n = calloc(1, sizeof(*n));
	struct side *cl = calloc(1, sizeof(*cl)), *sv = calloc(1, sizeof(*sv));
	n->rng = seed * 0x9E3779B97F4A7C15ull + 1;
	n->loss_ppm = loss_ppm;
	n->dup_ppm = dup_ppm;
	n->reorder_ppm = reorder_ppm;
	n->now = T0;
	side_init(cl, n, 0);
	side_init(sv, n, 1);

	struct tcp_cfg cfg;
	tcp_cfg_default(&cfg);
	cfg.rcvbuf = rcvbuf;
	cfg.sndbuf = 512u << 10;
	cfg.tx_mss_max = tx_mss_max;
	cfg.nodelay = true;
	for (int i = 0; i < 16; i++)
		cfg.isn_key[i] = (uint8_t)(seed + i);
	struct tcp_ep sep = { .family = AF_INET, .laddr = { 192, 0, 2, 2 }, .lport = 5201 };
	struct tcp_ep cep = { .family = AF_INET, .laddr = { 192, 0, 2, 1 }, .raddr = { 192, 0, 2, 2 },
			      .lport = 40000, .rport = 5201 };
	tcp_conn_init(&sv->listener, &sep, &cfg, &sv->env, sv);
	tcp_listen(&sv->listener, 8);
	tcp_conn_init(&cl->conn, &cep, &cfg, &cl->env, cl);
	cl->have_conn = true;
	tcp_connect(&cl->conn, n->now);

	uint8_t *chunk = malloc(65536);
	uint64_t sent = 0, rcvd = 0;
	bool cl_shut = false, sv_shut = false, bad = false;
	uint64_t limit = T0 + 3600 * TCP_SEC;

	while (n->now < limit && !bad) {
		/* 1. the link */
		while (n->n && n->heap[0].t <= n->now) {
			struct pkt p = heap_pop(n);
			if (!sack)
				p.th.opts.present &= (uint8_t)~(WIRE_OPT_SACKOK | WIRE_OPT_SACK);
			deliver(n, &p);
		}
		/* 2. timers */
		struct side *sd[2] = { cl, sv };
		for (int i = 0; i < 2; i++)
			if (sd[i]->have_conn && !sd[i]->closed && tcp_next_deadline(&sd[i]->conn) <= n->now)
				tcp_timers(&sd[i]->conn, n->now);
		/* 3. the client writes */
		if (!cl->closed && cl->conn.state == TCP_ESTABLISHED && sent < total) {
			for (;;) {
				uint32_t want = (uint32_t)DEVMEM_MIN((uint64_t)65536, total - sent);
				for (uint32_t i = 0; i < want; i++)
					chunk[i] = stream_byte(sent + i);
				int64_t r = tcp_send(&cl->conn, chunk, want, n->now);
				if (r <= 0)
					break;
				sent += (uint64_t)r;
				if (sent == total)
					break;
			}
		}
		if (!cl_shut && sent == total && !cl->closed) {
			tcp_shutdown(&cl->conn, n->now);
			cl_shut = true;
		}
		/* 4. the server reads */
		if (sv->have_conn) {
			struct rxseg *r;
			bool any = false;
			while ((r = tcp_rcvq_pop(&sv->conn))) {
				static uint8_t buf[PBUF_MAX_FRAGS * 4096];
				if (r->pb.len > sizeof(buf) || pbuf_copy_out(&r->pb, 0, buf, r->pb.len)) {
					fprintf(stderr, "copy out failed\n");
					bad = true;
				} else {
					for (uint32_t i = 0; i < r->pb.len; i++)
						if (buf[i] != stream_byte(rcvd + i)) {
							fprintf(stderr, "byte %llu wrong\n",
								(unsigned long long)(rcvd + i));
							bad = true;
							break;
						}
				}
				if (r->seq != (uint32_t)(sv->conn.irs + 1 + rcvd)) {
					fprintf(stderr, "rxseg seq wrong\n");
					bad = true;
				}
				rcvd += r->pb.len;
				side_seg_free(sv, r);
				any = true;
			}
			if (any && !sv->closed)
				tcp_rcv_space_changed(&sv->conn, n->now);
			if (!sv_shut && !sv->closed && sv->conn.fin_rcvd) {
				tcp_shutdown(&sv->conn, n->now);
				sv_shut = true;
			}
		}
		/* done? */
		if (sv->closed && (cl->closed || cl->conn.state == TCP_TIME_WAIT))
			break;
		/* 5. the next moment something happens */
		uint64_t next = UINT64_MAX;
		if (n->n)
			next = n->heap[0].t;
		for (int i = 0; i < 2; i++)
			if (sd[i]->have_conn && !sd[i]->closed)
				next = DEVMEM_MIN(next, tcp_next_deadline(&sd[i]->conn));
		if (next == UINT64_MAX) {
			fprintf(stderr, "stalled: client %s server %s sent %llu rcvd %llu\n",
				tcp_state_name(cl->conn.state), tcp_state_name(sv->conn.state),
				(unsigned long long)sent, (unsigned long long)rcvd);
			bad = true;
			break;
		}
		if (next > n->now)
			n->now = next;
	}
	res.sim_us = n->now - T0;
	res.ok = !bad && rcvd == total && sent == total && sv->closed && !sv->conn.err;
	if (!res.ok)
		fprintf(stderr, "loop seed %llu: sent %llu rcvd %llu of %u, client %s server %s at %.3f s\n",
			(unsigned long long)seed, (unsigned long long)sent, (unsigned long long)rcvd,
			total, tcp_state_name(cl->conn.state), tcp_state_name(sv->conn.state),
			(double)res.sim_us / 1e6);
	res.retrans = cl->conn.st.retrans_segs;
	res.rtos = cl->conn.st.rto_events;
	res.fast = cl->conn.st.fast_retrans;
	/* TIME_WAIT runs out. */
	if (res.ok && !cl->closed) {
		uint64_t t = tcp_next_deadline(&cl->conn);
		tcp_timers(&cl->conn, t);
		CHECK(cl->closed);
	}
	fprintf(stderr,
		"  seed %llu sack=%d gso=%u: %u bytes in %.3f s sim, %llu pkts (%llu lost, %llu dup, %llu reord), "
		"retrans %llu, fast %llu, rto %llu\n",
		(unsigned long long)seed, sack, tx_mss_max, total, (double)res.sim_us / 1e6,
		(unsigned long long)n->sent, (unsigned long long)n->dropped,
		(unsigned long long)n->duped, (unsigned long long)n->reordered,
		(unsigned long long)res.retrans, (unsigned long long)res.fast,
		(unsigned long long)res.rtos);

	/* teardown + leak check */
	while (n->n) {
		struct pkt p = heap_pop(n);
		free(p.pay);
	}
	tcp_conn_destroy(&cl->conn);
	if (sv->have_conn)
		tcp_conn_destroy(&sv->conn);
	tcp_conn_destroy(&sv->listener);
	CHECK_EQ(cl->pool->nfree, cl->pool->nbufs);
	CHECK_EQ(sv->pool->nfree, sv->pool->nbufs);
	pool_release(cl->pool);
	pool_release(sv->pool);
	free(chunk);
	free(cl);
	free(sv);
	free(n);
	return res;
}

static void test_clean_link(void)
{
	struct loop_result r = run_loop(1, 4u << 20, 0, 0, 0, true, 1460, 1u << 20);
	CHECK(r.ok);
	CHECK_EQ(r.retrans, 0);
	CHECK_EQ(r.rtos, 0);
}

static void test_lossy_sack(void)
{
	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct loop_result r = run_loop(seed, 4u << 20, 20000, 10000, 20000, true, 1460, 1u << 20);
		CHECK(r.ok);
		CHECK(r.fast > 0);
	}
}

static void test_lossy_gso(void)
{
	for (uint64_t seed = 11; seed <= 13; seed++) {
		struct loop_result r = run_loop(seed, 4u << 20, 20000, 10000, 20000, true, 65535, 1u << 20);
		CHECK(r.ok);
	}
}

static void test_lossy_no_sack(void)
{
	for (uint64_t seed = 21; seed <= 23; seed++) {
		struct loop_result r = run_loop(seed, 2u << 20, 20000, 10000, 20000, false, 1460, 256u << 10);
		CHECK(r.ok);
	}
}

static void test_heavy_loss_small_window(void)
{
	struct loop_result r = run_loop(31, 1u << 20, 100000, 20000, 50000, true, 1460, 64u << 10);
	CHECK(r.ok);
}

int main(void)
{
	RUN(test_clean_link);
	RUN(test_lossy_sack);
	RUN(test_lossy_gso);
	RUN(test_lossy_no_sack);
	RUN(test_heavy_loss_small_window);
	return CHECK_DONE();
}
