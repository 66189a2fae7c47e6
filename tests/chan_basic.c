/*
 * tests/chan_basic.c - channel semantics without close: an unbuffered
 * send waits for its receiver; a buffered channel is FIFO, also across
 * its ring's wrap and with a sender parked on a full buffer; len and cap;
 * the non-blocking forms; elements of several sizes; many producers and
 * consumers lose and duplicate nothing.
 */
#include <stdatomic.h>
#include <stdint.h>

#include <ringo/ringo.h>

#include "test.h"

#define MS RINGO_MILLISECOND

/* ------------------------------------------------------------ handoff */

static _Atomic int sent_nr;

struct pair {
	ringo_chan *c;
	int n;
};

static void counting_sender(void *arg)
{
	struct pair p = *(struct pair *)arg; /* the caller's may go away */

	for (int i = 0; i < p.n; i++) {
		ringo_chan_send(p.c, &i);
		atomic_fetch_add(&sent_nr, 1);
	}
}

static int test_unbuffered_handoff(void)
{
	ringo_chan *c = ringo_chan_make(sizeof(int), 0);
	struct pair p = { c, 1000 };
	int v;

	ASSERT_EQ(ringo_chan_cap(c), 0);
	atomic_store(&sent_nr, 0);
	ringo_go(counting_sender, &p);
	/* Nobody receives: the sender must still be in its first send
	 * (the sleep is the time a send that wrongly completes has to show). */
	ringo_sleep(20 * MS);
	ASSERT_EQ(atomic_load(&sent_nr), 0);
	ASSERT_EQ(ringo_chan_len(c), 0);
	for (int i = 0; i < p.n; i++) {
		ASSERT(ringo_chan_recv(c, &v));
		ASSERT_EQ(v, i);
		/* The hand-off completed the send: at most the next one
		 * can have started. */
		ASSERT_LE(atomic_load(&sent_nr), i + 1);
	}
	while (atomic_load(&sent_nr) < p.n)
		ringo_yield();
	ringo_chan_free(c);
	return 0;
}

/* -------------------------------------------------------------- FIFO */

static int test_buffered_fifo(void)
{
	enum { CAP = 16 };
	ringo_chan *c = ringo_chan_make(sizeof(int), CAP);
	int v, next_in = 0, next_out = 0;

	ASSERT_EQ(ringo_chan_cap(c), CAP);
	for (int i = 0; i < CAP; i++) {
		ASSERT_EQ(ringo_chan_len(c), i);
		ASSERT(ringo_chan_trysend(c, &next_in));
		next_in++;
	}
	ASSERT_EQ(ringo_chan_len(c), CAP);
	ASSERT(!ringo_chan_trysend(c, &next_in)); /* full */
	/* Walk the ring around many times with uneven steps. */
	for (int round = 0; round < 1000; round++) {
		int out = 1 + round % 7, in = 1 + (round * 5) % 7;
		for (int k = 0; k < out && ringo_chan_len(c) > 0; k++) {
			ASSERT(ringo_chan_tryrecv(c, &v, NULL));
			ASSERT_EQ(v, next_out);
			next_out++;
		}
		for (int k = 0; k < in && ringo_chan_len(c) < CAP; k++) {
			ringo_chan_send(c, &next_in);
			next_in++;
		}
		ASSERT_EQ(ringo_chan_len(c), next_in - next_out);
	}
	while (ringo_chan_len(c)) {
		ASSERT(ringo_chan_recv(c, &v));
		ASSERT_EQ(v, next_out);
		next_out++;
	}
	ASSERT(!ringo_chan_tryrecv(c, &v, NULL));
	ringo_chan_free(c);
	return 0;
}

/* A sender parked on a full buffer: its value goes behind the buffered
 * ones, whichever way the receive finds it. */
static int test_fifo_with_parked_sender(void)
{
	ringo_chan *c = ringo_chan_make(sizeof(int), 4);
	struct pair p = { c, 12 };
	int v;

	atomic_store(&sent_nr, 0);
	ringo_go(counting_sender, &p);
	test_wait_parked(1, NULL, "chan send", c); /* on value 4 */
	ASSERT_EQ(atomic_load(&sent_nr), 4);
	ASSERT_EQ(ringo_chan_len(c), 4);
	for (int i = 0; i < p.n; i++) {
		ASSERT(ringo_chan_recv(c, &v));
		ASSERT_EQ(v, i);
	}
	ringo_chan_free(c);
	return 0;
}

