/* SPDX-License-Identifier: MIT */
/*
 * Tier (a): IPv4 and IPv6 codecs against literal bytes (checksums computed
 * offline), lying length fields, truncations and extension header chains.
 */
#include "check.h"
#include "wire/wire.h"

/* IPv4 header of a SYN, 10.0.0.1 -> 10.0.0.2, DF, TTL 64; then 40 bytes TCP. */
static const uint8_t syn4[60] = {
	0x45, 0x00, 0x00, 0x3c,	/* v4, IHL 5, tos 0, total 60 */
	0x1c, 0x46, 0x40, 0x00,	/* id, DF */
	0x40, 0x06, 0x0a, 0x74,	/* ttl 64, TCP, csum */
	0x0a, 0x00, 0x00, 0x01,
	0x0a, 0x00, 0x00, 0x02,
	0xa8, 0xca, 0x14, 0x51, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x00, 0x00, 0x00,
	0xa0, 0x02, 0xfa, 0xf0, 0xcb, 0x3e, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
	0x04, 0x02, 0x08, 0x0a, 0x00, 0x0b, 0x5a, 0x2f, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x03, 0x03, 0x07,
};

/* tos 0xb8 (EF), TTL 255, 192.168.1.1 -> 192.168.1.2, id 0. */
static const uint8_t ef4[20] = {
	0x45, 0xb8, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00,
	0xff, 0x06, 0xf7, 0xaf, 0xc0, 0xa8, 0x01, 0x01,
	0xc0, 0xa8, 0x01, 0x02,
};

/* A non-first fragment: MF set, offset 185 (1480 bytes). */
static const uint8_t frag4[20] = {
	0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x20, 0xb9,
	0x40, 0x06, 0x29, 0xbb, 0x0a, 0x00, 0x00, 0x01,
	0x0a, 0x00, 0x00, 0x02,
};

/* IHL 6: one word of options (NOP, NOP, NOP, EOL), ICMP, no payload. */
static const uint8_t opt4[24] = {
	0x46, 0x00, 0x00, 0x18, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x01, 0x63, 0xe1, 0x0a, 0x00, 0x00, 0x01,
	0x0a, 0x00, 0x00, 0x02, 0x01, 0x01, 0x01, 0x00,
};

/* Parse a copy exactly n bytes long, so ASan sees any read past the end. */
static int parse4_exact(const uint8_t *pkt, size_t n, struct wire_ipv4 *ip)
{
	uint8_t *copy = malloc(n ? n : 1);
	int r;

	memcpy(copy, pkt, n);
	r = wire_ipv4_parse(copy, n, ip);
	free(copy);
	return r;
}

static int parse6_exact(const uint8_t *pkt, size_t n, struct wire_ipv6 *ip)
{
	uint8_t *copy = malloc(n ? n : 1);
	int r;

	memcpy(copy, pkt, n);
	r = wire_ipv6_parse(copy, n, ip);
	free(copy);
	return r;
}

static void test_ipv4_parse(void)
{
	static const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
	static const uint8_t c[4] = { 192, 168, 1, 1 }, d[4] = { 192, 168, 1, 2 };
	struct wire_ipv4 ip;

	memset(&ip, 0xa5, sizeof(ip));
	CHECK_EQ(parse4_exact(syn4, sizeof(syn4), &ip), 20);
	CHECK_EQ(ip.hdr_len, 20);
	CHECK_EQ(ip.tos, 0);
	CHECK_EQ(ip.total_len, 60);
	CHECK_EQ(ip.id, 0x1c46);
	CHECK_EQ(ip.frag, WIRE_IPV4_DF);
	CHECK_EQ(ip.ttl, 64);
	CHECK_EQ(ip.proto, WIRE_PROTO_TCP);
	CHECK_MEM(ip.src, a, 4);
	CHECK_MEM(ip.dst, b, 4);

	uint8_t buf[60] = { 0 };
	memcpy(buf, ef4, sizeof(ef4));
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), 20);
	CHECK_EQ(ip.tos, 0xb8);
	CHECK_EQ(ip.ttl, 255);
	CHECK_EQ(ip.id, 0);
	CHECK_MEM(ip.src, c, 4);
	CHECK_MEM(ip.dst, d, 4);

	memset(buf, 0, sizeof(buf));
	memcpy(buf, frag4, sizeof(frag4));
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), 20);
	CHECK_EQ(ip.frag, WIRE_IPV4_MF | 185);
	CHECK_EQ(ip.frag & WIRE_IPV4_OFFMASK, 185);

	CHECK_EQ(parse4_exact(opt4, sizeof(opt4), &ip), 24);
	CHECK_EQ(ip.hdr_len, 24);
	CHECK_EQ(ip.total_len, 24);
	CHECK_EQ(ip.proto, WIRE_PROTO_ICMP);
}

