/* SPDX-License-Identifier: MIT */
/*
 * tcp: the protocol core. I/O-free: segments come in through tcp_input(),
 * time comes in as an argument (microseconds, monotonic), and everything the
 * core wants done (send a segment, wake a reader, make a child connection)
 * goes out through the callbacks of struct tcp_env. Tests drive it with
 * injected time and a recording env.
 *
 * Read first: RFC 9293 (TCP), RFC 7323 (window scale, timestamps, PAWS),
 * RFC 2018 (SACK), RFC 1122 4.2.3.2 and RFC 5681 4.2 (delayed ACK),
 * RFC 5961 (blind in-window attacks), RFC 6528 (ISN), RFC 6298 (RTO),
 * RFC 5681 / 6582 / 6675 (loss recovery).
 *
 * Payload is never touched here: a received segment's data is a struct pbuf
 * of frag references (which may point into device memory). The core trims,
 * queues, reorders and frees those references only.
 */
#ifndef DEVMEM_TCP_H
#define DEVMEM_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mem/mem.h"
#include "tcp/cc.h"
#include "wire/wire.h"

enum tcp_state {
	TCP_CLOSED = 0,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RECV,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT1,
	TCP_FIN_WAIT2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};
const char *tcp_state_name(enum tcp_state s);

/* The four-tuple. Addresses in network order; IPv4 uses the first 4 bytes. */
struct tcp_ep {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t laddr[16];
	uint8_t raddr[16];
	uint16_t lport; /* host order */
	uint16_t rport;
};

/* A received segment's payload, queued in order or out of order. */
struct rxseg {
	struct rxseg *next;
	uint32_t seq; /* sequence number of pb's first byte */
	struct pbuf pb;
};

/* What tcp_input() is given: the parsed header and the payload (may be NULL
 * when len == 0). The core takes ownership of data in every case. */
struct tcp_seg {
	struct wire_tcp th;
	uint32_t len;        /* payload bytes (== data->pb.len when data) */
	struct rxseg *data;
	/* The segment's four-tuple seen from us (laddr = its destination).
	 * Needed when c is a listener (the child's ep); may be NULL otherwise.
	 * NULL on a listener: the child gets the listener's ep with
	 * rport = th.sport (unit tests). */
	const struct tcp_ep *ep;
};

/*
 * A piece of send data. Host bytes the stack may address (ptr), or a range of
 * device memory (mem, off) that the NIC's DMA step gathers; a host dmabuf has
 * both. owner is the socket layer's (the TX binding), opaque to the core.
 */
enum tcp_txp_kind {
	TCP_TXP_COPY = 0, /* copied into the socket's send ring */
	TCP_TXP_USER,     /* caller memory, MSG_ZEROCOPY without a dmabuf */
	TCP_TXP_DEV,      /* a TX binding's dmabuf */
};
struct tcp_txp {
	const uint8_t *ptr;
	struct dmabuf *mem;
	uint64_t off;
	uint32_t len;
	uint8_t kind;
	void *owner;
};
/* Send times kept per connection (RACK-style loss detection). */
#define TCP_TXLOG 64
/* Most pieces one emitted segment gathers (segments are cut shorter). */
#define TCP_TXP_MAX 16

/* The send queue: what was queued from snd_una on, as extents (merged when
 * contiguous), copied bytes in a ring, and the zero-copy notification marks. */
struct tcp_zcmark {
	uint32_t end_seq; /* the send call's data ends before this sequence */
	uint32_t id;
};
struct tcp_sndq {
	struct tcp_txp *ext;       /* ring of extents, cap a power of two */
	uint32_t cap, head, n;     /* head: absolute position of the first */
	uint32_t skip;             /* bytes of the first extent already acked */
	uint32_t cur_pos, cur_seq; /* cursor: extent cur_pos starts at cur_seq */
	uint8_t *ring;             /* copied bytes (cfg.sndbuf of them) */
	uint32_t ring_head, ring_len;
	struct tcp_zcmark *zc;     /* ring of marks */
	uint32_t zc_cap, zc_head, zc_n;
	uint32_t zc_next;          /* next notification id */
};

