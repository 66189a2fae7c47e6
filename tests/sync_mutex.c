/*
 * tests/sync_mutex.c - ringo_mutex: exclusion under contention, trylock,
 * unlock from another goroutine, normal-mode barging, starvation mode
 * (FIFO hand-off, newcomers queue, exit when the queue drains), a hog that
 * re-locks in a loop cannot starve a waiter, many mutexes sharing the
 * semaphore table, and the misuse panics.
 *
 * The starvation tests look at the mutex's state word (core/sync_internal.h)
 * to check which mode it is in; they run on one P so the order in which
 * goroutines run is fixed.
 */
#include <sched.h>
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "core/sync_internal.h"
#include "test.h"

static int32_t state_of(ringo_mutex *m)
{
	return atomic_load(&ringo__mutex_of(m)->state);
}

static int32_t waiters_of(ringo_mutex *m)
{
	return state_of(m) >> RINGO__MUTEX_WAITER_SHIFT;
}

/* ---------------------------------------------------------- basics */

static ringo_mutex static_mu = RINGO_MUTEX_INITIALIZER;

static int test_basic(void)
{
	ringo_mutex m;
	ringo_mutex zeroed;

	memset(&zeroed, 0, sizeof(zeroed));
	ringo_mutex_init(&m);
	ringo_mutex *all[] = { &static_mu, &m, &zeroed };
	for (int i = 0; i < 3; i++) {
		ringo_mutex *mu = all[i];
		ASSERT(ringo_mutex_trylock(mu));
		ASSERT(!ringo_mutex_trylock(mu));
		ringo_mutex_unlock(mu);
		ringo_mutex_lock(mu);
		ASSERT(!ringo_mutex_trylock(mu));
		ringo_mutex_unlock(mu);
		ASSERT_EQ(state_of(mu), 0);
	}
	ASSERT_EQ(sizeof(ringo_mutex), 8);
	return 0;
}

/* ------------------------------------------------------- exclusion */

#define WORKERS 16
#define ITERS TEST_SCALE(20000, 5000, 1000)

static ringo_mutex ex_mu;
static long ex_counter;         /* plain: the mutex orders it */
static _Atomic int ex_inside;
static _Atomic int ex_overlap;
static ringo_wg ex_wg;

static void ex_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITERS; i++) {
		if (i % 3 == 0) {
			while (!ringo_mutex_trylock(&ex_mu))
				ringo_yield();
		} else {
			ringo_mutex_lock(&ex_mu);
		}
		if (atomic_fetch_add(&ex_inside, 1) != 0)
			atomic_store(&ex_overlap, 1);
		ex_counter++;
		if (i % 64 == 0)
			ringo_yield(); /* park others while we hold it */
		atomic_fetch_sub(&ex_inside, 1);
		ringo_mutex_unlock(&ex_mu);
	}
	ringo_wg_done(&ex_wg);
}

static int test_exclusion(void)
{
	ringo_wg_add(&ex_wg, WORKERS);
	for (int i = 0; i < WORKERS; i++)
		ringo_go(ex_worker, NULL);
	ringo_wg_wait(&ex_wg);
	ASSERT_EQ(atomic_load(&ex_overlap), 0);
	ASSERT_EQ(ex_counter, (long)WORKERS * ITERS);
	ASSERT_EQ(state_of(&ex_mu), 0);
	return 0;
}

/* -------------------------------------- unlock from another goroutine */

static ringo_mutex xo_mu;
static _Atomic int xo_locked;

static void xo_locker(void *arg)
{
	(void)arg;
	ringo_mutex_lock(&xo_mu);
	atomic_store(&xo_locked, 1);
}

static int test_unlock_by_other(void)
{
	ringo_go(xo_locker, NULL);
	while (!atomic_load(&xo_locked))
		ringo_yield();
	/* The locker has returned; main unlocks what it locked. */
	ringo_mutex_unlock(&xo_mu);
	ringo_mutex_lock(&xo_mu);
	ringo_mutex_unlock(&xo_mu);
	return 0;
}

