/*
 * tests/sync_once.c - ringo_once: runs its function exactly once, every
 * caller returns only after it has finished (checked under contention
 * from many goroutines while the function keeps yielding), onces are
 * independent, and a recursive call panics.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "test.h"

static int runs;

static void count_run(void *arg)
{
	runs++;
	*(int *)arg += 10;
}

static int test_basic(void)
{
	ringo_once a = RINGO_ONCE_INIT, b;
	int x = 0;

	memset(&b, 0, sizeof(b));
	ringo_once_do(&a, count_run, &x);
	ringo_once_do(&a, count_run, &x);
	ASSERT_EQ(runs, 1);
	ASSERT_EQ(x, 10);
	ringo_once_do(&b, count_run, &x);
	ringo_once_do(&b, count_run, &x);
	ASSERT_EQ(runs, 2);
	ASSERT_EQ(x, 20);
	return 0;
}

/* ------------------------------------------------------ contention */

#define CALLERS TEST_SCALE(2000, 2000, 500)
#define ONCES 4

static ringo_once onces[ONCES];
static _Atomic int once_runs[ONCES];
static int initialized[ONCES];      /* plain: the once orders it */
static _Atomic int early;           /* callers that returned too soon */
static _Atomic int started;
static ringo_wg callers_wg;

static void slow_init(void *arg)
{
	intptr_t i = (intptr_t)arg;

	atomic_fetch_add(&once_runs[i], 1);
	/* Let the other callers pile up on the once meanwhile. */
	for (int k = 0; k < 100; k++)
		ringo_yield();
	initialized[i] = 1;
}

static void caller(void *arg)
{
	intptr_t i = (intptr_t)arg % ONCES;

	atomic_fetch_add(&started, 1);
	ringo_once_do(&onces[i], slow_init, (void *)i);
	if (!initialized[i])
		atomic_fetch_add(&early, 1);
	ringo_wg_done(&callers_wg);
}

static int test_contention(void)
{
	ringo_wg_add(&callers_wg, CALLERS);
	for (intptr_t i = 0; i < CALLERS; i++)
		ringo_go(caller, (void *)i);
	ringo_wg_wait(&callers_wg);
	ASSERT_EQ(atomic_load(&started), CALLERS);
	ASSERT_EQ(atomic_load(&early), 0);
	for (int i = 0; i < ONCES; i++) {
		ASSERT_EQ(atomic_load(&once_runs[i]), 1);
		ASSERT_EQ(initialized[i], 1);
	}
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_basic);
	RUN(test_contention);
	return 0;
}

/* ------------------------------------------------------ death tests */

static ringo_once rec_once = RINGO_ONCE_INIT;

static void recurse(void *arg)
{
	ringo_once_do(&rec_once, recurse, arg);
}

static int recursive_main(void *arg)
{
	ringo_once_do(&rec_once, recurse, arg);
	return 0;
}

static ringo_once exit_once = RINGO_ONCE_INIT;

static void exit_now(void *arg)
{
	(void)arg;
	ringo_exit();
}

static void once_then_exit(void *arg)
{
	ringo_once_do(&exit_once, exit_now, arg);
}

static int exit_in_once_main(void *arg)
{
	(void)arg;
	ringo_go(once_then_exit, NULL);
	ringo_chan_recv(NULL, NULL); /* until the panic ends the process */
	return 0;
}

int main(void)
{
	test_watchdog(110);
	if (ringo_run(main_fn, NULL))
		return 1;
	if (test_death_run("recursive", recursive_main, NULL,
			   "ringo_once_do: called recursively") ||
	    test_death_run("exit in the function", exit_in_once_main, NULL,
			   "ringo_exit: called from a ringo_once_do function"))
		return 1;
	return 0;
}
