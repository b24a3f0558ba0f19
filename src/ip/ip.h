/* SPDX-License-Identifier: MIT */
/* ip: IPv4 / IPv6 input and output, ICMP and ICMPv6 echo. */
#ifndef DEVMEM_IP_H
#define DEVMEM_IP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ctl/stack.h"

bool ip_is_local(const struct devmem_stack *s, const struct rx_frame *f);
/*
 * Send an L4 segment: hdr is the L4 header (l4_hlen bytes) whose checksum
 * field sits at csum_off; the IP header is built here. The checksum is left
 * to the link when it offers that, else computed over header and payload.
 * gso_size > 0 asks the link to segment the payload.
 */
int ip_send_l4(struct devmem_stack *s, unsigned queue, uint8_t family, const uint8_t *src,
	       const uint8_t *dst, uint8_t proto, uint8_t *hdr, uint32_t l4_hlen, uint16_t csum_off,
	       const struct iovec *pay, int npay, uint32_t paylen, uint16_t gso_size);
/* Echo requests get replies (RFC 792, RFC 4443 4.2); "fragmentation
 * needed" / "packet too big" shrink a connection's MSS; the rest is counted. */
void icmp_input(struct devmem_stack *s, struct nic_rxq *q, struct rx_frame *f, uint64_t now);

#endif
