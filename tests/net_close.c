/*
 * tests/net_close.c - closing a descriptor others are blocked on: a
 * blocked reader, readers queued behind it, a blocked writer and a
 * blocked accept all wake with -ECANCELED (the writer, which had sent
 * part of its buffer, with that count, and -EBADF from its next call);
 * close returns after they are out; the handle then fails with -EBADF,
 * even once its slot and fd number are reused by a new connection. Two
 * closes at once: one does it, the other gets -EBADF. A read_full that
 * had part of its bytes when the close came returns them. A race loop
 * closes connections at arbitrary points of concurrent reads and writes.
 * Descriptors left open when ringo_run returns (sockets and a file) are
 * closed by it, and the next run starts clean.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include <ringo/fs.h>

#include "net_helpers.h"

static ringo_chan *result, *started;

struct op {
	ringo_conn *c;
	int kind; /* 0 read, 1 write_all */
};

static void blocked(void *arg)
{
	struct op *op = arg;
	/* More than loopback's socket buffers take (tcp_wmem and tcp_rmem
	 * reach 4 and 32 MiB here): the write blocks until the close. */
	static char big[64 << 20];
	char buf[16];
	int one = 1;

	ringo_chan_send(started, &one);
	int r = op->kind == 0
		? (int)ringo_conn_read(op->c, buf, sizeof(buf))
		: (int)ringo_conn_write_all(op->c, big, sizeof(big));
	/* A write_all stopped part way reports how far it got; the close
	 * then shows in the next call. */
	if (op->kind == 1 && r > 0 && r < (int)sizeof(big))
		r = (int)ringo_conn_write_all(op->c, big + r, sizeof(big) - (size_t)r);
	ringo_chan_send(result, &r);
}

static int test_close_wakes(void)
{
	ringo_listener *l;
	ringo_conn *c, *peer;
	struct ringo_addr a;
	int v;

	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &c), 0);
	ASSERT_EQ(ringo_net_accept(l, &peer), 0);
	result = ringo_chan_make(sizeof(int), 8);
	started = ringo_chan_make(sizeof(int), 8);

	/* Three readers (one waits in the kernel, two queue for their
	 * turn) and a writer that fills the buffers and blocks. */
	struct op ops[4] = { { c, 0 }, { c, 0 }, { c, 0 }, { c, 1 } };
	for (int i = 0; i < 4; i++) {
		ringo_go(blocked, &ops[i]);
		ASSERT(ringo_chan_recv(started, &v));
	}
	/* All four are in their calls: in the kernel, or queued for the
	 * connection's read turn. */
	test_wait_parked(4, NULL, "IO wait", NULL);
	int fd = ringo_conn_fd(c);
	ASSERT_EQ(ringo_conn_close(c), 0);
	/* close returned: everybody is out, each with -ECANCELED (the
	 * writer's second call, after close, with -EBADF). */
	int cancelled = 0, bad = 0;
	for (int i = 0; i < 4; i++) {
		ASSERT(ringo_chan_recv(result, &v));
		cancelled += v == -ECANCELED;
		bad += v == -EBADF;
	}
	ASSERT_GE(cancelled, 3);
	ASSERT_EQ(cancelled + bad, 4);
	char b[4];
	EXPECT_ERR(ringo_conn_read(c, b, 1), -EBADF);
	EXPECT_ERR(ringo_conn_write(c, b, 1), -EBADF);
	EXPECT_ERR(ringo_conn_set_deadline(c, 0), -EBADF);
	EXPECT_ERR(ringo_conn_fd(c), -EBADF);
	EXPECT_ERR(ringo_conn_close(c), -EBADF);

	/* A new connection may get the same slot and fd number: the old
	 * handle still cannot reach it. */
	ringo_conn *c2;
	ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &c2), 0);
	ASSERT_EQ(ringo_conn_fd(c2), fd);
	EXPECT_ERR(ringo_conn_write(c, b, 1), -EBADF);
	EXPECT_ERR(ringo_conn_close(c), -EBADF);
	ASSERT_EQ(ringo_conn_write_all(c2, "ok", 2), 2);
	ASSERT_EQ(ringo_conn_close(c2), 0);

	/* The peer sees the end of the stream, after the megabytes the
	 * writer left in the socket buffers. */
	static char drain[1 << 16];
	ssize_t n;
	while ((n = ringo_conn_read(peer, drain, sizeof(drain))) > 0)
		;
	ASSERT(n == 0 || n == -ECONNRESET);
	ASSERT_EQ(ringo_conn_close(peer), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ringo_chan_free(result);
	ringo_chan_free(started);
	return 0;
}

