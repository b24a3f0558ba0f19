/* SPDX-License-Identifier: MIT */
/*
 * The control socket (src/ctl/ctlsock.c) over the pair link: the socket is
 * mode 0600 and refuses what is in its way (a live socket, a file), every
 * verb answers, every refusal carries its errno and a reason, the counters
 * match the bytes sent, and a binding made over a connection (the dmabuf
 * passed with SCM_RIGHTS) disappears when that connection closes.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "pairutil.h"

#define PORT 7000
#define TRAFFIC (1u << 20)

static struct devmem_stack *A, *B;
static char dir[64], path[128];
static int import_ok; /* the stack adopts a foreign dmabuf fd */

/* ---- a client of the protocol ------------------------------------------- */

static int cl_connect(const char *p)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void cl_send(int fd, const char *line, size_t len, int pass_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cb;
	struct iovec iov = {.iov_base = (void *)line, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (pass_fd >= 0) {
		memset(&cb, 0, sizeof(cb));
		msg.msg_control = cb.buf;
		msg.msg_controllen = sizeof(cb.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	CHECK_EQ(sendmsg(fd, &msg, MSG_NOSIGNAL), (ssize_t)len);
}

/* One reply line (no '\n'), in a static buffer; "" on EOF or timeout. */
static const char *cl_reply(int fd)
{
	static char buf[1 << 20];
	size_t len = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (poll(&p, 1, 5000) <= 0)
			break;
		ssize_t n = recv(fd, buf + len, 1, 0);
		if (n <= 0)
			break;
		if (buf[len] == '\n') {
			buf[len] = 0;
			return buf;
		}
		if (++len == sizeof(buf) - 1)
			break;
	}
	buf[len] = 0;
	return "";
}

static const char *req_fd(int fd, const char *line, int pass_fd)
{
	char b[8192];

	snprintf(b, sizeof(b), "%s\n", line);
	cl_send(fd, b, strlen(b), pass_fd);
	return cl_reply(fd);
}

static const char *req(int fd, const char *line)
{
	return req_fd(fd, line, -1);
}

/* The number after "key": at or after from (-1 when absent). */
static long long jnum(const char *from, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	p = from ? strstr(from, k) : NULL;
	return p ? strtoll(p + strlen(k), NULL, 10) : -1;
}

static bool has(const char *s, const char *needle)
{
	bool ok = s && strstr(s, needle);

	if (!ok)
		fprintf(stderr, "  reply lacks %s: %s\n", needle, s ? s : "(null)");
	return ok;
}

/* A refusal: ok false, the errno's number and name, and a reason. */
static void check_refusal(const char *r, int err, const char *name)
{
	char want[64];

	CHECK(has(r, "\"ok\":false"));
	snprintf(want, sizeof(want), "\"errno\":%d,\"error\":\"%s\"", err, name);
	CHECK(has(r, want));
	CHECK(has(r, "\"message\":\""));
	CHECK(has(r, "\"reason\":\""));
	const char *why = strstr(r, "\"reason\":\"");
	CHECK(why && why[10] != '"'); /* not empty */
}

static int memfd(size_t size)
{
	int fd = memfd_create("test-ctl", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, (off_t)size), 0);
	CHECK_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	return fd;
}

/* Is a binding of this id on B? */
static bool bound(uint32_t id)
{
	struct devmem_binding_info bi[16];
	int n = devmem_binding_list(B, bi, 16);

	for (int i = 0; i < n && i < 16; i++)
		if (bi[i].id == id)
			return true;
	return false;
}

/* ---- tests --------------------------------------------------------------------- */

static void test_listen(void)
{
	struct stat st;
	char p2[160];

	CHECK_EQ(devmem_ctl_listen(B, path), 0);
	CHECK_EQ(lstat(path, &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);
	if (geteuid() == 0) {
		/* another user cannot even connect: the socket's mode, not the
		 * directory's, keeps it out */
		CHECK_EQ(chmod(dir, 0711), 0);
		pid_t pid = fork();
		if (pid == 0)
			_exit(setuid(65534) == 0 && cl_connect(path) < 0 && errno == EACCES ? 0 : 1);
		int status = -1;
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		CHECK_EQ(chmod(dir, 0700), 0);
	}

	/* one socket per stack; a live socket is not taken over */
	errno = 0;
	CHECK_EQ(devmem_ctl_listen(B, path), -1);
	CHECK_EQ(errno, EBUSY);
	errno = 0;
	CHECK_EQ(devmem_ctl_listen(A, path), -1);
	CHECK_EQ(errno, EADDRINUSE);

	/* a file in the way stays */
	snprintf(p2, sizeof(p2), "%s/file", dir);
	int f = open(p2, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	CHECK(f >= 0);
	close(f);
	errno = 0;
	CHECK_EQ(devmem_ctl_listen(A, p2), -1);
	CHECK_EQ(errno, EEXIST);
	CHECK_EQ(lstat(p2, &st), 0);
	unlink(p2);

	/* a stale socket (nobody listening) is replaced, and removed at close */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(p2, sizeof(p2), "%s/stale", dir);
	memcpy(sa.sun_path, p2, strlen(p2) + 1); /* dir is short: it fits */
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_EQ(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	CHECK_EQ(devmem_ctl_listen(A, p2), 0);
	int c = cl_connect(p2);
	CHECK(c >= 0);
	CHECK(has(req(c, "version"), "\"ok\":true,\"verb\":\"version\",\"proto\":1"));
	devmem_ctl_close(A);
	/* the server hung up on the client, and the path is gone */
	CHECK_EQ(strcmp(cl_reply(c), ""), 0);
	close(c);
	errno = 0;
	CHECK_EQ(lstat(p2, &st), -1);
	CHECK_EQ(errno, ENOENT);
	devmem_ctl_close(A); /* twice: nothing */

	char longp[200];
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = 0;
	errno = 0;
	CHECK_EQ(devmem_ctl_listen(A, longp), -1);
	CHECK_EQ(errno, ENAMETOOLONG);
	errno = 0;
	CHECK_EQ(devmem_ctl_listen(A, ""), -1);
	CHECK_EQ(errno, EINVAL);
}

static void test_show(void)
{
	int c = cl_connect(path);
	unsigned q0 = 0;
	int dfd = devmem_dmabuf_alloc(DEVMEM_MEM_HOST, 1u << 20, 0);
	struct devmem_binding *b = devmem_bind_rx(B, dfd, &q0, 1);
	char want[128];
	const char *r;

	CHECK(c >= 0);
	CHECK(b != NULL);
	r = req(c, "queues");
	CHECK(has(r, "\"ok\":true,\"verb\":\"queues\",\"count\":2,\"queues\":[{\"id\":0,"));
	CHECK(has(r, "{\"id\":1,\"active\":true,\"binding\":0,"));
	snprintf(want, sizeof(want), "{\"id\":0,\"active\":true,\"binding\":%u,",
		 devmem_binding_id(b));
	CHECK(has(r, want));
	CHECK(jnum(r, "poller_tid") > 0);

	r = req(c, "pools");
	CHECK(has(r, "\"pools\":[{"));
	snprintf(want, sizeof(want), "\"binding\":%u,", devmem_binding_id(b));
	CHECK(has(r, want));

	r = req(c, "bindings");
	snprintf(want, sizeof(want),
		 "{\"id\":%u,\"tx\":false,\"mem\":\"host\",\"size\":1048576,\"queues\":[0],",
		 devmem_binding_id(b));
	CHECK(has(r, want));
	CHECK(has(r, "\"owner\":\"app\""));

	CHECK(has(req(c, "rules"), "\"ok\":true,\"verb\":\"rules\",\"rules\":[]}"));
	r = req(c, "rss");
	CHECK(has(r, "\"queues\":2,\"indir_size\":"));
	CHECK(has(r, "\"indir\":[0,1,"));
	CHECK_EQ(strlen(strstr(r, "\"key\":\"") + 7) > 80, 1);

	r = req(c, "stats");
	CHECK(has(r, "\"nic\":{\"rx_packets\":"));
	CHECK(has(r, "\"stack\":{\"ip_in\":"));
	CHECK(has(r, "\"queues\":[{\"id\":0,"));
	CHECK(has(req(c, "header-split"), "\"header_split\":true}"));
	CHECK(has(req(c, "channels"), "\"queues\":2,\"max\":2}"));

	/* refusals while bound: what the kernel refuses too */
	r = req(c, "header-split off");
	check_refusal(r, EINVAL, "EINVAL");
	CHECK(has(req(c, "header-split"), "\"header_split\":true}"));
	check_refusal(req(c, "channels 0"), EINVAL, "EINVAL");

	CHECK_EQ(devmem_unbind(b), 0);
	CHECK_EQ(devmem_dmabuf_free(dfd), 0);
	close(c);
}

static void test_refusals(void)
{
	int c = cl_connect(path);
	char big[6000];

	CHECK(c >= 0);
	check_refusal(req(c, "frobnicate"), EOPNOTSUPP, "EOPNOTSUPP");
	check_refusal(req(c, ""), EINVAL, "EINVAL");
	check_refusal(req(c, "queues extra"), EINVAL, "EINVAL");
	check_refusal(req(c, "rule-del 77"), ENOENT, "ENOENT");
	check_refusal(req(c, "rule-del x"), EINVAL, "EINVAL");
	check_refusal(req(c, "set-rss equal 9"), EINVAL, "EINVAL");
	check_refusal(req(c, "set-rss bogus"), EINVAL, "EINVAL");
	check_refusal(req(c, "set-rss key 0011"), EINVAL, "EINVAL");
	check_refusal(req(c, "rule-add flow-type tcp4 action 7"), EINVAL, "EINVAL");
	check_refusal(req(c, "rule-add flow-type sctp4 action 0"), EINVAL, "EINVAL");
	check_refusal(req(c, "rule-add flow-type tcp4 dst-ip 2001:db8::1 action 0"), EINVAL,
		      "EINVAL");
	check_refusal(req(c, "rule-add flow-type tcp4"), EINVAL, "EINVAL");
	check_refusal(req(c, "channels 99"), EINVAL, "EINVAL");
	check_refusal(req(c, "bind-rx 0"), EBADF, "EBADF"); /* no fd passed */
	check_refusal(req(c, "bind-rx mem plastic 0"), EINVAL, "EINVAL");
	/* a refused bind uses up its fd: the next bind does not find it */
	int m = memfd(1u << 20);
	check_refusal(req_fd(c, "bind-rx zero", m), EINVAL, "EINVAL");
	close(m);
	check_refusal(req(c, "bind-tx"), EBADF, "EBADF");
	check_refusal(req(c, "unbind 1"), ENOENT, "ENOENT");
	/* a line too long is refused once, and the connection goes on */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	check_refusal(req(c, big), EMSGSIZE, "EMSGSIZE");
	CHECK(has(req(c, "version"), "\"ok\":true"));
	/* two requests in one write: two replies, in order */
	cl_send(c, "rules\nrss\n", 10, -1);
	CHECK(has(cl_reply(c), "\"verb\":\"rules\""));
	CHECK(has(cl_reply(c), "\"verb\":\"rss\""));
	close(c);
}

static void test_config(void)
{
	int c = cl_connect(path);
	const char *r;

	CHECK(c >= 0);
	r = req(c, "rule-add flow-type tcp4 src-ip 192.0.2.1 dst-ip 192.0.2.2 dst-port 7000 "
		   "action 1 loc 5");
	CHECK(has(r, "\"ok\":true,\"verb\":\"rule-add\",\"loc\":5}"));
	r = req(c, "rules");
	CHECK(has(r, "{\"loc\":5,\"flow_type\":\"tcp4\",\"src_ip\":\"192.0.2.1\","
		     "\"dst_ip\":\"192.0.2.2\",\"dst_port\":7000,\"action\":1}"));
	check_refusal(req(c, "rule-add flow-type tcp4 dst-port 1 action 0 loc 5"), EEXIST,
		      "EEXIST");
	r = req(c, "rule-add flow-type udp6 dst-ip 2001:db8::2 action -1");
	CHECK(has(r, "\"ok\":true"));
	long long loc = jnum(r, "loc");
	CHECK(loc >= 0);
	r = req(c, "rules");
	CHECK(has(r, "\"flow_type\":\"udp6\",\"dst_ip\":\"2001:db8::2\",\"action\":-1}"));
	char line[64];
	snprintf(line, sizeof(line), "rule-del %lld", loc);
	CHECK(has(req(c, line), "\"ok\":true"));
	CHECK(has(req(c, "rule-del 5"), "\"ok\":true,\"verb\":\"rule-del\",\"loc\":5}"));
	CHECK(has(req(c, "rules"), "\"rules\":[]"));

	r = req(c, "set-rss equal 1");
	CHECK(has(r, "\"ok\":true,\"verb\":\"set-rss\""));
	CHECK(has(r, "\"indir\":[0,0,0,0,"));
	CHECK(!strstr(r, ",1"));
	r = req(c, "set-rss weight 1 3");
	CHECK(has(r, "\"ok\":true"));
	CHECK(has(r, ",1,"));
	r = req(c, "set-rss key 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
		   "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77");
	CHECK(has(r, "\"key\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
		     "0011223344556677\""));
	CHECK(has(req(c, "set-rss equal 2"), "\"indir\":[0,1,0,1,"));

	CHECK(has(req(c, "header-split off"), "\"header_split\":false}"));
	CHECK_EQ(devmem_header_split_get(B), 0);
	CHECK(has(req(c, "header-split on"), "\"header_split\":true}"));
	/* a table set by hand keeps the queues it names (ethtool -L refuses) */
	check_refusal(req(c, "channels 1"), EINVAL, "EINVAL");
	CHECK(has(req(c, "set-rss default"), "\"indir\":[0,1,0,1,"));
	CHECK(has(req(c, "channels 1"), "\"queues\":1,\"max\":2}"));
	CHECK_EQ(devmem_queue_count(B), 1);
	CHECK(has(req(c, "queues"), "{\"id\":1,\"active\":false,"));
	CHECK(has(req(c, "channels 2"), "\"queues\":2,\"max\":2}"));
	CHECK(has(req(c, "rss"), "\"indir\":[0,1,0,1,"));
	close(c);
}

/* A's table back to the default spread (ethtool -X default). */
static void rss_default(struct devmem_stack *s)
{
	struct devmem_rss rss;

	CHECK_EQ(devmem_rss_get(s, &rss), 0);
	rss.indir_size = 0;
	CHECK_EQ(devmem_rss_set(s, &rss), 0);
}

/* Counters against what was sent: every flow on queue 0 (RSS equal 1 on
 * both stacks: on the pair link the sender picks the queue, its own). */
static void test_stats_traffic(void)
{
	int c = cl_connect(path);
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(AF_INET, "0.0.0.0", PORT, &ss);
	static uint8_t buf[65536];
	uint64_t got = 0;
	const char *r;

	CHECK(c >= 0);
	CHECK(has(req(c, "set-rss equal 1"), "\"ok\":true"));
	CHECK_EQ(devmem_rss_equal(A, 1), 0);
	r = req(c, "stats");
	long long q0_before = jnum(strstr(r, "\"queues\":[{\"id\":0,"), "bytes");
	CHECK(q0_before >= 0);

	int lfd = devmem_socket(B, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(devmem_bind(lfd, (struct sockaddr *)&ss, sl), 0);
	CHECK_EQ(devmem_listen(lfd, 4), 0);
	struct sender snd = {.stack = A, .family = AF_INET, .dst = "192.0.2.2", .port = PORT,
			     .bytes = TRAFFIC, .pattern = 7};
	CHECK_EQ(sender_start(&snd), 0);
	int cfd = devmem_accept(lfd, NULL, NULL);
	CHECK(cfd >= 0);
	for (;;) {
		ssize_t n = devmem_recv(cfd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		got += (uint64_t)n;
	}
	CHECK_EQ(got, TRAFFIC);
	devmem_close(cfd);
	pthread_join(snd.thread, NULL);
	CHECK_EQ(snd.err, 0);
	devmem_close(lfd);

	r = req(c, "stats");
	CHECK(has(r, "\"ok\":true"));
	const char *q0 = strstr(r, "\"queues\":[{\"id\":0,");
	const char *q1 = strstr(r, "{\"id\":1,");
	CHECK(q0 && q1);
	/* the pair link has no faults: payload bytes placed == bytes sent */
	CHECK_EQ(jnum(q0, "bytes") - q0_before, TRAFFIC);
	CHECK(jnum(q0, "packets") >= TRAFFIC / 65536);
	CHECK_EQ(jnum(q1, "bytes"), 0);
	CHECK(jnum(r, "rx_packets") >= jnum(q0, "packets"));
	CHECK(jnum(r, "rx_rss") >= 1);
	CHECK_EQ(jnum(r, "rx_misdirected"), 0);
	CHECK(jnum(r, "tcp_in") >= jnum(q0, "packets") - 1);
	/* "queues" says the same */
	CHECK_EQ(jnum(strstr(req(c, "queues"), "{\"id\":0,"), "bytes") - q0_before, TRAFFIC);
	CHECK(has(req(c, "set-rss default"), "\"ok\":true"));
	rss_default(A);
	close(c);
}

static void test_bind_over_socket(void)
{
	int c1 = cl_connect(path), c2 = cl_connect(path);
	int m = memfd(1u << 20);
	char line[64], want[96];
	const char *r;

	CHECK(c1 >= 0 && c2 >= 0);
	r = req_fd(c1, "bind-rx mem host 1", m);
	close(m);
	if (strstr(r, "\"error\":\"EOPNOTSUPP\"")) {
		fprintf(stderr, "  note: no devmem_dmabuf_import in this build; "
				"bind-rx over the socket not tested\n");
		check_refusal(r, EOPNOTSUPP, "EOPNOTSUPP");
		close(c1);
		close(c2);
		return;
	}
	import_ok = 1;
	CHECK(has(r, "\"ok\":true,\"verb\":\"bind-rx\",\"id\":"));
	CHECK(has(r, "\"queues\":[1],\"mem\":\"host\",\"size\":1048576}"));
	uint32_t id = (uint32_t)jnum(r, "id");
	CHECK(bound(id));

	snprintf(want, sizeof(want), "{\"id\":%u,\"tx\":false,\"mem\":\"host\"", id);
	r = req(c1, "bindings");
	CHECK(has(r, want));
	CHECK(has(r, "\"owner\":\"connection\""));
	CHECK(has(req(c2, "bindings"), "\"owner\":\"ctl\""));
	snprintf(want, sizeof(want), "{\"id\":1,\"active\":true,\"binding\":%u,", id);
	CHECK(has(req(c2, "queues"), want));
	/* only its own connection unbinds it; the queue is taken */
	snprintf(line, sizeof(line), "unbind %u", id);
	check_refusal(req(c2, line), ENOENT, "ENOENT");
	m = memfd(1u << 20);
	check_refusal(req_fd(c2, "bind-rx 1", m), EEXIST, "EEXIST");
	close(m);
	/* header split cannot go while a queue is bound */
	check_refusal(req(c2, "header-split off"), EINVAL, "EINVAL");

	/* closing the connection unbinds */
	close(c1);
	for (int i = 0; i < 200 && bound(id); i++)
		usleep(10000);
	CHECK(!bound(id));
	CHECK(has(req(c2, "bindings"), "\"bindings\":[]"));

	/* unbind by id on the owning connection; bind-tx too */
	m = memfd(1u << 20);
	r = req_fd(c2, "bind-rx mem sealed 1", m);
	close(m);
	CHECK(has(r, "\"mem\":\"sealed\""));
	id = (uint32_t)jnum(r, "id");
	snprintf(line, sizeof(line), "unbind %u", id);
	CHECK(has(req(c2, line), "\"ok\":true,\"verb\":\"unbind\""));
	CHECK(!bound(id));
	m = memfd(1u << 20);
	r = req_fd(c2, "bind-tx", m);
	close(m);
	CHECK(has(r, "\"ok\":true,\"verb\":\"bind-tx\",\"id\":"));
	id = (uint32_t)jnum(r, "id");
	CHECK(bound(id));
	CHECK(has(req(c2, "bindings"), "\"tx\":true"));
	/* an fd that is not a memfd */
	int p[2];
	CHECK_EQ(pipe(p), 0);
	r = req_fd(c2, "bind-rx 0", p[0]);
	CHECK(strstr(r, "\"ok\":false") != NULL);
	close(p[0]);
	close(p[1]);
	close(c2);
	for (int i = 0; i < 200 && bound(id); i++)
		usleep(10000);
	CHECK(!bound(id));
}

static void test_close(void)
{
	struct stat st;
	int c = cl_connect(path);

	CHECK(c >= 0);
	devmem_ctl_close(B);
	errno = 0;
	CHECK_EQ(lstat(path, &st), -1);
	CHECK_EQ(errno, ENOENT);
	CHECK_EQ(cl_connect(path), -1);
	/* a reply never comes: the connection was closed */
	char b = 0;
	CHECK(send(c, "version\n", 8, MSG_NOSIGNAL) < 0 || recv(c, &b, 1, 0) <= 0);
	close(c);
	/* listening again after close works */
	CHECK_EQ(devmem_ctl_listen(B, path), 0);
	devmem_ctl_close(B);
}

int main(void)
{
	struct devmem_config ca, cb;

	pair_cfgs(&ca, &cb);
	/* the pair link wants the same queue count on both sides */
	ca.rx_queues = cb.rx_queues = 2;
	ca.max_queues = cb.max_queues = 2;
	if (devmem_stack_open_pair(&ca, &cb, NULL, NULL, &A, &B) < 0) {
		perror("devmem_stack_open_pair");
		return 1;
	}
	/* a poller records its thread id once it runs: let them start */
	for (int i = 0; i < 200; i++) {
		struct devmem_queue_info q0, q1;
		if (devmem_queue_info(B, 0, &q0) == 0 && devmem_queue_info(B, 1, &q1) == 0 &&
		    q0.poller_tid > 0 && q1.poller_tid > 0)
			break;
		usleep(10000);
	}
	snprintf(dir, sizeof(dir), "/tmp/dm-ctl.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);

	RUN(test_listen);
	RUN(test_show);
	RUN(test_refusals);
	RUN(test_config);
	RUN(test_stats_traffic);
	RUN(test_bind_over_socket);
	RUN(test_close);

	devmem_ctl_close(A);
	devmem_ctl_close(B);
	devmem_stack_close(A);
	devmem_stack_close(B);
	rmdir(dir);
	if (!import_ok)
		fprintf(stderr, "note: bind-rx over the socket was not exercised\n");
	return CHECK_DONE();
}
