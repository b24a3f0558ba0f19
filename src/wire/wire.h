/* SPDX-License-Identifier: MIT */
/*
 * wire: pure codecs. Each protocol has a struct that holds the parsed header
 * in host byte order, a parse function that checks lengths and fills it, and
 * an emit function that writes it. Nothing above this layer touches raw
 * header bytes. No I/O, no allocation, no global state.
 *
 * parse functions return the header length in bytes (> 0) or a negative
 * WIRE_E* code; emit functions return the bytes written.
 */
#ifndef DEVMEM_WIRE_H
#define DEVMEM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wire_err {
	WIRE_ETRUNC = -1,   /* buffer shorter than the header says */
	WIRE_EVERSION = -2, /* wrong IP version */
	WIRE_EBADLEN = -3,  /* a length field that lies (too small / too big) */
	WIRE_ECSUM = -4,    /* header checksum wrong */
	WIRE_EBADOPT = -5,  /* malformed option */
	WIRE_EFRAG = -6,    /* fragment (not supported: dropped) */
	WIRE_EUNSUPP = -7,  /* header chain we do not walk (ESP, unknown) */
};

const char *wire_strerror(int err);

/* ---- checksums (RFC 1071) ---------------------------------------------- */

/* Add len bytes to a 32-bit one's-complement accumulator. Works for any
 * alignment and odd lengths; an odd-length chunk must be the last one. */
uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len);
/* Fold and complement: the value to store in a checksum field. */
uint16_t wire_csum_fold(uint32_t sum);
/* Pseudo-header sums (RFC 793 3.1, RFC 8200 8.1). Addresses in network order
 * as they appear on the wire; proto and len in host order. */
uint32_t wire_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
		      uint32_t len);
uint32_t wire_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
		      uint32_t len);

/* ---- virtio-net header (struct virtio_net_hdr, 10 bytes, little endian) - */

#define WIRE_VNET_LEN 10
#define WIRE_VNET_F_NEEDS_CSUM 1
#define WIRE_VNET_F_DATA_VALID 2
#define WIRE_VNET_GSO_NONE 0
#define WIRE_VNET_GSO_TCPV4 1
#define WIRE_VNET_GSO_TCPV6 4
#define WIRE_VNET_GSO_ECN 0x80

struct wire_vnet {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};
int wire_vnet_parse(const uint8_t *buf, size_t len, struct wire_vnet *out);
size_t wire_vnet_emit(const struct wire_vnet *v, uint8_t *buf);

/* ---- IPv4 (RFC 791) --------------------------------------------------- */

#define WIRE_IPV4_MIN 20
#define WIRE_PROTO_ICMP 1
#define WIRE_PROTO_TCP 6
#define WIRE_PROTO_UDP 17
#define WIRE_PROTO_ICMPV6 58

struct wire_ipv4 {
	uint8_t hdr_len;    /* bytes, 20..60 */
	uint8_t tos;
	uint16_t total_len; /* bytes, header included */
	uint16_t id;
	uint16_t frag;      /* flags (DF 0x4000, MF 0x2000) | offset in 8-byte units */
	uint8_t ttl;
	uint8_t proto;
	uint8_t src[4];     /* network order */
	uint8_t dst[4];
};
#define WIRE_IPV4_DF 0x4000
#define WIRE_IPV4_MF 0x2000
#define WIRE_IPV4_OFFMASK 0x1fff
/*
 * Parse and validate (version, IHL, total length within len, header
 * checksum). A frame may carry trailing padding beyond total_len: allowed.
 * Fragments parse fine; callers decide (frag != 0 && frag != DF).
 */
int wire_ipv4_parse(const uint8_t *buf, size_t len, struct wire_ipv4 *out);
/* Write a 20-byte header (no options) with its checksum. */
size_t wire_ipv4_emit(const struct wire_ipv4 *ip, uint8_t *buf);

/* ---- IPv6 (RFC 8200) --------------------------------------------------- */

#define WIRE_IPV6_LEN 40

struct wire_ipv6 {
	uint8_t tclass;
	uint32_t flow;       /* 20 bits */
	uint16_t payload_len;/* bytes after the fixed header (ext headers included) */
	uint8_t next;        /* next header of the fixed header */
	uint8_t hop_limit;
	uint8_t src[16];
	uint8_t dst[16];
	/* filled by parse after walking extension headers: */
	uint8_t proto;       /* upper-layer protocol */
	uint16_t hdr_len;    /* fixed header + extension headers, bytes */
};
/*
 * Parse the fixed header and skip extension headers (hop-by-hop 0, routing
 * 43, destination options 60, AH 51); fragment headers (44) give
 * WIRE_EFRAG; ESP and unknown chains that do not end in a known upper layer
 * stop with proto set to that next-header value. payload_len must fit len.
 * Returns hdr_len.
 */
