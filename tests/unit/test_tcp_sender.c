/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_sender: the sender's state machines with injected time (tier b):
 * RTO backoff and the ACK that ends it, fast retransmit on exactly three
 * duplicate ACKs, SACK recovery of several holes, slow start, CUBIC
 * (RFC 9438) and NewReno congestion avoidance, zero-window probes, Nagle,
 * TCP_NODELAY and TCP_CORK, and TCP_INFO.
 */
#include <linux/tcp.h>

#include "test_tcp_harness.h"

#define PEER_ISS 90000u
#define R (PEER_ISS + 1)
#define M 1448u          /* snd_mss: 1460 - timestamps */
#define WIN_BIG 65535    /* window field: 8 MiB at the peer's shift 7 */
#define RTO_MIN 200000ull
#define RTO_MAX 120000000ull

struct fx {
	struct tenv *e;
	struct tcp_conn c;
	uint64_t now;
	uint64_t rtt;      /* the peer echoes timestamps this much later */
	uint32_t peer_ts;
	uint64_t sent;     /* bytes tcp_send took */
	bool track_ca;     /* note the first congestion avoidance ACK */
	uint64_t ca_start; /* its time */
};

struct fx_opt {
	bool no_sack, nodelay, cork, no_tlp;
	uint8_t cc;
};

static uint8_t data[1u << 20];

static const struct tcp_ep EP = { .family = AF_INET, .laddr = { 192, 0, 2, 1 },
				  .raddr = { 192, 0, 2, 2 }, .lport = 34000, .rport = 5201 };

/* Active open against a Linux-like peer (TS, WS 7, SACK unless no_sack);
 * the handshake RTT is 100 us. */
static void fx_open(struct fx *f, struct fx_opt o)
{
	memset(f, 0, sizeof(*f));
	f->e = tenv_new();
	f->e->cfg.nodelay = o.nodelay;
	f->e->cfg.cork = o.cork;
	f->e->cfg.no_tlp = o.no_tlp;
	f->e->cfg.cc = o.cc;
	f->e->cfg.sndbuf = 1u << 20;
	f->now = T0;
	f->peer_ts = 100;
	tcp_conn_init(&f->c, &EP, &f->e->cfg, &f->e->env, f->e);
	tcp_connect(&f->c, f->now);
	f->now += 100;
	struct tcp_seg sa = mkseg(f->e, PEER_ISS, f->c.iss + 1, WIRE_TCP_SYN | WIRE_TCP_ACK, 65535, 0);
	sa.th.opts.present = WIRE_OPT_MSS | WIRE_OPT_TS | WIRE_OPT_WSCALE |
			     (o.no_sack ? 0 : WIRE_OPT_SACKOK);
	sa.th.opts.mss = 1460;
	sa.th.opts.wscale = 7;
	sa.th.opts.tsval = f->peer_ts;
	sa.th.opts.tsecr = tcp_ts_now(&f->c, T0);
	tcp_input(&f->c, &sa, f->now);
	CHECK_EQ(f->c.state, TCP_ESTABLISHED);
	CHECK_EQ(f->c.snd_mss, M);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 131 + (i >> 9));
	tenv_clear_out(f->e);
	f->e->nev = 0;
}

static void fx_close(struct fx *f)
{
	struct tcp_conn *conns[] = { &f->c };
	tenv_free(f->e, conns, 1);
}

/* An ACK from the peer echoing tsecr; window field win; SACK blocks. */
static void fx_ack_ts(struct fx *f, uint32_t ack, uint16_t win, uint32_t tsecr, unsigned nsack,
		      const uint32_t *edges)
{
	struct tcp_conn *c = &f->c;
	bool ca = f->track_ca && !f->ca_start && !c->in_recovery && !c->loss_mode &&
		  c->cwnd >= c->ssthresh;
	uint32_t una = c->snd_una;
	struct tcp_seg s = mkseg(f->e, R, ack, WIRE_TCP_ACK, win, 0);
	seg_ts(&s, ++f->peer_ts, tsecr);
	if (nsack)
		seg_sack(&s, nsack, edges);
	tcp_input(c, &s, f->now);
	if (ca && c->snd_una != una)
		f->ca_start = f->now;
}

/* The same, echoing the timestamp of what was sent one f->rtt ago. */
static void fx_ack(struct fx *f, uint32_t ack, uint16_t win, unsigned nsack, const uint32_t *edges)
{
	fx_ack_ts(f, ack, win, tcp_ts_now(&f->c, f->now - f->rtt), nsack, edges);
}

/* Queue len bytes (of the pattern) at once. */
static void fx_send(struct fx *f, uint32_t len)
{
	int64_t n = tcp_send(&f->c, data + f->sent % sizeof(data), len, f->now);
	CHECK_EQ(n, len);
	if (n > 0)
		f->sent += (uint64_t)n;
}

/* Keep the send buffer full: the sender is never application-limited. */
static void fx_fill(struct fx *f)
{
	for (;;) {
		uint32_t off = (uint32_t)(f->sent % sizeof(data));
		uint32_t n = DEVMEM_MIN(tcp_send_space(&f->c), (uint32_t)sizeof(data) - off);
		if (!n)
			return;
		int64_t r = tcp_send(&f->c, data + off, n, f->now);
		if (r <= 0)
			return;
		f->sent += (uint64_t)r;
	}
}

