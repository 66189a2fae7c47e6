/*
 * tests/timer.c - sleeping, timers, tickers and after-channels: values
 * arrive no earlier than asked (tolerances on the late side are generous:
 * tests check behaviour, the benchmarks check speed), stop and reset
 * leave no stale value behind, even when they race with the firing, and
 * return true for a timer whose value was not received, even while it
 * is being sent; their channels report len and cap 0 (Go 1.23), also
 * while a firing waits in them.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "core/chan_internal.h"
#include "test.h"

#define MS RINGO_MILLISECOND

/* Firings a timer channel holds for its receiver, read from inside
 * (core/chan_internal.h): ringo_chan_len reports 0 for timer channels,
 * so only this tells a firing that arrived from one still to come. The
 * lock is the runtime's, held with preemption off (tests/waitq.h says
 * why). */
static size_t held(ringo_chan *c)
{
	ringo_preempt_disable();
	ringo__lock(&c->lock);
	size_t n = c->qcount;
	ringo__unlock(&c->lock);
	ringo_preempt_enable();
	return n;
}

static int test_sleep(void)
{
	int64_t t0 = ringo_now();
	ringo_sleep(20 * MS);
	int64_t d = ringo_now() - t0;
	ASSERT_GE(d, 20 * MS);
	ASSERT_LE(d, 2000 * MS);
	ringo_sleep(0);
	ringo_sleep(-5);
	return 0;
}

static _Atomic int woke;

static void sleeper(void *arg)
{
	ringo_sleep((int64_t)(intptr_t)arg);
	atomic_fetch_add(&woke, 1);
}

static int test_many_sleepers(void)
{
	int n = TEST_SCALE(20000, 5000, 2000);
	atomic_store(&woke, 0);
	for (int i = 0; i < n; i++)
		ringo_go(sleeper, (void *)(intptr_t)((i % 50) * MS));
	while (atomic_load(&woke) < n)
		ringo_sleep(MS);
	return 0;
}

static int test_timer_fires_once(void)
{
	int64_t v, t0 = ringo_now(); /* before: the timer counts from its creation */
	ringo_timer *t = ringo_timer_new(10 * MS);
	ASSERT(ringo_chan_recv(ringo_timer_chan(t), &v));
	ASSERT_GE(v - t0, 10 * MS);
	ASSERT(!ringo_timer_stop(t)); /* already fired */
	ASSERT(!ringo_chan_tryrecv(ringo_timer_chan(t), &v, NULL));
	ringo_timer_free(t);
	return 0;
}

static int test_stop_and_reset(void)
{
	ringo_timer *t = ringo_timer_new(1000 * MS);
	ASSERT(ringo_timer_stop(t));
	ASSERT(!ringo_timer_stop(t));
	ASSERT(!ringo_timer_reset(t, 5 * MS));
	int64_t v;
	ASSERT(ringo_chan_recv(ringo_timer_chan(t), &v));
	/* A timer that fired and was not received: reset drains it. */
	ringo_timer_reset(t, 1 * MS);
	while (!held(ringo_timer_chan(t)))
		ringo_yield();
	ASSERT_EQ(held(ringo_timer_chan(t)), 1);
	/* Go 1.23: a value nobody received is taken back and counts as
	 * pending, for reset and for stop. */
	ASSERT(ringo_timer_reset(t, 1000 * MS));
	ASSERT_EQ(held(ringo_timer_chan(t)), 0);
	ringo_timer_reset(t, 1 * MS);
	while (!held(ringo_timer_chan(t)))
		ringo_yield();
	ASSERT(ringo_timer_stop(t));
	ASSERT_EQ(held(ringo_timer_chan(t)), 0);
	ringo_timer_free(t);
	return 0;
}

static _Atomic int long_sleep_over;

static void long_sleeper(void *arg)
{
	(void)arg;
	ringo_sleep(INT64_MAX);
	atomic_store(&long_sleep_over, 1);
}

/* Durations that overflow now + ns mean "never", not the past. */
static int test_huge_durations(void)
{
	int64_t v;
	ringo_ctx *ctx = ringo_ctx_with_timeout(NULL, INT64_MAX);

	ringo_go(long_sleeper, NULL);
	ringo_timer *t = ringo_timer_new(INT64_MAX);
	ringo_chan *after = ringo_after(INT64_MAX - 1000);
	ringo_yield();
	ringo_sleep(2 * MS);
	ASSERT(!ringo_chan_tryrecv(ringo_timer_chan(t), &v, NULL));
	ASSERT(!ringo_chan_tryrecv(after, &v, NULL));
	ASSERT(ringo_timer_reset(t, INT64_MAX));
	ringo_sleep(2 * MS);
	ASSERT(!ringo_chan_tryrecv(ringo_timer_chan(t), &v, NULL));
	ASSERT(ringo_timer_stop(t));
	ASSERT_EQ(atomic_load(&long_sleep_over), 0);
	ASSERT_EQ(ringo_ctx_err(ctx), 0);
	ringo_ctx_free(ctx);
	ringo_timer_free(t);
	ringo_after_free(after);
	return 0;
}

