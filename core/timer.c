/*
 * core/timer.c - per-P 4-ary min-heaps of timers (Go 1.14's design).
 *
 * A 4-ary heap is shallower than a binary one (log4 n levels), and each
 * entry carries its timer's `when`, so the four children of a node - one
 * 64-byte line - are compared without touching the timers themselves:
 * with a million sleepers the misses on cold timers were what dominated.
 * Each move still writes the moved timer's idx (stop needs it).
 *
 * Locking: each heap has a ringo__lock. A timer's `heap` pointer says
 * which lock guards it; start and stop take that lock, re-reading the
 * pointer after taking it (a running M may have just popped the timer).
 * Callers must not start or stop the same timer concurrently with each
 * other (public timers serialise on their own lock, core/time.c); running
 * may race with both, and `seq` tells a callback whether its firing still
 * counts.
 */
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"
#include "timer.h"

#define HEAP_MIN_CAP 64
/* Entries before heap[0] in the allocation, so that heap[4i+1..4i+4],
 * the four children of i, share one 64-byte line. */
#define HEAP_PAD 3

static void set_next(struct ringo__timers *h)
{
	atomic_store(&h->next, h->len ? h->heap[0].when : 0);
}

static void place(struct ringo__timers *h, int i, struct ringo__timer_ent e)
{
	h->heap[i] = e;
	e.t->idx = i;
}

static void sift_up(struct ringo__timers *h, int i)
{
	struct ringo__timer_ent e = h->heap[i];

	while (i > 0) {
		int parent = (i - 1) / 4;
		if (h->heap[parent].when <= e.when)
			break;
		place(h, i, h->heap[parent]);
		i = parent;
	}
	place(h, i, e);
}

static void sift_down(struct ringo__timers *h, int i)
{
	struct ringo__timer_ent e = h->heap[i];

	for (;;) {
		int c = 4 * i + 1;
		if (c >= h->len)
			break;
		int best = c;
		int end = c + 4 < h->len ? c + 4 : h->len;
		for (int k = c + 1; k < end; k++)
			if (h->heap[k].when < h->heap[best].when)
				best = k;
		if (h->heap[best].when >= e.when)
			break;
		place(h, i, h->heap[best]);
		i = best;
	}
	place(h, i, e);
}

/* Caller holds h->lock; t is in h. */
static void heap_remove(struct ringo__timers *h, struct ringo__timer *t)
{
	int i = t->idx;
	struct ringo__timer_ent last = h->heap[--h->len];

	if (i != h->len) {
		place(h, i, last);
		sift_down(h, i);
		sift_up(h, last.t->idx);
	}
	t->idx = -1;
	/* Release: whoever next sees heap == NULL (lock_heap_of) may touch
	 * t's fields without this heap's lock; our reads of them precede. */
	atomic_store_explicit(&t->heap, NULL, memory_order_release);
	set_next(h);
}

static void heap_grow(struct ringo__timers *h)
{
	int cap = h->cap ? 2 * h->cap : HEAP_MIN_CAP;
	size_t bytes = (size_t)(cap + HEAP_PAD) * sizeof(*h->heap);
	struct ringo__timer_ent *n = aligned_alloc(64, (bytes + 63) & ~(size_t)63);

	if (!n)
		ringo__throw("timer", "out of memory growing a timer heap");
	n += HEAP_PAD;
	if (h->len)
		memcpy(n, h->heap, (size_t)h->len * sizeof(*n));
	if (h->heap)
		free(h->heap - HEAP_PAD);
	h->heap = n;
	h->cap = cap;
}

/* Caller holds h->lock. */
static void heap_add(struct ringo__timers *h, struct ringo__timer *t)
{
	if (h->len == h->cap)
		heap_grow(h);
	place(h, h->len++, (struct ringo__timer_ent){ t->when, t });
	sift_up(h, t->idx);
	atomic_store_explicit(&t->heap, h, memory_order_relaxed);
	set_next(h);
}

/* The timers that outlive a run (t->outlives_run) and were pending when
 * ringo_run returned: the per-P heaps are freed, and the program may
 * still stop, reset or free them afterwards (a timer it kept, a context
 * with a deadline), or run again with them pending. A heap like the
 * others that nothing runs; the next ringo_run adopts its timers. */
static struct ringo__timers orphaned = { .lock = RINGO__LOCK_INIT };

/* Lock the heap t is in; NULL (nothing locked) if it is in none. */
static struct ringo__timers *lock_heap_of(struct ringo__timer *t)
{
	for (;;) {
		/* Acquire pairs with the release in heap_remove. */
		struct ringo__timers *h = atomic_load_explicit(
			&t->heap, memory_order_acquire);
		if (!h)
			return NULL;
		ringo__lock(&h->lock);
		if (atomic_load_explicit(&t->heap, memory_order_relaxed) == h)
			return h;
		ringo__unlock(&h->lock);
	}
}

