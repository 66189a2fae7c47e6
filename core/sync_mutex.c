/*
 * core/sync_mutex.c - ringo_mutex: Go's sync.Mutex in C.
 *
 * One state word (LOCKED, WOKEN, STARVING, waiter count; see
 * core/sync_internal.h) and a semaphore count that waiters park on
 * (core/sync_sema_internal.c). Free-mutex lock is one CAS, unlock without
 * waiters one atomic add; everything else is here.
 *
 * Normal mode: an unlock wakes one waiter, but does not hand it the lock;
 * the woken waiter competes with goroutines that are running and arrive
 * right now, and usually loses to them, since they are already on a CPU.
 * That keeps the lock on one CPU and throughput high. A woken waiter that
 * loses parks again at the head of the queue. A woken waiter that finds
 * it has waited more than 1 ms sets STARVING: from then on unlock hands
 * the lock directly to the queue's head (and yields to it), and arrivals
 * neither take the lock nor spin but queue at the tail. The waiter that
 * receives the lock leaves starvation mode if it is the last waiter or it
 * waited less than 1 ms.
 *
 * Spinning: a locker may spin instead of parking while the lock is held
 * in normal mode, at most SPIN_ROUNDS times, and only if other Ps are
 * running goroutines (one of them may be about to unlock) and its own P
 * has nothing else to run. While it spins it sets WOKEN, so the unlock it
 * is waiting for does not also wake a parked waiter.
 *
 * Rejected: a pure FIFO hand-off mutex (every contended lock becomes a
 * park and a switch: several times slower under contention); spinning
 * while Ps are idle (nothing else can be running the lock holder).
 */
#include <unistd.h>

#include <ringo/sync.h>

#include "lock.h"
#include "sync_internal.h"

RINGO__SYNC_VIEW_OK(struct ringo__mutex, ringo_mutex);

#define SPIN_ROUNDS 4      /* Go's active_spin */
#define SPIN_PAUSES 30     /* cpu_relax per round, Go's active_spin_cnt */

/* CPUs online, read once; 0 until then. */
static _Atomic int ncpu;

static bool can_spin(int iter)
{
	if (iter >= SPIN_ROUNDS)
		return false;
	int n = atomic_load_explicit(&ncpu, memory_order_relaxed);
	if (!n) {
		n = (int)sysconf(_SC_NPROCESSORS_ONLN);
		atomic_store_explicit(&ncpu, n, memory_order_relaxed);
	}
	if (n <= 1)
		return false;
	struct ringo__m *m = ringo__getm();
	if (!m || !m->p)
		return false;
	/* Some other P runs a goroutine, and ours has nothing waiting. */
	int32_t idle = atomic_load_explicit(&ringo__sched.npidle,
					    memory_order_relaxed) +
		       atomic_load_explicit(&ringo__sched.nmspinning,
					    memory_order_relaxed);
	if (ringo__sched.nprocs <= idle + 1)
		return false;
	return ringo__runqempty(m->p);
}

static void do_spin(void)
{
	for (int i = 0; i < SPIN_PAUSES; i++)
		ringo__cpu_relax();
}

/* The public call that locks with this wait reason: the rwmutex and the
 * once embed a mutex. Named when the lock panics outside a goroutine. */
static const char *lock_call(enum ringo__wait_reason reason)
{
	switch (reason) {
	case RINGO_WAIT_RWMUTEX_LOCK:
		return "ringo_rwmutex_lock";
	case RINGO_WAIT_ONCE:
		return "ringo_once_do";
	default:
		return "ringo_mutex_lock";
	}
}

void ringo__mutex_lock_slow(struct ringo__mutex *m,
			    enum ringo__wait_reason reason, void *obj)
{
	const int32_t LOCKED = RINGO__MUTEX_LOCKED;
	const int32_t WOKEN = RINGO__MUTEX_WOKEN;
	const int32_t STARVING = RINGO__MUTEX_STARVING;
	const int32_t WAITER = 1 << RINGO__MUTEX_WAITER_SHIFT;
	int64_t wait_start = 0;
	bool starving = false; /* we have waited longer than the threshold */
	bool awoke = false;    /* we own the WOKEN bit */
	int iter = 0;
	int32_t old = atomic_load(&m->state);

