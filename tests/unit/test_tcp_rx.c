/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_rx: the tcp core's receiver side and state machine (tier b):
 * handshakes, delayed ACK, reassembly and SACK blocks, windows, FIN, RST,
 * PAWS, RFC 5961 checks, SYN backlog, TIME_WAIT.
 */
#include "test_tcp_harness.h"

#define PEER_ISS 1000u
#define PEER_TS 5000u
#define B (PEER_ISS + 1) /* the peer's first data byte */

struct fx {
	struct tenv *e;
	struct tcp_conn l;
	struct tcp_conn *c;
	uint64_t now;
	uint32_t peer_ts;
};

static const struct tcp_ep LEP = { .family = AF_INET, .laddr = { 192, 0, 2, 1 }, .lport = 80 };

/* Passive open of a child through a listener; the peer acks with window
 * 502 << 7. */
static void fx_open(struct fx *f, uint32_t rcvbuf, uint16_t mss)
{
	memset(f, 0, sizeof(*f));
	f->e = tenv_new();
	f->e->cfg.rcvbuf = rcvbuf;
	f->e->cfg.mss = mss;
	f->e->cfg.tx_mss_max = mss;
	f->now = T0;
	f->peer_ts = PEER_TS;
	tcp_conn_init(&f->l, &LEP, &f->e->cfg, &f->e->env, f->e);
	CHECK_EQ(tcp_listen(&f->l, 4), 0);
	struct tcp_seg syn = mk_linux_syn(f->e, PEER_ISS, f->peer_ts);
	CHECK_EQ(tcp_input(&f->l, &syn, f->now), TCP_IN_OK);
	CHECK_EQ(f->e->nchildren, 1);
	f->c = &f->e->children[0];
	struct tcp_seg ack = mkseg(f->e, B, f->c->iss + 1, WIRE_TCP_ACK, 502, 0);
	seg_ts(&ack, ++f->peer_ts, tcp_ts_now(f->c, f->now));
	CHECK_EQ(tcp_input(f->c, &ack, f->now), TCP_IN_OK);
	CHECK_EQ(f->c->state, TCP_ESTABLISHED);
	tenv_clear_out(f->e);
	f->e->nev = 0;
}

static void fx_close(struct fx *f)
{
	struct tcp_conn *conns[] = { &f->l };
	tenv_free(f->e, conns, 1);
}

/* A segment from the peer (ACK set, acking all we sent, TS on). */
static struct tcp_seg fx_seg(struct fx *f, uint32_t seq, uint8_t flags, uint32_t len)
{
	struct tcp_seg s = mkseg(f->e, seq, f->c->snd_nxt, flags | WIRE_TCP_ACK, 502, len);
	seg_ts(&s, ++f->peer_ts, tcp_ts_now(f->c, f->now));
	return s;
}

static enum tcp_input_result fx_in(struct fx *f, uint32_t seq, uint8_t flags, uint32_t len)
{
	struct tcp_seg s = fx_seg(f, seq, flags, len);
	return tcp_input(f->c, &s, f->now);
}

/* Payload bytes of the receive queue equal the pattern from B on. */
static void check_rcvq_bytes(struct tcp_conn *c, uint32_t from)
{
	uint32_t seq = from;
	for (struct rxseg *s = c->rcvq_head; s; s = s->next) {
		CHECK_EQ(s->seq, seq);
		uint8_t *buf = malloc(s->pb.len);
		CHECK_EQ(pbuf_copy_out(&s->pb, 0, buf, s->pb.len), 0);
		for (uint32_t i = 0; i < s->pb.len; i++)
			if (buf[i] != pattern_byte(seq + i)) {
				fprintf(stderr, "byte at %u wrong\n", seq + i);
				check_failures++;
				break;
			}
		free(buf);
		seq += s->pb.len;
	}
}

/* ---------------------------------------------------------------------------------- */

static void test_passive_handshake(void)
{
	struct tenv *e = tenv_new();
	struct tcp_conn l;
	uint64_t now = T0;
	tcp_conn_init(&l, &LEP, &e->cfg, &e->env, e);
	CHECK_EQ(tcp_listen(&l, 4), 0);
	CHECK_EQ(l.state, TCP_LISTEN);

	struct tcp_seg syn = mk_linux_syn(e, PEER_ISS, PEER_TS);
	CHECK_EQ(tcp_input(&l, &syn, now), TCP_IN_OK);
	CHECK_EQ(e->nchildren, 1);
	struct tcp_conn *c = &e->children[0];
	CHECK(c->parent == &l);
	CHECK_EQ(l.syn_recv, 1);
	CHECK_EQ(c->ep.rport, 40000);
	CHECK_CONN(c, TCP_SYN_RECV, c->iss, B, 65535);

	/* SYN-ACK with the Linux option set, answering what was offered. */
	CHECK_EQ(e->nout, 1);
	const struct out_seg *o = last_out(e);
	CHECK_OUT(o, WIRE_TCP_SYN | WIRE_TCP_ACK, c->iss, B, 0);
	CHECK_EQ(o->th.sport, 80);
	CHECK_EQ(o->th.dport, 40000);
	CHECK_EQ(o->th.window, 65535); /* never scaled on a SYN */
	CHECK_EQ(o->th.opts.present, WIRE_OPT_MSS | WIRE_OPT_WSCALE | WIRE_OPT_SACKOK | WIRE_OPT_TS);
	CHECK_EQ(o->th.opts.mss, 1460);
	CHECK_EQ(o->th.opts.wscale, 7);
	CHECK_EQ(o->th.opts.tsval, (uint32_t)(now / 1000));
	CHECK_EQ(o->th.opts.tsecr, PEER_TS);
	CHECK(c->ws_ok && c->ts_ok && c->sack_ok);
	CHECK_EQ(c->snd_mss, 1448);
	CHECK_EQ(c->snd_wscale, 7);
	CHECK_EQ(ev_of(e, c), 0);
	CHECK(tcp_next_deadline(c) == now + 1000000); /* SYN-ACK RTO 1 s */

	/* The ACK completes it. */
	now += 100;
	struct tcp_seg ack = mkseg(e, B, c->iss + 1, WIRE_TCP_ACK, 502, 0);
	seg_ts(&ack, PEER_TS + 1, (uint32_t)(now / 1000));
	CHECK_EQ(tcp_input(c, &ack, now), TCP_IN_OK);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B, 65535);
	CHECK_EQ(l.syn_recv, 0);
	CHECK_EQ(ev_count(e, c, TCP_EV_ESTABLISHED), 1);
	CHECK_EQ(c->snd_wnd, 502u << 7);
	CHECK_EQ(c->t_rexmit, 0);
	CHECK_EQ(c->srtt_us, 100); /* the SYN-ACK was timed */
	CHECK_EQ(e->nout, 1);      /* nothing to say */

	/* The listener answers a stray ACK with a RST (via the caller). */
	struct tcp_seg stray = mkseg(e, 77, 88, WIRE_TCP_ACK, 100, 0);
	CHECK_EQ(tcp_input(&l, &stray, now), TCP_IN_RST);
	/* A CLOSED conn too, but never for a RST. */
	struct tcp_conn z;
	tcp_conn_init(&z, &LEP, &e->cfg, &e->env, e);
	struct tcp_seg s2 = mkseg(e, 77, 0, 0, 100, 10);
	CHECK_EQ(tcp_input(&z, &s2, now), TCP_IN_RST);
	struct tcp_seg s3 = mkseg(e, 77, 0, WIRE_TCP_RST, 100, 0);
	CHECK_EQ(tcp_input(&z, &s3, now), TCP_IN_OK);
	struct tcp_conn *conns[] = { &l, &z };
	tenv_free(e, conns, 2);
}