/* ------------------------------------------ unlock from a plain thread */

/* A thread outside the runtime (a C library's callback thread, say) holds
 * the lock while a goroutine parks on it, then unlocks: the goroutine is
 * woken through the global queue. Main keeps running meanwhile (yielding),
 * as a program whose other goroutines are busy would. */
static ringo_mutex th_mu;
static _Atomic int th_locked, th_release, th_got;

static void *thread_holder(void *arg)
{
	(void)arg;
	ringo_mutex_lock(&th_mu); /* free, or it would panic */
	atomic_store(&th_locked, 1);
	while (!atomic_load(&th_release))
		sched_yield();
	ringo_mutex_unlock(&th_mu);
	return NULL;
}

static void th_locker(void *arg)
{
	(void)arg;
	atomic_store(&th_release, 1);
	ringo_mutex_lock(&th_mu); /* parks until the thread unlocks */
	ringo_mutex_unlock(&th_mu);
	atomic_store(&th_got, 1);
}

static int test_unlock_from_thread(void)
{
	for (int r = 0; r < TEST_SCALE(100, 50, 20); r++) {
		pthread_t t;
		atomic_store(&th_locked, 0);
		atomic_store(&th_release, 0);
		atomic_store(&th_got, 0);
		ASSERT_EQ(pthread_create(&t, NULL, thread_holder, NULL), 0);
		while (!atomic_load(&th_locked))
			ringo_yield();
		ringo_go(th_locker, NULL);
		while (!atomic_load(&th_got))
			ringo_yield();
		pthread_join(t, NULL);
	}
	return 0;
}

/* ------------------------------------------------ many mutexes */

/* More mutexes than the semaphore table has buckets, each contended, so
 * several addresses queue in one bucket at once. */
#define MANY_MU 600
#define MANY_PER 4
#define MANY_ITERS TEST_SCALE(200, 100, 20)

static ringo_mutex many_mu[MANY_MU];
static long many_count[MANY_MU];
static ringo_wg many_wg;

static void many_worker(void *arg)
{
	long i = (long)(intptr_t)arg;

	for (int k = 0; k < MANY_ITERS; k++) {
		ringo_mutex_lock(&many_mu[i]);
		long v = many_count[i];
		ringo_yield();
		many_count[i] = v + 1;
		ringo_mutex_unlock(&many_mu[i]);
	}
	ringo_wg_done(&many_wg);
}

static int test_many_mutexes(void)
{
	int n = TEST_TSAN ? 150 : MANY_MU;

	ringo_wg_add(&many_wg, n * MANY_PER);
	for (int j = 0; j < MANY_PER; j++)
		for (int i = 0; i < n; i++)
			ringo_go(many_worker, (void *)(intptr_t)i);
	ringo_wg_wait(&many_wg);
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(many_count[i], MANY_PER * MANY_ITERS);
		ASSERT_EQ(state_of(&many_mu[i]), 0);
	}
	return 0;
}

/* ---------------------------------------------------- hog vs waiter */

/* A hog re-locks in a loop; a waiter asks for the lock once. The waiter
 * must get it within HOG_LIMIT of the hog's iterations; the hog stops at
 * the limit so that a failure is a failure, not a hang. */
#define HOG_LIMIT (1L << 21)

static ringo_mutex hog_mu;
static _Atomic long hog_iters;
static _Atomic long hog_waiter_at;   /* hog_iters when the waiter got it */
static _Atomic long hog_waiter_from; /* hog_iters when it asked */
static _Atomic int hog_waiter_done;
static ringo_wg hog_wg;
static bool hog_yield_inside;

