/* SPDX-License-Identifier: MIT */
/* Stack lifecycle: open on a link, pollers, close, introspection. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "ctl/stack.h"
#include "sock/sock.h"
#include "util/util.h"

void *stack_poller_main(void *arg);

void devmem_config_init(struct devmem_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rx_queues = 1;
	cfg->buf_size = 4096;
	cfg->host_pool_bufs = 8192;
	cfg->header_split = 1;
	cfg->mtu = 1500;
	cfg->rcvbuf = 4u << 20;
	cfg->syn_backlog = 256;
}

static int config_check(const struct devmem_config *cfg)
{
	if (cfg->rx_queues < 1 || cfg->rx_queues > 64 || cfg->max_queues > 64)
		return -EINVAL;
	if (cfg->buf_size < 4096 || cfg->buf_size > (1u << 20) ||
	    (cfg->buf_size & (cfg->buf_size - 1)))
		return -EINVAL;
	if (cfg->host_pool_bufs < 64 || cfg->mtu < 1280 || cfg->mtu > 65535)
		return -EINVAL;
	if (cfg->rcvbuf < 4096)
		return -EINVAL;
	return 0;
}

static void stack_free(struct devmem_stack *s)
{
	while (s->seg_free) {
		struct rxseg *g = s->seg_free;
		s->seg_free = g->next;
		free(g);
	}
	stack_steer_close(s); /* before the link: the program sits on its fd */
	nic_destroy(&s->nic);
	if (s->link)
		s->link->ops->destroy(s->link);
	if (s->wake_fds)
		for (unsigned i = 0; i < s->npollers; i++)
			if (s->wake_fds[i] >= 0)
				close(s->wake_fds[i]);
	free(s->wake_fds);
	free(s->pollers);
	free(s->hash);
	free(s->tx_scratch);
	if (s->tx_bounce && s->tx_bounce_pin)
		s->tx_bounce_pin->unpin(s->tx_bounce);
	free(s->tx_bounce);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Build the stack on an open link and start one poller per RX queue. */
static struct devmem_stack *stack_start(const struct devmem_config *cfg, struct link *link, int *err)
{
	struct devmem_stack *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		link->ops->destroy(link);
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->cfg = *cfg;
	s->link = link;
	if (cfg->verbose)
		devmem_log_enabled = 1;
	s->hash_size = 1024;
	s->hash = calloc(s->hash_size, sizeof(*s->hash));
	s->tx_scratch = malloc(65536 + 128);
	s->tx_bounce = malloc(STACK_TX_BOUNCE);
	s->npollers = DEVMEM_MAX(cfg->rx_queues, cfg->max_queues);
	s->pollers = calloc(s->npollers, sizeof(*s->pollers));
	s->wake_fds = malloc(s->npollers * sizeof(*s->wake_fds));
	if (!s->hash || !s->tx_scratch || !s->tx_bounce || !s->pollers || !s->wake_fds) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < s->npollers; i++)
		s->wake_fds[i] = -1;
	if (getrandom(s->isn_key, sizeof(s->isn_key), 0) != sizeof(s->isn_key)) {
		r = -EIO;
		goto fail;
	}
	s->next_port = (uint16_t)(32768 + (s->isn_key[0] | s->isn_key[1] << 8) % 28000);
	r = nic_init(&s->nic, link, cfg);
	if (r < 0)
		goto fail;
	if (s->nic.active < s->nic.nqueues && link->ops->set_queues &&
	    (r = link->ops->set_queues(link, s->nic.active)) < 0)
		goto fail;
	if ((r = stack_steer_open(s)) < 0)
		goto fail;
	for (unsigned i = 0; i < s->npollers; i++) {
		s->wake_fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->wake_fds[i] < 0) {
			r = -errno;
			goto fail;
		}
	}
	for (unsigned i = 0; i < s->npollers; i++) {
		r = -pthread_create(&s->pollers[i], NULL, stack_poller_main, &s->nic.q[i]);
		if (r < 0) {
			atomic_store(&s->stopping, true);
			for (unsigned j = 0; j < i; j++) {
				stack_kick(s, 0);
				pthread_join(s->pollers[j], NULL);
			}
			goto fail;
		}
	}
	/* each poller notes its thread id first thing: wait for them, so that
	 * queue-get never reports a poller of 0 */
	for (unsigned i = 0, tries = 0; i < s->npollers && tries < 10000; tries++)
		if (__atomic_load_n(&s->nic.q[i].poller_tid, __ATOMIC_ACQUIRE))
			i++;
		else
			usleep(100);
	DEVMEM_DBG("stack up on %s: %u queue(s), buf %u, mtu %u", link->name,
		   cfg->rx_queues, cfg->buf_size, cfg->mtu);
	return s;
fail:
	stack_free(s);
	*err = r;
	return NULL;
}

struct devmem_stack *stack_open_link(const struct devmem_config *cfg, struct link *link, int *err)
{
	struct devmem_config c;

	if (cfg)
		c = *cfg;
	else
		devmem_config_init(&c);
	if ((*err = config_check(&c)) < 0) {
		link->ops->destroy(link);
		return NULL;
	}
	return stack_start(&c, link, err);
}

