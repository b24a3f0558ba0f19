/* SPDX-License-Identifier: MIT */
/*
 * The kernel's TUN applies the software NIC's steering decision
 * (link/tun_steer.c against nic/steer.c).
 *
 * 1. The generated program against the C decision: random configurations
 *    (keys, tables, up to TUN_STEER_MAX_RULES rules, drop rules) and random
 *    packets (IPv4 with options and fragments, IPv6 with extension headers,
 *    TCP, UDP, ICMP, truncated, not IP) run with BPF_PROG_TEST_RUN; the
 *    program must return steer_decide()'s queue (TUN_STEER_DROP_QUEUE for
 *    a drop rule) for every one.
 * 2. Real traffic, in a network namespace of its own (unshare), on a 4-queue
 *    TUN whose kernel side is 192.0.2.2 / 2001:db8::2: 64 TCP flows from
 *    kernel sockets spread over the 4 queues in the table's proportions,
 *    then 64 UDP flows under weights 1 0 1 2; an ntuple rule moves one
 *    chosen flow to a chosen queue, a lower location overrides it, a drop
 *    rule's frames arrive on the documented queue; IPv6, ICMP and IP
 *    fragments; fewer queues (TUNSETQUEUE detach); the largest rule table.
 *    Every frame read must sit on the queue the C decision picks.
 *
 * Needs root, /dev/net/tun and bpf(); else it skips (77).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* unshare() */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "link/link.h"
#include "link/tun_steer.h"
#include "nic/steer.h"
#include "util/util.h"
#include "wire/wire.h"

#define IFNAME "dmsteer0"
#define NQ 4
#define NFLOWS 64

static const uint8_t US4[4] = {192, 0, 2, 1}, KERN4[4] = {192, 0, 2, 2};
static const uint8_t US6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t KERN6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
	return (uint32_t)(rng >> 16);
}

static int expect_q(const struct steer *st, const struct steer_key *k)
{
	int q = steer_decide(st, k, NULL);

	return q < 0 ? TUN_STEER_DROP_QUEUE : q;
}

/* ---- 1. the program against the model ------------------------------------ */

static int test_run(int prog, const uint8_t *ip, size_t len, uint32_t *ret)
{
	uint8_t buf[14 + 256];
	union bpf_attr a;

	/* test_run takes an Ethernet frame and pulls the header: the program
	 * then sees the network header at 0, as on a TUN. The program reads
	 * the version nibble, not skb->protocol, so the EtherType is a local
	 * experimental one (0x88b5): with IPv4's, test_run itself refuses
	 * packets shorter than an IPv4 header. */
	memset(buf, 0, 14);
	buf[12] = 0x88, buf[13] = 0xb5;
	memcpy(buf + 14, ip, len);
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)prog;
	a.test.data_in = (uint64_t)(uintptr_t)buf;
	a.test.data_size_in = (uint32_t)(14 + len);
	a.test.repeat = 1;
	if (syscall(__NR_bpf, BPF_PROG_TEST_RUN, &a, sizeof(a)) < 0)
		return -errno;
	*ret = a.test.retval;
	return 0;
}

static const uint8_t A4[4][4] = {{192, 0, 2, 1}, {192, 0, 2, 2}, {192, 0, 2, 3}, {192, 0, 2, 77}};
static const uint8_t A6[4][16] = {
	{0x20, 0x01, 0x0d, 0xb8, [15] = 1}, {0x20, 0x01, 0x0d, 0xb8, [15] = 2},
	{0x20, 0x01, 0x0d, 0xb8, [15] = 3}, {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 5}};
static const uint16_t PORTS[6] = {53, 80, 443, 1000, 7003, 65535};

static uint16_t port(void)
{
	return rnd() % 4 ? PORTS[rnd() % 6] : (uint16_t)rnd();
}

