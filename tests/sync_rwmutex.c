/*
 * tests/sync_rwmutex.c - ringo_rwmutex: readers hold it together, a
 * writer holds it alone, a pending writer keeps new readers out (writer
 * preference), trylock/tryrlock, and the misuse panics.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "test.h"

/* ---------------------------------------------------------- basics */

static ringo_rwmutex static_rw = RINGO_RWMUTEX_INITIALIZER;

static int test_basic(void)
{
	ringo_rwmutex rw, zeroed;

	memset(&zeroed, 0, sizeof(zeroed));
	ringo_rwmutex_init(&rw);
	ringo_rwmutex *all[] = { &static_rw, &rw, &zeroed };
	for (int i = 0; i < 3; i++) {
		ringo_rwmutex *m = all[i];
		ringo_rwmutex_rlock(m);
		ASSERT(ringo_rwmutex_tryrlock(m));
		ASSERT(!ringo_rwmutex_trylock(m));
		ringo_rwmutex_runlock(m);
		ringo_rwmutex_runlock(m);
		ASSERT(ringo_rwmutex_trylock(m));
		ASSERT(!ringo_rwmutex_tryrlock(m));
		ASSERT(!ringo_rwmutex_trylock(m));
		ringo_rwmutex_unlock(m);
		ringo_rwmutex_lock(m);
		ringo_rwmutex_unlock(m);
		ASSERT(ringo_rwmutex_tryrlock(m));
		ringo_rwmutex_runlock(m);
	}
	return 0;
}

/* ------------------------------------------------ readers together */

/* Each reader waits, holding the read lock, until all READERS hold it:
 * if readers excluded each other this would hang (the watchdog fails it). */
#define READERS 8

static ringo_rwmutex par_rw;
static _Atomic int par_inside;
static ringo_wg par_wg;

static void par_reader(void *arg)
{
	(void)arg;
	ringo_rwmutex_rlock(&par_rw);
	atomic_fetch_add(&par_inside, 1);
	while (atomic_load(&par_inside) < READERS)
		ringo_yield();
	ringo_rwmutex_runlock(&par_rw);
	ringo_wg_done(&par_wg);
}

static int test_parallel_readers(void)
{
	for (int round = 0; round < 10; round++) {
		atomic_store(&par_inside, 0);
		ringo_wg_add(&par_wg, READERS);
		for (int i = 0; i < READERS; i++)
			ringo_go(par_reader, NULL);
		ringo_wg_wait(&par_wg);
		ASSERT(ringo_rwmutex_trylock(&par_rw));
		ringo_rwmutex_unlock(&par_rw);
	}
	return 0;
}

/* --------------------------------------------------- writer exclusion */

#define MIX_READERS 12
#define MIX_WRITERS 4
#define MIX_ITERS TEST_SCALE(5000, 2000, 500)

static ringo_rwmutex mix_rw;
static _Atomic int mix_readers, mix_writers, mix_bad;
static _Atomic int mix_max_readers;
static long mix_value; /* written by writers only, under the write lock */
static ringo_wg mix_wg;

static void mix_reader(void *arg)
{
	(void)arg;
	for (int i = 0; i < MIX_ITERS; i++) {
		ringo_rwmutex_rlock(&mix_rw);
		int r = atomic_fetch_add(&mix_readers, 1) + 1;
		int m = atomic_load(&mix_max_readers);
		while (r > m &&
		       !atomic_compare_exchange_weak(&mix_max_readers, &m, r))
			;
		if (atomic_load(&mix_writers) != 0)
			atomic_store(&mix_bad, 1);
		long v = mix_value;
		if (i % 8 == 0)
			ringo_yield();
		if (mix_value != v)
			atomic_store(&mix_bad, 2);
		atomic_fetch_sub(&mix_readers, 1);
		ringo_rwmutex_runlock(&mix_rw);
	}
	ringo_wg_done(&mix_wg);
}

static void mix_writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < MIX_ITERS / 4; i++) {
		ringo_rwmutex_lock(&mix_rw);
		if (atomic_fetch_add(&mix_writers, 1) != 0 ||
		    atomic_load(&mix_readers) != 0)
			atomic_store(&mix_bad, 3);
		mix_value++;
		if (i % 4 == 0)
			ringo_yield();
		atomic_fetch_sub(&mix_writers, 1);
		ringo_rwmutex_unlock(&mix_rw);
	}
	ringo_wg_done(&mix_wg);
}