static void test_active_handshake(void)
{
	struct tenv *e = tenv_new();
	struct tcp_conn c;
	uint64_t now = T0;
	struct tcp_ep ep = LEP;
	ep.rport = 5001;
	tcp_conn_init(&c, &ep, &e->cfg, &e->env, e);
	CHECK_EQ(tcp_connect(&c, now), 0);
	CHECK_EQ(c.state, TCP_SYN_SENT);
	const struct out_seg *o = last_out(e);
	CHECK_OUT(o, WIRE_TCP_SYN, c.iss, 0, 0);
	CHECK_EQ(o->th.opts.present, WIRE_OPT_MSS | WIRE_OPT_WSCALE | WIRE_OPT_SACKOK | WIRE_OPT_TS);
	CHECK_EQ(o->th.opts.mss, 1460);
	CHECK_EQ(o->th.opts.wscale, 7);
	CHECK_EQ(o->th.opts.tsecr, 0);
	CHECK_EQ(o->th.window, 65535);
	CHECK_EQ(tcp_send(&c, "x", 1, now), 0); /* not yet */

	/* A SYN-ACK that acks something else: RST <SEQ=SEG.ACK>, stay. */
	struct tcp_seg bad = mkseg(e, 5000, c.iss + 7, WIRE_TCP_SYN | WIRE_TCP_ACK, 65535, 0);
	tcp_input(&c, &bad, now);
	CHECK_OUT(last_out(e), WIRE_TCP_RST, c.iss + 7, 0, 0);
	CHECK_EQ(c.state, TCP_SYN_SENT);

	now += 250;
	struct tcp_seg sa = mkseg(e, 5000, c.iss + 1, WIRE_TCP_SYN | WIRE_TCP_ACK, 65535, 0);
	sa.th.opts.present = WIRE_OPT_MSS | WIRE_OPT_SACKOK | WIRE_OPT_TS | WIRE_OPT_WSCALE;
	sa.th.opts.mss = 1400;
	sa.th.opts.wscale = 9;
	sa.th.opts.tsval = 7777;
	sa.th.opts.tsecr = (uint32_t)(T0 / 1000);
	unsigned n0 = e->nout;
	CHECK_EQ(tcp_input(&c, &sa, now), TCP_IN_OK);
	CHECK_CONN(&c, TCP_ESTABLISHED, c.iss + 1, 5001, 262144);
	CHECK_EQ(ev_count(e, &c, TCP_EV_ESTABLISHED), 1);
	CHECK(ev_of(e, &c) & TCP_EV_WRITABLE);
	CHECK_EQ(e->nout, n0 + 1);
	o = last_out(e);
	CHECK_OUT(o, WIRE_TCP_ACK, c.iss + 1, 5001, 0);
	CHECK_EQ(o->th.window, 262144 >> 7);
	CHECK_EQ(o->th.opts.present, WIRE_OPT_TS);
	CHECK_EQ(o->th.opts.tsecr, 7777);
	CHECK_EQ(c.snd_mss, 1388);
	CHECK_EQ(c.snd_wscale, 9);
	CHECK_EQ(c.snd_wnd, 65535);
	CHECK_EQ(c.srtt_us, 250);
	CHECK_EQ(c.cwnd, 10 * 1388); /* RFC 6928 */
	CHECK_EQ(c.t_rexmit, 0);
	struct tcp_conn *conns[] = { &c };
	tenv_free(e, conns, 1);
}

