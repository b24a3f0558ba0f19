/* SPDX-License-Identifier: MIT */
/*
 * kernel_rx: the kernel path that devmem is measured against, and the
 * kernel-socket receiver of the transmit tests. A plain TCP receiver that
 * recv()s into a 1 MiB host buffer and then copies into a stand-in "device"
 * buffer (as an application without devmem must, e.g. with cudaMemcpy),
 * wrapping around.
 *
 *   kernel_rx [-6] ADDR PORT [--devbuf-size 64M] [--no-copy] [--cuda] [-v N] [--out FILE]
 *
 * --cuda: the device buffer is GPU memory; each chunk is copied there with
 * the copy engine (bench/gpu.sh's traditional path).
 *             [--conns N]
 *
 * Listens on ADDR:PORT (numeric; -6 for IPv6 when ADDR does not say), prints
 * a line with "listening", accepts one connection and receives until EOF.
 *   --no-copy   leave out the copy into the device buffer (a plain sink, for
 *               measuring a sender)
 *   -v N        validate ncdevmem's -v N pattern over the whole stream
 *   --out FILE  also write every byte received to FILE
 *   --conns N   accept N connections and receive on each in its own thread
 *               (as devmem-nc --conns); each has its own 1 MiB buffer and
 *               copies into its own 1/N slice of the one device buffer; -v
 *               validates every stream from its start; not with --out
 * Prints: bytes=N seconds=S gbps=G cpu_s=C validated=yes|no|skipped
 * (seconds: accept to EOF; cpu_s: this process's user+sys time, which leaves
 * out the kernel's softirq work). With --conns N > 1 one "conn K: bytes=N
 * seconds=S gbps=G" line per connection comes first, and the total line's
 * bytes are all connections', its seconds from the first accept to the last
 * EOF. With -v, the first mismatch is reported on a line before it. Exit
 * status: 0, or 1 on an error or a validation failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <devmem/devmem.h>

#include "../tools/pattern.h"

#define RX_BUF (1u << 20)
#define PAT_CHUNK (64u * 1024) /* validation compares this much per memcmp */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: kernel_rx [-6] ADDR PORT [--devbuf-size 64M] [--no-copy] [--cuda] [-v N]\n"
			"                 [--out FILE] [--conns N]\n");
	exit(2);
}

/* -v: the expected stream, pat[i] for stream offset k at pat[k % period]. */
struct validator {
	const unsigned char *pat; /* PAT_CHUNK + period bytes, or NULL: off */
	unsigned period;
	uint64_t off;       /* stream offset of the next byte */
	int failed;
	int conn;           /* connection index for messages, or -1 */
};

static void validate(struct validator *v, const unsigned char *p, size_t len)
{
	if (!v->pat || v->failed) {
		v->off += len;
		return;
	}
	while (len) {
		size_t chunk = len < PAT_CHUNK ? len : PAT_CHUNK;
		const unsigned char *want = v->pat + v->off % v->period;

		if (memcmp(p, want, chunk)) {
			size_t i = 0;

			while (p[i] == want[i])
				i++;
			flockfile(stdout);
			if (v->conn >= 0)
				printf("conn %d: ", v->conn);
			printf("validation failed at offset %llu: expected 0x%02x, actual 0x%02x\n",
			       (unsigned long long)(v->off + i), want[i], p[i]);
			funlockfile(stdout);
			fflush(stdout);
			v->failed = 1;
			v->off += len;
			return;
		}
		v->off += chunk;
		p += chunk;
		len -= chunk;
	}
}

static void write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror("kernel_rx: write --out");
			exit(1);
		}
		p += n;
		len -= (size_t)n;
	}
}

