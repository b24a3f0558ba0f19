/* SPDX-License-Identifier: MIT */
/*
 * recvmsg: ordinary data is copied into the iov; device-memory data becomes
 * one SCM_DEVMEM_DMABUF cmsg per frag with a token (tcp_recvmsg_dmabuf in
 * Linux), and the host-memory part of device data is copied and reported by
 * SCM_DEVMEM_LINEAR. One call never mixes ordinary and device data.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "sock/sock.h"
#include "util/util.h"

int64_t sock_token_get(struct sock *sk, struct pool *p, uint32_t idx, uint32_t len);
void sock_token_undo(struct sock *sk, uint32_t token);

/* Where the next copied byte goes in the caller's iov. */
struct iov_cursor {
	const struct iovec *iov;
	size_t n, i, off;
};

static int iov_copy(struct iov_cursor *ic, const struct pbuf *pb, uint32_t off, uint32_t len)
{
	while (len) {
		while (ic->i < ic->n && ic->off == ic->iov[ic->i].iov_len)
			ic->i++, ic->off = 0;
		if (ic->i == ic->n)
			return -EFAULT;
		uint32_t c = (uint32_t)DEVMEM_MIN((size_t)len, ic->iov[ic->i].iov_len - ic->off);
		int r = pbuf_copy_out(pb, off, (uint8_t *)ic->iov[ic->i].iov_base + ic->off, c);
		if (r < 0)
			return r;
		ic->off += c;
		off += c;
		len -= c;
	}
	return 0;
}

/* Control buffer writer that never truncates (put_cmsg_notrunc). */
struct cmsg_cursor {
	uint8_t *buf;
	size_t len, used;
};

static int put_cmsg(struct cmsg_cursor *cc, int type, const struct dmabuf_cmsg *d)
{
	struct cmsghdr h;

	if (!cc->buf || cc->len - cc->used < CMSG_LEN(sizeof(*d)))
		return -ETOOSMALL;
	h.cmsg_len = CMSG_LEN(sizeof(*d));
	h.cmsg_level = SOL_SOCKET;
	h.cmsg_type = type;
	memcpy(cc->buf + cc->used, &h, sizeof(h));
	memcpy(cc->buf + cc->used + CMSG_LEN(0), d, sizeof(*d));
	cc->used += DEVMEM_MIN(CMSG_SPACE(sizeof(*d)), cc->len - cc->used);
	return 0;
}

/* Drop n bytes from the head of the receive queue. */
static void rcvq_consume(struct sock *sk, struct rxseg *g, uint32_t n)
{
	struct tcp_conn *c = &sk->conn;

	pbuf_trim_front(&g->pb, n);
	g->seq += n;
	c->rcvq_bytes -= n;
	if (g->pb.len == 0) {
		struct rxseg *h = tcp_rcvq_pop(c);
		stack_seg_free(sk->stack, h);
	}
}

/* Device data from segment g: cmsgs for dmabuf frags, copies for linear. */
static ssize_t recv_devmem(struct sock *sk, struct rxseg *g, struct iov_cursor *ic,
			   struct cmsg_cursor *cc, size_t *remaining)
{
	ssize_t done = 0;

	while (*remaining && g->pb.len) {
		struct frag *f = &g->pb.frags[0];
		uint32_t n = (uint32_t)DEVMEM_MIN((size_t)f->len, *remaining);
		struct dmabuf_cmsg d = {0};
		int r;

		if (f->pool->devmem) {
			int64_t tok = sock_token_get(sk, f->pool, f->idx, n);
			if (tok < 0)
				return done ? done : tok;
			d.frag_offset = pool_buf_off(f->pool, f->idx) + f->off;
			d.frag_size = n;
			d.frag_token = (uint32_t)tok;
			d.dmabuf_id = f->pool->binding_id;
			r = put_cmsg(cc, SCM_DEVMEM_DMABUF, &d);
			if (r < 0) {
				sock_token_undo(sk, (uint32_t)tok);
				return done ? done : r;
			}
		} else {
			d.frag_size = n;
			r = put_cmsg(cc, SCM_DEVMEM_LINEAR, &d);
			if (r == 0)
				r = iov_copy(ic, &g->pb, 0, n);
			if (r < 0)
				return done ? done : r;
		}
		rcvq_consume(sk, g, n);
		*remaining -= n;
		done += n;
		if (g->pb.len == 0)
			break; /* g was freed */
	}
	return done;
}

ssize_t sock_recvmsg(struct sock *sk, struct msghdr *msg, int flags)
{
	struct tcp_conn *c = &sk->conn;
	struct iov_cursor ic = {msg->msg_iov, msg->msg_iovlen, 0, 0};
	struct cmsg_cursor cc = {msg->msg_control, msg->msg_control ? msg->msg_controllen : 0, 0};
	size_t remaining = 0;
	ssize_t copied = 0;
	int mode = -1; /* 1: device data, 0: ordinary data, -1: none yet */

	for (size_t i = 0; i < msg->msg_iovlen; i++)
		remaining += msg->msg_iov[i].iov_len;
	while (remaining && c->rcvq_head) {
		struct rxseg *g = c->rcvq_head;
		int dev = g->pb.devmem ? 1 : 0;

		if (mode >= 0 && mode != dev)
			break; /* never mix host and device data in one call */
		if (dev && !(flags & MSG_SOCK_DEVMEM)) {
			if (!copied)
				copied = -EFAULT;
			break;
		}
		mode = dev;
		if (dev) {
			ssize_t r = recv_devmem(sk, g, &ic, &cc, &remaining);
			if (r < 0) {
				if (!copied)
					copied = r;
				break;
			}
			copied += r;
			if (r == 0)
				break;
			continue;
		}
		uint32_t n = (uint32_t)DEVMEM_MIN((size_t)g->pb.len, remaining);
		int r = iov_copy(&ic, &g->pb, 0, n);
		if (r < 0) {
			if (!copied)
				copied = r;
			break;
		}
		rcvq_consume(sk, g, n);
		remaining -= n;
		copied += n;
	}
	msg->msg_controllen = cc.used;
	msg->msg_flags = 0;
	return copied;
}