static int test_writer_exclusion(void)
{
	ringo_wg_add(&mix_wg, MIX_READERS + MIX_WRITERS);
	for (int i = 0; i < MIX_READERS + MIX_WRITERS; i++)
		ringo_go(i % 4 == 0 ? mix_writer : mix_reader, NULL);
	ringo_wg_wait(&mix_wg);
	ASSERT_EQ(atomic_load(&mix_bad), 0);
	ASSERT_EQ(mix_value, (long)MIX_WRITERS * (MIX_ITERS / 4));
	ASSERT_GE(atomic_load(&mix_max_readers), 1);
	return 0;
}

/* ------------------------------------------- writer preference, one P */

static ringo_rwmutex pref_rw;
static char pref_order[4];
static _Atomic int pref_nr;
static _Atomic int pref_reader_trying;

static void pref_writer(void *arg)
{
	(void)arg;
	ringo_rwmutex_lock(&pref_rw);
	pref_order[atomic_fetch_add(&pref_nr, 1)] = 'W';
	ringo_yield();
	ringo_rwmutex_unlock(&pref_rw);
}

static void pref_reader(void *arg)
{
	(void)arg;
	atomic_store(&pref_reader_trying, 1);
	ringo_rwmutex_rlock(&pref_rw);
	pref_order[atomic_fetch_add(&pref_nr, 1)] = 'R';
	ringo_rwmutex_runlock(&pref_rw);
}

/* Main reads; a writer queues; a later reader must wait behind the
 * writer although only readers hold the lock. */
static int test_writer_preference(void)
{
	ringo_rwmutex_rlock(&pref_rw);
	ringo_go(pref_writer, NULL);
	/* tryrlock fails exactly when a writer is pending. */
	while (ringo_rwmutex_tryrlock(&pref_rw)) {
		ringo_rwmutex_runlock(&pref_rw);
		ringo_yield();
	}
	ringo_go(pref_reader, NULL);
	/* On one P the reader runs until it parks in rlock. */
	while (!atomic_load(&pref_reader_trying))
		ringo_yield();
	ASSERT_EQ(atomic_load(&pref_nr), 0);
	ringo_rwmutex_runlock(&pref_rw); /* the writer goes first */
	while (atomic_load(&pref_nr) != 2)
		ringo_yield();
	ASSERT_EQ(memcmp(pref_order, "WR", 2), 0);
	ASSERT(ringo_rwmutex_trylock(&pref_rw));
	ringo_rwmutex_unlock(&pref_rw);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_basic);
	RUN(test_parallel_readers);
	RUN(test_writer_exclusion);
	return 0;
}

static int main_one_p(void *arg)
{
	(void)arg;
	RUN(test_writer_preference);
	RUN(test_parallel_readers);
	return 0;
}

/* ------------------------------------------------------ death tests */

static int runlock_unlocked(void *arg)
{
	(void)arg;
	ringo_rwmutex rw = RINGO_RWMUTEX_INITIALIZER;
	ringo_rwmutex_runlock(&rw);
	return 0;
}

static int runlock_write_locked(void *arg)
{
	(void)arg;
	ringo_rwmutex rw = RINGO_RWMUTEX_INITIALIZER;
	ringo_rwmutex_lock(&rw);
	ringo_rwmutex_runlock(&rw);
	return 0;
}

static int unlock_unlocked(void *arg)
{
	(void)arg;
	ringo_rwmutex rw = RINGO_RWMUTEX_INITIALIZER;
	ringo_rwmutex_unlock(&rw);
	return 0;
}

static int unlock_read_locked(void *arg)
{
	(void)arg;
	ringo_rwmutex rw = RINGO_RWMUTEX_INITIALIZER;
	ringo_rwmutex_rlock(&rw);
	ringo_rwmutex_unlock(&rw);
	return 0;
}

static int (*const death_mains[])(void *) = {
	runlock_unlocked, runlock_write_locked, unlock_unlocked,
	unlock_read_locked,
};

int main(void)
{
	test_watchdog(110);
	if (ringo_run(main_fn, NULL))
		return 1;
	struct ringo_config one = { .maxprocs = 1 };
	if (ringo_run_config(&one, main_one_p, NULL))
		return 1;
	static const char *const want[] = {
		"ringo_rwmutex_runlock: runlock of unlocked rwmutex",
		"ringo_rwmutex_runlock: runlock of unlocked rwmutex",
		"ringo_rwmutex_unlock: unlock of unlocked rwmutex",
		"ringo_rwmutex_unlock: unlock of unlocked rwmutex",
	};
	for (int i = 0; i < 4; i++)
		if (test_death_run(want[i], death_mains[i], NULL, want[i]))
			return 1;
	return 0;
}
