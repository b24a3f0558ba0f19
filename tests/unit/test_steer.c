/* SPDX-License-Identifier: MIT */
/*
 * The steering decision (src/nic/steer.c): the Toeplitz hash against every
 * verification vector of the Microsoft RSS specification ("Verifying the RSS
 * hash calculation", default key; IPv4 and IPv6, with and without ports),
 * the indirection table as ethtool -X equal / weight fills it, ntuple rules
 * by location, drop rules, every refusal's errno and message, queue count
 * changes, and the packet reader the TUN program mirrors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "check.h"
#include "nic/steer.h"
#include "util/util.h"

struct vec {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t ip_only, with_ports;
};

/* The spec's tables list destination first; here source first, as hashed. */
static const struct vec v4[] = {
	{"66.9.149.187", "161.142.100.80", 2794, 1766, 0x323e8fc2, 0x51ccc178},
	{"199.92.111.2", "65.69.140.83", 14230, 4739, 0xd718262a, 0xc626b0ea},
	{"24.19.198.95", "12.22.207.184", 12898, 38024, 0xd2d0a5de, 0x5c2b394a},
	{"38.27.205.30", "209.142.163.6", 48228, 2217, 0x82989176, 0xafc7327f},
	{"153.39.163.191", "202.188.127.2", 44251, 1303, 0x5d1809c5, 0x10e828a2},
};
static const struct vec v6[] = {
	{"3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766, 0x2cc18cd5, 0x40207d3d},
	{"3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739, 0x0f0c461c, 0xdde51bbf},
	{"3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", 44251, 38024,
	 0x4b61e985, 0x02d1feef},
};

static struct steer st; /* 50 KiB: not on the stack */
static char msg[STEER_MSG_LEN];

static const uint8_t A1[4] = {192, 0, 2, 1}, A2[4] = {192, 0, 2, 2}, A3[4] = {192, 0, 2, 3};
static const uint8_t B1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t B2[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
	return (uint32_t)(rng >> 16);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* Toeplitz of the spec's input layout, built here byte by byte. */
static uint32_t hash_vec(const struct vec *v, int fam, bool ports)
{
	uint8_t in[36];
	unsigned alen = fam == AF_INET6 ? 16 : 4, n = 2 * alen;

	inet_pton(fam, v->src, in);
	inet_pton(fam, v->dst, in + alen);
	if (ports) {
		put16(in + n, v->sport);
		put16(in + n + 2, v->dport);
		n += 4;
	}
	return steer_toeplitz(steer_default_key, in, n);
}

static void check_vec(const struct vec *v, int fam)
{
	uint8_t s[16], d[16];
	struct steer_key k;

	CHECK_EQ(hash_vec(v, fam, false), v->ip_only);
	CHECK_EQ(hash_vec(v, fam, true), v->with_ports);
	/* the same through the flow key: TCP hashes the ports, ICMP does not */
	inet_pton(fam, v->src, s);
	inet_pton(fam, v->dst, d);
	steer_key_set(&k, fam, 6, s, d, v->sport, v->dport);
	CHECK_EQ(steer_hash(&st, &k), v->with_ports);
	steer_key_set(&k, fam, fam == AF_INET6 ? 58 : 1, s, d, v->sport, v->dport);
	CHECK_EQ(steer_hash(&st, &k), v->ip_only);
}

static void test_rss_vectors(void)
{
	steer_init(&st, 4);
	CHECK_MEM(st.key, steer_default_key, STEER_KEY_LEN);
	CHECK_EQ(steer_default_key[0], 0x6d);
	CHECK_EQ(steer_default_key[39], 0xfa);
	for (unsigned i = 0; i < DEVMEM_ARRAY_SIZE(v4); i++)
		check_vec(&v4[i], AF_INET);
	for (unsigned i = 0; i < DEVMEM_ARRAY_SIZE(v6); i++)
		check_vec(&v6[i], AF_INET6);
}

/* The per-byte table (what the TUN program XORs) gives the same hash. */
static void test_toeplitz_table(void)
{
	static uint32_t t[STEER_HASH_IN_MAX][256];
	uint8_t key[STEER_KEY_LEN], in[STEER_HASH_IN_MAX];

	for (int round = 0; round < 20; round++) {
		for (unsigned i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)rnd();
		steer_toeplitz_table(round ? key : steer_default_key, t, STEER_HASH_IN_MAX);
		for (int j = 0; j < 50; j++) {
			unsigned n = rnd() % (STEER_HASH_IN_MAX + 1);
			uint32_t h = 0;

			for (unsigned i = 0; i < n; i++) {
				in[i] = (uint8_t)rnd();
				h ^= t[i][in[i]];
			}
			CHECK_EQ(h, steer_toeplitz(round ? key : steer_default_key, in, n));
		}
	}
}

static unsigned count_q(unsigned q)
{
	unsigned n = 0;

	for (unsigned i = 0; i < st.indir_size; i++)
		n += st.indir[i] == q;
	return n;
}

/* Entries [lo, hi) all name q. */
static bool run_of(unsigned lo, unsigned hi, unsigned q)
{
	for (unsigned i = lo; i < hi; i++)
		if (st.indir[i] != q)
			return false;
	return true;
}

static void test_indir_equal(void)
{
	steer_init(&st, 4);
	CHECK(!st.indir_user);
	for (unsigned i = 0; i < 128; i++)
		CHECK_EQ(st.indir[i], i % 4);
	CHECK_EQ(steer_equal(&st, 3, msg), 0);
	CHECK(st.indir_user);
	CHECK_EQ(count_q(0), 43);
	CHECK_EQ(count_q(1), 43);
	CHECK_EQ(count_q(2), 42);
	CHECK_EQ(count_q(3), 0);
	CHECK_EQ(st.indir[5], 2);
	/* ethtool -X equal 5 on 4 queues: the kernel refuses entry 4 */
	CHECK_EQ(steer_equal(&st, 5, msg), -EINVAL);
	CHECK(!strcmp(msg, "entry 4: queue out of range (4)"));
	CHECK_EQ(count_q(2), 42); /* unchanged */
	CHECK_EQ(steer_equal(&st, 0, msg), -EINVAL);
	steer_indir_default(&st);
	CHECK(!st.indir_user);
	CHECK_EQ(count_q(3), 32);
}

static void test_indir_weights(void)
{
	const unsigned w111[] = {1, 1, 1}, w103[] = {1, 0, 3}, w0001[] = {0, 0, 0, 1};
	const unsigned w5[] = {1, 1, 1, 1, 1}, w4z[] = {1, 1, 1, 1, 0}, zero[] = {0, 0};
	unsigned big[2] = {100, 29};

	steer_init(&st, 4);
	/* boundaries 128*1/3 = 42 and 128*2/3 = 85, rounded down */
	CHECK_EQ(steer_weights(&st, w111, 3, msg), 0);
	CHECK(run_of(0, 42, 0) && run_of(42, 85, 1) && run_of(85, 128, 2));
	CHECK(st.indir_user);
	CHECK_EQ(steer_weights(&st, w103, 3, msg), 0);
	CHECK(run_of(0, 32, 0) && run_of(32, 128, 2));
	CHECK_EQ(count_q(1), 0);
	CHECK_EQ(steer_weights(&st, w0001, 4, msg), 0);
	CHECK_EQ(count_q(3), 128);
	CHECK_EQ(steer_weights(&st, w4z, 5, msg), 0); /* a fifth queue of weight 0 */
	CHECK_EQ(count_q(0), 32);
	CHECK_EQ(steer_weights(&st, w5, 5, msg), -EINVAL);
	CHECK(!strncmp(msg, "entry ", 6) && strstr(msg, "queue out of range (4)"));
	CHECK_EQ(steer_weights(&st, zero, 2, msg), -EINVAL);
	CHECK(!strcmp(msg, "At least one weight must be non-zero"));
	CHECK_EQ(steer_weights(&st, big, 2, msg), -EINVAL);
	CHECK(!strcmp(msg, "Total weight exceeds the size of the indirection table"));
	CHECK_EQ(count_q(0), 32); /* unchanged by the refusals */

	/* a 16-entry table: weights 1 0 1 2 give 4, 0, 4, 8 entries */
	struct devmem_rss rss;
	const unsigned w1012[] = {1, 0, 1, 2};

	steer_rss_get(&st, &rss);
	rss.indir_size = 16;
	CHECK_EQ(steer_rss_set(&st, &rss, msg), 0);
	CHECK_EQ(steer_weights(&st, w1012, 4, msg), 0);
	CHECK(run_of(0, 4, 0) && run_of(4, 8, 2) && run_of(8, 16, 3));
}

static void test_rss_set(void)
{
	struct devmem_rss rss;

	steer_init(&st, 4);
	steer_rss_get(&st, &rss);
	CHECK_EQ(rss.indir_size, 128);
	CHECK_MEM(rss.key, steer_default_key, 40);
	/* a new key with the table as it was: still the default table */
	rss.key[0] ^= 1;
	CHECK_EQ(steer_rss_set(&st, &rss, msg), 0);
	CHECK_EQ(st.key[0], steer_default_key[0] ^ 1);
	CHECK(!st.indir_user);
	rss.indir_size = 12;
	CHECK_EQ(steer_rss_set(&st, &rss, msg), -EINVAL);
	CHECK(!strcmp(msg, "size (12) mismatch with device indir table (128)"));
	rss.indir_size = 256;
	CHECK_EQ(steer_rss_set(&st, &rss, msg), -EINVAL);
	rss.indir_size = 8;
	for (unsigned i = 0; i < 8; i++)
		rss.indir[i] = 3 - i % 4;
	rss.indir[6] = 4;
	CHECK_EQ(steer_rss_set(&st, &rss, msg), -EINVAL);
	CHECK(!strcmp(msg, "entry 6: queue out of range (4)"));
	rss.indir[6] = 1;
	rss.key[1] ^= 1;
	CHECK_EQ(steer_rss_set(&st, &rss, msg), 0);
	CHECK(st.indir_user);
	CHECK_EQ(st.indir_size, 8);
	CHECK_EQ(st.key[1], steer_default_key[1] ^ 1);
	/* a flow's queue is entry hash & 7 */
	struct steer_key k;
	steer_key_set(&k, AF_INET, 6, A2, A1, 40000, 80);
	CHECK_EQ(steer_rss_queue(&st, &k), rss.indir[steer_hash(&st, &k) & 7]);
	/* size 0: the default table again, key kept */
	rss.indir_size = 0;
	CHECK_EQ(steer_rss_set(&st, &rss, msg), 0);
	CHECK(!st.indir_user);
	CHECK_EQ(st.indir_size, 8);
	CHECK_EQ(st.indir[5], 1);
}

static struct devmem_ntuple rule(uint32_t loc, int ft, unsigned fields, int action)
{
	struct devmem_ntuple r = {.loc = loc, .flow_type = ft, .fields = fields, .action = action};
	return r;
}

static void test_queue_count(void)
{
	struct devmem_ntuple r;

	steer_init(&st, 4);
	CHECK_EQ(steer_set_queues(&st, 2, msg), 0); /* default table: re-spread */
	CHECK_EQ(count_q(0), 64);
	CHECK_EQ(count_q(1), 64);
	CHECK_EQ(steer_set_queues(&st, 0, msg), -EINVAL);
	CHECK(strstr(msg, "no RX or TX channel") != NULL);
	CHECK_EQ(steer_set_queues(&st, 8, msg), 0);
	CHECK_EQ(count_q(7), 16);
	/* a table set by hand limits the count and stays */
	CHECK_EQ(steer_equal(&st, 4, msg), 0);
	CHECK_EQ(steer_set_queues(&st, 3, msg), -EINVAL);
	CHECK(!strcmp(msg, "requested channel counts are too low for existing "
			   "indirection table (3)"));
	CHECK_EQ(st.nqueues, 8);
	CHECK_EQ(steer_set_queues(&st, 4, msg), 0);
	CHECK_EQ(count_q(3), 32);
	CHECK_EQ(steer_equal(&st, 2, msg), 0);
	/* so do rules, but drop rules name no queue */
	r = rule(7, DEVMEM_FLOW_TCP4, DEVMEM_NTUPLE_DST_PORT, 3);
	r.dport = 80;
	CHECK_EQ(steer_rule_add(&st, &r, msg), 0);
	r = rule(8, DEVMEM_FLOW_UDP6, 0, DEVMEM_NTUPLE_DROP);
	CHECK_EQ(steer_rule_add(&st, &r, msg), 0);
	CHECK_EQ(steer_check_queues(&st, 3, msg), -EINVAL);
	CHECK(!strcmp(msg, "requested channel counts are too low for existing ntuple "
			   "filter settings"));
	CHECK_EQ(steer_rule_del(&st, 7, msg), 0);
	CHECK_EQ(steer_set_queues(&st, 2, msg), 0);
	CHECK_EQ(st.nqueues, 2);
	CHECK_EQ(count_q(1), 64); /* the hand-set table as it was */
}

static void test_rule_refusals(void)
{
	struct devmem_ntuple r, out[4];

	steer_init(&st, 4);
	r = rule(0, 0, 0, 1);
	CHECK_EQ(steer_rule_add(&st, &r, msg), -EINVAL);
	CHECK(!strcmp(msg, "flow type 0 not supported"));
	r.flow_type = 5;
	CHECK_EQ(steer_rule_add(&st, &r, msg), -EINVAL);
	r = rule(0, DEVMEM_FLOW_TCP4, 0x10 | DEVMEM_NTUPLE_SRC_IP, 1);
	CHECK_EQ(steer_rule_add(&st, &r, msg), -EINVAL);
	CHECK(!strcmp(msg, "fields 0x10 not supported"));
	r = rule(0, DEVMEM_FLOW_TCP4, 0, 4);
	CHECK_EQ(steer_rule_add(&st, &r, msg), -EINVAL);
	CHECK(!strcmp(msg, "queue 4 out of range (4 queues)"));
	r.action = -2;
	CHECK_EQ(steer_rule_add(&st, &r, msg), -EINVAL);
	r = rule(1024, DEVMEM_FLOW_TCP4, 0, 1);
	CHECK_EQ(steer_rule_add(&st, &r, msg), -EINVAL);
	CHECK(!strcmp(msg, "rule location 1024 out of range (1024 locations)"));
	CHECK_EQ(st.nrules, 0);

	r = rule(5, DEVMEM_FLOW_UDP4, DEVMEM_NTUPLE_SRC_IP | DEVMEM_NTUPLE_DST_PORT, 2);
	memset(r.src, 0xee, 16); /* bytes past an IPv4 address are not kept */
	memcpy(r.src, A2, 4);
	r.sport = 999;           /* not a matched field: stored as 0 */
	r.dport = 53;
	CHECK_EQ(steer_rule_add(&st, &r, msg), 0);
	CHECK_EQ(r.loc, 5);
	const struct devmem_ntuple *g = steer_rule_get(&st, 5);
	CHECK(g != NULL);
	if (g) {
		CHECK_MEM(g->src, A2, 4);
		CHECK_EQ(g->src[4] | g->src[15] | g->dst[0], 0);
		CHECK_EQ(g->sport, 0);
		CHECK_EQ(g->dport, 53);
		CHECK_EQ(g->action, 2);
	}
	CHECK_EQ(steer_rule_add(&st, &r, msg), -EEXIST);
	CHECK(!strcmp(msg, "rule location 5 is already in use"));
	CHECK_EQ(steer_rule_del(&st, 6, msg), -ENOENT);
	CHECK(!strcmp(msg, "no rule at location 6"));

	/* LOC_ANY: the lowest free location (devmem.h) */
	unsigned locs[] = {0, 1, 3};
	for (unsigned i = 0; i < 3; i++) {
		r = rule(locs[i], DEVMEM_FLOW_TCP6, 0, 1);
		CHECK_EQ(steer_rule_add(&st, &r, msg), 0);
	}
	r = rule(DEVMEM_NTUPLE_LOC_ANY, DEVMEM_FLOW_TCP6, 0, DEVMEM_NTUPLE_DROP);
	CHECK_EQ(steer_rule_add(&st, &r, msg), 0);
	CHECK_EQ(r.loc, 2);
	r.loc = DEVMEM_NTUPLE_LOC_ANY;
	CHECK_EQ(steer_rule_add(&st, &r, msg), 0);
	CHECK_EQ(r.loc, 4);
	r.loc = DEVMEM_NTUPLE_LOC_ANY;
	CHECK_EQ(steer_rule_add(&st, &r, msg), 0);
	CHECK_EQ(r.loc, 6);
	/* listed by location; the count even when out is short */
	CHECK_EQ(steer_rule_list(&st, out, 4), 7);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(out[i].loc, i);
	CHECK_EQ(steer_rule_list(&st, NULL, 0), 7);

	/* capacity: max_rules (a TUN program checks fewer than 1024) */
	st.max_rules = 7;
	r = rule(100, DEVMEM_FLOW_TCP4, 0, 1);
	CHECK_EQ(steer_rule_add(&st, &r, msg), -ENOSPC);
	CHECK(!strcmp(msg, "rule table full (7 rules)"));
	r.loc = DEVMEM_NTUPLE_LOC_ANY;
	CHECK_EQ(steer_rule_add(&st, &r, msg), -ENOSPC);
	/* every location taken */
	steer_init(&st, 4);
	for (uint32_t l = 0; l < STEER_LOCS; l++) {
		r = rule(STEER_LOCS - 1 - l, DEVMEM_FLOW_UDP4, 0, 0);
		if (steer_rule_add(&st, &r, msg))
			break;
	}
	CHECK_EQ(st.nrules, STEER_LOCS);
	CHECK_EQ(st.rules[0].loc, 0);
	CHECK_EQ(st.rules[STEER_LOCS - 1].loc, STEER_LOCS - 1);
	r = rule(DEVMEM_NTUPLE_LOC_ANY, DEVMEM_FLOW_UDP4, 0, 0);
	CHECK_EQ(steer_rule_add(&st, &r, msg), -ENOSPC);
	CHECK_EQ(steer_rule_del(&st, 517, msg), 0);
	CHECK_EQ(steer_rule_add(&st, &r, msg), 0);
	CHECK_EQ(r.loc, 517);
}

static int decide(int fam, uint8_t proto, const void *s, const void *d, uint16_t sp,
		  uint16_t dp, unsigned *why)
{
	struct steer_key k;

	steer_key_set(&k, fam, proto, s, d, sp, dp);
	return steer_decide(&st, &k, why);
}

static void test_precedence(void)
{
	struct devmem_ntuple r;
	struct steer_key k;
	unsigned why;
	int q;

	steer_init(&st, 4);
	r = rule(10, DEVMEM_FLOW_TCP4, DEVMEM_NTUPLE_DST_PORT, 1);
	r.dport = 80;
	CHECK_EQ(steer_rule_add(&st, &r, msg), 0);
	r = rule(3, DEVMEM_FLOW_TCP4, DEVMEM_NTUPLE_SRC_IP | DEVMEM_NTUPLE_DST_PORT, 2);
	memcpy(r.src, A2, 4);
	r.dport = 80;
	CHECK_EQ(steer_rule_add(&st, &r, msg), 0);
	r = rule(20, DEVMEM_FLOW_TCP6, DEVMEM_NTUPLE_DST_IP | DEVMEM_NTUPLE_SRC_PORT, 3);
	memcpy(r.dst, B1, 16);
	r.sport = 1000;
	CHECK_EQ(steer_rule_add(&st, &r, msg), 0);

	/* both match: location 3 wins */
	CHECK_EQ(decide(AF_INET, 6, A2, A1, 1000, 80, &why), 2);
	CHECK_EQ(why, STEER_NTUPLE);
	CHECK_EQ(decide(AF_INET, 6, A3, A1, 1000, 80, &why), 1);
	CHECK_EQ(why, STEER_NTUPLE);
	/* flow types: UDP and IPv6 do not match TCP4 rules */
	steer_key_set(&k, AF_INET, 17, A2, A1, 1000, 80);
	q = decide(AF_INET, 17, A2, A1, 1000, 80, &why);
	CHECK_EQ(why, STEER_RSS);
	CHECK_EQ(q, (int)steer_rss_queue(&st, &k));
	CHECK_EQ(decide(AF_INET6, 6, B2, B1, 1000, 80, &why), 3);
	CHECK_EQ(why, STEER_NTUPLE);
	decide(AF_INET6, 6, B2, B1, 1001, 80, &why);
	CHECK_EQ(why, STEER_RSS);
	decide(AF_INET6, 17, B2, B1, 1000, 80, &why);
	CHECK_EQ(why, STEER_RSS);
	/* a fragment of TCP has no ports: no rule, hashed over addresses */
	steer_key_set(&k, AF_INET, 6, A2, A1, 1000, 80);
	k.has_ports = false;
	k.sport = k.dport = 0;
	CHECK_EQ(steer_decide(&st, &k, &why), (int)st.indir[steer_toeplitz(st.key,
		 (const uint8_t[]){192, 0, 2, 2, 192, 0, 2, 1}, 8) & 127]);
	CHECK_EQ(why, STEER_RSS);

	CHECK_EQ(steer_rule_del(&st, 3, msg), 0);
	CHECK_EQ(decide(AF_INET, 6, A2, A1, 1000, 80, &why), 1);
	/* a drop rule in front */
	r = rule(0, DEVMEM_FLOW_TCP4, DEVMEM_NTUPLE_SRC_PORT, DEVMEM_NTUPLE_DROP);
	r.sport = 1000;
	CHECK_EQ(steer_rule_add(&st, &r, msg), 0);
	CHECK_EQ(decide(AF_INET, 6, A2, A1, 1000, 80, &why), -1);
	CHECK_EQ(why, STEER_NTUPLE);
	CHECK(steer_match(&st, &k) == NULL);
	steer_key_set(&k, AF_INET, 6, A3, A1, 1000, 443);
	CHECK(steer_match(&st, &k) == steer_rule_get(&st, 0));
	CHECK_EQ(decide(AF_INET, 6, A2, A1, 1001, 80, &why), 1);

	/* not IP: queue 0, whatever entry 0 says */
	const unsigned w01[] = {0, 1};
	CHECK_EQ(steer_weights(&st, w01, 2, msg), 0);
	memset(&k, 0, sizeof(k));
	CHECK_EQ(steer_decide(&st, &k, &why), 0);
	CHECK_EQ(why, STEER_RSS);
	CHECK_EQ(decide(AF_INET, 1, A2, A1, 0, 0, &why), 1);
}

/* Over many flows, RSS follows the table's proportions. */
static void test_spread(void)
{
	unsigned n[4] = {0}, flows = 8192;
	const unsigned w[] = {1, 0, 1, 2};

	steer_init(&st, 4);
	CHECK_EQ(steer_weights(&st, w, 4, msg), 0);
	for (unsigned i = 0; i < flows; i++) {
		uint8_t s[4] = {192, 0, 2, (uint8_t)rnd()}, d[4] = {192, 0, 2, 1};

		n[decide(AF_INET, 6, s, d, (uint16_t)rnd(), (uint16_t)rnd(), NULL)]++;
	}
	CHECK_EQ(n[1], 0);
	CHECK(n[0] > flows / 4 * 9 / 10 && n[0] < flows / 4 * 11 / 10);
	CHECK(n[2] > flows / 4 * 9 / 10 && n[2] < flows / 4 * 11 / 10);
	CHECK(n[3] > flows / 2 * 9 / 10 && n[3] < flows / 2 * 11 / 10);
}

static void test_parse(void)
{
	uint8_t p[64];
	struct steer_key k;

	/* IPv4 + 4 bytes of options + UDP */
	memset(p, 0, sizeof(p));
	p[0] = 0x46, p[9] = 17;
	memcpy(p + 12, A2, 4), memcpy(p + 16, A1, 4);
	put16(p + 24, 5000), put16(p + 26, 53);
	steer_key_parse(p, 32, &k);
	CHECK_EQ(k.family, AF_INET);
	CHECK_EQ(k.proto, 17);
	CHECK(k.has_ports);
	CHECK_EQ(k.sport, 5000);
	CHECK_EQ(k.dport, 53);
	CHECK_MEM(k.src, A2, 4);
	CHECK_MEM(k.dst, A1, 4);
	CHECK_EQ(k.src[4], 0);
	/* too short for the ports the program reads: queue 0 */
	steer_key_parse(p, 27, &k);
	CHECK_EQ(k.family, 0);
	/* MF, or an offset: a fragment, no ports */
	p[6] = 0x20;
	steer_key_parse(p, 32, &k);
	CHECK(k.family == AF_INET && !k.has_ports && k.sport == 0);
	steer_key_parse(p, 20, &k); /* no ports needed */
	CHECK(k.family == AF_INET && !k.has_ports);
	p[6] = 0, p[7] = 1;
	steer_key_parse(p, 32, &k);
	CHECK(k.family == AF_INET && !k.has_ports);
	p[6] = 0x40, p[7] = 0; /* DF alone is no fragment */
	steer_key_parse(p, 32, &k);
	CHECK(k.has_ports);
	/* bad IHL, short header, other versions */
	p[0] = 0x44;
	steer_key_parse(p, 32, &k);
	CHECK_EQ(k.family, 0);
	p[0] = 0x45;
	steer_key_parse(p, 19, &k);
	CHECK_EQ(k.family, 0);
	p[0] = 0x55;
	steer_key_parse(p, 32, &k);
	CHECK_EQ(k.family, 0);
	steer_key_parse(p, 0, &k);
	CHECK_EQ(k.family, 0);
	/* the longest header: ports at 60; nothing past STEER_PARSE_MAX is
	 * read whatever the length says (ASan would see it: p has 64 bytes) */
	p[0] = 0x4f;
	put16(p + 60, 1234), put16(p + 62, 4321);
	steer_key_parse(p, 1500, &k);
	CHECK(k.family == AF_INET && k.has_ports && k.sport == 1234 && k.dport == 4321);
	CHECK_EQ(sizeof(p), STEER_PARSE_MAX);
	/* ICMP: addresses only */
	p[0] = 0x45, p[9] = 1;
	steer_key_parse(p, 28, &k);
	CHECK(k.family == AF_INET && k.proto == 1 && !k.has_ports);

	/* IPv6 TCP; with a hop-by-hop header; truncated */
	memset(p, 0, sizeof(p));
	p[0] = 0x60, p[6] = 6;
	memcpy(p + 8, B2, 16), memcpy(p + 24, B1, 16);
	put16(p + 40, 33000), put16(p + 42, 443);
	steer_key_parse(p, 60, &k);
	CHECK(k.family == AF_INET6 && k.proto == 6 && k.has_ports);
	CHECK_EQ(k.sport, 33000);
	CHECK_EQ(k.dport, 443);
	CHECK_MEM(k.src, B2, 16);
	CHECK_MEM(k.dst, B1, 16);
	steer_key_parse(p, 43, &k);
	CHECK_EQ(k.family, 0);
	steer_key_parse(p, 39, &k);
	CHECK_EQ(k.family, 0);
	p[6] = 0;
	steer_key_parse(p, 48, &k);
	CHECK(k.family == AF_INET6 && k.proto == 0 && !k.has_ports);
	p[6] = 44; /* fragment header */
	steer_key_parse(p, 48, &k);
	CHECK(k.family == AF_INET6 && k.proto == 44 && !k.has_ports);
}

int main(void)
{
	RUN(test_rss_vectors);
	RUN(test_toeplitz_table);
	RUN(test_indir_equal);
	RUN(test_indir_weights);
	RUN(test_rss_set);
	RUN(test_queue_count);
	RUN(test_rule_refusals);
	RUN(test_precedence);
	RUN(test_spread);
	RUN(test_parse);
	return CHECK_DONE();
}
