/* SPDX-License-Identifier: MIT */
/*
 * The socket calls over the pair link: readiness of the per-socket fd with
 * poll and epoll, blocking and non-blocking receive (MSG_DONTWAIT,
 * O_NONBLOCK), socket options, names, shutdown, refused connections, and a
 * stack close that releases everything it still owns.
 */
#include <fcntl.h>
#include <linux/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "check.h"
#include "pairutil.h"

static struct devmem_stack *a, *b;

static int listen_on(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	int one = 1, fd = devmem_socket(b, family, SOCK_STREAM, 0);
	socklen_t sl = make_addr(family, family == AF_INET ? "192.0.2.2" : "2001:db8::2", port, &ss);

	CHECK(fd >= 0);
	CHECK_EQ(devmem_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	CHECK_EQ(devmem_bind(fd, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(devmem_listen(fd, 8), 0);
	return fd;
}

static int connect_to(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	int fd = devmem_socket(a, family, SOCK_STREAM, 0);
	socklen_t sl = make_addr(family, family == AF_INET ? "192.0.2.2" : "2001:db8::2", port, &ss);

	CHECK(fd >= 0);
	if (devmem_connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;
		devmem_close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void test_readiness_and_nonblock(void)
{
	int l = listen_on(AF_INET, 8001);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	char buf[64];

	/* a listener is readable when a connection waits to be accepted */
	ev.data.fd = l;
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev), 0);
	CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
	int c = connect_to(AF_INET, 8001);
	CHECK(c >= 0);
	CHECK_EQ(epoll_wait(ep, &out, 1, 2000), 1);
	int s = devmem_accept4(l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0);
	/* nothing to read: not readable, EAGAIN both ways */
	struct pollfd p = {.fd = s, .events = POLLIN};
	CHECK_EQ(poll(&p, 1, 0), 0);
	errno = 0;
	CHECK_EQ(devmem_recv(s, buf, sizeof(buf), 0), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(devmem_fcntl(s, F_SETFL, 0), 0);
	CHECK_EQ(devmem_fcntl(s, F_GETFL) & O_NONBLOCK, 0);
	errno = 0;
	CHECK_EQ(devmem_recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
	CHECK_EQ(errno, EAGAIN);
	/* data makes it readable; reading it all makes it not readable */
	CHECK_EQ(devmem_send(c, "hello", 5, 0), 5);
	CHECK_EQ(poll(&p, 1, 2000), 1);
	CHECK(p.revents & POLLIN);
	CHECK_EQ(devmem_recv(s, buf, sizeof(buf), 0), 5);
	CHECK_MEM(buf, "hello", 5);
	CHECK_EQ(poll(&p, 1, 0), 0);
	/* end of stream: readable, recv returns 0 */
	CHECK_EQ(devmem_shutdown(c, SHUT_WR), 0);
	CHECK_EQ(poll(&p, 1, 2000), 1);
	CHECK_EQ(devmem_recv(s, buf, sizeof(buf), 0), 0);
	/* the other direction still works after a half close */
	CHECK_EQ(devmem_send(s, "bye", 3, 0), 3);
	CHECK_EQ(devmem_recv(c, buf, sizeof(buf), 0), 3);
	close(ep);
	devmem_close(s);
	devmem_close(c);
	devmem_close(l);
}

static void test_options_and_names(void)
{
	int l = listen_on(AF_INET6, 8002);
	int c = connect_to(AF_INET6, 8002);
	int s = devmem_accept(l, NULL, NULL);
	int v = 0;
	socklen_t vl = sizeof(v);
	struct sockaddr_in6 n6;
	socklen_t nl = sizeof(n6);

	CHECK(c >= 0 && s >= 0);
	CHECK_EQ(devmem_getsockopt(l, SOL_SOCKET, SO_REUSEADDR, &v, &vl), 0);
	CHECK_EQ(v, 1);
	v = 65536;
	CHECK_EQ(devmem_setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	vl = sizeof(v);
	CHECK_EQ(devmem_getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
	CHECK_EQ(v, 131072); /* doubled, as Linux does */
	v = 1;
	CHECK_EQ(devmem_setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), 0);
	v = 0;
	vl = sizeof(v);
	CHECK_EQ(devmem_getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl), 0);
	CHECK_EQ(v, 1);
	errno = 0;
	CHECK_EQ(devmem_setsockopt(c, SOL_SOCKET, 12345, &v, sizeof(v)), -1);
	CHECK_EQ(errno, ENOPROTOOPT);
	/* names: the peer's name of one end is the other's own name */
	CHECK_EQ(devmem_getsockname(s, (struct sockaddr *)&n6, &nl), 0);
	CHECK_EQ(ntohs(n6.sin6_port), 8002);
	nl = sizeof(n6);
	CHECK_EQ(devmem_getpeername(c, (struct sockaddr *)&n6, &nl), 0);
	CHECK_EQ(ntohs(n6.sin6_port), 8002);
	struct sockaddr_in6 cn;
	socklen_t cl = sizeof(cn);
	CHECK_EQ(devmem_getsockname(c, (struct sockaddr *)&cn, &cl), 0);
	nl = sizeof(n6);
	CHECK_EQ(devmem_getpeername(s, (struct sockaddr *)&n6, &nl), 0);
	CHECK_EQ(n6.sin6_port, cn.sin6_port);
	CHECK_MEM(&n6.sin6_addr, &cn.sin6_addr, 16);
	/* a second listener on the same port: EADDRINUSE */
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(AF_INET6, "::", 8002, &ss);
	int l2 = devmem_socket(b, AF_INET6, SOCK_STREAM, 0);
	errno = 0;
	CHECK_EQ(devmem_bind(l2, (struct sockaddr *)&ss, sl), -1);
	CHECK_EQ(errno, EADDRINUSE);
	devmem_close(l2);
	/* bad descriptors */
	errno = 0;
	CHECK_EQ(devmem_recv(12345, &v, 1, 0), -1);
	CHECK_EQ(errno, EBADF);
	devmem_close(s);
	devmem_close(c);
	devmem_close(l);
}

static void test_refused(void)
{
	/* no listener: the peer's RST refuses the connection at once */
	errno = 0;
	CHECK_EQ(connect_to(AF_INET, 8999), -1);
	CHECK_EQ(errno, ECONNREFUSED);
}

int main(void)
{
	struct devmem_config ca, cb;

	pair_cfgs(&ca, &cb);
	if (devmem_stack_open_pair(&ca, &cb, NULL, NULL, &a, &b) < 0) {
		perror("devmem_stack_open_pair");
		return 1;
	}
	RUN(test_readiness_and_nonblock);
	RUN(test_options_and_names);
	RUN(test_refused);
	/* a socket left open is released with its stack */
	int l = listen_on(AF_INET, 8003);
	int c = connect_to(AF_INET, 8003);
	CHECK(l >= 0 && c >= 0);
	devmem_stack_close(a);
	devmem_stack_close(b);
	CHECK(!devmem_is_socket(l));
	CHECK(!devmem_is_socket(c));
	return CHECK_DONE();
}
