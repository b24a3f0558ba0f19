/* SPDX-License-Identifier: MIT */
/*
 * Tier (a): TCP header and option codecs against literal bytes. Expected
 * bytes are written out by hand (checksums computed offline), never
 * produced by the emitter under test.
 */
#include "check.h"
#include "util/util.h"
#include "wire/wire.h"

/*
 * A Linux SYN, 10.0.0.1:43210 -> 10.0.0.2:5201: MSS 1460, SACK-permitted +
 * timestamps (tsval 0x000b5a2f), NOP, window scale 7. Checksum 0xcb3e.
 */
static const uint8_t syn[40] = {
	0xa8, 0xca, 0x14, 0x51,	/* ports */
	0x1a, 0x2b, 0x3c, 0x4d,	/* seq */
	0x00, 0x00, 0x00, 0x00,	/* ack */
	0xa0, 0x02, 0xfa, 0xf0,	/* doff 10, SYN, window 64240 */
	0xcb, 0x3e, 0x00, 0x00,	/* csum, urg */
	0x02, 0x04, 0x05, 0xb4,	/* MSS 1460 */
	0x04, 0x02, 0x08, 0x0a,	/* SACK-permitted, TS */
	0x00, 0x0b, 0x5a, 0x2f,
	0x00, 0x00, 0x00, 0x00,
	0x01, 0x03, 0x03, 0x07,	/* NOP, WS 7 */
};
static const uint8_t ip_src[4] = { 10, 0, 0, 1 };
static const uint8_t ip_dst[4] = { 10, 0, 0, 2 };

/* The SYN-ACK answering it. Checksum 0x3e45 (10.0.0.2 -> 10.0.0.1). */
static const uint8_t synack[40] = {
	0x14, 0x51, 0xa8, 0xca,
	0x5e, 0x6f, 0x70, 0x81,
	0x1a, 0x2b, 0x3c, 0x4e,
	0xa0, 0x12, 0xfe, 0x88,	/* SYN|ACK, window 65160 */
	0x3e, 0x45, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4,
	0x04, 0x02, 0x08, 0x0a,
	0x9c, 0x3d, 0x1e, 0x22,
	0x00, 0x0b, 0x5a, 0x2f,
	0x01, 0x03, 0x03, 0x07,
};

/* SYN with timestamps but no SACK-permitted: MSS, NOP,NOP,TS, NOP,WS. */
static const uint8_t syn_ts_opts[20] = {
	0x02, 0x04, 0x23, 0x28,	/* MSS 9000 */
	0x01, 0x01, 0x08, 0x0a,
	0x11, 0x22, 0x33, 0x44,
	0x00, 0x00, 0x00, 0x00,
	0x01, 0x03, 0x03, 0x0e,	/* WS 14 */
};

/* SYN with SACK-permitted but no timestamps: MSS, NOP,NOP,SACKOK, NOP,WS. */
static const uint8_t syn_sackok_opts[12] = {
	0x02, 0x04, 0x05, 0xb4,
	0x01, 0x01, 0x04, 0x02,
	0x01, 0x03, 0x03, 0x00,	/* WS 0 */
};

/* An ACK with timestamps and three SACK blocks: 60 bytes, the maximum. */
static const uint8_t ack_sack3[60] = {
	0x14, 0x51, 0xa8, 0xca,
	0x5e, 0x6f, 0x70, 0x82,
	0x1a, 0x2b, 0x3c, 0x4e,
	0xf0, 0x10, 0x01, 0xf5,	/* doff 15, ACK, window 501 */
	0x00, 0x00, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x0a,	/* NOP, NOP, TS */
	0x9c, 0x3d, 0x1e, 0x30,
	0x00, 0x0b, 0x5a, 0x40,
	0x01, 0x01, 0x05, 0x1a,	/* NOP, NOP, SACK len 26 */
	0x1a, 0x2b, 0x40, 0x00,	/* block 1 */
	0x1a, 0x2b, 0x50, 0x00,
	0x1a, 0x2b, 0x60, 0x00,	/* block 2 */
	0x1a, 0x2b, 0x70, 0x00,
	0x1a, 0x2b, 0x80, 0x00,	/* block 3 */
	0x1a, 0x2b, 0x90, 0x00,
};

