/* SPDX-License-Identifier: MIT */
/*
 * Receive steering of the stack's NIC: RSS and ntuple rules (nic/steer.c
 * decides), kept in step with the link, where the kernel's TUN applies the
 * same decision through its steering program (link/tun_steer.c), so each
 * queue receives exactly the flows steering gives it and their payload
 * lands in that queue's buffers. The NIC checks every frame once more in
 * phase 2: drop rules drop there (a steering program cannot drop), and a
 * frame on another queue than its flow's is counted as misdirected.
 *
 * A change is made on a copy, given to the link, and only then kept: a
 * refusal leaves the NIC as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl/stack.h"
#include "link/tun_steer.h"
#include "nic/steer.h"
#include "sock/sock.h"
#include "util/util.h"

int stack_steer_open(struct devmem_stack *s)
{
	s->steer = malloc(sizeof(*s->steer));
	s->steer_tmp = malloc(sizeof(*s->steer_tmp));
	if (!s->steer || !s->steer_tmp)
		return -ENOMEM;
	steer_init(s->steer, s->nic.active);
	int fd = s->link->ops->dev_fd ? s->link->ops->dev_fd(s->link) : -1;
	if (fd < 0)
		return 0; /* the pair link: the sender picks the queue */
	int err = 0;
	s->tsteer = tun_steer_attach(fd, s->nic.nqueues, &err);
	if (!s->tsteer) {
		/* the kernel's own flow hash picks queues then: steering
		 * decisions are checked per frame and misses counted */
		DEVMEM_DBG("tun steering unavailable: %s", strerror(-err));
		return s->nic.nqueues > 1 ? err : 0;
	}
	s->steer->max_rules = TUN_STEER_MAX_RULES;
	return tun_steer_update(s->tsteer, s->steer);
}

void stack_steer_close(struct devmem_stack *s)
{
	if (s->tsteer)
		tun_steer_free(s->tsteer);
	s->tsteer = NULL;
	free(s->steer);
	free(s->steer_tmp);
	s->steer = s->steer_tmp = NULL;
}

/* Keep the change made in s->steer_tmp: the link first. Locks held. */
static int commit(struct devmem_stack *s)
{
	if (s->tsteer) {
		int r = tun_steer_update(s->tsteer, s->steer_tmp);
		if (r < 0)
			return devmem_reason(r, r == -ENOSPC ? "the link's steering program holds "
						"at most %u rules" : "the link refused the steering "
						"program (%u rules)", TUN_STEER_MAX_RULES);
	}
	struct steer *t = s->steer;
	s->steer = s->steer_tmp;
	s->steer_tmp = t;
	return 0;
}

/* Begin a change: the copy to edit. Locks held. */
static struct steer *begin(struct devmem_stack *s)
{
	memcpy(s->steer_tmp, s->steer, sizeof(*s->steer));
	return s->steer_tmp;
}

static int finish(struct devmem_stack *s, int r, const char *msg)
{
	if (r < 0)
		devmem_reason(r, "%s", msg);
	else
		r = commit(s);
	stack_unlock_all(s);
	return r < 0 ? devmem_fail(r) : 0;
}

int devmem_rss_get(struct devmem_stack *s, struct devmem_rss *rss)
{
	if (!s || !rss)
		return devmem_fail(-EINVAL);
	stack_lock_all(s);
	steer_rss_get(s->steer, rss);
	stack_unlock_all(s);
	return 0;
}

int devmem_rss_set(struct devmem_stack *s, const struct devmem_rss *rss)
{
	char msg[STEER_MSG_LEN] = "";

	if (!s || !rss)
		return devmem_fail(-EINVAL);
	stack_lock_all(s);
	return finish(s, steer_rss_set(begin(s), rss, msg), msg);
}

int devmem_rss_equal(struct devmem_stack *s, unsigned n)
{
	char msg[STEER_MSG_LEN] = "";

	if (!s)
		return devmem_fail(-EINVAL);
	stack_lock_all(s);
	return finish(s, steer_equal(begin(s), n, msg), msg);
}