/* Events for tcp_env.event (bitmask). */
#define TCP_EV_READABLE 0x01    /* data or FIN queued for the reader */
#define TCP_EV_WRITABLE 0x02    /* send buffer space opened */
#define TCP_EV_ESTABLISHED 0x04 /* handshake complete (active or passive) */
#define TCP_EV_ERROR 0x08       /* c->err set (ECONNRESET, ECONNREFUSED, ETIMEDOUT) */
#define TCP_EV_CLOSED 0x10      /* reached CLOSED (TIME_WAIT done, reset, ...):
				   the core will not touch c again */
#define TCP_EV_ZC 0x20          /* zero-copy completions were reported */

struct tcp_conn;

struct tcp_env {
	/*
	 * Send one segment on c's four-tuple. th holds seq, ack, flags, window
	 * (already scaled down) and options; the payload (paylen bytes) is
	 * given as up to two pieces of the send buffer. When paylen >
	 * c->snd_mss it is a GSO super-segment (a multiple of snd_mss, at most
	 * cfg.tx_mss_max): cut it at c->snd_mss, same options on each piece,
	 * PSH/FIN only on the last. Also used for the RST of tcp_make_rst()
	 * answering a bad segment on c (ports taken from that segment).
	 */
	void (*emit)(void *ctx, struct tcp_conn *c, const struct wire_tcp *th,
		     const struct tcp_txp *payload, int npieces, uint32_t paylen);
	/*
	 * Receive space in bytes right now: the flow's RX queue's free
	 * buffers and the socket's SO_RCVBUF minus bytes queued (c->rcvq_bytes)
	 * and bytes still held by devmem tokens. Do NOT subtract c->ooo_bytes:
	 * out-of-order data lies inside the window already advertised. The
	 * window advertised follows it (never moving its right edge left).
	 */
	uint32_t (*rx_space)(void *ctx, struct tcp_conn *c);
	/* Delivered once at the end of each tcp_* call (never in the middle of
	 * one), so the handler may call back into the core. After
	 * TCP_EV_CLOSED the core does not touch c again. */
	void (*event)(void *ctx, struct tcp_conn *c, unsigned events);
	/*
	 * A SYN reached listener l: return a new connection, set up with
	 * tcp_conn_init() on ep and registered for demux, or NULL to refuse
	 * (backlog full: the SYN is dropped).
	 */
	struct tcp_conn *(*new_child)(void *ctx, struct tcp_conn *l, const struct tcp_ep *ep);
	/* Release a segment's frags and its rxseg. */
	void (*seg_free)(void *ctx, struct rxseg *s);
	/* Optional. Zero-copy send calls lo..hi (inclusive, in order) are
	 * complete: acknowledged, or dropped with the connection. */
	void (*zc_done)(void *ctx, struct tcp_conn *c, uint32_t lo, uint32_t hi);
	/* Optional. The queue let go of bytes of an extent with an owner. */
	void (*tx_release)(void *ctx, void *owner, uint32_t bytes);
};

struct tcp_cfg {
	uint32_t rcvbuf;      /* receive buffer limit; sets the window scale */
	uint32_t sndbuf;      /* send buffer bytes */
	uint16_t mss;         /* MSS we advertise (link MTU - IP - TCP headers) */
	uint16_t tx_mss_max;  /* largest segment we may emit (GSO: up to 64 KiB) */
	bool nodelay;         /* TCP_NODELAY */
	bool no_tlp;          /* no tail loss probes (Linux tcp_early_retrans = 0) */
	bool no_ts;           /* no timestamps (Linux tcp_timestamps = 0) */
	bool no_sack;         /* no SACK (Linux tcp_sack = 0) */
	bool no_ws;           /* no window scaling (Linux tcp_window_scaling = 0) */
	uint64_t time_wait_us;/* TIME_WAIT duration (60 s as Linux) */
	uint64_t delack_us;   /* delayed ACK timeout (40 ms as Linux) */
	uint8_t isn_key[16];  /* RFC 6528 secret */
	uint32_t ts_offset;   /* per-connection timestamp offset */
	uint8_t cc;           /* enum tcp_cc_algo (TCP_CONGESTION); 0 = CUBIC */
	bool cork;            /* TCP_CORK: only full segments (partial after 200 ms idle) */
};
void tcp_cfg_default(struct tcp_cfg *cfg);

