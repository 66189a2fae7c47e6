/*
 * tests/context_errgroup.c - errgroup: wait returns the first error,
 * which cancels the group's context (cause = that error) so the others
 * stop early; no error gives 0 and still cancels the context once wait
 * returns; the parent's cancel reaches the group; the limit is never
 * exceeded (counted) and go blocks, trygo fails, while it is reached;
 * misuse panics.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "test.h"

#define MS RINGO_MILLISECOND

/* ------------------------------------------------------ first error */

struct job {
	int64_t delay;  /* ns before finishing */
	int result;     /* returned after the delay, if not cancelled */
	int returned;   /* what the job actually returned */
	bool cancelled; /* saw the context done before its delay */
};

static int run_job(ringo_ctx *ctx, void *arg)
{
	struct job *j = arg;

	if (j->delay == 0)
		return j->returned = j->result;
	ringo_chan *t = ringo_after(j->delay);
	struct ringo_select_case cs[] = { RINGO_RECV(t, NULL),
					  RINGO_RECV(ringo_ctx_done(ctx), NULL) };

	if (RINGO_SELECT(cs) == 1) {
		j->cancelled = true;
		j->returned = ringo_ctx_err(ctx);
	} else {
		j->returned = j->result;
	}
	ringo_after_free(t);
	return j->returned;
}

static int test_first_error_wins(void)
{
	enum { N = 20 };
	struct job jobs[N];
	ringo_group *g = ringo_group_new(NULL);
	ringo_ctx *ctx = ringo_group_ctx(g);
	int64_t t0 = ringo_now();

	for (int i = 0; i < N; i++)
		jobs[i] = (struct job){ .delay = 3600 * RINGO_SECOND };
	jobs[3] = (struct job){ .delay = 5 * MS, .result = -EIO };
	jobs[7] = (struct job){ .delay = 2 * RINGO_SECOND, .result = -EPIPE };
	jobs[9] = (struct job){ .delay = 0, .result = 0 }; /* succeeds */
	for (int i = 0; i < N; i++)
		ringo_group_go(g, run_job, &jobs[i]);
	EXPECT_ERR(ringo_group_wait(g), -EIO);
	/* The others were cancelled, long before their hour. */
	ASSERT_LE(ringo_now() - t0, 1500 * MS);
	EXPECT_ERR(ringo_ctx_err(ctx), RINGO_CANCELED);
	EXPECT_ERR(ringo_ctx_cause(ctx), -EIO);
	for (int i = 0; i < N; i++) {
		if (i == 3 || i == 9) {
			ASSERT(!jobs[i].cancelled);
			continue;
		}
		ASSERT(jobs[i].cancelled);
		EXPECT_ERR(jobs[i].returned, RINGO_CANCELED);
	}
	/* Wait again: same answer, nothing to wait for. */
	EXPECT_ERR(ringo_group_wait(g), -EIO);
	ringo_group_free(g);
	return 0;
}

/* Many goroutines fail at once: exactly one error wins, and it is one of
 * theirs; the group's cause is that same error. */
static int fail_with(ringo_ctx *ctx, void *arg)
{
	(void)ctx;
	ringo_yield();
	return (int)(intptr_t)arg;
}

static int test_racing_errors(void)
{
	for (int r = 0; r < TEST_SCALE(200, 100, 50); r++) {
		ringo_group *g = ringo_group_new(NULL);
		for (intptr_t i = 1; i <= 16; i++)
			ringo_group_go(g, fail_with, (void *)-i);
		int err = ringo_group_wait(g);
		ASSERT(err <= -1 && err >= -16);
		ASSERT_EQ(ringo_ctx_cause(ringo_group_ctx(g)), err);
		ringo_group_free(g);
	}
	return 0;
}

