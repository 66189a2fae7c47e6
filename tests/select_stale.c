/*
 * tests/select_stale.c - a parked select wakes on the first case that
 * becomes ready, completes exactly that one, and leaves no waiter behind
 * on the other channels. There is no API to look at a wait queue, so the
 * test checks behaviour: after the select returned, a trysend (or
 * tryrecv) on each of its other unbuffered channels fails, because no
 * receiver (sender) is there to take it; a second ready channel keeps its
 * value; and ringo_chan_free, which panics on a channel with waiters,
 * succeeds. Also under contention: many selectors and many senders over
 * shared channels, every value delivered exactly once.
 */
#include <stdatomic.h>
#include <stdint.h>

#include <ringo/ringo.h>

#include "test.h"

#define MS RINGO_MILLISECOND
#define NCH 3

static ringo_chan *ch[NCH];
static ringo_chan *report; /* int: the case index the selector took */
static ringo_chan *next;   /* the test lets the selector start a round */

static void recv_selector(void *arg)
{
	int rounds = (int)(intptr_t)arg, v;

	for (int r = 0; r < rounds; r++) {
		struct ringo_select_case cs[NCH];
		for (int i = 0; i < NCH; i++)
			cs[i] = (struct ringo_select_case)RINGO_RECV(ch[i], &v);
		int i = ringo_select(cs, NCH, false);
		int res = i * 1000000 + v;
		ringo_chan_send(report, &res);
		ringo_chan_recv(next, NULL);
	}
}

static void send_selector(void *arg)
{
	int rounds = (int)(intptr_t)arg;

	for (int r = 0; r < rounds; r++) {
		struct ringo_select_case cs[NCH];
		for (int i = 0; i < NCH; i++)
			cs[i] = (struct ringo_select_case)RINGO_SEND(ch[i], &r);
		int i = ringo_select(cs, NCH, false);
		ringo_chan_send(report, &i);
		ringo_chan_recv(next, NULL);
	}
}

static int test_recv_no_stale_waiter(void)
{
	int rounds = TEST_SCALE(5000, 2000, 1000), res, v = 0;

	for (int i = 0; i < NCH; i++)
		ch[i] = ringo_chan_make(sizeof(int), 0);
	report = ringo_chan_make(sizeof(int), 0);
	next = ringo_chan_make(0, 0);
	ringo_go(recv_selector, (void *)(intptr_t)rounds);
	for (int r = 0; r < rounds; r++) {
		int k = (r * 5 + r / 7) % NCH;
		ringo_chan_send(ch[k], &r); /* blocks until the select takes it */
		ASSERT(ringo_chan_recv(report, &res));
		ASSERT_EQ(res, k * 1000000 + r);
		/* The selector is on its way to wait for `next`: none of
		 * its sudogs may still sit on ch[]. */
		for (int i = 0; i < NCH; i++)
			if (ringo_chan_trysend(ch[i], &v))
				TEST_FAIL("round %d: stale receiver on ch[%d] "
					  "(select took %d)", r, i, k);
		ringo_chan_send(next, NULL);
	}
	for (int i = 0; i < NCH; i++)
		ringo_chan_free(ch[i]); /* panics if anyone still waits */
	ringo_chan_free(report);
	ringo_chan_free(next);
	return 0;
}

static int test_send_no_stale_waiter(void)
{
	int rounds = TEST_SCALE(5000, 2000, 1000), i, v;

	for (int k = 0; k < NCH; k++)
		ch[k] = ringo_chan_make(sizeof(int), 0);
	report = ringo_chan_make(sizeof(int), 0);
	next = ringo_chan_make(0, 0);
	ringo_go(send_selector, (void *)(intptr_t)rounds);
	for (int r = 0; r < rounds; r++) {
		int k = (r * 3 + r / 5) % NCH;
		ASSERT(ringo_chan_recv(ch[k], &v));
		ASSERT_EQ(v, r);
		ASSERT(ringo_chan_recv(report, &i));
		ASSERT_EQ(i, k);
		for (int j = 0; j < NCH; j++)
			if (ringo_chan_tryrecv(ch[j], &v, NULL))
				TEST_FAIL("round %d: stale sender on ch[%d]", r, j);
		ringo_chan_send(next, NULL);
	}
	for (int k = 0; k < NCH; k++)
		ringo_chan_free(ch[k]);
	ringo_chan_free(report);
	ringo_chan_free(next);
	return 0;
}

/* Two channels become ready one after the other while the select is
 * parked: it takes the first; the second keeps its value. */
struct two {
	ringo_chan *first, *second;
};

static void ready_both(void *arg)
{
	struct two *t = arg;
	int a = 1, b = 2;

	ringo_chan_send(t->first, &a);  /* wakes the select */
	ringo_chan_send(t->second, &b); /* buffered: stays there */
}

