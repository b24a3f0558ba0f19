/* SPDX-License-Identifier: MIT */
/*
 * The control socket: what netlink (netdev family) and ethtool are to a
 * kernel NIC, a Unix stream socket is to this stack. devmemctl talks to it.
 * It works through the public API only, as any application could.
 *
 * Socket: a path chosen by the stack's owner, mode 0600 (set on the socket
 * before bind and on the path before listen, so nobody else ever connects),
 * and peers of another uid (root aside) are refused. An existing socket at
 * the path is replaced when nothing answers on it (stale); a live one is
 * EADDRINUSE, anything that is not a socket EEXIST. One thread per stack
 * serves every connection with poll(2).
 *
 * Protocol, version 1. Each request line gets one reply line, in order (a
 * client may send the next request before reading a reply; one that passes
 * an fd had better wait, so that the fd goes with its own request):
 *
 *   request:  VERB [ARG...]\n   tokens split on blanks, 4096 bytes at most
 *   reply:    one JSON object on one line, "\n" terminated
 *             {"ok":true,"verb":"VERB",...fields of the verb...}
 *             {"ok":false,"verb":"VERB","errno":22,"error":"EINVAL",
 *              "message":"Invalid argument","reason":"..."}
 *
 * "reason" is what the kernel would say in its extack message: the stack's
 * devmem_last_error() when the refusal came from the stack, otherwise the
 * parser's own words. Verbs (reply fields after "ok" and "verb"):
 *
 *   version                       "proto":1,"verbs":[...]
 *   queues                        "count":N,"queues":[{"id","active","binding",
 *                                 "poller_tid","packets","bytes","split","linear",
 *                                 "drop_nobuf","bad","pool_bufs","pool_free","type"}]
 *   pools                         "pools":[{"id","queue","binding","size","in_use",
 *                                 "held","buf_size","detached"}]
 *   bindings                      "bindings":[{"id","tx","mem","size","queues":[..],
 *                                 "tokens_outstanding","tx_pending","owner"}]
 *                                 owner: "connection" (this one), "ctl" (another
 *                                 control connection) or "app"
 *   rules                         "rules":[{"loc","flow_type","src_ip","dst_ip",
 *                                 "src_port","dst_port","action"}] (only the
 *                                 fields the rule matches; action -1: drop)
 *   rss                           "queues","indir_size","key":"hex","indir":[..]
 *   stats                         "nic":{..},"stack":{..},"queues":[{..}]
 *   set-rss equal N               as rss, after the change
 *   set-rss weight W0 W1 ...
 *   set-rss key HEX               80 hex digits, ':' between bytes allowed
 *   set-rss default               the table spread over the queues again, no
 *                                 longer set by hand (ethtool -X default)
 *   rule-add flow-type tcp4|tcp6|udp4|udp6 [src-ip A] [dst-ip A] [src-port P]
 *            [dst-port P] action Q|-1 [loc L|any]     "loc":L
 *                                 (ethtool -N: "queue" for action, "drop" for -1)
 *   rule-del LOC                  "loc":LOC
 *   header-split [on|off]         "header_split":true|false
 *   channels [N]                  "queues":N,"max":M
 *   bind-rx [mem host|sealed] Q...  "id","queues":[..],"mem","size"
 *   bind-tx [mem host|sealed]       "id","mem","size"
 *   unbind ID                     "id":ID
 *
 * bind-rx and bind-tx take the dmabuf: a memfd passed with SCM_RIGHTS on
 * the bytes of that request line, sealed against shrinking and growing (the
 * stack maps it). Fds received are kept in order (8 at most) and each bind
 * verb uses up the oldest, even when it refuses; other verbs leave them.
 * As a netlink bind-rx lives as long as its socket, a binding made here
 * lives as long as the control connection: closing it unbinds. unbind names
 * only this connection's bindings (ENOENT otherwise).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <devmem/devmem.h>

#include "util/util.h"

#define CTL_PROTO 1
#define CTL_LINE_MAX 4096u   /* bytes of one request line, '\n' included */
#define CTL_ARGS_MAX 256u    /* tokens of one request */
#define CTL_CONNS_MAX 64u    /* connections served at once */
#define CTL_FDS_MAX 8u       /* fds received and not yet used, per connection */
#define CTL_QUEUES_MAX 1024u /* queue ids probed by queue-get */
#define CTL_BIND_QUEUES 64u  /* queues of one bind-rx (devmem_binding_info) */

/* ---- JSON output ----------------------------------------------------------- */

/* A growing buffer; a comma goes in front of anything that follows a value. */
struct jb {
	char *p;
	size_t len, cap;
	bool oom;
};

static void jb_putn(struct jb *j, const char *s, size_t n)
{
	if (j->oom)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 1024;
		char *p;

		while (cap < j->len + n + 1)
			cap *= 2;
		p = realloc(j->p, cap);
		if (!p) {
			j->oom = true;
			return;
		}
		j->p = p;
		j->cap = cap;
	}
	memcpy(j->p + j->len, s, n);
	j->len += n;
	j->p[j->len] = 0;
}

static void jb_puts(struct jb *j, const char *s)
{
	jb_putn(j, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) jb_printf(struct jb *j, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	jb_putn(j, buf, n < 0 ? 0 : DEVMEM_MIN((size_t)n, sizeof(buf) - 1));
}

static void jb_sep(struct jb *j)
{
	char c = j->len ? j->p[j->len - 1] : '\n';

	if (c != '{' && c != '[' && c != ':' && c != '\n')
		jb_putn(j, ",", 1);
}

static void jb_qstr(struct jb *j, const char *s)
{
	jb_putn(j, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			jb_putn(j, e, 2);
		} else if (c < 0x20) {
			jb_printf(j, "\\u%04x", c);
		} else {
			jb_putn(j, s, 1);
		}
	}
	jb_putn(j, "\"", 1);
}

