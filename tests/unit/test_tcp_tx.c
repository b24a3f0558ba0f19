/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_tx: the tcp core's sender (tier b): segmentation, initial
 * window, GSO, Nagle, RTO with backoff, fast retransmit / NewReno, SACK
 * recovery of several holes, persist probes, FIN, WRITABLE.
 */
#include "test_tcp_harness.h"

#define PEER_ISS 70000u
#define R (PEER_ISS + 1)
#define M 1448u

struct fx {
	struct tenv *e;
	struct tcp_conn c;
	uint64_t now;
	uint32_t peer_ts;
	uint8_t *data; /* what the test sends */
	size_t data_len;
};

static const struct tcp_ep EP = { .family = AF_INET, .laddr = { 192, 0, 2, 1 },
				  .raddr = { 192, 0, 2, 2 }, .lport = 33000, .rport = 5201 };

/* Active open against a peer offering SACK (sack) and TS; RTT 100 us. */
static void fx_open(struct fx *f, bool sack, bool nodelay, uint16_t tx_mss_max)
{
	memset(f, 0, sizeof(*f));
	f->e = tenv_new();
	f->e->cfg.nodelay = nodelay;
	f->e->cfg.cc = TCP_CC_NEWRENO; /* the RFC 5681 numbers below; CUBIC: test_tcp_sender */
	f->e->cfg.no_tlp = true;       /* exact RTO sequences; probes: test_tcp_sender */
	f->e->cfg.tx_mss_max = tx_mss_max;
	f->e->cfg.sndbuf = 1u << 20;
	f->now = T0;
	f->peer_ts = 100;
	tcp_conn_init(&f->c, &EP, &f->e->cfg, &f->e->env, f->e);
	tcp_connect(&f->c, f->now);
	f->now += 100;
	struct tcp_seg sa = mkseg(f->e, PEER_ISS, f->c.iss + 1, WIRE_TCP_SYN | WIRE_TCP_ACK, 65535, 0);
	sa.th.opts.present = WIRE_OPT_MSS | WIRE_OPT_TS | WIRE_OPT_WSCALE | (sack ? WIRE_OPT_SACKOK : 0);
	sa.th.opts.mss = 1460;
	sa.th.opts.wscale = 7;
	sa.th.opts.tsval = f->peer_ts;
	sa.th.opts.tsecr = tcp_ts_now(&f->c, T0);
	tcp_input(&f->c, &sa, f->now);
	CHECK_EQ(f->c.state, TCP_ESTABLISHED);
	CHECK_EQ(f->c.snd_mss, M);
	CHECK_EQ(f->c.rto_us, 200000);
	f->data_len = 4u << 20;
	f->data = malloc(f->data_len);
	for (size_t i = 0; i < f->data_len; i++)
		f->data[i] = (uint8_t)(i * 131 + (i >> 9));
	tenv_clear_out(f->e);
	f->e->nev = 0;
}

static void fx_close(struct fx *f)
{
	struct tcp_conn *conns[] = { &f->c };
	free(f->data);
	tenv_free(f->e, conns, 1);
}

/* An ACK from the peer; window in 128-byte units; optional SACK blocks. */
static void fx_ack(struct fx *f, uint32_t ack, uint16_t win, unsigned nsack, const uint32_t *edges)
{
	struct tcp_seg s = mkseg(f->e, R, ack, WIRE_TCP_ACK, win, 0);
	seg_ts(&s, ++f->peer_ts, tcp_ts_now(&f->c, f->now));
	if (nsack)
		seg_sack(&s, nsack, edges);
	tcp_input(&f->c, &s, f->now);
}

/* Data offset of a sequence number. */
static uint32_t off_of(const struct fx *f, uint32_t seq) { return seq - (f->c.iss + 1); }

