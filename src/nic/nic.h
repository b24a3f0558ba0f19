/* SPDX-License-Identifier: MIT */
/*
 * nic: the software NIC. RX queues with page pools, header split, the DMA
 * step, per-queue counters, and transmit.
 *
 * Receive works in two phases per burst, as a NIC and its driver do:
 *
 *  1. "hardware" (nic_rx_burst, queue lock only): read frames from the link,
 *     parse just enough to find the end of the TCP header, and place the
 *     payload into buffers the queue owns (posted buffers). With a host
 *     mapped pool this is direct placement: readv() puts the payload straight
 *     into the buffers. With a pool the stack may not map (sealed), the frame
 *     lands in a bounce slot and the provider's copy operation moves the
 *     payload. No pool state is shared with other threads here.
 *
 *  2. "driver" (nic_rx_commit, stack lock): take buffer references for the
 *     frags, release fully used buffers, refill the posted set from the pool.
 *
 * Direct placement with exact split: readv cannot know the header length in
 * advance, so the header iov is NIC_HDR_SPLIT bytes and the first payload iov
 * starts NIC_HEADROOM bytes into its buffer; the few payload bytes that fell
 * into the header iov are moved into that headroom (by the NIC, so the CPU
 * still never touches payload outside the DMA step).
 */
#ifndef DEVMEM_NIC_H
#define DEVMEM_NIC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devmem/devmem.h"
#include "link/link.h"
#include "mem/mem.h"
#include "wire/wire.h"

#define NIC_HDR_SPLIT 128 /* header iov: IPv6 + ext + TCP with options fit */
#define NIC_MIN_HDR 40    /* IPv4 + TCP without options */
#define NIC_HEADROOM (NIC_HDR_SPLIT - NIC_MIN_HDR) /* room for spilled payload */
#define NIC_BURST 16      /* frames per burst */
#define NIC_CUR_MIN 512   /* a partly used buffer below this much room is retired */

/* One received frame as the NIC hands it up: parsed headers in host memory,
 * payload (TCP only) as frags. */
struct rx_frame {
	struct wire_vnet vnet;
	uint8_t family;          /* AF_INET / AF_INET6, 0 when not IP */
	uint8_t proto;           /* L4 protocol */
	bool tcp;                /* th is valid; payload (if any) is in pb */
	bool split;              /* payload was separated from headers */
	bool csum_ok;            /* L4 checksum verified or trusted */
	struct wire_ipv4 ip4;
	struct wire_ipv6 ip6;
	struct wire_tcp th;
	uint8_t *pkt;            /* IP packet in host memory (headers; whole packet when linear) */
	uint32_t pkt_len;        /* bytes of the IP packet (whole, incl. payload not at pkt) */
	uint32_t l4_off;         /* offset of the L4 header from pkt */
	uint32_t pay_len;        /* TCP payload bytes */
	struct pbuf pb;          /* TCP payload refs, committed in phase 2 */
	/* private to the NIC between the phases */
	uint32_t nic_flags;
};

struct nic;

/*
 * Header-only frames (ACKs, mostly) that a poller's round emits under the
 * stack lock are held here. They leave after the round has let the lock go
 * (on TUN such a write also runs the peer's ACK processing and its next
 * transmissions, which then hold up no reader), and where the link can,
 * together with the next read in one system call (link_ops.rx_tx). Before
 * its thread sleeps, the queue pushes them out (nic_tx_push).
 */
#define NIC_TXB_MAX 32
#define NIC_TXB_FRAME (WIRE_VNET_LEN + 60 + 60)
struct nic_txbatch {
	unsigned n;
	uint16_t len[NIC_TXB_MAX];
	uint8_t frame[NIC_TXB_MAX][NIC_TXB_FRAME];
};

struct nic_rxq {
	struct nic *nic;
	unsigned idx;
	pthread_mutex_t lock;       /* held by the poller for a whole burst, and by
				       bind/unbind: it guards the posted buffers */
	struct pool *host_pool;     /* unbound payload and linear fallback */
	struct pool *bound;         /* the dmabuf pool while bound, else NULL */
	struct devmem_binding *binding;

