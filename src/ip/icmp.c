/* SPDX-License-Identifier: MIT */
/* ICMP and ICMPv6 echo replies (RFC 792, RFC 4443 4.2). */
#include <string.h>
#include <sys/socket.h>

#include "ip/ip.h"
#include "util/util.h"

void icmp_input(struct devmem_stack *s, struct nic_rxq *q, struct rx_frame *f)
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