/* An ACK with four SACK blocks and no timestamps: NOP,NOP,SACK len 34. */
static const uint8_t ack_sack4_opts[36] = {
	0x01, 0x01, 0x05, 0x22,
	0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20,
	0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x40,
	0x00, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x60,
	0xff, 0xff, 0xff, 0xf0, 0x00, 0x00, 0x00, 0x10,	/* wraps */
};

/* A 20-byte header with every flag bit set and the urgent pointer. */
static const uint8_t allflags[20] = {
	0x00, 0x50, 0xc0, 0x00,
	0xff, 0xff, 0xff, 0xff,
	0x80, 0x00, 0x00, 0x01,
	0x50, 0xff, 0x00, 0x00,
	0xbe, 0xef, 0x12, 0x34,
};

/* Fixed header with doff = 5 + optlen/4 and the given options appended. */
static size_t with_opts(uint8_t *buf, const uint8_t *opts, size_t optlen)
{
	memset(buf, 0, 20);
	buf[12] = (uint8_t)((20 + optlen) / 4 << 4);
	buf[13] = WIRE_TCP_ACK;
	memcpy(buf + 20, opts, optlen);
	return 20 + optlen;
}

/* Parse from an exact-size copy, so ASan sees any read past the header. */
static int parse_opts(const uint8_t *opts, size_t optlen, struct wire_tcp *t)
{
	uint8_t *buf = malloc(20 + optlen);
	size_t n = with_opts(buf, opts, optlen);
	int r = wire_tcp_parse(buf, n, t);

	free(buf);
	return r;
}

static void test_parse_syn(void)
{
	struct wire_tcp t;

	memset(&t, 0xa5, sizeof(t));
	CHECK_EQ(wire_tcp_parse(syn, sizeof(syn), &t), 40);
	CHECK_EQ(t.sport, 43210);
	CHECK_EQ(t.dport, 5201);
	CHECK_EQ(t.seq, 0x1a2b3c4d);
	CHECK_EQ(t.ack, 0);
	CHECK_EQ(t.hdr_len, 40);
	CHECK_EQ(t.flags, WIRE_TCP_SYN);
	CHECK_EQ(t.window, 64240);
	CHECK_EQ(t.csum, 0xcb3e);
	CHECK_EQ(t.urg, 0);
	CHECK_EQ(t.opts.present, WIRE_OPT_MSS | WIRE_OPT_SACKOK | WIRE_OPT_TS |
				 WIRE_OPT_WSCALE);
	CHECK_EQ(t.opts.mss, 1460);
	CHECK_EQ(t.opts.wscale, 7);
	CHECK_EQ(t.opts.tsval, 0x000b5a2f);
	CHECK_EQ(t.opts.tsecr, 0);
	CHECK_EQ(t.opts.nsack, 0);
}

static void test_parse_synack(void)
{
	struct wire_tcp t;

	CHECK_EQ(wire_tcp_parse(synack, sizeof(synack), &t), 40);
	CHECK_EQ(t.sport, 5201);
	CHECK_EQ(t.dport, 43210);
	CHECK_EQ(t.seq, 0x5e6f7081);
	CHECK_EQ(t.ack, 0x1a2b3c4e);
	CHECK_EQ(t.flags, WIRE_TCP_SYN | WIRE_TCP_ACK);
	CHECK_EQ(t.window, 65160);
	CHECK_EQ(t.opts.tsval, 0x9c3d1e22);
	CHECK_EQ(t.opts.tsecr, 0x000b5a2f);
}

