/* SPDX-License-Identifier: MIT */
/*
 * The pair link on its own: checksum offload on transmit and the check on
 * receive (the DMA step), each fault of struct devmem_pair_faults, seeded
 * determinism, the ring limit, eventfd readiness, and malformed frames.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "link/link.h"
#include "linkutil.h"
#include "util/util.h"
#include "wire/wire.h"

static const uint8_t A4[4] = {192, 0, 2, 1}, B4[4] = {192, 0, 2, 2};
static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t B6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

#define BUF 2048

static struct link *pa, *pb;

static void open_pair(unsigned queues, const struct devmem_pair_faults *ab)
{
	pa = pb = NULL;
	CHECK_EQ(link_pair_create(queues, 1500, ab, NULL, &pa, &pb), 0);
}

static void close_pair(void)
{
	pa->ops->destroy(pa);
	pb->ops->destroy(pb);
}

static int tx1(struct link *l, unsigned q, const uint8_t *f, size_t len)
{
	struct iovec iov = {(void *)f, len};

	return l->ops->tx(l, q, &iov, 1);
}

static ssize_t rx1(struct link *l, unsigned q, uint8_t *buf, size_t cap)
{
	struct iovec iov = {buf, cap};

	return l->ops->rx(l, q, &iov, 1);
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

static bool readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* An IPv4 or IPv6 TCP segment carrying id (4 bytes) + pattern, n bytes of
 * payload in all. */
static size_t tcp_frame(uint8_t *f, bool v6, uint32_t id, size_t n, bool partial)
{
	uint8_t l4[BUF];
	struct wire_tcp t = {.sport = 40000, .dport = 80, .seq = id, .ack = 1,
			     .flags = WIRE_TCP_ACK | WIRE_TCP_PSH, .window = 1000};
	size_t hl = wire_tcp_emit(&t, l4);

	for (size_t i = 0; i < n; i++)
		l4[hl + i] = (uint8_t)(id * 7 + i * 13);
	if (n >= 4)
		wire_put32(l4 + hl, id);
	return lu_build(f, v6, v6 ? A6 : A4, v6 ? B6 : B4, WIRE_PROTO_TCP, l4, hl + n, partial);
}

/* The id a tcp_frame carries (its sequence number). */
static uint32_t frame_id(const uint8_t *f, bool v6)
{
	return wire_get32(f + WIRE_VNET_LEN + (v6 ? WIRE_IPV6_LEN : WIRE_IPV4_MIN) + 4);
}

/* ---- checksum offload and check ----------------------------------------- */

/* Send partial, receive into odd-sized scattered iovs: the checksum is
 * completed, verified, DATA_VALID set, and the packet is byte for byte the
 * one a sender with complete checksums would have built. */
