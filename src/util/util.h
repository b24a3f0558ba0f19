/* SPDX-License-Identifier: MIT */
/* Small shared helpers: errno at the API boundary, time, logging. */
#ifndef DEVMEM_UTIL_H
#define DEVMEM_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

/*
 * Internal functions report errors as negative errno values. The public API
 * turns them into the libc convention here, and only here: set errno, return
 * -1 (or NULL through devmem_fail_ptr).
 */
static inline int devmem_fail(int neg_errno)
{
	errno = neg_errno < 0 ? -neg_errno : neg_errno;
	return -1;
}
static inline void *devmem_fail_ptr(int neg_errno)
{
	errno = neg_errno < 0 ? -neg_errno : neg_errno;
	return 0;
}
/* Pass through a non-negative result, or fail with it. */
static inline long devmem_ret(long r)
{
	return r < 0 ? devmem_fail((int)r) : r;
}

/*
 * The reason behind a configuration call's errno, as the kernel's netlink
 * extack message (per thread; devmem_last_error() returns it). Returns
 * neg_errno so a caller can write: return devmem_reason(-EINVAL, "...").
 */
int devmem_reason(int neg_errno, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Monotonic time in microseconds: the only clock the stack reads. */
static inline uint64_t devmem_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#define DEVMEM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DEVMEM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DEVMEM_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Logging to stderr, enabled per stack (config.verbose) or by DEVMEM_DEBUG=1. */
void devmem_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int devmem_log_enabled;
#define DEVMEM_DBG(...)                          \
	do {                                     \
		if (devmem_log_enabled)          \
			devmem_log(__VA_ARGS__); \
	} while (0)

#endif
