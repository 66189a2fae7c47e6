/*
 * ringo/sync.h - mutexes, read-write mutexes, wait groups, once, condition
 * variables and counting semaphores, with Go's semantics (package sync).
 *
 * Every blocking call parks the calling goroutine, never the thread: the
 * goroutine's P runs other goroutines meanwhile. So blocking calls must be
 * made from a goroutine; the non-blocking ones (unlock, done, signal,
 * release, a lock that is free) work from any thread.
 *
 * Every type is fixed-size, aligned storage that you embed where you like
 * (a struct, a global, a goroutine's stack) without allocating. Its fields
 * are private. Initialise it with the type's INITIALIZER macro, its _init
 * function, or zero bytes: as in Go, the zero value of each type is ready
 * to use (an unlocked mutex, a wait group at zero, a once that has not
 * run, a semaphore with count 0). Do not copy one after first use.
 * Goroutines still blocked on a primitive when ringo_run returns are
 * discarded (see ringo/sched.h); re-initialise such a primitive before a
 * later ringo_run uses it.
 *
 * Errors: nothing here can fail. Misuse aborts with a message naming the
 * call, as Go panics: unlock of an unlocked mutex, a negative wait-group
 * counter, blocking outside a goroutine.
 *
 * Memory model (Go's): an unlock happens before the lock it lets in
 * returns; ringo_wg_done happens before the ringo_wg_wait it releases
 * returns; the return of a once's function happens before every
 * ringo_once_do on that once returns; a semaphore release happens before
 * the acquire it satisfies returns. Condition variables order nothing by
 * themselves: the mutex does.
 */
#ifndef RINGO_SYNC_H
#define RINGO_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * Atomics
 *
 * ringo has no atomics API of its own: use C11 <stdatomic.h>. Go's
 * sync/atomic operations are all sequentially consistent, and so are the
 * <stdatomic.h> functions without the _explicit suffix, so the
 * translation is one to one:
 *
 *   atomic.AddInt64(&x, d)            atomic_fetch_add(&x, d) + d
 *   atomic.LoadInt64 / StoreInt64     atomic_load / atomic_store
 *   atomic.SwapInt64                  atomic_exchange
 *   atomic.CompareAndSwapInt64        atomic_compare_exchange_strong
 *                                     (on failure it writes the current
 *                                     value into *expected)
 *   atomic.Pointer[T]                 T *_Atomic
 *
 * Declare shared variables _Atomic (`_Atomic int64_t hits;`, or the
 * atomic_int family). Weaker orderings (memory_order_acquire/release,
 * relaxed) are valid C but have no Go equivalent; use them only where you
 * can name the operation each one pairs with. Plain (non-atomic) data
 * shared between goroutines must be ordered by one of the primitives
 * below, exactly as in Go.
 * ===================================================================== */

/* ========================================================================
 * Mutex
 *
 * A mutual-exclusion lock (sync.Mutex). It is not tied to a goroutine:
 * one goroutine may lock it and another unlock it. Locking a free mutex is
 * one compare-and-swap, unlocking one with no waiters one atomic add.
 *
 * Fairness, as in Go: normally a goroutine that arrives while others wait
 * may take the lock before them ("barging"), which keeps the lock hot on
 * one CPU and gives the best throughput. A waiter that has waited more
 * than 1 ms switches the mutex to starvation mode: each unlock then hands
 * the lock straight to the longest waiter and newcomers queue behind it,
 * until a waiter that waited less than 1 ms, or the last one, takes it.
 * A locker may spin a few rounds before parking, only while other Ps are
 * running goroutines that could release the lock.
 * ===================================================================== */

typedef struct ringo_mutex {
	uint64_t _opaque[1];
} ringo_mutex;

#define RINGO_MUTEX_INITIALIZER { { 0 } }

void ringo_mutex_init(ringo_mutex *m);
/* Lock, parking the goroutine while another holds the mutex. */
void ringo_mutex_lock(ringo_mutex *m);
/* Lock if free, never waiting. True if the caller now holds it. */
bool ringo_mutex_trylock(ringo_mutex *m);
/* Unlock. Panics if m is not locked. */
void ringo_mutex_unlock(ringo_mutex *m);

/* ========================================================================
 * Read-write mutex
 *
 * Any number of readers or one writer (sync.RWMutex). It prefers writers:
 * once a writer calls ringo_rwmutex_lock, new readers wait until that
 * writer has had its turn, so a steady stream of readers cannot starve
 * it. As a consequence a reader must not take the read lock recursively:
 * if a writer arrives in between, the second rlock waits for the writer,
 * which waits for the first rlock to be released.
 * ===================================================================== */

typedef struct ringo_rwmutex {
	uint64_t _opaque[3];
} ringo_rwmutex;

#define RINGO_RWMUTEX_INITIALIZER { { 0, 0, 0 } }

void ringo_rwmutex_init(ringo_rwmutex *rw);
/* Take / release the read lock. runlock panics if rw is not read-locked. */
void ringo_rwmutex_rlock(ringo_rwmutex *rw);
bool ringo_rwmutex_tryrlock(ringo_rwmutex *rw);
void ringo_rwmutex_runlock(ringo_rwmutex *rw);
/* Take / release the write lock. unlock panics if rw is not write-locked. */
void ringo_rwmutex_lock(ringo_rwmutex *rw);
bool ringo_rwmutex_trylock(ringo_rwmutex *rw);
void ringo_rwmutex_unlock(ringo_rwmutex *rw);

