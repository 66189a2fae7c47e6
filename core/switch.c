/*
 * core/switch.c - moving an M from one context to another.
 *
 * Every switch goes through switch_to(), which annotates it for the
 * sanitizers, saves errno into the G that leaves and checks its stack
 * canary. The code that resumes - the next G, or the M's g0 - then runs
 * finish(), which completes whatever the previous G asked for (requeue
 * it, run its park callback, free it). That work must wait
 * until the previous G's registers are saved: until then another M that
 * found the G in a queue could resume a half-saved context.
 *
 * Rejected: always switching through g0 (two switches per yield, and the
 * issue's budget for a yield is 15 ns); doing the after-work before the
 * switch (the race above).
 */
#include <errno.h>

#include <ringo/sched.h>

#include "../alloc/stack.h"
#include "runtime.h"
#include "switch.h"
#include "sched_internal.h"
#include "../alloc/gpool.h"
#include "io/netpoll.h"

#ifdef RINGO_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef RINGO_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

void ringo__switch_prepare_g(struct ringo__g *g)
{
#ifdef RINGO_TSAN
	if (!g->tsan_fiber)
		g->tsan_fiber = __tsan_create_fiber(0);
#endif
#ifdef RINGO_ASAN
	g->asan_fake_stack = NULL;
#endif
	(void)g;
}

void ringo__switch_release_g(struct ringo__g *g)
{
#ifdef RINGO_TSAN
	if (g->tsan_fiber)
		__tsan_destroy_fiber(g->tsan_fiber);
	g->tsan_fiber = NULL;
#endif
	(void)g;
}

void ringo__switch_init_m(struct ringo__m *m)
{
#ifdef RINGO_TSAN
	m->g0_tsan_fiber = __tsan_get_current_fiber();
#endif
	(void)m;
}

/* Exit, preemption and system-call exit: rarer after-work, out of the
 * inline path. */
__attribute__((noinline)) static void finish_rare(struct ringo__m *m,
						 enum ringo__after after)
{
	struct ringo__g *prev = m->after_g;

	switch (after) {
	case RINGO_AFTER_EXIT:
		ringo__gfree_put(m->p, prev);
		break;
	case RINGO_AFTER_PREEMPT:
		pthread_mutex_lock(&ringo__sched.lock);
		ringo__globrunqput(prev);
		pthread_mutex_unlock(&ringo__sched.lock);
		ringo__wakep(); /* an idle P may run it sooner than this one */
		break;
	case RINGO_AFTER_SYSCALL:
		ringo__syscall_requeue(m, prev);
		break;
	default:
		ringo__throw("sched", "after-work %d in the rare path", after);
	}
}

__attribute__((noinline)) static void run_timers(struct ringo__p *p)
{
	p->now = ringo__nanotime();
	ringo__timers_run(p);
	ringo__netpoll_flush();
	ringo__netpoll_tick(p);
}

/* Run by every context right after it resumes; see switch.h. Inline in
 * the switch itself, so that a switch between two goroutines is one call
 * (to the assembly) with nothing but the after-work around it. */
static inline __attribute__((always_inline)) void finish(struct ringo__g *self)
{
	/* Possibly another M than the one self left on: read it anew. */
	struct ringo__m *m = ringo__getm();

#ifdef RINGO_ASAN
	__sanitizer_finish_switch_fiber(self ? self->asan_fake_stack
					     : m->g0_asan_fake_stack,
					NULL, NULL);
#endif
	enum ringo__after after = m->after;
	if (after != RINGO_AFTER_NONE) {
		m->after = RINGO_AFTER_NONE;
		if (ringo__likely(after == RINGO_AFTER_PARK)) {
			struct ringo__g *prev = m->after_g;
			if (!m->after_unlockf(prev, m->after_arg))
				ringo__ready_tail(prev);
		} else if (after == RINGO_AFTER_YIELD) {
			ringo__runqput(m->p, m->after_g, false);
		} else {
			finish_rare(m, after);
		}
	}
	/* Goroutines that switch among themselves never pass through the
	 * scheduler loop, so look at this P's timers (and pass queued I/O to
	 * the kernel and, where that is free, take what completed:
	 * io/netpoll.h) every 32 switches. Only
	 * here, after the previous G's park callback released its lock: a
	 * timer callback may need that lock (a timer channel's send). */
	struct ringo__p *p = m->p;
	if (ringo__unlikely(p && (++p->timer_tick & 31) == 0))
		run_timers(p);
	if (self)
		*m->errno_loc = self->saved_errno;
}

