/* SPDX-License-Identifier: MIT */
/*
 * libdevmem-packetdrill.so: a devmem stack that packetdrill drives
 * (packetdrill --so_filename=libdevmem-packetdrill.so). The stack's only
 * link is packetdrill's netdev (pd_link.c); every socket call of the
 * interface (pd_iface.h) goes to the public API, so errno is the stack's.
 *
 * Descriptors. A devmem socket is an eventfd the stack closes itself, but
 * packetdrill closes every descriptor it still knows with close(2) when a
 * script ends. So packetdrill gets a dup of the eventfd (poll(2) on it sees
 * the same readiness) and the table here maps it to the stack's descriptor.
 *
 * Time is real time: usleep and gettimeofday are the libc ones, the stack's
 * timers run in its poller thread, and a packet's time is when the stack
 * handed it to the link. A packet packetdrill injects is processed before
 * netdev_send returns (stack_poll_now), as a tun write runs the kernel's
 * receive path before returning, so a call that follows sees its effect.
 *
 * Flags (--so_flags, separated by spaces, each optionally with "--"):
 *   local_ip=ADDR   the stack's IPv4 or IPv6 address (may be given twice;
 *                   default 192.0.2.1 and 2001:db8::1)
 *   mtu=N           link MTU (1500; packetdrill's IPv6 runs use 1520)
 *   rcvbuf=N        default SO_RCVBUF, which sets the window scale
 *                   (15 MiB: Linux's 8 under packetdrill's defaults.sh)
 *   timeout_ms=N    how long netdev_receive waits for a packet (10000)
 *   sysctls=0       ignore the namespace's net.ipv4 sysctls (follow_sysctls)
 *   verbose         the stack's log on stderr
 * A bind() to an address that is not the stack's makes it the stack's
 * (packetdrill's own default local address is random).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ctl/stack.h"
#include "devmem/devmem.h"
#include "pd_iface.h"
#include "pd_link.h"
#include "util/util.h"

#define PD_EXPORT __attribute__((visibility("default")))

#define PD_DEFAULT_RCVBUF (15u << 20) /* defaults.sh: tcp_rmem max 15 MiB */
#define PD_DEFAULT_TIMEOUT_MS 10000
#define PD_EPOLL_SLICE_US 1000        /* epoll_wait re-checks this often */

enum pd_kind { PD_FREE = 0, PD_SOCK, PD_EPOLL };

/* One registration of an emulated epoll instance. */
struct pd_epitem {
	int fd;             /* packetdrill's descriptor */
	uint32_t events;    /* EPOLL* asked for, with EPOLLET / EPOLLONESHOT */
	epoll_data_t data;
	uint32_t last;      /* EPOLLET: events seen at the last look */
	uint64_t rx_gen;    /* EPOLLET: bytes received (+ FIN) at the last look */
	bool disabled;      /* EPOLLONESHOT fired; EPOLL_CTL_MOD re-arms */
};

struct pd_epoll {
	struct pd_epitem *it;
	unsigned n, cap;
};

struct pd_fd {
	enum pd_kind kind;
	int dfd;            /* PD_SOCK: the stack's descriptor */
	struct pd_epoll *ep;
};

struct pd {
	struct devmem_stack *stack;
	struct link *link;  /* owned by the stack */
	pthread_mutex_t lock; /* the descriptor table */
	struct pd_fd *fds;  /* indexed by packetdrill's descriptor */
	int nfds;
	int timeout_ms;
	bool sysctls;       /* follow net.ipv4 sysctls (follow_sysctls) */
};

/* ---- descriptor table ------------------------------------------------------ */

