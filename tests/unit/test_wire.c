/* SPDX-License-Identifier: MIT */
/*
 * Tier (a): checksums, virtio-net header, ICMP and error names. Expected
 * values are literals (from the RFCs or computed offline), plus a naive
 * word-at-a-time checksum as a second opinion over many lengths and
 * alignments.
 */
#include "check.h"
#include "wire/wire.h"

/* RFC 1071 section 3, the numerical example. */
static const uint8_t rfc1071[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

/* The usual textbook IPv4 header (UDP, 192.168.0.1 -> 192.168.0.199). */
static const uint8_t ip_b861[20] = {
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

/* RFC 1071 word by word: the slow, obvious way. */
static uint16_t naive_csum(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = sum;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

static void test_csum_known(void)
{
	uint8_t hdr[20];

	/* RFC 1071 3: the sum is ddf2, so the checksum is its complement */
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, rfc1071, 8)), 0x220d);
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, rfc1071, 8)), (uint16_t)~0xddf2);

	memcpy(hdr, ip_b861, sizeof(hdr));
	hdr[10] = 0;
	hdr[11] = 0;
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, hdr, 20)), 0xb861);
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, ip_b861, 20)), 0);

	/* empty and all-zero data: checksum 0xffff */
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, hdr, 0)), 0xffff);
	CHECK_EQ(wire_csum_fold(0), 0xffff);
	/* a single odd byte is the high half of a word (RFC 1071 4.1) */
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, "\x12", 1)), (uint16_t)~0x1200);
	/* folding carries: 0x0001ffff -> 0x0001 + 0xffff -> 0x0001 */
	CHECK_EQ(wire_csum_fold(0x0001ffff), 0xfffe);
	CHECK_EQ(wire_csum_fold(0xffffffff), 0x0000);
	/* a starting sum near the top of 32 bits keeps its carry */
	CHECK_EQ(wire_csum_fold(wire_csum_add(0xfffffffe, "\x00\x02", 2)), 0xfffe);
}

/* 64 KiB frames: the size the pair link carries. */
static void test_csum_big(void)
{
	enum { N = 65536 + 16 };
	uint8_t *buf = malloc(N);

	for (size_t i = 0; i < N; i++)
		buf[i] = (uint8_t)i;
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, buf, 65536)), 0xc03f);
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, buf + 1, 65535)), 0x3fc0);
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, buf + 3, 65533)), 0x40c2);
	/* all ones: every addition carries */
	memset(buf, 0xff, N);
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, buf, 65536)), 0x0000);
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, buf + 1, 65535)), 0x00ff);
	free(buf);
}

/* Every length 0..300 at every alignment 0..7, against the naive sum. */
static void test_csum_align(void)
{
	uint8_t buf[320];
	int bad = 0;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rng();
	for (size_t off = 0; off < 8; off++) {
		for (size_t len = 0; len <= 300; len++) {
			uint32_t start = rng() & 0xfffff;

			if (wire_csum_fold(wire_csum_add(start, buf + off, len)) !=
			    naive_csum(start, buf + off, len))
				bad++;
		}
	}
	CHECK_EQ(bad, 0);
}

/* Even-length chunks then an odd tail sum the same as one pass. */
static void test_csum_chunks(void)
{
	uint8_t buf[2001];
	int bad = 0;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rng();
	for (int round = 0; round < 200; round++) {
		size_t off = 0, len = sizeof(buf) - (size_t)(round & 1);
		uint32_t sum = 0;

		while (len - off > 1) {
			size_t n = (rng() % 64) * 2; /* even, may be 0 */

			if (n > len - off)
				n = (len - off) & ~(size_t)1;
			sum = wire_csum_add(sum, buf + off, n);
			off += n;
		}
		sum = wire_csum_add(sum, buf + off, len - off);
		if (wire_csum_fold(sum) != naive_csum(0, buf, len))
			bad++;
	}
	CHECK_EQ(bad, 0);
}

