/* SPDX-License-Identifier: MIT */
/*
 * Device-memory transmit through loss: stack A binds a TX dmabuf filled with
 * the -v 7 pattern and sends 256 MiB from it with sendmsg(MSG_ZEROCOPY) and
 * an SCM_DEVMEM_DMABUF cmsg, reusing each range of the dmabuf only after its
 * completion came off the error queue; stack B receives into its own RX
 * dmabuf with MSG_SOCK_DEVMEM, validates every frag through its mapping and
 * gives the tokens back. The pair link drops and reorders frames in both
 * directions: 1% drop and reordering in a first run, 5% in a second, 256 MiB
 * each. (At 5% both ways the congestion window stays near three segments;
 * tail loss probes and RACK's time rule repair most losses, but a lost probe
 * still costs an RTO: expect about one RTO per 4 MiB, ~25 s.)
 *
 * Pass: every byte arrives and validates; every send call completes exactly
 * once, in order; A retransmitted from device memory
 * (tcp_retrans_dev_bytes > 0) and copied nothing (tx_copied_bytes == 0);
 * nothing stays pending on the TX binding; every RX buffer is back in B's
 * pool. DEVMEM_ZC_BYTES overrides the size of both runs; sanitizer builds
 * send 128 MiB and 32 MiB.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
/* after <time.h>: it uses struct timespec without including it */
#include <linux/errqueue.h>

#include "check.h"
#include "pairutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define ZC_BYTES_DEFAULT (128ull << 20)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZC_BYTES_DEFAULT (128ull << 20)
#endif
#endif
#ifndef ZC_BYTES_DEFAULT
#define ZC_BYTES_DEFAULT (256ull << 20)
#define ZC_LOSSY_DIV 1
#else
#define ZC_LOSSY_DIV 4 /* sanitizers: the lossy run is slow enough as it is */
#endif

#define TX_DMABUF (16u << 20)  /* the region cycled through: a multiple of 7 of it */
#define RX_DMABUF (32u << 20)
#define CALL_MAX (1u << 20)    /* bytes per sendmsg */
#define RING 4096u             /* calls in flight at most */
#define STALL_NS (120ull * 1000000000u)
#define PORT 7002

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The zero-copy sender on stack A, in its own thread. */
struct zc_sender {
	struct devmem_stack *stack;
	uint32_t binding_id;
	uint64_t region;       /* bytes of the TX dmabuf in use */
	uint64_t bytes;        /* to send */
	/* results */
	int err;               /* errno of the first failure, 0 if none */
	const char *what;      /* what failed */
	uint32_t next, done;   /* calls made; every call below done completed */
	uint64_t head, tail;   /* stream bytes sent; completed */
	uint64_t completions;  /* call numbers reported, duplicates too */
	uint64_t ends[RING];   /* ends[id % RING]: stream position after call id */
	bool bad;              /* a completion out of order, twice or unknown */
	pthread_t thread;
};

static void zc_fail(struct zc_sender *s, const char *what)
{
	if (!s->err) {
		s->err = errno ? errno : EIO;
		s->what = what;
	}
}

/* Every completion on the error queue; -1 on an error other than EAGAIN. */
static int zc_reap(struct zc_sender *s, int fd)
{
	for (;;) {
		union {
			char buf[256];
			struct cmsghdr align;
		} ctl;
		struct msghdr msg = {.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
		struct sock_extended_err ee = {0};
		bool found = false;
		ssize_t r = devmem_recvmsg(fd, &msg, MSG_ERRQUEUE);

		if (r < 0)
			return errno == EAGAIN ? 0 : -1;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) {
				memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
				found = true;
			}
		}
		if (!found || ee.ee_origin != SO_EE_ORIGIN_ZEROCOPY || ee.ee_errno != 0) {
			fprintf(stderr, "bad error-queue message (found %d origin %u errno %u)\n",
				found, ee.ee_origin, ee.ee_errno);
			s->bad = true;
			continue;
		}
		uint32_t lo = ee.ee_info, hi = ee.ee_data, inflight = s->next - s->done;

		s->completions += (uint64_t)(uint32_t)(hi - lo) + 1;
		if (lo != s->done || (uint32_t)(hi - lo) >= inflight) {
			fprintf(stderr, "completion [%u, %u]: expected from %u to at most %u\n", lo,
				hi, s->done, s->next - 1);
			s->bad = true;
			continue;
		}
		s->tail = s->ends[hi % RING];
		s->done = hi + 1;
	}
}

