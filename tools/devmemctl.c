/* SPDX-License-Identifier: MIT */
/*
 * devmemctl: ethtool and the netlink netdev family for a running devmem
 * stack, over the stack's control socket (devmem_ctl_listen; protocol at the
 * top of src/ctl/ctlsock.c). It shows queues, page pools, bindings, ntuple
 * rules, RSS and counters, and changes RSS, rules, header split and the
 * queue count. bind-rx / bind-tx pass a memfd to the stack with SCM_RIGHTS;
 * as with netlink, the binding lives as long as the connection, so --hold
 * keeps it (until Ctrl-C or SIGTERM).
 *
 * Output: aligned tables for people, or with --json the stack's reply, one
 * JSON object per line, for scripts. Exit status: 0 done; 1 the stack
 * refused ("devmemctl: VERB: <strerror> (<reason>)") or could not be
 * reached; 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LINE_MAX_REQ 4096u    /* the stack's limit on one request line */
#define REPLY_MAX (64u << 20) /* a reply longer than this is refused */

static const char *prog = "devmemctl";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-s SOCKET] [--json] COMMAND [ARGS]\n"
		"\n"
		"Shows and changes the software NIC of a running devmem stack through its\n"
		"control socket (devmem-nc --ctl PATH, or devmem_ctl_listen).\n"
		"\n"
		"  -s, --socket PATH   the control socket ($DEVMEM_CTL when not given)\n"
		"  -j, --json          print the stack's replies as JSON, one object a line\n"
		"  -h, --help          this text\n"
		"\n"
		"commands:\n"
		"  show queues         RX queues: binding, poller thread, counters (queue-get)\n"
		"  show pools          page pools: queue, binding, buffers in use (page-pool-get)\n"
		"  show bindings       dmabuf bindings: queues, memory, tokens held, TX pending\n"
		"  show rules          ntuple rules (ethtool -n)\n"
		"  show rss            RSS indirection table and hash key (ethtool -x)\n"
		"  show stats          NIC, stack and per-queue counters (ethtool -S)\n"
		"  show header-split   whether header split is on (ethtool -g)\n"
		"  show channels       RX queues in use and the most the link has (ethtool -l)\n"
		"  rss equal N         spread the table over queues 0..N-1 (ethtool -X equal)\n"
		"  rss weight W0 W1 .. queue q gets entries in proportion to Wq (ethtool -X weight)\n"
		"  rss key HEX         the 40-byte Toeplitz key, ':' between bytes allowed\n"
		"  rss default         the table spread over the queues in use again\n"
		"  rule add flow-type tcp4|tcp6|udp4|udp6 [src-ip A] [dst-ip A] [src-port P]\n"
		"           [dst-port P] action Q|-1 [loc L]\n"
		"                      an ntuple rule, ethtool -N syntax (-1: drop)\n"
		"  rule del LOC        delete the rule at location LOC\n"
		"  header-split on|off ethtool -G tcp-data-split\n"
		"  channels N          receive on queues 0..N-1 (ethtool -L rx)\n"
		"  bind-rx --dmabuf-size N[K|M|G] [--mem host|sealed] [--hold] QUEUE...\n"
		"                      a memfd of N bytes, bound to the RX queues (A-B: a range)\n"
		"  bind-tx --dmabuf-size N[K|M|G] [--mem host|sealed] [--hold]\n"
		"                      a memfd of N bytes, bound for transmit\n"
		"  version             the protocol version and the stack's verbs\n"
		"  raw VERB [ARG...]   send one request line as it is\n"
		"\n"
		"A binding lives as long as devmemctl's connection: without --hold it is\n"
		"made, reported and released when devmemctl exits (a check that the stack\n"
		"accepts it); with --hold devmemctl keeps it until Ctrl-C or SIGTERM.\n",
		prog);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see %s --help)\n", prog);
	exit(2);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- a small JSON reader: what the stack sends --------------------------- */

enum jt { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jt t;
	bool b;
	char *s;          /* J_STR: the text; J_NUM: the literal */
	size_t n;         /* J_ARR, J_OBJ: members */
	struct jv *v;
	char **k;         /* J_OBJ: keys */
};