static void test_parse_flags(void)
{
	struct wire_tcp t;

	CHECK_EQ(wire_tcp_parse(allflags, sizeof(allflags), &t), 20);
	CHECK_EQ(t.sport, 80);
	CHECK_EQ(t.dport, 49152);
	CHECK_EQ(t.seq, 0xffffffff);
	CHECK_EQ(t.ack, 0x80000001);
	CHECK_EQ(t.flags, WIRE_TCP_FIN | WIRE_TCP_SYN | WIRE_TCP_RST | WIRE_TCP_PSH |
			  WIRE_TCP_ACK | WIRE_TCP_URG | WIRE_TCP_ECE | WIRE_TCP_CWR);
	CHECK_EQ(t.window, 0);
	CHECK_EQ(t.csum, 0xbeef);
	CHECK_EQ(t.urg, 0x1234);
	CHECK_EQ(t.opts.present, 0);
}

/* The SYN's checksum verifies over the IPv4 pseudo-header. */
static void test_syn_csum(void)
{
	uint32_t sum = wire_pseudo4(ip_src, ip_dst, WIRE_PROTO_TCP, sizeof(syn));
	uint8_t bad[40];

	CHECK_EQ(wire_csum_fold(wire_csum_add(sum, syn, sizeof(syn))), 0);
	sum = wire_pseudo4(ip_dst, ip_src, WIRE_PROTO_TCP, sizeof(synack));
	CHECK_EQ(wire_csum_fold(wire_csum_add(sum, synack, sizeof(synack))), 0);
	memcpy(bad, syn, sizeof(bad));
	bad[39] ^= 0x01;
	sum = wire_pseudo4(ip_src, ip_dst, WIRE_PROTO_TCP, sizeof(bad));
	CHECK(wire_csum_fold(wire_csum_add(sum, bad, sizeof(bad))) != 0);
}

static void test_parse_sack(void)
{
	struct wire_tcp t;

	CHECK_EQ(wire_tcp_parse(ack_sack3, sizeof(ack_sack3), &t), 60);
	CHECK_EQ(t.flags, WIRE_TCP_ACK);
	CHECK_EQ(t.window, 501);
	CHECK_EQ(t.opts.present, WIRE_OPT_TS | WIRE_OPT_SACK);
	CHECK_EQ(t.opts.tsval, 0x9c3d1e30);
	CHECK_EQ(t.opts.tsecr, 0x000b5a40);
	CHECK_EQ(t.opts.nsack, 3);
	CHECK_EQ(t.opts.sack[0].start, 0x1a2b4000);
	CHECK_EQ(t.opts.sack[0].end, 0x1a2b5000);
	CHECK_EQ(t.opts.sack[1].start, 0x1a2b6000);
	CHECK_EQ(t.opts.sack[1].end, 0x1a2b7000);
	CHECK_EQ(t.opts.sack[2].start, 0x1a2b8000);
	CHECK_EQ(t.opts.sack[2].end, 0x1a2b9000);

	CHECK_EQ(parse_opts(ack_sack4_opts, sizeof(ack_sack4_opts), &t), 56);
	CHECK_EQ(t.opts.present, WIRE_OPT_SACK);
	CHECK_EQ(t.opts.nsack, 4);
	CHECK_EQ(t.opts.sack[0].start, 0x10);
	CHECK_EQ(t.opts.sack[2].end, 0x60);
	CHECK_EQ(t.opts.sack[3].start, 0xfffffff0);
	CHECK_EQ(t.opts.sack[3].end, 0x10);

	/* one block */
	static const uint8_t one[12] = { 1, 1, 5, 10, 0, 0, 1, 0, 0, 0, 2, 0 };
	CHECK_EQ(parse_opts(one, sizeof(one), &t), 32);
	CHECK_EQ(t.opts.nsack, 1);
	CHECK_EQ(t.opts.sack[0].start, 0x100);
	CHECK_EQ(t.opts.sack[0].end, 0x200);
}

