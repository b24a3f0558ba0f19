/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_linux: the choices the RFCs leave open, made as Linux makes
 * them so that Linux's packetdrill scripts apply (tier b; the list is in
 * docs/packetdrill.md): options turned off as by Linux's sysctls, the
 * interactive ("pingpong") delayed ACK, the ACK a draining reader sends,
 * MSG_MORE's hold and its PSH, the FIN-alone loss probe, ts_recent kept
 * from a segment whose ACK is refused.
 */
#include "test_tcp_harness.h"

#define PEER_ISS 70000u
#define R (PEER_ISS + 1)
#define M 1448u

static const struct tcp_ep EP = { .family = AF_INET, .laddr = { 192, 0, 2, 1 },
				  .raddr = { 192, 0, 2, 2 }, .lport = 33000, .rport = 5201 };

struct fx {
	struct tenv *e;
	struct tcp_conn c;
	uint64_t now;
	uint32_t peer_ts;
	uint8_t data[65536];
};

/* Active open; the peer offers MSS 1460, SACK, TS, window scale 7. RTT
 * 10 ms. */
static void fx_open(struct fx *f, struct tcp_cfg *cfg_or_null)
{
	memset(f, 0, sizeof(*f));
	f->e = tenv_new();
	if (cfg_or_null)
		f->e->cfg = *cfg_or_null;
	f->e->cfg.sndbuf = 1u << 20;
	f->now = T0;
	f->peer_ts = 100;
	tcp_conn_init(&f->c, &EP, &f->e->cfg, &f->e->env, f->e);
	tcp_connect(&f->c, f->now);
	f->now += 10 * MS;
	struct tcp_seg sa = mkseg(f->e, PEER_ISS, f->c.iss + 1, WIRE_TCP_SYN | WIRE_TCP_ACK, 65535, 0);
	sa.th.opts.present = WIRE_OPT_MSS | WIRE_OPT_TS | WIRE_OPT_WSCALE | WIRE_OPT_SACKOK;
	sa.th.opts.mss = 1460;
	sa.th.opts.wscale = 7;
	sa.th.opts.tsval = f->peer_ts;
	sa.th.opts.tsecr = tcp_ts_now(&f->c, T0);
	tcp_input(&f->c, &sa, f->now);
	CHECK_EQ(f->c.state, TCP_ESTABLISHED);
	for (size_t i = 0; i < sizeof(f->data); i++)
		f->data[i] = (uint8_t)(i * 131 + 7);
	tenv_clear_out(f->e);
	f->e->nev = 0;
}

static void fx_close(struct fx *f)
{
	struct tcp_conn *conns[] = { &f->c };
	tenv_free(f->e, conns, 1);
}

/* A segment from the peer: seq, ACK of ack, len bytes of payload, TS on. */
static void fx_in(struct fx *f, uint32_t seq, uint32_t ack, uint8_t flags, uint32_t len)
{
	struct tcp_seg s = mkseg(f->e, seq, ack, flags | WIRE_TCP_ACK, 2048, len);
	seg_ts(&s, ++f->peer_ts, tcp_ts_now(&f->c, f->now));
	tcp_input(&f->c, &s, f->now);
}

/* ---- options off, as Linux's tcp_timestamps / tcp_sack / tcp_window_scaling = 0 */

static void test_syn_options_off(void)
{
	struct tenv *e = tenv_new();
	struct tcp_conn c, l;

	/* active: the SYN offers only MSS */
	e->cfg.no_ts = e->cfg.no_sack = e->cfg.no_ws = true;
	tcp_conn_init(&c, &EP, &e->cfg, &e->env, e);
	tcp_connect(&c, T0);
	CHECK_EQ(e->nout, 1);
	CHECK_EQ(last_out(e)->th.opts.present, WIRE_OPT_MSS);

	/* passive: a Linux SYN offering everything gets MSS and SACK-permitted
	 * (no TS, no window scale) with only timestamps off */
	e->cfg.no_sack = e->cfg.no_ws = false;
	tcp_conn_init(&l, &EP, &e->cfg, &e->env, e);
	CHECK_EQ(tcp_listen(&l, 4), 0);
	struct tcp_seg syn = mk_linux_syn(e, PEER_ISS, 5000);
	CHECK_EQ(tcp_input(&l, &syn, T0), TCP_IN_OK);
	CHECK_EQ(e->nchildren, 1);
	const struct out_seg *o = last_out(e);
	CHECK_EQ(o->th.flags, WIRE_TCP_SYN | WIRE_TCP_ACK);
	CHECK_EQ(o->th.opts.present, WIRE_OPT_MSS | WIRE_OPT_SACKOK | WIRE_OPT_WSCALE);
	CHECK(!e->children[0].ts_ok);
	CHECK_EQ(e->children[0].snd_mss, 1460); /* no TS option to pay for */
	struct tcp_conn *conns[] = { &c, &l };
	tenv_free(e, conns, 2);
}

/* ---- delayed ACKs ------------------------------------------------------------- */

/* A reply within ato of received data makes the flow interactive: then
 * data is not ACKed at once even in quick-ACK mode, the reply carries the
 * ACK; a delayed ACK the timer had to send ends that mode. */
static void test_pingpong(void)
{
	struct fx f;
	fx_open(&f, NULL);
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;

	fx_in(&f, R, s0, WIRE_TCP_PSH, 100); /* a request: quick ACK */
	CHECK_EQ(f.e->nout, 1);
	CHECK(c->quick > 0);
	f.now += 1 * MS;
	CHECK_EQ(tcp_send(c, f.data, 200, f.now), 200); /* the reply, within ato */
	CHECK(c->pingpong);
	CHECK_EQ(f.e->nout, 2);
	f.now += 10 * MS;
	fx_in(&f, R + 100, s0 + 200, WIRE_TCP_PSH, 100); /* the next request */
	CHECK_EQ(f.e->nout, 2);                          /* no quick ACK now */
	CHECK(c->t_delack != 0);
	/* nothing to reply with: the timer sends it and interactivity ends */
	tcp_timers(c, c->t_delack);
	CHECK_EQ(f.e->nout, 3);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0 + 200, R + 200, 0);
	CHECK(!c->pingpong);
	fx_close(&f);
}