static void test_ipv4_padding(void)
{
	uint8_t buf[80];
	struct wire_ipv4 ip;

	/* Ethernet pads short frames: bytes past total_len are fine. */
	memset(buf, 0xcc, sizeof(buf));
	memcpy(buf, syn4, sizeof(syn4));
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), 20);
	CHECK_EQ(ip.total_len, 60);
}

static void test_ipv4_truncated(void)
{
	struct wire_ipv4 ip;

	for (size_t n = 0; n < sizeof(syn4); n++)
		CHECK_EQ(parse4_exact(syn4, n, &ip), WIRE_ETRUNC);
	for (size_t n = 0; n < sizeof(opt4); n++)
		CHECK_EQ(parse4_exact(opt4, n, &ip), WIRE_ETRUNC);
}

static void test_ipv4_lies(void)
{
	uint8_t buf[60];
	struct wire_ipv4 ip;

	memcpy(buf, syn4, sizeof(buf));
	buf[0] = 0x44; /* IHL 4 */
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), WIRE_EBADLEN);
	buf[0] = 0x40; /* IHL 0 */
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), WIRE_EBADLEN);
	buf[0] = 0x65; /* version 6 */
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), WIRE_EVERSION);
	buf[0] = 0x05; /* version 0 */
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), WIRE_EVERSION);

	memcpy(buf, syn4, sizeof(buf));
	buf[3] = 61; /* total_len one past the buffer */
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), WIRE_ETRUNC);
	buf[2] = 0xff;
	buf[3] = 0xff;
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), WIRE_ETRUNC);
	buf[2] = 0;
	buf[3] = 19; /* total_len shorter than the header */
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), WIRE_EBADLEN);
	buf[3] = 0;
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), WIRE_EBADLEN);

	/* IHL 15 (60 bytes) in a 24-byte packet */
	memcpy(buf, opt4, sizeof(opt4));
	buf[0] = 0x4f;
	CHECK_EQ(parse4_exact(buf, sizeof(opt4), &ip), WIRE_ETRUNC);
	/* IHL 6 -> 7 inside a 60-byte buffer: total_len 24 < 28 */
	buf[0] = 0x47;
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), WIRE_EBADLEN);
}

static void test_ipv4_csum(void)
{
	uint8_t buf[60];
	struct wire_ipv4 ip;

	memcpy(buf, syn4, sizeof(buf));
	buf[8] = 63; /* TTL changed, checksum not updated */
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), WIRE_ECSUM);
	memcpy(buf, syn4, sizeof(buf));
	buf[11] ^= 0x80;
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), WIRE_ECSUM);
	/* the checksum covers the options too */
	memcpy(buf, opt4, sizeof(opt4));
	buf[22] = 0x07;
	CHECK_EQ(parse4_exact(buf, sizeof(opt4), &ip), WIRE_ECSUM);
	/* the payload is not covered */
	memcpy(buf, syn4, sizeof(buf));
	buf[59] ^= 0xff;
	CHECK_EQ(parse4_exact(buf, sizeof(buf), &ip), 20);
}