static void test_parse_odd_opts(void)
{
	struct wire_tcp t;
	/* MSS, EOL: what follows EOL is never looked at (RFC 9293 3.2). */
	static const uint8_t eol[8] = { 2, 4, 0x05, 0xdc, 0, 0xff, 0xff, 0xff };
	/* an unknown kind (254, experimental) of length 6 is skipped */
	static const uint8_t unk[12] = { 254, 6, 0xf9, 0x89, 0, 0, 2, 4, 0x02, 0x18, 1, 1 };
	/* shift 15 is clamped to 14 (RFC 7323 2.3) */
	static const uint8_t ws15[4] = { 1, 3, 3, 15 };
	static const uint8_t ws255[4] = { 3, 3, 255, 0 };
	/* all NOPs, and all EOLs */
	static const uint8_t nops[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	static const uint8_t eols[4] = { 0, 0, 0, 0 };

	CHECK_EQ(parse_opts(eol, sizeof(eol), &t), 28);
	CHECK_EQ(t.opts.present, WIRE_OPT_MSS);
	CHECK_EQ(t.opts.mss, 1500);

	CHECK_EQ(parse_opts(unk, sizeof(unk), &t), 32);
	CHECK_EQ(t.opts.present, WIRE_OPT_MSS);
	CHECK_EQ(t.opts.mss, 536);

	CHECK_EQ(parse_opts(ws15, sizeof(ws15), &t), 24);
	CHECK_EQ(t.opts.present, WIRE_OPT_WSCALE);
	CHECK_EQ(t.opts.wscale, 14);
	CHECK_EQ(parse_opts(ws255, sizeof(ws255), &t), 24);
	CHECK_EQ(t.opts.wscale, 14);

	CHECK_EQ(parse_opts(nops, sizeof(nops), &t), 28);
	CHECK_EQ(t.opts.present, 0);
	CHECK_EQ(parse_opts(eols, sizeof(eols), &t), 24);
	CHECK_EQ(t.opts.present, 0);
}

static void test_parse_bad_opts(void)
{
	static const struct {
		uint8_t len; /* bytes of options: 4, 8 or 12 */
		uint8_t opts[12];
		const char *what;
	} bad[] = {
		{ 4, { 254, 0, 1, 1 }, "length 0" },
		{ 4, { 254, 1, 1, 1 }, "length 1" },
		{ 4, { 254, 5, 1, 1 }, "length past the header" },
		{ 4, { 1, 1, 1, 2 }, "kind in the last byte, no length" },
		{ 4, { 2, 3, 5, 1 }, "MSS length 3" },
		{ 8, { 2, 5, 5, 0xb4, 0, 1, 1, 1 }, "MSS length 5" },
		{ 4, { 3, 4, 7, 1 }, "WS length 4" },
		{ 4, { 3, 2, 1, 1 }, "WS length 2" },
		{ 4, { 4, 3, 1, 1 }, "SACK-permitted length 3" },
		{ 12, { 5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1 }, "SACK length 11" },
		{ 4, { 5, 2, 1, 1 }, "SACK with no blocks" },
		{ 12, { 8, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1 }, "TS length 9" },
		{ 12, { 8, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1 }, "TS length 11" },
		{ 12, { 2, 4, 5, 0xb4, 8, 10, 0, 0, 0, 0, 0, 0 }, "TS overruns" },
	};
	/* SACK of five blocks (42 bytes) cannot fit 40 bytes of options */
	uint8_t five[40] = { 1, 1, 5, 42 };
	struct wire_tcp t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse_opts(bad[i].opts, bad[i].len, &t);

		if (r != WIRE_EBADOPT)
			fprintf(stderr, "  case: %s -> %d\n", bad[i].what, r);
		CHECK_EQ(r, WIRE_EBADOPT);
	}
	CHECK_EQ(parse_opts(five, sizeof(five), &t), WIRE_EBADOPT);
}

static void test_parse_bad_len(void)
{
	uint8_t buf[40];
	struct wire_tcp t;

	/* every truncation of the SYN fails, and none reads past the end */
	for (size_t n = 0; n < sizeof(syn); n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, syn, n);
		CHECK_EQ(wire_tcp_parse(copy, n, &t), WIRE_ETRUNC);
		free(copy);
	}
	memcpy(buf, syn, sizeof(buf));
	buf[12] = 0x40; /* doff 4 */
	CHECK_EQ(wire_tcp_parse(buf, sizeof(buf), &t), WIRE_EBADLEN);
	buf[12] = 0x00; /* doff 0 */
	CHECK_EQ(wire_tcp_parse(buf, sizeof(buf), &t), WIRE_EBADLEN);
	buf[12] = 0xf0; /* doff 15: 60 bytes, buffer has 40 */
	CHECK_EQ(wire_tcp_parse(buf, sizeof(buf), &t), WIRE_ETRUNC);
	buf[12] = 0x50; /* doff 5: options ignored, a payload follows */
	CHECK_EQ(wire_tcp_parse(buf, sizeof(buf), &t), 20);
	CHECK_EQ(t.opts.present, 0);
}

