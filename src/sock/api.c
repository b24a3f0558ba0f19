/* SPDX-License-Identifier: MIT */
/*
 * The public socket calls. Each takes the stack lock, does its work on the
 * socket and the protocol core, and maps the internal -errno result to the
 * libc convention in one place (devmem_fail / devmem_ret).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h> /* not netinet/tcp.h: its TCP_ESTABLISHED... clash with ours */
#include <stdarg.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <time.h>
#include <unistd.h>

#include "sock/sock.h"
#include "util/util.h"

/* Look up fd and take its stack's lock; NULL with errno set when unknown. */
static struct sock *sock_lock(int fd)
{
	struct sock *sk = fdtab_get(fd);

	if (!sk) {
		errno = EBADF;
		return NULL;
	}
	pthread_mutex_lock(&sk->stack->lock);
	return sk;
}

static void sock_unlock(struct sock *sk)
{
	pthread_mutex_unlock(&sk->stack->lock);
}

static long unlock_ret(struct sock *sk, long r)
{
	sock_unlock(sk);
	return devmem_ret(r);
}

int devmem_is_socket(int fd)
{
	return fdtab_get(fd) != NULL;
}

static int sock_attach_fd(struct sock *sk)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fdtab_insert(fd, sk) < 0) {
		close(fd);
		return -EMFILE;
	}
	sk->fd = fd;
	sk->ready = false;
	sock_update_ready(sk);
	return fd;
}

int devmem_socket(struct devmem_stack *s, int domain, int type, int protocol)
{
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct sock *sk;
	int fd;

	if (!s)
		return devmem_fail(-EINVAL);
	if (domain != AF_INET && domain != AF_INET6)
		return devmem_fail(-EAFNOSUPPORT);
	if ((type & ~flags) != SOCK_STREAM)
		return devmem_fail(-EPROTONOSUPPORT);
	if (protocol != 0 && protocol != IPPROTO_TCP)
		return devmem_fail(-EPROTONOSUPPORT);
	pthread_mutex_lock(&s->lock);
	sk = sock_alloc(s, domain);
	if (!sk) {
		pthread_mutex_unlock(&s->lock);
		return devmem_fail(-ENOMEM);
	}
	sk->nonblock = (flags & SOCK_NONBLOCK) != 0;
	fd = sock_attach_fd(sk);
	if (fd < 0) {
		/* nothing references sk yet: free it through the reap list */
		sk->user_closed = true;
		sk->dead = true;
		sk->rnext = s->reap;
		s->reap = sk;
		sock_free_orphans(s);
	}
	pthread_mutex_unlock(&s->lock);
	return fd < 0 ? devmem_fail(fd) : fd;
}

static int sockaddr_to_ep(const struct sock *sk, const struct sockaddr *a, socklen_t len,
			  uint8_t *addr, uint16_t *port)
{
	if (!a)
		return -EFAULT;
	if (sk->domain == AF_INET) {
		const struct sockaddr_in *in = (const void *)a;
		if (len < sizeof(*in))
			return -EINVAL;
		if (in->sin_family != AF_INET)
			return -EAFNOSUPPORT;
		memcpy(addr, &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
	} else {
		const struct sockaddr_in6 *in6 = (const void *)a;
		if (len < sizeof(*in6))
			return -EINVAL;
		if (in6->sin6_family != AF_INET6)
			return -EAFNOSUPPORT;
		memcpy(addr, &in6->sin6_addr, 16);
		*port = ntohs(in6->sin6_port);
	}
	return 0;
}

static int ep_to_sockaddr(int domain, const uint8_t *addr, uint16_t port, struct sockaddr *a,
			  socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t n;

	if (!a || !len)
		return -EFAULT;
	memset(&ss, 0, sizeof(ss));
	if (domain == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, addr, 4);
		n = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, addr, 16);
		n = sizeof(*in6);
	}
	memcpy(a, &ss, DEVMEM_MIN(*len, n));
	*len = n;
	return 0;
}

static bool local_addr_ok(const struct devmem_stack *s, int domain, const uint8_t *addr)
{
	static const uint8_t any[16];

	if (domain == AF_INET)
		return memcmp(addr, any, 4) == 0 || memcmp(addr, &s->cfg.ipv4, 4) == 0;
	return memcmp(addr, any, 16) == 0 || memcmp(addr, &s->cfg.ipv6, 16) == 0;
}

