/* SPDX-License-Identifier: MIT */
/*
 * The devmem receive API over two stacks joined by the pair link: cmsgs and
 * tokens, DONTNEED limits, EFAULT without MSG_SOCK_DEVMEM, ETOOSMALL instead
 * of a truncated cmsg, unbound queues as ordinary TCP, sealed memory, and
 * every buffer back in its pool at the end.
 */
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "pairutil.h"

#define PORT 7000

struct rig {
	struct devmem_stack *a, *b;
	int dmabuf;
	struct devmem_binding *bind;
	int lfd, cfd;
	struct sender snd;
	const uint8_t *map; /* host dmabuf mapping (application's view) */
	size_t size;
};

static void rig_open(struct rig *r, int mem, bool bind, uint64_t bytes, int family)
{
	struct devmem_config ca, cb;
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(r, 0, sizeof(*r));
	pair_cfgs(&ca, &cb);
	if (devmem_stack_open_pair(&ca, &cb, NULL, NULL, &r->a, &r->b) < 0) {
		perror("open_pair");
		exit(1);
	}
	r->dmabuf = -1;
	if (bind) {
		unsigned q = 0;
		r->size = 16u << 20;
		r->dmabuf = devmem_dmabuf_alloc(mem, r->size, 0);
		CHECK(r->dmabuf >= 0);
		r->bind = devmem_bind_rx(r->b, r->dmabuf, &q, 1);
		CHECK(r->bind != NULL);
		if (mem == DEVMEM_MEM_HOST) {
			r->map = mmap(NULL, r->size, PROT_READ, MAP_SHARED, r->dmabuf, 0);
			CHECK(r->map != MAP_FAILED);
		}
	}
	r->lfd = devmem_socket(r->b, family, SOCK_STREAM, 0);
	CHECK(r->lfd >= 0);
	sl = make_addr(family, family == AF_INET ? "0.0.0.0" : "::", PORT, &ss);
	CHECK_EQ(devmem_bind(r->lfd, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(devmem_listen(r->lfd, 16), 0);
	r->snd = (struct sender){.stack = r->a, .family = family,
				 .dst = family == AF_INET ? "192.0.2.2" : "2001:db8::2",
				 .port = PORT, .bytes = bytes, .pattern = 7};
	CHECK_EQ(sender_start(&r->snd), 0);
	r->cfd = devmem_accept(r->lfd, NULL, NULL);
	CHECK(r->cfd >= 0);
}

static void rig_close(struct rig *r)
{
	devmem_close(r->cfd);
	devmem_close(r->lfd);
	pthread_join(r->snd.thread, NULL);
	CHECK_EQ(r->snd.err, 0);
	if (r->bind) {
		struct devmem_binding_stats st;
		CHECK_EQ(devmem_binding_stats(r->bind, &st), 0);
		/* leak check: every buffer back in the pool */
		CHECK_EQ(st.bufs_free, st.bufs);
		CHECK_EQ(devmem_unbind(r->bind), 0);
	}
	if (r->map)
		munmap((void *)r->map, r->size);
	if (r->dmabuf >= 0)
		CHECK_EQ(devmem_dmabuf_free(r->dmabuf), 0);
	devmem_stack_close(r->a);
	devmem_stack_close(r->b);
}

/* Read the whole stream with MSG_SOCK_DEVMEM; returns bytes validated. */
static uint64_t drain_devmem(struct rig *r, uint64_t *dmabuf_frags, uint64_t *linear, bool *ok)
{
	static uint8_t data[65536], scratch[65536];
	uint8_t ctrl[CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * 64];
	uint64_t pos = 0;
	/* a fresh socket's first token is 1; after DONTNEED the lowest free one */
	uint32_t expect_first_token = 1;

	*ok = true;
	for (;;) {
		struct iovec iov = {data, sizeof(data)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				     .msg_controllen = sizeof(ctrl)};
		ssize_t n = devmem_recvmsg(r->cfd, &msg, MSG_SOCK_DEVMEM);
		if (n <= 0) {
			CHECK_EQ(n, 0);
			return pos;
		}
		uint64_t got = 0;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct dmabuf_cmsg d;
			CHECK_EQ(cm->cmsg_level, SOL_SOCKET);
			memcpy(&d, CMSG_DATA(cm), sizeof(d));
			if (cm->cmsg_type == SCM_DEVMEM_LINEAR) {
				(*linear)++;
				if (pattern_check(data + got, d.frag_size, pos, 7) >= 0)
					*ok = false;
			} else {
				CHECK_EQ(cm->cmsg_type, SCM_DEVMEM_DMABUF);
				CHECK_EQ(d.dmabuf_id, devmem_binding_id(r->bind));
				CHECK(d.frag_offset + d.frag_size <= r->size);
				if (expect_first_token) {
					CHECK_EQ(d.frag_token, 1); /* tokens start at 1 */
					expect_first_token = 0;
				}
				const uint8_t *p = r->map ? r->map + d.frag_offset : scratch;
				if (!r->map)
					CHECK_EQ(devmem_dmabuf_read(r->dmabuf, d.frag_offset, scratch,
								    d.frag_size), (ssize_t)d.frag_size);
				if (pattern_check(p, d.frag_size, pos, 7) >= 0)
					*ok = false;
				struct dmabuf_token t = {d.frag_token, 1};
				CHECK_EQ(devmem_setsockopt(r->cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, &t,
							   sizeof(t)), 1);
				(*dmabuf_frags)++;
			}
			pos += d.frag_size;
			got += d.frag_size;
		}
		CHECK_EQ(got, (uint64_t)n);
	}
}

static void test_devmem_stream(int mem, int family)
{
	struct rig r;
	uint64_t frags = 0, linear = 0;
	bool ok;

	rig_open(&r, mem, true, 8u << 20, family);
	CHECK_EQ(drain_devmem(&r, &frags, &linear, &ok), 8u << 20);
	CHECK(ok);
	CHECK(frags > 0);
	CHECK_EQ(linear, 0);
	rig_close(&r);
}

static void test_host_ipv4(void) { test_devmem_stream(DEVMEM_MEM_HOST, AF_INET); }
static void test_host_ipv6(void) { test_devmem_stream(DEVMEM_MEM_HOST, AF_INET6); }
static void test_sealed_ipv4(void) { test_devmem_stream(DEVMEM_MEM_SEALED, AF_INET); }

/* Wait until the socket has device data queued (readable). */
static void wait_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	CHECK_EQ(poll(&p, 1, 5000), 1);
}

