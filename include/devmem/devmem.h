/* SPDX-License-Identifier: MIT */
/*
 * devmem: a userspace TCP/IP stack whose NIC places TCP payload straight into
 * device memory (a dmabuf) while the host CPU handles only headers.
 *
 * Conventions (as in libc): functions that return int or ssize_t return -1 and
 * set errno on failure; functions that return a pointer return NULL and set
 * errno. Socket descriptors are real file descriptors (one per socket) that
 * poll(2) and epoll(7) report readable when recv would not block; they must be
 * closed with devmem_close(), never close(2).
 *
 * Values and structs shared with Linux's device-memory TCP are in
 * <devmem/uapi.h> and match the kernel's byte for byte.
 */
#ifndef DEVMEM_DEVMEM_H
#define DEVMEM_DEVMEM_H

#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <devmem/uapi.h>

#ifdef __cplusplus
extern "C" {
#endif

struct devmem_stack;
struct devmem_binding;

/* ---- memory providers and dmabufs ------------------------------------- */

enum devmem_mem {
	DEVMEM_MEM_HOST = 0,   /* memfd, mapped by the stack: direct placement */
	DEVMEM_MEM_SEALED = 1, /* memfd the stack never maps: copy-op DMA */
	DEVMEM_MEM_CUDA = 2,   /* GPU memory (CUDA, loaded at run time): copy-engine
				  DMA; ENODEV where no GPU answers (<devmem/cuda.h>) */
};

#define DEVMEM_DMABUF_HUGEPAGES 0x1u /* host: back with huge pages */

/* Allocate a dmabuf of size bytes from a provider; returns its fd. */
int devmem_dmabuf_alloc(enum devmem_mem mem, size_t size, unsigned flags);
/* Release the caller's reference; bindings keep their own until unbound. */
int devmem_dmabuf_free(int dmabuf_fd);
/* Bytes in the dmabuf, or -1 (EBADF: not a dmabuf of ours). */
ssize_t devmem_dmabuf_size(int dmabuf_fd);
/* Provider of the dmabuf, or -1. */
int devmem_dmabuf_mem(int dmabuf_fd);
/* The application's (not the stack's) view of the memory: copy len bytes at
 * off into dst. For host memory an application may mmap the fd instead. */
ssize_t devmem_dmabuf_read(int dmabuf_fd, uint64_t off, void *dst, size_t len);
/* The application's writes into the memory (what a TX binding sends):
 * len bytes from src to off. EFAULT when the range runs past the end. */
ssize_t devmem_dmabuf_write(int dmabuf_fd, uint64_t off, const void *src, size_t len);
/*
 * Take over a memfd another process made (passed with SCM_RIGHTS, as a
 * dmabuf fd travels to bind-rx over netlink): the size is the file's, it is
 * sealed against resizing. On success the registry owns fd and returns it
 * (devmem_dmabuf_free closes it); on failure fd stays the caller's.
 * EBADF: not open; EINVAL: not a regular file, size 0 or over 1 TiB,
 * unknown mem, cannot be sealed; EACCES: not O_RDWR; EEXIST: already a dmabuf.
 */
int devmem_dmabuf_import(int fd, enum devmem_mem mem);
/* Parse "host" / "sealed"; -1 when unknown. */
int devmem_mem_parse(const char *name);
const char *devmem_mem_name(enum devmem_mem mem);

/* ---- stacks ------------------------------------------------------------ */

struct devmem_config {
	unsigned rx_queues;      /* RX queues of the software NIC (1) */
	uint32_t buf_size;       /* payload buffer size, power of two >= 4096 (4096) */
	uint32_t host_pool_bufs; /* host page-pool buffers per queue (8192) */
	int header_split;        /* header split enabled (1) */
	uint32_t mtu;            /* link MTU (1500) */
	uint32_t rcvbuf;         /* default SO_RCVBUF of new sockets (4 MiB) */
	uint32_t syn_backlog;    /* SYN_RECV connections per listener (256) */
	struct in_addr ipv4;     /* stack's IPv4 address (0: none) */
	struct in6_addr ipv6;    /* stack's IPv6 address (::: none) */
	int verbose;             /* log to stderr (0) */
	unsigned max_queues;     /* queues the link is opened with; devmem_set_queues
				    may change the count up to this (0: rx_queues) */
};

/* Fill cfg with the defaults listed above. */
void devmem_config_init(struct devmem_config *cfg);

struct devmem_tun_opts {
	const char *ifname;       /* TUN interface; created when it does not exist */
	struct in_addr peer_ipv4; /* kernel side of the link (0: leave as is) */
	struct in6_addr peer_ipv6;
	unsigned prefix4;         /* (24) */
	unsigned prefix6;         /* (64) */
};

/* Fault injection on one direction of a pair link; deterministic per seed.
 * Probabilities are per frame, in [0, 1]. */
struct devmem_pair_faults {
	uint64_t seed;
	double drop;
	double duplicate;
	double reorder;   /* hold a frame back behind the next one(s) */
	double corrupt;   /* flip one byte after the checksum was computed */
	uint32_t delay_us;/* fixed one-way delay */
};

struct devmem_stack *devmem_stack_open_tun(const struct devmem_config *cfg,
					   const struct devmem_tun_opts *tun);
/* Two stacks joined by an in-memory link; faults a->b and b->a may be NULL. */
int devmem_stack_open_pair(const struct devmem_config *cfg_a,
			   const struct devmem_config *cfg_b,
			   const struct devmem_pair_faults *a_to_b,
			   const struct devmem_pair_faults *b_to_a,
			   struct devmem_stack **a, struct devmem_stack **b);
/* Close every socket and binding of the stack, stop its pollers, free it.
 * No other thread may be inside a call on one of its sockets. */
void devmem_stack_close(struct devmem_stack *stack);

/* ---- bindings (netlink bind-rx) ---------------------------------------- */

/* Bind a dmabuf to RX queues. EINVAL: queue out of range or header split off;
 * EEXIST: a queue is already bound; EBADF: not a dmabuf. */
struct devmem_binding *devmem_bind_rx(struct devmem_stack *stack, int dmabuf_fd,
				      const unsigned *queues, unsigned nqueues);
uint32_t devmem_binding_id(const struct devmem_binding *binding);
/*
 * Bind a dmabuf for transmit (netlink bind-tx). Its id goes in the
 * SOL_SOCKET/SCM_DEVMEM_DMABUF cmsg (one __u32) of a sendmsg(MSG_ZEROCOPY) on
 * a socket with SO_ZEROCOPY; each iov_base is then an offset into the dmabuf
 * and iov_len a length. The range may be reused only once its completion was
 * read from the error queue: reusing it earlier is the application's bug (the
 * peer may receive the new bytes), never a crash. devmem_unbind() releases
 * it; sends still queued keep the memory alive until they complete.
 * EBADF: not a dmabuf. A send naming another stack's TX binding is ENODEV.
 */
struct devmem_binding *devmem_bind_tx(struct devmem_stack *stack, int dmabuf_fd);
/* Unbind: the queues go back to host memory; the dmabuf's buffers are let go
 * once every in-flight packet and token has released them. A binding not
 * unbound is released by devmem_stack_close(); its handle is dead after that. */
int devmem_unbind(struct devmem_binding *binding);

/* ---- introspection ----------------------------------------------------- */

struct devmem_queue_stats {
	uint64_t packets;     /* frames received */
	uint64_t bytes;       /* payload bytes placed */
	uint64_t split;       /* frames whose payload was split into buffers */
	uint64_t linear;      /* frames that landed whole in host memory */
	uint64_t drop_nobuf;  /* frames dropped: no free buffer */
	uint64_t bad;         /* malformed frames dropped */
	uint32_t binding_id;  /* 0: unbound */
	uint32_t pool_bufs;   /* buffers in the queue's active pool */
	uint32_t pool_free;   /* of which free */
};
int devmem_queue_stats(struct devmem_stack *stack, unsigned queue,
		       struct devmem_queue_stats *st);

struct devmem_binding_stats {
	uint32_t bufs;        /* RX: buffers carved from the dmabuf */
	uint32_t bufs_free;   /* RX: back in the pool */
	uint32_t buf_size;
	uint32_t is_tx;       /* a TX binding */
	uint64_t tx_bytes;    /* TX: payload bytes sent from it (retransmissions too) */
	uint64_t tx_pending;  /* TX: bytes queued in sockets, not yet acknowledged */
};
int devmem_binding_stats(const struct devmem_binding *b,
			 struct devmem_binding_stats *st);

struct devmem_stack_stats {
	uint64_t ip_in, ip_bad, ip_unhandled;
	uint64_t icmp_echo, icmp_pmtu, tcp_in, tcp_bad, tcp_rst_sent, tcp_no_socket;
	/* summed over every connection the stack has had */
	uint64_t tcp_ooo, tcp_dup, tcp_paws_drop, tcp_syn_drop;
	uint64_t tcp_zero_window;   /* segments advertising a zero window */
	uint64_t tcp_retrans;       /* segments retransmitted */
	uint64_t tcp_rto;           /* retransmission timeouts */
	uint64_t tcp_tlp;           /* tail loss probes (RFC 8985) */
	uint64_t tcp_challenge_ack; /* RFC 5961 challenge ACKs */
	/* transmit payload, summed over connections */
	uint64_t tx_bytes;          /* payload bytes sent (retransmissions too) */
	uint64_t tx_dev_bytes;      /* of which gathered from device memory */
	uint64_t tx_copied_bytes;   /* bytes send() copied from the caller into a send buffer */
	uint64_t tx_zc_host_bytes;  /* MSG_ZEROCOPY bytes sent from caller memory */
	uint64_t tcp_retrans_bytes; /* payload bytes retransmitted */
	uint64_t tcp_retrans_dev_bytes; /* of which from device memory */
	uint64_t zc_completions;    /* zero-copy send calls completed */
	uint64_t tx_dma_errors;     /* segments lost: device memory unreadable */
};
int devmem_stack_stats(struct devmem_stack *stack, struct devmem_stack_stats *st);

/* ---- NIC configuration (ethtool, netlink netdev) ----------------------- */

/*
 * Configuration calls fail as the kernel's would, with its errno; the reason
 * the kernel gives in its extack message is then in devmem_last_error()
 * (per thread, valid until the next failing call of this thread).
 */
const char *devmem_last_error(void);

/* RSS (ethtool -x / -X): Toeplitz over the addresses and TCP/UDP ports,
 * key of 40 bytes, an indirection table of indir_size entries (hash's low
 * bits pick the entry, the entry is the queue). */
#define DEVMEM_RSS_KEY_LEN 40
#define DEVMEM_RSS_INDIR_MAX 128
struct devmem_rss {
	uint8_t key[DEVMEM_RSS_KEY_LEN];
	uint32_t indir_size;              /* a power of two <= DEVMEM_RSS_INDIR_MAX (128) */
	uint32_t indir[DEVMEM_RSS_INDIR_MAX];
};
int devmem_rss_get(struct devmem_stack *stack, struct devmem_rss *rss);
/* EINVAL: an entry names a queue that does not exist, bad size. An
 * indir_size of 0 keeps the key and resets the table to the default spread
 * (ethtool -X default). */
int devmem_rss_set(struct devmem_stack *stack, const struct devmem_rss *rss);
/* ethtool -X equal N: entries spread round-robin over queues 0..n-1. */
int devmem_rss_equal(struct devmem_stack *stack, unsigned n);
/* ethtool -X weight W0 W1 ...: queue q gets entries in proportion to w[q]. */
int devmem_rss_weights(struct devmem_stack *stack, const unsigned *w, unsigned n);
/* The queue RSS alone would pick for a flow (addresses in network order,
 * ports host order; has_ports 0 hashes the addresses only). */
int devmem_rss_queue(struct devmem_stack *stack, int family, const void *src, const void *dst,
		     uint16_t sport, uint16_t dport, int has_ports);

/* ntuple flow steering (ethtool -N / -n). */
enum devmem_flow_type {
	DEVMEM_FLOW_TCP4 = 1,
	DEVMEM_FLOW_UDP4 = 2,
	DEVMEM_FLOW_TCP6 = 3,
	DEVMEM_FLOW_UDP6 = 4,
};
#define DEVMEM_NTUPLE_SRC_IP 0x1u
#define DEVMEM_NTUPLE_DST_IP 0x2u
#define DEVMEM_NTUPLE_SRC_PORT 0x4u
#define DEVMEM_NTUPLE_DST_PORT 0x8u
#define DEVMEM_NTUPLE_DROP (-1)        /* action: drop the frame */
#define DEVMEM_NTUPLE_LOC_ANY UINT32_MAX /* location: the lowest free one */
#define DEVMEM_NTUPLE_MAX 1024         /* locations 0..1023 */
struct devmem_ntuple {
	uint32_t loc;                 /* lower locations win */
	int flow_type;                /* enum devmem_flow_type */
	unsigned fields;              /* DEVMEM_NTUPLE_* fields that must match */
	uint8_t src[16], dst[16];     /* network order; IPv4 in the first 4 bytes */
	uint16_t sport, dport;        /* host order */
	int action;                   /* queue, or DEVMEM_NTUPLE_DROP */
};
/* Insert; with loc DEVMEM_NTUPLE_LOC_ANY the location chosen is stored back.
 * EINVAL: queue out of range, bad flow type or fields, location out of
 * range; EEXIST: location taken; ENOSPC: no free location. */
int devmem_ntuple_add(struct devmem_stack *stack, struct devmem_ntuple *rule);
/* ENOENT: no rule at loc. */
int devmem_ntuple_del(struct devmem_stack *stack, uint32_t loc);
/* Rules by location; returns how many exist (may exceed max). */
int devmem_ntuple_list(struct devmem_stack *stack, struct devmem_ntuple *out, unsigned max);

/* ethtool -G tcp-data-split on|off. Turning it off while a queue is bound:
 * EINVAL (as the kernel, which names the memory provider in its extack). */
int devmem_header_split_set(struct devmem_stack *stack, int on);
int devmem_header_split_get(struct devmem_stack *stack);
/* ethtool -L rx N: queues 0..n-1 receive. EINVAL: 0, more than
 * max_queues, or fewer than a bound queue needs. */
int devmem_set_queues(struct devmem_stack *stack, unsigned n);
unsigned devmem_queue_count(struct devmem_stack *stack);

/* netlink queue-get */
struct devmem_queue_info {
	unsigned id;
	int active;                   /* below the queue count */
	uint32_t binding_id;          /* 0: none */
	int poller_tid;               /* the poller thread's id (gettid) */
	struct devmem_queue_stats st;
};
int devmem_queue_info(struct devmem_stack *stack, unsigned queue, struct devmem_queue_info *qi);

/* netlink page-pool-get: one pool per queue (its host pool), one per RX
 * binding, and pools of bindings already gone whose buffers are still held. */
struct devmem_pool_info {
	uint32_t id;
	unsigned queue;               /* the queue it feeds (a binding's first queue) */
	uint32_t binding_id;          /* 0: host memory */
	uint32_t size;                /* buffers */
	uint32_t in_use;              /* not free (posted to the NIC, in packets, held) */
	uint32_t held;                /* held by devmem tokens: in flight to the application */
	uint32_t buf_size;
	int detached;                 /* its binding is gone; it lives until every
					 buffer is back (netlink's detach-time) */
};
/* Pools 0..n-1; returns n (may exceed max). */
int devmem_pool_list(struct devmem_stack *stack, struct devmem_pool_info *out, unsigned max);

/* A binding as bind-rx / bind-tx left it. */
struct devmem_binding_info {
	uint32_t id;
	int tx;
	int mem;                      /* enum devmem_mem of its dmabuf */
	uint64_t size;                /* dmabuf bytes */
	unsigned nqueues;
	unsigned queues[64];
	uint64_t tokens_outstanding;  /* RX: frags the application holds */
	uint64_t tx_pending;          /* TX: bytes not yet acknowledged */
};
/* Bindings of the stack; returns how many exist (may exceed max). */
int devmem_binding_list(struct devmem_stack *stack, struct devmem_binding_info *out, unsigned max);

/* NIC-wide counters (ethtool -S). */
struct devmem_nic_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_steered;          /* frames an ntuple rule directed */
	uint64_t rx_rss;              /* frames RSS directed */
	uint64_t rx_ntuple_drop;      /* frames a drop rule dropped */
	uint64_t rx_misdirected;      /* frames on another queue than steering picks */
	uint64_t rx_linear;           /* frames landed whole in host memory */
	uint64_t rx_drop_nobuf;
	uint64_t tx_packets, tx_bytes;
};
int devmem_nic_stats(struct devmem_stack *stack, struct devmem_nic_stats *st);