static void test_active_refused_and_syn_retries(void)
{
	struct tenv *e = tenv_new();
	struct tcp_conn c, d;
	uint64_t now = T0;
	tcp_conn_init(&c, &LEP, &e->cfg, &e->env, e);
	tcp_connect(&c, now);
	/* RST without ACK: ignored. RST acking our SYN: refused. */
	struct tcp_seg r0 = mkseg(e, 0, 0, WIRE_TCP_RST, 0, 0);
	tcp_input(&c, &r0, now);
	CHECK_EQ(c.state, TCP_SYN_SENT);
	struct tcp_seg r1 = mkseg(e, 0, c.iss + 1, WIRE_TCP_RST | WIRE_TCP_ACK, 0, 0);
	tcp_input(&c, &r1, now);
	CHECK_EQ(c.state, TCP_CLOSED);
	CHECK_EQ(c.err, ECONNREFUSED);
	CHECK_EQ(ev_count(e, &c, TCP_EV_ERROR), 1);
	CHECK_EQ(ev_count(e, &c, TCP_EV_CLOSED), 1);
	CHECK_EQ(tcp_timers(&c, now + 10000000), UINT64_MAX);

	/* SYN retransmissions at 1, 2, 4, ... s, then ETIMEDOUT. */
	struct tcp_ep ep = LEP;
	ep.rport = 9;
	tcp_conn_init(&d, &ep, &e->cfg, &e->env, e);
	tcp_connect(&d, now);
	tenv_clear_out(e);
	uint64_t t = now, rto = 1000000;
	for (int i = 0; i < TCP_SYN_RETRIES; i++) {
		CHECK_EQ(tcp_next_deadline(&d), t + rto);
		t += rto;
		CHECK_EQ(tcp_timers(&d, t - 1), t);
		CHECK_EQ(e->nout, (unsigned)i);
		tcp_timers(&d, t);
		CHECK_OUT(last_out(e), WIRE_TCP_SYN, d.iss, 0, 0);
		rto *= 2;
	}
	CHECK_EQ(d.state, TCP_SYN_SENT);
	tcp_timers(&d, t + rto);
	CHECK_EQ(d.state, TCP_CLOSED);
	CHECK_EQ(d.err, ETIMEDOUT);
	CHECK_EQ(ev_count(e, &d, TCP_EV_CLOSED), 1);
	struct tcp_conn *conns[] = { &c, &d };
	tenv_free(e, conns, 2);
}

static void test_delayed_ack(void)
{
	struct fx f;
	fx_open(&f, 256u << 10, 1460);
	struct tcp_conn *c = f.c;
	uint32_t m = 1448;

	/* The first data starts quick-ACK mode (Linux's tcp_incr_quickack):
	 * ACKed at once, and so are the next ones, up to half the window's
	 * worth of segments and at most 16. */
	f.now += 1000;
	fx_in(&f, B, 0, m);
	CHECK_EQ(f.e->nout, 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, B + m, 0);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_READABLE), 1);
	CHECK_EQ(c->quick, 16 - 1);
	CHECK_EQ(c->ato_us, 40000);
	c->quick = 0; /* used up: delayed ACKs from here on */

	/* One full-sized segment: delayed by ato (40 ms). */
	f.now += 100000;
	fx_in(&f, B + m, 0, m);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B + 2 * m, -1);
	CHECK_EQ(f.e->nout, 1);
	CHECK_EQ(tcp_next_deadline(c), f.now + 40000);
	CHECK_EQ(tcp_timers(c, f.now + 39999), f.now + 40000);
	CHECK_EQ(f.e->nout, 1);
	tcp_timers(c, f.now + 40000);
	CHECK_EQ(f.e->nout, 2);
	/* The window opens to what the socket has: (256K - 2m) rounded to 128. */
	uint32_t space = ((256u << 10) - 2 * m) & ~127u;
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, B + 2 * m, 0);
	CHECK_EQ(last_out(f.e)->th.window, space >> 7);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B + 2 * m, space);
	CHECK_EQ(tcp_next_deadline(c), UINT64_MAX);
	/* the timer had to send it: ato doubles (tcp_delack_timer_handler) */
	CHECK_EQ(c->ato_us, 80000);

	/* Two full-sized segments: ACK at once on the second (more than one
	 * MSS unacknowledged, __tcp_ack_snd_check). */
	f.now += 100000;
	fx_in(&f, B + 2 * m, 0, m);
	CHECK_EQ(f.e->nout, 2);
	/* ato (80 ms) is bounded by the RTT, but not below 40 ms */
	CHECK_EQ(tcp_next_deadline(c), f.now + 40000);
	fx_in(&f, B + 3 * m, 0, m);
	CHECK_EQ(f.e->nout, 3);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, B + 4 * m, 0);
	CHECK_EQ(c->t_delack, 0);

	/* A small segment is not full-sized: delayed. */
	fx_in(&f, B + 4 * m, WIRE_TCP_PSH, 100);
	CHECK_EQ(f.e->nout, 3);
	CHECK(c->t_delack != 0);
	/* A GSO super-segment of more than one MSS: at once. */
	fx_in(&f, B + 4 * m + 100, 0, 2 * m);
	CHECK_EQ(f.e->nout, 4);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, B + 6 * m + 100, 0);
	CHECK_EQ(c->rcvq_bytes, 6 * m + 100);
	CHECK_EQ(c->st.bytes_in, 6 * m + 100);
	check_rcvq_bytes(c, B);
	fx_close(&f);
}

