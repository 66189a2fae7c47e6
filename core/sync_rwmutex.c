/*
 * core/sync_rwmutex.c - ringo_rwmutex: Go's sync.RWMutex in C.
 *
 * Readers only touch reader_count: rlock is one atomic increment while no
 * writer is pending, runlock one decrement. A writer first takes the
 * embedded mutex (one writer at a time), then announces itself by
 * subtracting MAX_READERS from reader_count, which turns it negative: new
 * readers see that and park on reader_sem, behind the writer. The value
 * before the subtraction is the number of readers still inside; the
 * writer adds it to reader_wait and parks on writer_sem until the last of
 * them leaves (the runlock that takes reader_wait to zero wakes it). The
 * writer's unlock adds MAX_READERS back, releasing the parked readers
 * (their number is the new reader_count), then unlocks the mutex.
 *
 * Rejected: a lock-protected reader count (every rlock would write the
 * same lock word and wait on it); reader preference (a stream of readers
 * would starve writers forever).
 */
#include <ringo/sync.h>

#include "sync_internal.h"

#define MAX_READERS (1 << 30)

/* reader_count: readers inside or parked, minus MAX_READERS while a
 * writer is pending or inside. Moved by every rlock/runlock (+1/-1) and
 * by the writer (-MAX_READERS on lock, +MAX_READERS on unlock).
 * reader_wait: readers the pending writer still waits for; the writer
 * adds the readers it saw, each departing reader of that generation
 * subtracts one. Both are seq-cst: the writer's subtract from
 * reader_count and the readers' decrements must be totally ordered. */
struct rwmutex {
	struct ringo__mutex w;         /* held by the pending or active writer */
	_Atomic uint32_t writer_sem;   /* writer parks here for readers */
	_Atomic uint32_t reader_sem;   /* readers park here for the writer */
	_Atomic int32_t reader_count;
	_Atomic int32_t reader_wait;
} RINGO__MAY_ALIAS;

RINGO__SYNC_VIEW_OK(struct rwmutex, ringo_rwmutex);

static struct rwmutex *rw_of(ringo_rwmutex *rw)
{
	return (struct rwmutex *)(void *)rw;
}

void ringo_rwmutex_init(ringo_rwmutex *rw)
{
	struct rwmutex *r = rw_of(rw);

	atomic_init(&r->w.state, 0);
	atomic_init(&r->w.sema, 0);
	atomic_init(&r->writer_sem, 0);
	atomic_init(&r->reader_sem, 0);
	atomic_init(&r->reader_count, 0);
	atomic_init(&r->reader_wait, 0);
}

void ringo_rwmutex_rlock(ringo_rwmutex *rw)
{
	struct rwmutex *r = rw_of(rw);

	/* Negative: a writer is pending; it releases us on unlock. */
	if (atomic_fetch_add(&r->reader_count, 1) + 1 < 0)
		ringo__semacquire(&r->reader_sem, false,
				  RINGO_WAIT_RWMUTEX_RLOCK, rw,
				  "ringo_rwmutex_rlock");
}

bool ringo_rwmutex_tryrlock(ringo_rwmutex *rw)
{
	struct rwmutex *r = rw_of(rw);
	int32_t c = atomic_load(&r->reader_count);

	while (c >= 0)
		if (atomic_compare_exchange_weak(&r->reader_count, &c, c + 1))
			return true;
	return false;
}

void ringo_rwmutex_runlock(ringo_rwmutex *rw)
{
	struct rwmutex *r = rw_of(rw);
	int32_t c = atomic_fetch_sub(&r->reader_count, 1) - 1;

	if (c >= 0)
		return;
	/* Either nobody held a read lock (c + 1 is 0, or -MAX_READERS with
	 * a writer pending), or a writer waits for us. */
	if (c + 1 == 0 || c + 1 == -MAX_READERS)
		ringo__panic("ringo_rwmutex_runlock", "runlock of unlocked "
			     "rwmutex");
	if (atomic_fetch_sub(&r->reader_wait, 1) - 1 == 0)
		ringo__semrelease(&r->writer_sem, false);
}

void ringo_rwmutex_lock(ringo_rwmutex *rw)
{
	struct rwmutex *r = rw_of(rw);

	ringo__mutex_lock(&r->w, RINGO_WAIT_RWMUTEX_LOCK, rw);
	/* Announce the writer; what was there is the readers inside. */
	int32_t readers = atomic_fetch_sub(&r->reader_count, MAX_READERS);
	if (readers != 0 &&
	    atomic_fetch_add(&r->reader_wait, readers) + readers != 0)
		ringo__semacquire(&r->writer_sem, false,
				  RINGO_WAIT_RWMUTEX_LOCK, rw,
				  "ringo_rwmutex_lock");
}

bool ringo_rwmutex_trylock(ringo_rwmutex *rw)
{
	struct rwmutex *r = rw_of(rw);
	int32_t zero = 0;

	if (!ringo__mutex_trylock(&r->w))
		return false;
	if (!atomic_compare_exchange_strong(&r->reader_count, &zero,
					    -MAX_READERS)) {
		ringo__mutex_unlock(&r->w);
		return false;
	}
	return true;
}

void ringo_rwmutex_unlock(ringo_rwmutex *rw)
{
	struct rwmutex *r = rw_of(rw);
	int32_t readers = atomic_fetch_add(&r->reader_count, MAX_READERS) +
			  MAX_READERS;

	if (readers >= MAX_READERS)
		ringo__panic("ringo_rwmutex_unlock", "unlock of unlocked "
			     "rwmutex");
	/* Release the readers that queued behind us. */
	ringo__semrelease_n(&r->reader_sem, (uint32_t)readers);
	ringo__mutex_unlock(&r->w);
}