struct jp {
	const char *p;
	const char *err;
};

static void jp_ws(struct jp *jp)
{
	while (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\r' || *jp->p == '\n')
		jp->p++;
}

static char *jp_string(struct jp *jp)
{
	size_t cap = 16, len = 0;
	char *s = malloc(cap);

	if (!s || *jp->p != '"')
		goto bad;
	jp->p++;
	while (*jp->p != '"') {
		char c = *jp->p++;

		if (!c)
			goto bad;
		if (c == '\\') {
			char e = *jp->p++;

			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case '"': case '\\': case '/': c = e; break;
			case 'u': {
				unsigned u = 0;

				for (int i = 0; i < 4; i++) {
					char h = *jp->p++;

					u <<= 4;
					if (h >= '0' && h <= '9')
						u |= (unsigned)(h - '0');
					else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f')
						u |= (unsigned)((h | 0x20) - 'a' + 10);
					else
						goto bad;
				}
				c = u < 0x80 ? (char)u : '?';
				break;
			}
			default:
				goto bad;
			}
		}
		if (len + 2 > cap) {
			char *n = realloc(s, cap *= 2);

			if (!n)
				goto bad;
			s = n;
		}
		s[len++] = c;
	}
	jp->p++;
	s[len] = 0;
	return s;
bad:
	free(s);
	jp->err = "bad string";
	return NULL;
}

static void jv_free(struct jv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jv_free(&v->v[i]);
		if (v->k)
			free(v->k[i]);
	}
	free(v->v);
	free(v->k);
	free(v->s);
}

static bool jp_value(struct jp *jp, struct jv *out, int depth);

static bool jp_members(struct jp *jp, struct jv *out, char close, int depth)
{
	size_t cap = 0;

	jp->p++;
	jp_ws(jp);
	if (*jp->p == close) {
		jp->p++;
		return true;
	}
	for (;;) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 8;
			struct jv *nv = realloc(out->v, cap * sizeof(*nv));
			if (!nv)
				return false;
			out->v = nv;
			if (close == '}') {
				char **nk = realloc(out->k, cap * sizeof(*nk));
				if (!nk)
					return false;
				out->k = nk;
			}
		}
		jp_ws(jp);
		if (close == '}') {
			char *key = jp_string(jp);

			if (!key)
				return false;
			out->k[out->n] = key;
			jp_ws(jp);
			if (*jp->p != ':') {
				free(key);
				jp->err = "':' expected";
				return false;
			}
			jp->p++;
		}
		memset(&out->v[out->n], 0, sizeof(out->v[0]));
		if (!jp_value(jp, &out->v[out->n], depth + 1)) {
			if (close == '}')
				free(out->k[out->n]);
			return false;
		}
		out->n++;
		jp_ws(jp);
		if (*jp->p == ',') {
			jp->p++;
			continue;
		}
		if (*jp->p == close) {
			jp->p++;
			return true;
		}
		jp->err = "',' expected";
		return false;
	}
}

static bool jp_value(struct jp *jp, struct jv *out, int depth)
{
	if (depth > 32) {
		jp->err = "nested too deep";
		return false;
	}
	jp_ws(jp);
	switch (*jp->p) {
	case '{':
		out->t = J_OBJ;
		return jp_members(jp, out, '}', depth);
	case '[':
		out->t = J_ARR;
		return jp_members(jp, out, ']', depth);
	case '"':
		out->t = J_STR;
		out->s = jp_string(jp);
		return out->s != NULL;
	case 't':
	case 'f':
	case 'n': {
		static const char *const lit[] = {"true", "false", "null"};

		for (int i = 0; i < 3; i++)
			if (!strncmp(jp->p, lit[i], strlen(lit[i]))) {
				out->t = i == 2 ? J_NULL : J_BOOL;
				out->b = i == 0;
				jp->p += strlen(lit[i]);
				return true;
			}
		break;
	}
	default: {
		const char *s = jp->p;

		while (*jp->p == '-' || *jp->p == '+' || *jp->p == '.' || *jp->p == 'e' ||
		       *jp->p == 'E' || (*jp->p >= '0' && *jp->p <= '9'))
			jp->p++;
		if (jp->p == s)
			break;
		out->t = J_NUM;
		out->s = strndup(s, (size_t)(jp->p - s));
		return out->s != NULL;
	}
	}
	jp->err = "value expected";
	return false;
}

