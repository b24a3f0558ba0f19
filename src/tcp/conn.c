/* SPDX-License-Identifier: MIT */
/*
 * conn.c: connection life cycle (init, listen, connect, shutdown, abort,
 * destroy), state transitions and event delivery.
 *
 * Events are collected in c->ev_pending while the core works and delivered
 * once at the end of each public entry point, so that an event handler that
 * calls back into the core never sees a half-updated connection. When
 * TCP_EV_CLOSED is delivered it is the last thing the core does with c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcp/tcp_int.h"

const char *tcp_state_name(enum tcp_state s)
{
	static const char *const names[] = {
		[TCP_CLOSED] = "CLOSED",         [TCP_LISTEN] = "LISTEN",
		[TCP_SYN_SENT] = "SYN_SENT",     [TCP_SYN_RECV] = "SYN_RECV",
		[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_FIN_WAIT1] = "FIN_WAIT1",
		[TCP_FIN_WAIT2] = "FIN_WAIT2",   [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_CLOSING] = "CLOSING",       [TCP_LAST_ACK] = "LAST_ACK",
		[TCP_TIME_WAIT] = "TIME_WAIT",
	};
	if ((unsigned)s < DEVMEM_ARRAY_SIZE(names) && names[s])
		return names[s];
	return "?";
}

void tcp_cfg_default(struct tcp_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rcvbuf = 4u << 20;
	cfg->sndbuf = 4u << 20;
	cfg->mss = 1460;
	cfg->tx_mss_max = 1460;
	cfg->nodelay = false;
	cfg->cork = false;
	cfg->cc = TCP_CC_CUBIC; /* Linux's default */
	cfg->time_wait_us = 60 * TCP_SEC;
	cfg->delack_us = 40 * 1000;
}

void tcp_conn_init(struct tcp_conn *c, const struct tcp_ep *ep, const struct tcp_cfg *cfg,
		   const struct tcp_env *env, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->state = TCP_CLOSED;
	if (ep)
		c->ep = *ep;
	c->cfg = *cfg;
	if (c->cfg.mss < 64)
		c->cfg.mss = TCP_DEFAULT_MSS;
	if (c->cfg.tx_mss_max < c->cfg.mss)
		c->cfg.tx_mss_max = c->cfg.mss;
	if (c->cfg.sndbuf == 0)
		c->cfg.sndbuf = 64u << 10;
	if (c->cfg.rcvbuf == 0)
		c->cfg.rcvbuf = 64u << 10;
	c->env = env;
	c->ctx = ctx;
	c->rto_us = TCP_RTO_INIT_US; /* RFC 6298 2.1 */
	c->peer_mss = TCP_DEFAULT_MSS;
	c->snd_mss = TCP_DEFAULT_MSS;
	c->rcv_mss = TCP_DEFAULT_MSS;
	c->ssthresh = UINT32_MAX; /* RFC 5681 3.1: arbitrarily high */
	c->cwnd = TCP_INIT_CWND * TCP_DEFAULT_MSS;
}

static void rxq_free(struct tcp_conn *c, struct rxseg **head)
{
	struct rxseg *s = *head;
	while (s) {
		struct rxseg *n = s->next;
		c->env->seg_free(c->ctx, s);
		s = n;
	}
	*head = NULL;
}

void tcp_conn_destroy(struct tcp_conn *c)
{
	/* A child that dies in SYN_RECV gives its backlog slot back. */
	if (c->state == TCP_SYN_RECV && c->parent && c->parent->syn_recv)
		c->parent->syn_recv--;
	c->state = TCP_CLOSED;
	tcp_sndq_free(c);
	c->ev_pending = 0; /* nobody listens any more */
	rxq_free(c, &c->rcvq_head);
	c->rcvq_tail = NULL;
	c->rcvq_bytes = 0;
	rxq_free(c, &c->ooo);
	c->ooo_count = 0;
	c->ooo_bytes = 0;
}

bool tcp_synchronized(enum tcp_state s)
{
	return s >= TCP_ESTABLISHED;
}

void tcp_set_state(struct tcp_conn *c, enum tcp_state s)
{
	if (c->state == s)
		return;
	if (c->state == TCP_SYN_RECV && c->parent && c->parent->syn_recv)
		c->parent->syn_recv--;
	DEVMEM_DBG("tcp %u->%u: %s -> %s", c->ep.lport, c->ep.rport, tcp_state_name(c->state),
		   tcp_state_name(s));
	c->state = s;
}

void tcp_ev_flush(struct tcp_conn *c)
{
	unsigned ev = c->ev_pending;
	if (!ev)
		return;
	c->ev_pending = 0;
	if (c->env->event)
		c->env->event(c->ctx, c, ev);
}