/* First byte of the SACK block holding seq's successor, else seq (the
 * receiver's cumulative ACK once the hole below is filled). */
static uint32_t through_sacked(const struct tcp_conn *c, uint32_t seq)
{
	for (unsigned i = 0; i < c->nscore; i++)
		if (seq_le(c->scoreboard[i].start, seq) && seq_lt(seq, c->scoreboard[i].end))
			return c->scoreboard[i].end;
	return seq;
}

/*
 * One round trip: the peer acks, spread evenly over f->rtt, each MSS that
 * was in flight when the round began (what it had SACKed is covered by the
 * cumulative ACK). lose_first: the round's first segment was lost, the
 * others arrive and are SACKed (duplicate ACKs).
 */
static void fx_round(struct fx *f, bool lose_first)
{
	struct tcp_conn *c = &f->c;
	uint32_t una = c->snd_una, end = c->snd_max;
	unsigned n = (end - una + M - 1) / M;
	uint64_t t0 = f->now;
	uint32_t last = una;
	for (unsigned k = 1; k <= n; k++) {
		uint32_t upto = una + DEVMEM_MIN(k * M, end - una);
		f->now = t0 + f->rtt * k / n;
		if (lose_first) {
			if (k == 1)
				continue; /* lost: no ACK */
			uint32_t b[] = { una + M, upto };
			fx_ack(f, una, WIN_BIG, 1, b);
			continue;
		}
		upto = through_sacked(c, upto);
		if (seq_le(upto, last))
			continue;
		last = upto;
		fx_ack(f, upto, WIN_BIG, 0, NULL);
	}
	f->now = t0 + f->rtt;
	fx_fill(f);
	tenv_clear_out(f->e);
}

/* How many times seq was sent as a segment's first byte since index from. */
static unsigned sent_at(struct fx *f, unsigned from, uint32_t seq)
{
	unsigned n = 0;
	for (unsigned i = from; i < f->e->nout; i++)
		if (f->e->out[i].paylen && f->e->out[i].th.seq == seq)
			n++;
	return n;
}

static unsigned data_segs(struct fx *f, unsigned from)
{
	unsigned n = 0;
	for (unsigned i = from; i < f->e->nout; i++)
		n += f->e->out[i].paylen != 0;
	return n;
}

/* Cube root by bisection: independent of cc.c's Newton iteration. */
static double cube_root(double x)
{
	double lo = 0, hi = x > 1 ? x : 1;
	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;
		if (mid * mid * mid < x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static double absd(double x) { return x < 0 ? -x : x; }

/* ---- RTO ------------------------------------------------------------------------ */

static void test_rto_doubles_to_max_and_restarts_from_snd_una(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ .no_tlp = true }); /* the RTO alone */
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	uint32_t iw = c->cwnd;
	CHECK_EQ(iw, 10 * M);
	/* RFC 6298 2.4: a 100 us RTT still gives the 200 ms floor. */
	CHECK_EQ(c->rto_us, RTO_MIN);
	fx_send(&f, 3 * M);
	CHECK_EQ(f.e->nout, 3);
	uint64_t t = f.now + RTO_MIN;
	CHECK_EQ(tcp_next_deadline(c), t);
	/* RFC 6298 5.5: double per expiry up to 120 s; each expiry resends
	 * one segment from snd_una with cwnd = 1 MSS (RFC 5681 3.1). */
	uint64_t expect[] = { 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 102400,
			      120000, 120000, 120000 }; /* ms */
	for (unsigned i = 0; i < DEVMEM_ARRAY_SIZE(expect); i++) {
		unsigned n = f.e->nout;
		CHECK_EQ(tcp_timers(c, t - 1), t);
		CHECK_EQ(f.e->nout, n);
		tcp_timers(c, t);
		CHECK_EQ(f.e->nout, n + 1);
		CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0, R, M);
		CHECK_EQ(c->cwnd, M);
		CHECK_EQ(c->backoff, i + 1);
		CHECK_EQ(tcp_next_deadline(c) - t, expect[i] * MS);
		t = tcp_next_deadline(c);
	}
	CHECK_EQ(tcp_rto_backed_off(c), RTO_MAX);
	CHECK_EQ(c->st.rto_events, DEVMEM_ARRAY_SIZE(expect));
	/* CUBIC: ssthresh = 0.7 cwnd once, on the first expiry (RFC 9438 4.8). */
	CHECK_EQ(c->ssthresh, (uint32_t)(iw * 0.7));
	CHECK_EQ(c->state, TCP_ESTABLISHED);
	fx_close(&f);
}

