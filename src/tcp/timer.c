/* SPDX-License-Identifier: MIT */
/*
 * timer.c: the timers of a connection, as absolute deadlines in us
 * (0 = off): retransmission (RFC 6298; also SYN / SYN-ACK / FIN), delayed
 * ACK (RFC 1122 4.2.3.2), persist (RFC 9293 3.8.6.1), TIME_WAIT
 * (RFC 9293 3.6), the TCP_CORK ceiling (output.c) and the tail loss probe
 * (RFC 8985 7). The caller runs tcp_timers() at tcp_next_deadline().
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
	/* Linux's tcp_send_delayed_ack: ato, at most the RTT (but at least
	 * 40 ms) and 200 ms when interactive, 500 ms otherwise */
	uint32_t ato_min = (uint32_t)c->cfg.delack_us;
	uint32_t ato = c->ato_us ? c->ato_us : ato_min;
	if (ato > ato_min) {
		uint32_t max_ato = c->pingpong ? TCP_DELACK_MAX_US : 500 * 1000u;
		if (c->srtt_us) {
			uint32_t rtt = DEVMEM_MAX(c->srtt_us, ato_min);
			if (rtt < max_ato)
				max_ato = rtt;
		}
		ato = DEVMEM_MIN(ato, max_ato);
	}
	if (c->t_delack && c->t_delack <= now + ato / 4) {
		c->ack_now = true; /* about to expire anyway */
		return;
	}
	if (!c->t_delack || now + ato < c->t_delack)
		c->t_delack = now + ato;
}

/*
 * RFC 8985 7.2: with SACK, data in flight and no recovery under way, a probe
 * after PTO = 2 SRTT (plus the worst-case delayed ACK when one segment is
 * out, as Linux: 200 ms) makes the receiver send the SACK that lets fast
 * recovery repair a tail loss, or a loss in a window too small for three
 * duplicate ACKs, instead of waiting for the RTO. Only one probe per
 * flight (tlp_high_seq). A PTO not before the RTO is not armed.
 */
void tcp_arm_tlp(struct tcp_conn *c, uint64_t now)
{
	c->t_tlp = 0;
	if (!c->sack_ok || !c->srtt_us || c->snd_una == c->snd_max || c->backoff ||
	    c->state < TCP_ESTABLISHED || c->cfg.no_tlp)
		return;
	/* Linux's tcp_schedule_loss_probe: 2 SRTT plus TCP_TIMEOUT_MIN */
	uint64_t pto = 2ull * c->srtt_us + TCP_TLP_MIN_US;
	uint64_t at;
	if (c->in_recovery) {
		/* A retransmission of the hole at snd_una that is lost with
		 * nothing sent after it can only be found by time: look again
		 * a PTO after it (the hole filled, the receiver ACKs at once). */
		if (!seq_gt(c->high_rxt, c->snd_una))
			return;
		at = c->una_rxt_time + pto;
	} else {
		if (c->loss_mode || c->tlp_high_seq)
			return;
		if (c->snd_max - c->snd_una <= c->snd_mss)
			pto = 2ull * c->srtt_us + TCP_TLP_DELACK_US; /* a lone segment's ACK may be delayed */
		at = now + pto;
	}
	if (c->t_rexmit && at >= c->t_rexmit)
		return;
	c->t_tlp = at;
}

/* The hole's retransmission had a PTO to be acknowledged and was not: it
 * is lost; retransmit it again (no new congestion response: same episode). */
static void on_recovery_probe(struct tcp_conn *c, uint64_t now)
{
	if (!seq_gt(c->high_rxt, c->snd_una))
		return;
	c->st.tlp_probes++;
	/* a probe, like TLP's, goes whatever the window (RFC 8985 7.3) */
	uint32_t len = c->snd_mss;
	if (c->nscore && seq_lt(c->scoreboard[0].start, c->snd_una + len))
		len = c->scoreboard[0].start - c->snd_una;
	uint32_t done = tcp_rexmit(c, c->snd_una, len, now);
	c->high_rxt = c->snd_una + done;
	c->una_rxt_mark = c->snd_max;
	c->una_rxt_time = now;
	tcp_arm_tlp(c, now);
}