static const struct jv *jget(const struct jv *o, const char *key)
{
	if (!o || o->t != J_OBJ)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->k[i], key))
			return &o->v[i];
	return NULL;
}

/* A member as text: numbers as they came, booleans as yes/no, "" if absent. */
static const char *jtext(const struct jv *o, const char *key)
{
	const struct jv *v = jget(o, key);

	if (!v)
		return "";
	switch (v->t) {
	case J_NUM:
	case J_STR:
		return v->s;
	case J_BOOL:
		return v->b ? "yes" : "no";
	default:
		return "";
	}
}

static int64_t jint(const struct jv *o, const char *key)
{
	const struct jv *v = jget(o, key);

	return v && v->t == J_NUM ? strtoll(v->s, NULL, 10) : 0;
}

static const struct jv *jarr(const struct jv *o, const char *key)
{
	const struct jv *v = jget(o, key);

	return v && v->t == J_ARR ? v : NULL;
}

/* ---- tables --------------------------------------------------------------- */

#define TBL_COLS 16

struct table {
	unsigned ncols;
	const char *hdr[TBL_COLS];
	char **cells; /* row-major */
	size_t ncells, cap;
};

static void tbl_init(struct table *t, const char *cols)
{
	char *dup = strdup(cols), *save = NULL;

	memset(t, 0, sizeof(*t));
	if (!dup)
		die("out of memory");
	for (char *c = strtok_r(dup, " ", &save); c && t->ncols < TBL_COLS;
	     c = strtok_r(NULL, " ", &save))
		t->hdr[t->ncols++] = c;
	/* dup stays alive with the table: hdr points into it */
}

static void __attribute__((format(printf, 2, 3))) tbl_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	if (t->ncells == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = realloc(t->cells, t->cap * sizeof(*t->cells));
		if (!t->cells)
			die("out of memory");
	}
	t->cells[t->ncells++] = s;
}

static bool numeric(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if ((*s < '0' || *s > '9') && *s != '.')
			return false;
	return true;
}

/* Columns as wide as their widest cell; numbers to the right. */
static void tbl_print(struct table *t, const char *indent)
{
	size_t w[TBL_COLS] = {0};
	size_t rows = t->ncells / t->ncols;

	for (unsigned c = 0; c < t->ncols; c++)
		w[c] = strlen(t->hdr[c]);
	for (size_t i = 0; i < t->ncells; i++)
		if (strlen(t->cells[i]) > w[i % t->ncols])
			w[i % t->ncols] = strlen(t->cells[i]);
	for (size_t r = 0; r <= rows; r++) {
		fputs(indent, stdout);
		for (unsigned c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->hdr[c];
			bool last = c + 1 == t->ncols;

			if (r && numeric(s))
				printf("%*s", (int)w[c], s);
			else if (last)
				fputs(s, stdout); /* no trailing blanks */
			else
				printf("%-*s", (int)w[c], s);
			if (!last)
				fputs("  ", stdout);
		}
		fputc('\n', stdout);
	}
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free((char *)(t->ncols ? t->hdr[0] : NULL));
}

/* Bytes for people: 16777216 -> "16 MiB". */
static const char *human(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;
	double v = (double)b;

	while (v >= 1024 && u < 4 && ((uint64_t)v % 1024 == 0 || v >= 10 * 1024)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, v == (double)(uint64_t)v ? "%.0f %s" : "%.1f %s", v, unit[u]);
	return buf;
}

/* ---- views of each reply ------------------------------------------------------ */

