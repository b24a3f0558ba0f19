/* SPDX-License-Identifier: MIT */
/*
 * The TUN link against the kernel of this machine, in a network namespace
 * this test makes for itself (unshare(CLONE_NEWNET)), so nothing leaks out
 * and only documentation addresses are used: the kernel is 192.0.2.2 and
 * 2001:db8::2, "we" (the link) are 192.0.2.1 and 2001:db8::1.
 *
 * The kernel sends (UDP sendto, TCP connect, bulk TCP data with TSO) and we
 * read frames from the link; we send (UDP with partial checksums, a TCP
 * handshake by hand) and the kernel's sockets receive. Needs root and
 * /dev/net/tun, else it skips (77).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* unshare() */
#endif
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "link/link.h"
#include "linkutil.h"
#include "util/util.h"
#include "wire/wire.h"

#define IFNAME "dmtest0"
#define FRAME_MAX (WIRE_VNET_LEN + 65536)

static const uint8_t US4[4] = {192, 0, 2, 1}, KERN4[4] = {192, 0, 2, 2};
static const uint8_t US6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t KERN6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static uint8_t frame[FRAME_MAX];
static unsigned noise;

static struct link *open_tun(const char *name, unsigned queues)
{
	struct devmem_tun_opts o = {.ifname = name, .prefix4 = 24, .prefix6 = 64};
	int err = 0;
	struct link *l;

	memcpy(&o.peer_ipv4, KERN4, 4);
	memcpy(&o.peer_ipv6, KERN6, 16);
	l = link_tun_open(&o, queues, 1500, &err);
	if (!l)
		fprintf(stderr, "link_tun_open(%s, %u): %s\n", name, queues, strerror(-err));
	return l;
}

struct want {
	bool v6;
	uint8_t proto;
	uint16_t dport; /* 0: any */
};

/* Parsed view of a frame from the kernel. */
struct got {
	struct wire_vnet v;
	bool v6;
	uint8_t proto;
	const uint8_t *ip, *l4;
	uint32_t l4len;
	uint16_t sport, dport;
};

static bool parse_frame(const uint8_t *f, size_t len, struct got *g)
{
	memset(g, 0, sizeof(*g));
	if (wire_vnet_parse(f, len, &g->v) < 0)
		return false;
	g->ip = f + WIRE_VNET_LEN;
	len -= WIRE_VNET_LEN;
	if (len && g->ip[0] >> 4 == 4) {
		struct wire_ipv4 h;
		int r = wire_ipv4_parse(g->ip, len, &h);
		if (r < 0)
			return false;
		if (memcmp(h.dst, US4, 4) || memcmp(h.src, KERN4, 4))
			return false;
		g->proto = h.proto;
		g->l4 = g->ip + r;
		g->l4len = h.total_len - (uint32_t)r;
	} else if (len && g->ip[0] >> 4 == 6) {
		struct wire_ipv6 h;
		int r = wire_ipv6_parse(g->ip, len, &h);
		if (r < 0)
			return false;
		if (memcmp(h.dst, US6, 16) || memcmp(h.src, KERN6, 16))
			return false;
		g->v6 = true;
		g->proto = h.proto;
		g->l4 = g->ip + r;
		g->l4len = WIRE_IPV6_LEN + h.payload_len - (uint32_t)r;
	} else {
		return false;
	}
	if (g->l4len >= 4 && (g->proto == WIRE_PROTO_TCP || g->proto == WIRE_PROTO_UDP)) {
		g->sport = wire_get16(g->l4);
		g->dport = wire_get16(g->l4 + 2);
	}
	return true;
}

/*
 * Complete a partial checksum in place (as a NIC would before putting the
 * frame on a wire): the kernel leaves NEEDS_CSUM frames with the
 * pseudo-header sum in the field. Then the independent check must pass.
 */
static bool csum_complete_ok(uint8_t *f, size_t len, const struct got *g)
{
	if (g->v.flags & WIRE_VNET_F_NEEDS_CSUM) {
		uint8_t *p = f + WIRE_VNET_LEN;
		size_t plen = len - WIRE_VNET_LEN;

		if ((size_t)g->v.csum_start + g->v.csum_offset + 2 > plen)
			return false;
		wire_put16(p + g->v.csum_start + g->v.csum_offset,
			   (uint16_t)~lu_fold(lu_sum(0, p + g->v.csum_start,
						     plen - g->v.csum_start)));
	}
	return lu_l4_ok(f, len);
}