static int table_put(struct pd *p, int fd, enum pd_kind kind, int dfd, struct pd_epoll *ep)
{
	if (fd >= p->nfds) {
		int n = fd + 64;
		struct pd_fd *t = realloc(p->fds, (size_t)n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		memset(t + p->nfds, 0, (size_t)(n - p->nfds) * sizeof(*t));
		p->fds = t;
		p->nfds = n;
	}
	p->fds[fd] = (struct pd_fd){.kind = kind, .dfd = dfd, .ep = ep};
	return 0;
}

/* The stack's descriptor behind packetdrill's fd, or -1 (not a socket). */
static int dfd_of(struct pd *p, int fd)
{
	int d = -1;

	pthread_mutex_lock(&p->lock);
	if (fd >= 0 && fd < p->nfds && p->fds[fd].kind == PD_SOCK)
		d = p->fds[fd].dfd;
	pthread_mutex_unlock(&p->lock);
	return d;
}

/* Hand the stack's new descriptor dfd to packetdrill as a dup of it. */
static int sock_export(struct pd *p, int dfd)
{
	int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0), r;

	if (fd < 0) {
		int e = errno;
		devmem_close(dfd);
		errno = e;
		return -1;
	}
	pthread_mutex_lock(&p->lock);
	r = table_put(p, fd, PD_SOCK, dfd, NULL);
	pthread_mutex_unlock(&p->lock);
	if (r < 0) {
		close(fd);
		devmem_close(dfd);
		errno = -r;
		return -1;
	}
	return fd;
}

/* Socket calls on a descriptor that is not a socket of ours: what the
 * kernel says for a descriptor that is not a socket. */
static int not_sock(int fd)
{
	errno = fcntl(fd, F_GETFD) < 0 ? EBADF : ENOTSOCK;
	return -1;
}

/*
 * The kernel answers a buffer it cannot touch with EFAULT; the stack copies
 * with memcpy and would crash. So look first: process_vm_readv on our own
 * process fails with EFAULT exactly where a system call would.
 */
static bool mem_ok(const void *p, size_t n)
{
	static char sink[4096];

	while (n) {
		size_t k = DEVMEM_MIN(n, sizeof(sink));
		struct iovec l = {sink, k}, r = {(void *)p, k};

		if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) < 0 && errno == EFAULT)
			return false;
		p = (const char *)p + k;
		n -= k;
	}
	return true;
}

static bool iov_ok(const struct iovec *iov, size_t n)
{
	if (n && !mem_ok(iov, n * sizeof(*iov)))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!mem_ok(iov[i].iov_base, iov[i].iov_len))
			return false;
	return true;
}

static long efault(void)
{
	errno = EFAULT;
	return -1;
}

/* ---- sockets ------------------------------------------------------------------ */

/* An integer sysctl of net.ipv4 in our network namespace, or dflt. */
static int sysctl_ipv4(const char *name, int dflt)
{
	char path[128], buf[32];
	FILE *f;
	int v = dflt;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	f = fopen(path, "re");
	if (!f)
		return dflt;
	if (fgets(buf, sizeof(buf), f))
		v = atoi(buf);
	fclose(f);
	return v;
}

/*
 * Scripts turn TCP features off with sysctls (defaults.sh, set_sysctls.py)
 * in packetdrill's network namespace, which is ours: new connections follow
 * tcp_timestamps, tcp_sack, tcp_window_scaling and tcp_early_retrans (TLP)
 * as Linux's would.
 */
static void follow_sysctls(struct pd *p)
{
	bool no_ts = sysctl_ipv4("tcp_timestamps", 1) == 0;
	bool no_sack = sysctl_ipv4("tcp_sack", 1) == 0;
	bool no_ws = sysctl_ipv4("tcp_window_scaling", 1) == 0;
	bool no_tlp = sysctl_ipv4("tcp_early_retrans", 3) < 3;
	struct devmem_stack *s = p->stack;

	if (!p->sysctls)
		return;
	pthread_mutex_lock(&s->lock);
	s->tcp_no_ts = no_ts;
	s->tcp_no_sack = no_sack;
	s->tcp_no_ws = no_ws;
	s->tcp_no_tlp = no_tlp;
	pthread_mutex_unlock(&s->lock);
}

static int pd_socket(void *ud, int domain, int type, int protocol)
{
	struct pd *p = ud;
	int dfd;

	follow_sysctls(p);
	dfd = devmem_socket(p->stack, domain, type, protocol);

	return dfd < 0 ? -1 : sock_export(p, dfd);
}

