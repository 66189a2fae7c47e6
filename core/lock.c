/*
 * core/lock.c - the contended path of the internal lock (core/lock.h).
 *
 * A waiter looks at the lock only a few times, with a long pause between
 * looks (as Go's lock2: 4 rounds of 30 PAUSEs, ~3 us on this EPYC, where
 * one PAUSE takes ~26 ns). Re-reading after every single PAUSE was
 * measured worse: with 4 producers and 4 consumers on one channel and 2
 * Ps, the two Ms kept pulling the channel's cache line from each other
 * and a message took 60-110 ns instead of 17-20 ns (mpmc in ringo-bench);
 * backing off lets one M run a burst of operations while the other waits.
 *
 * A waiter still locked out after that is most likely behind a holder the
 * kernel preempted. It sleeps on the lock word, 1 us at first and doubling
 * up to 1 ms: unlock never wakes it (see core/lock.h), so the sleep is
 * bounded, and it gives the CPU to the holder instead of spinning against
 * it. FUTEX_WAIT returns at once if the word is already 0.
 */
#include <stdbool.h>

#include "futex.h"
#include "lock.h"
#include "runtime.h"

#define SPIN_ROUNDS 4
#define PAUSES_PER_ROUND 30
#define SLEEP_MIN_NS 1000
#define SLEEP_MAX_NS 1000000

void ringo__lock_slow(struct ringo__lock *l)
{
	for (int i = 0; i < SPIN_ROUNDS; i++) {
		for (int k = 0; k < PAUSES_PER_ROUND; k++)
			ringo__cpu_relax();
		if (ringo__trylock(l))
			return;
	}
	for (int64_t ns = SLEEP_MIN_NS;; ns = ns < SLEEP_MAX_NS ? 2 * ns : ns) {
		ringo__futex_wait(&l->state, 1, ns);
		if (ringo__trylock(l))
			return;
	}
}

bool ringo__park_unlock(struct ringo__g *g, void *lock)
{
	(void)g;
	ringo__unlock(lock);
	return true;
}
