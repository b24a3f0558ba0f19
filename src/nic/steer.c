/* SPDX-License-Identifier: MIT */
/*
 * Receive steering: Toeplitz RSS (Microsoft "RSS hashing" spec, "Verifying
 * the RSS hash calculation"), the indirection table as ethtool fills it,
 * ntuple rules by location. The refusals follow the kernel: entries and
 * rules checked against the queue count as ethtool_copy_validate_indir()
 * and rss_set_prep_indir() do, channel changes as ethtool_check_max_channel().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "nic/steer.h"

const uint8_t steer_default_key[STEER_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

#define NTUPLE_FIELDS (DEVMEM_NTUPLE_SRC_IP | DEVMEM_NTUPLE_DST_IP | \
		       DEVMEM_NTUPLE_SRC_PORT | DEVMEM_NTUPLE_DST_PORT)
#define PROTO_TCP 6
#define PROTO_UDP 17

static int fail(char *msg, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *msg, int err, const char *fmt, ...)
{
	va_list ap;

	if (msg) {
		va_start(ap, fmt);
		vsnprintf(msg, STEER_MSG_LEN, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* ---- Toeplitz ----------------------------------------------------------- */

/*
 * For each input bit, MSB of the first byte first, that is set, XOR in the
 * 32 key bits starting at that bit's position. w holds key bits
 * [8i, 8i + 64) while byte i is hashed, so the window for its bit b is the
 * top 32 bits of w << b.
 */
uint32_t steer_toeplitz(const uint8_t key[STEER_KEY_LEN], const uint8_t *in, size_t len)
{
	uint64_t w = 0;
	uint32_t h = 0;

	for (unsigned j = 0; j < 8; j++)
		w = w << 8 | key[j];
	for (size_t i = 0; i < len; i++) {
		for (unsigned b = 0; b < 8; b++)
			h ^= (uint32_t)(w >> (32 - b)) & -(uint32_t)(in[i] >> (7 - b) & 1);
		w = w << 8 | (i + 8 < STEER_KEY_LEN ? key[i + 8] : 0);
	}
	return h;
}

/* The hash is linear over XOR, so it is the XOR of every byte's share. */
void steer_toeplitz_table(const uint8_t key[STEER_KEY_LEN], uint32_t (*t)[256], unsigned n)
{
	uint8_t in[STEER_HASH_IN_MAX];

	for (unsigned i = 0; i < n && i < STEER_HASH_IN_MAX; i++) {
		uint32_t bit[8]; /* share of value 1 << p */

		memset(in, 0, sizeof(in));
		for (unsigned p = 0; p < 8; p++) {
			in[i] = (uint8_t)(1u << p);
			bit[p] = steer_toeplitz(key, in, i + 1);
		}
		t[i][0] = 0;
		for (unsigned v = 1; v < 256; v++)
			t[i][v] = t[i][v & (v - 1)] ^ bit[__builtin_ctz(v)];
	}
}

/* ---- RSS configuration ---------------------------------------------------- */

static void fill_equal(uint32_t *indir, uint32_t size, unsigned n)
{
	for (uint32_t i = 0; i < size; i++)
		indir[i] = i % n; /* ethtool_rxfh_indir_default() */
}

void steer_init(struct steer *st, unsigned nqueues)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->key, steer_default_key, STEER_KEY_LEN);
	st->nqueues = nqueues ? nqueues : 1;
	st->indir_size = STEER_INDIR_MAX;
	fill_equal(st->indir, st->indir_size, st->nqueues);
	st->max_rules = STEER_LOCS;
}

/* rss_set_prep_indir(): every entry must name a receiving queue. */
static int check_indir(const struct steer *st, const uint32_t *indir, uint32_t size, char *msg)
{
	for (uint32_t i = 0; i < size; i++)
		if (indir[i] >= st->nqueues)
			return fail(msg, -EINVAL, "entry %u: queue out of range (%u)", i, indir[i]);
	return 0;
}

static int set_indir(struct steer *st, const uint32_t *indir, char *msg)
{
	int r = check_indir(st, indir, st->indir_size, msg);

	if (r < 0)
		return r;
	memcpy(st->indir, indir, st->indir_size * sizeof(*indir));
	st->indir_user = true;
	return 0;
}

int steer_equal(struct steer *st, unsigned n, char *msg)
{
	uint32_t t[STEER_INDIR_MAX];

	if (n == 0)
		return fail(msg, -EINVAL, "equal: at least one queue");
	fill_equal(t, st->indir_size, n);
	return set_indir(st, t, msg);
}

