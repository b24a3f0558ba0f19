/* SPDX-License-Identifier: MIT */
/*
 * Malformed input, fed to a stack by hand through the far end of a pair
 * link: truncated headers, lengths that lie, bad checksums, broken options,
 * and a seeded fuzz of mutated segments. Every frame must be dropped and
 * counted, nothing may crash (this runs under ASan/UBSan in CI), and the
 * stack must still answer a valid SYN afterwards.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ctl/stack.h"
#include "link/link.h"
#include "wire/wire.h"

static struct link *raw;
static struct devmem_stack *st;
static const uint8_t A[4] = {192, 0, 2, 1}, B[4] = {192, 0, 2, 2};

/* An IPv4/TCP frame from A to B. Returns its length (vnet header included). */
static size_t build_tcp(uint8_t *f, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
			uint32_t ack, const struct wire_tcp_opts *opts, size_t paylen, bool partial)
{
	struct wire_vnet v = {0};
	struct wire_tcp t = {.sport = sport, .dport = dport, .seq = seq, .ack = ack,
			     .flags = flags, .window = 65535};
	uint8_t *ip = f + WIRE_VNET_LEN, *tcp = ip + WIRE_IPV4_MIN;

	if (opts)
		t.opts = *opts;
	size_t thl = wire_tcp_emit(&t, tcp);
	memset(tcp + thl, 0x5a, paylen);
	struct wire_ipv4 h = {.total_len = (uint16_t)(WIRE_IPV4_MIN + thl + paylen), .ttl = 64,
			      .proto = WIRE_PROTO_TCP, .frag = WIRE_IPV4_DF};
	memcpy(h.src, A, 4);
	memcpy(h.dst, B, 4);
	wire_ipv4_emit(&h, ip);
	uint32_t ps = wire_pseudo4(A, B, WIRE_PROTO_TCP, (uint32_t)(thl + paylen));
	if (partial) {
		v.flags = WIRE_VNET_F_NEEDS_CSUM;
		v.csum_start = WIRE_IPV4_MIN;
		v.csum_offset = 16;
		wire_put16(tcp + 16, (uint16_t)~wire_csum_fold(ps));
	} else {
		wire_put16(tcp + 16, 0);
		wire_put16(tcp + 16, wire_csum_fold(wire_csum_add(ps, tcp, thl + paylen)));
	}
	wire_vnet_emit(&v, f);
	return WIRE_VNET_LEN + WIRE_IPV4_MIN + thl + paylen;
}

static void send_raw(const uint8_t *f, size_t len)
{
	struct iovec iov = {(void *)f, len};
	raw->ops->tx(raw, 0, &iov, 1);
}

/* Wait for the stack's next frame; returns its length or 0 on timeout. */
static size_t recv_raw(uint8_t *buf, size_t cap, int ms)
{
	struct iovec iov = {buf, cap};
	for (int i = 0; i < ms; i++) {
		ssize_t n = raw->ops->rx(raw, 0, &iov, 1);
		if (n > 0)
			return (size_t)n;
		struct pollfd p = {.fd = raw->ops->rx_fd(raw, 0), .events = POLLIN};
		poll(&p, 1, 1);
	}
	return 0;
}

static void settle(void)
{
	/* the stack's poller runs on its own thread: give it a moment */
	uint8_t buf[2048];
	while (recv_raw(buf, sizeof(buf), 20))
		;
}

static uint64_t dropped(void)
{
	struct devmem_queue_stats q;
	struct devmem_stack_stats s;
	struct link_stats l;

	devmem_queue_stats(st, 0, &q);
	devmem_stack_stats(st, &s);
	st->link->ops->stats(st->link, &l);
	return q.bad + q.drop_nobuf + s.ip_bad + s.ip_unhandled + s.tcp_bad + l.rx_bad_csum;
}

static void expect_dropped(const uint8_t *f, size_t len, const char *what)
{
	uint64_t before = dropped();
	send_raw(f, len);
	settle();
	if (dropped() <= before) {
		fprintf(stderr, "not counted as dropped: %s\n", what);
		check_failures++;
	}
}

static void test_truncated_and_lying(void)
{
	uint8_t f[2048], g[2048];
	size_t n = build_tcp(f, 40000, 9, WIRE_TCP_SYN, 1000, 0, NULL, 0, true);

	/* every truncation of a valid SYN */
	for (size_t cut = 0; cut < n; cut++) {
		uint64_t before = dropped();
		send_raw(f, cut);
		settle();
		if (dropped() <= before && cut > 0) {
			fprintf(stderr, "truncated to %zu not counted\n", cut);
			check_failures++;
		}
	}
	memcpy(g, f, n);
	g[WIRE_VNET_LEN] = 0x44; /* IHL 4 */
	expect_dropped(g, n, "IHL 4");
	memcpy(g, f, n);
	g[WIRE_VNET_LEN] = 0x55; /* version 5 */
	expect_dropped(g, n, "version 5");
	memcpy(g, f, n);
	wire_put16(g + WIRE_VNET_LEN + 2, 1400); /* total length past the frame */
	expect_dropped(g, n, "total length lies");
	memcpy(g, f, n);
	g[WIRE_VNET_LEN + 10] ^= 0xff; /* IPv4 header checksum */
	expect_dropped(g, n, "bad IPv4 header checksum");
	memcpy(g, f, n);
	g[WIRE_VNET_LEN + 20 + 12] = 0x40; /* TCP data offset 4 */
	expect_dropped(g, n, "TCP doff 4");
	memcpy(g, f, n);
	g[WIRE_VNET_LEN + 20 + 12] = 0xf0; /* data offset 15: past the frame */
	expect_dropped(g, n, "TCP doff past the end");
}