/* key may be NULL: an array element */
static void jb_key(struct jb *j, const char *key)
{
	jb_sep(j);
	if (key) {
		jb_qstr(j, key);
		jb_putn(j, ":", 1);
	}
}

static void jb_u64(struct jb *j, const char *key, uint64_t v)
{
	jb_key(j, key);
	jb_printf(j, "%" PRIu64, v);
}

static void jb_i64(struct jb *j, const char *key, int64_t v)
{
	jb_key(j, key);
	jb_printf(j, "%" PRId64, v);
}

static void jb_bool(struct jb *j, const char *key, bool v)
{
	jb_key(j, key);
	jb_puts(j, v ? "true" : "false");
}

static void jb_str(struct jb *j, const char *key, const char *s)
{
	jb_key(j, key);
	jb_qstr(j, s);
}

static void jb_open(struct jb *j, const char *key, char brace)
{
	jb_key(j, key);
	jb_putn(j, &brace, 1);
}

static void jb_close(struct jb *j, char brace)
{
	jb_putn(j, &brace, 1);
}

/* ---- errno names ------------------------------------------------------------ */

static const struct {
	int e;
	const char *name;
} errno_names[] = {
	{EPERM, "EPERM"},       {ENOENT, "ENOENT"},         {EINTR, "EINTR"},
	{EIO, "EIO"},           {E2BIG, "E2BIG"},           {EBADF, "EBADF"},
	{EAGAIN, "EAGAIN"},     {ENOMEM, "ENOMEM"},         {EACCES, "EACCES"},
	{EFAULT, "EFAULT"},     {EBUSY, "EBUSY"},           {EEXIST, "EEXIST"},
	{ENODEV, "ENODEV"},     {ENOTDIR, "ENOTDIR"},       {EINVAL, "EINVAL"},
	{ENFILE, "ENFILE"},     {EMFILE, "EMFILE"},         {ENOSPC, "ENOSPC"},
	{ERANGE, "ERANGE"},     {ENAMETOOLONG, "ENAMETOOLONG"}, {ENOSYS, "ENOSYS"},
	{EMSGSIZE, "EMSGSIZE"}, {EOPNOTSUPP, "EOPNOTSUPP"}, {EADDRINUSE, "EADDRINUSE"},
	{ENOBUFS, "ENOBUFS"},   {ETIMEDOUT, "ETIMEDOUT"},   {ECONNREFUSED, "ECONNREFUSED"},
	{EOVERFLOW, "EOVERFLOW"},
};

static const char *errno_name(int e)
{
	for (size_t i = 0; i < DEVMEM_ARRAY_SIZE(errno_names); i++)
		if (errno_names[i].e == e)
			return errno_names[i].name;
	return "E?";
}

/* ---- per-stack state ---------------------------------------------------------- */

struct ctl_conn {
	int fd;
	char in[CTL_LINE_MAX];
	size_t inlen;
	bool discard;              /* a line too long: drop up to its '\n' */
	int fds[CTL_FDS_MAX];      /* received with SCM_RIGHTS, oldest first */
	unsigned nfds;
	struct devmem_binding **binds; /* made through this connection */
	unsigned nbinds, binds_cap;
	struct jb out;             /* replies not yet written */
	size_t out_off;
};

struct ctl {
	struct ctl *next;
	struct devmem_stack *stack;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;                 /* the socket inode we created at path */
	ino_t ino;
	int lfd;
	int wake[2];               /* devmem_ctl_close -> server thread */
	pthread_t thread;
	struct ctl_conn *conns[CTL_CONNS_MAX];
	unsigned nconns;
};

/* The stack has no field for us: a small registry keyed by the stack. */
static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctl *ctl_list;

/* One request being served. */
struct req {
	struct ctl *c;
	struct ctl_conn *cc;
	struct jb *j;
	int err;                   /* errno of the refusal, 0: success */
	char reason[256];
};

static int __attribute__((format(printf, 3, 4))) refuse(struct req *r, int err, const char *fmt, ...)
{
	va_list ap;

	r->err = err;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	return -1;
}