/*
 * As ethtool fills the table for "weight": walking the entries, queue j
 * owns entry i while i < size * (w0 + ... + wj) / sum (integer division),
 * so each queue gets one contiguous run of about size * wj / sum entries.
 */
int steer_weights(struct steer *st, const unsigned *w, unsigned n, char *msg)
{
	uint32_t t[STEER_INDIR_MAX];
	uint64_t sum = 0, partial = 0;
	unsigned j = 0;
	bool started = false;

	for (unsigned q = 0; q < n; q++)
		sum += w[q];
	if (sum == 0)
		return fail(msg, -EINVAL, "At least one weight must be non-zero");
	if (sum > st->indir_size)
		return fail(msg, -EINVAL, "Total weight exceeds the size of the indirection table");
	for (uint32_t i = 0; i < st->indir_size; i++) {
		/* the boundary is rounded down, as ethtool's integer division */
		while (i >= (uint64_t)st->indir_size * partial / sum) {
			j += started;
			started = true;
			partial += w[j];
		}
		t[i] = j;
	}
	return set_indir(st, t, msg);
}

void steer_indir_default(struct steer *st)
{
	fill_equal(st->indir, st->indir_size, st->nqueues);
	st->indir_user = false;
}

/* The device's table has 128 entries; a smaller table that divides it is
 * replicated (rss_set_prep_indir), which indexing by the hash's low bits
 * with a power-of-two size amounts to. */
int steer_rss_set(struct steer *st, const struct devmem_rss *rss, char *msg)
{
	uint32_t size = rss->indir_size;
	int r;

	if (size == 0) {
		memcpy(st->key, rss->key, STEER_KEY_LEN);
		steer_indir_default(st);
		return 0;
	}
	if (size > STEER_INDIR_MAX || (size & (size - 1)))
		return fail(msg, -EINVAL, "size (%u) mismatch with device indir table (%u)", size,
			    STEER_INDIR_MAX);
	r = check_indir(st, rss->indir, size, msg);
	if (r < 0)
		return r;
	memcpy(st->key, rss->key, STEER_KEY_LEN);
	/* the table as it was (a key change only) stays as it was set */
	if (size == st->indir_size && !memcmp(st->indir, rss->indir, size * sizeof(uint32_t)))
		return 0;
	st->indir_size = size;
	memcpy(st->indir, rss->indir, size * sizeof(uint32_t));
	st->indir_user = true;
	return 0;
}

void steer_rss_get(const struct steer *st, struct devmem_rss *rss)
{
	memset(rss, 0, sizeof(*rss));
	memcpy(rss->key, st->key, STEER_KEY_LEN);
	rss->indir_size = st->indir_size;
	memcpy(rss->indir, st->indir, st->indir_size * sizeof(uint32_t));
}

/* ethtool_check_max_channel(): the highest queue in use must stay. A table
 * not set by the user is re-spread instead, as drivers do. Drop rules name
 * no queue. */
int steer_check_queues(const struct steer *st, unsigned n, char *msg)
{
	if (n == 0)
		return fail(msg, -EINVAL, "requested channel counts would result in no RX or TX "
			    "channel being configured");
	if (st->indir_user) {
		uint32_t max = 0;

		for (uint32_t i = 0; i < st->indir_size; i++)
			if (st->indir[i] > max)
				max = st->indir[i];
		if (n <= max)
			return fail(msg, -EINVAL, "requested channel counts are too low for "
				    "existing indirection table (%u)", max);
	}
	for (unsigned i = 0; i < st->nrules; i++)
		if (st->rules[i].action != DEVMEM_NTUPLE_DROP && (unsigned)st->rules[i].action >= n)
			return fail(msg, -EINVAL, "requested channel counts are too low for "
				    "existing ntuple filter settings");
	return 0;
}

int steer_set_queues(struct steer *st, unsigned n, char *msg)
{
	int r = steer_check_queues(st, n, msg);

	if (r < 0)
		return r;
	st->nqueues = n;
	if (!st->indir_user)
		fill_equal(st->indir, st->indir_size, n);
	return 0;
}

/* ---- ntuple rules --------------------------------------------------------- */

static bool flow_is_v6(int flow_type)
{
	return flow_type == DEVMEM_FLOW_TCP6 || flow_type == DEVMEM_FLOW_UDP6;
}

