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
 * State word: 0 unlocked, 1 locked. Lockers CAS 0->1; one that finds it
 * taken backs off a few times and then sleeps in short, growing, bounded
 * futex waits (core/lock.c). Unlock is a release store - a plain store on
 * x86-64 - so an uncontended lock and unlock cost one locked instruction,
 * which a channel hand-off pays twice per round trip.
 *
 * Rejected: unlock waking sleepers (states 0/1/2, Go's lock_futex). Its
 * unlock must look for sleepers after its store, which takes a locked
 * exchange (a store-load fence) on every unlock: 3-5 ns more per
 * ping-pong round trip here. The critical sections are a few hundred
 * instructions and never block, so a waiter only sleeps when the holder
 * was preempted, and then a sleep of a bounded length loses little.
 * Also rejected: sched_yield between tries (a busy loop when no other
 * thread is runnable on that CPU).
 */
#ifndef RINGO_CORE_LOCK_H
#define RINGO_CORE_LOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

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

	/* Acquire pairs with the release store in ringo__unlock. */
	if (__builtin_expect(atomic_compare_exchange_strong_explicit(
				     &l->state, &zero, 1, memory_order_acquire,
				     memory_order_relaxed), 1))
		return;
	ringo__lock_slow(l);
}

/* Take the lock only if it is free now; true if taken. Tests before the
 * CAS: waiters read the line shared instead of bouncing it between cores
 * while the holder works. */
static inline bool ringo__trylock(struct ringo__lock *l)
{
	uint32_t zero = 0;

	return atomic_load_explicit(&l->state, memory_order_relaxed) == 0 &&
	       atomic_compare_exchange_strong_explicit(&l->state, &zero, 1,
						       memory_order_acquire,
						       memory_order_relaxed);
}

static inline void ringo__unlock(struct ringo__lock *l)
{
	/* Pairs with the acquire CAS in ringo__lock / ringo__lock_slow. */
	atomic_store_explicit(&l->state, 0, memory_order_release);
}

#endif
