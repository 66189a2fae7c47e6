/*
 * tests/net_helpers.h - what the net_* tests share: an echo server that
 * runs a goroutine per connection, and a done-counter on a channel.
 */
#ifndef RINGO_TESTS_NET_HELPERS_H
#define RINGO_TESTS_NET_HELPERS_H

#include <stdatomic.h>
#include <stdint.h>

#include <ringo/ringo.h>
#include <ringo/net.h>

#include "test.h"

/* Echo one connection until end of stream, then close it. */
static void echo_conn(void *arg)
{
	ringo_conn *c = arg;
	char buf[16384];
	ssize_t n;

	while ((n = ringo_conn_read(c, buf, sizeof(buf))) > 0)
		if (ringo_conn_write_all(c, buf, (size_t)n) != n)
			break;
	ringo_conn_close(c);
}

struct echo_server {
	ringo_listener *l;
	struct ringo_addr addr;
	char addr_str[RINGO_ADDR_STRLEN];
	ringo_chan *done;   /* int: the accept loop's final error */
	_Atomic int accepted;
};

static void echo_accept_loop(void *arg)
{
	struct echo_server *s = arg;
	ringo_conn *c;
	int err;

	while ((err = ringo_net_accept(s->l, &c)) == 0) {
		atomic_fetch_add(&s->accepted, 1);
		ringo_go(echo_conn, c);
	}
	ringo_chan_send(s->done, &err);
}

/* Listen on network/address and serve echo; 0 or -errno. */
static inline int echo_start(struct echo_server *s, const char *network,
			     const char *address)
{
	memset(s, 0, sizeof(*s));
	int err = ringo_net_listen(network, address, &s->l);
	if (err)
		return err;
	if ((err = ringo_listener_addr(s->l, &s->addr)) < 0)
		return err;
	if ((err = ringo_addr_format(&s->addr, s->addr_str,
				     sizeof(s->addr_str))) < 0)
		return err;
	s->done = ringo_chan_make(sizeof(int), 1);
	ringo_go(echo_accept_loop, s);
	return 0;
}

/* Close the listener; the accept loop must end with -ECANCELED (closed
 * while it waited) or -EBADF (closed before it called accept again). */
static inline int echo_stop(struct echo_server *s)
{
	int err;
	ASSERT_EQ(ringo_listener_close(s->l), 0);
	ASSERT(ringo_chan_recv(s->done, &err));
	if (err != -EBADF)
		EXPECT_ERR(err, -ECANCELED);
	ringo_chan_free(s->done);
	return 0;
}

/* A counter goroutines bump when done, and a wait for n of them. */
static inline void done_signal(ringo_chan *c, int result)
{
	ringo_chan_send(c, &result);
}

/* Wait for n results; returns the number that were non-zero. */
static inline int done_wait(ringo_chan *c, int n)
{
	int bad = 0, r;
	for (int i = 0; i < n; i++) {
		ringo_chan_recv(c, &r);
		if (r)
			bad++;
	}
	return bad;
}

/* A TCP listener on loopback and one connection to it, accepted: *c is
 * the dialing end, *peer the accepted one. 0, or 1 after a failed step
 * (named on stderr, as ASSERT does). */
static inline int tcp_pair(ringo_listener **l, ringo_conn **c,
			   ringo_conn **peer)
{
	struct ringo_addr a;

	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", l), 0);
	ASSERT_EQ(ringo_listener_addr(*l, &a), 0);
	ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, 0, c), 0);
	ASSERT_EQ(ringo_net_accept(*l, peer), 0);
	return 0;
}

/* Raise RLIMIT_NOFILE's soft limit to the hard one; returns the new soft
 * limit. */
#include <sys/resource.h>
static inline long nofile_raise(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur == RLIM_INFINITY ? 1L << 30 : (long)rl.rlim_cur;
}

#endif
