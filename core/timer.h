/*
 * core/timer.h - the runtime's timers: a 4-ary min-heap per P.
 *
 * A timer lives in the heap of the P where it was last started. Each heap
 * has its own lock, so any M may add to, remove from or run any P's heap:
 * an idle M runs the expired timers of every P, which is how a sleeping
 * goroutine wakes up while its P has nothing else to do.
 */
#ifndef RINGO_CORE_TIMER_H
#define RINGO_CORE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "lock.h"
#include "runtime.h"

struct ringo__timer;

/* Runs on the M that found the timer expired, with no lock held; must not
 * park. `now` is the time the heap was checked; `seq` is the timer's seq
 * when it was taken off the heap (stale if it differs from t->seq now). */
typedef void (*ringo__timer_fn)(struct ringo__timer *t, int64_t now,
				uint64_t seq);

struct ringo__timer {
	int64_t when;          /* ns, CLOCK_MONOTONIC; under heap->lock */
	int64_t period;        /* > 0: re-armed after each run */
	ringo__timer_fn fn;
	void *arg;
	/* Heap the timer is in and its index there; both under that heap's
	 * lock. heap is NULL and idx -1 while the timer is not pending. */
	struct ringo__timers *_Atomic heap;
	int idx;
	/* Bumped by every start and stop, so a callback that raced with a
	 * stop or reset can tell its firing is stale. */
	_Atomic uint64_t seq;
	/* For timers whose memory is freed by their owner: callbacks taken
	 * off the heap and not yet finished. Counted only if `counted`; the
	 * callback then ends with ringo__timer_done. Timers on a goroutine's
	 * stack (sleep) are not counted: the callback's ready ends their use. */
	bool counted;
	_Atomic int running;
	/* Counted timers: runs taken off the heap, ever; incremented with
	 * `running`, before the timer can look stopped. The owner compares
	 * it with the runs it has settled, to tell a firing that is on its
	 * way to the callback (Go's isSending). */
	_Atomic uint64_t taken_nr;
	/* The timer's memory is the program's, not a goroutine's (a
	 * ringo_timer, a context's deadline): pending when ringo_run
	 * returns, it waits for the next run (ringo__timers_orphan). A
	 * sleeper's, on a discarded goroutine's stack, is dropped. */
	bool outlives_run;
};

/* End of a counted timer's callback: the last access to t. */
static inline void ringo__timer_done(struct ringo__timer *t)
{
	atomic_fetch_sub(&t->running, 1);
}

/* A heap entry: a copy of the timer's when, kept equal to it. */
struct ringo__timer_ent {
	int64_t when;
	struct ringo__timer *t;
};

struct ringo__timers {
	struct ringo__lock lock;  /* protects len, cap, heap and each timer */
	int len, cap;
	struct ringo__timer_ent *heap;
	/* when of heap[0], or 0 if empty: read without the lock by idle Ms
	 * and by the pollers' deadline computation. */
	_Atomic int64_t next;
};

void ringo__timer_init(struct ringo__timer *t, ringo__timer_fn fn, void *arg);
/* (Re)arm t to run at `when` (absolute) in the calling P's heap,
 * removing it from any heap it was in. Returns true if it was pending. */
bool ringo__timer_start(struct ringo__timer *t, int64_t when);
/* Arm t, which is in no heap (new, fired, or just stopped by the
 * caller, who serialises with other starts and stops of t): start
 * without its stop, so without a sequence bump or a look at t->heap. */
void ringo__timer_add(struct ringo__timer *t, int64_t when);
/* Remove t if pending. Returns true if it was. */
bool ringo__timer_stop(struct ringo__timer *t);

/* Per-P heaps: created with the Ps, freed at teardown. Orphan first,
 * while every timer's memory is still there (a sleeper's is on its
 * goroutine's stack): a pending timer that outlives the run moves to a
 * heap of its own, so that the program can stop, reset or free it later
 * instead of reaching a freed heap; the others are dropped. The next
 * run's first P adopts the orphans: they fire in that run. */
int ringo__timers_create(struct ringo__p *p);
void ringo__timers_orphan(struct ringo__p *p);
void ringo__timers_adopt(struct ringo__p *p);
void ringo__timers_destroy(struct ringo__p *p);
/* Run the expired timers of p's heap. */
void ringo__timers_run_heap(struct ringo__timers *h, int64_t now,
			     bool if_free);
/* Earliest `when` over all Ps, or 0 if no timer is pending. */
int64_t ringo__timers_earliest(void);

#endif
