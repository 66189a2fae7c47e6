/*
 * tests/context_tree.c - contexts: cancellation reaches exactly the
 * subtree, through value nodes; deadlines fire with DEADLINE_EXCEEDED
 * and an earlier parent deadline wins; values shadow and are found
 * through any node; done works in select and reports len and cap 0;
 * frees in any order, racing with cancels and timers, leave nothing
 * behind (ASan counts leaks). Misuse panics: a cancel of a context that
 * has none, a value with a NULL key.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "test.h"

#define MS RINGO_MILLISECOND

/* Done now: the done channel is closed (or the context has none). */
static bool is_done(ringo_ctx *c)
{
	bool closed = false;

	return ringo_chan_tryrecv(ringo_ctx_done(c), NULL, &closed) && closed;
}

static int test_background(void)
{
	ringo_ctx *bg = ringo_ctx_background();
	int64_t d;

	ASSERT(ringo_ctx_done(bg) == NULL);
	ASSERT(ringo_ctx_done(NULL) == NULL);
	ASSERT_EQ(ringo_ctx_err(bg), 0);
	ASSERT_EQ(ringo_ctx_cause(bg), 0);
	ASSERT(!ringo_ctx_deadline(bg, &d));
	ASSERT(ringo_ctx_value(bg, &d) == NULL);
	ASSERT(ringo_ctx_retain(bg) == bg);
	ringo_ctx_release(bg);
	ringo_ctx_free(bg);
	ringo_ctx_free(NULL);
	return 0;
}

static int key_a, key_b;

/*      root
 *     /    \
 *    a      e
 *    |
 *    v (value)
 *    |
 *    c
 *    |
 *    d (timeout 1 h)
 */
static int test_cancel_subtree(void)
{
	ringo_ctx *root = ringo_ctx_with_cancel(NULL);
	ringo_ctx *a = ringo_ctx_with_cancel(root);
	ringo_ctx *v = ringo_ctx_with_value(a, &key_a, &key_b);
	ringo_ctx *c = ringo_ctx_with_cancel(v);
	ringo_ctx *d = ringo_ctx_with_timeout(c, 3600 * RINGO_SECOND);
	ringo_ctx *e = ringo_ctx_with_cancel(root);
	ringo_ctx *all[] = { root, a, v, c, d, e };

	for (int i = 0; i < 6; i++) {
		ASSERT_EQ(ringo_ctx_err(all[i]), 0);
		ASSERT(!is_done(all[i]));
	}
	ASSERT(ringo_ctx_done(v) == ringo_ctx_done(a));
	ringo_ctx_cancel(a);
	ASSERT_EQ(ringo_ctx_err(root), 0);
	ASSERT_EQ(ringo_ctx_err(e), 0);
	ASSERT(!is_done(root) && !is_done(e));
	for (int i = 1; i < 5; i++) {
		EXPECT_ERR(ringo_ctx_err(all[i]), RINGO_CANCELED);
		EXPECT_ERR(ringo_ctx_cause(all[i]), RINGO_CANCELED);
		ASSERT(is_done(all[i]));
	}
	ringo_ctx_cancel(a); /* again: nothing */
	EXPECT_ERR(ringo_ctx_err(a), RINGO_CANCELED);
	/* A child of a done context is born done. */
	ringo_ctx *late = ringo_ctx_with_cancel(v);
	ASSERT(is_done(late));
	EXPECT_ERR(ringo_ctx_err(late), RINGO_CANCELED);

	/* Free the root first: it cancels e; memory lives until the
	 * leaves are freed (ASan checks nothing leaks, nothing is used
	 * after free). */
	ringo_ctx_free(root);
	ASSERT(is_done(e));
	ringo_ctx_free(a);
	ringo_ctx_free(e);
	ringo_ctx_free(late);
	ringo_ctx_free(d);
	ringo_ctx_free(v);
	ringo_ctx_free(c);
	return 0;
}

/* A done channel is unbuffered, as Go's make(chan struct{}): len and cap
 * are 0, before and after it is closed. */
static int test_done_len_cap(void)
{
	ringo_ctx *cs[] = { ringo_ctx_with_cancel(NULL),
			    ringo_ctx_with_timeout(NULL, 3600 * RINGO_SECOND) };

	for (int i = 0; i < 2; i++) {
		ringo_chan *done = ringo_ctx_done(cs[i]);
		ASSERT(done != NULL);
		ASSERT_EQ(ringo_chan_len(done), 0);
		ASSERT_EQ(ringo_chan_cap(done), 0);
		ringo_ctx_cancel(cs[i]);
		ASSERT(is_done(cs[i]));
		ASSERT_EQ(ringo_chan_len(done), 0);
		ASSERT_EQ(ringo_chan_cap(done), 0);
		ringo_ctx_free(cs[i]);
	}
	return 0;
}

