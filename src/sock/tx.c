/* SPDX-License-Identifier: MIT */
/*
 * sendmsg and the error queue. Ordinary sends copy into the socket's send
 * ring, as the kernel does. With SO_ZEROCOPY and MSG_ZEROCOPY the payload is
 * queued by reference instead: from a TX binding's dmabuf when a
 * SCM_DEVMEM_DMABUF cmsg names one (each iov_base an offset), else from the
 * caller's own memory. Each such call gets the next notification id; when
 * the peer has acknowledged all of it the call completes, and completions
 * wait on the error queue (coalesced when consecutive) for
 * recvmsg(MSG_ERRQUEUE), as net/core/skbuff.c and ip_recv_error() do.
 */
#include <errno.h>
#include <time.h> /* linux/errqueue.h needs struct timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sock/sock.h"
#include "util/util.h"

/* Kernel value (include/linux/socket.h); glibc's headers lack it. */
#ifndef SOL_IP
#define SOL_IP 0
#endif

/* ---- error queue ---------------------------------------------------------- */

void sock_errq_push(struct sock *sk, uint32_t lo, uint32_t hi)
{
	struct sock_errq *q = &sk->errq;

	if (q->n) {
		/* coalesce with the newest range, as the kernel's
		 * skb_zerocopy_notify_extend (bounded to keep the count sane) */
		struct zc_range *t = &q->r[(q->head + q->n - 1) % SOCK_ERRQ_MAX];
		if (t->hi + 1 == lo && hi - t->lo < UINT32_MAX / 2) {
			t->hi = hi;
			return;
		}
	}
	if (q->n == SOCK_ERRQ_MAX) {
		/* cannot happen with in-order ids (they always coalesce); keep
		 * the newest by widening the last range rather than lose ids */
		q->r[(q->head + q->n - 1) % SOCK_ERRQ_MAX].hi = hi;
		return;
	}
	q->r[(q->head + q->n) % SOCK_ERRQ_MAX] = (struct zc_range){lo, hi};
	q->n++;
}

ssize_t sock_recv_errqueue(struct sock *sk, struct msghdr *msg)
{
	struct sock_errq *q = &sk->errq;
	struct {
		struct sock_extended_err ee;
		union {
			struct sockaddr_in in;
			struct sockaddr_in6 in6;
		} offender;
	} e;
	size_t elen;
	struct cmsghdr h;

	if (!q->n)
		return -EAGAIN; /* the error queue never blocks */
	struct zc_range r = q->r[q->head];
	memset(&e, 0, sizeof(e));
	e.ee.ee_errno = 0;
	e.ee.ee_origin = SO_EE_ORIGIN_ZEROCOPY;
	e.ee.ee_info = r.lo;
	e.ee.ee_data = r.hi;
	if (sk->domain == AF_INET) {
		h.cmsg_level = SOL_IP;
		h.cmsg_type = IP_RECVERR;
		e.offender.in.sin_family = AF_UNSPEC;
		elen = sizeof(e.ee) + sizeof(e.offender.in);
	} else {
		h.cmsg_level = SOL_IPV6;
		h.cmsg_type = IPV6_RECVERR;
		e.offender.in6.sin6_family = AF_UNSPEC;
		elen = sizeof(e.ee) + sizeof(e.offender.in6);
	}
	h.cmsg_len = CMSG_LEN(elen);
	msg->msg_flags = MSG_ERRQUEUE;
	if (msg->msg_name)
		msg->msg_namelen = 0;
	if (!msg->msg_control || msg->msg_controllen < CMSG_LEN(elen)) {
		/* as put_cmsg: what fits is lost with MSG_CTRUNC, and the
		 * notification is consumed all the same */
		msg->msg_flags |= MSG_CTRUNC;
		msg->msg_controllen = 0;
	} else {
		memcpy(msg->msg_control, &h, sizeof(h));
		memcpy((uint8_t *)msg->msg_control + CMSG_LEN(0), &e, elen);
		msg->msg_controllen = DEVMEM_MIN(CMSG_SPACE(elen), msg->msg_controllen);
	}
	q->head = (q->head + 1) % SOCK_ERRQ_MAX;
	q->n--;
	return 0;
}

/* ---- sendmsg ----------------------------------------------------------------- */

/* The dmabuf binding a sendmsg names: 0 and *id when present, 1 when absent,
 * -EINVAL for a malformed SOL_SOCKET cmsg (__sock_cmsg_send). */
static int find_dmabuf_cmsg(const struct msghdr *msg, uint32_t *id)
{
	struct cmsghdr *cm;
	int r = 1;

	if (!msg->msg_control || msg->msg_controllen == 0)
		return 1;
	for (cm = CMSG_FIRSTHDR((struct msghdr *)msg); cm;
	     cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		if (cm->cmsg_len < sizeof(*cm) ||
		    cm->cmsg_len > msg->msg_controllen - ((uint8_t *)cm - (uint8_t *)msg->msg_control))
			return -EINVAL;
		if (cm->cmsg_level != SOL_SOCKET)
			continue; /* other levels are not for TCP */
		if (cm->cmsg_type != SCM_DEVMEM_DMABUF || cm->cmsg_len != CMSG_LEN(sizeof(uint32_t)))
			return -EINVAL;
		memcpy(id, CMSG_DATA(cm), sizeof(*id));
		r = 0;
	}
	return r;
}

