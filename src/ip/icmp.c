/* SPDX-License-Identifier: MIT */
/* ICMP and ICMPv6: echo replies (RFC 792, RFC 4443 4.2) and path MTU
 * discovery (RFC 1191 "fragmentation needed", RFC 8201 "packet too big"). */
#include <string.h>
#include <sys/socket.h>

#include "ip/ip.h"
#include "sock/sock.h"
#include "util/util.h"

/* Smallest path MTU believed: Linux's ip_rt_min_pmtu; IPv6's minimum link
 * MTU (RFC 8200 5). */
#define PMTU_MIN4 552u
#define PMTU_MIN6 1280u

/*
 * An ICMP error quoting one of our TCP segments (inner: the quoted IP
 * header and at least 8 bytes of TCP) says the path takes at most mtu bytes.
 * The quoted segment must belong to a connection and lie inside its unacked
 * data (RFC 5927 4.1), or the message is ignored.
 */
static void pmtu_update(struct devmem_stack *s, bool v6, const uint8_t *inner, uint32_t len,
			uint32_t mtu, uint64_t now)
{
	struct tcp_ep ep = {.family = v6 ? AF_INET6 : AF_INET};
	uint32_t ihl;

	if (v6) {
		if (len < WIRE_IPV6_LEN + 8 || (inner[0] >> 4) != 6 || inner[6] != WIRE_PROTO_TCP)
			goto bad;
		ihl = WIRE_IPV6_LEN;
		memcpy(ep.laddr, inner + 8, 16);
		memcpy(ep.raddr, inner + 24, 16);
		mtu = DEVMEM_MAX(mtu, PMTU_MIN6);
	} else {
		if (len < WIRE_IPV4_MIN + 8 || (inner[0] >> 4) != 4 || inner[9] != WIRE_PROTO_TCP)
			goto bad;
		ihl = (inner[0] & 0xfu) * 4u;
		if (ihl < WIRE_IPV4_MIN || len < ihl + 8)
			goto bad;
		memcpy(ep.laddr, inner + 12, 4);
		memcpy(ep.raddr, inner + 16, 4);
		mtu = DEVMEM_MAX(mtu, PMTU_MIN4);
	}
	ep.lport = wire_get16(inner + ihl);
	ep.rport = wire_get16(inner + ihl + 2);
	uint32_t seq = wire_get32(inner + ihl + 4);
	struct sock *sk = sock_demux(s, &ep);
	if (!sk || seq_lt(seq, sk->conn.snd_una) || !seq_lt(seq, sk->conn.snd_max)) {
		s->st.ip_unhandled++;
		return;
	}
	s->st.icmp_pmtu++;
	tcp_mtu_reduced(&sk->conn, mtu - ihl, now);
	return;
bad:
	s->st.ip_bad++;
}

void icmp_input(struct devmem_stack *s, struct nic_rxq *q, struct rx_frame *f, uint64_t now)
{
	const uint8_t *msg = f->pkt + f->l4_off;
	uint32_t len = f->pkt_len - f->l4_off;
	bool v6 = f->family == AF_INET6;
	const uint8_t *src = v6 ? f->ip6.src : f->ip4.src;
	const uint8_t *dst = v6 ? f->ip6.dst : f->ip4.dst;
	struct wire_icmp ic;
	uint32_t sum;

	pbuf_release(&f->pb);
	/* ICMP arrives linear: the whole message is in host memory at pkt */
	if (f->split || wire_icmp_parse(msg, len, &ic) < 0 || len > 65535 - 8) {
		s->st.ip_bad++;
		return;
	}
	sum = v6 ? wire_pseudo6(src, dst, WIRE_PROTO_ICMPV6, len) : 0;
	if (!(f->vnet.flags & (WIRE_VNET_F_NEEDS_CSUM | WIRE_VNET_F_DATA_VALID)) &&
	    wire_csum_fold(wire_csum_add(sum, msg, len)) != 0) {
		s->st.ip_bad++;
		return;
	}
	if (!v6 && ic.type == WIRE_ICMP_DEST_UNREACH && ic.code == WIRE_ICMP_FRAG_NEEDED) {
		/* RFC 1191 4: next-hop MTU in the low 16 bits of the second word */
		pmtu_update(s, false, msg + WIRE_ICMP_LEN, len - WIRE_ICMP_LEN, ic.seq, now);
		return;
	}
	if (v6 && ic.type == WIRE_ICMPV6_PKT_TOO_BIG) {
		/* RFC 4443 3.2: the MTU is the 32-bit second word */
		uint32_t mtu = ((uint32_t)ic.id << 16) | ic.seq;
		pmtu_update(s, true, msg + WIRE_ICMP_LEN, len - WIRE_ICMP_LEN, mtu, now);
		return;
	}
	if (ic.type != (v6 ? WIRE_ICMPV6_ECHO_REQUEST : WIRE_ICMP_ECHO_REQUEST) || ic.code != 0) {
		s->st.ip_unhandled++;
		return;
	}
	s->st.icmp_echo++;
	/* reply: same identifier, sequence and data, type changed */
	ic.type = v6 ? WIRE_ICMPV6_ECHO_REPLY : WIRE_ICMP_ECHO_REPLY;
	ic.csum = 0;
	uint8_t hdr[WIRE_ICMP_LEN];
	wire_icmp_emit(&ic, hdr);
	struct iovec pay = {(void *)(msg + WIRE_ICMP_LEN), len - WIRE_ICMP_LEN};
	ip_send_l4(s, q->idx, f->family, dst, src, v6 ? WIRE_PROTO_ICMPV6 : WIRE_PROTO_ICMP, hdr,
		   WIRE_ICMP_LEN, 2, &pay, 1, pay.iov_len, 0);
}