/* The stack refused (errno set): its reason, or ours when it gave none. */
static int __attribute__((format(printf, 2, 3))) api_refused(struct req *r, const char *fmt, ...)
{
	const char *why = devmem_last_error();
	int err = errno ? errno : EIO;
	va_list ap;

	r->err = err;
	if (why && *why) {
		snprintf(r->reason, sizeof(r->reason), "%s", why);
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	return -1;
}

/* Before a call whose refusal is reported: a reason left by an earlier
 * call must not be taken for this one's. */
static void reason_clear(void)
{
	devmem_reason(0, "%s", "");
}

/* ---- argument parsing ------------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static int arg_uint(struct req *r, const char *what, const char *s, uint64_t max, uint64_t *out)
{
	if (parse_u64(s, max, out))
		return 0;
	return refuse(r, EINVAL, "%s: '%s' is not a number from 0 to %" PRIu64, what, s ? s : "",
		      max);
}

static int arg_mem(struct req *r, int *argc, char ***argv, int *mem)
{
	*mem = DEVMEM_MEM_HOST;
	if (*argc >= 1 && !strcmp((*argv)[0], "mem")) {
		if (*argc < 2)
			return refuse(r, EINVAL, "mem: host or sealed expected");
		*mem = devmem_mem_parse((*argv)[1]);
		if (*mem < 0)
			return refuse(r, EINVAL, "mem: unknown memory '%s' (host or sealed)",
				      (*argv)[1]);
		*argc -= 2;
		*argv += 2;
	}
	return 0;
}

/* ---- introspection verbs -------------------------------------------------------- */

static void put_queue_stats(struct jb *j, const struct devmem_queue_stats *st)
{
	jb_u64(j, "packets", st->packets);
	jb_u64(j, "bytes", st->bytes);
	jb_u64(j, "split", st->split);
	jb_u64(j, "linear", st->linear);
	jb_u64(j, "drop_nobuf", st->drop_nobuf);
	jb_u64(j, "bad", st->bad);
	jb_u64(j, "pool_bufs", st->pool_bufs);
	jb_u64(j, "pool_free", st->pool_free);
}

/* Every queue the stack has (active or not), as queue-get lists them. */
static int put_queues(struct req *r, const char *key)
{
	struct devmem_queue_info qi;
	unsigned q;

	jb_open(r->j, key, '[');
	reason_clear();
	for (q = 0; q < CTL_QUEUES_MAX; q++) {
		if (devmem_queue_info(r->c->stack, q, &qi))
			break;
		jb_open(r->j, NULL, '{');
		jb_u64(r->j, "id", qi.id);
		jb_bool(r->j, "active", qi.active);
		jb_u64(r->j, "binding", qi.binding_id);
		jb_i64(r->j, "poller_tid", qi.poller_tid);
		put_queue_stats(r->j, &qi.st);
		jb_str(r->j, "type", "rx"); /* each queue also sends its flows' frames */
		jb_close(r->j, '}');
	}
	jb_close(r->j, ']');
	if (q == 0)
		return api_refused(r, "queue-get of queue 0 failed");
	return (int)q;
}

static int v_queues(struct req *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return refuse(r, EINVAL, "queues takes no argument");
	jb_u64(r->j, "count", devmem_queue_count(r->c->stack));
	return put_queues(r, "queues") < 0 ? -1 : 0;
}

static int v_pools(struct req *r, int argc, char **argv)
{
	struct devmem_pool_info *p = NULL;
	unsigned cap = 0;
	int n;

	(void)argv;
	if (argc)
		return refuse(r, EINVAL, "pools takes no argument");
	/* the count may grow between two calls: ask until it fits */
	for (;;) {
		reason_clear();
		n = devmem_pool_list(r->c->stack, p, cap);
		if (n < 0) {
			free(p);
			return api_refused(r, "page-pool-get failed");
		}
		if ((unsigned)n <= cap)
			break;
		free(p);
		cap = (unsigned)n + 8;
		p = calloc(cap, sizeof(*p));
		if (!p)
			return refuse(r, ENOMEM, "no memory for %u pools", cap);
	}
	jb_open(r->j, "pools", '[');
	for (int i = 0; i < n; i++) {
		jb_open(r->j, NULL, '{');
		jb_u64(r->j, "id", p[i].id);
		jb_u64(r->j, "queue", p[i].queue);
		jb_u64(r->j, "binding", p[i].binding_id);
		jb_u64(r->j, "size", p[i].size);
		jb_u64(r->j, "in_use", p[i].in_use);
		jb_u64(r->j, "held", p[i].held);
		jb_bool(r->j, "detached", p[i].detached);
		jb_u64(r->j, "buf_size", p[i].buf_size);
		jb_close(r->j, '}');
	}
	jb_close(r->j, ']');
	free(p);
	return 0;
}

static const char *binding_owner(const struct req *r, uint32_t id)
{
	for (unsigned k = 0; k < r->c->nconns; k++) {
		const struct ctl_conn *cc = r->c->conns[k];

		for (unsigned i = 0; i < cc->nbinds; i++)
			if (devmem_binding_id(cc->binds[i]) == id)
				return cc == r->cc ? "connection" : "ctl";
	}
	return "app";
}

static int v_bindings(struct req *r, int argc, char **argv)
{
	struct devmem_binding_info *b = NULL;
	unsigned cap = 0;
	int n;

	(void)argv;
	if (argc)
		return refuse(r, EINVAL, "bindings takes no argument");
	for (;;) {
		reason_clear();
		n = devmem_binding_list(r->c->stack, b, cap);
		if (n < 0) {
			free(b);
			return api_refused(r, "binding list failed");
		}
		if ((unsigned)n <= cap)
			break;
		free(b);
		cap = (unsigned)n + 4;
		b = calloc(cap, sizeof(*b));
		if (!b)
			return refuse(r, ENOMEM, "no memory for %u bindings", cap);
	}
	jb_open(r->j, "bindings", '[');
	for (int i = 0; i < n; i++) {
		jb_open(r->j, NULL, '{');
		jb_u64(r->j, "id", b[i].id);
		jb_bool(r->j, "tx", b[i].tx);
		jb_str(r->j, "mem", devmem_mem_name((enum devmem_mem)b[i].mem));
		jb_u64(r->j, "size", b[i].size);
		jb_open(r->j, "queues", '[');
		for (unsigned q = 0; q < b[i].nqueues && q < DEVMEM_ARRAY_SIZE(b[i].queues); q++)
			jb_u64(r->j, NULL, b[i].queues[q]);
		jb_close(r->j, ']');
		jb_u64(r->j, "tokens_outstanding", b[i].tokens_outstanding);
		jb_u64(r->j, "tx_pending", b[i].tx_pending);
		jb_str(r->j, "owner", binding_owner(r, b[i].id));
		jb_close(r->j, '}');
	}
	jb_close(r->j, ']');
	free(b);
	return 0;
}

static const char *flow_name(int t)
{
	switch (t) {
	case DEVMEM_FLOW_TCP4: return "tcp4";
	case DEVMEM_FLOW_UDP4: return "udp4";
	case DEVMEM_FLOW_TCP6: return "tcp6";
	case DEVMEM_FLOW_UDP6: return "udp6";
	}
	return "unknown";
}

static int flow_parse(const char *s)
{
	static const char *const names[] = {"tcp4", "udp4", "tcp6", "udp6"};

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return i + 1; /* enum devmem_flow_type order */
	return -1;
}

static bool flow_v6(int t)
{
	return t == DEVMEM_FLOW_TCP6 || t == DEVMEM_FLOW_UDP6;
}

static int v_rules(struct req *r, int argc, char **argv)
{
	struct devmem_ntuple *nt = NULL;
	unsigned cap = 0;
	int n;

	(void)argv;
	if (argc)
		return refuse(r, EINVAL, "rules takes no argument");
	for (;;) {
		reason_clear();
		n = devmem_ntuple_list(r->c->stack, nt, cap);
		if (n < 0) {
			free(nt);
			return api_refused(r, "ntuple list failed");
		}
		if ((unsigned)n <= cap)
			break;
		free(nt);
		cap = (unsigned)n + 8;
		nt = calloc(cap, sizeof(*nt));
		if (!nt)
			return refuse(r, ENOMEM, "no memory for %u rules", cap);
	}
	jb_open(r->j, "rules", '[');
	for (int i = 0; i < n; i++) {
		const struct devmem_ntuple *t = &nt[i];
		int fam = flow_v6(t->flow_type) ? AF_INET6 : AF_INET;
		char a[INET6_ADDRSTRLEN];

		jb_open(r->j, NULL, '{');
		jb_u64(r->j, "loc", t->loc);
		jb_str(r->j, "flow_type", flow_name(t->flow_type));
		if ((t->fields & DEVMEM_NTUPLE_SRC_IP) && inet_ntop(fam, t->src, a, sizeof(a)))
			jb_str(r->j, "src_ip", a);
		if ((t->fields & DEVMEM_NTUPLE_DST_IP) && inet_ntop(fam, t->dst, a, sizeof(a)))
			jb_str(r->j, "dst_ip", a);
		if (t->fields & DEVMEM_NTUPLE_SRC_PORT)
			jb_u64(r->j, "src_port", t->sport);
		if (t->fields & DEVMEM_NTUPLE_DST_PORT)
			jb_u64(r->j, "dst_port", t->dport);
		jb_i64(r->j, "action", t->action);
		jb_close(r->j, '}');
	}
	jb_close(r->j, ']');
	free(nt);
	return 0;
}

static int put_rss(struct req *r)
{
	struct devmem_rss rss;
	char key[2 * DEVMEM_RSS_KEY_LEN + 1];

	reason_clear();
	if (devmem_rss_get(r->c->stack, &rss))
		return api_refused(r, "RSS configuration unavailable");
	for (unsigned i = 0; i < DEVMEM_RSS_KEY_LEN; i++)
		snprintf(key + 2 * i, 3, "%02x", rss.key[i]);
	jb_u64(r->j, "queues", devmem_queue_count(r->c->stack));
	jb_u64(r->j, "indir_size", rss.indir_size);
	jb_str(r->j, "key", key);
	jb_open(r->j, "indir", '[');
	for (unsigned i = 0; i < rss.indir_size && i < DEVMEM_RSS_INDIR_MAX; i++)
		jb_u64(r->j, NULL, rss.indir[i]);
	jb_close(r->j, ']');
	return 0;
}

static int v_rss(struct req *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return refuse(r, EINVAL, "rss takes no argument (set-rss changes it)");
	return put_rss(r);
}

static int v_stats(struct req *r, int argc, char **argv)
{
	struct devmem_nic_stats ns;
	struct devmem_stack_stats ss;
	struct jb *j = r->j;

	(void)argv;
	if (argc)
		return refuse(r, EINVAL, "stats takes no argument");
	reason_clear();
	if (devmem_nic_stats(r->c->stack, &ns))
		return api_refused(r, "NIC counters unavailable");
	if (devmem_stack_stats(r->c->stack, &ss))
		return api_refused(r, "stack counters unavailable");
	jb_open(j, "nic", '{');
#define NIC(f) jb_u64(j, #f, ns.f)
	NIC(rx_packets); NIC(rx_bytes); NIC(rx_steered); NIC(rx_rss); NIC(rx_ntuple_drop);
	NIC(rx_misdirected); NIC(rx_linear); NIC(rx_drop_nobuf); NIC(tx_packets); NIC(tx_bytes);
#undef NIC
	jb_close(j, '}');
	jb_open(j, "stack", '{');
#define ST(f) jb_u64(j, #f, ss.f)
	ST(ip_in); ST(ip_bad); ST(ip_unhandled); ST(icmp_echo); ST(icmp_pmtu); ST(tcp_in);
	ST(tcp_bad); ST(tcp_rst_sent); ST(tcp_no_socket); ST(tcp_ooo); ST(tcp_dup);
	ST(tcp_paws_drop); ST(tcp_syn_drop); ST(tcp_zero_window); ST(tcp_retrans); ST(tcp_rto);
	ST(tcp_tlp); ST(tcp_challenge_ack); ST(tx_bytes); ST(tx_dev_bytes); ST(tx_copied_bytes);
	ST(tx_zc_host_bytes); ST(tcp_retrans_bytes); ST(tcp_retrans_dev_bytes);
	ST(zc_completions); ST(tx_dma_errors);
#undef ST
	jb_close(j, '}');
	return put_queues(r, "queues") < 0 ? -1 : 0;
}

/* ---- configuration verbs ------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int v_set_rss(struct req *r, int argc, char **argv)
{
	struct devmem_stack *s = r->c->stack;
	uint64_t v;

	if (argc < 1)
		return refuse(r, EINVAL,
			      "set-rss: equal N, weight W0 W1 ..., key HEX or default expected");
	if (!strcmp(argv[0], "equal")) {
		if (argc != 2)
			return refuse(r, EINVAL, "set-rss equal: one queue count expected");
		if (arg_uint(r, "set-rss equal", argv[1], CTL_QUEUES_MAX, &v))
			return -1;
		reason_clear();
		if (devmem_rss_equal(s, (unsigned)v))
			return api_refused(r, "cannot spread RSS over %" PRIu64 " queues", v);
	} else if (!strcmp(argv[0], "weight")) {
		unsigned w[CTL_ARGS_MAX];
		unsigned n = (unsigned)argc - 1;

		if (n == 0)
			return refuse(r, EINVAL, "set-rss weight: one weight per queue expected");
		for (unsigned i = 0; i < n; i++) {
			if (arg_uint(r, "set-rss weight", argv[1 + i], UINT32_MAX, &v))
				return -1;
			w[i] = (unsigned)v;
		}
		reason_clear();
		if (devmem_rss_weights(s, w, n))
			return api_refused(r, "cannot apply RSS weights over %u queues", n);
	} else if (!strcmp(argv[0], "key")) {
		struct devmem_rss rss;
		const char *h;
		unsigned n = 0;

		if (argc != 2)
			return refuse(r, EINVAL, "set-rss key: %u bytes in hex expected",
				      DEVMEM_RSS_KEY_LEN);
		if (devmem_rss_get(s, &rss))
			return api_refused(r, "RSS configuration unavailable");
		for (h = argv[1]; *h && n < DEVMEM_RSS_KEY_LEN; n++) {
			int hi = hexval(h[0]), lo = hi < 0 ? -1 : hexval(h[1]);

			if (lo < 0)
				break;
			rss.key[n] = (uint8_t)(hi << 4 | lo);
			h += 2;
			if (*h == ':' && h[1])
				h++;
		}
		if (n != DEVMEM_RSS_KEY_LEN || *h)
			return refuse(r, EINVAL, "RSS hash key must be %u bytes of hex (%u read)",
				      DEVMEM_RSS_KEY_LEN, n);
		reason_clear();
		if (devmem_rss_set(s, &rss))
			return api_refused(r, "cannot set the RSS hash key");
	} else if (!strcmp(argv[0], "default")) {
		struct devmem_rss rss;

		if (argc != 1)
			return refuse(r, EINVAL, "set-rss default takes no value");
		reason_clear();
		if (devmem_rss_get(s, &rss))
			return api_refused(r, "RSS configuration unavailable");
		rss.indir_size = 0; /* the key stays, the table goes back to the default */
		reason_clear();
		if (devmem_rss_set(s, &rss))
			return api_refused(r, "cannot reset the RSS table");
	} else {
		return refuse(r, EINVAL,
			      "set-rss: unknown mode '%s' (equal, weight, key or default)", argv[0]);
	}
	return put_rss(r);
}

