/* SPDX-License-Identifier: MIT */
/*
 * Kernel-socket senders and a classifying reader for tests that feed a
 * devmem stack from the kernel over a real TUN link: the -v 7 pattern out,
 * and on the stack side every byte sorted by how it arrived (device memory,
 * SCM_DEVMEM_LINEAR, ordinary data), all validated, tokens given back.
 */
#ifndef DEVMEM_TEST_FLOWUTIL_H
#define DEVMEM_TEST_FLOWUTIL_H

#include <sys/socket.h>

#include "check.h"
#include "pairutil.h"

/* Send len bytes of the -v 7 pattern on kernel socket fd, then shut the
 * sending side; returns the bytes sent. */
static inline size_t kernel_send_pattern(int fd, size_t len)
{
	static uint8_t buf[7 * 4096]; /* a multiple of 7: the pattern repeats */
	size_t sent = 0;

	pattern_fill(buf, sizeof(buf), 0, 7);
	while (sent < len) {
		size_t off = sent % sizeof(buf);
		size_t n = sizeof(buf) - off < len - sent ? sizeof(buf) - off : len - sent;
		ssize_t r = send(fd, buf + off, n, 0);
		if (r <= 0)
			break;
		sent += (size_t)r;
	}
	shutdown(fd, SHUT_WR);
	return sent;
}

struct drained {
	uint64_t dev, linear, plain;
};

/*
 * Read connection c to its end with MSG_SOCK_DEVMEM: dmabuf frags checked
 * through map (the application's view of the dmabuf; binding id bid when
 * not 0) and given back, linear frags and ordinary data checked in place.
 */
static inline struct drained drain_pattern(int c, const uint8_t *map, uint32_t bid)
{
	static uint8_t data[65536];
	uint8_t ctrl[CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * 64];
	struct drained d0 = {0};
	uint64_t pos = 0;

	for (;;) {
		struct iovec iov = {data, sizeof(data)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				     .msg_controllen = sizeof(ctrl)};
		ssize_t n = devmem_recvmsg(c, &msg, MSG_SOCK_DEVMEM);
		CHECK(n >= 0);
		if (n <= 0)
			break;
		if (!msg.msg_controllen) {
			CHECK_EQ(pattern_check(data, (size_t)n, pos, 7), -1);
			d0.plain += (uint64_t)n;
			pos += (uint64_t)n;
			continue;
		}
		uint64_t at = 0; /* linear bytes sit in data, in stream order */
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct dmabuf_cmsg d;
			memcpy(&d, CMSG_DATA(cm), sizeof(d));
			if (cm->cmsg_type == SCM_DEVMEM_LINEAR) {
				CHECK_EQ(pattern_check(data + at, d.frag_size, pos, 7), -1);
				d0.linear += d.frag_size;
			} else {
				CHECK_EQ(cm->cmsg_type, SCM_DEVMEM_DMABUF);
				if (bid)
					CHECK_EQ(d.dmabuf_id, bid);
				CHECK_EQ(pattern_check(map + d.frag_offset, d.frag_size, pos, 7), -1);
				struct dmabuf_token t = {d.frag_token, 1};
				CHECK_EQ(devmem_setsockopt(c, SOL_SOCKET, SO_DEVMEM_DONTNEED, &t,
							   sizeof(t)), 1);
				d0.dev += d.frag_size;
			}
			at += d.frag_size;
			pos += d.frag_size;
		}
	}
	return d0;
}

#endif /* DEVMEM_TEST_FLOWUTIL_H */
