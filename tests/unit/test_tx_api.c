/* SPDX-License-Identifier: MIT */
/*
 * The transmit API over the pair link: bind-tx, sendmsg(MSG_ZEROCOPY) with a
 * SCM_DEVMEM_DMABUF cmsg, the kernel's errno for each bad input, completions
 * on the error queue (exactly once, in order, coalesced), POLLERR and
 * POLLOUT from devmem_poll, zero-copy from caller memory, the asymmetric
 * paths (zero-copy TX with ordinary RX on one connection, devmem RX with
 * ordinary TX), SO_LINGER, TCP_CORK, TCP_CONGESTION and TCP_INFO.
 */
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "pairutil.h"

#ifndef SOL_IP
#define SOL_IP 0
#endif

static struct devmem_stack *a, *b;

/* A connected pair: *cfd on stack A, returns the accepted fd on B. */
static int connect_pair(int family, uint16_t port, int *cfd)
{
	struct sockaddr_storage ss;
	const char *dst = family == AF_INET ? "192.0.2.2" : "2001:db8::2";
	socklen_t sl = make_addr(family, dst, port, &ss);
	int one = 1, l = devmem_socket(b, family, SOCK_STREAM, 0);

	CHECK(l >= 0);
	CHECK_EQ(devmem_setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	CHECK_EQ(devmem_bind(l, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(devmem_listen(l, 4), 0);
	*cfd = devmem_socket(a, family, SOCK_STREAM, 0);
	CHECK(*cfd >= 0);
	CHECK_EQ(devmem_connect(*cfd, (struct sockaddr *)&ss, sl), 0);
	int s = devmem_accept(l, NULL, NULL);
	CHECK(s >= 0);
	devmem_close(l);
	return s;
}

/* Read one completion: 1 with [*lo, *hi], 0 when none is queued. */
static int read_completion(int fd, int family, uint32_t *lo, uint32_t *hi)
{
	char ctrl[128];
	struct msghdr msg = {.msg_control = ctrl, .msg_controllen = sizeof(ctrl)};

	if (devmem_recvmsg(fd, &msg, MSG_ERRQUEUE) < 0) {
		CHECK_EQ(errno, EAGAIN);
		return 0;
	}
	CHECK(msg.msg_flags & MSG_ERRQUEUE);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	CHECK(cm != NULL);
	if (!cm)
		return 0;
	CHECK_EQ(cm->cmsg_level, family == AF_INET ? SOL_IP : SOL_IPV6);
	CHECK_EQ(cm->cmsg_type, family == AF_INET ? IP_RECVERR : IPV6_RECVERR);
	struct sock_extended_err ee;
	memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
	CHECK_EQ(ee.ee_errno, 0);
	CHECK_EQ(ee.ee_origin, SO_EE_ORIGIN_ZEROCOPY);
	*lo = ee.ee_info;
	*hi = ee.ee_data;
	return 1;
}

/* Receive exactly len bytes (ordinary recv) into buf. */
static void recv_all(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = devmem_recv(fd, buf + got, len - got, 0);
		CHECK(r > 0);
		if (r <= 0)
			return;
		got += (size_t)r;
	}
}

/* Wait for POLLERR on fd (completions) within ms. */
static bool wait_pollerr(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = 0};
	int r = devmem_poll(&p, 1, ms);
	return r == 1 && (p.revents & POLLERR);
}

static void test_errors(void)
{
	int c, s = connect_pair(AF_INET, 9001, &c);
	int dfd = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 1 << 20, 0);
	CHECK(dfd >= 0);
	struct devmem_binding *tx = devmem_bind_tx(a, dfd);
	CHECK(tx != NULL);
	uint32_t id = devmem_binding_id(tx);
	int one = 1;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)0, .iov_len = 100};

	/* a dmabuf cmsg without SO_ZEROCOPY: EINVAL */
	errno = 0;
	CHECK_EQ(send_dmabuf(c, id, &iov, 1, MSG_ZEROCOPY), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(devmem_setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)), 0);
	/* ... and without MSG_ZEROCOPY: EINVAL */
	errno = 0;
	CHECK_EQ(send_dmabuf(c, id, &iov, 1, 0), -1);
	CHECK_EQ(errno, EINVAL);
	/* an unknown id: EINVAL */
	errno = 0;
	CHECK_EQ(send_dmabuf(c, id + 1000, &iov, 1, MSG_ZEROCOPY), -1);
	CHECK_EQ(errno, EINVAL);
	/* an RX binding's id: EINVAL */
	int rfd = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 1 << 20, 0);
	unsigned q0 = 0;
	struct devmem_binding *rx = devmem_bind_rx(a, rfd, &q0, 1);
	CHECK(rx != NULL);
	errno = 0;
	CHECK_EQ(send_dmabuf(c, devmem_binding_id(rx), &iov, 1, MSG_ZEROCOPY), -1);
	CHECK_EQ(errno, EINVAL);
	/* another stack's TX binding: its device is not this route's, ENODEV */
	struct devmem_binding *txb = devmem_bind_tx(b, dfd);
	CHECK(txb != NULL);
	uint32_t other = devmem_binding_id(txb);
	errno = 0;
	CHECK_EQ(send_dmabuf(c, other, &iov, 1, MSG_ZEROCOPY), -1);
	CHECK_EQ(errno, ENODEV);
	devmem_unbind(txb); /* the handle is dead from here on */
	errno = 0;
	CHECK_EQ(send_dmabuf(c, other, &iov, 1, MSG_ZEROCOPY), -1);
	CHECK_EQ(errno, EINVAL);
	/* offset past the end, and a range running over it: EFAULT */
	struct iovec past = {.iov_base = (void *)(uintptr_t)(2u << 20), .iov_len = 1};
	errno = 0;
	CHECK_EQ(send_dmabuf(c, id, &past, 1, MSG_ZEROCOPY), -1);
	CHECK_EQ(errno, EFAULT);
	struct iovec over = {.iov_base = (void *)(uintptr_t)((1u << 20) - 10), .iov_len = 11};
	errno = 0;
	CHECK_EQ(send_dmabuf(c, id, &over, 1, MSG_ZEROCOPY), -1);
	CHECK_EQ(errno, EFAULT);
	/* a malformed SOL_SOCKET cmsg: EINVAL */
	char ctrl[CMSG_SPACE(8)] = {0};
	struct msghdr bad = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
			     .msg_controllen = sizeof(ctrl)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&bad);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_DEVMEM_DMABUF;
	cm->cmsg_len = CMSG_LEN(8);
	errno = 0;
	CHECK_EQ(devmem_sendmsg(c, &bad, MSG_ZEROCOPY), -1);
	CHECK_EQ(errno, EINVAL);
	/* nothing was consumed by the failures: the first good send is id 0 */
	CHECK_EQ(send_dmabuf(c, id, &iov, 1, MSG_ZEROCOPY), 100);
	uint8_t buf[100];
	recv_all(s, buf, sizeof(buf));
	CHECK(wait_pollerr(c, 2000));
	uint32_t lo = 9, hi = 9;
	CHECK_EQ(read_completion(c, AF_INET, &lo, &hi), 1);
	CHECK_EQ(lo, 0);
	CHECK_EQ(hi, 0);
	CHECK_EQ(read_completion(c, AF_INET, &lo, &hi), 0);
	/* an unbound binding cannot be named any more */
	CHECK_EQ(devmem_unbind(tx), 0);
	errno = 0;
	CHECK_EQ(send_dmabuf(c, id, &iov, 1, MSG_ZEROCOPY), -1);
	CHECK_EQ(errno, EINVAL);
	devmem_unbind(rx);
	devmem_close(c);
	devmem_close(s);
	devmem_dmabuf_free(dfd);
	devmem_dmabuf_free(rfd);
}