static int arg_ip(struct req *r, const char *what, const char *s, bool v6, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(v6 ? AF_INET6 : AF_INET, s, out) == 1)
		return 0;
	return refuse(r, EINVAL, "%s: '%s' is not an %s address (the flow type's family)", what,
		      s, v6 ? "IPv6" : "IPv4");
}

static int v_rule_add(struct req *r, int argc, char **argv)
{
	struct devmem_ntuple nt = {.loc = DEVMEM_NTUPLE_LOC_ANY, .action = -2};
	const char *src = NULL, *dst = NULL;
	uint64_t v;

	for (int i = 0; i < argc; i += 2) {
		const char *k = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val)
			return refuse(r, EINVAL, "rule-add: %s needs a value", k);
		if (!strcmp(k, "flow-type")) {
			nt.flow_type = flow_parse(val);
			if (nt.flow_type < 0)
				return refuse(r, EINVAL,
					      "rule-add: flow-type '%s' (tcp4, tcp6, udp4 or udp6)",
					      val);
		} else if (!strcmp(k, "src-ip")) {
			src = val;
		} else if (!strcmp(k, "dst-ip")) {
			dst = val;
		} else if (!strcmp(k, "src-port") || !strcmp(k, "dst-port")) {
			if (arg_uint(r, k, val, 65535, &v))
				return -1;
			if (k[0] == 's') {
				nt.sport = (uint16_t)v;
				nt.fields |= DEVMEM_NTUPLE_SRC_PORT;
			} else {
				nt.dport = (uint16_t)v;
				nt.fields |= DEVMEM_NTUPLE_DST_PORT;
			}
		} else if (!strcmp(k, "action") || !strcmp(k, "queue")) {
			if (!strcmp(val, "-1") || !strcmp(val, "drop"))
				nt.action = DEVMEM_NTUPLE_DROP;
			else if (arg_uint(r, k, val, INT32_MAX, &v))
				return -1;
			else
				nt.action = (int)v;
		} else if (!strcmp(k, "loc")) {
			if (!strcmp(val, "any"))
				nt.loc = DEVMEM_NTUPLE_LOC_ANY;
			else if (arg_uint(r, "loc", val, UINT32_MAX - 1, &v))
				return -1;
			else
				nt.loc = (uint32_t)v;
		} else {
			return refuse(r, EINVAL,
				      "rule-add: unknown field '%s' (flow-type, src-ip, dst-ip, "
				      "src-port, dst-port, action, loc)", k);
		}
	}
	if (!nt.flow_type)
		return refuse(r, EINVAL, "rule-add: flow-type is required");
	if (nt.action == -2)
		return refuse(r, EINVAL, "rule-add: action (a queue, or -1 to drop) is required");
	if (src) {
		if (arg_ip(r, "src-ip", src, flow_v6(nt.flow_type), nt.src))
			return -1;
		nt.fields |= DEVMEM_NTUPLE_SRC_IP;
	}
	if (dst) {
		if (arg_ip(r, "dst-ip", dst, flow_v6(nt.flow_type), nt.dst))
			return -1;
		nt.fields |= DEVMEM_NTUPLE_DST_IP;
	}
	reason_clear();
	if (devmem_ntuple_add(r->c->stack, &nt))
		return api_refused(r, "cannot insert the rule");
	jb_u64(r->j, "loc", nt.loc);
	return 0;
}