/* Emit the SYN above from a struct; every byte must match. */
static void test_emit_syn(void)
{
	struct wire_tcp t = {
		.sport = 43210, .dport = 5201, .seq = 0x1a2b3c4d, .ack = 0,
		.flags = WIRE_TCP_SYN, .window = 64240, .csum = 0xcb3e,
		.hdr_len = 99, /* ignored */
		.opts = {
			.present = WIRE_OPT_MSS | WIRE_OPT_SACKOK | WIRE_OPT_TS |
				   WIRE_OPT_WSCALE,
			.mss = 1460, .wscale = 7, .tsval = 0x000b5a2f,
		},
	};
	uint8_t buf[64];

	memset(buf, 0xee, sizeof(buf));
	CHECK_EQ(wire_tcp_opts_len(&t.opts), 20);
	CHECK_EQ(wire_tcp_emit(&t, buf), 40);
	CHECK_MEM(buf, syn, sizeof(syn));
	CHECK_EQ(buf[40], 0xee); /* nothing written past the header */

	t.sport = 5201;
	t.dport = 43210;
	t.seq = 0x5e6f7081;
	t.ack = 0x1a2b3c4e;
	t.flags = WIRE_TCP_SYN | WIRE_TCP_ACK;
	t.window = 65160;
	t.csum = 0x3e45;
	t.opts.tsval = 0x9c3d1e22;
	t.opts.tsecr = 0x000b5a2f;
	CHECK_EQ(wire_tcp_emit(&t, buf), 40);
	CHECK_MEM(buf, synack, sizeof(synack));
}

static void test_emit_syn_variants(void)
{
	struct wire_tcp t = { .flags = WIRE_TCP_SYN };
	static const uint8_t mss_only[4] = { 2, 4, 0x05, 0xb4 };
	uint8_t buf[64];

	t.opts.present = WIRE_OPT_MSS | WIRE_OPT_TS | WIRE_OPT_WSCALE;
	t.opts.mss = 9000;
	t.opts.wscale = 14;
	t.opts.tsval = 0x11223344;
	CHECK_EQ(wire_tcp_opts_len(&t.opts), 20);
	CHECK_EQ(wire_tcp_emit(&t, buf), 40);
	CHECK_EQ(buf[12], 0xa0);
	CHECK_MEM(buf + 20, syn_ts_opts, sizeof(syn_ts_opts));

	memset(&t.opts, 0, sizeof(t.opts));
	t.opts.present = WIRE_OPT_MSS | WIRE_OPT_SACKOK | WIRE_OPT_WSCALE;
	t.opts.mss = 1460;
	CHECK_EQ(wire_tcp_opts_len(&t.opts), 12);
	CHECK_EQ(wire_tcp_emit(&t, buf), 32);
	CHECK_EQ(buf[12], 0x80);
	CHECK_MEM(buf + 20, syn_sackok_opts, sizeof(syn_sackok_opts));

	t.opts.present = WIRE_OPT_MSS;
	CHECK_EQ(wire_tcp_emit(&t, buf), 24);
	CHECK_EQ(buf[12], 0x60);
	CHECK_MEM(buf + 20, mss_only, sizeof(mss_only));

	t.opts.present = 0;
	CHECK_EQ(wire_tcp_emit(&t, buf), 20);
	CHECK_EQ(buf[12], 0x50);
}