/* Make addr the stack's own address when it is not yet (see the top). */
static void learn_local(struct pd *p, const struct sockaddr *addr, socklen_t len)
{
	struct devmem_stack *s = p->stack;

	if (!addr)
		return;
	pthread_mutex_lock(&s->lock);
	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const void *)addr;

		if (in->sin_addr.s_addr != htonl(INADDR_ANY))
			s->cfg.ipv4 = in->sin_addr;
	} else if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const void *)addr;

		if (!IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) &&
		    !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			s->cfg.ipv6 = in6->sin6_addr;
	}
	pthread_mutex_unlock(&s->lock);
}

static int pd_bind(void *ud, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct pd *p = ud;
	int d = dfd_of(p, fd);

	if (d < 0)
		return not_sock(fd);
	learn_local(p, addr, len);
	return devmem_bind(d, addr, len);
}

static int pd_listen(void *ud, int fd, int backlog)
{
	int d = dfd_of(ud, fd);

	if (d < 0)
		return not_sock(fd);
	follow_sysctls(ud);
	return devmem_listen(d, backlog);
}

static int pd_accept(void *ud, int fd, struct sockaddr *addr, socklen_t *len)
{
	struct pd *p = ud;
	int d = dfd_of(p, fd), c;

	if (d < 0)
		return not_sock(fd);
	c = devmem_accept(d, addr, len);
	return c < 0 ? -1 : sock_export(p, c);
}

static int pd_connect(void *ud, int fd, const struct sockaddr *addr, socklen_t len)
{
	int d = dfd_of(ud, fd);

	if (d < 0)
		return not_sock(fd);
	follow_sysctls(ud);
	return devmem_connect(d, addr, len);
}

static ssize_t pd_recvmsg(void *ud, int fd, struct msghdr *msg, int flags)
{
	int d = dfd_of(ud, fd);

	if (d < 0)
		return recvmsg(fd, msg, flags);
	if (!msg || !mem_ok(msg, sizeof(*msg)) || !iov_ok(msg->msg_iov, msg->msg_iovlen))
		return efault();
	/* TCP names no source (the kernel's msg_namelen stays 0) */
	if (msg->msg_name)
		msg->msg_namelen = 0;
	return devmem_recvmsg(d, msg, flags);
}

static ssize_t pd_recv(void *ud, int fd, void *buf, size_t len, int flags)
{
	int d = dfd_of(ud, fd);

	if (d < 0)
		return recv(fd, buf, len, flags);
	return mem_ok(buf, len) ? devmem_recv(d, buf, len, flags) : efault();
}

static ssize_t pd_recvfrom(void *ud, int fd, void *buf, size_t len, int flags,
			   struct sockaddr *src, socklen_t *srclen)
{
	int d = dfd_of(ud, fd);
	ssize_t r;

	if (d < 0)
		return recvfrom(fd, buf, len, flags, src, srclen);
	if (!mem_ok(buf, len))
		return efault();
	r = devmem_recv(d, buf, len, flags);
	if (r >= 0 && src && srclen)
		*srclen = 0;
	return r;
}

static ssize_t pd_read(void *ud, int fd, void *buf, size_t count)
{
	int d = dfd_of(ud, fd);

	if (d < 0)
		return read(fd, buf, count);
	return mem_ok(buf, count) ? devmem_recv(d, buf, count, 0) : efault();
}

static ssize_t pd_readv(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
	int d = dfd_of(ud, fd);
	struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};

	if (d < 0)
		return readv(fd, iov, iovcnt);
	if (iovcnt < 0) {
		errno = EINVAL;
		return -1;
	}
	return iov_ok(iov, (size_t)iovcnt) ? devmem_recvmsg(d, &m, 0) : efault();
}

static ssize_t pd_sendmsg(void *ud, int fd, const struct msghdr *msg, int flags)
{
	int d = dfd_of(ud, fd);

	if (d < 0)
		return sendmsg(fd, msg, flags);
	if (!msg || !mem_ok(msg, sizeof(*msg)) || !iov_ok(msg->msg_iov, msg->msg_iovlen) ||
	    (msg->msg_controllen && !mem_ok(msg->msg_control, msg->msg_controllen)))
		return efault();
	return devmem_sendmsg(d, msg, flags);
}

