/* SPDX-License-Identifier: MIT */
/*
 * Steering and devmem together on the real TUN link, as ncdevmem sets a NIC
 * up: a 2-queue stack, queue 1 bound to a dmabuf, RSS kept off it
 * (equal 1), and a 5-tuple rule steering one flow to queue 1. Kernel
 * sockets (this process, in a network namespace of its own) open that flow
 * and another: the steered flow's payload arrives all as SCM_DEVMEM_DMABUF,
 * the other as ordinary TCP with no devmem cmsg. Without the rule, the same
 * 5-tuple lands on queue 0 and arrives ordinary: what devmem-nc reports as a
 * steering error. A drop rule drops (the NIC counts it) and the connection
 * attempt times out.
 *
 * Needs root, /dev/net/tun and bpf(); else it skips (77).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "flowutil.h"


static struct devmem_stack *st;
static int dmabuf;
static uint32_t bid;

/* A kernel TCP connection from 192.0.2.2:sport to the stack's 192.0.2.1:port,
 * sending len bytes of the -v 7 pattern. Returns the socket, or -1. */
static int kernel_flow(uint16_t sport, uint16_t port, size_t len, int timeout_s)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(sport)};
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = timeout_s};

	inet_pton(AF_INET, "192.0.2.2", &me.sin_addr);
	inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		close(fd);
		return -1;
	}
	kernel_send_pattern(fd, len);
	return fd;
}

/* Read the accepted connection to its end, every byte validated. */
static void read_flow(int c, uint64_t *dev, uint64_t *plain, uint64_t *linear)
{
	const uint8_t *map = mmap(NULL, 8u << 20, PROT_READ, MAP_SHARED, dmabuf, 0);

	CHECK(map != MAP_FAILED);
	struct drained d = drain_pattern(c, map, bid);
	*dev = d.dev;
	*plain = d.plain;
	*linear = d.linear;
	munmap((void *)map, 8u << 20);
}

static struct devmem_ntuple rule_for(uint16_t sport, int action)
{
	struct devmem_ntuple r = {
		.loc = 10, .flow_type = DEVMEM_FLOW_TCP4,
		.fields = DEVMEM_NTUPLE_SRC_IP | DEVMEM_NTUPLE_DST_IP | DEVMEM_NTUPLE_SRC_PORT |
			  DEVMEM_NTUPLE_DST_PORT,
		.sport = sport, .dport = 5201, .action = action,
	};
	inet_pton(AF_INET, "192.0.2.2", r.src);
	inet_pton(AF_INET, "192.0.2.1", r.dst);
	return r;
}

static void one_flow(int l, uint16_t sport, uint64_t *dev, uint64_t *plain, uint64_t *linear)
{
	int k = kernel_flow(sport, 5201, 1u << 20, 10);
	CHECK(k >= 0);
	int c = devmem_accept(l, NULL, NULL);
	CHECK(c >= 0);
	read_flow(c, dev, plain, linear);
	CHECK_EQ(*dev + *plain + *linear, 1u << 20);
	devmem_close(c);
	close(k);
}

int main(void)
{
	if (geteuid() != 0)
		SKIP("needs root (TUN, bpf)");
	if (unshare(CLONE_NEWNET) < 0)
		SKIP("unshare(CLONE_NEWNET) refused");
	int t = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (t < 0)
		SKIP("no /dev/net/tun");
	close(t);

	struct devmem_config cfg;
	struct devmem_tun_opts tun = {.ifname = "dmsteer0", .prefix4 = 24};
	devmem_config_init(&cfg);
	cfg.rx_queues = 2;
	inet_pton(AF_INET, "192.0.2.1", &cfg.ipv4);
	inet_pton(AF_INET, "192.0.2.2", &tun.peer_ipv4);
	st = devmem_stack_open_tun(&cfg, &tun);
	if (!st && (errno == EPERM || errno == EINVAL))
		SKIP("no TUN steering program (bpf refused)");
	CHECK(st != NULL);
	if (!st)
		return CHECK_DONE();

	/* ncdevmem's set-up: -q 1 -t 1 */
	dmabuf = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 8u << 20, 0);
	unsigned q1 = 1;
	struct devmem_binding *b = devmem_bind_rx(st, dmabuf, &q1, 1);
	CHECK(b != NULL);
	bid = devmem_binding_id(b);
	CHECK_EQ(devmem_rss_equal(st, 1), 0);
	struct devmem_ntuple r = rule_for(5201, 1);
	CHECK_EQ(devmem_ntuple_add(st, &r), 0);

	int l = devmem_socket(st, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(AF_INET, "192.0.2.1", 5201, &ss);
	int one = 1;
	devmem_setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	CHECK_EQ(devmem_bind(l, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(devmem_listen(l, 8), 0);

	uint64_t dev, plain, linear;
	struct devmem_nic_stats ns0, ns1;
	devmem_nic_stats(st, &ns0);
	/* the steered flow: all device memory */
	one_flow(l, 5201, &dev, &plain, &linear);
	CHECK_EQ(dev, 1u << 20);
	CHECK_EQ(plain, 0);
	CHECK_EQ(linear, 0);
	/* another flow: RSS, queue 0, ordinary TCP with no devmem cmsg */
	one_flow(l, 40001, &dev, &plain, &linear);
	CHECK_EQ(dev, 0);
	CHECK_EQ(plain, 1u << 20);
	devmem_nic_stats(st, &ns1);
	CHECK(ns1.rx_steered > ns0.rx_steered);
	CHECK(ns1.rx_rss > ns0.rx_rss);
	CHECK_EQ(ns1.rx_misdirected, ns0.rx_misdirected);
	struct devmem_queue_info qi;
	CHECK_EQ(devmem_queue_info(st, 1, &qi), 0);
	CHECK_EQ(qi.binding_id, bid);
	CHECK(qi.st.split > 0);

	/* the rule removed: the same 5-tuple is ordinary data on queue 0 (the
	 * steering error devmem-nc reports) */
	CHECK_EQ(devmem_ntuple_del(st, r.loc), 0);
	one_flow(l, 5201, &dev, &plain, &linear);
	CHECK_EQ(dev, 0);
	CHECK_EQ(plain, 1u << 20);

	/* a drop rule: the SYNs are dropped by the NIC, connect() times out */
	struct devmem_ntuple d = rule_for(5202, DEVMEM_NTUPLE_DROP);
	CHECK_EQ(devmem_ntuple_add(st, &d), 0);
	int ks = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(5202)};
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(5201)};
	inet_pton(AF_INET, "192.0.2.2", &me.sin_addr);
	inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);
	CHECK_EQ(bind(ks, (struct sockaddr *)&me, sizeof(me)), 0);
	connect(ks, (struct sockaddr *)&to, sizeof(to)); /* EINPROGRESS */
	usleep(300 * 1000);
	devmem_nic_stats(st, &ns1);
	CHECK(ns1.rx_ntuple_drop >= 1);
	struct pollfd p = {.fd = ks, .events = POLLOUT};
	CHECK_EQ(poll(&p, 1, 0), 0); /* still not connected */
	close(ks);

	printf("steered %llu rss %llu ntuple_drop %llu misdirected %llu\n",
	       (unsigned long long)ns1.rx_steered, (unsigned long long)ns1.rx_rss,
	       (unsigned long long)ns1.rx_ntuple_drop, (unsigned long long)ns1.rx_misdirected);
	devmem_close(l);
	CHECK_EQ(devmem_unbind(b), 0);
	devmem_stack_close(st);
	devmem_dmabuf_free(dmabuf);
	return CHECK_DONE();
}
