/* SPDX-License-Identifier: MIT */
/*
 * link: backends that move frames. A frame is a virtio-net header
 * (WIRE_VNET_LEN bytes, struct wire_vnet) followed by an IP packet, on every
 * link, so the NIC above sees one format. Links have queues; queue q of a
 * link is served by one poller at a time.
 *
 *   tun  - the real link: a multi-queue TUN interface with IFF_VNET_HDR and
 *          checksum/TSO offloads; the peer is the kernel of this machine.
 *   pair - an in-memory link joining two stacks; its "NIC" computes checksums
 *          on transmit and checks them on receive (the DMA step), and it
 *          injects seeded, deterministic faults.
 */
#ifndef DEVMEM_LINK_H
#define DEVMEM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "devmem/devmem.h"

struct link;

struct link_caps {
	unsigned queues;
	uint32_t mtu;        /* largest IP packet without GSO */
	uint32_t max_frame;  /* largest IP packet the link hands up (GSO: 65535+) */
	bool rx_gso;         /* frames may be GSO super-packets (vnet gso_type) */
	bool tx_gso;         /* we may send GSO frames */
	bool tx_csum;        /* we may leave checksums to the link (NEEDS_CSUM) */
	/* Frames without a checksum verdict are trusted: TUN's peer is this
	 * machine's kernel writing from memory; nothing on the way can corrupt
	 * them (set by the stack, not by the backend). */
	bool rx_csum_trusted;
};

struct link_stats {
	uint64_t rx_frames, tx_frames;
	uint64_t rx_bad_csum;       /* pair: dropped by the receive-side check */
	uint64_t dropped, duplicated, reordered, corrupted, delayed; /* pair faults */
	uint64_t tx_full;           /* pair: frame dropped, peer's ring full */
};

struct link_ops {
	/*
	 * Read one frame of queue q into iov (scatter). Returns the frame length,
	 * -EAGAIN when none is ready, -EMSGSIZE when it did not fit (frame
	 * consumed and lost), -EBADMSG when the link's own checksum check failed
	 * (frame consumed and dropped; counted in rx_bad_csum), other -errno.
	 * On success a frame whose checksum the link verified has
	 * WIRE_VNET_F_DATA_VALID set in its vnet header.
	 */
	ssize_t (*rx)(struct link *l, unsigned q, const struct iovec *iov, int iovcnt);
	/* fd that poll() reports readable when queue q may have frames. */
	int (*rx_fd)(struct link *l, unsigned q);
	/* Microseconds until a held-back frame of queue q becomes due (pair
	 * delay), or -1 when none is held. */
	int64_t (*rx_due_us)(struct link *l, unsigned q);
	/* Optional. Send ntx frames (one piece each), then read one frame as
	 * rx does, in as few system calls as the link can (TUN: one
	 * io_uring_enter). Returns what rx returns; send errors are logged. */
	ssize_t (*rx_tx)(struct link *l, unsigned q, const struct iovec *iov, int iovcnt,
			 const struct iovec *tx, int ntx);
	/* Send one frame (gather). Returns 0 or -errno (-EAGAIN: link full). */
	int (*tx)(struct link *l, unsigned q, const struct iovec *iov, int iovcnt);
	void (*stats)(struct link *l, struct link_stats *st);
	/* Optional. Only queues 0..n-1 receive from now on (ethtool -L): the
	 * peer stops delivering to the others (TUN detaches them). */
	int (*set_queues)(struct link *l, unsigned n);
	/* Optional. A descriptor of the link (TUN: queue 0's fd) for device-wide
	 * settings such as a steering program; -1 when none. */
	int (*dev_fd)(struct link *l);
	void (*destroy)(struct link *l);
};

struct link {
	const struct link_ops *ops;
	struct link_caps caps;
	char name[32];
	void *priv;
};

/*
 * Open (creating it in the current network namespace when absent) the TUN
 * interface opts->ifname with `queues` queues, IFF_VNET_HDR and
 * TUN_F_CSUM|TSO4|TSO6 offloads; bring it up with the given MTU and give the
 * kernel side the peer addresses of opts. Returns NULL and sets *err (-errno).
 */
struct link *link_tun_open(const struct devmem_tun_opts *opts, unsigned queues,
			   uint32_t mtu, int *err);

/* Two connected in-memory links with `queues` queues each (frames sent on
 * queue q arrive on the peer's queue q). Faults may be NULL. */
int link_pair_create(unsigned queues, uint32_t mtu,
		     const struct devmem_pair_faults *a_to_b,
		     const struct devmem_pair_faults *b_to_a,
		     struct link **a, struct link **b);

#endif /* DEVMEM_LINK_H */
