/* SPDX-License-Identifier: MIT */
/*
 * output.c: building segments (header fields, options, the advertised
 * window) and the sender: tcp_send copies into the send ring, tcp_output
 * cuts it into segments limited by min(cwnd, snd_wnd), Nagle and sender SWS
 * avoidance, and drives SACK-based loss recovery (RFC 6675 5 (C)).
 *
 * Every non-SYN segment carries ACK, the window scaled down by rcv_wscale,
 * timestamps when negotiated and SACK blocks while out-of-order data is
 * held. A segment whose payload is longer than c->snd_mss is a GSO
 * super-segment: the NIC cuts it at c->snd_mss (same header and options on
 * each piece; PSH/FIN on the last).
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_int.h"

uint32_t tcp_ts_now(const struct tcp_conn *c, uint64_t now)
{
	/* RFC 7323 5.4: a 1 ms clock plus a per-connection offset. */
	return (uint32_t)(now / TCP_US_PER_MS) + c->cfg.ts_offset;
}

uint32_t tcp_max_seg(const struct tcp_conn *c)
{
	uint32_t mss = c->snd_mss;
	if (c->cfg.tx_mss_max > mss)
		return (c->cfg.tx_mss_max / mss) * mss;
	return mss;
}

bool tcp_fin_acked(const struct tcp_conn *c)
{
	return c->fin_sent && seq_gt(c->snd_una, c->fin_seq);
}

/* ---- receive window ------------------------------------------------------ */

/* Window we may offer now: rx_space clamped to what the field can say and
 * rounded down to the scale's granularity. */
static uint32_t rcv_space_now(struct tcp_conn *c, uint8_t shift)
{
	uint32_t space = c->env->rx_space ? c->env->rx_space(c->ctx, c) : c->cfg.rcvbuf;
	uint32_t maxw = 65535u << shift;
	if (space > maxw)
		space = maxw;
	return space & ~((1u << shift) - 1);
}

static uint32_t rcv_wnd_cur(const struct tcp_conn *c)
{
	return seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
}

/*
 * The window field of a non-SYN segment; moves rcv_adv. The right edge never
 * moves left (RFC 9293 3.8.6, RFC 7323 2.4) and moves right only by at least
 * min(rcvbuf/2, MSS) at a time (receiver SWS avoidance, RFC 1122 4.2.3.3).
 */
static uint16_t rcv_wnd_field(struct tcp_conn *c)
{
	uint8_t ws = c->rcv_wscale;
	uint32_t cur = rcv_wnd_cur(c);
	uint32_t space = rcv_space_now(c, ws);
	uint32_t sws = DEVMEM_MIN(c->cfg.rcvbuf / 2, (uint32_t)c->rcv_mss);
	uint32_t win;

	if (space <= cur)
		win = cur;
	else if (space - cur < sws)
		win = cur;
	else
		win = space;
	/* Round up: the field must not describe an edge left of rcv_adv. */
	uint32_t field = (uint32_t)(((uint64_t)win + (1u << ws) - 1) >> ws);
	if (field > 65535)
		field = 65535;
	uint32_t edge = c->rcv_nxt + (field << ws);
	if (seq_gt(edge, c->rcv_adv))
		c->rcv_adv = edge;
	if (field == 0)
		c->st.zero_window_sent++;
	return (uint16_t)field;
}

/* ---- segment building ------------------------------------------------------ */

static void th_init(struct tcp_conn *c, struct wire_tcp *th, uint32_t seq, uint8_t flags,
		    uint64_t now)
{
	memset(th, 0, sizeof(*th));
	th->sport = c->ep.lport;
	th->dport = c->ep.rport;
	th->seq = seq;
	th->flags = flags;
	if (flags & WIRE_TCP_ACK)
		th->ack = c->rcv_nxt;
	if (c->ts_ok) { /* RFC 7323 3.2: TS on every segment once negotiated */
		th->opts.present |= WIRE_OPT_TS;
		th->opts.tsval = tcp_ts_now(c, now);
		th->opts.tsecr = c->ts_recent;
	}
	if (!(flags & WIRE_TCP_SYN) && !(flags & WIRE_TCP_RST)) {
		th->window = rcv_wnd_field(c);
		/* RFC 2018 3: SACK blocks while holding out-of-order data; 3 fit
		 * beside timestamps in 40 bytes of options, 4 without. */
		if (c->sack_ok && c->ooo && c->nsack_blocks) {
			unsigned max = c->ts_ok ? 3 : 4;
			unsigned n = c->nsack_blocks < max ? c->nsack_blocks : max;
			th->opts.present |= WIRE_OPT_SACK;
			th->opts.nsack = (uint8_t)n;
			memcpy(th->opts.sack, c->sack_blocks, n * sizeof(th->opts.sack[0]));
		}
	}
	th->hdr_len = (uint8_t)(WIRE_TCP_MIN + wire_tcp_opts_len(&th->opts));
}