static void test_ipv4_emit(void)
{
	struct wire_ipv4 ip = {
		.hdr_len = 44, /* ignored: no options are written */
		.total_len = 60, .id = 0x1c46, .frag = WIRE_IPV4_DF, .ttl = 64,
		.proto = WIRE_PROTO_TCP, .src = { 10, 0, 0, 1 }, .dst = { 10, 0, 0, 2 },
	};
	struct wire_ipv4 p;
	uint8_t buf[64];

	memset(buf, 0xee, sizeof(buf));
	CHECK_EQ(wire_ipv4_emit(&ip, buf), 20);
	CHECK_MEM(buf, syn4, 20);
	CHECK_EQ(buf[20], 0xee);

	ip = (struct wire_ipv4){
		.tos = 0xb8, .total_len = 60, .frag = WIRE_IPV4_DF, .ttl = 255,
		.proto = WIRE_PROTO_TCP, .src = { 192, 168, 1, 1 },
		.dst = { 192, 168, 1, 2 },
	};
	CHECK_EQ(wire_ipv4_emit(&ip, buf), 20);
	CHECK_MEM(buf, ef4, 20);

	ip.frag = WIRE_IPV4_MF | 185;
	ip.id = 0x1c46;
	ip.tos = 0;
	ip.ttl = 64;
	memcpy(ip.src, frag4 + 12, 4);
	memcpy(ip.dst, frag4 + 16, 4);
	CHECK_EQ(wire_ipv4_emit(&ip, buf), 20);
	CHECK_MEM(buf, frag4, 20);
	CHECK_EQ(wire_ipv4_parse(buf, 60, &p), 20);
	CHECK_EQ(p.frag, ip.frag);
}

/* ---- IPv6 ------------------------------------------------------------- */

#define V6_ADDRS                                                        \
	0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,           \
	0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02

/* A SYN over IPv6: tclass 0xb8, flow 0x12345, fd00::1 -> fd00::2. */
static const uint8_t syn6[80] = {
	0x6b, 0x81, 0x23, 0x45,	/* v6, tclass 0xb8, flow 0x12345 */
	0x00, 0x28, 0x06, 0x40,	/* payload 40, TCP, hop limit 64 */
	V6_ADDRS,
	0xa8, 0xca, 0x14, 0x51, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x00, 0x00, 0x00,
	0xa0, 0x02, 0xfa, 0xf0, 0xe5, 0x3c, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
	0x04, 0x02, 0x08, 0x0a, 0x00, 0x0b, 0x5a, 0x2f, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x03, 0x03, 0x07,
};

/* Hop-by-hop (8) -> destination options (16) -> TCP (20). */
static const uint8_t chain6[84] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x40,	/* payload 44, HBH */
	V6_ADDRS,
	0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,	/* -> dstopts, PadN 4 */
	0x06, 0x01, 0x01, 0x0c, 0x00, 0x00, 0x00, 0x00,	/* -> TCP, 16 bytes */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xa8, 0xca, 0x14, 0x51, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0x01, 0x00,
	0, 0, 0, 0,
};

/* Routing (8) -> AH (24) -> TCP (20). */
static const uint8_t rh_ah6[92] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x34, 0x2b, 0x40,	/* payload 52, routing */
	V6_ADDRS,
	0x33, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,	/* -> AH, type 4, left 0 */
	0x06, 0x04, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,	/* -> TCP, (4+2)*4, SPI */
	0x00, 0x00, 0x00, 0x01, 0xa1, 0xa2, 0xa3, 0xa4,	/* seq, ICV ... */
	0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac,
	0xa8, 0xca, 0x14, 0x51, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0x01, 0x00,
	0, 0, 0, 0,
};

/* Hop-by-hop -> fragment -> TCP. */
static const uint8_t frag6[76] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x40,	/* payload 36 */
	V6_ADDRS,
	0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,	/* -> fragment */
	0x06, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78,	/* offset 0, M */
	0xa8, 0xca, 0x14, 0x51, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0x01, 0x00,
	0, 0, 0, 0,
};