/* ------------------------------------------------------ non-blocking */

static void one_receiver(void *arg)
{
	struct pair *p = arg;

	ringo_chan_recv(p->c, &p->n);
	atomic_fetch_add(&sent_nr, 1);
}

static int test_try(void)
{
	ringo_chan *c = ringo_chan_make(sizeof(int), 0);
	int v = 7;
	bool closed = true;

	/* Unbuffered, nobody waiting: neither side can proceed. */
	ASSERT(!ringo_chan_trysend(c, &v));
	ASSERT(!ringo_chan_tryrecv(c, &v, &closed));
	ASSERT(!closed);
	ASSERT(!ringo_chan_tryrecv(c, &v, NULL));
	/* With a parked receiver, trysend hands over. */
	struct pair p = { c, -1 };
	atomic_store(&sent_nr, 0);
	ringo_go(one_receiver, &p);
	v = 42;
	while (!ringo_chan_trysend(c, &v))
		ringo_yield();
	while (!atomic_load(&sent_nr))
		ringo_yield();
	ASSERT_EQ(p.n, 42);
	/* With a parked sender, tryrecv takes its value. */
	struct pair s = { c, 1 };
	atomic_store(&sent_nr, 0);
	ringo_go(counting_sender, &s);
	v = -1;
	while (!ringo_chan_tryrecv(c, &v, &closed))
		ringo_yield();
	ASSERT(!closed);
	ASSERT_EQ(v, 0);
	ringo_chan_free(c);

	/* NULL: never ready, never blocks, len and cap 0. */
	ASSERT(!ringo_chan_trysend(NULL, &v));
	ASSERT(!ringo_chan_tryrecv(NULL, &v, &closed));
	ASSERT_EQ(ringo_chan_len(NULL), 0);
	ASSERT_EQ(ringo_chan_cap(NULL), 0);
	return 0;
}

/* ------------------------------------------------- element sizes */

struct big {
	uint64_t w[9];
};

static void big_sender(void *arg)
{
	ringo_chan *c = arg;

	for (uint64_t i = 0; i < 100; i++) {
		struct big b;
		for (int k = 0; k < 9; k++)
			b.w[k] = i * 9 + (uint64_t)k;
		ringo_chan_send(c, &b);
	}
}

static int test_elem_sizes(void)
{
	for (size_t cap = 0; cap <= 3; cap += 3) {
		ringo_chan *c = ringo_chan_make(sizeof(struct big), cap);
		ringo_go(big_sender, c);
		for (uint64_t i = 0; i < 100; i++) {
			struct big b;
			ASSERT(ringo_chan_recv(c, &b));
			for (int k = 0; k < 9; k++)
				ASSERT_EQ(b.w[k], i * 9 + (uint64_t)k);
		}
		ringo_chan_free(c);
	}
	/* Signal channels: elem_size 0, NULL pointers, len counts. */
	ringo_chan *s = ringo_chan_make(0, 3);
	ASSERT(ringo_chan_trysend(s, NULL));
	ASSERT(ringo_chan_trysend(s, NULL));
	ASSERT_EQ(ringo_chan_len(s), 2);
	ASSERT(ringo_chan_recv(s, NULL));
	ASSERT_EQ(ringo_chan_len(s), 1);
	ringo_chan_free(s);
	/* A receive into NULL drops the value. */
	ringo_chan *d = ringo_chan_make(sizeof(int), 1);
	int v = 5;
	ringo_chan_send(d, &v);
	ASSERT(ringo_chan_recv(d, NULL));
	ASSERT_EQ(ringo_chan_len(d), 0);
	ringo_chan_free(d);
	return 0;
}

/* --------------------------------------------------------- many-many */

enum { PRODUCERS = 8, CONSUMERS = 8 };

static int per_producer;
static _Atomic uint8_t *seen;
static _Atomic int producers_left, consumers_left;