/* Wait for send space (lock held): 0, or -errno. */
static int send_wait(struct sock *sk, int flags)
{
	struct tcp_conn *c = &sk->conn;

	if (c->err)
		return -c->err;
	if (sk->nonblock || (flags & MSG_DONTWAIT)) {
		sk->want_out = true; /* signal the fd when space opens */
		return -EAGAIN;
	}
	sk->want_out = true;
	sock_kick_timers(sk);
	sock_wait(sk);
	return sk->user_closed ? -EBADF : 0;
}

/* Why c cannot send, or 0. */
static int send_state_err(const struct tcp_conn *c)
{
	if (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT)
		return c->fin_queued ? -EPIPE : 0;
	/* as Linux's sk_stream_wait_connect: a pending error, else EPIPE when
	 * not connecting; during the handshake the send waits (or EAGAIN) */
	if (c->state == TCP_CLOSED || c->state == TCP_LISTEN)
		return c->err ? -c->err : -EPIPE;
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECV)
		return c->err ? -c->err : 0;
	return -EPIPE;
}

ssize_t sock_sendmsg(struct sock *sk, const struct msghdr *msg, int flags)
{
	struct tcp_conn *c = &sk->conn;
	struct devmem_binding *b = NULL;
	bool zc = (flags & MSG_ZEROCOPY) && sk->zerocopy;
	uint32_t id = 0;
	ssize_t sent = 0;
	int r;

	if (msg->msg_iovlen && !msg->msg_iov)
		return -EFAULT;
	r = find_dmabuf_cmsg(msg, &id);
	if (r < 0)
		return r;
	if (r == 0) {
		/* a dmabuf needs both MSG_ZEROCOPY and SO_ZEROCOPY, and a TX
		 * binding of this stack (an RX binding's id is EINVAL too,
		 * another stack's ENODEV) */
		if (!zc)
			return -EINVAL;
		b = binding_tx_lookup(sk->stack, id);
		if (!b || b->unbound) /* another stack's: not this route's device */
			return binding_tx_elsewhere(id) ? -ENODEV : -EINVAL;
		for (size_t i = 0; i < msg->msg_iovlen; i++) {
			uint64_t off = (uint64_t)(uintptr_t)msg->msg_iov[i].iov_base;
			uint64_t len = msg->msg_iov[i].iov_len;
			if (off > b->dmabuf->size || len > b->dmabuf->size - off)
				return -EFAULT;
		}
	}
	if ((r = send_state_err(c)) < 0) {
		if (c->err)
			c->err = 0;
		return r;
	}
	sk->want_out = false;
	c->tail_more = (flags & MSG_MORE) != 0;

	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		const struct iovec *v = &msg->msg_iov[i];
		size_t done = 0;

		/* the call's partial tail goes once, at its end (Linux pushes
		 * after the whole copy); with MSG_MORE not even then: held
		 * as under TCP_CORK (tcp_push with TCP_NAGLE_CORK) */
		c->more = (flags & MSG_MORE) || i + 1 < msg->msg_iovlen;
		if (v->iov_len && !b && !v->iov_base) {
			if (!sent)
				r = -EFAULT;
			break;
		}
		while (done < v->iov_len) {
			int64_t n;

			if ((r = send_state_err(c)) < 0)
				break;
			if (!zc) {
				n = tcp_send(c, (const uint8_t *)v->iov_base + done, v->iov_len - done,
					     devmem_now_us());
			} else {
				size_t left = v->iov_len - done;
				struct tcp_txp p = {.len = (uint32_t)DEVMEM_MIN(left, (size_t)1 << 30)};
				if (b) {
					p.kind = TCP_TXP_DEV;
					p.mem = b->dmabuf;
					p.off = (uint64_t)(uintptr_t)v->iov_base + done;
					p.ptr = b->dmabuf->map ? b->dmabuf->map + p.off : NULL;
					p.owner = b;
				} else {
					p.kind = TCP_TXP_USER;
					p.ptr = (const uint8_t *)v->iov_base + done;
				}
				n = tcp_send_zc(c, &p, 1, devmem_now_us());
				if (n > 0 && b)
					b->tx_pending += (uint64_t)n;
			}
			if (n < 0) {
				r = (int)n;
				break;
			}
			if (n == 0) {
				r = send_wait(sk, flags);
				if (r < 0)
					break;
				continue;
			}
			done += (size_t)n;
			sent += n;
		}
		if (r < 0)
			break;
	}
	/* MSG_MORE holds only this call's push: later ones (an ACK's) go
	 * by Nagle alone, as the kernel's; a held tail with nothing in
	 * flight leaves after 200 ms (t_cork, the kernel's probe timer) */
	c->more = false;
	if (!(flags & MSG_MORE) && msg->msg_iovlen > 1 && sent > 0 && c->state != TCP_CLOSED &&
	    c->state != TCP_LISTEN)
		tcp_output(c, devmem_now_us());
	if (zc && sent > 0)
		tcp_zc_mark(c); /* one notification per call that queued data */
	sock_kick_timers(sk);
	if (r < 0 && sent == 0) {
		if (r != -EAGAIN && r != -EBADF && c->err)
			c->err = 0;
		return r;
	}
	return sent;
}