static uint8_t proto(void)
{
	static const uint8_t p[] = {6, 6, 17, 17, 1, 47, 0, 44, 58};
	return rnd() % 8 ? p[rnd() % sizeof(p)] : (uint8_t)rnd();
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* A packet of a random kind; returns its length (<= 200). */
static size_t gen_pkt(uint8_t *p)
{
	unsigned kind = rnd() % 16;
	size_t len;

	memset(p, 0, 200);
	for (unsigned i = 0; i < 200; i++)
		p[i] = (uint8_t)rnd();
	if (kind < 7) {
		unsigned ihl = rnd() % 7 ? 5 + (rnd() % 4 ? 0 : rnd() % 11) : rnd() % 16;

		p[0] = (uint8_t)(0x40 | ihl);
		static const uint8_t frag[] = {0, 0, 0x40, 0x40, 0x20, 0x60}; /* DF, MF */

		p[6] = rnd() % 6 ? frag[rnd() % sizeof(frag)] : (uint8_t)rnd(); /* or an offset */
		p[7] = rnd() % 6 ? 0 : (uint8_t)rnd();
		p[9] = proto();
		memcpy(p + 12, A4[rnd() % 4], 4);
		memcpy(p + 16, A4[rnd() % 4], 4);
		len = ihl * 4 + 8 + rnd() % 32;
		if (ihl * 4 + 4 <= 200) {
			put16(p + ihl * 4, port());
			put16(p + ihl * 4 + 2, port());
		}
	} else if (kind < 13) {
		p[0] = 0x60;
		p[6] = proto();
		memcpy(p + 8, A6[rnd() % 4], 16);
		memcpy(p + 24, A6[rnd() % 4], 16);
		put16(p + 40, port());
		put16(p + 42, port());
		len = 48 + rnd() % 32;
	} else {
		unsigned v = rnd() % 16;

		p[0] = (uint8_t)(v == 4 || v == 6 ? 0x5f : v << 4 | (rnd() % 16));
		len = rnd() % 64;
	}
	if (rnd() % 8 == 0)
		len = rnd() % (len + 1); /* cut anywhere */
	return len < 200 ? len : 200;
}

static void gen_rule(struct steer *st, bool drop_ok)
{
	struct devmem_ntuple r = {0};
	int ft = 1 + (int)(rnd() % 4);
	bool v6 = ft == DEVMEM_FLOW_TCP6 || ft == DEVMEM_FLOW_UDP6;

	r.loc = rnd() % 5 ? rnd() % STEER_LOCS : DEVMEM_NTUPLE_LOC_ANY;
	r.flow_type = ft;
	r.fields = rnd() % 16;
	memcpy(r.src, v6 ? A6[rnd() % 4] : A4[rnd() % 4], v6 ? 16 : 4);
	memcpy(r.dst, v6 ? A6[rnd() % 4] : A4[rnd() % 4], v6 ? 16 : 4);
	r.sport = port();
	r.dport = port();
	r.action = drop_ok && rnd() % 6 == 0 ? DEVMEM_NTUPLE_DROP : (int)(rnd() % st->nqueues);
	steer_rule_add(st, &r, NULL); /* a taken location: just fewer rules */
}

static void gen_steer(struct steer *st, unsigned nrules)
{
	struct devmem_rss rss;

	steer_init(st, 1 + rnd() % 8);
	st->max_rules = TUN_STEER_MAX_RULES;
	steer_rss_get(st, &rss);
	if (rnd() % 2)
		for (unsigned i = 0; i < STEER_KEY_LEN; i++)
			rss.key[i] = (uint8_t)rnd();
	rss.indir_size = 1u << (rnd() % 8);
	for (unsigned i = 0; i < rss.indir_size; i++)
		rss.indir[i] = rnd() % st->nqueues;
	CHECK_EQ(steer_rss_set(st, &rss, NULL), 0);
	while (st->nrules < nrules)
		gen_rule(st, true);
}

static char vlog[1 << 20];

/* Returns false when bpf() is not allowed here at all (skip). */
static bool test_prog_model(void)
{
	static struct steer st;
	unsigned runs = 0, bad = 0, by_rule = 0, dropped = 0, not_ip = 0;
	uint8_t pkt[200];

	for (int c = 0; c < 40; c++) {
		unsigned nrules = c == 0 ? 0 : c == 1 ? TUN_STEER_MAX_RULES : rnd() % 48;
		uint64_t t0 = devmem_now_us();
		int fd;

		gen_steer(&st, nrules);
		fd = tun_steer_prog_load(&st, vlog, sizeof(vlog));
		if (c == 0 && (fd == -EPERM || fd == -ENOSYS || fd == -EACCES))
			return false;
		if (fd < 0) {
			size_t n = strlen(vlog);
			fprintf(stderr, "program load: %s; verifier log tail:\n%s\n", strerror(-fd),
				vlog + (n > 3000 ? n - 3000 : 0));
			CHECK(fd >= 0);
			continue;
		}
		if (c == 1)
			fprintf(stderr, "  %u rules: program loaded in %.1f ms\n", st.nrules,
				(double)(devmem_now_us() - t0) / 1000);
		for (int i = 0; i < 400; i++) {
			size_t len = gen_pkt(pkt);
			struct steer_key k;
			uint32_t got = ~0u;
			int want;

			steer_key_parse(pkt, len, &k);
			want = expect_q(&st, &k);
			/* make rules match often: retarget some packets at a rule */
			if (st.nrules && rnd() % 3 == 0 && len >= 44 && (pkt[0] >> 4) == 4) {
				const struct devmem_ntuple *r = &st.rules[rnd() % st.nrules];
				if (r->flow_type == DEVMEM_FLOW_TCP4 ||
				    r->flow_type == DEVMEM_FLOW_UDP4) {
					pkt[0] = 0x45, pkt[6] = 0, pkt[7] = 0;
					pkt[9] = r->flow_type == DEVMEM_FLOW_TCP4 ? 6 : 17;
					if (r->fields & DEVMEM_NTUPLE_SRC_IP)
						memcpy(pkt + 12, r->src, 4);
					if (r->fields & DEVMEM_NTUPLE_DST_IP)
						memcpy(pkt + 16, r->dst, 4);
					if (r->fields & DEVMEM_NTUPLE_SRC_PORT)
						put16(pkt + 20, r->sport);
					if (r->fields & DEVMEM_NTUPLE_DST_PORT)
						put16(pkt + 22, r->dport);
					steer_key_parse(pkt, len, &k);
					want = expect_q(&st, &k);
				}
			}
			CHECK_EQ(test_run(fd, pkt, len, &got), 0);
			runs++;
			by_rule += steer_match(&st, &k) != NULL;
			dropped += steer_decide(&st, &k, NULL) < 0;
			not_ip += !k.family;
			if (got != (uint32_t)want && ++bad <= 10)
				fprintf(stderr, "config %d: packet of %zu bytes (%02x, proto %u): "
					"program %u, decision %d\n", c, len, pkt[0], k.proto, got,
					want);
		}
		close(fd);
	}
	CHECK_EQ(bad, 0);
	fprintf(stderr, "  %u packets (%u by a rule, %u of them dropped; %u not IP or cut "
		"short), program and decision agree on %u\n", runs, by_rule, dropped, not_ip,
		runs - bad);
	return true;
}

/* ---- 2. real traffic ---------------------------------------------------------- */

static struct link *lk;
static struct tun_steer *ts;
static struct steer cur; /* what the device was last told */

struct rec {
	unsigned q;
	struct steer_key k;
};
static struct rec recs[1024];
static unsigned nrec, per_q[NQ], misplaced;
static uint8_t frame[WIRE_VNET_LEN + 65536];

static void apply(void)
{
	int r = tun_steer_update(ts, &cur);

	if (r < 0)
		fprintf(stderr, "tun_steer_update: %s\n", strerror(-r));
	CHECK_EQ(r, 0);
}

typedef bool (*want_fn)(const struct steer_key *k);

/*
 * Read every queue until `want` frames that `ours` accepts arrived (3 s at
 * most), then 30 ms more. Every frame, ours or the kernel's own (MLD...),
 * must be on the queue the decision picks.
 */
static void collect(unsigned want, want_fn ours)
{
	uint64_t end = devmem_now_us() + 3000000;
	bool tail = false;

	nrec = 0;
	memset(per_q, 0, sizeof(per_q));
	for (;;) {
		struct pollfd pf[NQ];

		for (unsigned q = 0; q < NQ; q++) {
			for (;;) {
				struct iovec iov = {frame, sizeof(frame)};
				ssize_t n = lk->ops->rx(lk, q, &iov, 1);
				struct steer_key k;

				if (n < 0)
					break;
				if ((size_t)n < WIRE_VNET_LEN)
					continue;
				steer_key_parse(frame + WIRE_VNET_LEN, (size_t)n - WIRE_VNET_LEN,
						&k);
				if ((int)q != expect_q(&cur, &k) && ++misplaced <= 10)
					fprintf(stderr, "frame (family %u proto %u %u->%u) on queue %u, "
						"steering picks %d\n", k.family, k.proto, k.sport,
						k.dport, q, expect_q(&cur, &k));
				if (ours(&k) && nrec < DEVMEM_ARRAY_SIZE(recs)) {
					recs[nrec++] = (struct rec){q, k};
					per_q[q]++;
				}
			}
		}
		uint64_t now = devmem_now_us();
		if (!tail && nrec >= want) {
			tail = true;
			end = now + 30000;
		}
		if (now >= end)
			break;
		for (unsigned q = 0; q < NQ; q++)
			pf[q] = (struct pollfd){.fd = lk->ops->rx_fd(lk, q), .events = POLLIN};
		poll(pf, NQ, (int)((end - now + 999) / 1000));
	}
	if (nrec < want)
		fprintf(stderr, "only %u of %u frames arrived\n", nrec, want);
	CHECK(nrec >= want);
}

/* The queue the frame of (family, proto, sport) arrived on, -1 if none. */
static int arrived(int family, uint8_t proto, uint16_t sport)
{
	for (unsigned i = 0; i < nrec; i++)
		if (recs[i].k.family == family && recs[i].k.proto == proto && recs[i].k.has_ports &&
		    recs[i].k.sport == sport)
			return (int)recs[i].q;
	return -1;
}

static int sock_bound(int family, int type, const void *addr, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int s = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		memcpy(&a->sin_addr, addr, 4);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		memcpy(&a->sin6_addr, addr, 16);
		len = sizeof(*a);
	}
	if (bind(s, (struct sockaddr *)&ss, len) < 0) {
		fprintf(stderr, "bind port %u: %s\n", port, strerror(errno));
		close(s);
		return -1;
	}
	return s;
}