	/* buffers the queue owns (one reference each) for the next frames */
	struct pool *post_pool;     /* the pool they belong to */
	uint32_t *posted;           /* ring of buffer indexes */
	uint32_t posted_cap, posted_head, posted_count;
	uint32_t posted_snap;       /* posted_count as of the last refill (stack lock) */
	bool have_cur;              /* a partly filled buffer continues */
	uint32_t cur_idx, cur_off;

	uint8_t *slots;             /* NIC_BURST frame slots (host memory) */
	uint32_t slot_size;
	const struct mem_provider *slots_pin; /* provider that page-locked the
						 slots for its copy engine, or NULL */
	bool dma_pending;           /* write_async copies queued this burst */
	struct rx_frame frames[NIC_BURST];
	/* buffers released in phase 1, put back in phase 2 */
	uint32_t *retired;
	uint32_t nretired, retired_cap;

	struct devmem_queue_stats st;
	/* a reader busy-polls this queue until then (us): the poller stands aside */
	_Atomic uint64_t busy_until;
	struct nic_txbatch txb;
	int poller_tid;             /* gettid() of the queue's poller thread */
};

struct nic {
	struct link *link;
	unsigned nqueues;           /* queues that exist (the link's) */
	unsigned active;            /* queues 0..active-1 receive (ethtool -L) */
	struct nic_rxq *q;
	uint32_t buf_size;
	bool header_split;
	uint32_t max_frame;         /* IP packet bytes */
	/* NIC-wide counters beyond the queues' (ethtool -S) */
	uint64_t rx_steered, rx_rss, rx_ntuple_drop, rx_misdirected;
	_Atomic uint64_t tx_packets, tx_bytes;
};

int nic_init(struct nic *nic, struct link *link, const struct devmem_config *cfg);
void nic_destroy(struct nic *nic);

/* Phase 1: read up to NIC_BURST frames of queue q (caller holds q->lock).
 * Returns the number of frames in q->frames. */
unsigned nic_rx_burst(struct nic_rxq *q);
/* Phase 2 for frame i (caller holds q->lock and the stack lock): take the
 * frags' buffer references; for a linear TCP frame, copy its payload into the
 * host pool. Returns false when the frame must be dropped (no buffers). */
bool nic_rx_commit(struct nic_rxq *q, struct rx_frame *f);
/* End of phase 2 (same locks): release retired buffers, refill posted. */
void nic_rx_refill(struct nic_rxq *q);

/* Bytes of payload the queue can still take (for the receive window). */
uint32_t nic_rx_space(const struct nic_rxq *q);
/* Switch the queue's payload pool (bind: a dmabuf pool; unbind: NULL).
 * Caller holds q->lock and the stack lock. */
void nic_rxq_set_pool(struct nic_rxq *q, struct pool *bound, struct devmem_binding *b);
/* Give back every buffer the queue holds (teardown). */
void nic_rxq_fini(struct nic_rxq *q);

/*
 * Transmit one IP packet: hdr (IP + L4 headers, in host memory) and payload
 * pieces. When csum_partial, the L4 checksum field holds the pseudo-header sum
 * and the link finishes it (NEEDS_CSUM from csum_start = l4_off); gso_size > 0
 * asks for segmentation of the payload into gso_size pieces.
 */
/* Most payload pieces of one frame (the TCP core's TCP_TXP_MAX). */
#define NIC_TX_PIECES 16
int nic_xmit(struct nic *nic, unsigned q, const uint8_t *hdr, uint32_t hdr_len,
	     uint32_t l4_off, uint16_t csum_offset, bool csum_partial, uint8_t gso_type,
	     uint16_t gso_size, const struct iovec *pay, int npay);

/* From now on (this thread), nic_xmit holds header-only frames of queue q in
 * q->txb; a frame with payload sends what is held first, keeping the order. */
void nic_tx_defer(struct nic_rxq *q);
/* Stop holding. What was held leaves now, or with the queue's next read
 * when the link has rx_tx (no stack lock needed; the queue lock held). */
void nic_tx_flush(struct nic_rxq *q);
/* Send whatever is still held, now: before the queue's thread sleeps or
 * lets go of the queue (queue lock held). */
void nic_tx_push(struct nic_rxq *q);

#endif /* DEVMEM_NIC_H */
