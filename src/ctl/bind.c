/* SPDX-License-Identifier: MIT */
/*
 * bind-rx: a dmabuf becomes the page pool of a set of RX queues, with the
 * kernel's refusals (net/core/devmem.c, netdev-genl.c): a queue out of range
 * or header split off is EINVAL, a queue already bound is EEXIST. Unbinding
 * gives the queues back their host pools; the dmabuf's buffers are freed once
 * every in-flight packet and token has let go (the pool frees itself).
 *
 * bind-tx: a dmabuf that zero-copy sends name by the binding's id. Sockets
 * hold its bytes until the peer acknowledges them, so an unbound TX binding
 * lives on (invisible to new sends) until nothing is pending.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/stack.h"
#include "util/util.h"

static atomic_uint next_binding_id = 1;

/* Live TX binding ids of every stack in the process: a send naming another
 * stack's binding is ENODEV (the binding's device is not the route's), an
 * unknown id EINVAL. Touched only at bind, unbind and on that error path. */
static pthread_mutex_t tx_ids_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t *tx_ids;
static size_t tx_ids_n, tx_ids_cap;

static int tx_ids_add(uint32_t id)
{
	pthread_mutex_lock(&tx_ids_lock);
	if (tx_ids_n == tx_ids_cap) {
		size_t nc = tx_ids_cap ? tx_ids_cap * 2 : 16;
		uint32_t *n = realloc(tx_ids, nc * sizeof(*n));
		if (!n) {
			pthread_mutex_unlock(&tx_ids_lock);
			return -ENOMEM;
		}
		tx_ids = n;
		tx_ids_cap = nc;
	}
	tx_ids[tx_ids_n++] = id;
	pthread_mutex_unlock(&tx_ids_lock);
	return 0;
}

static void tx_ids_del(uint32_t id)
{
	pthread_mutex_lock(&tx_ids_lock);
	for (size_t i = 0; i < tx_ids_n; i++)
		if (tx_ids[i] == id) {
			tx_ids[i] = tx_ids[--tx_ids_n];
			break;
		}
	pthread_mutex_unlock(&tx_ids_lock);
}

bool binding_tx_elsewhere(uint32_t id)
{
	bool found = false;

	pthread_mutex_lock(&tx_ids_lock);
	for (size_t i = 0; i < tx_ids_n && !found; i++)
		found = tx_ids[i] == id;
	pthread_mutex_unlock(&tx_ids_lock);
	return found;
}

static void lock_queues(struct devmem_stack *s, const unsigned *qs, unsigned n, bool lock)
{
	/* queue locks in index order, then the stack lock (see stack.h) */
	for (unsigned q = 0; q < s->nic.nqueues; q++)
		for (unsigned i = 0; i < n; i++)
			if (qs[i] == q) {
				if (lock)
					pthread_mutex_lock(&s->nic.q[q].lock);
				else
					pthread_mutex_unlock(&s->nic.q[q].lock);
				break;
			}
	if (lock)
		pthread_mutex_lock(&s->lock);
	else
		pthread_mutex_unlock(&s->lock);
}

