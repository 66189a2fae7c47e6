/*
 * tests/chan_nil.c - a NULL channel is never ready: send and receive on
 * it block forever (the goroutine stays parked while the rest of the
 * program runs on), non-blocking forms fail at once, and a select never
 * chooses a NULL case, neither against a timeout nor against a ready
 * channel; a select with only NULL cases and a default takes the default.
 * Dumps show Go's wait reasons: "chan receive (nil chan)" and "chan send
 * (nil chan)" for receive and send, and for a one-case select, which Go
 * compiles to the plain operation; "select" for a select of two or more
 * NULL cases, as Go's selectgo parks; "select (no cases)" for select {}.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "test.h"

#define MS RINGO_MILLISECOND

static _Atomic int returned_nr;

static void recv_nil(void *arg)
{
	int v;

	(void)arg;
	ringo_chan_recv(NULL, &v);
	atomic_fetch_add(&returned_nr, 1);
}

static void send_nil(void *arg)
{
	int v = 1;

	(void)arg;
	ringo_chan_send(NULL, &v);
	atomic_fetch_add(&returned_nr, 1);
}

static void select_nil(void *arg)
{
	int v = 1, w;
	struct ringo_select_case cs[] = { RINGO_SEND(NULL, &v),
					  RINGO_RECV(NULL, &w) };

	(void)arg;
	RINGO_SELECT(cs);
	atomic_fetch_add(&returned_nr, 1);
}

static void select_one_nil(void *arg)
{
	int v = 1;
	struct ringo_select_case cs[] = { RINGO_SEND(NULL, &v) };

	(void)arg;
	RINGO_SELECT(cs);
	atomic_fetch_add(&returned_nr, 1);
}

static void select_empty(void *arg)
{
	(void)arg;
	ringo_select(NULL, 0, false); /* select {} */
	atomic_fetch_add(&returned_nr, 1);
}

/* How many of test_blocks_forever's goroutines are parked, under any
 * of the reasons they may show. */
static int nil_parked(void)
{
	return test_parked(NULL, "chan receive (nil chan)", NULL) +
	       test_parked(NULL, "chan send (nil chan)", NULL) +
	       test_parked(NULL, "select", NULL) +
	       test_parked(NULL, "select (no cases)", NULL);
}

static int test_blocks_forever(void)
{
	void (*fns[])(void *) = { recv_nil, send_nil, select_nil,
				  select_one_nil, select_empty };

	for (int i = 0; i < 50; i++)
		ringo_go(fns[i % 5], NULL);
	/* Until each is parked for good (or, if broken, has returned). */
	while (nil_parked() + atomic_load(&returned_nr) < 50)
		ringo_yield();
	ASSERT_EQ(atomic_load(&returned_nr), 0);
	/* The program goes on around them: channels, timers, yields. */
	ringo_chan *c = ringo_chan_make(sizeof(int), 0);
	for (int i = 0; i < 50; i++) {
		ringo_chan *a = ringo_after(MS / 5);
		int64_t t;
		ASSERT(ringo_chan_recv(a, &t));
		ringo_after_free(a);
		ringo_yield();
	}
	/* None was woken meanwhile, not even left runnable; each shows
	 * Go's reason (select_one_nil's is a send's). */
	ASSERT_EQ(test_parked(NULL, "chan receive (nil chan)", NULL), 10);
	ASSERT_EQ(test_parked(NULL, "chan send (nil chan)", NULL), 20);
	ASSERT_EQ(test_parked(NULL, "select", NULL), 10);
	ASSERT_EQ(test_parked(NULL, "select (no cases)", NULL), 10);
	ASSERT_EQ(atomic_load(&returned_nr), 0);
	ringo_chan_free(c);
	/* They are discarded when main returns, as in Go. */
	return 0;
}

static int test_try_on_nil(void)
{
	int v = 3;
	bool closed = true;

	ASSERT(!ringo_chan_trysend(NULL, &v));
	ASSERT(!ringo_chan_tryrecv(NULL, &v, &closed));
	ASSERT(!closed);
	ASSERT_EQ(v, 3);
	return 0;
}

static int test_select_never_picks_nil(void)
{
	int v = 1, w;
	int64_t t;

	/* Against a timeout: the timer wins, after its time. */
	for (int r = 0; r < 20; r++) {
		int64_t t0 = ringo_now();
		ringo_chan *a = ringo_after(MS);
		struct ringo_select_case cs[] = {
			RINGO_RECV(NULL, &w), RINGO_SEND(NULL, &v),
			RINGO_RECV(a, &t), RINGO_RECV(NULL, &w),
		};
		ASSERT_EQ(RINGO_SELECT(cs), 2);
		ASSERT(cs[2].ok);
		ASSERT_GE(ringo_now() - t0, MS);
		ringo_after_free(a);
	}
	/* Against always-ready channels: many rounds, never a NULL case. */
	ringo_chan *closed = ringo_chan_make(sizeof(int), 0);
	ringo_chan *buf = ringo_chan_make(sizeof(int), 1);
	ringo_chan_close(closed);
	for (int r = 0; r < 10000; r++) {
		struct ringo_select_case cs[] = {
			RINGO_SEND(NULL, &v), RINGO_RECV(closed, &w),
			RINGO_RECV(NULL, &w), RINGO_SEND(buf, &v),
		};
		int i = RINGO_SELECT_DEFAULT(cs);
		ASSERT(i == 1 || i == 3);
		if (i == 3)
			ASSERT(ringo_chan_recv(buf, NULL));
	}
	/* Only NULL cases and a default: the default. */
	struct ringo_select_case cs[] = { RINGO_SEND(NULL, &v),
					  RINGO_RECV(NULL, &w) };
	ASSERT_EQ(RINGO_SELECT_DEFAULT(cs), -1);
	ASSERT_EQ(ringo_select(NULL, 0, true), -1);
	ringo_chan_free(closed);
	ringo_chan_free(buf);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_try_on_nil);
	RUN(test_select_never_picks_nil);
	RUN(test_blocks_forever);
	return 0;
}

int main(void)
{
	test_watchdog(110);
	if (ringo_run(main_fn, NULL))
		return 1;
	struct ringo_config one = { .maxprocs = 1 };
	return ringo_run_config(&one, main_fn, NULL);
}