static void check_offload(bool v6, uint8_t proto, size_t n, bool partial)
{
	uint8_t f[BUF], want[BUF], got[BUF], l4[BUF];
	size_t hl = 0, len, wlen;
	struct wire_vnet v;

	if (proto == WIRE_PROTO_TCP) {
		len = tcp_frame(f, v6, 77, n, partial);
		wlen = tcp_frame(want, v6, 77, n, false);
	} else {
		if (proto == WIRE_PROTO_UDP) {
			hl = lu_udp(l4, 5000, 6000, "", 0);
		} else {
			struct wire_icmp ic = {.type = v6 ? WIRE_ICMPV6_ECHO_REQUEST
							  : WIRE_ICMP_ECHO_REQUEST,
					       .id = 9, .seq = 3};
			hl = wire_icmp_emit(&ic, l4);
		}
		for (size_t i = 0; i < n; i++)
			l4[hl + i] = (uint8_t)(0xa5 ^ i);
		if (proto == WIRE_PROTO_UDP)
			wire_put16(l4 + 4, (uint16_t)(hl + n));
		len = lu_build(f, v6, v6 ? A6 : A4, v6 ? B6 : B4, proto, l4, hl + n, partial);
		wlen = lu_build(want, v6, v6 ? A6 : A4, v6 ? B6 : B4, proto, l4, hl + n, false);
	}
	CHECK_EQ(len, wlen);
	/* gather from three pieces: vnet header, 7 bytes, the rest */
	struct iovec tiov[3] = {{f, WIRE_VNET_LEN}, {f + WIRE_VNET_LEN, 7},
				{f + WIRE_VNET_LEN + 7, len - WIRE_VNET_LEN - 7}};
	CHECK_EQ(pa->ops->tx(pa, 0, tiov, 3), 0);

	/* scatter into odd pieces so the checksum runs across odd offsets */
	memset(got, 0xee, sizeof(got));
	struct iovec riov[5] = {{got, 3}, {got + 3, 0}, {got + 3, 29}, {got + 32, 1},
				{got + 33, sizeof(got) - 33}};
	ssize_t r = pb->ops->rx(pb, 0, riov, 5);
	CHECK_EQ(r, (ssize_t)len);
	if (r != (ssize_t)len)
		return;
	wire_vnet_parse(got, (size_t)r, &v);
	CHECK(v.flags & WIRE_VNET_F_DATA_VALID);
	CHECK(!(v.flags & WIRE_VNET_F_NEEDS_CSUM));
	CHECK(lu_l4_ok(got, (size_t)r));
	CHECK_MEM(got + WIRE_VNET_LEN, want + WIRE_VNET_LEN, len - WIRE_VNET_LEN);
	CHECK_EQ(rx1(pb, 0, got, sizeof(got)), -EAGAIN);
}

static void test_csum_offload(void)
{
	static const size_t sizes[] = {0, 1, 2, 3, 100, 1001, 1400};

	open_pair(1, NULL);
	for (size_t i = 0; i < DEVMEM_ARRAY_SIZE(sizes); i++) {
		for (int partial = 0; partial < 2; partial++) {
			check_offload(false, WIRE_PROTO_TCP, sizes[i], partial);
			check_offload(true, WIRE_PROTO_TCP, sizes[i], partial);
			check_offload(false, WIRE_PROTO_UDP, sizes[i], partial);
			check_offload(true, WIRE_PROTO_UDP, sizes[i], partial);
			check_offload(false, WIRE_PROTO_ICMP, sizes[i], partial);
			check_offload(true, WIRE_PROTO_ICMPV6, sizes[i], partial);
		}
	}
	struct link_stats st;
	pb->ops->stats(pb, &st);
	CHECK_EQ(st.rx_bad_csum, 0);
	CHECK_EQ(st.rx_frames, DEVMEM_ARRAY_SIZE(sizes) * 12);
	pa->ops->stats(pa, &st);
	CHECK_EQ(st.tx_frames, DEVMEM_ARRAY_SIZE(sizes) * 12);
	close_pair();
}

/* The reverse direction and a second queue: frames keep their queue. */
static void test_directions_and_queues(void)
{
	uint8_t f[BUF], g[BUF];
	size_t len = tcp_frame(f, false, 5, 10, true);

	open_pair(2, NULL);
	CHECK_EQ(tx1(pb, 1, f, len), 0);
	CHECK_EQ(rx1(pb, 1, g, sizeof(g)), -EAGAIN); /* not looped back */
	CHECK_EQ(rx1(pa, 0, g, sizeof(g)), -EAGAIN); /* not on queue 0 */
	CHECK_EQ(rx1(pa, 1, g, sizeof(g)), (ssize_t)len);
	CHECK(lu_l4_ok(g, len));
	CHECK_EQ(tx1(pa, 2, f, len), -EINVAL);
	CHECK_EQ(rx1(pa, 2, g, sizeof(g)), -EINVAL);
	CHECK_EQ(pa->ops->rx_fd(pa, 2), -1);
	CHECK(pa->ops->rx_fd(pa, 0) != pa->ops->rx_fd(pa, 1));
	CHECK(pa->ops->rx_fd(pa, 0) != pb->ops->rx_fd(pb, 0));
	CHECK_EQ(pa->caps.queues, 2);
	CHECK_EQ(pa->caps.mtu, 1500);
	CHECK_EQ(pa->caps.max_frame, 1500);
	CHECK(pa->caps.tx_csum && !pa->caps.tx_gso && !pa->caps.rx_gso);
	close_pair();
}