static void acceptor(void *arg)
{
	ringo_conn *c;
	int one = 1;
	ringo_chan_send(started, &one);
	int r = ringo_net_accept(arg, &c);
	ringo_chan_send(result, &r);
}

static int test_close_listener(void)
{
	ringo_listener *l;
	int v;

	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &l), 0);
	result = ringo_chan_make(sizeof(int), 4);
	started = ringo_chan_make(sizeof(int), 4);
	for (int i = 0; i < 3; i++) {
		ringo_go(acceptor, l);
		ASSERT(ringo_chan_recv(started, &v));
	}
	ASSERT_EQ(ringo_listener_close(l), 0);
	for (int i = 0; i < 3; i++) {
		ASSERT(ringo_chan_recv(result, &v));
		if (v != -EBADF)
			EXPECT_ERR(v, -ECANCELED);
	}
	ringo_chan_free(result);
	ringo_chan_free(started);
	return 0;
}

/* Closing releases the socket at once, whatever the backend holds on to
 * (io_uring: each ring's registered-file table, filled by a socket's
 * first request on that ring): the peer reads EOF, and a closed
 * listener's address can be listened on again. The listener first waits
 * in the kernel (an accept that times out), so it has had a request; the
 * connection is written to from goroutines that may run on either P, so
 * with two Ps it is most likely in both rings' tables when it closes. */
static void write_one(void *arg)
{
	int r = (int)ringo_conn_write_all(arg, "x", 1);

	ringo_chan_send(result, &r);
}

static int test_close_releases(void)
{
	ringo_listener *l, *l2;
	ringo_conn *c, *peer;
	struct ringo_addr a;
	char addr[64], buf[4];
	int r;

	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	ASSERT(ringo_addr_format(&a, addr, sizeof(addr)) > 0);
	ASSERT_EQ(ringo_listener_set_deadline(l, ringo_now() + 1000000), 0);
	EXPECT_ERR(ringo_net_accept(l, &peer), -ETIMEDOUT);
	ASSERT_EQ(ringo_listener_set_deadline(l, 0), 0);
	ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &c), 0);
	ASSERT_EQ(ringo_net_accept(l, &peer), 0);
	result = ringo_chan_make(sizeof(int), 1);
	for (int i = 0; i < 64; i++) {
		ringo_go(write_one, peer);
		ASSERT_EQ(ringo_conn_read(c, buf, 1), 1);
		ASSERT(ringo_chan_recv(result, &r));
		ASSERT_EQ(r, 1);
	}
	ringo_chan_free(result);
	ASSERT_EQ(ringo_conn_close(peer), 0);
	ASSERT_EQ(ringo_conn_read(c, buf, sizeof(buf)), 0);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ASSERT_EQ(ringo_net_listen("tcp", addr, &l2), 0);
	ASSERT_EQ(ringo_listener_close(l2), 0);
	return 0;
}

static void closer(void *arg)
{
	int r = ringo_conn_close(arg);

	ringo_chan_send(result, &r);
}

