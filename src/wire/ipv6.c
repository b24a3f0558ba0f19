/* SPDX-License-Identifier: MIT */
/*
 * IPv6 fixed header (RFC 8200 3) and the walk over extension headers
 * (RFC 8200 4) to the upper-layer protocol.
 */
#include <string.h>

#include "wire/wire.h"

#define IPV6_HOPOPTS 0
#define IPV6_ROUTING 43
#define IPV6_FRAGMENT 44
#define IPV6_AH 51
#define IPV6_DSTOPTS 60

/*
 * Length of the extension header at p, which has room bytes left in the
 * payload; 0 when next is not one we skip. Hop-by-hop, routing and
 * destination options count 8-octet units after the first (RFC 8200 4.3,
 * 4.4, 4.6); AH counts 4-octet units minus 2 (RFC 4302 2.2).
 */
static int ext_len(uint8_t next, const uint8_t *p, size_t room)
{
	size_t hlen;

	switch (next) {
	case IPV6_HOPOPTS:
	case IPV6_ROUTING:
	case IPV6_DSTOPTS:
	case IPV6_AH:
		break;
	default:
		return 0;
	}
	if (room < 8) /* the smallest extension header is 8 bytes */
		return WIRE_ETRUNC;
	if (next == IPV6_AH) {
		hlen = ((size_t)p[1] + 2) * 4;
		if (hlen < 12) /* AH has 12 fixed bytes (RFC 4302 2) */
			return WIRE_EBADLEN;
	} else {
		hlen = ((size_t)p[1] + 1) * 8;
	}
	if (hlen > room)
		return WIRE_EBADLEN;
	return (int)hlen;
}

/* Walk the chain from the fixed header; fills proto and hdr_len. */
static int walk_ext(const uint8_t *buf, struct wire_ipv6 *out)
{
	size_t off = WIRE_IPV6_LEN, end = WIRE_IPV6_LEN + out->payload_len;
	uint8_t next = out->next;
	int hlen;

	for (;;) {
		if (next == IPV6_FRAGMENT)
			return WIRE_EFRAG; /* no reassembly */
		/* Hop-by-hop only right after the fixed header (RFC 8200 4.1). */
		if (next == IPV6_HOPOPTS && off != WIRE_IPV6_LEN)
			return WIRE_EUNSUPP;
		hlen = ext_len(next, buf + off, end - off);
		if (hlen < 0)
			return hlen;
		if (hlen == 0)
			break; /* upper layer, no next header (59), ESP or unknown */
		next = buf[off];
		off += (size_t)hlen;
	}
	out->proto = next;
	out->hdr_len = (uint16_t)off;
	return (int)off;
}

int wire_ipv6_parse(const uint8_t *buf, size_t len, struct wire_ipv6 *out)
{
	struct wire_ipv6 ip;
	int r;

	if (len < WIRE_IPV6_LEN)
		return WIRE_ETRUNC;
	if (buf[0] >> 4 != 6)
		return WIRE_EVERSION;
	ip.tclass = (uint8_t)(buf[0] << 4 | buf[1] >> 4);
	ip.flow = wire_get32(buf) & 0xfffffu;
	ip.payload_len = wire_get16(buf + 4);
	ip.next = buf[6];
	ip.hop_limit = buf[7];
	memcpy(ip.src, buf + 8, 16);
	memcpy(ip.dst, buf + 24, 16);
	/* Jumbograms (payload_len 0, RFC 2675) are not supported. */
	if ((size_t)ip.payload_len + WIRE_IPV6_LEN > len)
		return WIRE_ETRUNC;
	r = walk_ext(buf, &ip);
	if (r < 0)
		return r;
	*out = ip;
	return r;
}

size_t wire_ipv6_emit(const struct wire_ipv6 *ip, uint8_t *buf)
{
	wire_put32(buf, 6u << 28 | (uint32_t)ip->tclass << 20 | (ip->flow & 0xfffffu));
	wire_put16(buf + 4, ip->payload_len);
	buf[6] = ip->proto;
	buf[7] = ip->hop_limit;
	memcpy(buf + 8, ip->src, 16);
	memcpy(buf + 24, ip->dst, 16);
	return WIRE_IPV6_LEN;
}