struct devmem_binding *devmem_bind_rx(struct devmem_stack *s, int dmabuf_fd,
				      const unsigned *queues, unsigned nqueues)
{
	struct devmem_binding *b;
	struct dmabuf *d;

	if (!s || !queues || nqueues == 0)
		return devmem_fail_ptr(devmem_reason(-EINVAL, "no RX queues given"));
	for (unsigned i = 0; i < nqueues; i++) {
		if (queues[i] >= s->nic.active)
			return devmem_fail_ptr(devmem_reason(-EINVAL,
				"rx queue %u out of range (%u queues)", queues[i], s->nic.active));
		for (unsigned j = 0; j < i; j++)
			if (queues[j] == queues[i])
				return devmem_fail_ptr(devmem_reason(-EINVAL,
					"rx queue %u given twice", queues[i]));
	}
	if (!s->nic.header_split)
		return devmem_fail_ptr(devmem_reason(-EINVAL, "tcp-data-split is disabled"));
	d = dmabuf_lookup_get(dmabuf_fd);
	if (!d)
		return devmem_fail_ptr(-EBADF);
	b = calloc(1, sizeof(*b));
	if (b)
		b->queues = malloc(nqueues * sizeof(*b->queues));
	if (!b || !b->queues || d->size < s->nic.buf_size) {
		int e = b && b->queues ? -EINVAL : -ENOMEM;
		if (b)
			free(b->queues);
		free(b);
		dmabuf_put(d);
		return devmem_fail_ptr(e);
	}
	b->stack = s;
	b->id = atomic_fetch_add(&next_binding_id, 1);
	b->nqueues = nqueues;
	for (unsigned i = 0; i < nqueues; i++)
		b->queues[i] = queues[i];
	b->pool = pool_create_dmabuf(d, s->nic.buf_size, b->id);
	dmabuf_put(d); /* the pool holds its own reference */
	if (!b->pool) {
		free(b->queues);
		free(b);
		return devmem_fail_ptr(-ENOMEM);
	}
	lock_queues(s, queues, nqueues, true);
	for (unsigned i = 0; i < nqueues; i++) {
		if (s->nic.q[queues[i]].bound) {
			devmem_reason(-EEXIST, "rx queue %u already has a memory provider", queues[i]);
			lock_queues(s, queues, nqueues, false);
			pool_release(b->pool);
			free(b->queues);
			free(b);
			return devmem_fail_ptr(-EEXIST);
		}
	}
	for (unsigned i = 0; i < nqueues; i++)
		nic_rxq_set_pool(&s->nic.q[queues[i]], b->pool, b);
	b->next = s->bindings;
	s->bindings = b;
	lock_queues(s, queues, nqueues, false);
	DEVMEM_DBG("bound dmabuf %d as id %u to %u queue(s)", dmabuf_fd, b->id, nqueues);
	return b;
}

struct devmem_binding *devmem_bind_tx(struct devmem_stack *s, int dmabuf_fd)
{
	struct devmem_binding *b;
	struct dmabuf *d;

	if (!s)
		return devmem_fail_ptr(-EINVAL);
	d = dmabuf_lookup_get(dmabuf_fd);
	if (!d)
		return devmem_fail_ptr(-EBADF);
	b = calloc(1, sizeof(*b));
	if (!b) {
		dmabuf_put(d);
		return devmem_fail_ptr(-ENOMEM);
	}
	b->stack = s;
	b->id = atomic_fetch_add(&next_binding_id, 1);
	b->tx = true;
	b->dmabuf = d;
	pthread_mutex_lock(&s->lock);
	/* the copy engine moves device memory into a page-locked bounce (as
	 * the NIC's RX slots); pageable memory would be staged by the driver */
	if (d->prov->pin && !s->tx_bounce_pin && d->prov->pin(s->tx_bounce, STACK_TX_BOUNCE) == 0)
		s->tx_bounce_pin = d->prov;
	pthread_mutex_unlock(&s->lock);
	if (tx_ids_add(b->id) < 0) {
		dmabuf_put(d);
		free(b);
		return devmem_fail_ptr(-ENOMEM);
	}
	pthread_mutex_lock(&s->lock);
	b->next = s->bindings;
	s->bindings = b;
	pthread_mutex_unlock(&s->lock);
	DEVMEM_DBG("bound dmabuf %d for TX as id %u", dmabuf_fd, b->id);
	return b;
}

struct devmem_binding *binding_tx_lookup(struct devmem_stack *s, uint32_t id)
{
	for (struct devmem_binding *b = s->bindings; b; b = b->next)
		if (b->id == id)
			return b->tx ? b : NULL;
	return NULL;
}


static void binding_tx_free(struct devmem_binding *b)
{
	dmabuf_put(b->dmabuf);
	free(b);
}

void binding_tx_release(struct devmem_binding *b, uint64_t bytes)
{
	b->tx_pending -= bytes;
	if (b->unbound && b->tx_pending == 0)
		binding_tx_free(b);
}

uint32_t devmem_binding_id(const struct devmem_binding *b)
{
	return b ? b->id : 0;
}

