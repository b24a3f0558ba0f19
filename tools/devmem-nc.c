/* SPDX-License-Identifier: MIT */
/*
 * devmem-nc: ncdevmem (Linux tools/testing/selftests/drivers/net/hw/
 * ncdevmem.c) on this stack, over a TUN link.
 *
 * Server mode (-l): open a TUN-backed stack, bind a dmabuf to RX queues,
 * accept TCP connections and receive with recvmsg(MSG_SOCK_DEVMEM),
 * optionally validating ncdevmem's pattern, giving every token back with
 * SO_DEVMEM_DONTNEED. The payload is touched only to validate it (-v), and
 * then through the application's view of the dmabuf: an mmap of a host
 * dmabuf, or devmem_dmabuf_read() for a sealed one.
 *
 * Client mode (no -l): open a TUN-backed stack on CLIENT_IP, bind a dmabuf
 * for transmit (bind-tx), connect to SERVER_IP and send from the dmabuf with
 * sendmsg(MSG_ZEROCOPY) and an SCM_DEVMEM_DMABUF cmsg, each iov an offset
 * into the dmabuf. Completions are read from the error queue
 * (MSG_ERRQUEUE); every call must complete exactly once, in order.
 *   line mode (default): each stdin line is written into the dmabuf, sent
 *     (split into iovs of -z CHUNK bytes) and waited for, as ncdevmem does.
 *   generator mode (--bytes N): the dmabuf is filled once with the -v
 *     pattern and N bytes stream from it with no copy at all, cycling through
 *     it; a range is reused only after its call completed.
 *
 * Output (stdout), for scripts. Server:
 *   listening on ADDR port PORT ...
 *   summary: bytes=N seconds=S gbps=G dmabuf_frags=N linear_frags=N validated=yes|no|skipped
 *   pool: buffers=N free=N tokens_outstanding=N
 *   queue Q: packets=.. bytes=.. split=.. linear=.. drop_nobuf=.. bad=..
 * With --conns N > 1, one "conn K summary: ..." line per connection comes
 * before the total "summary:" line. Client:
 *   connected to ADDR port PORT ...
 *   summary: bytes=N seconds=S gbps=G sends=N completions=N notifications=N
 *            zc_copied=N completed_once=yes|no
 *   tx: bytes=N dev_bytes=N copied_bytes=N zc_host_bytes=N retrans_bytes=N
 *       retrans_dev_bytes=N zc_completions=N dma_errors=N binding_tx_bytes=N
 *       binding_tx_pending=N
 *   stack: ...
 * (summary and tx are one line each; seconds: connect to the last completion.)
 *
 * Exit status: 0 success; 1 run-time failure, validation failure, or (client)
 * a send not completed exactly once or bytes still pending on the binding;
 * 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
/* after <time.h>: it uses struct timespec without including it */
#include <linux/errqueue.h>

#include <devmem/devmem.h>
#include <devmem/cuda.h>

#include "pattern.h"

#define IOV_LEN (1024u * 1024)     /* bounds the bytes one recvmsg returns (1 MiB, as kernel_rx) */
#define CMSG_SLOTS 1024u           /* initial control buffer, in dmabuf cmsgs */
#define CMSG_SLOTS_MAX (64u * 1024) /* grown on ETOOSMALL up to this */
#define PAT_CHUNK (64u * 1024)     /* validation compares this much per memcmp */
#define POOL_SETTLE_MS 2000        /* wait for in-flight buffers at the end */

#define SEND_SIZE_DEF (2u << 20)   /* client: bytes per sendmsg call (--send-size) */
#define IOV_BATCH 1024u            /* client: iovs per sendmsg call at most (UIO_MAXIOV) */
#define TX_RING 65536u             /* client: zero-copy calls in flight at most */
#define STALL_MS 60000             /* client: no progress this long is a failure */
#define CLOSE_WAIT_MS 30000        /* client: wait for the peer's FIN at the end */

struct opts {
	bool listen;
	const char *ifname;
	const char *server;
	const char *client;
	const char *tun_peer;     /* --tun-peer ADDR[/PREFIX], or NULL */
	const char *ctl;          /* --ctl PATH: the stack's control socket, or NULL */
	unsigned port;
	unsigned long validate;   /* 0: off */
	uint64_t chunk;           /* client -z: bytes per iov (0: one iov per range) */
	uint64_t gen_bytes;       /* client --bytes: generator mode (0: line mode) */
	uint64_t send_size;       /* client: bytes per sendmsg call in generator mode */
	const char *cc;           /* client --cc: TCP_CONGESTION, or NULL: the stack's default */
	unsigned nq;              /* -q */
	unsigned first_q;         /* -t */
	int mem;
	uint32_t buf_size;
	uint64_t dmabuf_size;
	unsigned queues;          /* 0: max(1, first_q + nq) */
	unsigned max_queues;      /* --max-queues: room for devmemctl channels (0: queues) */
	unsigned conns;
	unsigned hold_ms;
	bool progress;
	bool verbose;
};

/* Read-only after setup; shared by every connection thread. */
struct shared {
	const struct opts *o;
	int dmabuf_fd;
	uint32_t binding_id;
	const unsigned char *map; /* host dmabuf mapped for validation, or NULL */
	size_t map_len;
	unsigned char *pat;       /* PAT_CHUNK + period bytes of the pattern */
	unsigned period;
};

struct conn {
	const struct shared *sh;
	unsigned idx;
	int fd;
	pthread_t thread;
	uint64_t t_start_ns, t_end_ns; /* accept .. end of stream */
	uint64_t bytes;                /* every payload byte received */
	uint64_t dmabuf_frags, linear_frags;
	uint64_t copied;               /* ordinary TCP data: no devmem cmsg */
	/* validation */
	uint64_t voff;                 /* stream offset of the next byte */
	bool vfailed;
	/* --mem cuda: frags of one recvmsg, checked by one GPU kernel launch */
	uint64_t *g_off, *g_pos;
	uint32_t *g_len;
	unsigned g_n, g_cap;
	/* --hold-ms: tokens kept back until hold_until_ns */
	uint32_t *held;
	size_t nheld, held_cap, held_peak;
	uint64_t hold_until_ns;        /* 0: not started */
	bool hold_done;
};

