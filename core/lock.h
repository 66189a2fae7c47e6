/*
 * core/lock.h - the runtime's internal lock for short critical sections
 * (a channel's queues, a timer heap, a poll descriptor).
 *
 * It blocks the M, not the goroutine, so hold it only for a few hundred
 * instructions and never across a park. Unlike a pthread mutex it may be
 * released by a different context than the one that took it, which park's
 * unlock callback needs (the lock is taken by a G and released by the next
 * context on the same M, after the switch).
 *
 * State word: 0 unlocked, 1 locked, 2 locked with possible sleepers.
 * Lockers CAS 0->1, back off a few times (core/lock.c), then swap in 2
 * and futex-wait; unlock swaps in 0 and wakes one sleeper if the old value
 * was 2.
 */
#ifndef RINGO_CORE_LOCK_H
#define RINGO_CORE_LOCK_H

#include <stdatomic.h>
#include <stdint.h>

#include "futex.h"

struct ringo__lock {
	_Atomic uint32_t state;
};

#define RINGO__LOCK_INIT { 0 }

static inline void ringo__cpu_relax(void)
{
#if defined(__x86_64__)
	__asm__ volatile("pause");
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

void ringo__lock_slow(struct ringo__lock *l);

static inline void ringo__lock(struct ringo__lock *l)
{
	uint32_t zero = 0;

	/* Acquire pairs with the release exchange in ringo__unlock. */
	if (__builtin_expect(atomic_compare_exchange_strong_explicit(
				     &l->state, &zero, 1, memory_order_acquire,
				     memory_order_relaxed), 1))
		return;
	ringo__lock_slow(l);
}

static inline void ringo__unlock(struct ringo__lock *l)
{
	if (__builtin_expect(atomic_exchange_explicit(&l->state, 0,
						      memory_order_release) == 2,
			     0))
		ringo__futex_wake(&l->state, 1);
}

#endif
