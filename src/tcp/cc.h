/* SPDX-License-Identifier: MIT */
/*
 * cc.h: congestion control behind one small interface. Two algorithms, as
 * Linux names them: "cubic" (RFC 9438, the default) and "reno" (NewReno:
 * RFC 5681 slow start and congestion avoidance). Loss recovery itself
 * (RFC 6582 / 6675) stays in recovery.c; it calls the tcp_cc_* hooks below
 * where the window changes. cwnd and ssthresh stay in struct tcp_conn, in
 * bytes. Time only comes in through the now arguments (us).
 */
#ifndef DEVMEM_TCP_CC_H
#define DEVMEM_TCP_CC_H

#include <stdint.h>

enum tcp_cc_algo {
	TCP_CC_CUBIC = 0, /* zeroed configs get CUBIC, as Linux's default */
	TCP_CC_NEWRENO = 1,
};

/* "cubic", "reno"; NULL for an unknown value. */
const char *tcp_cc_name(uint8_t algo);
/* The algorithm of a Linux name ("cubic", "reno"), or -1. */
int tcp_cc_parse(const char *name);

/* Per-connection state (CUBIC; NewReno uses tcp_conn.cwnd_acc only). All
 * zero is the state of a fresh connection. */
struct tcp_cc_state {
	uint32_t w_max;       /* bytes: W_max (RFC 9438 4.6, 4.7); the origin of W_cubic */
	uint32_t cwnd_prior;  /* bytes: cwnd at the last reduction (4.3: alpha switch) */
	uint64_t epoch_start; /* us: start of that stage; 0 = none yet (next CA ACK) */
	uint64_t last_ack;    /* us: previous ACK seen in congestion avoidance */
	double k;             /* s: K, when W_cubic reaches w_max again (eq. 2) */
	double w_est;         /* bytes: the Reno-friendly estimate W_est (4.3) */
	double frac;          /* bytes of growth below one byte, carried over */
};

/* ---- hooks for the core (recovery.c); c is a struct tcp_conn --------------- */
struct tcp_conn;
/* A cumulative ACK of acked bytes outside recovery; prior_flight: bytes in
 * flight before it (RFC 5681 3.1 slow start, else the algorithm's growth). */
void tcp_cc_on_ack(struct tcp_conn *c, uint32_t acked, uint32_t prior_flight, uint64_t now);
/* Fast retransmit: ssthresh and cwnd for the recovery episode. */
void tcp_cc_enter_recovery(struct tcp_conn *c, uint64_t now);
/* Full ACK: the episode is over, cwnd = ssthresh (RFC 6582 3.2 (3), 6675 5). */
void tcp_cc_exit_recovery(struct tcp_conn *c, uint64_t now);
/* Retransmission timeout: ssthresh (first expiry only), cwnd = 1 MSS. */
void tcp_cc_on_rto(struct tcp_conn *c);

#endif /* DEVMEM_TCP_CC_H */
