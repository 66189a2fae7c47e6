/*
 * tests/net_deadline.c - Go's SetDeadline semantics: a read deadline
 * fails a blocked read with -ETIMEDOUT no earlier than asked, keeps
 * failing reads until moved, can be extended while a read waits (the
 * read then goes on), expires a waiting read when set in the past, and
 * is cleared by 0 (also while a read waits). Write deadlines on a full
 * socket buffer; the two directions apart, for calls already waiting
 * too; dial deadlines against a listener whose backlog is full, and
 * that they end with the connect; accept deadlines.
 * A deadline that stops write_all or read_full half way loses nothing:
 * the count says how far it got, and the rest goes through once the
 * deadline is moved.
 * Durations are checked with generous upper bounds (behaviour, not
 * speed). The only sleeps let time pass to show a deadline did NOT fire.
 */
#include <arpa/inet.h>
#include <sys/ioctl.h>

#include "net_helpers.h"

#define MS RINGO_MILLISECOND

static ringo_conn *c, *peer;
static ringo_listener *l;
static ringo_chan *result; /* int64_t: a reader's result */
static ringo_chan *started;

static int pair(void)
{
	ASSERT_EQ(tcp_pair(&l, &c, &peer), 0);
	result = ringo_chan_make(sizeof(int64_t), 1);
	started = ringo_chan_make(sizeof(int), 1);
	return 0;
}

static int unpair(void)
{
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_conn_close(peer), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ringo_chan_free(result);
	ringo_chan_free(started);
	return 0;
}

static void reader(void *arg)
{
	char buf[16];
	int one = 1;
	(void)arg;
	ringo_chan_send(started, &one);
	int64_t r = ringo_conn_read(c, buf, sizeof(buf));
	ringo_chan_send(result, &r);
}

static int test_read_deadline(void)
{
	char buf[16];

	ASSERT_EQ(pair(), 0);
	int64_t t0 = ringo_now();
	ASSERT_EQ(ringo_conn_set_read_deadline(c, t0 + 50 * MS), 0);
	EXPECT_ERR(ringo_conn_read(c, buf, sizeof(buf)), -ETIMEDOUT);
	int64_t d = ringo_now() - t0;
	ASSERT_GE(d, 50 * MS);
	ASSERT_LE(d, 5000 * MS);
	/* Stays expired, even with data there, until moved. */
	ASSERT_EQ(ringo_conn_write_all(peer, "hi", 2), 2);
	EXPECT_ERR(ringo_conn_read(c, buf, sizeof(buf)), -ETIMEDOUT);
	/* Writes have their own deadline: unaffected. */
	ASSERT_EQ(ringo_conn_write_all(c, "ok", 2), 2);
	ASSERT_EQ(ringo_conn_read_full(peer, buf, 2), 2);
	/* Extended: the data is read. */
	ASSERT_EQ(ringo_conn_set_read_deadline(c, ringo_now() + 10000 * MS), 0);
	ASSERT_EQ(ringo_conn_read(c, buf, sizeof(buf)), 2);
	/* Cleared. */
	ASSERT_EQ(ringo_conn_set_read_deadline(c, ringo_now() - 1), 0);
	EXPECT_ERR(ringo_conn_read(c, buf, sizeof(buf)), -ETIMEDOUT);
	ASSERT_EQ(ringo_conn_set_read_deadline(c, 0), 0);
	ASSERT_EQ(ringo_conn_write_all(peer, "again", 5), 5);
	ASSERT_EQ(ringo_conn_read_full(c, buf, 5), 5);
	return unpair();
}

static int test_extend_while_waiting(void)
{
	int64_t r;
	int v;

	ASSERT_EQ(pair(), 0);
	int64_t t0 = ringo_now();
	ASSERT_EQ(ringo_conn_set_read_deadline(c, t0 + 100 * MS), 0);
	ringo_go(reader, NULL);
	ASSERT(ringo_chan_recv(started, &v));
	ASSERT_EQ(ringo_conn_set_read_deadline(c, t0 + 60000 * MS), 0);
	ringo_sleep(300 * MS); /* past the first deadline: it must not fire */
	ASSERT_EQ(ringo_chan_len(result), 0);
	ASSERT_EQ(ringo_conn_write_all(peer, "late", 4), 4);
	ASSERT(ringo_chan_recv(result, &r));
	ASSERT_EQ(r, 4);
	return unpair();
}

