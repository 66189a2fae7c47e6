/*
 * tests/net_reset.c - a peer that resets the connection while we write
 * into it: the blocked write_all stops with the count it had sent and
 * the next call fails with -ECONNRESET or -EPIPE, a blocked read fails
 * with -ECONNRESET, and the process is not killed by
 * SIGPIPE (its default action is left in place on purpose: sends use
 * MSG_NOSIGNAL). A connection the kernel gives up on (TCP_USER_TIMEOUT
 * against a peer that keeps its window shut) does the same with the
 * kernel's -ETIMEDOUT, which the next call reports although no deadline
 * was set: the kernel reports it once.
 */
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/ioctl.h>

#include "net_helpers.h"

#define BIG (64u << 20)

static ringo_chan *result;

static void writer(void *arg)
{
	ringo_conn *c = arg;
	char *buf = calloc(1, BIG);
	ssize_t n = buf ? ringo_conn_write_all(c, buf, BIG) : -ENOMEM;
	/* It had filled the socket buffers before the reset: it says how
	 * much went, and the next call says why it stopped. */
	if (n > 0 && n < (ssize_t)BIG)
		n = ringo_conn_write_all(c, buf + n, BIG - (size_t)n);
	else if (n >= 0)
		n = -EPROTO; /* not what happened: fail below */
	free(buf);
	int r = (int)n;
	ringo_chan_send(result, &r);
}

static void reader(void *arg)
{
	ringo_conn *c = arg;
	char buf[64];
	int r = (int)ringo_conn_read(c, buf, sizeof(buf));
	ringo_chan_send(result, &r);
}

/* Close with an RST instead of a FIN. */
static int reset(ringo_conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	ASSERT_EQ(setsockopt(ringo_conn_fd(c), SOL_SOCKET, SO_LINGER, &lg,
			     sizeof(lg)), 0);
	ASSERT_EQ(ringo_conn_close(c), 0);
	return 0;
}

/* Wait until the writer has filled the peer's receive queue, which means
 * it is blocked in write_all (synchronising on the socket, not a sleep). */
static int wait_queued(ringo_conn *peer, int bytes)
{
	int q = 0;
	for (int i = 0; i < 1000000 && q < bytes; i++) {
		ASSERT_EQ(ioctl(ringo_conn_fd(peer), FIONREAD, &q), 0);
		if (q < bytes)
			ringo_yield();
	}
	ASSERT_GE(q, bytes);
	return 0;
}

static int test_reset_mid_write(void)
{
	ringo_listener *l;
	ringo_conn *c, *peer;
	int r;

	ASSERT_EQ(tcp_pair(&l, &c, &peer), 0);
	result = ringo_chan_make(sizeof(int), 2);
	ringo_go(writer, c);
	ASSERT_EQ(wait_queued(peer, 64 * 1024), 0);
	ASSERT_EQ(reset(peer), 0);
	ASSERT(ringo_chan_recv(result, &r));
	if (r != -EPIPE)
		EXPECT_ERR(r, -ECONNRESET);
	/* Later writes fail too, still without a signal. */
	r = (int)ringo_conn_write(c, "x", 1);
	ASSERT(r == -EPIPE || r == -ECONNRESET);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ringo_chan_free(result);
	return 0;
}

static int test_reset_while_reading(void)
{
	ringo_listener *l;
	ringo_conn *c, *peer;
	int r;

	ASSERT_EQ(tcp_pair(&l, &c, &peer), 0);
	result = ringo_chan_make(sizeof(int), 1);
	ringo_go(reader, c);
	ringo_yield();
	ASSERT_EQ(reset(peer), 0);
	ASSERT(ringo_chan_recv(result, &r));
	EXPECT_ERR(r, -ECONNRESET);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ringo_chan_free(result);
	return 0;
}

/* read_full cut short by a reset returns the bytes that came, and the
 * next call the reset: the kernel reports it once, and it must not look
 * like a clean end of stream. */
static int test_reset_mid_read_full(void)
{
	ringo_listener *l;
	ringo_conn *c, *peer;
	char buf[10];

	ASSERT_EQ(tcp_pair(&l, &c, &peer), 0);
	ASSERT_EQ(ringo_conn_write_all(peer, "abc", 3), 3);
	ASSERT_EQ(reset(peer), 0);
	ASSERT_EQ(ringo_conn_read_full(c, buf, sizeof(buf)), 3);
	ASSERT(memcmp(buf, "abc", 3) == 0);
	EXPECT_ERR(ringo_conn_read(c, buf, sizeof(buf)), -ECONNRESET);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	return 0;
}

/* The peer never reads, so once the buffers are full our side sends
 * zero-window probes, and TCP_USER_TIMEOUT makes the kernel abort the
 * connection with ETIMEDOUT (within 0.4 s here). */
static int user_timeout(ringo_conn *c)
{
	int ms = 100;

	ASSERT_EQ(setsockopt(ringo_conn_fd(c), IPPROTO_TCP, TCP_USER_TIMEOUT,
			     &ms, sizeof(ms)), 0);
	return 0;
}

static int test_timeout_mid_write(void)
{
	ringo_listener *l;
	ringo_conn *c, *peer;
	int r;

	ASSERT_EQ(tcp_pair(&l, &c, &peer), 0);
	ASSERT_EQ(user_timeout(c), 0);
	result = ringo_chan_make(sizeof(int), 1);
	ringo_go(writer, c);
	ASSERT(ringo_chan_recv(result, &r));
	EXPECT_ERR(r, -ETIMEDOUT);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_conn_close(peer), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ringo_chan_free(result);
	return 0;
}

static int test_timeout_mid_read_full(void)
{
	static char big[1 << 20];
	ringo_listener *l;
	ringo_conn *c, *peer;
	char buf[10];
	ssize_t n;

	ASSERT_EQ(tcp_pair(&l, &c, &peer), 0);
	ASSERT_EQ(user_timeout(c), 0);
	ASSERT_EQ(ringo_conn_write_all(peer, "abc", 3), 3);
	/* Fill the buffers towards the peer; a write deadline ends that
	 * long before the kernel gives up, so that no writer takes the
	 * error, which the kernel reports once. */
	ASSERT_EQ(ringo_conn_set_write_deadline(c, ringo_now() +
						20 * RINGO_MILLISECOND), 0);
	while ((n = ringo_conn_write(c, big, sizeof(big))) > 0)
		;
	EXPECT_ERR(n, -ETIMEDOUT);
	ASSERT_EQ(ringo_conn_read_full(c, buf, sizeof(buf)), 3);
	ASSERT(memcmp(buf, "abc", 3) == 0);
	EXPECT_ERR(ringo_conn_read(c, buf, sizeof(buf)), -ETIMEDOUT);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_conn_close(peer), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_reset_mid_write);
	RUN(test_reset_while_reading);
	RUN(test_reset_mid_read_full);
	RUN(test_timeout_mid_write);
	RUN(test_timeout_mid_read_full);
	return 0;
}

int main(void)
{
	signal(SIGPIPE, SIG_DFL);
	test_watchdog(60);
	return ringo_run(main_fn, NULL);
}
