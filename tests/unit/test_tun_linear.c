/* SPDX-License-Identifier: MIT */
/*
 * The linear fallback on the real TUN link. A kernel IPv6 TCP socket with a
 * 128-byte hop-by-hop option (IPV6_HOPOPTS) sends to a stack whose only
 * queue is bound: every data frame's headers (40 + 128 + 32 bytes) exceed
 * the NIC's 128-byte header buffer, so no frame can be split. The payload
 * lands in host memory and reaches the application as SCM_DEVMEM_LINEAR,
 * bytes intact, none as SCM_DEVMEM_DMABUF; the queue counts the frames as
 * linear. Then the same stream without the option: all device memory.
 *
 * Needs root and /dev/net/tun; else it skips (77).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip6.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "flowutil.h"

#define LEN (1u << 20)

static struct devmem_stack *st;
static int dmabuf;

static int kernel_sender(bool hopopts)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(5201)};

	inet_pton(AF_INET6, "2001:db8::1", &to.sin6_addr);
	if (hopopts) {
		/* hop-by-hop header of (15 + 1) * 8 = 128 bytes: one PadN option */
		uint8_t h[128] = {0};
		h[1] = 15;
		h[2] = 1;   /* PadN */
		h[3] = 124; /* its data bytes */
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, h, sizeof(h)) < 0) {
			perror("IPV6_HOPOPTS");
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("connect");
		close(fd);
		return -1;
	}
	kernel_send_pattern(fd, LEN);
	return fd;
}

/* Read to the end: bytes by how they came, all validated. */
static void drain(int c, uint64_t *dev, uint64_t *linear, uint64_t *plain)
{
	const uint8_t *map = mmap(NULL, 8u << 20, PROT_READ, MAP_SHARED, dmabuf, 0);

	CHECK(map != MAP_FAILED);
	struct drained d = drain_pattern(c, map, 0);
	*dev = d.dev;
	*linear = d.linear;
	*plain = d.plain;
	munmap((void *)map, 8u << 20);
}

int main(void)
{
	if (geteuid() != 0)
		SKIP("needs root (TUN)");
	if (unshare(CLONE_NEWNET) < 0)
		SKIP("unshare(CLONE_NEWNET) refused");
	int t = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (t < 0)
		SKIP("no /dev/net/tun");
	close(t);

	struct devmem_config cfg;
	struct devmem_tun_opts tun = {.ifname = "dmlin0", .prefix6 = 64};
	devmem_config_init(&cfg);
	inet_pton(AF_INET6, "2001:db8::1", &cfg.ipv6);
	inet_pton(AF_INET6, "2001:db8::2", &tun.peer_ipv6);
	st = devmem_stack_open_tun(&cfg, &tun);
	CHECK(st != NULL);
	if (!st)
		return CHECK_DONE();
	dmabuf = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 8u << 20, 0);
	unsigned q0 = 0;
	struct devmem_binding *b = devmem_bind_rx(st, dmabuf, &q0, 1);
	CHECK(b != NULL);
	int l = devmem_socket(st, AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(AF_INET6, "2001:db8::1", 5201, &ss);
	CHECK_EQ(devmem_bind(l, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(devmem_listen(l, 4), 0);

	uint64_t dev, linear, plain;
	struct devmem_queue_stats q;
	/* unsplittable: every byte linear */
	int k = kernel_sender(true);
	CHECK(k >= 0);
	int c = devmem_accept(l, NULL, NULL);
	CHECK(c >= 0);
	drain(c, &dev, &linear, &plain);
	CHECK_EQ(linear, LEN);
	CHECK_EQ(dev, 0);
	CHECK_EQ(plain, 0);
	CHECK_EQ(devmem_queue_stats(st, 0, &q), 0);
	CHECK(q.linear > 0);
	printf("hop-by-hop: linear %llu dmabuf %llu (queue: linear frames %llu)\n",
	       (unsigned long long)linear, (unsigned long long)dev, (unsigned long long)q.linear);
	devmem_close(c);
	close(k);

	/* the same without the option: split, all device memory */
	k = kernel_sender(false);
	CHECK(k >= 0);
	c = devmem_accept(l, NULL, NULL);
	CHECK(c >= 0);
	drain(c, &dev, &linear, &plain);
	CHECK_EQ(dev, LEN);
	CHECK_EQ(linear, 0);
	devmem_close(c);
	close(k);

	devmem_close(l);
	CHECK_EQ(devmem_unbind(b), 0);
	devmem_stack_close(st);
	devmem_dmabuf_free(dmabuf);
	return CHECK_DONE();
}