int devmem_rss_weights(struct devmem_stack *s, const unsigned *w, unsigned n)
{
	char msg[STEER_MSG_LEN] = "";

	if (!s || (n && !w))
		return devmem_fail(-EINVAL);
	stack_lock_all(s);
	return finish(s, steer_weights(begin(s), w, n, msg), msg);
}

int devmem_rss_queue(struct devmem_stack *s, int family, const void *src, const void *dst,
		     uint16_t sport, uint16_t dport, int has_ports)
{
	struct steer_key k;

	if (!s || !src || !dst || (family != AF_INET && family != AF_INET6))
		return devmem_fail(-EINVAL);
	steer_key_set(&k, family, has_ports ? WIRE_PROTO_TCP : 0, src, dst, sport, dport);
	if (!has_ports)
		k.has_ports = false;
	stack_lock_all(s);
	unsigned q = steer_rss_queue(s->steer, &k);
	stack_unlock_all(s);
	return (int)q;
}

int devmem_ntuple_add(struct devmem_stack *s, struct devmem_ntuple *rule)
{
	char msg[STEER_MSG_LEN] = "";

	if (!s || !rule)
		return devmem_fail(-EINVAL);
	stack_lock_all(s);
	return finish(s, steer_rule_add(begin(s), rule, msg), msg);
}

int devmem_ntuple_del(struct devmem_stack *s, uint32_t loc)
{
	char msg[STEER_MSG_LEN] = "";

	if (!s)
		return devmem_fail(-EINVAL);
	stack_lock_all(s);
	return finish(s, steer_rule_del(begin(s), loc, msg), msg);
}

int devmem_ntuple_list(struct devmem_stack *s, struct devmem_ntuple *out, unsigned max)
{
	if (!s || (max && !out))
		return devmem_fail(-EINVAL);
	stack_lock_all(s);
	int n = steer_rule_list(s->steer, out, max);
	stack_unlock_all(s);
	return n;
}

/* ---- the stack's side ------------------------------------------------------ */

int stack_steer_check_queues(struct devmem_stack *s, unsigned n)
{
	char msg[STEER_MSG_LEN] = "";
	int r = steer_check_queues(s->steer, n, msg);

	return r < 0 ? devmem_reason(r, "%s", msg) : 0;
}

void stack_steer_queues_changed(struct devmem_stack *s)
{
	char msg[STEER_MSG_LEN] = "";

	/* checked before, so this cannot be refused */
	if (steer_set_queues(begin(s), s->nic.active, msg) < 0 || commit(s) < 0)
		DEVMEM_DBG("steering after the queue change: %s", msg);
}

unsigned stack_flow_queue(struct devmem_stack *s, const struct tcp_ep *ep)
{
	struct steer_key k;

	/* the flow's frames as they arrive: from the peer to us */
	steer_key_set(&k, ep->family, WIRE_PROTO_TCP, ep->raddr, ep->laddr, ep->rport, ep->lport);
	int q = steer_decide(s->steer, &k, NULL);
	return q < 0 || (unsigned)q >= s->nic.active ? 0 : (unsigned)q;
}

bool stack_steer_rx(struct devmem_stack *s, struct nic_rxq *q, const struct rx_frame *f)
{
	const struct steer *st = s->steer;

	if (st->nrules == 0 && s->nic.active == 1) {
		s->nic.rx_rss++; /* one queue, no rules: nothing to decide */
		return true;
	}
	struct steer_key k;
	unsigned why = STEER_RSS;
	steer_key_parse(f->pkt, f->pkt_len, &k);
	int dq = steer_decide(st, &k, &why);
	if (dq < 0) {
		s->nic.rx_ntuple_drop++;
		return false;
	}
	if (why == STEER_NTUPLE)
		s->nic.rx_steered++;
	else
		s->nic.rx_rss++;
	if ((unsigned)dq != q->idx)
		s->nic.rx_misdirected++;
	return true;
}
