/* SPDX-License-Identifier: MIT */
/*
 * The cuda memory provider (docs/gpu.md). Always: the name parses, a
 * missing driver fails with ENODEV and says why. Where a GPU answers: a
 * stream received into GPU memory over the pair link and checked by the GPU
 * kernel (the CPU never reads the payload), the copy engine's placement
 * cross-checked through the provider's read, and a stream sent from GPU
 * memory the GPU filled, checked byte for byte at the receiver. With no GPU
 * those parts skip (exit 77, saying why) after the always-run checks pass.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "devmem/cuda.h"
#include "pairutil.h"

static struct devmem_stack *a, *b;

/* Always: names, and ENODEV with a reason when the driver cannot load. */
static void test_no_driver(void)
{
	CHECK_EQ(devmem_mem_parse("cuda"), DEVMEM_MEM_CUDA);
	CHECK_EQ(devmem_mem_parse("CUDA"), DEVMEM_MEM_CUDA);
	CHECK(strcmp(devmem_mem_name(DEVMEM_MEM_CUDA), "cuda") == 0);

	/* a child, since the driver is loaded once per process */
	pid_t pid = fork();
	if (pid == 0) {
		setenv("DEVMEM_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
		int fd = devmem_dmabuf_alloc(DEVMEM_MEM_CUDA, 1u << 20, 0);
		int ok = fd == -1 && errno == ENODEV &&
			 strstr(devmem_last_error(), "no CUDA GPU: cannot load") != NULL;
		if (!ok)
			fprintf(stderr, "alloc without a driver: fd %d errno %d (%s)\n", fd, errno,
				devmem_last_error());
		ok = ok && devmem_cuda_probe() == -1 && errno == ENODEV;
		_exit(ok ? 0 : 1);
	}
	int st;
	CHECK(pid > 0);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Where no GPU answers, the real driver's answer is ENODEV with a reason. */
static int probe_or_enodev(void)
{
	int n = devmem_cuda_probe();

	if (n > 0)
		return n;
	CHECK_EQ(errno, ENODEV);
	CHECK(strncmp(devmem_last_error(), "no CUDA GPU: ", 13) == 0);
	errno = 0;
	CHECK_EQ(devmem_dmabuf_alloc(DEVMEM_MEM_CUDA, 1u << 20, 0), -1);
	CHECK_EQ(errno, ENODEV);
	CHECK(strncmp(devmem_last_error(), "no CUDA GPU: ", 13) == 0);
	return 0;
}

#define BATCH 256

/* RX into GPU memory, validated by the GPU kernel. */
static void test_rx(int family, uint16_t port, uint64_t bytes)
{
	size_t size = 16u << 20;
	int dfd = devmem_dmabuf_alloc(DEVMEM_MEM_CUDA, size, 0);
	unsigned q = 0;
	CHECK(dfd >= 0);
	CHECK_EQ(devmem_dmabuf_size(dfd) % (2u << 20), 0);
	CHECK_EQ(devmem_dmabuf_mem(dfd), DEVMEM_MEM_CUDA);
	struct devmem_binding *bind = devmem_bind_rx(b, dfd, &q, 1);
	CHECK(bind != NULL);
	if (!bind)
		return;

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

	static uint8_t data[65536];
	uint8_t ctrl[CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * BATCH];
	uint64_t off[BATCH], pos_[BATCH], pos = 0, bad = 0, first = UINT64_MAX, frags = 0;
	uint32_t len[BATCH];
	struct dmabuf_token tok[BATCH];
	bool crossed = false;

	for (;;) {
		struct iovec iov = {data, sizeof(data)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				     .msg_controllen = sizeof(ctrl)};
		ssize_t n = devmem_recvmsg(cfd, &msg, MSG_SOCK_DEVMEM);
		unsigned nb = 0;

		if (n <= 0) {
			CHECK_EQ(n, 0);
			break;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct dmabuf_cmsg d;
			memcpy(&d, CMSG_DATA(cm), sizeof(d));
			CHECK_EQ(cm->cmsg_type, SCM_DEVMEM_DMABUF); /* nothing linear */
			off[nb] = d.frag_offset;
			len[nb] = d.frag_size;
			pos_[nb] = pos;
			tok[nb] = (struct dmabuf_token){d.frag_token, 1};
			nb++;
			pos += d.frag_size;
		}
		/* one kernel launch per recvmsg, before the tokens go back */
		CHECK_EQ(devmem_cuda_pattern_check(dfd, off, len, pos_, nb, 7, &bad, &first), 0);
		if (!crossed && nb) {
			/* the test's own cross-check of the copy engine's placement
			 * (a D2H copy, not a CPU load from GPU memory) */
			static uint8_t tmp[65536];
			CHECK_EQ(devmem_dmabuf_read(dfd, off[0], tmp, len[0]), (ssize_t)len[0]);
			CHECK_EQ(pattern_check(tmp, len[0], pos_[0], 7), -1);
			crossed = true;
		}
		CHECK_EQ(devmem_setsockopt(cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, tok,
					   (socklen_t)(nb * sizeof(tok[0]))), (int)nb);
		frags += nb;
	}
	CHECK_EQ(pos, bytes);
	CHECK_EQ(bad, 0);
	CHECK_EQ(first, UINT64_MAX);
	CHECK(frags > 0);
	printf("rx %s: %" PRIu64 " bytes in %" PRIu64 " GPU frags, %" PRIu64 " mismatches\n",
	       family == AF_INET ? "ipv4" : "ipv6", pos, frags, bad);

	/* the kernel does find a wrong byte: corrupt one through the copy engine */
	uint8_t x = 0xee;
	uint64_t o0 = 4096, p0 = 0, bad2 = 0, first2 = UINT64_MAX;
	uint32_t l0 = 100;
	CHECK_EQ(devmem_cuda_pattern_fill(dfd, o0, l0, 0, 7), 0);
	CHECK_EQ(devmem_dmabuf_write(dfd, o0 + 42, &x, 1), 1);
	CHECK_EQ(devmem_cuda_pattern_check(dfd, &o0, &l0, &p0, 1, 7, &bad2, &first2), 0);
	CHECK_EQ(bad2, 1);
	CHECK_EQ(first2, 42);

	devmem_close(cfd);
	devmem_close(lfd);
	pthread_join(snd.thread, NULL);
	CHECK_EQ(snd.err, 0);
	struct devmem_binding_stats bs;
	CHECK_EQ(devmem_binding_stats(bind, &bs), 0);
	CHECK_EQ(bs.bufs_free, bs.bufs); /* every buffer back */
	CHECK_EQ(devmem_unbind(bind), 0);
	CHECK_EQ(devmem_dmabuf_free(dfd), 0);
}

/* TX from GPU memory the GPU filled; the receiver checks every byte. */
static void test_tx(uint16_t port)
{
	size_t size = 4u << 20;
	int dfd = devmem_dmabuf_alloc(DEVMEM_MEM_CUDA, size, 0);
	CHECK(dfd >= 0);
	CHECK_EQ(devmem_cuda_pattern_fill(dfd, 0, size, 0, 7), 0);
	struct devmem_binding *tx = devmem_bind_tx(a, dfd);
	CHECK(tx != NULL);
	if (!tx)
		return;

	struct sockaddr_storage ss;
	socklen_t sl = make_addr(AF_INET, "192.0.2.2", port, &ss);
	int one = 1, l = devmem_socket(b, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(devmem_bind(l, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(devmem_listen(l, 4), 0);
	int c = devmem_socket(a, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(devmem_connect(c, (struct sockaddr *)&ss, sl), 0);
	int s = devmem_accept(l, NULL, NULL);
	CHECK(s >= 0);
	CHECK_EQ(devmem_setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)), 0);

	enum { CALLS = 64, PER = 7 * 9000 };
	uint8_t *got = malloc((size_t)CALLS * PER);
	for (unsigned k = 0; k < CALLS; k++) {
		struct iovec iov = {(void *)(uintptr_t)((uint64_t)k * PER), PER};
		ssize_t r = send_dmabuf(c, devmem_binding_id(tx), &iov, 1, MSG_ZEROCOPY);
		CHECK_EQ(r, PER);
		/* drain as we go so the send buffer never fills */
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
	struct devmem_binding_stats bs;
	CHECK_EQ(devmem_binding_stats(tx, &bs), 0);
	CHECK(bs.tx_bytes >= (uint64_t)CALLS * PER);
	printf("tx: %u bytes from GPU memory, %" PRIu64 " by the binding\n", CALLS * PER,
	       (uint64_t)bs.tx_bytes);
	devmem_unbind(tx);
	devmem_dmabuf_free(dfd);
	free(got);
}

int main(void)
{
	test_no_driver();
	int ngpu = probe_or_enodev();
	if (check_failures)
		return 1;
	if (ngpu == 0) {
		printf("SKIP: no CUDA GPU (%s); the no-GPU checks passed\n", devmem_last_error());
		return 77;
	}
	if (!devmem_cuda_have_kernels()) {
		printf("SKIP: %d CUDA GPU(s), but the library was built without nvcc "
		       "(no GPU kernels)\n", ngpu);
		return 77;
	}

	struct devmem_config ca, cb;
	pair_cfgs(&ca, &cb);
	if (devmem_stack_open_pair(&ca, &cb, NULL, NULL, &a, &b) < 0) {
		perror("open_pair");
		return 1;
	}
	test_rx(AF_INET, 7100, 32u << 20);
	test_rx(AF_INET6, 7101, 8u << 20);
	test_tx(7102);
	devmem_stack_close(a);
	devmem_stack_close(b);
	return check_failures ? 1 : 0;
}