static void hog(void *arg)
{
	(void)arg;
	for (long i = 0; i < HOG_LIMIT && !atomic_load(&hog_waiter_done); i++) {
		ringo_mutex_lock(&hog_mu);
		atomic_store_explicit(&hog_iters, i, memory_order_relaxed);
		/* On one P the waiter runs only while the hog yields;
		 * yielding with the lock held is the worst case for it. */
		if (hog_yield_inside)
			ringo_yield();
		ringo_mutex_unlock(&hog_mu);
	}
	ringo_wg_done(&hog_wg);
}

static void hog_waiter(void *arg)
{
	(void)arg;
	/* Start once the hog is in its loop. */
	while (atomic_load(&hog_iters) < 100)
		ringo_yield();
	atomic_store(&hog_waiter_from, atomic_load(&hog_iters));
	ringo_mutex_lock(&hog_mu);
	atomic_store(&hog_waiter_at, atomic_load(&hog_iters));
	ringo_mutex_unlock(&hog_mu);
	atomic_store(&hog_waiter_done, 1);
	ringo_wg_done(&hog_wg);
}

static int test_hog(void)
{
	for (int round = 0; round < 5; round++) {
		atomic_store(&hog_iters, 0);
		atomic_store(&hog_waiter_done, 0);
		ringo_wg_add(&hog_wg, 2);
		ringo_go(hog, NULL);
		ringo_go(hog_waiter, NULL);
		ringo_wg_wait(&hog_wg);
		ASSERT(atomic_load(&hog_waiter_done));
		long took = atomic_load(&hog_waiter_at) -
			    atomic_load(&hog_waiter_from);
		if (getenv("TEST_VERBOSE"))
			fprintf(stderr, "hog round %d: waiter got the lock after %ld hog iterations\n", round, took);
		ASSERT_LE(took, HOG_LIMIT / 2);
		ASSERT_EQ(state_of(&hog_mu), 0);
	}
	return 0;
}

/* --------------------------------------------- modes, on one P */

static ringo_mutex mode_mu;
static char order[8];
static _Atomic int order_nr;

static void mode_locker(void *arg)
{
	ringo_mutex_lock(&mode_mu);
	order[atomic_fetch_add(&order_nr, 1)] = (char)(intptr_t)arg;
	ringo_yield(); /* hold it while others run */
	ringo_mutex_unlock(&mode_mu);
}

static void hold_for_ns(int64_t ns)
{
	int64_t end = ringo__nanotime() + ns;

	while (ringo__nanotime() < end)
		;
}

/* Normal mode: the woken waiter does not own the lock; a running
 * goroutine takes it first. */
static int test_barging(void)
{
	atomic_store(&order_nr, 0);
	ringo_mutex_lock(&mode_mu);
	ringo_go(mode_locker, (void *)(intptr_t)'W');
	while (waiters_of(&mode_mu) != 1)
		ringo_yield();
	ringo_mutex_unlock(&mode_mu); /* wakes W, which has not run yet */
	ASSERT_EQ(state_of(&mode_mu), RINGO__MUTEX_WOKEN);
	ASSERT(ringo_mutex_trylock(&mode_mu));
	ringo_mutex_unlock(&mode_mu);
	while (atomic_load(&order_nr) != 1)
		ringo_yield();
	while (state_of(&mode_mu) != 0)
		ringo_yield();
	ASSERT_EQ(order[0], 'W');
	return 0;
}

/* Starvation mode: waiters that waited > 1 ms get the lock handed over in
 * FIFO order, a newcomer queues behind them, and the mode ends with the
 * last waiter. */