static void show_queues(const struct jv *r)
{
	const struct jv *qs = jarr(r, "queues");
	struct table t;

	printf("RX queues: %s in use\n", jtext(r, "count"));
	tbl_init(&t, "QUEUE ACTIVE BINDING POLLER PACKETS BYTES SPLIT LINEAR DROP_NOBUF BAD "
		     "POOL_BUFS POOL_FREE TYPE");
	for (size_t i = 0; qs && i < qs->n; i++) {
		const struct jv *q = &qs->v[i];

		tbl_cell(&t, "%s", jtext(q, "id"));
		tbl_cell(&t, "%s", jtext(q, "active"));
		tbl_cell(&t, "%s", jint(q, "binding") ? jtext(q, "binding") : "-");
		tbl_cell(&t, "%s", jint(q, "poller_tid") > 0 ? jtext(q, "poller_tid") : "-");
		tbl_cell(&t, "%s", jtext(q, "packets"));
		tbl_cell(&t, "%s", jtext(q, "bytes"));
		tbl_cell(&t, "%s", jtext(q, "split"));
		tbl_cell(&t, "%s", jtext(q, "linear"));
		tbl_cell(&t, "%s", jtext(q, "drop_nobuf"));
		tbl_cell(&t, "%s", jtext(q, "bad"));
		tbl_cell(&t, "%s", jtext(q, "pool_bufs"));
		tbl_cell(&t, "%s", jtext(q, "pool_free"));
		tbl_cell(&t, "%s", jtext(q, "type"));
	}
	tbl_print(&t, "");
}

static void show_pools(const struct jv *r)
{
	const struct jv *ps = jarr(r, "pools");
	struct table t;

	tbl_init(&t, "POOL QUEUE MEMORY SIZE IN_USE HELD BUF_SIZE DETACHED");
	for (size_t i = 0; ps && i < ps->n; i++) {
		const struct jv *p = &ps->v[i];

		tbl_cell(&t, "%s", jtext(p, "id"));
		tbl_cell(&t, "%s", jtext(p, "queue"));
		if (jint(p, "binding"))
			tbl_cell(&t, "binding %s", jtext(p, "binding"));
		else
			tbl_cell(&t, "host");
		tbl_cell(&t, "%s", jtext(p, "size"));
		tbl_cell(&t, "%s", jtext(p, "in_use"));
		tbl_cell(&t, "%s", jtext(p, "held"));
		tbl_cell(&t, "%s", jtext(p, "buf_size"));
		tbl_cell(&t, "%s", jtext(p, "detached"));
	}
	tbl_print(&t, "");
}

static void queue_list(const struct jv *qs, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	for (size_t i = 0; qs && i < qs->n && o + 1 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "",
				      qs->v[i].t == J_NUM ? qs->v[i].s : "?");
	if (!qs || !qs->n)
		snprintf(buf, len, "-");
}

static void show_bindings(const struct jv *r)
{
	const struct jv *bs = jarr(r, "bindings");
	struct table t;
	char q[256], h[32];

	if (!bs || !bs->n) {
		printf("no bindings\n");
		return;
	}
	tbl_init(&t, "ID DIR MEM SIZE QUEUES TOKENS TX_PENDING OWNER");
	for (size_t i = 0; i < bs->n; i++) {
		const struct jv *b = &bs->v[i];

		tbl_cell(&t, "%s", jtext(b, "id"));
		tbl_cell(&t, "%s", jget(b, "tx") && jget(b, "tx")->b ? "tx" : "rx");
		tbl_cell(&t, "%s", jtext(b, "mem"));
		tbl_cell(&t, "%s", human((uint64_t)jint(b, "size"), h, sizeof(h)));
		queue_list(jarr(b, "queues"), q, sizeof(q));
		tbl_cell(&t, "%s", q);
		tbl_cell(&t, "%s", jtext(b, "tokens_outstanding"));
		tbl_cell(&t, "%s", jtext(b, "tx_pending"));
		tbl_cell(&t, "%s", jtext(b, "owner"));
	}
	tbl_print(&t, "");
}