static socklen_t peer(struct sockaddr_storage *ss, int family, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		memcpy(&a->sin_addr, US4, 4);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (void *)ss;
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	memcpy(&a->sin6_addr, US6, 16);
	return sizeof(*a);
}

/* ---- flows ---- */

#define TCP_SPORT 20000
#define TCP6_SPORT 21000
#define UDP_SPORT 30000
#define UDP_DPORT 7000 /* + i % 8 */

static bool tcp4_ours(const struct steer_key *k)
{
	return k->family == AF_INET && k->proto == 6 && k->sport >= TCP_SPORT &&
	       k->sport < TCP_SPORT + NFLOWS;
}

static bool udp4_ours(const struct steer_key *k)
{
	return k->family == AF_INET && k->proto == 17 && k->has_ports && k->sport >= UDP_SPORT &&
	       k->sport < UDP_SPORT + NFLOWS;
}

static bool tcp6_ours(const struct steer_key *k)
{
	return k->family == AF_INET6 && k->proto == 6 && k->sport >= TCP6_SPORT &&
	       k->sport < TCP6_SPORT + 16;
}

/* ICMP and IP fragments: hashed over the addresses alone. */
static bool l3_ours(const struct steer_key *k)
{
	return (k->family == AF_INET && (k->proto == 1 || (k->proto == 17 && !k->has_ports))) ||
	       (k->family == AF_INET6 && k->proto == 44);
}