static ssize_t pd_send(void *ud, int fd, const void *buf, size_t len, int flags)
{
	int d = dfd_of(ud, fd);

	if (d < 0)
		return send(fd, buf, len, flags);
	return mem_ok(buf, len) ? devmem_send(d, buf, len, flags) : efault();
}

static ssize_t pd_sendto(void *ud, int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *dst, socklen_t dstlen)
{
	int d = dfd_of(ud, fd);

	/* a connected TCP socket ignores the address, as tcp_sendmsg does */
	if (d < 0)
		return sendto(fd, buf, len, flags, dst, dstlen);
	return mem_ok(buf, len) ? devmem_send(d, buf, len, flags) : efault();
}

static ssize_t pd_write(void *ud, int fd, const void *buf, size_t count)
{
	int d = dfd_of(ud, fd);

	if (d < 0)
		return write(fd, buf, count);
	return mem_ok(buf, count) ? devmem_send(d, buf, count, 0) : efault();
}

static ssize_t pd_writev(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
	int d = dfd_of(ud, fd);
	struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};

	if (d < 0)
		return writev(fd, iov, iovcnt);
	if (iovcnt < 0) {
		errno = EINVAL;
		return -1;
	}
	return iov_ok(iov, (size_t)iovcnt) ? devmem_sendmsg(d, &m, 0) : efault();
}

static int pd_fcntl(void *ud, int fd, int cmd, ...)
{
	int d = dfd_of(ud, fd);
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	/* descriptor flags (FD_CLOEXEC) are the descriptor's own */
	if (d < 0 || cmd == F_GETFD || cmd == F_SETFD)
		return fcntl(fd, cmd, arg);
	return devmem_fcntl(d, cmd, (int)arg);
}

static int pd_ioctl(void *ud, int fd, unsigned long request, ...)
{
	int d = dfd_of(ud, fd);
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	return d < 0 ? ioctl(fd, request, arg) : devmem_ioctl(d, request, arg);
}

static int pd_shutdown(void *ud, int fd, int how)
{
	int d = dfd_of(ud, fd);

	return d < 0 ? not_sock(fd) : devmem_shutdown(d, how);
}

static int pd_getsockopt(void *ud, int fd, int level, int name, void *val, socklen_t *len)
{
	int d = dfd_of(ud, fd);

	return d < 0 ? not_sock(fd) : devmem_getsockopt(d, level, name, val, len);
}

static int pd_setsockopt(void *ud, int fd, int level, int name, const void *val, socklen_t len)
{
	int d = dfd_of(ud, fd);

	return d < 0 ? not_sock(fd) : devmem_setsockopt(d, level, name, val, len);
}

static int pd_close(void *ud, int fd)
{
	struct pd *p = ud;
	struct pd_fd e = {0};

	pthread_mutex_lock(&p->lock);
	if (fd >= 0 && fd < p->nfds) {
		e = p->fds[fd];
		p->fds[fd] = (struct pd_fd){0};
	}
	pthread_mutex_unlock(&p->lock);
	if (e.kind == PD_SOCK) {
		close(fd);
		return devmem_close(e.dfd);
	}
	if (e.kind == PD_EPOLL) {
		free(e.ep->it);
		free(e.ep);
	}
	return close(fd);
}

/* ---- poll and epoll ------------------------------------------------------------ */

static int pd_poll(void *ud, struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct pd *p = ud;
	struct pollfd *k;
	int r;

	if (nfds && !fds) {
		errno = EFAULT;
		return -1;
	}
	k = calloc(nfds ? nfds : 1, sizeof(*k));
	if (!k) {
		errno = ENOMEM;
		return -1;
	}
	for (nfds_t i = 0; i < nfds; i++) {
		int d = dfd_of(p, fds[i].fd);

		k[i] = fds[i];
		if (d >= 0)
			k[i].fd = d;
	}
	r = devmem_poll(k, nfds, timeout);
	for (nfds_t i = 0; r >= 0 && i < nfds; i++)
		fds[i].revents = k[i].revents;
	free(k);
	return r;
}