void tcp_enter_closed(struct tcp_conn *c)
{
	if (c->state == TCP_CLOSED)
		return;
	tcp_set_state(c, TCP_CLOSED);
	tcp_sndq_free(c); /* nothing is sent again: pending calls complete */
	c->t_rexmit = c->t_delack = c->t_persist = c->t_timewait = 0;
	c->ack_now = false;
	tcp_ev(c, TCP_EV_CLOSED);
}

void tcp_drop_conn(struct tcp_conn *c, int err)
{
	c->err = err;
	tcp_ev(c, TCP_EV_ERROR);
	tcp_enter_closed(c);
}

void tcp_established(struct tcp_conn *c, uint64_t now)
{
	tcp_set_state(c, TCP_ESTABLISHED);
	c->t_rexmit = 0;
	c->backoff = 0;
	c->cwnd = TCP_INIT_CWND * c->snd_mss; /* RFC 6928 (Linux: 10 segments) */
	c->high_rxt = c->snd_una;
	c->last_ack_sent = c->rcv_nxt;
	if (c->rcv_adv == 0 || seq_lt(c->rcv_adv, c->rcv_nxt))
		c->rcv_adv = c->rcv_nxt;
	c->snd_full = false;
	tcp_ev(c, TCP_EV_ESTABLISHED | TCP_EV_WRITABLE);
	if (c->fin_queued) { /* shutdown() while the handshake was running */
		tcp_set_state(c, TCP_FIN_WAIT1);
		(void)now;
	}
}

int tcp_listen(struct tcp_conn *c, unsigned backlog)
{
	if (c->state != TCP_CLOSED && c->state != TCP_LISTEN)
		return -EISCONN;
	c->backlog = backlog ? backlog : 1;
	tcp_set_state(c, TCP_LISTEN);
	return 0;
}

static uint8_t choose_wscale(uint32_t rcvbuf)
{
	/* RFC 7323 2.3: smallest shift that lets the window cover rcvbuf, at
	 * least 7 as Linux (its rmem_max gives 7), at most 14. */
	uint8_t s = 0;
	while (s < 14 && (rcvbuf >> s) > 65535)
		s++;
	return s < 7 ? 7 : s;
}

uint8_t tcp_choose_wscale(const struct tcp_conn *c)
{
	return choose_wscale(c->cfg.rcvbuf);
}

int tcp_connect(struct tcp_conn *c, uint64_t now)
{
	if (c->state != TCP_CLOSED)
		return c->state == TCP_SYN_SENT ? -EALREADY : -EISCONN;
	c->iss = tcp_isn(&c->ep, c->cfg.isn_key, now);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->snd_sml = c->snd_nxt;
	c->recover = c->iss;
	c->high_rxt = c->iss;
	c->rcv_wscale = choose_wscale(c->cfg.rcvbuf);
	c->syn_retries = 0;
	c->backoff = 0;
	c->err = 0;
	tcp_set_state(c, TCP_SYN_SENT);
	c->rtt_active = true; /* time the SYN (Karn: cleared on retransmission) */
	c->rtt_seq = c->iss;
	c->rtt_start = now;
	tcp_send_syn(c, now);
	tcp_arm_rexmit(c, now);
	tcp_ev_flush(c);
	return 0;
}

void tcp_shutdown(struct tcp_conn *c, uint64_t now)
{
	switch (c->state) {
	case TCP_LISTEN:
	case TCP_SYN_SENT:
		tcp_enter_closed(c);
		break;
	case TCP_SYN_RECV:
		c->fin_queued = true; /* FIN once established */
		break;
	case TCP_ESTABLISHED:
		c->fin_queued = true;
		tcp_set_state(c, TCP_FIN_WAIT1);
		tcp_push(c, now);
		break;
	case TCP_CLOSE_WAIT:
		c->fin_queued = true;
		tcp_set_state(c, TCP_LAST_ACK);
		tcp_push(c, now);
		break;
	default:
		break;
	}
	tcp_ev_flush(c);
}

void tcp_abort(struct tcp_conn *c, uint64_t now)
{
	switch (c->state) {
	case TCP_CLOSED:
		return;
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSE_WAIT:
		/* RFC 9293 3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST> */
		tcp_send_rst(c, now);
		break;
	default:
		break;
	}
	tcp_enter_closed(c);
	tcp_ev_flush(c);
}

struct rxseg *tcp_rcvq_pop(struct tcp_conn *c)
{
	struct rxseg *s = c->rcvq_head;
	if (!s)
		return NULL;
	c->rcvq_head = s->next;
	if (!c->rcvq_head)
		c->rcvq_tail = NULL;
	c->rcvq_bytes -= s->pb.len;
	s->next = NULL;
	return s;
}

void tcp_stats_add(struct tcp_stats *sum, const struct tcp_stats *st)
{
	const uint64_t *a = (const uint64_t *)st;
	uint64_t *b = (uint64_t *)sum;

	_Static_assert(sizeof(*st) % sizeof(uint64_t) == 0, "tcp_stats: counters only");
	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		b[i] += a[i];
}