static void flow_key(struct steer_key *k, int family, uint8_t proto, uint16_t sport,
		     uint16_t dport)
{
	steer_key_set(k, family, proto, family == AF_INET ? (const void *)KERN4 : KERN6,
		      family == AF_INET ? (const void *)US4 : US6, sport, dport);
}

static int udp[NFLOWS];
static int qof[NFLOWS]; /* the queue UDP flow i arrived on */

/* One datagram from each UDP flow; each must arrive where the decision,
 * computed from what the test knows of the flow, says. */
static void udp_round(void)
{
	struct sockaddr_storage ss;

	for (unsigned i = 0; i < NFLOWS; i++) {
		socklen_t len = peer(&ss, AF_INET, (uint16_t)(UDP_DPORT + i % 8));
		CHECK_EQ(sendto(udp[i], "x", 1, 0, (struct sockaddr *)&ss, len), 1);
	}
	collect(NFLOWS, udp4_ours);
	for (unsigned i = 0; i < NFLOWS; i++) {
		struct steer_key k;

		flow_key(&k, AF_INET, 17, (uint16_t)(UDP_SPORT + i), (uint16_t)(UDP_DPORT + i % 8));
		qof[i] = arrived(AF_INET, 17, (uint16_t)(UDP_SPORT + i));
		CHECK_EQ(qof[i], expect_q(&cur, &k));
	}
}