static int test_starvation_mode(void)
{
	const int32_t STARVING = RINGO__MUTEX_STARVING;

	atomic_store(&order_nr, 0);
	ringo_mutex_lock(&mode_mu);
	ringo_go(mode_locker, (void *)(intptr_t)'1');
	while (waiters_of(&mode_mu) != 1)
		ringo_yield();
	ringo_go(mode_locker, (void *)(intptr_t)'2');
	while (waiters_of(&mode_mu) != 2)
		ringo_yield();
	/* Hold the lock (not sleeping: the waiters are parked) long enough
	 * for them to starve. */
	hold_for_ns(3 * RINGO__MUTEX_STARVE_NS);

	/* Wake waiter 1 but barge in before it runs: it finds it has
	 * waited > 1 ms and switches the mutex to starvation mode. */
	ringo_mutex_unlock(&mode_mu);
	ringo_mutex_lock(&mode_mu);
	for (int i = 0; !(state_of(&mode_mu) & STARVING); i++) {
		if (i == 1000)
			TEST_FAIL("waiter did not switch to starvation mode");
		ringo_yield();
	}
	ASSERT_EQ(waiters_of(&mode_mu), 2);
	ASSERT(state_of(&mode_mu) & RINGO__MUTEX_LOCKED);
	/* A starving mutex is not up for grabs. */
	ringo_mutex_unlock(&mode_mu);
	ASSERT(!ringo_mutex_trylock(&mode_mu));
	/* Waiter 1 now holds it (by hand-off, it ran when we yielded in
	 * unlock) and yields inside; a newcomer must queue behind 2. */
	ringo_go(mode_locker, (void *)(intptr_t)'N');
	while (atomic_load(&order_nr) != 3)
		ringo_yield();
	while (state_of(&mode_mu) != 0)
		ringo_yield();
	ASSERT_EQ(memcmp(order, "12N", 3), 0);
	return 0;
}

static int main_one_p(void *arg)
{
	(void)arg;
	RUN(test_barging);
	RUN(test_starvation_mode);
	hog_yield_inside = true;
	RUN(test_hog);
	return 0;
}

static int main_two_p(void *arg)
{
	(void)arg;
	hog_yield_inside = false;
	RUN(test_hog);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_basic);
	RUN(test_exclusion);
	RUN(test_unlock_by_other);
	RUN(test_unlock_from_thread);
	RUN(test_many_mutexes);
	return 0;
}

/* ------------------------------------------------------ death tests */

static int unlock_unlocked_main(void *arg)
{
	(void)arg;
	ringo_mutex m = RINGO_MUTEX_INITIALIZER;
	ringo_mutex_unlock(&m);
	return 0;
}

static int unlock_twice_main(void *arg)
{
	(void)arg;
	ringo_mutex m = RINGO_MUTEX_INITIALIZER;
	ringo_mutex_lock(&m);
	ringo_mutex_unlock(&m);
	ringo_mutex_unlock(&m);
	return 0;
}

static void unlock_outside(void *arg)
{
	(void)arg;
	ringo_mutex m = RINGO_MUTEX_INITIALIZER;
	ringo_mutex_unlock(&m);
}

static void lock_held_outside(void *arg)
{
	(void)arg;
	ringo_mutex m = RINGO_MUTEX_INITIALIZER;
	ringo_mutex_lock(&m); /* free: fine on a plain thread */
	ringo_mutex_lock(&m);
}

int main(void)
{
	test_watchdog(110);
	if (ringo_run(main_fn, NULL))
		return 1;
	struct ringo_config one = { .maxprocs = 1 }, two = { .maxprocs = 2 };
	if (ringo_run_config(&one, main_one_p, NULL))
		return 1;
	if (ringo_run_config(&two, main_two_p, NULL))
		return 1;
	if (test_death_run("unlock of unlocked", unlock_unlocked_main, NULL,
			   "ringo_mutex_unlock: unlock of unlocked mutex"))
		return 1;
	if (test_death_run("unlock twice", unlock_twice_main, NULL,
			   "ringo_mutex_unlock: unlock of unlocked mutex"))
		return 1;
	if (test_death("unlock outside", unlock_outside, NULL,
		       "ringo_mutex_unlock: unlock of unlocked mutex"))
		return 1;
	if (test_death("contended lock outside", lock_held_outside, NULL,
		       "ringo_mutex_lock: would block outside a goroutine"))
		return 1;
	return 0;
}
