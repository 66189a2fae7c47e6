/*
 * tests/sync_wg.c - ringo_wg: 100,000 goroutines counted down, many
 * waiters released at once, reuse across rounds, a wait group freed by
 * its waiter as soon as wait returns, and the misuse panics (negative
 * counter, add racing with the release of waiters, a new round before a
 * released waiter returned, wait outside a goroutine).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <ringo/ringo.h>

#include "test.h"

static int test_zero(void)
{
	ringo_wg a = RINGO_WG_INITIALIZER, b;

	ringo_wg_init(&b);
	ringo_wg_wait(&a); /* zero: returns at once */
	ringo_wg_add(&b, 3);
	ringo_wg_done(&b);
	ringo_wg_add(&b, -2);
	ringo_wg_wait(&b);
	ASSERT_EQ(sizeof(ringo_wg), 16);
	return 0;
}

/* ----------------------------------------------- 100,000 goroutines */

#define MANY TEST_SCALE(100000, 100000, 4000)

static ringo_wg many_wg;
static long many_ran[MANY]; /* plain: ordered by done -> wait */

static void many_worker(void *arg)
{
	many_ran[(intptr_t)arg]++;
	ringo_wg_done(&many_wg);
}

static int test_many_goroutines(void)
{
	ringo_wg_add(&many_wg, MANY);
	for (intptr_t i = 0; i < MANY; i++)
		ringo_go(many_worker, (void *)i);
	ringo_wg_wait(&many_wg);
	for (long i = 0; i < MANY; i++)
		if (many_ran[i] != 1)
			TEST_FAIL("goroutine %ld ran %ld times", i, many_ran[i]);
	return 0;
}

/* --------------------------------------------------- many waiters */

#define WAITERS TEST_SCALE(2000, 2000, 500)

static ringo_wg gate, waiters_done;
static _Atomic int gate_open, early, waiting;

static void gate_waiter(void *arg)
{
	(void)arg;
	atomic_fetch_add(&waiting, 1);
	ringo_wg_wait(&gate);
	if (!atomic_load(&gate_open))
		atomic_fetch_add(&early, 1);
	ringo_wg_done(&waiters_done);
}

static int test_many_waiters(void)
{
	for (int round = 0; round < 3; round++) {
		atomic_store(&waiting, 0);
		atomic_store(&gate_open, 0);
		ringo_wg_add(&gate, 1);
		ringo_wg_add(&waiters_done, WAITERS);
		for (int i = 0; i < WAITERS; i++)
			ringo_go(gate_waiter, NULL);
		while (atomic_load(&waiting) < WAITERS)
			ringo_yield();
		atomic_store(&gate_open, 1);
		ringo_wg_done(&gate);
		ringo_wg_wait(&waiters_done);
		ASSERT_EQ(atomic_load(&early), 0);
	}
	return 0;
}

/* --------------------------------------------------------- reuse */

#define ROUNDS TEST_SCALE(200, 100, 50)
#define PER_ROUND 16

static ringo_wg reuse_wg;
static _Atomic int reuse_count;

static void reuse_worker(void *arg)
{
	(void)arg;
	if (atomic_fetch_add(&reuse_count, 1) % 3 == 0)
		ringo_yield();
	ringo_wg_done(&reuse_wg);
}

static int test_reuse(void)
{
	for (int r = 0; r < ROUNDS; r++) {
		ringo_wg_add(&reuse_wg, PER_ROUND);
		for (int i = 0; i < PER_ROUND; i++)
			ringo_go(reuse_worker, NULL);
		ringo_wg_wait(&reuse_wg);
		ASSERT_EQ(atomic_load(&reuse_count), (r + 1) * PER_ROUND);
	}
	return 0;
}

/* ------------------------------------- freed as soon as wait returns */

/* Three goroutines wait on a heap wait group; the last of them to return
 * frees it, possibly while the final ringo_wg_done is still releasing
 * the others. Under ASan a touch after the release is an error. */
struct shared_wg {
	ringo_wg wg;
	_Atomic int refs;
};

static ringo_wg freed_done;

static void freeing_waiter(void *arg)
{
	struct shared_wg *s = arg;

	ringo_wg_wait(&s->wg);
	if (atomic_fetch_sub(&s->refs, 1) == 1)
		free(s);
	ringo_wg_done(&freed_done);
}

static void freeing_doner(void *arg)
{
	ringo_wg_done(&((struct shared_wg *)arg)->wg);
}

