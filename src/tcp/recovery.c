/* SPDX-License-Identifier: MIT */
/*
 * recovery.c: what the sender does with an ACK. Cumulative ACK (the send
 * ring shrinks, RTT sample, RTO restart), window update (RFC 9293 3.10.7.4),
 * the congestion control hooks (cc.c: NewReno or CUBIC), fast
 * retransmit and recovery: NewReno (RFC 6582) without SACK, the RFC 6675
 * scoreboard and pipe with it. A lost retransmission is noticed when data
 * sent after it is SACKed well beyond it (as Linux's lost-retransmit mark),
 * so that it does not always cost an RTO.
 */
#include <string.h>

#include "tcp/tcp_int.h"

#define SB_MAX DEVMEM_ARRAY_SIZE(((struct tcp_conn *)0)->scoreboard)

/* ---- scoreboard: sorted, disjoint SACKed ranges above snd_una ------------------ */

static void sb_recount(struct tcp_conn *c)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < c->nscore; i++)
		n += c->scoreboard[i].end - c->scoreboard[i].start;
	c->sacked_bytes = n;
}

/* Drop what the cumulative ACK covers. */
static void sb_trim(struct tcp_conn *c)
{
	unsigned j = 0;
	for (unsigned i = 0; i < c->nscore; i++) {
		struct wire_sack_block b = c->scoreboard[i];
		if (seq_le(b.end, c->snd_una))
			continue;
		if (seq_lt(b.start, c->snd_una))
			b.start = c->snd_una;
		c->scoreboard[j++] = b;
	}
	c->nscore = j;
	sb_recount(c);
}

static void sb_add(struct tcp_conn *c, uint32_t s, uint32_t e)
{
	struct wire_sack_block *sb = c->scoreboard;
	unsigned i = 0;
	while (i < c->nscore && seq_lt(sb[i].end, s))
		i++;
	/* sb[i] is the first block that ends at or after s: merge forward. */
	unsigned j = i;
	while (j < c->nscore && seq_le(sb[j].start, e)) {
		s = seq_min(s, sb[j].start);
		e = seq_max(e, sb[j].end);
		j++;
	}
	if (j > i) {
		/* blocks i..j-1 merge into one at i */
		sb[i].start = s;
		sb[i].end = e;
		memmove(&sb[i + 1], &sb[j], (c->nscore - j) * sizeof(*sb));
		c->nscore -= j - i - 1;
		return;
	}
	if (c->nscore == SB_MAX) {
		if (i == SB_MAX)
			return; /* highest and no room: forget it */
		c->nscore--; /* forget the highest range */
	}
	memmove(&sb[i + 1], &sb[i], (c->nscore - i) * sizeof(*sb));
	sb[i].start = s;
	sb[i].end = e;
	c->nscore++;
}

/* Merge the ACK's SACK blocks; returns bytes newly SACKed. */
static uint32_t sb_update(struct tcp_conn *c, const struct wire_tcp_opts *o)
{
	uint32_t before = c->sacked_bytes;
	for (unsigned i = 0; i < o->nsack && i < WIRE_TCP_MAX_SACK; i++) {
		uint32_t s = o->sack[i].start, e = o->sack[i].end;
		/* RFC 2018 / 6675: ignore blocks that are malformed, below
		 * snd_una (D-SACK) or above what was sent. */
		if (!seq_lt(s, e) || seq_le(e, c->snd_una) || seq_gt(e, c->snd_max))
			continue;
		if (seq_lt(s, c->snd_una))
			s = c->snd_una;
		sb_add(c, s, e);
	}
	sb_recount(c);
	return c->sacked_bytes > before ? c->sacked_bytes - before : 0;
}

/* SACKed bytes above seq. */
static uint32_t sacked_above(const struct tcp_conn *c, uint32_t seq, unsigned *blocks)
{
	uint32_t n = 0;
	unsigned k = 0;
	for (unsigned i = 0; i < c->nscore; i++) {
		const struct wire_sack_block *b = &c->scoreboard[i];
		if (seq_le(b->end, seq))
			continue;
		n += b->end - (seq_gt(b->start, seq) ? b->start : seq);
		k++;
	}
	if (blocks)
		*blocks = k;
	return n;
}

/* RFC 6675 4 IsLost(). In recovery the hole at snd_una counts as lost as
 * soon as anything above it is SACKed: the partial-ACK rule of RFC 6582
 * 3.2 (5) applied to SACK (Linux marks the head lost the same way), or a
 * small window could leave it waiting for the RTO. */