static void test_efault_and_toosmall(void)
{
	struct rig r;
	uint8_t data[4096];
	uint8_t ctrl[CMSG_LEN(sizeof(struct dmabuf_cmsg)) - 1];
	struct iovec iov = {data, sizeof(data)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	rig_open(&r, DEVMEM_MEM_HOST, true, 1u << 20, AF_INET);
	wait_readable(r.cfd);
	/* device data without MSG_SOCK_DEVMEM: EFAULT, data stays */
	errno = 0;
	CHECK_EQ(devmem_recv(r.cfd, data, sizeof(data), 0), -1);
	CHECK_EQ(errno, EFAULT);
	/* no room for one whole cmsg: ETOOSMALL, never a truncated cmsg */
	msg.msg_control = ctrl;
	msg.msg_controllen = sizeof(ctrl);
	errno = 0;
	CHECK_EQ(devmem_recvmsg(r.cfd, &msg, MSG_SOCK_DEVMEM), -1);
	CHECK_EQ(errno, ETOOSMALL);
	/* nothing was lost: the whole stream still validates */
	uint64_t frags = 0, linear = 0;
	bool ok;
	CHECK_EQ(drain_devmem(&r, &frags, &linear, &ok), 1u << 20);
	CHECK(ok);
	rig_close(&r);
}

static void test_dontneed_limits(void)
{
	struct rig r;
	static uint8_t data[65536];
	uint8_t ctrl[CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * 64];
	uint32_t held = 0, max_token = 0;
	struct dmabuf_token ranges[129];

	rig_open(&r, DEVMEM_MEM_HOST, true, 6u << 20, AF_INET);
	/* hold tokens until more than the 1024 cap are out */
	while (held < 1100) {
		struct iovec iov = {data, sizeof(data)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				     .msg_controllen = sizeof(ctrl)};
		ssize_t n = devmem_recvmsg(r.cfd, &msg, MSG_SOCK_DEVMEM);
		CHECK(n > 0);
		if (n <= 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct dmabuf_cmsg d;
			memcpy(&d, CMSG_DATA(cm), sizeof(d));
			CHECK_EQ(cm->cmsg_type, SCM_DEVMEM_DMABUF);
			CHECK_EQ(d.frag_token, max_token + 1); /* handed out in order */
			max_token = d.frag_token;
			held++;
		}
	}
	/* 129 ranges: EINVAL */
	memset(ranges, 0, sizeof(ranges));
	errno = 0;
	CHECK_EQ(devmem_setsockopt(r.cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, ranges, sizeof(ranges)), -1);
	CHECK_EQ(errno, EINVAL);
	/* optlen not a multiple of 8: EINVAL */
	errno = 0;
	CHECK_EQ(devmem_setsockopt(r.cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, ranges, 12), -1);
	CHECK_EQ(errno, EINVAL);
	/* unknown tokens are skipped: 0 freed */
	ranges[0] = (struct dmabuf_token){max_token + 100, 5};
	ranges[1] = (struct dmabuf_token){0, 1};
	CHECK_EQ(devmem_setsockopt(r.cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, ranges, 16), 0);
	/* one token: returns 1; the same again: 0 */
	ranges[0] = (struct dmabuf_token){1, 1};
	CHECK_EQ(devmem_setsockopt(r.cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, ranges, 8), 1);
	CHECK_EQ(devmem_setsockopt(r.cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, ranges, 8), 0);
	/* one huge range: at most 1024 tokens looked at (token 1 is gone) */
	ranges[0] = (struct dmabuf_token){1, max_token};
	CHECK_EQ(devmem_setsockopt(r.cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, ranges, 8), 1023);
	/* the rest, in two ranges */
	ranges[0] = (struct dmabuf_token){1025, max_token - 1024};
	CHECK_EQ(devmem_setsockopt(r.cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, ranges, 8),
		 (int)(max_token - 1024));
	/* drain the rest of the stream */
	uint64_t frags = 0, linear = 0;
	bool ok;
	drain_devmem(&r, &frags, &linear, &ok);
	rig_close(&r);
}

static void test_unbound_queue(void)
{
	struct rig r;
	static uint8_t data[65536];
	uint8_t ctrl[256];
	uint64_t pos = 0;
	bool plain = true;

	rig_open(&r, DEVMEM_MEM_HOST, false, 4u << 20, AF_INET);
	for (int i = 0;; i++) {
		ssize_t n;
		if (i % 2) {
			n = devmem_recv(r.cfd, data, sizeof(data), 0);
		} else {
			/* MSG_SOCK_DEVMEM on ordinary data: the data, no devmem cmsg */
			struct iovec iov = {data, sizeof(data)};
			struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
					     .msg_controllen = sizeof(ctrl)};
			n = devmem_recvmsg(r.cfd, &msg, MSG_SOCK_DEVMEM);
			if (n > 0 && msg.msg_controllen != 0)
				plain = false;
		}
		CHECK(n >= 0);
		if (n <= 0)
			break;
		CHECK_EQ(pattern_check(data, (size_t)n, pos, 7), -1);
		pos += (uint64_t)n;
	}
	CHECK(plain);
	CHECK_EQ(pos, 4u << 20);
	rig_close(&r);
}