/* Every data segment emitted carries the bytes the test gave at its seq. */
static void check_payloads(struct fx *f)
{
	for (unsigned i = 0; i < f->e->nout; i++) {
		const struct out_seg *o = &f->e->out[i];
		if (!o->paylen)
			continue;
		if (memcmp(o->pay, f->data + off_of(f, o->th.seq), o->paylen) != 0) {
			fprintf(stderr, "payload of seg %u (seq %u) wrong\n", i, o->th.seq);
			check_failures++;
		}
	}
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

/* ---------------------------------------------------------------------------------- */

static void test_segmentation_iw(void)
{
	struct fx f;
	fx_open(&f, true, false, 1460);
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	CHECK_EQ(tcp_send(c, f.data, 100000, f.now), 100000);
	/* RFC 6928: 10 segments, each one MSS, ACK on all, PSH on the last
	 * only: the end of what Linux would send as one TSO packet. */
	CHECK_EQ(f.e->nout, 10);
	for (unsigned i = 0; i < 10; i++) {
		CHECK_OUT(&f.e->out[i], WIRE_TCP_ACK | (i == 9 ? WIRE_TCP_PSH : 0), s0 + i * M, R, M);
		CHECK(f.e->out[i].th.opts.present & WIRE_OPT_TS);
		CHECK_EQ(f.e->out[i].th.window, (256u << 10) >> 7);
	}
	CHECK_EQ(c->snd_nxt, s0 + 10 * M);
	CHECK(c->t_rexmit == f.now + 200000);
	/* An ACK of two: slow start grows cwnd by 2 MSS, 4 more go. */
	f.now += 100;
	fx_ack(&f, s0 + 2 * M, 2048, 0, NULL);
	CHECK_EQ(c->cwnd, 12 * M);
	CHECK_EQ(f.e->nout, 14);
	CHECK_EQ(c->snd_una, s0 + 2 * M);
	CHECK_EQ(c->snd_len, 100000 - 2 * M);
	CHECK_EQ(c->srtt_us, 100); /* the first segment was timed */
	check_payloads(&f);
	/* The receive window limits too: 4 * 128 bytes beyond snd_una. */
	fx_ack(&f, s0 + 14 * M, 4, 0, NULL);
	CHECK_EQ(c->snd_wnd, 512);
	CHECK_EQ(f.e->nout, 15);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0 + 14 * M, R, 512);
	/* All acked, the rest flows; the last segment has PSH. */
	for (int i = 0; i < 100 && c->snd_una != s0 + 100000; i++)
		fx_ack(&f, c->snd_nxt, 2048, 0, NULL);
	CHECK_EQ(c->snd_una, s0 + 100000);
	CHECK_EQ(last_out(f.e)->th.flags, WIRE_TCP_ACK | WIRE_TCP_PSH);
	CHECK_EQ(c->t_rexmit, 0);
	check_payloads(&f);
	fx_close(&f);
}

static void test_gso(void)
{
	struct fx f;
	fx_open(&f, true, false, 65535);
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	tcp_send(c, f.data, 200000, f.now);
	/* One super-segment of the whole initial window, with PSH as Linux
	 * puts on every GSO packet. */
	CHECK_EQ(f.e->nout, 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0, R, 10 * M);
	fx_ack(&f, s0 + 10 * M, 2048, 0, NULL);
	/* cwnd 20 MSS: whole MSS multiples, at most 45 MSS per segment. */
	CHECK_EQ(f.e->nout, 2);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0 + 10 * M, R, 20 * M);
	check_payloads(&f);
	fx_close(&f);
}

static void test_nagle(void)
{
	for (int nodelay = 0; nodelay < 2; nodelay++) {
		struct fx f;
		fx_open(&f, true, nodelay, 1460);
		struct tcp_conn *c = &f.c;
		uint32_t s0 = c->iss + 1;
		tcp_send(c, f.data, 100, f.now); /* nothing in flight: goes */
		CHECK_EQ(f.e->nout, 1);
		CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0, R, 100);
		tcp_send(c, f.data + 100, 100, f.now);
		tcp_send(c, f.data + 200, 100, f.now);
		if (!nodelay) {
			/* RFC 1122 4.2.3.4: small data waits for the ACK... */
			CHECK_EQ(f.e->nout, 1);
			fx_ack(&f, s0 + 100, 2048, 0, NULL);
			CHECK_EQ(f.e->nout, 2);
			CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0 + 100, R, 200);
		} else {
			CHECK_EQ(f.e->nout, 3);
			CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0 + 200, R, 100);
		}
		/* ...but full segments never wait (the partial tail would). */
		unsigned n = f.e->nout;
		tcp_send(c, f.data + 300, 2 * M, f.now);
		CHECK_EQ(f.e->nout, n + 2);
		CHECK_OUT(&f.e->out[n], WIRE_TCP_ACK, s0 + 300, R, M);
		check_payloads(&f);
		fx_close(&f);
	}
}

