/* SPDX-License-Identifier: MIT */
/*
 * The NIC's interrupt and NAPI context. One poller thread per RX queue waits
 * for frames (or a timer), reads a burst without the stack lock (phase 1),
 * then processes it under the stack lock (phase 2). Queue 0's rounds also run
 * the TCP timers.
 *
 * Busy polling: an application thread that would block in recv does the
 * queue's rounds itself (stack_busy_poll), as Linux's SO_BUSY_POLL does, so
 * the data path needs no hand-off between threads: frame in, ACK out, data
 * up, all on the reader's core. Meanwhile the poller thread stands aside; it
 * takes over again within a millisecond of the reader leaving.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "ctl/stack.h"
#include "util/util.h"

#define BUSY_POLL_US 1000 /* a busy reader keeps the queue this long */

static struct devmem_stack *stack_of(struct nic_rxq *q)
{
	return (struct devmem_stack *)((char *)q->nic - offsetof(struct devmem_stack, nic));
}

/* Caller holds q->lock (not the stack lock). Returns the frames read.
 * The ACKs the round produces leave after the stack lock (see nic.h). */
static unsigned poll_once(struct devmem_stack *s, struct nic_rxq *q, bool force_timers)
{
	unsigned n = nic_rx_burst(q);

	pthread_mutex_lock(&s->lock);
	nic_tx_defer(q);
	uint64_t now = devmem_now_us();
	for (unsigned i = 0; i < n; i++) {
		struct rx_frame *f = &q->frames[i];
		if (!nic_rx_commit(q, f))
			continue;
		if (stack_steer_rx(s, q, f))
			ip_input(s, q, f, now);
		else
			pbuf_release(&f->pb); /* a drop rule took it */
	}
	nic_rx_refill(q);
	/* input may have armed timers: recompute the deadline after a burst */
	if (q->idx == 0 && (n || force_timers || s->sleep_until <= now))
		s->sleep_until = sock_run_timers(s, now);
	sock_free_orphans(s);
	pthread_mutex_unlock(&s->lock);
	nic_tx_flush(q);
	return n;
}

/* poll() timeout until the next timer (queue 0) or held-back frame. */
static int wait_ms(struct devmem_stack *s, struct nic_rxq *q, uint64_t now, uint64_t cap_us)
{
	int64_t due = s->link->ops->rx_due_us ? s->link->ops->rx_due_us(s->link, q->idx) : -1;
	uint64_t deadline = q->idx == 0 ? s->sleep_until : UINT64_MAX; /* racy read: a hint */
	uint64_t wait = cap_us;

	if (deadline != UINT64_MAX)
		wait = DEVMEM_MIN(wait, deadline > now ? deadline - now : 0);
	if (due >= 0)
		wait = DEVMEM_MIN(wait, (uint64_t)due);
	/* round up so that the timer is due when we wake; at most a second */
	return (int)DEVMEM_MIN((wait + 999) / 1000, 1000);
}

bool stack_busy_poll(struct devmem_stack *s, unsigned queue)
{
	struct nic_rxq *q = &s->nic.q[queue];
	uint64_t now = devmem_now_us();

	if (pthread_mutex_trylock(&q->lock) != 0)
		return false; /* someone else is polling this queue */
	atomic_store(&q->busy_until, now + BUSY_POLL_US);
	if (poll_once(s, q, false) == 0) {
		struct pollfd p = {.fd = s->link->ops->rx_fd(s->link, q->idx), .events = POLLIN};
		nic_tx_push(q);
		if (poll(&p, 1, wait_ms(s, q, now, BUSY_POLL_US)) == 0 && q->idx == 0)
			poll_once(s, q, true); /* a timer may be due */
		else
			poll_once(s, q, false);
	}
	/* held ACKs ride with the next read: the reader's next round, or the
	 * poller's once busy_until has passed (at most BUSY_POLL_US later) */
	pthread_mutex_unlock(&q->lock);
	return true;
}

void stack_poll_now(struct devmem_stack *s, unsigned queue)
{
	struct nic_rxq *q = &s->nic.q[queue];

	/* The poller holds q->lock for a whole round: once we have it, a frame
	 * it took is processed, and what is left in the link is ours to do. */
	pthread_mutex_lock(&q->lock);
	while (poll_once(s, q, false) == NIC_BURST)
		;
	nic_tx_push(q);
	pthread_mutex_unlock(&q->lock);
	/* the round may have armed a timer before the poller's wake-up:
	 * let it look again (queue 0 runs the timers) */
	pthread_mutex_lock(&s->lock);
	stack_kick(s, 0);
	pthread_mutex_unlock(&s->lock);
}

void *stack_poller_main(void *arg)
{
	struct nic_rxq *q = arg;
	struct devmem_stack *s = stack_of(q);
	int wake = s->wake_fds[q->idx];
	bool force = true;

	__atomic_store_n(&q->poller_tid, (int)gettid(), __ATOMIC_RELEASE);
	while (!atomic_load(&s->stopping)) {
		uint64_t now = devmem_now_us();
		uint64_t busy = atomic_load(&q->busy_until);
		unsigned n = 0;
		bool watch_link = busy <= now;

		if (watch_link) {
			pthread_mutex_lock(&q->lock);
			n = poll_once(s, q, force);
			if (n < NIC_BURST)
				nic_tx_push(q); /* about to sleep */
			pthread_mutex_unlock(&q->lock);
			force = false;
			if (n == NIC_BURST)
				continue; /* more may be waiting: poll again at once */
		}
		/* while a reader busy-polls, wait only for a kick or its end */
		struct pollfd pfd[2] = {
			{.fd = wake, .events = POLLIN},
			{.fd = s->link->ops->rx_fd(s->link, q->idx), .events = POLLIN},
		};
		now = devmem_now_us();
		uint64_t cap = watch_link ? 1000000 : busy > now ? busy - now : 0;
		int r = poll(pfd, watch_link ? 2 : 1, wait_ms(s, q, now, cap));
		if (r < 0 && errno != EINTR) {
			DEVMEM_DBG("poller %u: poll: %s", q->idx, strerror(errno));
			break;
		}
		if (r > 0 && (pfd[0].revents & POLLIN)) {
			uint64_t v;
			if (read(wake, &v, sizeof(v)) < 0 && errno != EAGAIN)
				DEVMEM_DBG("poller %u: wake: %s", q->idx, strerror(errno));
			force = true; /* a new timer: re-evaluate */
		}
		if (r == 0)
			force = true;
	}
	return NULL;
}