static void producer(void *arg)
{
	struct pair *p = arg;

	for (int i = 0; i < per_producer; i++) {
		int v = p->n * per_producer + i;
		ringo_chan_send(p->c, &v);
	}
	/* The last producer closes: receivers then drain and stop. */
	if (atomic_fetch_sub(&producers_left, 1) == 1)
		ringo_chan_close(p->c);
}

static void consumer(void *arg)
{
	ringo_chan *c = arg;
	int v;

	while (ringo_chan_recv(c, &v))
		atomic_fetch_add(&seen[v], 1);
	atomic_fetch_sub(&consumers_left, 1);
}

static int test_many_to_many(void)
{
	for (size_t cap = 0; cap <= 64; cap += 64) {
		ringo_chan *c = ringo_chan_make(sizeof(int), cap);
		struct pair ps[PRODUCERS];
		per_producer = TEST_SCALE(20000, 5000, 1000);
		int total = PRODUCERS * per_producer;
		seen = calloc((size_t)total, sizeof(*seen));
		atomic_store(&producers_left, PRODUCERS);
		atomic_store(&consumers_left, CONSUMERS);
		for (int i = 0; i < CONSUMERS; i++)
			ringo_go(consumer, c);
		for (int i = 0; i < PRODUCERS; i++) {
			ps[i] = (struct pair){ c, i };
			ringo_go(producer, &ps[i]);
		}
		while (atomic_load(&consumers_left))
			ringo_sleep(MS);
		for (int v = 0; v < total; v++)
			if (atomic_load(&seen[v]) != 1)
				TEST_FAIL("cap %zu: value %d seen %d times", cap,
					  v, (int)atomic_load(&seen[v]));
		free((void *)seen);
		ringo_chan_free(c);
	}
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_unbuffered_handoff);
	RUN(test_buffered_fifo);
	RUN(test_fifo_with_parked_sender);
	RUN(test_try);
	RUN(test_elem_sizes);
	RUN(test_many_to_many);
	return 0;
}

/* A channel with goroutines still blocked on it when ringo_run returns
 * can be freed afterwards: they were discarded. */
static ringo_chan *left;

static void blocked_on_left(void *arg)
{
	int v = 1;

	(void)arg;
	ringo_chan_send(left, &v);
}

static int leave_blocked(void *arg)
{
	(void)arg;
	left = ringo_chan_make(sizeof(int), 0);
	ringo_go(blocked_on_left, NULL);
	ringo_go(blocked_on_left, NULL);
	test_wait_parked(2, NULL, "chan send", left);
	return 0;
}

/* Two goroutines that pass a value back and forth hand each other the
 * time slice (runnext). With preemption off, as under TSan and valgrind,
 * nothing but the scheduler can end that slice: once sysmon finds it
 * over 10 ms the next hand-off starts a new one, and a sleeper on the
 * same P runs. Without that this test hangs until the watchdog. */
static ringo_chan *ping, *pong;
static _Atomic int pair_stop;

static void pinger(void *arg)
{
	int v = 0;

	(void)arg;
	while (!atomic_load(&pair_stop)) {
		ringo_chan_send(ping, &v);
		ringo_chan_recv(pong, &v);
	}
}

static void ponger(void *arg)
{
	int v;

	(void)arg;
	while (!atomic_load(&pair_stop)) {
		ringo_chan_recv(ping, &v);
		ringo_chan_send(pong, &v);
	}
}

static int pair_main(void *arg)
{
	(void)arg;
	ping = ringo_chan_make(sizeof(int), 0);
	pong = ringo_chan_make(sizeof(int), 0);
	ringo_go(pinger, NULL);
	ringo_go(ponger, NULL);
	ringo_sleep(RINGO_MILLISECOND);
	atomic_store(&pair_stop, 1);
	return 0;
}

int main(void)
{
	struct ringo_config one_p_no_preempt = { .maxprocs = 1, .preempt = -1 };

	test_watchdog(110);
	if (test_run_default_then_one_p(main_fn, NULL) ||
	    ringo_run(leave_blocked, NULL) ||
	    ringo_run_config(&one_p_no_preempt, pair_main, NULL))
		return 1;
	ringo_chan_free(left);
	return 0;
}
