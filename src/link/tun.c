/* SPDX-License-Identifier: MIT */
/*
 * The real link: a multi-queue TUN interface with IFF_VNET_HDR and
 * checksum/TSO offloads (TUNSETOFFLOAD TUN_F_CSUM|TSO4|TSO6), so the kernel
 * hands us GSO super-packets of up to 64 KiB with partial checksums
 * (NEEDS_CSUM) and takes ours the same way. readv() with the payload iovs
 * pointing into the NIC's buffers is the DMA step: the kernel's copy places
 * the payload straight into (host) device memory.
 *
 * The kernel side is configured with ioctls in the caller's network
 * namespace: MTU, IPv4 address and netmask, up. The IPv6 address goes
 * through rtnetlink with IFA_F_NODAD: SIOCSIFADDR would start DAD from a
 * workqueue, and although TUN (IFF_NOARP) skips the probes, the address is
 * tentative, so unusable for bind() and source selection, until that work
 * has run; with NODAD it is never tentative.
 *
 * Each queue is its own fd; the interface lives as long as one is open
 * (never made persistent), so closing the link removes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef DEVMEM_HAVE_LIBURING
#include <liburing.h>
#endif

#include "link/link.h"
#include "util/util.h"
#include "wire/wire.h"

/*
 * Largest IP packet the kernel hands a TUN device: GSO packets are capped
 * by the device's gso_max_size, 65536 (GSO_LEGACY_MAX_SIZE) unless BIG TCP
 * is configured, which we never do.
 */
#define TUN_MAX_FRAME 65536

/* in6_ifreq is in <linux/ipv6.h>, which clashes with <netinet/in.h> */
struct tun_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

struct tun {
	unsigned queues;
	/* relaxed counters: statistics only, several threads transmit */
	atomic_uint_fast64_t rx_frames, tx_frames;
#ifdef DEVMEM_HAVE_LIBURING
	/* one ring per queue, used only by the thread that holds the queue
	 * (its poller, or a busy-polling reader): no locking of its own */
	struct io_uring *rings;
#endif
	bool *attached;         /* queue i receives (TUNSETQUEUE) */
	int fds[];
};

/* Room for the caller's iovs plus the sentinel; more go without one. */
#define TUN_RX_IOV 64
/* Held frames sent with one read; a ring holds them and the read. */
#define TUN_RING_TX 63

static int tun_tx(struct link *l, unsigned q, const struct iovec *iov, int iovcnt);

/*
 * tun_put_user() copies what fits and (6.x) returns the bytes copied, so a
 * frame cut to our buffers reads exactly like one that filled them. One
 * byte past the caller's buffers tells the two apart: if the kernel wrote
 * it, the frame was longer, and the rest is gone. Copies iov into v with
 * that byte appended (when there is room); returns the caller's capacity.
 */
static size_t add_sentinel(struct iovec *v, const struct iovec **iov, int *iovcnt,
			   uint8_t *sentinel)
{
	size_t cap = 0;

	for (int i = 0; i < *iovcnt; i++)
		cap += (*iov)[i].iov_len;
	if (*iovcnt <= TUN_RX_IOV) {
		memcpy(v, *iov, (size_t)*iovcnt * sizeof(**iov));
		v[*iovcnt].iov_base = sentinel;
		v[*iovcnt].iov_len = 1;
		*iov = v;
		(*iovcnt)++;
	}
	return cap;
}