static void test_rto_backoff(void)
{
	struct fx f;
	fx_open(&f, true, false, 1460);
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	tcp_send(c, f.data, 3 * M, f.now);
	CHECK_EQ(f.e->nout, 3);
	uint64_t t = f.now + 200000, rto = 200000;
	CHECK_EQ(tcp_next_deadline(c), t);
	/* RFC 6298 5.4-5.6: retransmit the first segment, double the RTO. */
	for (int i = 0; i < 4; i++) {
		unsigned n = f.e->nout;
		CHECK_EQ(tcp_timers(c, t - 1), t);
		CHECK_EQ(f.e->nout, n);
		tcp_timers(c, t);
		CHECK_EQ(f.e->nout, n + 1);
		CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0, R, M);
		CHECK_EQ(c->cwnd, M);
		rto *= 2;
		t += rto;
		CHECK_EQ(tcp_next_deadline(c), t);
	}
	CHECK_EQ(c->st.rto_events, 4);
	CHECK_EQ(c->ssthresh, 2 * M); /* max(FlightSize / 2, 2 MSS), set once */
	/* The ACK resets the backoff and slow start resends the rest. */
	f.now = t - 1000;
	unsigned n = f.e->nout;
	fx_ack(&f, s0 + M, 2048, 0, NULL);
	CHECK_EQ(c->backoff, 0);
	CHECK_EQ(c->cwnd, 2 * M);
	CHECK_EQ(f.e->nout, n + 2);
	CHECK_OUT(&f.e->out[n], WIRE_TCP_ACK, s0 + M, R, M);
	CHECK_EQ(tcp_next_deadline(c), f.now + c->rto_us);
	fx_ack(&f, s0 + 3 * M, 2048, 0, NULL);
	CHECK_EQ(c->snd_una, s0 + 3 * M);
	CHECK_EQ(c->t_rexmit, 0);
	check_payloads(&f);

	/* Nobody answers: after 15 retransmissions, ETIMEDOUT. */
	tcp_send(c, f.data + 3 * M, 10, f.now);
	n = f.e->nout;
	t = tcp_next_deadline(c);
	while (c->state != TCP_CLOSED && t != UINT64_MAX)
		t = tcp_timers(c, t);
	CHECK_EQ(c->state, TCP_CLOSED);
	CHECK_EQ(c->err, ETIMEDOUT);
	CHECK_EQ(f.e->nout, n + TCP_RETRIES2);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_ERROR), 1);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_CLOSED), 1);
	fx_close(&f);
}

static void test_fast_retransmit_newreno(void)
{
	struct fx f;
	fx_open(&f, false, false, 1460); /* no SACK */
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	tcp_send(c, f.data, 10 * M, f.now);
	CHECK_EQ(f.e->nout, 10);
	/* Segments 1 and 5 lost. ACK of 0, then dupacks for 2, 3, 4. */
	fx_ack(&f, s0 + M, 2048, 0, NULL);
	unsigned n = f.e->nout;
	fx_ack(&f, s0 + M, 2048, 0, NULL);
	fx_ack(&f, s0 + M, 2048, 0, NULL);
	CHECK_EQ(c->in_recovery, false);
	CHECK_EQ(f.e->nout, n); /* limited transmit: no new data to send */
	fx_ack(&f, s0 + M, 2048, 0, NULL);
	CHECK(c->in_recovery);
	CHECK_EQ(c->st.fast_retrans, 1);
	CHECK_EQ(f.e->nout, n + 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0 + M, R, M);
	CHECK_EQ(c->ssthresh, 9 * M / 2);
	CHECK_EQ(c->cwnd, 9 * M / 2 + 3 * M);
	/* More dupacks inflate; the partial ACK (up to 5) retransmits 5. */
	fx_ack(&f, s0 + M, 2048, 0, NULL);
	CHECK_EQ(c->cwnd, 9 * M / 2 + 4 * M);
	fx_ack(&f, s0 + 5 * M, 2048, 0, NULL);
	CHECK(c->in_recovery);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0 + 5 * M, R, M);
	CHECK_EQ(sent_at(&f, n, s0 + 5 * M), 1);
	/* Full ACK: recovery over, cwnd = ssthresh. */
	fx_ack(&f, s0 + 10 * M, 2048, 0, NULL);
	CHECK(!c->in_recovery);
	CHECK_EQ(c->cwnd, c->ssthresh);
	CHECK_EQ(c->st.rto_events, 0);
	CHECK_EQ(c->st.retrans_segs, 2);
	check_payloads(&f);
	fx_close(&f);
}