static void test_tcp_equal(void)
{
	int s[NFLOWS];
	struct sockaddr_storage ss;

	steer_init(&cur, NQ);
	cur.max_rules = TUN_STEER_MAX_RULES;
	apply();
	for (unsigned i = 0; i < NFLOWS; i++) {
		socklen_t len = peer(&ss, AF_INET, (uint16_t)(5000 + i % 7));

		s[i] = sock_bound(AF_INET, SOCK_STREAM, KERN4, (uint16_t)(TCP_SPORT + i));
		CHECK(s[i] >= 0);
		if (s[i] >= 0)
			CHECK(connect(s[i], (struct sockaddr *)&ss, len) < 0 &&
			      errno == EINPROGRESS);
	}
	collect(NFLOWS, tcp4_ours); /* the SYNs */
	for (unsigned i = 0; i < NFLOWS; i++) {
		struct steer_key k;

		flow_key(&k, AF_INET, 6, (uint16_t)(TCP_SPORT + i), (uint16_t)(5000 + i % 7));
		CHECK_EQ(arrived(AF_INET, 6, (uint16_t)(TCP_SPORT + i)), expect_q(&cur, &k));
	}
	for (unsigned i = 0; i < NFLOWS; i++)
		if (s[i] >= 0)
			close(s[i]); /* before any SYN is retransmitted */
	/* equal 4: about 16 each */
	fprintf(stderr, "  64 TCP flows, equal 4: %u %u %u %u\n", per_q[0], per_q[1], per_q[2],
		per_q[3]);
	for (unsigned q = 0; q < NQ; q++)
		CHECK(per_q[q] >= 6 && per_q[q] <= 28);
}

static void test_udp_weights(void)
{
	const unsigned w[NQ] = {1, 0, 1, 2};
	struct devmem_rss rss;

	steer_rss_get(&cur, &rss);
	rss.indir_size = 16;
	CHECK_EQ(steer_rss_set(&cur, &rss, NULL), 0);
	CHECK_EQ(steer_weights(&cur, w, NQ, NULL), 0);
	apply();
	for (unsigned i = 0; i < NFLOWS; i++) {
		udp[i] = sock_bound(AF_INET, SOCK_DGRAM, KERN4, (uint16_t)(UDP_SPORT + i));
		CHECK(udp[i] >= 0);
	}
	udp_round();
	fprintf(stderr, "  64 UDP flows, weights 1 0 1 2 over 16 entries: %u %u %u %u\n",
		per_q[0], per_q[1], per_q[2], per_q[3]);
	CHECK_EQ(per_q[1], 0);
	CHECK(per_q[0] >= 6 && per_q[0] <= 28);
	CHECK(per_q[2] >= 6 && per_q[2] <= 28);
	CHECK(per_q[3] >= 20 && per_q[3] <= 44);
}

/* Flow X = UDP flow 3 (dport 7003); queue 1 has weight 0, so only rules
 * send anything there. */
#define FLOW_X 3