static void zc_wait(int fd, short events)
{
	struct pollfd pfd = {.fd = fd, .events = events | POLLERR};

	devmem_poll(&pfd, 1, 100);
}

static void *zc_sender_main(void *arg)
{
	struct zc_sender *s = arg;
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(AF_INET, "192.0.2.2", PORT, &ss);
	int one = 1, fd = devmem_socket(s->stack, AF_INET, SOCK_STREAM, 0);
	uint64_t t_moved = now_ns();

	if (fd < 0) {
		zc_fail(s, "socket");
		return NULL;
	}
	if (devmem_setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) ||
	    devmem_connect(fd, (struct sockaddr *)&ss, sl) ||
	    devmem_fcntl(fd, F_SETFL, O_NONBLOCK)) {
		zc_fail(s, "setsockopt/connect/fcntl");
		devmem_close(fd);
		return NULL;
	}
	while (s->head < s->bytes && !s->err && !s->bad) {
		uint64_t before = s->tail;

		if (zc_reap(s, fd) < 0) {
			zc_fail(s, "recvmsg(MSG_ERRQUEUE)");
			break;
		}
		uint64_t room = s->region - (s->head - s->tail), len = s->bytes - s->head;

		if (len > CALL_MAX)
			len = CALL_MAX;
		if (len > room)
			len = room;
		if (len == 0 || s->next - s->done == RING) {
			if (s->tail == before && now_ns() - t_moved > STALL_NS) {
				errno = ETIMEDOUT;
				zc_fail(s, "waiting for completions");
				break;
			}
			if (s->tail != before)
				t_moved = now_ns();
			zc_wait(fd, 0);
			continue;
		}
		/* iov_base is an offset into the dmabuf; split at the wrap */
		uint64_t off = s->head % s->region;
		struct iovec iov[2] = {{(void *)(uintptr_t)off, (size_t)len}};
		unsigned n = 1;

		if (len > s->region - off) {
			iov[0].iov_len = (size_t)(s->region - off);
			iov[1].iov_base = (void *)0;
			iov[1].iov_len = (size_t)(len - iov[0].iov_len);
			n = 2;
		}
		ssize_t r = send_dmabuf(fd, s->binding_id, iov, n, MSG_ZEROCOPY);

		if (r < 0) {
			if (errno != EAGAIN && errno != ENOBUFS) {
				zc_fail(s, "sendmsg(MSG_ZEROCOPY)");
				break;
			}
			zc_wait(fd, POLLOUT);
			continue;
		}
		s->ends[s->next % RING] = s->head + (uint64_t)r;
		s->next++;
		s->head += (uint64_t)r;
		t_moved = now_ns();
	}
	devmem_shutdown(fd, SHUT_WR);
	/* every call completes once the peer acknowledged it all */
	while (!s->err && s->done != s->next) {
		uint32_t before = s->done;

		if (zc_reap(s, fd) < 0) {
			zc_fail(s, "recvmsg(MSG_ERRQUEUE)");
			break;
		}
		if (s->done != before) {
			t_moved = now_ns();
		} else if (now_ns() - t_moved > STALL_NS) {
			errno = ETIMEDOUT;
			zc_fail(s, "waiting for the last completions");
			break;
		} else if (s->bad) {
			break;
		}
		zc_wait(fd, 0);
	}
	/* then the peer's FIN */
	for (uint64_t deadline = now_ns() + STALL_NS; !s->err;) {
		char c;
		ssize_t r = devmem_recv(fd, &c, 1, 0);

		if (r == 0 || (r < 0 && errno != EAGAIN))
			break;
		if (now_ns() > deadline) {
			errno = ETIMEDOUT;
			zc_fail(s, "waiting for the peer's FIN");
			break;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		devmem_poll(&pfd, 1, 100);
	}
	devmem_close(fd);
	return NULL;
}

