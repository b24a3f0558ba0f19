/* SPDX-License-Identifier: MIT */
/*
 * devmem tokens: each SCM_DEVMEM_DMABUF frag handed to the application holds
 * one reference on its buffer until SO_DEVMEM_DONTNEED gives the token back
 * (or the socket closes). Tokens are per socket and start at 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sock/sock.h"
#include "util/util.h"

static int tokens_grow(struct sock *sk)
{
	uint32_t cap = sk->tokens_cap ? sk->tokens_cap * 2 : 1024;
	struct token *t = realloc(sk->tokens, cap * sizeof(*t));
	uint64_t *f;

	if (!t)
		return -ENOMEM;
	sk->tokens = t;
	f = realloc(sk->tok_free, cap / 64 * sizeof(*f));
	if (!f)
		return -ENOMEM;
	sk->tok_free = f;
	memset(t + sk->tokens_cap, 0, (cap - sk->tokens_cap) * sizeof(*t));
	/* a set bit is a free slot */
	memset(f + sk->tokens_cap / 64, 0xff, (cap - sk->tokens_cap) / 64 * sizeof(*f));
	sk->tok_hint = DEVMEM_MIN(sk->tok_hint, sk->tokens_cap);
	sk->tokens_cap = cap;
	return 0;
}

/* Lowest free slot, as the kernel's xa_alloc() picks the lowest free id. */
static int64_t token_slot(struct sock *sk)
{
	for (;;) {
		for (uint32_t w = sk->tok_hint / 64; w < sk->tokens_cap / 64; w++) {
			if (sk->tok_free[w]) {
				uint32_t slot = w * 64 + (uint32_t)__builtin_ctzll(sk->tok_free[w]);
				sk->tok_free[w] &= sk->tok_free[w] - 1;
				sk->tok_hint = slot + 1;
				return slot;
			}
		}
		if (tokens_grow(sk) < 0)
			return -ENOMEM;
	}
}

/* Take a token for len bytes of buffer idx (a new reference). */
int64_t sock_token_get(struct sock *sk, struct pool *p, uint32_t idx, uint32_t len)
{
	int64_t slot = token_slot(sk);

	if (slot < 0)
		return slot;
	sk->tokens[slot] = (struct token){p, idx, len};
	pool_ref(p, idx);
	sk->tokens_out++;
	sk->held_bytes += len;
	return slot + 1;
}

/* Give a token back without the DONTNEED accounting (undo on error). */
static bool token_put(struct sock *sk, uint32_t token)
{
	struct token *t;

	if (token == 0 || token > sk->tokens_cap)
		return false;
	t = &sk->tokens[token - 1];
	if (!t->pool)
		return false;
	pool_put(t->pool, t->idx);
	sk->held_bytes -= t->len;
	sk->tokens_out--;
	t->pool = NULL;
	sk->tok_free[(token - 1) / 64] |= 1ull << ((token - 1) % 64);
	if (token - 1 < sk->tok_hint)
		sk->tok_hint = token - 1;
	return true;
}

void sock_token_undo(struct sock *sk, uint32_t token)
{
	token_put(sk, token);
}

/*
 * SO_DEVMEM_DONTNEED as net/core/sock.c does it: optlen a multiple of
 * struct dmabuf_token and at most 128 of them, else EINVAL; unknown tokens
 * are skipped; at most 1024 tokens are looked at per call; the result is
 * the number of frags freed.
 */
int sock_dontneed(struct sock *sk, const void *val, socklen_t len, uint64_t now)
{
	const struct dmabuf_token *tk = val;
	unsigned n = len / sizeof(*tk), seen = 0;
	int freed = 0;

	if (len % sizeof(*tk) || len > DEVMEM_DONTNEED_MAX_RANGES * sizeof(*tk))
		return -EINVAL;
	if (n && !val)
		return -EFAULT;
	for (unsigned i = 0; i < n; i++) {
		for (uint32_t j = 0; j < tk[i].token_count; j++) {
			if (++seen > DEVMEM_DONTNEED_MAX_FRAGS)
				goto out;
			if (token_put(sk, tk[i].token_start + j))
				freed++;
		}
	}
out:
	if (freed)
		tcp_rcv_space_changed(&sk->conn, now);
	return freed;
}

void sock_tokens_release(struct sock *sk)
{
	for (uint32_t i = 0; i < sk->tokens_cap && sk->tokens_out; i++)
		token_put(sk, i + 1);
}
