/* SPDX-License-Identifier: MIT */
/*
 * TCP header (RFC 9293 3.1) and option parsing: MSS (RFC 9293 3.2), window
 * scale and timestamps (RFC 7323 2, 3), SACK (RFC 2018).
 */
#include <string.h>

#include "wire/wire.h"

#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WS 3
#define OPT_SACKOK 4
#define OPT_SACK 5
#define OPT_TS 8

#define WS_MAX 14 /* RFC 7323 2.3 */

static void parse_sack(const uint8_t *p, uint8_t olen, struct wire_tcp_opts *o)
{
	o->nsack = (uint8_t)((olen - 2) / 8);
	for (unsigned i = 0; i < o->nsack; i++) {
		o->sack[i].start = wire_get32(p + 2 + 8 * i);
		o->sack[i].end = wire_get32(p + 6 + 8 * i);
	}
	o->present |= WIRE_OPT_SACK;
}

/* One option of olen bytes (kind and length included) at p. */
static int parse_opt(const uint8_t *p, uint8_t olen, struct wire_tcp_opts *o)
{
	switch (p[0]) {
	case OPT_MSS:
		if (olen != 4)
			return WIRE_EBADOPT;
		o->mss = wire_get16(p + 2);
		o->present |= WIRE_OPT_MSS;
		break;
	case OPT_WS:
		if (olen != 3)
			return WIRE_EBADOPT;
		/* RFC 7323 2.3: log a shift above 14 and use 14. */
		o->wscale = p[2] > WS_MAX ? WS_MAX : p[2];
		o->present |= WIRE_OPT_WSCALE;
		break;
	case OPT_SACKOK:
		if (olen != 2)
			return WIRE_EBADOPT;
		o->present |= WIRE_OPT_SACKOK;
		break;
	case OPT_SACK:
		/* RFC 2018 3: 2 + 8n bytes; 40 bytes of options fit n <= 4. */
		if (olen < 10 || olen > 34 || (olen - 2) % 8)
			return WIRE_EBADOPT;
		parse_sack(p, olen, o);
		break;
	case OPT_TS:
		if (olen != 10)
			return WIRE_EBADOPT;
		o->tsval = wire_get32(p + 2);
		o->tsecr = wire_get32(p + 6);
		o->present |= WIRE_OPT_TS;
		break;
	default:
		break; /* unknown: skipped by its length (RFC 9293 3.2) */
	}
	return 0;
}

/* Options area p[0..len). A repeated option overwrites the earlier one. */
static int parse_opts(const uint8_t *p, size_t len, struct wire_tcp_opts *o)
{
	size_t off = 0;
	uint8_t olen;
	int r;

	memset(o, 0, sizeof(*o));
	while (off < len) {
		if (p[off] == OPT_EOL)
			break;
		if (p[off] == OPT_NOP) {
			off++;
			continue;
		}
		if (len - off < 2)
			return WIRE_EBADOPT; /* no room for the length byte */
		olen = p[off + 1];
		if (olen < 2 || olen > len - off)
			return WIRE_EBADOPT;
		r = parse_opt(p + off, olen, o);
		if (r < 0)
			return r;
		off += olen;
	}
	return 0;
}

int wire_tcp_parse(const uint8_t *buf, size_t len, struct wire_tcp *out)
{
	struct wire_tcp_opts opts;
	size_t hlen;
	int r;

	if (len < WIRE_TCP_MIN)
		return WIRE_ETRUNC;
	hlen = (size_t)(buf[12] >> 4) * 4;
	if (hlen < WIRE_TCP_MIN)
		return WIRE_EBADLEN;
	if (hlen > len)
		return WIRE_ETRUNC;
	r = parse_opts(buf + WIRE_TCP_MIN, hlen - WIRE_TCP_MIN, &opts);
	if (r < 0)
		return r;
	out->opts = opts;
	out->sport = wire_get16(buf);
	out->dport = wire_get16(buf + 2);
	out->seq = wire_get32(buf + 4);
	out->ack = wire_get32(buf + 8);
	out->hdr_len = (uint8_t)hlen;
	out->flags = buf[13];
	out->window = wire_get16(buf + 14);
	out->csum = wire_get16(buf + 16);
	out->urg = wire_get16(buf + 18);
	return (int)hlen;
}