/* Many zero-copy sends of a dmabuf's bytes, split into small iovs; the peer
 * reads them with ordinary recv (asymmetric: zero-copy TX, ordinary RX). */
static void test_completions(int family, enum devmem_mem mem)
{
	int c, s = connect_pair(family, (uint16_t)(9010 + family + mem), &c);
	size_t size = 1 << 20;
	int dfd = devmem_dmabuf_alloc(mem, size, 0);
	CHECK(dfd >= 0);
	uint8_t *src = malloc(size);
	pattern_fill(src, size, 0, 7);
	CHECK_EQ(devmem_dmabuf_write(dfd, 0, src, size), (ssize_t)size);
	struct devmem_binding *tx = devmem_bind_tx(a, dfd);
	uint32_t id = devmem_binding_id(tx);
	int one = 1;
	CHECK_EQ(devmem_setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)), 0);

	/* 40 calls of 3 iovs each, [k*7000, k*7000 + 7000) of the pattern */
	enum { CALLS = 40, PER = 7000 };
	for (unsigned k = 0; k < CALLS; k++) {
		struct iovec iov[3];
		uint64_t off = (uint64_t)k * PER;
		iov[0] = (struct iovec){(void *)(uintptr_t)off, 3};
		iov[1] = (struct iovec){(void *)(uintptr_t)(off + 3), 1000};
		iov[2] = (struct iovec){(void *)(uintptr_t)(off + 1003), PER - 1003};
		CHECK_EQ(send_dmabuf(c, id, iov, 3, MSG_ZEROCOPY), PER);
	}
	uint8_t *got = malloc((size_t)CALLS * PER);
	recv_all(s, got, (size_t)CALLS * PER);
	CHECK_EQ(pattern_check(got, (size_t)CALLS * PER, 0, 7), -1);
	/* every call completes exactly once, in order */
	uint32_t next = 0, lo, hi;
	for (int tries = 0; next < CALLS && tries < 200; tries++) {
		if (!wait_pollerr(c, 50))
			continue;
		while (read_completion(c, family, &lo, &hi)) {
			CHECK_EQ(lo, next);
			CHECK(hi >= lo && hi < CALLS);
			next = hi + 1;
		}
	}
	CHECK_EQ(next, CALLS);
	struct devmem_binding_stats bs;
	CHECK_EQ(devmem_binding_stats(tx, &bs), 0);
	CHECK_EQ(bs.is_tx, 1);
	CHECK_EQ(bs.tx_pending, 0);
	CHECK(bs.tx_bytes >= (uint64_t)CALLS * PER);
	struct devmem_stack_stats st;
	CHECK_EQ(devmem_stack_stats(a, &st), 0);
	CHECK(st.tx_dev_bytes >= (uint64_t)CALLS * PER);

	/* the reverse on the same connection: ordinary send from B */
	uint8_t msg[5000];
	pattern_fill(msg, sizeof(msg), 0, 11);
	CHECK_EQ(devmem_send(s, msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
	uint8_t back[5000];
	recv_all(c, back, sizeof(back));
	CHECK_MEM(back, msg, sizeof(msg));

	devmem_close(c);
	devmem_close(s);
	devmem_unbind(tx);
	devmem_dmabuf_free(dfd);
	free(src);
	free(got);
}

/* Both asymmetric paths on one connection: A sends zero-copy from its TX
 * binding and receives ordinary data; B receives into its RX binding
 * (MSG_SOCK_DEVMEM) and sends ordinary data. */
static void test_asymmetric(void)
{
	int fa = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 1u << 20, 0);
	int fb = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 4u << 20, 0);
	unsigned q0 = 0;
	struct devmem_binding *rx = devmem_bind_rx(b, fb, &q0, 1);
	CHECK(rx != NULL);
	int c, s = connect_pair(AF_INET, 9070, &c);
	struct devmem_binding *tx = devmem_bind_tx(a, fa);
	static uint8_t src[1u << 20];
	pattern_fill(src, sizeof(src), 0, 7);
	CHECK_EQ(devmem_dmabuf_write(fa, 0, src, sizeof(src)), (ssize_t)sizeof(src));
	int one = 1;
	CHECK_EQ(devmem_setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)), 0);
	struct iovec iov = {(void *)(uintptr_t)0, sizeof(src)};
	CHECK_EQ(send_dmabuf(c, devmem_binding_id(tx), &iov, 1, MSG_ZEROCOPY), (ssize_t)sizeof(src));

	/* B: device memory in, validated through its mapping, tokens back */
	const uint8_t *map = mmap(NULL, 4u << 20, PROT_READ, MAP_SHARED, fb, 0);
	CHECK(map != MAP_FAILED);
	uint64_t pos = 0, frags = 0;
	while (pos < sizeof(src)) {
		static uint8_t data[65536];
		uint8_t ctrl[CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * 64];
		struct iovec v = {data, sizeof(data)};
		struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctrl,
				   .msg_controllen = sizeof(ctrl)};
		ssize_t n = devmem_recvmsg(s, &m, MSG_SOCK_DEVMEM);
		CHECK(n > 0);
		if (n <= 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			struct dmabuf_cmsg d;
			memcpy(&d, CMSG_DATA(cm), sizeof(d));
			CHECK_EQ(cm->cmsg_type, SCM_DEVMEM_DMABUF);
			CHECK_EQ(pattern_check(map + d.frag_offset, d.frag_size, pos, 7), -1);
			struct dmabuf_token t = {d.frag_token, 1};
			CHECK_EQ(devmem_setsockopt(s, SOL_SOCKET, SO_DEVMEM_DONTNEED, &t, sizeof(t)), 1);
			pos += d.frag_size;
			frags++;
		}
	}
	CHECK_EQ(pos, sizeof(src));
	CHECK(frags > 0);
	/* B answers with an ordinary send; A reads it with an ordinary recv */
	uint8_t msg[3000], back[3000];
	pattern_fill(msg, sizeof(msg), 0, 5);
	CHECK_EQ(devmem_send(s, msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
	recv_all(c, back, sizeof(back));
	CHECK_MEM(back, msg, sizeof(msg));
	CHECK(wait_pollerr(c, 2000));
	uint32_t lo = 1, hi = 1;
	CHECK_EQ(read_completion(c, AF_INET, &lo, &hi), 1);
	CHECK_EQ(lo, 0);
	CHECK_EQ(hi, 0);
	munmap((void *)map, 4u << 20);
	devmem_close(c);
	devmem_close(s);
	devmem_unbind(tx);
	devmem_unbind(rx);
	devmem_dmabuf_free(fa);
	devmem_dmabuf_free(fb);
}

/* MSG_ZEROCOPY from the caller's own memory (netgpu's style). */
static void test_zerocopy_host(void)
{
	int c, s = connect_pair(AF_INET6, 9030, &c);
	int one = 1;
	static uint8_t data[300000];
	pattern_fill(data, sizeof(data), 0, 13);
	CHECK_EQ(devmem_setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)), 0);
	CHECK_EQ(devmem_send(c, data, sizeof(data), MSG_ZEROCOPY), (ssize_t)sizeof(data));
	static uint8_t got[sizeof(data)];
	recv_all(s, got, sizeof(got));
	CHECK_MEM(got, data, sizeof(data));
	CHECK(wait_pollerr(c, 2000));
	uint32_t lo = 1, hi = 1;
	CHECK_EQ(read_completion(c, AF_INET6, &lo, &hi), 1);
	CHECK_EQ(lo, 0);
	CHECK_EQ(hi, 0);
	/* without SO_ZEROCOPY the flag is ignored: a copy, no completion */
	int zero = 0;
	CHECK_EQ(devmem_setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &zero, sizeof(zero)), 0);
	CHECK_EQ(devmem_send(c, data, 1000, MSG_ZEROCOPY), 1000);
	recv_all(s, got, 1000);
	struct pollfd p = {.fd = c, .events = 0};
	CHECK_EQ(devmem_poll(&p, 1, 50), 0);
	devmem_close(c);
	devmem_close(s);
}

