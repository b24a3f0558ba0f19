/* SPDX-License-Identifier: MIT */
/*
 * The real link: a multi-queue TUN interface with IFF_VNET_HDR and
 * checksum/TSO offloads, so the kernel hands us GSO super-packets of up to
 * 64 KiB with partial checksums, and takes ours the same way. readv() with
 * the payload iovs pointing into the NIC's buffers is the DMA step: the
 * kernel's copy places the payload straight into (host) device memory.
 *
 * The kernel side is configured with ioctls in the caller's network
 * namespace: MTU, the peer addresses, up.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/ipv6.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "link/link.h"
#include "util/util.h"
#include "wire/wire.h"

struct tun {
	unsigned queues;
	int fds[];
};

static ssize_t tun_rx(struct link *l, unsigned q, const struct iovec *iov, int iovcnt)
{
	struct tun *t = l->priv;
	size_t cap = 0;
	ssize_t n;

	n = readv(t->fds[q], iov, iovcnt);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	for (int i = 0; i < iovcnt; i++)
		cap += iov[i].iov_len;
	/* the kernel truncates to our buffers and reports the whole length */
	if ((size_t)n > cap)
		return -EMSGSIZE;
	return n;
}

static int tun_rx_fd(struct link *l, unsigned q)
{
	struct tun *t = l->priv;
	return q < t->queues ? t->fds[q] : -1;
}

static int64_t tun_rx_due_us(struct link *l, unsigned q)
{
	(void)l, (void)q;
	return -1;
}

static int tun_tx(struct link *l, unsigned q, const struct iovec *iov, int iovcnt)
{
	struct tun *t = l->priv;
	ssize_t n;

	do
		n = writev(t->fds[q], iov, iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

static void tun_stats(struct link *l, struct link_stats *st)
{
	(void)l;
	memset(st, 0, sizeof(*st));
}

static void tun_destroy(struct link *l)
{
	struct tun *t = l->priv;

	for (unsigned i = 0; i < t->queues; i++)
		if (t->fds[i] >= 0)
			close(t->fds[i]);
	free(t);
	free(l);
}

static const struct link_ops tun_ops = {
	.rx = tun_rx,
	.rx_fd = tun_rx_fd,
	.rx_due_us = tun_rx_due_us,
	.tx = tun_tx,
	.stats = tun_stats,
	.destroy = tun_destroy,
};

static int tun_open_queue(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	int hdr = WIRE_VNET_LEN;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Kernel side of the interface: MTU, addresses, up. */
static int tun_configure(const struct devmem_tun_opts *o, uint32_t mtu)
{
	static const struct in6_addr any6;
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->ifname);
	ifr.ifr_mtu = (int)mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		goto fail;
	if (o->peer_ipv4.s_addr) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
		unsigned plen = o->prefix4 ? o->prefix4 : 24;

		memset(&ifr.ifr_addr, 0, sizeof(ifr.ifr_addr));
		sin->sin_family = AF_INET;
		sin->sin_addr = o->peer_ipv4;
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0 && errno != EEXIST)
			goto fail;
		sin->sin_addr.s_addr = plen >= 32 ? 0xffffffffu : htonl(~(0xffffffffu >> plen));
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
			goto fail;
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		goto fail;
	if (memcmp(&o->peer_ipv6, &any6, sizeof(any6)) != 0) {
		struct in6_ifreq r6;
		int s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (s6 < 0 || ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
			if (s6 >= 0)
				close(s6);
			goto fail;
		}
		memset(&r6, 0, sizeof(r6));
		r6.ifr6_addr = o->peer_ipv6;
		r6.ifr6_prefixlen = o->prefix6 ? o->prefix6 : 64;
		r6.ifr6_ifindex = ifr.ifr_ifindex;
		/* TUN is IFF_NOARP: no duplicate address detection, usable at once */
		if (ioctl(s6, SIOCSIFADDR, &r6) < 0 && errno != EEXIST) {
			r = -errno;
			close(s6);
			close(s);
			return r;
		}
		close(s6);
	}
	close(s);
	return 0;
fail:
	r = -errno;
	close(s);
	return r;
}

struct link *link_tun_open(const struct devmem_tun_opts *opts, unsigned queues, uint32_t mtu,
			   int *err)
{
	struct link *l = calloc(1, sizeof(*l));
	struct tun *t = calloc(1, sizeof(*t) + queues * sizeof(int));
	int r = 0;

	if (!l || !t) {
		r = -ENOMEM;
		goto fail;
	}
	if (!opts->ifname || !*opts->ifname || strlen(opts->ifname) >= IFNAMSIZ || queues == 0) {
		r = -EINVAL;
		goto fail;
	}
	t->queues = queues;
	for (unsigned i = 0; i < queues; i++)
		t->fds[i] = -1;
	for (unsigned i = 0; i < queues; i++) {
		t->fds[i] = tun_open_queue(opts->ifname);
		if (t->fds[i] < 0) {
			r = t->fds[i];
			goto fail;
		}
	}
	r = tun_configure(opts, mtu);
	if (r < 0)
		goto fail;
	l->ops = &tun_ops;
	l->priv = t;
	l->caps = (struct link_caps){.queues = queues, .mtu = mtu, .max_frame = 65535,
				     .rx_gso = true, .tx_gso = true, .tx_csum = true};
	snprintf(l->name, sizeof(l->name), "tun:%s", opts->ifname);
	return l;
fail:
	if (t) {
		for (unsigned i = 0; i < t->queues; i++)
			if (t->fds[i] >= 0)
				close(t->fds[i]);
		free(t);
	}
	free(l);
	*err = r;
	return NULL;
}