static void test_sack_recovery(void)
{
	struct fx f;
	fx_open(&f, true, false, 1460);
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
#define S(i) (s0 + (i) * M)
	tcp_send(c, f.data, 10 * M, f.now);
	CHECK_EQ(f.e->nout, 10);
	unsigned n = f.e->nout;
	/* Lost: 1, 4, 7. The receiver reports what it holds. */
	fx_ack(&f, S(1), 2048, 0, NULL);
	uint32_t b2[] = { S(2), S(3) };
	fx_ack(&f, S(1), 2048, 1, b2);
	uint32_t b3[] = { S(2), S(4) };
	fx_ack(&f, S(1), 2048, 1, b3);
	CHECK(!c->in_recovery);
	uint32_t b5[] = { S(5), S(6), S(2), S(4) };
	fx_ack(&f, S(1), 2048, 2, b5);
	/* Three SACKed segments above 1: it is lost (RFC 6675 IsLost). */
	CHECK(c->in_recovery);
	CHECK_EQ(c->st.fast_retrans, 1);
	CHECK_EQ(sent_at(&f, n, S(1)), 1);
	CHECK_EQ(c->cwnd, 9 * M / 2);
	uint32_t b6[] = { S(5), S(7), S(2), S(4) };
	fx_ack(&f, S(1), 2048, 2, b6);
	uint32_t b8[] = { S(8), S(9), S(5), S(7), S(2), S(4) };
	fx_ack(&f, S(1), 2048, 3, b8);
	/* 4 is now lost too: retransmitted in the same recovery. */
	CHECK_EQ(sent_at(&f, n, S(4)), 1);
	uint32_t b9[] = { S(8), S(10), S(5), S(7), S(2), S(4) };
	fx_ack(&f, S(1), 2048, 3, b9);
	/* Nothing new to send: rule 3 resends 7 as well, no RTO needed. */
	CHECK_EQ(sent_at(&f, n, S(7)), 1);
	CHECK_EQ(c->st.rto_events, 0);
	CHECK_EQ(c->st.fast_retrans, 1);
	/* Retransmissions arrive: partial then full ACK. */
	uint32_t b10[] = { S(8), S(10) };
	fx_ack(&f, S(7), 2048, 1, b10);
	CHECK(c->in_recovery);
	fx_ack(&f, S(10), 2048, 0, NULL);
	CHECK(!c->in_recovery);
	CHECK_EQ(c->snd_una, S(10));
	CHECK_EQ(c->cwnd, c->ssthresh);
	CHECK_EQ(c->st.retrans_segs, 3);
	CHECK_EQ(c->nscore, 0);
	check_payloads(&f);
#undef S
	fx_close(&f);
}

static void test_sack_lost_retransmission(void)
{
	struct fx f;
	fx_open(&f, true, false, 1460);
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
#define S(i) (s0 + (i) * M)
	tcp_send(c, f.data, 40 * M, f.now);
	CHECK_EQ(f.e->nout, 10);
	unsigned n = f.e->nout;
	/* 0 lost; 1..9 SACKed one by one. */
	for (int i = 2; i <= 10; i++) {
		uint32_t b[] = { S(1), S(i) };
		fx_ack(&f, S(0), 2048, 1, b);
	}
	CHECK(c->in_recovery);
	CHECK_EQ(sent_at(&f, n, S(0)), 1);
	/* The retransmission of 0 is lost too; what was sent after it is
	 * SACKed: 0 goes again without an RTO. */
	uint32_t hi = c->snd_max;
	CHECK(seq_gt(hi, S(10)));
	uint32_t b2[] = { S(1), hi };
	fx_ack(&f, S(0), 2048, 1, b2);
	CHECK_EQ(sent_at(&f, n, S(0)), 2);
	CHECK_EQ(c->st.rto_events, 0);
#undef S
	fx_close(&f);
}

