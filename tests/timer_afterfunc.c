/*
 * tests/timer_afterfunc.c - ringo_after_func (Go's time.AfterFunc): the
 * function runs once per arming, no earlier than asked, on a goroutine
 * of its own; stop returns true exactly when it kept the function from
 * starting, and reset arms it again, also when the two race with the
 * firing. "Never ran" is checked after a later timer fired, which the
 * stopped one would have preceded; counts are checked with a wait group
 * that every arming adds to and every start or cancel takes from.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <ringo/ringo.h>

#include "test.h"

#define MS RINGO_MILLISECOND
#define US RINGO_MICROSECOND

/* What one timer's function saw: it signals done (capacity for every
 * firing a test makes, so fn never blocks). */
struct hit {
	_Atomic int runs;
	_Atomic uint64_t gid;
	_Atomic int64_t at;
	ringo_chan *done;
};

static void hit_init(struct hit *h)
{
	atomic_store(&h->runs, 0);
	atomic_store(&h->gid, 0);
	atomic_store(&h->at, 0);
	h->done = ringo_chan_make(sizeof(int), 16);
}

static void on_fire(void *arg)
{
	struct hit *h = arg;
	int one = 1;

	atomic_store(&h->gid, ringo_id());
	atomic_store(&h->at, ringo_now());
	atomic_fetch_add(&h->runs, 1);
	ringo_chan_send(h->done, &one);
}

static void wait_hit(struct hit *h)
{
	int v;

	ringo_chan_recv(h->done, &v);
}

/* Wait for an ordinary timer of ns: a timer armed before it with a
 * shorter delay would have fired before it. */
static void wait_after(int64_t ns)
{
	ringo_chan *c = ringo_after(ns);

	ringo_chan_recv(c, NULL);
	ringo_after_free(c);
}

static int test_fires_once(void)
{
	struct hit h;
	hit_init(&h);
	int64_t t0 = ringo_now();
	ringo_timer *t = ringo_after_func(20 * MS, on_fire, &h);

	ASSERT(t != NULL);
	ASSERT(ringo_timer_chan(t) == NULL);
	wait_hit(&h);
	ASSERT_GE(atomic_load(&h.at) - t0, 20 * MS);
	ASSERT_NE(atomic_load(&h.gid), 0);
	ASSERT_NE(atomic_load(&h.gid), ringo_id());
	wait_after(30 * MS);
	ASSERT_EQ(atomic_load(&h.runs), 1);
	ASSERT(!ringo_timer_stop(t));
	ringo_timer_free(t);
	ringo_chan_free(h.done);
	return 0;
}

/* ns <= 0: as soon as possible, but in its own goroutine; on one P the
 * caller keeps the only P until it parks, so fn cannot have run yet. */
static int test_now(void)
{
	struct hit h0, hn;
	hit_init(&h0);
	hit_init(&hn);
	ringo_timer *t0 = ringo_after_func(0, on_fire, &h0);
	ringo_timer *tn = ringo_after_func(-5 * MS, on_fire, &hn);

	if (ringo_maxprocs() == 1) {
		ASSERT_EQ(atomic_load(&h0.runs), 0);
		ASSERT_EQ(atomic_load(&hn.runs), 0);
	}
	wait_hit(&h0);
	wait_hit(&hn);
	ASSERT_NE(atomic_load(&h0.gid), ringo_id());
	ASSERT_NE(atomic_load(&hn.gid), ringo_id());
	ringo_timer_free(t0);
	ringo_timer_free(tn);
	ringo_chan_free(h0.done);
	ringo_chan_free(hn.done);
	return 0;
}

static int test_stop_before(void)
{
	struct hit h;
	hit_init(&h);
	ringo_timer *t = ringo_after_func(20 * MS, on_fire, &h);

	ASSERT(ringo_timer_stop(t));
	ASSERT(!ringo_timer_stop(t));
	wait_after(60 * MS);
	ASSERT_EQ(atomic_load(&h.runs), 0);
	ringo_timer_free(t);
	ringo_chan_free(h.done);
	return 0;
}

/* A function that reports it started and then waits to be let go. */
struct gate {
	ringo_chan *started, *release;
};

static void on_fire_gated(void *arg)
{
	struct gate *g = arg;
	int v = 1;

	ringo_chan_send(g->started, &v);
	ringo_chan_recv(g->release, &v);
}