static void test_ipv6_parse(void)
{
	static const uint8_t a[16] = { 0xfd, [15] = 1 }, b[16] = { 0xfd, [15] = 2 };
	struct wire_ipv6 ip;

	memset(&ip, 0xa5, sizeof(ip));
	CHECK_EQ(parse6_exact(syn6, sizeof(syn6), &ip), 40);
	CHECK_EQ(ip.tclass, 0xb8);
	CHECK_EQ(ip.flow, 0x12345);
	CHECK_EQ(ip.payload_len, 40);
	CHECK_EQ(ip.next, WIRE_PROTO_TCP);
	CHECK_EQ(ip.hop_limit, 64);
	CHECK_MEM(ip.src, a, 16);
	CHECK_MEM(ip.dst, b, 16);
	CHECK_EQ(ip.proto, WIRE_PROTO_TCP);
	CHECK_EQ(ip.hdr_len, 40);

	/* checksum of the TCP segment over the IPv6 pseudo-header */
	uint32_t sum = wire_pseudo6(ip.src, ip.dst, WIRE_PROTO_TCP, 40);
	CHECK_EQ(wire_csum_fold(wire_csum_add(sum, syn6 + 40, 40)), 0);
}

static void test_ipv6_ext(void)
{
	struct wire_ipv6 ip;

	CHECK_EQ(parse6_exact(chain6, sizeof(chain6), &ip), 64);
	CHECK_EQ(ip.next, 0);
	CHECK_EQ(ip.proto, WIRE_PROTO_TCP);
	CHECK_EQ(ip.hdr_len, 64);
	CHECK_EQ(ip.payload_len, 44);

	CHECK_EQ(parse6_exact(rh_ah6, sizeof(rh_ah6), &ip), 72);
	CHECK_EQ(ip.next, 43);
	CHECK_EQ(ip.proto, WIRE_PROTO_TCP);
	CHECK_EQ(ip.hdr_len, 72);

	CHECK_EQ(parse6_exact(frag6, sizeof(frag6), &ip), WIRE_EFRAG);
	uint8_t buf[76];
	memcpy(buf, frag6, sizeof(buf));
	buf[6] = 44; /* fragment header first */
	CHECK_EQ(parse6_exact(buf, sizeof(buf), &ip), WIRE_EFRAG);
}

/* Chains that end early: no next header (59), ESP (50), unknown values. */
static void test_ipv6_stop(void)
{
	uint8_t buf[84];
	struct wire_ipv6 ip;

	memcpy(buf, syn6, sizeof(syn6));
	buf[6] = 59;
	CHECK_EQ(parse6_exact(buf, sizeof(syn6), &ip), 40);
	CHECK_EQ(ip.proto, 59);
	buf[6] = 50;
	CHECK_EQ(parse6_exact(buf, sizeof(syn6), &ip), 40);
	CHECK_EQ(ip.proto, 50);
	buf[6] = WIRE_PROTO_UDP;
	CHECK_EQ(parse6_exact(buf, sizeof(syn6), &ip), 40);
	CHECK_EQ(ip.proto, WIRE_PROTO_UDP);

	/* after the hop-by-hop header */
	memcpy(buf, chain6, sizeof(chain6));
	buf[40] = 253;
	CHECK_EQ(parse6_exact(buf, sizeof(chain6), &ip), 48);
	CHECK_EQ(ip.proto, 253);
	CHECK_EQ(ip.hdr_len, 48);
	buf[40] = 59;
	CHECK_EQ(parse6_exact(buf, sizeof(chain6), &ip), 48);
	CHECK_EQ(ip.proto, 59);
	/* after destination options */
	memcpy(buf, chain6, sizeof(chain6));
	buf[48] = WIRE_PROTO_ICMPV6;
	CHECK_EQ(parse6_exact(buf, sizeof(chain6), &ip), 64);
	CHECK_EQ(ip.proto, WIRE_PROTO_ICMPV6);

	/* no payload at all */
	memcpy(buf, syn6, 40);
	buf[4] = 0;
	buf[5] = 0;
	buf[6] = 59;
	CHECK_EQ(parse6_exact(buf, 40, &ip), 40);
	CHECK_EQ(ip.payload_len, 0);
}