static atomic_uint_fast64_t total_bytes;        /* for progress */
static atomic_int_fast64_t tokens_outstanding;  /* received, not given back */
static atomic_bool warned_unbound, warned_cover, warned_id;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f, const char *argv0)
{
	fprintf(f,
		"usage: %s -l -s SERVER_IP [-c CLIENT_IP] [-f IFNAME] [-p PORT] [-v N]\n"
		"          [-q NUM] [-t START] [--mem host|sealed|cuda] [--buf-size N]\n"
		"          [--dmabuf-size N[K|M|G]] [--queues N] [--max-queues N] [--conns N]\n"
		"          [--hold-ms MS] [--tun-peer ADDR[/PREFIX]] [--ctl PATH] [--progress]\n"
		"          [--verbose]\n"
		"       %s -s SERVER_IP -c CLIENT_IP [-f IFNAME] [-p PORT] [-z CHUNK]\n"
		"          [--bytes N [-v N] [--send-size N]] [--mem host|sealed|cuda]\n"
		"          [--dmabuf-size N] [--cc NAME] [--tun-peer ADDR[/PREFIX]]\n"
		"          [--ctl PATH] [--progress] [--verbose]\n"
		"\n"
		"ncdevmem on the devmem userspace stack: server (receive, -l) and client\n"
		"(transmit) modes, over a TUN interface.\n"
		"\n"
		"  -l               server mode: accept and receive into device memory\n"
		"                   (without -l: client mode, send from device memory)\n"
		"  -f IFNAME        TUN interface, created when absent (dmtun0)\n"
		"  -s SERVER_IP     server: the stack's address; client: the address to\n"
		"                   connect to, given to the kernel side of the TUN link.\n"
		"                   IPv4 or IPv6 (required)\n"
		"  -c CLIENT_IP     server: address given to the kernel side of the TUN\n"
		"                   link (default: leave the link as is); client: the\n"
		"                   stack's address (required). Same family as -s\n"
		"  -p PORT          TCP port (5201)\n"
		"  -v N             ncdevmem's pattern: seed 1, +1 per byte, 0 at N;\n"
		"                   byte = seed, or '\\n' for 0. Server: validate it;\n"
		"                   client (--bytes only): send it\n"
		"  -q NUM           server: RX queues to bind (1)\n"
		"  -t START         server: first queue to bind (0)\n"
		"  -z CHUNK         client: split each send into iovs of CHUNK bytes\n"
		"                   (K/M suffixes; default: one iov per range)\n"
		"  --bytes N        client: generator mode, send N bytes (K/M/G/T) of the\n"
		"                   -v pattern from the dmabuf with no copy, instead of\n"
		"                   stdin lines\n"
		"  --send-size N    client: bytes per sendmsg call with --bytes (2M)\n"
		"  --cc NAME        client: the socket's congestion control\n"
		"                   (TCP_CONGESTION: cubic or reno; default: the stack's)\n"
		"  --mem KIND       memory provider of the dmabuf: host, sealed or cuda (host)\n"
		"  --buf-size N     payload buffer size, a power of two >= 4096 (4096)\n"
		"  --dmabuf-size N  dmabuf size, K/M/G suffixes allowed (64M)\n"
		"  --queues N       RX queues of the stack (max(1, START+NUM))\n"
		"  --max-queues N   queues the TUN link is opened with, so that\n"
		"                   `devmemctl channels` can grow the count (--queues)\n"
		"  --conns N        server: accept N connections concurrently, one thread\n"
		"                   each (1)\n"
		"  --hold-ms MS     server: after the first frag keep every token MS ms\n"
		"                   before giving any back, while still reading (test aid)\n"
		"  --tun-peer ADDR[/PREFIX]\n"
		"                   give the kernel side of the TUN link this address and\n"
		"                   prefix (24 or 64 by default) instead of the peer's\n"
		"                   (-c for a server, -s for a client): for two stacks on\n"
		"                   two TUN interfaces that the kernel forwards between\n"
		"  --ctl PATH       serve a control socket for devmemctl at PATH (mode 0600)\n"
		"                   while the stack runs\n"
		"  --progress       bytes and throughput on stderr every second\n"
		"                   (on by default when stderr is a terminal)\n"
		"  --verbose        stack log on stderr; client: each completion too\n"
		"  -h, --help       this text\n"
		"\n"
		"Client line mode: each line of stdin is written into the dmabuf at\n"
		"offset 0, sent zero-copy and waited for (its completion read from the\n"
		"error queue) before the next. Generator mode: the dmabuf, used up to a\n"
		"multiple of the pattern's period, is filled once and N bytes cycle\n"
		"through it, each range reused only after its send completed.\n",
		argv0, argv0);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("devmem-nc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	exit(2);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Unsigned decimal in [min, max], or a usage error naming the option. */
static unsigned long parse_uint(const char *what, const char *s, unsigned long min,
				unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+')
		die_usage("%s: '%s' is not a number", what, s ? s : "");
	v = strtoul(s, &end, 10);
	if (errno || *end)
		die_usage("%s: '%s' is not a number", what, s);
	if (v < min && max == ULONG_MAX)
		die_usage("%s: %lu must be at least %lu", what, v, min);
	if (v < min || v > max)
		die_usage("%s: %lu is out of range [%lu, %lu]", what, v, min, max);
	return v;
}

enum {
	OPT_MEM = 256,
	OPT_BUF_SIZE,
	OPT_DMABUF_SIZE,
	OPT_QUEUES,
	OPT_MAX_QUEUES,
	OPT_CONNS,
	OPT_HOLD_MS,
	OPT_PROGRESS,
	OPT_VERBOSE,
	OPT_BYTES,
	OPT_SEND_SIZE,
	OPT_TUN_PEER,
	OPT_CC,
	OPT_CTL,
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"listen", no_argument, NULL, 'l'},
		{"ifname", required_argument, NULL, 'f'},
		{"server", required_argument, NULL, 's'},
		{"client", required_argument, NULL, 'c'},
		{"port", required_argument, NULL, 'p'},
		{"validate", required_argument, NULL, 'v'},
		{"num-queues", required_argument, NULL, 'q'},
		{"start-queue", required_argument, NULL, 't'},
		{"mem", required_argument, NULL, OPT_MEM},
		{"buf-size", required_argument, NULL, OPT_BUF_SIZE},
		{"dmabuf-size", required_argument, NULL, OPT_DMABUF_SIZE},
		{"queues", required_argument, NULL, OPT_QUEUES},
		{"max-queues", required_argument, NULL, OPT_MAX_QUEUES},
		{"conns", required_argument, NULL, OPT_CONNS},
		{"hold-ms", required_argument, NULL, OPT_HOLD_MS},
		{"progress", no_argument, NULL, OPT_PROGRESS},
		{"verbose", no_argument, NULL, OPT_VERBOSE},
		{"chunk", required_argument, NULL, 'z'},
		{"bytes", required_argument, NULL, OPT_BYTES},
		{"send-size", required_argument, NULL, OPT_SEND_SIZE},
		{"tun-peer", required_argument, NULL, OPT_TUN_PEER},
		{"cc", required_argument, NULL, OPT_CC},
		{"ctl", required_argument, NULL, OPT_CTL},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *mem = "host";
	uint64_t v64;
	bool server_only = false, hold = false;
	int c;

	*o = (struct opts){
		.ifname = "dmtun0",
		.port = 5201,
		.nq = 1,
		.buf_size = 4096,
		.dmabuf_size = 64ull << 20,
		.conns = 1,
		.send_size = SEND_SIZE_DEF,
	};
	while ((c = getopt_long(argc, argv, "lf:s:c:p:v:q:t:z:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = true;
			break;
		case 'f':
			if (!*optarg || strlen(optarg) >= IFNAMSIZ)
				die_usage("-f: interface name '%s' must be 1 to %d characters",
					  optarg, IFNAMSIZ - 1);
			o->ifname = optarg;
			break;
		case 's':
			o->server = optarg;
			break;
		case 'c':
			o->client = optarg;
			break;
		case 'p':
			o->port = (unsigned)parse_uint("-p (port)", optarg, 1, 65535);
			break;
		case 'v':
			o->validate = parse_uint("-v (validation N)", optarg, 1, ULONG_MAX);
			break;
		case 'q':
			o->nq = (unsigned)parse_uint("-q (queues to bind)", optarg, 1, 1024);
			server_only = true;
			break;
		case 't':
			o->first_q = (unsigned)parse_uint("-t (first queue)", optarg, 0, 1023);
			server_only = true;
			break;
		case 'z':
			if (parse_size(optarg, &v64) || v64 < 1 || v64 > (1ull << 30))
				die_usage("-z: '%s' must be a size from 1 to 1G", optarg);
			o->chunk = v64;
			break;
		case OPT_BYTES:
			if (parse_size(optarg, &v64) || v64 < 1)
				die_usage("--bytes: '%s' is not a size (N, NK, NM, NG or NT, N >= 1)",
					  optarg);
			o->gen_bytes = v64;
			break;
		case OPT_SEND_SIZE:
			if (parse_size(optarg, &v64) || v64 < 1 || v64 > (1ull << 30))
				die_usage("--send-size: '%s' must be a size from 1 to 1G", optarg);
			o->send_size = v64;
			break;
		case OPT_TUN_PEER:
			o->tun_peer = optarg;
			break;
		case OPT_CC:
			o->cc = optarg;
			break;
		case OPT_CTL:
			o->ctl = optarg;
			break;
		case OPT_MEM:
			mem = optarg;
			break;
		case OPT_BUF_SIZE:
			if (parse_size(optarg, &v64) || v64 < 4096 || v64 > (1u << 30) ||
			    (v64 & (v64 - 1)))
				die_usage("--buf-size: '%s' must be a power of two from 4096 to 1G",
					  optarg);
			o->buf_size = (uint32_t)v64;
			break;
		case OPT_DMABUF_SIZE:
			if (parse_size(optarg, &v64) || v64 < 1 || v64 > SIZE_MAX / 2)
				die_usage("--dmabuf-size: '%s' is not a size (N, NK, NM or NG, N >= 1)",
					  optarg);
			o->dmabuf_size = v64;
			break;
		case OPT_QUEUES:
			o->queues = (unsigned)parse_uint("--queues", optarg, 1, 1024);
			break;
		case OPT_MAX_QUEUES:
			o->max_queues = (unsigned)parse_uint("--max-queues", optarg, 1, 64);
			break;
		case OPT_CONNS:
			o->conns = (unsigned)parse_uint("--conns", optarg, 1, 4096);
			server_only |= o->conns > 1;
			break;
		case OPT_HOLD_MS:
			o->hold_ms = (unsigned)parse_uint("--hold-ms", optarg, 0, 3600u * 1000);
			hold = true;
			break;
		case OPT_PROGRESS:
			o->progress = true;
			break;
		case OPT_VERBOSE:
			o->verbose = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			exit(2);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!o->server)
		die_usage("-s SERVER_IP is required");
	if (o->listen) {
		if (o->chunk || o->gen_bytes || o->cc)
			die_usage("-z, --bytes and --cc are client options (without -l)");
	} else {
		if (!o->client)
			die_usage("client mode needs -c CLIENT_IP (the stack's address)");
		if (server_only || hold)
			die_usage("-q, -t, --conns and --hold-ms are server options (-l)");
		if (o->validate && !o->gen_bytes)
			die_usage("-v in client mode needs --bytes (line mode sends stdin)");
	}
	o->mem = devmem_mem_parse(mem);
	if (o->mem < 0)
		die_usage("--mem: unknown memory '%s' (host, sealed or cuda)", mem);
	if (!o->queues)
		o->queues = o->first_q + o->nq;
	if (o->first_q + o->nq > o->queues)
		die_usage("queues %u..%u to bind, but the stack has only queues 0..%u (--queues)",
			  o->first_q, o->first_q + o->nq - 1, o->queues - 1);
	if (o->dmabuf_size < o->buf_size)
		die_usage("--dmabuf-size %" PRIu64 " is smaller than one buffer (%u)",
			  o->dmabuf_size, o->buf_size);
	if (!o->progress && isatty(STDERR_FILENO))
		o->progress = true;
}

/* ---- validation --------------------------------------------------------- */

static void validate(struct conn *c, const unsigned char *p, size_t len)
{
	const struct shared *sh = c->sh;

	if (!sh->pat)
		return;
	if (c->vfailed) { /* reported once; keep draining without comparing */
		c->voff += len;
		return;
	}
	while (len) {
		size_t chunk = len < PAT_CHUNK ? len : PAT_CHUNK;
		const unsigned char *want = sh->pat + c->voff % sh->period;

		if (memcmp(p, want, chunk)) {
			size_t i = 0;

			while (p[i] == want[i])
				i++;
			printf("conn %u: validation failed at offset %" PRIu64
			       ": expected 0x%02x, actual 0x%02x\n",
			       c->idx, c->voff + i, want[i], p[i]);
			fflush(stdout);
			c->vfailed = true;
			c->voff += len;
			return;
		}
		c->voff += chunk;
		p += chunk;
		len -= chunk;
	}
}

/* --mem cuda: queue a frag for the GPU's check (the CPU never reads it). */
static void gpu_push(struct conn *c, const struct dmabuf_cmsg *dc)
{
	if (c->g_n == c->g_cap) {
		unsigned cap = c->g_cap ? c->g_cap * 2 : 1024;

		c->g_off = realloc(c->g_off, sizeof(*c->g_off) * cap);
		c->g_pos = realloc(c->g_pos, sizeof(*c->g_pos) * cap);
		c->g_len = realloc(c->g_len, sizeof(*c->g_len) * cap);
		if (!c->g_off || !c->g_pos || !c->g_len)
			die("out of memory");
		c->g_cap = cap;
	}
	c->g_off[c->g_n] = dc->frag_offset;
	c->g_len[c->g_n] = dc->frag_size;
	c->g_pos[c->g_n] = c->voff;
	c->g_n++;
	c->voff += dc->frag_size;
}

/* Check the queued frags with one kernel launch, before their tokens go back. */
static void gpu_check(struct conn *c)
{
	uint64_t bad = 0, first = UINT64_MAX;

	if (!c->g_n)
		return;
	if (devmem_cuda_pattern_check(c->sh->dmabuf_fd, c->g_off, c->g_len, c->g_pos, c->g_n,
				      c->sh->o->validate, &bad, &first) < 0)
		die("conn %u: GPU validation: %s", c->idx, devmem_last_error());
	c->g_n = 0;
	if (bad && !c->vfailed) {
		printf("conn %u: validation failed at offset %" PRIu64 " (GPU: %" PRIu64
		       " mismatching bytes in the batch)\n", c->idx, first, bad);
		fflush(stdout);
		c->vfailed = true;
	}
}

/* Validate one device-memory frag through the application's view. */
static void validate_frag(struct conn *c, const struct dmabuf_cmsg *dc,
			  unsigned char **scratch, size_t *scratch_len)
{
	const struct shared *sh = c->sh;

	if (!sh->pat)
		return;
	if (c->vfailed) {
		c->voff += dc->frag_size;
		return;
	}
	if (sh->o->mem == DEVMEM_MEM_CUDA) {
		gpu_push(c, dc);
		return;
	}
	if (sh->map) {
		if (dc->frag_offset > sh->map_len || dc->frag_size > sh->map_len - dc->frag_offset)
			die("conn %u: frag [%" PRIu64 ", +%u) lies outside the dmabuf (%zu bytes)",
			    c->idx, (uint64_t)dc->frag_offset, dc->frag_size, sh->map_len);
		validate(c, sh->map + dc->frag_offset, dc->frag_size);
		return;
	}
	if (dc->frag_size > *scratch_len) {
		unsigned char *n = realloc(*scratch, dc->frag_size);

		if (!n)
			die("out of memory");
		*scratch = n;
		*scratch_len = dc->frag_size;
	}
	ssize_t r = devmem_dmabuf_read(sh->dmabuf_fd, dc->frag_offset, *scratch, dc->frag_size);
	if (r != (ssize_t)dc->frag_size)
		die("conn %u: devmem_dmabuf_read(offset %" PRIu64 ", %u bytes): %s", c->idx,
		    (uint64_t)dc->frag_offset, dc->frag_size,
		    r < 0 ? strerror(errno) : "short read");
	validate(c, *scratch, dc->frag_size);
}

/* ---- tokens -------------------------------------------------------------- */

/*
 * Give n tokens back, merging runs of consecutive tokens into ranges, in calls
 * of at most DEVMEM_DONTNEED_MAX_RANGES ranges and DEVMEM_DONTNEED_MAX_FRAGS
 * frags. Each call must report exactly the frags it named as freed.
 */
static void tokens_release(struct conn *c, const uint32_t *tok, size_t n)
{
	struct dmabuf_token r[DEVMEM_DONTNEED_MAX_RANGES];
	size_t i = 0;

	while (i < n) {
		unsigned nr = 0, frags = 0;

		while (i < n && frags < DEVMEM_DONTNEED_MAX_FRAGS) {
			if (nr && r[nr - 1].token_start + r[nr - 1].token_count == tok[i]) {
				r[nr - 1].token_count++;
			} else {
				if (nr == DEVMEM_DONTNEED_MAX_RANGES)
					break;
				r[nr].token_start = tok[i];
				r[nr].token_count = 1;
				nr++;
			}
			frags++;
			i++;
		}
		int ret = devmem_setsockopt(c->fd, SOL_SOCKET, SO_DEVMEM_DONTNEED, r,
					    (socklen_t)(nr * sizeof(r[0])));
		if (ret < 0)
			die("conn %u: setsockopt(SO_DEVMEM_DONTNEED, %u tokens): %s", c->idx,
			    frags, strerror(errno));
		if ((unsigned)ret != frags)
			die("conn %u: SO_DEVMEM_DONTNEED freed %d of %u tokens", c->idx, ret, frags);
		atomic_fetch_sub_explicit(&tokens_outstanding, frags, memory_order_relaxed);
	}
}

static void hold_push(struct conn *c, uint32_t token)
{
	if (c->nheld == c->held_cap) {
		size_t cap = c->held_cap ? c->held_cap * 2 : 4096;
		uint32_t *n = realloc(c->held, cap * sizeof(*n));

		if (!n)
			die("out of memory");
		c->held = n;
		c->held_cap = cap;
	}
	c->held[c->nheld++] = token;
	if (c->nheld > c->held_peak)
		c->held_peak = c->nheld;
}

static void hold_end(struct conn *c, const char *why)
{
	uint64_t held_ms = (now_ns() - (c->hold_until_ns - c->sh->o->hold_ms * 1000000ull)) / 1000000u;

	printf("conn %u: hold: kept %zu tokens for %" PRIu64 " ms (%s), giving them back\n",
	       c->idx, c->nheld, held_ms, why);
	fflush(stdout);
	tokens_release(c, c->held, c->nheld);
	c->nheld = 0;
	c->hold_done = true;
}

/* While holding, wait for data only until the hold ends: with every buffer
 * pinned the window may stay shut, and recvmsg would block for good. */
static void hold_wait(struct conn *c)
{
	for (;;) {
		uint64_t now = now_ns();

		if (now >= c->hold_until_ns) {
			hold_end(c, "hold time over");
			return;
		}
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		int ms = (int)((c->hold_until_ns - now + 999999) / 1000000);
		int r = poll(&pfd, 1, ms);

		if (r > 0)
			return;
		if (r < 0 && errno != EINTR)
			die("conn %u: poll: %s", c->idx, strerror(errno));
	}
}

/* ---- receive -------------------------------------------------------------- */

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	const struct shared *sh = c->sh;
	const struct opts *o = sh->o;
	size_t ctl_len = CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * CMSG_SLOTS;
	unsigned char *iobuf = malloc(IOV_LEN);
	void *ctl = malloc(ctl_len);
	uint32_t *toks = malloc(sizeof(*toks) * CMSG_SLOTS);
	size_t toks_cap = CMSG_SLOTS;
	unsigned char *scratch = NULL;
	size_t scratch_len = 0;

	if (!iobuf || !ctl || !toks)
		die("out of memory");
	for (;;) {
		if (o->hold_ms && c->hold_until_ns && !c->hold_done)
			hold_wait(c);

		struct iovec iov = {.iov_base = iobuf, .iov_len = IOV_LEN};
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl,
			.msg_controllen = ctl_len,
		};
		ssize_t n = devmem_recvmsg(c->fd, &msg, MSG_SOCK_DEVMEM);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ETOOSMALL &&
			    ctl_len < CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * CMSG_SLOTS_MAX) {
				/* The next cmsg did not fit whole; nothing was lost. */
				ctl_len *= 2;
				free(ctl);
				ctl = malloc(ctl_len);
				if (!ctl)
					die("out of memory");
				continue;
			}
			die("recvmsg: %s", errno == ETOOSMALL ? "control buffer too small (ETOOSMALL)"
							     : strerror(errno));
		}
		if (n == 0)
			break;
		if (msg.msg_flags & MSG_CTRUNC)
			die("recvmsg: control data truncated (MSG_CTRUNC)");

		/*
		 * Walk the cmsgs in stream order. Linear data sits in the iov,
		 * packed from its start in the order of the LINEAR cmsgs
		 * (Linux's tcp_recvmsg_dmabuf); dmabuf frags take no iov space.
		 */
		uint64_t covered = 0, linear_pos = 0;
		size_t ntoks = 0;
		bool devmem = false;

		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level != SOL_SOCKET ||
			    (cm->cmsg_type != SCM_DEVMEM_DMABUF && cm->cmsg_type != SCM_DEVMEM_LINEAR))
				continue;
			if (cm->cmsg_len < CMSG_LEN(sizeof(struct dmabuf_cmsg)))
				die("recvmsg: short devmem cmsg (%zu bytes)", (size_t)cm->cmsg_len);

			struct dmabuf_cmsg dc;

			memcpy(&dc, CMSG_DATA(cm), sizeof(dc));
			devmem = true;
			covered += dc.frag_size;
			if (cm->cmsg_type == SCM_DEVMEM_LINEAR) {
				c->linear_frags++;
				if (linear_pos + dc.frag_size > (uint64_t)n)
					die("recvmsg: linear frag of %u bytes beyond the %zd returned",
					    dc.frag_size, n);
				validate(c, iobuf + linear_pos, dc.frag_size);
				linear_pos += dc.frag_size;
				continue;
			}
			c->dmabuf_frags++;
			if (dc.dmabuf_id != sh->binding_id &&
			    !atomic_exchange(&warned_id, true))
				printf("warning: frag of dmabuf id %u, bound id is %u\n", dc.dmabuf_id,
				       sh->binding_id);
			validate_frag(c, &dc, &scratch, &scratch_len);
			if (ntoks == toks_cap) {
				uint32_t *t = realloc(toks, sizeof(*toks) * toks_cap * 2);

				if (!t)
					die("out of memory");
				toks = t;
				toks_cap *= 2;
			}
			toks[ntoks++] = dc.frag_token;
		}
		gpu_check(c); /* --mem cuda -v: the GPU checks this recvmsg's frags */
		atomic_fetch_add_explicit(&tokens_outstanding, (int_fast64_t)ntoks,
					  memory_order_relaxed);

		if (!devmem) {
			/* Ordinary TCP data: the flow is on a queue with no binding. */
			if (!atomic_exchange(&warned_unbound, true)) {
				/* as ncdevmem: payload outside device memory
				 * means RSS or the ntuple rule did not put the
				 * flow on a bound queue */
				printf("flow steering error: data arrived on an unbound queue "
				       "(no devmem cmsg)\n");
				fflush(stdout);
			}
			c->copied += (uint64_t)n;
			validate(c, iobuf, (size_t)n);
		} else if (covered != (uint64_t)n && !atomic_exchange(&warned_cover, true)) {
			printf("warning: recvmsg returned %zd bytes but its cmsgs cover %" PRIu64 "\n",
			       n, covered);
			fflush(stdout);
		}
		c->bytes += (uint64_t)n;
		atomic_fetch_add_explicit(&total_bytes, (uint64_t)n, memory_order_relaxed);

		if (ntoks && o->hold_ms && !c->hold_done) {
			if (!c->hold_until_ns)
				c->hold_until_ns = now_ns() + o->hold_ms * 1000000ull;
			for (size_t i = 0; i < ntoks; i++)
				hold_push(c, toks[i]);
		} else if (ntoks) {
			tokens_release(c, toks, ntoks);
		}
	}
	c->t_end_ns = now_ns();
	if (c->nheld)
		hold_end(c, "end of stream");
	free(scratch);
	free(c->g_off);
	free(c->g_pos);
	free(c->g_len);
	free(toks);
	free(ctl);
	free(iobuf);
	return NULL;
}

