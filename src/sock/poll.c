/* SPDX-License-Identifier: MIT */
/*
 * devmem_poll: poll(2) over devmem sockets and ordinary descriptors at once.
 * A devmem socket's events are computed from its state (sock_poll_events,
 * tcp_poll's rules); to sleep, the kernel's poll() waits on the sockets'
 * eventfds, which the stack signals whenever a socket's readiness may have
 * changed, together with the caller's other descriptors.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "sock/sock.h"
#include "util/util.h"

#define POLL_STACK_FDS 64
#define POLL_SLICE_MS 5 /* re-check interval while an unrelated event is pending */

/* Exact events of devmem socket fd; -1 when fd is not one. */
static int devmem_events(int fd, short want, bool *busy)
{
	struct sock *sk = fdtab_get(fd);
	short ev;

	if (!sk)
		return -1;
	pthread_mutex_lock(&sk->stack->lock);
	ev = sock_poll_events(sk);
	ev &= (short)(want | POLLERR | POLLHUP | POLLNVAL);
	if (!ev && (want & POLLOUT) && !sk->want_out) {
		/* let the eventfd fire when space opens */
		sk->want_out = true;
		sock_update_ready(sk);
	}
	/* the eventfd is signalled for an event the caller did not ask for:
	 * waiting on it would spin */
	*busy = !ev && sk->ready;
	pthread_mutex_unlock(&sk->stack->lock);
	return ev;
}

int devmem_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	struct pollfd local[POLL_STACK_FDS], *k = local;
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX
					   : devmem_now_us() + (uint64_t)timeout_ms * 1000u;
	int ret = -1;

	if (nfds && !fds)
		return devmem_fail(-EFAULT);
	if (nfds > POLL_STACK_FDS) {
		k = calloc(nfds, sizeof(*k));
		if (!k)
			return devmem_fail(-ENOMEM);
	}
	for (;;) {
		int nready = 0;
		bool busy_any = false;

		for (nfds_t i = 0; i < nfds; i++) {
			bool busy = false;
			int ev = fds[i].fd < 0 ? -1 : devmem_events(fds[i].fd, fds[i].events, &busy);

			if (ev >= 0) {
				fds[i].revents = (short)ev;
				k[i].fd = busy ? -1 : fds[i].fd; /* the eventfd */
				k[i].events = POLLIN;
				busy_any |= busy;
				if (ev)
					nready++;
			} else {
				fds[i].revents = 0;
				k[i].fd = fds[i].fd;
				k[i].events = fds[i].events;
			}
			k[i].revents = 0;
		}
		uint64_t now = devmem_now_us();
		int wait = 0;
		if (!nready && now < deadline) {
			uint64_t left_ms = deadline == UINT64_MAX ? (uint64_t)INT32_MAX
								  : (deadline - now + 999) / 1000;
			if (busy_any && left_ms > POLL_SLICE_MS)
				left_ms = POLL_SLICE_MS;
			wait = (int)DEVMEM_MIN(left_ms, (uint64_t)INT32_MAX);
		}
		int r = poll(k, nfds, wait);
		if (r < 0) {
			ret = devmem_fail(-errno);
			break;
		}
		/* ordinary descriptors: the kernel's answer */
		bool devmem_woke = false;
		for (nfds_t i = 0; i < nfds; i++) {
			if (fds[i].fd < 0)
				continue;
			if (fdtab_get(fds[i].fd)) {
				devmem_woke |= k[i].revents != 0;
				continue;
			}
			fds[i].revents = k[i].revents;
			if (k[i].revents)
				nready++;
		}
		if (nready || (!devmem_woke && devmem_now_us() >= deadline)) {
			ret = nready;
			break;
		}
		/* a socket's eventfd fired, or a slice ended: look again */
	}
	if (k != local)
		free(k);
	return ret;
}
