/*
 * LD_PRELOAD shim that gives keepalived's checker an in-memory "IPVS" on a
 * host kernel without CONFIG_IP_VS, so keepalived 2.2.7 and our checker can
 * be compared on the same machine at full scale (the qemu TCG guest cannot
 * sustain 10,000 checks/s). Benchmark-only; never used by the daemon.
 *
 * keepalived's libipvs talks to the kernel through libnl-genl: it resolves
 * the "IPVS" family, sends one request per socket and reads the reply with
 * nl_recvmsgs_default(). We intercept exactly those calls:
 *   genl_ctrl_resolve("IPVS")  -> a fake family id
 *   nl_send_auto()             -> remember the IPVS command, send nothing
 *   nl_recvmsgs_default()      -> on a socket that resolved "IPVS":
 *                                 IPVS_CMD_GET_INFO gets a version 1.2.1
 *                                 reply through the NL_CB_VALID callback;
 *                                 every other command is acknowledged, dumps
 *                                 are empty, and a second read (keepalived
 *                                 reads until the ACK) returns at once.
 * Every call for other families goes to the real libnl. The shim counts the
 * commands it absorbed and prints the counts to stderr at exit when
 * FAKE_IPVS_VERBOSE is set. With FAKE_IPVS_LOG=FILE every destination
 * command is appended to FILE as "<CLOCK_REALTIME ns> <cmd> <addr>:<port>
 * <weight>" (cmd 5 new, 6 set, 7 delete), which is how the benchmark times
 * keepalived's detection of a dead server.
 *
 * Build: cc -O2 -shared -fPIC -o fake_ipvs.so fake_ipvs.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

struct nl_sock;
struct nl_msg;
typedef int (*nl_recvmsg_msg_cb_t)(struct nl_msg *, void *);

#define NL_CB_VALID 0          /* enum nl_cb_type in libnl 3 */
#define NL_CB_FINISH 1
#define NL_CB_ACK 4
#define FAKE_IPVS_FAMILY 0x3ff /* any id above GENL_MIN_ID */
#define IPVS_CMD_GET_INFO 15
#define IPVS_CMD_MAX 17
#define IPVS_INFO_ATTR_VERSION 1
#define IPVS_INFO_ATTR_CONN_TAB_SIZE 2
#define IPVS_CMD_NEW_DEST 5
#define IPVS_CMD_DEL_DEST 7
#define IPVS_CMD_ATTR_DEST 2
#define IPVS_DEST_ATTR_ADDR 1
#define IPVS_DEST_ATTR_PORT 2
#define IPVS_DEST_ATTR_WEIGHT 4
#define IPVS_DEST_ATTR_ADDR_FAMILY 11

/* keepalived sets VALID per request and ACK/FINISH once per socket; its
 * ACK and FINISH handlers end its receive loop (nl_ack_flag). */
static nl_recvmsg_msg_cb_t valid_cb, ack_cb, finish_cb;
static void *valid_arg, *ack_arg, *finish_arg;
static int pending_dump;
static int pending_cmd = -1;
/* Sockets that resolved the IPVS family: they never reach the kernel. */
static struct nl_sock *ipvs_socks[8];

static int is_ipvs_sock(struct nl_sock *sk)
{
	for (unsigned i = 0; i < sizeof ipvs_socks / sizeof ipvs_socks[0]; i++)
		if (ipvs_socks[i] == sk)
			return 1;
	return 0;
}

static void remember_ipvs_sock(struct nl_sock *sk)
{
	static unsigned next;
	if (!is_ipvs_sock(sk))
		ipvs_socks[next++ % (sizeof ipvs_socks / sizeof ipvs_socks[0])] = sk;
}
static unsigned long absorbed[IPVS_CMD_MAX + 1];

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

struct nlmsghdr *nlmsg_hdr(struct nl_msg *);
struct nl_msg *nlmsg_alloc(void);
void nlmsg_free(struct nl_msg *);
void *genlmsg_put(struct nl_msg *, uint32_t, uint32_t, int, int, int, uint8_t, uint8_t);
int nla_put_u32(struct nl_msg *, int, uint32_t);

int genl_ctrl_resolve(struct nl_sock *sk, const char *name)
{
	if (name && strcmp(name, "IPVS") == 0) {
		remember_ipvs_sock(sk);
		return FAKE_IPVS_FAMILY;
	}
	return REAL(genl_ctrl_resolve)(sk, name);
}

int nl_socket_modify_cb(struct nl_sock *sk, int type, int kind, nl_recvmsg_msg_cb_t func, void *arg)
{
	if (type == NL_CB_VALID) {
		valid_cb = func;
		valid_arg = arg;
	} else if (type == NL_CB_ACK) {
		ack_cb = func;
		ack_arg = arg;
	} else if (type == NL_CB_FINISH) {
		finish_cb = func;
		finish_arg = arg;
	}
	return REAL(nl_socket_modify_cb)(sk, type, kind, func, arg);
}