void ringo__timer_init(struct ringo__timer *t, ringo__timer_fn fn, void *arg)
{
	t->when = 0;
	t->period = 0;
	t->fn = fn;
	t->arg = arg;
	atomic_store(&t->heap, NULL);
	t->idx = -1;
	atomic_store(&t->seq, 0);
	t->counted = false;
	t->outlives_run = false;
	atomic_store(&t->running, 0);
	atomic_store(&t->taken_nr, 0);
}

bool ringo__timer_stop(struct ringo__timer *t)
{
	struct ringo__timers *h = lock_heap_of(t);

	atomic_fetch_add(&t->seq, 1);
	if (!h)
		return false;
	heap_remove(h, t);
	ringo__unlock(&h->lock);
	return true;
}

void ringo__timer_add(struct ringo__timer *t, int64_t when)
{
	struct ringo__m *m = ringo__getm();

	if (m && m->in_syscall)
		ringo__panic("ringo_sleep/timers/deadlines", "called between "
			     "ringo_syscall_enter and ringo_syscall_exit");
	if (!m || !m->p)
		ringo__throw("timer", "timer started without a P");
	struct ringo__timers *h = m->p->timers;
	ringo__lock(&h->lock);
	t->when = when;
	heap_add(h, t);
	ringo__unlock(&h->lock);
	ringo__idle_timer_added(when);
}

bool ringo__timer_start(struct ringo__timer *t, int64_t when)
{
	bool pending = ringo__timer_stop(t);

	ringo__timer_add(t, when);
	return pending;
}

void ringo__timers_run_heap(struct ringo__timers *h, int64_t now,
			     bool if_free)
{
	int64_t next = atomic_load(&h->next);

	if (next == 0 || next > now)
		return;
	if (if_free) {
		if (!ringo__trylock(&h->lock))
			return;
	} else {
		ringo__lock(&h->lock);
	}
	while (h->len && h->heap[0].when <= now) {
		struct ringo__timer *t = h->heap[0].t;
		uint64_t seq = atomic_load(&t->seq);
		/* Count the run before the timer can look stopped (heap ==
		 * NULL below): its owner waits for running == 0 to free it,
		 * and compares taken_nr with the runs it has seen begin. */
		if (t->counted) {
			atomic_fetch_add(&t->running, 1);
			atomic_fetch_add(&t->taken_nr, 1);
		}
		if (t->period > 0) {
			/* Skip the ticks a slow run missed instead of firing
			 * them all at once, as Go's tickers do. */
			int64_t missed = (now - t->when) / t->period;
			t->when += (missed + 1) * t->period;
			h->heap[0].when = t->when;
			sift_down(h, 0);
			set_next(h);
		} else {
			heap_remove(h, t);
		}
		ringo__unlock(&h->lock);
		t->fn(t, now, seq);
		ringo__lock(&h->lock);
	}
	ringo__unlock(&h->lock);
}

int ringo__timers_create(struct ringo__p *p)
{
	p->timers = calloc(1, sizeof(*p->timers));
	return p->timers ? 0 : -1;
}

/* Take every timer out of `from`, the last entry first (nothing to
 * sift), and put it into `to` - only those that outlive a run if
 * `outliving_only`; the others are left stopped. Caller holds both
 * heaps' locks. */
static void heap_move_all(struct ringo__timers *from, struct ringo__timers *to,
			  bool outliving_only)
{
	while (from->len) {
		struct ringo__timer *t = from->heap[from->len - 1].t;
		heap_remove(from, t);
		if (!outliving_only || t->outlives_run)
			heap_add(to, t);
	}
}

void ringo__timers_orphan(struct ringo__p *p)
{
	struct ringo__timers *h = p->timers;

	if (!h)
		return;
	ringo__lock(&h->lock);
	ringo__lock(&orphaned.lock);
	heap_move_all(h, &orphaned, true);
	ringo__unlock(&orphaned.lock);
	ringo__unlock(&h->lock);
}

void ringo__timers_adopt(struct ringo__p *p)
{
	struct ringo__timers *h = p->timers;

	ringo__lock(&orphaned.lock);
	ringo__lock(&h->lock);
	heap_move_all(&orphaned, h, false);
	ringo__unlock(&h->lock);
	ringo__unlock(&orphaned.lock);
}

void ringo__timers_destroy(struct ringo__p *p)
{
	if (!p->timers)
		return;
	if (p->timers->heap)
		free(p->timers->heap - HEAP_PAD);
	free(p->timers);
	p->timers = NULL;
}

int64_t ringo__timers_earliest(void)
{
	int64_t best = 0;

	for (int i = 0; i < ringo__sched.nprocs; i++) {
		int64_t w = atomic_load(&ringo__sched.allp[i]->timers->next);
		if (w && (!best || w < best))
			best = w;
	}
	return best;
}
