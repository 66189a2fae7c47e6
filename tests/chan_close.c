/*
 * tests/chan_close.c - close: every blocked receiver (plain or in a
 * select) wakes with ok = false and a zeroed value; a buffer drains
 * before receivers see the close; close racing with receivers and with
 * senders that are finishing loses and duplicates no value (counted,
 * over many rounds); and the misuses panic with a message naming the
 * call: send on closed (also a sender blocked when the close comes),
 * close of closed, close of NULL.
 */
#include <stdatomic.h>
#include <stdint.h>

#include <ringo/ringo.h>

#include "test.h"

#define MS RINGO_MILLISECOND

/* ------------------------------------------------- waking receivers */

static _Atomic int woke_closed, woke_bad;

struct rx {
	ringo_chan *c;
	ringo_chan *other; /* select: a second channel nobody uses */
};

static void blocked_receiver(void *arg)
{
	struct rx *r = arg;
	uint64_t v[4] = { ~0ull, ~0ull, ~0ull, ~0ull };
	bool ok = ringo_chan_recv(r->c, v);
	if (!ok && !v[0] && !v[1] && !v[2] && !v[3])
		atomic_fetch_add(&woke_closed, 1);
	else
		atomic_fetch_add(&woke_bad, 1);
}

static void blocked_selector(void *arg)
{
	struct rx *r = arg;
	uint64_t v[4] = { ~0ull, ~0ull, ~0ull, ~0ull }, w[4];
	struct ringo_select_case cs[] = { RINGO_RECV(r->other, w),
					  RINGO_RECV(r->c, v) };
	int i = RINGO_SELECT(cs);
	if (i == 1 && !cs[1].ok && !v[0] && !v[1] && !v[2] && !v[3])
		atomic_fetch_add(&woke_closed, 1);
	else
		atomic_fetch_add(&woke_bad, 1);
}

static int test_close_wakes_all_receivers(void)
{
	int n = TEST_SCALE(2000, 1000, 500);

	for (size_t cap = 0; cap <= 8; cap += 8) {
		struct rx r = { ringo_chan_make(4 * sizeof(uint64_t), cap),
				ringo_chan_make(4 * sizeof(uint64_t), 0) };
		atomic_store(&woke_closed, 0);
		atomic_store(&woke_bad, 0);
		for (int i = 0; i < n; i++)
			ringo_go(i % 2 ? blocked_selector : blocked_receiver, &r);
		/* All parked when the close comes, half of them in a select. */
		test_wait_parked(n / 2, NULL, "chan receive", r.c);
		test_wait_parked(n / 2, NULL, "select", NULL);
		ASSERT_EQ(atomic_load(&woke_closed) + atomic_load(&woke_bad), 0);
		ringo_chan_close(r.c);
		while (atomic_load(&woke_closed) + atomic_load(&woke_bad) < n)
			ringo_sleep(MS);
		ASSERT_EQ(atomic_load(&woke_bad), 0);
		/* Nothing is left waiting on either channel. */
		uint64_t w[4] = { 0 };
		ASSERT(!ringo_chan_trysend(r.other, w));
		ringo_chan_free(r.c);
		ringo_chan_free(r.other);
	}
	return 0;
}

static int test_buffer_drains_first(void)
{
	ringo_chan *c = ringo_chan_make(sizeof(int), 8);
	int v;
	bool closed;

	for (int i = 1; i <= 5; i++)
		ringo_chan_send(c, &i);
	ringo_chan_close(c);
	ASSERT_EQ(ringo_chan_len(c), 5);
	for (int i = 1; i <= 5; i++) {
		ASSERT(ringo_chan_recv(c, &v));
		ASSERT_EQ(v, i);
	}
	v = 99;
	ASSERT(!ringo_chan_recv(c, &v));
	ASSERT_EQ(v, 0);
	/* Closed and drained: tryrecv succeeds with closed = true, for ever. */
	for (int i = 0; i < 3; i++) {
		v = 99;
		ASSERT(ringo_chan_tryrecv(c, &v, &closed));
		ASSERT(closed);
		ASSERT_EQ(v, 0);
	}
	ASSERT_EQ(ringo_chan_len(c), 0);
	ASSERT_EQ(ringo_chan_cap(c), 8);
	ringo_chan_free(c);
	return 0;
}

/* ------------------------------------------------------------- races */

/* Round: S senders send their own values, R receivers (half of them in
 * a select) receive until closed, and the last sender to finish closes,
 * racing with receivers that are parking, being handed values and being
 * woken. Every value must be received exactly once, and every receiver
 * must end with ok = false. */
enum { SENDERS = 4, RECEIVERS = 6, PER_SENDER = 50 };

struct round {
	ringo_chan *c;
	_Atomic int senders_left;
	_Atomic int receivers_left;
	_Atomic uint8_t seen[SENDERS * PER_SENDER];
	_Atomic int dup;
};

struct tx {
	struct round *rd;
	int id;
};

static void race_sender(void *arg)
{
	struct tx *t = arg;
	struct round *rd = t->rd;

	for (int i = 0; i < PER_SENDER; i++) {
		int v = t->id * PER_SENDER + i;
		ringo_chan_send(rd->c, &v);
		if (i % 16 == t->id)
			ringo_yield();
	}
	if (atomic_fetch_sub(&rd->senders_left, 1) == 1)
		ringo_chan_close(rd->c);
}

static void race_receiver(void *arg)
{
	struct tx *t = arg;
	struct round *rd = t->rd;
	int v;

	for (;;) {
		bool ok;
		if (t->id % 2) {
			struct ringo_select_case cs[] = { RINGO_RECV(rd->c, &v) };
			RINGO_SELECT(cs);
			ok = cs[0].ok;
		} else {
			ok = ringo_chan_recv(rd->c, &v);
		}
		if (!ok)
			break;
		if (atomic_fetch_add(&rd->seen[v], 1))
			atomic_fetch_add(&rd->dup, 1);
	}
	atomic_fetch_sub(&rd->receivers_left, 1);
}