static void test_ooo_sack(void)
{
	struct fx f;
	fx_open(&f, 256u << 10, 1460);
	struct tcp_conn *c = f.c;
	const uint32_t m = 1448;
	const struct out_seg *o;

	fx_in(&f, B, 0, m); /* A, in order: ACKed at once (quick-ACK mode) */
	CHECK_EQ(f.e->nout, 1);
	fx_in(&f, B + 2 * m, 0, m); /* C: out of order, dup ACK + SACK at once */
	CHECK_EQ(f.e->nout, 2);
	o = last_out(f.e);
	CHECK_OUT(o, WIRE_TCP_ACK, c->iss + 1, B + m, 0);
	CHECK_EQ(o->th.opts.nsack, 1);
	CHECK(o->th.opts.present & WIRE_OPT_SACK);
	CHECK_EQ(o->th.opts.sack[0].start, B + 2 * m);
	CHECK_EQ(o->th.opts.sack[0].end, B + 3 * m);
	CHECK_EQ(c->st.ooo_segs, 1);

	fx_in(&f, B + 4 * m, 0, m); /* E: newest first */
	o = last_out(f.e);
	CHECK_EQ(o->th.opts.nsack, 2);
	CHECK_EQ(o->th.opts.sack[0].start, B + 4 * m);
	CHECK_EQ(o->th.opts.sack[1].start, B + 2 * m);

	fx_in(&f, B + 3 * m, 0, m); /* D joins C and E into one block */
	o = last_out(f.e);
	CHECK_EQ(o->th.opts.nsack, 1);
	CHECK_EQ(o->th.opts.sack[0].start, B + 2 * m);
	CHECK_EQ(o->th.opts.sack[0].end, B + 5 * m);
	CHECK_EQ(c->ooo_count, 1); /* coalesced frags */
	CHECK_EQ(c->ooo_bytes, 3 * m);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B + m, -1);

	unsigned n = f.e->nout;
	fx_in(&f, B + m, 0, m); /* B fills the hole: cumulative ACK at once */
	CHECK_EQ(f.e->nout, n + 1);
	o = last_out(f.e);
	CHECK_OUT(o, WIRE_TCP_ACK, c->iss + 1, B + 5 * m, 0);
	CHECK_EQ(o->th.opts.present & WIRE_OPT_SACK, 0);
	CHECK_EQ(c->ooo_count, 0);
	CHECK_EQ(c->rcvq_bytes, 5 * m);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B + 5 * m, -1);
	check_rcvq_bytes(c, B);

	/* Four islands: 3 blocks fit beside TS, newest first; a repeat of
	 * an old island makes its block first (RFC 2018 4). */
	uint32_t b = B + 5 * m;
	for (int i = 1; i <= 4; i++)
		fx_in(&f, b + 2 * i * m, 0, m);
	o = last_out(f.e);
	CHECK_EQ(o->th.opts.nsack, 3);
	CHECK_EQ(o->th.opts.sack[0].start, b + 8 * m);
	CHECK_EQ(o->th.opts.sack[1].start, b + 6 * m);
	CHECK_EQ(o->th.opts.sack[2].start, b + 4 * m);
	CHECK_EQ(c->nsack_blocks, 4);
	fx_in(&f, b + 2 * m, 0, m); /* duplicate of island 1 */
	o = last_out(f.e);
	CHECK_EQ(o->th.opts.nsack, 3);
	CHECK_EQ(o->th.opts.sack[0].start, b + 2 * m);
	CHECK_EQ(o->th.opts.sack[0].end, b + 3 * m);
	CHECK_EQ(o->th.opts.sack[1].start, b + 8 * m);
	CHECK_EQ(o->th.opts.sack[2].start, b + 6 * m);
	CHECK_EQ(c->st.dup_segs, 1);
	CHECK_EQ(c->ooo_bytes, 4 * m);
	SANITY(c);
	fx_close(&f);
}

static void test_duplicates_and_overlaps(void)
{
	struct fx f;
	fx_open(&f, 256u << 10, 1460);
	struct tcp_conn *c = f.c;

	fx_in(&f, B, 0, 1000);
	/* A complete duplicate: ACK at once, counted, freed. */
	unsigned freed = f.e->segs_freed;
	fx_in(&f, B, 0, 1000);
	CHECK_EQ(c->st.dup_segs, 1);
	CHECK_EQ(f.e->segs_freed, freed + 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, B + 1000, 0);
	CHECK_EQ(c->rcvq_bytes, 1000);

	fx_in(&f, B + 2000, 0, 1000); /* [2000,3000) */
	fx_in(&f, B + 2500, 0, 1000); /* front trimmed: [3000,3500) joins */
	CHECK_EQ(c->ooo_bytes, 1500);
	CHECK_EQ(c->ooo_count, 1);
	fx_in(&f, B + 4000, 0, 500);  /* [4000,4500) */
	fx_in(&f, B + 3800, 0, 400);  /* back trimmed: [3800,4000) */
	CHECK_EQ(c->ooo_bytes, 2200);
	fx_in(&f, B + 1500, 0, 3500); /* [1500,5000) covers everything held */
	CHECK_EQ(c->ooo_bytes, 3500);
	CHECK_EQ(c->ooo_count, 1);
	SANITY(c);
	fx_in(&f, B + 500, 0, 1300); /* [500,1800): old front cut, then joins */
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B + 5000, -1);
	CHECK_EQ(c->rcvq_bytes, 5000);
	CHECK_EQ(c->ooo_bytes, 0);
	CHECK_EQ(c->st.bytes_in, 5000);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, B + 5000, 0);
	check_rcvq_bytes(c, B);

	/* The reader takes part of the head in place, the rest later. */
	struct rxseg *h = c->rcvq_head;
	pbuf_trim_front(&h->pb, 300);
	h->seq += 300;
	c->rcvq_bytes -= 300;
	check_rcvq_bytes(c, B + 300);
	uint32_t total = 0;
	struct rxseg *s;
	while ((s = tcp_rcvq_pop(c))) {
		total += s->pb.len;
		f.e->env.seg_free(f.e, s);
	}
	CHECK_EQ(total, 4700);
	CHECK_EQ(c->rcvq_bytes, 0);
	CHECK(c->rcvq_tail == NULL);
	fx_close(&f);
}