/* Read frames from any queue of l until one matches; others are noise the
 * kernel sends on its own (MLD reports and the like), counted. */
static ssize_t wait_frame(struct link *l, const struct want *w, struct got *g, int ms,
			  unsigned *qout)
{
	uint64_t end = devmem_now_us() + (uint64_t)ms * 1000;
	struct pollfd p[8];
	unsigned nq = DEVMEM_MIN(l->caps.queues, 8u);

	for (;;) {
		for (unsigned q = 0; q < nq; q++) {
			struct iovec iov = {frame, sizeof(frame)};
			ssize_t n = l->ops->rx(l, q, &iov, 1);

			if (n == -EAGAIN)
				continue;
			if (n < 0) {
				fprintf(stderr, "rx: %s\n", strerror((int)-n));
				return n;
			}
			if (parse_frame(frame, (size_t)n, g) && g->v6 == w->v6 &&
			    g->proto == w->proto && (!w->dport || g->dport == w->dport)) {
				if (qout)
					*qout = q;
				return n;
			}
			noise++;
			if (noise <= 10)
				fprintf(stderr, "  (other frame: %zd bytes, ip version %u, "
					"next/proto %u)\n", n, frame[WIRE_VNET_LEN] >> 4,
					frame[WIRE_VNET_LEN] >> 4 == 6 ? frame[WIRE_VNET_LEN + 6]
									: frame[WIRE_VNET_LEN + 9]);
		}
		uint64_t now = devmem_now_us();
		if (now >= end)
			return -ETIMEDOUT;
		for (unsigned q = 0; q < nq; q++)
			p[q] = (struct pollfd){.fd = l->ops->rx_fd(l, q), .events = POLLIN};
		poll(p, nq, (int)((end - now + 999) / 1000));
	}
}

static socklen_t sa4(struct sockaddr_storage *ss, const uint8_t *a, uint16_t port)
{
	struct sockaddr_in *s = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	memcpy(&s->sin_addr, a, 4);
	return sizeof(*s);
}

static socklen_t sa6(struct sockaddr_storage *ss, const uint8_t *a, uint16_t port)
{
	struct sockaddr_in6 *s = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	memcpy(&s->sin6_addr, a, 16);
	return sizeof(*s);
}

static socklen_t sa(struct sockaddr_storage *ss, bool v6, const uint8_t *a, uint16_t port)
{
	return v6 ? sa6(ss, a, port) : sa4(ss, a, port);
}

static int tx_frame(struct link *l, unsigned q, const uint8_t *f, size_t len)
{
	struct iovec iov = {(void *)f, len};

	return l->ops->tx(l, q, &iov, 1);
}

/* Wait up to ms for a datagram on fd. */
static ssize_t recv_wait(int fd, void *buf, size_t cap, int ms, struct sockaddr_storage *from)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	socklen_t fl = sizeof(*from);

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	return recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)from, &fl);
}

/* ---- UDP both ways ------------------------------------------------------ */

