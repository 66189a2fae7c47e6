/*
 * tests/net_large.c - a large transfer (32 MB; less under sanitizers)
 * through an echo server with a small send buffer on the client, so
 * writes come back short and reads partial (a tiny receive buffer on
 * loopback, whose MSS is 64 KB, makes the kernel's sender stall: not
 * something to test): one goroutine writes pseudo-random chunks
 * with ringo_conn_write (counting short writes), another reads with
 * varying buffer sizes; both sides hash the stream and must agree. Also
 * over a Unix socket. Writers and readers that share a connection take
 * turns, each call whole: blocks sent by concurrent write_alls arrive
 * unmixed, and concurrent read_fulls each get whole blocks.
 */
#include <stdio.h>

#include "net_helpers.h"

static size_t total;
static ringo_chan *result; /* uint64_t hash, or 0 on error */
static _Atomic int short_writes;

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void writer(void *arg)
{
	ringo_conn *c = arg;
	unsigned char *buf = malloc(1 << 20);
	uint64_t h = 0xcbf29ce484222325ull, s = 0x1234567;
	size_t sent = 0;

	while (buf && sent < total) {
		size_t len = 1 + rnd(&s) % (1 << 20);
		if (len > total - sent)
			len = total - sent;
		for (size_t i = 0; i < len; i++)
			buf[i] = (unsigned char)(sent + i + (i >> 9));
		size_t off = 0;
		while (off < len) {
			ssize_t n = ringo_conn_write(c, buf + off, len - off);
			if (n <= 0)
				goto out;
			if ((size_t)n < len - off)
				atomic_fetch_add(&short_writes, 1);
			off += (size_t)n;
		}
		h = fnv(h, buf, len);
		sent += len;
	}
out:
	ringo_conn_shutdown(c, SHUT_WR);
	free(buf);
	uint64_t r = sent == total ? h : 0;
	ringo_chan_send(result, &r);
}

static void reader(void *arg)
{
	ringo_conn *c = arg;
	unsigned char *buf = malloc(1 << 18);
	uint64_t h = 0xcbf29ce484222325ull, s = 0x7654321;
	size_t got = 0;
	ssize_t n = 1;

	while (buf && n > 0) {
		size_t want = 1 + rnd(&s) % (1 << 18);
		n = ringo_conn_read(c, buf, want);
		if (n > 0) {
			h = fnv(h, buf, (size_t)n);
			got += (size_t)n;
		}
	}
	free(buf);
	uint64_t r = n == 0 && got == total ? h : 0;
	ringo_chan_send(result, &r);
}

static int transfer(const char *network, const char *address)
{
	struct echo_server s;
	ringo_conn *c;
	int small = 16 * 1024;

	total = (size_t)TEST_SCALE(32, 8, 4) << 20;
	atomic_store(&short_writes, 0);
	ASSERT_EQ(echo_start(&s, network, address), 0);
	ASSERT_EQ(ringo_net_dial(network, s.addr_str, &c), 0);
	ASSERT_EQ(setsockopt(ringo_conn_fd(c), SOL_SOCKET, SO_SNDBUF, &small,
			     sizeof(small)), 0);
	result = ringo_chan_make(sizeof(uint64_t), 2);
	ringo_go(writer, c);
	ringo_go(reader, c);
	uint64_t h1, h2;
	ASSERT(ringo_chan_recv(result, &h1));
	ASSERT(ringo_chan_recv(result, &h2));
	ASSERT_NE(h1, 0);
	ASSERT_EQ(h1, h2);
	ASSERT_GE(atomic_load(&short_writes), 1);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(echo_stop(&s), 0);
	ringo_chan_free(result);
	return 0;
}

static int test_tcp(void)
{
	return transfer("tcp", "127.0.0.1:0");
}

static int test_unix(void)
{
	char path[64];

	snprintf(path, sizeof(path), "@ringo-large-%d", getpid());
	return transfer("unix", path);
}

#define TURNS_N 4     /* writers, and readers */
#define TURNS_ROUNDS 2 /* blocks per writer and per reader */

static size_t block;
static ringo_chan *blocks; /* int: a block's byte, or -1 if mixed */

struct turn {
	ringo_conn *c;
	unsigned char id;
};

/* Send TURNS_ROUNDS blocks of its id; report only a failure. */
static void turn_writer(void *arg)
{
	struct turn *t = arg;
	unsigned char *buf = malloc(block);
	int bad = !buf;

	if (buf)
		memset(buf, t->id, block);
	for (int i = 0; i < TURNS_ROUNDS && !bad; i++)
		bad = ringo_conn_write_all(t->c, buf, block) != (ssize_t)block;
	free(buf);
	if (bad) {
		int r = -1;
		ringo_chan_send(blocks, &r);
	}
}

/* Read TURNS_ROUNDS blocks; report each one's byte, or -1 if mixed. */
static void turn_reader(void *arg)
{
	struct turn *t = arg;
	unsigned char *buf = malloc(block);

	for (int i = 0; i < TURNS_ROUNDS; i++) {
		int r = buf && ringo_conn_read_full(t->c, buf, block) ==
				       (ssize_t)block ? buf[0] : -1;
		for (size_t k = 1; r >= 0 && k < block; k++)
			if (buf[k] != buf[0])
				r = -1;
		ringo_chan_send(blocks, &r);
	}
	free(buf);
}

static int test_turns(void)
{
	ringo_listener *l;
	ringo_conn *c, *peer;
	struct turn w[TURNS_N], r[TURNS_N];
	int small = 16 * 1024, seen[TURNS_N + 1] = { 0 }, v;

	block = (size_t)TEST_SCALE(1 << 20, 256 << 10, 256 << 10);
	ASSERT_EQ(tcp_pair(&l, &c, &peer), 0);
	ASSERT_EQ(setsockopt(ringo_conn_fd(c), SOL_SOCKET, SO_SNDBUF, &small,
			     sizeof(small)), 0);
	blocks = ringo_chan_make(sizeof(int), TURNS_N * TURNS_ROUNDS);
	for (int i = 0; i < TURNS_N; i++) {
		w[i] = (struct turn){ c, (unsigned char)(i + 1) };
		r[i] = (struct turn){ peer, 0 };
		ringo_go(turn_writer, &w[i]);
		ringo_go(turn_reader, &r[i]);
	}
	for (int i = 0; i < TURNS_N * TURNS_ROUNDS; i++) {
		ASSERT(ringo_chan_recv(blocks, &v));
		ASSERT(v >= 1 && v <= TURNS_N);
		seen[v]++;
	}
	for (int i = 1; i <= TURNS_N; i++)
		ASSERT_EQ(seen[i], TURNS_ROUNDS);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_conn_close(peer), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ringo_chan_free(blocks);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_tcp);
	RUN(test_unix);
	RUN(test_turns);
	return 0;
}

int main(void)
{
	test_watchdog(120);
	return ringo_run(main_fn, NULL);
}