static void test_bad_csum(void)
{
	uint8_t f[BUF], g[BUF], l4[64];
	size_t len;
	struct link_stats st;

	open_pair(1, NULL);
	/* a full checksum that is wrong */
	len = tcp_frame(f, false, 1, 50, false);
	f[len - 1] ^= 1;
	tx1(pa, 0, f, len);
	CHECK_EQ(rx1(pb, 0, g, sizeof(g)), -EBADMSG);
	/* IPv6 too: the pseudo-header covers the addresses */
	len = tcp_frame(f, true, 1, 50, false);
	f[WIRE_VNET_LEN + 8 + 3] ^= 0x10;
	tx1(pa, 0, f, len);
	CHECK_EQ(rx1(pb, 0, g, sizeof(g)), -EBADMSG);
	/* an IPv4 header checksum that is wrong: the NIC checks it too */
	len = tcp_frame(f, false, 1, 50, true);
	f[WIRE_VNET_LEN + 8] ^= 0x40; /* TTL */
	tx1(pa, 0, f, len);
	CHECK_EQ(rx1(pb, 0, g, sizeof(g)), -EBADMSG);
	/* UDP over IPv6 must carry a checksum (RFC 8200 8.1) */
	len = lu_build(f, true, A6, B6, WIRE_PROTO_UDP, l4, lu_udp(l4, 1, 2, "abc", 3), false);
	wire_put16(f + WIRE_VNET_LEN + WIRE_IPV6_LEN + 6, 0);
	tx1(pa, 0, f, len);
	CHECK_EQ(rx1(pb, 0, g, sizeof(g)), -EBADMSG);
	/* ... over IPv4, 0 means none (RFC 768): delivered, not validated */
	len = lu_build(f, false, A4, B4, WIRE_PROTO_UDP, l4, lu_udp(l4, 1, 2, "abc", 3), false);
	wire_put16(f + WIRE_VNET_LEN + WIRE_IPV4_MIN + 6, 0);
	tx1(pa, 0, f, len);
	CHECK_EQ(rx1(pb, 0, g, sizeof(g)), (ssize_t)len);
	CHECK(!(g[0] & WIRE_VNET_F_DATA_VALID));
	CHECK_EQ(rx1(pb, 0, g, sizeof(g)), -EAGAIN); /* all consumed */
	pb->ops->stats(pb, &st);
	CHECK_EQ(st.rx_bad_csum, 4);
	CHECK_EQ(st.rx_frames, 1);
	close_pair();
}

/* ---- faults ------------------------------------------------------------- */