static bool port_in_use(const struct devmem_stack *s, const struct sock *self, int domain,
			uint16_t port, bool reuse)
{
	for (const struct sock *o = s->all; o; o = o->anext) {
		if (o == self || o->dead || !o->bound || o->domain != domain || o->ep.lport != port)
			continue;
		/* SO_REUSEADDR lets a new socket bind beside connections that
		 * are not listening (TIME_WAIT and friends), as on Linux */
		if (o->listening || !reuse || !o->reuseaddr)
			return true;
	}
	return false;
}

int devmem_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sock *sk = sock_lock(fd);
	uint8_t a[16] = {0};
	uint16_t port;
	int r;

	if (!sk)
		return -1;
	if (sk->bound)
		return (int)unlock_ret(sk, -EINVAL);
	r = sockaddr_to_ep(sk, addr, len, a, &port);
	if (r < 0)
		return (int)unlock_ret(sk, r);
	if (!local_addr_ok(sk->stack, sk->domain, a))
		return (int)unlock_ret(sk, -EADDRNOTAVAIL);
	if (port && port_in_use(sk->stack, sk, sk->domain, port, sk->reuseaddr))
		return (int)unlock_ret(sk, -EADDRINUSE);
	memcpy(sk->ep.laddr, a, 16);
	sk->ep.lport = port;
	sk->bound = true;
	return (int)unlock_ret(sk, 0);
}