static void test_emit_ack(void)
{
	struct wire_tcp t = {
		.sport = 5201, .dport = 43210, .seq = 0x5e6f7082,
		.ack = 0x1a2b3c4e, .flags = WIRE_TCP_ACK, .window = 501,
		.opts = {
			.present = WIRE_OPT_TS | WIRE_OPT_SACK,
			.tsval = 0x9c3d1e30, .tsecr = 0x000b5a40, .nsack = 3,
			.sack = { { 0x1a2b4000, 0x1a2b5000 }, { 0x1a2b6000, 0x1a2b7000 },
				  { 0x1a2b8000, 0x1a2b9000 } },
		},
	};
	static const uint8_t ts_only[12] = { 1, 1, 8, 10, 0x9c, 0x3d, 0x1e, 0x30,
					     0x00, 0x0b, 0x5a, 0x40 };
	uint8_t buf[64];

	CHECK_EQ(wire_tcp_opts_len(&t.opts), 40);
	CHECK_EQ(wire_tcp_emit(&t, buf), 60);
	CHECK_MEM(buf, ack_sack3, sizeof(ack_sack3));

	/* a fourth block does not fit beside timestamps: the last is dropped */
	t.opts.nsack = 4;
	t.opts.sack[3].start = 0x1a2ba000;
	t.opts.sack[3].end = 0x1a2bb000;
	CHECK_EQ(wire_tcp_opts_len(&t.opts), 40);
	CHECK_EQ(wire_tcp_emit(&t, buf), 60);
	CHECK_MEM(buf, ack_sack3, sizeof(ack_sack3));

	/* SACK flag with zero blocks, or blocks without the flag: no SACK */
	t.opts.nsack = 0;
	CHECK_EQ(wire_tcp_emit(&t, buf), 32);
	CHECK_MEM(buf + 20, ts_only, sizeof(ts_only));
	t.opts.nsack = 2;
	t.opts.present = WIRE_OPT_TS;
	CHECK_EQ(wire_tcp_opts_len(&t.opts), 12);
	CHECK_EQ(wire_tcp_emit(&t, buf), 32);
	CHECK_MEM(buf + 20, ts_only, sizeof(ts_only));

	/* four blocks without timestamps */
	memset(&t.opts, 0, sizeof(t.opts));
	t.opts.present = WIRE_OPT_SACK;
	t.opts.nsack = 4;
	t.opts.sack[0] = (struct wire_sack_block){ 0x10, 0x20 };
	t.opts.sack[1] = (struct wire_sack_block){ 0x30, 0x40 };
	t.opts.sack[2] = (struct wire_sack_block){ 0x50, 0x60 };
	t.opts.sack[3] = (struct wire_sack_block){ 0xfffffff0, 0x10 };
	CHECK_EQ(wire_tcp_opts_len(&t.opts), 36);
	CHECK_EQ(wire_tcp_emit(&t, buf), 56);
	CHECK_EQ(buf[12], 0xe0);
	CHECK_MEM(buf + 20, ack_sack4_opts, sizeof(ack_sack4_opts));
	/* nsack beyond the array is clamped, never read past it */
	t.opts.nsack = 200;
	CHECK_EQ(wire_tcp_emit(&t, buf), 56);
	CHECK_MEM(buf + 20, ack_sack4_opts, sizeof(ack_sack4_opts));
}

/* SACK blocks that fit beside the other options in 40 bytes. */
static unsigned sack_room(unsigned present)
{
	unsigned used = 0;

	if (present & WIRE_OPT_MSS)
		used += 4;
	if (present & WIRE_OPT_TS)
		used += 12; /* SACK-permitted shares its 4 bytes */
	else if (present & WIRE_OPT_SACKOK)
		used += 4;
	if (present & WIRE_OPT_WSCALE)
		used += 4;
	return (40 - used - 4) / 8; /* NOP, NOP, kind, length, blocks */
}