static void test_rto_ack_resets_backoff_and_samples_rtt(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ .no_tlp = true }); /* the RTO alone */
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	fx_send(&f, 3 * M);
	uint64_t t = tcp_next_deadline(c);
	for (int i = 0; i < 3; i++) {
		tcp_timers(c, t);
		t = tcp_next_deadline(c);
	}
	CHECK_EQ(c->backoff, 3);
	uint32_t rxt_ts = last_out(f.e)->th.opts.tsval;
	uint64_t rxt_at = t - (RTO_MIN << 3);
	/* The last retransmission is answered 300 ms later: the echoed
	 * timestamp is a valid RTT sample (RFC 7323 4.1; Karn only bars the
	 * timed segment), the backoff goes (RFC 6298 5.7 as Linux). */
	f.now = rxt_at + 300 * MS;
	unsigned n = f.e->nout;
	CHECK_EQ(c->srtt_us, 100);
	fx_ack_ts(&f, s0 + M, 2048, rxt_ts, 0, NULL);
	CHECK_EQ(c->backoff, 0);
	/* RFC 6298 2.3 with R = 300 ms from SRTT 100 us, RTTVAR 50 us. */
	uint32_t srtt = 100 - 100 / 8 + 300000 / 8;
	uint32_t rttvar = 50 - 50 / 4 + (300000 - 100) / 4;
	CHECK_EQ(c->srtt_us, srtt);
	CHECK_EQ(c->rttvar_us, rttvar);
	CHECK_EQ(c->rto_us, srtt + 4 * rttvar);
	CHECK_EQ(tcp_next_deadline(c), f.now + c->rto_us);
	/* Slow start from the loss window: 2 MSS, the other two segments
	 * are resent (after an RTO everything unSACKed is lost). */
	CHECK_EQ(c->cwnd, 2 * M);
	CHECK_EQ(f.e->nout, n + 2);
	CHECK_OUT(&f.e->out[n], WIRE_TCP_ACK, s0 + M, R, M);
	CHECK_OUT(&f.e->out[n + 1], WIRE_TCP_ACK | WIRE_TCP_PSH, s0 + 2 * M, R, M);
	f.now += 300 * MS;
	fx_ack_ts(&f, s0 + 3 * M, 2048, last_out(f.e)->th.opts.tsval, 0, NULL);
	CHECK_EQ(c->snd_una, s0 + 3 * M);
	CHECK_EQ(c->t_rexmit, 0);
	CHECK(!c->loss_mode);
	/* New data is timed again (Karn's hold is over): a 250 ms sample. */
	uint32_t before = c->srtt_us;
	fx_send(&f, M);
	CHECK(c->rtt_active);
	f.now += 250 * MS;
	fx_ack_ts(&f, s0 + 4 * M, 2048, 0, 0, NULL);
	CHECK_EQ(c->srtt_us, before - before / 8 + 250000 / 8);
	fx_close(&f);
}

/* ---- fast retransmit ---------------------------------------------------------------- */

static void test_fast_retransmit_on_third_dupack_not_second(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ .no_sack = true });
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	fx_send(&f, 10 * M);
	CHECK_EQ(f.e->nout, 10);
	/* Segment 1 lost: the ACK of 0, then a duplicate for each of 2, 3, 4. */
	fx_ack(&f, s0 + M, 2048, 0, NULL);
	uint32_t cwnd = c->cwnd;
	unsigned n = f.e->nout;
	fx_ack(&f, s0 + M, 2048, 0, NULL);
	fx_ack(&f, s0 + M, 2048, 0, NULL);
	CHECK_EQ(c->dupacks, 2);
	CHECK(!c->in_recovery);
	CHECK_EQ(sent_at(&f, n, s0 + M), 0);
	CHECK_EQ(c->cwnd, cwnd);
	fx_ack(&f, s0 + M, 2048, 0, NULL);
	/* RFC 5681 3.2: the third one retransmits the segment, once. */
	CHECK(c->in_recovery);
	CHECK_EQ(c->st.fast_retrans, 1);
	CHECK_EQ(sent_at(&f, n, s0 + M), 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0 + M, R, M);
	/* CUBIC's reduction, NewReno's inflation (RFC 6582 3.2 (2)). */
	CHECK_EQ(c->ssthresh, (uint32_t)(cwnd * 0.7));
	CHECK_EQ(c->cwnd, c->ssthresh + 3 * M);
	CHECK_EQ(c->st.rto_events, 0);
	fx_close(&f);
}

static void test_fast_retransmit_sack_third_dupack(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ 0 });
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
#define S(i) (s0 + (i) * M)
	fx_send(&f, 10 * M);
	unsigned n = f.e->nout;
	/* Segment 0 lost; each duplicate SACKs one more segment. */
	uint32_t b1[] = { S(1), S(2) }, b2[] = { S(1), S(3) }, b3[] = { S(1), S(4) };
	fx_ack(&f, S(0), 2048, 1, b1);
	fx_ack(&f, S(0), 2048, 1, b2);
	CHECK(!c->in_recovery);
	CHECK_EQ(sent_at(&f, n, S(0)), 0);
	fx_ack(&f, S(0), 2048, 1, b3);
	CHECK(c->in_recovery);
	CHECK_EQ(sent_at(&f, n, S(0)), 1);
	CHECK_EQ(c->cwnd, c->ssthresh); /* RFC 6675 5 (4.2) */
#undef S
	fx_close(&f);
}

/* ---- SACK recovery ---------------------------------------------------------------- */