static int test_freed_after_wait(void)
{
	for (int r = 0; r < TEST_SCALE(2000, 500, 100); r++) {
		struct shared_wg *s = calloc(1, sizeof(*s));
		ASSERT(s);
		atomic_store(&s->refs, 3);
		ringo_wg_add(&s->wg, 1);
		ringo_wg_add(&freed_done, 3);
		for (int i = 0; i < 3; i++)
			ringo_go(freeing_waiter, s);
		ringo_go(freeing_doner, s);
		ringo_wg_wait(&freed_done);
	}
	return 0;
}

/* ------------------------------------------- done from a plain thread */

/* A thread outside the runtime (a C library's callback thread, say)
 * counts down; the goroutine waiting is woken through the global queue.
 * Main keeps running meanwhile (yielding), as a program whose other
 * goroutines are busy would. */
static ringo_wg thread_wg;
static _Atomic int thread_waited;

static void *thread_doner(void *arg)
{
	(void)arg;
	ringo_wg_done(&thread_wg);
	return NULL;
}

static void thread_waiter(void *arg)
{
	(void)arg;
	ringo_wg_wait(&thread_wg);
	atomic_store(&thread_waited, 1);
}

static int test_done_from_thread(void)
{
	for (int r = 0; r < TEST_SCALE(200, 100, 20); r++) {
		pthread_t t[2];
		atomic_store(&thread_waited, 0);
		ringo_wg_add(&thread_wg, 2);
		ringo_go(thread_waiter, NULL);
		for (int i = 0; i < 2; i++)
			ASSERT_EQ(pthread_create(&t[i], NULL, thread_doner, NULL), 0);
		while (!atomic_load(&thread_waited))
			ringo_yield();
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
	}
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_zero);
	RUN(test_many_goroutines);
	RUN(test_many_waiters);
	RUN(test_reuse);
	RUN(test_freed_after_wait);
	RUN(test_done_from_thread);
	return 0;
}

/* ------------------------------------------------------ death tests */

static int negative_main(void *arg)
{
	(void)arg;
	ringo_wg wg = RINGO_WG_INITIALIZER;
	ringo_wg_add(&wg, 1);
	ringo_wg_done(&wg);
	ringo_wg_done(&wg);
	return 0;
}

/* The window between the add that takes the counter to zero and its
 * reset of the state word is too short to hit on purpose, so fake it:
 * the first word of a ringo_wg is its state (counter in the high half,
 * waiters in the low half). Counter 0 with one waiter registered is
 * exactly what a concurrent add would see. */
static int misuse_main(void *arg)
{
	(void)arg;
	ringo_wg wg = RINGO_WG_INITIALIZER;
	wg._opaque[0] = 1;
	ringo_wg_add(&wg, 1);
	return 0;
}

static ringo_wg reused;

static void reused_waiter(void *arg)
{
	(void)arg;
	ringo_wg_wait(&reused);
}

/* A new round starts (the add) after the done that released a waiter but
 * before that waiter ran: on one P the releaser keeps running until it
 * parks, so the waiter finds the counter up again when it wakes. */
static int reuse_early_main(void *arg)
{
	(void)arg;
	ringo_wg_add(&reused, 1);
	ringo_go(reused_waiter, NULL);
	test_wait_parked(1, NULL, "sync.WaitGroup.Wait", &reused);
	ringo_wg_done(&reused);
	ringo_wg_add(&reused, 1);
	ringo_yield();
	return 0;
}

static void reuse_early_one_p(void *arg)
{
	struct ringo_config one = { .maxprocs = 1 };

	exit(ringo_run_config(&one, reuse_early_main, arg));
}

static void negative_outside(void *arg)
{
	(void)arg;
	ringo_wg wg = RINGO_WG_INITIALIZER;
	ringo_wg_add(&wg, -1);
}

static void wait_outside(void *arg)
{
	(void)arg;
	ringo_wg wg = RINGO_WG_INITIALIZER;
	ringo_wg_add(&wg, 1);
	ringo_wg_wait(&wg);
}

int main(void)
{
	test_watchdog(110);
	if (ringo_run(main_fn, NULL))
		return 1;
	if (test_death_run("negative", negative_main, NULL,
			   "ringo_wg_add: negative WaitGroup counter"))
		return 1;
	if (test_death("negative outside", negative_outside, NULL,
		       "ringo_wg_add: negative WaitGroup counter"))
		return 1;
	if (test_death_run("misuse", misuse_main, NULL,
			   "ringo_wg_add: WaitGroup misuse"))
		return 1;
	if (test_death("reused early", reuse_early_one_p, NULL,
		       "ringo_wg_wait: WaitGroup is reused before previous "
		       "wait has returned"))
		return 1;
	if (test_death("wait outside", wait_outside, NULL,
		       "ringo_wg_wait: would block outside a goroutine"))
		return 1;
	return 0;
}