static void test_bind_refusals(void)
{
	struct devmem_config ca, cb;
	struct devmem_stack *a, *b;
	unsigned q0 = 0, q5 = 5;
	int fd = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 1u << 20, 0);

	pair_cfgs(&ca, &cb);
	CHECK_EQ(devmem_stack_open_pair(&ca, &cb, NULL, NULL, &a, &b), 0);
	errno = 0;
	CHECK(devmem_bind_rx(b, fd, &q5, 1) == NULL);
	CHECK_EQ(errno, EINVAL); /* queue out of range */
	struct devmem_binding *bd = devmem_bind_rx(b, fd, &q0, 1);
	CHECK(bd != NULL);
	errno = 0;
	CHECK(devmem_bind_rx(b, fd, &q0, 1) == NULL);
	CHECK_EQ(errno, EEXIST); /* already bound */
	errno = 0;
	CHECK(devmem_bind_rx(b, 12345, &q0, 1) == NULL);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(devmem_unbind(bd), 0);
	/* after unbinding, the queue can be bound again */
	bd = devmem_bind_rx(b, fd, &q0, 1);
	CHECK(bd != NULL);
	CHECK_EQ(devmem_unbind(bd), 0);
	devmem_stack_close(a);
	devmem_stack_close(b);
	/* header split off: EINVAL */
	cb.header_split = 0;
	CHECK_EQ(devmem_stack_open_pair(&ca, &cb, NULL, NULL, &a, &b), 0);
	errno = 0;
	CHECK(devmem_bind_rx(b, fd, &q0, 1) == NULL);
	CHECK_EQ(errno, EINVAL);
	devmem_stack_close(a);
	devmem_stack_close(b);
	CHECK_EQ(devmem_dmabuf_free(fd), 0);
}

int main(void)
{
	RUN(test_bind_refusals);
	RUN(test_host_ipv4);
	RUN(test_host_ipv6);
	RUN(test_sealed_ipv4);
	RUN(test_efault_and_toosmall);
	RUN(test_dontneed_limits);
	RUN(test_unbound_queue);
	return CHECK_DONE();
}