static void test_pseudo(void)
{
	static const uint8_t a4[4] = { 10, 0, 0, 1 }, b4[4] = { 10, 0, 0, 2 };
	static const uint8_t a6[16] = { 0xfd, [15] = 1 }, b6[16] = { 0xfd, [15] = 2 };

	/* 0a00 + 0001 + 0a00 + 0002 + 0006 + 0028 = 1431 */
	CHECK_EQ(wire_csum_fold(wire_pseudo4(a4, b4, WIRE_PROTO_TCP, 40)), 0xebce);
	/* fd00 * 2 + 1 + 2 + 003a + 0001 (length 0x10000) = 1fa3e -> fa3f */
	CHECK_EQ(wire_csum_fold(wire_pseudo6(a6, b6, WIRE_PROTO_ICMPV6, 0x10000)), 0x05c0);
	/* order of the addresses does not matter, the protocol does */
	CHECK_EQ(wire_csum_fold(wire_pseudo6(b6, a6, WIRE_PROTO_ICMPV6, 0x10000)), 0x05c0);
	CHECK(wire_csum_fold(wire_pseudo6(a6, b6, WIRE_PROTO_TCP, 0x10000)) != 0x05c0);
}

/* ---- virtio-net --------------------------------------------------------- */

static const uint8_t vnet_tso4[10] = { 0x01, 0x01, 0x42, 0x00, 0xa8, 0x05,
				       0x22, 0x00, 0x10, 0x00 };
static const uint8_t vnet_tso6[10] = { 0x02, 0x84, 0x34, 0x12, 0xc4, 0xff,
				       0x36, 0x00, 0x10, 0x00 };