static int test_close_twice_at_once(void)
{
	ringo_listener *l;
	struct ringo_addr a;
	int r1, r2;

	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	result = ringo_chan_make(sizeof(int), 2);
	for (int i = 0; i < TEST_SCALE(50, 20, 10); i++) {
		ringo_conn *c, *peer;
		ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &c), 0);
		ASSERT_EQ(ringo_net_accept(l, &peer), 0);
		ringo_go(closer, c);
		ringo_go(closer, c);
		ASSERT(ringo_chan_recv(result, &r1));
		ASSERT(ringo_chan_recv(result, &r2));
		/* One closed it, the other found it closed or closing. */
		ASSERT(r1 == 0 || r2 == 0);
		EXPECT_ERR(r1 + r2, -EBADF);
		ASSERT_EQ(ringo_conn_close(peer), 0);
	}
	ASSERT_EQ(ringo_listener_close(l), 0);
	ringo_chan_free(result);
	return 0;
}

/* read_full's two calls: the bytes that came before the close, then
 * what the closed connection says. */
static void read_fuller(void *arg)
{
	char buf[10];
	int one = 1;

	ringo_chan_send(started, &one);
	int r = (int)ringo_conn_read_full(arg, buf, sizeof(buf));
	if (r == 3 && memcmp(buf, "abc", 3) != 0)
		r = -EPROTO;
	ringo_chan_send(result, &r);
	r = (int)ringo_conn_read_full(arg, buf, sizeof(buf));
	ringo_chan_send(result, &r);
}

static int test_close_mid_read_full(void)
{
	ringo_listener *l;
	ringo_conn *c, *peer;
	int r, q = 1;

	ASSERT_EQ(tcp_pair(&l, &c, &peer), 0);
	result = ringo_chan_make(sizeof(int), 2);
	started = ringo_chan_make(sizeof(int), 1);
	ringo_go(read_fuller, c);
	ASSERT(ringo_chan_recv(started, &r));
	ASSERT_EQ(ringo_conn_write_all(peer, "abc", 3), 3);
	/* The three bytes left c's socket for read_full's buffer, and it
	 * waits for the other seven. */
	while (q > 0 || test_parked(NULL, "IO wait", NULL) < 1) {
		ASSERT_EQ(ioctl(ringo_conn_fd(c), FIONREAD, &q), 0);
		ringo_yield();
	}
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT(ringo_chan_recv(result, &r));
	ASSERT_EQ(r, 3);
	ASSERT(ringo_chan_recv(result, &r));
	if (r != -ECANCELED)
		EXPECT_ERR(r, -EBADF);
	ASSERT_EQ(ringo_conn_close(peer), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ringo_chan_free(result);
	ringo_chan_free(started);
	return 0;
}

/* Race: a reader and a writer run while main closes after a varying
 * number of yields. Only the documented results may come out. */
static void racer(void *arg)
{
	struct op *op = arg;
	char buf[512];
	int r = 0;
	for (;;) {
		ssize_t n = op->kind == 0
			? ringo_conn_read(op->c, buf, sizeof(buf))
			: ringo_conn_write(op->c, buf, sizeof(buf));
		if (n > 0) {
			/* No preemption: a loop that never waits must let
			 * main run (its peer keeps it busy forever). */
			ringo_yield();
			continue;
		}
		if (n != 0 && n != -ECANCELED && n != -EBADF &&
		    n != -ECONNRESET && n != -EPIPE)
			r = (int)n;
		break;
	}
	ringo_chan_send(result, &r);
}

static int test_close_race(void)
{
	ringo_listener *l;
	struct ringo_addr a;
	int iters = TEST_SCALE(300, 100, 50), v;

	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	result = ringo_chan_make(sizeof(int), 4);
	for (int i = 0; i < iters; i++) {
		ringo_conn *c, *peer;
		ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &c), 0);
		ASSERT_EQ(ringo_net_accept(l, &peer), 0);
		struct op ops[4] = { { c, 0 }, { c, 1 }, { peer, 0 }, { peer, 1 } };
		for (int k = 0; k < 4; k++)
			ringo_go(racer, &ops[k]);
		for (int y = 0; y < i % 17; y++)
			ringo_yield();
		ASSERT_EQ(ringo_conn_close(c), 0);
		ASSERT_EQ(ringo_conn_close(peer), 0);
		for (int k = 0; k < 4; k++) {
			ASSERT(ringo_chan_recv(result, &v));
			if (v)
				TEST_FAIL("iteration %d op %d: %s", i, k,
					  strerror(-v));
		}
	}
	ASSERT_EQ(ringo_listener_close(l), 0);
	ringo_chan_free(result);
	return 0;
}