/* ---- progress -------------------------------------------------------------- */

static pthread_mutex_t prog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t prog_cond = PTHREAD_COND_INITIALIZER;
static bool prog_stop;

static void *progress_main(void *arg)
{
	uint64_t last = 0, t_last = now_ns();
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&prog_lock);
	while (!prog_stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&prog_cond, &prog_lock, &ts);
		if (prog_stop)
			break;

		uint64_t b = atomic_load_explicit(&total_bytes, memory_order_relaxed);
		uint64_t t = now_ns();
		double dt = (double)(t - t_last) / 1e9;

		fprintf(stderr, "progress: %.1f MiB, %.2f Gbit/s\n", (double)b / (1 << 20),
			dt > 0 ? (double)(b - last) * 8 / dt / 1e9 : 0.0);
		last = b;
		t_last = t;
	}
	pthread_mutex_unlock(&prog_lock);
	return NULL;
}

/* ---- reporting ------------------------------------------------------------- */

static const char *vstate(const struct shared *sh, bool failed)
{
	return !sh->pat ? "skipped" : failed ? "no" : "yes";
}

static void print_summary(const char *prefix, uint64_t bytes, uint64_t ns, uint64_t dfrags,
			  uint64_t lfrags, const char *validated)
{
	double s = (double)ns / 1e9;

	printf("%ssummary: bytes=%" PRIu64 " seconds=%.3f gbps=%.2f dmabuf_frags=%" PRIu64
	       " linear_frags=%" PRIu64 " validated=%s\n",
	       prefix, bytes, s, s > 0 ? (double)bytes * 8 / s / 1e9 : 0.0, dfrags, lfrags,
	       validated);
}

