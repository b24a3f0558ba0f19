/* SPDX-License-Identifier: MIT */
/* rst.c: the RST that answers a segment with no connection (RFC 9293 3.10.7.1). */
#include <string.h>

#include "tcp/tcp_int.h"

bool tcp_make_rst(const struct wire_tcp *in, uint32_t paylen, struct wire_tcp *out)
{
	if (in->flags & WIRE_TCP_RST)
		return false; /* never answer a RST */
	memset(out, 0, sizeof(*out));
	out->sport = in->dport;
	out->dport = in->sport;
	if (in->flags & WIRE_TCP_ACK) {
		/* <SEQ=SEG.ACK><CTL=RST> */
		out->seq = in->ack;
		out->flags = WIRE_TCP_RST;
	} else {
		/* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
		out->seq = 0;
		out->ack = in->seq + paylen + ((in->flags & WIRE_TCP_SYN) ? 1 : 0) +
			   ((in->flags & WIRE_TCP_FIN) ? 1 : 0);
		out->flags = WIRE_TCP_RST | WIRE_TCP_ACK;
	}
	out->hdr_len = WIRE_TCP_MIN;
	return true;
}