/* Stop after fn started returns false, at once: it does not wait for
 * fn, which is still blocked. */
static int test_stop_after_start(void)
{
	struct gate g = { ringo_chan_make(sizeof(int), 0),
			  ringo_chan_make(sizeof(int), 0) };
	ringo_timer *t = ringo_after_func(0, on_fire_gated, &g);
	int v = 1;

	ringo_chan_recv(g.started, &v);
	ASSERT(!ringo_timer_stop(t));
	ringo_timer_free(t);
	ringo_chan_send(g.release, &v);
	ringo_chan_free(g.started);
	ringo_chan_free(g.release);
	return 0;
}

static int test_reset(void)
{
	struct hit h;
	hit_init(&h);
	ringo_timer *t = ringo_after_func(RINGO_SECOND, on_fire, &h);

	/* Stopped, then reset: fires. */
	ASSERT(ringo_timer_stop(t));
	int64_t t0 = ringo_now();
	ASSERT(!ringo_timer_reset(t, 10 * MS));
	wait_hit(&h);
	ASSERT_GE(atomic_load(&h.at) - t0, 10 * MS);
	ASSERT_EQ(atomic_load(&h.runs), 1);
	/* Fired, then reset: fires again. */
	ASSERT(!ringo_timer_reset(t, 0));
	wait_hit(&h);
	ASSERT_EQ(atomic_load(&h.runs), 2);
	/* Pending, then reset: true, and the old arming is gone. */
	ASSERT(!ringo_timer_reset(t, RINGO_SECOND));
	ASSERT(ringo_timer_reset(t, 10 * MS));
	wait_hit(&h);
	ASSERT(!ringo_timer_reset(t, RINGO_SECOND));
	ASSERT(ringo_timer_stop(t));
	wait_after(30 * MS);
	ASSERT_EQ(atomic_load(&h.runs), 3);
	ringo_timer_free(t);
	ringo_chan_free(h.done);
	return 0;
}

/* ---------------------------------------------------------- many */

static ringo_wg many_wg = RINGO_WG_INITIALIZER;

static void count_once(void *arg)
{
	atomic_fetch_add((_Atomic int *)arg, 1);
	ringo_wg_done(&many_wg);
}

static int test_many(void)
{
	int n = TEST_SCALE(10000, 5000, 2000);
	_Atomic int *runs = calloc((size_t)n, sizeof(*runs));
	ringo_timer **ts = calloc((size_t)n, sizeof(*ts));

	ASSERT(runs && ts);
	ringo_wg_add(&many_wg, n);
	for (int i = 0; i < n; i++) {
		ts[i] = ringo_after_func((i % 5) * MS, count_once, &runs[i]);
		ASSERT(ts[i] != NULL);
	}
	ringo_wg_wait(&many_wg);
	wait_after(10 * MS);
	for (int i = 0; i < n; i++) {
		if (atomic_load(&runs[i]) != 1)
			TEST_FAIL("timer %d ran %d times", i,
				  atomic_load(&runs[i]));
		ringo_timer_free(ts[i]);
	}
	free(runs);
	free(ts);
	return 0;
}

/* -------------------------------------------------------- stress */

/* Every arming (creation, reset) adds one to armed_wg before it can
 * fire; each is ended by exactly one of: its fn starting (fn takes the
 * one off) or a stop or reset that returns true (the caller does). So
 * the wait group never goes below zero (it would panic), and once every
 * timer is stopped it drains to zero exactly when every started fn ran:
 * runs == arms - cancels, per timer. */
#define STRESS_TIMERS 16

struct stimer {
	ringo_timer *t;
	_Atomic int runs, arms, cancels;
};

static struct stimer stimers[STRESS_TIMERS];
static ringo_wg armed_wg = RINGO_WG_INITIALIZER;
static ringo_wg workers_wg = RINGO_WG_INITIALIZER;

static void stress_fire(void *arg)
{
	struct stimer *s = arg;

	atomic_fetch_add(&s->runs, 1);
	ringo_wg_done(&armed_wg);
}

static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void cancelled(struct stimer *s, bool pending)
{
	if (!pending)
		return;
	atomic_fetch_add(&s->cancels, 1);
	ringo_wg_done(&armed_wg);
}

/* A stop one time in four, else a reset to fire at once or within
 * 20 us: short enough that many firings race with the next operation. */
