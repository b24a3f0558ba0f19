/* SPDX-License-Identifier: MIT */
/*
 * tcp_int.h: what the files of the tcp core share with each other and
 * nobody else. conn.c (life cycle, events), input.c (segment arrival,
 * RFC 9293 3.10.7), output.c (segments, options, window), timer.c (RTO,
 * delayed ACK, persist, TIME_WAIT, TCP_CORK), reasm.c (out-of-order queue,
 * SACK blocks), recovery.c (ACK processing, loss recovery, SACK scoreboard),
 * cc.c (congestion control; its hooks are in cc.h), info.c (TCP_INFO),
 * isn.c (RFC 6528), rst.c (RST for segments without a connection).
 */
#ifndef DEVMEM_TCP_INT_H
#define DEVMEM_TCP_INT_H

#include "tcp/tcp.h"
#include "util/util.h"

#define TCP_US_PER_MS 1000u
#define TCP_SEC 1000000ull

#define TCP_RTO_INIT_US (1 * TCP_SEC)     /* RFC 6298 2.1 */
#define TCP_RTO_MIN_US (200 * 1000ull)    /* Linux TCP_RTO_MIN */
#define TCP_RTO_MAX_US (120 * TCP_SEC)    /* Linux TCP_RTO_MAX */
#define TCP_RTO_FALLBACK_US (3 * TCP_SEC) /* RFC 6298 5.7 */
#define TCP_SYN_RETRIES 6                 /* Linux tcp_syn_retries */
#define TCP_SYNACK_RETRIES 5              /* Linux tcp_synack_retries */
#define TCP_RETRIES2 15                   /* Linux tcp_retries2 */
#define TCP_OOO_MAX 256                   /* rxsegs in the OOO list */
#define TCP_INIT_CWND 10                  /* RFC 6928, in segments */
#define TCP_DEFAULT_MSS 536               /* RFC 9293 3.7.1 */
#define TCP_TS_OPT_LEN 12                 /* NOP NOP TS */
#define TCP_PAWS_IDLE_US (24ull * 24 * 3600 * TCP_SEC) /* RFC 7323 5.5 */
#define TCP_DUPTHRESH 3
#define TCP_MAX_QUICKACKS 16              /* Linux TCP_MAX_QUICKACKS */
#define TCP_DELACK_MAX_US (200 * 1000u)   /* Linux TCP_DELACK_MAX */
#define TCP_TLP_DELACK_US (200 * 1000ull) /* RFC 8985 7.2 WCDelAckT (Linux TCP_DELACK_MAX) */
#define TCP_TLP_MIN_US (2 * 1000ull)      /* Linux TCP_TIMEOUT_MIN: 2 jiffies */

/* ---- conn.c ---------------------------------------------------------------- */
void tcp_set_state(struct tcp_conn *c, enum tcp_state s);
/* Queue events; delivered by tcp_ev_flush() at the end of a public call. */
static inline void tcp_ev(struct tcp_conn *c, unsigned ev) { c->ev_pending |= ev; }
void tcp_ev_flush(struct tcp_conn *c);
/* Enter CLOSED: timers off, parent's count fixed, TCP_EV_CLOSED queued. */
void tcp_enter_closed(struct tcp_conn *c);
/* Connection reset or timed out: err set, ERROR + CLOSED queued. */
void tcp_drop_conn(struct tcp_conn *c, int err);
/* Handshake done (either side): state ESTABLISHED and its events. */
void tcp_established(struct tcp_conn *c, uint64_t now);
bool tcp_synchronized(enum tcp_state s);
uint8_t tcp_choose_wscale(const struct tcp_conn *c);

/* ---- output.c -------------------------------------------------------------- */
/* tcp_output() without event delivery (for use inside the core). */
void tcp_push(struct tcp_conn *c, uint64_t now);
/* Retransmit from seq: up to max data bytes (+ our FIN when it follows);
 * returns the sequence space sent (0: nothing). */
uint32_t tcp_rexmit(struct tcp_conn *c, uint32_t seq, uint32_t max, uint64_t now);
/* Old-sequence zero-window probe (seq = snd_una - 1, no data). */
void tcp_send_probe(struct tcp_conn *c, uint64_t now);
uint32_t tcp_ts_now(const struct tcp_conn *c, uint64_t now);
/* SYN (SYN_SENT) or SYN-ACK (SYN_RECV) with the negotiated options. */
void tcp_send_syn(struct tcp_conn *c, uint64_t now);
/* A bare ACK (also the challenge and duplicate ACK). */
void tcp_send_ack(struct tcp_conn *c, uint64_t now);
/* RST|ACK <SEQ=snd_nxt> from c (abort). */
void tcp_send_rst(struct tcp_conn *c, uint64_t now);
/* RST answering segment th on c's four-tuple (RFC 9293 3.10.7.3). */
void tcp_send_rst_reply(struct tcp_conn *c, const struct wire_tcp *th, uint32_t len);
/* Emit [seq, seq+len) of the send queue (+FIN when fin); returns the data
 * bytes sent: fewer (and no FIN) when the queue's pieces ran out first. */
