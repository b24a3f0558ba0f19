/* SPDX-License-Identifier: MIT */
/*
 * NIC configuration and introspection, as ethtool and the netlink netdev
 * family give them: header split (-G tcp-data-split), the queue count (-L),
 * queue-get, page-pool-get, the bindings, and the NIC-wide counters (-S).
 * Refusals carry the kernel's errno and, in devmem_last_error(), the reason
 * its extack would give. RSS and ntuple rules are in nicsteer.c.
 *
 * Changes take every queue lock (in index order) and then the stack lock,
 * so no poller is inside a burst while the NIC changes under it.
 */
#include <errno.h>
#include <string.h>

#include "ctl/stack.h"
#include "sock/sock.h"
#include "util/util.h"

void stack_lock_all(struct devmem_stack *s)
{
	for (unsigned q = 0; q < s->nic.nqueues; q++)
		pthread_mutex_lock(&s->nic.q[q].lock);
	pthread_mutex_lock(&s->lock);
}

void stack_unlock_all(struct devmem_stack *s)
{
	pthread_mutex_unlock(&s->lock);
	for (unsigned q = s->nic.nqueues; q-- > 0;)
		pthread_mutex_unlock(&s->nic.q[q].lock);
}

int devmem_header_split_set(struct devmem_stack *s, int on)
{
	int r = 0;

	if (!s)
		return devmem_fail(-EINVAL);
	stack_lock_all(s);
	if (!on) {
		for (unsigned q = 0; q < s->nic.nqueues; q++)
			if (s->nic.q[q].bound) {
				/* net/ethtool/rings.c refuses the same way */
				r = devmem_reason(-EINVAL, "can't disable tcp-data-split while device "
						  "has memory provider enabled (queue %u)", q);
				break;
			}
	}
	if (!r)
		s->nic.header_split = on != 0;
	stack_unlock_all(s);
	return r ? devmem_fail(r) : 0;
}

int devmem_header_split_get(struct devmem_stack *s)
{
	if (!s)
		return devmem_fail(-EINVAL);
	return s->nic.header_split;
}

unsigned devmem_queue_count(struct devmem_stack *s)
{
	return s ? s->nic.active : 0;
}

int devmem_set_queues(struct devmem_stack *s, unsigned n)
{
	int r = 0;

	if (!s)
		return devmem_fail(-EINVAL);
	if (n == 0)
		return devmem_fail(devmem_reason(-EINVAL, "rx channel count must be at least 1"));
	if (n > s->nic.nqueues)
		return devmem_fail(devmem_reason(-EINVAL,
			"requested channel count %u exceeds maximum %u", n, s->nic.nqueues));
	stack_lock_all(s);
	for (unsigned q = n; q < s->nic.nqueues; q++)
		if (s->nic.q[q].bound) {
			r = devmem_reason(-EINVAL, "requested channel counts are too low for "
					  "existing memory provider setting (queue %u is bound)", q);
			goto out;
		}
	r = stack_steer_check_queues(s, n);
	if (r < 0)
		goto out;
	if (s->link->ops->set_queues && (r = s->link->ops->set_queues(s->link, n)) < 0) {
		devmem_reason(r, "the link could not change its queues");
		goto out;
	}
	s->nic.active = n;
	stack_steer_queues_changed(s);
	/* flows of queues that stopped receiving move where steering sends
	 * them now (a NIC re-spreads them the same way) */
	for (struct sock *sk = s->all; sk; sk = sk->anext)
		if (sk->queue >= n)
			sk->queue = stack_flow_queue(s, &sk->conn.ep);
out:
	stack_unlock_all(s);
	return r < 0 ? devmem_fail(r) : 0;
}

