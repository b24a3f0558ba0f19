/* SPDX-License-Identifier: MIT */
/*
 * sock: descriptors, token tables, readiness. A socket's descriptor is an
 * eventfd that is readable exactly when recv/accept would not block, so
 * poll(2) and epoll(7) work on it unchanged.
 */
#ifndef DEVMEM_SOCK_H
#define DEVMEM_SOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ctl/stack.h"
#include "tcp/tcp.h"

/* A frag handed to the application, until SO_DEVMEM_DONTNEED gives it back. */
struct token {
	struct pool *pool; /* NULL: slot free */
	uint32_t idx;
	uint32_t len;
};

/* Zero-copy completions waiting for recvmsg(MSG_ERRQUEUE): inclusive ranges. */
#define SOCK_ERRQ_MAX 64
struct zc_range {
	uint32_t lo, hi;
};
struct sock_errq {
	struct zc_range r[SOCK_ERRQ_MAX];
	unsigned head, n;
};

struct sock {
	struct devmem_stack *stack;
	int fd;                    /* eventfd the user holds; -1 before accept / after close */
	int domain;
	bool nonblock;
	bool user_closed;          /* devmem_close() was called: an orphan */
	bool dead;                 /* on the reap list */
	bool hashed;
	bool listening;
	bool bound;
	bool ready;                /* eventfd currently signalled */
	bool shut_rd;
	bool reuseaddr;
	bool zerocopy;             /* SO_ZEROCOPY */
	bool want_out;             /* a send found no space: signal when there is */
	uint8_t cc;                /* TCP_CONGESTION */
	bool linger;               /* SO_LINGER on */
	int linger_s;
	unsigned queue;            /* RX queue of the flow */
	uint32_t rcvbuf, sndbuf;
	uint16_t user_mss;         /* TCP_MAXSEG (0: none); used at connect/listen */
	struct tcp_ep ep;          /* local part valid once bound */
	struct tcp_conn conn;
	pthread_cond_t cond;       /* waits under the stack lock */
	unsigned waiters;          /* threads blocked on cond */

	/* listener: established children not yet accepted */
	struct sock *accq_head, *accq_tail;
	unsigned accq_len;
	struct sock *acc_next;

	/* devmem tokens: token t is tokens[t - 1] */
	struct token *tokens;
	uint32_t tokens_cap;
	uint64_t *tok_free;        /* bitmap: set = slot free */
	uint32_t tok_hint;         /* no free slot below this */
	uint32_t tokens_out;
	uint64_t held_bytes;       /* bytes still held by tokens (window) */

	struct sock_errq errq;

	struct sock *hnext;        /* hash chain */
	struct sock *lnext;        /* listener list */
	struct sock *anext, *aprev;/* all sockets */
	struct sock *rnext;        /* reap list */
};

/* descriptor table (process-wide) */
int fdtab_insert(int fd, struct sock *sk);
struct sock *fdtab_get(int fd);
void fdtab_remove(int fd);

extern const struct tcp_env sock_tcp_env;

struct sock *sock_alloc(struct devmem_stack *s, int domain);
void sock_hash(struct sock *sk);
/* Recompute readiness: signal or clear the eventfd, wake waiters. */
void sock_update_ready(struct sock *sk);
/* Release every token (close). */
void sock_tokens_release(struct sock *sk);
int sock_dontneed(struct sock *sk, const void *val, socklen_t len, uint64_t now);
ssize_t sock_recvmsg(struct sock *sk, struct msghdr *msg, int flags);
void sock_fill_cfg(struct sock *sk, struct tcp_cfg *cfg);
/* Block until the socket's state changes (stack lock held; see sock.c). */
void sock_wait(struct sock *sk);
/* Wake the timer poller if the connection now has an earlier deadline. */
void sock_kick_timers(struct sock *sk);
/* poll(2)-style events of the socket now (stack lock held). */
short sock_poll_events(struct sock *sk);

/* tx.c */
ssize_t sock_sendmsg(struct sock *sk, const struct msghdr *msg, int flags);
void sock_errq_push(struct sock *sk, uint32_t lo, uint32_t hi);
ssize_t sock_recv_errqueue(struct sock *sk, struct msghdr *msg);

#endif /* DEVMEM_SOCK_H */