static bool is_lost(const struct tcp_conn *c, uint32_t seq)
{
	unsigned k;
	uint32_t n = sacked_above(c, seq, &k);
	if (c->in_recovery && seq == c->snd_una && k)
		return true;
	return k >= TCP_DUPTHRESH || n > (TCP_DUPTHRESH - 1) * (uint32_t)c->snd_mss;
}

/* Pipe share of the unSACKed range [s, e) (RFC 6675 4 SetPipe). */
static uint32_t pipe_range(const struct tcp_conn *c, uint32_t s, uint32_t e, bool lost)
{
	uint32_t p = lost ? 0 : e - s;
	if ((c->in_recovery || c->loss_mode) && seq_gt(c->high_rxt, s))
		p += seq_lt(c->high_rxt, e) ? c->high_rxt - s : e - s; /* retransmitted */
	return p;
}

uint32_t tcp_pipe(const struct tcp_conn *c)
{
	uint32_t pipe = 0, pos = c->snd_una, sacked = 0;
	bool recovering = c->in_recovery || c->loss_mode;
	for (unsigned i = 0; i < c->nscore; i++) {
		const struct wire_sack_block *b = &c->scoreboard[i];
		if (seq_lt(pos, b->start)) {
			uint32_t above = c->sacked_bytes - sacked;
			unsigned blocks = c->nscore - i;
			bool lost = recovering &&
				    (c->loss_mode || blocks >= TCP_DUPTHRESH ||
				     above > (TCP_DUPTHRESH - 1) * (uint32_t)c->snd_mss ||
				     (c->in_recovery && pos == c->snd_una));
			pipe += pipe_range(c, pos, b->start, lost);
		}
		sacked += b->end - b->start;
		pos = b->end;
	}
	if (seq_lt(pos, c->snd_max)) {
		uint32_t e = c->snd_max;
		if (c->loss_mode && seq_lt(pos, c->recover)) {
			uint32_t m = seq_min(c->recover, e);
			pipe += pipe_range(c, pos, m, true);
			pos = m;
		}
		if (seq_lt(pos, e))
			pipe += pipe_range(c, pos, e, false);
	}
	return pipe;
}

bool tcp_next_hole(struct tcp_conn *c, uint32_t *seq, uint32_t *len, bool lost_only)
{
	/* RFC 6675 4 NextSeg() rule 1: the lowest unSACKed, lost, not yet
	 * retransmitted range below the highest SACKed byte (after an RTO:
	 * everything below recover). Rule 3 (!lost_only, when no new data can
	 * go): the same without the IsLost() condition. */
	uint32_t pos = seq_max(c->high_rxt, c->snd_una);
	for (unsigned i = 0; i < c->nscore; i++) {
		const struct wire_sack_block *b = &c->scoreboard[i];
		if (seq_le(b->end, pos))
			continue;
		if (seq_lt(pos, b->start)) {
			if (!lost_only || c->loss_mode || is_lost(c, pos)) {
				*seq = pos;
				*len = b->start - pos;
				return true;
			}
			return false; /* higher holes have even less SACKed above */
		}
		pos = b->end;
	}
	if (c->loss_mode && seq_lt(pos, c->recover) && seq_lt(pos, c->snd_max)) {
		*seq = pos;
		*len = seq_min(c->recover, c->snd_max) - pos;
		return true;
	}
	return false;
}

/* ---- send times (RACK, RFC 8985 6) ------------------------------------------------ */

void tcp_txlog_add(struct tcp_conn *c, uint32_t end, uint64_t now)
{
	if (c->txlog_n == TCP_TXLOG) {
		/* full: the newest entry grows (a later time is the cautious one) */
		unsigned last = (c->txlog_head + c->txlog_n - 1) % TCP_TXLOG;
		c->txlog[last].end = end;
		c->txlog[last].t = now;
		return;
	}
	unsigned i = (c->txlog_head + c->txlog_n) % TCP_TXLOG;
	c->txlog[i].end = end;
	c->txlog[i].t = now;
	c->txlog_n++;
}

static void txlog_ack(struct tcp_conn *c)
{
	while (c->txlog_n && seq_le(c->txlog[c->txlog_head].end, c->snd_una)) {
		c->txlog_head = (c->txlog_head + 1) % TCP_TXLOG;
		c->txlog_n--;
	}
}

/* RACK's time rule for the segment at snd_una, first sent and never
 * retransmitted, while data sent after it was SACKed: lost once it is older
 * than an RTT plus a reordering window of min_rtt / 4 (RFC 8985 6.2). */
static bool rack_una_lost(const struct tcp_conn *c, uint64_t now)
{
	if (!c->txlog_n || !c->srtt_us || !c->nscore)
		return false;
	uint64_t sent = c->txlog[c->txlog_head].t;
	return now - sent > (uint64_t)c->srtt_us + c->min_rtt_us / 4;
}