static inline __attribute__((always_inline)) void
switch_to(struct ringo__m *m, struct ringo__g *from, struct ringo__g *to)
{
	struct ringo__ctx *fctx = from ? &from->ctx : &m->g0ctx;
	struct ringo__ctx *tctx = to ? &to->ctx : &m->g0ctx;

	if (from) {
		from->saved_errno = *m->errno_loc;
		ringo__stack_check(from, __builtin_frame_address(0));
	}
	m->curg = to;
#ifdef RINGO_ASAN
	void **fake = from ? (atomic_load_explicit(&from->status,
						   memory_order_relaxed) ==
					      RINGO_G_DEAD
				      ? NULL
				      : &from->asan_fake_stack)
			   : &m->g0_asan_fake_stack;
	if (to)
		__sanitizer_start_switch_fiber(fake, to->stack_lo,
					       ringo__stack_size(to));
	else
		__sanitizer_start_switch_fiber(fake, m->g0_stack_lo,
					       m->g0_stack_size);
#endif
#ifdef RINGO_TSAN
	__tsan_switch_to_fiber(to ? to->tsan_fiber : m->g0_tsan_fiber, 0);
#endif
	ringo__ctx_switch(fctx, tctx);
	finish(from);
}

void ringo__switch(struct ringo__m *m, struct ringo__g *from,
		  struct ringo__g *to)
{
	switch_to(m, from, to);
}

void ringo__switch_finish(struct ringo__g *self)
{
	finish(self);
}

/* The G p runs next without passing through g0, or NULL when g0 must run
 * the scheduler loop: shutdown, an empty queue, or every 61st slice with
 * Gs in the global queue (which only the loop serves). */
static inline struct ringo__g *pick_next(struct ringo__p *p)
{
	if (ringo__unlikely(atomic_load_explicit(&ringo__sched.shutdown,
						 memory_order_relaxed)))
		return NULL;
	if (ringo__unlikely(ringo__schedtick(p) % 61 == 0) &&
	    atomic_load_explicit(&ringo__sched.runqsize, memory_order_relaxed))
		return NULL;
	bool inherit;
	struct ringo__g *next = ringo__runqget_inherit(p, &inherit);
	if (ringo__unlikely(inherit &&
			    atomic_load_explicit(&p->preempt_req,
						 memory_order_relaxed) ==
				    (RINGO__PREEMPT_REQ_BIT | ringo__schedtick(p)) &&
			    !ringo__runqfull(p))) {
		/* sysmon found this slice over 10 ms and no signal ended it
		 * (preemption off, or the goroutines pass it on too fast to
		 * catch): the runnext goroutine waits its turn at the tail,
		 * as a preempted one would, and the head starts a slice. Not
		 * with a full queue, whose overflow takes the scheduler's
		 * mutex while the parking goroutine's lock is still held. */
		atomic_store_explicit(&p->preempt_req, 0, memory_order_relaxed);
		ringo__runqput(p, next, false);
		next = ringo__runqget_inherit(p, &inherit);
	}
	if (next && !inherit)
		ringo__schedtick_inc(p);
	return next;
}

/* Start loading the G that will run after next: with thousands of
 * runnable goroutines (a burst of timers or completions) each one's G and
 * saved registers sit on a page of their own, cold in cache and TLB. */
static inline void prefetch_after(struct ringo__p *p)
{
	uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_relaxed);
	struct ringo__g *g = atomic_load_explicit(&p->runq[h % RINGO_RUNQ_SIZE],
						  memory_order_relaxed);
	if (g)
		__builtin_prefetch(&g->ctx);
}

static inline __attribute__((always_inline)) void
leave(struct ringo__m *m, struct ringo__g *g, enum ringo__after after)
{
	struct ringo__g *next = pick_next(m->p);

	prefetch_after(m->p);
	m->after = after;
	m->after_g = g;
	if (next)
		atomic_store_explicit(&next->status, RINGO_G_RUNNING,
				      memory_order_relaxed);
	switch_to(m, g, next);
}

void ringo__leave(struct ringo__m *m, struct ringo__g *g, enum ringo__after after)
{
	leave(m, g, after);
}

/* Park and yield are leave() with their own after-work, inline here so
 * that blocking on a channel costs one call into this file. */
void ringo__park(bool (*unlockf)(struct ringo__g *, void *), void *arg,
		 enum ringo__wait_reason reason, void *obj)
{
	struct ringo__m *m = ringo__must_m("ringo__park");
	struct ringo__g *g = m->curg;

	g->wait_reason = (uint8_t)reason;
	g->waiting_on = obj;
	g->wait_since = m->p->now;
	atomic_store_explicit(&g->status, RINGO_G_WAITING, memory_order_relaxed);
	m->after_unlockf = unlockf;
	m->after_arg = arg;
	leave(m, g, RINGO_AFTER_PARK);
}

void ringo_yield(void)
{
	struct ringo__m *m = ringo__must_m("ringo_yield");
	struct ringo__g *g = m->curg;

	atomic_store_explicit(&g->status, RINGO_G_RUNNABLE, memory_order_relaxed);
	leave(m, g, RINGO_AFTER_YIELD);
}
