/* SPDX-License-Identifier: MIT */
/*
 * The packetdrill link (pd_link.h). Two FIFOs under one mutex: rx (packets
 * packetdrill injected, read by the stack's poller through link_ops.rx, an
 * eventfd telling it they are there) and tx (packets the stack sent, taken
 * by packetdrill's netdev_receive, a condition variable telling it). A
 * packet is one allocation: packetdrill sends a few hundred per script.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "pd_link.h"
#include "util/util.h"
#include "wire/wire.h"

#define PD_MAX_FRAME 65535u /* packetdrill may inject packets above the MTU */

struct pkt {
	struct pkt *next;
	uint32_t len;      /* bytes in data */
	long long time_us; /* tx: when the stack sent it (gettimeofday) */
	uint8_t data[];
};

struct fifo {
	struct pkt *head, *tail;
	unsigned n;
};

struct pd_link {
	struct link link;
	pthread_mutex_t lock;
	pthread_cond_t tx_cond; /* a packet joined tx */
	struct fifo rx, tx;
	int rx_efd;             /* readable while rx holds packets */
	struct link_stats st;
};

static struct pd_link *pd(struct link *l)
{
	return (struct pd_link *)l;
}

static void fifo_push(struct fifo *f, struct pkt *p)
{
	p->next = NULL;
	if (f->tail)
		f->tail->next = p;
	else
		f->head = p;
	f->tail = p;
	f->n++;
}

static struct pkt *fifo_pop(struct fifo *f)
{
	struct pkt *p = f->head;

	if (!p)
		return NULL;
	f->head = p->next;
	if (!f->head)
		f->tail = NULL;
	f->n--;
	return p;
}

static void fifo_free(struct fifo *f)
{
	struct pkt *p;

	while ((p = fifo_pop(f)))
		free(p);
}

static long long wall_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* ---- checksums ------------------------------------------------------------ */

/*
 * The receive check of a NIC: true when the packet is IPv4 or IPv6 carrying
 * TCP, UDP, ICMP or ICMPv6 whose checksum (and IPv4 header checksum) is
 * right. Anything else gets no verdict.
 */
static bool rx_csum_good(const uint8_t *pkt, uint32_t len)
{
	uint32_t l4off, l4len, sum = 0;
	uint8_t proto;

	if (len < 1)
		return false;
	if (pkt[0] >> 4 == 4) {
		struct wire_ipv4 ip;
		int r = wire_ipv4_parse(pkt, len, &ip);

		if (r < 0 || (ip.frag & (WIRE_IPV4_MF | WIRE_IPV4_OFFMASK)))
			return false;
		proto = ip.proto;
		l4off = (uint32_t)r;
		l4len = ip.total_len - l4off;
		if (proto == WIRE_PROTO_TCP || proto == WIRE_PROTO_UDP)
			sum = wire_pseudo4(ip.src, ip.dst, proto, l4len);
		else if (proto != WIRE_PROTO_ICMP)
			return false;
	} else if (pkt[0] >> 4 == 6) {
		struct wire_ipv6 ip;
		int r = wire_ipv6_parse(pkt, len, &ip);

		if (r < 0)
			return false;
		proto = ip.proto;
		l4off = (uint32_t)r;
		l4len = WIRE_IPV6_LEN + ip.payload_len - l4off;
		if (proto != WIRE_PROTO_TCP && proto != WIRE_PROTO_UDP &&
		    proto != WIRE_PROTO_ICMPV6)
			return false;
		sum = wire_pseudo6(ip.src, ip.dst, proto, l4len);
	} else {
		return false;
	}
	if (l4off + l4len > len || l4len < 4)
		return false;
	return wire_csum_fold(wire_csum_add(sum, pkt + l4off, l4len)) == 0;
}

/* Complete a checksum left to the link (NEEDS_CSUM). The stack asks for
 * none here (tx_csum is off); done anyway so that nothing half-summed can
 * reach packetdrill. */
static void tx_csum_complete(uint8_t *frame, uint32_t len)
{
	struct wire_vnet v;
	uint8_t *pkt = frame + WIRE_VNET_LEN;
	uint32_t plen = len - WIRE_VNET_LEN;

	if (wire_vnet_parse(frame, len, &v) < 0 || !(v.flags & WIRE_VNET_F_NEEDS_CSUM))
		return;
	if ((uint32_t)v.csum_start + v.csum_offset + 2 > plen)
		return;
	uint16_t c = wire_csum_fold(wire_csum_add(0, pkt + v.csum_start, plen - v.csum_start));
	wire_put16(pkt + v.csum_start + v.csum_offset, c);
}

/* ---- link ops ---------------------------------------------------------------- */

