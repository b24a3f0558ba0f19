/* SPDX-License-Identifier: MIT */
/*
 * Frame builders for the link tests (test_pair.c, test_tun.c): a vnet header
 * and an IPv4 or IPv6 packet around an L4 message, with the checksum either
 * complete or left partial (NEEDS_CSUM, field seeded with the pseudo-header
 * sum, as Linux and virtio do). The checker is a naive RFC 1071 loop of its
 * own, so the tests do not judge the link with the code the link uses.
 */
#ifndef DEVMEM_TEST_LINKUTIL_H
#define DEVMEM_TEST_LINKUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "wire/wire.h"

/* Offset of the checksum field in an L4 header. */
static inline unsigned lu_csum_off(uint8_t proto)
{
	return proto == WIRE_PROTO_TCP ? 16 : proto == WIRE_PROTO_UDP ? 6 : 2;
}

/* Plain one's-complement sum of 16-bit big-endian words, odd byte padded. */
static inline uint32_t lu_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static inline uint16_t lu_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Pseudo-header sum (RFC 9293 3.1 / RFC 8200 8.1), 0 for ICMPv4. */
static inline uint32_t lu_pseudo(bool v6, const uint8_t *src, const uint8_t *dst, uint8_t proto,
				 uint32_t l4len)
{
	unsigned alen = v6 ? 16 : 4;

	if (!v6 && proto == WIRE_PROTO_ICMP)
		return 0;
	return lu_sum(lu_sum(0, src, alen), dst, alen) + proto + (l4len >> 16) + (l4len & 0xffff);
}

/*
 * Build vnet + IP + L4 into f. l4 holds the L4 header and payload with its
 * checksum field as the caller wants it overwritten. Returns the frame
 * length.
 */
static inline size_t lu_build(uint8_t *f, bool v6, const uint8_t *src, const uint8_t *dst,
			      uint8_t proto, const uint8_t *l4, size_t l4len, bool partial)
{
	struct wire_vnet v = {0};
	uint8_t *ip = f + WIRE_VNET_LEN, *p;
	unsigned iphl = v6 ? WIRE_IPV6_LEN : WIRE_IPV4_MIN, co = lu_csum_off(proto);
	uint32_t ps = lu_pseudo(v6, src, dst, proto, (uint32_t)l4len);

	if (v6) {
		struct wire_ipv6 h = {.payload_len = (uint16_t)l4len, .proto = proto,
				      .hop_limit = 64};
		memcpy(h.src, src, 16);
		memcpy(h.dst, dst, 16);
		wire_ipv6_emit(&h, ip);
	} else {
		struct wire_ipv4 h = {.total_len = (uint16_t)(iphl + l4len), .ttl = 64,
				      .proto = proto, .frag = WIRE_IPV4_DF, .id = 1};
		memcpy(h.src, src, 4);
		memcpy(h.dst, dst, 4);
		wire_ipv4_emit(&h, ip);
	}
	p = ip + iphl;
	memcpy(p, l4, l4len);
	if (partial) {
		v.flags = WIRE_VNET_F_NEEDS_CSUM;
		v.csum_start = (uint16_t)iphl;
		v.csum_offset = (uint16_t)co;
		wire_put16(p + co, lu_fold(ps)); /* seed: the pseudo-header sum */
	} else {
		uint16_t c;

		wire_put16(p + co, 0);
		c = (uint16_t)~lu_fold(lu_sum(ps, p, l4len));
		wire_put16(p + co, proto == WIRE_PROTO_UDP && c == 0 ? 0xffff : c);
	}
	wire_vnet_emit(&v, f);
	return WIRE_VNET_LEN + iphl + l4len;
}

/* A UDP message (header + payload) into l4; returns its length. */
static inline size_t lu_udp(uint8_t *l4, uint16_t sport, uint16_t dport, const void *pay,
			    size_t n)
{
	wire_put16(l4, sport);
	wire_put16(l4 + 2, dport);
	wire_put16(l4 + 4, (uint16_t)(8 + n));
	wire_put16(l4 + 6, 0);
	memcpy(l4 + 8, pay, n);
	return 8 + n;
}

/* Independent check of a frame's L4 checksum: true when it sums right. IP
 * header lengths come from the packet itself (no options or extension
 * headers in these tests). */
static inline bool lu_l4_ok(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + WIRE_VNET_LEN;
	bool v6;
	unsigned iphl;
	uint32_t l4len;
	uint8_t proto;

	if (len < WIRE_VNET_LEN + 20)
		return false;
	v6 = ip[0] >> 4 == 6;
	if (v6) {
		iphl = WIRE_IPV6_LEN;
		l4len = wire_get16(ip + 4);
		proto = ip[6];
		if (len < WIRE_VNET_LEN + iphl + l4len)
			return false;
		return lu_fold(lu_sum(lu_pseudo(true, ip + 8, ip + 24, proto, l4len),
				      ip + iphl, l4len)) == 0xffff;
	}
	iphl = (ip[0] & 15u) * 4;
	l4len = wire_get16(ip + 2) - iphl;
	proto = ip[9];
	if (len < WIRE_VNET_LEN + iphl + l4len)
		return false;
	return lu_fold(lu_sum(lu_pseudo(false, ip + 12, ip + 16, proto, l4len), ip + iphl,
			      l4len)) == 0xffff;
}

#endif
