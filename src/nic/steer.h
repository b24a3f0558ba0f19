/* SPDX-License-Identifier: MIT */
/*
 * steer: the software NIC's receive steering decision, pure and I/O-free.
 *
 * A frame goes to the queue of the first ntuple rule (lowest location) it
 * matches, else to the queue RSS picks: the Toeplitz hash of the Microsoft
 * RSS specification over (src addr, dst addr[, src port, dst port]), whose
 * low bits index an indirection table of queues. What is hashed follows the
 * default hash fields of NICs (ethtool -n rx-flow-hash): TCP and UDP over
 * addresses and ports, other IP protocols and IP fragments over the
 * addresses only; a frame that is not IP goes to queue 0.
 *
 * Configuration calls mirror ethtool (-X equal/weight, -N, -L) and refuse
 * what the kernel refuses, with its errno (as -errno) and, in msg (may be
 * NULL, STEER_MSG_LEN bytes), the text its extack would carry.
 *
 * The same decision runs in the kernel for a TUN link (link/tun_steer.c):
 * steer_key_parse() reads a packet exactly as that program does.
 */
#ifndef DEVMEM_STEER_H
#define DEVMEM_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devmem/devmem.h"

#define STEER_KEY_LEN DEVMEM_RSS_KEY_LEN     /* 40 */
#define STEER_INDIR_MAX DEVMEM_RSS_INDIR_MAX /* 128: the device's table */
#define STEER_LOCS DEVMEM_NTUPLE_MAX         /* rule locations 0..1023 */
#define STEER_HASH_IN_MAX 36                 /* IPv6 addresses + ports */
#define STEER_MSG_LEN 128
#define STEER_PARSE_MAX 64                   /* IPv4 with 40 bytes of options + ports */

/* The Microsoft default key, the one of the RSS verification suite. */
extern const uint8_t steer_default_key[STEER_KEY_LEN];

enum steer_why {
	STEER_RSS = 0,    /* RSS (and non-IP frames: queue 0) */
	STEER_NTUPLE = 1, /* an ntuple rule */
};

/* What steering looks at in a frame. */
struct steer_key {
	uint8_t family;           /* AF_INET, AF_INET6; 0: not IP */
	uint8_t proto;            /* IPv4 protocol / IPv6 fixed header's next header */
	bool has_ports;           /* TCP or UDP, ports present, not a fragment */
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 bytes */
	uint16_t sport, dport;    /* host order; 0 unless has_ports */
};

struct steer {
	uint8_t key[STEER_KEY_LEN];
	uint32_t indir_size;         /* power of two <= STEER_INDIR_MAX */
	uint32_t indir[STEER_INDIR_MAX];
	bool indir_user;             /* set by the user: kept across queue count
					changes, which it then limits (ethtool -L) */
	unsigned nqueues;            /* queues 0..nqueues-1 receive */
	unsigned max_rules;          /* capacity (STEER_LOCS; a TUN link's
					program checks fewer: TUN_STEER_MAX_RULES) */
	unsigned nrules;
	struct devmem_ntuple rules[STEER_LOCS]; /* sorted by location */
};

/* Toeplitz hash of len bytes (Microsoft RSS spec); bytes past the key's
 * reach (len > 36) see zero key bits. */
uint32_t steer_toeplitz(const uint8_t key[STEER_KEY_LEN], const uint8_t *in, size_t len);
/* t[i][v]: what byte value v at input position i XORs into the hash, for
 * positions 0..n-1 (n <= STEER_HASH_IN_MAX); the hash of an input is the
 * XOR of t[i][in[i]]. */
void steer_toeplitz_table(const uint8_t key[STEER_KEY_LEN], uint32_t (*t)[256], unsigned n);

/* Default key, nqueues queues (>= 1), table of 128 spread equally. */
void steer_init(struct steer *st, unsigned nqueues);
/* ethtool -X equal n: entry i is queue i % n. */
int steer_equal(struct steer *st, unsigned n, char *msg);
/* ethtool -X weight w0 w1 ...: queue q gets a contiguous run of entries in
 * proportion to w[q] (as ethtool fills the table). */
int steer_weights(struct steer *st, const unsigned *w, unsigned n, char *msg);
/* ethtool -X default: equal over the queues, no longer set by the user. */
void steer_indir_default(struct steer *st);
/* ethtool -X hkey / table: key and table of rss; indir_size 0 keeps the key
 * and resets the table to the default. */
int steer_rss_set(struct steer *st, const struct devmem_rss *rss, char *msg);
void steer_rss_get(const struct steer *st, struct devmem_rss *rss);

/* ethtool -L: may queues 0..n-1 be all that receive? (the table, when set
 * by the user, and the rules must not name a queue >= n) */
int steer_check_queues(const struct steer *st, unsigned n, char *msg);
/* Check, then set; a table not set by the user is spread over the n. */
int steer_set_queues(struct steer *st, unsigned n, char *msg);

/* ethtool -N: insert r. Location DEVMEM_NTUPLE_LOC_ANY takes the lowest
 * free one (devmem.h; ethtool's own rule manager would take the highest,
 * the lowest priority) and stores it back in r->loc. Fields not in
 * r->fields, and the bytes of an IPv4 address past the 4th, are stored as
 * zeros. EINVAL: flow type, fields, queue or location out of range;
 * EEXIST: location taken; ENOSPC: no free location or max_rules reached. */
int steer_rule_add(struct steer *st, struct devmem_ntuple *r, char *msg);
/* ENOENT: no rule at loc. */
int steer_rule_del(struct steer *st, uint32_t loc, char *msg);
/* The rule at loc, or NULL. */
const struct devmem_ntuple *steer_rule_get(const struct steer *st, uint32_t loc);
/* Copy up to max rules by location; returns how many exist. */
int steer_rule_list(const struct steer *st, struct devmem_ntuple *out, unsigned max);

/* A flow's key (addresses in network order, ports host order); TCP and UDP
 * get has_ports. */
void steer_key_set(struct steer_key *k, int family, uint8_t proto, const void *src,
		   const void *dst, uint16_t sport, uint16_t dport);
/*
 * Read an IP packet (network header at pkt[0]) as the TUN steering program
 * does. IPv4: options skipped by IHL; a fragment (MF or offset) has no ports.
 * IPv6: only the fixed header is read, so a packet with extension headers
 * (fragments too) is hashed over its addresses, with proto its first next
 * header. A packet too short for a field that is read, a bad IHL or a
 * version other than 4 and 6 gives family 0 (queue 0). len is the whole
 * packet's length; only its first STEER_PARSE_MAX bytes are read, so a
 * header split buffer that holds those is enough.
 */
void steer_key_parse(const uint8_t *pkt, size_t len, struct steer_key *k);

/* RSS hash of k (0 when not IP). */
uint32_t steer_hash(const struct steer *st, const struct steer_key *k);
/* The queue RSS alone picks. */
unsigned steer_rss_queue(const struct steer *st, const struct steer_key *k);
/* The decision: the queue, or -1 when a drop rule takes the frame; *why
 * (may be NULL) says whether a rule or RSS decided. */
int steer_decide(const struct steer *st, const struct steer_key *k, unsigned *why);
/* The rule that decides k, or NULL (RSS). */
const struct devmem_ntuple *steer_match(const struct steer *st, const struct steer_key *k);

#endif /* DEVMEM_STEER_H */