static void emit(struct tcp_conn *c, const struct wire_tcp *th, const struct tcp_txp *iov,
		 int niov, uint32_t paylen)
{
	if (th->flags & WIRE_TCP_ACK) {
		/* An ACK of new data uses up a quick ACK (tcp_dec_quickack_mode) */
		if (c->quick && (c->rcv_nxt != c->last_ack_sent || c->t_delack || c->ack_now))
			c->quick--;
		/* Any ACK sent satisfies the pending delayed ACK. */
		c->ack_pushed = 0;
		c->last_ack_sent = c->rcv_nxt;
		c->t_delack = 0;
		c->segs_since_ack = 0;
		c->ack_now = false;
	}
	c->st.segs_out++;
	if (paylen)
		c->st.data_segs_out++; /* TCP_INFO */
	c->env->emit(c->ctx, c, th, iov, niov, paylen);
}

void tcp_send_syn(struct tcp_conn *c, uint64_t now)
{
	struct wire_tcp th;
	bool synack = c->state == TCP_SYN_RECV;
	th_init(c, &th, c->iss, synack ? WIRE_TCP_SYN | WIRE_TCP_ACK : WIRE_TCP_SYN, now);
	struct wire_tcp_opts *o = &th.opts;
	o->present |= WIRE_OPT_MSS;
	o->mss = c->cfg.mss;
	if (!synack) {
		/* Active open: offer everything (RFC 7323 2.2, 3.2; RFC 2018 2)
		 * not turned off. */
		if (!c->cfg.no_ws) {
			o->present |= WIRE_OPT_WSCALE;
			o->wscale = c->rcv_wscale;
		}
		if (!c->cfg.no_sack)
			o->present |= WIRE_OPT_SACKOK;
		if (!c->cfg.no_ts) {
			o->present |= WIRE_OPT_TS;
			o->tsval = tcp_ts_now(c, now);
			o->tsecr = 0;
		}
	} else {
		/* SYN-ACK: only what the peer offered. */
		if (c->ws_ok) {
			o->present |= WIRE_OPT_WSCALE;
			o->wscale = c->rcv_wscale;
		}
		if (c->sack_ok)
			o->present |= WIRE_OPT_SACKOK;
	}
	/* RFC 7323 2.2: the window of a SYN is never scaled. */
	uint32_t space = rcv_space_now(c, 0);
	th.window = (uint16_t)space;
	if (synack) {
		uint32_t edge = c->rcv_nxt + space;
		if (c->rcv_adv == 0 || seq_gt(edge, c->rcv_adv))
			c->rcv_adv = edge;
		c->last_ack_sent = c->rcv_nxt;
	}
	th.hdr_len = (uint8_t)(WIRE_TCP_MIN + wire_tcp_opts_len(&th.opts));
	if (c->syn_retries)
		c->st.retrans_segs++;
	emit(c, &th, NULL, 0, 0);
}

void tcp_send_ack(struct tcp_conn *c, uint64_t now)
{
	struct wire_tcp th;
	th_init(c, &th, c->snd_nxt, WIRE_TCP_ACK, now);
	emit(c, &th, NULL, 0, 0);
}

void tcp_send_probe(struct tcp_conn *c, uint64_t now)
{
	/* Old-sequence probe as Linux sends: the peer answers it with an ACK
	 * that carries its current window (RFC 9293 3.8.6.1). */
	struct wire_tcp th;
	th_init(c, &th, c->snd_una - 1, WIRE_TCP_ACK, now);
	c->st.window_probes++;
	emit(c, &th, NULL, 0, 0);
}