static void udp_both_ways(struct link *l, bool v6)
{
	struct sockaddr_storage ss, from;
	struct want w = {.v6 = v6, .proto = WIRE_PROTO_UDP, .dport = 9};
	struct got g;
	uint8_t l4[256], f[512];
	char buf[64];
	const char *msg = "hello devmem";
	int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;
	size_t len;

	CHECK(s >= 0);
	/* bind at once: a tentative IPv6 address would fail EADDRNOTAVAIL */
	if (bind(s, (struct sockaddr *)&ss, sa(&ss, v6, v6 ? KERN6 : KERN4, 5000)) < 0) {
		fprintf(stderr, "bind %s: %s\n", v6 ? "[2001:db8::2]" : "192.0.2.2",
			strerror(errno));
		check_failures++;
		close(s);
		return;
	}
	CHECK_EQ(sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&ss,
			sa(&ss, v6, v6 ? US6 : US4, 9)),
		 (ssize_t)strlen(msg));
	n = wait_frame(l, &w, &g, 2000, NULL);
	CHECK(n > 0);
	if (n > 0) {
		fprintf(stderr, "  %s UDP from the kernel: %zd bytes, vnet flags %#x gso %u "
			"csum_start %u csum_offset %u\n", v6 ? "IPv6" : "IPv4", n, g.v.flags,
			g.v.gso_type, g.v.csum_start, g.v.csum_offset);
		CHECK_EQ(g.sport, 5000);
		CHECK_EQ(g.l4len, 8 + strlen(msg));
		CHECK_MEM(g.l4 + 8, msg, strlen(msg));
		CHECK_EQ(g.v.gso_type, WIRE_VNET_GSO_NONE);
		if (g.v.flags & WIRE_VNET_F_NEEDS_CSUM) {
			CHECK_EQ(g.v.csum_start, v6 ? WIRE_IPV6_LEN : WIRE_IPV4_MIN);
			CHECK_EQ(g.v.csum_offset, 6);
		}
		CHECK(csum_complete_ok(frame, (size_t)n, &g));
	}

	/* and back, with a partial checksum the kernel must complete or trust */
	len = lu_build(f, v6, v6 ? US6 : US4, v6 ? KERN6 : KERN4, WIRE_PROTO_UDP, l4,
		       lu_udp(l4, 9, 5000, "pong", 4), true);
	CHECK_EQ(tx_frame(l, 0, f, len), 0);
	n = recv_wait(s, buf, sizeof(buf), 2000, &from);
	CHECK_EQ(n, 4);
	if (n == 4)
		CHECK_MEM(buf, "pong", 4);
	CHECK_EQ(from.ss_family, v6 ? AF_INET6 : AF_INET);
	if (v6)
		CHECK_MEM(&((struct sockaddr_in6 *)&from)->sin6_addr, US6, 16);
	else
		CHECK_MEM(&((struct sockaddr_in *)&from)->sin_addr, US4, 4);

	/* a complete but wrong checksum, no flags: the kernel checks, drops */
	len = lu_build(f, v6, v6 ? US6 : US4, v6 ? KERN6 : KERN4, WIRE_PROTO_UDP, l4,
		       lu_udp(l4, 9, 5000, "bad!", 4), false);
	f[len - 1] ^= 0x20;
	CHECK_EQ(tx_frame(l, 0, f, len), 0);
	CHECK_EQ(recv_wait(s, buf, sizeof(buf), 200, &from), -ETIMEDOUT);

	/* a frame one byte longer than the reader's buffers: -EMSGSIZE and
	 * consumed; one that fills them exactly: delivered */
	static char big[1000];
	size_t exact = WIRE_VNET_LEN + (v6 ? WIRE_IPV6_LEN : WIRE_IPV4_MIN) + 8 + sizeof(big);
	struct pollfd p = {.fd = l->ops->rx_fd(l, 0), .events = POLLIN};
	for (int round = 0; round < 2; round++) {
		struct iovec iov[2] = {{frame, 100}, {frame + 100, exact - 100 - (round == 0)}};
		ssize_t r = -EAGAIN;

		memset(big, 'a' + round, sizeof(big));
		sendto(s, big, sizeof(big), 0, (struct sockaddr *)&ss,
		       sa(&ss, v6, v6 ? US6 : US4, 9));
		for (int i = 0; i < 100 && r == -EAGAIN; i++) {
			poll(&p, 1, 20);
			r = l->ops->rx(l, 0, iov, 2);
		}
		CHECK_EQ(r, round == 0 ? -EMSGSIZE : (ssize_t)exact);
		if (round == 1 && r > 0)
			CHECK_EQ(frame[exact - 1], 'b');
	}
	struct want wb = {.v6 = v6, .proto = WIRE_PROTO_UDP, .dport = 9};
	CHECK_EQ(wait_frame(l, &wb, &g, 100, NULL), -ETIMEDOUT); /* nothing left */
	close(s);
}

static struct link *tun;

