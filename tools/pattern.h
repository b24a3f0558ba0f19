/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by devmem-nc and the benchmark programs (header-only, so the
 * bench programs need nothing but libc): ncdevmem's validation pattern and
 * size arguments with K/M/G suffixes.
 *
 * The pattern is ncdevmem's (tools/testing/selftests/drivers/net/hw/
 * ncdevmem.c, validate_buffer): an unsigned char `seed` starts at 1 and steps
 * by one per byte; when it reaches N it wraps to 0. The expected byte is seed,
 * or '\n' where seed is 0. So N = 7 gives 01 02 03 04 05 06 0a repeated, the
 * stream of `yes $(echo -e \\x01\\x02\\x03\\x04\\x05\\x06)`. Because seed is an
 * unsigned char, an N above 255 never matches and the period is 256.
 */
#ifndef DEVMEM_TOOLS_PATTERN_H
#define DEVMEM_TOOLS_PATTERN_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Period of the pattern for N (the stream is periodic from its first byte,
 * because the start state 1 lies on the cycle). */
static inline unsigned pattern_period(unsigned long n)
{
	unsigned char seed = 1;
	unsigned p = 0;

	do {
		seed++;
		if (seed == n)
			seed = 0;
		p++;
	} while (seed != 1 && p < 1024);
	return p;
}

/* Fill buf[0, len) with the pattern for N starting at stream offset 0. */
static inline void pattern_fill(unsigned char *buf, size_t len, unsigned long n)
{
	unsigned char seed = 1;

	for (size_t i = 0; i < len; i++) {
		buf[i] = seed ? seed : '\n';
		seed++;
		if (seed == n)
			seed = 0;
	}
}

/*
 * Parse a byte count: decimal digits with an optional K, M, G or T suffix
 * (powers of 1024; a trailing "iB" or "B" is accepted). Returns 0 and sets
 * *out, or -1 for anything malformed or too large.
 */
static inline int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (shift && (end[0] == 'i' || end[0] == 'I') && (end[1] == 'B' || end[1] == 'b'))
		end += 2;
	else if (shift && (end[0] == 'B' || end[0] == 'b'))
		end++;
	if (*end)
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

#endif /* DEVMEM_TOOLS_PATTERN_H */