static int test_no_error(void)
{
	struct job jobs[10];
	ringo_ctx *parent = ringo_ctx_with_cancel(NULL);
	ringo_group *g = ringo_group_new(parent);

	for (int i = 0; i < 10; i++) {
		jobs[i] = (struct job){ .delay = (i % 3) * MS / 2 };
		ringo_group_go(g, run_job, &jobs[i]);
	}
	ASSERT_EQ(ringo_group_wait(g), 0);
	for (int i = 0; i < 10; i++)
		ASSERT(!jobs[i].cancelled);
	/* Wait cancelled the group's context, not the parent. */
	EXPECT_ERR(ringo_ctx_err(ringo_group_ctx(g)), RINGO_CANCELED);
	EXPECT_ERR(ringo_ctx_cause(ringo_group_ctx(g)), RINGO_CANCELED);
	ASSERT_EQ(ringo_ctx_err(parent), 0);
	ringo_group_free(g);
	ringo_ctx_free(parent);

	/* An empty group waits for nothing. */
	g = ringo_group_new(NULL);
	ASSERT_EQ(ringo_group_wait(g), 0);
	ringo_group_free(g);
	return 0;
}

/* The parent's cancel reaches the group's goroutines; they report it as
 * their error (as Go's ctx.Err()), which becomes the group's. It comes
 * once all eight wait in their select. */
static void cancel_later(void *arg)
{
	test_wait_parked(8, NULL, "select", NULL);
	ringo_ctx_cancel(arg);
}

static int test_parent_cancel(void)
{
	struct job jobs[8];
	ringo_ctx *parent = ringo_ctx_with_cancel(NULL);
	ringo_group *g = ringo_group_new(parent);

	for (int i = 0; i < 8; i++) {
		jobs[i] = (struct job){ .delay = 3600 * RINGO_SECOND };
		ringo_group_go(g, run_job, &jobs[i]);
	}
	ringo_go(cancel_later, parent);
	EXPECT_ERR(ringo_group_wait(g), RINGO_CANCELED);
	for (int i = 0; i < 8; i++)
		ASSERT(jobs[i].cancelled);
	/* Freeing in either order is fine. */
	ringo_ctx_free(parent);
	ringo_group_free(g);
	return 0;
}

/* -------------------------------------------------------------- limit */

static _Atomic int running, max_running, ran;
static ringo_chan *gate; /* jobs wait for a token from the test */

static void note_running(int now)
{
	int m = atomic_load(&max_running);

	while (now > m && !atomic_compare_exchange_weak(&max_running, &m, now))
		;
}

static int gated(ringo_ctx *ctx, void *arg)
{
	(void)ctx;
	(void)arg;
	note_running(atomic_fetch_add(&running, 1) + 1);
	ringo_chan_recv(gate, NULL);
	atomic_fetch_sub(&running, 1);
	atomic_fetch_add(&ran, 1);
	return 0;
}

struct spawner {
	ringo_group *g;
	int n;
	_Atomic int started;
};

static void spawn_all(void *arg)
{
	struct spawner *s = arg;

	for (int i = 0; i < s->n; i++) {
		ringo_group_go(s->g, gated, NULL);
		atomic_fetch_add(&s->started, 1);
	}
}