static void test_zero_window(void)
{
	struct fx f;
	/* mss 1036: 1024-byte payloads with TS; rcvbuf 8 KiB, window = 8 KiB */
	fx_open(&f, 8192, 1036);
	struct tcp_conn *c = f.c;
	const struct out_seg *o;
	CHECK_EQ(c->rcv_mss, 1024);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B, 8192);

	uint32_t seq = B;
	uint16_t expect[] = { 48, 32, 16, 0 };
	for (int i = 0; i < 4; i++) {
		fx_in(&f, seq, 0, 1024);
		fx_in(&f, seq + 1024, 0, 1024);
		seq += 2048;
		o = last_out(f.e);
		CHECK_OUT(o, WIRE_TCP_ACK, c->iss + 1, seq, 0);
		CHECK_EQ(o->th.window, expect[i]);
	}
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B + 8192, 0);
	CHECK_EQ(c->st.zero_window_sent, 1);

	/* A one-byte probe: dropped, answered with window 0. */
	unsigned n = f.e->nout;
	fx_in(&f, seq, 0, 1);
	CHECK_EQ(f.e->nout, n + 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, seq, 0);
	CHECK_EQ(last_out(f.e)->th.window, 0);
	CHECK_EQ(c->rcvq_bytes, 8192);
	/* An old-sequence probe as Linux sends: also ACKed. */
	fx_in(&f, seq - 1, 0, 0);
	CHECK_EQ(f.e->nout, n + 2);
	CHECK_EQ(last_out(f.e)->th.window, 0);

	/* The reader frees 1 KiB: from below one MSS to one: update. */
	struct rxseg *s = tcp_rcvq_pop(c);
	f.e->env.seg_free(f.e, s);
	tcp_rcv_space_changed(c, f.now);
	CHECK_EQ(f.e->nout, n + 3);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, seq, 0);
	CHECK_EQ(last_out(f.e)->th.window, 8);
	/* One more KiB: the window can double (Linux's tcp_cleanup_rbuf
	 * rule): announced. */
	f.e->env.seg_free(f.e, tcp_rcvq_pop(c));
	tcp_rcv_space_changed(c, f.now);
	CHECK_EQ(f.e->nout, n + 4);
	CHECK_EQ(last_out(f.e)->th.window, 16);
	/* One more: 3 KiB, not twice the 2 KiB advertised: not yet. */
	f.e->env.seg_free(f.e, tcp_rcvq_pop(c));
	tcp_rcv_space_changed(c, f.now);
	CHECK_EQ(f.e->nout, n + 4);
	/* And one more: 4 KiB, twice: announced. */
	f.e->env.seg_free(f.e, tcp_rcvq_pop(c));
	tcp_rcv_space_changed(c, f.now);
	CHECK_EQ(f.e->nout, n + 5);
	CHECK_EQ(last_out(f.e)->th.window, 32);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B + 8192, 4096);

	/* Data beyond the right edge is cut off, the rest kept. */
	fx_in(&f, seq, 0, 3072);
	CHECK_EQ(c->rcvq_bytes, 4096 + 3072);
	fx_in(&f, seq + 3072, 0, 2048);
	CHECK_EQ(c->rcvq_bytes, 4096 + 4096);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B + 8192 + 4096, 0);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, B + 12288, 0);
	check_rcvq_bytes(c, B + 4096);
	fx_close(&f);
}

static void test_right_edge_never_shrinks(void)
{
	struct fx f;
	fx_open(&f, 8192, 1036);
	struct tcp_conn *c = f.c;
	uint32_t edge = c->rcv_adv;
	CHECK_EQ(edge, B + 8192);
	f.e->rx_space = 2048; /* the socket lost space elsewhere (tokens) */
	uint32_t seq = B;
	for (int i = 0; i < 8; i++) {
		fx_in(&f, seq, 0, 1024);
		seq += 1024;
		const struct out_seg *o = last_out(f.e);
		if (o) {
			uint32_t e2 = o->th.ack + ((uint32_t)o->th.window << 7);
			CHECK(seq_ge(e2, edge));
			edge = e2;
		}
		CHECK(seq_ge(c->rcv_adv, edge));
	}
	/* Every ACK kept the edge at B + 8192 until the window was used up. */
	CHECK_EQ(c->rcv_adv, B + 8192 + 2048);
	CHECK_EQ(c->rcvq_bytes, 8192);
	fx_close(&f);
}

static void test_fin_passive_close(void)
{
	struct fx f;
	fx_open(&f, 256u << 10, 1460);
	struct tcp_conn *c = f.c;
	fx_in(&f, B, WIRE_TCP_FIN, 500); /* data + FIN */
	CHECK_CONN(c, TCP_CLOSE_WAIT, c->iss + 1, B + 501, -1);
	CHECK(c->fin_rcvd);
	CHECK(ev_of(f.e, c) & TCP_EV_READABLE);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, B + 501, 0);
	/* A retransmitted FIN: ACKed again. */
	unsigned n = f.e->nout;
	fx_in(&f, B, WIRE_TCP_FIN, 500);
	CHECK_EQ(f.e->nout, n + 1);
	CHECK_EQ(c->rcvq_bytes, 500);

	tcp_shutdown(c, f.now);
	CHECK_EQ(c->state, TCP_LAST_ACK);
	CHECK_OUT(last_out(f.e), WIRE_TCP_FIN | WIRE_TCP_ACK, c->iss + 1, B + 501, 0);
	CHECK(c->t_rexmit != 0);
	/* FIN lost: retransmitted on RTO. */
	n = f.e->nout;
	tcp_timers(c, c->t_rexmit);
	CHECK_EQ(f.e->nout, n + 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_FIN | WIRE_TCP_ACK, c->iss + 1, B + 501, 0);
	CHECK_EQ(c->snd_max, c->iss + 2);

	fx_in(&f, B + 501, 0, 0); /* acks our FIN (snd_nxt = iss + 2) */
	CHECK_EQ(c->state, TCP_CLOSED);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_CLOSED), 1);
	CHECK_EQ(c->err, 0);
	fx_close(&f);
}

static void test_fin_active_close_time_wait(void)
{
	struct fx f;
	fx_open(&f, 256u << 10, 1460);
	struct tcp_conn *c = f.c;
	tcp_shutdown(c, f.now);
	CHECK_EQ(c->state, TCP_FIN_WAIT1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_FIN | WIRE_TCP_ACK, c->iss + 1, B, 0);
	CHECK_EQ(tcp_send(c, "x", 1, f.now), -EPIPE);
	fx_in(&f, B, 0, 0); /* ack of FIN */
	CHECK_CONN(c, TCP_FIN_WAIT2, c->iss + 2, B, -1);
	CHECK_EQ(c->t_rexmit, 0);
	fx_in(&f, B, 0, 700); /* data still flows in */
	CHECK_EQ(c->rcvq_bytes, 700);
	f.now += 1000;
	fx_in(&f, B + 700, WIRE_TCP_FIN, 0);
	CHECK_CONN(c, TCP_TIME_WAIT, c->iss + 2, B + 701, -1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 2, B + 701, 0);
	uint64_t tw = f.now + f.e->cfg.time_wait_us;
	CHECK_EQ(tcp_next_deadline(c), tw);
	/* Retransmitted FIN: re-ACK and restart the wait. */
	f.now += 5 * TCP_SEC;
	unsigned n = f.e->nout;
	fx_in(&f, B + 700, WIRE_TCP_FIN, 0);
	CHECK_EQ(f.e->nout, n + 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 2, B + 701, 0);
	tw = f.now + f.e->cfg.time_wait_us;
	CHECK_EQ(tcp_next_deadline(c), tw);
	/* A RST does not end TIME_WAIT (RFC 1337). */
	struct tcp_seg r = fx_seg(&f, B + 701, WIRE_TCP_RST, 0);
	tcp_input(c, &r, f.now);
	CHECK_EQ(c->state, TCP_TIME_WAIT);
	CHECK_EQ(tcp_timers(c, tw - 1), tw);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_CLOSED), 0);
	CHECK_EQ(tcp_timers(c, tw), UINT64_MAX);
	CHECK_EQ(c->state, TCP_CLOSED);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_CLOSED), 1);
	fx_close(&f);
}

