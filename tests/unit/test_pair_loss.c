/* SPDX-License-Identifier: MIT */
/*
 * 256 MiB from one stack to another's device memory over the pair link with
 * 2% drop, 2% duplication and 2% reordering in both directions: every byte
 * arrives, validated, and every buffer is back in its pool afterwards.
 * DEVMEM_LOSS_BYTES overrides the size (the sanitizer build uses less).
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "check.h"
#include "pairutil.h"

int main(void)
{
	struct devmem_config ca, cb;
	struct devmem_pair_faults f = {.seed = 42, .drop = 0.02, .duplicate = 0.02, .reorder = 0.02};
	struct devmem_pair_faults g = f;
	struct devmem_stack *a, *b;
	struct sockaddr_storage ss;
	uint64_t bytes = 256ull << 20, pos = 0, frags = 0;
	const char *env = getenv("DEVMEM_LOSS_BYTES");
	unsigned q = 0;

	if (env)
		bytes = strtoull(env, NULL, 0);
	g.seed = 4242;
	pair_cfgs(&ca, &cb);
	CHECK_EQ(devmem_stack_open_pair(&ca, &cb, &f, &g, &a, &b), 0);
	size_t size = 32u << 20;
	int dfd = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, size, 0);
	struct devmem_binding *bd = devmem_bind_rx(b, dfd, &q, 1);
	const uint8_t *map = mmap(NULL, size, PROT_READ, MAP_SHARED, dfd, 0);
	CHECK(bd && map != MAP_FAILED);
	int lfd = devmem_socket(b, AF_INET, SOCK_STREAM, 0);
	socklen_t sl = make_addr(AF_INET, "192.0.2.2", 7001, &ss);
	CHECK_EQ(devmem_bind(lfd, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(devmem_listen(lfd, 4), 0);
	struct sender snd = {.stack = a, .family = AF_INET, .dst = "192.0.2.2", .port = 7001,
			     .bytes = bytes, .pattern = 7};
	CHECK_EQ(sender_start(&snd), 0);
	int cfd = devmem_accept(lfd, NULL, NULL);
	CHECK(cfd >= 0);
	static uint8_t data[65536];
	uint8_t ctrl[CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * 64];
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
			if (ok && pattern_check(map + d.frag_offset, d.frag_size, pos, 7) >= 0) {
				fprintf(stderr, "mismatch in frag at stream offset %llu\n",
					(unsigned long long)pos);
				ok = false;
			}
			struct dmabuf_token t = {d.frag_token, 1};
			CHECK_EQ(devmem_setsockopt(cfd, SOL_SOCKET, SO_DEVMEM_DONTNEED, &t, sizeof(t)), 1);
			pos += d.frag_size;
			frags++;
		}
	}
	devmem_close(cfd);
	pthread_join(snd.thread, NULL);
	CHECK_EQ(snd.err, 0);
	CHECK(ok);
	CHECK_EQ(pos, bytes);
	fprintf(stderr, "received %llu bytes in %llu frags, validated=%s\n",
		(unsigned long long)pos, (unsigned long long)frags, ok ? "yes" : "no");
	devmem_close(lfd);
	struct devmem_binding_stats st;
	CHECK_EQ(devmem_binding_stats(bd, &st), 0);
	CHECK_EQ(st.bufs_free, st.bufs);
	devmem_unbind(bd);
	munmap((void *)map, size);
	devmem_dmabuf_free(dfd);
	devmem_stack_close(a);
	devmem_stack_close(b);
	return CHECK_DONE();
}