static void print_stats(struct devmem_stack *stack, struct devmem_binding *b,
			const struct opts *o)
{
	struct devmem_binding_stats bs = {0};
	uint64_t deadline = now_ns() + POOL_SETTLE_MS * 1000000ull;

	/* Buffers still in flight (a retransmitted FIN, a queued segment) come
	 * back shortly after the sockets closed: wait a bounded while. */
	for (;;) {
		if (devmem_binding_stats(b, &bs))
			die("devmem_binding_stats: %s", strerror(errno));
		if (bs.bufs_free == bs.bufs || now_ns() >= deadline)
			break;
		usleep(10000);
	}
	printf("pool: buffers=%u free=%u tokens_outstanding=%" PRIdFAST64 "\n", bs.bufs,
	       bs.bufs_free, atomic_load(&tokens_outstanding));
	for (unsigned q = 0; q < o->queues; q++) {
		struct devmem_queue_stats qs;

		if (devmem_queue_stats(stack, q, &qs)) {
			printf("queue %u: stats unavailable: %s\n", q, strerror(errno));
			continue;
		}
		printf("queue %u: packets=%" PRIu64 " bytes=%" PRIu64 " split=%" PRIu64
		       " linear=%" PRIu64 " drop_nobuf=%" PRIu64 " bad=%" PRIu64 "\n",
		       q, qs.packets, qs.bytes, qs.split, qs.linear, qs.drop_nobuf, qs.bad);
	}

	struct devmem_stack_stats ss;

	if (devmem_stack_stats(stack, &ss) == 0)
		printf("stack: ip_in=%" PRIu64 " ip_bad=%" PRIu64 " tcp_in=%" PRIu64
		       " tcp_bad=%" PRIu64 " tcp_ooo=%" PRIu64 " tcp_dup=%" PRIu64
		       " tcp_rst_sent=%" PRIu64 " tcp_no_socket=%" PRIu64 " tcp_syn_drop=%" PRIu64
		       " icmp_echo=%" PRIu64 " tcp_zero_window=%" PRIu64 " tcp_retrans=%" PRIu64
		       " tcp_rto=%" PRIu64 " icmp_pmtu=%" PRIu64 "\n",
		       ss.ip_in, ss.ip_bad, ss.tcp_in, ss.tcp_bad, ss.tcp_ooo, ss.tcp_dup,
		       ss.tcp_rst_sent, ss.tcp_no_socket, ss.tcp_syn_drop, ss.icmp_echo,
		       ss.tcp_zero_window, ss.tcp_retrans, ss.tcp_rto, ss.icmp_pmtu);
	fflush(stdout);
}

