/* SPDX-License-Identifier: MIT */
/*
 * The packetdrill link: a one-queue link whose far end is packetdrill's
 * netdev (netdev_send / netdev_receive), not a wire. Packets are plain IP
 * packets on packetdrill's side and frames (virtio-net header + IP packet)
 * on the stack's, as on every link (link.h).
 *
 * Its "NIC" verifies the checksums of the packets packetdrill injects, as a
 * NIC's receive engine does (good ones are marked DATA_VALID, bad ones carry
 * no verdict and the stack drops them), and takes no offloads on transmit:
 * no GSO (packetdrill expects segments of at most one MSS) and no checksum
 * offload (packetdrill checks the checksums of what the stack sends).
 */
#ifndef DEVMEM_PD_LINK_H
#define DEVMEM_PD_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "link/link.h"

/* A link with MTU mtu; NULL and *err (-errno) on failure. The stack that
 * is opened on it owns it (link_ops.destroy). */
struct link *pd_link_open(uint32_t mtu, int *err);

/* Queue one IP packet for the stack, as if it came off the wire. 0, or
 * -EMSGSIZE (larger than a frame can be), -ENOMEM. */
int pd_link_inject(struct link *l, const void *pkt, size_t len);

/* Frames injected that the stack has not read yet. */
unsigned pd_link_rx_pending(struct link *l);

/* Take the oldest IP packet the stack sent: copies at most cap bytes into
 * buf and its send time (gettimeofday, us) into *time_us; waits up to
 * timeout_ms (-1: forever). Returns its length (cut to cap), or 0 when
 * none came in time. */
size_t pd_link_take(struct link *l, void *buf, size_t cap, long long *time_us, int timeout_ms);

#endif /* DEVMEM_PD_LINK_H */
