/* SPDX-License-Identifier: MIT */
/* The software NIC: queues, pools and transmit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nic/nic.h"
#include "util/util.h"

static int rxq_init(struct nic *nic, struct nic_rxq *q, unsigned idx, uint32_t host_bufs)
{
	uint32_t per_frame = nic->max_frame / nic->buf_size + 2;

	q->nic = nic;
	q->idx = idx;
	pthread_mutex_init(&q->lock, NULL);
	q->host_pool = pool_create_host(host_bufs, nic->buf_size);
	if (!q->host_pool)
		return -ENOMEM;
	q->post_pool = q->host_pool;
	/* enough posted buffers for a burst of the largest frames */
	q->posted_cap = NIC_BURST * per_frame + 2;
	if (q->posted_cap > host_bufs / 2)
		q->posted_cap = host_bufs / 2;
	q->posted = calloc(q->posted_cap, sizeof(*q->posted));
	/* every buffer the queue can hold at once may be retired in one burst */
	q->retired_cap = q->posted_cap + NIC_BURST * PBUF_MAX_FRAGS + 2;
	q->retired = calloc(q->retired_cap, sizeof(*q->retired));
	q->slot_size = (WIRE_VNET_LEN + nic->max_frame + 63u) & ~63u;
	q->slots = mmap(NULL, (size_t)q->slot_size * NIC_BURST, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!q->posted || !q->retired || q->slots == MAP_FAILED) {
		q->slots = NULL;
		return -ENOMEM;
	}
	nic_rx_refill(q);
	return 0;
}

int nic_init(struct nic *nic, struct link *link, const struct devmem_config *cfg)
{
	memset(nic, 0, sizeof(*nic));
	nic->link = link;
	nic->nqueues = DEVMEM_MAX(cfg->rx_queues, cfg->max_queues);
	nic->active = cfg->rx_queues;
	nic->buf_size = cfg->buf_size;
	nic->header_split = cfg->header_split != 0;
	nic->max_frame = link->caps.max_frame;
	if (nic->nqueues == 0 || nic->nqueues > link->caps.queues)
		return -EINVAL;
	nic->q = calloc(nic->nqueues, sizeof(*nic->q));
	if (!nic->q)
		return -ENOMEM;
	for (unsigned i = 0; i < nic->nqueues; i++) {
		int r = rxq_init(nic, &nic->q[i], i, cfg->host_pool_bufs);
		if (r < 0) {
			nic_destroy(nic);
			return r;
		}
	}
	return 0;
}

void nic_destroy(struct nic *nic)
{
	if (!nic->q)
		return;
	for (unsigned i = 0; i < nic->nqueues; i++) {
		struct nic_rxq *q = &nic->q[i];

		if (q->host_pool) {
			nic_rxq_fini(q);
			pool_release(q->host_pool);
		}
		free(q->posted);
		free(q->retired);
		if (q->slots && q->slots_pin)
			q->slots_pin->unpin(q->slots);
		if (q->slots)
			munmap(q->slots, (size_t)q->slot_size * NIC_BURST);
		pthread_mutex_destroy(&q->lock);
	}
	free(nic->q);
	nic->q = NULL;
}

/* The queue whose header-only frames this thread holds back, if any. */
static _Thread_local struct nic_rxq *tx_held;

static void txb_send(struct nic *nic, struct nic_rxq *q)
{
	struct nic_txbatch *b = &q->txb;

	for (unsigned i = 0; i < b->n; i++) {
		struct iovec iov = {b->frame[i], b->len[i]};
		int r = nic->link->ops->tx(nic->link, q->idx, &iov, 1);
		if (r < 0)
			DEVMEM_DBG("tx: %s", strerror(-r));
	}
	b->n = 0;
}

void nic_tx_defer(struct nic_rxq *q)
{
	tx_held = q;
}

void nic_tx_flush(struct nic_rxq *q)
{
	tx_held = NULL;
	if (!q->nic->link->ops->rx_tx)
		txb_send(q->nic, q);
}

void nic_tx_push(struct nic_rxq *q)
{
	txb_send(q->nic, q);
}

int nic_xmit(struct nic *nic, unsigned q, const uint8_t *hdr, uint32_t hdr_len,
	     uint32_t l4_off, uint16_t csum_offset, bool csum_partial, uint8_t gso_type,
	     uint16_t gso_size, const struct iovec *pay, int npay)
{
	struct iovec iov[2 + NIC_TX_PIECES];
	uint8_t vh[WIRE_VNET_LEN];
	struct wire_vnet v = {0};

	if (npay > NIC_TX_PIECES)
		return -EINVAL;
	if (csum_partial) {
		v.flags = WIRE_VNET_F_NEEDS_CSUM;
		v.csum_start = (uint16_t)l4_off;
		v.csum_offset = csum_offset;
	}
	if (gso_size) {
		v.gso_type = gso_type;
		v.gso_size = gso_size;
		v.hdr_len = (uint16_t)hdr_len;
	}
	if (tx_held && tx_held->idx == q) {
		struct nic_txbatch *b = &tx_held->txb;

		if (npay == 0 && WIRE_VNET_LEN + hdr_len <= NIC_TXB_FRAME) {
			if (b->n == NIC_TXB_MAX)
				txb_send(nic, tx_held);
			wire_vnet_emit(&v, b->frame[b->n]);
			memcpy(b->frame[b->n] + WIRE_VNET_LEN, hdr, hdr_len);
			b->len[b->n++] = (uint16_t)(WIRE_VNET_LEN + hdr_len);
			return 0;
		}
		txb_send(nic, tx_held); /* keep the order of frames */
	}
	wire_vnet_emit(&v, vh);
	iov[0].iov_base = vh;
	iov[0].iov_len = sizeof(vh);
	iov[1].iov_base = (void *)hdr;
	iov[1].iov_len = hdr_len;
	size_t bytes = hdr_len;
	for (int i = 0; i < npay; i++) {
		iov[2 + i] = pay[i];
		bytes += pay[i].iov_len;
	}
	atomic_fetch_add_explicit(&nic->tx_packets, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&nic->tx_bytes, bytes, memory_order_relaxed);
	return nic->link->ops->tx(nic->link, q, iov, 2 + npay);
}