static ssize_t tun_rx(struct link *l, unsigned q, const struct iovec *iov, int iovcnt)
{
	struct tun *t = l->priv;
	struct iovec v[TUN_RX_IOV + 1];
	uint8_t sentinel;
	size_t cap;
	ssize_t n;

	if (q >= t->queues || iovcnt < 0)
		return -EINVAL;
	cap = add_sentinel(v, &iov, &iovcnt, &sentinel);
	do
		n = readv(t->fds[q], iov, iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno; /* EAGAIN included: the fd is non-blocking */
	/* older kernels return the whole length: longer than cap as well */
	if ((size_t)n > cap)
		return -EMSGSIZE;
	atomic_fetch_add_explicit(&t->rx_frames, 1, memory_order_relaxed);
	return n;
}

/*
 * The frames a poller's round held back (its ACKs) and its next read, in one
 * io_uring_enter instead of one writev each and a readv. The writes go to a
 * non-blocking fd and the read is RWF_NOWAIT, so every request completes
 * inline, in order, and a read with nothing to read completes with -EAGAIN. Without io_uring: the same, one
 * system call at a time.
 */
static ssize_t tun_rx_tx(struct link *l, unsigned q, const struct iovec *iov, int iovcnt,
			 const struct iovec *tx, int ntx)
{
#ifdef DEVMEM_HAVE_LIBURING
	struct tun *t = l->priv;
	struct io_uring *ring = t->rings ? &t->rings[q] : NULL;
	struct iovec v[TUN_RX_IOV + 1];
	uint8_t sentinel;
	size_t cap;
	ssize_t rd = -EAGAIN;

	if (ring && q < t->queues && iovcnt >= 0 && iovcnt <= TUN_RX_IOV && ntx <= TUN_RING_TX) {
		cap = add_sentinel(v, &iov, &iovcnt, &sentinel);
		for (int i = 0; i < ntx; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
			io_uring_prep_writev(sqe, t->fds[q], &tx[i], 1, 0);
			sqe->user_data = 0;
		}
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		io_uring_prep_readv(sqe, t->fds[q], iov, (unsigned)iovcnt, 0);
		/* O_NONBLOCK alone does not stop io_uring from waiting for
		 * the fd to turn readable (it arms a poll): RWF_NOWAIT makes
		 * an empty queue complete with -EAGAIN, so the caller never
		 * sleeps here holding its queue's lock */
		sqe->rw_flags = RWF_NOWAIT;
		sqe->user_data = 1;
		int r;
		do
			r = io_uring_submit_and_wait(ring, (unsigned)ntx + 1);
		while (r == -EINTR);
		if (r < 0)
			return r;
		for (int done = 0; done < ntx + 1; done++) {
			struct io_uring_cqe *cqe;

			if (io_uring_wait_cqe(ring, &cqe) < 0)
				break;
			if (cqe->user_data == 1)
				rd = cqe->res;
			else if (cqe->res < 0)
				DEVMEM_DBG("tun tx: %s", strerror(-cqe->res));
			io_uring_cqe_seen(ring, cqe);
		}
		atomic_fetch_add_explicit(&t->tx_frames, (unsigned)ntx, memory_order_relaxed);
		if (rd < 0)
			return rd;
		if ((size_t)rd > cap)
			return -EMSGSIZE;
		atomic_fetch_add_explicit(&t->rx_frames, 1, memory_order_relaxed);
		return rd;
	}
#endif
	for (int i = 0; i < ntx; i++)
		tun_tx(l, q, &tx[i], 1);
	return tun_rx(l, q, iov, iovcnt);
}

static int tun_rx_fd(struct link *l, unsigned q)
{
	struct tun *t = l->priv;

	return q < t->queues ? t->fds[q] : -1;
}

static int64_t tun_rx_due_us(struct link *l, unsigned q)
{
	(void)l, (void)q;
	return -1; /* the kernel holds nothing back from us */
}

static int tun_tx(struct link *l, unsigned q, const struct iovec *iov, int iovcnt)
{
	struct tun *t = l->priv;
	ssize_t n;

	if (q >= t->queues)
		return -EINVAL;
	/* one write is one packet; TUN takes it whole or fails */
	do
		n = writev(t->fds[q], iov, iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	atomic_fetch_add_explicit(&t->tx_frames, 1, memory_order_relaxed);
	return 0;
}

/* Queues at or above n are detached, top down, so that the kernel's queue
 * numbers (it fills a hole with its last queue) stay ours; re-attached
 * bottom up for the same reason. */
static int tun_set_queues(struct link *l, unsigned n)
{
	struct tun *t = l->priv;
	struct ifreq ifr;

	if (n == 0 || n > t->queues)
		return -EINVAL;
	for (unsigned i = t->queues; i-- > n;) {
		if (!t->attached[i])
			continue;
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_DETACH_QUEUE;
		if (ioctl(t->fds[i], TUNSETQUEUE, &ifr) < 0)
			return -errno;
		t->attached[i] = false;
	}
	for (unsigned i = 0; i < n; i++) {
		if (t->attached[i])
			continue;
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_ATTACH_QUEUE;
		if (ioctl(t->fds[i], TUNSETQUEUE, &ifr) < 0)
			return -errno;
		t->attached[i] = true;
	}
	return 0;
}

static int tun_dev_fd(struct link *l)
{
	struct tun *t = l->priv;
	return t->fds[0];
}

static void tun_stats(struct link *l, struct link_stats *st)
{
	struct tun *t = l->priv;

	memset(st, 0, sizeof(*st));
	st->rx_frames = atomic_load_explicit(&t->rx_frames, memory_order_relaxed);
	st->tx_frames = atomic_load_explicit(&t->tx_frames, memory_order_relaxed);
}

static void tun_close_all(struct tun *t)
{
#ifdef DEVMEM_HAVE_LIBURING
	if (t->rings) {
		for (unsigned i = 0; i < t->queues; i++)
			io_uring_queue_exit(&t->rings[i]);
		free(t->rings);
		t->rings = NULL;
	}
#endif
	for (unsigned i = 0; i < t->queues; i++)
		if (t->fds[i] >= 0)
			close(t->fds[i]);
}

/* Closing the last queue fd removes the (non-persistent) interface. */
static void tun_destroy(struct link *l)
{
	struct tun *t = l->priv;

	tun_close_all(t);
	free(t->attached);
	free(t);
	free(l);
}

static const struct link_ops tun_ops = {
	.rx_tx = tun_rx_tx,
	.rx = tun_rx,
	.rx_fd = tun_rx_fd,
	.rx_due_us = tun_rx_due_us,
	.tx = tun_tx,
	.stats = tun_stats,
	.destroy = tun_destroy,
	.set_queues = tun_set_queues,
	.dev_fd = tun_dev_fd,
};

/* Attach one queue (creating the interface with the first). */
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
	/* vnet header size and offloads are per device: setting them on each
	 * queue is redundant but harmless, and keeps queues interchangeable */
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* Best effort: write a per-interface sysctl of the current namespace. */
static void sysctl_if(const char *fmt, const char *ifname, const char *val)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), fmt, ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		DEVMEM_DBG("tun: %s: %s", path, strerror(errno));
	close(fd);
}