static struct devmem_ntuple udp_rule(uint32_t loc, unsigned fields, uint16_t sport,
				     uint16_t dport, int action)
{
	struct devmem_ntuple r = {.loc = loc, .flow_type = DEVMEM_FLOW_UDP4, .fields = fields,
				  .sport = sport, .dport = dport, .action = action};
	memcpy(r.src, KERN4, 4);
	memcpy(r.dst, US4, 4);
	return r;
}

static void test_rules(void)
{
	struct devmem_ntuple r;
	unsigned why;
	struct steer_key k;

	/* location 10: flow X to queue 1 */
	r = udp_rule(10, DEVMEM_NTUPLE_SRC_PORT, UDP_SPORT + FLOW_X, 0, 1);
	CHECK_EQ(steer_rule_add(&cur, &r, NULL), 0);
	/* location 20, also X, to queue 3: loses to 10 */
	r = udp_rule(20, DEVMEM_NTUPLE_SRC_IP | DEVMEM_NTUPLE_SRC_PORT, UDP_SPORT + FLOW_X, 0, 3);
	CHECK_EQ(steer_rule_add(&cur, &r, NULL), 0);
	apply();
	udp_round();
	CHECK_EQ(qof[FLOW_X], 1);
	CHECK_EQ(per_q[1], 1); /* X alone */

	/* location 5: every flow to port 7003 (X too) to queue 2 */
	r = udp_rule(5, DEVMEM_NTUPLE_DST_IP | DEVMEM_NTUPLE_DST_PORT, 0, UDP_DPORT + 3, 2);
	CHECK_EQ(steer_rule_add(&cur, &r, NULL), 0);
	apply();
	udp_round();
	CHECK_EQ(qof[FLOW_X], 2);
	CHECK_EQ(per_q[1], 0);
	for (unsigned i = 3; i < NFLOWS; i += 8)
		CHECK_EQ(qof[i], 2);

	CHECK_EQ(steer_rule_del(&cur, 5, NULL), 0);
	apply();
	udp_round();
	CHECK_EQ(qof[FLOW_X], 1);

	/* a drop rule: its frames come on TUN_STEER_DROP_QUEUE, the NIC drops */
	r = udp_rule(1, DEVMEM_NTUPLE_SRC_IP | DEVMEM_NTUPLE_DST_PORT, 0, UDP_DPORT + 5,
		     DEVMEM_NTUPLE_DROP);
	CHECK_EQ(steer_rule_add(&cur, &r, NULL), 0);
	apply();
	udp_round();
	for (unsigned i = 5; i < NFLOWS; i += 8) {
		flow_key(&k, AF_INET, 17, (uint16_t)(UDP_SPORT + i), UDP_DPORT + 5);
		CHECK_EQ(steer_decide(&cur, &k, &why), -1);
		CHECK_EQ(why, STEER_NTUPLE);
		CHECK_EQ(qof[i], TUN_STEER_DROP_QUEUE);
	}
	CHECK_EQ(qof[FLOW_X], 1);
}

static void test_ipv6(void)
{
	struct devmem_ntuple r = {.loc = 30, .flow_type = DEVMEM_FLOW_TCP6,
				  .fields = DEVMEM_NTUPLE_DST_PORT, .dport = 6002, .action = 3};
	struct sockaddr_storage ss;
	int s[16];

	CHECK_EQ(steer_rule_add(&cur, &r, NULL), 0);
	apply();
	for (unsigned i = 0; i < 16; i++) {
		socklen_t len = peer(&ss, AF_INET6, (uint16_t)(6000 + i % 4));

		s[i] = sock_bound(AF_INET6, SOCK_STREAM, KERN6, (uint16_t)(TCP6_SPORT + i));
		CHECK(s[i] >= 0);
		if (s[i] >= 0)
			CHECK(connect(s[i], (struct sockaddr *)&ss, len) < 0 &&
			      errno == EINPROGRESS);
	}
	collect(16, tcp6_ours);
	for (unsigned i = 0; i < 16; i++) {
		struct steer_key k;
		int q = arrived(AF_INET6, 6, (uint16_t)(TCP6_SPORT + i));

		flow_key(&k, AF_INET6, 6, (uint16_t)(TCP6_SPORT + i), (uint16_t)(6000 + i % 4));
		CHECK_EQ(q, expect_q(&cur, &k));
		if (i % 4 == 2)
			CHECK_EQ(q, 3);
		if (s[i] >= 0)
			close(s[i]);
	}
}