static int v_rule_del(struct req *r, int argc, char **argv)
{
	uint64_t loc;

	if (argc != 1)
		return refuse(r, EINVAL, "rule-del: one location expected");
	if (arg_uint(r, "rule-del", argv[0], UINT32_MAX - 1, &loc))
		return -1;
	reason_clear();
	if (devmem_ntuple_del(r->c->stack, (uint32_t)loc))
		return api_refused(r, "no rule at location %" PRIu64, loc);
	jb_u64(r->j, "loc", loc);
	return 0;
}

static int v_header_split(struct req *r, int argc, char **argv)
{
	int on;

	if (argc > 1)
		return refuse(r, EINVAL, "header-split: on or off expected");
	if (argc == 1) {
		if (!strcmp(argv[0], "on"))
			on = 1;
		else if (!strcmp(argv[0], "off"))
			on = 0;
		else
			return refuse(r, EINVAL, "header-split: '%s' is not on or off", argv[0]);
		reason_clear();
		if (devmem_header_split_set(r->c->stack, on))
			return api_refused(r, "cannot turn header split %s", argv[0]);
	}
	reason_clear();
	on = devmem_header_split_get(r->c->stack);
	if (on < 0)
		return api_refused(r, "header split state unavailable");
	jb_bool(r->j, "header_split", on);
	return 0;
}