int devmem_queue_info(struct devmem_stack *s, unsigned queue, struct devmem_queue_info *qi)
{
	if (!s || !qi)
		return devmem_fail(-EINVAL);
	if (queue >= s->nic.nqueues)
		return devmem_fail(devmem_reason(-EINVAL, "queue %u does not exist", queue));
	struct nic_rxq *q = &s->nic.q[queue];
	memset(qi, 0, sizeof(*qi));
	pthread_mutex_lock(&q->lock);
	pthread_mutex_lock(&s->lock);
	qi->id = queue;
	qi->active = queue < s->nic.active;
	qi->binding_id = q->binding ? q->binding->id : 0;
	qi->poller_tid = q->poller_tid;
	qi->st = q->st;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

/* Tokens (frags held by the application) pointing into pool p. */
static uint64_t tokens_in(const struct devmem_stack *s, const struct pool *p)
{
	uint64_t n = 0;

	for (const struct sock *sk = s->all; sk; sk = sk->anext)
		for (uint32_t i = 0; sk->tokens_out && i < sk->tokens_cap; i++)
			if (sk->tokens[i].pool == p)
				n++;
	return n;
}

static void pool_info(const struct devmem_stack *s, const struct pool *p, uint32_t id,
		      unsigned queue, struct devmem_pool_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	pi->id = id;
	pi->queue = queue;
	pi->binding_id = p->binding_id;
	pi->size = p->nbufs;
	pi->in_use = p->nbufs - p->nfree;
	pi->held = (uint32_t)tokens_in(s, p);
	pi->buf_size = p->buf_size;
}

int devmem_pool_list(struct devmem_stack *s, struct devmem_pool_info *out, unsigned max)
{
	unsigned n = 0;

	if (!s || (max && !out))
		return devmem_fail(-EINVAL);
	stack_lock_all(s);
	/* each queue's host pool, then each RX binding's dmabuf pool */
	for (unsigned q = 0; q < s->nic.nqueues; q++, n++)
		if (n < max)
			pool_info(s, s->nic.q[q].host_pool, n + 1, q, &out[n]);
	for (const struct devmem_binding *b = s->bindings; b; b = b->next) {
		if (b->tx)
			continue;
		if (n < max)
			pool_info(s, b->pool, n + 1, b->queues[0], &out[n]);
		n++;
	}
	for (unsigned i = 0; i < s->nzombies; i++, n++)
		if (n < max) {
			pool_info(s, s->zombies[i], n + 1, 0, &out[n]);
			out[n].detached = 1;
		}
	stack_unlock_all(s);
	return (int)n;
}

int devmem_binding_list(struct devmem_stack *s, struct devmem_binding_info *out, unsigned max)
{
	unsigned n = 0;

	if (!s || (max && !out))
		return devmem_fail(-EINVAL);
	stack_lock_all(s);
	for (const struct devmem_binding *b = s->bindings; b; b = b->next, n++) {
		if (n >= max)
			continue;
		struct devmem_binding_info *bi = &out[n];
		const struct dmabuf *d = b->tx ? b->dmabuf : b->pool->dmabuf;
		memset(bi, 0, sizeof(*bi));
		bi->id = b->id;
		bi->tx = b->tx;
		bi->mem = d->prov->kind;
		bi->size = d->size;
		bi->nqueues = DEVMEM_MIN(b->nqueues, (unsigned)DEVMEM_ARRAY_SIZE(bi->queues));
		for (unsigned i = 0; i < bi->nqueues; i++)
			bi->queues[i] = b->queues[i];
		if (!b->tx)
			bi->tokens_outstanding = tokens_in(s, b->pool);
		bi->tx_pending = b->tx_pending;
	}
	stack_unlock_all(s);
	return (int)n;
}

int devmem_nic_stats(struct devmem_stack *s, struct devmem_nic_stats *st)
{
	if (!s || !st)
		return devmem_fail(-EINVAL);
	memset(st, 0, sizeof(*st));
	stack_lock_all(s);
	for (unsigned q = 0; q < s->nic.nqueues; q++) {
		const struct devmem_queue_stats *qs = &s->nic.q[q].st;
		st->rx_packets += qs->packets;
		st->rx_bytes += qs->bytes;
		st->rx_linear += qs->linear;
		st->rx_drop_nobuf += qs->drop_nobuf;
	}
	st->rx_steered = s->nic.rx_steered;
	st->rx_rss = s->nic.rx_rss;
	st->rx_ntuple_drop = s->nic.rx_ntuple_drop;
	st->rx_misdirected = s->nic.rx_misdirected;
	st->tx_packets = atomic_load(&s->nic.tx_packets);
	st->tx_bytes = atomic_load(&s->nic.tx_bytes);
	stack_unlock_all(s);
	return 0;
}