/* Every option combination: emit, parse back, same options; lengths agree. */
static void test_roundtrip(void)
{
	for (unsigned present = 0; present < 32; present++) {
		for (unsigned nsack = 0; nsack <= 4; nsack++) {
			struct wire_tcp t = {
				.sport = 1, .dport = 2, .seq = 3 * present,
				.ack = 4 + nsack, .flags = WIRE_TCP_ACK,
				.window = 0xffff, .csum = 0x1234, .urg = 5,
			};
			struct wire_tcp p;
			uint8_t buf[64];
			size_t n;
			unsigned kept;

			t.opts.present = (uint8_t)present;
			t.opts.mss = (uint16_t)(1000 + present);
			t.opts.wscale = (uint8_t)(present % 15);
			t.opts.tsval = 0xdeadbeef + present;
			t.opts.tsecr = 0xcafef00d;
			t.opts.nsack = (uint8_t)nsack;
			for (unsigned i = 0; i < 4; i++)
				t.opts.sack[i] = (struct wire_sack_block){ 100 * i, 100 * i + 50 };
			n = wire_tcp_emit(&t, buf);
			CHECK_EQ(n, 20 + wire_tcp_opts_len(&t.opts));
			CHECK(n % 4 == 0 && n <= 60);
			CHECK_EQ(wire_tcp_parse(buf, n, &p), (int)n);
			CHECK_EQ(p.seq, t.seq);
			CHECK_EQ(p.ack, t.ack);
			CHECK_EQ(p.urg, 5);
			CHECK_EQ(p.csum, 0x1234);
			kept = (present & WIRE_OPT_SACK) ? nsack : 0;
			CHECK_EQ(p.opts.present, kept ? present : present & ~WIRE_OPT_SACK);
			if (present & WIRE_OPT_MSS)
				CHECK_EQ(p.opts.mss, t.opts.mss);
			if (present & WIRE_OPT_WSCALE)
				CHECK_EQ(p.opts.wscale, t.opts.wscale);
			if (present & WIRE_OPT_TS) {
				CHECK_EQ(p.opts.tsval, t.opts.tsval);
				CHECK_EQ(p.opts.tsecr, t.opts.tsecr);
			}
			/* the first blocks that fit in 40 bytes, in order */
			CHECK_EQ(p.opts.nsack, DEVMEM_MIN(kept, sack_room(present)));
			for (unsigned i = 0; i < p.opts.nsack; i++) {
				CHECK_EQ(p.opts.sack[i].start, 100 * i);
				CHECK_EQ(p.opts.sack[i].end, 100 * i + 50);
			}
		}
	}
}

/*
 * Random byte flips of the literal segments, parsed from exact-size copies:
 * never a crash or an out-of-bounds read (ASan), and a success is sane.
 */
static void test_fuzz(void)
{
	const uint8_t *pkts[] = { syn, synack, ack_sack3 };
	const size_t lens[] = { sizeof(syn), sizeof(synack), sizeof(ack_sack3) };
	uint32_t x = 12345;
	int bad = 0;

	for (int i = 0; i < 20000; i++) {
		size_t k = (size_t)i % 3, n = lens[k];
		uint8_t *buf = malloc(n);
		struct wire_tcp t;
		int r;

		memcpy(buf, pkts[k], n);
		for (int f = 0; f < 3; f++) {
			x = x * 1103515245u + 12345u;
			buf[(x >> 8) % n] ^= (uint8_t)(x >> 20 | 1);
		}
		r = wire_tcp_parse(buf, n, &t);
		if (r > 0 && ((size_t)r > n || r % 4 || r != t.hdr_len ||
			      t.opts.nsack > WIRE_TCP_MAX_SACK ||
			      t.opts.wscale > 14))
			bad++;
		free(buf);
	}
	CHECK_EQ(bad, 0);
}

int main(void)
{
	RUN(test_parse_syn);
	RUN(test_parse_synack);
	RUN(test_parse_flags);
	RUN(test_syn_csum);
	RUN(test_parse_sack);
	RUN(test_parse_odd_opts);
	RUN(test_parse_bad_opts);
	RUN(test_parse_bad_len);
	RUN(test_emit_syn);
	RUN(test_emit_syn_variants);
	RUN(test_emit_ack);
	RUN(test_roundtrip);
	RUN(test_fuzz);
	return CHECK_DONE();
}
