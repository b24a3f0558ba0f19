/* SPDX-License-Identifier: MIT */
/*
 * kernel_sender: a plain kernel-socket TCP sender, the peer of every benchmark
 * and of the e2e tests that need more speed than `yes | head | nc`.
 *
 *   kernel_sender HOST PORT BYTES [--pattern N] [--cc NAME] [--devbuf-size N]
 *
 * Connects to HOST (a numeric IPv4 or IPv6 address) and sends BYTES (K/M/G
 * suffixes) of ncdevmem's validation pattern for N (default 7: 01 02 .. 06 0a),
 * continuous across the whole stream, from a pre-filled buffer of about 1 MiB
 * whose length is a multiple of the pattern's period. Then it shuts down its
 * sending side and waits (bounded) for the peer to close.
 *
 * --devbuf-size N: the kernel transmit path that devmem TX is measured
 * against. The data sits in a stand-in "device" buffer of about N bytes (a
 * multiple of the period, cycled through), and each chunk of up to 1 MiB is
 * first copied from it into the host buffer and then send()'s: the copy an
 * application without devmem TX makes (e.g. cudaMemcpy device to host).
 *
 * Prints: bytes=N seconds=S gbps=G cpu_s=C  (seconds: connect to the last
 * byte handed to the kernel, so the receiver's own figure is the one to
 * quote; cpu_s: this process's user+sys time, which includes the kernel's
 * transmit work done in send() but not its softirq work).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../tools/pattern.h"

#define BUF_TARGET (1u << 20)
#define CLOSE_WAIT_S 60

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: kernel_sender HOST PORT BYTES[K|M|G] [--pattern N] [--cc NAME]\n"
			"                     [--devbuf-size N]\n"
			"  --cc NAME          congestion control of the socket (TCP_CONGESTION)\n"
			"  --devbuf-size N    copy each chunk from a stand-in device buffer of\n"
			"                     N bytes (K/M/G) into the host buffer before sending\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long pattern = 7;
	const char *cc = NULL;
	uint64_t bytes, devbuf_size = 0;
	const char *pos[3];
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pattern") && i + 1 < argc) {
			char *end;

			errno = 0;
			pattern = strtoul(argv[++i], &end, 10);
			if (errno || *end || pattern < 1) {
				fprintf(stderr, "kernel_sender: --pattern: '%s' must be >= 1\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--cc") && i + 1 < argc) {
			cc = argv[++i];
		} else if (!strcmp(argv[i], "--devbuf-size") && i + 1 < argc) {
			if (parse_size(argv[++i], &devbuf_size) || devbuf_size < BUF_TARGET) {
				fprintf(stderr, "kernel_sender: --devbuf-size: '%s' must be a size >= 1M\n",
					argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
		} else if (npos < 3) {
			pos[npos++] = argv[i];
		} else {
			usage();
		}
	}
	if (npos != 3)
		usage();
	if (parse_size(pos[2], &bytes)) {
		fprintf(stderr, "kernel_sender: BYTES: '%s' is not a size\n", pos[2]);
		return 2;
	}

	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai;
	int rc = getaddrinfo(pos[0], pos[1], &hints, &ai);

	if (rc) {
		fprintf(stderr, "kernel_sender: %s port %s: %s\n", pos[0], pos[1], gai_strerror(rc));
		return 2;
	}

	/* A whole number of periods, so consecutive sends continue the pattern. */
	unsigned period = pattern_period(pattern);
	size_t len = BUF_TARGET / period * period;
	unsigned char *buf = malloc(len);

	if (!buf) {
		perror("malloc");
		return 1;
	}
	pattern_fill(buf, len, pattern);

	/* The stand-in device buffer: the pattern, a whole number of periods,
	 * so that cycling through it continues the stream. */
	unsigned char *dev = NULL;
	size_t dev_len = (size_t)(devbuf_size / period * period), doff = 0;

	if (devbuf_size) {
		dev = malloc(dev_len);
		if (!dev) {
			perror("malloc");
			return 1;
		}
		for (size_t o = 0; o < dev_len; o += len)
			memcpy(dev + o, buf, dev_len - o < len ? dev_len - o : len);
	}

	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (cc && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc))) {
		fprintf(stderr, "kernel_sender: TCP_CONGESTION %s: %s\n", cc, strerror(errno));
		return 2;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		fprintf(stderr, "kernel_sender: connect %s port %s: %s\n", pos[0], pos[1],
			strerror(errno));
		return 1;
	}
	freeaddrinfo(ai);

	double t0 = now_s();
	uint64_t sent = 0;
	size_t off = 0;   /* position in buf of the next byte: sent % len */
	size_t avail = 0; /* --devbuf-size: bytes of buf filled by the last copy */

	while (sent < bytes) {
		size_t n;

		if (dev) {
			if (off == avail) {
				/* the device-to-host copy, one chunk at a time */
				size_t c = dev_len - doff < len ? dev_len - doff : len;

				memcpy(buf, dev + doff, c);
				doff = doff + c == dev_len ? 0 : doff + c;
				off = 0;
				avail = c;
			}
			n = avail - off;
		} else {
			n = len - off;
		}
		if (n > bytes - sent)
			n = (size_t)(bytes - sent);
		ssize_t r = send(fd, buf + off, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "kernel_sender: send after %llu bytes: %s\n",
				(unsigned long long)sent, strerror(errno));
			return 1;
		}
		sent += (uint64_t)r;
		off += (size_t)r;
		if (!dev && off == len)
			off = 0;
	}
	double secs = now_s() - t0;

	/* Orderly end: FIN, then wait for the receiver to finish and close. */
	shutdown(fd, SHUT_WR);
	struct timeval tv = {.tv_sec = CLOSE_WAIT_S};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char sink[4096];
	ssize_t r;
	while ((r = recv(fd, sink, sizeof(sink), 0)) > 0)
		;
	if (r < 0 && errno != ECONNRESET)
		fprintf(stderr, "kernel_sender: waiting for the peer to close: %s\n",
			strerror(errno));
	close(fd);
	free(dev);
	free(buf);

	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;

	printf("bytes=%llu seconds=%.3f gbps=%.2f cpu_s=%.3f\n", (unsigned long long)sent, secs,
	       secs > 0 ? (double)sent * 8 / secs / 1e9 : 0.0, cpu);
	return 0;
}