static int pick_port(struct sock *sk)
{
	struct devmem_stack *s = sk->stack;

	for (unsigned tries = 0; tries < 28232; tries++) {
		uint16_t p = s->next_port++;
		if (s->next_port < 32768 || s->next_port > 60999)
			s->next_port = 32768;
		if (p >= 32768 && p <= 60999 && !port_in_use(s, sk, sk->domain, p, false)) {
			sk->ep.lport = p;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

int devmem_listen(int fd, int backlog)
{
	struct sock *sk = sock_lock(fd);
	struct tcp_cfg cfg;
	int r;

	if (!sk)
		return -1;
	if (sk->listening) {
		sk->conn.backlog = backlog > 0 ? (unsigned)backlog : 1;
		return (int)unlock_ret(sk, 0);
	}
	if (sk->conn.state != TCP_CLOSED || sk->hashed)
		return (int)unlock_ret(sk, -EINVAL);
	if (!sk->bound) {
		r = pick_port(sk);
		if (r < 0)
			return (int)unlock_ret(sk, r);
		sk->bound = true;
	}
	if (backlog <= 0)
		backlog = 1;
	if ((unsigned)backlog > sk->stack->cfg.syn_backlog)
		backlog = (int)sk->stack->cfg.syn_backlog;
	sock_fill_cfg(sk, &cfg);
	tcp_conn_init(&sk->conn, &sk->ep, &cfg, &sock_tcp_env, sk);
	r = tcp_listen(&sk->conn, (unsigned)backlog);
	if (r < 0)
		return (int)unlock_ret(sk, r);
	sk->listening = true;
	sk->lnext = sk->stack->listeners;
	sk->stack->listeners = sk;
	return (int)unlock_ret(sk, 0);
}

int devmem_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct sock *sk = sock_lock(fd);
	struct sock *child;
	int r;

	if (!sk)
		return -1;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return (int)unlock_ret(sk, -EINVAL);
	if (!sk->listening)
		return (int)unlock_ret(sk, -EINVAL);
	while (!sk->accq_head) {
		if (sk->nonblock)
			return (int)unlock_ret(sk, -EAGAIN);
		if (sk->user_closed)
			return (int)unlock_ret(sk, -EBADF);
		sock_wait(sk);
	}
	child = sk->accq_head;
	sk->accq_head = child->acc_next;
	if (!sk->accq_head)
		sk->accq_tail = NULL;
	sk->accq_len--;
	child->acc_next = NULL;
	child->bound = true;
	child->nonblock = (flags & SOCK_NONBLOCK) != 0;
	child->conn.parent = NULL; /* accepted: no longer the listener's */
	r = sock_attach_fd(child);
	if (r < 0) {
		tcp_abort(&child->conn, devmem_now_us());
		child->user_closed = true;
		return (int)unlock_ret(sk, r);
	}
	if (addr && len)
		ep_to_sockaddr(child->domain, child->conn.ep.raddr, child->conn.ep.rport, addr, len);
	sock_update_ready(sk);
	return (int)unlock_ret(sk, r);
}

int devmem_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return devmem_accept4(fd, addr, len, 0);
}

int devmem_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sock *sk = sock_lock(fd);
	struct tcp_cfg cfg;
	uint8_t a[16] = {0};
	uint16_t port;
	int r;

	if (!sk)
		return -1;
	if (sk->listening)
		return (int)unlock_ret(sk, -EINVAL);
	if (sk->conn.state == TCP_SYN_SENT)
		return (int)unlock_ret(sk, -EALREADY);
	if (sk->conn.state != TCP_CLOSED)
		return (int)unlock_ret(sk, -EISCONN);
	r = sockaddr_to_ep(sk, addr, len, a, &port);
	if (r < 0)
		return (int)unlock_ret(sk, r);
	if (port == 0)
		return (int)unlock_ret(sk, -ECONNREFUSED);
	if (!sk->bound || sk->ep.lport == 0) {
		r = pick_port(sk);
		if (r < 0)
			return (int)unlock_ret(sk, r);
		sk->bound = true;
	}
	static const uint8_t any[16];
	if (memcmp(sk->ep.laddr, any, 16) == 0) {
		if (sk->domain == AF_INET)
			memcpy(sk->ep.laddr, &sk->stack->cfg.ipv4, 4);
		else
			memcpy(sk->ep.laddr, &sk->stack->cfg.ipv6, 16);
	}
	memcpy(sk->ep.raddr, a, 16);
	sk->ep.rport = port;
	if (sock_demux(sk->stack, &sk->ep))
		return (int)unlock_ret(sk, -EADDRNOTAVAIL);
	sock_fill_cfg(sk, &cfg);
	tcp_conn_init(&sk->conn, &sk->ep, &cfg, &sock_tcp_env, sk);
	/* the queue the flow's frames will arrive on owns it */
	sk->queue = stack_flow_queue(sk->stack, &sk->ep);
	sock_hash(sk);
	r = tcp_connect(&sk->conn, devmem_now_us());
	if (r < 0) {
		sock_unhash(sk);
		return (int)unlock_ret(sk, r);
	}
	sock_kick_timers(sk);
	if (sk->nonblock)
		return (int)unlock_ret(sk, -EINPROGRESS);
	while (sk->conn.state == TCP_SYN_SENT && !sk->conn.err && !sk->user_closed)
		sock_wait(sk);
	if (sk->user_closed)
		return (int)unlock_ret(sk, -EBADF);
	if (sk->conn.err) {
		r = -sk->conn.err;
		sk->conn.err = 0;
		return (int)unlock_ret(sk, r);
	}
	return (int)unlock_ret(sk, 0);
}

int devmem_shutdown(int fd, int how)
{
	struct sock *sk = sock_lock(fd);

	if (!sk)
		return -1;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return (int)unlock_ret(sk, -EINVAL);
	if (sk->listening || sk->conn.state == TCP_CLOSED || sk->conn.state == TCP_SYN_SENT)
		return (int)unlock_ret(sk, -ENOTCONN);
	if (how != SHUT_WR) {
		sk->shut_rd = true;
		sock_update_ready(sk);
	}
	if (how != SHUT_RD) {
		tcp_shutdown(&sk->conn, devmem_now_us());
		sock_kick_timers(sk);
	}
	return (int)unlock_ret(sk, 0);
}

/*
 * SO_LINGER with a timeout: close() waits until the peer acknowledged our FIN
 * (everything sent), or the time runs out; the connection goes on as an
 * orphan either way (sk_stream_wait_close).
 */