static void test_ipv6_lies(void)
{
	uint8_t buf[92];
	struct wire_ipv6 ip;

	memcpy(buf, syn6, sizeof(syn6));
	buf[0] = 0x4b;
	CHECK_EQ(parse6_exact(buf, sizeof(syn6), &ip), WIRE_EVERSION);
	memcpy(buf, syn6, sizeof(syn6));
	buf[5] = 41; /* payload one past the buffer */
	CHECK_EQ(parse6_exact(buf, sizeof(syn6), &ip), WIRE_ETRUNC);
	buf[4] = 0xff;
	CHECK_EQ(parse6_exact(buf, sizeof(syn6), &ip), WIRE_ETRUNC);
	/* trailing bytes past payload_len are allowed */
	memcpy(buf, syn6, sizeof(syn6));
	CHECK_EQ(parse6_exact(buf, sizeof(buf), &ip), 40);

	/* hop-by-hop says 16 bytes, the payload holds 8 */
	memcpy(buf, chain6, sizeof(chain6));
	buf[5] = 8;
	buf[41] = 1;
	CHECK_EQ(parse6_exact(buf, sizeof(chain6), &ip), WIRE_EBADLEN);
	/* payload too short for the header it names */
	buf[5] = 4;
	CHECK_EQ(parse6_exact(buf, sizeof(chain6), &ip), WIRE_ETRUNC);
	buf[5] = 0;
	CHECK_EQ(parse6_exact(buf, sizeof(chain6), &ip), WIRE_ETRUNC);
	/* destination options run past the payload: 8 + 16 > 8 + 15 */
	memcpy(buf, chain6, sizeof(chain6));
	buf[5] = 23;
	CHECK_EQ(parse6_exact(buf, sizeof(chain6), &ip), WIRE_EBADLEN);
	buf[5] = 24; /* exactly fits: TCP gets no bytes, not our business */
	CHECK_EQ(parse6_exact(buf, sizeof(chain6), &ip), 64);
	/* destination options length 255: 2048 bytes */
	memcpy(buf, chain6, sizeof(chain6));
	buf[49] = 0xff;
	CHECK_EQ(parse6_exact(buf, sizeof(chain6), &ip), WIRE_EBADLEN);

	/* AH length 0 (8 bytes) is below its 12-byte minimum */
	memcpy(buf, rh_ah6, sizeof(rh_ah6));
	buf[49] = 0;
	CHECK_EQ(parse6_exact(buf, sizeof(rh_ah6), &ip), WIRE_EBADLEN);
	/* AH length 5 (28 bytes) runs into the TCP header: still within payload */
	buf[49] = 5;
	CHECK_EQ(parse6_exact(buf, sizeof(rh_ah6), &ip), 76);
	/* AH length 10 (48 bytes) past the payload */
	buf[49] = 10;
	CHECK_EQ(parse6_exact(buf, sizeof(rh_ah6), &ip), WIRE_EBADLEN);

	/* hop-by-hop anywhere but first is invalid (RFC 8200 4.1) */
	memcpy(buf, chain6, sizeof(chain6));
	buf[48] = 0;
	CHECK_EQ(parse6_exact(buf, sizeof(chain6), &ip), WIRE_EUNSUPP);
}