/* ---- loss response (the window arithmetic is cc.c's) ------------------------------ */

static void enter_recovery(struct tcp_conn *c, uint64_t now)
{
	uint32_t mss = c->snd_mss;
	/* ssthresh, and cwnd: RFC 6675 5 (4.2) / RFC 6582 3.2 (2) */
	tcp_cc_enter_recovery(c, now);
	c->recover = c->snd_max;
	c->in_recovery = true;
	c->loss_mode = false;
	c->st.fast_retrans++;
	c->high_rxt = c->snd_una;
	/* Fast retransmit of the first unacked segment (RFC 5681 3.2 (3)). */
	uint32_t max = mss;
	if (c->nscore && seq_lt(c->scoreboard[0].start, c->snd_una + max))
		max = c->scoreboard[0].start - c->snd_una;
	uint32_t done = tcp_rexmit(c, c->snd_una, max, now);
	c->high_rxt = c->snd_una + done;
	c->una_rxt_mark = c->snd_max;
	c->una_rxt_time = now;
}

void tcp_rto_loss(struct tcp_conn *c)
{
	/* ssthresh on the first timeout of an episode, cwnd = loss window
	 * (RFC 5681 3.1, RFC 9438 4.8); before in_recovery is cleared. */
	tcp_cc_on_rto(c);
	c->dupacks = 0;
	c->in_recovery = false;
	c->recover = c->snd_max; /* RFC 6582 4 */
	c->rtt_active = false;   /* Karn */
	c->high_rxt = c->snd_una;
	if (c->sack_ok) {
		/* Linux-like: SACKed data stays SACKed, the rest is lost. */
		c->loss_mode = true;
	} else {
		c->snd_nxt = c->snd_una; /* go back N */
	}
}

/* A retransmission of the hole at snd_una was lost when data sent after it
 * is SACKed beyond DupThresh segments, or (RACK's time rule, RFC 8985 6.2)
 * when any is SACKed and the retransmission is older than an RTT plus a
 * reordering window of min_rtt / 4: retransmit the holes again. */
static void lost_rxt_check(struct tcp_conn *c, uint64_t now)
{
	if (!(c->in_recovery || c->loss_mode) || !seq_gt(c->high_rxt, c->snd_una))
		return;
	uint32_t n = sacked_above(c, c->una_rxt_mark, NULL);
	uint64_t wait = (uint64_t)c->srtt_us + c->srtt_us / 4 + c->min_rtt_us / 4;
	if (n > (TCP_DUPTHRESH - 1) * (uint32_t)c->snd_mss ||
	    (n && c->srtt_us && now - c->una_rxt_time > wait)) {
		c->high_rxt = c->snd_una;
		c->una_rxt_mark = c->snd_max;
		/* RFC 6675 does not reduce again inside one recovery episode. */
	}
}