static void linger_wait(struct sock *sk)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += sk->linger_s;
	sk->waiters++;
	for (;;) {
		enum tcp_state st = sk->conn.state;
		if (st != TCP_FIN_WAIT1 && st != TCP_CLOSING && st != TCP_LAST_ACK)
			break;
		/* state changes do not all raise an event: look every 10 ms */
		struct timespec now, t;
		clock_gettime(CLOCK_REALTIME, &now);
		if (now.tv_sec > dl.tv_sec || (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec))
			break;
		t = now;
		t.tv_nsec += 10 * 1000 * 1000;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		if (t.tv_sec > dl.tv_sec || (t.tv_sec == dl.tv_sec && t.tv_nsec > dl.tv_nsec))
			t = dl;
		pthread_cond_timedwait(&sk->cond, &sk->stack->lock, &t);
	}
	sk->waiters--;
}

int devmem_close(int fd)
{
	struct sock *sk = sock_lock(fd);
	struct devmem_stack *s;
	uint64_t now = devmem_now_us();

	if (!sk)
		return -1;
	s = sk->stack;
	fdtab_remove(fd);
	close(fd);
	sk->fd = -1;
	sk->user_closed = true; /* from here on an orphan: freed when CLOSED */
	pthread_cond_broadcast(&sk->cond);
	sock_tokens_release(sk); /* tokens die with their socket */
	if (sk->listening) {
		/* children not yet accepted go with their listener */
		for (struct sock *o = s->all; o; o = o->anext) {
			if (o->conn.parent != &sk->conn)
				continue;
			o->conn.parent = NULL;
			o->user_closed = true;
			if (o->conn.state != TCP_CLOSED)
				tcp_abort(&o->conn, now);
		}
		sk->accq_head = sk->accq_tail = NULL;
		sk->accq_len = 0;
		sk->conn.state = TCP_CLOSED;
	} else if (sk->conn.state != TCP_CLOSED) {
		/* unread data at close, or SO_LINGER with a zero timeout: abort,
		 * as Linux does (RFC 2525 2.17; RFC 9293 3.10.5 ABORT) */
		if (sk->conn.rcvq_bytes || (sk->linger && sk->linger_s == 0)) {
			tcp_abort(&sk->conn, now);
		} else {
			tcp_shutdown(&sk->conn, now);
			sock_kick_timers(sk);
			if (sk->linger)
				linger_wait(sk);
		}
	}
	/* orphans already closed (this one, aborted children) go now */
	for (struct sock *o = s->all; o; o = o->anext)
		if (o->user_closed && !o->dead && o->conn.state == TCP_CLOSED) {
			o->dead = true;
			sock_unhash(o);
			o->rnext = s->reap;
			s->reap = o;
		}
	sock_free_orphans(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int devmem_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct sock *sk = sock_lock(fd);

	if (!sk)
		return -1;
	const struct tcp_ep *ep = sk->hashed || sk->listening ? &sk->conn.ep : &sk->ep;
	return (int)unlock_ret(sk, ep_to_sockaddr(sk->domain, ep->laddr, ep->lport, addr, len));
}

int devmem_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct sock *sk = sock_lock(fd);

	if (!sk)
		return -1;
	if (sk->listening || sk->conn.state == TCP_CLOSED || sk->conn.state == TCP_SYN_SENT)
		return (int)unlock_ret(sk, -ENOTCONN);
	return (int)unlock_ret(sk, ep_to_sockaddr(sk->domain, sk->conn.ep.raddr,
						  sk->conn.ep.rport, addr, len));
}

