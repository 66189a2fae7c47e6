/*
 * tests/select_basic.c - select: send and receive cases, ready at once or
 * after parking; default; the same channel in several cases (two
 * receives, a send and a receive, two selects pairing on one unbuffered
 * channel); closed channels (a receive case is ready with ok = false, a
 * send case panics, also when the close comes while parked); more cases
 * than fit on the stack; a one-case select that shows in dumps as the
 * channel operation, as Go's; a select {} that never returns and shows
 * as "select (no cases)".
 */
#include <stdatomic.h>
#include <stdint.h>

#include <ringo/ringo.h>

#include "test.h"

struct delayed {
	ringo_chan *c;
	int v;
	bool after_park; /* wait for main to wait in its select first */
};

/* Until main waits in a select, so that it is parked when we come. */
static void wait_main_selects(void)
{
	test_wait_parked(1, "main", "select", NULL);
}

static void send_later(void *arg)
{
	struct delayed d = *(struct delayed *)arg;

	if (d.after_park)
		wait_main_selects();
	ringo_chan_send(d.c, &d.v);
}

static void recv_later(void *arg)
{
	struct delayed *d = arg;
	int v;

	if (d->after_park)
		wait_main_selects();
	ringo_chan_recv(d->c, &v);
	d->v = v;
	ringo_chan_close(d->c); /* tells the test the value is in d->v */
}

static int test_ready_cases(void)
{
	ringo_chan *a = ringo_chan_make(sizeof(int), 1);
	ringo_chan *b = ringo_chan_make(sizeof(int), 1);
	int x = 5, y = -1;

	/* Only the receive on a is ready. */
	ringo_chan_send(a, &x);
	ringo_chan_send(b, &x); /* b full: a send on it is not ready */
	struct ringo_select_case cs[] = { RINGO_SEND(b, &x), RINGO_RECV(a, &y) };
	ASSERT_EQ(RINGO_SELECT(cs), 1);
	ASSERT(cs[1].ok);
	ASSERT_EQ(y, 5);
	/* Now only the send on a is ready (a empty, b full). */
	struct ringo_select_case cs2[] = { RINGO_SEND(b, &x), RINGO_SEND(a, &x) };
	x = 6;
	ASSERT_EQ(RINGO_SELECT(cs2), 1);
	ASSERT(ringo_chan_recv(a, &y));
	ASSERT_EQ(y, 6);
	/* Nothing ready: default. */
	struct ringo_select_case cs3[] = { RINGO_SEND(b, &x), RINGO_RECV(a, &y) };
	ASSERT_EQ(RINGO_SELECT_DEFAULT(cs3), -1);
	ASSERT_EQ(ringo_chan_len(b), 1);
	ringo_chan_free(a);
	ringo_chan_free(b);
	return 0;
}

static int test_parked_cases(void)
{
	ringo_chan *a = ringo_chan_make(sizeof(int), 0);
	ringo_chan *b = ringo_chan_make(sizeof(int), 0);
	int x = 0, y = 0;

	/* Woken by a sender on the second channel. */
	struct delayed d = { b, 77, true };
	ringo_go(send_later, &d);
	struct ringo_select_case cs[] = { RINGO_RECV(a, &x), RINGO_RECV(b, &y) };
	ASSERT_EQ(RINGO_SELECT(cs), 1);
	ASSERT(cs[1].ok);
	ASSERT_EQ(y, 77);
	ASSERT_EQ(x, 0);
	/* A send case completed by a receiver that arrives later. */
	struct delayed r = { a, 0, true };
	ringo_go(recv_later, &r);
	x = 88;
	struct ringo_select_case cs2[] = { RINGO_RECV(b, &y), RINGO_SEND(a, &x) };
	ASSERT_EQ(RINGO_SELECT(cs2), 1);
	ASSERT(!ringo_chan_recv(a, NULL)); /* wait for recv_later's close */
	ASSERT_EQ(r.v, 88);
	ringo_chan_free(a);
	ringo_chan_free(b);
	return 0;
}

/* ------------------------------------------------------- one case */

static void select_one(void *arg)
{
	struct delayed *d = arg;
	struct ringo_select_case cs[] = { RINGO_RECV(d->c, &d->v) };

	if (RINGO_SELECT(cs) != 0 || !cs[0].ok)
		d->v = -1;
	ringo_chan_close(d->c); /* tells the test the value is in d->v */
}

/* Go compiles a one-case select to the plain channel operation, so a
 * parked one shows as that operation, on its channel. */
static int test_one_case(void)
{
	struct delayed d = { ringo_chan_make(sizeof(int), 0), 0, false };
	int v = 42;

	struct ringo_go_opts o = { .name = "one" };
	ringo_go_opts(&o, select_one, &d);
	test_wait_parked(1, "one", NULL, NULL);
	ASSERT_EQ(test_parked("one", "chan receive", d.c), 1);
	ringo_chan_send(d.c, &v);
	ASSERT(!ringo_chan_recv(d.c, NULL)); /* wait for select_one's close */
	ASSERT_EQ(d.v, 42);
	ringo_chan_free(d.c);
	return 0;
}

