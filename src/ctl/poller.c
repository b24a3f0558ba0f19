/* SPDX-License-Identifier: MIT */
/*
 * One poller per RX queue, like a NIC's interrupt and NAPI context: it waits
 * for frames (or a timer), reads a burst without the stack lock (phase 1),
 * then processes the burst under the stack lock (phase 2). Queue 0's poller
 * also runs the TCP timers.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "ctl/stack.h"
#include "util/util.h"

static struct devmem_stack *stack_of(struct nic_rxq *q)
{
	return (struct devmem_stack *)((char *)q->nic - offsetof(struct devmem_stack, nic));
}

static int poll_timeout_ms(struct devmem_stack *s, struct nic_rxq *q, uint64_t deadline, uint64_t now)
{
	int64_t due = s->link->ops->rx_due_us ? s->link->ops->rx_due_us(s->link, q->idx) : -1;
	uint64_t wait = UINT64_MAX;

	if (q->idx == 0 && deadline != UINT64_MAX)
		wait = deadline > now ? deadline - now : 0;
	if (due >= 0 && (uint64_t)due < wait)
		wait = (uint64_t)due;
	if (wait == UINT64_MAX)
		return 1000; /* nothing scheduled: still look around once a second */
	/* round up so the timer is due when we wake */
	return wait > 1000000 ? 1000 : (int)((wait + 999) / 1000);
}

void *stack_poller_main(void *arg)
{
	struct nic_rxq *q = arg;
	struct devmem_stack *s = stack_of(q);
	int wake = s->wake_fds[q->idx];
	uint64_t deadline = UINT64_MAX;

	while (!atomic_load(&s->stopping)) {
		unsigned n;

		pthread_mutex_lock(&q->lock);
		n = nic_rx_burst(q);
		pthread_mutex_lock(&s->lock);
		uint64_t now = devmem_now_us();
		for (unsigned i = 0; i < n; i++) {
			struct rx_frame *f = &q->frames[i];
			if (nic_rx_commit(q, f))
				ip_input(s, q, f, now);
		}
		nic_rx_refill(q);
		if (q->idx == 0 && (n || deadline <= now || s->sleep_until <= now ||
				    s->sleep_until < deadline)) {
			deadline = sock_run_timers(s, now);
			s->sleep_until = deadline;
		}
		sock_free_orphans(s);
		pthread_mutex_unlock(&s->lock);
		pthread_mutex_unlock(&q->lock);
		if (n == NIC_BURST)
			continue; /* more may be waiting: poll again at once */

		struct pollfd pfd[2] = {
			{.fd = s->link->ops->rx_fd(s->link, q->idx), .events = POLLIN},
			{.fd = wake, .events = POLLIN},
		};
		int r = poll(pfd, 2, poll_timeout_ms(s, q, deadline, devmem_now_us()));
		if (r < 0 && errno != EINTR) {
			DEVMEM_DBG("poller %u: poll: %s", q->idx, strerror(errno));
			break;
		}
		if (r > 0 && (pfd[1].revents & POLLIN)) {
			uint64_t v;
			if (read(wake, &v, sizeof(v)) < 0 && errno != EAGAIN)
				DEVMEM_DBG("poller %u: wake: %s", q->idx, strerror(errno));
			deadline = 0; /* re-evaluate timers */
		}
	}
	return NULL;
}