int wire_ipv6_parse(const uint8_t *buf, size_t len, struct wire_ipv6 *out);
/* Write the 40-byte fixed header (next = proto, no extension headers). */
size_t wire_ipv6_emit(const struct wire_ipv6 *ip, uint8_t *buf);

/* ---- TCP (RFC 9293) and its options ------------------------------------ */

#define WIRE_TCP_MIN 20
#define WIRE_TCP_MAX 60

#define WIRE_TCP_FIN 0x01
#define WIRE_TCP_SYN 0x02
#define WIRE_TCP_RST 0x04
#define WIRE_TCP_PSH 0x08
#define WIRE_TCP_ACK 0x10
#define WIRE_TCP_URG 0x20
#define WIRE_TCP_ECE 0x40
#define WIRE_TCP_CWR 0x80

/* bits of wire_tcp_opts.present */
#define WIRE_OPT_MSS 0x01    /* kind 2, RFC 9293 */
#define WIRE_OPT_WSCALE 0x02 /* kind 3, RFC 7323 2 */
#define WIRE_OPT_SACKOK 0x04 /* kind 4, RFC 2018 */
#define WIRE_OPT_SACK 0x08   /* kind 5, RFC 2018 */
#define WIRE_OPT_TS 0x10     /* kind 8, RFC 7323 3 */

#define WIRE_TCP_MAX_SACK 4

struct wire_sack_block {
	uint32_t start; /* left edge */
	uint32_t end;   /* right edge, non-inclusive */
};

struct wire_tcp_opts {
	uint8_t present;
	uint8_t wscale;   /* shift; parse clamps > 14 to 14 (RFC 7323 2.3) */
	uint16_t mss;
	uint32_t tsval;
	uint32_t tsecr;
	uint8_t nsack;    /* 0..4 */
	struct wire_sack_block sack[WIRE_TCP_MAX_SACK];
};

struct wire_tcp {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t hdr_len;  /* bytes, 20..60 */
	uint8_t flags;    /* WIRE_TCP_* */
	uint16_t window;  /* raw field, unscaled */
	uint16_t csum;
	uint16_t urg;
	struct wire_tcp_opts opts;
};

/*
 * Parse the header and its options. Unknown options are skipped by their
 * length; an option whose length is < 2 or runs past the header, or a known
 * option with the wrong length, is WIRE_EBADOPT. Does not check the checksum.
 */
int wire_tcp_parse(const uint8_t *buf, size_t len, struct wire_tcp *out);
/* Bytes the options in opts take on the wire (multiple of 4), as emitted. */
size_t wire_tcp_opts_len(const struct wire_tcp_opts *opts);
/*
 * Write header and options (checksum field = t->csum, usually 0 to be
 * filled later). Options are laid out as Linux does: on a SYN
 * MSS, SACK-permitted+timestamps (or NOP,NOP,TS / NOP,NOP,SACKOK), NOP+wscale;
 * otherwise NOP,NOP,TS then NOP,NOP,SACK blocks. hdr_len in t is ignored
 * and computed. Returns the header length.
 */
size_t wire_tcp_emit(const struct wire_tcp *t, uint8_t *buf);

/* ---- ICMP (RFC 792) and ICMPv6 (RFC 4443) ------------------------------ */

#define WIRE_ICMP_ECHO_REPLY 0
#define WIRE_ICMP_DEST_UNREACH 3
#define WIRE_ICMP_FRAG_NEEDED 4   /* code of DEST_UNREACH (RFC 1191) */
#define WIRE_ICMPV6_PKT_TOO_BIG 2 /* RFC 4443 3.2 */
#define WIRE_ICMP_ECHO_REQUEST 8
#define WIRE_ICMPV6_ECHO_REQUEST 128
#define WIRE_ICMPV6_ECHO_REPLY 129

struct wire_icmp {
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	uint16_t id;   /* echo only */
	uint16_t seq;  /* echo only */
};
#define WIRE_ICMP_LEN 8
/* Parse the 8-byte header (no checksum check: see wire_csum_*). */
int wire_icmp_parse(const uint8_t *buf, size_t len, struct wire_icmp *out);
size_t wire_icmp_emit(const struct wire_icmp *icmp, uint8_t *buf);
/*
 * Checksum over a whole ICMP message, its checksum field included. sum is 0
 * for ICMPv4 (RFC 792) and wire_pseudo6(src, dst, WIRE_PROTO_ICMPV6, len)
 * for ICMPv6 (RFC 4443 2.3). Receive: 0 means intact. Send: emit with
 * csum 0, then store the result at offset 2.
 */
uint16_t wire_icmp_csum(uint32_t sum, const uint8_t *buf, size_t len);

/* ---- sequence arithmetic (RFC 9293 3.4) -------------------------------- */

static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

/* Big-endian loads and stores for the codecs. */
static inline uint16_t wire_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t wire_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wire_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#endif /* DEVMEM_WIRE_H */