static int opt_int(const void *val, socklen_t len, int *out)
{
	if (!val)
		return -EFAULT;
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

int devmem_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct sock *sk = sock_lock(fd);
	int v = 0, r;

	if (!sk)
		return -1;
	if (level == SOL_SOCKET && name == SO_DEVMEM_DONTNEED)
		return (int)unlock_ret(sk, sock_dontneed(sk, val, len, devmem_now_us()));
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l;
		if (!val)
			return (int)unlock_ret(sk, -EFAULT);
		if (len < sizeof(l))
			return (int)unlock_ret(sk, -EINVAL);
		memcpy(&l, val, sizeof(l));
		sk->linger = l.l_onoff != 0;
		sk->linger_s = l.l_linger < 0 ? 0 : l.l_linger;
		return (int)unlock_ret(sk, 0);
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		char nm[16] = {0};
		if (!val)
			return (int)unlock_ret(sk, -EFAULT);
		memcpy(nm, val, DEVMEM_MIN((size_t)len, sizeof(nm) - 1));
		int cc = tcp_cc_parse(nm);
		if (cc < 0)
			return (int)unlock_ret(sk, -ENOENT); /* as Linux for an unknown name */
		sk->cc = (uint8_t)cc;
		if (sk->conn.cfg.cc != cc) {
			/* a new algorithm starts from its fresh state (as
			 * tcp_reinit_congestion_control) */
			sk->conn.cfg.cc = (uint8_t)cc;
			memset(&sk->conn.cc, 0, sizeof(sk->conn.cc));
		}
		return (int)unlock_ret(sk, 0);
	}
	if ((r = opt_int(val, len, &v)) < 0)
		return (int)unlock_ret(sk, r);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
			sk->reuseaddr = v != 0;
			return (int)unlock_ret(sk, 0);
		case SO_RCVBUF:
			/* as Linux: the value is doubled for bookkeeping overhead */
			if (v < 2048)
				v = 2048;
			if (v > (64 << 20))
				v = 64 << 20;
			sk->rcvbuf = (uint32_t)v * 2;
			sk->conn.cfg.rcvbuf = sk->rcvbuf;
			return (int)unlock_ret(sk, 0);
		case SO_SNDBUF:
			if (v < 2048)
				v = 2048;
			if (v > (64 << 20))
				v = 64 << 20;
			sk->sndbuf = (uint32_t)v * 2;
			/* a connection takes it at once, as Linux's sk_sndbuf,
			 * while its send ring (sized by it) is not yet made */
			if (!sk->conn.sq.ring)
				sk->conn.cfg.sndbuf = sk->sndbuf;
			return (int)unlock_ret(sk, 0);
		case SO_KEEPALIVE:
			return (int)unlock_ret(sk, 0); /* accepted, not implemented */
		case SO_ZEROCOPY:
			if (v != 0 && v != 1)
				return (int)unlock_ret(sk, -EINVAL);
			sk->zerocopy = v != 0;
			return (int)unlock_ret(sk, 0);
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			sk->conn.cfg.nodelay = v != 0;
			if (v && sk->conn.state != TCP_CLOSED) {
				/* as Linux (TCP_NAGLE_PUSH): what TCP_CORK or
				 * MSG_MORE holds goes now, once */
				bool cork = sk->conn.cfg.cork;
				sk->conn.cfg.cork = false;
				sk->conn.more = false;
				tcp_output(&sk->conn, devmem_now_us());
				sk->conn.cfg.cork = cork;
			}
			return (int)unlock_ret(sk, 0);
		case TCP_MAXSEG:
			/* as Linux: 88 (TCP_MIN_MSS) to 32767, 0 for none;
			 * it takes effect at connect() / on the next SYN */
			if (v && (v < 88 || v > 32767))
				return (int)unlock_ret(sk, -EINVAL);
			sk->user_mss = (uint16_t)v;
			return (int)unlock_ret(sk, 0);
		case TCP_CORK:
			sk->conn.cfg.cork = v != 0;
			/* uncorking pushes what was held (tcp_push_pending_frames) */
			if (!v && sk->conn.state != TCP_CLOSED && !sk->listening)
				tcp_output(&sk->conn, devmem_now_us());
			sock_kick_timers(sk);
			return (int)unlock_ret(sk, 0);
		}
	}
	return (int)unlock_ret(sk, -ENOPROTOOPT);
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (!val || !len)
		return -EFAULT;
	if (*len < sizeof(int))
		return -EINVAL;
	memcpy(val, &v, sizeof(int));
	*len = sizeof(int);
	return 0;
}

