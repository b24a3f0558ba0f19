/* SPDX-License-Identifier: MIT */
/*
 * The cuda provider and the NIC's batched DMA step against a fake driver
 * (tests/fake/libcuda_fake.c) that runs on any machine: host memory behind
 * the driver API, and asynchronous copies that land only when their stream
 * is synchronized, so a frag that went up before its burst's flush would
 * fail validation. Checks RX into the "GPU" over the pair link (both
 * families), TX from it, the bounce slots pinned while bound and unpinned
 * at close, and that no allocation is left.
 */
#include <dlfcn.h>
#include <unistd.h>

#include "check.h"
#include "devmem/cuda.h"
#include "pairutil.h"

static struct devmem_stack *a, *b;
static void (*stats)(unsigned long long out[4]);

static void rx_stream(int family, uint16_t port, uint64_t bytes)
{
	unsigned q = 0;
	int dfd = devmem_dmabuf_alloc(DEVMEM_MEM_CUDA, 3u << 20, 0);
	CHECK(dfd >= 0);
	CHECK_EQ(devmem_dmabuf_size(dfd), 4u << 20); /* rounded up to 2 MiB */
	struct devmem_binding *bind = devmem_bind_rx(b, dfd, &q, 1);
	CHECK(bind != NULL);
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(family, family == AF_INET ? "0.0.0.0" : "::", port, &ss);
	int lfd = devmem_socket(b, family, SOCK_STREAM, 0);
	CHECK_EQ(devmem_bind(lfd, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(devmem_listen(lfd, 4), 0);
	struct sender snd = {.stack = a, .family = family,
			     .dst = family == AF_INET ? "192.0.2.2" : "2001:db8::2",
			     .port = port, .bytes = bytes, .pattern = 7};
	CHECK_EQ(sender_start(&snd), 0);
	int cfd = devmem_accept(lfd, NULL, NULL);
	CHECK(cfd >= 0);

	static uint8_t data[65536], tmp[65536];
	uint8_t ctrl[CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * 64];
	uint64_t pos = 0, frags = 0;
	bool ok = true;
	for (;;) {
		struct iovec iov = {data, sizeof(data)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				     .msg_controllen = sizeof(ctrl)};
		ssize_t n = devmem_recvmsg(cfd, &msg, MSG_SOCK_DEVMEM);
		if (n <= 0) {
			CHECK_EQ(n, 0);
			break;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct dmabuf_cmsg d;
			memcpy(&d, CMSG_DATA(cm), sizeof(d));
			CHECK_EQ(cm->cmsg_type, SCM_DEVMEM_DMABUF);
			CHECK_EQ(devmem_dmabuf_read(dfd, d.frag_offset, tmp, d.frag_size),
				 (ssize_t)d.frag_size);
			if (ok && pattern_check(tmp, d.frag_size, pos, 7) >= 0) {
				fprintf(stderr, "frag at stream %" PRIu64 " wrong\n", pos);
				ok = false;
			}
			struct dmabuf_token t = {d.frag_token, 1};
			CHECK_EQ(devmem_setsockopt(cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, &t,
						   sizeof(t)), 1);
			pos += d.frag_size;
			frags++;
		}
	}
	CHECK(ok);
	CHECK_EQ(pos, bytes);
	CHECK(frags > 0);
	unsigned long long st[4];
	stats(st);
	CHECK(st[0] > 0);      /* the payload went through the copy engine */
	CHECK(st[1] > 0);
	CHECK(st[2] >= 1);     /* the queue's bounce slots are pinned */
	devmem_close(cfd);
	devmem_close(lfd);
	pthread_join(snd.thread, NULL);
	CHECK_EQ(snd.err, 0);
	struct devmem_binding_stats bs;
	CHECK_EQ(devmem_binding_stats(bind, &bs), 0);
	CHECK_EQ(bs.bufs_free, bs.bufs);
	CHECK_EQ(devmem_unbind(bind), 0);
	CHECK_EQ(devmem_dmabuf_free(dfd), 0);
}

static void tx_stream(uint16_t port)
{
	enum { CALLS = 32, PER = 7 * 9000 };
	size_t size = 4u << 20;
	int dfd = devmem_dmabuf_alloc(DEVMEM_MEM_CUDA, size, 0);
	uint8_t *src = malloc(size), *got = malloc((size_t)CALLS * PER);
	pattern_fill(src, size, 0, 7);
	CHECK_EQ(devmem_dmabuf_write(dfd, 0, src, size), (ssize_t)size);
	struct devmem_binding *tx = devmem_bind_tx(a, dfd);
	CHECK(tx != NULL);
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(AF_INET, "192.0.2.2", port, &ss);
	int one = 1, l = devmem_socket(b, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(devmem_bind(l, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(devmem_listen(l, 4), 0);
	int c = devmem_socket(a, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(devmem_connect(c, (struct sockaddr *)&ss, sl), 0);
	int s = devmem_accept(l, NULL, NULL);
	CHECK_EQ(devmem_setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)), 0);
	for (unsigned k = 0; k < CALLS; k++) {
		struct iovec iov = {(void *)(uintptr_t)((uint64_t)k * PER), PER};
		CHECK_EQ(send_dmabuf(c, devmem_binding_id(tx), &iov, 1, MSG_ZEROCOPY), PER);
		size_t have = 0;
		while (have < PER) {
			ssize_t n = devmem_recv(s, got + (size_t)k * PER + have, PER - have, 0);
			CHECK(n > 0);
			if (n <= 0)
				break;
			have += (size_t)n;
		}
	}
	CHECK_EQ(pattern_check(got, (size_t)CALLS * PER, 0, 7), -1);
	devmem_close(c);
	devmem_close(s);
	devmem_close(l);
	devmem_unbind(tx);
	devmem_dmabuf_free(dfd);
	free(src);
	free(got);
}

int main(void)
{
	setenv("DEVMEM_LIBCUDA", DEVMEM_FAKE_CUDA, 1);
	void *h = dlopen(DEVMEM_FAKE_CUDA, RTLD_NOW);
	if (!h || !(stats = (void (*)(unsigned long long *))dlsym(h, "fake_cuda_stats"))) {
		fprintf(stderr, "cannot load the fake driver: %s\n", dlerror());
		return 1;
	}
	CHECK_EQ(devmem_cuda_probe(), 1);

	/* no kernels in the fake: a clear error, not a crash */
	int dfd = devmem_dmabuf_alloc(DEVMEM_MEM_CUDA, 1u << 20, 0);
	uint64_t off = 0, pos = 0, bad = 0, first = UINT64_MAX;
	uint32_t len = 100;
	CHECK(dfd >= 0);
	CHECK_EQ(devmem_cuda_pattern_check(dfd, &off, &len, &pos, 1, 7, &bad, &first), -1);
	CHECK(devmem_cuda_have_kernels() ? errno == EIO && strstr(devmem_last_error(),
				   "CUDA_ERROR_NO_BINARY_FOR_GPU") : errno == ENOTSUP);
	CHECK_EQ(devmem_dmabuf_read(dfd, (2u << 20) - 10, &off, 11), -1); /* past the end */
	CHECK_EQ(devmem_dmabuf_free(dfd), 0);

	struct devmem_config ca, cb;
	pair_cfgs(&ca, &cb);
	if (devmem_stack_open_pair(&ca, &cb, NULL, NULL, &a, &b) < 0) {
		perror("open_pair");
		return 1;
	}
	rx_stream(AF_INET, 7200, 16u << 20);
	rx_stream(AF_INET6, 7201, 4u << 20);
	tx_stream(7202);
	devmem_stack_close(a);
	devmem_stack_close(b);
	unsigned long long st[4];
	stats(st);
	CHECK_EQ(st[2], 0); /* slots unpinned at close */
	CHECK_EQ(st[3], 0); /* every allocation freed */
	dlclose(h);
	return CHECK_DONE();
}