static int v_channels(struct req *r, int argc, char **argv)
{
	struct devmem_queue_info qi;
	unsigned max = 0;
	uint64_t n;

	if (argc > 1)
		return refuse(r, EINVAL, "channels: one queue count expected");
	if (argc == 1) {
		if (arg_uint(r, "channels", argv[0], CTL_QUEUES_MAX, &n))
			return -1;
		reason_clear();
		if (devmem_set_queues(r->c->stack, (unsigned)n))
			return api_refused(r, "cannot set %" PRIu64 " RX queues", n);
	}
	while (max < CTL_QUEUES_MAX && devmem_queue_info(r->c->stack, max, &qi) == 0)
		max++;
	jb_u64(r->j, "queues", devmem_queue_count(r->c->stack));
	jb_u64(r->j, "max", max);
	return 0;
}

/* ---- bindings over the connection ------------------------------------------------ */

/* The oldest fd the connection passed, or -1. */
static int take_fd(struct ctl_conn *cc)
{
	int fd;

	if (!cc->nfds)
		return -1;
	fd = cc->fds[0];
	memmove(cc->fds, cc->fds + 1, --cc->nfds * sizeof(cc->fds[0]));
	return fd;
}

/* The passed memfd (fd, ours to close) as a dmabuf of ours (its fd), or -1
 * with the refusal set. */
/* A foreign memfd (received over the socket) becomes a dmabuf of ours. */
static int import_fd(struct req *r, int fd, int mem)
{
	int d;

	if (fd < 0)
		return refuse(r, EBADF, "no dmabuf fd came with the request (SCM_RIGHTS)");
	reason_clear();
	d = devmem_dmabuf_import(fd, (enum devmem_mem)mem);
	if (d < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return api_refused(r, "the fd passed is not usable as %s memory",
				   devmem_mem_name((enum devmem_mem)mem));
	}
	return d;
}

static int keep_binding(struct req *r, struct devmem_binding *b)
{
	struct ctl_conn *cc = r->cc;

	if (cc->nbinds == cc->binds_cap) {
		unsigned cap = cc->binds_cap ? cc->binds_cap * 2 : 4;
		struct devmem_binding **n = realloc(cc->binds, cap * sizeof(*n));

		if (!n) {
			devmem_unbind(b);
			return refuse(r, ENOMEM, "no memory to track the binding");
		}
		cc->binds = n;
		cc->binds_cap = cap;
	}
	cc->binds[cc->nbinds++] = b;
	return 0;
}

static int v_bind(struct req *r, int argc, char **argv, bool tx)
{
	/* first: a refused request still uses up the fd that came with it */
	int fd = take_fd(r->cc);
	unsigned qs[CTL_BIND_QUEUES];
	unsigned nq = 0;
	struct devmem_binding *b;
	ssize_t size;
	uint64_t v;
	int mem, d;

	if (arg_mem(r, &argc, &argv, &mem))
		goto refused;
	if (tx && argc) {
		refuse(r, EINVAL, "bind-tx takes no queue");
		goto refused;
	}
	if (!tx && !argc) {
		refuse(r, EINVAL, "bind-rx: at least one RX queue expected");
		goto refused;
	}
	if ((unsigned)argc > CTL_BIND_QUEUES) {
		refuse(r, EINVAL, "bind-rx: %d queues, %u at most", argc, CTL_BIND_QUEUES);
		goto refused;
	}
	for (int i = 0; i < argc; i++) {
		if (arg_uint(r, "bind-rx queue", argv[i], CTL_QUEUES_MAX, &v))
			goto refused;
		qs[nq++] = (unsigned)v;
	}
	d = import_fd(r, fd, mem);
	if (d < 0)
		return -1;
	size = devmem_dmabuf_size(d);
	reason_clear();
	b = tx ? devmem_bind_tx(r->c->stack, d) : devmem_bind_rx(r->c->stack, d, qs, nq);
	if (!b) {
		int e = errno;

		devmem_dmabuf_free(d);
		errno = e;
		return api_refused(r, "%s refused", tx ? "bind-tx" : "bind-rx");
	}
	/* the binding holds its own reference on the dmabuf */
	devmem_dmabuf_free(d);
	if (keep_binding(r, b))
		return -1;
	jb_u64(r->j, "id", devmem_binding_id(b));
	if (!tx) {
		jb_open(r->j, "queues", '[');
		for (unsigned i = 0; i < nq; i++)
			jb_u64(r->j, NULL, qs[i]);
		jb_close(r->j, ']');
	}
	jb_str(r->j, "mem", devmem_mem_name((enum devmem_mem)mem));
	jb_u64(r->j, "size", size < 0 ? 0 : (uint64_t)size);
	return 0;
refused:
	if (fd >= 0)
		close(fd);
	return -1;
}

static int v_bind_rx(struct req *r, int argc, char **argv)
{
	return v_bind(r, argc, argv, false);
}

static int v_bind_tx(struct req *r, int argc, char **argv)
{
	return v_bind(r, argc, argv, true);
}