static void test_sack_recovery_three_holes_once_each(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ 0 });
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
#define S(i) (s0 + (i) * M)
	fx_send(&f, 10 * M);
	CHECK_EQ(f.e->nout, 10);
	uint32_t w = c->cwnd;
	unsigned n = f.e->nout;
	/* Holes at 0, 3 and 6; the rest arrives in order, SACKed. */
	uint32_t a1[] = { S(1), S(2) };
	uint32_t a2[] = { S(1), S(3) };
	uint32_t a3[] = { S(4), S(5), S(1), S(3) };
	uint32_t a4[] = { S(4), S(6), S(1), S(3) };
	uint32_t a5[] = { S(7), S(8), S(4), S(6), S(1), S(3) };
	uint32_t a6[] = { S(7), S(9), S(4), S(6), S(1), S(3) };
	uint32_t a7[] = { S(7), S(10), S(4), S(6), S(1), S(3) };
	fx_ack(&f, S(0), 2048, 1, a1);
	fx_ack(&f, S(0), 2048, 1, a2);
	fx_ack(&f, S(0), 2048, 2, a3);
	CHECK(c->in_recovery);
	CHECK_EQ(c->ssthresh, (uint32_t)(w * 0.7));
	CHECK_EQ(c->cwnd, c->ssthresh);
	fx_ack(&f, S(0), 2048, 2, a4);
	fx_ack(&f, S(0), 2048, 3, a5);
	fx_ack(&f, S(0), 2048, 3, a6);
	fx_ack(&f, S(0), 2048, 3, a7);
	/* Each hole went exactly once, nothing SACKed went again. */
	CHECK_EQ(sent_at(&f, n, S(0)), 1);
	CHECK_EQ(sent_at(&f, n, S(3)), 1);
	CHECK_EQ(sent_at(&f, n, S(6)), 1);
	for (int i = 1; i < 10; i++)
		if (i % 3)
			CHECK_EQ(sent_at(&f, n, S(i)), 0);
	CHECK_EQ(c->st.retrans_segs, 3);
	/* Partial ACKs keep recovery on; the full ACK ends it, cwnd = ssthresh. */
	uint32_t p1[] = { S(7), S(10), S(4), S(6) };
	fx_ack(&f, S(3), 2048, 2, p1);
	CHECK(c->in_recovery);
	uint32_t p2[] = { S(7), S(10) };
	fx_ack(&f, S(6), 2048, 1, p2);
	CHECK(c->in_recovery);
	fx_ack(&f, S(10), 2048, 0, NULL);
	CHECK(!c->in_recovery);
	CHECK_EQ(c->cwnd, c->ssthresh);
	CHECK_EQ(c->ssthresh, (uint32_t)(w * 0.7));
	CHECK_EQ(c->st.fast_retrans, 1);
	CHECK_EQ(c->st.rto_events, 0);
	CHECK_EQ(c->st.retrans_segs, 3);
	CHECK_EQ(c->nscore, 0);
#undef S
	fx_close(&f);
}

/* ---- congestion window growth ------------------------------------------------------ */

static void test_slow_start_iw10_doubles_per_rtt(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ 0 });
	struct tcp_conn *c = &f.c;
	f.rtt = 10 * MS;
	fx_ack(&f, c->snd_una, WIN_BIG, 0, NULL); /* the peer's full window */
	fx_fill(&f);
	/* RFC 6928: ten segments before the first ACK. */
	CHECK_EQ(f.e->nout, 10);
	CHECK_EQ(c->snd_max - c->snd_una, 10 * M);
	tenv_clear_out(f.e);
	/* RFC 5681 3.1: every MSS acked adds one, so each RTT doubles. */
	for (unsigned r = 1; r <= 5; r++) {
		fx_round(&f, false);
		CHECK_EQ(c->cwnd, (10u << r) * M);
		CHECK_EQ(c->snd_max - c->snd_una, (10u << r) * M);
	}
	CHECK_EQ(c->ssthresh, UINT32_MAX);
	fx_close(&f);
}

/* Slow start to 160 segments at RTT rtt, then one loss and its recovery;
 * returns cwnd at the loss. */
static uint32_t grow_then_lose(struct fx *f, uint64_t rtt)
{
	struct tcp_conn *c = &f->c;
	f->rtt = rtt;
	fx_ack(f, c->snd_una, WIN_BIG, 0, NULL);
	fx_fill(f);
	for (int r = 0; r < 4; r++)
		fx_round(f, false);
	CHECK_EQ(c->cwnd, 160 * M);
	uint32_t w = c->cwnd;
	fx_round(f, true); /* the loss: duplicate ACKs, fast retransmit */
	CHECK(c->in_recovery);
	CHECK_EQ(c->st.fast_retrans, 1);
	f->track_ca = true;
	fx_round(f, false); /* the retransmission arrives: full ACK first */
	CHECK(!c->in_recovery);
	CHECK(f->ca_start != 0);
	CHECK_EQ(c->st.rto_events, 0);
	return w;
}