static void test_corrupt(void)
{
	struct devmem_pair_faults fl = {.seed = 11, .corrupt = 1.0};
	uint8_t f[BUF], g[BUF], orig[BUF];
	unsigned bad = 0, escaped = 0;
	const unsigned N = 400;
	struct link_stats st;

	for (int v6 = 0; v6 < 2; v6++) {
		open_pair(1, &fl);
		bad = escaped = 0;
		for (unsigned i = 0; i < N; i++) {
			size_t len = tcp_frame(f, v6, i, 40 + i % 50, i & 1);
			tcp_frame(orig, v6, i, 40 + i % 50, false);
			CHECK_EQ(tx1(pa, 0, f, len), 0);
			ssize_t r = rx1(pb, 0, g, sizeof(g));
			if (r == -EBADMSG) {
				bad++;
				continue;
			}
			CHECK_EQ(r, (ssize_t)len);
			if (r != (ssize_t)len)
				continue;
			CHECK(memcmp(g + WIRE_VNET_LEN, orig + WIRE_VNET_LEN,
				     len - WIRE_VNET_LEN) != 0); /* it was flipped */
			escaped++;
			if (g[0] & WIRE_VNET_F_DATA_VALID) {
				/* only fields no checksum covers may differ:
				 * IPv6 traffic class, flow label, hop limit */
				CHECK(v6);
				CHECK_MEM(g + WIRE_VNET_LEN + 4, orig + WIRE_VNET_LEN + 4, 3);
				CHECK_MEM(g + WIRE_VNET_LEN + 8, orig + WIRE_VNET_LEN + 8,
					  len - WIRE_VNET_LEN - 8);
				CHECK(lu_l4_ok(g, len));
			} else {
				/* otherwise it no longer parses: the IP layer drops it */
				struct wire_ipv4 h4;
				struct wire_ipv6 h6;
				CHECK(v6 ? wire_ipv6_parse(g + WIRE_VNET_LEN, len - WIRE_VNET_LEN,
							   &h6) < 0 ||
						   h6.proto != WIRE_PROTO_TCP
					 : wire_ipv4_parse(g + WIRE_VNET_LEN, len - WIRE_VNET_LEN,
							   &h4) < 0);
			}
		}
		pb->ops->stats(pb, &st);
		CHECK_EQ(st.rx_bad_csum, bad);
		pa->ops->stats(pa, &st);
		CHECK_EQ(st.corrupted, N);
		/* the few that get through hit the version nibble or IHL (IPv4),
		 * or the uncovered IPv6 fields: 8 of ~100 bytes at most */
		CHECK(bad >= N * 85 / 100);
		fprintf(stderr, "  corrupt %s: %u/%u caught by the checksum, %u not\n",
			v6 ? "IPv6" : "IPv4", bad, N, escaped);
		close_pair();
	}
}

static void test_drop(void)
{
	struct devmem_pair_faults fl = {.seed = 3, .drop = 1.0};
	uint8_t f[BUF], g[BUF];
	struct link_stats st;

	open_pair(1, &fl);
	for (unsigned i = 0; i < 100; i++)
		CHECK_EQ(tx1(pa, 0, f, tcp_frame(f, i & 1, i, 20, true)), 0);
	CHECK(!readable(pb->ops->rx_fd(pb, 0), 0));
	CHECK_EQ(rx1(pb, 0, g, sizeof(g)), -EAGAIN);
	CHECK_EQ(pb->ops->rx_due_us(pb, 0), -1);
	pa->ops->stats(pa, &st);
	CHECK_EQ(st.dropped, 100);
	CHECK_EQ(st.tx_frames, 100);
	/* the other direction has no faults */
	CHECK_EQ(tx1(pb, 0, f, tcp_frame(f, false, 1, 20, true)), 0);
	CHECK(rx1(pa, 0, g, sizeof(g)) > 0);
	close_pair();
}

static void test_duplicate(void)
{
	struct devmem_pair_faults fl = {.seed = 4, .duplicate = 1.0};
	uint8_t f[BUF], g[BUF];
	struct link_stats st;

	open_pair(1, &fl);
	for (unsigned i = 0; i < 50; i++)
		tx1(pa, 0, f, tcp_frame(f, false, i, 30, true));
	for (unsigned i = 0; i < 100; i++) {
		ssize_t r = rx1(pb, 0, g, sizeof(g));
		CHECK(r > 0);
		if (r <= 0)
			break;
		CHECK_EQ(frame_id(g, false), i / 2);
		CHECK(g[0] & WIRE_VNET_F_DATA_VALID);
	}
	CHECK_EQ(rx1(pb, 0, g, sizeof(g)), -EAGAIN);
	pa->ops->stats(pa, &st);
	CHECK_EQ(st.duplicated, 50);
	close_pair();
}

