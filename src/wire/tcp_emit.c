/* SPDX-License-Identifier: MIT */
/*
 * TCP header and option writing. Options go out in the order Linux uses
 * (tcp_options_write), since middleboxes have learned that order:
 *
 *   MSS                          2,4,mss
 *   SACK-permitted + timestamps  4,2,8,10,tsval,tsecr
 *   or timestamps alone          1,1,8,10,tsval,tsecr
 *   or SACK-permitted alone      1,1,4,2
 *   window scale                 1,3,3,shift
 *   SACK blocks                  1,1,5,2+8n,blocks
 *
 * The layout follows from opts alone (not from the SYN flag), so that
 * wire_tcp_opts_len() and wire_tcp_emit() always agree: the caller puts
 * MSS, window scale and SACK-permitted only in SYNs (RFC 9293 3.7.1,
 * RFC 7323 2.2, RFC 2018 2) and SACK blocks only in other segments.
 */
#include "wire/wire.h"

#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WS 3
#define OPT_SACKOK 4
#define OPT_SACK 5
#define OPT_TS 8

#define OPTS_MAX (WIRE_TCP_MAX - WIRE_TCP_MIN) /* 40 bytes of options */

/* Bytes for everything but the SACK blocks; each part a multiple of 4. */
static size_t base_len(const struct wire_tcp_opts *o)
{
	size_t n = 0;

	if (o->present & WIRE_OPT_MSS)
		n += 4;
	if (o->present & WIRE_OPT_TS)
		n += 12;
	else if (o->present & WIRE_OPT_SACKOK)
		n += 4;
	if (o->present & WIRE_OPT_WSCALE)
		n += 4;
	return n;
}

/* SACK blocks that go out: as many as fit, the first ones kept. */
static unsigned sack_fit(const struct wire_tcp_opts *o)
{
	size_t room = OPTS_MAX - base_len(o);
	unsigned n = o->nsack;

	if (!(o->present & WIRE_OPT_SACK) || room < 4 + 8)
		return 0;
	if (n > WIRE_TCP_MAX_SACK)
		n = WIRE_TCP_MAX_SACK;
	if (n > (room - 4) / 8)
		n = (unsigned)((room - 4) / 8);
	return n;
}

size_t wire_tcp_opts_len(const struct wire_tcp_opts *opts)
{
	unsigned n = sack_fit(opts);

	return base_len(opts) + (n ? 4 + 8 * n : 0);
}

static uint8_t *put_ts(uint8_t *p, const struct wire_tcp_opts *o, bool sackok)
{
	p[0] = sackok ? OPT_SACKOK : OPT_NOP;
	p[1] = sackok ? 2 : OPT_NOP;
	p[2] = OPT_TS;
	p[3] = 10;
	wire_put32(p + 4, o->tsval);
	wire_put32(p + 8, o->tsecr);
	return p + 12;
}

static uint8_t *put_sack(uint8_t *p, const struct wire_tcp_opts *o, unsigned n)
{
	p[0] = OPT_NOP;
	p[1] = OPT_NOP;
	p[2] = OPT_SACK;
	p[3] = (uint8_t)(2 + 8 * n);
	p += 4;
	for (unsigned i = 0; i < n; i++, p += 8) {
		wire_put32(p, o->sack[i].start);
		wire_put32(p + 4, o->sack[i].end);
	}
	return p;
}

/* Write the options; returns the end. Lengths match wire_tcp_opts_len(). */
static uint8_t *put_opts(uint8_t *p, const struct wire_tcp_opts *o)
{
	unsigned n = sack_fit(o);

	if (o->present & WIRE_OPT_MSS) {
		p[0] = OPT_MSS;
		p[1] = 4;
		wire_put16(p + 2, o->mss);
		p += 4;
	}
	if (o->present & WIRE_OPT_TS) {
		p = put_ts(p, o, o->present & WIRE_OPT_SACKOK);
	} else if (o->present & WIRE_OPT_SACKOK) {
		p[0] = OPT_NOP;
		p[1] = OPT_NOP;
		p[2] = OPT_SACKOK;
		p[3] = 2;
		p += 4;
	}
	if (o->present & WIRE_OPT_WSCALE) {
		p[0] = OPT_NOP;
		p[1] = OPT_WS;
		p[2] = 3;
		p[3] = o->wscale;
		p += 4;
	}
	if (n)
		p = put_sack(p, o, n);
	return p;
}

size_t wire_tcp_emit(const struct wire_tcp *t, uint8_t *buf)
{
	size_t hlen = WIRE_TCP_MIN + wire_tcp_opts_len(&t->opts);

	wire_put16(buf, t->sport);
	wire_put16(buf + 2, t->dport);
	wire_put32(buf + 4, t->seq);
	wire_put32(buf + 8, t->ack);
	buf[12] = (uint8_t)(hlen / 4 << 4);
	buf[13] = t->flags;
	wire_put16(buf + 14, t->window);
	wire_put16(buf + 16, t->csum);
	wire_put16(buf + 18, t->urg);
	put_opts(buf + WIRE_TCP_MIN, &t->opts);
	return hlen;
}