/* RFC 8985 7.3: new data if the windows allow, else the last segment again. */
static void on_tlp(struct tcp_conn *c, uint64_t now)
{
	if (!tcp_synchronized(c->state) || c->snd_una == c->snd_max)
		return;
	if (c->in_recovery) {
		on_recovery_probe(c, now);
		return;
	}
	if (c->loss_mode || c->tlp_high_seq)
		return;
	uint32_t end = tcp_data_end(c);
	uint32_t mss = c->snd_mss;
	int32_t avail = (int32_t)(end - c->snd_nxt);
	int32_t wroom = (int32_t)(c->snd_una + c->snd_wnd - c->snd_nxt);
	uint32_t sent = 0;
	c->st.tlp_probes++;
	DEVMEM_DBG("tcp %u: TLP una=%u nxt=%u max=%u srtt=%u", c->ep.lport, c->snd_una, c->snd_nxt,
		   c->snd_max, c->srtt_us);
	if (avail > 0 && wroom > 0 && seq_ge(c->snd_nxt, c->snd_max)) {
		uint32_t len = DEVMEM_MIN((uint32_t)avail, (uint32_t)wroom);
		len = DEVMEM_MIN(len, mss);
		sent = tcp_xmit_data(c, c->snd_nxt, len, false, now);
		c->snd_nxt += sent;
		c->snd_max = c->snd_nxt;
	}
	if (!sent) {
		/* the highest segment sent (with our FIN when that was last) */
		uint32_t top = c->fin_sent && !tcp_fin_acked(c) ? c->fin_seq : c->snd_max;
		uint32_t from = top - c->snd_una > mss ? top - mss : c->snd_una;
		if (c->fin_alone && top == c->fin_seq)
			from = top; /* as Linux: the last segment was the FIN alone */
		tcp_rexmit(c, from, top - from, now);
	}
	c->tlp_high_seq = c->snd_max;
	c->t_tlp = 0;
	tcp_arm_rexmit(c, now); /* 7.3: the RTO runs from the probe */
}

uint64_t tcp_next_deadline(const struct tcp_conn *c)
{
	uint64_t d = UINT64_MAX;
	const uint64_t t[] = { c->t_rexmit, c->t_delack, c->t_persist, c->t_timewait,
			       c->state != TCP_CLOSED ? c->t_cork : 0, c->t_tlp };
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
	c->t_tlp = 0;
	/* RFC 9293 3.8.3 R2 (Linux tcp_retries2): give up. */
	if (c->backoff >= TCP_RETRIES2) {
		tcp_drop_conn(c, ETIMEDOUT);
		return;
	}
	c->st.rto_events++;
	DEVMEM_DBG("tcp %u: RTO una=%u nxt=%u max=%u len=%u rec=%d loss=%d nscore=%u high_rxt=%u "
		   "cwnd=%u wnd=%u backoff=%u tlp_high=%u srtt=%u", c->ep.lport, c->snd_una, c->snd_nxt, c->snd_max,
		   c->snd_len, c->in_recovery, c->loss_mode, c->nscore, c->high_rxt, c->cwnd,
		   c->snd_wnd, c->backoff, c->tlp_high_seq, c->srtt_us);
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
	if (c->t_tlp && now >= c->t_tlp) {
		c->t_tlp = 0;
		on_tlp(c, now);
	}
	if (c->t_cork && now >= c->t_cork) {
		/* TCP_CORK's 200 ms are over: tcp_push lets the partial
		 * segment go (before persist, which would only probe),
		 * with PSH as Linux's tcp_write_wakeup sends it. */
		c->tail_more = false;
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
		if (c->state != TCP_LISTEN && c->state != TCP_SYN_SENT) {
			/* tcp_delack_timer_handler: a delayed ACK that had to
			 * wait for the timer inflates ato, or ends the
			 * interactive mode that expected a reply */
			if (c->pingpong) {
				c->pingpong = false;
				c->ato_us = (uint32_t)c->cfg.delack_us;
			} else if (c->ato_us) {
				c->ato_us = DEVMEM_MIN(c->ato_us * 2, c->rto_us);
			}
			tcp_send_ack(c, now);
		}
	}
	tcp_ev_flush(c);
	return tcp_next_deadline(c);
}