/* ========================================================================
 * Wait group
 *
 * Waits for a set of goroutines to finish (sync.WaitGroup). The spawner
 * adds the number of goroutines, each calls ringo_wg_done when it ends,
 * and ringo_wg_wait returns once the counter is back at zero:
 *
 *   ringo_wg wg = RINGO_WG_INITIALIZER;
 *   ringo_wg_add(&wg, n);
 *   for (int i = 0; i < n; i++)
 *           ringo_go(work, &wg);      // work() ends with ringo_wg_done(wg)
 *   ringo_wg_wait(&wg);
 *
 * Call ringo_wg_add before starting the goroutine (or other event) it
 * counts, never from inside it. A wait group may be reused once every
 * ringo_wg_wait of the previous round has returned.
 * ===================================================================== */

typedef struct ringo_wg {
	uint64_t _opaque[2];
} ringo_wg;

#define RINGO_WG_INITIALIZER { { 0, 0 } }

void ringo_wg_init(ringo_wg *wg);
/* Add delta (may be negative) to the counter; at zero every waiter is
 * released. Panics if the counter goes negative, or if a positive delta
 * starts a new round while a ringo_wg_wait of the last one is still
 * being released ("WaitGroup misuse"). */
void ringo_wg_add(ringo_wg *wg, int delta);
/* ringo_wg_add(wg, -1). */
void ringo_wg_done(ringo_wg *wg);
/* Wait until the counter is zero; returns at once if it already is. */
void ringo_wg_wait(ringo_wg *wg);

/* ========================================================================
 * Once
 *
 * Runs a function exactly once (sync.Once), for lazy initialisation:
 * every ringo_once_do on the same once returns only after the function
 * has returned, whichever call ran it. Later calls are one atomic load.
 * fn must not call ringo_once_do on its own once (that would deadlock;
 * ringo panics instead).
 * ===================================================================== */

typedef struct ringo_once {
	uint64_t _opaque[3];
} ringo_once;

#define RINGO_ONCE_INIT { { 0, 0, 0 } }

/* Panics if fn is NULL. */
void ringo_once_do(ringo_once *once, void (*fn)(void *arg), void *arg);

/* ========================================================================
 * Condition variable
 *
 * A place for goroutines to wait for a condition on data guarded by a
 * mutex (sync.Cond). The waiter holds the mutex and loops:
 *
 *   ringo_mutex_lock(&mu);
 *   while (!ready)
 *           ringo_cond_wait(&cv, &mu);
 *   ...
 *   ringo_mutex_unlock(&mu);
 *
 * ringo_cond_wait unlocks the mutex and parks as one step, as far as
 * signals are concerned: a signal sent after the waiter unlocked the mutex
 * is never lost, even if the waiter has not parked yet. Signal and
 * broadcast may be called with or without the mutex held. Each waiter
 * takes a ticket when it starts waiting; signal wakes the waiter with the
 * oldest ticket not yet woken, broadcast all of them. As in Go, waiters
 * wake only by signal or broadcast, but the condition may have changed
 * again before the waiter re-locks the mutex: always re-check it.
 * ===================================================================== */

typedef struct ringo_cond {
	uint64_t _opaque[4];
} ringo_cond;

#define RINGO_COND_INITIALIZER { { 0, 0, 0, 0 } }

void ringo_cond_init(ringo_cond *c);
/* Unlock m, wait for a signal or broadcast, lock m again. The caller must
 * hold m. */
void ringo_cond_wait(ringo_cond *c, ringo_mutex *m);
/* Wake one waiter, if any. */
void ringo_cond_signal(ringo_cond *c);
/* Wake every waiter. */
void ringo_cond_broadcast(ringo_cond *c);

/* ========================================================================
 * Counting semaphore
 *
 * A count of available units (golang.org/x/sync/semaphore without a
 * maximum): acquire takes units, waiting while too few are left; release
 * gives units back. Waiters are served strictly in arrival order, and a
 * waiter wakes holding its units (they are handed over, not competed
 * for), so a large request is never starved by a stream of small ones;
 * it does mean a small request waits behind a large one at the head.
 * Counts are up to 2^61. While nobody waits, acquire and release are one
 * compare-and-swap each.
 * ===================================================================== */

typedef struct ringo_sema {
	uint64_t _opaque[4];
} ringo_sema;

/* A semaphore holding `count` units. */
#define RINGO_SEMA_INITIALIZER(count) { { (uint64_t)(count) << 1, 0, 0, 0 } }

/* Panics if count is above 2^61. */
void ringo_sema_init(ringo_sema *s, size_t count);
/* Take one unit / n units, waiting until available. n = 0 returns at
 * once; n above 2^61 panics (no count can reach it). */
void ringo_sema_acquire(ringo_sema *s);
void ringo_sema_acquire_n(ringo_sema *s, size_t n);
/* Take the units if they are available now and nobody waits before us. */
bool ringo_sema_tryacquire(ringo_sema *s);
bool ringo_sema_tryacquire_n(ringo_sema *s, size_t n);
/* Give back one unit / n units, waking the waiters they satisfy. Panics
 * if the count would exceed 2^61. */
void ringo_sema_release(ringo_sema *s);
void ringo_sema_release_n(ringo_sema *s, size_t n);

#ifdef __cplusplus
}
#endif
#endif
