/* SPDX-License-Identifier: MIT */
/* Sockets inside a stack: allocation, demux tables, readiness, the TCP
 * environment (what the protocol core calls back into), timers, reaping. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ip/ip.h"
#include "sock/sock.h"
#include "util/util.h"

static uint32_t ep_hash(const struct tcp_ep *ep)
{
	/* FNV-1a over the tuple: cheap, and the table is ours alone */
	uint32_t h = 2166136261u;
	const uint8_t *p;
	unsigned alen = ep->family == AF_INET ? 4 : 16;

	for (p = ep->raddr; p < ep->raddr + alen; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ (ep->rport & 0xff)) * 16777619u;
	h = (h ^ (ep->rport >> 8)) * 16777619u;
	h = (h ^ (ep->lport & 0xff)) * 16777619u;
	h = (h ^ (ep->lport >> 8)) * 16777619u;
	return h;
}

static bool ep_equal(const struct tcp_ep *a, const struct tcp_ep *b)
{
	unsigned alen = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->lport == b->lport && a->rport == b->rport &&
	       memcmp(a->laddr, b->laddr, alen) == 0 && memcmp(a->raddr, b->raddr, alen) == 0;
}

struct sock *sock_demux(struct devmem_stack *s, const struct tcp_ep *ep)
{
	struct sock *sk = s->hash[ep_hash(ep) & (s->hash_size - 1)];

	while (sk && !ep_equal(&sk->conn.ep, ep))
		sk = sk->hnext;
	return sk;
}

struct sock *sock_listener(struct devmem_stack *s, const struct tcp_ep *ep)
{
	static const uint8_t any[16];
	unsigned alen = ep->family == AF_INET ? 4 : 16;

	for (struct sock *sk = s->listeners; sk; sk = sk->lnext)
		if (sk->ep.family == ep->family && sk->ep.lport == ep->lport &&
		    (memcmp(sk->ep.laddr, any, alen) == 0 || memcmp(sk->ep.laddr, ep->laddr, alen) == 0))
			return sk;
	return NULL;
}

void sock_hash(struct sock *sk)
{
	struct devmem_stack *s = sk->stack;
	struct sock **b = &s->hash[ep_hash(&sk->conn.ep) & (s->hash_size - 1)];

	sk->hnext = *b;
	*b = sk;
	sk->hashed = true;
}

void sock_unhash(struct sock *sk)
{
	struct devmem_stack *s = sk->stack;
	struct sock **pp;

	if (!sk->hashed)
		return;
	pp = &s->hash[ep_hash(&sk->conn.ep) & (s->hash_size - 1)];
	while (*pp && *pp != sk)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = sk->hnext;
	sk->hashed = false;
}

struct sock *sock_alloc(struct devmem_stack *s, int domain)
{
	struct sock *sk = calloc(1, sizeof(*sk));

	if (!sk)
		return NULL;
	sk->stack = s;
	sk->fd = -1;
	sk->domain = domain;
	sk->rcvbuf = s->cfg.rcvbuf;
	sk->sndbuf = 4u << 20;
	sk->ep.family = (uint8_t)domain;
	pthread_cond_init(&sk->cond, NULL);
	sk->anext = s->all;
	if (s->all)
		s->all->aprev = sk;
	s->all = sk;
	return sk;
}

static void sock_reap(struct sock *sk)
{
	struct devmem_stack *s = sk->stack;

	if (sk->dead)
		return;
	sk->dead = true;
	sock_unhash(sk);
	sk->rnext = s->reap;
	s->reap = sk;
}

static void sock_destroy(struct sock *sk)
{
	struct devmem_stack *s = sk->stack;

	sock_unhash(sk);
	if (sk->listening) {
		struct sock **pp = &s->listeners;
		while (*pp && *pp != sk)
			pp = &(*pp)->lnext;
		if (*pp)
			*pp = sk->lnext;
	}
	if (sk->aprev)
		sk->aprev->anext = sk->anext;
	else
		s->all = sk->anext;
	if (sk->anext)
		sk->anext->aprev = sk->aprev;
	sock_tokens_release(sk);
	if (sk->conn.env) {
		tcp_stats_add(&s->tcp_gone, &sk->conn.st);
		tcp_conn_destroy(&sk->conn);
	}
	if (sk->fd >= 0) {
		fdtab_remove(sk->fd);
		close(sk->fd);
	}
	free(sk->tokens);
	free(sk->tok_free);
	pthread_cond_destroy(&sk->cond);
	free(sk);
}

void sock_free_orphans(struct devmem_stack *s)
{
	struct sock **pp = &s->reap;

	while (*pp) {
		struct sock *sk = *pp;

		if (sk->waiters) {
			/* a thread still sleeps on it: free it on a later pass */
			pthread_cond_broadcast(&sk->cond);
			pp = &sk->rnext;
			continue;
		}
		*pp = sk->rnext;
		sock_destroy(sk);
	}
}

void sock_stack_shutdown(struct devmem_stack *s)
{
	sock_free_orphans(s);
	while (s->all) {
		struct sock *sk = s->all;
		sk->dead = true;
		sock_destroy(sk);
	}
}