struct tcp_stats {
	uint64_t segs_in, segs_out, data_segs_in, bytes_in;
	uint64_t ooo_segs, dup_segs, paws_drops, bad_ack_drops, challenge_acks;
	uint64_t retrans_segs, rto_events, fast_retrans, window_probes;
	uint64_t zero_window_sent, ooo_dropped;
	uint64_t syn_drops;          /* listener: SYN dropped, backlog full */
	uint64_t rst_in, rst_out;
	uint64_t bytes_out;          /* payload sent, retransmissions included */
	uint64_t dev_bytes_out;      /* of which from device memory */
	uint64_t retrans_bytes, retrans_dev_bytes;
	uint64_t copied_bytes;       /* tcp_send() copies into the ring */
	uint64_t zc_host_bytes;      /* TCP_TXP_USER payload sent */
	uint64_t zc_completions;     /* send calls completed */
	uint64_t bytes_acked;        /* sequence space cumulatively acked (SYN excluded) */
	uint64_t data_segs_out;      /* emitted segments with payload (a GSO one counts once) */
	uint64_t tlp_probes;         /* tail loss probes sent (RFC 8985 7.3) */
};

/* sum += st, counter by counter */
void tcp_stats_add(struct tcp_stats *sum, const struct tcp_stats *st);

struct tcp_conn {
	enum tcp_state state;
	struct tcp_ep ep;
	const struct tcp_env *env;
	void *ctx;                   /* env's context (the socket) */
	struct tcp_cfg cfg;
	struct tcp_conn *parent;     /* listener of a passive child; a child in
					SYN_RECV decrements parent->syn_recv when it
					leaves that state or is destroyed: destroy
					such children (or set parent = NULL) before
					the listener */
	int err;                     /* pending error (positive errno) */
	struct tcp_stats st;

	/* listener */
	unsigned backlog;            /* max children in SYN_RECV */
	unsigned syn_recv;           /* children now in SYN_RECV */

	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint8_t snd_wscale;          /* peer's shift */
	uint16_t snd_mss;            /* effective MSS toward the peer */
	struct tcp_sndq sq;          /* data from snd_una on */
	uint32_t snd_len;            /* bytes queued (from snd_una) */
	bool fin_queued;             /* user shut down writing */
	bool fin_sent;

	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge last advertised */
	uint8_t rcv_wscale;          /* our shift */
	bool fin_rcvd;
	struct rxseg *rcvq_head, *rcvq_tail; /* in order, not yet read */
	uint32_t rcvq_bytes;
	struct rxseg *ooo;           /* out of order, sorted by seq, disjoint */
	unsigned ooo_count;
	uint32_t ooo_bytes;

	/* options negotiated */
	bool ws_ok, ts_ok, sack_ok;
	uint32_t ts_recent;          /* RFC 7323 4.3 */
	uint64_t ts_recent_stamp;    /* when ts_recent was set, us */
	struct wire_sack_block sack_blocks[WIRE_TCP_MAX_SACK]; /* to report, newest first */
	unsigned nsack_blocks;

	/* timers: absolute deadlines in us, 0 = off */
	uint64_t t_rexmit, t_delack, t_persist, t_timewait;
	uint32_t rto_us, srtt_us, rttvar_us;
	uint32_t min_rtt_us;         /* smallest sample so far (0: none) */
	uint64_t t_tlp;              /* tail loss probe deadline (RFC 8985 7) */
	/* when each new-data segment still unacknowledged went out (RACK's
	 * xmit_ts, RFC 8985 6.1), oldest first; a full log merges into its last */
	struct { uint32_t end; uint64_t t; } txlog[TCP_TXLOG];
	unsigned txlog_head, txlog_n;
	uint32_t tlp_high_seq;       /* snd_max when the probe went (0: none out) */
	unsigned backoff;            /* consecutive RTO expirations */
	unsigned syn_retries;

