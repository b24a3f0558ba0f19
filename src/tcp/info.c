/* SPDX-License-Identifier: MIT */
/*
 * info.c: TCP_INFO. Fills Linux's struct tcp_info (the 6.1 uapi layout,
 * which ends at tcpi_snd_wnd) from the connection, in Linux's units: times
 * in us, windows and counts of segments in segments (of snd_mss), sizes in
 * bytes.
 *
 * Approximations: unacked, sacked, lost and retrans are derived from byte
 * ranges and the RFC 6675 scoreboard (Linux counts packets it marked);
 * without SACK, lost is the head segment in fast recovery and the
 * go-back-N range after a timeout. rcv_ssthresh and rcv_space both carry
 * the receive window last advertised (the 6.1 layout has no tcpi_rcv_wnd).
 * Not kept by the core, so 0: the last_* times, rcv_rtt, delivery rate,
 * busy / limited times, delivered, DSACK and reordering counts. min_rtt is
 * ~0 (Linux's "no sample") until the first RTT sample.
 */
#include <linux/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "tcp/tcp_int.h"

#define LINUX_TCP_INFINITE_SSTHRESH 0x7fffffffu

/* include/net/tcp_states.h numbering */
static uint8_t linux_state(enum tcp_state s)
{
	switch (s) {
	case TCP_ESTABLISHED: return 1;
	case TCP_SYN_SENT: return 2;
	case TCP_SYN_RECV: return 3;
	case TCP_FIN_WAIT1: return 4;
	case TCP_FIN_WAIT2: return 5;
	case TCP_TIME_WAIT: return 6;
	case TCP_CLOSED: return 7;
	case TCP_CLOSE_WAIT: return 8;
	case TCP_LAST_ACK: return 9;
	case TCP_LISTEN: return 10;
	case TCP_CLOSING: return 11;
	}
	return 7;
}

/* Bytes of [s, e) the peer has not SACKed. */
static uint32_t unsacked(const struct tcp_conn *c, uint32_t s, uint32_t e)
{
	if (!seq_lt(s, e))
		return 0;
	uint32_t n = e - s;
	for (unsigned i = 0; i < c->nscore; i++) {
		uint32_t bs = seq_max(c->scoreboard[i].start, s);
		uint32_t be = seq_min(c->scoreboard[i].end, e);
		if (seq_lt(bs, be))
			n -= be - bs;
	}
	return n;
}

static uint32_t segs(uint32_t bytes, uint32_t mss)
{
	return (uint32_t)(((uint64_t)bytes + mss - 1) / mss);
}

/* Go-back-N after a timeout without SACK: [snd_nxt, snd_max) waits again. */
static bool going_back(const struct tcp_conn *c)
{
	return !c->sack_ok && !c->in_recovery && seq_lt(c->snd_nxt, c->snd_max);
}

static uint8_t ca_state(const struct tcp_conn *c)
{
	if (c->loss_mode || going_back(c))
		return TCP_CA_Loss;
	if (c->in_recovery)
		return TCP_CA_Recovery;
	if (c->dupacks || c->nscore)
		return TCP_CA_Disorder;
	return TCP_CA_Open;
}