static void test_cubic_after_loss_follows_w_cubic(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ 0 });
	struct tcp_conn *c = &f.c;
	const uint64_t rtt = 100 * MS;
	uint32_t w = grow_then_lose(&f, rtt);
	/* RFC 9438 4.6: ssthresh = cwnd = 0.7 W_max (4.7: W_max = cwnd, it
	 * was the first loss). */
	uint32_t epoch = (uint32_t)(w * 0.7);
	CHECK_EQ(c->ssthresh, epoch);
	/* RFC 9438 eq. (1), (2) in segments, t from the stage's first ACK. */
	double wmax = (double)w / M;
	double k = cube_root((wmax - (double)epoch / M) / 0.4);
	CHECK(absd(k - 4.9324) < 0.001); /* cbrt(160 * 0.3 / 0.4) */
	/* cwnd after each RTT against W_cubic(t), within 1% (cwnd chases
	 * W_cubic(t + RTT) by (target - cwnd) / cwnd per MSS acked, 4.2),
	 * for 9 s: concave up to K, then convex. */
	double worst = 0;
	uint32_t at[10] = { epoch }; /* cwnd at whole seconds of t */
	for (int r = 0; r < 95; r++) {
		fx_round(&f, false);
		double t = (double)(f.now - f.ca_start) / TCP_SEC;
		double d = t - k;
		double wc = 0.4 * d * d * d + wmax;
		double seg = (double)c->cwnd / M;
		double err = absd(seg - wc) / wc;
		if (err > worst)
			worst = err;
		if (err > 0.01)
			fprintf(stderr, "t=%.2f s: cwnd %.2f segments, W_cubic %.2f\n", t, seg, wc);
		unsigned sec = (unsigned)t;
		if (sec < 10 && !at[sec])
			at[sec] = c->cwnd;
	}
	CHECK(worst <= 0.01);
	if (getenv("SENDER_VERBOSE")) {
		fprintf(stderr, "cubic: K %.3f s, worst error %.4f, W_max %u; cwnd at t = 0..9 s:", k,
			worst, w / M);
		for (int i = 0; i < 10; i++)
			fprintf(stderr, " %.1f", (double)at[i] / M);
		fprintf(stderr, "\n");
	}
	/* The shape: each second before K adds less than the one before
	 * (concave, 4.4), each one after K more (convex, 4.5); the plateau
	 * at K is W_max. */
	for (int i = 1; i < 10; i++)
		CHECK(at[i] != 0);
	for (int i = 1; i + 1 <= 4; i++)
		CHECK(at[i + 1] - at[i] < at[i] - at[i - 1]);
	for (int i = 6; i + 1 < 10; i++)
		CHECK(at[i + 1] - at[i] > at[i] - at[i - 1]);
	CHECK(at[4] < w && at[6] > w);
	CHECK(absd((double)at[5] / w - 1) < 0.01);
	CHECK_EQ(c->st.rto_events, 0);
	fx_close(&f);
}

static void test_cubic_reno_friendly_region(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ 0 });
	struct tcp_conn *c = &f.c;
	/* At 1 ms RTT W_cubic hardly moves in 100 ms, Reno would: W_est
	 * grows alpha_cubic = 3 * 0.3 / 1.7 MSS per RTT up to the window
	 * of the loss, then 1 MSS per RTT (RFC 9438 4.3); cwnd follows it. */
	uint32_t w = grow_then_lose(&f, 1 * MS);
	double alpha = 3 * 0.3 / 1.7;
	double west = 0.7 * w / M; /* W_est in segments, one step per round */
	for (int r = 1; r <= 120; r++) {
		fx_round(&f, false);
		west += west >= (double)w / M ? 1.0 : alpha;
		double t = (double)(f.now - f.ca_start) / TCP_SEC;
		double wc = 0.4 * (t - 4.9324) * (t - 4.9324) * (t - 4.9324) + (double)w / M;
		if (r == 50 || r == 120) {
			double seg = (double)c->cwnd / M;
			if (absd(seg - west) > 2 || getenv("SENDER_VERBOSE"))
				fprintf(stderr, "round %d: cwnd %.2f, W_est %.2f\n", r, seg, west);
			CHECK(absd(seg - west) <= 2);
			CHECK(seg > wc + 20); /* far above W_cubic(t) */
		}
	}
	fx_close(&f);
}

static void test_newreno_grows_one_mss_per_rtt(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ .cc = TCP_CC_NEWRENO });
	struct tcp_conn *c = &f.c;
	grow_then_lose(&f, 100 * MS);
	/* RFC 5681 eq. (4): half the flight; no CUBIC state. */
	uint32_t ss = c->ssthresh;
	CHECK(ss < 160 * M * 6 / 10);
	CHECK_EQ(c->cwnd, ss);
	CHECK_EQ(c->cc.epoch_start, 0);
	/* RFC 5681 3.1: one MSS per RTT, linear. */
	uint32_t start = c->cwnd;
	for (int r = 0; r < 20; r++) {
		uint32_t before = c->cwnd;
		fx_round(&f, false);
		CHECK(c->cwnd - before <= M);
	}
	CHECK(c->cwnd - start >= 19 * M && c->cwnd - start <= 20 * M);
	CHECK_EQ(c->cc.epoch_start, 0);
	fx_close(&f);
}

/* ---- zero window ------------------------------------------------------------------- */

static void test_zero_window_probes_back_off_then_data_resumes(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ 0 });
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	fx_send(&f, 2 * M);
	/* Everything acked, and the peer's window closes. */
	fx_ack(&f, s0 + 2 * M, 0, 0, NULL);
	CHECK_EQ(c->snd_wnd, 0);
	CHECK_EQ(c->t_rexmit, 0);
	uint32_t cwnd = c->cwnd;
	fx_send(&f, 3 * M);
	unsigned n = f.e->nout;
	CHECK_EQ(n, 2);
	/* RFC 9293 3.8.6.1: the persist timer; probes double their interval. */
	uint64_t t = tcp_next_deadline(c);
	CHECK_EQ(t, f.now + RTO_MIN);
	for (unsigned i = 0; i < 5; i++) {
		CHECK_EQ(tcp_timers(c, t - 1), t);
		CHECK_EQ(f.e->nout, n + i);
		tcp_timers(c, t);
		CHECK_EQ(f.e->nout, n + i + 1);
		CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0 + 2 * M - 1, R, 0);
		CHECK_EQ(tcp_next_deadline(c) - t, RTO_MIN << (i + 1));
		t = tcp_next_deadline(c);
		f.now = t - 1000;
		fx_ack(&f, s0 + 2 * M, 0, 0, NULL); /* answered: still closed */
	}
	CHECK_EQ(c->st.window_probes, 5);
	/* Probing is no loss: no RTO, cwnd kept. */
	CHECK_EQ(c->st.rto_events, 0);
	CHECK_EQ(c->cwnd, cwnd);
	/* The window opens: the data goes at once, persist off. */
	n = f.e->nout;
	fx_ack(&f, s0 + 2 * M, 2048, 0, NULL);
	CHECK_EQ(data_segs(&f, n), 3);
	CHECK_OUT(&f.e->out[n], WIRE_TCP_ACK, s0 + 2 * M, R, M);
	CHECK_EQ(c->t_persist, 0);
	CHECK_EQ(c->backoff, 0);
	CHECK(c->t_rexmit != 0);
	fx_ack(&f, s0 + 5 * M, 2048, 0, NULL);
	CHECK_EQ(c->snd_una, s0 + 5 * M);
	fx_close(&f);
}