void tcp_ack_rcvd(struct tcp_conn *c, const struct tcp_seg *seg, uint64_t now)
{
	const struct wire_tcp *th = &seg->th;
	uint32_t ack = th->ack;
	uint32_t win = (uint32_t)th->window << c->snd_wscale;
	uint32_t mss = c->snd_mss;
	uint32_t prior_flight = c->snd_max - c->snd_una;
	uint32_t newly_sacked = 0;
	bool advanced = seq_gt(ack, c->snd_una);

	if (c->sack_ok && (th->opts.present & WIRE_OPT_SACK))
		newly_sacked = sb_update(c, &th->opts);

	if (seq_gt(ack, c->snd_una)) {
		uint32_t acked = ack - c->snd_una;
		uint32_t data = acked < c->snd_len ? acked : c->snd_len;
		c->snd_len -= data;
		c->snd_una = ack;
		txlog_ack(c);
		if (data)
			tcp_sndq_ack(c, data);
		tcp_sndq_complete(c, false);
		if (seq_lt(c->snd_nxt, ack))
			c->snd_nxt = ack;
		if (seq_lt(c->high_rxt, ack))
			c->high_rxt = ack;
		sb_trim(c);

		/* RTT (RFC 6298 3; RFC 7323 4.1): the us-timed segment first,
		 * else the timestamp echo (ms resolution). */
		if (c->rtt_active && seq_gt(ack, c->rtt_seq)) {
			tcp_rtt_sample(c, now - c->rtt_start);
			c->rtt_active = false;
		} else if (c->ts_ok && (th->opts.present & WIRE_OPT_TS) && th->opts.tsecr) {
			uint32_t d = tcp_ts_now(c, now) - th->opts.tsecr;
			if (d > 0 && d < 3600u * 1000u)
				tcp_rtt_sample(c, (uint64_t)d * TCP_US_PER_MS);
		}
		c->backoff = 0;

		c->st.bytes_acked += acked; /* TCP_INFO (RFC 4898 ThruOctetsAcked) */
		if (c->in_recovery) {
			if (seq_ge(ack, c->recover)) {
				/* Full ACK: leave recovery (RFC 6582 3.2 (3),
				 * RFC 6675 5 end). */
				c->in_recovery = false;
				tcp_cc_exit_recovery(c, now);
				c->dupacks = 0;
			} else if (!c->sack_ok) {
				/* Partial ACK (RFC 6582 3.2 (5)): retransmit the
				 * next hole, deflate by what was acked. */
				tcp_rexmit(c, c->snd_una, mss, now);
				c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
				if (acked >= mss)
					c->cwnd += mss;
				if (c->cwnd < mss)
					c->cwnd = mss;
			} else {
				c->una_rxt_mark = c->snd_max;
				if (!c->nscore) {
					/* A partial ACK with nothing SACKed above:
					 * the next segment is lost as well (RFC 6582
					 * 3.2 (5)); no SACK hole would say so. */
					uint32_t done = tcp_rexmit(c, c->snd_una, mss, now);
					c->high_rxt = c->snd_una + done;
					c->una_rxt_time = now;
				}
			}
		} else {
			if (c->loss_mode && seq_ge(ack, c->recover))
				c->loss_mode = false;
			tcp_cc_on_ack(c, acked, prior_flight, now);
			c->dupacks = 0;
		}
		/* RFC 6298 5.2 / 5.3 */
		if (c->snd_una == c->snd_max)
			c->t_rexmit = 0;
		else
			tcp_arm_rexmit(c, now);
		if (c->snd_full && tcp_send_space(c) >= c->cfg.sndbuf / 3) {
			c->snd_full = false;
			tcp_ev(c, TCP_EV_WRITABLE);
		}
	} else if (ack == c->snd_una) {
		/* RFC 5681 2 duplicate ACK; with SACK it must SACK something new
		 * (RFC 6675 2). */
		bool dup = c->snd_max != c->snd_una && seg->len == 0 &&
			   !(th->flags & (WIRE_TCP_SYN | WIRE_TCP_FIN)) &&
			   (c->sack_ok ? newly_sacked > 0 : win == c->snd_wnd);
		if (dup) {
			c->dupacks++;
			if (!c->in_recovery && !c->loss_mode) {
				bool lost = c->dupacks >= TCP_DUPTHRESH ||
					    (c->sack_ok && is_lost(c, c->snd_una));
				/* RFC 6582 3.2 (1): not again for the same window.
				 * With SACK a dupack reports new data above
				 * snd_una, so a hole right at recover is a new
				 * loss (Linux re-enters as well). */
				bool fresh = c->sack_ok ? seq_ge(ack, c->recover)
							: seq_gt(ack, c->recover);
				if (lost && fresh)
					enter_recovery(c, now);
			} else if (c->in_recovery && !c->sack_ok) {
				c->cwnd += mss; /* RFC 6582 3.2 (4) inflation */
			}
		}
	}
	/* An ACK that moved snd_una onto a new hole, or a probe's SACK: the
	 * loss rules decide here too, not only on duplicate ACKs (Linux runs
	 * its loss detection on every ACK). */
	if (c->sack_ok && !c->in_recovery && !c->loss_mode && c->nscore &&
	    seq_ge(c->snd_una, c->recover) && seq_lt(c->snd_una, c->snd_max) &&
	    (is_lost(c, c->snd_una) || rack_una_lost(c, now)))
		enter_recovery(c, now);
	if (c->sack_ok)
		lost_rxt_check(c, now);
	/* RFC 8985 7.4: the probe's flight is acknowledged; a new probe may
	 * be scheduled (7.2: restart on an ACK of new data) */
	if (c->tlp_high_seq && seq_ge(ack, c->tlp_high_seq))
		c->tlp_high_seq = 0;
	if (advanced || c->in_recovery || c->loss_mode)
		tcp_arm_tlp(c, now); /* (stopped while recovering) */

	/* RFC 9293 3.10.7.4: window update from the newest segment. */
	if (seq_le(c->snd_una, ack) &&
	    (seq_lt(c->snd_wl1, th->seq) || (c->snd_wl1 == th->seq && seq_le(c->snd_wl2, ack)))) {
		c->snd_wnd = win;
		c->snd_wl1 = th->seq;
		c->snd_wl2 = ack;
		if (win > c->max_snd_wnd)
			c->max_snd_wnd = win;
		if (win && c->t_persist) {
			c->t_persist = 0;
			c->backoff = 0;
		}
	}
}
