/* SPDX-License-Identifier: MIT */
/* IPv4 and IPv6 input and output for TCP; demux to sockets; RST for closed
 * ports (RFC 9293 3.10.7.1). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl/stack.h"
#include "ip/ip.h"
#include "sock/sock.h"
#include "util/util.h"

bool ip_is_local(const struct devmem_stack *s, const struct rx_frame *f)
{
	if (f->family == AF_INET)
		return s->cfg.ipv4.s_addr && memcmp(f->ip4.dst, &s->cfg.ipv4, 4) == 0;
	static const uint8_t zero[16];
	return memcmp(&s->cfg.ipv6, zero, 16) != 0 && memcmp(f->ip6.dst, &s->cfg.ipv6, 16) == 0;
}

static void frame_ep(const struct rx_frame *f, struct tcp_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = f->family;
	if (f->family == AF_INET) {
		memcpy(ep->laddr, f->ip4.dst, 4);
		memcpy(ep->raddr, f->ip4.src, 4);
	} else {
		memcpy(ep->laddr, f->ip6.dst, 16);
		memcpy(ep->raddr, f->ip6.src, 16);
	}
	ep->lport = f->th.dport;
	ep->rport = f->th.sport;
}

static void tcp_reply_rst(struct devmem_stack *s, unsigned queue, const struct tcp_ep *ep,
			  const struct wire_tcp *in, uint32_t paylen)
{
	struct wire_tcp out;

	if (!tcp_make_rst(in, paylen, &out))
		return;
	s->st.tcp_rst_sent++;
	ip_send_tcp(s, queue, ep, &out, NULL, 0, 0, 0);
}

static void tcp_rcv(struct devmem_stack *s, struct nic_rxq *q, struct rx_frame *f, uint64_t now)
{
	struct tcp_seg seg = {.th = f->th, .len = f->pb.len, .data = NULL};
	struct tcp_ep ep;
	struct sock *sk;

	s->st.tcp_in++;
	if (!f->csum_ok || f->th.sport == 0 || f->th.dport == 0) {
		s->st.tcp_bad++;
		pbuf_release(&f->pb);
		return;
	}
	frame_ep(f, &ep);
	seg.ep = &ep;
	if (f->pb.len) {
		seg.data = stack_seg_alloc(s);
		if (!seg.data) {
			pbuf_release(&f->pb);
			return;
		}
		seg.data->seq = f->th.seq;
		seg.data->pb = f->pb;
		f->pb.nfrags = 0;
		f->pb.len = 0;
	}
	sk = sock_demux(s, &ep);
	if (sk) {
		bool syn = (f->th.flags & WIRE_TCP_SYN) && !(f->th.flags & WIRE_TCP_ACK);
		enum tcp_input_result r = tcp_input(&sk->conn, &seg, now);

		if (r == TCP_IN_RST)
			tcp_reply_rst(s, q->idx, &ep, &f->th, f->pay_len);
		if (r != TCP_IN_REOPEN)
			return;
		/* RFC 6191: a new incarnation replaces the TIME_WAIT one; the
		 * core kept seg.data for the listener */
		sock_unhash(sk);
		if (!syn) {
			if (seg.data)
				stack_seg_free(s, seg.data);
			return;
		}
	}
	sk = sock_listener(s, &ep);
	if (sk && !sk->user_closed) {
		sk->queue = q->idx;
		if (tcp_input(&sk->conn, &seg, now) == TCP_IN_RST)
			tcp_reply_rst(s, q->idx, &ep, &f->th, f->pay_len);
		return;
	}
	s->st.tcp_no_socket++;
	if (seg.data)
		stack_seg_free(s, seg.data);
	tcp_reply_rst(s, q->idx, &ep, &f->th, f->pay_len);
}

void ip_input(struct devmem_stack *s, struct nic_rxq *q, struct rx_frame *f, uint64_t now)
{
	s->st.ip_in++;
	if (!ip_is_local(s, f)) {
		s->st.ip_unhandled++;
		pbuf_release(&f->pb);
		return;
	}
	switch (f->proto) {
	case WIRE_PROTO_TCP:
		if (!f->tcp) {
			s->st.tcp_bad++;
			pbuf_release(&f->pb);
			return;
		}
		tcp_rcv(s, q, f, now);
		return;
	case WIRE_PROTO_ICMP:
		if (f->family == AF_INET) {
			icmp_input(s, q, f, now);
			return;
		}
		break;
	case WIRE_PROTO_ICMPV6:
		if (f->family == AF_INET6) {
			icmp_input(s, q, f, now);
			return;
		}
		break;
	default:
		break;
	}
	s->st.ip_unhandled++;
	pbuf_release(&f->pb);
}