static void fmt_peer(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
	}
	snprintf(out, len, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

/* ---- server (receive) ------------------------------------------------------ */

/*
 * ncdevmem's NIC setup: RSS spread over the queues below the bound ones
 * (ethtool -X equal START), and with -c a 5-tuple rule steering the flow
 * (source port = PORT, as ncdevmem's client binds it) to the first bound
 * queue (ethtool -N ... action START).
 */
static void steer_setup(const struct opts *o, struct devmem_stack *stack, int family)
{
	if (o->first_q > 0 && devmem_rss_equal(stack, o->first_q) < 0)
		die("rss equal %u: %s (%s)", o->first_q, strerror(errno), devmem_last_error());
	if (!o->client)
		return;
	struct devmem_ntuple r = {
		.loc = DEVMEM_NTUPLE_LOC_ANY,
		.flow_type = family == AF_INET ? DEVMEM_FLOW_TCP4 : DEVMEM_FLOW_TCP6,
		.fields = DEVMEM_NTUPLE_SRC_IP | DEVMEM_NTUPLE_DST_IP | DEVMEM_NTUPLE_SRC_PORT |
			  DEVMEM_NTUPLE_DST_PORT,
		.sport = (uint16_t)o->port,
		.dport = (uint16_t)o->port,
		.action = (int)o->first_q,
	};
	if (inet_pton(family, o->client, r.src) != 1 || inet_pton(family, o->server, r.dst) != 1)
		die("flow steering: bad address");
	if (devmem_ntuple_add(stack, &r) < 0)
		die("flow steering rule: %s (%s)", strerror(errno), devmem_last_error());
	printf("flow steering: rule %u: %s %s:%u -> %s:%u queue %u\n", r.loc,
	       family == AF_INET ? "tcp4" : "tcp6", o->client, o->port, o->server, o->port,
	       o->first_q);
}

static int run_server(const struct opts *o, struct devmem_stack *stack, int family,
		      const struct sockaddr *sa, socklen_t salen)
{
	int dmabuf_fd = devmem_dmabuf_alloc((enum devmem_mem)o->mem, (size_t)o->dmabuf_size, 0);
	if (dmabuf_fd < 0)
		die("devmem_dmabuf_alloc(%s, %" PRIu64 "): %s", devmem_mem_name(o->mem),
		    o->dmabuf_size, strerror(errno));

	steer_setup(o, stack, family);
	unsigned *queues = calloc(o->nq, sizeof(*queues));
	if (!queues)
		die("out of memory");
	for (unsigned i = 0; i < o->nq; i++)
		queues[i] = o->first_q + i;
	struct devmem_binding *binding = devmem_bind_rx(stack, dmabuf_fd, queues, o->nq);
	if (!binding)
		die("devmem_bind_rx(queues %u..%u): %s", o->first_q, o->first_q + o->nq - 1,
		    strerror(errno));
	free(queues);

	struct shared sh = {
		.o = o,
		.dmabuf_fd = dmabuf_fd,
		.binding_id = devmem_binding_id(binding),
	};
	if (o->validate) {
		sh.period = pattern_period(o->validate);
		sh.pat = malloc(PAT_CHUNK + sh.period);
		if (!sh.pat)
			die("out of memory");
		pattern_fill(sh.pat, PAT_CHUNK + sh.period, o->validate);
		if (o->mem == DEVMEM_MEM_HOST) {
			/* The application's own read-only view; the stack places
			 * payload through its mapping, we only look. */
			ssize_t len = devmem_dmabuf_size(dmabuf_fd);

			if (len <= 0)
				die("devmem_dmabuf_size: %s", len < 0 ? strerror(errno) : "empty");
			void *m = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, dmabuf_fd, 0);

			if (m == MAP_FAILED)
				die("mmap(dmabuf): %s", strerror(errno));
			sh.map = m;
			sh.map_len = (size_t)len;
		}
	}

	int lfd = devmem_socket(stack, family, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket: %s", strerror(errno));
	int one = 1;
	if (devmem_setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		fprintf(stderr, "warning: setsockopt(SO_REUSEADDR): %s\n", strerror(errno));
	if (devmem_bind(lfd, sa, salen))
		die("bind(%s port %u): %s", o->server, o->port, strerror(errno));
	if (devmem_listen(lfd, (int)o->conns + 16))
		die("listen: %s", strerror(errno));
	printf("listening on %s port %u (ifname %s, mem %s, queues %u..%u of %u, binding %u)\n",
	       o->server, o->port, o->ifname, devmem_mem_name(o->mem), o->first_q,
	       o->first_q + o->nq - 1, o->queues, sh.binding_id);
	fflush(stdout);

	pthread_t prog;
	bool prog_on = o->progress && pthread_create(&prog, NULL, progress_main, NULL) == 0;

	struct conn *conns = calloc(o->conns, sizeof(*conns));
	if (!conns)
		die("out of memory");
	for (unsigned i = 0; i < o->conns; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		char pbuf[INET6_ADDRSTRLEN + 16];
		int fd;

		do
			fd = devmem_accept(lfd, (struct sockaddr *)&peer, &plen);
		while (fd < 0 && errno == EINTR);
		if (fd < 0)
			die("accept: %s", strerror(errno));
		conns[i] = (struct conn){.sh = &sh, .idx = i, .fd = fd, .t_start_ns = now_ns()};
		fmt_peer(&peer, pbuf, sizeof(pbuf));
		printf("conn %u: accepted from %s\n", i, pbuf);
		fflush(stdout);
		if (pthread_create(&conns[i].thread, NULL, conn_main, &conns[i]))
			die("pthread_create: %s", strerror(errno));
	}

	uint64_t bytes = 0, dfrags = 0, lfrags = 0, copied = 0, t0 = UINT64_MAX, t1 = 0;
	bool failed = false;

	for (unsigned i = 0; i < o->conns; i++) {
		struct conn *c = &conns[i];

		pthread_join(c->thread, NULL);
		bytes += c->bytes;
		dfrags += c->dmabuf_frags;
		lfrags += c->linear_frags;
		copied += c->copied;
		failed |= c->vfailed;
		t0 = c->t_start_ns < t0 ? c->t_start_ns : t0;
		t1 = c->t_end_ns > t1 ? c->t_end_ns : t1;
	}
	if (prog_on) {
		pthread_mutex_lock(&prog_lock);
		prog_stop = true;
		pthread_cond_signal(&prog_cond);
		pthread_mutex_unlock(&prog_lock);
		pthread_join(prog, NULL);
	}
	if (o->conns > 1) {
		for (unsigned i = 0; i < o->conns; i++) {
			struct conn *c = &conns[i];
			char prefix[32];

			snprintf(prefix, sizeof(prefix), "conn %u ", i);
			print_summary(prefix, c->bytes, c->t_end_ns - c->t_start_ns, c->dmabuf_frags,
				      c->linear_frags, vstate(&sh, c->vfailed));
		}
	}
	print_summary("", bytes, t1 - t0, dfrags, lfrags, vstate(&sh, failed));
	if (copied) {
		printf("copied: bytes=%" PRIu64 " (ordinary TCP data, no devmem cmsg)\n", copied);
		failed = true; /* the steering error reported above */
	}
	fflush(stdout);

	for (unsigned i = 0; i < o->conns; i++) {
		free(conns[i].held);
		devmem_close(conns[i].fd);
	}
	free(conns);
	devmem_close(lfd);

	print_stats(stack, binding, o);
	if (devmem_unbind(binding))
		fprintf(stderr, "devmem_unbind: %s\n", strerror(errno));
	if (sh.map)
		munmap((void *)sh.map, sh.map_len);
	devmem_dmabuf_free(dmabuf_fd);
	free(sh.pat);
	return failed ? 1 : 0;
}

/* ---- client (transmit) ------------------------------------------------------ */

/*
 * Zero-copy calls of one socket, numbered from 0 like the kernel's
 * notifications. Calls complete in order (ACKs are cumulative), so the calls
 * in flight are [done, next) and ends[id % TX_RING] is the stream position
 * just past call id: completing it frees the dmabuf up to there.
 */
struct tx {
	const struct opts *o;
	int fd;
	int family;
	uint32_t binding_id;
	int dmabuf_fd;
	unsigned char *map;    /* host dmabuf mapped for writing, or NULL (sealed) */
	size_t map_len;
	uint32_t next;         /* number the next successful call gets */
	uint32_t done;         /* every call below this completed */
	uint64_t *ends;        /* TX_RING entries */
	uint64_t head;         /* stream bytes handed to sendmsg */
	uint64_t tail;         /* stream bytes whose calls completed */
	uint64_t completions;  /* call numbers reported complete, duplicates too */
	uint64_t notifications;/* error-queue messages read */
	uint64_t zc_copied;    /* of which SO_EE_CODE_ZEROCOPY_COPIED */
	uint64_t t_progress;   /* last time head or tail moved */
	bool bad;              /* a completion out of order, twice, unknown, or an error */
};

/* The application writes into its dmabuf: through its mapping (host), or
 * with devmem_dmabuf_write (sealed: never mapped). */
static void tx_write(struct tx *t, uint64_t off, const void *src, size_t len)
{
	if (t->map) {
		memcpy(t->map + off, src, len);
		return;
	}
	if (devmem_dmabuf_write(t->dmabuf_fd, off, src, len) < 0)
		die("devmem_dmabuf_write(%zu bytes at %" PRIu64 "): %s", len, off, strerror(errno));
}

/* Fill [0, region) with the -v pattern from stream offset 0; region is a
 * multiple of the period, so the stream continues across the wrap. */
static void tx_fill_pattern(struct tx *t, uint64_t region, unsigned long n)
{
	if (t->o->mem == DEVMEM_MEM_CUDA) {
		/* the GPU writes the pattern where it lives */
		if (devmem_cuda_pattern_fill(t->dmabuf_fd, 0, region, 0, n) < 0)
			die("GPU pattern fill: %s", devmem_last_error());
		return;
	}
	unsigned period = pattern_period(n);
	size_t blen = (1u << 20) / period * period;
	unsigned char *buf = malloc(blen);

	if (!buf)
		die("out of memory");
	pattern_fill(buf, blen, n);
	for (uint64_t off = 0; off < region; off += blen)
		tx_write(t, off, buf, region - off < blen ? (size_t)(region - off) : blen);
	free(buf);
}

/*
 * iovs for len bytes starting at dmabuf offset off of a ring of region
 * bytes: split at the wrap and into -z CHUNK pieces, at most IOV_BATCH of
 * them. Each iov_base is an offset into the dmabuf, not a pointer. Returns
 * the number of iovs; *covered is how many of the len bytes they hold.
 */
static unsigned tx_iovs(const struct tx *t, struct iovec *iov, uint64_t off, uint64_t len,
			uint64_t region, uint64_t *covered)
{
	unsigned n = 0;

	*covered = 0;
	while (len && n < IOV_BATCH) {
		uint64_t c = len < region - off ? len : region - off;

		if (t->o->chunk && c > t->o->chunk)
			c = t->o->chunk;
		iov[n].iov_base = (void *)(uintptr_t)off;
		iov[n].iov_len = (size_t)c;
		n++;
		off = off + c == region ? 0 : off + c;
		len -= c;
		*covered += c;
	}
	return n;
}

/* One sendmsg(MSG_ZEROCOPY) naming the TX binding; a call that sent
 * anything gets the next number. */
static ssize_t tx_send(struct tx *t, struct iovec *iov, unsigned n)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = {
		.msg_iov = iov,
		.msg_iovlen = n,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	ssize_t r;

	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_DEVMEM_DMABUF;
	cm->cmsg_len = CMSG_LEN(sizeof(uint32_t));
	memcpy(CMSG_DATA(cm), &t->binding_id, sizeof(uint32_t));
	r = devmem_sendmsg(t->fd, &msg, MSG_ZEROCOPY);
	if (r > 0) {
		t->ends[t->next % TX_RING] = t->head + (uint64_t)r;
		t->next++;
		t->head += (uint64_t)r;
		t->t_progress = now_ns();
		atomic_fetch_add_explicit(&total_bytes, (uint64_t)r, memory_order_relaxed);
	}
	return r;
}

/* One completion, calls [lo, hi]: it must start right after the previous one
 * and end at a call that was made. */
static void tx_complete(struct tx *t, uint32_t lo, uint32_t hi)
{
	uint32_t inflight = t->next - t->done;

	t->completions += (uint64_t)(uint32_t)(hi - lo) + 1;
	if (t->o->verbose)
		fprintf(stderr, "tx complete [%u,%u]\n", lo, hi);
	if (lo != t->done || (uint32_t)(hi - lo) >= inflight) {
		printf("completion error: calls [%u, %u] reported complete; expected a range "
		       "from %u to at most %u\n",
		       lo, hi, t->done, t->next - 1);
		fflush(stdout);
		t->bad = true;
		/* a gap (lo above done) still frees what it covers; a duplicate
		 * or a call never made frees nothing */
		if ((uint32_t)(lo - t->done) >= inflight || (uint32_t)(hi - t->done) >= inflight)
			return;
	}
	t->tail = t->ends[hi % TX_RING];
	t->done = hi + 1;
	t->t_progress = now_ns();
}

/* Read every completion on the error queue; returns how many were read. */
static unsigned tx_reap(struct tx *t)
{
	int want_level = t->family == AF_INET ? SOL_IP : SOL_IPV6;
	int want_type = t->family == AF_INET ? IP_RECVERR : IPV6_RECVERR;
	unsigned got = 0;

	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
					    sizeof(struct sockaddr_in6)) + 64];
			struct cmsghdr align;
		} ctl;
		struct msghdr msg = {.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
		struct sock_extended_err ee;
		bool found = false;
		ssize_t r = devmem_recvmsg(t->fd, &msg, MSG_ERRQUEUE);

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return got;
			if (errno == EINTR)
				continue;
			die("recvmsg(MSG_ERRQUEUE): %s", strerror(errno));
		}
		if (msg.msg_flags & MSG_CTRUNC)
			die("recvmsg(MSG_ERRQUEUE): control data truncated (MSG_CTRUNC)");
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
				continue;
			if (cm->cmsg_len < CMSG_LEN(sizeof(ee)))
				die("recvmsg(MSG_ERRQUEUE): short cmsg (%zu bytes)",
				    (size_t)cm->cmsg_len);
			if (cm->cmsg_level != want_level || cm->cmsg_type != want_type) {
				printf("completion error: cmsg level %d type %d, want %d/%d\n",
				       cm->cmsg_level, cm->cmsg_type, want_level, want_type);
				t->bad = true;
			}
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			found = true;
			break;
		}
		if (!found)
			die("recvmsg(MSG_ERRQUEUE) returned %zd with no IP_RECVERR/IPV6_RECVERR cmsg", r);
		t->notifications++;
		got++;
		if (ee.ee_origin != SO_EE_ORIGIN_ZEROCOPY || ee.ee_errno != 0) {
			printf("completion error: ee_origin %u ee_errno %u (%s), want origin %u errno 0\n",
			       ee.ee_origin, ee.ee_errno, strerror((int)ee.ee_errno),
			       SO_EE_ORIGIN_ZEROCOPY);
			fflush(stdout);
			t->bad = true;
			continue;
		}
		if (ee.ee_code == SO_EE_CODE_ZEROCOPY_COPIED)
			t->zc_copied++;
		tx_complete(t, ee.ee_info, ee.ee_data);
	}
}