void nl_socket_free(struct nl_sock *sk)
{
	for (unsigned i = 0; i < sizeof ipvs_socks / sizeof ipvs_socks[0]; i++)
		if (ipvs_socks[i] == sk)
			ipvs_socks[i] = NULL;
	REAL(nl_socket_free)(sk);
}

/* Append one destination command to $FAKE_IPVS_LOG. */
static void log_dest(const struct nlmsghdr *h, int cmd)
{
	static FILE *log;
	static int opened;
	if (!opened) {
		const char *path = getenv("FAKE_IPVS_LOG");
		opened = 1;
		log = path ? fopen(path, "a") : NULL;
	}
	if (!log)
		return;
	const unsigned char *p = (const unsigned char *)NLMSG_DATA(h) + GENL_HDRLEN;
	const unsigned char *end = (const unsigned char *)h + h->nlmsg_len;
	char addr[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0, weight = 0, family = AF_INET;
	const unsigned char *raw = NULL;
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)p;
		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == IPVS_CMD_ATTR_DEST) {
			const unsigned char *q = p + NLA_HDRLEN, *qend = p + a->nla_len;
			while (q + NLA_HDRLEN <= qend) {
				const struct nlattr *b = (const struct nlattr *)q;
				const unsigned char *v = q + NLA_HDRLEN;
				if (b->nla_len < NLA_HDRLEN || q + b->nla_len > qend)
					break;
				switch (b->nla_type & NLA_TYPE_MASK) {
				case IPVS_DEST_ATTR_ADDR: raw = v; break;
				case IPVS_DEST_ATTR_PORT: port = ntohs(*(const uint16_t *)v); break;
				case IPVS_DEST_ATTR_WEIGHT: weight = *(const uint32_t *)v; break;
				case IPVS_DEST_ATTR_ADDR_FAMILY: family = *(const uint16_t *)v; break;
				}
				q += NLA_ALIGN(b->nla_len);
			}
		}
		p += NLA_ALIGN(a->nla_len);
	}
	if (raw)
		inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, raw, addr, sizeof addr);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(log, "%lld%09ld %d %s:%u %u\n", (long long)ts.tv_sec, ts.tv_nsec, cmd, addr, port, weight);
	fflush(log);
}

int nl_send_auto(struct nl_sock *sk, struct nl_msg *msg)
{
	struct nlmsghdr *h = REAL(nlmsg_hdr)(msg);
	if (h->nlmsg_type == FAKE_IPVS_FAMILY) {
		struct genlmsghdr *g = NLMSG_DATA(h);
		pending_cmd = g->cmd;
		pending_dump = (h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
		if (g->cmd <= IPVS_CMD_MAX)
			absorbed[g->cmd]++;
		if (g->cmd >= IPVS_CMD_NEW_DEST && g->cmd <= IPVS_CMD_DEL_DEST)
			log_dest(h, g->cmd);
		return (int)h->nlmsg_len;
	}
	return REAL(nl_send_auto)(sk, msg);
}

int nl_send_auto_complete(struct nl_sock *sk, struct nl_msg *msg)
{
	return nl_send_auto(sk, msg);
}

int nl_recvmsgs_default(struct nl_sock *sk)
{
	if (!is_ipvs_sock(sk))
		return REAL(nl_recvmsgs_default)(sk);
	int cmd = pending_cmd;
	pending_cmd = -1;
	struct nl_msg *m = REAL(nlmsg_alloc)();
	if (!m)
		return -12; /* -NLE_NOMEM */
	if (cmd == IPVS_CMD_GET_INFO && valid_cb) {
		REAL(genlmsg_put)(m, 0, 0, FAKE_IPVS_FAMILY, 0, 0, IPVS_CMD_GET_INFO, 1);
		REAL(nla_put_u32)(m, IPVS_INFO_ATTR_VERSION, 0x010201);
		REAL(nla_put_u32)(m, IPVS_INFO_ATTR_CONN_TAB_SIZE, 4096);
		valid_cb(m, valid_arg);
	}
	/* End of the exchange: DONE for a dump, otherwise an ACK. */
	if (pending_dump && finish_cb)
		finish_cb(m, finish_arg);
	else if (ack_cb)
		ack_cb(m, ack_arg);
	REAL(nlmsg_free)(m);
	return 0;
}

__attribute__((destructor)) static void report(void)
{
	if (!getenv("FAKE_IPVS_VERBOSE"))
		return;
	for (int c = 0; c <= IPVS_CMD_MAX; c++)
		if (absorbed[c])
			fprintf(stderr, "fake_ipvs: cmd %d absorbed %lu\n", c, absorbed[c]);
}
