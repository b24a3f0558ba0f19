/* SPDX-License-Identifier: MIT */
/*
 * cc.c: congestion control. Slow start is RFC 5681 3.1 for both algorithms;
 * congestion avoidance and the reduction on loss are NewReno's (RFC 5681
 * 3.1, eq. 4) or CUBIC's (RFC 9438 4). Windows are bytes, so RFC 9438's
 * formulas, written in segments, are scaled by the MSS; t is in seconds.
 *
 * Left out, as RFC 9438 allows: HyStart (4.10 permits plain slow start),
 * undoing spurious reductions (4.9), ECN.
 */
#include <string.h>

#include "tcp/tcp_int.h"

#define CUBIC_C 0.4    /* RFC 9438 5.1: segments per s^3 */
#define CUBIC_BETA 0.7 /* RFC 9438 4.6: beta_cubic */
#define CWND_MAX (1u << 30)

const char *tcp_cc_name(uint8_t algo)
{
	switch (algo) {
	case TCP_CC_CUBIC:
		return "cubic";
	case TCP_CC_NEWRENO:
		return "reno"; /* Linux's name for its NewReno */
	default:
		return NULL;
	}
}

int tcp_cc_parse(const char *name)
{
	if (!name)
		return -1;
	if (strcmp(name, "cubic") == 0)
		return TCP_CC_CUBIC;
	if (strcmp(name, "reno") == 0)
		return TCP_CC_NEWRENO;
	return -1;
}

static bool is_cubic(const struct tcp_conn *c)
{
	return c->cfg.cc != TCP_CC_NEWRENO; /* an unknown value gets the default */
}

/* Cube root of x >= 0 by Newton's method (no libm in the core). Starting at
 * or above the root, the iterates fall monotonically onto it. */
static double cc_cbrt(double x)
{
	if (x <= 0)
		return 0;
	double y = x > 1 ? x : 1;
	for (int i = 0; i < 200; i++) {
		double n = (2 * y + x / (y * y)) / 3;
		if (n >= y)
			break;
		y = n;
	}
	return y;
}

/* ---- NewReno (RFC 5681) ----------------------------------------------------------- */

static void reno_ssthresh(struct tcp_conn *c)
{
	/* RFC 5681 eq. (4) */
	uint32_t flight = c->snd_max - c->snd_una;
	c->ssthresh = DEVMEM_MAX(flight / 2, 2u * c->snd_mss);
}

static void reno_ca(struct tcp_conn *c, uint32_t acked)
{
	/* RFC 5681 3.1 congestion avoidance: one MSS per window acked. */
	c->cwnd_acc += acked;
	if (c->cwnd_acc >= c->cwnd) {
		c->cwnd_acc -= c->cwnd;
		if (c->cwnd < CWND_MAX)
			c->cwnd += c->snd_mss;
	}
}

/* ---- CUBIC (RFC 9438) ----------------------------------------------------------- */

/* RFC 9438 eq. (1), in bytes: W_cubic(t) = C (t - K)^3 + W_max. */
static double w_cubic(const struct tcp_cc_state *s, double t, double mss)
{
	double d = t - s->k;
	return s->w_max + CUBIC_C * mss * d * d * d;
}

/* RFC 9438 4.6, 4.7: a congestion event. */
static void cubic_loss(struct tcp_conn *c)
{
	struct tcp_cc_state *s = &c->cc;
	uint32_t cwnd = c->cwnd;
	/* 4.7 fast convergence: a flow whose W_max shrank gives way. */
	if (cwnd < s->w_max)
		s->w_max = (uint32_t)(cwnd * (1 + CUBIC_BETA) / 2);
	else
		s->w_max = cwnd;
	s->cwnd_prior = cwnd;
	s->epoch_start = 0;
	/* 4.6: ssthresh = cwnd * beta_cubic, at least 2 MSS. cwnd (as Linux)
	 * rather than the flight size: cwnd does not grow while the
	 * application leaves it unused (tcp_cc_on_ack), as 4.6 requires. */
	c->ssthresh = DEVMEM_MAX((uint32_t)(cwnd * CUBIC_BETA), 2u * c->snd_mss);
}

