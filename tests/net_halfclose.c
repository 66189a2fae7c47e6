/*
 * tests/net_halfclose.c - shutdown(SHUT_WR) sends end of stream while the
 * other direction stays open: the peer reads everything then 0, and can
 * still answer; writing after our own SHUT_WR fails with -EPIPE (and no
 * SIGPIPE). Over TCP and Unix sockets.
 */
#include <stdio.h>

#include "net_helpers.h"

static ringo_chan *result;

/* Read to end of stream, then answer with the byte count and a sum. */
static void counter(void *arg)
{
	ringo_conn *c = arg;
	char buf[4096], reply[64];
	ssize_t n;
	long total = 0, sum = 0;

	while ((n = ringo_conn_read(c, buf, sizeof(buf))) > 0) {
		total += n;
		for (ssize_t i = 0; i < n; i++)
			sum += (unsigned char)buf[i];
	}
	int r = (int)n; /* 0 on a clean end of stream */
	if (r == 0) {
		int len = snprintf(reply, sizeof(reply), "%ld %ld", total, sum);
		if (ringo_conn_write_all(c, reply, (size_t)len) != len)
			r = 1;
	}
	ringo_conn_close(c);
	ringo_chan_send(result, &r);
}

static int half_close(const char *network, const char *address)
{
	ringo_listener *l;
	ringo_conn *c, *sc;
	struct ringo_addr a;
	char buf[8192], want[64];
	long sum = 0;

	ASSERT_EQ(ringo_net_listen(network, address, &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	result = ringo_chan_make(sizeof(int), 1);
	ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &c), 0);
	ASSERT_EQ(ringo_net_accept(l, &sc), 0);
	ringo_go(counter, sc);

	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] = (char)(i * 31 + 7);
		sum += (unsigned char)buf[i];
	}
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(ringo_conn_write_all(c, buf, sizeof(buf)), sizeof(buf));
	ASSERT_EQ(ringo_conn_shutdown(c, SHUT_WR), 0);
	EXPECT_ERR(ringo_conn_write(c, buf, 1), -EPIPE);

	/* The peer saw end of stream and still talks back to us. */
	int len = snprintf(want, sizeof(want), "%ld %ld",
			   10L * (long)sizeof(buf), 10 * sum);
	ASSERT_EQ(ringo_conn_read_full(c, buf, sizeof(buf)), len);
	ASSERT(memcmp(buf, want, (size_t)len) == 0);
	ASSERT_EQ(ringo_conn_read(c, buf, sizeof(buf)), 0);
	int r;
	ASSERT(ringo_chan_recv(result, &r));
	ASSERT_EQ(r, 0);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ringo_chan_free(result);
	return 0;
}

static int test_tcp(void)
{
	return half_close("tcp", "127.0.0.1:0");
}

static int test_unix(void)
{
	char path[64];

	snprintf(path, sizeof(path), "@ringo-halfclose-%d", getpid());
	return half_close("unix", path);
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_tcp);
	RUN(test_unix);
	return 0;
}

int main(void)
{
	test_watchdog(60);
	return ringo_run(main_fn, NULL);
}