/* POLLOUT follows send-buffer space; a full buffer is EAGAIN. */
static void test_pollout(void)
{
	int c, s = connect_pair(AF_INET, 9040, &c);
	int sz = 65536;
	CHECK_EQ(devmem_fcntl(c, F_SETFL, O_NONBLOCK), 0);
	struct pollfd p = {.fd = c, .events = POLLOUT};
	CHECK_EQ(devmem_poll(&p, 1, 0), 1);
	CHECK(p.revents & POLLOUT);
	/* the peer does not read: fill its window and our buffer */
	static uint8_t chunk[65536];
	uint64_t total = 0;
	ssize_t r;
	(void)sz;
	while ((r = devmem_send(c, chunk, sizeof(chunk), 0)) > 0)
		total += (uint64_t)r;
	CHECK_EQ(r, -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(devmem_poll(&p, 1, 0), 0);
	/* the raw fd is not readable now ... */
	struct pollfd raw = {.fd = c, .events = POLLIN};
	CHECK_EQ(poll(&raw, 1, 0), 0);
	/* ... until the reader drains and space opens */
	static uint8_t sink[1 << 16];
	uint64_t drained = 0;
	while (drained < total) {
		ssize_t n = devmem_recv(s, sink, sizeof(sink), 0);
		CHECK(n > 0);
		if (n <= 0)
			break;
		drained += (uint64_t)n;
		if (drained > total / 2)
			break;
	}
	CHECK_EQ(devmem_poll(&p, 1, 2000), 1);
	CHECK(p.revents & POLLOUT);
	CHECK_EQ(poll(&raw, 1, 2000), 1);
	devmem_close(c);
	devmem_close(s);
}

static void test_options(void)
{
	int c, s = connect_pair(AF_INET, 9050, &c);
	char name[16] = {0};
	socklen_t len = sizeof(name);

	CHECK_EQ(devmem_getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	CHECK(strcmp(name, "cubic") == 0);
	CHECK_EQ(devmem_setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
	len = sizeof(name);
	CHECK_EQ(devmem_getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	CHECK(strcmp(name, "reno") == 0);
	errno = 0;
	CHECK_EQ(devmem_setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "nosuch", 6), -1);
	CHECK_EQ(errno, ENOENT);

	/* TCP_CORK holds a partial segment until uncorked */
	int one = 1, zero = 0;
	CHECK_EQ(devmem_setsockopt(c, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)), 0);
	CHECK_EQ(devmem_send(c, "abc", 3, 0), 3);
	char buf[8];
	struct pollfd p = {.fd = s, .events = POLLIN};
	CHECK_EQ(devmem_poll(&p, 1, 100), 0);
	CHECK_EQ(devmem_setsockopt(c, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)), 0);
	CHECK_EQ(devmem_poll(&p, 1, 2000), 1);
	CHECK_EQ(devmem_recv(s, buf, sizeof(buf), 0), 3);

	/* TCP_INFO: Linux's layout, the fields the stack knows */
	struct tcp_info ti;
	len = sizeof(ti);
	CHECK_EQ(devmem_getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	CHECK_EQ(len, sizeof(ti));
	CHECK_EQ(ti.tcpi_state, 1); /* TCP_ESTABLISHED in Linux's numbering */
	CHECK(ti.tcpi_snd_mss > 0);
	CHECK(ti.tcpi_snd_cwnd >= 10);
	CHECK(ti.tcpi_rtt > 0);
	CHECK(ti.tcpi_options & TCPI_OPT_SACK);

	/* SO_LINGER round trip; close with {1, 0} aborts: the peer sees a reset */
	struct linger lg = {1, 0}, lg2;
	len = sizeof(lg2);
	CHECK_EQ(devmem_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	CHECK_EQ(devmem_getsockopt(c, SOL_SOCKET, SO_LINGER, &lg2, &len), 0);
	CHECK_EQ(lg2.l_onoff, 1);
	CHECK_EQ(lg2.l_linger, 0);
	CHECK_EQ(devmem_send(c, "xyz", 3, 0), 3);
	devmem_close(c);
	ssize_t r;
	errno = 0;
	while ((r = devmem_recv(s, buf, sizeof(buf), 0)) > 0)
		;
	CHECK_EQ(r, -1);
	CHECK_EQ(errno, ECONNRESET);
	devmem_close(s);
}

/* SO_LINGER with a timeout: close returns once the data and FIN are acked;
 * the peer gets everything and then EOF. */
static void test_linger_graceful(void)
{
	int c, s = connect_pair(AF_INET, 9060, &c);
	struct linger lg = {1, 5};
	static uint8_t data[1 << 20];
	pattern_fill(data, sizeof(data), 0, 7);
	CHECK_EQ(devmem_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	/* less than the peer's window: close with data still in flight, and
	 * no reader needed for it to be acknowledged */
	ssize_t n = devmem_send(c, data, 200000, MSG_DONTWAIT);
	CHECK_EQ(n, 200000);
	static uint8_t got[200000];
	uint64_t t0 = (uint64_t)time(NULL);
	devmem_close(c);
	CHECK((uint64_t)time(NULL) - t0 < 5); /* acked long before the linger time */
	struct pollfd p = {.fd = s, .events = POLLIN};
	CHECK_EQ(devmem_poll(&p, 1, 0), 1); /* everything is there already */
	recv_all(s, got, (size_t)n);
	CHECK_MEM(got, data, (size_t)n);
	CHECK(p.revents & POLLIN);
	char x;
	CHECK_EQ(devmem_recv(s, &x, 1, 0), 0);
	devmem_close(s);
}

int main(void)
{
	struct devmem_config ca, cb;

	pair_cfgs(&ca, &cb);
	if (devmem_stack_open_pair(&ca, &cb, NULL, NULL, &a, &b) < 0) {
		perror("devmem_stack_open_pair");
		return 1;
	}
	RUN(test_errors);
	test_completions(AF_INET, DEVMEM_MEM_HOST);
	test_completions(AF_INET6, DEVMEM_MEM_HOST);
	test_completions(AF_INET, DEVMEM_MEM_SEALED);
	RUN(test_asymmetric);
	RUN(test_zerocopy_host);
	RUN(test_pollout);
	RUN(test_options);
	RUN(test_linger_graceful);
	devmem_stack_close(a);
	devmem_stack_close(b);
	return CHECK_DONE();
}