/* --------------------------------------------- the same channel twice */

static int test_same_channel_twice(void)
{
	ringo_chan *c = ringo_chan_make(sizeof(int), 0);
	int x = -1, y = -1, hits[2] = { 0, 0 };

	/* Two receive cases on c, parked: one sender wakes exactly one. */
	for (int r = 0; r < 200; r++) {
		struct delayed d = { c, r, false };
		ringo_go(send_later, &d);
		x = y = -1;
		struct ringo_select_case cs[] = { RINGO_RECV(c, &x),
						  RINGO_RECV(c, &y) };
		int i = RINGO_SELECT(cs);
		ASSERT(i == 0 || i == 1);
		ASSERT_EQ(i == 0 ? x : y, r);
		ASSERT_EQ(i == 0 ? y : x, -1);
		hits[i]++;
		/* No stale receiver is left behind on c. */
		ASSERT(!ringo_chan_trysend(c, &r));
	}
	/* Which of the two parked cases wins is the queue's order, not
	 * chance (Go's too); when c is ready at once, the random poll
	 * order picks either (1000 rounds: all the same has p = 2^-999). */
	ringo_chan *c1 = ringo_chan_make(sizeof(int), 1);
	hits[0] = hits[1] = 0;
	for (int r = 0; r < 1000; r++) {
		ringo_chan_send(c1, &r);
		struct ringo_select_case cs[] = { RINGO_RECV(c1, &x),
						  RINGO_RECV(c1, &y) };
		int i = RINGO_SELECT(cs);
		ASSERT_EQ(i == 0 ? x : y, r);
		hits[i]++;
	}
	ASSERT(hits[0] > 0 && hits[1] > 0);
	ringo_chan_free(c1);

	/* A send and a receive case on one buffered channel: with room and
	 * a value both are ready; the value moves either way, never lost. */
	ringo_chan *b = ringo_chan_make(sizeof(int), 2);
	int one = 1, got = 0, sends = 0, recvs = 0;
	ringo_chan_send(b, &one);
	for (int r = 0; r < 1000; r++) {
		struct ringo_select_case cs[] = { RINGO_SEND(b, &one),
						  RINGO_RECV(b, &got) };
		int i = RINGO_SELECT(cs);
		if (i == 0) {
			sends++;
			ASSERT(ringo_chan_recv(b, &got));
		} else {
			recvs++;
			ASSERT_EQ(got, 1);
			ringo_chan_send(b, &one);
		}
		ASSERT_EQ(ringo_chan_len(b), 1);
	}
	ASSERT(sends > 0 && recvs > 0);
	ringo_chan_free(b);
	ringo_chan_free(c);
	return 0;
}

/* Two goroutines each select { send c; recv c } on one unbuffered
 * channel: they pair up, one sending and one receiving. A select never
 * pairs with itself. */
struct pairing {
	ringo_chan *c;
	ringo_chan *done; /* int: case index * 1000 + value received */
	int id;
};

static void pair_selector(void *arg)
{
	struct pairing *p = arg;
	int out = p->id, in = -1;
	struct ringo_select_case cs[] = { RINGO_SEND(p->c, &out),
					  RINGO_RECV(p->c, &in) };
	int i = RINGO_SELECT(cs);
	int res = i * 1000 + (i == 1 ? in : 0);

	ringo_chan_send(p->done, &res);
}

static int test_pairing_on_one_channel(void)
{
	for (int r = 0; r < TEST_SCALE(500, 200, 100); r++) {
		ringo_chan *c = ringo_chan_make(sizeof(int), 0);
		ringo_chan *done = ringo_chan_make(sizeof(int), 2);
		struct pairing p1 = { c, done, 1 }, p2 = { c, done, 2 };
		int a, b;
		ringo_go(pair_selector, &p1);
		ringo_go(pair_selector, &p2);
		ASSERT(ringo_chan_recv(done, &a));
		ASSERT(ringo_chan_recv(done, &b));
		/* One sent (0), the other received the sender's id. */
		if (a > b) {
			int t = a;
			a = b;
			b = t;
		}
		ASSERT_EQ(a, 0);
		ASSERT(b == 1001 || b == 1002);
		ringo_chan_free(c);
		ringo_chan_free(done);
	}
	/* Alone, a select { send c; recv c } cannot complete itself. */
	ringo_chan *c = ringo_chan_make(sizeof(int), 0);
	int v = 1, w;
	struct ringo_select_case cs[] = { RINGO_SEND(c, &v), RINGO_RECV(c, &w) };
	ASSERT_EQ(RINGO_SELECT_DEFAULT(cs), -1);
	ringo_chan_free(c);
	return 0;
}

/* ---------------------------------------------------- closed channels */

static void close_later(void *arg)
{
	wait_main_selects();
	ringo_chan_close(arg);
}