static void cubic_ca(struct tcp_conn *c, uint32_t acked, uint64_t now)
{
	struct tcp_cc_state *s = &c->cc;
	double mss = c->snd_mss, cwnd = c->cwnd;

	if (!s->epoch_start) {
		/* A congestion avoidance stage begins (4.2). When cwnd already
		 * reached W_max (after a timeout W_max is 0), K = 0 and W_max =
		 * cwnd_epoch (4.8). */
		s->epoch_start = now ? now : 1;
		s->w_est = cwnd; /* 4.3: W_est starts at cwnd_epoch */
		s->frac = 0;
		if (s->w_max <= c->cwnd) {
			s->w_max = c->cwnd;
			s->k = 0;
		} else {
			s->k = cc_cbrt((s->w_max - cwnd) / (CUBIC_C * mss)); /* eq. (2) */
		}
	}
	double t = now > s->epoch_start ? (double)(now - s->epoch_start) / TCP_SEC : 0;

	/* 4.3 Reno-friendly region: W_est grows as Reno would with
	 * alpha_cubic = 3 (1 - beta) / (1 + beta) per RTT, with 1 once it
	 * passed the window of the last reduction. */
	double alpha = s->w_est >= s->cwnd_prior ? 1.0 : 3 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
	s->w_est += alpha * mss * acked / cwnd;
	if (w_cubic(s, t, mss) < s->w_est) {
		/* cwnd = W_est; never shrink it (Linux does the same). */
		if (s->w_est > cwnd)
			c->cwnd = (uint32_t)DEVMEM_MIN(s->w_est, (double)CWND_MAX);
		s->frac = 0;
		return;
	}
	/* 4.4 concave and 4.5 convex regions: towards W_cubic one RTT ahead,
	 * (target - cwnd) / cwnd per MSS acked, target within [cwnd, 1.5 cwnd]
	 * (4.2). */
	double target = w_cubic(s, t + (double)c->srtt_us / TCP_SEC, mss);
	if (target < cwnd)
		target = cwnd;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	double inc = (target - cwnd) * acked / cwnd + s->frac;
	uint32_t whole = (uint32_t)inc;
	s->frac = inc - whole;
	c->cwnd = (uint32_t)DEVMEM_MIN((uint64_t)c->cwnd + whole, (uint64_t)CWND_MAX);
}

/* ---- the hooks ----------------------------------------------------------------- */

void tcp_cc_on_ack(struct tcp_conn *c, uint32_t acked, uint32_t prior_flight, uint64_t now)
{
	struct tcp_cc_state *s = &c->cc;
	uint64_t prev = s->last_ack;
	s->last_ack = now;
	/* RFC 7661 spirit: grow only when the window was in use. CUBIC's t
	 * leaves such application-limited time out as well (RFC 9438 5.8). */
	if ((uint64_t)prior_flight * 2 < c->cwnd) {
		if (s->epoch_start && prev && now > prev)
			s->epoch_start += now - prev;
		return;
	}
	if (c->cwnd < c->ssthresh) {
		/* RFC 5681 3.1 slow start (Linux: by every byte acked). */
		uint64_t w = (uint64_t)c->cwnd + acked;
		if (w > c->ssthresh)
			w = c->ssthresh;
		c->cwnd = (uint32_t)DEVMEM_MIN(w, (uint64_t)CWND_MAX);
		return;
	}
	if (is_cubic(c))
		cubic_ca(c, acked, now);
	else
		reno_ca(c, acked);
}

void tcp_cc_enter_recovery(struct tcp_conn *c, uint64_t now)
{
	(void)now;
	if (is_cubic(c))
		cubic_loss(c);
	else
		reno_ssthresh(c);
	c->cwnd_acc = 0;
	if (c->sack_ok)
		c->cwnd = c->ssthresh; /* RFC 6675 5 (4.2) */
	else
		c->cwnd = c->ssthresh + TCP_DUPTHRESH * (uint32_t)c->snd_mss; /* RFC 6582 3.2 (2) */
}

void tcp_cc_exit_recovery(struct tcp_conn *c, uint64_t now)
{
	(void)now;
	/* RFC 6582 3.2 (3), RFC 6675 5; CUBIC's next stage starts with the
	 * next ACK (epoch_start was cleared by the loss). */
	c->cwnd = c->ssthresh;
	c->cwnd_acc = 0;
}

void tcp_cc_on_rto(struct tcp_conn *c)
{
	/* ssthresh only on the first timeout of an episode (RFC 5681 3.1: "the
	 * given segment has not yet been resent"). */
	if (c->backoff == 0) {
		if (!is_cubic(c))
			reno_ssthresh(c);
		else if (!c->in_recovery)
			cubic_loss(c); /* RFC 9438 4.8; in recovery it was reduced
					  already (Linux tcp_enter_loss keeps it) */
	}
	if (is_cubic(c)) {
		/* 4.8: the next stage has K = 0, W_max = cwnd_epoch. */
		c->cc.w_max = 0;
		c->cc.epoch_start = 0;
	}
	c->cwnd = c->snd_mss; /* loss window (RFC 5681 3.1) */
	c->cwnd_acc = 0;
}