struct devmem_stack *devmem_stack_open_tun(const struct devmem_config *cfg,
					   const struct devmem_tun_opts *tun)
{
	struct devmem_config c;
	struct link *link;
	int err = 0;

	if (!tun || !tun->ifname)
		return devmem_fail_ptr(-EINVAL);
	if (cfg)
		c = *cfg;
	else
		devmem_config_init(&c);
	if ((err = config_check(&c)) < 0)
		return devmem_fail_ptr(err);
	link = link_tun_open(tun, DEVMEM_MAX(c.rx_queues, c.max_queues), c.mtu, &err);
	if (!link)
		return devmem_fail_ptr(err ? err : -EIO);
	/* the kernel of this machine is the only writer: no corruption on the way */
	link->caps.rx_csum_trusted = true;
	struct devmem_stack *s = stack_start(&c, link, &err);
	return s ? s : devmem_fail_ptr(err);
}

int devmem_stack_open_pair(const struct devmem_config *cfg_a, const struct devmem_config *cfg_b,
			   const struct devmem_pair_faults *a_to_b,
			   const struct devmem_pair_faults *b_to_a,
			   struct devmem_stack **a, struct devmem_stack **b)
{
	struct devmem_config ca, cb;
	struct link *la, *lb;
	int err;

	if (!a || !b)
		return devmem_fail(-EINVAL);
	if (cfg_a)
		ca = *cfg_a;
	else
		devmem_config_init(&ca);
	if (cfg_b)
		cb = *cfg_b;
	else
		devmem_config_init(&cb);
	if ((err = config_check(&ca)) < 0 || (err = config_check(&cb)) < 0)
		return devmem_fail(err);
	unsigned qa = DEVMEM_MAX(ca.rx_queues, ca.max_queues);
	if (qa != DEVMEM_MAX(cb.rx_queues, cb.max_queues) || ca.mtu != cb.mtu)
		return devmem_fail(-EINVAL);
	err = link_pair_create(qa, ca.mtu, a_to_b, b_to_a, &la, &lb);
	if (err < 0)
		return devmem_fail(err);
	la->caps.rx_csum_trusted = false;
	lb->caps.rx_csum_trusted = false;
	*a = stack_start(&ca, la, &err);
	if (!*a) {
		lb->ops->destroy(lb);
		return devmem_fail(err);
	}
	*b = stack_start(&cb, lb, &err);
	if (!*b) {
		devmem_stack_close(*a);
		*a = NULL;
		return devmem_fail(err);
	}
	return 0;
}

void stack_kick(struct devmem_stack *s, uint64_t deadline)
{
	uint64_t one = 1;

	if (deadline && deadline >= s->sleep_until)
		return;
	s->sleep_until = deadline;
	for (unsigned i = 0; i < s->npollers; i++)
		if (write(s->wake_fds[i], &one, sizeof(one)) < 0 && errno != EAGAIN)
			DEVMEM_DBG("kick: %s", strerror(errno));
}

void devmem_binding_release_all(struct devmem_stack *s);

void devmem_stack_close(struct devmem_stack *s)
{
	if (!s)
		return;
	devmem_ctl_close(s); /* its connections' bindings go below */
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->stopping, true);
	stack_kick(s, 0);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->npollers; i++)
		pthread_join(s->pollers[i], NULL);
	pthread_mutex_lock(&s->lock);
	sock_stack_shutdown(s);
	pthread_mutex_unlock(&s->lock);
	devmem_binding_release_all(s);
	stack_free(s);
}

struct rxseg *stack_seg_alloc(struct devmem_stack *s)
{
	struct rxseg *g = s->seg_free;

	if (g) {
		s->seg_free = g->next;
		s->seg_free_count--;
	} else {
		g = malloc(sizeof(*g)); /* grows once to the working set, then reused */
		if (!g)
			return NULL;
	}
	g->next = NULL;
	g->pb.nfrags = 0;
	g->pb.len = 0;
	return g;
}

void stack_seg_free(struct devmem_stack *s, struct rxseg *g)
{
	pbuf_release(&g->pb);
	g->next = s->seg_free;
	s->seg_free = g;
	s->seg_free_count++;
}

int devmem_queue_stats(struct devmem_stack *s, unsigned queue, struct devmem_queue_stats *st)
{
	if (!s || !st)
		return devmem_fail(-EINVAL);
	if (queue >= s->nic.nqueues)
		return devmem_fail(-EINVAL);
	pthread_mutex_lock(&s->nic.q[queue].lock);
	pthread_mutex_lock(&s->lock);
	*st = s->nic.q[queue].st;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&s->nic.q[queue].lock);
	return 0;
}

int devmem_stack_stats(struct devmem_stack *s, struct devmem_stack_stats *st)
{
	if (!s || !st)
		return devmem_fail(-EINVAL);
	pthread_mutex_lock(&s->lock);
	struct tcp_stats t = s->tcp_gone;
	for (struct sock *sk = s->all; sk; sk = sk->anext)
		tcp_stats_add(&t, &sk->conn.st);
	*st = s->st;
	st->tcp_ooo = t.ooo_segs;
	st->tcp_dup = t.dup_segs;
	st->tcp_paws_drop = t.paws_drops;
	st->tcp_syn_drop = t.syn_drops;
	st->tcp_zero_window = t.zero_window_sent;
	st->tcp_retrans = t.retrans_segs;
	st->tcp_rto = t.rto_events;
	st->tcp_tlp = t.tlp_probes;
	st->tcp_challenge_ack = t.challenge_acks;
	st->tx_bytes = t.bytes_out;
	st->tx_dev_bytes = t.dev_bytes_out;
	st->tx_copied_bytes = t.copied_bytes;
	st->tx_zc_host_bytes = t.zc_host_bytes;
	st->tcp_retrans_bytes = t.retrans_bytes;
	st->tcp_retrans_dev_bytes = t.retrans_dev_bytes;
	st->zc_completions = t.zc_completions;
	pthread_mutex_unlock(&s->lock);
	return 0;
}