/* Checksum of an L4 segment given as header + payload pieces (host memory). */
static uint16_t l4_csum(uint32_t pseudo, const uint8_t *hdr, uint32_t hlen, const struct iovec *pay,
			int npay)
{
	uint32_t sum = wire_csum_add(pseudo, hdr, hlen);
	/* an odd-length piece may only come last: fold pieces through a carry */
	uint8_t carry[2];
	bool odd = false;

	for (int i = 0; i < npay; i++) {
		const uint8_t *p = pay[i].iov_base;
		size_t n = pay[i].iov_len;

		if (odd && n) {
			carry[1] = p[0];
			sum = wire_csum_add(sum, carry, 2);
			p++, n--;
			odd = false;
		}
		if (n & 1) {
			carry[0] = p[n - 1];
			n--;
			odd = true;
		}
		sum = wire_csum_add(sum, p, n);
	}
	if (odd) {
		carry[1] = 0;
		sum = wire_csum_add(sum, carry, 2);
	}
	return wire_csum_fold(sum);
}

int ip_send_l4(struct devmem_stack *s, unsigned queue, uint8_t family, const uint8_t *src,
	       const uint8_t *dst, uint8_t proto, uint8_t *hdr, uint32_t l4_hlen, uint16_t csum_off,
	       const struct iovec *pay, int npay, uint32_t paylen, uint16_t gso_size)
{
	uint8_t buf[WIRE_IPV6_LEN];
	uint32_t l3, l4len = l4_hlen + paylen, pseudo;
	bool partial = s->link->caps.tx_csum;
	uint8_t gso_type = 0;

	if (family == AF_INET) {
		struct wire_ipv4 ip = {.tos = 0, .total_len = (uint16_t)(WIRE_IPV4_MIN + l4len),
				       .id = s->ip_id++, .frag = WIRE_IPV4_DF, .ttl = 64,
				       .proto = proto};
		if (WIRE_IPV4_MIN + l4len > 65535)
			return -EMSGSIZE;
		memcpy(ip.src, src, 4);
		memcpy(ip.dst, dst, 4);
		l3 = (uint32_t)wire_ipv4_emit(&ip, buf);
		/* ICMPv4 has no pseudo-header (RFC 792) */
		pseudo = proto == WIRE_PROTO_ICMP ? 0 : wire_pseudo4(src, dst, proto, l4len);
		gso_type = WIRE_VNET_GSO_TCPV4;
	} else {
		struct wire_ipv6 ip = {.payload_len = (uint16_t)l4len, .next = proto, .proto = proto,
				       .hop_limit = 64};
		if (l4len > 65535)
			return -EMSGSIZE;
		memcpy(ip.src, src, 16);
		memcpy(ip.dst, dst, 16);
		l3 = (uint32_t)wire_ipv6_emit(&ip, buf);
		pseudo = wire_pseudo6(src, dst, proto, l4len);
		gso_type = WIRE_VNET_GSO_TCPV6;
	}
	/* headers go out as one piece: IP header followed by the L4 header */
	uint8_t frame[WIRE_IPV6_LEN + WIRE_TCP_MAX + 8];
	if (l3 + l4_hlen > sizeof(frame))
		return -EMSGSIZE;
	memcpy(frame, buf, l3);
	memcpy(frame + l3, hdr, l4_hlen);
	uint8_t *csum = frame + l3 + csum_off;
	csum[0] = csum[1] = 0;
	if (partial) {
		/* the link finishes it: store the folded pseudo-header sum */
		wire_put16(csum, (uint16_t)~wire_csum_fold(pseudo));
	} else {
		wire_put16(csum, l4_csum(pseudo, frame + l3, l4_hlen, pay, npay));
	}
	if (!gso_size || proto != WIRE_PROTO_TCP || !s->link->caps.tx_gso)
		gso_size = 0;
	return nic_xmit(&s->nic, queue, frame, l3 + l4_hlen, l3, csum_off, partial, gso_type,
			gso_size, pay, npay);
}

int ip_send_tcp(struct devmem_stack *s, unsigned queue, const struct tcp_ep *ep,
		const struct wire_tcp *th, const struct iovec *pay, int npay, uint32_t paylen,
		uint16_t seg_mss)
{
	uint8_t hdr[WIRE_TCP_MAX];
	uint32_t hlen = (uint32_t)wire_tcp_emit(th, hdr);
	int r;

	/* a payload longer than the connection's MSS is a GSO frame: the
	 * link cuts it into seg_mss pieces */
	r = ip_send_l4(s, queue, ep->family, ep->laddr, ep->raddr, WIRE_PROTO_TCP, hdr, hlen, 16,
		       pay, npay, paylen, seg_mss && paylen > seg_mss ? seg_mss : 0);
	if (r < 0)
		DEVMEM_DBG("tcp tx: %s", strerror(-r));
	return r;
}