static ssize_t pd_rx(struct link *l, unsigned q, const struct iovec *iov, int iovcnt)
{
	struct pd_link *p = pd(l);
	struct pkt *k;
	size_t cap = 0, pos = 0;
	uint64_t v;

	if (q != 0)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++)
		cap += iov[i].iov_len;
	pthread_mutex_lock(&p->lock);
	k = fifo_pop(&p->rx);
	if (!p->rx.n && read(p->rx_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		DEVMEM_DBG("pd link: %s", strerror(errno));
	if (k)
		p->st.rx_frames++;
	pthread_mutex_unlock(&p->lock);
	if (!k)
		return -EAGAIN;
	if (k->len > cap) {
		free(k);
		return -EMSGSIZE;
	}
	for (int i = 0; i < iovcnt && pos < k->len; i++) {
		size_t n = DEVMEM_MIN(iov[i].iov_len, (size_t)(k->len - pos));

		memcpy(iov[i].iov_base, k->data + pos, n);
		pos += n;
	}
	ssize_t len = k->len;
	free(k);
	return len;
}

static int pd_rx_fd(struct link *l, unsigned q)
{
	return q == 0 ? pd(l)->rx_efd : -1;
}

static int64_t pd_rx_due_us(struct link *l, unsigned q)
{
	(void)l;
	(void)q;
	return -1;
}

static int pd_tx(struct link *l, unsigned q, const struct iovec *iov, int iovcnt)
{
	struct pd_link *p = pd(l);
	struct wire_vnet v;
	struct pkt *k;
	size_t len = 0, pos = 0;

	if (q != 0 || iovcnt < 1)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len < WIRE_VNET_LEN || len > WIRE_VNET_LEN + PD_MAX_FRAME)
		return -EMSGSIZE;
	k = malloc(sizeof(*k) + len);
	if (!k)
		return -ENOMEM;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(k->data + pos, iov[i].iov_base, iov[i].iov_len);
		pos += iov[i].iov_len;
	}
	if (wire_vnet_parse(k->data, len, &v) == 0 && v.gso_type != WIRE_VNET_GSO_NONE) {
		/* the caps say no GSO: a GSO frame is the stack's bug */
		DEVMEM_DBG("pd link: GSO frame dropped");
		free(k);
		return -EINVAL;
	}
	tx_csum_complete(k->data, (uint32_t)len);
	/* packetdrill sees IP packets: drop the virtio-net header */
	memmove(k->data, k->data + WIRE_VNET_LEN, len - WIRE_VNET_LEN);
	k->len = (uint32_t)(len - WIRE_VNET_LEN);
	k->time_us = wall_us();
	pthread_mutex_lock(&p->lock);
	fifo_push(&p->tx, k);
	p->st.tx_frames++;
	pthread_cond_broadcast(&p->tx_cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void pd_stats(struct link *l, struct link_stats *st)
{
	struct pd_link *p = pd(l);

	pthread_mutex_lock(&p->lock);
	*st = p->st;
	pthread_mutex_unlock(&p->lock);
}

static void pd_destroy(struct link *l)
{
	struct pd_link *p = pd(l);

	fifo_free(&p->rx);
	fifo_free(&p->tx);
	if (p->rx_efd >= 0)
		close(p->rx_efd);
	pthread_cond_destroy(&p->tx_cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static const struct link_ops pd_ops = {
	.rx = pd_rx,
	.rx_fd = pd_rx_fd,
	.rx_due_us = pd_rx_due_us,
	.tx = pd_tx,
	.stats = pd_stats,
	.destroy = pd_destroy,
};

struct link *pd_link_open(uint32_t mtu, int *err)
{
	struct pd_link *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->tx_cond, &ca);
	pthread_condattr_destroy(&ca);
	p->rx_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->rx_efd < 0) {
		*err = -errno;
		pd_destroy(&p->link);
		return NULL;
	}
	p->link.ops = &pd_ops;
	p->link.priv = p;
	p->link.caps = (struct link_caps){.queues = 1, .mtu = mtu, .max_frame = PD_MAX_FRAME,
					  .rx_gso = false, .tx_gso = false, .tx_csum = false,
					  .rx_csum_trusted = false};
	snprintf(p->link.name, sizeof(p->link.name), "packetdrill");
	return &p->link;
}

int pd_link_inject(struct link *l, const void *pkt, size_t len)
{
	struct pd_link *p = pd(l);
	struct wire_vnet v = {0};
	struct pkt *k;
	uint64_t one = 1;
	int r = 0;

	if (len == 0 || len > PD_MAX_FRAME)
		return -EMSGSIZE;
	k = malloc(sizeof(*k) + WIRE_VNET_LEN + len);
	if (!k)
		return -ENOMEM;
	if (rx_csum_good(pkt, (uint32_t)len))
		v.flags = WIRE_VNET_F_DATA_VALID;
	else
		p->st.rx_bad_csum++; /* delivered without a verdict: the stack drops it */
	wire_vnet_emit(&v, k->data);
	memcpy(k->data + WIRE_VNET_LEN, pkt, len);
	k->len = (uint32_t)(WIRE_VNET_LEN + len);
	k->time_us = 0;
	pthread_mutex_lock(&p->lock);
	fifo_push(&p->rx, k);
	if (write(p->rx_efd, &one, sizeof(one)) < 0)
		r = -errno;
	pthread_mutex_unlock(&p->lock);
	return r;
}

unsigned pd_link_rx_pending(struct link *l)
{
	struct pd_link *p = pd(l);
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->rx.n;
	pthread_mutex_unlock(&p->lock);
	return n;
}

size_t pd_link_take(struct link *l, void *buf, size_t cap, long long *time_us, int timeout_ms)
{
	struct pd_link *p = pd(l);
	struct timespec dl;
	struct pkt *k;
	size_t n;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	if (timeout_ms > 0) {
		dl.tv_sec += timeout_ms / 1000;
		dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&p->lock);
	while (!p->tx.head && timeout_ms != 0) {
		int r = timeout_ms < 0 ? pthread_cond_wait(&p->tx_cond, &p->lock)
				       : pthread_cond_timedwait(&p->tx_cond, &p->lock, &dl);
		if (r == ETIMEDOUT)
			break;
	}
	k = fifo_pop(&p->tx);
	pthread_mutex_unlock(&p->lock);
	if (!k)
		return 0;
	n = DEVMEM_MIN(cap, (size_t)k->len);
	memcpy(buf, k->data, n);
	*time_us = k->time_us;
	free(k);
	return n;
}
