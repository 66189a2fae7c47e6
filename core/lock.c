/*
 * core/lock.c - the contended path of the internal lock (core/lock.h).
 */
#include <sched.h>

#include "lock.h"

#define SPIN_ROUNDS 64

void ringo__lock_slow(struct ringo__lock *l)
{
	for (int i = 0;; i++) {
		uint32_t zero = 0;
		/* Test before the CAS: waiters read the line shared instead
		 * of bouncing it between cores while the holder works. */
		if (atomic_load_explicit(&l->state, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_weak_explicit(
			    &l->state, &zero, 1, memory_order_acquire,
			    memory_order_relaxed))
			return;
		if (i < SPIN_ROUNDS)
			ringo__cpu_relax();
		else
			sched_yield(); /* the holder may be preempted */
	}
}