/* A detached RX pool got its last buffer back and frees itself. */
static void zombie_gone(struct pool *p, void *arg)
{
	struct devmem_stack *s = arg;

	for (unsigned i = 0; i < s->nzombies; i++)
		if (s->zombies[i] == p) {
			s->zombies[i] = s->zombies[--s->nzombies];
			break;
		}
}

/* Caller holds the binding's queue locks and the stack lock. */
static void binding_detach(struct devmem_binding *b)
{
	struct devmem_stack *s = b->stack;
	struct devmem_binding **pp = &s->bindings;

	for (unsigned i = 0; i < b->nqueues; i++)
		if (s->nic.q[b->queues[i]].binding == b)
			nic_rxq_set_pool(&s->nic.q[b->queues[i]], NULL, NULL);
	while (*pp && *pp != b)
		pp = &(*pp)->next;
	if (*pp)
		*pp = b->next;
	if (b->pool) {
		if (b->pool->nfree < b->pool->nbufs && s->nzombies < STACK_ZOMBIES) {
			/* tokens still hold buffers: the pool outlives the binding */
			s->zombies[s->nzombies++] = b->pool;
			b->pool->on_idle = zombie_gone;
			b->pool->on_idle_arg = s;
		}
		pool_release(b->pool);
	}
}

/* Unbind a TX binding: new sends cannot name it; freed once nothing is
 * pending. Returns true when freed now. Stack lock held. */
static bool binding_tx_unbind(struct devmem_binding *b)
{
	binding_detach(b);
	tx_ids_del(b->id);
	b->unbound = true;
	if (b->tx_pending)
		return false;
	binding_tx_free(b);
	return true;
}

int devmem_unbind(struct devmem_binding *b)
{
	struct devmem_stack *s;

	if (!b)
		return devmem_fail(-EINVAL);
	s = b->stack;
	if (b->tx) {
		pthread_mutex_lock(&s->lock);
		binding_tx_unbind(b);
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	lock_queues(s, b->queues, b->nqueues, true);
	binding_detach(b);
	lock_queues(s, b->queues, b->nqueues, false);
	free(b->queues);
	free(b);
	return 0;
}

/* Stack close: the pollers are stopped, sockets (and their tokens) gone. */
void devmem_binding_release_all(struct devmem_stack *s)
{
	while (s->bindings) {
		struct devmem_binding *b = s->bindings;

		pthread_mutex_lock(&s->lock);
		if (b->tx) {
			/* sockets are gone, so nothing is pending any more */
			if (!binding_tx_unbind(b))
				DEVMEM_DBG("TX binding %u: %" PRIu64 " bytes still pending at close",
					   b->id, b->tx_pending);
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		binding_detach(b);
		pthread_mutex_unlock(&s->lock);
		free(b->queues);
		free(b);
	}
}

int devmem_binding_stats(const struct devmem_binding *b, struct devmem_binding_stats *st)
{
	struct devmem_stack *s;

	if (!b || !st)
		return devmem_fail(-EINVAL);
	s = b->stack;
	memset(st, 0, sizeof(*st));
	if (b->tx) {
		pthread_mutex_lock(&s->lock);
		st->is_tx = 1;
		st->tx_bytes = b->tx_bytes;
		st->tx_pending = b->tx_pending;
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	/* the queue locks keep the posted buffers still while we count them */
	lock_queues(s, b->queues, b->nqueues, true);
	st->bufs = b->pool->nbufs;
	st->bufs_free = b->pool->nfree;
	for (unsigned i = 0; i < b->nqueues; i++) {
		const struct nic_rxq *q = &s->nic.q[b->queues[i]];
		/* buffers the NIC holds for the next frames count as free */
		if (q->post_pool == b->pool) {
			st->bufs_free += q->posted_count;
			if (q->have_cur && b->pool->refs[q->cur_idx] == 1)
				st->bufs_free++;
		}
	}
	st->buf_size = b->pool->buf_size;
	lock_queues(s, b->queues, b->nqueues, false);
	return 0;
}