/* A pending socket error ends the run (POLLERR with an empty error queue). */
static void tx_check_error(struct tx *t)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (devmem_getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
		die("connection failed: %s (%" PRIu64 " bytes sent, %u calls in flight)",
		    strerror(err), t->head, t->next - t->done);
}

/* Wait up to a second for events (POLLERR is always reported) and reap the
 * completions that arrived. Fails the run once nothing moved for STALL_MS.
 * Returns revents. */
static short tx_wait(struct tx *t, short events)
{
	struct pollfd pfd = {.fd = t->fd, .events = events | POLLERR};
	int r = devmem_poll(&pfd, 1, 1000);

	if (r < 0) {
		if (errno == EINTR)
			return 0;
		die("devmem_poll: %s", strerror(errno));
	}
	if (r > 0 && (pfd.revents & POLLERR) && tx_reap(t) == 0)
		tx_check_error(t);
	if (now_ns() - t->t_progress > STALL_MS * 1000000ull)
		die("stalled: nothing sent or completed for %d s (%" PRIu64 " bytes sent, %"
		    PRIu64 " completed, calls %u..%u in flight)",
		    STALL_MS / 1000, t->head, t->tail, t->done, t->next - 1);
	return r > 0 ? pfd.revents : 0;
}

/* Send dmabuf [off, off + len) of a ring of region bytes, all of it, in as
 * many calls as the send buffer takes. */