void tcp_get_info(const struct tcp_conn *c, struct tcp_info *ti, uint64_t now)
{
	(void)now; /* for the last_* times, once the core keeps their stamps */
	memset(ti, 0, sizeof(*ti));
	uint32_t mss = c->snd_mss ? c->snd_mss : TCP_DEFAULT_MSS;
	bool sync = tcp_synchronized(c->state);

	ti->tcpi_state = linux_state(c->state);
	ti->tcpi_ca_state = ca_state(c);
	uint8_t backoff = (uint8_t)DEVMEM_MIN(c->backoff, 255u);
	if (c->t_persist)
		ti->tcpi_probes = backoff; /* zero-window probes back off the same way */
	else
		ti->tcpi_retransmits = backoff;
	ti->tcpi_backoff = backoff;
	if (c->ts_ok)
		ti->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (c->sack_ok)
		ti->tcpi_options |= TCPI_OPT_SACK;
	if (c->ws_ok) {
		ti->tcpi_options |= TCPI_OPT_WSCALE;
		ti->tcpi_snd_wscale = c->snd_wscale & 15;
		ti->tcpi_rcv_wscale = c->rcv_wscale & 15;
	}

	ti->tcpi_rto = (uint32_t)tcp_rto_backed_off(c);
	ti->tcpi_ato = c->ato_us ? c->ato_us : (uint32_t)c->cfg.delack_us;
	ti->tcpi_snd_mss = mss;
	ti->tcpi_rcv_mss = c->rcv_mss;

	/* Packets in flight, as Linux's packets_out / sacked_out / lost_out /
	 * retrans_out, from bytes. pipe (RFC 6675) = unSACKed and not lost +
	 * retransmitted, so lost = flight - SACKed - (pipe - retransmitted). */
	uint32_t flight = sync ? c->snd_max - c->snd_una : 0;
	uint32_t rxt = 0, lost = 0;
	if (flight && (c->in_recovery || c->loss_mode))
		rxt = unsacked(c, c->snd_una, seq_min(c->high_rxt, c->snd_max));
	if (flight && c->sack_ok) {
		uint32_t pipe = tcp_pipe(c);
		uint32_t orig = pipe > rxt ? pipe - rxt : 0;
		uint32_t held = c->sacked_bytes + orig;
		lost = flight > held ? flight - held : 0;
	} else if (flight && going_back(c)) {
		rxt = c->snd_nxt - c->snd_una;
		lost = c->snd_max - c->snd_nxt;
	} else if (flight && c->in_recovery) {
		lost = DEVMEM_MIN(flight, mss); /* the head (RFC 6582) */
	}
	ti->tcpi_unacked = segs(flight, mss);
	ti->tcpi_sacked = segs(c->sacked_bytes, mss);
	ti->tcpi_lost = segs(lost, mss);
	ti->tcpi_retrans = segs(rxt, mss);

	ti->tcpi_pmtu = c->cfg.mss + 20u + (c->ep.family == AF_INET6 ? 40u : 20u);
	uint32_t rwnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	ti->tcpi_rcv_ssthresh = rwnd;
	ti->tcpi_rtt = c->srtt_us;
	ti->tcpi_rttvar = c->rttvar_us;
	ti->tcpi_snd_ssthresh = c->ssthresh >= LINUX_TCP_INFINITE_SSTHRESH
					? LINUX_TCP_INFINITE_SSTHRESH
					: c->ssthresh / mss;
	ti->tcpi_snd_cwnd = c->cwnd / mss;
	/* Linux's advmss leaves room for the timestamp option. */
	ti->tcpi_advmss = c->cfg.mss - (c->ts_ok ? TCP_TS_OPT_LEN : 0);
	ti->tcpi_reordering = TCP_DUPTHRESH;
	ti->tcpi_rcv_space = rwnd;
	ti->tcpi_total_retrans = (uint32_t)c->st.retrans_segs;

	/* Linux's tcp_update_pacing_rate: 200% of cwnd / srtt in slow
	 * start, 120% after; nothing here paces, this is what it would. */
	if (c->srtt_us) {
		uint64_t rate = (uint64_t)mss * (c->cwnd / mss) * TCP_SEC / c->srtt_us;
		ti->tcpi_pacing_rate = c->cwnd < c->ssthresh / 2 ? rate * 2 : rate * 6 / 5;
	}
	ti->tcpi_max_pacing_rate = ~0ull;
	ti->tcpi_bytes_acked = c->st.bytes_acked;
	ti->tcpi_bytes_received = c->st.bytes_in;
	ti->tcpi_segs_out = (uint32_t)c->st.segs_out;
	ti->tcpi_segs_in = (uint32_t)c->st.segs_in;
	uint32_t end = tcp_data_end(c);
	ti->tcpi_notsent_bytes = sync && seq_gt(end, c->snd_max) ? end - c->snd_max : 0;
	ti->tcpi_min_rtt = c->min_rtt_us ? c->min_rtt_us : ~0u;
	ti->tcpi_data_segs_in = (uint32_t)c->st.data_segs_in;
	ti->tcpi_data_segs_out = (uint32_t)c->st.data_segs_out;
	ti->tcpi_bytes_sent = c->st.bytes_out;
	ti->tcpi_bytes_retrans = c->st.retrans_bytes;
	ti->tcpi_rcv_ooopack = (uint32_t)c->st.ooo_segs;
	ti->tcpi_snd_wnd = c->snd_wnd;
}