static int test_cause(void)
{
	ringo_ctx *p = ringo_ctx_with_cancel(NULL);
	ringo_ctx *mid = ringo_ctx_with_cancel(p);
	ringo_ctx *c = ringo_ctx_with_value(mid, &key_a, NULL);

	ringo_ctx_cancel_cause(p, -EIO);
	EXPECT_ERR(ringo_ctx_err(c), RINGO_CANCELED);
	EXPECT_ERR(ringo_ctx_cause(c), -EIO);
	EXPECT_ERR(ringo_ctx_cause(mid), -EIO);
	EXPECT_ERR(ringo_ctx_cause(p), -EIO);
	/* The first cancel's cause sticks. */
	ringo_ctx_cancel_cause(p, -EPIPE);
	EXPECT_ERR(ringo_ctx_cause(p), -EIO);
	/* Cause 0 means "no cause": RINGO_CANCELED. */
	ringo_ctx *q = ringo_ctx_with_cancel(NULL);
	ringo_ctx_cancel_cause(q, 0);
	EXPECT_ERR(ringo_ctx_cause(q), RINGO_CANCELED);
	ringo_ctx_free(q);
	ringo_ctx_free(p);
	ringo_ctx_free(mid);
	ringo_ctx_free(c);
	return 0;
}

static int test_values(void)
{
	int x = 1, y = 2, z = 3;
	ringo_ctx *a = ringo_ctx_with_value(NULL, &key_a, &x);
	ringo_ctx *b = ringo_ctx_with_cancel(a);
	ringo_ctx *c = ringo_ctx_with_value(b, &key_b, &y);
	ringo_ctx *d = ringo_ctx_with_value(c, &key_a, &z);

	ASSERT(ringo_ctx_value(a, &key_a) == &x);
	ASSERT(ringo_ctx_value(a, &key_b) == NULL);
	ASSERT(ringo_ctx_value(b, &key_a) == &x);
	ASSERT(ringo_ctx_value(c, &key_a) == &x);
	ASSERT(ringo_ctx_value(c, &key_b) == &y);
	ASSERT(ringo_ctx_value(d, &key_a) == &z); /* shadows */
	ASSERT(ringo_ctx_value(d, &key_b) == &y);
	ASSERT(ringo_ctx_value(d, &x) == NULL);
	/* Value nodes under the background have no done channel. */
	ASSERT(ringo_ctx_done(a) == NULL);
	ASSERT_EQ(ringo_ctx_err(a), 0);
	ringo_ctx_cancel(b);
	EXPECT_ERR(ringo_ctx_err(d), RINGO_CANCELED);
	ASSERT_EQ(ringo_ctx_err(a), 0);
	ASSERT(ringo_ctx_value(d, &key_a) == &z); /* values outlive cancel */
	ringo_ctx_free(a);
	ringo_ctx_free(b);
	ringo_ctx_free(c);
	ringo_ctx_free(d);
	return 0;
}