	/* ACK generation, as Linux's delayed-ACK engine (input.c) */
	unsigned segs_since_ack;     /* full-sized segments not yet ACKed */
	bool ack_now;
	uint8_t quick;               /* quick ACKs left (icsk_ack.quick) */
	bool pingpong;               /* interactive: ACKs wait for a reply (icsk_ack.pingpong) */
	uint32_t ato_us;             /* delayed-ACK timeout estimate (icsk_ack.ato; 0: no data yet) */
	uint64_t lrcvtime;           /* when in-order data last arrived, us */
	uint8_t ack_pushed;          /* small or PSH segments wait for the delayed ACK:
					1, 2 for two small ones (ICSK_ACK_PUSHED, PUSHED2) */
	uint32_t psh_seq;            /* while psh_burst, a segment ending here carries
					PSH: the end of a burst of new data (output.c) */
	bool psh_burst;
	bool fin_alone;              /* our FIN went in a segment of its own */
	bool tail_more;              /* the last bytes queued came with MSG_MORE: no
					PSH on them (Linux marks PSH when a call ends) */
	bool more;                   /* inside a send call with MSG_MORE, or with more
					to queue: partial segments wait as under TCP_CORK */

	/* congestion control and recovery (RFC 5681, 6582, 6675) */
	uint32_t cwnd, ssthresh, recover, dupacks;
	bool in_recovery;
	struct wire_sack_block scoreboard[16]; /* peer's SACKed ranges above snd_una */
	unsigned nscore;
	uint32_t rtt_seq; uint64_t rtt_start; /* one timed segment (us precision) */
	bool rtt_active;             /* rtt_seq/rtt_start valid (Karn: off on rexmit) */

	/* --- added by the tcp core (private bookkeeping) --- */
	uint32_t max_snd_wnd;        /* largest window the peer offered (RFC 5961 5.2) */
	uint32_t fin_seq;            /* seq of our FIN once sent */
	uint16_t peer_mss;           /* MSS option from the peer's SYN (536 if none) */
	uint16_t rcv_mss;            /* estimate of the peer's full segment payload */
	uint32_t last_ack_sent;      /* Last.ACK.sent (RFC 7323 4.3) */
	bool ooo_fin;                /* a FIN arrived out of order ... */
	uint32_t ooo_fin_seq;        /* ... at this sequence number */
	bool snd_full;               /* tcp_send ran out of space: WRITABLE later */
	bool loss_mode;              /* SACK: after RTO everything below recover is lost */
	uint32_t cwnd_acc;           /* bytes acked in congestion avoidance */
	uint32_t high_rxt;           /* RFC 6675 HighRxt (next hole search start) */
	uint32_t una_rxt_mark;       /* snd_max when the hole at snd_una was retransmitted */
	uint64_t una_rxt_time;       /* ... and when */
	uint32_t sacked_bytes;       /* sum of scoreboard ranges */
	unsigned ev_pending;         /* events not yet delivered */
	struct tcp_cc_state cc;      /* congestion control (cc.c) */
	uint64_t t_cork;             /* TCP_CORK: when held partial data goes, us; 0 = off */
	uint32_t snd_sml;            /* end of the last partial segment sent (Minshall's
					Nagle, as Linux's tcp_minshall_check) */
};

/* Set up c (state CLOSED) for endpoints ep; env/ctx are its callbacks. */
void tcp_conn_init(struct tcp_conn *c, const struct tcp_ep *ep, const struct tcp_cfg *cfg,
		   const struct tcp_env *env, void *ctx);
/* Free everything c still holds (send ring, queued segments). */
void tcp_conn_destroy(struct tcp_conn *c);