void tcp_send_rst(struct tcp_conn *c, uint64_t now)
{
	struct wire_tcp th;
	th_init(c, &th, c->snd_nxt, WIRE_TCP_RST | WIRE_TCP_ACK, now);
	c->st.rst_out++;
	emit(c, &th, NULL, 0, 0);
}

void tcp_send_rst_reply(struct tcp_conn *c, const struct wire_tcp *in, uint32_t len)
{
	struct wire_tcp th;
	if (!tcp_make_rst(in, len, &th))
		return;
	c->st.rst_out++;
	c->st.segs_out++;
	c->env->emit(c->ctx, c, &th, NULL, 0, 0);
}

uint32_t tcp_xmit_data(struct tcp_conn *c, uint32_t seq, uint32_t len, bool fin, uint64_t now)
{
	struct wire_tcp th;
	struct tcp_txp p[TCP_TXP_MAX];
	int np = 0;
	uint8_t flags = WIRE_TCP_ACK;

	if (len) {
		uint32_t got = tcp_sndq_gather(c, seq, len, p, &np);
		if (got < len) {
			/* the pieces ran out first: whole segments only, and the
			 * FIN waits for the rest */
			uint32_t mss = c->snd_mss;
			if (got > mss) {
				uint32_t cut = got / mss * mss;
				while (np && got - p[np - 1].len >= cut) {
					got -= p[np - 1].len;
					np--;
				}
				p[np - 1].len -= got - cut;
				got = cut;
			}
			len = got;
			fin = false;
		}
		/* PSH on the last byte queued (tcp_mark_push), and on every
		 * GSO frame (Linux forces it so that the receiver's GRO
		 * flushes); without GSO on the last segment of the burst a
		 * GSO frame would have been (tcp_push). */
		if ((seq + len == tcp_data_end(c) && !c->tail_more) || len > c->snd_mss ||
		    (c->psh_burst && seq + len == c->psh_seq))
			flags |= WIRE_TCP_PSH;
	}
	if (!len && !fin)
		return 0;
	if (fin)
		flags |= WIRE_TCP_FIN;
	th_init(c, &th, seq, flags, now);

	bool rexmit = seq_lt(seq, c->snd_max);
	if (!rexmit && len)
		tcp_txlog_add(c, seq + len, now);
	/* data in reply within ato of data received: an interactive flow,
	 * whose ACKs may wait for the reply (tcp_event_data_sent) */
	if (!rexmit && len && c->ato_us && now - c->lrcvtime < c->ato_us)
		c->pingpong = true;
	if (rexmit) {
		c->st.retrans_segs++;
		c->rtt_active = false; /* Karn: no sample across a retransmission */
	} else if (!c->rtt_active && len) {
		c->rtt_active = true;
		c->rtt_seq = seq;
		c->rtt_start = now;
	}
	for (int i = 0; i < np; i++) {
		if (p[i].kind == TCP_TXP_DEV) {
			c->st.dev_bytes_out += p[i].len;
			if (rexmit)
				c->st.retrans_dev_bytes += p[i].len;
		} else if (p[i].kind == TCP_TXP_USER) {
			c->st.zc_host_bytes += p[i].len;
		}
	}
	c->st.bytes_out += len;
	if (rexmit)
		c->st.retrans_bytes += len;
	emit(c, &th, p, np, len);
	if (!c->t_rexmit)
		tcp_arm_rexmit(c, now); /* RFC 6298 5.1 */
	c->t_persist = 0;
	return len;
}

uint32_t tcp_rexmit(struct tcp_conn *c, uint32_t seq, uint32_t max, uint64_t now)
{
	uint32_t end = tcp_data_end(c);
	uint32_t dlen = 0;
	bool fin = false;

	if (seq_lt(seq, c->snd_una))
		seq = c->snd_una;
	if (seq_lt(seq, end)) {
		dlen = end - seq;
		if (dlen > max)
			dlen = max;
	}
	if (c->fin_sent && !tcp_fin_acked(c) && seq + dlen == c->fin_seq &&
	    seq_lt(seq + dlen, c->snd_max))
		fin = true;
	if (!dlen && !fin)
		return 0;
	uint32_t sent = tcp_xmit_data(c, seq, dlen, fin, now);
	return sent + (fin && sent == dlen);
}

