/* SPDX-License-Identifier: MIT */
/*
 * isn.c: initial sequence numbers per RFC 6528 3: ISN = M + F(localip,
 * localport, remoteip, remoteport, secretkey), M a 4 us timer, F a keyed
 * pseudorandom function: SipHash-2-4 (Aumasson, Bernstein 2012), written
 * here from its specification.
 */
#include <string.h>
#include <sys/socket.h>

#include "tcp/tcp_int.h"

static inline uint64_t rotl64(uint64_t x, unsigned b) { return (x << b) | (x >> (64 - b)); }

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define SIPROUND(v0, v1, v2, v3)                                    \
	do {                                                        \
		v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32); \
		v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;            \
		v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;            \
		v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32); \
	} while (0)

/* SipHash-2-4 of msg under a 128-bit key (exported for the unit test). */
uint64_t tcp_siphash24(const uint8_t key[16], const void *msg, size_t len)
{
	const uint8_t *m = msg;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = k1 ^ 0x7465646279746573ull;
	size_t full = len & ~(size_t)7;

	for (size_t i = 0; i < full; i += 8) {
		uint64_t w = load_le64(m + i);
		v3 ^= w;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= w;
	}
	/* Last block: remaining bytes, length mod 256 in the top byte. */
	uint64_t b = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)m[full + i] << (8 * i);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t tcp_isn(const struct tcp_ep *ep, const uint8_t key[16], uint64_t now)
{
	uint8_t buf[16 + 16 + 2 + 2 + 1];
	size_t alen = ep->family == AF_INET6 ? 16 : 4;
	size_t n = 0;
	memcpy(buf + n, ep->laddr, alen);
	n += alen;
	memcpy(buf + n, ep->raddr, alen);
	n += alen;
	buf[n++] = (uint8_t)(ep->lport >> 8);
	buf[n++] = (uint8_t)ep->lport;
	buf[n++] = (uint8_t)(ep->rport >> 8);
	buf[n++] = (uint8_t)ep->rport;
	buf[n++] = ep->family;
	uint32_t f = (uint32_t)tcp_siphash24(key, buf, n);
	/* RFC 6528 3: M is a timer that ticks every 4 microseconds. */
	return (uint32_t)(now / 4) + f;
}