static bool sock_readable(const struct sock *sk)
{
	const struct tcp_conn *c = &sk->conn;

	if (sk->listening)
		return sk->accq_len > 0;
	return c->rcvq_bytes > 0 || c->fin_rcvd || c->err || sk->shut_rd;
}

static bool sock_writable(const struct sock *sk)
{
	const struct tcp_conn *c = &sk->conn;

	if (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT)
		return false;
	/* as sk_stream_is_writeable: a third of the buffer free */
	return tcp_send_space(c) >= c->cfg.sndbuf / 3;
}

short sock_poll_events(struct sock *sk)
{
	const struct tcp_conn *c = &sk->conn;
	short ev = 0;

	/* tcp_poll() in net/ipv4/tcp.c, state by state */
	if (sk->listening)
		return sk->accq_len ? POLLIN | POLLRDNORM : 0;
	if (c->state == TCP_CLOSED || (sk->shut_rd && c->fin_queued))
		ev |= POLLHUP;
	if (sk->shut_rd || c->fin_rcvd)
		ev |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (c->state != TCP_SYN_SENT && c->state != TCP_SYN_RECV) {
		if (c->rcvq_bytes)
			ev |= POLLIN | POLLRDNORM;
		if (c->fin_queued || c->state == TCP_CLOSED || sock_writable(sk))
			ev |= POLLOUT | POLLWRNORM;
	}
	if (c->err || sk->errq.n)
		ev |= POLLERR;
	return ev;
}