/* A small segment waits for the delayed ACK; the reader draining the queue
 * sends it at once (tcp_cleanup_rbuf's ICSK_ACK_PUSHED). */
static void test_drain_sends_ack(void)
{
	struct fx f;
	fx_open(&f, NULL);
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;

	fx_in(&f, R, s0, 0, M);
	CHECK_EQ(f.e->nout, 1); /* quick ACK */
	c->quick = 0;
	f.now += 100 * MS;
	fx_in(&f, R + M, s0, WIRE_TCP_PSH, 100);
	CHECK_EQ(f.e->nout, 1);
	CHECK(c->t_delack != 0);
	f.e->env.seg_free(f.e, tcp_rcvq_pop(c));
	tcp_rcv_space_changed(c, f.now);
	CHECK_EQ(f.e->nout, 1); /* not drained yet */
	f.e->env.seg_free(f.e, tcp_rcvq_pop(c));
	tcp_rcv_space_changed(c, f.now);
	CHECK_EQ(f.e->nout, 2);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0, R + M + 100, 0);
	CHECK_EQ(c->t_delack, 0);
	fx_close(&f);
}

/* ---- MSG_MORE and PSH ---------------------------------------------------------- */

static void test_more_holds_then_probe_pushes(void)
{
	struct fx f;
	fx_open(&f, NULL);
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;

	/* the socket layer's send call with MSG_MORE */
	c->more = true;
	c->tail_more = true;
	CHECK_EQ(tcp_send(c, f.data, 40, f.now), 40);
	c->more = false;
	CHECK_EQ(f.e->nout, 0);
	/* nothing in flight: the 200 ms ceiling lets it go, with PSH (the
	 * probe of tcp_write_wakeup) */
	CHECK_EQ(tcp_next_deadline(c), f.now + 200 * MS);
	tcp_timers(c, f.now + 200 * MS);
	CHECK_EQ(f.e->nout, 1);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_PSH, s0, R, 40);

	/* a tail queued with MSG_MORE that a later push lets go (here with
	 * nothing in flight, as TCP_NODELAY's push) carries no PSH: Linux
	 * marks PSH when a call ends without MSG_MORE */
	f.now += 10 * MS;
	fx_in(&f, R, s0 + 40, 0, 0);
	c->more = true;
	c->tail_more = true;
	CHECK_EQ(tcp_send(c, f.data, 80, f.now), 80);
	c->more = false;
	CHECK_EQ(f.e->nout, 1);
	tcp_output(c, f.now);
	CHECK_EQ(f.e->nout, 2);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK, s0 + 40, R, 80);
	fx_close(&f);
}

/* ---- loss probe of a lone FIN ---------------------------------------------------- */

static void test_tlp_resends_lone_fin(void)
{
	struct fx f;
	fx_open(&f, NULL);
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;

	CHECK_EQ(tcp_send(c, f.data, 2 * M, f.now), 2 * M);
	CHECK_EQ(f.e->nout, 2);
	tcp_shutdown(c, f.now); /* the data went: the FIN goes alone */
	CHECK_EQ(f.e->nout, 3);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_FIN, s0 + 2 * M, R, 0);
	CHECK(c->fin_alone);
	/* the probe, 2 SRTT + 2 ms later, resends the FIN alone, as Linux
	 * resends its last skb (not the last MSS of data) */
	CHECK_EQ(c->t_tlp, f.now + 2 * c->srtt_us + 2 * MS);
	CHECK(c->t_tlp < c->t_rexmit);
	tcp_timers(c, c->t_tlp);
	CHECK_EQ(f.e->nout, 4);
	CHECK_OUT(last_out(f.e), WIRE_TCP_ACK | WIRE_TCP_FIN, s0 + 2 * M, R, 0);
	fx_close(&f);
}

/* ---- ts_recent ------------------------------------------------------------------------ */

/* A segment whose ACK covers data never sent is dropped, and its TSval must
 * not become ts_recent: PAWS would then drop the peer's real segments. */
static void test_ts_recent_kept_from_bad_ack(void)
{
	struct fx f;
	fx_open(&f, NULL);
	struct tcp_conn *c = &f.c;
	uint32_t s0 = c->iss + 1;
	uint32_t before = c->ts_recent;

	struct tcp_seg bad = mkseg(f.e, R, s0 + 9999, WIRE_TCP_ACK | WIRE_TCP_FIN, 2048, 0);
	seg_ts(&bad, 200000, tcp_ts_now(c, f.now));
	tcp_input(c, &bad, f.now);
	CHECK_EQ(c->ts_recent, before);
	CHECK_EQ(c->rcv_nxt, R); /* the FIN was not taken */
	unsigned n = f.e->nout;
	fx_in(&f, R, s0, 0, 1000); /* the peer's real data, older TSval */
	CHECK_EQ(c->rcv_nxt, R + 1000);
	CHECK_EQ(c->st.paws_drops, 0);
	CHECK(f.e->nout > n);
	fx_close(&f);
}

int main(void)
{
	RUN(test_syn_options_off);
	RUN(test_pingpong);
	RUN(test_drain_sends_ack);
	RUN(test_more_holds_then_probe_pushes);
	RUN(test_tlp_resends_lone_fin);
	RUN(test_ts_recent_kept_from_bad_ack);
	return CHECK_DONE();
}