static void show_rules(const struct jv *r)
{
	const struct jv *rs = jarr(r, "rules");
	struct table t;

	if (!rs || !rs->n) {
		printf("no rules\n");
		return;
	}
	tbl_init(&t, "LOC FLOW SRC_IP DST_IP SRC_PORT DST_PORT ACTION");
	for (size_t i = 0; i < rs->n; i++) {
		const struct jv *x = &rs->v[i];
		const char *s;

		tbl_cell(&t, "%s", jtext(x, "loc"));
		tbl_cell(&t, "%s", jtext(x, "flow_type"));
		s = jtext(x, "src_ip");
		tbl_cell(&t, "%s", *s ? s : "*");
		s = jtext(x, "dst_ip");
		tbl_cell(&t, "%s", *s ? s : "*");
		s = jtext(x, "src_port");
		tbl_cell(&t, "%s", *s ? s : "*");
		s = jtext(x, "dst_port");
		tbl_cell(&t, "%s", *s ? s : "*");
		if (jint(x, "action") < 0)
			tbl_cell(&t, "drop");
		else
			tbl_cell(&t, "queue %s", jtext(x, "action"));
	}
	tbl_print(&t, "");
}

/* As ethtool -x prints it. */
static void show_rss(const struct jv *r)
{
	const struct jv *ind = jarr(r, "indir");
	const char *key = jtext(r, "key");

	printf("RX flow hash indirection table with %s RX queue(s):\n", jtext(r, "queues"));
	for (size_t i = 0; ind && i < ind->n; i++) {
		if (i % 8 == 0)
			printf("%s%5zu:", i ? "\n" : "", i);
		printf(" %5s", ind->v[i].t == J_NUM ? ind->v[i].s : "?");
	}
	printf("\nRSS hash key:\n");
	for (size_t i = 0; key[i] && key[i + 1]; i += 2)
		printf("%s%c%c", i ? ":" : "", key[i], key[i + 1]);
	printf("\n");
}

/* name value lines of an object of counters */
static void show_counters(const char *title, const struct jv *o)
{
	struct table t;

	if (!o || o->t != J_OBJ)
		return;
	printf("%s:\n", title);
	tbl_init(&t, "COUNTER VALUE");
	for (size_t i = 0; i < o->n; i++) {
		tbl_cell(&t, "%s", o->k[i]);
		tbl_cell(&t, "%s", o->v[i].t == J_NUM ? o->v[i].s : "?");
	}
	tbl_print(&t, "  ");
}

static void show_stats(const struct jv *r)
{
	show_counters("NIC", jget(r, "nic"));
	show_counters("stack", jget(r, "stack"));
	printf("queues:\n");
	const struct jv *qs = jarr(r, "queues");
	struct table t;

	tbl_init(&t, "QUEUE PACKETS BYTES SPLIT LINEAR DROP_NOBUF BAD");
	for (size_t i = 0; qs && i < qs->n; i++) {
		const struct jv *q = &qs->v[i];

		tbl_cell(&t, "%s", jtext(q, "id"));
		tbl_cell(&t, "%s", jtext(q, "packets"));
		tbl_cell(&t, "%s", jtext(q, "bytes"));
		tbl_cell(&t, "%s", jtext(q, "split"));
		tbl_cell(&t, "%s", jtext(q, "linear"));
		tbl_cell(&t, "%s", jtext(q, "drop_nobuf"));
		tbl_cell(&t, "%s", jtext(q, "bad"));
	}
	tbl_print(&t, "  ");
}

static void show_bind(const struct jv *r)
{
	char q[256], h[32];

	queue_list(jarr(r, "queues"), q, sizeof(q));
	if (jarr(r, "queues"))
		printf("binding %s: RX queues %s, %s memory, %s\n", jtext(r, "id"), q,
		       jtext(r, "mem"), human((uint64_t)jint(r, "size"), h, sizeof(h)));
	else
		printf("binding %s: TX, %s memory, %s\n", jtext(r, "id"), jtext(r, "mem"),
		       human((uint64_t)jint(r, "size"), h, sizeof(h)));
}