static void test_simultaneous_close(void)
{
	struct fx f;
	fx_open(&f, 256u << 10, 1460);
	struct tcp_conn *c = f.c;
	uint32_t iss = c->iss;
	tcp_shutdown(c, f.now);
	/* Peer's FIN crosses ours: it acks only our SYN. */
	struct tcp_seg s = mkseg(f.e, B, iss + 1, WIRE_TCP_FIN | WIRE_TCP_ACK, 502, 0);
	seg_ts(&s, ++f.peer_ts, 0);
	tcp_input(c, &s, f.now);
	CHECK_CONN(c, TCP_CLOSING, iss + 1, B + 1, -1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, iss + 2, B + 1, 0);
	fx_in(&f, B + 1, 0, 0); /* ack of our FIN */
	CHECK_CONN(c, TCP_TIME_WAIT, iss + 2, B + 1, -1);
	tcp_timers(c, f.now + f.e->cfg.time_wait_us);
	CHECK_EQ(c->state, TCP_CLOSED);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_CLOSED), 1);
	fx_close(&f);
}

static void test_fin_out_of_order(void)
{
	struct fx f;
	fx_open(&f, 256u << 10, 1460);
	struct tcp_conn *c = f.c;
	fx_in(&f, B + 1000, WIRE_TCP_FIN, 1000); /* the end arrives first */
	CHECK_EQ(c->state, TCP_ESTABLISHED);
	CHECK(c->ooo_fin);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, B, 0);
	fx_in(&f, B, 0, 1000);
	CHECK_CONN(c, TCP_CLOSE_WAIT, c->iss + 1, B + 2001, -1);
	CHECK_EQ(c->rcvq_bytes, 2000);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, B + 2001, 0);
	check_rcvq_bytes(c, B);
	fx_close(&f);
}

static void test_rst_rfc5961(void)
{
	struct fx f;
	fx_open(&f, 256u << 10, 1460);
	struct tcp_conn *c = f.c;
	fx_in(&f, B, 0, 100);
	uint32_t rn = c->rcv_nxt;
	unsigned n = f.e->nout;

	/* Outside the window: dropped silently. */
	struct tcp_seg r = mkseg(f.e, rn + 10000000, 0, WIRE_TCP_RST, 0, 0);
	tcp_input(c, &r, f.now);
	CHECK_EQ(f.e->nout, n);
	CHECK_EQ(c->state, TCP_ESTABLISHED);
	/* In the window but not exact: challenge ACK. */
	r = mkseg(f.e, rn + 100, 0, WIRE_TCP_RST, 0, 0);
	tcp_input(c, &r, f.now);
	CHECK_EQ(f.e->nout, n + 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, rn, 0);
	CHECK_EQ(c->st.challenge_acks, 1);
	CHECK_EQ(c->state, TCP_ESTABLISHED);
	/* A SYN in a synchronized state: challenge ACK (RFC 5961 4). */
	struct tcp_seg syn = mk_linux_syn(f.e, 12345, f.peer_ts + 1);
	tcp_input(c, &syn, f.now);
	CHECK_EQ(f.e->nout, n + 2);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, rn, 0);
	CHECK_EQ(c->st.challenge_acks, 2);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, rn, -1);
	/* Exactly rcv_nxt: reset. */
	r = mkseg(f.e, rn, 0, WIRE_TCP_RST, 0, 0);
	tcp_input(c, &r, f.now);
	CHECK_EQ(f.e->nout, n + 2);
	CHECK_EQ(c->state, TCP_CLOSED);
	CHECK_EQ(c->err, ECONNRESET);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_ERROR), 1);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_CLOSED), 1);
	CHECK_EQ(tcp_send(c, "x", 1, f.now), -EPIPE);
	CHECK_EQ(c->rcvq_bytes, 100); /* still readable until destroyed */
	fx_close(&f);
}

static void test_paws(void)
{
	struct fx f;
	fx_open(&f, 256u << 10, 1460);
	struct tcp_conn *c = f.c;
	fx_in(&f, B, 0, 100);
	uint32_t recent = c->ts_recent;
	CHECK_EQ(recent, f.peer_ts);
	/* An old timestamp: dropped, duplicate ACK. */
	struct tcp_seg s = mkseg(f.e, B + 100, c->snd_nxt, WIRE_TCP_ACK, 502, 100);
	seg_ts(&s, recent - 10, 0);
	unsigned n = f.e->nout;
	tcp_input(c, &s, f.now);
	CHECK_EQ(c->st.paws_drops, 1);
	CHECK_EQ(f.e->nout, n + 1);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B + 100, -1);
	/* ts_recent does not follow a segment beyond Last.ACK.sent. */
	fx_in(&f, B + 5000, 0, 100);
	CHECK_EQ(c->ts_recent, recent);
	/* After 24 days of silence ts_recent is stale: accepted. */
	f.now += 25ull * 24 * 3600 * TCP_SEC;
	s = mkseg(f.e, B + 100, c->snd_nxt, WIRE_TCP_ACK, 502, 100);
	seg_ts(&s, recent - 10, 0);
	tcp_input(c, &s, f.now);
	CHECK_EQ(c->st.paws_drops, 1);
	CHECK_EQ(c->rcv_nxt, B + 200);
	CHECK_EQ(c->ts_recent, recent - 10);
	fx_close(&f);
}