static int v_unbind(struct req *r, int argc, char **argv)
{
	struct ctl_conn *cc = r->cc;
	uint64_t id;

	if (argc != 1)
		return refuse(r, EINVAL, "unbind: one binding id expected");
	if (arg_uint(r, "unbind", argv[0], UINT32_MAX, &id))
		return -1;
	for (unsigned i = 0; i < cc->nbinds; i++) {
		if (devmem_binding_id(cc->binds[i]) != id)
			continue;
		reason_clear();
		if (devmem_unbind(cc->binds[i]))
			return api_refused(r, "unbind of binding %" PRIu64 " failed", id);
		cc->binds[i] = cc->binds[--cc->nbinds];
		jb_u64(r->j, "id", id);
		return 0;
	}
	return refuse(r, ENOENT, "binding %" PRIu64 " was not made by this control connection", id);
}

static int v_version(struct req *r, int argc, char **argv);

static const struct verb {
	const char *name;
	int (*fn)(struct req *r, int argc, char **argv);
} verbs[] = {
	{"version", v_version},       {"queues", v_queues},     {"pools", v_pools},
	{"bindings", v_bindings},     {"rules", v_rules},       {"rss", v_rss},
	{"stats", v_stats},           {"set-rss", v_set_rss},   {"rule-add", v_rule_add},
	{"rule-del", v_rule_del},     {"header-split", v_header_split},
	{"channels", v_channels},     {"bind-rx", v_bind_rx},   {"bind-tx", v_bind_tx},
	{"unbind", v_unbind},
};

static int v_version(struct req *r, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	jb_u64(r->j, "proto", CTL_PROTO);
	jb_open(r->j, "verbs", '[');
	for (size_t i = 0; i < DEVMEM_ARRAY_SIZE(verbs); i++)
		jb_str(r->j, NULL, verbs[i].name);
	jb_close(r->j, ']');
	return 0;
}

/* ---- connections ------------------------------------------------------------------ */

static void error_reply(struct jb *j, const char *verb, int err, const char *reason)
{
	jb_open(j, NULL, '{');
	jb_bool(j, "ok", false);
	jb_str(j, "verb", verb);
	jb_i64(j, "errno", err);
	jb_str(j, "error", errno_name(err));
	jb_str(j, "message", strerror(err));
	jb_str(j, "reason", reason);
	jb_close(j, '}');
	jb_putn(j, "\n", 1);
}

/* Serve one request line (NUL-terminated, no '\n'); the reply goes to out. */
static void serve_line(struct ctl *c, struct ctl_conn *cc, char *line)
{
	char *argv[CTL_ARGS_MAX];
	int argc = 0;
	char *save = NULL;
	struct req r = {.c = c, .cc = cc, .j = &cc->out};
	size_t mark = cc->out.len;
	const struct verb *v = NULL;

	for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if ((unsigned)argc == CTL_ARGS_MAX) {
			error_reply(&cc->out, argv[0], E2BIG, "more than 256 words in the request");
			return;
		}
		argv[argc++] = t;
	}
	if (!argc) {
		error_reply(&cc->out, "", EINVAL, "empty request");
		return;
	}
	for (size_t i = 0; i < DEVMEM_ARRAY_SIZE(verbs); i++)
		if (!strcmp(verbs[i].name, argv[0]))
			v = &verbs[i];
	if (!v) {
		error_reply(&cc->out, argv[0], EOPNOTSUPP, "unknown verb (\"version\" lists them)");
		return;
	}
	jb_open(&cc->out, NULL, '{');
	jb_bool(&cc->out, "ok", true);
	jb_str(&cc->out, "verb", v->name);
	errno = 0;
	if (v->fn(&r, argc - 1, argv + 1) < 0) {
		cc->out.len = mark;
		error_reply(&cc->out, v->name, r.err, r.reason);
		return;
	}
	jb_close(&cc->out, '}');
	jb_putn(&cc->out, "\n", 1);
}

static void conn_free(struct ctl_conn *cc)
{
	/* as a netlink socket's close: its bindings go */
	for (unsigned i = 0; i < cc->nbinds; i++)
		devmem_unbind(cc->binds[i]);
	for (unsigned i = 0; i < cc->nfds; i++)
		close(cc->fds[i]);
	close(cc->fd);
	free(cc->binds);
	free(cc->out.p);
	free(cc);
}

static void conn_drop(struct ctl *c, unsigned k)
{
	conn_free(c->conns[k]);
	c->conns[k] = c->conns[--c->nconns];
}

/* Write what is pending; false when the connection is dead. */
static bool conn_flush(struct ctl_conn *cc)
{
	while (cc->out_off < cc->out.len) {
		ssize_t n = send(cc->fd, cc->out.p + cc->out_off, cc->out.len - cc->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		cc->out_off += (size_t)n;
	}
	cc->out.len = cc->out_off = 0;
	return !cc->out.oom;
}

/* Read what arrived (bytes and fds) and serve the complete lines; false
 * when the connection is over. */
static bool conn_read(struct ctl *c, struct ctl_conn *cc)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CTL_FDS_MAX)];
		struct cmsghdr align;
	} ctlbuf;
	struct iovec iov = {.iov_base = cc->in + cc->inlen, .iov_len = sizeof(cc->in) - cc->inlen};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctlbuf.buf,
			     .msg_controllen = sizeof(ctlbuf.buf)};
	ssize_t n = recvmsg(cc->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nf = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < nf; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (cc->nfds < CTL_FDS_MAX)
				cc->fds[cc->nfds++] = fd;
			else
				close(fd); /* more than a client in lockstep sends */
		}
	}
	if (n == 0)
		return false;
	cc->inlen += (size_t)n;

	char *start = cc->in, *end = cc->in + cc->inlen, *nl;

	while ((nl = memchr(start, '\n', (size_t)(end - start)))) {
		*nl = 0;
		if (cc->discard)
			cc->discard = false;
		else if (memchr(start, 0, (size_t)(nl - start)))
			error_reply(&cc->out, "", EINVAL, "NUL byte in the request");
		else
			serve_line(c, cc, start);
		start = nl + 1;
	}
	cc->inlen = (size_t)(end - start);
	memmove(cc->in, start, cc->inlen);
	if (cc->inlen == sizeof(cc->in)) {
		/* a line longer than the buffer: refuse it once, skip to its end */
		if (!cc->discard)
			error_reply(&cc->out, "", EMSGSIZE, "request line longer than 4096 bytes");
		cc->discard = true;
		cc->inlen = 0;
	}
	return conn_flush(cc);
}