/* One connection: receive until EOF, copying into dev[0..dev_len). */
struct conn {
	unsigned char *buf; /* RX_BUF bytes */
	int fd;
	int out_fd;
	unsigned char *dev; /* this connection's slice of the device buffer, or NULL */
	size_t dev_len;
	int cuda_fd;        /* --cuda: the GPU buffer (a devmem cuda dmabuf), or -1 */
	uint64_t cuda_base; /* this connection's slice of it */
	struct validator v;
	double t0, t1;      /* accept, EOF */
	uint64_t bytes;
	int err;            /* errno of a failed recv, or 0 */
};

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	unsigned char *buf = c->buf;
	size_t doff = 0; /* write position in the device buffer */

	for (;;) {
		ssize_t n = recv(c->fd, buf, RX_BUF, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			c->err = errno;
			break;
		}
		if (n == 0)
			break;
		validate(&c->v, buf, (size_t)n);
		if (c->out_fd >= 0)
			write_all(c->out_fd, buf, (size_t)n);
		/* The copy a non-devmem application makes into device memory. */
		for (size_t done = 0; c->dev && done < (size_t)n;) {
			size_t cl = (size_t)n - done;

			if (cl > c->dev_len - doff)
				cl = c->dev_len - doff;
			if (c->cuda_fd >= 0) {
				/* cudaMemcpy host to device, by the copy engine */
				if (devmem_dmabuf_write(c->cuda_fd, c->cuda_base + doff, buf + done,
							cl) < 0) {
					c->err = errno;
					break;
				}
			} else {
				memcpy(c->dev + doff, buf + done, cl);
				/* The device buffer is never read: keep the copy. */
				__asm__ volatile("" : : "r"(c->dev) : "memory");
			}
			done += cl;
			doff += cl;
			if (doff == c->dev_len)
				doff = 0;
		}
		c->bytes += (uint64_t)n;
	}
	c->t1 = now_s();
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t devbuf_size = 64ull << 20;
	int cuda = 0, cuda_fd = -1;
	unsigned long vn = 0;
	const char *out = NULL;
	int copy = 1, out_fd = -1;
	int family = AF_UNSPEC;
	unsigned nconns = 1;
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
		} else if (!strcmp(argv[i], "--no-copy")) {
			copy = 0;
		} else if (!strcmp(argv[i], "--cuda")) {
			cuda = 1;
		} else if (!strcmp(argv[i], "-v") && i + 1 < argc) {
			char *end;

			errno = 0;
			vn = strtoul(argv[++i], &end, 10);
			if (errno || *end || vn < 1) {
				fprintf(stderr, "kernel_rx: -v: '%s' must be a number >= 1\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--conns") && i + 1 < argc) {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(argv[++i], &end, 10);
			if (errno || *end || n < 1 || n > 1024) {
				fprintf(stderr, "kernel_rx: --conns: '%s' must be 1..1024\n", argv[i]);
				return 2;
			}
			nconns = (unsigned)n;
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
	if (nconns > 1 && out) {
		fprintf(stderr, "kernel_rx: --out takes one connection (not with --conns)\n");
		return 2;
	}
	if (copy && devbuf_size / nconns < RX_BUF) {
		fprintf(stderr, "kernel_rx: --devbuf-size: each of the %u connections needs a 1M "
				"slice\n", nconns);
		return 2;
	}

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

	if (cuda) {
		/* the traditional GPU path: recv() into host memory, then a copy
		 * into GPU memory (here a devmem cuda dmabuf: cuMemcpyHtoD) */
		cuda_fd = devmem_dmabuf_alloc(DEVMEM_MEM_CUDA, (size_t)devbuf_size, 0);
		if (cuda_fd < 0) {
			fprintf(stderr, "kernel_rx: --cuda: %s (%s)\n", strerror(errno),
				devmem_last_error());
			return 1;
		}
		copy = 1;
	}
	unsigned char *dev = copy && !cuda ? malloc((size_t)devbuf_size) : NULL;
	unsigned char *pat = NULL;
	struct validator v = {.conn = -1};
	struct conn *conns = calloc(nconns, sizeof(*conns));
	pthread_t *threads = calloc(nconns, sizeof(*threads));
	size_t slice = (size_t)(devbuf_size / nconns);

	if ((copy && !cuda && !dev) || !conns || !threads) {
		perror("malloc");
		return 1;
	}
	/* Fault the pages in now, not during the measurement. */
	for (unsigned i = 0; i < nconns; i++) {
		conns[i].buf = malloc(RX_BUF);
		if (!conns[i].buf) {
			perror("malloc");
			return 1;
		}
		memset(conns[i].buf, 0, RX_BUF);
	}
	if (dev)
		memset(dev, 0, (size_t)devbuf_size);
	if (vn) {
		v.period = pattern_period(vn);
		pat = malloc(PAT_CHUNK + v.period);
		if (!pat) {
			perror("malloc");
			return 1;
		}
		pattern_fill(pat, PAT_CHUNK + v.period, vn);
		v.pat = pat;
	}
	if (out) {
		out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out_fd < 0) {
			fprintf(stderr, "kernel_rx: --out %s: %s\n", out, strerror(errno));
			return 1;
		}
	}

	int lfd = socket(ai->ai_family, SOCK_STREAM, 0);
	int one = 1;
	if (lfd < 0) {
		perror("socket");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, ai->ai_addr, ai->ai_addrlen) || listen(lfd, (int)nconns)) {
		fprintf(stderr, "kernel_rx: bind/listen %s port %s: %s\n", pos[0], pos[1],
			strerror(errno));
		return 1;
	}
	freeaddrinfo(ai);
	printf("listening on %s port %s\n", pos[0], pos[1]);
	fflush(stdout);

	for (unsigned i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		int fd;

		do
			fd = accept(lfd, NULL, NULL);
		while (fd < 0 && errno == EINTR);
		if (fd < 0) {
			perror("accept");
			return 1;
		}
		*c = (struct conn){
			.buf = c->buf,
			.fd = fd,
			.out_fd = out_fd,
			.dev = copy && !cuda ? dev + (size_t)i * slice : NULL,
			.dev_len = slice,
			.cuda_fd = cuda_fd,
			.cuda_base = (uint64_t)i * slice,
			.v = v,
			.t0 = now_s(),
		};
		c->v.conn = nconns > 1 ? (int)i : -1;
		if (nconns == 1)
			conn_main(c); /* no thread: as before --conns */
		else if ((errno = pthread_create(&threads[i], NULL, conn_main, c))) {
			perror("pthread_create");
			return 1;
		}
	}

	double t0 = conns[0].t0, t1 = 0;
	uint64_t bytes = 0;
	int err = 0, vfailed = 0;

	for (unsigned i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];

		if (nconns > 1)
			pthread_join(threads[i], NULL);
		close(c->fd);
		free(c->buf);
		bytes += c->bytes;
		t1 = c->t1 > t1 ? c->t1 : t1;
		vfailed |= c->v.failed;
		if (c->err) {
			fprintf(stderr, "kernel_rx: recv%s: %s\n", nconns > 1 ? " (a connection)" : "",
				strerror(c->err));
			err = 1;
		}
		if (nconns > 1) {
			double cs = c->t1 - c->t0;

			printf("conn %u: bytes=%llu seconds=%.3f gbps=%.2f\n", i,
			       (unsigned long long)c->bytes, cs,
			       cs > 0 ? (double)c->bytes * 8 / cs / 1e9 : 0.0);
		}
	}
	if (err)
		return 1;
	double secs = t1 - t0;
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;

	close(lfd);
	if (out_fd >= 0 && close(out_fd)) {
		perror("kernel_rx: close --out");
		return 1;
	}
	printf("bytes=%llu seconds=%.3f gbps=%.2f cpu_s=%.3f validated=%s\n",
	       (unsigned long long)bytes, secs, secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0.0, cpu,
	       !v.pat ? "skipped" : vfailed ? "no" : "yes");
	free(threads);
	free(conns);
	free(pat);
	free(dev);
	return vfailed ? 1 : 0;
}