/* ---- Nagle, TCP_NODELAY, TCP_CORK ------------------------------------------------ */

static void test_nagle_holds_small_write_while_in_flight(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ 0 });
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	fx_send(&f, 100); /* nothing in flight: goes */
	CHECK_EQ(f.e->nout, 1);
	fx_send(&f, 50);
	/* RFC 1122 4.2.3.4: held until the ACK. */
	CHECK_EQ(f.e->nout, 1);
	CHECK_EQ(c->snd_nxt, s0 + 100);
	fx_ack(&f, s0 + 100, 2048, 0, NULL);
	CHECK_EQ(f.e->nout, 2);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0 + 100, R, 50);
	fx_close(&f);
}

static void test_nodelay_sends_small_write_at_once(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ .nodelay = true });
	uint32_t s0 = f.c.iss + 1;
	fx_send(&f, 100);
	fx_send(&f, 50);
	CHECK_EQ(f.e->nout, 2);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0 + 100, R, 50);
	fx_close(&f);
}

static void test_cork_holds_lone_partial_until_200ms(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ .cork = true, .nodelay = true });
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	/* Nothing in flight, TCP_NODELAY even: a partial segment waits. */
	fx_send(&f, 100);
	CHECK_EQ(f.e->nout, 0);
	uint64_t t = f.now + 200 * MS;
	CHECK_EQ(tcp_next_deadline(c), t);
	/* Full segments go; the partial tail still waits. */
	fx_send(&f, 2 * M);
	CHECK_EQ(f.e->nout, 2);
	CHECK_OUT(&f.e->out[0], WIRE_TCP_ACK, s0, R, M);
	CHECK_OUT(&f.e->out[1], WIRE_TCP_ACK, s0 + M, R, M);
	/* The ACK empties the pipe: the 200 ms start again from there
	 * (Linux's probe timer). */
	f.now += 10 * MS;
	fx_ack(&f, s0 + 2 * M, 2048, 0, NULL);
	CHECK_EQ(f.e->nout, 2);
	t = f.now + 200 * MS;
	CHECK_EQ(c->t_cork, t);
	CHECK_EQ(tcp_next_deadline(c), t);
	tcp_timers(c, t - 1);
	CHECK_EQ(f.e->nout, 2);
	tcp_timers(c, t);
	CHECK_EQ(f.e->nout, 3);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0 + 2 * M, R, 100);
	CHECK_EQ(c->t_cork, 0);
	/* A retransmission is never held: the RTO resends the partial one. */
	t = tcp_next_deadline(c);
	tcp_timers(c, t);
	CHECK_EQ(f.e->nout, 4);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0 + 2 * M, R, 100);
	fx_close(&f);
}

static void test_uncork_pushes_and_fin_is_not_held(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ .cork = true });
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	fx_send(&f, 100);
	CHECK_EQ(f.e->nout, 0);
	/* What the socket layer does for setsockopt(TCP_CORK, 0). */
	c->cfg.cork = false;
	tcp_output(c, f.now);
	CHECK_EQ(f.e->nout, 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0, R, 100);
	fx_ack(&f, s0 + 100, 2048, 0, NULL);
	/* Corked again: a FIN takes the partial data along. */
	c->cfg.cork = true;
	fx_send(&f, 70);
	CHECK_EQ(f.e->nout, 1);
	tcp_shutdown(c, f.now);
	CHECK_EQ(f.e->nout, 2);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH | WIRE_TCP_FIN, s0 + 100, R, 70);
	fx_close(&f);
}

/* ---- TCP_INFO -------------------------------------------------------------------- */

/* RFC 8985 7: the last two segments of a flight are lost; 2 SRTT after the
 * last ACK a probe re-sends the last segment (no new data is queued), its
 * SACK makes the earlier one lost by RACK's time rule, and fast recovery
 * repairs it long before the 200 ms RTO. */