static void show_reply(const char *verb, const struct jv *r, const char *line)
{
	if (!strcmp(verb, "queues"))
		show_queues(r);
	else if (!strcmp(verb, "pools"))
		show_pools(r);
	else if (!strcmp(verb, "bindings"))
		show_bindings(r);
	else if (!strcmp(verb, "rules"))
		show_rules(r);
	else if (!strcmp(verb, "rss") || !strcmp(verb, "set-rss"))
		show_rss(r);
	else if (!strcmp(verb, "stats"))
		show_stats(r);
	else if (!strcmp(verb, "rule-add"))
		printf("Added rule with ID %s\n", jtext(r, "loc"));
	else if (!strcmp(verb, "rule-del"))
		printf("Deleted rule with ID %s\n", jtext(r, "loc"));
	else if (!strcmp(verb, "header-split"))
		printf("header split: %s\n", jget(r, "header_split") &&
					     jget(r, "header_split")->b ? "on" : "off");
	else if (!strcmp(verb, "channels"))
		printf("RX queues: %s (at most %s)\n", jtext(r, "queues"), jtext(r, "max"));
	else if (!strcmp(verb, "bind-rx") || !strcmp(verb, "bind-tx"))
		show_bind(r);
	else if (!strcmp(verb, "version")) {
		const struct jv *vs = jarr(r, "verbs");

		printf("protocol %s; verbs:", jtext(r, "proto"));
		for (size_t i = 0; vs && i < vs->n; i++)
			printf(" %s", vs->v[i].t == J_STR ? vs->v[i].s : "?");
		printf("\n");
	} else
		fputs(line, stdout);
}

/* ---- the connection ------------------------------------------------------------- */

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("%s: %s", path, strerror(ENAMETOOLONG));
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("cannot reach the stack at %s: %s", path, strerror(errno));
	return fd;
}

/* One request line, with an fd passed on it when pass_fd >= 0. */
static void send_req(int fd, const char *line, int pass_fd)
{
	size_t len = strlen(line), off = 0;

	if (len > LINE_MAX_REQ)
		die_usage("request longer than %u bytes", LINE_MAX_REQ);
	while (off < len) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov = {.iov_base = (char *)line + off, .iov_len = len - off};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

		if (pass_fd >= 0 && off == 0) {
			struct cmsghdr *cm;

			memset(&cbuf, 0, sizeof(cbuf));
			msg.msg_control = cbuf.buf;
			msg.msg_controllen = sizeof(cbuf.buf);
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
		}
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("sending the request: %s", strerror(errno));
		}
		off += (size_t)n;
	}
}

/* One reply line (without its '\n'); the caller frees it. */
static char *read_reply(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		die("out of memory");
	for (;;) {
		if (len + 1 == cap) {
			if (cap >= REPLY_MAX)
				die("reply longer than %u bytes", REPLY_MAX);
			buf = realloc(buf, cap *= 2);
			if (!buf)
				die("out of memory");
		}
		/* byte by byte up to the newline would be slow; peek then take */
		ssize_t n = recv(fd, buf + len, cap - 1 - len, MSG_PEEK);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("reading the reply: %s", strerror(errno));
		}
		if (n == 0)
			die("the stack closed the control connection without a reply");
		char *nl = memchr(buf + len, '\n', (size_t)n);
		size_t take = nl ? (size_t)(nl - (buf + len)) + 1 : (size_t)n;

		n = recv(fd, buf + len, take, 0);
		if (n < 0)
			die("reading the reply: %s", strerror(errno));
		len += (size_t)n;
		if (nl) {
			buf[len - 1] = 0;
			return buf;
		}
	}
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Until a signal, or the stack goes away (then the binding went with it). */
static void hold(int fd)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	fprintf(stderr, "%s: holding the binding; Ctrl-C or SIGTERM releases it\n", prog);
	while (!stop) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, -1);

		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r > 0) {
			char c;

			if (recv(fd, &c, 1, MSG_DONTWAIT) <= 0)
				die("the stack closed the control connection: the binding is gone");
		}
	}
}

/* ---- commands --------------------------------------------------------------------- */

/* N, NK, NM, NG (powers of 1024) */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: return false;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

struct line {
	char buf[LINE_MAX_REQ + 1];
	size_t len;
};