int devmem_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct sock *sk = sock_lock(fd);

	if (!sk)
		return -1;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
			return (int)unlock_ret(sk, put_int(val, len, sk->reuseaddr));
		case SO_RCVBUF:
			return (int)unlock_ret(sk, put_int(val, len, (int)sk->rcvbuf));
		case SO_SNDBUF:
			return (int)unlock_ret(sk, put_int(val, len, (int)sk->sndbuf));
		case SO_TYPE:
			return (int)unlock_ret(sk, put_int(val, len, SOCK_STREAM));
		case SO_DOMAIN:
			return (int)unlock_ret(sk, put_int(val, len, sk->domain));
		case SO_ACCEPTCONN:
			return (int)unlock_ret(sk, put_int(val, len, sk->listening));
		case SO_ERROR: {
			int e = sk->conn.err;
			sk->conn.err = 0;
			return (int)unlock_ret(sk, put_int(val, len, e));
		}
		case SO_ZEROCOPY:
			return (int)unlock_ret(sk, put_int(val, len, sk->zerocopy));
		case SO_LINGER: {
			struct linger l = {sk->linger, sk->linger_s};
			if (!val || !len)
				return (int)unlock_ret(sk, -EFAULT);
			if (*len < sizeof(l))
				return (int)unlock_ret(sk, -EINVAL);
			memcpy(val, &l, sizeof(l));
			*len = sizeof(l);
			return (int)unlock_ret(sk, 0);
		}
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			return (int)unlock_ret(sk, put_int(val, len, sk->conn.cfg.nodelay));
		case TCP_CORK:
			return (int)unlock_ret(sk, put_int(val, len, sk->conn.cfg.cork));
		case TCP_CONGESTION: {
			const char *nm = tcp_cc_name(sk->cc);
			if (!val || !len)
				return (int)unlock_ret(sk, -EFAULT);
			socklen_t n = DEVMEM_MIN(*len, (socklen_t)16);
			char buf[16] = {0};
			strncpy(buf, nm, sizeof(buf) - 1);
			memcpy(val, buf, n);
			*len = n;
			return (int)unlock_ret(sk, 0);
		}
		case TCP_INFO: {
			struct tcp_info ti;
			if (!val || !len)
				return (int)unlock_ret(sk, -EFAULT);
			tcp_get_info(&sk->conn, &ti, devmem_now_us());
			socklen_t n = DEVMEM_MIN(*len, (socklen_t)sizeof(ti));
			memcpy(val, &ti, n);
			*len = n;
			return (int)unlock_ret(sk, 0);
		}
		case TCP_MAXSEG:
			/* a closed or listening socket reports TCP_MAXSEG's value */
			if (sk->user_mss && (sk->listening || sk->conn.state == TCP_CLOSED))
				return (int)unlock_ret(sk, put_int(val, len, sk->user_mss));
			return (int)unlock_ret(sk, put_int(val, len, sk->conn.snd_mss ? sk->conn.snd_mss
									     : sk->conn.cfg.mss));
		}
	}
	return (int)unlock_ret(sk, -ENOPROTOOPT);
}

int devmem_fcntl(int fd, int cmd, ...)
{
	struct sock *sk = sock_lock(fd);
	va_list ap;
	int arg;

	if (!sk)
		return -1;
	switch (cmd) {
	case F_GETFL:
		return (int)unlock_ret(sk, O_RDWR | (sk->nonblock ? O_NONBLOCK : 0));
	case F_SETFL:
		va_start(ap, cmd);
		arg = va_arg(ap, int);
		va_end(ap);
		sk->nonblock = (arg & O_NONBLOCK) != 0;
		return (int)unlock_ret(sk, 0);
	}
	return (int)unlock_ret(sk, -EINVAL);
}

/*
 * The socket ioctls of tcp_ioctl: SIOCINQ (FIONREAD) bytes readable, without
 * a FIN; SIOCOUTQ bytes not yet acknowledged (a FIN counts, as in
 * write_seq); SIOCOUTQNSD bytes not yet sent. All EINVAL on a listener, 0
 * during the handshake. FIONBIO sets O_NONBLOCK. Anything else: ENOTTY.
 */