static void tx_send_range(struct tx *t, uint64_t off, uint64_t len, uint64_t region)
{
	struct iovec iov[IOV_BATCH];

	while (len) {
		uint64_t covered;
		unsigned n = tx_iovs(t, iov, off, len, region, &covered);
		ssize_t r = tx_send(t, iov, n);

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
				tx_wait(t, POLLOUT);
				continue;
			}
			if (errno == EINTR)
				continue;
			die("sendmsg(MSG_ZEROCOPY, %u iovs, %" PRIu64 " bytes at offset %" PRIu64
			    "): %s", n, covered, off, strerror(errno));
		}
		off = (off + (uint64_t)r) % region;
		len -= (uint64_t)r;
	}
}

/* Until every call made so far completed, or STALL_MS without one. */
static void tx_drain(struct tx *t)
{
	while (t->done != t->next) {
		if (tx_reap(t))
			continue;
		short re = tx_wait(t, POLLERR);

		if ((re & POLLHUP) && t->done != t->next && tx_reap(t) == 0) {
			printf("completion error: connection closed with calls %u..%u never completed\n",
			       t->done, t->next - 1);
			t->bad = true;
			return;
		}
	}
}

/* Line mode, as ncdevmem's client: each stdin line goes into the dmabuf at
 * offset 0, is sent and completes before the next is read (a line longer
 * than the dmabuf goes in dmabuf-sized pieces). */
static void client_lines(struct tx *t, uint64_t region)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		for (size_t off = 0; off < (size_t)len;) {
			size_t n = (size_t)len - off;

			if (n > region)
				n = (size_t)region;
			tx_write(t, 0, line + off, n);
			tx_send_range(t, 0, n, region);
			tx_drain(t);
			off += n;
		}
	}
	if (ferror(stdin))
		die("reading stdin: %s", strerror(errno));
	free(line);
}

/* Generator mode: total bytes cycling through [0, region) of the dmabuf,
 * never more than region bytes in flight. */
static void client_generate(struct tx *t, uint64_t total, uint64_t region)
{
	struct iovec iov[IOV_BATCH];

	while (t->head < total) {
		uint64_t room = region - (t->head - t->tail);

		if (!room || t->next - t->done == TX_RING) {
			/* every range is in flight: wait for a completion */
			if (tx_reap(t) == 0)
				tx_wait(t, POLLERR);
			continue;
		}
		uint64_t len = total - t->head, covered;

		if (len > t->o->send_size)
			len = t->o->send_size;
		if (len > room)
			len = room;
		unsigned n = tx_iovs(t, iov, t->head % region, len, region, &covered);
		ssize_t r = tx_send(t, iov, n);

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
				if (tx_reap(t) == 0)
					tx_wait(t, POLLOUT);
				continue;
			}
			if (errno == EINTR)
				continue;
			die("sendmsg(MSG_ZEROCOPY, %u iovs, %" PRIu64 " bytes at offset %" PRIu64
			    "): %s", n, covered, t->head % region, strerror(errno));
		}
		/* completions arrive as ACKs do: pick them up between calls */
		tx_reap(t);
	}
}

/* After our FIN: read (and drop) until the peer closes, so that the stack is
 * not torn down under a connection still closing. */