static void test_udp_v4(void) { udp_both_ways(tun, false); }
static void test_udp_v6(void) { udp_both_ways(tun, true); }

/* ---- TCP: the kernel connects, we answer by hand, it sends in bulk ------- */

static size_t tcp_seg(uint8_t *f, bool v6, uint16_t sport, uint16_t dport, uint32_t seq,
		      uint32_t ack, uint8_t flags, const struct wire_tcp_opts *opts)
{
	uint8_t l4[128];
	struct wire_tcp t = {.sport = sport, .dport = dport, .seq = seq, .ack = ack,
			     .flags = flags, .window = 65535};
	size_t hl;

	if (opts)
		t.opts = *opts;
	hl = wire_tcp_emit(&t, l4);
	return lu_build(f, v6, v6 ? US6 : US4, v6 ? KERN6 : KERN4, WIRE_PROTO_TCP, l4, hl, true);
}

static void tcp_bulk(struct link *l, bool v6)
{
	const uint32_t total = 1u << 20;
	struct sockaddr_storage ss;
	struct want w = {.v6 = v6, .proto = WIRE_PROTO_TCP, .dport = 80};
	struct got g;
	struct wire_tcp th;
	uint8_t f[256];
	int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ssize_t n;

	CHECK(s >= 0);
	CHECK_EQ(connect(s, (struct sockaddr *)&ss, sa(&ss, v6, v6 ? US6 : US4, 80)), -1);
	CHECK_EQ(errno, EINPROGRESS);

	/* the SYN */
	n = wait_frame(l, &w, &g, 2000, NULL);
	CHECK(n > 0);
	if (n <= 0)
		goto out;
	CHECK(wire_tcp_parse(g.l4, g.l4len, &th) > 0);
	CHECK_EQ(th.flags, WIRE_TCP_SYN);
	CHECK(th.opts.present & WIRE_OPT_MSS);
	CHECK(csum_complete_ok(frame, (size_t)n, &g));
	fprintf(stderr, "  %s SYN: %zd bytes, vnet flags %#x, mss %u\n", v6 ? "IPv6" : "IPv4",
		n, g.v.flags, th.opts.mss);
	uint16_t kport = th.sport;
	uint32_t kseq = th.seq + 1, our = 1000;

	/* SYN-ACK: MSS 1460, window scale 7 for a big window */
	struct wire_tcp_opts o = {.present = WIRE_OPT_MSS | WIRE_OPT_WSCALE, .mss = 1460,
				  .wscale = 7};
	CHECK_EQ(tx_frame(l, 0, f, tcp_seg(f, v6, 80, kport, our, kseq,
					   WIRE_TCP_SYN | WIRE_TCP_ACK, &o)), 0);
	our++;
	struct pollfd p = {.fd = s, .events = POLLOUT};
	CHECK_EQ(poll(&p, 1, 2000), 1);
	int soerr = -1;
	socklen_t sl = sizeof(soerr);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	CHECK_EQ(soerr, 0); /* our SYN-ACK, partial checksum and all, was taken */

	/* bulk data: the kernel hands us TSO super-packets */
	static uint8_t data[1u << 20];
	for (uint32_t i = 0; i < total; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 9));
	uint32_t sent = 0, got = 0, frames = 0, gso_frames = 0, max_len = 0, gso_size = 0;
	unsigned flags_or = 0, flags_and = 0xff;
	uint64_t deadline = devmem_now_us() + 10000000;

	while (got < total && devmem_now_us() < deadline) {
		if (sent < total) {
			ssize_t k = send(s, data + sent, total - sent, MSG_DONTWAIT);
			if (k > 0)
				sent += (uint32_t)k;
		}
		n = wait_frame(l, &w, &g, 50, NULL);
		if (n == -ETIMEDOUT)
			continue;
		CHECK(n > 0);
		if (n <= 0)
			break;
		if (wire_tcp_parse(g.l4, g.l4len, &th) < 0 || th.sport != kport)
			continue;
		uint32_t pay = g.l4len - th.hdr_len;
		if (!pay)
			continue;
		frames++;
		flags_or |= g.v.flags;
		flags_and &= g.v.flags;
		max_len = DEVMEM_MAX(max_len, (uint32_t)n - WIRE_VNET_LEN);
		if (g.v.gso_type != WIRE_VNET_GSO_NONE) {
			gso_frames++;
			gso_size = g.v.gso_size;
			CHECK_EQ(g.v.gso_type & ~WIRE_VNET_GSO_ECN,
				 v6 ? WIRE_VNET_GSO_TCPV6 : WIRE_VNET_GSO_TCPV4);
			CHECK_EQ(g.v.hdr_len, (g.l4 - g.ip) + th.hdr_len);
		}
		CHECK(csum_complete_ok(frame, (size_t)n, &g));
		if (th.seq == kseq) {
			CHECK(got + pay <= total);
			if (got + pay <= total && memcmp(g.l4 + th.hdr_len, data + got, pay)) {
				fprintf(stderr, "payload differs at %u\n", got);
				check_failures++;
				break;
			}
			kseq += pay;
			got += pay;
		}
		/* cumulative ACK, window 65535 << 7 */
		tx_frame(l, 0, f, tcp_seg(f, v6, 80, kport, our, kseq, WIRE_TCP_ACK, NULL));
	}
	CHECK_EQ(got, total);
	CHECK(gso_frames > 0);
	CHECK(max_len > 1500);
	CHECK(max_len <= l->caps.max_frame);
	CHECK(flags_and & WIRE_VNET_F_NEEDS_CSUM);
	fprintf(stderr, "  %s bulk: %u bytes in %u frames, %u GSO (gso_size %u), largest "
		"IP packet %u, vnet flags seen %#x (always %#x)\n", v6 ? "IPv6" : "IPv4", got,
		frames, gso_frames, gso_size, max_len, flags_or, flags_and);
	/* a RST so that the kernel forgets it quickly */
	tx_frame(l, 0, f, tcp_seg(f, v6, 80, kport, our, kseq, WIRE_TCP_RST | WIRE_TCP_ACK, NULL));
