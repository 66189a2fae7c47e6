/*
 * core/sync_once.c - ringo_once: Go's sync.Once in C.
 *
 * `done` is checked with one load on every call; only the calls that find
 * it 0 take the mutex, the first of them runs fn and sets `done` after fn
 * returns, and the others, parked on the mutex meanwhile, find `done` set
 * once they get the mutex. So no caller returns before fn has returned.
 *
 * Rejected: setting `done` with a CAS before running fn (callers that lose
 * the CAS would return before fn has finished, Go's documented pitfall).
 */
#include <ringo/sched.h>
#include <ringo/sync.h>

#include "sync_internal.h"

/* done: 0 until fn has returned, then 1 forever; stored (release) by the
 * goroutine that ran fn, under m, and loaded (acquire) by every call.
 * runner: id of the goroutine running fn, 0 otherwise; written under m,
 * read without it only to detect a recursive call. */
struct once {
	_Atomic uint32_t done;
	_Atomic uint64_t runner;
	struct ringo__mutex m;
} RINGO__MAY_ALIAS;

RINGO__SYNC_VIEW_OK(struct once, ringo_once);

static __attribute__((noinline)) void once_slow(struct once *o,
						ringo_once *once,
						void (*fn)(void *), void *arg)
{
	struct ringo__g *g = ringo__getg();
	uint64_t self = g ? g->id : 0;

	if (!fn)
		ringo__panic("ringo_once_do", "NULL function");
	if (self && atomic_load_explicit(&o->runner, memory_order_relaxed) ==
			    self)
		ringo__panic("ringo_once_do", "called recursively from the "
			     "function it is running");
	ringo__mutex_lock(&o->m, RINGO_WAIT_ONCE, once);
	if (!atomic_load_explicit(&o->done, memory_order_relaxed)) {
		atomic_store_explicit(&o->runner, self, memory_order_relaxed);
		if (g)
			g->in_once++;
		fn(arg);
		if (g)
			g->in_once--;
		atomic_store_explicit(&o->runner, 0, memory_order_relaxed);
		/* Release: pairs with the acquire load in ringo_once_do. */
		atomic_store_explicit(&o->done, 1, memory_order_release);
	}
	ringo__mutex_unlock(&o->m);
}

void ringo_once_do(ringo_once *once, void (*fn)(void *), void *arg)
{
	struct once *o = (struct once *)(void *)once;

	/* Acquire: pairs with the release store of done in once_slow. */
	if (ringo__likely(atomic_load_explicit(&o->done,
					       memory_order_acquire)))
		return;
	once_slow(o, once, fn, arg);
}