/* The runtime's count of goroutines parked for I/O (io/netpoll.h). */
extern _Atomic int32_t ringo__netpoll_waiters_nr;

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_close_wakes);
	RUN(test_close_listener);
	RUN(test_close_releases);
	RUN(test_close_twice_at_once);
	RUN(test_close_mid_read_full);
	RUN(test_close_race);
	/* Nobody waits for I/O any more, and the count knows it. */
	ASSERT_EQ(atomic_load(&ringo__netpoll_waiters_nr), 0);
	return 0;
}

/* Leave things open when main returns: a goroutine blocked in accept
 * with a deadline pending, a connection blocked in read, a file.
 * ringo_run closes them; the next run starts clean and the old handles
 * are dead. */
static ringo_listener *left_l;
static ringo_conn *left_c, *left_peer;
static ringo_file *left_f;
static char left_path[64];

/* How many of this process's descriptors are open on path. */
static int fds_on(const char *path)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char link[300], target[300];
	int n = 0;

	while (d && (e = readdir(d))) {
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = 0;
		n += strcmp(target, path) == 0;
	}
	if (d)
		closedir(d);
	return n;
}

static void stuck(void *arg)
{
	ringo_conn *c;
	char b[4];
	if (arg)
		ringo_net_accept(arg, &c);
	else
		ringo_conn_read(left_c, b, sizeof(b));
}

static int leave_open(void *arg)
{
	struct ringo_addr a;
	(void)arg;
	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &left_l), 0);
	ASSERT_EQ(ringo_listener_addr(left_l, &a), 0);
	ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &left_c), 0);
	ASSERT_EQ(ringo_net_accept(left_l, &left_peer), 0);
	ASSERT_EQ(ringo_listener_set_deadline(left_l, ringo_now() +
					      3600 * RINGO_SECOND), 0);
	ringo_go(stuck, left_l);
	ringo_go(stuck, NULL);
	snprintf(left_path, sizeof(left_path), "/tmp/ringo-net-close-%d",
		 getpid());
	ASSERT_EQ(ringo_file_open(left_path, O_RDWR | O_CREAT | O_TRUNC, 0600,
				  &left_f), 0);
	ASSERT_EQ(ringo_file_write_at(left_f, "x", 1, 0), 1);
	ASSERT_EQ(fds_on(left_path), 1);
	ringo_yield();
	return 0;
}

static int after_restart(void *arg)
{
	ringo_conn *c;
	char b[4];
	(void)arg;
	EXPECT_ERR(ringo_net_accept(left_l, &c), -EBADF);
	EXPECT_ERR(ringo_conn_read(left_c, b, 1), -EBADF);
	EXPECT_ERR(ringo_conn_close(left_peer), -EBADF);
	EXPECT_ERR(ringo_file_read_at(left_f, b, 1, 0), -EBADF);
	ASSERT_EQ(fds_on(left_path), 0);
	ASSERT_EQ(unlink(left_path), 0);
	ASSERT_EQ(atomic_load(&ringo__netpoll_waiters_nr), 0);
	RUN(test_close_wakes);
	return 0;
}

int main(void)
{
	test_watchdog(90);
	if (ringo_run(main_fn, NULL) != 0)
		return 1;
	if (ringo_run(leave_open, NULL) != 0)
		return 1;
	return ringo_run(after_restart, NULL);
}