/* ICMP echo and fragmented UDP (both families): addresses only, so every
 * frame of a family lands on that family's 2-tuple queue. */
static void test_l3(void)
{
	static uint8_t big[3000];
	struct sockaddr_storage ss;
	struct steer_key k4, k6;
	uint8_t echo[16] = {8, 0};
	int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	int u4 = sock_bound(AF_INET, SOCK_DGRAM, KERN4, 31000);
	int u6 = sock_bound(AF_INET6, SOCK_DGRAM, KERN6, 31000);
	int dont = IP_PMTUDISC_DONT;
	socklen_t len;

	CHECK(raw >= 0 && u4 >= 0 && u6 >= 0);
	if (raw < 0 || u4 < 0 || u6 < 0)
		goto out;
	CHECK_EQ(setsockopt(u4, IPPROTO_IP, IP_MTU_DISCOVER, &dont, sizeof(dont)), 0);
	len = peer(&ss, AF_INET, 0);
	for (int i = 0; i < 4; i++) {
		echo[6] = (uint8_t)i;
		CHECK_EQ(sendto(raw, echo, sizeof(echo), 0, (struct sockaddr *)&ss, len),
			 (ssize_t)sizeof(echo));
	}
	len = peer(&ss, AF_INET, 7100);
	CHECK_EQ(sendto(u4, big, sizeof(big), 0, (struct sockaddr *)&ss, len),
		 (ssize_t)sizeof(big));
	len = peer(&ss, AF_INET6, 7100);
	CHECK_EQ(sendto(u6, big, sizeof(big), 0, (struct sockaddr *)&ss, len),
		 (ssize_t)sizeof(big));
	collect(4 + 3 + 3, l3_ours);

	steer_key_set(&k4, AF_INET, 1, KERN4, US4, 0, 0);
	steer_key_set(&k6, AF_INET6, 44, KERN6, US6, 0, 0);
	unsigned n4 = 0, n6 = 0;
	for (unsigned i = 0; i < nrec; i++) {
		bool v6 = recs[i].k.family == AF_INET6;

		n4 += !v6, n6 += v6;
		CHECK_EQ(recs[i].q, steer_rss_queue(&cur, v6 ? &k6 : &k4));
	}
	CHECK_EQ(n4, 4 + 3);
	CHECK_EQ(n6, 3);
out:
	if (raw >= 0)
		close(raw);
	if (u4 >= 0)
		close(u4);
	if (u6 >= 0)
		close(u6);
}

static int tun_queue(unsigned q, short flag)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flag;
	return ioctl(lk->ops->rx_fd(lk, q), TUNSETQUEUE, &ifr) < 0 ? -errno : 0;
}

/* ethtool -L 2: the tables and rules allow it once the rules naming 2 and
 * 3 are gone; the device's queues 2 and 3 detached top down. */
static void test_fewer_queues(void)
{
	while (cur.nrules)
		CHECK_EQ(steer_rule_del(&cur, cur.rules[0].loc, NULL), 0);
	CHECK_EQ(steer_set_queues(&cur, 2, NULL), -EINVAL); /* the hand-set table */
	steer_indir_default(&cur);
	CHECK_EQ(steer_set_queues(&cur, 2, NULL), 0);
	CHECK_EQ(tun_queue(3, IFF_DETACH_QUEUE), 0);
	CHECK_EQ(tun_queue(2, IFF_DETACH_QUEUE), 0);
	apply();
	udp_round();
	fprintf(stderr, "  64 UDP flows on 2 queues: %u %u %u %u\n", per_q[0], per_q[1], per_q[2],
		per_q[3]);
	CHECK(per_q[0] > 0 && per_q[1] > 0);
	CHECK_EQ(per_q[2] + per_q[3], 0);

	CHECK_EQ(tun_queue(2, IFF_ATTACH_QUEUE), 0);
	CHECK_EQ(tun_queue(3, IFF_ATTACH_QUEUE), 0);
	CHECK_EQ(steer_set_queues(&cur, NQ, NULL), 0);
	apply();
	udp_round();
	CHECK(per_q[2] > 0 && per_q[3] > 0);
}

