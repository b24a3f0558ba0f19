/* SPDX-License-Identifier: MIT */
/*
 * The TUN steering program, generated as eBPF instructions (no compiler,
 * no libbpf): BPF_PROG_TYPE_SOCKET_FILTER, which TUNSETSTEERINGEBPF takes,
 * loaded with the bpf() system call.
 *
 * The program, for one configuration:
 *
 *   parse    version nibble (LD_ABS); IPv4: IHL, addresses, fragment bits,
 *            protocol, ports at IHL*4; IPv6: addresses, next header, ports
 *            at 40. The fields go into a 40-byte tuple on the stack:
 *            src[16] dst[16] sport dport (network order) flow-type 0 0 0.
 *            Anything short or odd returns 0, as steer_key_parse() says.
 *   rules    for each rule by location: (tuple ^ value) & mask == 0 over
 *            the 64-bit words the rule's mask touches -> its queue.
 *   RSS      h ^= t[i][byte_i] over the hash input (addresses, then ports
 *            when the flow type has them), then indir[h & 127] (the
 *            table replicated to 128 entries, as the kernel replicates a
 *            smaller user table).
 *
 * A LD_ABS past the end of the packet ends the program with 0 (the
 * classic-BPF rule the eBPF interpreter and JITs keep), which is queue 0.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_tun.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "link/tun_steer.h"
#include "util/util.h"

/* The map's one value. Rule words are compared raw, in memory order, so
 * both sides lay the tuple out byte by byte and endianness never enters. */
struct ts_rule {
	uint64_t val[5];
	uint64_t mask[5];
	uint32_t queue;
	uint32_t pad;
};

struct ts_value {
	uint32_t nrules, pad;
	uint32_t indir[STEER_INDIR_MAX];
	struct ts_rule rules[TUN_STEER_MAX_RULES];
	uint32_t toeplitz[STEER_HASH_IN_MAX][256];
};

/* The tuple's place on the program's stack (r10 = frame end). */
#define T_SRC (-40)
#define T_DST (-24)
#define T_PORTS (-8)
#define T_FTYPE (-4)
#define T_KEY (-48) /* the map key, 0 */

struct tun_steer {
	int tun_fd; /* not ours */
	unsigned nqueues;
};