out:
	close(s);
}

static void test_tcp_v4(void) { tcp_bulk(tun, false); }
static void test_tcp_v6(void) { tcp_bulk(tun, true); }

/* ---- interface state ---------------------------------------------------- */

/* The kernel's address flags for 2001:db8::2 (/proc/net/if_inet6), or -1. */
static int addr6_flags(void)
{
	FILE *fp = fopen("/proc/net/if_inet6", "r");
	char addr[40], dev[IFNAMSIZ + 1];
	unsigned idx, plen, scope, flags;
	int r = -1;

	if (!fp)
		return -1;
	while (fscanf(fp, "%39s %x %x %x %x %16s", addr, &idx, &plen, &scope, &flags, dev) == 6)
		if (!strcmp(addr, "20010db8000000000000000000000002") && !strcmp(dev, IFNAME))
			r = (int)flags;
	fclose(fp);
	return r;
}

static void test_config(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	int f6 = addr6_flags();

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), IFNAME);
	CHECK_EQ(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	CHECK(ifr.ifr_flags & IFF_UP);
	CHECK(ifr.ifr_flags & IFF_POINTOPOINT);
	CHECK(ifr.ifr_flags & IFF_NOARP);
	CHECK_EQ(ioctl(s, SIOCGIFMTU, &ifr), 0);
	CHECK_EQ(ifr.ifr_mtu, 1500);
	CHECK_EQ(ioctl(s, SIOCGIFADDR, &ifr), 0);
	CHECK_MEM(&((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, KERN4, 4);
	CHECK_EQ(ioctl(s, SIOCGIFNETMASK, &ifr), 0);
	CHECK_EQ(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr, htonl(0xffffff00));
	close(s);
	/* IFA_F_TENTATIVE 0x40: must not be set, not even for a moment */
	fprintf(stderr, "  2001:db8::2 flags %#x\n", f6);
	CHECK(f6 >= 0 && !(f6 & 0x40));
	CHECK_EQ(tun->caps.queues, 1);
	CHECK_EQ(tun->caps.mtu, 1500);
	CHECK(tun->caps.max_frame >= 65535);
	CHECK(tun->caps.rx_gso && tun->caps.tx_gso && tun->caps.tx_csum);
	CHECK_EQ(tun->ops->rx_due_us(tun, 0), -1);
	CHECK_EQ(tun->ops->rx_fd(tun, 1), -1);

	/* a second link on the same interface: addresses already there are
	 * fine; it leaves with its own fd, the interface stays */
	struct link *again = open_tun(IFNAME, 1);
	CHECK(again != NULL);
	if (again)
		again->ops->destroy(again);
	CHECK(if_nametoindex(IFNAME) != 0);
}

/* Two queues: the kernel spreads flows over them, both receive, both send. */
static void test_multiqueue(void)
{
	struct link *l = open_tun("dmtest1", 2);
	struct sockaddr_storage ss, from;
	unsigned per_q[2] = {0, 0}, q = 0;
	struct got g;
	int socks[16];
	char buf[16];

	CHECK(l != NULL);
	if (!l)
		return;
	CHECK_EQ(l->caps.queues, 2);
	CHECK(l->ops->rx_fd(l, 0) != l->ops->rx_fd(l, 1));
	/* dmtest1 shares 192.0.2.0/24 with dmtest0: bind to the device */
	for (int i = 0; i < 16; i++) {
		socks[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		setsockopt(socks[i], SOL_SOCKET, SO_BINDTODEVICE, "dmtest1", 8);
		bind(socks[i], (struct sockaddr *)&ss, sa4(&ss, KERN4, (uint16_t)(6000 + i)));
		sendto(socks[i], "x", 1, 0, (struct sockaddr *)&ss, sa4(&ss, US4, 9));
		struct want w = {.proto = WIRE_PROTO_UDP, .dport = 9};
		ssize_t n = wait_frame(l, &w, &g, 2000, &q);
		CHECK(n > 0);
		if (n > 0)
			per_q[q]++;
	}
	fprintf(stderr, "  16 flows over 2 queues: %u + %u\n", per_q[0], per_q[1]);
	CHECK_EQ(per_q[0] + per_q[1], 16);
	/* each queue transmits */
	for (unsigned tq = 0; tq < 2; tq++) {
		uint8_t l4[64], f[128];
		size_t len = lu_build(f, false, US4, KERN4, WIRE_PROTO_UDP, l4,
				      lu_udp(l4, 9, 6000, "q", 1), true);
		CHECK_EQ(tx_frame(l, tq, f, len), 0);
		CHECK_EQ(recv_wait(socks[0], buf, sizeof(buf), 2000, &from), 1);
	}
	for (int i = 0; i < 16; i++)
		close(socks[i]);
	l->ops->destroy(l);
	CHECK_EQ(if_nametoindex("dmtest1"), 0); /* not persistent */
}

static void test_bad_args(void)
{
	struct devmem_tun_opts o = {.ifname = "dmtest-name-far-too-long"};
	int err = 0;

	CHECK(link_tun_open(&o, 1, 1500, &err) == NULL);
	CHECK_EQ(err, -EINVAL);
	o.ifname = "dmtest2";
	CHECK(link_tun_open(&o, 0, 1500, &err) == NULL);
	CHECK_EQ(err, -EINVAL);
}

static void lo_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

int main(void)
{
	int fd;

	if (geteuid() != 0)
		SKIP("needs root (TUN, network namespace)");
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "/dev/net/tun: %s\n", strerror(errno));
		SKIP("no /dev/net/tun");
	}
	close(fd);
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		SKIP("cannot make a network namespace");
	}
	lo_up();
	tun = open_tun(IFNAME, 1);
	if (!tun)
		return 1;
	RUN(test_config);
	RUN(test_udp_v4);
	RUN(test_udp_v6);
	RUN(test_tcp_v4);
	RUN(test_tcp_v6);
	RUN(test_multiqueue);
	RUN(test_bad_args);
	struct link_stats st;
	tun->ops->stats(tun, &st);
	CHECK(st.rx_frames > 0 && st.tx_frames > 0);
	tun->ops->destroy(tun);
	CHECK_EQ(if_nametoindex(IFNAME), 0); /* gone with the last queue */
	fprintf(stderr, "  %u unrelated frames from the kernel\n", noise);
	return CHECK_DONE();
}