static void test_bad_checksum_and_options(void)
{
	uint8_t f[2048];
	struct wire_tcp_opts o = {.present = WIRE_OPT_MSS, .mss = 1460};
	size_t n = build_tcp(f, 40001, 9, WIRE_TCP_ACK, 1000, 1, NULL, 100, false);

	f[n - 1] ^= 1; /* payload byte flipped after the checksum: the pair NIC catches it */
	expect_dropped(f, n, "bad TCP checksum");
	n = build_tcp(f, 40001, 9, WIRE_TCP_SYN, 1000, 0, &o, 0, true);
	uint8_t *opt = f + WIRE_VNET_LEN + WIRE_IPV4_MIN + WIRE_TCP_MIN;
	opt[1] = 0; /* MSS option with length 0 */
	expect_dropped(f, n, "option length 0");
	n = build_tcp(f, 40001, 9, WIRE_TCP_SYN, 1000, 0, &o, 0, true);
	opt[1] = 3; /* MSS option with length 3 */
	expect_dropped(f, n, "MSS length 3");
	n = build_tcp(f, 40001, 9, WIRE_TCP_SYN, 1000, 0, &o, 0, true);
	opt[1] = 40; /* option running past the header */
	expect_dropped(f, n, "option overrun");
}

static void test_fuzz_then_alive(void)
{
	uint8_t f[2048], g[2048], r[4096];
	struct wire_tcp_opts o = {.present = WIRE_OPT_MSS | WIRE_OPT_WSCALE | WIRE_OPT_SACKOK | WIRE_OPT_TS,
				  .mss = 1460, .wscale = 7, .tsval = 1, .tsecr = 0};
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	size_t n = build_tcp(f, 40002, 7002, WIRE_TCP_SYN, 5000, 0, &o, 0, true);
	int lfd = devmem_socket(st, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(7002)};

	CHECK_EQ(devmem_bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	CHECK_EQ(devmem_listen(lfd, 8), 0);
	for (int i = 0; i < 20000; i++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		size_t len = n;
		memcpy(g, f, n);
		int flips = 1 + (int)(seed % 4);
		for (int k = 0; k < flips; k++) {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			size_t at = WIRE_VNET_LEN + (size_t)(seed % (n - WIRE_VNET_LEN));
			g[at] ^= (uint8_t)(seed >> 32 | 1);
		}
		if (seed & 0x100000)
			len = WIRE_VNET_LEN + (size_t)((seed >> 24) % (n - WIRE_VNET_LEN));
		send_raw(g, len);
		if (i % 64 == 0)
			while (recv_raw(r, sizeof(r), 1))
				;
	}
	settle();
	/* the stack still works: a valid SYN gets a SYN-ACK */
	send_raw(f, n);
	bool synack = false;
	for (int i = 0; i < 50 && !synack; i++) {
		size_t m = recv_raw(r, sizeof(r), 100);
		struct wire_tcp t;
		if (m > WIRE_VNET_LEN + WIRE_IPV4_MIN &&
		    wire_tcp_parse(r + WIRE_VNET_LEN + WIRE_IPV4_MIN, m - WIRE_VNET_LEN - WIRE_IPV4_MIN, &t) > 0 &&
		    t.dport == 40002 && t.flags == (WIRE_TCP_SYN | WIRE_TCP_ACK) && t.ack == 5001)
			synack = true;
	}
	CHECK(synack);
	devmem_close(lfd);
}

int main(void)
{
	struct devmem_config c;
	struct link *lb;
	int err = 0;

	devmem_config_init(&c);
	inet_pton(AF_INET, "192.0.2.2", &c.ipv4);
	if (link_pair_create(1, 1500, NULL, NULL, &raw, &lb) < 0)
		return 1;
	st = stack_open_link(&c, lb, &err);
	if (!st) {
		fprintf(stderr, "stack_open_link: %d\n", err);
		return 1;
	}
	RUN(test_truncated_and_lying);
	RUN(test_bad_checksum_and_options);
	RUN(test_fuzz_then_alive);
	devmem_stack_close(st);
	raw->ops->destroy(raw);
	return CHECK_DONE();
}
