/*
 * core/sync_wg.c - ringo_wg: Go's sync.WaitGroup in C.
 *
 * Counter and waiter count share one 64-bit word, so that "the counter
 * reached zero" and "these are the waiters to release" are one atomic
 * observation: a waiter registers with a CAS that fails if the counter
 * changed, and the add that takes the counter to zero sees every waiter
 * that registered before it. That add resets the word to zero and
 * releases the waiters through the semaphore, one unit each.
 *
 * A wait group is reusable, but only between rounds: a positive add that
 * restarts the counter from zero while waiters are still registered (the
 * releasing add has not reset the word yet) is a race in the caller, and
 * panics, as does a new round that starts before a released waiter has
 * returned.
 */
#include <ringo/sync.h>

#include "sync_internal.h"

/* state: counter in the high 32 bits (signed), waiters in the low 32.
 * Counter moved by ringo_wg_add; waiters incremented by ringo_wg_wait's
 * CAS while the counter is non-zero; the whole word reset to 0 by the add
 * that takes the counter to zero with waiters present. Seq-cst throughout:
 * the reset store must be ordered before the releases the waiters see.
 * sema: units for the registered waiters, one each. */
struct wg {
	_Atomic uint64_t state;
	_Atomic uint32_t sema;
} RINGO__MAY_ALIAS;

RINGO__SYNC_VIEW_OK(struct wg, ringo_wg);

static struct wg *wg_of(ringo_wg *wg)
{
	return (struct wg *)(void *)wg;
}

void ringo_wg_init(ringo_wg *wg)
{
	struct wg *w = wg_of(wg);

	atomic_init(&w->state, 0);
	atomic_init(&w->sema, 0);
}

void ringo_wg_add(ringo_wg *wg, int delta)
{
	struct wg *w = wg_of(wg);
	uint64_t state = atomic_fetch_add(&w->state,
					  (uint64_t)(int64_t)delta << 32) +
			 ((uint64_t)(int64_t)delta << 32);
	int32_t v = (int32_t)(state >> 32);
	uint32_t waiters = (uint32_t)state;

	if (v < 0)
		ringo__panic("ringo_wg_add", "negative WaitGroup counter");
	if (waiters != 0 && delta > 0 && v == delta)
		ringo__panic("ringo_wg_add", "WaitGroup misuse: add called "
			     "concurrently with wait");
	if (v > 0 || waiters == 0)
		return;
	/* The counter is zero and goroutines wait: nobody may change the
	 * word now (a wait would not register at zero; an add would be
	 * misuse), so check that nobody did, then release them all. */
	if (atomic_load(&w->state) != state)
		ringo__panic("ringo_wg_add", "WaitGroup misuse: add called "
			     "concurrently with wait");
	atomic_store(&w->state, 0);
	/* All at once: a released waiter may free the wait group. */
	ringo__semrelease_n(&w->sema, waiters);
}

void ringo_wg_done(ringo_wg *wg)
{
	ringo_wg_add(wg, -1);
}

void ringo_wg_wait(ringo_wg *wg)
{
	struct wg *w = wg_of(wg);
	uint64_t state = atomic_load(&w->state);

	for (;;) {
		if ((int32_t)(state >> 32) == 0)
			return;
		/* Register as a waiter; fails if the counter moved. */
		if (atomic_compare_exchange_weak(&w->state, &state, state + 1))
			break;
	}
	ringo__semacquire(&w->sema, false, RINGO_WAIT_WAITGROUP, wg,
			  "ringo_wg_wait");
	if (atomic_load(&w->state) != 0)
		ringo__panic("ringo_wg_wait", "WaitGroup is reused before "
			     "previous wait has returned");
}