static void nl_attr(struct nlmsghdr *nh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/*
 * RTM_NEWADDR for an IPv6 address with IFA_F_NODAD (never tentative). An
 * address already there is fine (EEXIST).
 */
static int nl_add_addr6(int ifindex, const struct in6_addr *addr, unsigned plen)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[64];
	} req;
	union {
		struct nlmsghdr nh;
		char buf[512];
	} ans;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	uint32_t flags = IFA_F_NODAD;
	ssize_t n;
	int fd, r;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	req.nh.nlmsg_seq = 1;
	req.ifa.ifa_family = AF_INET6;
	req.ifa.ifa_prefixlen = (unsigned char)plen;
	req.ifa.ifa_flags = (unsigned char)flags;
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = (unsigned)ifindex;
	nl_attr(&req.nh, IFA_LOCAL, addr, sizeof(*addr));
	nl_attr(&req.nh, IFA_ADDRESS, addr, sizeof(*addr));
	nl_attr(&req.nh, IFA_FLAGS, &flags, sizeof(flags));

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		r = -errno;
		goto out;
	}
	/* the ACK: an NLMSG_ERROR carrying 0 or -errno */
	do
		n = recv(fd, &ans, sizeof(ans), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	if (!NLMSG_OK(&ans.nh, (unsigned)n) || ans.nh.nlmsg_type != NLMSG_ERROR ||
	    ans.nh.nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
		r = -EPROTO;
		goto out;
	}
	r = ((struct nlmsgerr *)NLMSG_DATA(&ans.nh))->error;
	if (r == -EEXIST)
		r = 0;
out:
	close(fd);
	return r;
}

static int ioctl_ifr(int s, unsigned long req, struct ifreq *ifr)
{
	return ioctl(s, req, ifr) < 0 ? -errno : 0;
}

