/*
 * bench/echoloop.c - ringo-echo-loop: the floor under the echo benchmark.
 *
 *   ringo-echo-loop --mode uring|epoll [--addr 127.0.0.1:PORT]
 *
 * One thread and no runtime: an event loop that sends each connection
 * back what it sent, on epoll (non-blocking sockets, level-triggered,
 * read then write) or on io_uring (a receive per connection, its send
 * when the receive completes, one submit-and-wait per batch, the ring
 * set up for one thread: SINGLE_ISSUER and DEFER_TASKRUN where the kernel
 * has them). Its CPU per message is the kernel's TCP work plus the least
 * each interface adds; a runtime's echo server can only add to that, so
 * ringo-bench's echo rows show how far above it ringo and Go are. It
 * prints "listening on ADDR" once it accepts (port 0 picks a free port)
 * and runs until killed. Not linked with ringo.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 4096
#define BACKLOG 4096
#define EVENTS 256
#define SQ_ENTRIES 4096
#define CQ_ENTRIES 65536

/* A connection: what it sent and has not yet had back is buf[off..len). */
struct conn {
	int fd;
	unsigned off, len;
	char buf[BUF_SIZE];
};

static _Noreturn void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;

	fputs("ringo-echo-loop: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static struct conn *conn_new(int fd)
{
	struct conn *c = malloc(sizeof(*c));
	int one = 1;

	if (!c)
		die("out of memory for a connection");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*c = (struct conn){ .fd = fd };
	return c;
}

static void conn_free(struct conn *c)
{
	close(c->fd);
	free(c);
}

/* "127.0.0.1:PORT" (IPv4 only: the benchmark listens on loopback). */
static int listen_on(const char *addr, int flags)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	char host[64], *end;
	const char *colon = strrchr(addr, ':');
	int one = 1;

	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		die("--addr %s: want IPV4:PORT", addr);
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("--addr %s: want IPV4:PORT", addr);
	sa.sin_port = htons((uint16_t)port);
	int fd = socket(AF_INET, SOCK_STREAM | flags, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		die("listen on %s: %s", addr, strerror(errno));
	printf("listening on %s:%u\n", host, ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

/* ======================================================================
 * epoll
 * =================================================================== */

static void epoll_watch(int ep, int op, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (epoll_ctl(ep, op, c->fd, &ev) != 0)
		die("epoll_ctl: %s", strerror(errno));
}

static void epoll_accept(int ep, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != ECONNABORTED)
				fprintf(stderr, "ringo-echo-loop: accept: %s\n",
					strerror(errno));
			return;
		}
		epoll_watch(ep, EPOLL_CTL_ADD, conn_new(fd), EPOLLIN);
	}
}

/* Send back what is pending. Returns 1 if all went, 0 if the socket is
 * full (the caller waits for EPOLLOUT), -1 if the connection is done. */
static int epoll_flush(struct conn *c)
{
	while (c->off < c->len) {
		ssize_t n = write(c->fd, c->buf + c->off, c->len - c->off);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->off += (unsigned)n;
	}
	return 1;
}

/* A readable or writable connection: read only with nothing pending, so
 * a client that does not read its echoes stops being read. */
static void epoll_serve(int ep, struct conn *c, uint32_t events)
{
	bool waiting = c->off < c->len;

	if (!waiting) {
		ssize_t n = read(c->fd, c->buf, sizeof(c->buf));
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_free(c);
			return;
		}
		c->off = 0;
		c->len = (unsigned)n;
	} else if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		return;
	}
	int st = epoll_flush(c);
	if (st < 0)
		conn_free(c);
	else if (st == 0 && !waiting)
		epoll_watch(ep, EPOLL_CTL_MOD, c, EPOLLOUT);
	else if (st == 1 && waiting)
		epoll_watch(ep, EPOLL_CTL_MOD, c, EPOLLIN);
}