	for (;;) {
		/* Spin while it is held in normal mode: in starvation mode
		 * the lock goes to a waiter, so spinning cannot win it. */
		if ((old & (LOCKED | STARVING)) == LOCKED && can_spin(iter)) {
			/* Claim WOKEN so that unlock does not wake a parked
			 * waiter while we are about to take the lock. */
			if (!awoke && !(old & WOKEN) &&
			    (old >> RINGO__MUTEX_WAITER_SHIFT) != 0 &&
			    atomic_compare_exchange_strong(&m->state, &old,
							   old | WOKEN))
				awoke = true;
			do_spin();
			iter++;
			old = atomic_load(&m->state);
			continue;
		}
		int32_t new = old;
		/* Never take a starving mutex: it belongs to the waiters. */
		if (!(old & STARVING))
			new |= LOCKED;
		if (old & (LOCKED | STARVING))
			new += WAITER;
		/* Switch to starvation mode, but only if the mutex is held:
		 * an unlocked starving mutex would have nobody to hand it
		 * on, and unlock expects waiters when STARVING is set. */
		if (starving && (old & LOCKED))
			new |= STARVING;
		if (awoke) {
			if (!(new & WOKEN))
				ringo__throw("sync", "inconsistent mutex state "
					     "0x%x", (unsigned)old);
			new &= ~WOKEN;
		}
		/* Seq-cst CAS: when it takes the lock, it is the acquire
		 * that pairs with the unlocker's release. */
		if (!atomic_compare_exchange_strong(&m->state, &old, new))
			continue; /* old was reloaded */
		if (!(old & (LOCKED | STARVING)))
			return; /* locked by the CAS */
		/* Re-queued after a wake-up: go to the head, not the tail. */
		bool lifo = wait_start != 0;
		if (!wait_start)
			wait_start = ringo__nanotime();
		ringo__semacquire(&m->sema, lifo, reason, obj,
				  lock_call(reason));
		starving = starving || ringo__nanotime() - wait_start >
					       RINGO__MUTEX_STARVE_NS;
		old = atomic_load(&m->state);
		if (old & STARVING) {
			/* Handed to us: the unlocker left LOCKED clear and
			 * counted us in the waiters. */
			if ((old & (LOCKED | WOKEN)) ||
			    (old >> RINGO__MUTEX_WAITER_SHIFT) == 0)
				ringo__throw("sync", "inconsistent mutex state "
					     "0x%x", (unsigned)old);
			int32_t delta = LOCKED - WAITER;
			if (!starving || (old >> RINGO__MUTEX_WAITER_SHIFT) == 1)
				delta -= STARVING; /* back to normal mode */
			/* Acquire: pairs with the unlocker's release add. */
			atomic_fetch_add(&m->state, delta);
			return;
		}
		awoke = true;
		iter = 0;
	}
}

void ringo__mutex_unlock_slow(struct ringo__mutex *m, int32_t new_state)
{
	const int32_t LOCKED = RINGO__MUTEX_LOCKED;
	const int32_t WOKEN = RINGO__MUTEX_WOKEN;
	const int32_t STARVING = RINGO__MUTEX_STARVING;

	if (!((new_state + LOCKED) & LOCKED))
		ringo__panic("ringo_mutex_unlock", "unlock of unlocked mutex");
	if (new_state & STARVING) {
		/* Hand off: the head waiter takes the lock (it sets LOCKED
		 * itself) and runs at once on our P. */
		ringo__semrelease(&m->sema, true);
		return;
	}
	int32_t old = new_state;
	for (;;) {
		/* Nobody to wake, or someone else already took the lock,
		 * is awake or gets it by hand-off: nothing to do. */
		if ((old >> RINGO__MUTEX_WAITER_SHIFT) == 0 ||
		    (old & (LOCKED | WOKEN | STARVING)))
			return;
		int32_t new = (old - (1 << RINGO__MUTEX_WAITER_SHIFT)) | WOKEN;
		if (atomic_compare_exchange_strong(&m->state, &old, new)) {
			ringo__semrelease(&m->sema, false);
			return;
		}
	}
}

/* ------------------------------------------------------------ public */

void ringo_mutex_init(ringo_mutex *m)
{
	struct ringo__mutex *im = ringo__mutex_of(m);

	atomic_init(&im->state, 0);
	atomic_init(&im->sema, 0);
}

void ringo_mutex_lock(ringo_mutex *m)
{
	ringo__mutex_lock(ringo__mutex_of(m), RINGO_WAIT_MUTEX, m);
}

bool ringo_mutex_trylock(ringo_mutex *m)
{
	return ringo__mutex_trylock(ringo__mutex_of(m));
}

void ringo_mutex_unlock(ringo_mutex *m)
{
	ringo__mutex_unlock(ringo__mutex_of(m));
}
