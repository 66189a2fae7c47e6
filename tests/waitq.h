/*
 * tests/waitq.h - a minimal wait queue on the internal park/ready
 * interface, for the core tests that must park goroutines without
 * depending on channels.
 *
 * Every section that holds q->lock runs with preemption disabled. The
 * internal lock blocks Ms, not goroutines, and this header is compiled
 * into the test program, whose code sysmon may preempt (libringo's it
 * never does): a goroutine preempted while holding the lock would leave
 * every M waiting on it, with nobody left to run the holder. For the same
 * reason park's unlock callback is libringo's ringo__park_unlock: it runs
 * in whichever goroutine comes next, with that one's preemption state.
 */
#ifndef RINGO_TESTS_WAITQ_H
#define RINGO_TESTS_WAITQ_H

#include <stdlib.h>

#include <ringo/sched.h>

#include "core/lock.h"
#include "core/runtime.h"

struct waitq {
	struct ringo__lock lock;
	struct ringo__g **gs; /* parked Gs, under lock */
	size_t n, cap;
};

static inline void waitq_lock_(struct waitq *q)
{
	ringo_preempt_disable();
	ringo__lock(&q->lock);
}

static inline void waitq_unlock_now_(struct waitq *q)
{
	ringo__unlock(&q->lock);
	ringo_preempt_enable();
}

static inline void waitq_init(struct waitq *q, size_t cap)
{
	q->lock = (struct ringo__lock)RINGO__LOCK_INIT;
	q->gs = calloc(cap, sizeof(*q->gs));
	q->n = 0;
	q->cap = cap;
}

/* Park the calling goroutine on q. */
static inline void waitq_park(struct waitq *q)
{
	waitq_lock_(q);
	if (q->n == q->cap)
		abort();
	q->gs[q->n++] = ringo__getg();
	ringo__park(ringo__park_unlock, &q->lock, RINGO_WAIT_TEST, q);
	ringo_preempt_enable();
}

/* Ready every goroutine parked on q; returns how many. */
static inline size_t waitq_wake_all(struct waitq *q)
{
	waitq_lock_(q);
	size_t n = q->n;
	for (size_t i = 0; i < n; i++)
		ringo__ready(q->gs[i]);
	q->n = 0;
	waitq_unlock_now_(q);
	return n;
}

/* Ready one goroutine if any is parked; returns 1 if one was. */
static inline size_t waitq_wake_one(struct waitq *q)
{
	waitq_lock_(q);
	size_t n = q->n ? 1 : 0;
	if (n)
		ringo__ready(q->gs[--q->n]);
	waitq_unlock_now_(q);
	return n;
}

static inline size_t waitq_len(struct waitq *q)
{
	waitq_lock_(q);
	size_t n = q->n;
	waitq_unlock_now_(q);
	return n;
}

#endif