/* Receive everything, waiting for held frames as a poller would. */
static unsigned drain(struct link *l, uint32_t *ids, unsigned max, int *results)
{
	uint8_t g[BUF];
	unsigned n = 0;

	for (;;) {
		ssize_t r = rx1(l, 0, g, sizeof(g));
		if (r == -EAGAIN) {
			int64_t due = l->ops->rx_due_us(l, 0);
			if (due < 0)
				break;
			CHECK(due <= 1000);
			sleep_us(due + 50);
			continue;
		}
		if (n < max) {
			if (results)
				results[n] = r > 0 ? 0 : (int)r;
			ids[n] = r > 0 ? frame_id(g, false) : UINT32_MAX;
		}
		n++;
	}
	return n;
}

static void test_reorder(void)
{
	struct devmem_pair_faults fl = {.seed = 5, .reorder = 0.3};
	uint8_t f[BUF], g[BUF];
	uint32_t ids[300];
	bool seen[200] = {0};
	unsigned n, inversions = 0;
	struct link_stats st;

	open_pair(1, &fl);
	for (unsigned i = 0; i < 200; i++)
		tx1(pa, 0, f, tcp_frame(f, false, i, 30, true));
	n = drain(pb, ids, 300, NULL);
	CHECK_EQ(n, 200);
	for (unsigned i = 0; i < n && i < 300; i++) {
		CHECK(ids[i] < 200 && !seen[ids[i]]);
		if (ids[i] < 200)
			seen[ids[i]] = true;
		if (i && ids[i] < ids[i - 1])
			inversions++;
		/* held back behind 1..3 frames at most */
		CHECK(ids[i] + 3 >= i);
	}
	CHECK(inversions > 0);
	pa->ops->stats(pa, &st);
	CHECK(st.reordered > 0);
	CHECK_EQ(st.dropped + st.tx_full, 0);
	close_pair();

	/* a lone held frame comes out within 1 ms */
	fl.reorder = 1.0;
	open_pair(1, &fl);
	tx1(pa, 0, f, tcp_frame(f, false, 9, 30, true));
	uint64_t t0 = devmem_now_us();
	CHECK_EQ(rx1(pb, 0, g, sizeof(g)), -EAGAIN);
	int64_t due = pb->ops->rx_due_us(pb, 0);
	CHECK(due >= 0 && due <= 1000);
	ssize_t r;
	while ((r = rx1(pb, 0, g, sizeof(g))) == -EAGAIN && devmem_now_us() - t0 < 100000)
		sleep_us(100);
	CHECK(r > 0);
	CHECK(devmem_now_us() - t0 >= 1000);
	close_pair();
}

/* Mixed faults: the same seed gives the same deliveries, frame for frame. */
static unsigned run_mixed(uint64_t seed, uint32_t *ids, int *res, struct link_stats *st)
{
	struct devmem_pair_faults fl = {.seed = seed, .drop = 0.1, .duplicate = 0.1,
					.reorder = 0.1, .corrupt = 0.1};
	uint8_t f[BUF];
	unsigned n;

	open_pair(1, &fl);
	for (unsigned i = 0; i < 300; i++)
		tx1(pa, 0, f, tcp_frame(f, false, i, 20 + i % 17, true));
	n = drain(pb, ids, 400, res);
	pa->ops->stats(pa, st);
	close_pair();
	return n;
}