static void test_vnet(void)
{
	struct wire_vnet v;
	uint8_t buf[12];

	CHECK_EQ(wire_vnet_parse(vnet_tso4, sizeof(vnet_tso4), &v), 10);
	CHECK_EQ(v.flags, WIRE_VNET_F_NEEDS_CSUM);
	CHECK_EQ(v.gso_type, WIRE_VNET_GSO_TCPV4);
	CHECK_EQ(v.hdr_len, 66);
	CHECK_EQ(v.gso_size, 1448);
	CHECK_EQ(v.csum_start, 34);
	CHECK_EQ(v.csum_offset, 16);

	CHECK_EQ(wire_vnet_parse(vnet_tso6, sizeof(vnet_tso6), &v), 10);
	CHECK_EQ(v.flags, WIRE_VNET_F_DATA_VALID);
	CHECK_EQ(v.gso_type, WIRE_VNET_GSO_TCPV6 | WIRE_VNET_GSO_ECN);
	CHECK_EQ(v.hdr_len, 0x1234);
	CHECK_EQ(v.gso_size, 0xffc4);
	CHECK_EQ(v.csum_start, 54);

	struct wire_vnet e = { .flags = WIRE_VNET_F_NEEDS_CSUM,
			       .gso_type = WIRE_VNET_GSO_TCPV4, .hdr_len = 66,
			       .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
	memset(buf, 0xee, sizeof(buf));
	CHECK_EQ(wire_vnet_emit(&e, buf), WIRE_VNET_LEN);
	CHECK_MEM(buf, vnet_tso4, 10);
	CHECK_EQ(buf[10], 0xee);
	CHECK_EQ(wire_vnet_emit(&v, buf), WIRE_VNET_LEN);
	CHECK_MEM(buf, vnet_tso6, 10);

	for (size_t n = 0; n < WIRE_VNET_LEN; n++)
		CHECK_EQ(wire_vnet_parse(vnet_tso4, n, &v), WIRE_ETRUNC);
}

/* ---- ICMP --------------------------------------------------------------- */

/* ping: echo request id 0x1234 seq 1, 16 bytes of data. */
static const uint8_t echo4[24] = {
	0x08, 0x00, 0xa2, 0x7f, 0x12, 0x34, 0x00, 0x01,
	'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p',
};
/* ping6 fd00::1 -> fd00::2: checksum covers the pseudo-header. */
static const uint8_t echo6[16] = {
	0x80, 0x00, 0xe1, 0xe5, 0x12, 0x34, 0x00, 0x01,
	'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
};
/* fragmentation needed, next-hop MTU 1500 (RFC 1191) */
static const uint8_t unreach4[8] = { 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc };

static void test_icmp(void)
{
	static const uint8_t a6[16] = { 0xfd, [15] = 1 }, b6[16] = { 0xfd, [15] = 2 };
	struct wire_icmp ic;
	uint8_t buf[24];

	CHECK_EQ(wire_icmp_parse(echo4, sizeof(echo4), &ic), 8);
	CHECK_EQ(ic.type, WIRE_ICMP_ECHO_REQUEST);
	CHECK_EQ(ic.code, 0);
	CHECK_EQ(ic.csum, 0xa27f);
	CHECK_EQ(ic.id, 0x1234);
	CHECK_EQ(ic.seq, 1);
	CHECK_EQ(wire_icmp_csum(0, echo4, sizeof(echo4)), 0);

	/* the reply: emit with csum 0, fill it in, compare */
	memcpy(buf, echo4, sizeof(buf));
	ic.type = WIRE_ICMP_ECHO_REPLY;
	ic.csum = 0;
	CHECK_EQ(wire_icmp_emit(&ic, buf), 8);
	ic.csum = wire_icmp_csum(0, buf, sizeof(buf));
	CHECK_EQ(ic.csum, 0xaa7f); /* type 8 -> 0 adds 0x0800 to the checksum */
	wire_icmp_emit(&ic, buf);
	CHECK_EQ(wire_icmp_csum(0, buf, sizeof(buf)), 0);
	ic.type = WIRE_ICMP_ECHO_REQUEST;
	ic.csum = 0xa27f;
	wire_icmp_emit(&ic, buf);
	CHECK_MEM(buf, echo4, sizeof(echo4));

	CHECK_EQ(wire_icmp_parse(echo6, sizeof(echo6), &ic), 8);
	CHECK_EQ(ic.type, WIRE_ICMPV6_ECHO_REQUEST);
	CHECK_EQ(ic.csum, 0xe1e5);
	CHECK_EQ(wire_icmp_csum(wire_pseudo6(a6, b6, WIRE_PROTO_ICMPV6, 16), echo6, 16), 0);
	CHECK(wire_icmp_csum(0, echo6, 16) != 0); /* without pseudo-header: wrong */

	CHECK_EQ(wire_icmp_parse(unreach4, sizeof(unreach4), &ic), 8);
	CHECK_EQ(ic.type, WIRE_ICMP_DEST_UNREACH);
	CHECK_EQ(ic.code, 4);
	CHECK_EQ(ic.seq, 1500);

	for (size_t n = 0; n < WIRE_ICMP_LEN; n++)
		CHECK_EQ(wire_icmp_parse(echo4, n, &ic), WIRE_ETRUNC);
}

static void test_strerror(void)
{
	static const int codes[] = { WIRE_ETRUNC, WIRE_EVERSION, WIRE_EBADLEN, WIRE_ECSUM,
				     WIRE_EBADOPT, WIRE_EFRAG, WIRE_EUNSUPP };
	const char *unknown = wire_strerror(-1000);
	size_t n = sizeof(codes) / sizeof(codes[0]);

	CHECK(unknown != NULL);
	for (size_t i = 0; i < n; i++) {
		const char *s = wire_strerror(codes[i]);

		CHECK(s != NULL && s[0] != '\0');
		CHECK(strcmp(s, unknown) != 0);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(s, wire_strerror(codes[j])) != 0);
	}
}

int main(void)
{
	RUN(test_csum_known);
	RUN(test_csum_big);
	RUN(test_csum_align);
	RUN(test_csum_chunks);
	RUN(test_pseudo);
	RUN(test_vnet);
	RUN(test_icmp);
	RUN(test_strerror);
	return CHECK_DONE();
}
