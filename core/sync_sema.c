/*
 * core/sync_sema.c - ringo_sema: a counting semaphore with weighted,
 * strictly FIFO waiters (golang.org/x/sync/semaphore.Weighted, without a
 * maximum).
 *
 * The count and a "somebody waits" flag share one 64-bit word. While the
 * flag is clear, acquire and release are a CAS on that word and never
 * touch the lock. A goroutine that must wait takes the lock, sets the flag
 * and queues itself; from then on every acquire and release sees the
 * flag and goes through the lock too, so the count only changes under
 * the lock while anyone waits. Release adds its units, then hands units
 * to the waiters at the head of the queue, in order, while the count
 * covers the head's request; the last one out clears the flag. A waiter
 * therefore wakes up owning its units and never re-checks the count.
 *
 * Rejected: the mutex's semaphore (core/sync_sema_internal.c) counts only
 * single units and wakes waiters to compete for them; waking the head
 * without handing it the units (a stream of small acquires could take
 * them first, forever).
 */
#include <ringo/sync.h>

#include "lock.h"
#include "sync_internal.h"

#define FLAG_WAITERS 1ull
#define COUNT_SHIFT 1
#define COUNT_MAX (1ull << 61) /* see ringo/sync.h */

/* A parked acquirer, on its own stack. */
struct semawaiter {
	struct ringo__g *g;
	uint64_t n;               /* units wanted */
	struct semawaiter *next;
};

/* state: count << 1 | FLAG_WAITERS. The flag is set iff the queue is
 * non-empty; both change only under lock. With the flag clear, the count
 * moves by CAS from anyone; with it set, only under lock. Seq-cst CASes:
 * an acquire that takes units pairs with the release that added them.
 * lock protects head and tail. */
struct sema {
	_Atomic uint64_t state;
	struct ringo__lock lock;
	struct semawaiter *head, *tail;
} RINGO__MAY_ALIAS;

RINGO__SYNC_VIEW_OK(struct sema, ringo_sema);

static struct sema *sema_of(ringo_sema *s)
{
	return (struct sema *)(void *)s;
}

static bool unlock_sema(struct ringo__g *g, void *arg)
{
	(void)g;
	ringo__unlock(&((struct sema *)arg)->lock);
	return true;
}

void ringo_sema_init(ringo_sema *s, size_t count)
{
	struct sema *sm = sema_of(s);

	if ((uint64_t)count > COUNT_MAX)
		ringo__panic("ringo_sema_init", "count %zu above 2^61", count);
	atomic_init(&sm->state, (uint64_t)count << COUNT_SHIFT);
	sm->lock = (struct ringo__lock)RINGO__LOCK_INIT;
	sm->head = sm->tail = NULL;
}

/* Take n units if nobody waits and the count covers them. */
static bool try_take(struct sema *sm, uint64_t n)
{
	uint64_t s = atomic_load(&sm->state);

	while (!(s & FLAG_WAITERS) && (s >> COUNT_SHIFT) >= n)
		if (atomic_compare_exchange_weak(&sm->state, &s,
						 s - (n << COUNT_SHIFT)))
			return true;
	return false;
}

void ringo_sema_acquire_n(ringo_sema *s, size_t n)
{
	struct sema *sm = sema_of(s);

	if (n > COUNT_MAX)
		ringo__panic("ringo_sema_acquire", "%zu units above 2^61", n);
	if (n == 0 || try_take(sm, n))
		return;
	struct ringo__g *g = ringo__must_park("ringo_sema_acquire");
	ringo__lock(&sm->lock);
	uint64_t st = atomic_load(&sm->state);
	for (;;) {
		/* Nobody queued: take the units if they are there. Another
		 * CAS (flag clear, no lock) may move the count under us. */
		if (!(st & FLAG_WAITERS) && (st >> COUNT_SHIFT) >= n) {
			if (atomic_compare_exchange_weak(
				    &sm->state, &st, st - (n << COUNT_SHIFT))) {
				ringo__unlock(&sm->lock);
				return;
			}
			continue;
		}
		if (st & FLAG_WAITERS ||
		    atomic_compare_exchange_weak(&sm->state, &st,
						 st | FLAG_WAITERS))
			break;
	}
	struct semawaiter w = { .g = g, .n = n };
	if (sm->tail)
		sm->tail->next = &w;
	else
		sm->head = &w;
	sm->tail = &w;
	/* The releaser subtracted our units before readying us. */
	ringo__park(unlock_sema, sm, RINGO_WAIT_SEMA, s);
}

void ringo_sema_acquire(ringo_sema *s)
{
	ringo_sema_acquire_n(s, 1);
}

bool ringo_sema_tryacquire_n(ringo_sema *s, size_t n)
{
	return n <= COUNT_MAX && try_take(sema_of(s), n);
}

bool ringo_sema_tryacquire(ringo_sema *s)
{
	return try_take(sema_of(s), 1);
}

static _Noreturn void overflow(uint64_t count, size_t n)
{
	ringo__panic("ringo_sema_release", "count %llu + %zu above 2^61",
		     (unsigned long long)count, n);
}

void ringo_sema_release_n(ringo_sema *s, size_t n)
{
	struct sema *sm = sema_of(s);
	uint64_t st = atomic_load(&sm->state);

	while (!(st & FLAG_WAITERS)) {
		if (n > COUNT_MAX - (st >> COUNT_SHIFT))
			overflow(st >> COUNT_SHIFT, n);
		if (atomic_compare_exchange_weak(&sm->state, &st,
						 st + (n << COUNT_SHIFT)))
			return;
	}

	/* Somebody waits: under the lock, nobody else moves the count while
	 * the flag is set (if the flag got cleared meanwhile, lockless CASes
	 * may move it, hence CAS loops below, not plain stores). */
	struct semawaiter *woken = NULL, **wtail = &woken;
	ringo__lock(&sm->lock);
	st = atomic_load(&sm->state);
	for (;;) {
		if (n > COUNT_MAX - (st >> COUNT_SHIFT)) {
			ringo__unlock(&sm->lock);
			overflow(st >> COUNT_SHIFT, n);
		}
		uint64_t count = (st >> COUNT_SHIFT) + n;
		struct semawaiter *w = sm->head;
		while (w && w->n <= count) {
			count -= w->n;
			*wtail = w;
			wtail = &w->next;
			w = w->next;
		}
		uint64_t nst = count << COUNT_SHIFT | (w ? FLAG_WAITERS : 0);
		if (atomic_compare_exchange_weak(&sm->state, &st, nst)) {
			sm->head = w;
			if (!w)
				sm->tail = NULL;
			*wtail = NULL;
			break;
		}
		wtail = &woken;
		woken = NULL;
	}
	ringo__unlock(&sm->lock);
	/* Each waiter's struct stays valid until we ready its goroutine.
	 * The first runs next on this P, the others queue behind in order,
	 * so they run in the order they were served. */
	for (bool first = true; woken; first = false) {
		struct semawaiter *next = woken->next;
		if (first)
			ringo__ready(woken->g);
		else
			ringo__ready_tail(woken->g);
		woken = next;
	}
}

void ringo_sema_release(ringo_sema *s)
{
	ringo_sema_release_n(s, 1);
}
