/* SPDX-License-Identifier: MIT */
/*
 * input.c: segment arrival, RFC 9293 3.10.7, with RFC 7323 (PAWS,
 * ts_recent), RFC 5961 (RST/SYN/ACK hardening), RFC 6191 (TIME_WAIT reuse)
 * and RFC 1122 4.2.3.2 / RFC 5681 4.2 (when to ACK).
 *
 * The core owns seg->data from the moment tcp_input() is called (except
 * for TCP_IN_REOPEN): every path either queues it or frees it with
 * env->seg_free.
 */
#include <string.h>

#include "tcp/tcp_int.h"

static void seg_drop(struct tcp_conn *c, struct tcp_seg *seg)
{
	if (seg->data) {
		c->env->seg_free(c->ctx, seg->data);
		seg->data = NULL;
	}
}

/* Negotiate options from the peer's SYN (RFC 9293 3.7.1, RFC 7323 2.2/3.2,
 * RFC 2018 2). For an active open we offered everything; for a passive one
 * we answer with what was offered. */
static void syn_options(struct tcp_conn *c, const struct wire_tcp *th, uint64_t now)
{
	const struct wire_tcp_opts *o = &th->opts;
	c->peer_mss = (o->present & WIRE_OPT_MSS) ? o->mss : TCP_DEFAULT_MSS;
	if (c->peer_mss < 88)
		c->peer_mss = 88; /* as Linux's TCP_MIN_MSS: no absurd segments */
	c->ws_ok = (o->present & WIRE_OPT_WSCALE) && !c->cfg.no_ws;
	if (c->ws_ok) {
		c->snd_wscale = o->wscale > 14 ? 14 : o->wscale;
		if (c->state != TCP_SYN_SENT)
			c->rcv_wscale = tcp_choose_wscale(c);
	} else {
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	c->ts_ok = (o->present & WIRE_OPT_TS) && !c->cfg.no_ts;
	if (c->ts_ok) {
		c->ts_recent = o->tsval;
		c->ts_recent_stamp = now;
	}
	c->sack_ok = (o->present & WIRE_OPT_SACKOK) && !c->cfg.no_sack;
	uint32_t mss = DEVMEM_MIN((uint32_t)c->peer_mss, (uint32_t)c->cfg.mss);
	if (c->ts_ok)
		mss -= TCP_TS_OPT_LEN; /* the option eats into each segment */
	c->snd_mss = (uint16_t)mss;
	c->rcv_mss = (uint16_t)mss;
}

/* ---- LISTEN (RFC 9293 3.10.7.2) ---------------------------------------------- */

static enum tcp_input_result listen_input(struct tcp_conn *l, struct tcp_seg *seg, uint64_t now)
{
	const struct wire_tcp *th = &seg->th;
	seg_drop(l, seg); /* no data on a SYN (no TFO): the peer resends it */
	if (th->flags & WIRE_TCP_RST)
		return TCP_IN_OK;
	if (th->flags & WIRE_TCP_ACK)
		return TCP_IN_RST;
	if (!(th->flags & WIRE_TCP_SYN))
		return TCP_IN_OK;
	if (l->syn_recv >= l->backlog) {
		l->st.syn_drops++;
		return TCP_IN_OK;
	}
	struct tcp_ep ep;
	if (seg->ep) {
		ep = *seg->ep;
	} else {
		ep = l->ep;
		ep.rport = th->sport;
	}
	struct tcp_conn *c = l->env->new_child ? l->env->new_child(l->ctx, l, &ep) : NULL;
	if (!c) {
		l->st.syn_drops++;
		return TCP_IN_OK;
	}
	c->parent = l;
	c->st.segs_in++;
	c->state = TCP_SYN_RECV;
	l->syn_recv++;
	syn_options(c, th, now);
	c->irs = th->seq;
	c->rcv_nxt = th->seq + 1;
	c->iss = tcp_isn(&c->ep, c->cfg.isn_key, now);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->snd_sml = c->snd_nxt;
	c->recover = c->high_rxt = c->iss;
	c->snd_wnd = c->max_snd_wnd = th->window; /* RFC 7323 2.2: not scaled */
	c->snd_wl1 = th->seq;
	c->snd_wl2 = c->iss;
	c->rtt_active = true;
	c->rtt_seq = c->iss;
	c->rtt_start = now;
	tcp_send_syn(c, now);
	tcp_arm_rexmit(c, now);
	tcp_ev_flush(c);
	return TCP_IN_OK;
}

/* ---- SYN_SENT (RFC 9293 3.10.7.3) -------------------------------------------- */


/* The handshake's RTT sample (RFC 6298 2.2); after a retransmitted SYN with
 * no sample, fall back to a 3 s RTO (RFC 6298 5.7). */
static void handshake_rtt(struct tcp_conn *c, uint64_t now)
{
	if (c->rtt_active) {
		tcp_rtt_sample(c, now - c->rtt_start);
		c->rtt_active = false;
	} else if (c->syn_retries && !c->srtt_us) {
		c->rto_us = TCP_RTO_FALLBACK_US;
	}
}
static void syn_sent_input(struct tcp_conn *c, struct tcp_seg *seg, uint64_t now)
{
	const struct wire_tcp *th = &seg->th;
	uint8_t f = th->flags;
	bool ack_ok = false;

	seg_drop(c, seg); /* data on a SYN-ACK is rare: the peer resends it */
	if (f & WIRE_TCP_ACK) {
		if (seq_le(th->ack, c->iss) || seq_gt(th->ack, c->snd_max)) {
			c->st.bad_ack_drops++;
			if (!(f & WIRE_TCP_RST))
				tcp_send_rst_reply(c, th, seg->len);
			return;
		}
		ack_ok = true;
	}
	if (f & WIRE_TCP_RST) {
		c->st.rst_in++;
		if (ack_ok) /* RFC 5961 3.2: only a RST that acks our SYN */
			tcp_drop_conn(c, ECONNREFUSED);
		return;
	}
	if (!(f & WIRE_TCP_SYN))
		return;

	syn_options(c, th, now);
	c->irs = th->seq;
	c->rcv_nxt = th->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->snd_wnd = c->max_snd_wnd = th->window; /* SYN windows are not scaled */
	c->snd_wl1 = th->seq;
	c->snd_wl2 = th->ack;
	if (ack_ok) {
		c->snd_una = th->ack;
		handshake_rtt(c, now);
		tcp_established(c, now);
		tcp_send_ack(c, now);
		if (c->state == TCP_FIN_WAIT1)
			tcp_push(c, now);
	} else {
		/* Simultaneous open (RFC 9293 3.5, figure 8). */
		tcp_set_state(c, TCP_SYN_RECV);
		tcp_send_syn(c, now);
		tcp_arm_rexmit(c, now);
	}
}

/* ---- TIME_WAIT ---------------------------------------------------------------- */

static enum tcp_input_result time_wait_input(struct tcp_conn *c, struct tcp_seg *seg,
					     uint64_t now)
{
	const struct wire_tcp *th = &seg->th;
	uint8_t f = th->flags;
	bool has_ts = (th->opts.present & WIRE_OPT_TS) != 0;

	if (f & WIRE_TCP_RST) { /* RFC 1337: TIME_WAIT ignores RSTs */
		c->st.rst_in++;
		seg_drop(c, seg);
		return TCP_IN_OK;
	}
	if ((f & WIRE_TCP_SYN) && !(f & WIRE_TCP_ACK)) {
		/* RFC 6191 2 / RFC 9293 3.10.7.4: a new incarnation may reuse the
		 * four-tuple when its SYN is newer than anything seen. */
		bool newer = (c->ts_ok && has_ts) ? seq_gt(th->opts.tsval, c->ts_recent)
						  : seq_gt(th->seq, c->rcv_nxt);
		if (newer) {
			tcp_enter_closed(c);
			tcp_ev_flush(c);
			return TCP_IN_REOPEN; /* seg->data stays the caller's */
		}
		c->st.challenge_acks++;
		seg_drop(c, seg);
		tcp_send_ack(c, now);
		return TCP_IN_OK;
	}
	seg_drop(c, seg);
	if (c->ts_ok && has_ts && seq_lt(th->opts.tsval, c->ts_recent)) {
		c->st.paws_drops++;
		tcp_send_ack(c, now);
		return TCP_IN_OK;
	}
	uint32_t seglen = seg->len + ((f & WIRE_TCP_FIN) ? 1 : 0);
	if ((f & WIRE_TCP_FIN) && th->seq + seglen == c->rcv_nxt) {
		/* The peer did not get our ACK of its FIN: again, and restart
		 * the 2 MSL wait (RFC 9293 3.10.7.4 eighth check). */
		c->t_timewait = now + c->cfg.time_wait_us;
		tcp_send_ack(c, now);
		return TCP_IN_OK;
	}
	if (seglen)
		tcp_send_ack(c, now);
	return TCP_IN_OK;
}

/* ---- FIN (RFC 9293 3.10.7.4 eighth check) ---------------------------------- */

static void enter_time_wait(struct tcp_conn *c, uint64_t now)
{
	tcp_set_state(c, TCP_TIME_WAIT);
	c->t_rexmit = c->t_persist = c->t_delack = 0;
	c->t_timewait = now + c->cfg.time_wait_us;
}

static void fin_rcvd(struct tcp_conn *c, uint64_t now)
{
	c->fin_rcvd = true;
	c->ooo_fin = false;
	c->rcv_nxt++;
	c->ack_now = true; /* ACK a FIN at once */
	tcp_ooo_purge(c);  /* nothing can follow a FIN */
	tcp_ev(c, TCP_EV_READABLE);
	switch (c->state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		tcp_set_state(c, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT1:
		/* Our FIN not yet acked (else we were in FIN_WAIT2): both
		 * closing at once. */
		tcp_set_state(c, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		enter_time_wait(c, now);
		break;
	default:
		break;
	}
}

/* ---- data (RFC 9293 3.10.7.4 seventh check) --------------------------------- */

/* Quick-ACK mode for the next n data segments (Linux's tcp_incr_quickack:
 * as many as half the window holds, at least 2). */
static void quickack_incr(struct tcp_conn *c, unsigned n)
{
	uint32_t wnd = seq_gt(c->rcv_adv, c->last_ack_sent) ? c->rcv_adv - c->last_ack_sent : 0;
	uint32_t q = wnd / (2u * c->rcv_mss);

	if (q == 0)
		q = 2;
	if (q > n)
		q = n;
	if (q > c->quick)
		c->quick = (uint8_t)q;
}

/* Something unexpected arrived (duplicate data): ACK the next segments at
 * once and leave interactive mode (tcp_enter_quickack_mode). */
static void quickack_enter(struct tcp_conn *c)
{
	quickack_incr(c, TCP_MAX_QUICKACKS);
	c->pingpong = false;
	c->ato_us = (uint32_t)c->cfg.delack_us;
}

/*
 * In-order data arrived (Linux's tcp_event_data_recv): the first data of a
 * connection starts quick-ACK mode, so that the peer's slow start is not
 * held up by delayed ACKs; later, the delayed-ACK timeout (ato) follows
 * the gaps between segments, and a gap longer than the RTO (the sender
 * was idle) starts quick ACKs again.
 */
static void data_rcvd_ato(struct tcp_conn *c, uint64_t now)
{
	uint32_t ato_min = (uint32_t)c->cfg.delack_us;

	if (!c->ato_us) {
		quickack_incr(c, TCP_MAX_QUICKACKS);
		c->ato_us = ato_min;
	} else {
		uint64_t m = now - c->lrcvtime;

		if (m <= ato_min / 2)
			c->ato_us = c->ato_us / 2 + ato_min / 2;
		else if (m < c->ato_us)
			c->ato_us = (uint32_t)DEVMEM_MIN(c->ato_us / 2 + m, (uint64_t)c->rto_us);
		else if (m > c->rto_us)
			quickack_incr(c, TCP_MAX_QUICKACKS);
	}
	c->lrcvtime = now;
}

static void data_input(struct tcp_conn *c, struct tcp_seg *seg, uint64_t now)
{
	struct rxseg *d = seg->data;
	seg->data = NULL;
	uint32_t seq = seg->th.seq;
	uint32_t len = d ? seg->len : 0;
	bool fin = (seg->th.flags & WIRE_TCP_FIN) != 0;

	if (d && d->pb.len != len)
		len = d->pb.len; /* trust the frags over the header */
	if (d)
		d->seq = seq;
	if (len)
		c->st.data_segs_in++;

	/* Left edge: cut what we already have. */
	if (seq_lt(seq, c->rcv_nxt)) {
		uint32_t old = c->rcv_nxt - seq;
		if (old >= len) {
			if (!(fin && old == len)) {
				/* Entirely old (FIN included): a duplicate. ACK at
				 * once, the peer may have lost our ACK. */
				if (len || fin)
					c->st.dup_segs++;
				if (d)
					c->env->seg_free(c->ctx, d);
				c->ack_now = true;
				quickack_enter(c); /* tcp_data_queue: a retransmission */
				return;
			}
			if (d)
				c->env->seg_free(c->ctx, d);
			d = NULL;
			len = 0;
		} else {
			pbuf_trim_front(&d->pb, old);
			len -= old;
		}
		seq = c->rcv_nxt;
		if (d)
			d->seq = seq;
	}

	/* Right edge: what lies beyond the window we advertised is dropped
	 * (a zero-window probe lands here) and answered with an ACK. */
	uint32_t wend = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv : c->rcv_nxt;
	if (seq_gt(seq + len, wend)) {
		uint32_t over = seq + len - wend;
		if (over >= len) {
			if (d)
				c->env->seg_free(c->ctx, d);
			d = NULL;
			len = 0;
		} else {
			pbuf_trim_back(&d->pb, over);
			len -= over;
		}
		fin = false;
		c->ack_now = true;
	}
	if (d && !len) {
		c->env->seg_free(c->ctx, d);
		d = NULL;
	}

	if (seq == c->rcv_nxt) {
		if (d) {
			bool had_ooo = c->ooo != NULL;
			tcp_rcvq_append(c, d);
			tcp_ev(c, TCP_EV_READABLE);
			if (len > c->rcv_mss && len <= c->cfg.mss)
				c->rcv_mss = (uint16_t)len;
			/* tcp_measure_rcv_mss: a small segment, or a full one
			 * that ends a write, lets the reader's draining send
			 * the ACK (tcp_rcv_space_changed) */
			if (len < c->rcv_mss)
				c->ack_pushed = c->ack_pushed ? 2 : 1;
			else if (seg->th.flags & WIRE_TCP_PSH)
				c->ack_pushed = DEVMEM_MAX(c->ack_pushed, (uint8_t)1);
			data_rcvd_ato(c, now);
			if (had_ooo) {
				tcp_ooo_pull(c);
				tcp_sack_refresh(c, false, 0);
				c->ack_now = true; /* RFC 5681 4.2: it filled a hole */
			}
		}
		/* RFC 5681 4.2 as Linux's __tcp_ack_snd_check: at once when
		 * more than one full segment is unacknowledged (a GSO
		 * super-segment alone is), or in quick-ACK mode; else
		 * delayed. */
		if (fin || (c->ooo_fin && c->ooo_fin_seq == c->rcv_nxt))
			fin_rcvd(c, now);
		else if (d && (c->rcv_nxt - c->last_ack_sent > c->rcv_mss ||
			       (c->quick && !c->pingpong)))
			c->ack_now = true;
		else if (d)
			tcp_arm_delack(c, now);
	} else {
		/* Above rcv_nxt: hold it and send a duplicate ACK with SACK at
		 * once (RFC 5681 4.2, RFC 2018 4). */
		c->st.ooo_segs++;
		if (fin) {
			c->ooo_fin = true;
			c->ooo_fin_seq = seq + len;
		}
		if (d)
			tcp_ooo_insert(c, d, now);
		c->ack_now = true;
	}
}

/* ---- synchronized states ------------------------------------------------------ */

/* Linux's tcp_sequence(): the segment overlaps [rcv_wup, right edge]. */
static bool seq_acceptable(const struct tcp_conn *c, uint32_t seq, uint32_t seglen)
{
	uint32_t left = seq_lt(c->last_ack_sent, c->rcv_nxt) ? c->last_ack_sent : c->rcv_nxt;
	uint32_t right = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv : c->rcv_nxt;
	if (seq_lt(seq + seglen, left))
		return false;
	if (seq_gt(seq, right))
		return false;
	return true;
}

static void sync_input(struct tcp_conn *c, struct tcp_seg *seg, uint64_t now)
{
	/* Simultaneous open (RFC 9293 3.5 figure 8): the peer's SYN-ACK
	 * repeats its SYN; what is new in it is the ACK of ours. */
	if (c->state == TCP_SYN_RECV && !c->parent && seg->th.seq == c->irs &&
	    (seg->th.flags & (WIRE_TCP_SYN | WIRE_TCP_ACK | WIRE_TCP_RST)) == (WIRE_TCP_SYN | WIRE_TCP_ACK)) {
		seg->th.flags &= (uint8_t)~WIRE_TCP_SYN;
		seg->th.seq++;
		seg_drop(c, seg);
		seg->len = 0;
	}
	const struct wire_tcp *th = &seg->th;
	uint8_t f = th->flags;
	uint32_t seq = th->seq;
	uint32_t seglen = seg->len + ((f & WIRE_TCP_SYN) ? 1 : 0) + ((f & WIRE_TCP_FIN) ? 1 : 0);
	bool has_ts = (th->opts.present & WIRE_OPT_TS) != 0;
	bool ts_fresh = now - c->ts_recent_stamp <= TCP_PAWS_IDLE_US;

	/* A retransmitted SYN while our SYN-ACK is out: send it again. */
	if (c->state == TCP_SYN_RECV && (f & WIRE_TCP_SYN) && !(f & (WIRE_TCP_ACK | WIRE_TCP_RST)) &&
	    seq == c->irs) {
		seg_drop(c, seg);
		tcp_send_syn(c, now);
		return;
	}

	/* RFC 7323 5.3 R1: PAWS. After 24 days idle ts_recent is stale (5.5). */
	if (c->ts_ok && has_ts && !(f & WIRE_TCP_RST) && ts_fresh &&
	    seq_lt(th->opts.tsval, c->ts_recent)) {
		c->st.paws_drops++;
		seg_drop(c, seg);
		tcp_send_ack(c, now);
		return;
	}

	/* RFC 9293 3.10.7.4 first check: sequence acceptability. */
	if (!seq_acceptable(c, seq, seglen)) {
		if (!(f & WIRE_TCP_RST)) {
			if (seg->len && seq_le(seq + seg->len, c->rcv_nxt))
				c->st.dup_segs++;
			tcp_send_ack(c, now);
		}
		seg_drop(c, seg);
		return;
	}

	/* Second check, RST, with RFC 5961 3.2. */
	if (f & WIRE_TCP_RST) {
		c->st.rst_in++;
		seg_drop(c, seg);
		if (seq != c->rcv_nxt) {
			c->st.challenge_acks++;
			tcp_send_ack(c, now);
			return;
		}
		switch (c->state) {
		case TCP_SYN_RECV:
			if (c->parent)
				tcp_enter_closed(c); /* passive: the embryo goes */
			else
				tcp_drop_conn(c, ECONNREFUSED);
			break;
		case TCP_ESTABLISHED:
		case TCP_FIN_WAIT1:
		case TCP_FIN_WAIT2:
		case TCP_CLOSE_WAIT:
			tcp_drop_conn(c, ECONNRESET);
			break;
		default: /* CLOSING, LAST_ACK: the user is gone */
			tcp_enter_closed(c);
			break;
		}
		return;
	}

	/* Fourth check, SYN: RFC 5961 4.2 challenge ACK. */
	if (f & WIRE_TCP_SYN) {
		c->st.challenge_acks++;
		seg_drop(c, seg);
		tcp_send_ack(c, now);
		return;
	}

	/* RFC 7323 4.3: ts_recent follows the segment that Last.ACK.sent
	 * covers, once its ACK proved acceptable (below): a segment dropped
	 * for its ACK must not move it (Linux updates it in tcp_ack). */
	bool ts_update = c->ts_ok && has_ts && seq_le(seq, c->last_ack_sent) &&
			 (seq_ge(th->opts.tsval, c->ts_recent) || !ts_fresh);

	/* Fifth check, ACK. */
	if (!(f & WIRE_TCP_ACK)) {
		seg_drop(c, seg);
		return;
	}
	uint32_t ack = th->ack;
	if (c->state == TCP_SYN_RECV) {
		if (seq_le(ack, c->snd_una) || seq_gt(ack, c->snd_max)) {
			c->st.bad_ack_drops++;
			seg_drop(c, seg);
			tcp_send_rst_reply(c, th, seg->len);
			return;
		}
		if (ts_update) {
			c->ts_recent = th->opts.tsval;
			c->ts_recent_stamp = now;
		}
		c->snd_una = ack;
		c->snd_wnd = (uint32_t)th->window << c->snd_wscale;
		c->max_snd_wnd = DEVMEM_MAX(c->max_snd_wnd, c->snd_wnd);
		c->snd_wl1 = seq;
		c->snd_wl2 = ack;
		handshake_rtt(c, now);
		tcp_established(c, now);
	} else {
		/* RFC 5961 5.2: acceptable ACKs lie in
		 * [snd_una - max_snd_wnd, snd_max]. */
		if (seq_gt(ack, c->snd_max)) {
			c->st.bad_ack_drops++;
			seg_drop(c, seg);
			tcp_send_ack(c, now);
			return;
		}
		if (seq_lt(ack, c->snd_una - c->max_snd_wnd)) {
			c->st.bad_ack_drops++;
			seg_drop(c, seg);
			return;
		}
		if (ts_update) {
			c->ts_recent = th->opts.tsval;
			c->ts_recent_stamp = now;
		}
		tcp_ack_rcvd(c, seg, now);
		switch (c->state) {
		case TCP_FIN_WAIT1:
			if (tcp_fin_acked(c)) {
				tcp_set_state(c, TCP_FIN_WAIT2);
				c->t_rexmit = 0;
			}
			break;
		case TCP_CLOSING:
			if (tcp_fin_acked(c)) {
				seg_drop(c, seg);
				enter_time_wait(c, now);
				return;
			}
			break;
		case TCP_LAST_ACK:
			if (tcp_fin_acked(c)) {
				seg_drop(c, seg);
				tcp_enter_closed(c);
				return;
			}
			break;
		default:
			break;
		}
	}

	/* Seventh and eighth checks: data and FIN. */
	if (seg->len || (f & WIRE_TCP_FIN)) {
		switch (c->state) {
		case TCP_ESTABLISHED:
		case TCP_FIN_WAIT1:
		case TCP_FIN_WAIT2:
			data_input(c, seg, now);
			break;
		default:
			/* The peer's FIN is in: anything that is not an old
			 * duplicate is ignored; a duplicate is ACKed. */
			if (seq_le(seq + seglen, c->rcv_nxt)) {
				c->st.dup_segs++;
				c->ack_now = true;
			}
			seg_drop(c, seg);
			break;
		}
	}
	seg_drop(c, seg);
}

enum tcp_input_result tcp_input(struct tcp_conn *c, struct tcp_seg *seg, uint64_t now)
{
	enum tcp_input_result r = TCP_IN_OK;
	if (!seg->data)
		seg->len = 0;
	c->st.segs_in++;
	switch (c->state) {
	case TCP_CLOSED:
		seg_drop(c, seg);
		return (seg->th.flags & WIRE_TCP_RST) ? TCP_IN_OK : TCP_IN_RST;
	case TCP_LISTEN:
		return listen_input(c, seg, now);
	case TCP_SYN_SENT:
		syn_sent_input(c, seg, now);
		break;
	case TCP_TIME_WAIT:
		r = time_wait_input(c, seg, now);
		if (r == TCP_IN_REOPEN)
			return r;
		break;
	default:
		sync_input(c, seg, now);
		break;
	}
	if (c->state != TCP_CLOSED && c->state != TCP_TIME_WAIT) {
		tcp_push(c, now);
		if (c->ack_now)
			tcp_send_ack(c, now);
	} else if (c->state == TCP_TIME_WAIT && c->ack_now) {
		tcp_send_ack(c, now);
	}
	tcp_ev_flush(c);
	return r;
}