/* Passive open: LISTEN with room for backlog SYN_RECV children. */
int tcp_listen(struct tcp_conn *c, unsigned backlog);
/* Active open: send SYN (RFC 9293 3.10.1). Returns 0 or -errno. */
int tcp_connect(struct tcp_conn *c, uint64_t now);

/* Result of tcp_input() for the caller's demux. */
enum tcp_input_result {
	TCP_IN_OK = 0,
	TCP_IN_REOPEN,  /* SYN to a TIME_WAIT conn that may be reused (RFC 6191):
			   caller frees c (already CLOSED, TCP_EV_CLOSED delivered)
			   and passes the SYN on to the listener; the core did NOT
			   take seg->data in this case */
	TCP_IN_RST,     /* c is a listener or CLOSED and the segment deserves a RST:
			   caller sends tcp_make_rst() to the segment's source */
};
/* Process one segment addressed to c (a connection or a listener). */
enum tcp_input_result tcp_input(struct tcp_conn *c, struct tcp_seg *seg, uint64_t now);

/* Run expired timers; returns the next deadline (UINT64_MAX: none). */
uint64_t tcp_timers(struct tcp_conn *c, uint64_t now);
uint64_t tcp_next_deadline(const struct tcp_conn *c);

/* Queue up to len bytes for sending (copied); returns bytes taken, 0 when
 * the send buffer is full, or -errno (EPIPE after shutdown, ENOTCONN). */
int64_t tcp_send(struct tcp_conn *c, const void *buf, size_t len, uint64_t now);
/* Queue the pieces by reference (zero copy; kind USER or DEV, owner set by
 * the caller); same results as tcp_send. The memory must stay untouched
 * until a notification (tcp_zc_mark) covering it completes. */
int64_t tcp_send_zc(struct tcp_conn *c, const struct tcp_txp *p, int n, uint64_t now);
/* End of one zero-copy send call: returns its notification id; completes
 * (env->zc_done) once the peer acknowledged everything queued so far. */
uint32_t tcp_zc_mark(struct tcp_conn *c);
/* Bytes of send buffer space free. */
uint32_t tcp_send_space(const struct tcp_conn *c);
/* Send whatever the windows allow (also called after tcp_send). */
void tcp_output(struct tcp_conn *c, uint64_t now);
/* The reader consumed data or returned tokens: rx_space may have grown;
 * send a window update when it opened enough (RFC 1122 4.2.3.3). */
void tcp_rcv_space_changed(struct tcp_conn *c, uint64_t now);
/* ICMP says the path takes IP payloads of at most l4_mtu bytes (RFC 1191,
 * RFC 8201): shrink the MSS and resend what is in flight. */
void tcp_mtu_reduced(struct tcp_conn *c, uint32_t l4_mtu, uint64_t now);
/* shutdown(SHUT_WR) / close(): queue a FIN after pending data. */
void tcp_shutdown(struct tcp_conn *c, uint64_t now);
/* Send RST (when synchronized) and go to CLOSED: abortive close. */
void tcp_abort(struct tcp_conn *c, uint64_t now);

/* Dequeue the first in-order segment (the reader owns it afterwards). */
struct rxseg *tcp_rcvq_pop(struct tcp_conn *c);

/* ISN per RFC 6528: M + F(4-tuple, key), M a 4 us clock. */
uint32_t tcp_isn(const struct tcp_ep *ep, const uint8_t key[16], uint64_t now);
/* Build the RST answering a segment that has no connection
 * (RFC 9293 3.10.7.1). Returns false when none must be sent (it was a RST). */
bool tcp_make_rst(const struct wire_tcp *in, uint32_t paylen, struct wire_tcp *out);

struct tcp_info; /* <linux/tcp.h> */
/* TCP_INFO: Linux's struct tcp_info (6.1 layout) from what the core knows;
 * times in us as Linux, windows in segments as Linux (info.c). */
void tcp_get_info(const struct tcp_conn *c, struct tcp_info *ti, uint64_t now);

#endif /* DEVMEM_TCP_H */
