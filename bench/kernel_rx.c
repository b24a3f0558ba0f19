/* SPDX-License-Identifier: MIT */
/*
 * kernel_rx: the kernel path that devmem is measured against. A plain TCP
 * receiver that recv()s into a 1 MiB host buffer and then copies into a
 * stand-in "device" buffer (as an application without devmem must, e.g. with
 * cudaMemcpy), wrapping around.
 *
 *   kernel_rx [-6] ADDR PORT [--devbuf-size 64M]
 *
 * Listens on ADDR:PORT (numeric; -6 for IPv6 when ADDR does not say), prints
 * a line with "listening", accepts one connection and receives until EOF.
 * Prints: bytes=N seconds=S gbps=G cpu_s=C  (seconds: accept to EOF; cpu_s:
 * this process's user+sys time, which leaves out the kernel's softirq work).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../tools/pattern.h"

#define RX_BUF (1u << 20)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: kernel_rx [-6] ADDR PORT [--devbuf-size 64M]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t devbuf_size = 64ull << 20;
	int family = AF_UNSPEC;
	const char *pos[2];
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-6")) {
			family = AF_INET6;
		} else if (!strcmp(argv[i], "--devbuf-size") && i + 1 < argc) {
			if (parse_size(argv[++i], &devbuf_size) || devbuf_size < RX_BUF) {
				fprintf(stderr, "kernel_rx: --devbuf-size: '%s' must be a size >= 1M\n",
					argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			usage();
		}
	}
	if (npos != 2)
		usage();

	struct addrinfo hints = {
		.ai_family = family,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
	};
	struct addrinfo *ai;
	int rc = getaddrinfo(pos[0], pos[1], &hints, &ai);

	if (rc) {
		fprintf(stderr, "kernel_rx: %s port %s: %s\n", pos[0], pos[1], gai_strerror(rc));
		return 2;
	}

	unsigned char *buf = malloc(RX_BUF);
	unsigned char *dev = malloc((size_t)devbuf_size);
	if (!buf || !dev) {
		perror("malloc");
		return 1;
	}
	/* Fault the pages in now, not during the measurement. */
	memset(buf, 0, RX_BUF);
	memset(dev, 0, (size_t)devbuf_size);

	int lfd = socket(ai->ai_family, SOCK_STREAM, 0);
	int one = 1;
	if (lfd < 0) {
		perror("socket");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, ai->ai_addr, ai->ai_addrlen) || listen(lfd, 1)) {
		fprintf(stderr, "kernel_rx: bind/listen %s port %s: %s\n", pos[0], pos[1],
			strerror(errno));
		return 1;
	}
	freeaddrinfo(ai);
	printf("listening on %s port %s\n", pos[0], pos[1]);
	fflush(stdout);

	int fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		perror("accept");
		return 1;
	}
	double t0 = now_s();
	uint64_t bytes = 0;
	size_t doff = 0; /* write position in the device buffer */

	for (;;) {
		ssize_t n = recv(fd, buf, RX_BUF, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recv");
			return 1;
		}
		if (n == 0)
			break;
		/* The copy a non-devmem application makes into device memory. */
		for (size_t done = 0; done < (size_t)n;) {
			size_t c = (size_t)n - done;

			if (c > devbuf_size - doff)
				c = (size_t)(devbuf_size - doff);
			memcpy(dev + doff, buf + done, c);
			/* The device buffer is never read: keep the copy. */
			__asm__ volatile("" : : "r"(dev) : "memory");
			done += c;
			doff += c;
			if (doff == devbuf_size)
				doff = 0;
		}
		bytes += (uint64_t)n;
	}
	double secs = now_s() - t0;
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;

	close(fd);
	close(lfd);
	free(dev);
	free(buf);
	printf("bytes=%llu seconds=%.3f gbps=%.2f cpu_s=%.3f\n", (unsigned long long)bytes, secs,
	       secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0.0, cpu);
	return 0;
}