static _Noreturn void run_epoll(const char *addr)
{
	int lfd = listen_on(addr, SOCK_NONBLOCK);
	int ep = epoll_create1(0);
	struct conn listener = { .fd = lfd };
	struct epoll_event evs[EVENTS];

	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	epoll_watch(ep, EPOLL_CTL_ADD, &listener, EPOLLIN);
	for (;;) {
		int n = epoll_wait(ep, evs, EVENTS, -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c == &listener)
				epoll_accept(ep, lfd);
			else
				epoll_serve(ep, c, evs[i].events);
		}
	}
}

/* ======================================================================
 * io_uring
 * =================================================================== */

/* user_data: a connection's address with the request's kind in its low
 * bits (malloc aligns to 16). */
enum { OP_ACCEPT, OP_RECV, OP_SEND };

static struct io_uring ring;

static struct io_uring_sqe *sqe_get(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (!sqe) {
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
	}
	if (!sqe)
		die("io_uring: no submission entry after a submit");
	return sqe;
}

static void uring_prep(struct conn *c, int op)
{
	struct io_uring_sqe *sqe = sqe_get();

	if (op == OP_RECV)
		io_uring_prep_recv(sqe, c->fd, c->buf, sizeof(c->buf), 0);
	else
		io_uring_prep_send(sqe, c->fd, c->buf + c->off, c->len - c->off,
				   0);
	io_uring_sqe_set_data64(sqe, (uintptr_t)c | (unsigned)op);
}

/* Multishot: one request accepts every connection until it fails. */
static void uring_accept(int lfd)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, 0);
	io_uring_sqe_set_data64(sqe, OP_ACCEPT);
}

static void uring_complete(int lfd, const struct io_uring_cqe *cqe)
{
	struct conn *c = (struct conn *)(uintptr_t)(cqe->user_data & ~3ull);
	int op = (int)(cqe->user_data & 3);

	if (op == OP_ACCEPT) {
		if (cqe->res >= 0)
			uring_prep(conn_new(cqe->res), OP_RECV);
		else if (cqe->res != -ECONNABORTED)
			fprintf(stderr, "ringo-echo-loop: accept: %s\n",
				strerror(-cqe->res));
		if (!(cqe->flags & IORING_CQE_F_MORE))
			uring_accept(lfd);
		return;
	}
	if (cqe->res <= 0) {
		conn_free(c);
		return;
	}
	if (op == OP_RECV) {
		c->off = 0;
		c->len = (unsigned)cqe->res;
	} else {
		c->off += (unsigned)cqe->res;
	}
	uring_prep(c, c->off < c->len ? OP_SEND : OP_RECV);
}

/* The ring for one thread where the kernel allows it (6.1+): task work
 * then runs only when this thread asks for completions. */
static void uring_init(void)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
			 IORING_SETUP_DEFER_TASKRUN,
		.cq_entries = CQ_ENTRIES,
	};
	int r = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);

	if (r == -EINVAL) {
		p = (struct io_uring_params){ .flags = IORING_SETUP_CQSIZE,
					      .cq_entries = CQ_ENTRIES };
		r = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
	}
	if (r < 0)
		die("io_uring_queue_init: %s", strerror(-r));
}

static _Noreturn void run_uring(const char *addr)
{
	uring_init();
	int lfd = listen_on(addr, 0);
	uring_accept(lfd);
	for (;;) {
		int r = io_uring_submit_and_wait(&ring, 1);
		if (r < 0 && r != -EINTR && r != -EBUSY)
			die("io_uring_submit_and_wait: %s", strerror(-r));
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			uring_complete(lfd, cqe);
			n++;
		}
		io_uring_cq_advance(&ring, n);
	}
}

int main(int argc, char **argv)
{
	const char *mode = NULL, *addr = "127.0.0.1:0";

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--mode") == 0)
			mode = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--addr") == 0)
			addr = argv[++i];
		else
			die("usage: ringo-echo-loop --mode uring|epoll "
			    "[--addr IPV4:PORT]");
	}
	if (mode && strcmp(mode, "uring") == 0)
		run_uring(addr);
	if (mode && strcmp(mode, "epoll") == 0)
		run_epoll(addr);
	die("usage: ringo-echo-loop --mode uring|epoll [--addr IPV4:PORT]");
}