static void test_determinism(void)
{
	static uint32_t ids1[400], ids2[400], ids3[400];
	static int res1[400], res2[400], res3[400];
	struct link_stats s1, s2, s3;
	unsigned n1 = run_mixed(42, ids1, res1, &s1);
	unsigned n2 = run_mixed(42, ids2, res2, &s2);
	unsigned n3 = run_mixed(43, ids3, res3, &s3);

	CHECK_EQ(n1, n2);
	CHECK(n1 <= 400);
	CHECK_MEM(ids1, ids2, sizeof(ids1[0]) * DEVMEM_MIN(n1, 400u));
	CHECK_MEM(res1, res2, sizeof(res1[0]) * DEVMEM_MIN(n1, 400u));
	CHECK_EQ(s1.dropped, s2.dropped);
	CHECK_EQ(s1.duplicated, s2.duplicated);
	CHECK_EQ(s1.reordered, s2.reordered);
	CHECK_EQ(s1.corrupted, s2.corrupted);
	CHECK(s1.dropped && s1.duplicated && s1.reordered && s1.corrupted);
	/* another seed, other faults */
	CHECK(n1 != n3 || memcmp(ids1, ids3, sizeof(ids1[0]) * DEVMEM_MIN(n1, 400u)) != 0 ||
	      memcmp(res1, res3, sizeof(res1[0]) * DEVMEM_MIN(n1, 400u)) != 0);
}

static void test_delay(void)
{
	struct devmem_pair_faults fl = {.seed = 6, .delay_us = 5000};
	uint8_t f[BUF], g[BUF];
	struct link_stats st;
	ssize_t r;

	open_pair(1, &fl);
	uint64_t t0 = devmem_now_us();
	tx1(pa, 0, f, tcp_frame(f, false, 1, 30, true));
	tx1(pa, 0, f, tcp_frame(f, false, 2, 30, true));
	CHECK_EQ(rx1(pb, 0, g, sizeof(g)), -EAGAIN);
	int64_t due = pb->ops->rx_due_us(pb, 0);
	CHECK(due > 0 && due <= 5000);
	/* the eventfd is cleared while the frame is not due: no busy loop */
	CHECK(!readable(pb->ops->rx_fd(pb, 0), 0));
	sleep_us(2000);
	if (devmem_now_us() - t0 < 4500)
		CHECK_EQ(rx1(pb, 0, g, sizeof(g)), -EAGAIN);
	while ((r = rx1(pb, 0, g, sizeof(g))) == -EAGAIN && devmem_now_us() - t0 < 1000000) {
		due = pb->ops->rx_due_us(pb, 0);
		CHECK(due >= 0);
		sleep_us(due > 0 ? due : 100);
	}
	CHECK(r > 0);
	CHECK(devmem_now_us() - t0 >= 5000);
	CHECK_EQ(frame_id(g, false), 1);
	/* sent a moment later, due a moment later */
	while ((r = rx1(pb, 0, g, sizeof(g))) == -EAGAIN && devmem_now_us() - t0 < 1000000)
		sleep_us(50);
	CHECK(r > 0);
	CHECK_EQ(frame_id(g, false), 2);
	CHECK_EQ(pb->ops->rx_due_us(pb, 0), -1);
	pa->ops->stats(pa, &st);
	CHECK_EQ(st.delayed, 2);
	close_pair();
}

static void test_ring_full(void)
{
	uint8_t f[BUF], g[BUF];
	const unsigned N = 10000;
	unsigned got = 0;
	struct link_stats st;

	open_pair(1, NULL);
	for (unsigned i = 0; i < N; i++)
		CHECK_EQ(tx1(pa, 0, f, tcp_frame(f, false, i, 8, true)), 0);
	pa->ops->stats(pa, &st);
	CHECK(st.tx_full > 0);
	uint64_t full = st.tx_full;
	while (rx1(pb, 0, g, sizeof(g)) > 0) {
		CHECK_EQ(frame_id(g, false), got); /* the first ones, in order */
		got++;
	}
	CHECK_EQ(got + full, N);
	/* room again */
	CHECK_EQ(tx1(pa, 0, f, tcp_frame(f, false, 1, 8, true)), 0);
	CHECK(rx1(pb, 0, g, sizeof(g)) > 0);
	pa->ops->stats(pa, &st);
	CHECK_EQ(st.tx_full, full);

	/* big frames fill the bytes before the descriptors; wrap-around
	 * keeps every frame whole */
	for (unsigned round = 0; round < 3; round++) {
		unsigned sent = 0;
		got = 0;
		for (unsigned i = 0; i < 7000; i++, sent++)
			tx1(pa, 0, f, tcp_frame(f, false, i, 1400, true));
		ssize_t r;
		while ((r = rx1(pb, 0, g, sizeof(g))) > 0) {
			CHECK(g[0] & WIRE_VNET_F_DATA_VALID);
			CHECK_EQ(frame_id(g, false), got);
			got++;
		}
		CHECK_EQ(r, -EAGAIN);
		CHECK(got > 0 && got < sent);
	}
	close_pair();
}