static int test_limit(void)
{
	enum { LIMIT = 3, N = 30 };
	ringo_group *g = ringo_group_new(NULL);
	struct spawner s = { g, N, 0 };

	gate = ringo_chan_make(0, 0);
	atomic_store(&running, 0);
	atomic_store(&max_running, 0);
	atomic_store(&ran, 0);
	ringo_group_set_limit(g, LIMIT);
	struct ringo_go_opts o = { .name = "spawner" };
	ringo_go_opts(&o, spawn_all, &s);
	/* Full: the first LIMIT wait at the gate, the spawner is blocked in
	 * its next go (unless it got past the limit), trygo fails. */
	test_wait_parked(LIMIT, NULL, "chan receive", gate);
	while (!test_parked("spawner", "chan send", NULL) &&
	       atomic_load(&s.started) <= LIMIT)
		ringo_yield();
	ASSERT_EQ(atomic_load(&s.started), LIMIT);
	ASSERT_EQ(atomic_load(&running), LIMIT);
	ASSERT(!ringo_group_trygo(g, gated, NULL));
	/* Let them through one at a time; the limit holds throughout. */
	for (int i = 0; i < N; i++) {
		ringo_chan_send(gate, NULL);
		ASSERT_LE(atomic_load(&running), LIMIT);
	}
	ASSERT_EQ(ringo_group_wait(g), 0);
	ASSERT_EQ(atomic_load(&ran), N);
	ASSERT_EQ(atomic_load(&max_running), LIMIT);
	/* The spawner counts a go after it returns, which may be after the
	 * goroutine it started has finished and wait has returned. */
	while (atomic_load(&s.started) < N)
		ringo_yield();

	/* trygo succeeds while below the limit. */
	ringo_group_set_limit(g, 1);
	ASSERT(ringo_group_trygo(g, gated, NULL));
	ASSERT(!ringo_group_trygo(g, gated, NULL));
	ringo_chan_send(gate, NULL);
	ASSERT_EQ(ringo_group_wait(g), 0);
	ASSERT(ringo_group_trygo(g, gated, NULL));
	ringo_chan_send(gate, NULL);
	ASSERT_EQ(ringo_group_wait(g), 0);
	/* Limit 0: nothing may start. Negative: no limit. */
	ringo_group_set_limit(g, 0);
	ASSERT(!ringo_group_trygo(g, gated, NULL));
	ringo_group_set_limit(g, -1);
	atomic_store(&max_running, 0);
	for (int i = 0; i < N; i++)
		ASSERT(ringo_group_trygo(g, gated, NULL));
	while (atomic_load(&running) < N)
		ringo_sleep(MS);
	ASSERT_EQ(atomic_load(&max_running), N);
	ringo_chan_close(gate);
	ASSERT_EQ(ringo_group_wait(g), 0);
	ringo_group_free(g);
	ringo_chan_free(gate);
	return 0;
}

/* Many goroutines with a limit, no gate: count the concurrency. */
static int busy(ringo_ctx *ctx, void *arg)
{
	(void)ctx;
	(void)arg;
	note_running(atomic_fetch_add(&running, 1) + 1);
	for (int i = 0; i < 3; i++)
		ringo_yield();
	atomic_fetch_sub(&running, 1);
	return 0;
}

static int test_limit_stress(void)
{
	for (int limit = 1; limit <= 8; limit *= 2) {
		ringo_group *g = ringo_group_new(NULL);
		ringo_group_set_limit(g, limit);
		atomic_store(&max_running, 0);
		for (int i = 0; i < TEST_SCALE(5000, 2000, 500); i++)
			ringo_group_go(g, busy, NULL);
		ASSERT_EQ(ringo_group_wait(g), 0);
		ASSERT_LE(atomic_load(&max_running), limit);
		ASSERT_GE(atomic_load(&max_running), 1);
		ringo_group_free(g);
	}
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_first_error_wins);
	RUN(test_racing_errors);
	RUN(test_no_error);
	RUN(test_parent_cancel);
	RUN(test_limit);
	RUN(test_limit_stress);
	return 0;
}

/* ------------------------------------------------------ death tests */

static int go_null_main(void *arg)
{
	(void)arg;
	ringo_group *g = ringo_group_new(NULL);
	ringo_group_go(g, NULL, NULL);
	return 0;
}

static int set_limit_running_main(void *arg)
{
	(void)arg;
	ringo_group *g = ringo_group_new(NULL);
	gate = ringo_chan_make(0, 0);
	ringo_group_go(g, gated, NULL);
	ringo_group_set_limit(g, 2);
	return 0;
}

static int free_running_main(void *arg)
{
	(void)arg;
	ringo_group *g = ringo_group_new(NULL);
	gate = ringo_chan_make(0, 0);
	ringo_group_go(g, gated, NULL);
	ringo_group_free(g);
	return 0;
}

int main(void)
{
	test_watchdog(110);
	if (test_run_default_then_one_p(main_fn, NULL))
		return 1;
	if (test_death_run("go with NULL", go_null_main, NULL,
			   "ringo_group_go: NULL function") ||
	    test_death_run("set_limit while running", set_limit_running_main, NULL,
			   "ringo_group_set_limit: limit changed while 1 goroutines") ||
	    test_death_run("free while running", free_running_main, NULL,
			   "ringo_group_free: 1 goroutines of the group are "
			   "still running"))
		return 1;
	return 0;
}
