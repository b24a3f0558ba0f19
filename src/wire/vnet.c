/* SPDX-License-Identifier: MIT */
/*
 * struct virtio_net_hdr (virtio 1.x 5.1.6, legacy layout without
 * num_buffers): flags, gso_type, then four 16-bit fields. Legacy virtio uses
 * guest byte order, which for the x86 hosts we run on (and for virtio 1.x) is
 * little endian; the fields are read byte by byte so the host does not matter.
 */
#include "wire/wire.h"

static inline uint16_t get16le(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline void put16le(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

int wire_vnet_parse(const uint8_t *buf, size_t len, struct wire_vnet *out)
{
	if (len < WIRE_VNET_LEN)
		return WIRE_ETRUNC;
	out->flags = buf[0];
	out->gso_type = buf[1];
	out->hdr_len = get16le(buf + 2);
	out->gso_size = get16le(buf + 4);
	out->csum_start = get16le(buf + 6);
	out->csum_offset = get16le(buf + 8);
	return WIRE_VNET_LEN;
}

size_t wire_vnet_emit(const struct wire_vnet *v, uint8_t *buf)
{
	buf[0] = v->flags;
	buf[1] = v->gso_type;
	put16le(buf + 2, v->hdr_len);
	put16le(buf + 4, v->gso_size);
	put16le(buf + 6, v->csum_start);
	put16le(buf + 8, v->csum_offset);
	return WIRE_VNET_LEN;
}
