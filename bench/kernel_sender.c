/* SPDX-License-Identifier: MIT */
/*
 * kernel_sender: a plain kernel-socket TCP sender, the peer of every benchmark
 * and of the e2e tests that need more speed than `yes | head | nc`.
 *
 *   kernel_sender HOST PORT BYTES [--pattern N]
 *
 * Connects to HOST (a numeric IPv4 or IPv6 address) and sends BYTES (K/M/G
 * suffixes) of ncdevmem's validation pattern for N (default 7: 01 02 .. 06 0a),
 * continuous across the whole stream, from a pre-filled buffer of about 1 MiB
 * whose length is a multiple of the pattern's period. Then it shuts down its
 * sending side and waits (bounded) for the peer to close.
 *
 * Prints: bytes=N seconds=S gbps=G  (seconds: connect to the last byte
 * handed to the kernel; the receiver's own figure is the one to quote).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
			"  --cc NAME  congestion control of the socket (TCP_CONGESTION)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long pattern = 7;
	const char *cc = NULL;
	uint64_t bytes;
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
	size_t off = 0; /* position in buf of the next byte: sent % len */

	while (sent < bytes) {
		size_t n = len - off;

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
		if (off == len)
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
	free(buf);

	printf("bytes=%llu seconds=%.3f gbps=%.2f\n", (unsigned long long)sent, secs,
	       secs > 0 ? (double)sent * 8 / secs / 1e9 : 0.0);
	return 0;
}