int devmem_ioctl(int fd, unsigned long request, ...)
{
	struct sock *sk = sock_lock(fd);
	struct tcp_conn *c;
	va_list ap;
	int *arg, v;

	if (!sk)
		return -1;
	va_start(ap, request);
	arg = va_arg(ap, int *);
	va_end(ap);
	if (!arg)
		return (int)unlock_ret(sk, -EFAULT);
	c = &sk->conn;
	switch (request) {
	case FIONBIO:
		sk->nonblock = *arg != 0;
		return (int)unlock_ret(sk, 0);
	case SIOCINQ:
	case SIOCOUTQ:
	case SIOCOUTQNSD:
		break;
	default:
		return (int)unlock_ret(sk, -ENOTTY);
	}
	if (sk->listening)
		return (int)unlock_ret(sk, -EINVAL);
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECV || !c->env) {
		v = 0;
	} else if (request == SIOCINQ) {
		v = (int)c->rcvq_bytes;
	} else {
		/* write_seq: the end of queued data, plus a queued FIN */
		bool fin_acked = c->fin_sent && seq_gt(c->snd_una, c->fin_seq);
		uint32_t wseq = c->snd_una + c->snd_len + (c->fin_queued && !fin_acked ? 1 : 0);
		uint32_t from = request == SIOCOUTQ ? c->snd_una : c->snd_nxt;

		v = seq_gt(wseq, from) ? (int)(wseq - from) : 0;
	}
	*arg = v;
	return (int)unlock_ret(sk, 0);
}

/* Wait until data, EOF or an error is there; 0 to go on, or -errno. */
static int recv_wait(struct sock *sk, int flags)
{
	struct tcp_conn *c = &sk->conn;
	bool try_busy = true;

	for (;;) {
		if (c->rcvq_bytes)
			return 0;
		if (c->err) {
			int e = c->err;
			c->err = 0;
			return -e;
		}
		if (c->fin_rcvd || sk->shut_rd)
			return 1; /* end of stream */
		if (c->state == TCP_CLOSED || c->state == TCP_LISTEN)
			return -ENOTCONN;
		if (sk->nonblock || (flags & MSG_DONTWAIT))
			return -EAGAIN;
		if (sk->user_closed)
			return -EBADF;
		if (try_busy) {
			/* do the NIC's work here rather than wait for the poller */
			sk->waiters++; /* keeps sk alive while the lock is dropped */
			pthread_mutex_unlock(&sk->stack->lock);
			bool polled = stack_busy_poll(sk->stack, sk->queue);
			pthread_mutex_lock(&sk->stack->lock);
			sk->waiters--;
			/* another thread holds the queue: look again (it may have
			 * delivered while we had no lock), then sleep */
			try_busy = polled;
			continue;
		}
		/* the checks above and this wait are under one hold of the lock,
		 * so a wake-up cannot slip in between */
		sock_wait(sk);
		try_busy = true;
	}
}

ssize_t devmem_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct sock *sk;
	ssize_t r;

	if (!msg)
		return devmem_fail(-EFAULT);
	if (flags & MSG_ERRQUEUE) {
		sk = sock_lock(fd);
		if (!sk)
			return -1;
		r = sock_recv_errqueue(sk, msg);
		sock_update_ready(sk);
		return unlock_ret(sk, r);
	}
	if (flags & ~(MSG_DONTWAIT | MSG_SOCK_DEVMEM | MSG_WAITALL | MSG_NOSIGNAL | MSG_CMSG_CLOEXEC))
		return devmem_fail(-EOPNOTSUPP);
	sk = sock_lock(fd);
	if (!sk)
		return -1;
	if (sk->listening)
		return unlock_ret(sk, -ENOTCONN);
	r = recv_wait(sk, flags);
	if (r != 0) {
		if (r > 0) {
			msg->msg_controllen = 0;
			msg->msg_flags = 0;
		}
		return unlock_ret(sk, r > 0 ? 0 : r);
	}
	r = sock_recvmsg(sk, msg, flags);
	if (r > 0)
		tcp_rcv_space_changed(&sk->conn, devmem_now_us());
	sock_update_ready(sk);
	return unlock_ret(sk, r);
}

ssize_t devmem_recv(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = {buf, len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	return devmem_recvmsg(fd, &msg, flags);
}

ssize_t devmem_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct sock *sk;
	ssize_t r;

	if (!msg)
		return devmem_fail(-EFAULT);
	if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE | MSG_ZEROCOPY))
		return devmem_fail(-EOPNOTSUPP);
	sk = sock_lock(fd);
	if (!sk)
		return -1;
	if (sk->listening)
		return unlock_ret(sk, -EPIPE); /* as Linux: not connecting */
	r = sock_sendmsg(sk, msg, flags);
	sock_update_ready(sk);
	return unlock_ret(sk, r);
}

ssize_t devmem_send(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = {(void *)buf, len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	return devmem_sendmsg(fd, &msg, flags);
}
