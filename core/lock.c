/*
 * core/lock.c - the contended path of the internal lock (core/lock.h).
 *
 * A waiter looks at the lock only a few times, with a long pause between
 * looks (as Go's lock2: 4 rounds of 30 PAUSEs, ~3 us on this EPYC, where
 * one PAUSE takes ~26 ns), then sleeps on the futex. Re-reading after
 * every single PAUSE was measured worse: with 4 producers and 4 consumers
 * on one channel and 2 Ps, the two Ms kept pulling the channel's cache
 * line from each other and a message took 60-110 ns instead of 17-20 ns
 * (mpmc in ringo-bench); backing off lets one M run a burst of operations
 * while the other waits.
 */
#include "lock.h"

#define SPIN_ROUNDS 4
#define PAUSES_PER_ROUND 30

void ringo__lock_slow(struct ringo__lock *l)
{
	for (int i = 0; i < SPIN_ROUNDS; i++) {
		for (int k = 0; k < PAUSES_PER_ROUND; k++)
			ringo__cpu_relax();
		uint32_t zero = 0;
		if (atomic_load_explicit(&l->state, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_weak_explicit(
			    &l->state, &zero, 1, memory_order_acquire,
			    memory_order_relaxed))
			return;
	}
	/* Mark contended; whoever holds it will wake us on unlock. */
	while (atomic_exchange_explicit(&l->state, 2, memory_order_acquire) != 0)
		ringo__futex_wait(&l->state, 2, -1);
}
