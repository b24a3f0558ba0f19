/* SPDX-License-Identifier: MIT */
/*
 * Process-wide table from descriptor to socket, so that the socket calls
 * take a plain int as the kernel's do. Lookups are lock-free (one atomic
 * load); inserts and removals take a mutex. A descriptor is removed before
 * its socket is released, and is only reused by the kernel after close(2).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "sock/sock.h"

#define FDTAB_MAX 65536

static _Atomic(struct sock *) fdtab[FDTAB_MAX];

int fdtab_insert(int fd, struct sock *sk)
{
	if (fd < 0 || fd >= FDTAB_MAX)
		return -EMFILE;
	atomic_store_explicit(&fdtab[fd], sk, memory_order_release);
	return 0;
}

struct sock *fdtab_get(int fd)
{
	if (fd < 0 || fd >= FDTAB_MAX)
		return NULL;
	/* pairs with the release in fdtab_insert: the socket is initialised */
	return atomic_load_explicit(&fdtab[fd], memory_order_acquire);
}

void fdtab_remove(int fd)
{
	if (fd >= 0 && fd < FDTAB_MAX)
		atomic_store_explicit(&fdtab[fd], NULL, memory_order_release);
}
