/* SPDX-License-Identifier: MIT */
/* test_tcp_misc: ISN (RFC 6528, SipHash-2-4), tcp_make_rst (RFC 9293 3.10.7.1),
 * state names. */
#include "test_tcp_harness.h"

static void test_siphash_vectors(void)
{
	/* Reference vectors of the SipHash paper: key 00..0f, message
	 * 00 01 .. (len-1). */
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	CHECK_EQ(tcp_siphash24(key, msg, 0), 0x726fdb47dd0e0e31ull);
	CHECK_EQ(tcp_siphash24(key, msg, 15), 0xa129ca6149be45e5ull);
	CHECK_EQ(tcp_siphash24(key, msg, 1), 0x74f839c593dc67fdull);
	CHECK_EQ(tcp_siphash24(key, msg, 8), 0x93f5f5799a932462ull);
}

static void test_isn(void)
{
	uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct tcp_ep a = { .family = AF_INET, .laddr = { 10, 0, 0, 1 }, .raddr = { 10, 0, 0, 2 },
			    .lport = 1000, .rport = 80 };
	struct tcp_ep b = a;
	b.lport = 1001;
	struct tcp_ep c6 = a;
	c6.raddr[3] = 3;
	uint64_t now = T0;
	uint32_t ia = tcp_isn(&a, key, now), ib = tcp_isn(&b, key, now), ic = tcp_isn(&c6, key, now);
	CHECK(ia != ib);
	CHECK(ia != ic);
	/* Same tuple: advances with a 4 us clock (RFC 6528 3). */
	CHECK_EQ(tcp_isn(&a, key, now + 4000) - ia, 1000);
	CHECK_EQ(tcp_isn(&a, key, now), ia);
	/* Another key: another offset. */
	uint8_t key2[16] = { 0 };
	CHECK(tcp_isn(&a, key2, now) != ia);
}

static void test_make_rst(void)
{
	struct wire_tcp in, out;
	memset(&in, 0, sizeof(in));
	in.sport = 1234;
	in.dport = 80;
	in.seq = 1000;
	in.ack = 5000;
	/* ACK set: <SEQ=SEG.ACK><CTL=RST>. */
	in.flags = WIRE_TCP_ACK | WIRE_TCP_PSH;
	CHECK(tcp_make_rst(&in, 100, &out));
	CHECK_EQ(out.flags, WIRE_TCP_RST);
	CHECK_EQ(out.seq, 5000);
	CHECK_EQ(out.ack, 0);
	CHECK_EQ(out.sport, 80);
	CHECK_EQ(out.dport, 1234);
	CHECK_EQ(out.opts.present, 0);
	/* No ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; SYN and FIN count. */
	in.flags = WIRE_TCP_SYN;
	CHECK(tcp_make_rst(&in, 0, &out));
	CHECK_EQ(out.flags, WIRE_TCP_RST | WIRE_TCP_ACK);
	CHECK_EQ(out.seq, 0);
	CHECK_EQ(out.ack, 1001);
	in.flags = WIRE_TCP_FIN;
	CHECK(tcp_make_rst(&in, 10, &out));
	CHECK_EQ(out.ack, 1011);
	in.flags = WIRE_TCP_SYN | WIRE_TCP_FIN;
	CHECK(tcp_make_rst(&in, 10, &out));
	CHECK_EQ(out.ack, 1012);
	in.flags = 0;
	in.seq = 0xffffffffu;
	CHECK(tcp_make_rst(&in, 2, &out));
	CHECK_EQ(out.ack, 1);
	/* Never answer a RST. */
	in.flags = WIRE_TCP_RST;
	CHECK(!tcp_make_rst(&in, 0, &out));
	in.flags = WIRE_TCP_RST | WIRE_TCP_ACK;
	CHECK(!tcp_make_rst(&in, 0, &out));
}

static void test_state_names(void)
{
	CHECK(strcmp(tcp_state_name(TCP_ESTABLISHED), "ESTABLISHED") == 0);
	CHECK(strcmp(tcp_state_name(TCP_TIME_WAIT), "TIME_WAIT") == 0);
	CHECK(strcmp(tcp_state_name((enum tcp_state)99), "?") == 0);
}

int main(void)
{
	RUN(test_siphash_vectors);
	RUN(test_isn);
	RUN(test_make_rst);
	RUN(test_state_names);
	return CHECK_DONE();
}
