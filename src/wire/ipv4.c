/* SPDX-License-Identifier: MIT */
/* IPv4 header (RFC 791 3.1). Options are skipped, never interpreted. */
#include <string.h>

#include "wire/wire.h"

int wire_ipv4_parse(const uint8_t *buf, size_t len, struct wire_ipv4 *out)
{
	size_t hlen, tlen;

	if (len < WIRE_IPV4_MIN)
		return WIRE_ETRUNC;
	if (buf[0] >> 4 != 4)
		return WIRE_EVERSION;
	hlen = (size_t)(buf[0] & 0x0f) * 4;
	if (hlen < WIRE_IPV4_MIN)
		return WIRE_EBADLEN;
	if (hlen > len)
		return WIRE_ETRUNC;
	tlen = wire_get16(buf + 2);
	if (tlen < hlen)
		return WIRE_EBADLEN;
	/* Link padding past total_len is fine; a packet cut short is not. */
	if (tlen > len)
		return WIRE_ETRUNC;
	/* A correct header, checksum included, sums to 0xffff (RFC 1071 1). */
	if (wire_csum_fold(wire_csum_add(0, buf, hlen)) != 0)
		return WIRE_ECSUM;
	out->hdr_len = (uint8_t)hlen;
	out->tos = buf[1];
	out->total_len = (uint16_t)tlen;
	out->id = wire_get16(buf + 4);
	out->frag = wire_get16(buf + 6);
	out->ttl = buf[8];
	out->proto = buf[9];
	memcpy(out->src, buf + 12, 4);
	memcpy(out->dst, buf + 16, 4);
	return (int)hlen;
}

size_t wire_ipv4_emit(const struct wire_ipv4 *ip, uint8_t *buf)
{
	buf[0] = 0x45; /* version 4, IHL 5: no options */
	buf[1] = ip->tos;
	wire_put16(buf + 2, ip->total_len);
	wire_put16(buf + 4, ip->id);
	wire_put16(buf + 6, ip->frag);
	buf[8] = ip->ttl;
	buf[9] = ip->proto;
	wire_put16(buf + 10, 0);
	memcpy(buf + 12, ip->src, 4);
	memcpy(buf + 16, ip->dst, 4);
	wire_put16(buf + 10, wire_csum_fold(wire_csum_add(0, buf, WIRE_IPV4_MIN)));
	return WIRE_IPV4_MIN;
}