static int test_deadline(void)
{
	int64_t t0 = ringo_now(), dl;
	ringo_ctx *p = ringo_ctx_with_timeout(NULL, 30 * MS);
	ringo_ctx *later = ringo_ctx_with_timeout(p, 3600 * RINGO_SECOND);
	ringo_ctx *sooner = ringo_ctx_with_timeout(p, 5 * MS);

	ASSERT(ringo_ctx_deadline(p, &dl));
	ASSERT_GE(dl, t0 + 30 * MS);
	int64_t pdl = dl;
	/* A later deadline than the parent's keeps the parent's. */
	ASSERT(ringo_ctx_deadline(later, &dl));
	ASSERT_EQ(dl, pdl);
	ASSERT(ringo_ctx_deadline(sooner, &dl));
	ASSERT(dl < pdl);

	ASSERT(!ringo_chan_recv(ringo_ctx_done(sooner), NULL));
	EXPECT_ERR(ringo_ctx_err(sooner), RINGO_DEADLINE_EXCEEDED);
	ASSERT_GE(ringo_now() - t0, 5 * MS);
	/* A child's deadline stays below: p is not done before its own
	 * deadline (checked only if the clock, read after err, says it has
	 * not passed yet: on a loaded machine this goroutine may run late). */
	int perr = ringo_ctx_err(p);
	if (ringo_now() < pdl)
		ASSERT_EQ(perr, 0);

	ASSERT(!ringo_chan_recv(ringo_ctx_done(later), NULL));
	int64_t waited = ringo_now() - t0;
	ASSERT_GE(waited, 30 * MS);
	ASSERT_LE(waited, 2000 * MS);
	EXPECT_ERR(ringo_ctx_err(p), RINGO_DEADLINE_EXCEEDED);
	EXPECT_ERR(ringo_ctx_err(later), RINGO_DEADLINE_EXCEEDED);
	EXPECT_ERR(ringo_ctx_cause(later), RINGO_DEADLINE_EXCEEDED);
	/* Cancel after the deadline changes nothing. */
	ringo_ctx_cancel(p);
	EXPECT_ERR(ringo_ctx_err(p), RINGO_DEADLINE_EXCEEDED);
	ringo_ctx_free(later);
	ringo_ctx_free(sooner);
	ringo_ctx_free(p);

	/* A deadline already past: born done, no timer. */
	ringo_ctx *past = ringo_ctx_with_deadline(NULL, ringo_now() - MS);
	ASSERT(is_done(past));
	EXPECT_ERR(ringo_ctx_err(past), RINGO_DEADLINE_EXCEEDED);
	ringo_ctx_free(past);
	/* Cancelled before its deadline: DEADLINE never shows up. */
	ringo_ctx *early = ringo_ctx_with_timeout(NULL, 2 * MS);
	ringo_ctx_cancel(early);
	ringo_sleep(10 * MS); /* past the deadline, which must not show */
	EXPECT_ERR(ringo_ctx_err(early), RINGO_CANCELED);
	ringo_ctx_free(early);
	return 0;
}

/* The lesson's worker: select on jobs and done, return ctx's error. */
static _Atomic int workers_out;

struct worker_arg {
	ringo_ctx *ctx;
	ringo_chan *jobs;
	ringo_chan *result; /* int: the worker's error */
};

static void worker(void *p)
{
	struct worker_arg *w = p;
	int job, err = 0;

	for (;;) {
		struct ringo_select_case cs[] = {
			RINGO_RECV(w->jobs, &job),
			RINGO_RECV(ringo_ctx_done(w->ctx), NULL),
		};
		if (RINGO_SELECT(cs) == 1) {
			err = ringo_ctx_err(w->ctx);
			break;
		}
	}
	atomic_fetch_add(&workers_out, 1);
	ringo_chan_send(w->result, &err);
}

static int test_done_in_select(void)
{
	enum { N = 50 };
	ringo_ctx *root = ringo_ctx_with_cancel(NULL);
	ringo_ctx *mid = ringo_ctx_with_value(root, &key_a, NULL);
	ringo_ctx *ctx[N];
	struct worker_arg wa[N];
	ringo_chan *jobs = ringo_chan_make(sizeof(int), 0);
	ringo_chan *result = ringo_chan_make(sizeof(int), N);

	atomic_store(&workers_out, 0);
	for (int i = 0; i < N; i++) {
		/* Every third worker gets a short deadline, the rest wait
		 * for the root's cancel. */
		ctx[i] = i % 3 ? ringo_ctx_with_cancel(mid)
			       : ringo_ctx_with_timeout(mid, 5 * MS);
		wa[i] = (struct worker_arg){ ctx[i], jobs, result };
		ringo_go(worker, &wa[i]);
	}
	for (int i = 0; i < 100; i++)
		ringo_chan_send(jobs, &i);
	int deadline_nr = 0, canceled_nr = 0, err;
	for (int i = 0; i < (N + 2) / 3; i++) {
		ASSERT(ringo_chan_recv(result, &err));
		EXPECT_ERR(err, RINGO_DEADLINE_EXCEEDED);
		deadline_nr++;
	}
	ASSERT_EQ(atomic_load(&workers_out), deadline_nr);
	ringo_ctx_cancel(root);
	for (int i = deadline_nr; i < N; i++) {
		ASSERT(ringo_chan_recv(result, &err));
		EXPECT_ERR(err, RINGO_CANCELED);
		canceled_nr++;
	}
	ASSERT_EQ(deadline_nr + canceled_nr, N);
	for (int i = 0; i < N; i++)
		ringo_ctx_free(ctx[i]);
	ringo_ctx_free(mid);
	ringo_ctx_free(root);
	ringo_chan_free(jobs);
	ringo_chan_free(result);
	return 0;
}

/* A goroutine that outlives its creator's free keeps its own reference:
 * it uses c only after the free. */
static _Atomic bool creator_freed;

static void retainer(void *p)
{
	ringo_ctx *c = p;

	ringo_chan_recv(ringo_ctx_done(c), NULL);
	while (!atomic_load(&creator_freed))
		ringo_yield();
	if (ringo_ctx_err(c) != RINGO_CANCELED)
		abort();
	atomic_fetch_add(&workers_out, 1);
	ringo_ctx_release(c);
}