/* Kernel side of the interface: MTU, addresses, up. */
static int tun_configure(const struct devmem_tun_opts *o, uint32_t mtu)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->ifname);

	/* We are no router and there is none to ask: no router solicitations.
	 * Before up, or the first one is already queued. */
	sysctl_if("/proc/sys/net/ipv6/conf/%s/router_solicitations", o->ifname, "0");
	sysctl_if("/proc/sys/net/ipv6/conf/%s/accept_ra", o->ifname, "0");

	ifr.ifr_mtu = (int)mtu;
	if ((r = ioctl_ifr(s, SIOCSIFMTU, &ifr)) < 0)
		goto out;
	if (o->peer_ipv4.s_addr) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
		unsigned plen = o->prefix4 ? o->prefix4 : 24;

		if (plen > 32) {
			r = -EINVAL;
			goto out;
		}
		memset(&ifr.ifr_addr, 0, sizeof(ifr.ifr_addr));
		sin->sin_family = AF_INET;
		sin->sin_addr = o->peer_ipv4;
		/* the same address again is a no-op (0), not EEXIST */
		if ((r = ioctl_ifr(s, SIOCSIFADDR, &ifr)) < 0 && r != -EEXIST)
			goto out;
		/* point-to-point: SIOCSIFADDR made it a /32; the netmask
		 * gives the prefix route through the interface */
		sin->sin_addr.s_addr = plen ? htonl(~0u << (32 - plen)) : 0;
		if ((r = ioctl_ifr(s, SIOCSIFNETMASK, &ifr)) < 0)
			goto out;
	}
	if ((r = ioctl_ifr(s, SIOCGIFFLAGS, &ifr)) < 0)
		goto out;
	ifr.ifr_flags |= IFF_UP;
	if ((r = ioctl_ifr(s, SIOCSIFFLAGS, &ifr)) < 0)
		goto out;
	if (!IN6_IS_ADDR_UNSPECIFIED(&o->peer_ipv6)) {
		unsigned plen = o->prefix6 ? o->prefix6 : 64;

		if (plen > 128) {
			r = -EINVAL;
			goto out;
		}
		if ((r = ioctl_ifr(s, SIOCGIFINDEX, &ifr)) < 0)
			goto out;
		r = nl_add_addr6(ifr.ifr_ifindex, &o->peer_ipv6, plen);
		if (r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT) {
			/* no rtnetlink here: the ioctl, and DAD is skipped on
			 * IFF_NOARP anyway, after a moment's tentativeness */
			struct tun_in6_ifreq r6 = {.addr = o->peer_ipv6, .prefixlen = plen,
						   .ifindex = ifr.ifr_ifindex};
			int s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

			r = s6 < 0 ? -errno : ioctl(s6, SIOCSIFADDR, &r6) < 0 ? -errno : 0;
			if (r == -EEXIST)
				r = 0;
			if (s6 >= 0)
				close(s6);
		}
	}
out:
	close(s);
	return r;
}

struct link *link_tun_open(const struct devmem_tun_opts *opts, unsigned queues, uint32_t mtu,
			   int *err)
{
	struct link *l = NULL;
	struct tun *t = NULL;
	int r;

	if (!opts || !opts->ifname || !*opts->ifname || strlen(opts->ifname) >= IFNAMSIZ ||
	    queues == 0 || queues > 256 || mtu < 68 || mtu > 65535) {
		r = -EINVAL;
		goto fail;
	}
	l = calloc(1, sizeof(*l));
	t = calloc(1, sizeof(*t) + queues * sizeof(int));
	if (!l || !t) {
		r = -ENOMEM;
		goto fail;
	}
	t->queues = queues;
	for (unsigned i = 0; i < queues; i++)
		t->fds[i] = -1;
	t->attached = calloc(queues, sizeof(*t->attached));
	if (!t->attached) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < queues; i++)
		t->attached[i] = true;
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
#ifdef DEVMEM_HAVE_LIBURING
	t->rings = calloc(queues, sizeof(*t->rings));
	for (unsigned i = 0; t->rings && i < queues; i++) {
		if (io_uring_queue_init(TUN_RING_TX + 1, &t->rings[i], 0) < 0) {
			/* io_uring disabled here: plain system calls instead */
			while (i--)
				io_uring_queue_exit(&t->rings[i]);
			free(t->rings);
			t->rings = NULL;
		}
	}
#endif
	l->ops = &tun_ops;
	l->priv = t;
	l->caps = (struct link_caps){.queues = queues, .mtu = mtu, .max_frame = TUN_MAX_FRAME,
				     .rx_gso = true, .tx_gso = true, .tx_csum = true};
	snprintf(l->name, sizeof(l->name), "tun:%s", opts->ifname);
	return l;
fail:
	if (t) {
		tun_close_all(t);
		free(t->attached);
		free(t);
	}
	free(l);
	if (err)
		*err = r;
	return NULL;
}