static int test_ticker(void)
{
	ringo_timer *tk = ringo_ticker_new(2 * MS);
	int64_t prev = 0, v;
	for (int i = 0; i < 10; i++) {
		ASSERT(ringo_chan_recv(ringo_timer_chan(tk), &v));
		ASSERT(v > prev);
		prev = v;
	}
	/* A slow receiver sees dropped ticks, never a backlog. */
	ringo_sleep(30 * MS); /* 15 periods: the slowness is the test */
	ASSERT_LE(held(ringo_timer_chan(tk)), 1);
	ASSERT(ringo_timer_stop(tk));
	ASSERT_EQ(held(ringo_timer_chan(tk)), 0);
	ringo_timer_free(tk);
	return 0;
}

static int test_after_in_select(void)
{
	ringo_chan *never = ringo_chan_make(sizeof(int), 0);
	ringo_chan *a = ringo_after(5 * MS);
	int64_t v;
	int x;
	struct ringo_select_case cs[] = { RINGO_RECV(never, &x),
					  RINGO_RECV(a, &v) };
	ASSERT_EQ(RINGO_SELECT(cs), 1);
	ringo_after_free(a);
	ringo_chan_free(never);
	return 0;
}

/* Go 1.23's timer channels are synchronous: len and cap are 0 for the
 * channels of timers, tickers and ringo_after, before they fire and
 * while a firing waits to be received. */
static int test_len_cap(void)
{
	ringo_timer *t = ringo_timer_new(0);
	ringo_timer *tk = ringo_ticker_new(MS);
	ringo_chan *cs[] = { ringo_timer_chan(t), ringo_timer_chan(tk),
			     ringo_after(0) };
	int64_t v;

	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(ringo_chan_len(cs[i]), 0);
		ASSERT_EQ(ringo_chan_cap(cs[i]), 0);
		while (!held(cs[i]))
			ringo_yield();
		ASSERT_EQ(ringo_chan_len(cs[i]), 0);
		ASSERT_EQ(ringo_chan_cap(cs[i]), 0);
		ASSERT(ringo_chan_tryrecv(cs[i], &v, NULL));
	}
	ringo_timer_free(t);
	ringo_timer_free(tk);
	ringo_after_free(cs[2]);
	return 0;
}

/* Many goroutines stop and reset short timers while they fire: after
 * each stop or reset, the channel must be empty. */
static _Atomic int race_failures, racers_done;

static void racer(void *arg)
{
	(void)arg;
	ringo_timer *t = ringo_timer_new(0);
	for (int i = 0; i < TEST_SCALE(2000, 1000, 200); i++) {
		if (i % 2)
			ringo_timer_stop(t);
		else
			ringo_timer_reset(t, 1000 * MS);
		if (held(ringo_timer_chan(t)) != 0)
			atomic_fetch_add(&race_failures, 1);
		ringo_timer_reset(t, i % 3 ? 0 : 1000);
		ringo_yield();
	}
	ringo_timer_free(t);
	atomic_fetch_add(&racers_done, 1);
}

static int test_stop_reset_race(void)
{
	for (int i = 0; i < 16; i++)
		ringo_go(racer, NULL);
	while (atomic_load(&racers_done) < 16)
		ringo_sleep(MS);
	ASSERT_EQ(atomic_load(&race_failures), 0);
	return 0;
}

/* Go 1.23: stop and reset of a timer whose value nobody has received
 * return true (Stop "is guaranteed to return true"), also while the
 * firing is on its way to the channel on another M - that send is then
 * cancelled - so the old `if (!stop) receive` cannot block. Timers of
 * 0 ns fire at once: stops land before, during and after each firing. */
static _Atomic int unpending_nr, stoppers_done;

static void stopper(void *arg)
{
	int rounds = (int)(intptr_t)arg;

	for (int i = 0; i < rounds; i++) {
		ringo_timer *t = ringo_timer_new(0);
		for (volatile int k = 0; k < i % 2000; k++)
			;
		bool pending = i % 2 ? ringo_timer_stop(t)
				     : ringo_timer_reset(t, 1000 * MS);
		if (!pending)
			atomic_fetch_add(&unpending_nr, 1);
		ringo_timer_free(t);
	}
	atomic_fetch_add(&stoppers_done, 1);
}

static int test_stop_while_firing(void)
{
	intptr_t rounds = TEST_SCALE(100000, 20000, 5000);

	for (int i = 0; i < 2; i++)
		ringo_go(stopper, (void *)rounds);
	while (atomic_load(&stoppers_done) < 2)
		ringo_sleep(MS);
	ASSERT_EQ(atomic_load(&unpending_nr), 0);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_sleep);
	RUN(test_many_sleepers);
	RUN(test_timer_fires_once);
	RUN(test_stop_and_reset);
	RUN(test_ticker);
	RUN(test_after_in_select);
	RUN(test_len_cap);
	RUN(test_stop_reset_race);
	RUN(test_stop_while_firing);
	RUN(test_huge_durations); /* last: leaves a goroutine asleep */
	return 0;
}

