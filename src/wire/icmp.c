/* SPDX-License-Identifier: MIT */
/*
 * ICMP (RFC 792) and ICMPv6 (RFC 4443 2.1) share the first 8 bytes: type,
 * code, checksum, then for echo (RFC 792 p.14, RFC 4443 4.1) id and
 * sequence; other types keep their own data there, which id/seq carry raw.
 */
#include "wire/wire.h"

int wire_icmp_parse(const uint8_t *buf, size_t len, struct wire_icmp *out)
{
	if (len < WIRE_ICMP_LEN)
		return WIRE_ETRUNC;
	out->type = buf[0];
	out->code = buf[1];
	out->csum = wire_get16(buf + 2);
	out->id = wire_get16(buf + 4);
	out->seq = wire_get16(buf + 6);
	return WIRE_ICMP_LEN;
}

size_t wire_icmp_emit(const struct wire_icmp *icmp, uint8_t *buf)
{
	buf[0] = icmp->type;
	buf[1] = icmp->code;
	wire_put16(buf + 2, icmp->csum);
	wire_put16(buf + 4, icmp->id);
	wire_put16(buf + 6, icmp->seq);
	return WIRE_ICMP_LEN;
}

/* The whole message, checksum field included, under the start sum. */
uint16_t wire_icmp_csum(uint32_t sum, const uint8_t *buf, size_t len)
{
	return wire_csum_fold(wire_csum_add(sum, buf, len));
}
