/* Cheap listener for the checker ceiling benchmark (bench/check/ceiling.sh).
 *
 *   tiny_server tcp|http ADDR PORT PROCS SECONDS
 *
 * PROCS processes share ADDR:PORT with SO_REUSEPORT; each is a single
 * epoll loop. `tcp`: accept and close (TCP_CHECK; a half-open probe never
 * reaches accept at all). `http`: read the request until the blank line,
 * answer `HTTP/1.0 200 OK` with a 2-byte body "ok" and close (no
 * keep-alive; the checker reads until EOF, as keepalived's HTTP_GET does).
 * Bounded: exits after SECONDS. Written in C so that the listener costs
 * the least of the two shared cores (python's accept loop saturated a
 * core near 20,000 connections/s).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char RESPONSE[] =
	"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
	"Connection: close\r\n\r\nok";

#define MAXCONN 65536
/* Request bytes seen so far per fd: the end of headers may straddle reads. */
static unsigned char tail_state[MAXCONN];

static int serve(int http, const char *addr, int port, int seconds)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (ls < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(ls, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 65535)) {
		perror("tiny_server: bind/listen");
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls };
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	time_t end = time(NULL) + seconds;
	struct epoll_event evs[256];
	char buf[4096];
	while (time(NULL) < end) {
		int n = epoll_wait(ep, evs, 256, 1000);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				for (int k = 0; k < 256; k++) {
					int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (c < 0) {
						if (errno == EAGAIN || errno == EWOULDBLOCK)
							break;
						continue; /* reset before accept, EMFILE: go on */
					}
					if (!http || c >= MAXCONN) {
						close(c);
						continue;
					}
					tail_state[c] = 0;
					struct epoll_event ce = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = c };
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce))
						close(c);
				}
				continue;
			}
			/* HTTP connection: read, and answer at the end of the headers. */
			ssize_t r = read(fd, buf, sizeof buf);
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				close(fd); /* closed or reset before answering */
				continue;
			}
			/* Find "\r\n\r\n" across reads: state = matched prefix length. */
			unsigned char st = tail_state[fd];
			int done = 0;
			for (ssize_t j = 0; j < r && !done; j++) {
				char ch = buf[j];
				if (ch == (st % 2 == 0 ? '\r' : '\n'))
					st++;
				else
					st = ch == '\r' ? 1 : 0;
				done = st == 4;
			}
			tail_state[fd] = st;
			if (done) {
				ssize_t w = write(fd, RESPONSE, sizeof RESPONSE - 1);
				(void)w;
				close(fd); /* also removes it from the epoll set */
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: tiny_server tcp|http ADDR PORT PROCS SECONDS\n");
		return 2;
	}
	int http = strcmp(argv[1], "http") == 0;
	int procs = atoi(argv[4]);
	signal(SIGPIPE, SIG_IGN);
	if (procs <= 1)
		return serve(http, argv[2], atoi(argv[3]), atoi(argv[5]));
	/* One process group: the parent's SIGTERM ends the children too. */
	pid_t kids[64];
	int nk = 0;
	for (int i = 0; i < procs && i < 64; i++) {
		pid_t p = fork();
		if (p == 0) {
			signal(SIGTERM, SIG_DFL);
			_exit(serve(http, argv[2], atoi(argv[3]), atoi(argv[5])));
		}
		if (p > 0)
			kids[nk++] = p;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sig, alive = nk;
	while (alive > 0 && sigwait(&set, &sig) == 0) {
		if (sig == SIGCHLD) {
			while (waitpid(-1, NULL, WNOHANG) > 0)
				alive--;
			continue;
		}
		for (int i = 0; i < nk; i++)
			kill(kids[i], SIGKILL);
		break;
	}
	return 0;
}
