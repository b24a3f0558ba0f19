/* SPDX-License-Identifier: MIT */
/*
 * The stack object: one software NIC on one link, its pollers, sockets and
 * bindings. This header is the composition root shared by ctl/, ip/ and
 * sock/; the protocol core (tcp/) does not see it.
 *
 * Locking, in this order: a queue's lock (nic_rxq.lock: held by its poller
 * for a burst, and by bind/unbind), then the stack lock (protocol state:
 * sockets, connections, pools, tokens). Application calls take only the
 * stack lock, and never across a blocking wait (condition variables).
 */
#ifndef DEVMEM_STACK_H
#define DEVMEM_STACK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devmem/devmem.h"
#include "link/link.h"
#include "nic/nic.h"
#include "tcp/tcp.h"

struct sock;
struct steer;
struct tun_steer;

#define STACK_TX_BOUNCE (65536u + 4096u)

struct devmem_binding {
	struct devmem_stack *stack;
	uint32_t id;
	struct pool *pool;         /* RX */
	unsigned *queues;          /* RX */
	unsigned nqueues;
	bool tx;
	bool unbound;              /* TX: handle gone; freed when nothing is pending */
	struct dmabuf *dmabuf;     /* TX: a reference */
	uint64_t tx_bytes;         /* TX: payload sent from it */
	uint64_t tx_pending;       /* TX: bytes queued in sockets */
	struct devmem_binding *next;
};

/* TX binding with this id on s, or NULL (stack lock held). */
struct devmem_binding *binding_tx_lookup(struct devmem_stack *s, uint32_t id);
/* A live TX binding with this id exists on some stack of the process. */
bool binding_tx_elsewhere(uint32_t id);
/* Sockets let go of bytes of a TX binding (stack lock held). */
void binding_tx_release(struct devmem_binding *b, uint64_t bytes);

struct devmem_stack {
	pthread_mutex_t lock;
	struct devmem_config cfg;
	struct link *link;
	struct nic nic;

	/* pollers, one per RX queue */
	pthread_t *pollers;
	int *wake_fds;             /* eventfd per poller: new timer or stop */
	unsigned npollers;
	atomic_bool stopping;
	uint64_t sleep_until;      /* queue 0 poller's wake-up deadline (us) */

	/* sockets */
	struct sock **hash;        /* established/connecting flows by 4-tuple */
	unsigned hash_size;
	struct sock *listeners;
	struct sock *all;          /* every socket, including orphans */
	struct sock *reap;         /* closed and released: freed outside callbacks */
	uint16_t next_port;

	/* rxseg slab: no allocation per packet */
	struct rxseg *seg_free;
	unsigned seg_free_count;

	struct devmem_binding *bindings;
	/* TCP options and probes new connections go without, as Linux's
	 * sysctls tcp_timestamps, tcp_sack, tcp_window_scaling and
	 * tcp_early_retrans set to 0 (the packetdrill adapter follows them) */
	bool tcp_no_ts, tcp_no_sack, tcp_no_ws, tcp_no_tlp;
	/* RX pools whose binding is gone but whose buffers are still held
	 * (page-pool-get lists them, detached, until they free themselves) */
#define STACK_ZOMBIES 16
	struct pool *zombies[STACK_ZOMBIES];
	unsigned nzombies;
	/* receive steering (ctl/nicsteer.c): the decision, a scratch copy for
	 * changes, and the link's program applying it (TUN; NULL otherwise) */
	struct steer *steer, *steer_tmp;
	struct tun_steer *tsteer;
	uint8_t isn_key[16];
	uint16_t ip_id;
	uint8_t *tx_scratch;       /* ICMP replies */
	uint8_t *tx_bounce;        /* payload of a segment from device memory the
				      stack cannot address (the DMA step's copy) */
	const struct mem_provider *tx_bounce_pin; /* pinned for this provider's
				      copy engine (cuda), or NULL */
	struct devmem_stack_stats st;
	struct tcp_stats tcp_gone;  /* of connections already freed */
};

/* Open a stack on a link made by the caller (tests drive the other end of a
 * pair link by hand). Takes the link; NULL and *err on failure. */
struct devmem_stack *stack_open_link(const struct devmem_config *cfg, struct link *link, int *err);

/* ip/ */
void ip_input(struct devmem_stack *s, struct nic_rxq *q, struct rx_frame *f, uint64_t now);
/* Send a TCP segment on ep (laddr = our address); a payload longer than
 * seg_mss goes as one GSO frame cut at seg_mss. */
int ip_send_tcp(struct devmem_stack *s, unsigned queue, const struct tcp_ep *ep,
		const struct wire_tcp *th, const struct iovec *pay, int npay, uint32_t paylen,
		uint16_t seg_mss);

/* sock/ */
struct sock *sock_demux(struct devmem_stack *s, const struct tcp_ep *ep);
struct sock *sock_listener(struct devmem_stack *s, const struct tcp_ep *ep);
void sock_unhash(struct sock *sk);
void sock_free_orphans(struct devmem_stack *s);
uint64_t sock_run_timers(struct devmem_stack *s, uint64_t now);
void sock_stack_shutdown(struct devmem_stack *s);
struct rxseg *stack_seg_alloc(struct devmem_stack *s);
void stack_seg_free(struct devmem_stack *s, struct rxseg *seg);
/* A reader about to block does one round of its queue's work itself (busy
 * polling); false when another thread holds the queue. Call without the
 * stack lock. */
bool stack_busy_poll(struct devmem_stack *s, unsigned queue);
/* Process, in the caller's thread, every frame the link holds for queue
 * now (and wait for a round the poller is in to finish), then send what
 * that emitted: a frame handed to the link has had its effect when this
 * returns (the packetdrill adapter). Call without the stack lock. */
void stack_poll_now(struct devmem_stack *s, unsigned queue);
/* ctl/nicconf.c: every queue lock in index order, then the stack lock. */
void stack_lock_all(struct devmem_stack *s);
void stack_unlock_all(struct devmem_stack *s);
/* ctl/nicsteer.c: set up (default RSS over the queues; on TUN the kernel's
 * steering program) and tear down. */
int stack_steer_open(struct devmem_stack *s);
void stack_steer_close(struct devmem_stack *s);
/* ctl/nicsteer.c (all locks held): may the queue count become n? (RSS
 * entries and ntuple rules must not name a queue that goes away) */
int stack_steer_check_queues(struct devmem_stack *s, unsigned n);
/* The queue count changed: RSS re-spread (unless set by hand), the link's
 * steering program rewritten. */
void stack_steer_queues_changed(struct devmem_stack *s);
/* The queue steering picks for the flow ep (laddr = ours) receives on. */
unsigned stack_flow_queue(struct devmem_stack *s, const struct tcp_ep *ep);
/* Phase 2 of a frame on queue q: false when a drop rule takes it; counts
 * steered / RSS / misdirected frames (stack lock held). */
bool stack_steer_rx(struct devmem_stack *s, struct nic_rxq *q, const struct rx_frame *f);

/* A timer may now be due before the poller wakes: wake it. */
void stack_kick(struct devmem_stack *s, uint64_t deadline);

#endif /* DEVMEM_STACK_H */
