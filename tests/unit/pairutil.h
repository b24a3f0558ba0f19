/* SPDX-License-Identifier: MIT */
/*
 * Helpers for tests that run two stacks over the in-memory pair link:
 * A (192.0.2.1, 2001:db8::1) sends, B (192.0.2.2, 2001:db8::2) receives.
 */
#ifndef DEVMEM_TEST_PAIRUTIL_H
#define DEVMEM_TEST_PAIRUTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "devmem/devmem.h"

/* ncdevmem's -v N pattern: byte k of the stream (from 0) is (k % N) + 1,
 * or '\n' where that is N. */
static inline uint8_t pattern_byte(uint64_t k, unsigned n)
{
	unsigned v = (unsigned)((k % n) + 1);
	return v == n ? '\n' : (uint8_t)v;
}

static inline void pattern_fill(uint8_t *buf, size_t len, uint64_t start, unsigned n)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(start + i, n);
}

/* First mismatch at or after pos, or -1. */
static inline int64_t pattern_check(const uint8_t *buf, size_t len, uint64_t pos, unsigned n)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern_byte(pos + i, n))
			return (int64_t)i;
	return -1;
}

static inline void pair_cfgs(struct devmem_config *a, struct devmem_config *b)
{
	devmem_config_init(a);
	devmem_config_init(b);
	inet_pton(AF_INET, "192.0.2.1", &a->ipv4);
	inet_pton(AF_INET, "192.0.2.2", &b->ipv4);
	inet_pton(AF_INET6, "2001:db8::1", &a->ipv6);
	inet_pton(AF_INET6, "2001:db8::2", &b->ipv6);
}

static inline socklen_t make_addr(int family, const char *ip, uint16_t port,
				  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		inet_pton(AF_INET, ip, &in->sin_addr);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (void *)ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &in6->sin6_addr);
	return sizeof(*in6);
}

/* sendmsg from TX binding id: each iov_base an offset into its dmabuf, the
 * id in a SOL_SOCKET/SCM_DEVMEM_DMABUF cmsg. */
static inline ssize_t send_dmabuf(int fd, uint32_t id, const struct iovec *iov, size_t n,
				  int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = n,
			     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *cm;

	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_DEVMEM_DMABUF;
	cm->cmsg_len = CMSG_LEN(sizeof(uint32_t));
	memcpy(CMSG_DATA(cm), &id, sizeof(id));
	return devmem_sendmsg(fd, &msg, flags);
}

/* A sender thread: connect from stack A and push `bytes` of the pattern. */
struct sender {
	struct devmem_stack *stack;
	int family;
	const char *dst;
	uint16_t port;
	uint64_t bytes;
	unsigned pattern;
	int err;      /* errno of the first failure, 0 if none */
	uint64_t sent;
	pthread_t thread;
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(s->family, s->dst, s->port, &ss);
	static __thread uint8_t buf[7 * 9362]; /* a multiple of 7: the pattern repeats */
	int fd = devmem_socket(s->stack, s->family, SOCK_STREAM, 0);

	if (fd < 0 || devmem_connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		s->err = errno;
		if (fd >= 0)
			devmem_close(fd);
		return NULL;
	}
	pattern_fill(buf, sizeof(buf), 0, s->pattern ? s->pattern : 7);
	while (s->sent < s->bytes) {
		size_t off = (size_t)(s->sent % sizeof(buf));
		size_t n = sizeof(buf) - off;
		if (n > s->bytes - s->sent)
			n = (size_t)(s->bytes - s->sent);
		ssize_t r = devmem_send(fd, buf + off, n, 0);
		if (r < 0) {
			s->err = errno;
			break;
		}
		s->sent += (uint64_t)r;
	}
	devmem_shutdown(fd, SHUT_WR);
	/* wait for the peer's FIN so that everything was acknowledged */
	char c;
	while (devmem_recv(fd, &c, 1, 0) > 0)
		;
	devmem_close(fd);
	return NULL;
}

static inline int sender_start(struct sender *s)
{
	return pthread_create(&s->thread, NULL, sender_main, s);
}

#endif
