/* SPDX-License-Identifier: MIT */
/*
 * The packetdrill adapter, driven as packetdrill drives it: dlopen
 * libdevmem-packetdrill.so with packetdrill's flags, call
 * packetdrill_interface_init, then play exchanges through the table: the
 * socket calls on one side, packets injected with netdev_send and sniffed
 * with netdev_receive on the other. Passive open, data and its ACK, data
 * out, FIN both ways, over IPv4 and IPv6; an active open; a RST for a
 * closed port; errno of a few bad calls. Packets are built and checked
 * here with a checksum loop of the test's own (RFC 1071, naive).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "check.h"
#include "pd_iface.h"

#ifndef DEVMEM_PD_SO
#error "DEVMEM_PD_SO: path of libdevmem-packetdrill.so (set by CMake)"
#endif

/* RTLD_DEEPBIND is what packetdrill passes; the sanitizers' runtime cannot
 * live with it (their interceptors must come first), so not under them. */
#if defined(__SANITIZE_ADDRESS__)
#define PD_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)
#else
#define PD_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE | RTLD_DEEPBIND)
#endif

static struct packetdrill_interface ifc;
static void *ud;

/* ---- packets ----------------------------------------------------------------- */

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

struct peer {
	int family;
	uint8_t local[16];  /* the stack */
	uint8_t remote[16]; /* us, the "wire" */
	int alen;
};

struct seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint8_t opts[40];
	unsigned optlen;
	const uint8_t *data;
	unsigned len;
};

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t pseudo(const struct peer *pr, const uint8_t *src, const uint8_t *dst,
		       uint32_t l4len)
{
	uint32_t s = sum16(sum16(0, src, (size_t)pr->alen), dst, (size_t)pr->alen);

	return s + 6 + (l4len >> 16) + (l4len & 0xffff);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Inject one segment from the remote side. */
static void inject(const struct peer *pr, const struct seg *s)
{
	uint8_t pkt[2048];
	unsigned ipl = pr->family == AF_INET ? 20 : 40;
	unsigned tl = 20 + s->optlen, l4 = tl + s->len;
	uint8_t *t = pkt + ipl;

	memset(pkt, 0, sizeof(pkt));
	if (pr->family == AF_INET) {
		pkt[0] = 0x45;
		put16(pkt + 2, (uint16_t)(ipl + l4));
		pkt[6] = 0x40; /* DF */
		pkt[8] = 64;
		pkt[9] = 6;
		memcpy(pkt + 12, pr->remote, 4);
		memcpy(pkt + 16, pr->local, 4);
		put16(pkt + 10, (uint16_t)~fold(sum16(0, pkt, 20)));
	} else {
		pkt[0] = 0x60;
		put16(pkt + 4, (uint16_t)l4);
		pkt[6] = 6;
		pkt[7] = 64;
		memcpy(pkt + 8, pr->remote, 16);
		memcpy(pkt + 24, pr->local, 16);
	}
	put16(t, s->sport);
	put16(t + 2, s->dport);
	put32(t + 4, s->seq);
	put32(t + 8, s->ack);
	t[12] = (uint8_t)(tl / 4 << 4);
	t[13] = s->flags;
	put16(t + 14, s->win);
	memcpy(t + 20, s->opts, s->optlen);
	if (s->len)
		memcpy(t + tl, s->data, s->len);
	put16(t + 16, (uint16_t)~fold(sum16(pseudo(pr, pr->remote, pr->local, l4), t, l4)));
	CHECK_EQ(ifc.netdev_send(ud, pkt, ipl + l4), 0);
}

/* What the stack sent, parsed; false when nothing came. */
struct rcvd {
	struct seg s;
	uint8_t payload[2048];
	long long t_us;
};

static bool sniff(const struct peer *pr, struct rcvd *r)
{
	uint8_t pkt[4096];
	size_t n = sizeof(pkt);
	unsigned ipl, l4;

	memset(r, 0, sizeof(*r));
	if (ifc.netdev_receive(ud, pkt, &n, &r->t_us) != 0 || n == 0)
		return false;
	if (pr->family == AF_INET) {
		CHECK_EQ(pkt[0], 0x45);
		CHECK_EQ(fold(sum16(0, pkt, 20)), 0xffff); /* IP header checksum */
		CHECK_EQ(pkt[9], 6);
		CHECK_MEM(pkt + 12, pr->local, 4);
		CHECK_MEM(pkt + 16, pr->remote, 4);
		ipl = 20;
		l4 = get16(pkt + 2) - 20;
	} else {
		CHECK_EQ(pkt[0] >> 4, 6);
		CHECK_EQ(pkt[6], 6);
		CHECK_MEM(pkt + 8, pr->local, 16);
		CHECK_MEM(pkt + 24, pr->remote, 16);
		ipl = 40;
		l4 = get16(pkt + 4);
	}
	CHECK_EQ(ipl + l4, n);
	const uint8_t *t = pkt + ipl;
	/* the whole TCP checksum: packetdrill verifies what it sniffs */
	CHECK_EQ(fold(sum16(pseudo(pr, pr->local, pr->remote, l4), t, l4)), 0xffff);
	unsigned tl = (unsigned)(t[12] >> 4) * 4;
	r->s.sport = get16(t);
	r->s.dport = get16(t + 2);
	r->s.seq = get32(t + 4);
	r->s.ack = get32(t + 8);
	r->s.flags = t[13];
	r->s.win = get16(t + 14);
	r->s.optlen = tl - 20;
	memcpy(r->s.opts, t + 20, r->s.optlen);
	r->s.len = l4 - tl;
	if (r->s.len <= sizeof(r->payload))
		memcpy(r->payload, t + tl, r->s.len);
	r->s.data = r->payload;
	return true;
}

static long long now_us(void)
{
	struct timeval tv;

	ifc.gettimeofday(ud, &tv, NULL);
	return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* Options of a peer's SYN as Linux writes them: MSS 1000, SACK-permitted,
 * timestamps (tsval), NOP, window scale 7. */
static unsigned syn_opts(uint8_t *o, uint32_t tsval)
{
	const uint8_t head[] = {2, 4, 0x03, 0xe8, 4, 2, 8, 10};

	memcpy(o, head, sizeof(head));
	put32(o + 8, tsval);
	put32(o + 12, 0);
	o[16] = 1;
	o[17] = 3;
	o[18] = 3;
	o[19] = 7;
	return 20;
}

static unsigned ts_opts(uint8_t *o, uint32_t val, uint32_t ecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	put32(o + 4, val);
	put32(o + 8, ecr);
	return 12;
}

static void sockaddr_of(const struct peer *pr, const uint8_t *addr, uint16_t port,
			struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (pr->family == AF_INET) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, addr, 4);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, addr, 16);
		*len = sizeof(*in6);
	}
}