struct waker {
	struct link *l;
	int ms;
};

static void *waker_main(void *arg)
{
	struct waker *w = arg;
	uint8_t f[BUF];

	sleep_us(w->ms * 1000L);
	tx1(w->l, 0, f, tcp_frame(f, false, 1, 10, true));
	return NULL;
}

static void test_eventfd(void)
{
	uint8_t f[BUF], g[BUF];
	int fd;

	open_pair(1, NULL);
	fd = pb->ops->rx_fd(pb, 0);
	CHECK(fd >= 0);
	CHECK(!readable(fd, 0));
	tx1(pa, 0, f, tcp_frame(f, false, 1, 10, true));
	tx1(pa, 0, f, tcp_frame(f, false, 2, 10, true));
	CHECK(readable(fd, 0));
	CHECK(rx1(pb, 0, g, sizeof(g)) > 0);
	CHECK(readable(fd, 0)); /* one still waits */
	CHECK(rx1(pb, 0, g, sizeof(g)) > 0);
	CHECK(!readable(fd, 0)); /* drained: reset */
	CHECK_EQ(rx1(pb, 0, g, sizeof(g)), -EAGAIN);

	/* a poller asleep in poll() is woken by the sender's thread */
	pthread_t th;
	struct waker w = {pa, 20};
	uint64_t t0 = devmem_now_us();
	pthread_create(&th, NULL, waker_main, &w);
	CHECK(readable(fd, 2000));
	CHECK(devmem_now_us() - t0 < 1000000);
	pthread_join(th, NULL);
	CHECK(rx1(pb, 0, g, sizeof(g)) > 0);
	CHECK(!readable(fd, 0));
	close_pair();
}

/* ---- malformed ------------------------------------------------------------ */