static void stress_op(struct stimer *s, uint32_t r)
{
	if (r % 4 == 0) {
		cancelled(s, ringo_timer_stop(s->t));
		return;
	}
	int64_t ns = r % 4 == 1 ? 0 : (int64_t)(r / 4) % (20 * US);
	atomic_fetch_add(&s->arms, 1);
	ringo_wg_add(&armed_wg, 1);
	cancelled(s, ringo_timer_reset(s->t, ns));
}

/* Spin for about us microseconds: spaces the operations out so that
 * timers come due between them (pacing only; nothing waits on it). */
static void spin(int64_t us)
{
	int64_t until = ringo_now() + us * US;

	while (ringo_now() < until)
		;
}

static void stress_worker(void *arg)
{
	uint32_t x = (uint32_t)(uintptr_t)arg;
	int ops = TEST_SCALE(50000, 20000, 5000);

	for (int i = 0; i < ops; i++) {
		uint32_t r = xorshift(&x);
		stress_op(&stimers[r % STRESS_TIMERS], r / STRESS_TIMERS);
		spin(r % 4);
		if (i % 16 == 0)
			ringo_yield();
	}
	ringo_wg_done(&workers_wg);
}

static int test_stress(void)
{
	for (int i = 0; i < STRESS_TIMERS; i++) {
		struct stimer *s = &stimers[i];
		atomic_store(&s->runs, 0);
		atomic_store(&s->arms, 1);
		atomic_store(&s->cancels, 0);
		ringo_wg_add(&armed_wg, 1);
		s->t = ringo_after_func(i * 10 * US, stress_fire, s);
		ASSERT(s->t != NULL);
	}
	ringo_wg_add(&workers_wg, 2);
	ringo_go(stress_worker, (void *)(uintptr_t)0x9e3779b9u);
	ringo_go(stress_worker, (void *)(uintptr_t)0x85ebca6bu);
	ringo_wg_wait(&workers_wg);
	for (int i = 0; i < STRESS_TIMERS; i++)
		cancelled(&stimers[i], ringo_timer_stop(stimers[i].t));
	ringo_wg_wait(&armed_wg);
	wait_after(10 * MS);
	for (int i = 0; i < STRESS_TIMERS; i++) {
		struct stimer *s = &stimers[i];
		ASSERT_EQ(atomic_load(&s->runs),
			  atomic_load(&s->arms) - atomic_load(&s->cancels));
		ringo_timer_free(s->t);
	}
	return 0;
}

/* ------------------------------------------------- across runs */

static struct hit next_run_hit;
static ringo_timer *next_run_timer, *kept;

static int leave_pending(void *arg)
{
	(void)arg;
	hit_init(&next_run_hit);
	next_run_timer = ringo_after_func(5 * MS, on_fire, &next_run_hit);
	kept = ringo_after_func(RINGO_SECOND, on_fire, &next_run_hit);
	return next_run_timer && kept ? 0 : 1;
}

static int fire_in_next_run(void *arg)
{
	(void)arg;
	wait_hit(&next_run_hit);
	ASSERT_EQ(atomic_load(&next_run_hit.runs), 1);
	ringo_timer_free(next_run_timer);
	return 0;
}

/* A timer pending when ringo_run returns fires in the next run; one
 * stopped in between never does. */
static int test_outlive_run(void)
{
	ASSERT_EQ(ringo_run(leave_pending, NULL), 0);
	ASSERT(ringo_timer_stop(kept));
	ringo_timer_free(kept);
	ASSERT_EQ(ringo_run(fire_in_next_run, NULL), 0);
	ringo_chan_free(next_run_hit.done);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_fires_once);
	RUN(test_now);
	RUN(test_stop_before);
	RUN(test_stop_after_start);
	RUN(test_reset);
	RUN(test_many);
	RUN(test_stress);
	return 0;
}

static void outside(void *arg)
{
	(void)arg;
	ringo_after_func(MS, on_fire, NULL);
}

static int null_fn(void *arg)
{
	(void)arg;
	ringo_after_func(MS, NULL, NULL);
	return 0;
}

int main(void)
{
	test_watchdog(120);
	if (test_run_default_then_one_p(main_fn, NULL) || test_outlive_run())
		return 1;
	return test_death("outside a goroutine", outside, NULL,
			  "ringo_after_func: called outside a goroutine") ||
	       test_death_run("NULL function", null_fn, NULL,
			      "ringo_after_func: NULL function");
}