static void test_bad_ack(void)
{
	struct fx f;
	fx_open(&f, 256u << 10, 1460);
	struct tcp_conn *c = f.c;
	/* ACK of data never sent: ACK back, segment dropped. */
	struct tcp_seg s = mkseg(f.e, B, c->snd_max + 1000, WIRE_TCP_ACK, 502, 100);
	seg_ts(&s, ++f.peer_ts, 0);
	tcp_input(c, &s, f.now);
	CHECK_EQ(c->st.bad_ack_drops, 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 1, B, 0);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B, -1);
	/* Far too old (before snd_una - max window): dropped, silent. */
	unsigned n = f.e->nout;
	s = mkseg(f.e, B, c->snd_una - c->max_snd_wnd - 10, WIRE_TCP_ACK, 502, 100);
	seg_ts(&s, ++f.peer_ts, 0);
	tcp_input(c, &s, f.now);
	CHECK_EQ(c->st.bad_ack_drops, 2);
	CHECK_EQ(f.e->nout, n);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B, -1);
	/* Old but inside max window: the data is taken. */
	s = mkseg(f.e, B, c->snd_una - 10, WIRE_TCP_ACK, 502, 100);
	seg_ts(&s, ++f.peer_ts, 0);
	tcp_input(c, &s, f.now);
	CHECK_CONN(c, TCP_ESTABLISHED, c->iss + 1, B + 100, -1);
	fx_close(&f);
}

static void test_syn_backlog(void)
{
	struct tenv *e = tenv_new();
	struct tcp_conn l;
	uint64_t now = T0;
	tcp_conn_init(&l, &LEP, &e->cfg, &e->env, e);
	tcp_listen(&l, 2);
	for (int i = 0; i < 3; i++) {
		struct tcp_seg syn = mk_linux_syn(e, 100 * i, 1);
		syn.th.sport = (uint16_t)(40001 + i);
		tcp_input(&l, &syn, now);
	}
	CHECK_EQ(e->nchildren, 2);
	CHECK_EQ(l.syn_recv, 2);
	CHECK_EQ(l.st.syn_drops, 1);
	CHECK_EQ(e->nout, 2);
	/* A retransmitted SYN to a child: SYN-ACK again. */
	struct tcp_conn *c0 = &e->children[0], *c1 = &e->children[1];
	struct tcp_seg syn = mk_linux_syn(e, 0, 1);
	tcp_input(c0, &syn, now);
	CHECK_EQ(e->nout, 3);
	CHECK_OUT(last_out(e), WIRE_TCP_SYN | WIRE_TCP_ACK, c0->iss, 1, 0);
	/* Bad ACK in SYN_RECV: RST <SEQ=SEG.ACK>. */
	struct tcp_seg ba = mkseg(e, 1, c0->iss + 50, WIRE_TCP_ACK, 100, 0);
	tcp_input(c0, &ba, now);
	CHECK_OUT(last_out(e), WIRE_TCP_RST, c0->iss + 50, 0, 0);
	CHECK_EQ(c0->state, TCP_SYN_RECV);
	/* Child 0 completes: one slot free again. */
	struct tcp_seg ack = mkseg(e, 1, c0->iss + 1, WIRE_TCP_ACK, 100, 0);
	seg_ts(&ack, 2, 0);
	tcp_input(c0, &ack, now);
	CHECK_EQ(c0->state, TCP_ESTABLISHED);
	CHECK_EQ(l.syn_recv, 1);
	struct tcp_seg s3 = mk_linux_syn(e, 900, 1);
	s3.th.sport = 40009;
	tcp_input(&l, &s3, now);
	CHECK_EQ(e->nchildren, 3);
	CHECK_EQ(l.syn_recv, 2);
	/* Child 1 reset while in SYN_RECV: gone, slot back. */
	struct tcp_seg r = mkseg(e, 101, 0, WIRE_TCP_RST, 0, 0);
	tcp_input(c1, &r, now);
	CHECK_EQ(c1->state, TCP_CLOSED);
	CHECK_EQ(ev_count(e, c1, TCP_EV_CLOSED), 1);
	CHECK_EQ(l.syn_recv, 1);
	/* Child 2 never hears back: 5 SYN-ACK retransmissions, then it dies. */
	struct tcp_conn *c2 = &e->children[2];
	unsigned n = e->nout;
	uint64_t t = now;
	while (c2->state == TCP_SYN_RECV && t < now + 1000 * TCP_SEC)
		t = tcp_timers(c2, t);
	CHECK_EQ(e->nout, n + TCP_SYNACK_RETRIES);
	CHECK_EQ(c2->state, TCP_CLOSED);
	CHECK_EQ(ev_count(e, c2, TCP_EV_CLOSED), 1);
	CHECK_EQ(c2->err, 0);
	CHECK_EQ(l.syn_recv, 0);
	/* A refused child counts as a drop. */
	e->refuse_child = true;
	struct tcp_seg s4 = mk_linux_syn(e, 5, 1);
	tcp_input(&l, &s4, now);
	CHECK_EQ(l.st.syn_drops, 2);
	struct tcp_conn *conns[] = { &l };
	tenv_free(e, conns, 1);
}