static void test_malformed(void)
{
	uint8_t f[BUF], g[BUF];
	size_t len;
	ssize_t r;
	uint64_t rng = 99;

	open_pair(1, NULL);
	/* every truncation of valid IPv4 and IPv6 segments, with complete
	 * checksums (delivered untouched) and partial ones (the NIC fills in
	 * the field where it fits, for what it is worth) */
	for (int v6 = 0; v6 < 2; v6++) {
		for (int partial = 0; partial < 2; partial++) {
			len = tcp_frame(f, v6, 3, 33, partial);
			for (size_t cut = 0; cut < len; cut++) {
				CHECK_EQ(tx1(pa, 0, f, cut), 0);
				memset(g, 0, sizeof(g));
				r = rx1(pb, 0, g, sizeof(g));
				CHECK(r == (ssize_t)cut);
				if (r <= WIRE_VNET_LEN)
					continue;
				CHECK(!(g[0] & WIRE_VNET_F_DATA_VALID));
				if (!partial)
					CHECK_MEM(g, f, cut);
			}
		}
	}
	/* garbage: random lengths and bytes, some looking like IPv4/IPv6 */
	for (unsigned i = 0; i < 3000; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		len = (size_t)(rng >> 33) % 200;
		for (size_t k = 0; k < len; k++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			f[k] = (uint8_t)(rng >> 56);
		}
		if (len > WIRE_VNET_LEN && (i % 3) == 0)
			f[WIRE_VNET_LEN] = i & 8 ? 0x45 : 0x60;
		CHECK_EQ(tx1(pa, 0, f, len), 0);
		r = rx1(pb, 0, g, sizeof(g));
		CHECK(r == (ssize_t)len || r == -EBADMSG);
		if (r > WIRE_VNET_LEN)
			CHECK(!(g[0] & WIRE_VNET_F_DATA_VALID));
	}
	/* a valid header with NEEDS_CSUM offsets past the end: not completed,
	 * NEEDS_CSUM not passed on, the receiver's check judges it */
	len = tcp_frame(f, false, 4, 20, true);
	f[6] = 0xff, f[7] = 0x7f; /* csum_start */
	CHECK_EQ(tx1(pa, 0, f, len), 0);
	r = rx1(pb, 0, g, sizeof(g));
	CHECK_EQ(r, -EBADMSG);
	/* too big to send; too big for the reader's buffer (consumed) */
	CHECK_EQ(tx1(pa, 0, f, WIRE_VNET_LEN + 1501), -EMSGSIZE);
	len = tcp_frame(f, false, 5, 100, true);
	tx1(pa, 0, f, len);
	tx1(pa, 0, f, len);
	CHECK_EQ(rx1(pb, 0, g, len - 1), -EMSGSIZE);
	CHECK_EQ(rx1(pb, 0, g, len), (ssize_t)len);
	CHECK_EQ(rx1(pb, 0, g, len), -EAGAIN);
	/* a sender's DATA_VALID is not believed */
	len = tcp_frame(f, false, 6, 10, false);
	f[len - 1] ^= 0xff;
	f[0] = WIRE_VNET_F_DATA_VALID;
	tx1(pa, 0, f, len);
	CHECK_EQ(rx1(pb, 0, g, sizeof(g)), -EBADMSG);
	close_pair();

	/* bad arguments */
	struct link *x, *y;
	CHECK_EQ(link_pair_create(0, 1500, NULL, NULL, &x, &y), -EINVAL);
	CHECK_EQ(link_pair_create(1, 100, NULL, NULL, &x, &y), -EINVAL);
}

/* A 9000-byte MTU link and a 64 KiB one carry frames of that size. */
static void test_big_mtu(void)
{
	static const uint32_t mtus[] = {9000, 65535};
	static uint8_t f[70000], g[70000], l4[70000];

	for (size_t m = 0; m < DEVMEM_ARRAY_SIZE(mtus); m++) {
		uint32_t mtu = mtus[m];
		size_t n = mtu - WIRE_IPV6_LEN, len;

		CHECK_EQ(link_pair_create(1, mtu, NULL, NULL, &pa, &pb), 0);
		for (size_t i = 0; i < n; i++)
			l4[i] = (uint8_t)(i * 31);
		struct wire_tcp t = {.sport = 1, .dport = 2, .flags = WIRE_TCP_ACK};
		wire_tcp_emit(&t, l4);
		len = lu_build(f, true, A6, B6, WIRE_PROTO_TCP, l4, n, true);
		CHECK_EQ(len, WIRE_VNET_LEN + mtu);
		for (int k = 0; k < 200; k++) { /* wraps the byte ring */
			CHECK_EQ(tx1(pa, 0, f, len), 0);
			CHECK_EQ(rx1(pb, 0, g, sizeof(g)), (ssize_t)len);
		}
		CHECK(g[0] & WIRE_VNET_F_DATA_VALID);
		CHECK(lu_l4_ok(g, len));
		CHECK_EQ(pa->caps.max_frame, mtu);
		close_pair();
	}
}

int main(void)
{
	RUN(test_csum_offload);
	RUN(test_directions_and_queues);
	RUN(test_bad_csum);
	RUN(test_corrupt);
	RUN(test_drop);
	RUN(test_duplicate);
	RUN(test_reorder);
	RUN(test_determinism);
	RUN(test_delay);
	RUN(test_ring_full);
	RUN(test_eventfd);
	RUN(test_malformed);
	RUN(test_big_mtu);
	return CHECK_DONE();
}