void sock_update_ready(struct sock *sk)
{
	bool r = sock_readable(sk) || sk->errq.n ||
		 (sk->want_out && (sock_writable(sk) || sk->conn.err));

	pthread_cond_broadcast(&sk->cond);
	if (sk->fd < 0 || r == sk->ready)
		return;
	sk->ready = r;
	uint64_t v = 1;
	/* the eventfd mirrors readiness: counter 1 when ready, 0 when not */
	if (r) {
		if (write(sk->fd, &v, sizeof(v)) < 0)
			DEVMEM_DBG("ready: %s", strerror(errno));
	} else if (read(sk->fd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
		DEVMEM_DBG("ready: %s", strerror(errno));
	}
}

/*
 * Block until the socket's state changes (stack lock held). A socket with a
 * waiter is never freed under it: close() from another thread wakes the
 * waiter, and the reaper leaves the socket alone until the waiter is gone.
 */
void sock_wait(struct sock *sk)
{
	sk->waiters++;
	pthread_cond_wait(&sk->cond, &sk->stack->lock);
	sk->waiters--;
}

void sock_kick_timers(struct sock *sk)
{
	stack_kick(sk->stack, tcp_next_deadline(&sk->conn));
}

/* ---- the TCP environment ------------------------------------------------ */

static void env_emit(void *ctx, struct tcp_conn *c, const struct wire_tcp *th,
		     const struct tcp_txp *pay, int npay, uint32_t paylen)
{
	struct sock *sk = ctx;
	struct devmem_stack *s = sk->stack;
	struct iovec iov[TCP_TXP_MAX];
	uint32_t bounced = 0;

	/* The DMA step: the link gathers host-addressable pieces in place;
	 * device memory the stack cannot map goes through the provider's copy
	 * operation into the bounce buffer (a copy engine, not the CPU's
	 * loads and stores on the payload's home). */
	for (int i = 0; i < npay; i++) {
		const struct tcp_txp *p = &pay[i];
		if (p->ptr) {
			iov[i].iov_base = (void *)p->ptr;
		} else {
			if (bounced + p->len > STACK_TX_BOUNCE ||
			    p->mem->prov->read(p->mem, p->off, s->tx_bounce + bounced, p->len) < 0) {
				s->st.tx_dma_errors++;
				return; /* lost on the wire: TCP retransmits */
			}
			iov[i].iov_base = s->tx_bounce + bounced;
			bounced += p->len;
		}
		iov[i].iov_len = p->len;
		if (p->kind == TCP_TXP_DEV && p->owner)
			((struct devmem_binding *)p->owner)->tx_bytes += p->len;
	}
	ip_send_tcp(s, sk->queue, &c->ep, th, iov, npay, paylen, c->snd_mss);
}

static uint32_t env_rx_space(void *ctx, struct tcp_conn *c)
{
	struct sock *sk = ctx;
	struct nic_rxq *q = &sk->stack->nic.q[sk->queue];
	/* out-of-order bytes are inside the window already advertised */
	uint64_t used = (uint64_t)c->rcvq_bytes + sk->held_bytes;
	uint64_t sock_space = used >= sk->rcvbuf ? 0 : sk->rcvbuf - used;
	uint64_t q_space = nic_rx_space(q);

	return (uint32_t)DEVMEM_MIN(sock_space, q_space);
}

static void accq_remove(struct sock *l, struct sock *child)
{
	struct sock **pp = &l->accq_head, *prev = NULL;

	while (*pp && *pp != child) {
		prev = *pp;
		pp = &(*pp)->acc_next;
	}
	if (!*pp)
		return;
	*pp = child->acc_next;
	if (l->accq_tail == child)
		l->accq_tail = prev;
	l->accq_len--;
}

static void env_event(void *ctx, struct tcp_conn *c, unsigned ev)
{
	struct sock *sk = ctx;

	if ((ev & TCP_EV_ESTABLISHED) && c->parent && sk->fd < 0) {
		struct sock *l = c->parent->ctx;
		/* hand the child to accept() */
		sk->acc_next = NULL;
		if (l->accq_tail)
			l->accq_tail->acc_next = sk;
		else
			l->accq_head = sk;
		l->accq_tail = sk;
		l->accq_len++;
		sock_update_ready(l);
	}
	if (ev & TCP_EV_CLOSED) {
		sock_unhash(sk);
		if (sk->fd < 0 && c->parent && !sk->user_closed) {
			/* never accepted: nobody else will free it */
			accq_remove(c->parent->ctx, sk);
			sk->user_closed = true;
		}
		if (sk->user_closed) {
			sock_reap(sk);
			return;
		}
	}
	sock_update_ready(sk);
}

static struct tcp_conn *env_new_child(void *ctx, struct tcp_conn *l, const struct tcp_ep *ep)
{
	struct sock *ls = ctx;
	struct sock *sk = sock_alloc(ls->stack, ls->domain);
	struct tcp_cfg cfg;

	if (!sk)
		return NULL;
	sk->queue = ls->queue;
	sk->rcvbuf = ls->rcvbuf;
	sk->sndbuf = ls->sndbuf;
	sk->ep = *ep;
	sk->cc = ls->cc;
	sk->zerocopy = ls->zerocopy;
	sk->linger = ls->linger;
	sk->linger_s = ls->linger_s;
	sk->user_mss = ls->user_mss;
	sock_fill_cfg(sk, &cfg);
	/* options set on the listener are the child's (as inet_csk_clone) */
	cfg.nodelay = ls->conn.cfg.nodelay;
	cfg.cork = ls->conn.cfg.cork;
	tcp_conn_init(&sk->conn, ep, &cfg, &sock_tcp_env, sk);
	sk->conn.parent = l;
	sock_hash(sk);
	return &sk->conn;
}

static void env_zc_done(void *ctx, struct tcp_conn *c, uint32_t lo, uint32_t hi)
{
	struct sock *sk = ctx;

	(void)c;
	sock_errq_push(sk, lo, hi);
}

static void env_tx_release(void *ctx, void *owner, uint32_t bytes)
{
	(void)ctx;
	binding_tx_release(owner, bytes);
}

static void env_seg_free(void *ctx, struct rxseg *g)
{
	struct sock *sk = ctx;

	stack_seg_free(sk->stack, g);
}

const struct tcp_env sock_tcp_env = {
	.emit = env_emit,
	.rx_space = env_rx_space,
	.event = env_event,
	.new_child = env_new_child,
	.seg_free = env_seg_free,
	.zc_done = env_zc_done,
	.tx_release = env_tx_release,
};

void sock_fill_cfg(struct sock *sk, struct tcp_cfg *cfg)
{
	struct devmem_stack *s = sk->stack;
	uint32_t l3 = sk->domain == AF_INET ? WIRE_IPV4_MIN : WIRE_IPV6_LEN;

	tcp_cfg_default(cfg);
	/* options set before connect()/listen() live in sk->conn.cfg */
	cfg->nodelay = sk->conn.cfg.nodelay;
	cfg->cork = sk->conn.cfg.cork;
	cfg->cc = sk->cc;
	cfg->rcvbuf = sk->rcvbuf;
	cfg->sndbuf = sk->sndbuf;
	cfg->mss = (uint16_t)(s->cfg.mtu - l3 - WIRE_TCP_MIN);
	if (sk->user_mss && sk->user_mss < cfg->mss)
		cfg->mss = sk->user_mss; /* TCP_MAXSEG clamps what we offer and send */
	cfg->tx_mss_max = s->link->caps.tx_gso ? (uint16_t)(65535 - l3 - WIRE_TCP_MAX) : cfg->mss;
	memcpy(cfg->isn_key, s->isn_key, sizeof(cfg->isn_key));
	cfg->ts_offset = tcp_isn(&sk->ep, s->isn_key, 0) * 2654435761u;
	cfg->no_ts = s->tcp_no_ts;
	cfg->no_sack = s->tcp_no_sack;
	cfg->no_ws = s->tcp_no_ws;
	cfg->no_tlp = s->tcp_no_tlp;
}

uint64_t sock_run_timers(struct devmem_stack *s, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (struct sock *sk = s->all; sk; sk = sk->anext) {
		uint64_t d;

		if (sk->dead || sk->listening)
			continue;
		d = tcp_next_deadline(&sk->conn);
		if (d <= now)
			d = tcp_timers(&sk->conn, now);
		if (!sk->dead && d < next)
			next = d;
	}
	return next;
}