/* Only the stack's owner (or root) may steer its NIC. */
static bool peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void ctl_accept(struct ctl *c)
{
	int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct ctl_conn *cc;

	if (fd < 0)
		return;
	if (c->nconns == CTL_CONNS_MAX || !peer_allowed(fd)) {
		close(fd);
		return;
	}
	cc = calloc(1, sizeof(*cc));
	if (!cc) {
		close(fd);
		return;
	}
	cc->fd = fd;
	c->conns[c->nconns++] = cc;
}

static void *ctl_main(void *arg)
{
	struct ctl *c = arg;
	struct pollfd pfd[2 + CTL_CONNS_MAX];

	for (;;) {
		unsigned n = 0;

		pfd[n++] = (struct pollfd){.fd = c->wake[0], .events = POLLIN};
		/* at the connection limit, new ones wait in the backlog */
		pfd[n++] = (struct pollfd){.fd = c->nconns < CTL_CONNS_MAX ? c->lfd : -1,
					   .events = POLLIN};
		for (unsigned k = 0; k < c->nconns; k++) {
			struct ctl_conn *cc = c->conns[k];

			/* a client that does not read its replies is not served more */
			pfd[n++] = (struct pollfd){.fd = cc->fd,
						   .events = cc->out.len ? POLLOUT : POLLIN};
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;
		/* connections first: pfd[2 + k] matches conns[k] until one drops */
		for (unsigned k = c->nconns; k-- > 0;) {
			struct ctl_conn *cc = c->conns[k];
			short re = pfd[2 + k].revents;
			bool alive = true;

			if (!re)
				continue;
			if (re & POLLOUT)
				alive = conn_flush(cc);
			else if (re & (POLLIN | POLLHUP | POLLERR))
				alive = conn_read(c, cc);
			if (!alive)
				conn_drop(c, k);
		}
		if (pfd[1].revents & POLLIN)
			ctl_accept(c);
	}
	while (c->nconns)
		conn_drop(c, c->nconns - 1);
	return NULL;
}

/* ---- listen / close ------------------------------------------------------------------ */

static struct ctl *ctl_find(struct devmem_stack *stack)
{
	for (struct ctl *c = ctl_list; c; c = c->next)
		if (c->stack == stack)
			return c;
	return NULL;
}

/* Is something serving the socket at path? */
static bool socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return true; /* cannot tell: do not remove it */
	alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
		(errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return alive;
}

static void ctl_free(struct ctl *c)
{
	struct stat st;

	if (c->lfd >= 0)
		close(c->lfd);
	/* unlink only the socket we made, not one another owner put there since */
	if (c->path[0] && lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	free(c);
}

int devmem_ctl_listen(struct devmem_stack *stack, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	struct ctl *c;
	int e;

	if (!stack || !path || !*path)
		return devmem_fail(devmem_reason(-EINVAL, "no stack or no path"));
	if (strlen(path) >= sizeof(sa.sun_path))
		return devmem_fail(devmem_reason(-ENAMETOOLONG, "socket path longer than %zu bytes",
						 sizeof(sa.sun_path) - 1));
	pthread_mutex_lock(&ctl_lock);
	c = ctl_find(stack);
	if (c) /* one control socket per stack */
		devmem_reason(-EBUSY, "the stack already serves %s", c->path);
	pthread_mutex_unlock(&ctl_lock);
	if (c)
		return devmem_fail(EBUSY);

	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return devmem_fail(devmem_reason(-EEXIST, "%s exists and is not a socket",
							 path));
		if (socket_alive(&sa))
			return devmem_fail(devmem_reason(-EADDRINUSE,
							 "a control socket is served at %s", path));
		if (unlink(path) && errno != ENOENT)
			return devmem_fail(devmem_reason(-errno, "cannot remove the stale socket %s",
							 path));
	}

	c = calloc(1, sizeof(*c));
	if (!c)
		return devmem_fail(ENOMEM);
	c->stack = stack;
	c->wake[0] = c->wake[1] = -1;
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->lfd < 0 || pipe2(c->wake, O_CLOEXEC))
		goto fail;
	/* The socket inode's mode becomes the path's at bind (Linux): no
	 * moment with a wider mode; chmod again in case this kernel differs. */
	fchmod(c->lfd, 0600);
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	strcpy(c->path, path);
	if (chmod(path, 0600) || lstat(path, &st))
		goto fail;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if (listen(c->lfd, 16))
		goto fail;

	pthread_mutex_lock(&ctl_lock);
	if (ctl_find(stack)) { /* another thread won the race */
		pthread_mutex_unlock(&ctl_lock);
		errno = EBUSY;
		goto fail;
	}
	if ((e = pthread_create(&c->thread, NULL, ctl_main, c))) {
		pthread_mutex_unlock(&ctl_lock);
		errno = e;
		goto fail;
	}
	c->next = ctl_list;
	ctl_list = c;
	pthread_mutex_unlock(&ctl_lock);
	return 0;
fail:
	e = errno;
	ctl_free(c);
	return devmem_fail(devmem_reason(-e, "control socket %s: %s", path, strerror(e)));
}

void devmem_ctl_close(struct devmem_stack *stack)
{
	struct ctl *c, **pp;
	char b = 1;

	pthread_mutex_lock(&ctl_lock);
	for (pp = &ctl_list; (c = *pp); pp = &c->next)
		if (c->stack == stack) {
			*pp = c->next;
			break;
		}
	pthread_mutex_unlock(&ctl_lock);
	if (!c)
		return;
	while (write(c->wake[1], &b, 1) < 0 && errno == EINTR)
		;
	pthread_join(c->thread, NULL);
	ctl_free(c);
}
