/* SPDX-License-Identifier: MIT */
/*
 * Internet checksum (RFC 1071). The 32-bit accumulator callers pass around
 * holds the sum of big-endian 16-bit words ("wire order" values, as
 * wire_get16 reads them), so sums from wire_pseudo4/6 and wire_csum_add
 * add freely, and wire_csum_fold gives the value to store with wire_put16.
 *
 * The bulk loop adds native 64-bit loads with end-around carry. That is the
 * same one's-complement sum as adding 16-bit words (2^64 - 1 is a multiple
 * of 2^16 - 1, RFC 1071 2(B)); on a little-endian host the folded result is
 * byte-swapped (RFC 1071 2(B), byte order independence) and swapped back.
 */
#include <string.h>

#include "wire/wire.h"

/* acc + v with the carry out of bit 63 added back in (end-around carry). */
static inline uint64_t add_carry64(uint64_t acc, uint64_t v)
{
	acc += v;
	return acc + (acc < v);
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v)); /* any alignment */
	return v;
}

/* Fold a 64-bit one's-complement sum to 16 bits, keeping every carry. */
static uint16_t fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

/* One's-complement sum of data as native-order 16-bit words. */
static uint16_t sum_native(const uint8_t *p, size_t len)
{
	uint64_t acc = 0, tail = 0;

	/* Unrolled by four: independent loads, one carry chain. */
	for (; len >= 32; p += 32, len -= 32) {
		acc = add_carry64(acc, load64(p));
		acc = add_carry64(acc, load64(p + 8));
		acc = add_carry64(acc, load64(p + 16));
		acc = add_carry64(acc, load64(p + 24));
	}
	for (; len >= 8; p += 8, len -= 8)
		acc = add_carry64(acc, load64(p));
	/*
	 * The last 0..7 bytes go into a zeroed word at the same byte offsets
	 * as a full load, so an odd final byte pairs with a zero pad byte as
	 * RFC 1071 4.1 asks.
	 */
	if (len) {
		memcpy(&tail, p, len);
		acc = add_carry64(acc, tail);
	}
	return fold64(acc);
}

uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len)
{
	uint16_t s = sum_native(data, len);
	uint64_t r;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = (uint16_t)(s << 8 | s >> 8);
#endif
	r = (uint64_t)sum + s;
	return (uint32_t)((r & 0xffffffffu) + (r >> 32));
}

uint16_t wire_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 9293 3.1: source, destination, zero, protocol, TCP length. */
uint32_t wire_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
		      uint32_t len)
{
	return (uint32_t)wire_get16(src) + wire_get16(src + 2) + wire_get16(dst) +
	       wire_get16(dst + 2) + proto + (len >> 16) + (len & 0xffffu);
}

/* RFC 8200 8.1: addresses, 32-bit upper-layer length, zero, next header. */
uint32_t wire_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
		      uint32_t len)
{
	uint32_t sum = proto + (len >> 16) + (len & 0xffffu);

	for (int i = 0; i < 16; i += 2)
		sum += (uint32_t)wire_get16(src + i) + wire_get16(dst + i);
	return sum;
}
