/*
 * tests/net_many.c - many connections at once in one process: N clients
 * (1,000; fewer under TSan) dial one echo server, all stay connected
 * until every one has done a first round trip (a barrier), then each
 * exchanges a few more messages whose content depends on its id, and
 * closes. Checks every byte and that the server saw N connections.
 */
#include <stdio.h>

#include "net_helpers.h"

static const char *server;
static ringo_chan *connected; /* int: a client's first round trip ended */
static ringo_chan *go;        /* closed when all are connected */
static ringo_chan *done;      /* int: a client's result, 0 = ok */

static int exchange(ringo_conn *c, int id, int round)
{
	char msg[256], back[256];
	int n = snprintf(msg, sizeof(msg), "client %d round %d %*s|", id,
			 round, (id * 7 + round) % 200, "");
	if (ringo_conn_write_all(c, msg, (size_t)n) != n)
		return 1;
	if (ringo_conn_read_full(c, back, (size_t)n) != n)
		return 1;
	return memcmp(msg, back, (size_t)n) != 0;
}

static void client(void *arg)
{
	int id = (int)(intptr_t)arg, bad = 1, one = 1;
	ringo_conn *c;

	int err = ringo_net_dial("tcp", server, &c);
	if (err) {
		fprintf(stderr, "client %d: dial: %s\n", id, strerror(-err));
		ringo_chan_send(connected, &one);
		done_signal(done, 1);
		return;
	}
	bad = exchange(c, id, 0);
	ringo_chan_send(connected, &bad);
	int v;
	ringo_chan_recv(go, &v); /* returns false once go is closed */
	for (int r = 1; r < 4 && !bad; r++)
		bad = exchange(c, id, r);
	ringo_conn_close(c);
	done_signal(done, bad);
}

static int test_many(void)
{
	int n = TEST_SCALE(1000, 1000, 600);
	struct echo_server s;

	if (nofile_raise() < 2 * n + 100) {
		fprintf(stderr, "SKIP: RLIMIT_NOFILE below %d\n", 2 * n + 100);
		return 77;
	}
	ASSERT_EQ(echo_start(&s, "tcp", "127.0.0.1:0"), 0);
	server = s.addr_str;
	connected = ringo_chan_make(sizeof(int), (size_t)n);
	done = ringo_chan_make(sizeof(int), (size_t)n);
	go = ringo_chan_make(sizeof(int), 0);
	for (int i = 0; i < n; i++)
		ringo_go(client, (void *)(intptr_t)i);
	/* All n connections are open at once here. */
	ASSERT_EQ(done_wait(connected, n), 0);
	ASSERT_EQ(s.accepted, n);
	ringo_chan_close(go);
	ASSERT_EQ(done_wait(done, n), 0);
	ASSERT_EQ(echo_stop(&s), 0);
	ringo_chan_free(connected);
	ringo_chan_free(done);
	ringo_chan_free(go);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	return test_many();
}

int main(void)
{
	test_watchdog(120);
	return ringo_run(main_fn, NULL);
}