static int test_first_ready_wins(void)
{
	for (int r = 0; r < TEST_SCALE(2000, 1000, 500); r++) {
		struct two t = { ringo_chan_make(sizeof(int), 0),
				 ringo_chan_make(sizeof(int), 1) };
		int x = 0, y = 0;
		ringo_go(ready_both, &t);
		struct ringo_select_case cs[] = { RINGO_RECV(t.second, &y),
						  RINGO_RECV(t.first, &x) };
		/* second can only fill after first's send completed, and
		 * only this select can complete it. */
		ASSERT_EQ(RINGO_SELECT(cs), 1);
		ASSERT_EQ(x, 1);
		ASSERT_EQ(y, 0);
		ASSERT(ringo_chan_recv(t.second, &y));
		ASSERT_EQ(y, 2);
		ASSERT_EQ(ringo_chan_len(t.second), 0);
		ringo_chan_free(t.first);
		ringo_chan_free(t.second);
	}
	return 0;
}

/* A select that times out (ringo_after) leaves nothing on its other
 * channels either. */
static int test_timeout_leaves_nothing(void)
{
	ringo_chan *c = ringo_chan_make(sizeof(int), 0);
	int v = 0;
	int64_t t;

	for (int r = 0; r < 50; r++) {
		ringo_chan *a = ringo_after(MS / 10);
		struct ringo_select_case cs[] = { RINGO_RECV(c, &v),
						  RINGO_SEND(c, &v),
						  RINGO_RECV(a, &t) };
		ASSERT_EQ(RINGO_SELECT(cs), 2);
		ASSERT(!ringo_chan_trysend(c, &v));
		ASSERT(!ringo_chan_tryrecv(c, &v, NULL));
		ringo_after_free(a);
	}
	ringo_chan_free(c);
	return 0;
}

/* Contention: S selectors over NCH shared unbuffered channels and NCH
 * senders (one per channel) each sending M values. Every value is
 * received once, and afterwards nothing is left on any channel. */
enum { SELECTORS = 8, PER_SENDER = 3000 };

static _Atomic uint8_t seen[NCH * PER_SENDER];
static _Atomic int received_nr, dups, exited;

static void contended_selector(void *arg)
{
	ringo_chan *stop = arg;
	int v;

	for (;;) {
		struct ringo_select_case cs[NCH + 1];
		for (int i = 0; i < NCH; i++)
			cs[i] = (struct ringo_select_case)RINGO_RECV(ch[i], &v);
		cs[NCH] = (struct ringo_select_case)RINGO_RECV(stop, NULL);
		int i = ringo_select(cs, NCH + 1, false);
		if (i == NCH)
			break;
		if (atomic_fetch_add(&seen[v], 1))
			atomic_fetch_add(&dups, 1);
		atomic_fetch_add(&received_nr, 1);
	}
	atomic_fetch_add(&exited, 1);
}

static void chan_sender(void *arg)
{
	int k = (int)(intptr_t)arg;

	for (int i = 0; i < PER_SENDER; i++) {
		int v = k * PER_SENDER + i;
		ringo_chan_send(ch[k], &v);
	}
}

static int test_contended(void)
{
	ringo_chan *stop = ringo_chan_make(0, 0);
	int total = NCH * PER_SENDER, v = 0;

	for (int k = 0; k < NCH; k++)
		ch[k] = ringo_chan_make(sizeof(int), 0);
	atomic_store(&received_nr, 0);
	atomic_store(&dups, 0);
	atomic_store(&exited, 0);
	for (int i = 0; i < total; i++)
		atomic_store(&seen[i], 0);
	for (int i = 0; i < SELECTORS; i++)
		ringo_go(contended_selector, stop);
	for (int k = 0; k < NCH; k++)
		ringo_go(chan_sender, (void *)(intptr_t)k);
	while (atomic_load(&received_nr) < total)
		ringo_sleep(MS);
	ASSERT_EQ(atomic_load(&received_nr), total);
	ringo_chan_close(stop);
	while (atomic_load(&exited) < SELECTORS)
		ringo_sleep(MS);
	ASSERT_EQ(atomic_load(&dups), 0);
	for (int i = 0; i < total; i++)
		ASSERT_EQ(atomic_load(&seen[i]), 1);
	for (int k = 0; k < NCH; k++) {
		ASSERT(!ringo_chan_trysend(ch[k], &v));
		ringo_chan_free(ch[k]);
	}
	ringo_chan_free(stop);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_recv_no_stale_waiter);
	RUN(test_send_no_stale_waiter);
	RUN(test_first_ready_wins);
	RUN(test_timeout_leaves_nothing);
	RUN(test_contended);
	return 0;
}

int main(void)
{
	test_watchdog(110);
	return test_run_default_then_one_p(main_fn, NULL);
}