static int test_retain(void)
{
	ringo_ctx *c = ringo_ctx_with_timeout(NULL, 3600 * RINGO_SECOND);

	atomic_store(&workers_out, 0);
	atomic_store(&creator_freed, false);
	ringo_go(retainer, ringo_ctx_retain(c));
	ringo_go(retainer, ringo_ctx_retain(c));
	test_wait_parked(2, NULL, "chan receive", ringo_ctx_done(c));
	ringo_ctx_free(c); /* cancels; the goroutines still hold c */
	atomic_store(&creator_freed, true);
	while (atomic_load(&workers_out) < 2)
		ringo_sleep(MS);
	return 0;
}

/* Churn: goroutines build small trees with short deadlines and free them
 * in varying orders while the timers fire and siblings cancel. ASan
 * catches any use after free, and leaks at exit. */
static _Atomic int churners_left;

static void churner(void *arg)
{
	ringo_ctx *shared = arg;
	uint32_t r = (uint32_t)ringo_id() * 2654435761u;

	for (int i = 0; i < TEST_SCALE(400, 200, 60); i++) {
		r = r * 1103515245u + 12345u;
		ringo_ctx *a = ringo_ctx_with_timeout(shared, (int64_t)(r % 3) * MS / 2);
		ringo_ctx *b = ringo_ctx_with_value(a, &key_a, NULL);
		ringo_ctx *c = ringo_ctx_with_timeout(b, (int64_t)(r >> 8) % 2 * MS);
		ringo_ctx *d = ringo_ctx_with_cancel(c);
		if (r & 0x10000)
			ringo_yield();
		if (r & 0x20000)
			ringo_ctx_cancel(c);
		if (r & 0x40000)
			ringo_chan_recv(ringo_ctx_done(d), NULL);
		ringo_ctx *order[4] = { a, b, c, d };
		for (int k = 0; k < 4; k++) {
			int j = (int)((r >> (20 + 2 * k)) % 4u);
			ringo_ctx *t = order[k];
			order[k] = order[j];
			order[j] = t;
		}
		for (int k = 0; k < 4; k++)
			ringo_ctx_free(order[k]);
	}
	atomic_fetch_sub(&churners_left, 1);
}

static int test_churn(void)
{
	int n = TEST_SCALE(16, 8, 4);
	ringo_ctx *shared = ringo_ctx_with_cancel(NULL);

	atomic_store(&churners_left, n);
	for (int i = 0; i < n; i++)
		ringo_go(churner, shared);
	while (atomic_load(&churners_left))
		ringo_sleep(MS);
	ringo_ctx_free(shared);
	/* And a cancel of a parent racing with children being made and
	 * freed under it. */
	for (int round = 0; round < TEST_SCALE(50, 20, 10); round++) {
		shared = ringo_ctx_with_cancel(NULL);
		atomic_store(&churners_left, 4);
		for (int i = 0; i < 4; i++)
			ringo_go(churner, shared);
		ringo_yield();
		ringo_ctx_cancel(shared);
		while (atomic_load(&churners_left))
			ringo_sleep(MS);
		ringo_ctx_free(shared);
	}
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_background);
	RUN(test_cancel_subtree);
	RUN(test_done_len_cap);
	RUN(test_cause);
	RUN(test_values);
	RUN(test_deadline);
	RUN(test_done_in_select);
	RUN(test_retain);
	RUN(test_churn);
	return 0;
}

/* ------------------------------------------------------ death tests */

static int cancel_background_main(void *arg)
{
	(void)arg;
	ringo_ctx_cancel(ringo_ctx_background());
	return 0;
}

static int cancel_value_main(void *arg)
{
	(void)arg;
	ringo_ctx_cancel(ringo_ctx_with_value(NULL, &key_a, NULL));
	return 0;
}

static int null_key_main(void *arg)
{
	(void)arg;
	ringo_ctx_with_value(NULL, NULL, &key_a);
	return 0;
}

int main(void)
{
	test_watchdog(110);
	if (test_run_default_then_one_p(main_fn, NULL))
		return 1;
	if (test_death_run("cancel background", cancel_background_main, NULL,
			   "has no cancel (background)"))
		return 1;
	if (test_death_run("cancel value", cancel_value_main, NULL,
			   "has no cancel (value context)"))
		return 1;
	if (test_death_run("NULL key", null_key_main, NULL,
			   "ringo_ctx_with_value: nil key"))
		return 1;
	return 0;
}
