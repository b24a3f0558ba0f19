/* SPDX-License-Identifier: MIT */
/*
 * timer.c: the timers of a connection, as absolute deadlines in us
 * (0 = off): retransmission (RFC 6298; also SYN / SYN-ACK / FIN), delayed
 * ACK (RFC 1122 4.2.3.2), persist (RFC 9293 3.8.6.1), TIME_WAIT
 * (RFC 9293 3.6) and the TCP_CORK ceiling (output.c). The caller runs
 * tcp_timers() at tcp_next_deadline().
 */
#include "tcp/tcp_int.h"

#define TCP_CLOCK_G_US 1000u /* RFC 6298 2: clock granularity G (TS clock) */

void tcp_rtt_sample(struct tcp_conn *c, uint64_t rtt)
{
	if (rtt > TCP_RTO_MAX_US)
		rtt = TCP_RTO_MAX_US;
	uint32_t r = (uint32_t)rtt;
	if (!c->min_rtt_us || r < c->min_rtt_us)
		c->min_rtt_us = r ? r : 1; /* lifetime minimum (tcpi_min_rtt) */
	if (!c->srtt_us) {
		/* RFC 6298 2.2 */
		c->srtt_us = r ? r : 1;
		c->rttvar_us = r / 2;
	} else {
		/* RFC 6298 2.3: beta 1/4, alpha 1/8 */
		uint32_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
		c->rttvar_us = c->rttvar_us - c->rttvar_us / 4 + d / 4;
		c->srtt_us = c->srtt_us - c->srtt_us / 8 + r / 8;
		if (!c->srtt_us)
			c->srtt_us = 1;
	}
	uint64_t rto = (uint64_t)c->srtt_us + DEVMEM_MAX(TCP_CLOCK_G_US, 4u * c->rttvar_us);
	/* RFC 6298 2.4/2.5 with Linux's 200 ms floor */
	if (rto < TCP_RTO_MIN_US)
		rto = TCP_RTO_MIN_US;
	if (rto > TCP_RTO_MAX_US)
		rto = TCP_RTO_MAX_US;
	c->rto_us = (uint32_t)rto;
}

uint64_t tcp_rto_backed_off(const struct tcp_conn *c)
{
	/* RFC 6298 5.5: double per expiration, bounded. */
	unsigned b = c->backoff > 20 ? 20 : c->backoff;
	uint64_t t = (uint64_t)c->rto_us << b;
	return t > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : t;
}

void tcp_arm_rexmit(struct tcp_conn *c, uint64_t now)
{
	c->t_rexmit = now + tcp_rto_backed_off(c);
	c->t_persist = 0;
}

void tcp_arm_delack(struct tcp_conn *c, uint64_t now)
{
	if (!c->t_delack)
		c->t_delack = now + c->cfg.delack_us;
}

uint64_t tcp_next_deadline(const struct tcp_conn *c)
{
	uint64_t d = UINT64_MAX;
	const uint64_t t[] = { c->t_rexmit, c->t_delack, c->t_persist, c->t_timewait,
			       c->state != TCP_CLOSED ? c->t_cork : 0 };
	for (unsigned i = 0; i < DEVMEM_ARRAY_SIZE(t); i++)
		if (t[i] && t[i] < d)
			d = t[i];
	return d;
}

static void on_rexmit(struct tcp_conn *c, uint64_t now)
{
	switch (c->state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV: {
		unsigned max = c->state == TCP_SYN_SENT ? TCP_SYN_RETRIES : TCP_SYNACK_RETRIES;
		if (c->syn_retries >= max) {
			if (c->state == TCP_SYN_RECV && c->parent)
				tcp_enter_closed(c); /* embryonic child: just goes */
			else
				tcp_drop_conn(c, ETIMEDOUT);
			return;
		}
		c->syn_retries++;
		c->backoff++;
		c->rtt_active = false; /* Karn */
		c->st.rto_events++;
		tcp_send_syn(c, now);
		tcp_arm_rexmit(c, now);
		return;
	}
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT1:
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	default:
		return;
	}
	if (c->snd_una == c->snd_max)
		return;
	/* RFC 9293 3.8.3 R2 (Linux tcp_retries2): give up. */
	if (c->backoff >= TCP_RETRIES2) {
		tcp_drop_conn(c, ETIMEDOUT);
		return;
	}
	c->st.rto_events++;
	DEVMEM_DBG("tcp %u: RTO una=%u nxt=%u max=%u len=%u rec=%d loss=%d nscore=%u high_rxt=%u "
		   "cwnd=%u wnd=%u backoff=%u", c->ep.lport, c->snd_una, c->snd_nxt, c->snd_max,
		   c->snd_len, c->in_recovery, c->loss_mode, c->nscore, c->high_rxt, c->cwnd,
		   c->snd_wnd, c->backoff);
	tcp_rto_loss(c);
	c->backoff++; /* RFC 6298 5.5 */
	tcp_push(c, now);
	if (!c->t_rexmit) {
		/* Nothing fitted (the window closed under data in flight):
		 * retransmit the head anyway, as a probe. */
		tcp_rexmit(c, c->snd_una, c->snd_mss, now);
		if (!c->t_rexmit)
			tcp_arm_rexmit(c, now);
	}
}

static void on_persist(struct tcp_conn *c, uint64_t now)
{
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT1:
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	default:
		return;
	}
	tcp_push(c, now);
	if (c->t_rexmit || c->snd_una != c->snd_max)
		return; /* something went out: the RTO timer covers it */
	bool pending = seq_lt(c->snd_nxt, tcp_data_end(c)) || (c->fin_queued && !c->fin_sent);
	if (!pending)
		return;
	tcp_send_probe(c, now);
	if (c->backoff < 20)
		c->backoff++;
	c->t_persist = now + tcp_rto_backed_off(c);
}

uint64_t tcp_timers(struct tcp_conn *c, uint64_t now)
{
	if (c->state == TCP_CLOSED)
		return UINT64_MAX;
	if (c->t_timewait && now >= c->t_timewait) {
		c->t_timewait = 0;
		tcp_enter_closed(c); /* RFC 9293 3.10.8: 2 MSL over */
		tcp_ev_flush(c);
		return UINT64_MAX;
	}
	if (c->t_rexmit && now >= c->t_rexmit) {
		c->t_rexmit = 0;
		on_rexmit(c, now);
		if (c->state == TCP_CLOSED) {
			tcp_ev_flush(c);
			return UINT64_MAX;
		}
	}
	if (c->t_cork && now >= c->t_cork) {
		/* TCP_CORK's 200 ms are over: tcp_push lets the partial
		 * segment go (before persist, which would only probe). */
		tcp_push(c, now);
		if (c->t_cork && now >= c->t_cork)
			c->t_cork = 0; /* nothing could go: re-armed when it waits again */
	}
	if (c->t_persist && now >= c->t_persist) {
		c->t_persist = 0;
		on_persist(c, now);
	}
	if (c->t_delack && now >= c->t_delack) {
		c->t_delack = 0;
		if (c->state != TCP_LISTEN && c->state != TCP_SYN_SENT)
			tcp_send_ack(c, now);
	}
	tcp_ev_flush(c);
	return tcp_next_deadline(c);
}
