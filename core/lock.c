/*
 * core/lock.c - the contended path of the internal lock (core/lock.h).
 */
#include "lock.h"

#define SPIN_ROUNDS 64

void ringo__lock_slow(struct ringo__lock *l)
{
	for (int i = 0; i < SPIN_ROUNDS; i++) {
		uint32_t zero = 0;
		if (atomic_load_explicit(&l->state, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_weak_explicit(
			    &l->state, &zero, 1, memory_order_acquire,
			    memory_order_relaxed))
			return;
		ringo__cpu_relax();
	}
	/* Mark contended; whoever holds it will wake us on unlock. */
	while (atomic_exchange_explicit(&l->state, 2, memory_order_acquire) != 0)
		ringo__futex_wait(&l->state, 2, -1);
}
