/*
 * core/sync_internal.h - what the sync primitives (core/sync_*.c) share:
 * the Go-style semaphore they park on, the layout of the mutex that the
 * rwmutex and once embed, and the casts from the public opaque storage to
 * each type's real layout.
 *
 * The public types (include/ringo/sync.h) are arrays of uint64_t so that
 * users can embed and statically initialise them. Each file views that
 * storage through its own struct, declared may_alias so that the compiler
 * does not assume the two types cannot overlap; a static assertion keeps
 * each view within its public size.
 */
#ifndef RINGO_CORE_SYNC_INTERNAL_H
#define RINGO_CORE_SYNC_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <ringo/sync.h>

#include "runtime.h"

#define RINGO__MAY_ALIAS __attribute__((may_alias))

/* The public type P is big enough and aligned enough for the view V. */
#define RINGO__SYNC_VIEW_OK(V, P)                                         \
	_Static_assert(sizeof(V) <= sizeof(P) &&                           \
			       _Alignof(V) <= _Alignof(P),                 \
		       #V " does not fit in " #P)

/* ------------------------------------------------------------ sema */

/* A semaphore on a uint32_t count at `addr`, as Go's runtime sema.go
 * (runtime_Semacquire / runtime_Semrelease): the count lives in the
 * primitive, the waiters in a global hash table of wait queues keyed by
 * address. Used by mutex, rwmutex and wait group.
 *
 * acquire: take one unit, parking in the address's queue while the count
 * is zero. lifo puts the caller at the head of the queue instead of the
 * tail (a mutex waiter that was woken and lost the race again). reason
 * and obj are shown in dumps. Must run on a goroutine once it would wait;
 * `call` names the public function in that panic.
 *
 * release: add one unit and wake the first waiter, if any. With handoff,
 * the unit goes straight to that waiter (nobody can take it in between)
 * and the caller yields so that the waiter runs at once on this P: the
 * starvation-mode mutex hand-off. Callable from any thread. */
void ringo__semacquire(_Atomic uint32_t *addr, bool lifo,
		       enum ringo__wait_reason reason, void *obj,
		       const char *call);
void ringo__semrelease(_Atomic uint32_t *addr, bool handoff);
/* release n units at once, waking up to n waiters (no hand-off). Once
 * the units are added it never touches *addr again, so the caller's
 * primitive may be freed by a waiter as soon as that waiter returns. */
void ringo__semrelease_n(_Atomic uint32_t *addr, uint32_t n);
/* Forget every queued waiter: for ringo_run's teardown, after the last
 * goroutine stopped. Goroutines still parked when main returns are
 * discarded with their stacks, where their queue entries live; without
 * this a later ringo_run would walk those entries. */
void ringo__sema_teardown(void);

/* ----------------------------------------------------------- mutex */

/* The mutex's state word, as Go's sync.Mutex:
 *   bit 0  LOCKED    held. Set by the locker's CAS (or, in starvation
 *                    mode, by the waiter the lock was handed to); cleared
 *                    by unlock's atomic add.
 *   bit 1  WOKEN     a waiter has been woken (or a spinner is about to
 *                    take the lock), so unlock need not wake another.
 *                    Set by unlock or a spinning locker, cleared by that
 *                    goroutine's next CAS.
 *   bit 2  STARVING  hand-off mode. Set by a waiter that waited > 1 ms,
 *                    cleared by the waiter that takes the lock last or
 *                    after a short wait.
 *   bits 3+          number of goroutines parked (or about to park) on
 *                    sema; incremented by a locker's CAS, decremented by
 *                    the unlocker that wakes one (normal mode) or by the
 *                    woken waiter (starvation mode).
 * `sema` is the count the waiters park on (ringo__semacquire). */
struct ringo__mutex {
	_Atomic int32_t state;
	_Atomic uint32_t sema;
} RINGO__MAY_ALIAS;

#define RINGO__MUTEX_LOCKED 1
#define RINGO__MUTEX_WOKEN 2
#define RINGO__MUTEX_STARVING 4
#define RINGO__MUTEX_WAITER_SHIFT 3
#define RINGO__MUTEX_STARVE_NS 1000000 /* 1 ms, Go's threshold */

void ringo__mutex_lock_slow(struct ringo__mutex *m,
			    enum ringo__wait_reason reason, void *obj);
void ringo__mutex_unlock_slow(struct ringo__mutex *m, int32_t new_state);

/* Lock with a wait reason and object for dumps (the rwmutex and once
 * embed a mutex and report waits on themselves). */
static inline void ringo__mutex_lock(struct ringo__mutex *m,
				     enum ringo__wait_reason reason, void *obj)
{
	int32_t zero = 0;

	/* Acquire: pairs with the release add in ringo__mutex_unlock (and
	 * every later RMW of the word continues that release sequence). */
	if (ringo__likely(atomic_compare_exchange_strong_explicit(
		    &m->state, &zero, RINGO__MUTEX_LOCKED,
		    memory_order_acquire, memory_order_relaxed)))
		return;
	ringo__mutex_lock_slow(m, reason, obj);
}

static inline void ringo__mutex_unlock(struct ringo__mutex *m)
{
	/* Release: pairs with the locker's acquire CAS above. */
	int32_t new_state = atomic_fetch_sub_explicit(&m->state,
						      RINGO__MUTEX_LOCKED,
						      memory_order_release) -
			    RINGO__MUTEX_LOCKED;
	if (ringo__unlikely(new_state != 0))
		ringo__mutex_unlock_slow(m, new_state);
}

/* Lock if free, never waiting; true if taken. A held or starving mutex
 * is not ours to take (Go's TryLock). */
static inline bool ringo__mutex_trylock(struct ringo__mutex *m)
{
	int32_t old = atomic_load_explicit(&m->state, memory_order_relaxed);

	if (old & (RINGO__MUTEX_LOCKED | RINGO__MUTEX_STARVING))
		return false;
	/* Acquire: pairs with the unlocker's release add. */
	return atomic_compare_exchange_strong_explicit(
		&m->state, &old, old | RINGO__MUTEX_LOCKED,
		memory_order_acquire, memory_order_relaxed);
}

static inline struct ringo__mutex *ringo__mutex_of(ringo_mutex *m)
{
	return (struct ringo__mutex *)(void *)m;
}

#endif