static void run(const char *name, double drop, double reorder, uint64_t bytes, uint64_t seed)
{
	struct devmem_config ca, cb;
	struct devmem_pair_faults f = {.seed = seed, .drop = drop, .reorder = reorder};
	struct devmem_pair_faults g = {.seed = seed * 7 + 1, .drop = drop, .reorder = reorder};
	struct devmem_stack *a, *b;
	struct sockaddr_storage ss;
	unsigned q = 0;
	uint64_t t0 = now_ns();

	pair_cfgs(&ca, &cb);
	CHECK_EQ(devmem_stack_open_pair(&ca, &cb, &f, &g, &a, &b), 0);

	/* A: the TX dmabuf, the pattern written once through the application's
	 * mapping; 7 divides the region, so the stream continues at the wrap */
	int tfd = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, TX_DMABUF, 0);
	CHECK(tfd >= 0);
	uint8_t *tmap = mmap(NULL, TX_DMABUF, PROT_READ | PROT_WRITE, MAP_SHARED, tfd, 0);
	CHECK(tmap != MAP_FAILED);
	uint64_t region = TX_DMABUF / 7 * 7;
	pattern_fill(tmap, (size_t)region, 0, 7);
	struct devmem_binding *tb = devmem_bind_tx(a, tfd);
	CHECK(tb != NULL);
	if (!tb) {
		fprintf(stderr, "devmem_bind_tx: %s\n", strerror(errno));
		exit(1);
	}

	/* B: the RX dmabuf and a listener */
	int rfd = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, RX_DMABUF, 0);
	struct devmem_binding *rb = devmem_bind_rx(b, rfd, &q, 1);
	const uint8_t *rmap = mmap(NULL, RX_DMABUF, PROT_READ, MAP_SHARED, rfd, 0);
	CHECK(rb && rmap != MAP_FAILED);
	int lfd = devmem_socket(b, AF_INET, SOCK_STREAM, 0);
	socklen_t sl = make_addr(AF_INET, "192.0.2.2", PORT, &ss);
	CHECK_EQ(devmem_bind(lfd, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(devmem_listen(lfd, 4), 0);

	struct zc_sender *s = calloc(1, sizeof(*s));
	CHECK(s != NULL);
	s->stack = a;
	s->binding_id = devmem_binding_id(tb);
	s->region = region;
	s->bytes = bytes;
	CHECK_EQ(pthread_create(&s->thread, NULL, zc_sender_main, s), 0);

	int cfd = devmem_accept(lfd, NULL, NULL);
	CHECK(cfd >= 0);
	static uint8_t data[65536];
	static uint8_t ctrl[CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * 1024];
	uint64_t pos = 0, frags = 0, linear = 0;
	bool ok = true;

	for (;;) {
		struct iovec iov = {data, sizeof(data)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				     .msg_controllen = sizeof(ctrl)};
		struct dmabuf_token toks[DEVMEM_DONTNEED_MAX_RANGES];
		unsigned nt = 0;
		ssize_t n = devmem_recvmsg(cfd, &msg, MSG_SOCK_DEVMEM);

		if (n <= 0) {
			CHECK_EQ(n, 0);
			break;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct dmabuf_cmsg d;

			memcpy(&d, CMSG_DATA(cm), sizeof(d));
			if (cm->cmsg_type != SCM_DEVMEM_DMABUF) {
				linear++;
				pos += d.frag_size;
				ok = false;
				continue;
			}
			if (ok && (d.frag_offset + d.frag_size > RX_DMABUF ||
				   pattern_check(rmap + d.frag_offset, d.frag_size, pos, 7) >= 0)) {
				fprintf(stderr, "%s: mismatch in the frag at stream offset %llu\n", name,
					(unsigned long long)pos);
				ok = false;
			}
			pos += d.frag_size;
			frags++;
			if (nt && toks[nt - 1].token_start + toks[nt - 1].token_count == d.frag_token) {
				toks[nt - 1].token_count++;
			} else {
				if (nt == DEVMEM_DONTNEED_MAX_RANGES) {
					CHECK(devmem_setsockopt(cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, toks,
								nt * sizeof(toks[0])) > 0);
					nt = 0;
				}
				toks[nt++] = (struct dmabuf_token){d.frag_token, 1};
			}
		}
		if (nt)
			CHECK(devmem_setsockopt(cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, toks,
						nt * sizeof(toks[0])) > 0);
	}
	devmem_close(cfd);
	pthread_join(s->thread, NULL);
	devmem_close(lfd);
	if (s->err)
		fprintf(stderr, "%s: sender: %s: %s\n", name, s->what, strerror(s->err));
	CHECK_EQ(s->err, 0);
	CHECK(ok);
	CHECK_EQ(linear, 0);
	CHECK_EQ(pos, bytes);
	CHECK_EQ(s->head, bytes);
	/* every call completed exactly once, in order */
	CHECK(!s->bad);
	CHECK_EQ(s->done, s->next);
	CHECK_EQ(s->completions, s->next);

	struct devmem_stack_stats st;
	struct devmem_binding_stats tbs, rbs;

	CHECK_EQ(devmem_stack_stats(a, &st), 0);
	CHECK(st.tcp_retrans_dev_bytes > 0); /* retransmitted from device memory */
	CHECK(st.tcp_retrans_dev_bytes <= st.tcp_retrans_bytes);
	CHECK_EQ(st.tx_copied_bytes, 0);
	CHECK(st.tx_dev_bytes >= bytes);
	CHECK_EQ(st.zc_completions, s->next);
	/* the connection is closed: nothing may stay queued on the binding */
	for (uint64_t deadline = now_ns() + 2000000000ull;;) {
		CHECK_EQ(devmem_binding_stats(tb, &tbs), 0);
		if (tbs.tx_pending == 0 || now_ns() > deadline)
			break;
		usleep(10000);
	}
	CHECK_EQ(tbs.is_tx, 1);
	CHECK_EQ(tbs.tx_pending, 0);
	CHECK(tbs.tx_bytes >= bytes);
	CHECK_EQ(devmem_binding_stats(rb, &rbs), 0);
	CHECK_EQ(rbs.bufs_free, rbs.bufs);
	fprintf(stderr,
		"%s: %llu bytes in %llu frags, validated=%s; %u sends, %llu completions; "
		"tx_dev_bytes=%llu retrans_bytes=%llu retrans_dev_bytes=%llu copied=%llu rto=%llu tlp=%llu; %.1f s\n",
		name, (unsigned long long)pos, (unsigned long long)frags, ok ? "yes" : "no", s->next,
		(unsigned long long)s->completions, (unsigned long long)st.tx_dev_bytes,
		(unsigned long long)st.tcp_retrans_bytes, (unsigned long long)st.tcp_retrans_dev_bytes,
		(unsigned long long)st.tx_copied_bytes, (unsigned long long)st.tcp_rto, (unsigned long long)st.tcp_tlp,
		(double)(now_ns() - t0) / 1e9);

	free(s);
	CHECK_EQ(devmem_unbind(tb), 0);
	CHECK_EQ(devmem_unbind(rb), 0);
	munmap(tmap, TX_DMABUF);
	munmap((void *)rmap, RX_DMABUF);
	devmem_dmabuf_free(tfd);
	devmem_dmabuf_free(rfd);
	devmem_stack_close(a);
	devmem_stack_close(b);
}

int main(void)
{
	uint64_t bytes = ZC_BYTES_DEFAULT;
	const char *env = getenv("DEVMEM_ZC_BYTES");

	if (env)
		bytes = strtoull(env, NULL, 0);
	run("1% drop, 1% reorder", 0.01, 0.01, bytes, 11);
	run("5% drop, 5% reorder", 0.05, 0.05, bytes / ZC_LOSSY_DIV, 55);
	return CHECK_DONE();
}