static void test_rto_with_sack_skips_sacked(void)
{
	struct fx f;
	fx_open(&f, true, false, 1460);
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
#define S(i) (s0 + (i) * M)
	tcp_send(c, f.data, 10 * M, f.now);
	/* Only 5 and 6 arrive. No recovery (too little SACKed). */
	uint32_t b[] = { S(5), S(7) };
	fx_ack(&f, S(0), 2048, 1, b);
	CHECK(!c->in_recovery);
	unsigned n = f.e->nout;
	uint64_t t = tcp_next_deadline(c);
	tcp_timers(c, t); /* RTO: cwnd 1, resend 0 */
	CHECK_EQ(f.e->nout, n + 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, S(0), R, M);
	/* ACKs in slow start walk the holes but skip 5 and 6. */
	for (int i = 0; i < 10 && c->snd_una != S(10); i++)
		fx_ack(&f, c->high_rxt, 2048, c->nscore ? 1 : 0, b);
	CHECK_EQ(c->snd_una, S(10));
	CHECK_EQ(sent_at(&f, n, S(5)), 0);
	CHECK_EQ(sent_at(&f, n, S(6)), 0);
	CHECK_EQ(sent_at(&f, n, S(9)), 1);
	CHECK(!c->loss_mode);
	check_payloads(&f);
#undef S
	fx_close(&f);
}

static void test_persist(void)
{
	struct fx f;
	fx_open(&f, true, false, 1460);
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	fx_ack(&f, s0, 0, 0, NULL); /* the peer closes its window */
	CHECK_EQ(c->snd_wnd, 0);
	tcp_send(c, f.data, 5000, f.now);
	CHECK_EQ(f.e->nout, 0);
	CHECK_EQ(c->t_rexmit, 0);
	uint64_t t = f.now + 200000;
	CHECK_EQ(tcp_next_deadline(c), t);
	/* Probes with backoff; they carry no data (old-seq probe). */
	for (int i = 0; i < 3; i++) {
		tcp_timers(c, t);
		CHECK_EQ(f.e->nout, (unsigned)i + 1);
		CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0 - 1, R, 0);
		t += 200000ull << (i + 1);
		CHECK_EQ(tcp_next_deadline(c), t);
		fx_ack(&f, s0, 0, 0, NULL); /* answered, still closed */
	}
	CHECK_EQ(c->st.window_probes, 3);
	/* The window opens: data flows, persist off. The 656-byte tail goes
	 * too: Minshall's Nagle (Linux's tcp_minshall_check) holds a partial
	 * segment only while an earlier one is unacknowledged. */
	fx_ack(&f, s0, 2048, 0, NULL);
	CHECK_EQ(f.e->nout, 3 + 4);
	CHECK_EQ(c->t_persist, 0);
	CHECK(c->t_rexmit != 0);
	check_payloads(&f);
	fx_close(&f);
}

static void test_fin_and_writable(void)
{
	struct fx f;
	fx_open(&f, true, false, 1460);
	struct tcp_conn *c = &f.c;
	c->cfg.sndbuf = 8192; /* before the ring exists */
	uint32_t s0 = c->iss + 1;
	CHECK_EQ(tcp_send(c, f.data, 10000, f.now), 8192);
	CHECK_EQ(tcp_send_space(c), 0);
	CHECK_EQ(tcp_send(c, f.data + 8192, 100, f.now), 0);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_WRITABLE), 0);
	fx_ack(&f, s0 + 2 * M, 2048, 0, NULL);
	CHECK_EQ(ev_count(f.e, c, TCP_EV_WRITABLE), 1);
	CHECK_EQ(tcp_send(c, f.data + 8192, 1808, f.now), 1808);
	tcp_shutdown(c, f.now);
	CHECK_EQ(c->state, TCP_FIN_WAIT1);
	/* The FIN rides on the last data segment. */
	CHECK_EQ(last_out(f.e)->th.flags, WIRE_TCP_ACK | WIRE_TCP_PSH | WIRE_TCP_FIN);
	CHECK_EQ(last_out(f.e)->th.seq + last_out(f.e)->paylen, s0 + 10000);
	CHECK_EQ(c->snd_max, s0 + 10001);
	fx_ack(&f, s0 + 10001, 2048, 0, NULL);
	CHECK_EQ(c->state, TCP_FIN_WAIT2);
	CHECK_EQ(c->snd_len, 0);
	check_payloads(&f);
	fx_close(&f);
}

int main(void)
{
	RUN(test_segmentation_iw);
	RUN(test_gso);
	RUN(test_nagle);
	RUN(test_rto_backoff);
	RUN(test_fast_retransmit_newreno);
	RUN(test_sack_recovery);
	RUN(test_sack_lost_retransmission);
	RUN(test_rto_with_sack_skips_sacked);
	RUN(test_persist);
	RUN(test_fin_and_writable);
	return CHECK_DONE();
}