static bool tx_wait_peer_close(struct tx *t)
{
	uint64_t deadline = now_ns() + CLOSE_WAIT_MS * 1000000ull;
	char sink[4096];

	for (;;) {
		ssize_t r = devmem_recv(t->fd, sink, sizeof(sink), 0);

		if (r == 0)
			return true;
		if (r > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return errno == ECONNRESET;
		if (now_ns() >= deadline)
			return false;
		struct pollfd pfd = {.fd = t->fd, .events = POLLIN};

		if (devmem_poll(&pfd, 1, 200) < 0 && errno != EINTR)
			die("devmem_poll: %s", strerror(errno));
	}
}

static void print_tx_stats(struct devmem_stack *stack, const struct devmem_binding_stats *bs)
{
	struct devmem_stack_stats ss;

	if (devmem_stack_stats(stack, &ss)) {
		printf("tx: stats unavailable: %s\n", strerror(errno));
		return;
	}
	printf("tx: bytes=%" PRIu64 " dev_bytes=%" PRIu64 " copied_bytes=%" PRIu64
	       " zc_host_bytes=%" PRIu64 " retrans_bytes=%" PRIu64 " retrans_dev_bytes=%" PRIu64
	       " zc_completions=%" PRIu64 " dma_errors=%" PRIu64 " binding_tx_bytes=%" PRIu64
	       " binding_tx_pending=%" PRIu64 "\n",
	       ss.tx_bytes, ss.tx_dev_bytes, ss.tx_copied_bytes, ss.tx_zc_host_bytes,
	       ss.tcp_retrans_bytes, ss.tcp_retrans_dev_bytes, ss.zc_completions, ss.tx_dma_errors,
	       bs->tx_bytes, bs->tx_pending);
	printf("stack: ip_in=%" PRIu64 " ip_bad=%" PRIu64 " tcp_in=%" PRIu64 " tcp_bad=%" PRIu64
	       " tcp_dup=%" PRIu64 " tcp_rst_sent=%" PRIu64 " tcp_zero_window=%" PRIu64
	       " tcp_retrans=%" PRIu64 " tcp_rto=%" PRIu64 " icmp_pmtu=%" PRIu64 "\n",
	       ss.ip_in, ss.ip_bad, ss.tcp_in, ss.tcp_bad, ss.tcp_dup, ss.tcp_rst_sent,
	       ss.tcp_zero_window, ss.tcp_retrans, ss.tcp_rto, ss.icmp_pmtu);
	fflush(stdout);
}

static int run_client(const struct opts *o, struct devmem_stack *stack, int family,
		      const struct sockaddr *sa, socklen_t salen)
{
	struct tx t = {.o = o, .family = family};
	unsigned period = o->validate ? pattern_period(o->validate) : 1;
	uint64_t region = o->dmabuf_size / period * period;
	bool failed = false;

	if (!region)
		die_usage("--dmabuf-size %" PRIu64 " is below the pattern's period (%u)",
			  o->dmabuf_size, period);
	t.ends = calloc(TX_RING, sizeof(*t.ends));
	if (!t.ends)
		die("out of memory");

	t.dmabuf_fd = devmem_dmabuf_alloc((enum devmem_mem)o->mem, (size_t)o->dmabuf_size, 0);
	if (t.dmabuf_fd < 0)
		die("devmem_dmabuf_alloc(%s, %" PRIu64 "): %s", devmem_mem_name(o->mem),
		    o->dmabuf_size, strerror(errno));
	struct devmem_binding *binding = devmem_bind_tx(stack, t.dmabuf_fd);
	if (!binding)
		die("devmem_bind_tx: %s", strerror(errno));
	t.binding_id = devmem_binding_id(binding);
	if (o->mem == DEVMEM_MEM_HOST) {
		/* the application's own view, for writing the data */
		void *m = mmap(NULL, (size_t)o->dmabuf_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       t.dmabuf_fd, 0);

		if (m == MAP_FAILED)
			die("mmap(dmabuf): %s", strerror(errno));
		t.map = m;
		t.map_len = (size_t)o->dmabuf_size;
	}
	if (o->gen_bytes && o->validate)
		tx_fill_pattern(&t, region, o->validate);

	t.fd = devmem_socket(stack, family, SOCK_STREAM, 0);
	if (t.fd < 0)
		die("socket: %s", strerror(errno));
	int one = 1;
	if (devmem_setsockopt(t.fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
		die("setsockopt(SO_ZEROCOPY): %s", strerror(errno));
	if (o->cc && devmem_setsockopt(t.fd, IPPROTO_TCP, TCP_CONGESTION, o->cc,
				       (socklen_t)strlen(o->cc)))
		die("setsockopt(TCP_CONGESTION, %s): %s", o->cc, strerror(errno));
	if (devmem_connect(t.fd, sa, salen))
		die("connect(%s port %u): %s", o->server, o->port, strerror(errno));
	if (devmem_fcntl(t.fd, F_SETFL, devmem_fcntl(t.fd, F_GETFL) | O_NONBLOCK))
		die("fcntl(O_NONBLOCK): %s", strerror(errno));
	printf("connected to %s port %u from %s (ifname %s, mem %s, binding %u, %s)\n",
	       o->server, o->port, o->client, o->ifname, devmem_mem_name(o->mem), t.binding_id,
	       o->gen_bytes ? "generator" : "line mode");
	fflush(stdout);

	pthread_t prog;
	bool prog_on = o->progress && pthread_create(&prog, NULL, progress_main, NULL) == 0;
	uint64_t t0 = now_ns();

	t.t_progress = t0;
	if (o->gen_bytes)
		client_generate(&t, o->gen_bytes, region);
	else
		client_lines(&t, region);
	if (devmem_shutdown(t.fd, SHUT_WR))
		die("shutdown(SHUT_WR): %s", strerror(errno));
	tx_drain(&t);
	uint64_t t1 = now_ns();

	if (prog_on) {
		pthread_mutex_lock(&prog_lock);
		prog_stop = true;
		pthread_cond_signal(&prog_cond);
		pthread_mutex_unlock(&prog_lock);
		pthread_join(prog, NULL);
	}
	if (!tx_wait_peer_close(&t)) {
		printf("warning: the peer did not close within %d s\n", CLOSE_WAIT_MS / 1000);
		fflush(stdout);
	}

	bool once = !t.bad && t.done == t.next && t.completions == t.next;
	double s = (double)(t1 - t0) / 1e9;

	printf("summary: bytes=%" PRIu64 " seconds=%.3f gbps=%.2f sends=%u completions=%" PRIu64
	       " notifications=%" PRIu64 " zc_copied=%" PRIu64 " completed_once=%s\n",
	       t.head, s, s > 0 ? (double)t.head * 8 / s / 1e9 : 0.0, t.next, t.completions,
	       t.notifications, t.zc_copied, once ? "yes" : "no");
	fflush(stdout);
	failed |= !once;
	devmem_close(t.fd);

	/* Every byte was acknowledged, so nothing may stay queued on the
	 * binding; allow a moment for the connection's last segments. */
	struct devmem_binding_stats bs = {0};
	uint64_t deadline = now_ns() + POOL_SETTLE_MS * 1000000ull;

	for (;;) {
		if (devmem_binding_stats(binding, &bs))
			die("devmem_binding_stats: %s", strerror(errno));
		if (bs.tx_pending == 0 || now_ns() >= deadline)
			break;
		usleep(10000);
	}
	print_tx_stats(stack, &bs);
	if (!bs.is_tx) {
		printf("binding error: devmem_binding_stats says the binding is not TX\n");
		failed = true;
	}
	if (bs.tx_pending) {
		printf("binding error: %" PRIu64 " bytes still pending on the TX binding\n",
		       bs.tx_pending);
		failed = true;
	}
	fflush(stdout);
	if (devmem_unbind(binding))
		fprintf(stderr, "devmem_unbind: %s\n", strerror(errno));
	if (t.map)
		munmap(t.map, t.map_len);
	devmem_dmabuf_free(t.dmabuf_fd);
	free(t.ends);
	return failed ? 1 : 0;
}

/* ---- main ------------------------------------------------------------------- */

/* ADDR[/PREFIX] of the given family; the prefix only where prefix != NULL. */
static void parse_addr(const char *what, const char *s, int family, void *addr,
		       unsigned *prefix)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";

	if (n >= sizeof(buf) || (memcpy(buf, s, n), buf[n] = 0, inet_pton(family, buf, addr) != 1)) {
		if (!strcmp(what, "-s"))
			die_usage("-s: '%s' is not an IPv4 or IPv6 address", s);
		die_usage("%s: '%s' is not an %s address (-s is %s)", what, s, fam, fam);
	}
	if (slash && !prefix)
		die_usage("%s: '%s': only --tun-peer takes a /PREFIX", what, s);
	if (slash)
		*prefix = (unsigned)parse_uint(what, slash + 1, 1, family == AF_INET ? 32 : 128);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct devmem_config cfg;
	struct devmem_tun_opts tun = {0};
	struct sockaddr_storage sa = {0};
	socklen_t salen;
	int family;

	parse_args(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	if (o.mem == DEVMEM_MEM_CUDA) {
		/* before any interface is touched: say plainly when no GPU is here */
		if (devmem_cuda_probe() < 0)
			die("--mem cuda: %s", devmem_last_error());
		if (o.validate && !devmem_cuda_have_kernels())
			die("--mem cuda -v: this build has no GPU kernels (nvcc was not found)");
	}

	devmem_config_init(&cfg);
	cfg.rx_queues = o.queues;
	if (o.max_queues && o.max_queues < o.queues)
		die_usage("--max-queues %u is below --queues %u", o.max_queues, o.queues);
	cfg.max_queues = o.max_queues;
	cfg.buf_size = o.buf_size;
	cfg.verbose = o.verbose;
	tun.ifname = o.ifname;
	tun.prefix4 = 24;
	tun.prefix6 = 64;

	/*
	 * The stack takes SERVER_IP in server mode and CLIENT_IP in client
	 * mode; the kernel side of the TUN link takes the other one, unless
	 * --tun-peer names its address (then the kernel routes to the peer
	 * through another interface, e.g. a second stack's TUN).
	 */
	const char *self = o.listen ? o.server : o.client;
	const char *self_what = o.listen ? "-s" : "-c";
	const char *peer = o.tun_peer ? o.tun_peer : o.listen ? o.client : o.server;
	const char *peer_what = o.tun_peer ? "--tun-peer" : o.listen ? "-c" : "-s";
	unsigned *peer_prefix;

	if (strchr(o.server, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;

		family = AF_INET6;
		parse_addr("-s", o.server, family, &s6->sin6_addr, NULL);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)o.port);
		salen = sizeof(*s6);
		parse_addr(self_what, self, family, &cfg.ipv6, NULL);
		peer_prefix = o.tun_peer ? &tun.prefix6 : NULL;
		if (peer)
			parse_addr(peer_what, peer, family, &tun.peer_ipv6, peer_prefix);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;

		family = AF_INET;
		parse_addr("-s", o.server, family, &s4->sin_addr, NULL);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)o.port);
		salen = sizeof(*s4);
		parse_addr(self_what, self, family, &cfg.ipv4, NULL);
		peer_prefix = o.tun_peer ? &tun.prefix4 : NULL;
		if (peer)
			parse_addr(peer_what, peer, family, &tun.peer_ipv4, peer_prefix);
	}

	struct devmem_stack *stack = devmem_stack_open_tun(&cfg, &tun);
	if (!stack)
		die("devmem_stack_open_tun(%s): %s", o.ifname, strerror(errno));
	if (o.ctl && devmem_ctl_listen(stack, o.ctl))
		die("--ctl %s: %s (%s)", o.ctl, strerror(errno), devmem_last_error());

	int rc = o.listen ? run_server(&o, stack, family, (struct sockaddr *)&sa, salen)
			  : run_client(&o, stack, family, (struct sockaddr *)&sa, salen);

	devmem_ctl_close(stack);
	devmem_stack_close(stack);
	return rc;
}