static void test_time_wait_reopen(void)
{
	for (int use_ts = 0; use_ts < 2; use_ts++) {
		struct fx f;
		fx_open(&f, 256u << 10, 1460);
		struct tcp_conn *c = f.c;
		tcp_shutdown(c, f.now);
		fx_in(&f, B, WIRE_TCP_FIN, 0);
		CHECK_EQ(c->state, TCP_TIME_WAIT);
		uint32_t recent = c->ts_recent;
		/* An old SYN: challenge ACK, stays. */
		struct tcp_seg s = mk_linux_syn(f.e, B - 100, recent - 1);
		if (!use_ts)
			s.th.opts.present &= (uint8_t)~WIRE_OPT_TS;
		unsigned n = f.e->nout;
		CHECK_EQ(tcp_input(c, &s, f.now), TCP_IN_OK);
		CHECK_EQ(f.e->nout, n + 1);
		CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, c->iss + 2, B + 1, 0);
		CHECK_EQ(c->state, TCP_TIME_WAIT);
		/* A newer one (higher TS, or higher seq without TS): reopen. */
		s = mk_linux_syn(f.e, use_ts ? B - 100 : B + 100000, recent + 1);
		if (!use_ts)
			s.th.opts.present &= (uint8_t)~WIRE_OPT_TS;
		CHECK_EQ(tcp_input(c, &s, f.now), TCP_IN_REOPEN);
		CHECK_EQ(c->state, TCP_CLOSED);
		CHECK_EQ(ev_count(f.e, c, TCP_EV_CLOSED), 1);
		/* The caller hands it to the listener now. */
		CHECK_EQ(tcp_input(&f.l, &s, f.now), TCP_IN_OK);
		CHECK_EQ(f.e->nchildren, 2);
		fx_close(&f);
	}
}

static void test_abort(void)
{
	struct fx f;
	fx_open(&f, 256u << 10, 1460);
	struct tcp_conn *c = f.c;
	tcp_abort(c, f.now);
	CHECK_OUT(last_out(f.e), WIRE_TCP_RST | WIRE_TCP_ACK, c->iss + 1, B, 0);
	CHECK_EQ(c->state, TCP_CLOSED);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_CLOSED), 1);
	tcp_abort(c, f.now);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_CLOSED), 1);
	fx_close(&f);
}

static void test_ooo_bounds(void)
{
	struct fx f;
	fx_open(&f, 1u << 20, 1460);
	struct tcp_conn *c = f.c;
	/* 300 islands of 10 bytes, every other 10: the list holds 256. */
	for (uint32_t i = 0; i < 300; i++)
		fx_in(&f, B + 20 * i + 20, 0, 10);
	CHECK_EQ(c->ooo_count, TCP_OOO_MAX);
	CHECK_EQ(c->st.ooo_dropped, 300 - TCP_OOO_MAX);
	CHECK_EQ(c->ooo_bytes, 10 * TCP_OOO_MAX);
	SANITY(c);
	/* One big segment covering the first 10 islands replaces them. */
	fx_in(&f, B + 20, 0, 195);
	CHECK_EQ(c->ooo_count, TCP_OOO_MAX - 9);
	SANITY(c);
	fx_close(&f);
}

static void test_simultaneous_open(void)
{
	struct tenv *ea = tenv_new(), *eb = tenv_new();
	struct tcp_conn a, b;
	uint64_t now = T0;
	struct tcp_ep epa = { .family = AF_INET, .laddr = { 10, 0, 0, 1 }, .raddr = { 10, 0, 0, 2 },
			      .lport = 7000, .rport = 7001 };
	struct tcp_ep epb = { .family = AF_INET, .laddr = { 10, 0, 0, 2 }, .raddr = { 10, 0, 0, 1 },
			      .lport = 7001, .rport = 7000 };
	tcp_conn_init(&a, &epa, &ea->cfg, &ea->env, ea);
	tcp_conn_init(&b, &epb, &eb->cfg, &eb->env, eb);
	tcp_connect(&a, now);
	tcp_connect(&b, now);
	/* The SYNs cross. */
	struct tcp_seg sa = mkseg(eb, 0, 0, 0, 0, 0), sb = sa;
	sa.th = ea->out[0].th;
	sb.th = eb->out[0].th;
	tcp_input(&b, &sa, now);
	tcp_input(&a, &sb, now);
	CHECK_EQ(a.state, TCP_SYN_RECV);
	CHECK_EQ(b.state, TCP_SYN_RECV);
	CHECK_OUT(last_out(ea), WIRE_TCP_SYN | WIRE_TCP_ACK, a.iss, b.iss + 1, 0);
	/* The SYN-ACKs cross: both established, no challenge ACKs. */
	struct tcp_seg saa = sa, sba = sb;
	saa.th = last_out(ea)->th;
	sba.th = last_out(eb)->th;
	unsigned na = ea->nout, nb = eb->nout;
	tcp_input(&b, &saa, now);
	tcp_input(&a, &sba, now);
	CHECK_CONN(&a, TCP_ESTABLISHED, a.iss + 1, b.iss + 1, -1);
	CHECK_CONN(&b, TCP_ESTABLISHED, b.iss + 1, a.iss + 1, -1);
	CHECK_EQ(ev_count(ea, &a, TCP_EV_ESTABLISHED), 1);
	CHECK_EQ(ev_count(eb, &b, TCP_EV_ESTABLISHED), 1);
	CHECK_EQ(ea->nout, na);
	CHECK_EQ(eb->nout, nb);
	CHECK_EQ(a.st.challenge_acks + b.st.challenge_acks, 0);
	struct tcp_conn *ca[] = { &a }, *cb[] = { &b };
	tenv_free(ea, ca, 1);
	tenv_free(eb, cb, 1);
}

int main(void)
{
	RUN(test_passive_handshake);
	RUN(test_active_handshake);
	RUN(test_active_refused_and_syn_retries);
	RUN(test_delayed_ack);
	RUN(test_ooo_sack);
	RUN(test_duplicates_and_overlaps);
	RUN(test_zero_window);
	RUN(test_right_edge_never_shrinks);
	RUN(test_fin_passive_close);
	RUN(test_fin_active_close_time_wait);
	RUN(test_simultaneous_close);
	RUN(test_fin_out_of_order);
	RUN(test_rst_rfc5961);
	RUN(test_paws);
	RUN(test_bad_ack);
	RUN(test_syn_backlog);
	RUN(test_time_wait_reopen);
	RUN(test_abort);
	RUN(test_ooo_bounds);
	RUN(test_simultaneous_open);
	return CHECK_DONE();
}