static void __attribute__((format(printf, 2, 3))) addf(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(l->buf) - l->len)
		die_usage("request longer than %u bytes", LINE_MAX_REQ);
	l->len += (size_t)n;
}

/* Words go to the stack as they are: no blank, no control character. */
static void add_word(struct line *l, const char *w)
{
	if (!*w)
		die_usage("empty argument");
	for (const char *p = w; *p; p++)
		if ((unsigned char)*p <= ' ')
			die_usage("argument '%s' has a blank or control character", w);
	addf(l, " %s", w);
}

/* QUEUE or A-B */
static void add_queues(struct line *l, const char *arg)
{
	char *end;
	unsigned long a, b;

	errno = 0;
	a = strtoul(arg, &end, 10);
	b = a;
	if (*end == '-')
		b = strtoul(end + 1, &end, 10);
	if (errno || *end || arg[0] < '0' || arg[0] > '9' || b < a || b - a >= 1024)
		die_usage("bind-rx: '%s' is not a queue or a range A-B", arg);
	for (unsigned long q = a; q <= b; q++)
		addf(l, " %lu", q);
}

/* A memfd of size bytes, sealed against resizing: the stack maps it. */
static int make_memfd(uint64_t size)
{
	int fd = memfd_create("devmemctl-dmabuf", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		die("memfd_create: %s", strerror(errno));
	if (ftruncate(fd, (off_t)size))
		die("ftruncate(memfd, %" PRIu64 "): %s", size, strerror(errno));
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		die("sealing the memfd: %s", strerror(errno));
	return fd;
}

/* bind-rx / bind-tx: options and (rx) queues in any order. */
static int cmd_bind(struct line *l, int argc, char **argv, bool tx, bool *hold_after)
{
	const char *verb = tx ? "bind-tx" : "bind-rx";
	struct line qs = {.len = 0};
	const char *mem = "host";
	uint64_t size = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

		if (!strcmp(a, "--dmabuf-size") || !strcmp(a, "--mem")) {
			if (i + 1 == argc)
				die_usage("%s: %s needs a value", verb, a);
			val = argv[++i];
		} else if (!strncmp(a, "--dmabuf-size=", 14) || !strncmp(a, "--mem=", 6)) {
			val = strchr(a, '=') + 1;
		}
		if (val && a[2] == 'd') {
			if (!parse_size(val, &size) || !size || size > (1ull << 40))
				die_usage("%s: --dmabuf-size '%s' is not a size (N, NK, NM or NG)",
					  verb, val);
		} else if (val) {
			mem = val;
			if (strcmp(mem, "host") && strcmp(mem, "sealed"))
				die_usage("%s: --mem '%s' (host or sealed)", verb, mem);
		} else if (!strcmp(a, "--hold")) {
			*hold_after = true;
		} else if (a[0] == '-' && a[1]) {
			die_usage("%s: unknown option '%s'", verb, a);
		} else if (tx) {
			die_usage("bind-tx takes no queue ('%s')", a);
		} else {
			add_queues(&qs, a);
		}
	}
	if (!size)
		die_usage("%s needs --dmabuf-size N", verb);
	if (!tx && !qs.len)
		die_usage("bind-rx needs at least one QUEUE");
	addf(l, "%s mem %s%s", verb, mem, qs.buf);
	return make_memfd(size);
}