static int test_close_races(void)
{
	int rounds = TEST_SCALE(1000, 300, 100);

	for (int r = 0; r < rounds; r++) {
		struct round *rd = calloc(1, sizeof(*rd));
		struct tx tx[SENDERS], rx[RECEIVERS];
		rd->c = ringo_chan_make(sizeof(int), (size_t)(r % 3) * 2);
		atomic_store(&rd->senders_left, SENDERS);
		atomic_store(&rd->receivers_left, RECEIVERS);
		for (int i = 0; i < RECEIVERS; i++) {
			rx[i] = (struct tx){ rd, i };
			ringo_go(race_receiver, &rx[i]);
		}
		for (int i = 0; i < SENDERS; i++) {
			tx[i] = (struct tx){ rd, i };
			ringo_go(race_sender, &tx[i]);
		}
		while (atomic_load(&rd->receivers_left))
			ringo_yield();
		ASSERT_EQ(atomic_load(&rd->dup), 0);
		for (int v = 0; v < SENDERS * PER_SENDER; v++)
			if (atomic_load(&rd->seen[v]) != 1)
				TEST_FAIL("round %d: value %d received %d times",
					  r, v, (int)atomic_load(&rd->seen[v]));
		ringo_chan_free(rd->c);
		free(rd);
	}
	return 0;
}

/* Close from a goroutine on another P while receivers are parked and a
 * buffered value is still in flight: the value is received once and
 * every receiver wakes. */
static void closer(void *arg)
{
	ringo_chan_close(arg);
}

static int test_close_from_other_goroutine(void)
{
	for (int r = 0; r < TEST_SCALE(500, 200, 100); r++) {
		struct round *rd = calloc(1, sizeof(*rd));
		struct tx rx[RECEIVERS];
		rd->c = ringo_chan_make(sizeof(int), 1);
		atomic_store(&rd->receivers_left, RECEIVERS);
		for (int i = 0; i < RECEIVERS; i++) {
			rx[i] = (struct tx){ rd, i };
			ringo_go(race_receiver, &rx[i]);
		}
		int v = 7;
		ringo_chan_send(rd->c, &v);
		ringo_go(closer, rd->c);
		while (atomic_load(&rd->receivers_left))
			ringo_yield();
		ASSERT_EQ(atomic_load(&rd->seen[7]), 1);
		ASSERT_EQ(atomic_load(&rd->dup), 0);
		ringo_chan_free(rd->c);
		free(rd);
	}
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_close_wakes_all_receivers);
	RUN(test_buffer_drains_first);
	RUN(test_close_races);
	RUN(test_close_from_other_goroutine);
	return 0;
}

/* ------------------------------------------------------ death tests */

static int send_on_closed_main(void *arg)
{
	(void)arg;
	ringo_chan *c = ringo_chan_make(sizeof(int), 4);
	int v = 1;
	ringo_chan_close(c);
	ringo_chan_send(c, &v);
	return 0;
}

static int trysend_on_closed_main(void *arg)
{
	(void)arg;
	ringo_chan *c = ringo_chan_make(sizeof(int), 4);
	int v = 1;
	ringo_chan_close(c);
	ringo_chan_trysend(c, &v);
	return 0;
}

static int close_closed_main(void *arg)
{
	(void)arg;
	ringo_chan *c = ringo_chan_make(sizeof(int), 0);
	ringo_chan_close(c);
	ringo_chan_close(c);
	return 0;
}

static int close_nil_main(void *arg)
{
	(void)arg;
	ringo_chan_close(NULL);
	return 0;
}

static void blocked_sender(void *arg)
{
	int v = 1;

	ringo_chan_send(arg, &v);
}

/* Many senders blocked (unbuffered, or on a full buffer) when the close
 * comes: the first to run again panics. */
static int close_blocked_senders_main(void *arg)
{
	ringo_chan *c = ringo_chan_make(sizeof(int), (size_t)(intptr_t)arg);
	int v = 0;

	for (intptr_t i = 0; i < (intptr_t)arg; i++)
		ringo_chan_send(c, &v);
	for (int i = 0; i < 100; i++)
		ringo_go(blocked_sender, c);
	test_wait_parked(100, NULL, "chan send", c);
	ringo_chan_close(c);
	/* Until a sender's panic ends the process; if none comes, the
	 * deadlock report does, without the message the test wants. */
	ringo_chan_recv(NULL, NULL);
	return 0;
}

int main(void)
{
	test_watchdog(110);
	if (test_run_default_then_one_p(main_fn, NULL))
		return 1;
	if (test_death_run("send on closed", send_on_closed_main, NULL,
			   "ringo_chan_send: send on closed channel") ||
	    test_death_run("trysend on closed", trysend_on_closed_main, NULL,
			   "ringo_chan_trysend: send on closed channel") ||
	    test_death_run("close of closed", close_closed_main, NULL,
			   "ringo_chan_close: close of closed channel") ||
	    test_death_run("close of nil", close_nil_main, NULL,
			   "ringo_chan_close: close of nil channel") ||
	    test_death_run("blocked senders", close_blocked_senders_main,
			   (void *)(intptr_t)0,
			   "ringo_chan_send: send on closed channel") ||
	    test_death_run("blocked senders, full buffer",
			   close_blocked_senders_main, (void *)(intptr_t)3,
			   "ringo_chan_send: send on closed channel"))
		return 1;
	return 0;
}
