/*
 * tests/net_udp.c - datagrams: sendto/recvfrom with sender addresses over
 * UDP (IPv4, IPv6) and unixgram, an echo server answering many clients,
 * connected UDP through dial + read/write, a read deadline, truncation of
 * a datagram longer than the buffer, empty datagrams, a read of nothing
 * (which takes no datagram), and close waking a blocked recvfrom.
 */
#include <stdio.h>

#include "net_helpers.h"

#define MS RINGO_MILLISECOND

static ringo_chan *result;

/* Answer each datagram with itself, to its sender, until closed. */
static void udp_echo(void *arg)
{
	ringo_conn *c = arg;
	char buf[2048];
	struct ringo_addr from;
	ssize_t n;
	int r = 0;

	while ((n = ringo_conn_recvfrom(c, buf, sizeof(buf), &from)) >= 0)
		if (ringo_conn_sendto(c, buf, (size_t)n, &from) != n)
			r = 1;
	if (n != -ECANCELED && n != -EBADF)
		r = (int)n;
	ringo_chan_send(result, &r);
}

static int echo_with(const char *network, const char *srv_addr,
		     const char *cli_addr)
{
	ringo_conn *srv, *cli;
	struct ringo_addr sa, from, ca;
	char msg[128], buf[128];

	ASSERT_EQ(ringo_net_listen_packet(network, srv_addr, &srv), 0);
	ASSERT_EQ(ringo_conn_local_addr(srv, &sa), 0);
	ASSERT_EQ(ringo_net_listen_packet(network, cli_addr, &cli), 0);
	ASSERT_EQ(ringo_conn_local_addr(cli, &ca), 0);
	result = ringo_chan_make(sizeof(int), 1);
	ringo_go(udp_echo, srv);
	for (int i = 0; i < 50; i++) {
		int n = snprintf(msg, sizeof(msg), "datagram %d", i);
		ASSERT_EQ(ringo_conn_sendto(cli, msg, (size_t)n, &sa), n);
		ASSERT_EQ(ringo_conn_recvfrom(cli, buf, sizeof(buf), &from), n);
		ASSERT(memcmp(msg, buf, (size_t)n) == 0);
		ASSERT_EQ(from.len, sa.len);
		ASSERT(memcmp(&from.sa, &sa.sa, sa.len) == 0);
	}
	/* Close wakes the server blocked in recvfrom. */
	ASSERT_EQ(ringo_conn_close(srv), 0);
	int r;
	ASSERT(ringo_chan_recv(result, &r));
	ASSERT_EQ(r, 0);
	ASSERT_EQ(ringo_conn_close(cli), 0);
	ringo_chan_free(result);
	return 0;
}

static int test_udp4(void)
{
	return echo_with("udp", "127.0.0.1:0", "127.0.0.1:0");
}

static int test_udp6(void)
{
	return echo_with("udp6", "[::1]:0", "[::1]:0");
}

static int test_unixgram(void)
{
	char a[64], b[64];

	snprintf(a, sizeof(a), "@ringo-udp-srv-%d", getpid());
	snprintf(b, sizeof(b), "@ringo-udp-cli-%d", getpid());
	return echo_with("unixgram", a, b);
}

static int test_connected(void)
{
	ringo_conn *srv, *c;
	struct ringo_addr sa;
	char buf[4096], addr[RINGO_ADDR_STRLEN];

	ASSERT_EQ(ringo_net_listen_packet("udp4", "127.0.0.1:0", &srv), 0);
	ASSERT_EQ(ringo_conn_local_addr(srv, &sa), 0);
	ASSERT(ringo_addr_format(&sa, addr, sizeof(addr)) > 0);
	result = ringo_chan_make(sizeof(int), 1);
	ringo_go(udp_echo, srv);
	ASSERT_EQ(ringo_net_dial("udp", addr, &c), 0);
	ASSERT_EQ(ringo_conn_write(c, "ping", 4), 4);
	ASSERT_EQ(ringo_conn_read(c, buf, sizeof(buf)), 4);
	ASSERT(memcmp(buf, "ping", 4) == 0);
	/* A long datagram into a short buffer: truncated, rest dropped. */
	memset(buf, 'x', 1000);
	ASSERT_EQ(ringo_conn_write(c, buf, 1000), 1000);
	ASSERT_EQ(ringo_conn_read(c, buf, 10), 10);
	/* Nothing else is queued: a read deadline fires. */
	int64_t t0 = ringo_now();
	ASSERT_EQ(ringo_conn_set_read_deadline(c, t0 + 20 * MS), 0);
	EXPECT_ERR(ringo_conn_read(c, buf, sizeof(buf)), -ETIMEDOUT);
	ASSERT_GE(ringo_now() - t0, 20 * MS);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_conn_close(srv), 0);
	int r;
	ASSERT(ringo_chan_recv(result, &r));
	ASSERT_EQ(r, 0);
	ringo_chan_free(result);
	return 0;
}

/* The edges of a datagram: longer than the buffer (its first len bytes,
 * the rest dropped), empty (0, from its sender, and the next one is
 * still there), and a read of 0 bytes, which must not take one. */