static int test_closed(void)
{
	ringo_chan *c = ringo_chan_make(sizeof(int), 0);
	ringo_chan *open = ringo_chan_make(sizeof(int), 0);
	int x = 123, y = 456;

	/* Closed while parked: the receive case wins with ok = false. */
	ringo_go(close_later, c);
	struct ringo_select_case cs[] = { RINGO_RECV(open, &y), RINGO_RECV(c, &x) };
	ASSERT_EQ(RINGO_SELECT(cs), 1);
	ASSERT(!cs[1].ok);
	ASSERT_EQ(x, 0);
	ASSERT_EQ(y, 456);
	/* Already closed: always ready, also with default. */
	for (int r = 0; r < 100; r++) {
		x = 9;
		struct ringo_select_case cs2[] = { RINGO_RECV(open, &y),
						   RINGO_RECV(c, &x) };
		ASSERT_EQ(RINGO_SELECT_DEFAULT(cs2), 1);
		ASSERT(!cs2[1].ok);
		ASSERT_EQ(x, 0);
	}
	/* A closed buffered channel still yields its values, ok = true. */
	ringo_chan *b = ringo_chan_make(sizeof(int), 2);
	x = 31;
	ringo_chan_send(b, &x);
	ringo_chan_close(b);
	struct ringo_select_case cs3[] = { RINGO_RECV(b, &y) };
	ASSERT_EQ(RINGO_SELECT(cs3), 0);
	ASSERT(cs3[0].ok);
	ASSERT_EQ(y, 31);
	ASSERT_EQ(RINGO_SELECT(cs3), 0);
	ASSERT(!cs3[0].ok);
	ringo_chan_free(b);
	ringo_chan_free(c);
	ringo_chan_free(open);
	return 0;
}

/* ------------------------------------------------------- many cases */

static int test_many_cases(void)
{
	enum { N = 40 };
	ringo_chan *cs_chans[N];
	struct ringo_select_case cs[N];
	int vals[N], seen[N] = { 0 };

	for (int i = 0; i < N; i++) {
		cs_chans[i] = ringo_chan_make(sizeof(int), 0);
		cs[i] = (struct ringo_select_case)RINGO_RECV(cs_chans[i], &vals[i]);
	}
	ASSERT_EQ(ringo_select(cs, N, true), -1);
	/* Parked on 40 channels (sudogs on the heap); each round one
	 * sender on a different channel wakes it. */
	for (int r = 0; r < 4 * N; r++) {
		int k = (r * 7) % N;
		struct delayed d = { cs_chans[k], r, false };
		ringo_go(send_later, &d);
		int i = ringo_select(cs, N, false);
		ASSERT_EQ(i, k);
		ASSERT_EQ(vals[k], r);
		seen[k]++;
	}
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(seen[i], 4);
		ASSERT(!ringo_chan_trysend(cs_chans[i], &i)); /* no stale waiter */
		ringo_chan_free(cs_chans[i]);
	}
	return 0;
}

/* ------------------------------------------------------- select {} */

static _Atomic int forever_returned;

static void select_forever(void *arg)
{
	(void)arg;
	ringo_select(NULL, 0, false);
	atomic_store(&forever_returned, 1);
}

static int test_select_nothing(void)
{
	ASSERT_EQ(ringo_select(NULL, 0, true), -1);
	struct ringo_go_opts o = { .name = "forever" };
	ringo_go_opts(&o, select_forever, NULL);
	/* Until it is parked for good (or, if broken, has returned). */
	while (!test_parked("forever", NULL, NULL) &&
	       !atomic_load(&forever_returned))
		ringo_yield();
	ASSERT_EQ(atomic_load(&forever_returned), 0);
	/* Under Go's name for it, not as a wait on a nil channel. */
	ASSERT_EQ(test_parked("forever", "select (no cases)", NULL), 1);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_ready_cases);
	RUN(test_parked_cases);
	RUN(test_one_case);
	RUN(test_same_channel_twice);
	RUN(test_pairing_on_one_channel);
	RUN(test_closed);
	RUN(test_many_cases);
	RUN(test_select_nothing);
	return 0;
}

/* ------------------------------------------------------ death tests */

static int send_case_closed_main(void *arg)
{
	(void)arg;
	ringo_chan *c = ringo_chan_make(sizeof(int), 1);
	int v = 1;
	ringo_chan_close(c);
	struct ringo_select_case cs[] = { RINGO_SEND(c, &v) };
	RINGO_SELECT_DEFAULT(cs);
	return 0;
}

static int send_case_closed_parked_main(void *arg)
{
	(void)arg;
	ringo_chan *c = ringo_chan_make(sizeof(int), 0);
	ringo_chan *d = ringo_chan_make(sizeof(int), 0);
	int v = 1, w;
	ringo_go(close_later, c);
	struct ringo_select_case cs[] = { RINGO_RECV(d, &w), RINGO_SEND(c, &v) };
	RINGO_SELECT(cs);
	return 0;
}

int main(void)
{
	test_watchdog(110);
	if (test_run_default_then_one_p(main_fn, NULL))
		return 1;
	if (test_death_run("select send on closed", send_case_closed_main, NULL,
			   "ringo_select: send on closed channel (case 0)") ||
	    test_death_run("select send, closed while parked",
			   send_case_closed_parked_main, NULL,
			   "ringo_select: send on closed channel (case 1)"))
		return 1;
	return 0;
}