static void test_tlp_repairs_tail_loss(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ 0 });
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	f.rtt = 1000;
	fx_send(&f, 4 * M);
	CHECK_EQ(f.e->nout, 4);
	f.now += 1000;
	fx_ack(&f, s0 + 2 * M, 2048, 0, NULL); /* the first two arrive */
	CHECK(c->srtt_us > 0);
	uint64_t pto = 2ull * c->srtt_us + 2000; /* Linux: 2 SRTT + TCP_TIMEOUT_MIN */
	CHECK_EQ(tcp_next_deadline(c), f.now + pto);
	CHECK(tcp_next_deadline(c) < c->t_rexmit);
	unsigned n = f.e->nout;
	f.now += pto;
	tcp_timers(c, f.now);
	CHECK_EQ(f.e->nout, n + 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0 + 3 * M, R, M);
	CHECK_EQ(c->st.tlp_probes, 1);
	CHECK_EQ(c->tlp_high_seq, s0 + 4 * M);
	/* the probe arrives: SACK of the last segment, a hole before it */
	f.now += 1000;
	uint32_t b[] = { s0 + 3 * M, s0 + 4 * M };
	fx_ack(&f, s0 + 2 * M, 2048, 1, b);
	CHECK(c->in_recovery);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0 + 2 * M, R, M);
	CHECK_EQ(c->st.rto_events, 0);
	f.now += 1000;
	fx_ack(&f, s0 + 4 * M, 2048, 0, NULL);
	CHECK(!c->in_recovery);
	CHECK_EQ(c->snd_una, s0 + 4 * M);
	CHECK_EQ(c->t_tlp, 0);
	fx_close(&f);
}

/* With new data queued the probe is new data (RFC 8985 7.3), and a lone
 * segment in flight waits 2 SRTT plus the worst-case delayed ACK. */
static void test_tlp_sends_new_data_and_waits_for_delack(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ 0 });
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	f.rtt = 1000;
	fx_send(&f, M);
	f.now += 1000;
	fx_ack(&f, s0 + M, 2048, 0, NULL);
	/* one segment out: PTO = 2 SRTT + 200 ms >= RTO: no probe armed */
	fx_send(&f, M);
	CHECK_EQ(c->t_tlp, 0);
	f.now += 1000;
	fx_ack(&f, s0 + 2 * M, 2048, 0, NULL);
	/* two out, then more data queued that cwnd holds back: a probe of new data */
	fx_send(&f, 2 * M);
	CHECK(c->t_tlp != 0);
	c->cwnd = 2 * M; /* cwnd full: the rest waits */
	fx_send(&f, M);
	unsigned n = f.e->nout;
	f.now = c->t_tlp;
	tcp_timers(c, f.now);
	CHECK_EQ(f.e->nout, n + 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0 + 4 * M, R, M);
	CHECK_EQ(c->snd_max, s0 + 5 * M);
	/* one probe per flight: nothing more until an ACK passes it */
	CHECK_EQ(c->t_tlp, 0);
	fx_close(&f);
}

/* In recovery, the hole's retransmission is lost with nothing sent after
 * it: a PTO after it the hole goes again, before the RTO. */
static void test_lost_retransmission_probed_in_recovery(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ 0 });
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	f.rtt = 1000;
	fx_send(&f, 5 * M);
	f.now += 1000;
	uint32_t b1[] = { s0 + M, s0 + 2 * M }, b2[] = { s0 + M, s0 + 3 * M },
		 b3[] = { s0 + M, s0 + 4 * M };
	fx_ack(&f, s0, 2048, 1, b1);
	fx_ack(&f, s0, 2048, 1, b2);
	fx_ack(&f, s0, 2048, 1, b3);
	CHECK(c->in_recovery);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0, R, M);
	uint64_t first = f.now;
	/* the last SACK; the retransmission itself is lost */
	uint32_t b4[] = { s0 + M, s0 + 5 * M };
	f.now += 500;
	fx_ack(&f, s0, 2048, 1, b4);
	CHECK(c->t_tlp != 0 && c->t_tlp < c->t_rexmit);
	unsigned n = f.e->nout;
	f.now = c->t_tlp;
	CHECK(f.now - first < 20 * MS);
	tcp_timers(c, f.now);
	CHECK_EQ(f.e->nout, n + 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0, R, M);
	CHECK_EQ(c->st.rto_events, 0);
	f.now += 1000;
	fx_ack(&f, s0 + 5 * M, 2048, 0, NULL);
	CHECK(!c->in_recovery);
	fx_close(&f);
}