static int test_clear_while_waiting(void)
{
	int64_t r;
	int v;

	ASSERT_EQ(pair(), 0);
	int64_t t0 = ringo_now();
	ASSERT_EQ(ringo_conn_set_read_deadline(c, t0 + 200 * MS), 0);
	ringo_go(reader, NULL);
	ASSERT(ringo_chan_recv(started, &v));
	test_wait_parked(1, NULL, "IO wait", NULL);
	ASSERT_EQ(ringo_conn_set_read_deadline(c, 0), 0);
	ringo_sleep(t0 + 400 * MS - ringo_now()); /* past the old deadline */
	ASSERT_EQ(ringo_chan_len(result), 0);
	ASSERT_EQ(ringo_conn_write_all(peer, "late", 4), 4);
	ASSERT(ringo_chan_recv(result, &r));
	ASSERT_EQ(r, 4);
	return unpair();
}

static int test_shorten_while_waiting(void)
{
	int64_t r;
	int v;

	ASSERT_EQ(pair(), 0);
	ringo_go(reader, NULL);
	ASSERT(ringo_chan_recv(started, &v));
	/* A deadline in the past wakes the waiting reader at once. */
	ASSERT_EQ(ringo_conn_set_deadline(c, ringo_now() - 1), 0);
	ASSERT(ringo_chan_recv(result, &r));
	EXPECT_ERR(r, -ETIMEDOUT);
	/* And a near one wakes it when it passes. */
	ASSERT_EQ(ringo_conn_set_deadline(c, 0), 0);
	ringo_go(reader, NULL);
	ASSERT(ringo_chan_recv(started, &v));
	int64_t t0 = ringo_now();
	ASSERT_EQ(ringo_conn_set_read_deadline(c, t0 + 30 * MS), 0);
	ASSERT(ringo_chan_recv(result, &r));
	EXPECT_ERR(r, -ETIMEDOUT);
	ASSERT_GE(ringo_now() - t0, 30 * MS);
	return unpair();
}

static int test_write_deadline(void)
{
	static char buf[1 << 20];

	ASSERT_EQ(pair(), 0);
	int64_t t0 = ringo_now();
	ASSERT_EQ(ringo_conn_set_write_deadline(c, t0 + 50 * MS), 0);
	ssize_t n;
	/* Nobody reads peer: the buffers fill, then the deadline hits. */
	while ((n = ringo_conn_write(c, buf, sizeof(buf))) > 0)
		;
	EXPECT_ERR(n, -ETIMEDOUT);
	ASSERT_GE(ringo_now() - t0, 50 * MS);
	EXPECT_ERR(ringo_conn_write_all(c, buf, 1), -ETIMEDOUT);
	/* Reads are unaffected. */
	ASSERT_EQ(ringo_conn_write_all(peer, "r", 1), 1);
	ASSERT_EQ(ringo_conn_read(c, buf, 1), 1);
	return unpair();
}

/* Bigger than loopback's socket buffers on both ends (tcp_wmem and
 * tcp_rmem top out at a few MiB). */
#define RESUME_BYTES (32 << 20)

static unsigned char resume_byte(size_t i)
{
	return (unsigned char)(i * 131 + (i >> 16));
}

struct drain {
	size_t got;
	int bad;
};