static struct pd_epoll *epoll_of(struct pd *p, int epfd)
{
	if (epfd < 0 || epfd >= p->nfds || p->fds[epfd].kind != PD_EPOLL)
		return NULL;
	return p->fds[epfd].ep;
}

static int pd_epoll_create(void *ud, int size)
{
	struct pd *p = ud;
	struct pd_epoll *ep;
	int fd, r;

	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	ep = calloc(1, sizeof(*ep));
	if (!ep) {
		errno = ENOMEM;
		return -1;
	}
	/* a real epoll descriptor, only as a handle packetdrill can close */
	fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0) {
		free(ep);
		return -1;
	}
	pthread_mutex_lock(&p->lock);
	r = table_put(p, fd, PD_EPOLL, -1, ep);
	pthread_mutex_unlock(&p->lock);
	if (r < 0) {
		close(fd);
		free(ep);
		errno = -r;
		return -1;
	}
	return fd;
}

static int pd_epoll_ctl(void *ud, int epfd, int op, int fd, struct epoll_event *ev)
{
	struct pd *p = ud;
	struct pd_epoll *ep;
	struct pd_epitem *it = NULL;
	int r = 0;

	if (fcntl(epfd, F_GETFD) < 0 || fcntl(fd, F_GETFD) < 0) {
		errno = EBADF;
		return -1;
	}
	pthread_mutex_lock(&p->lock);
	ep = epoll_of(p, epfd);
	if (!ep || fd == epfd) {
		r = -EINVAL;
		goto out;
	}
	if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && !ev) {
		r = -EFAULT;
		goto out;
	}
	for (unsigned i = 0; i < ep->n; i++)
		if (ep->it[i].fd == fd)
			it = &ep->it[i];
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it) {
			r = -EEXIST;
			break;
		}
		if (ep->n == ep->cap) {
			unsigned cap = ep->cap ? 2 * ep->cap : 8;
			struct pd_epitem *n = realloc(ep->it, cap * sizeof(*n));

			if (!n) {
				r = -ENOMEM;
				break;
			}
			ep->it = n;
			ep->cap = cap;
		}
		it = &ep->it[ep->n++];
		*it = (struct pd_epitem){.fd = fd, .events = ev->events, .data = ev->data};
		break;
	case EPOLL_CTL_MOD:
		if (!it) {
			r = -ENOENT;
			break;
		}
		*it = (struct pd_epitem){.fd = fd, .events = ev->events, .data = ev->data};
		break;
	case EPOLL_CTL_DEL:
		if (!it) {
			r = -ENOENT;
			break;
		}
		*it = ep->it[--ep->n];
		break;
	default:
		r = -EINVAL;
	}
out:
	pthread_mutex_unlock(&p->lock);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* Bytes received, twice, plus one once a FIN came: grows whenever the
 * socket's receive side woke its waiters (an edge for EPOLLET). */