static int test_edges(void)
{
	ringo_conn *a, *b;
	struct ringo_addr aa, ba, from;
	char big[1000], buf[64];

	memset(big, 'y', sizeof(big));
	ASSERT_EQ(ringo_net_listen_packet("udp4", "127.0.0.1:0", &a), 0);
	ASSERT_EQ(ringo_net_listen_packet("udp4", "127.0.0.1:0", &b), 0);
	ASSERT_EQ(ringo_conn_local_addr(a, &aa), 0);
	ASSERT_EQ(ringo_conn_local_addr(b, &ba), 0);

	ASSERT_EQ(ringo_conn_sendto(b, big, sizeof(big), &aa), sizeof(big));
	ASSERT_EQ(ringo_conn_sendto(b, "next", 4, &aa), 4);
	ASSERT_EQ(ringo_conn_recvfrom(a, buf, 10, &from), 10);
	ASSERT(memcmp(buf, big, 10) == 0);
	ASSERT_EQ(ringo_conn_recvfrom(a, buf, sizeof(buf), NULL), 4);
	ASSERT(memcmp(buf, "next", 4) == 0);

	ASSERT_EQ(ringo_conn_sendto(b, big, 0, &aa), 0);
	ASSERT_EQ(ringo_conn_sendto(b, "after", 5, &aa), 5);
	ASSERT_EQ(ringo_conn_recvfrom(a, buf, sizeof(buf), &from), 0);
	ASSERT_EQ(from.len, ba.len);
	ASSERT(memcmp(&from.sa, &ba.sa, ba.len) == 0);
	ASSERT_EQ(ringo_conn_read(a, buf, sizeof(buf)), 5);

	/* A read of nothing returns 0 at once and leaves the datagram. */
	ASSERT_EQ(ringo_conn_sendto(b, "kept", 4, &aa), 4);
	ASSERT_EQ(ringo_conn_read(a, buf, 0), 0);
	ASSERT_EQ(ringo_conn_read(a, buf, sizeof(buf)), 4);
	ASSERT(memcmp(buf, "kept", 4) == 0);
	/* Nothing queued: a read of nothing still does not wait. */
	ASSERT_EQ(ringo_conn_read(a, buf, 0), 0);

	/* A write of nothing on a connected socket is an empty datagram. */
	ringo_conn *c;
	char addr[RINGO_ADDR_STRLEN];
	ASSERT(ringo_addr_format(&aa, addr, sizeof(addr)) > 0);
	ASSERT_EQ(ringo_net_dial("udp4", addr, &c), 0);
	ASSERT_EQ(ringo_conn_write(c, big, 0), 0);
	ASSERT_EQ(ringo_conn_write(c, "end", 3), 3);
	ASSERT_EQ(ringo_conn_read(a, buf, sizeof(buf)), 0);
	ASSERT_EQ(ringo_conn_read(a, buf, sizeof(buf)), 3);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_conn_close(a), 0);
	ASSERT_EQ(ringo_conn_close(b), 0);
	return 0;
}

/* Many clients at once against one server socket. */
static ringo_chan *done;
static struct ringo_addr server_addr;

static void client(void *arg)
{
	ringo_conn *c;
	char msg[32], buf[32];
	int id = (int)(intptr_t)arg, bad = 0;

	if (ringo_net_listen_packet("udp4", "127.0.0.1:0", &c)) {
		done_signal(done, 1);
		return;
	}
	for (int i = 0; i < 20 && !bad; i++) {
		int n = snprintf(msg, sizeof(msg), "%d:%d", id, i);
		/* Loopback UDP can drop under load: resend on a timeout,
		 * and skip late answers to earlier sends. */
		int tries = 0;
		ssize_t got = -ETIMEDOUT;
		for (;;) {
			if (got == -ETIMEDOUT) {
				if (tries++ == 10)
					break;
				ringo_conn_set_read_deadline(c, ringo_now() +
							     500 * MS);
				ringo_conn_sendto(c, msg, (size_t)n,
						  &server_addr);
			}
			got = ringo_conn_recvfrom(c, buf, sizeof(buf), NULL);
			if (got == n && memcmp(msg, buf, (size_t)n) == 0)
				break;
			if (got < 0 && got != -ETIMEDOUT)
				break;
		}
		if (got != n) {
			fprintf(stderr, "client %d message %d try %d: got %zd "
				"(%s)\n", id, i, tries, got,
				got < 0 ? strerror((int)-got) : "data");
			bad = 1;
		}
	}
	ringo_conn_close(c);
	done_signal(done, bad);
}

static int test_many_clients(void)
{
	ringo_conn *srv;
	int n = TEST_SCALE(200, 100, 50), r;

	ASSERT_EQ(ringo_net_listen_packet("udp4", "127.0.0.1:0", &srv), 0);
	ASSERT_EQ(ringo_conn_local_addr(srv, &server_addr), 0);
	result = ringo_chan_make(sizeof(int), 1);
	done = ringo_chan_make(sizeof(int), (size_t)n);
	ringo_go(udp_echo, srv);
	for (int i = 0; i < n; i++)
		ringo_go(client, (void *)(intptr_t)i);
	ASSERT_EQ(done_wait(done, n), 0);
	ASSERT_EQ(ringo_conn_close(srv), 0);
	ASSERT(ringo_chan_recv(result, &r));
	ASSERT_EQ(r, 0);
	ringo_chan_free(result);
	ringo_chan_free(done);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_udp4);
	RUN(test_udp6);
	RUN(test_unixgram);
	RUN(test_connected);
	RUN(test_edges);
	RUN(test_many_clients);
	return 0;
}

int main(void)
{
	test_watchdog(90);
	return ringo_run(main_fn, NULL);
}