static void drainer(void *arg)
{
	struct drain *d = arg;
	static unsigned char buf[1 << 16];
	ssize_t n;

	while (d->got < RESUME_BYTES &&
	       (n = ringo_conn_read(peer, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++, d->got++)
			d->bad |= buf[i] != resume_byte(d->got);
	int64_t done = (int64_t)d->got;
	ringo_chan_send(result, &done);
}

static int test_write_all_resumes(void)
{
	unsigned char *buf = malloc(RESUME_BYTES);
	struct drain d = { 0, 0 };
	int64_t got;

	ASSERT(buf);
	for (size_t i = 0; i < RESUME_BYTES; i++)
		buf[i] = resume_byte(i);
	ASSERT_EQ(pair(), 0);
	/* Far enough ahead that the call starts before it on a loaded
	 * machine (a deadline already passed fails it with no byte sent). */
	ASSERT_EQ(ringo_conn_set_write_deadline(c, ringo_now() + 200 * MS), 0);
	/* Nobody reads yet: the buffers fill and the deadline stops it. */
	ssize_t n = ringo_conn_write_all(c, buf, RESUME_BYTES);
	ASSERT(n > 0 && n < RESUME_BYTES);
	EXPECT_ERR(ringo_conn_write_all(c, buf + n, RESUME_BYTES - (size_t)n),
		   -ETIMEDOUT);
	/* Deadline cleared: the rest follows what went, in order. */
	ASSERT_EQ(ringo_conn_set_write_deadline(c, 0), 0);
	ringo_go(drainer, &d);
	ASSERT_EQ(ringo_conn_write_all(c, buf + n, RESUME_BYTES - (size_t)n),
		  RESUME_BYTES - n);
	ASSERT(ringo_chan_recv(result, &got));
	ASSERT_EQ(got, RESUME_BYTES);
	ASSERT_EQ(d.bad, 0);
	free(buf);
	return unpair();
}

static void big_writer(void *arg)
{
	int one = 1;

	ringo_chan_send(started, &one);
	int64_t r = ringo_conn_write_all(c, arg, RESUME_BYTES);
	ringo_chan_send(result, &r);
}

/* Until the peer's receive queue holds `bytes`: the writer has filled
 * the buffers and waits in write_all (the socket, not a sleep). */
static int wait_queued(int bytes)
{
	int q = 0;

	while (q < bytes) {
		ASSERT_EQ(ioctl(ringo_conn_fd(peer), FIONREAD, &q), 0);
		if (q < bytes)
			ringo_yield();
	}
	return 0;
}

/* Each direction has its own deadline, for calls already waiting too: a
 * write deadline, passed or passing, leaves a waiting read alone, a read
 * deadline leaves a waiting write_all alone, and a write deadline set
 * from another goroutine stops write_all with the count it sent. */
static int test_directions_apart(void)
{
	unsigned char *buf = calloc(1, RESUME_BYTES);
	int64_t r;
	int v;

	ASSERT(buf);
	ASSERT_EQ(pair(), 0);
	ringo_go(reader, NULL);
	ASSERT(ringo_chan_recv(started, &v));
	test_wait_parked(1, NULL, "IO wait", NULL);
	ASSERT_EQ(ringo_conn_set_write_deadline(c, ringo_now() - 1), 0);
	ASSERT_EQ(ringo_conn_set_write_deadline(c, ringo_now() + 20 * MS), 0);
	ringo_sleep(100 * MS); /* past it: it must not end the read */
	ASSERT_EQ(ringo_chan_len(result), 0);
	EXPECT_ERR(ringo_conn_write(c, "x", 1), -ETIMEDOUT);
	ASSERT_EQ(ringo_conn_write_all(peer, "rd", 2), 2);
	ASSERT(ringo_chan_recv(result, &r));
	ASSERT_EQ(r, 2);

	ASSERT_EQ(ringo_conn_set_write_deadline(c, 0), 0);
	ringo_go(big_writer, buf);
	ASSERT(ringo_chan_recv(started, &v));
	ASSERT_EQ(wait_queued(64 << 10), 0);
	ASSERT_EQ(ringo_conn_set_read_deadline(c, ringo_now() - 1), 0);
	ASSERT_EQ(ringo_conn_set_read_deadline(c, ringo_now() + 20 * MS), 0);
	ringo_sleep(100 * MS); /* past it: it must not end the write */
	ASSERT_EQ(ringo_chan_len(result), 0);
	ASSERT_EQ(ringo_conn_set_write_deadline(c, ringo_now() - 1), 0);
	ASSERT(ringo_chan_recv(result, &r));
	ASSERT(r > 0 && r < RESUME_BYTES);
	free(buf);
	return unpair();
}

static int test_read_full_partial(void)
{
	char buf[10];

	ASSERT_EQ(pair(), 0);
	ASSERT_EQ(ringo_conn_write_all(peer, "abc", 3), 3);
	ASSERT_EQ(ringo_conn_set_read_deadline(c, ringo_now() + 200 * MS), 0);
	/* The three bytes come back although the deadline ended the call. */
	ASSERT_EQ(ringo_conn_read_full(c, buf, sizeof(buf)), 3);
	ASSERT(memcmp(buf, "abc", 3) == 0);
	EXPECT_ERR(ringo_conn_read_full(c, buf + 3, 7), -ETIMEDOUT);
	ASSERT_EQ(ringo_conn_set_read_deadline(c, 0), 0);
	ASSERT_EQ(ringo_conn_write_all(peer, "defghij", 7), 7);
	ASSERT_EQ(ringo_conn_read_full(c, buf + 3, 7), 7);
	ASSERT(memcmp(buf, "abcdefghij", 10) == 0);
	return unpair();
}

static int test_dial_deadline(void)
{
	/* A listener with backlog 0 that never accepts: once its queue is
	 * full the kernel drops SYNs and connects hang. Plain syscalls, so
	 * that the backlog is ours to choose. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct ringo_addr a = { .len = sizeof(struct sockaddr_in) };
	a.in4.sin_family = AF_INET;
	a.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT(fd >= 0);
	ASSERT_EQ(bind(fd, &a.sa, a.len), 0);
	ASSERT_EQ(listen(fd, 0), 0);
	ASSERT_EQ(getsockname(fd, &a.sa, &a.len), 0);

	ringo_conn *cs[8];
	int ok = 0, err = 0;
	while (ok < 8) {
		int64_t t0 = ringo_now();
		err = ringo_net_dial_addr(SOCK_STREAM, &a, t0 + 100 * MS,
					  &cs[ok]);
		if (err) {
			ASSERT_GE(ringo_now() - t0, 100 * MS);
			break;
		}
		ok++;
	}
	EXPECT_ERR(err, -ETIMEDOUT);
	ASSERT_LE(ok, 4);
	/* A deadline already passed fails at once. */
	ringo_conn *x;
	EXPECT_ERR(ringo_net_dial_addr(SOCK_STREAM, &a, ringo_now() - 1, &x),
		   -ETIMEDOUT);
	for (int i = 0; i < ok; i++)
		ASSERT_EQ(ringo_conn_close(cs[i]), 0);
	close(fd);
	return 0;
}

/* A dial's deadline covers the connect only: once it passes, the
 * connection it made still reads and writes. */
static int test_dial_deadline_ends(void)
{
	struct ringo_addr a;
	char buf[4];

	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, ringo_now() + 30 * MS,
				      &c), 0);
	ASSERT_EQ(ringo_net_accept(l, &peer), 0);
	ringo_sleep(60 * MS); /* past the dial's deadline */
	ASSERT_EQ(ringo_conn_write_all(c, "ping", 4), 4);
	ASSERT_EQ(ringo_conn_read_full(peer, buf, 4), 4);
	ASSERT_EQ(ringo_conn_write_all(peer, "pong", 4), 4);
	ASSERT_EQ(ringo_conn_read_full(c, buf, 4), 4);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_conn_close(peer), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	return 0;
}