static uint64_t rx_generation(int dfd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (devmem_getsockopt(dfd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return 0;
	bool fin = ti.tcpi_state == 8 || ti.tcpi_state == 9 || ti.tcpi_state == 7 ||
		   ti.tcpi_state == 11 || ti.tcpi_state == 6; /* CLOSE_WAIT, LAST_ACK, ... */
	return ti.tcpi_bytes_received * 2 + fin;
}

/* Events to report for one registration now (table lock held). */
static uint32_t epitem_events(struct pd *p, struct pd_epitem *it)
{
	uint32_t want = it->events & (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI);
	struct pollfd pf = {.fd = it->fd, .events = (short)want};
	int d = it->fd < p->nfds && p->fds[it->fd].kind == PD_SOCK ? p->fds[it->fd].dfd : -1;
	uint32_t ev, report;
	uint64_t gen = 0;

	if (it->disabled)
		return 0;
	if (d >= 0) {
		pf.fd = d;
		if (devmem_poll(&pf, 1, 0) < 0)
			return 0;
		if (it->events & EPOLLET)
			gen = rx_generation(d);
	} else if (poll(&pf, 1, 0) < 0) {
		return 0;
	}
	ev = (uint32_t)(uint16_t)pf.revents & (want | EPOLLERR | EPOLLHUP);
	report = ev;
	if (it->events & EPOLLET) {
		/* an edge: an event that was not there, or new data */
		bool more = (ev & EPOLLIN) && gen != it->rx_gen;

		if (!(ev & ~it->last) && !more)
			report = 0;
		it->last = ev;
		it->rx_gen = gen;
	}
	if (report && (it->events & EPOLLONESHOT))
		it->disabled = true;
	return report;
}

static int pd_epoll_wait(void *ud, int epfd, struct epoll_event *events, int maxevents,
			 int timeout)
{
	struct pd *p = ud;
	struct timeval t0, now;

	if (maxevents <= 0) {
		errno = EINVAL;
		return -1;
	}
	if (!events) {
		errno = EFAULT;
		return -1;
	}
	gettimeofday(&t0, NULL);
	for (;;) {
		struct pd_epoll *ep;
		int n = 0;

		pthread_mutex_lock(&p->lock);
		ep = epoll_of(p, epfd);
		if (!ep) {
			pthread_mutex_unlock(&p->lock);
			errno = fcntl(epfd, F_GETFD) < 0 ? EBADF : EINVAL;
			return -1;
		}
		for (unsigned i = 0; i < ep->n && n < maxevents; i++) {
			uint32_t ev = epitem_events(p, &ep->it[i]);

			if (ev) {
				events[n].events = ev;
				events[n].data = ep->it[i].data;
				n++;
			}
		}
		pthread_mutex_unlock(&p->lock);
		if (n || timeout == 0)
			return n;
		gettimeofday(&now, NULL);
		long long el = (now.tv_sec - t0.tv_sec) * 1000000LL + (now.tv_usec - t0.tv_usec);
		if (timeout > 0 && el >= timeout * 1000LL)
			return 0;
		usleep(PD_EPOLL_SLICE_US);
	}
}

static int pd_pipe(void *ud, int pipefd[2])
{
	(void)ud;
	return pipe(pipefd);
}

static int pd_splice(void *ud, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
		     size_t len, unsigned int flags)
{
	struct pd *p = ud;

	if (dfd_of(p, fd_in) >= 0 || dfd_of(p, fd_out) >= 0) {
		errno = EINVAL; /* a devmem socket is not a kernel socket */
		return -1;
	}
	return (int)splice(fd_in, off_in, fd_out, off_out, len, flags);
}

/* ---- the wire and the clock ------------------------------------------------------ */

static int pd_netdev_send(void *ud, const void *buf, size_t count)
{
	struct pd *p = ud;
	int r = pd_link_inject(p->link, buf, count);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	stack_poll_now(p->stack, 0);
	return 0;
}

static int pd_netdev_receive(void *ud, void *buf, size_t *count, long long *time_usecs)
{
	struct pd *p = ud;
	size_t n = pd_link_take(p->link, buf, *count, time_usecs, p->timeout_ms);

	if (!n)
		fprintf(stderr, "devmem-packetdrill: the stack sent no packet in %d ms\n",
			p->timeout_ms);
	*count = n;
	return 0;
}

static int pd_usleep(void *ud, useconds_t usec)
{
	(void)ud;
	return usleep(usec);
}

static int pd_gettimeofday(void *ud, struct timeval *tv, struct timezone *tz)
{
	(void)ud;
	(void)tz;
	return gettimeofday(tv, NULL);
}

static void pd_free(void *ud)
{
	struct pd *p = ud;

	if (!p)
		return;
	/* The descriptors handed out are packetdrill's: it closes them
	 * (close_all_fds) before it frees us. The stack closes its own. */
	devmem_stack_close(p->stack);
	for (int i = 0; i < p->nfds; i++)
		if (p->fds[i].kind == PD_EPOLL) {
			free(p->fds[i].ep->it);
			free(p->fds[i].ep);
		}
	free(p->fds);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* ---- init ---------------------------------------------------------------------- */

static int parse_flags(const char *flags, struct devmem_config *cfg, int *timeout_ms,
		       bool *sysctls)
{
	char *copy, *save = NULL;
	int r = 0;

	if (!flags)
		return 0;
	copy = strdup(flags);
	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		char *val = strchr(tok, '=');

		while (*tok == '-')
			tok++;
		if (val)
			*val++ = '\0';
		if (!strcmp(tok, "verbose")) {
			cfg->verbose = 1;
		} else if (val && !strcmp(tok, "local_ip")) {
			if (inet_pton(AF_INET, val, &cfg->ipv4) != 1 &&
			    inet_pton(AF_INET6, val, &cfg->ipv6) != 1)
				r = -EINVAL;
		} else if (val && !strcmp(tok, "mtu")) {
			cfg->mtu = (uint32_t)strtoul(val, NULL, 0);
		} else if (val && !strcmp(tok, "rcvbuf")) {
			cfg->rcvbuf = (uint32_t)strtoul(val, NULL, 0);
		} else if (val && !strcmp(tok, "timeout_ms")) {
			*timeout_ms = atoi(val);
		} else if (val && !strcmp(tok, "sysctls")) {
			*sysctls = atoi(val) != 0;
		} else {
			r = -EINVAL;
		}
		if (r < 0) {
			fprintf(stderr, "devmem-packetdrill: bad flag '%s'\n", tok);
			break;
		}
	}
	free(copy);
	return r;
}

PD_EXPORT void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc);

void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
	struct devmem_config cfg;
	struct pd *p = calloc(1, sizeof(*p));
	int err = 0;

	if (!p) {
		fprintf(stderr, "devmem-packetdrill: out of memory\n");
		exit(EXIT_FAILURE);
	}
	devmem_config_init(&cfg);
	inet_pton(AF_INET, "192.0.2.1", &cfg.ipv4);
	inet_pton(AF_INET6, "2001:db8::1", &cfg.ipv6);
	cfg.rcvbuf = PD_DEFAULT_RCVBUF;
	p->timeout_ms = PD_DEFAULT_TIMEOUT_MS;
	p->sysctls = true;
	if (parse_flags(flags, &cfg, &p->timeout_ms, &p->sysctls) < 0)
		exit(EXIT_FAILURE); /* packetdrill has no way to hear of it */
	pthread_mutex_init(&p->lock, NULL);
	p->link = pd_link_open(cfg.mtu, &err);
	if (p->link)
		p->stack = stack_open_link(&cfg, p->link, &err);
	if (!p->stack) {
		fprintf(stderr, "devmem-packetdrill: cannot open the stack: %s\n", strerror(-err));
		exit(EXIT_FAILURE);
	}
	memset(ifc, 0, sizeof(*ifc));
	ifc->userdata = p;
	ifc->free = pd_free;
	ifc->socket = pd_socket;
	ifc->bind = pd_bind;
	ifc->listen = pd_listen;
	ifc->accept = pd_accept;
	ifc->connect = pd_connect;
	ifc->read = pd_read;
	ifc->readv = pd_readv;
	ifc->recv = pd_recv;
	ifc->recvfrom = pd_recvfrom;
	ifc->recvmsg = pd_recvmsg;
	ifc->write = pd_write;
	ifc->writev = pd_writev;
	ifc->send = pd_send;
	ifc->sendto = pd_sendto;
	ifc->sendmsg = pd_sendmsg;
	ifc->fcntl = pd_fcntl;
	ifc->ioctl = pd_ioctl;
	ifc->close = pd_close;
	ifc->shutdown = pd_shutdown;
	ifc->getsockopt = pd_getsockopt;
	ifc->setsockopt = pd_setsockopt;
	ifc->poll = pd_poll;
	ifc->netdev_send = pd_netdev_send;
	ifc->netdev_receive = pd_netdev_receive;
	ifc->usleep = pd_usleep;
	ifc->gettimeofday = pd_gettimeofday;
	ifc->epoll_create = pd_epoll_create;
	ifc->epoll_ctl = pd_epoll_ctl;
	ifc->epoll_wait = pd_epoll_wait;
	ifc->pipe = pd_pipe;
	ifc->splice = pd_splice;
}