uint32_t tcp_xmit_data(struct tcp_conn *c, uint32_t seq, uint32_t len, bool fin, uint64_t now);
/* End of data queued for sending (sequence of the FIN once queued). */
static inline uint32_t tcp_data_end(const struct tcp_conn *c) { return c->snd_una + c->snd_len; }
/* Largest segment payload we emit at once (GSO multiple of snd_mss). */
uint32_t tcp_max_seg(const struct tcp_conn *c);
bool tcp_fin_acked(const struct tcp_conn *c);

/* ---- timer.c --------------------------------------------------------------- */
void tcp_rtt_sample(struct tcp_conn *c, uint64_t rtt_us);
uint64_t tcp_rto_backed_off(const struct tcp_conn *c);
/* (Re)start the retransmission timer (RFC 6298 5.1, 5.3). */
void tcp_arm_rexmit(struct tcp_conn *c, uint64_t now);
void tcp_arm_delack(struct tcp_conn *c, uint64_t now);
/* (Re)start the tail loss probe timer (RFC 8985 7.2) or stop it. */
void tcp_arm_tlp(struct tcp_conn *c, uint64_t now);

/* ---- reasm.c --------------------------------------------------------------- */
/* Insert an out-of-order segment (seq > rcv_nxt, inside the window). Takes s. */
void tcp_ooo_insert(struct tcp_conn *c, struct rxseg *s, uint64_t now);
/* Move the OOO segments that rcv_nxt reached into rcvq; returns bytes moved. */
uint32_t tcp_ooo_pull(struct tcp_conn *c);
void tcp_ooo_purge(struct tcp_conn *c);
/* Refresh c->sack_blocks after the OOO queue changed; first = the block
 * holding seq (the newest segment) when have_seq (RFC 2018 4). */
void tcp_sack_refresh(struct tcp_conn *c, bool have_seq, uint32_t seq);
/* Append an rxseg to rcvq (caller has trimmed it to start at rcv_nxt). */
void tcp_rcvq_append(struct tcp_conn *c, struct rxseg *s);

/* ---- recovery.c ------------------------------------------------------------ */
/* Process the ACK field of an acceptable segment in a synchronized state
 * (RFC 9293 3.10.7.4 fifth check, RFC 5681, 6582, 6675). */
void tcp_ack_rcvd(struct tcp_conn *c, const struct tcp_seg *seg, uint64_t now);
/* RFC 6675 pipe: bytes believed in flight. */
uint32_t tcp_pipe(const struct tcp_conn *c);
/* Next range to retransmit in SACK recovery; false when none. */
bool tcp_next_hole(struct tcp_conn *c, uint32_t *seq, uint32_t *len, bool lost_only);
/* New data [.., end) went out at now (RACK's send times). */
void tcp_txlog_add(struct tcp_conn *c, uint32_t end, uint64_t now);
/* Loss after an RTO: congestion response and retransmission state. */
void tcp_rto_loss(struct tcp_conn *c);

/* ---- sndq.c ---------------------------------------------------------------- */
/* Append an extent at the end of the queue (merged when contiguous);
 * -ENOBUFS when the queue holds too many extents, -ENOMEM. */
int tcp_sndq_add(struct tcp_conn *c, const struct tcp_txp *p);
bool tcp_sndq_room(const struct tcp_conn *c);
/* Pieces of [seq, seq + len) into out (at most TCP_TXP_MAX); returns the
 * bytes they cover (less than len when the pieces ran out). */
uint32_t tcp_sndq_gather(struct tcp_conn *c, uint32_t seq, uint32_t len, struct tcp_txp *out,
			 int *n);
/* snd_una has advanced by bytes of data: let go of them. */
void tcp_sndq_ack(struct tcp_conn *c, uint32_t bytes);
/* Report the zero-copy calls the cumulative ACK covers (all: every one). */
void tcp_sndq_complete(struct tcp_conn *c, bool all);
/* Release the whole queue; every pending call completes. */
void tcp_sndq_free(struct tcp_conn *c);

/* ---- isn.c ------------------------------------------------------------------ */
uint64_t tcp_siphash24(const uint8_t key[16], const void *msg, size_t len);

#endif /* DEVMEM_TCP_INT_H */