static void test_tcp_info_established_and_after_rto(void)
{
	struct fx f;
	fx_open(&f, (struct fx_opt){ .no_tlp = true }); /* the RTO alone */
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	fx_send(&f, 5 * M);
	f.now += 300; /* the first segment was timed: a 300 us sample */
	fx_ack(&f, s0 + 2 * M, 2048, 0, NULL);
	fx_send(&f, 20 * M); /* 12 segments in flight after this (cwnd 12) */
	struct tcp_info ti;
	tcp_get_info(c, &ti, f.now);
	CHECK_EQ(ti.tcpi_state, 1); /* Linux TCP_ESTABLISHED */
	CHECK_EQ(ti.tcpi_ca_state, TCP_CA_Open);
	CHECK_EQ(ti.tcpi_options, TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE);
	CHECK_EQ(ti.tcpi_snd_wscale, 7);
	CHECK_EQ(ti.tcpi_rcv_wscale, c->rcv_wscale);
	CHECK_EQ(ti.tcpi_retransmits, 0);
	CHECK_EQ(ti.tcpi_backoff, 0);
	CHECK_EQ(ti.tcpi_rto, RTO_MIN);
	CHECK_EQ(ti.tcpi_ato, 40000);
	CHECK_EQ(ti.tcpi_snd_mss, M);
	CHECK_EQ(ti.tcpi_rcv_mss, M);
	CHECK_EQ(ti.tcpi_advmss, M);
	CHECK_EQ(ti.tcpi_snd_cwnd, 12);
	CHECK_EQ(ti.tcpi_unacked, 12);
	CHECK_EQ(ti.tcpi_sacked, 0);
	CHECK_EQ(ti.tcpi_lost, 0);
	CHECK_EQ(ti.tcpi_retrans, 0);
	CHECK_EQ(ti.tcpi_snd_ssthresh, 0x7fffffff); /* Linux's "infinite" */
	CHECK_EQ(ti.tcpi_rtt, 100 - 100 / 8 + 300 / 8);     /* RFC 6298 2.3 */
	CHECK_EQ(ti.tcpi_rttvar, 50 - 50 / 4 + (300 - 100) / 4);
	CHECK_EQ(ti.tcpi_reordering, 3);
	CHECK_EQ(ti.tcpi_total_retrans, 0);
	CHECK_EQ(ti.tcpi_bytes_acked, 2 * M);
	CHECK_EQ(ti.tcpi_bytes_received, 0);
	CHECK_EQ(ti.tcpi_bytes_sent, 14 * M);
	CHECK_EQ(ti.tcpi_data_segs_out, 14);
	CHECK_EQ(ti.tcpi_segs_out, 2 + 14); /* SYN and the handshake's ACK too */
	CHECK_EQ(ti.tcpi_segs_in, 2);       /* SYN-ACK, ACK */
	CHECK_EQ(ti.tcpi_notsent_bytes, 25 * M - 14 * M);
	CHECK_EQ(ti.tcpi_snd_wnd, 2048u << 7);
	CHECK_EQ(ti.tcpi_rcv_space, c->rcv_adv - c->rcv_nxt);
	CHECK_EQ(ti.tcpi_pmtu, 1500);
	CHECK(ti.tcpi_pacing_rate > 0);

	/* After an RTO: Loss state, one retransmission, doubled RTO. */
	tcp_timers(c, tcp_next_deadline(c));
	tcp_get_info(c, &ti, f.now);
	CHECK_EQ(ti.tcpi_ca_state, TCP_CA_Loss);
	CHECK_EQ(ti.tcpi_retransmits, 1);
	CHECK_EQ(ti.tcpi_backoff, 1);
	CHECK_EQ(ti.tcpi_rto, 2 * RTO_MIN);
	CHECK_EQ(ti.tcpi_total_retrans, 1);
	CHECK_EQ(ti.tcpi_bytes_retrans, M);
	CHECK_EQ(ti.tcpi_snd_cwnd, 1);
	CHECK_EQ(ti.tcpi_snd_ssthresh, (uint32_t)(12 * M * 0.7) / M);
	CHECK_EQ(ti.tcpi_retrans, 1);
	CHECK_EQ(ti.tcpi_lost, 12); /* all of the flight, as Linux marks it */

	/* The state numbering of a listener and a closed socket. */
	struct tcp_conn l;
	tcp_conn_init(&l, &EP, &f.e->cfg, &f.e->env, f.e);
	tcp_get_info(&l, &ti, f.now);
	CHECK_EQ(ti.tcpi_state, 7);
	tcp_listen(&l, 4);
	tcp_get_info(&l, &ti, f.now);
	CHECK_EQ(ti.tcpi_state, 10);
	tcp_conn_destroy(&l);
	fx_close(&f);
}

static void test_cc_names(void)
{
	CHECK(strcmp(tcp_cc_name(TCP_CC_CUBIC), "cubic") == 0);
	CHECK(strcmp(tcp_cc_name(TCP_CC_NEWRENO), "reno") == 0);
	CHECK(tcp_cc_name(7) == NULL);
	CHECK_EQ(tcp_cc_parse("cubic"), TCP_CC_CUBIC);
	CHECK_EQ(tcp_cc_parse("reno"), TCP_CC_NEWRENO);
	CHECK_EQ(tcp_cc_parse("bbr"), -1);
	struct tcp_cfg cfg;
	tcp_cfg_default(&cfg);
	CHECK_EQ(cfg.cc, TCP_CC_CUBIC);
	CHECK(!cfg.cork);
}

int main(void)
{
	RUN(test_rto_doubles_to_max_and_restarts_from_snd_una);
	RUN(test_rto_ack_resets_backoff_and_samples_rtt);
	RUN(test_fast_retransmit_on_third_dupack_not_second);
	RUN(test_fast_retransmit_sack_third_dupack);
	RUN(test_sack_recovery_three_holes_once_each);
	RUN(test_slow_start_iw10_doubles_per_rtt);
	RUN(test_cubic_after_loss_follows_w_cubic);
	RUN(test_cubic_reno_friendly_region);
	RUN(test_newreno_grows_one_mss_per_rtt);
	RUN(test_zero_window_probes_back_off_then_data_resumes);
	RUN(test_nagle_holds_small_write_while_in_flight);
	RUN(test_nodelay_sends_small_write_at_once);
	RUN(test_cork_holds_lone_partial_until_200ms);
	RUN(test_uncork_pushes_and_fin_is_not_held);
	RUN(test_tlp_repairs_tail_loss);
	RUN(test_tlp_sends_new_data_and_waits_for_delack);
	RUN(test_lost_retransmission_probed_in_recovery);
	RUN(test_tcp_info_established_and_after_rto);
	RUN(test_cc_names);
	return CHECK_DONE();
}