static int sys_bpf(int cmd, union bpf_attr *a)
{
	return (int)syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static uint64_t ptr64(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* ---- a small assembler -------------------------------------------------- */

enum {
	L_RET0, L_V4, L_V4TCP, L_V4UDP, L_V4PORTS, L_V4NOPORTS, L_V6, L_V6TCP, L_V6UDP,
	L_V6PORTS, L_RULES, L_RSS, L_H6, L_IND,
	L_NEXT, /* + i: past rule i */
	L_COUNT = L_NEXT + TUN_STEER_MAX_RULES,
};

#define PROG_MAX 16384 /* instructions; 256 rules of every field need under 10000 */

struct prog {
	struct bpf_insn insn[PROG_MAX];
	unsigned n;
	int label[L_COUNT];
	struct {
		unsigned at;
		int label;
	} fix[PROG_MAX];
	unsigned nfix;
	bool overflow;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n >= PROG_MAX) {
		p->overflow = true;
		return;
	}
	p->insn[p->n++] = (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src,
					     .off = off, .imm = imm};
}

static void label(struct prog *p, int l)
{
	p->label[l] = (int)p->n;
}

/* A conditional (op with an immediate) or, with op BPF_JA, plain jump. */
static void jump(struct prog *p, uint8_t op, uint8_t reg, int32_t imm, int l)
{
	if (p->nfix < PROG_MAX) {
		p->fix[p->nfix].at = p->n;
		p->fix[p->nfix++].label = l;
	}
	emit(p, BPF_JMP | op | BPF_K, reg, 0, 0, imm);
}

static int resolve(struct prog *p)
{
	for (unsigned i = 0; i < p->nfix; i++) {
		int to = p->label[p->fix[i].label];
		long off = (long)to - (long)p->fix[i].at - 1;

		if (to < 0 || off < INT16_MIN || off > INT16_MAX)
			return -E2BIG;
		p->insn[p->fix[i].at].off = (int16_t)off;
	}
	return p->overflow ? -E2BIG : 0;
}

#define MOV_REG(p, d, s) emit(p, BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(p, d, i) emit(p, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ALU_IMM(p, op, d, i) emit(p, BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define ALU_REG(p, op, d, s) emit(p, BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define LDX(p, sz, d, s, off) emit(p, BPF_LDX | BPF_MEM | (sz), d, s, off, 0)
#define STX(p, sz, d, s, off) emit(p, BPF_STX | BPF_MEM | (sz), d, s, off, 0)
#define ST_IMM(p, sz, d, off, i) emit(p, BPF_ST | BPF_MEM | (sz), d, 0, off, i)
/* r0 = packet bytes at off, big-endian (classic BPF's load) */
#define LD_ABS(p, sz, off) emit(p, BPF_LD | BPF_ABS | (sz), 0, 0, 0, off)
#define CALL(p, fn) emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, fn)
#define EXIT(p) emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* bpf_skb_load_bytes(skb, off, r10 + to, len); off is an immediate, or
 * (off_reg != 0) that register. Returns 0 to the program when missing. */
static void load_bytes(struct prog *p, int32_t off, uint8_t off_reg, int16_t to, int32_t len)
{
	MOV_REG(p, BPF_REG_1, BPF_REG_6);
	if (off_reg)
		MOV_REG(p, BPF_REG_2, off_reg);
	else
		MOV_IMM(p, BPF_REG_2, off);
	MOV_REG(p, BPF_REG_3, BPF_REG_10);
	ALU_IMM(p, BPF_ADD, BPF_REG_3, to);
	MOV_IMM(p, BPF_REG_4, len);
	CALL(p, BPF_FUNC_skb_load_bytes);
	jump(p, BPF_JNE, BPF_REG_0, 0, L_RET0);
}

/* r0 ^= t[pos][byte at r10 + from] */
static void hash_byte(struct prog *p, unsigned pos, int16_t from)
{
	LDX(p, BPF_B, BPF_REG_1, BPF_REG_10, from);
	ALU_IMM(p, BPF_LSH, BPF_REG_1, 2);
	ALU_IMM(p, BPF_ADD, BPF_REG_1,
		(int32_t)(offsetof(struct ts_value, toeplitz) + pos * 256 * sizeof(uint32_t)));
	MOV_REG(p, BPF_REG_2, BPF_REG_7);
	ALU_REG(p, BPF_ADD, BPF_REG_2, BPF_REG_1);
	LDX(p, BPF_W, BPF_REG_1, BPF_REG_2, 0);
	ALU_REG(p, BPF_XOR, BPF_REG_0, BPF_REG_1);
}

/* The tuple's flow-type byte: the DEVMEM_FLOW_* value, 0 without ports. */
static void parse(struct prog *p)
{
	/* v4: r9 = IHL * 4 until the ports are read, then 4 */
	label(p, L_V4);
	LD_ABS(p, BPF_B, 0);
	ALU_IMM(p, BPF_AND, BPF_REG_0, 0xf);
	ALU_IMM(p, BPF_LSH, BPF_REG_0, 2);
	MOV_REG(p, BPF_REG_9, BPF_REG_0);
	jump(p, BPF_JLT, BPF_REG_9, 20, L_RET0);
	load_bytes(p, 12, 0, T_SRC, 4);
	load_bytes(p, 16, 0, T_DST, 4);
	MOV_IMM(p, BPF_REG_8, 0);
	LD_ABS(p, BPF_H, 6);
	ALU_IMM(p, BPF_AND, BPF_REG_0, 0x3fff); /* MF | fragment offset */
	jump(p, BPF_JNE, BPF_REG_0, 0, L_V4NOPORTS);
	LD_ABS(p, BPF_B, 9);
	jump(p, BPF_JEQ, BPF_REG_0, 6, L_V4TCP);
	jump(p, BPF_JEQ, BPF_REG_0, 17, L_V4UDP);
	jump(p, BPF_JA, 0, 0, L_V4NOPORTS);
	label(p, L_V4TCP);
	MOV_IMM(p, BPF_REG_8, DEVMEM_FLOW_TCP4);
	jump(p, BPF_JA, 0, 0, L_V4PORTS);
	label(p, L_V4UDP);
	MOV_IMM(p, BPF_REG_8, DEVMEM_FLOW_UDP4);
	label(p, L_V4PORTS);
	load_bytes(p, 0, BPF_REG_9, T_PORTS, 4);
	STX(p, BPF_B, BPF_REG_10, BPF_REG_8, T_FTYPE);
	label(p, L_V4NOPORTS);
	MOV_IMM(p, BPF_REG_9, 4);
	jump(p, BPF_JA, 0, 0, L_RULES);

	/* v6: the fixed header only */
	label(p, L_V6);
	load_bytes(p, 8, 0, T_SRC, 32);
	MOV_IMM(p, BPF_REG_9, 6);
	MOV_IMM(p, BPF_REG_8, 0);
	LD_ABS(p, BPF_B, 6);
	jump(p, BPF_JEQ, BPF_REG_0, 6, L_V6TCP);
	jump(p, BPF_JEQ, BPF_REG_0, 17, L_V6UDP);
	jump(p, BPF_JA, 0, 0, L_RULES);
	label(p, L_V6TCP);
	MOV_IMM(p, BPF_REG_8, DEVMEM_FLOW_TCP6);
	jump(p, BPF_JA, 0, 0, L_V6PORTS);
	label(p, L_V6UDP);
	MOV_IMM(p, BPF_REG_8, DEVMEM_FLOW_UDP6);
	label(p, L_V6PORTS);
	load_bytes(p, 40, 0, T_PORTS, 4);
	STX(p, BPF_B, BPF_REG_10, BPF_REG_8, T_FTYPE);
}

/*
 * One check per rule, in location order: r3 = OR of (tuple ^ value) & mask
 * over the words the mask touches (known here), one branch per rule, which
 * keeps the verifier's work linear in the rules.
 */
static void rules(struct prog *p, const struct ts_value *v)
{
	label(p, L_RULES);
	for (unsigned i = 0; i < v->nrules; i++) {
		int16_t r = (int16_t)(offsetof(struct ts_value, rules) + i * sizeof(struct ts_rule));
		int16_t val = (int16_t)(r + offsetof(struct ts_rule, val));
		int16_t mask = (int16_t)(r + offsetof(struct ts_rule, mask));

		MOV_IMM(p, BPF_REG_3, 0);
		for (int16_t w = 0; w < 5; w++) {
			if (!v->rules[i].mask[w])
				continue;
			LDX(p, BPF_DW, BPF_REG_1, BPF_REG_10, T_SRC + 8 * w);
			LDX(p, BPF_DW, BPF_REG_2, BPF_REG_7, val + 8 * w);
			ALU_REG(p, BPF_XOR, BPF_REG_1, BPF_REG_2);
			LDX(p, BPF_DW, BPF_REG_2, BPF_REG_7, mask + 8 * w);
			ALU_REG(p, BPF_AND, BPF_REG_1, BPF_REG_2);
			ALU_REG(p, BPF_OR, BPF_REG_3, BPF_REG_1);
		}
		jump(p, BPF_JNE, BPF_REG_3, 0, L_NEXT + (int)i);
		LDX(p, BPF_W, BPF_REG_0, BPF_REG_7, r + offsetof(struct ts_rule, queue));
		EXIT(p);
		label(p, L_NEXT + (int)i);
	}
}

static void rss(struct prog *p)
{
	label(p, L_RSS);
	MOV_IMM(p, BPF_REG_0, 0);
	jump(p, BPF_JEQ, BPF_REG_9, 6, L_H6);
	for (unsigned i = 0; i < 4; i++)
		hash_byte(p, i, (int16_t)(T_SRC + i));
	for (unsigned i = 0; i < 4; i++)
		hash_byte(p, 4 + i, (int16_t)(T_DST + i));
	jump(p, BPF_JEQ, BPF_REG_8, 0, L_IND);
	for (unsigned i = 0; i < 4; i++)
		hash_byte(p, 8 + i, (int16_t)(T_PORTS + i));
	jump(p, BPF_JA, 0, 0, L_IND);
	label(p, L_H6);
	for (unsigned i = 0; i < 32; i++)
		hash_byte(p, i, (int16_t)(T_SRC + i));
	jump(p, BPF_JEQ, BPF_REG_8, 0, L_IND);
	for (unsigned i = 0; i < 4; i++)
		hash_byte(p, 32 + i, (int16_t)(T_PORTS + i));
	label(p, L_IND);
	ALU_IMM(p, BPF_AND, BPF_REG_0, STEER_INDIR_MAX - 1);
	ALU_IMM(p, BPF_LSH, BPF_REG_0, 2);
	MOV_REG(p, BPF_REG_1, BPF_REG_7);
	ALU_REG(p, BPF_ADD, BPF_REG_1, BPF_REG_0);
	LDX(p, BPF_W, BPF_REG_0, BPF_REG_1, offsetof(struct ts_value, indir));
	EXIT(p);
}

/* r6 = skb, r7 = the map value, r8 = flow type, r9 = IP version. */
static int assemble(struct prog *p, const struct ts_value *v, int map_fd)
{
	memset(p->label, 0xff, sizeof(p->label));
	p->n = p->nfix = 0;
	p->overflow = false;

	MOV_REG(p, BPF_REG_6, BPF_REG_1);
	ST_IMM(p, BPF_W, BPF_REG_10, T_KEY, 0);
	emit(p, BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd);
	emit(p, 0, 0, 0, 0, 0);
	MOV_REG(p, BPF_REG_2, BPF_REG_10);
	ALU_IMM(p, BPF_ADD, BPF_REG_2, T_KEY);
	CALL(p, BPF_FUNC_map_lookup_elem);
	jump(p, BPF_JEQ, BPF_REG_0, 0, L_RET0);
	MOV_REG(p, BPF_REG_7, BPF_REG_0);
	for (int16_t w = 0; w < 5; w++)
		ST_IMM(p, BPF_DW, BPF_REG_10, T_SRC + 8 * w, 0);
	LD_ABS(p, BPF_B, 0);
	ALU_IMM(p, BPF_RSH, BPF_REG_0, 4);
	jump(p, BPF_JEQ, BPF_REG_0, 4, L_V4);
	jump(p, BPF_JEQ, BPF_REG_0, 6, L_V6);
	jump(p, BPF_JA, 0, 0, L_RET0);
	parse(p);
	rules(p, v);
	rss(p);
	label(p, L_RET0);
	MOV_IMM(p, BPF_REG_0, 0);
	EXIT(p);
	return resolve(p);
}

/* ---- the map's value from a configuration ---------------------------------- */

static void pack_rule(const struct devmem_ntuple *r, struct ts_rule *o)
{
	uint8_t v[40] = {0}, m[40] = {0};
	bool v6 = r->flow_type == DEVMEM_FLOW_TCP6 || r->flow_type == DEVMEM_FLOW_UDP6;
	unsigned alen = v6 ? 16 : 4;

	if (r->fields & DEVMEM_NTUPLE_SRC_IP) {
		memcpy(v, r->src, alen);
		memset(m, 0xff, alen);
	}
	if (r->fields & DEVMEM_NTUPLE_DST_IP) {
		memcpy(v + 16, r->dst, alen);
		memset(m + 16, 0xff, alen);
	}
	if (r->fields & DEVMEM_NTUPLE_SRC_PORT) {
		v[32] = (uint8_t)(r->sport >> 8), v[33] = (uint8_t)r->sport;
		m[32] = m[33] = 0xff;
	}
	if (r->fields & DEVMEM_NTUPLE_DST_PORT) {
		v[34] = (uint8_t)(r->dport >> 8), v[35] = (uint8_t)r->dport;
		m[34] = m[35] = 0xff;
	}
	v[36] = (uint8_t)r->flow_type; /* always compared: family and protocol */
	m[36] = 0xff;
	memcpy(o->val, v, sizeof(v));
	memcpy(o->mask, m, sizeof(m));
	o->queue = r->action == DEVMEM_NTUPLE_DROP ? TUN_STEER_DROP_QUEUE : (uint32_t)r->action;
}

static void pack(const struct steer *st, struct ts_value *v)
{
	memset(v, 0, sizeof(*v));
	v->nrules = st->nrules;
	for (unsigned i = 0; i < STEER_INDIR_MAX; i++)
		v->indir[i] = st->indir[i & (st->indir_size - 1)];
	for (unsigned i = 0; i < st->nrules; i++)
		pack_rule(&st->rules[i], &v->rules[i]);
	steer_toeplitz_table(st->key, v->toeplitz, STEER_HASH_IN_MAX);
}

static int map_create(const struct ts_value *v)
{
	union bpf_attr a;
	uint32_t key = 0;
	int fd, r;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = sizeof(key);
	a.value_size = sizeof(*v);
	a.max_entries = 1;
	a.map_flags = BPF_F_RDONLY_PROG; /* the program only reads it */
	strncpy(a.map_name, "devmem_steer", sizeof(a.map_name) - 1);
	fd = sys_bpf(BPF_MAP_CREATE, &a);
	if (fd < 0)
		return -errno;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = ptr64(&key);
	a.value = ptr64(v);
	a.flags = BPF_ANY;
	if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int prog_load(const struct prog *p, char *log, size_t log_len)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = ptr64(p->insn);
	a.insn_cnt = p->n;
	a.license = ptr64("Dual MIT/GPL"); /* no GPL-only helper is called */
	strncpy(a.prog_name, "devmem_steer", sizeof(a.prog_name) - 1);
	if (log && log_len) {
		log[0] = 0;
		a.log_buf = ptr64(log);
		a.log_size = (uint32_t)(log_len > UINT32_MAX ? UINT32_MAX : log_len);
		a.log_level = 1;
	}
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	return fd < 0 ? -errno : fd;
}

int tun_steer_prog_load(const struct steer *st, char *log, size_t log_len)
{
	struct ts_value *v = NULL;
	struct prog *p = NULL;
	int map = -1, r;

	if (st->nrules > TUN_STEER_MAX_RULES)
		return -ENOSPC;
	if (!st->indir_size || st->indir_size > STEER_INDIR_MAX ||
	    (st->indir_size & (st->indir_size - 1)))
		return -EINVAL;
	v = malloc(sizeof(*v));
	p = malloc(sizeof(*p));
	if (!v || !p) {
		r = -ENOMEM;
		goto out;
	}
	pack(st, v);
	r = map = map_create(v);
	if (r < 0)
		goto out;
	r = assemble(p, v, map);
	if (r < 0)
		goto out;
	/* the verifier's log only when asked, or to tell why it refused */
	r = prog_load(p, NULL, 0);
	if (r < 0 && r != -EPERM && log && log_len)
		prog_load(p, log, log_len);
	if (r < 0)
		DEVMEM_DBG("tun steer: program of %u insns refused: %s", p->n, strerror(-r));
out:
	if (map >= 0)
		close(map); /* the program holds the map */
	free(p);
	free(v);
	return r;
}

/* ---- attaching --------------------------------------------------------------- */

static int set_prog(int tun_fd, int prog_fd)
{
	/* tun.c: fd -1 takes the program off; the swap is RCU, so a frame
	 * sees the old program or the new one */
	return ioctl(tun_fd, TUNSETSTEERINGEBPF, &prog_fd) < 0 ? -errno : 0;
}

int tun_steer_update(struct tun_steer *ts, const struct steer *st)
{
	int fd, r;

	if (!st->nqueues || st->nqueues > ts->nqueues)
		return -EINVAL;
	fd = tun_steer_prog_load(st, NULL, 0);
	if (fd < 0)
		return fd;
	r = set_prog(ts->tun_fd, fd);
	close(fd); /* the device holds the program */
	return r;
}

struct tun_steer *tun_steer_attach(int tun_fd, unsigned nqueues, int *err)
{
	struct tun_steer *ts = calloc(1, sizeof(*ts));
	struct steer *st = malloc(sizeof(*st));
	int r = -ENOMEM;

	if (ts && st) {
		ts->tun_fd = tun_fd;
		ts->nqueues = nqueues;
		steer_init(st, nqueues);
		r = tun_steer_update(ts, st);
	}
	free(st);
	if (r < 0) {
		free(ts);
		if (err)
			*err = r;
		return NULL;
	}
	return ts;
}

int tun_steer_detach(struct tun_steer *ts)
{
	return set_prog(ts->tun_fd, -1);
}

void tun_steer_free(struct tun_steer *ts)
{
	if (!ts)
		return;
	tun_steer_detach(ts);
	free(ts);
}