/* Timers still pending when ringo_run returns outlive their heaps: the
 * program can stop, free or rearm them afterwards. */
static ringo_timer *kept;
static ringo_chan *kept_after;
static ringo_ctx *kept_ctx;

static int keep_pending(void *arg)
{
	(void)arg;
	kept = ringo_timer_new(10 * RINGO_SECOND);
	kept_after = ringo_after(10 * RINGO_SECOND);
	kept_ctx = ringo_ctx_with_timeout(NULL, 10 * RINGO_SECOND);
	return !kept || !kept_after || !kept_ctx;
}

static int rearm_kept(void *arg)
{
	int64_t v;

	(void)arg;
	ASSERT(!ringo_timer_reset(kept, MS)); /* stopped after the last run */
	ASSERT(ringo_chan_recv(ringo_timer_chan(kept), &v));
	ringo_timer_free(kept);
	return 0;
}

/* Pending at the end of one run, they fire in the next; and a context
 * whose done channel a discarded goroutine waited on can be freed. */
static ringo_timer *next_run_timer;
static ringo_ctx *next_run_ctx, *waited_ctx;

static void wait_done(void *arg)
{
	ringo_chan_recv(ringo_ctx_done(arg), NULL);
}

static int leave_for_next_run(void *arg)
{
	(void)arg;
	next_run_timer = ringo_timer_new(5 * MS);
	next_run_ctx = ringo_ctx_with_timeout(NULL, 5 * MS);
	waited_ctx = ringo_ctx_with_cancel(NULL);
	ringo_go(wait_done, waited_ctx);
	test_wait_parked(1, NULL, "chan receive", ringo_ctx_done(waited_ctx));
	return 0;
}

static int fire_in_next_run(void *arg)
{
	int64_t v;

	(void)arg;
	ASSERT(ringo_chan_recv(ringo_timer_chan(next_run_timer), &v));
	ringo_chan_recv(ringo_ctx_done(next_run_ctx), NULL);
	ASSERT_EQ(ringo_ctx_err(next_run_ctx), RINGO_DEADLINE_EXCEEDED);
	ringo_timer_free(next_run_timer);
	ringo_ctx_free(next_run_ctx);
	return 0;
}

static int test_outlive_run(void)
{
	ASSERT_EQ(ringo_run(leave_for_next_run, NULL), 0);
	ringo_ctx_free(waited_ctx);
	ASSERT_EQ(ringo_run(fire_in_next_run, NULL), 0);
	ASSERT_EQ(ringo_run(keep_pending, NULL), 0);
	ASSERT(ringo_timer_stop(kept));
	ASSERT(!ringo_timer_stop(kept));
	ringo_after_free(kept_after);
	ASSERT_EQ(ringo_ctx_err(kept_ctx), 0);
	ringo_ctx_free(kept_ctx); /* drops its timer's reference too */
	ASSERT_EQ(ringo_run(rearm_kept, NULL), 0);
	return 0;
}

/* Channels that belong to a timer or a context are theirs to send on,
 * close and free: the program may only receive. */
static int close_timer_chan(void *arg)
{
	(void)arg;
	ringo_chan_close(ringo_timer_chan(ringo_timer_new(RINGO_SECOND)));
	return 0;
}

static int free_after_chan(void *arg)
{
	(void)arg;
	ringo_chan_free(ringo_after(5 * MS));
	return 0;
}

static int send_on_done(void *arg)
{
	ringo_ctx *ctx = ringo_ctx_with_cancel(NULL);

	(void)arg;
	ringo_chan_trysend(ringo_ctx_done(ctx), NULL);
	return 0;
}

static int after_free_of_done(void *arg)
{
	(void)arg;
	ringo_after_free(ringo_ctx_done(ringo_ctx_with_cancel(NULL)));
	return 0;
}

static int select_send_on_ticker(void *arg)
{
	int64_t v = 0;
	ringo_timer *tk = ringo_ticker_new(RINGO_SECOND);
	struct ringo_select_case cs[] = { RINGO_SEND(ringo_timer_chan(tk), &v) };

	(void)arg;
	RINGO_SELECT_DEFAULT(cs);
	return 0;
}

int main(void)
{
	test_watchdog(120);
	if (ringo_run(main_fn, NULL) || test_outlive_run())
		return 1;
	return test_death_run("close a timer's channel", close_timer_chan, NULL,
			      "ringo_chan_close: channel") ||
	       test_death_run("free an after channel", free_after_chan, NULL,
			      "ringo_chan_free: channel") ||
	       test_death_run("send on a done channel", send_on_done, NULL,
			      "ringo_chan_trysend: channel") ||
	       test_death_run("select send on a ticker", select_send_on_ticker,
			      NULL, "ringo_select: channel") ||
	       test_death_run("after_free of a done channel", after_free_of_done,
			      NULL, "ringo_after_free: channel");
}