static struct peer peer4(void)
{
	struct peer p = {.family = AF_INET, .alen = 4};

	inet_pton(AF_INET, "192.0.2.1", p.local);
	inet_pton(AF_INET, "192.0.2.2", p.remote);
	return p;
}

static struct peer peer6(void)
{
	struct peer p = {.family = AF_INET6, .alen = 16};

	inet_pton(AF_INET6, "2001:db8::1", p.local);
	inet_pton(AF_INET6, "2001:db8::2", p.remote);
	return p;
}

/* ---- exchanges ---------------------------------------------------------------- */

/*
 * Passive open, as packetdrill's scripts start: the SYN-ACK's options in
 * Linux's order and values (MSS, SACK-permitted + TS, NOP, wscale 8 under
 * the adapter's 15 MiB receive buffer); 1000 bytes in and their ACK; 3000
 * bytes out in MSS-sized segments; FIN in, FIN out.
 */
static void passive(const struct peer *pr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct rcvd r;
	struct seg s;
	uint8_t buf[4000], data[3000];
	int one = 1, lfd, fd, v;
	uint32_t iss, tsval;
	uint16_t rport = 40000;

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	lfd = ifc.socket(ud, pr->family, SOCK_STREAM, IPPROTO_TCP);
	CHECK(lfd >= 0);
	CHECK_EQ(ifc.setsockopt(ud, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	sockaddr_of(pr, pr->local, port, &ss, &sl);
	CHECK_EQ(ifc.bind(ud, lfd, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(ifc.listen(ud, lfd, 1), 0);
	/* nothing to accept yet */
	CHECK_EQ(ifc.fcntl(ud, lfd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
	CHECK_EQ(ifc.accept(ud, lfd, NULL, NULL), -1);
	CHECK_EQ(errno, EAGAIN);

	memset(&s, 0, sizeof(s));
	s.sport = rport;
	s.dport = port;
	s.seq = 0;
	s.flags = F_SYN;
	s.win = 32792;
	s.optlen = syn_opts(s.opts, 100);
	long long t0 = now_us();
	inject(pr, &s);
	CHECK(sniff(pr, &r));
	CHECK_EQ(r.s.flags, F_SYN | F_ACK);
	CHECK_EQ(r.s.sport, port);
	CHECK_EQ(r.s.dport, rport);
	CHECK_EQ(r.s.ack, 1);
	CHECK(r.t_us >= t0 && r.t_us - t0 < 200000);
	iss = r.s.seq;
	/* <mss 1460,sackOK,TS val X ecr 100,nop,wscale 8> (IPv6: MTU 1520) */
	CHECK_EQ(r.s.optlen, 20);
	const uint8_t want[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};
	CHECK_MEM(r.s.opts, want, sizeof(want));
	CHECK_EQ(get32(r.s.opts + 12), 100);
	const uint8_t ws[] = {1, 3, 3, 8};
	CHECK_MEM(r.s.opts + 16, ws, sizeof(ws));
	tsval = get32(r.s.opts + 8);

	/* the handshake's ACK: accept() has a connection at once */
	s.flags = F_ACK;
	s.seq = 1;
	s.ack = iss + 1;
	s.win = 257;
	s.optlen = ts_opts(s.opts, 110, tsval);
	inject(pr, &s);
	sl = sizeof(ss);
	fd = ifc.accept(ud, lfd, (struct sockaddr *)&ss, &sl);
	CHECK(fd >= 0);
	if (pr->family == AF_INET) {
		CHECK_EQ(sl, sizeof(struct sockaddr_in));
		CHECK_EQ(ntohs(((struct sockaddr_in *)&ss)->sin_port), rport);
	}

	/* 1000 bytes in: an ACK, and SIOCINQ / read see them */
	s.flags = F_ACK | F_PSH;
	s.data = data;
	s.len = 1000;
	s.optlen = ts_opts(s.opts, 120, tsval);
	t0 = now_us();
	inject(pr, &s);
	CHECK(sniff(pr, &r));
	CHECK_EQ(r.s.flags, F_ACK);
	CHECK_EQ(r.s.seq, iss + 1);
	CHECK_EQ(r.s.ack, 1001);
	CHECK_EQ(r.s.len, 0);
	/* at once (quick ACK) or after Linux's 40 ms delayed-ACK minimum */
	CHECK(r.t_us - t0 < 250000);
	CHECK_EQ(ifc.ioctl(ud, fd, SIOCINQ, &v), 0);
	CHECK_EQ(v, 1000);
	CHECK_EQ(ifc.read(ud, fd, buf, sizeof(buf)), 1000);
	CHECK_MEM(buf, data, 1000);
	CHECK_EQ(ifc.ioctl(ud, fd, SIOCINQ, &v), 0);
	CHECK_EQ(v, 0);
	/* a buffer the kernel could not touch: EFAULT, not a crash */
	CHECK_EQ(ifc.write(ud, fd, NULL, 1000), -1);
	CHECK_EQ(errno, EFAULT);
	CHECK_EQ(ifc.read(ud, fd, NULL, 1000), -1);
	CHECK_EQ(errno, EFAULT);

	/* 3000 bytes out: segments of at most the MSS (1000 - 12 for TS) */
	CHECK_EQ(ifc.write(ud, fd, data, 3000), 3000);
	uint32_t got = 0;
	while (got < 3000 && sniff(pr, &r)) {
		CHECK_EQ(r.s.seq, iss + 1 + got);
		CHECK_EQ(r.s.ack, 1001);
		CHECK(r.s.len > 0 && r.s.len <= 988);
		CHECK_MEM(r.payload, data + got, r.s.len);
		got += r.s.len;
		if (got == 3000)
			CHECK(r.s.flags & F_PSH);
	}
	CHECK_EQ(got, 3000);
	CHECK_EQ(ifc.ioctl(ud, fd, SIOCOUTQ, &v), 0);
	CHECK_EQ(v, 3000);
	s.flags = F_ACK;
	s.seq = 1001;
	s.ack = iss + 1 + 3000;
	s.len = 0;
	s.optlen = ts_opts(s.opts, 130, tsval);
	inject(pr, &s);
	CHECK_EQ(ifc.ioctl(ud, fd, SIOCOUTQ, &v), 0);
	CHECK_EQ(v, 0);

	/* FIN in: ACKed at once, then end of stream */
	s.flags = F_ACK | F_FIN;
	s.optlen = ts_opts(s.opts, 140, tsval);
	inject(pr, &s);
	CHECK(sniff(pr, &r));
	CHECK_EQ(r.s.flags, F_ACK);
	CHECK_EQ(r.s.ack, 1002);
	CHECK_EQ(ifc.read(ud, fd, buf, sizeof(buf)), 0);

	/* close: our FIN; its ACK ends it */
	CHECK_EQ(ifc.close(ud, fd), 0);
	CHECK(sniff(pr, &r));
	CHECK_EQ(r.s.flags, F_ACK | F_FIN);
	CHECK_EQ(r.s.seq, iss + 1 + 3000);
	s.flags = F_ACK;
	s.seq = 1002;
	s.ack = iss + 1 + 3000 + 1;
	s.optlen = ts_opts(s.opts, 150, tsval);
	inject(pr, &s);
	CHECK_EQ(ifc.close(ud, lfd), 0);
}

static void passive4(void)
{
	struct peer p = peer4();

	passive(&p, 8080);
}

static void passive6(void)
{
	struct peer p = peer6();

	passive(&p, 8081);
}

/* Active open, non-blocking: the SYN's options as Linux's; the SYN-ACK
 * makes the socket writable; close() sends a FIN. */
static void active4(void)
{
	struct peer p = peer4();
	struct sockaddr_storage ss;
	socklen_t sl;
	struct rcvd r;
	struct seg s;
	int fd, err = -1;
	socklen_t el = sizeof(err);

	fd = ifc.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
	CHECK(fd >= 0);
	CHECK_EQ(ifc.fcntl(ud, fd, F_GETFL), O_RDWR);
	CHECK_EQ(ifc.fcntl(ud, fd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
	sockaddr_of(&p, p.remote, 8080, &ss, &sl);
	CHECK_EQ(ifc.connect(ud, fd, (struct sockaddr *)&ss, sl), -1);
	CHECK_EQ(errno, EINPROGRESS);
	CHECK(sniff(&p, &r));
	CHECK_EQ(r.s.flags, F_SYN);
	CHECK_EQ(r.s.dport, 8080);
	/* <mss 1460,sackOK,TS val X ecr 0,nop,wscale 8> */
	const uint8_t want[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};
	CHECK_EQ(r.s.optlen, 20);
	CHECK_MEM(r.s.opts, want, sizeof(want));
	CHECK_EQ(get32(r.s.opts + 12), 0);
	CHECK_EQ(r.s.opts[16], 1);
	CHECK_EQ(r.s.opts[17], 3);
	CHECK_EQ(r.s.opts[19], 8);

	struct pollfd pf = {.fd = fd, .events = POLLOUT};
	CHECK_EQ(ifc.poll(ud, &pf, 1, 0), 0);
	memset(&s, 0, sizeof(s));
	s.sport = 8080;
	s.dport = r.s.sport;
	s.seq = 5000;
	s.ack = r.s.seq + 1;
	s.flags = F_SYN | F_ACK;
	s.win = 10000;
	const uint8_t o[] = {2, 4, 0x03, 0xe8, 1, 1, 4, 2, 1, 3, 3, 7}; /* no TS */
	memcpy(s.opts, o, sizeof(o));
	s.optlen = sizeof(o);
	inject(&p, &s);
	CHECK(sniff(&p, &r));
	CHECK_EQ(r.s.flags, F_ACK);
	CHECK_EQ(r.s.ack, 5001);
	CHECK_EQ(r.s.optlen, 0); /* no timestamps negotiated, nothing else */
	CHECK_EQ(ifc.poll(ud, &pf, 1, 1000), 1);
	CHECK_EQ(pf.revents, POLLOUT);
	CHECK_EQ(ifc.getsockopt(ud, fd, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, 0);
	CHECK_EQ(ifc.close(ud, fd), 0);
	CHECK(sniff(&p, &r));
	CHECK_EQ(r.s.flags, F_FIN | F_ACK);
	/* the peer answers with a RST: the orphan goes */
	s.flags = F_RST;
	s.seq = 5001;
	s.optlen = 0;
	inject(&p, &s);
}

/* A SYN to a port nobody listens on: RST|ACK (RFC 9293 3.10.7.1). */
static void closed_port(void)
{
	struct peer p = peer4();
	struct rcvd r;
	struct seg s = {.sport = 40001, .dport = 9, .seq = 77, .flags = F_SYN, .win = 1000};

	inject(&p, &s);
	CHECK(sniff(&p, &r));
	CHECK_EQ(r.s.flags, F_RST | F_ACK);
	CHECK_EQ(r.s.seq, 0);
	CHECK_EQ(r.s.ack, 78);
}

/* errno as the kernel gives it. */
static void errnos(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd, v;

	CHECK_EQ(ifc.listen(ud, 12345, 1), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(ifc.socket(ud, AF_UNIX, SOCK_STREAM, 0), -1);
	CHECK_EQ(errno, EAFNOSUPPORT);
	fd = ifc.socket(ud, AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	CHECK_EQ(ifc.accept(ud, fd, NULL, NULL), -1);
	CHECK_EQ(errno, EINVAL);
	/* send before connect: EPIPE, as sk_stream_wait_connect */
	CHECK_EQ(ifc.write(ud, fd, "x", 1), -1);
	CHECK_EQ(errno, EPIPE);
	/* TCP_MAXSEG: 88..32767; a closed socket reports what was set */
	v = 50;
	CHECK_EQ(ifc.setsockopt(ud, fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)), -1);
	CHECK_EQ(errno, EINVAL);
	v = 1100;
	CHECK_EQ(ifc.setsockopt(ud, fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)), 0);
	socklen_t vl = sizeof(v);
	v = 0;
	CHECK_EQ(ifc.getsockopt(ud, fd, IPPROTO_TCP, TCP_MAXSEG, &v, &vl), 0);
	CHECK_EQ(v, 1100);
	CHECK_EQ(ifc.shutdown(ud, fd, SHUT_WR), -1);
	CHECK_EQ(errno, ENOTCONN);
	CHECK_EQ(ifc.bind(ud, fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(ifc.listen(ud, fd, 1), 0);
	CHECK_EQ(ifc.ioctl(ud, fd, SIOCINQ, &v), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(ifc.close(ud, fd), 0);
}

int main(void)
{
	void *h = dlopen(DEVMEM_PD_SO, PD_DLOPEN_FLAGS);
	packetdrill_interface_init_t init;

	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	init = (packetdrill_interface_init_t)dlsym(h, "packetdrill_interface_init");
	if (!init) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		return 1;
	}
	/* IPv6 with packetdrill's --mtu=1520 gives the same MSS 1460 */
	/* sysctls=0: this machine's tcp_timestamps & co. do not matter */
	init("--local_ip=192.0.2.1 --local_ip=2001:db8::1 timeout_ms=3000 sysctls=0", &ifc);
	ud = ifc.userdata;
	CHECK(ifc.free && ifc.socket && ifc.netdev_send && ifc.netdev_receive && ifc.splice);
	RUN(passive4);
	RUN(active4);
	RUN(closed_port);
	RUN(errnos);
	ifc.free(ud);
	/* IPv6 on a fresh stack, as packetdrill makes one per script */
	init("local_ip=2001:db8::1 mtu=1520 timeout_ms=3000 sysctls=0", &ifc);
	ud = ifc.userdata;
	RUN(passive6);
	ifc.free(ud);
	dlclose(h);
	return CHECK_DONE();
}