/*
 * A control socket for devmemctl: a Unix stream socket at path, mode 0600,
 * served by a thread of the stack until devmem_ctl_close or the stack
 * closes. Bindings made through it (the dmabuf fd passed with SCM_RIGHTS)
 * live as long as that control connection.
 */
int devmem_ctl_listen(struct devmem_stack *stack, const char *path);
void devmem_ctl_close(struct devmem_stack *stack);

/* ---- sockets ----------------------------------------------------------- */

int devmem_socket(struct devmem_stack *stack, int domain, int type, int protocol);
int devmem_bind(int fd, const struct sockaddr *addr, socklen_t len);
int devmem_listen(int fd, int backlog);
int devmem_accept(int fd, struct sockaddr *addr, socklen_t *len);
int devmem_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int devmem_connect(int fd, const struct sockaddr *addr, socklen_t len);
int devmem_shutdown(int fd, int how);
int devmem_close(int fd);
int devmem_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int devmem_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int devmem_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int devmem_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
/* F_GETFL / F_SETFL (O_NONBLOCK). */
int devmem_fcntl(int fd, int cmd, ...);
/* ioctl(2) on a socket, as tcp_ioctl: SIOCINQ (= FIONREAD) bytes readable,
 * SIOCOUTQ bytes not yet acknowledged, SIOCOUTQNSD bytes not yet sent (each
 * an int *; EINVAL on a listener), FIONBIO (int *). Others: ENOTTY. */
int devmem_ioctl(int fd, unsigned long request, ...);
ssize_t devmem_recv(int fd, void *buf, size_t len, int flags);
ssize_t devmem_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t devmem_send(int fd, const void *buf, size_t len, int flags);
ssize_t devmem_sendmsg(int fd, const struct msghdr *msg, int flags);

/* Is fd a devmem socket? */
int devmem_is_socket(int fd);

/*
 * poll(2) over devmem sockets and ordinary fds together. For a devmem socket
 * revents is exact, as the kernel reports a TCP socket: POLLIN (data, EOF,
 * a connection to accept), POLLOUT (send buffer space), POLLERR (error
 * queue holds zero-copy completions, or a pending error), POLLHUP, POLLRDHUP.
 * The socket's own descriptor is an eventfd: poll(2)/epoll(7) report it
 * readable (POLLIN) while any of POLLIN, POLLERR or POLLHUP is pending, and
 * also once send space opens after a send found the buffer full (EAGAIN or a
 * blocking wait). An event loop may wait on it and then ask devmem_poll()
 * with a zero timeout which event it was. (An eventfd always says POLLOUT.)
 */
int devmem_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* DEVMEM_DEVMEM_H */