/* ---- the sender -------------------------------------------------------------- */

static bool can_send_data(const struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

void tcp_push(struct tcp_conn *c, uint64_t now)
{
	if (!can_send_data(c) || tcp_fin_acked(c))
		return;
	uint32_t mss = c->snd_mss;
	uint32_t maxseg = tcp_max_seg(c);
	uint32_t end = tcp_data_end(c);
	uint32_t max_before = c->snd_max;
	bool sent = false, burst_set = false;

	for (unsigned guard = 0; guard < 65536; guard++) {
		uint32_t room;
		if (c->sack_ok) {
			/* SACKed data leaves the pipe: that is limited
			 * transmit (RFC 3042) for free. */
			uint32_t pipe = tcp_pipe(c);
			uint32_t cw = c->cwnd;
			room = cw > pipe ? cw - pipe : 0;
			if ((c->in_recovery || c->loss_mode) && room >= mss) {
				/* RFC 6675 5 (C): NextSeg rule 1, the holes first. */
				uint32_t hs, hl;
				/* Rule 3: when no new data can go, an unSACKed
				 * hole that is not yet deemed lost. */
				bool no_new = !seq_lt(c->snd_nxt, end) ||
					      !seq_lt(c->snd_nxt, c->snd_una + c->snd_wnd);
				if (tcp_next_hole(c, &hs, &hl, true) ||
				    (no_new && tcp_next_hole(c, &hs, &hl, false))) {
					uint32_t n = DEVMEM_MIN(hl, maxseg);
					n = DEVMEM_MIN(n, room / mss * mss);
					bool was_una = hs == c->snd_una;
					uint32_t done = tcp_rexmit(c, hs, n, now);
					if (!done)
						break;
					c->high_rxt = hs + done;
					if (was_una) {
						c->una_rxt_mark = c->snd_max;
						c->una_rxt_time = now;
					}
					sent = true;
					continue;
				}
			}
		} else {
			uint32_t flight = c->snd_nxt - c->snd_una;
			uint32_t cw = c->cwnd;
			if (!c->in_recovery && c->dupacks < TCP_DUPTHRESH)
				cw += c->dupacks * mss; /* RFC 3042 limited transmit */
			room = cw > flight ? cw - flight : 0;
		}

		/* New data from snd_nxt (or go-back-N after an RTO without SACK). */
		int32_t avail_i = (int32_t)(end - c->snd_nxt);
		uint32_t avail = avail_i > 0 ? (uint32_t)avail_i : 0;
		int32_t wr_i = (int32_t)(c->snd_una + c->snd_wnd - c->snd_nxt);
		uint32_t wroom = wr_i > 0 ? (uint32_t)wr_i : 0;
		uint32_t len = DEVMEM_MIN(avail, wroom);
		len = DEVMEM_MIN(len, room);
		if (!burst_set && maxseg == mss) {
			/* No GSO: what Linux would send now as one TSO
			 * packet (up to 64 KiB) ends with PSH, as it does. */
			uint32_t b = DEVMEM_MIN(len, (65535u - WIRE_IPV6_LEN - WIRE_TCP_MAX) / mss * mss);
			if (b < avail)
				b = b / mss * mss;
			c->psh_burst = b > mss;
			c->psh_seq = c->snd_nxt + b;
			burst_set = true;
		}
		len = DEVMEM_MIN(len, maxseg);
		if (len > mss && len < avail)
			len = len / mss * mss; /* whole segments inside a GSO burst */
		bool in_flight = c->snd_una != c->snd_max;
		bool rexmit = seq_lt(c->snd_nxt, c->snd_max);

		/* FIN after the last byte; it needs one byte of window. */
		bool fin = c->fin_queued && seq_le(c->snd_nxt, end) && len == avail &&
			   wroom > len;

		if (!len && !fin)
			break;
		if (len < mss && !fin && !rexmit) {
			/* TCP_CORK (tcp(7)): full segments only. A partial one
			 * goes once 200 ms passed with nothing in flight: the
			 * ceiling Linux's probe timer gives (its
			 * tcp_check_probe_timer, armed when packets_out is 0);
			 * timer.c runs t_cork. */
			if (c->cfg.cork || c->more) {
				if (in_flight) {
					c->t_cork = 0; /* ACKs will come: re-armed then */
					break;
				}
				if (!c->t_cork)
					c->t_cork = now + 200 * TCP_US_PER_MS;
				if (now < c->t_cork)
					break;
			}
			/* Sender SWS avoidance (RFC 9293 3.8.6.2.1): a partial
			 * segment while data is in flight waits for an ACK,
			 * unless it is the last of the data and Nagle lets it
			 * go (RFC 1122 4.2.3.4) in Minshall's variant, as
			 * Linux: it waits only while an earlier partial
			 * segment is unacknowledged (tcp_minshall_check). */
			if (len < avail && in_flight)
				break;
			if (len == avail && in_flight && !c->cfg.nodelay &&
			    seq_gt(c->snd_sml, c->snd_una) && seq_le(c->snd_sml, c->snd_nxt))
				break;
			c->t_cork = 0; /* the partial segment goes now */
		}
		uint32_t did = tcp_xmit_data(c, c->snd_nxt, len, fin, now);
		if (did < len) {
			fin = false; /* cut short: the rest (and FIN) next round */
			len = did;
		}
		if (len % mss && !rexmit)
			c->snd_sml = c->snd_nxt + len; /* tcp_minshall_update */
		sent = true;
		if (fin) {
			c->fin_sent = true;
			c->fin_seq = end;
			c->fin_alone = len == 0;
		}
		c->snd_nxt += len + (fin ? 1 : 0);
		if (seq_gt(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (!len)
			break;
	}
	c->psh_burst = false;

	/* RFC 8985 7.2: the probe timer restarts after new data went out */
	if (seq_gt(c->snd_max, max_before) || c->in_recovery)
		tcp_arm_tlp(c, now);

	/* Persist (RFC 9293 3.8.6.1): data waits, nothing in flight, no window. */
	bool pending = seq_lt(c->snd_nxt, end) || (c->fin_queued && !c->fin_sent);
	if (!sent && pending && c->snd_una == c->snd_max && !c->t_rexmit && !c->t_persist)
		c->t_persist = now + tcp_rto_backed_off(c);
}

void tcp_output(struct tcp_conn *c, uint64_t now)
{
	tcp_push(c, now);
	if (c->ack_now && c->state != TCP_CLOSED && c->state != TCP_LISTEN)
		tcp_send_ack(c, now);
	tcp_ev_flush(c);
}

uint32_t tcp_send_space(const struct tcp_conn *c)
{
	if (!tcp_sndq_room(c) || c->snd_len >= c->cfg.sndbuf)
		return 0;
	return c->cfg.sndbuf - c->snd_len;
}

/* Can c take data now? 0, or 1 to report "buffer full" (0 bytes), or -errno. */
static int send_state(struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		break;
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		c->snd_full = true; /* WRITABLE comes with ESTABLISHED */
		return 1;
	case TCP_CLOSED:
	case TCP_LISTEN:
		return c->err ? -EPIPE : -ENOTCONN;
	default:
		return -EPIPE;
	}
	return c->fin_queued ? -EPIPE : 0;
}

int64_t tcp_send(struct tcp_conn *c, const void *buf, size_t len, uint64_t now)
{
	int r = send_state(c);
	if (r)
		return r > 0 ? 0 : r;
	struct tcp_sndq *q = &c->sq;
	uint32_t size = c->cfg.sndbuf;
	if (!q->ring) {
		q->ring = malloc(size);
		if (!q->ring)
			return -ENOMEM;
		q->ring_head = q->ring_len = 0;
	}
	uint32_t space = tcp_send_space(c);
	uint32_t n = len < space ? (uint32_t)len : space;
	uint32_t done = 0;
	while (done < n) {
		/* at most up to the ring's end per extent */
		uint32_t tail = (q->ring_head + q->ring_len) % size;
		uint32_t chunk = DEVMEM_MIN(n - done, size - tail);
		struct tcp_txp p = {.ptr = q->ring + tail, .len = chunk, .kind = TCP_TXP_COPY};
		if (tcp_sndq_add(c, &p) < 0)
			break;
		memcpy(q->ring + tail, (const uint8_t *)buf + done, chunk);
		q->ring_len += chunk;
		c->snd_len += chunk;
		done += chunk;
	}
	if (done < len)
		c->snd_full = true;
	if (done) {
		c->st.copied_bytes += done;
		tcp_push(c, now);
		tcp_ev_flush(c);
	}
	return done;
}

int64_t tcp_send_zc(struct tcp_conn *c, const struct tcp_txp *p, int n, uint64_t now)
{
	int r = send_state(c);
	if (r)
		return r > 0 ? 0 : r;
	uint32_t space = tcp_send_space(c);
	uint32_t done = 0;
	for (int i = 0; i < n && done < space; i++) {
		struct tcp_txp e = p[i];
		if (e.len > space - done)
			e.len = space - done;
		if (!e.len)
			continue;
		if (tcp_sndq_add(c, &e) < 0)
			break;
		c->snd_len += e.len;
		done += e.len;
		if (e.len < p[i].len)
			break;
	}
	uint64_t want = 0;
	for (int i = 0; i < n; i++)
		want += p[i].len;
	if (done < want)
		c->snd_full = true;
	if (done) {
		tcp_push(c, now);
		tcp_ev_flush(c);
	}
	return done;
}

void tcp_rcv_space_changed(struct tcp_conn *c, uint64_t now)
{
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		break;
	default:
		return;
	}
	/* As Linux's tcp_cleanup_rbuf, once the reader took data: a delayed
	 * ACK goes now when more than one segment waits for it, or when the
	 * reader emptied the queue after a small or pushed segment (the
	 * sender may be waiting for it) and the flow is not interactive. */
	bool send = c->t_delack &&
		    (c->rcv_nxt - c->last_ack_sent > c->rcv_mss ||
		     (!c->rcvq_bytes && (c->ack_pushed > 1 || (c->ack_pushed && !c->pingpong))));
	if (!c->fin_rcvd) {
		/* RFC 1122 4.2.3.3 (receiver SWS avoidance), Linux's rule:
		 * announce the window when it can at least double what is
		 * left of the one advertised, that being at most half the
		 * largest window. */
		uint32_t cur = rcv_wnd_cur(c);
		uint32_t space = rcv_space_now(c, c->rcv_wscale);
		uint32_t clamp = DEVMEM_MIN(c->cfg.rcvbuf, 65535u << c->rcv_wscale);
		if ((uint64_t)2 * cur <= clamp && space && space >= 2 * cur)
			send = true;
	}
	if (send)
		tcp_send_ack(c, now);
	tcp_ev_flush(c);
}

void tcp_mtu_reduced(struct tcp_conn *c, uint32_t l4_mtu, uint64_t now)
{
	if (!tcp_synchronized(c->state) || c->state == TCP_TIME_WAIT)
		return;
	uint32_t mss = l4_mtu > WIRE_TCP_MIN ? l4_mtu - WIRE_TCP_MIN : 0;
	if (c->ts_ok)
		mss = mss > TCP_TS_OPT_LEN ? mss - TCP_TS_OPT_LEN : 0;
	if (mss < 88)
		mss = 88; /* TCP_MIN_MSS */
	if (mss >= c->snd_mss)
		return;
	/* RFC 1191 / 8201 and tcp_simple_retransmit: what is in flight was too
	 * big and is lost; send it again in smaller segments, with no
	 * congestion response (the network did not lose it to congestion). */
	c->snd_mss = (uint16_t)mss;
	if (c->cwnd < c->snd_mss)
		c->cwnd = c->snd_mss;
	if (seq_lt(c->snd_una, c->snd_max)) {
		c->rtt_active = false;
		if (c->sack_ok) {
			/* everything unSACKed below snd_max is lost: the holes
			 * go first, cut at the new MSS */
			c->loss_mode = true;
			c->recover = c->snd_max;
			c->high_rxt = c->snd_una;
		} else {
			c->snd_nxt = c->snd_una; /* go back N */
		}
		tcp_push(c, now);
	}
	tcp_ev_flush(c);
}