static void test_ipv6_truncated(void)
{
	struct wire_ipv6 ip;

	for (size_t n = 0; n < sizeof(syn6); n++)
		CHECK_EQ(parse6_exact(syn6, n, &ip), WIRE_ETRUNC);
	for (size_t n = 0; n < sizeof(chain6); n++)
		CHECK_EQ(parse6_exact(chain6, n, &ip), WIRE_ETRUNC);
	for (size_t n = 0; n < sizeof(rh_ah6); n++)
		CHECK_EQ(parse6_exact(rh_ah6, n, &ip), WIRE_ETRUNC);
}

static void test_ipv6_emit(void)
{
	struct wire_ipv6 ip = {
		.tclass = 0xb8, .flow = 0x12345, .payload_len = 40,
		.next = 0, /* ignored: emit writes proto */
		.proto = WIRE_PROTO_TCP, .hop_limit = 64,
		.src = { 0xfd, [15] = 1 }, .dst = { 0xfd, [15] = 2 },
	};
	struct wire_ipv6 p;
	uint8_t buf[80];

	memset(buf, 0xee, sizeof(buf));
	CHECK_EQ(wire_ipv6_emit(&ip, buf), 40);
	CHECK_MEM(buf, syn6, 40);
	CHECK_EQ(buf[40], 0xee);

	/* flow bits above 20 do not leak into the traffic class */
	ip.flow = 0xfff12345;
	CHECK_EQ(wire_ipv6_emit(&ip, buf), 40);
	CHECK_MEM(buf, syn6, 40);

	/* round trip */
	memcpy(buf + 40, syn6 + 40, 40);
	CHECK_EQ(wire_ipv6_parse(buf, sizeof(buf), &p), 40);
	CHECK_EQ(p.tclass, 0xb8);
	CHECK_EQ(p.flow, 0x12345);
	CHECK_EQ(p.proto, WIRE_PROTO_TCP);
}

/*
 * Random byte flips of the literal packets, parsed from exact-size copies:
 * never a crash or an out-of-bounds read (ASan), and a success is sane.
 */
static void test_fuzz(void)
{
	const uint8_t *pkts[] = { syn6, chain6, rh_ah6, frag6, syn4, opt4 };
	const size_t lens[] = { sizeof(syn6), sizeof(chain6), sizeof(rh_ah6),
				sizeof(frag6), sizeof(syn4), sizeof(opt4) };
	uint32_t x = 4242;
	int bad = 0;

	for (int i = 0; i < 30000; i++) {
		size_t k = (size_t)i % 6, n = lens[k];
		uint8_t *buf = malloc(n);
		struct wire_ipv6 ip6;
		struct wire_ipv4 ip4;
		int r;

		memcpy(buf, pkts[k], n);
		for (int f = 0; f < 2; f++) {
			x = x * 1103515245u + 12345u;
			buf[(x >> 8) % n] ^= (uint8_t)(x >> 20 | 1);
		}
		/* half of the rounds also cut the packet short */
		if (i & 8)
			n -= (size_t)(x >> 3) % n;
		r = wire_ipv6_parse(buf, n, &ip6);
		if (r > 0 && ((size_t)r > n || r != ip6.hdr_len ||
			      r > WIRE_IPV6_LEN + ip6.payload_len))
			bad++;
		r = wire_ipv4_parse(buf, n, &ip4);
		if (r > 0 && ((size_t)r > n || r != ip4.hdr_len ||
			      ip4.total_len > n || ip4.total_len < r))
			bad++;
		free(buf);
	}
	CHECK_EQ(bad, 0);
}

int main(void)
{
	RUN(test_ipv4_parse);
	RUN(test_ipv4_padding);
	RUN(test_ipv4_truncated);
	RUN(test_ipv4_lies);
	RUN(test_ipv4_csum);
	RUN(test_ipv4_emit);
	RUN(test_ipv6_parse);
	RUN(test_ipv6_ext);
	RUN(test_ipv6_stop);
	RUN(test_ipv6_lies);
	RUN(test_ipv6_truncated);
	RUN(test_ipv6_emit);
	RUN(test_fuzz);
	return CHECK_DONE();
}