/* Build the request for the command words; returns the fd to pass or -1. */
static int build(struct line *l, int argc, char **argv, bool *hold_after)
{
	const char *c = argv[0];

	if (!strcmp(c, "show")) {
		static const char *const what[] = {"queues", "pools", "bindings", "rules",
						   "rss", "stats", "header-split", "channels"};

		if (argc != 2)
			die_usage("show: one of queues, pools, bindings, rules, rss, stats, "
				  "header-split, channels");
		for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++)
			if (!strcmp(argv[1], what[i])) {
				addf(l, "%s", what[i]);
				return -1;
			}
		die_usage("show: unknown object '%s'", argv[1]);
	}
	if (!strcmp(c, "rss")) {
		if (argc == 2 && !strcmp(argv[1], "default")) {
			addf(l, "set-rss default");
			return -1;
		}
		if (argc < 3 || (strcmp(argv[1], "equal") && strcmp(argv[1], "weight") &&
				 strcmp(argv[1], "key")))
			die_usage("rss: equal N, weight W0 W1 ..., key HEX or default");
		if (strcmp(argv[1], "weight") && argc != 3)
			die_usage("rss %s takes one value", argv[1]);
		addf(l, "set-rss");
	} else if (!strcmp(c, "rule")) {
		if (argc < 2 || (strcmp(argv[1], "add") && strcmp(argv[1], "del")))
			die_usage("rule: add ... or del LOC");
		if (!strcmp(argv[1], "del") && argc != 3)
			die_usage("rule del: one location");
		if (!strcmp(argv[1], "add") && argc < 4)
			die_usage("rule add: flow-type T ... action Q");
		addf(l, "rule-%s", argv[1]);
		argc--, argv++;
	} else if (!strcmp(c, "header-split")) {
		if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off")))
			die_usage("header-split: on or off");
		addf(l, "header-split");
	} else if (!strcmp(c, "channels")) {
		if (argc != 2)
			die_usage("channels: the number of RX queues");
		addf(l, "channels");
	} else if (!strcmp(c, "bind-rx") || !strcmp(c, "bind-tx")) {
		return cmd_bind(l, argc - 1, argv + 1, c[5] == 't', hold_after);
	} else if (!strcmp(c, "version")) {
		if (argc != 1)
			die_usage("version takes no argument");
		addf(l, "version");
	} else if (!strcmp(c, "raw")) {
		if (argc < 2)
			die_usage("raw: VERB [ARG...]");
		addf(l, "%s", argv[1]);
		argc--, argv++;
	} else {
		die_usage("unknown command '%s'", c);
	}
	for (int i = 1; i < argc; i++)
		add_word(l, argv[i]);
	return -1;
}

int main(int argc, char **argv)
{
	const char *sock = getenv("DEVMEM_CTL");
	bool json = false, hold_after = false;
	struct line l = {.len = 0};
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-s") || !strcmp(a, "--socket")) {
			if (++i == argc)
				die_usage("%s needs a path", a);
			sock = argv[i];
		} else if (!strncmp(a, "--socket=", 9)) {
			sock = a + 9;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else {
			die_usage("unknown option '%s'", a);
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	if (!sock || !*sock)
		die_usage("no control socket: give -s PATH or set DEVMEM_CTL");

	int pass = build(&l, argc - i, argv + i, &hold_after);
	char verb[64];

	snprintf(verb, sizeof(verb), "%.*s", (int)strcspn(l.buf, " "), l.buf);
	addf(&l, "\n");
	signal(SIGPIPE, SIG_IGN);

	int fd = ctl_connect(sock);

	send_req(fd, l.buf, pass);
	if (pass >= 0)
		close(pass); /* the stack has its own reference now (or refused it) */

	char *reply = read_reply(fd);
	struct jp jp = {.p = reply};
	struct jv r = {0};

	if (!jp_value(&jp, &r, 0) || r.t != J_OBJ)
		die("%s: unreadable reply from the stack (%s): %s", verb,
		    jp.err ? jp.err : "not an object", reply);
	const struct jv *ok = jget(&r, "ok");
	bool good = ok && ok->t == J_BOOL && ok->b;

	if (json) {
		fputs(reply, stdout);
		fputc('\n', stdout);
	}
	if (!good) {
		int e = (int)jint(&r, "errno");
		const char *why = jtext(&r, "reason");

		fflush(stdout);
		fprintf(stderr, "%s: %s: %s (%s%s%s)\n", prog, verb,
			e > 0 ? strerror(e) : jtext(&r, "message"), jtext(&r, "error"),
			*why ? ": " : "", why);
		jv_free(&r);
		free(reply);
		close(fd);
		return 1;
	}
	if (!json)
		show_reply(verb, &r, reply);
	fflush(stdout);
	jv_free(&r);
	free(reply);
	if (hold_after)
		hold(fd);
	close(fd);
	return 0;
}
