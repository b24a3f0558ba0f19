/* SPDX-License-Identifier: MIT */
/*
 * NIC configuration through the public API, over the pair link: the
 * kernel's refusals (errno and the extack-like reason) for header split,
 * queue count, bindings, RSS and ntuple rules; and a binding's life cycle:
 * unbinding while the application holds tokens gives the queue its host
 * pool back at once, the dmabuf's pool lives on, listed as detached, until
 * the last token is returned, and data that arrives meanwhile is ordinary.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "pairutil.h"

#define PORT 7100

static bool reason_has(const char *what)
{
	const char *m = devmem_last_error();
	if (!strstr(m, what)) {
		fprintf(stderr, "reason '%s' lacks '%s'\n", m, what);
		return false;
	}
	return true;
}

static void test_refusals(void)
{
	struct devmem_config ca, cb;
	struct devmem_stack *a, *b;
	pair_cfgs(&ca, &cb);
	ca.rx_queues = cb.rx_queues = 2;
	ca.max_queues = cb.max_queues = 4;
	CHECK_EQ(devmem_stack_open_pair(&ca, &cb, NULL, NULL, &a, &b), 0);
	int fd = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 1u << 20, 0);
	CHECK(fd >= 0);

	CHECK_EQ(devmem_queue_count(b), 2);
	unsigned q1 = 1, q2 = 2;
	/* a queue beyond the count is not there to bind (ethtool -L 2) */
	errno = 0;
	CHECK(devmem_bind_rx(b, fd, &q2, 1) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(reason_has("out of range"));
	struct devmem_binding *bd = devmem_bind_rx(b, fd, &q1, 1);
	CHECK(bd != NULL);
	errno = 0;
	CHECK(devmem_bind_rx(b, fd, &q1, 1) == NULL);
	CHECK_EQ(errno, EEXIST);
	CHECK(reason_has("memory provider"));

	/* while bound: no header split off, no shrinking below the queue */
	errno = 0;
	CHECK_EQ(devmem_header_split_set(b, 0), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK(reason_has("tcp-data-split"));
	CHECK_EQ(devmem_header_split_get(b), 1);
	errno = 0;
	CHECK_EQ(devmem_set_queues(b, 1), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK(reason_has("memory provider"));
	CHECK_EQ(devmem_queue_count(b), 2);
	/* growing is fine, up to the link's queues */
	CHECK_EQ(devmem_set_queues(b, 4), 0);
	errno = 0;
	CHECK_EQ(devmem_set_queues(b, 5), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK(reason_has("maximum"));
	errno = 0;
	CHECK_EQ(devmem_set_queues(b, 0), -1);
	CHECK_EQ(errno, EINVAL);

	/* RSS and rules name existing queues only */
	errno = 0;
	CHECK_EQ(devmem_rss_equal(b, 5), -1);
	CHECK_EQ(errno, EINVAL);
	struct devmem_ntuple r = {.loc = 3, .flow_type = DEVMEM_FLOW_TCP4,
				  .fields = DEVMEM_NTUPLE_DST_PORT, .dport = 80, .action = 9};
	errno = 0;
	CHECK_EQ(devmem_ntuple_add(b, &r), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK(reason_has("out of range"));
	r.action = 1;
	CHECK_EQ(devmem_ntuple_add(b, &r), 0);
	errno = 0;
	CHECK_EQ(devmem_ntuple_add(b, &r), -1);
	CHECK_EQ(errno, EEXIST);
	CHECK(reason_has("in use"));
	r.loc = DEVMEM_NTUPLE_LOC_ANY;
	CHECK_EQ(devmem_ntuple_add(b, &r), 0);
	CHECK(r.loc != 3 && r.loc < DEVMEM_NTUPLE_MAX);
	struct devmem_ntuple list[4];
	CHECK_EQ(devmem_ntuple_list(b, list, 4), 2);
	CHECK(list[0].loc < list[1].loc);
	CHECK_EQ(devmem_ntuple_del(b, 3), 0);
	errno = 0;
	CHECK_EQ(devmem_ntuple_del(b, 3), -1);
	CHECK_EQ(errno, ENOENT);
	CHECK_EQ(devmem_ntuple_del(b, r.loc), 0);

	/* a hand-set table keeps the queue count from shrinking below it */
	unsigned w[4] = {0, 0, 0, 1};
	CHECK_EQ(devmem_rss_weights(b, w, 4), 0);
	CHECK_EQ(devmem_unbind(bd), 0);
	errno = 0;
	CHECK_EQ(devmem_set_queues(b, 2), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK(reason_has("indirection"));
	CHECK_EQ(devmem_rss_equal(b, 2), 0);
	CHECK_EQ(devmem_set_queues(b, 2), 0);
	struct devmem_queue_info qi;
	CHECK_EQ(devmem_queue_info(b, 3, &qi), 0);
	CHECK_EQ(qi.active, 0);
	CHECK_EQ(devmem_queue_info(b, 1, &qi), 0);
	CHECK_EQ(qi.active, 1);
	CHECK_EQ(qi.binding_id, 0);
	CHECK(qi.poller_tid > 0);

	/* split off: nothing can be bound; on again: it can */
	CHECK_EQ(devmem_header_split_set(b, 0), 0);
	errno = 0;
	CHECK(devmem_bind_rx(b, fd, &q1, 1) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(reason_has("tcp-data-split"));
	CHECK_EQ(devmem_header_split_set(b, 1), 0);
	bd = devmem_bind_rx(b, fd, &q1, 1);
	CHECK(bd != NULL);
	struct devmem_binding_info bi[2];
	CHECK_EQ(devmem_binding_list(b, bi, 2), 1);
	CHECK_EQ(bi[0].id, devmem_binding_id(bd));
	CHECK_EQ(bi[0].nqueues, 1);
	CHECK_EQ(bi[0].queues[0], 1);
	CHECK_EQ(bi[0].size, 1u << 20);
	CHECK_EQ(devmem_unbind(bd), 0);
	CHECK_EQ(devmem_binding_list(b, bi, 2), 0);

	devmem_stack_close(a);
	devmem_stack_close(b);
	CHECK_EQ(devmem_dmabuf_free(fd), 0);
}

/* Receive into device memory, keep every token; returns bytes read. */
static uint64_t recv_hold(int fd, uint32_t *toks, unsigned *ntoks, unsigned max, uint64_t want)
{
	static uint8_t data[65536];
	uint8_t ctrl[CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * 64];
	uint64_t got = 0;

	while (got < want) {
		struct iovec iov = {data, sizeof(data)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				     .msg_controllen = sizeof(ctrl)};
		ssize_t n = devmem_recvmsg(fd, &msg, MSG_SOCK_DEVMEM);
		CHECK(n > 0);
		if (n <= 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct dmabuf_cmsg d;
			memcpy(&d, CMSG_DATA(cm), sizeof(d));
			CHECK_EQ(cm->cmsg_type, SCM_DEVMEM_DMABUF);
			if (*ntoks < max)
				toks[(*ntoks)++] = d.frag_token;
		}
		got += (uint64_t)n;
	}
	return got;
}

static int pool_detached(struct devmem_stack *s, struct devmem_pool_info *out)
{
	struct devmem_pool_info p[8];
	int n = devmem_pool_list(s, p, 8);
	for (int i = 0; i < n && i < 8; i++)
		if (p[i].detached) {
			*out = p[i];
			return 1;
		}
	return 0;
}

static void test_binding_lifecycle(void)
{
	struct devmem_config ca, cb;
	struct devmem_stack *a, *b;
	struct sockaddr_storage ss;
	pair_cfgs(&ca, &cb);
	CHECK_EQ(devmem_stack_open_pair(&ca, &cb, NULL, NULL, &a, &b), 0);
	int fd = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 8u << 20, 0);
	unsigned q0 = 0;
	struct devmem_binding *bd = devmem_bind_rx(b, fd, &q0, 1);
	CHECK(bd != NULL);
	uint32_t bid = devmem_binding_id(bd);
	struct devmem_queue_info qi;
	CHECK_EQ(devmem_queue_info(b, 0, &qi), 0);
	CHECK_EQ(qi.binding_id, bid);
	uint32_t host_bufs = ca.host_pool_bufs;

	int l = devmem_socket(b, AF_INET, SOCK_STREAM, 0);
	socklen_t sl = make_addr(AF_INET, "192.0.2.2", PORT, &ss);
	CHECK_EQ(devmem_bind(l, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(devmem_listen(l, 4), 0);
	struct sender snd = {.stack = a, .family = AF_INET, .dst = "192.0.2.2", .port = PORT,
			     .bytes = 2u << 20, .pattern = 7};
	CHECK_EQ(sender_start(&snd), 0);
	int c = devmem_accept(l, NULL, NULL);
	CHECK(c >= 0);

	/* the first MiB in device memory, every token held */
	static uint32_t toks[4096];
	unsigned ntoks = 0;
	uint64_t got = recv_hold(c, toks, &ntoks, 4096, 1u << 20);
	CHECK(ntoks > 0);
	CHECK(ntoks < 4096);

	/* unbind with tokens out: the queue is host memory again at once */
	CHECK_EQ(devmem_unbind(bd), 0);
	CHECK_EQ(devmem_queue_info(b, 0, &qi), 0);
	CHECK_EQ(qi.binding_id, 0);
	CHECK_EQ(qi.st.pool_bufs, host_bufs);
	struct devmem_pool_info pi;
	CHECK_EQ(pool_detached(b, &pi), 1);
	CHECK_EQ(pi.binding_id, bid);
	CHECK_EQ(pi.held, ntoks);
	CHECK(pi.in_use >= 1);

	/* the rest of the stream: ordinary data now (and maybe some frags
	 * that had landed before the unbind) */
	static uint8_t data[65536];
	uint64_t plain = 0;
	for (;;) {
		uint8_t ctrl[CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * 64];
		struct iovec iov = {data, sizeof(data)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				     .msg_controllen = sizeof(ctrl)};
		ssize_t n = devmem_recvmsg(c, &msg, MSG_SOCK_DEVMEM);
		if (n <= 0)
			break;
		if (msg.msg_controllen == 0) {
			CHECK_EQ(pattern_check(data, (size_t)n, got, 7), -1);
			plain += (uint64_t)n;
		} else {
			for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
				struct dmabuf_cmsg d;
				memcpy(&d, CMSG_DATA(cm), sizeof(d));
				if (ntoks < 4096)
					toks[ntoks++] = d.frag_token;
			}
		}
		got += (uint64_t)n;
	}
	CHECK_EQ(got, 2u << 20);
	CHECK(plain > 0);

	/* the dmabuf's buffers stay until the last token comes back */
	CHECK_EQ(pool_detached(b, &pi), 1);
	unsigned back = 0;
	for (unsigned i = 0; i < ntoks; i++) {
		struct dmabuf_token t = {toks[i], 1};
		int r = devmem_setsockopt(c, SOL_SOCKET, SO_DEVMEM_DONTNEED, &t, sizeof(t));
		CHECK_EQ(r, 1);
		back += r > 0 ? (unsigned)r : 0;
		if (i + 1 < ntoks)
			CHECK_EQ(pool_detached(b, &pi), 1);
	}
	CHECK_EQ(back, ntoks);
	CHECK_EQ(pool_detached(b, &pi), 0);

	devmem_close(c);
	devmem_close(l);
	pthread_join(snd.thread, NULL);
	CHECK_EQ(snd.err, 0);
	devmem_stack_close(a);
	devmem_stack_close(b);
	CHECK_EQ(devmem_dmabuf_free(fd), 0);
}

/* One dmabuf bound to two queues and another to a third, at once. */
static void test_several_bindings(void)
{
	struct devmem_config ca, cb;
	struct devmem_stack *a, *b;
	pair_cfgs(&ca, &cb);
	ca.rx_queues = cb.rx_queues = 3;
	CHECK_EQ(devmem_stack_open_pair(&ca, &cb, NULL, NULL, &a, &b), 0);
	int f1 = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 2u << 20, 0);
	int f2 = devmem_dmabuf_alloc(DEVMEM_MEM_SEALED, 1u << 20, 0);
	unsigned q01[2] = {0, 1}, q2 = 2;
	struct devmem_binding *b1 = devmem_bind_rx(b, f1, q01, 2);
	struct devmem_binding *b2 = devmem_bind_rx(b, f2, &q2, 1);
	CHECK(b1 && b2);
	struct devmem_queue_info qi;
	for (unsigned q = 0; q < 3; q++) {
		CHECK_EQ(devmem_queue_info(b, q, &qi), 0);
		CHECK_EQ(qi.binding_id, devmem_binding_id(q < 2 ? b1 : b2));
	}
	struct devmem_binding_info bi[4];
	CHECK_EQ(devmem_binding_list(b, bi, 4), 2);
	for (int i = 0; i < 2; i++) {
		bool one = bi[i].id == devmem_binding_id(b1);
		CHECK_EQ(bi[i].nqueues, one ? 2 : 1);
		CHECK_EQ(bi[i].mem, one ? DEVMEM_MEM_HOST : DEVMEM_MEM_SEALED);
	}
	/* pools: three host pools (one per queue), one per binding */
	struct devmem_pool_info pi[8];
	CHECK_EQ(devmem_pool_list(b, pi, 8), 5);
	unsigned dev = 0;
	for (int i = 0; i < 5; i++)
		dev += pi[i].binding_id != 0;
	CHECK_EQ(dev, 2);
	CHECK_EQ(devmem_unbind(b1), 0);
	CHECK_EQ(devmem_queue_info(b, 1, &qi), 0);
	CHECK_EQ(qi.binding_id, 0);
	CHECK_EQ(devmem_queue_info(b, 2, &qi), 0);
	CHECK_EQ(qi.binding_id, devmem_binding_id(b2));
	CHECK_EQ(devmem_unbind(b2), 0);
	devmem_stack_close(a);
	devmem_stack_close(b);
	devmem_dmabuf_free(f1);
	devmem_dmabuf_free(f2);
}

int main(void)
{
	RUN(test_refusals);
	RUN(test_several_bindings);
	RUN(test_binding_lifecycle);
	return CHECK_DONE();
}