static int test_accept_deadline(void)
{
	ringo_conn *x;

	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &l), 0);
	int64_t t0 = ringo_now();
	ASSERT_EQ(ringo_listener_set_deadline(l, t0 + 30 * MS), 0);
	EXPECT_ERR(ringo_net_accept(l, &x), -ETIMEDOUT);
	ASSERT_GE(ringo_now() - t0, 30 * MS);
	ASSERT_EQ(ringo_listener_close(l), 0);
	EXPECT_ERR(ringo_listener_set_deadline(l, 0), -EBADF);
	return 0;
}

/* Many connections with staggered deadlines, all expiring. */
static ringo_chan *many_done;

static void timed_reader(void *arg)
{
	ringo_conn *cc = arg;
	char b[4];
	int64_t t0 = ringo_now(), want = t0 + (int64_t)(ringo_id() % 20) * MS;
	ringo_conn_set_read_deadline(cc, want);
	int r = ringo_conn_read(cc, b, sizeof(b)) == -ETIMEDOUT &&
			ringo_now() >= want
		? 0 : 1;
	ringo_chan_send(many_done, &r);
}

static int test_many_deadlines(void)
{
	int n = TEST_SCALE(200, 200, 100);
	ringo_conn **cs = calloc((size_t)n, sizeof(*cs));
	ringo_conn **ps = calloc((size_t)n, sizeof(*ps));
	struct ringo_addr a;

	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	many_done = ringo_chan_make(sizeof(int), (size_t)n);
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &cs[i]), 0);
		ASSERT_EQ(ringo_net_accept(l, &ps[i]), 0);
		ringo_go(timed_reader, cs[i]);
	}
	ASSERT_EQ(done_wait(many_done, n), 0);
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(ringo_conn_close(cs[i]), 0);
		ASSERT_EQ(ringo_conn_close(ps[i]), 0);
	}
	ASSERT_EQ(ringo_listener_close(l), 0);
	ringo_chan_free(many_done);
	free(cs);
	free(ps);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_read_deadline);
	RUN(test_extend_while_waiting);
	RUN(test_clear_while_waiting);
	RUN(test_shorten_while_waiting);
	RUN(test_write_deadline);
	RUN(test_write_all_resumes);
	RUN(test_directions_apart);
	RUN(test_read_full_partial);
	RUN(test_dial_deadline);
	RUN(test_dial_deadline_ends);
	RUN(test_accept_deadline);
	RUN(test_many_deadlines);
	return 0;
}

int main(void)
{
	test_watchdog(90);
	return ringo_run(main_fn, NULL);
}