static uint8_t flow_proto(int flow_type)
{
	return flow_type == DEVMEM_FLOW_TCP4 || flow_type == DEVMEM_FLOW_TCP6 ? PROTO_TCP
									      : PROTO_UDP;
}

/* Index of the first rule at a location >= loc. */
static unsigned rule_pos(const struct steer *st, uint32_t loc)
{
	unsigned lo = 0, hi = st->nrules;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (st->rules[mid].loc < loc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct devmem_ntuple *steer_rule_get(const struct steer *st, uint32_t loc)
{
	unsigned i = rule_pos(st, loc);

	return i < st->nrules && st->rules[i].loc == loc ? &st->rules[i] : NULL;
}

/* The lowest location no rule holds (STEER_LOCS when none). */
static uint32_t lowest_free(const struct steer *st)
{
	uint32_t loc = 0;

	for (unsigned i = 0; i < st->nrules && st->rules[i].loc == loc; i++)
		loc++;
	return loc;
}

int steer_rule_add(struct steer *st, struct devmem_ntuple *r, char *msg)
{
	struct devmem_ntuple n = *r;
	unsigned alen = flow_is_v6(r->flow_type) ? 16 : 4, i;
	uint32_t loc = r->loc;

	if (loc != DEVMEM_NTUPLE_LOC_ANY && loc >= STEER_LOCS)
		return fail(msg, -EINVAL, "rule location %u out of range (%u locations)", loc,
			    STEER_LOCS);
	if (r->flow_type < DEVMEM_FLOW_TCP4 || r->flow_type > DEVMEM_FLOW_UDP6)
		return fail(msg, -EINVAL, "flow type %d not supported", r->flow_type);
	if (r->fields & ~NTUPLE_FIELDS)
		return fail(msg, -EINVAL, "fields 0x%x not supported", r->fields & ~NTUPLE_FIELDS);
	if (r->action != DEVMEM_NTUPLE_DROP &&
	    (r->action < 0 || (unsigned)r->action >= st->nqueues))
		return fail(msg, -EINVAL, "queue %d out of range (%u queues)", r->action,
			    st->nqueues);
	if (loc == DEVMEM_NTUPLE_LOC_ANY) {
		loc = lowest_free(st);
		if (loc >= STEER_LOCS || st->nrules >= st->max_rules)
			return fail(msg, -ENOSPC, "no free rule location (%u rules)", st->nrules);
	} else if (steer_rule_get(st, loc)) {
		return fail(msg, -EEXIST, "rule location %u is already in use", loc);
	} else if (st->nrules >= st->max_rules) {
		return fail(msg, -ENOSPC, "rule table full (%u rules)", st->max_rules);
	}

	/* stored as a device keeps it: what is not matched is zero */
	n.loc = loc;
	memset(n.src, 0, sizeof(n.src));
	memset(n.dst, 0, sizeof(n.dst));
	if (r->fields & DEVMEM_NTUPLE_SRC_IP)
		memcpy(n.src, r->src, alen);
	if (r->fields & DEVMEM_NTUPLE_DST_IP)
		memcpy(n.dst, r->dst, alen);
	if (!(r->fields & DEVMEM_NTUPLE_SRC_PORT))
		n.sport = 0;
	if (!(r->fields & DEVMEM_NTUPLE_DST_PORT))
		n.dport = 0;

	i = rule_pos(st, loc);
	memmove(&st->rules[i + 1], &st->rules[i], (st->nrules - i) * sizeof(st->rules[0]));
	st->rules[i] = n;
	st->nrules++;
	r->loc = loc;
	return 0;
}

int steer_rule_del(struct steer *st, uint32_t loc, char *msg)
{
	unsigned i = rule_pos(st, loc);

	if (i >= st->nrules || st->rules[i].loc != loc)
		return fail(msg, -ENOENT, "no rule at location %u", loc);
	memmove(&st->rules[i], &st->rules[i + 1], (st->nrules - i - 1) * sizeof(st->rules[0]));
	st->nrules--;
	return 0;
}

int steer_rule_list(const struct steer *st, struct devmem_ntuple *out, unsigned max)
{
	unsigned n = st->nrules < max ? st->nrules : max;

	if (n)
		memcpy(out, st->rules, n * sizeof(*out));
	return (int)st->nrules;
}

/* ---- the decision ----------------------------------------------------------- */

void steer_key_set(struct steer_key *k, int family, uint8_t proto, const void *src,
		   const void *dst, uint16_t sport, uint16_t dport)
{
	unsigned alen = family == AF_INET6 ? 16 : 4;

	memset(k, 0, sizeof(*k));
	if (family != AF_INET && family != AF_INET6)
		return;
	k->family = (uint8_t)family;
	k->proto = proto;
	memcpy(k->src, src, alen);
	memcpy(k->dst, dst, alen);
	if (proto == PROTO_TCP || proto == PROTO_UDP) {
		k->has_ports = true;
		k->sport = sport;
		k->dport = dport;
	}
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void steer_key_parse(const uint8_t *pkt, size_t len, struct steer_key *k)
{
	size_t l4;

	memset(k, 0, sizeof(*k));
	if (len < 1)
		return;
	if (pkt[0] >> 4 == 4) {
		l4 = (size_t)(pkt[0] & 0xf) * 4;
		if (l4 < 20 || len < 20)
			return;
		memcpy(k->src, pkt + 12, 4);
		memcpy(k->dst, pkt + 16, 4);
		k->proto = pkt[9];
		/* RFC 791: MF or a fragment offset; NICs hash every fragment
		 * (the first too) over the addresses, keeping them together */
		if (get16(pkt + 6) & 0x3fff)
			goto done;
	} else if (pkt[0] >> 4 == 6) {
		if (len < 40)
			return;
		memcpy(k->src, pkt + 8, 16);
		memcpy(k->dst, pkt + 24, 16);
		k->proto = pkt[6];
		l4 = 40;
	} else {
		return;
	}
	if (k->proto == PROTO_TCP || k->proto == PROTO_UDP) {
		if (len < l4 + 4)
			return; /* the program gives up: queue 0 */
		k->has_ports = true;
		k->sport = get16(pkt + l4);
		k->dport = get16(pkt + l4 + 2);
	}
done:
	k->family = pkt[0] >> 4 == 4 ? AF_INET : AF_INET6;
}

uint32_t steer_hash(const struct steer *st, const struct steer_key *k)
{
	uint8_t in[STEER_HASH_IN_MAX];
	unsigned alen = k->family == AF_INET6 ? 16 : 4, n = 2 * alen;

	if (k->family != AF_INET && k->family != AF_INET6)
		return 0;
	memcpy(in, k->src, alen);
	memcpy(in + alen, k->dst, alen);
	if (k->has_ports && (k->proto == PROTO_TCP || k->proto == PROTO_UDP)) {
		in[n++] = (uint8_t)(k->sport >> 8);
		in[n++] = (uint8_t)k->sport;
		in[n++] = (uint8_t)(k->dport >> 8);
		in[n++] = (uint8_t)k->dport;
	}
	return steer_toeplitz(st->key, in, n);
}

unsigned steer_rss_queue(const struct steer *st, const struct steer_key *k)
{
	if (k->family != AF_INET && k->family != AF_INET6)
		return 0;
	/* the hash's low bits index the table (RSS spec) */
	return st->indir[steer_hash(st, k) & (st->indir_size - 1)];
}

static bool rule_match(const struct devmem_ntuple *r, const struct steer_key *k)
{
	bool v6 = flow_is_v6(r->flow_type);
	unsigned alen = v6 ? 16 : 4;

	if (k->family != (v6 ? AF_INET6 : AF_INET) || k->proto != flow_proto(r->flow_type) ||
	    !k->has_ports)
		return false;
	if ((r->fields & DEVMEM_NTUPLE_SRC_IP) && memcmp(r->src, k->src, alen))
		return false;
	if ((r->fields & DEVMEM_NTUPLE_DST_IP) && memcmp(r->dst, k->dst, alen))
		return false;
	if ((r->fields & DEVMEM_NTUPLE_SRC_PORT) && r->sport != k->sport)
		return false;
	if ((r->fields & DEVMEM_NTUPLE_DST_PORT) && r->dport != k->dport)
		return false;
	return true;
}

const struct devmem_ntuple *steer_match(const struct steer *st, const struct steer_key *k)
{
	for (unsigned i = 0; i < st->nrules; i++)
		if (rule_match(&st->rules[i], k))
			return &st->rules[i];
	return NULL;
}

int steer_decide(const struct steer *st, const struct steer_key *k, unsigned *why)
{
	const struct devmem_ntuple *r = steer_match(st, k);

	if (why)
		*why = r ? STEER_NTUPLE : STEER_RSS;
	if (r)
		return r->action == DEVMEM_NTUPLE_DROP ? -1 : r->action;
	return (int)steer_rss_queue(st, k);
}