/* TUN_STEER_MAX_RULES rules, the one that matters last; one more is
 * refused and the device keeps the program it has. */
static void test_max_rules(void)
{
	static struct steer more;
	struct devmem_ntuple r;

	for (unsigned i = 0; i + 1 < TUN_STEER_MAX_RULES; i++) {
		r = udp_rule(i, DEVMEM_NTUPLE_DST_PORT, 0, (uint16_t)(1 + i), 3);
		CHECK_EQ(steer_rule_add(&cur, &r, NULL), 0);
	}
	r = udp_rule(1000, DEVMEM_NTUPLE_SRC_IP | DEVMEM_NTUPLE_DST_IP | DEVMEM_NTUPLE_SRC_PORT |
			   DEVMEM_NTUPLE_DST_PORT, UDP_SPORT + 9, UDP_DPORT + 1, 1);
	CHECK_EQ(steer_rule_add(&cur, &r, NULL), 0);
	CHECK_EQ(cur.nrules, TUN_STEER_MAX_RULES);
	r = udp_rule(DEVMEM_NTUPLE_LOC_ANY, 0, 0, 0, 0);
	CHECK_EQ(steer_rule_add(&cur, &r, NULL), -ENOSPC);
	apply();
	udp_round();
	CHECK_EQ(qof[9], 1);

	more = cur;
	more.max_rules = STEER_LOCS;
	r = udp_rule(1001, 0, 0, 0, 0);
	CHECK_EQ(steer_rule_add(&more, &r, NULL), 0);
	CHECK_EQ(tun_steer_update(ts, &more), -ENOSPC);
	udp_round(); /* still cur's program */
	CHECK_EQ(qof[9], 1);
}

static bool test_tun(void)
{
	struct devmem_tun_opts o = {.ifname = IFNAME, .prefix4 = 24, .prefix6 = 64};
	int err = 0;

	memcpy(&o.peer_ipv4, KERN4, 4);
	memcpy(&o.peer_ipv6, KERN6, 16);
	lk = link_tun_open(&o, NQ, 1500, &err);
	if (!lk) {
		fprintf(stderr, "link_tun_open: %s\n", strerror(-err));
		return false;
	}
	ts = tun_steer_attach(lk->ops->rx_fd(lk, 0), NQ, &err);
	if (!ts) {
		fprintf(stderr, "tun_steer_attach: %s\n", strerror(-err));
		CHECK(ts != NULL);
		lk->ops->destroy(lk);
		return true;
	}
	for (unsigned i = 0; i < NFLOWS; i++)
		udp[i] = -1;
	RUN(test_tcp_equal);
	RUN(test_udp_weights);
	RUN(test_rules);
	RUN(test_ipv6);
	RUN(test_l3);
	RUN(test_fewer_queues);
	RUN(test_max_rules);
	CHECK_EQ(misplaced, 0);
	CHECK_EQ(tun_steer_detach(ts), 0);
	tun_steer_free(ts);
	for (unsigned i = 0; i < NFLOWS; i++)
		if (udp[i] >= 0)
			close(udp[i]);
	lk->ops->destroy(lk);
	return true;
}

int main(void)
{
	int fd;

	if (geteuid() != 0)
		SKIP("needs root (TUN, bpf)");
	/* a namespace of our own: the TUN, its addresses and routes vanish
	 * with this process */
	if (unshare(CLONE_NEWNET) < 0)
		SKIP("unshare(CLONE_NEWNET) refused");
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SKIP("no /dev/net/tun");
	close(fd);

	fprintf(stderr, "program against the decision:\n");
	if (!test_prog_model())
		SKIP("bpf() refused: no CAP_BPF here");
	fprintf(stderr, "%s test_prog_model\n", check_failures ? "FAIL" : "ok  ");
	if (!test_tun())
		SKIP("no TUN interface here");
	return CHECK_DONE();
}
