/*
 * core/sync_cond.c - ringo_cond: Go's sync.Cond with the runtime's
 * notifyList underneath.
 *
 * A waiter takes a ticket (wait++) while it still holds the caller's
 * mutex, then unlocks the mutex and parks. Signal advances `notify` by
 * one and wakes the waiter holding the ticket it passed; broadcast
 * advances `notify` to `wait` and wakes everyone parked. A waiter that has
 * its ticket but has not parked yet when its ticket is notified finds
 * ticket < notify under the lock and does not park at all. So a signal is
 * never lost in the gap between unlocking the mutex and parking, which is
 * why the ticket is taken before the unlock.
 *
 * Waiters are structs on their own stacks, in a list under an internal
 * lock. They join the list roughly but not exactly in ticket order (the
 * ticket is taken before the lock), so signal searches it by ticket.
 *
 * Rejected: a semaphore count (a signal with nobody waiting would be
 * banked and wake a later waiter, which Cond must not do); a plain list
 * without tickets (the signal/park gap above).
 */
#include <ringo/sync.h>

#include "lock.h"
#include "sync_internal.h"

/* A parked waiter, on its own stack. */
struct condwaiter {
	struct ringo__g *g;
	uint32_t ticket;
	struct condwaiter *next;
};

/* wait: the next ticket to hand out; incremented (seq-cst) by each
 * ringo_cond_wait with the user's mutex held. notify: the next ticket
 * to be woken; written under lock, read without it by the fast path of
 * signal and broadcast (nothing to do when notify == wait). lock protects
 * notify's writes and the head/tail list. Tickets wrap: compare them with
 * ticket_less. */
struct cond {
	_Atomic uint32_t wait;
	_Atomic uint32_t notify;
	struct ringo__lock lock;
	struct condwaiter *head, *tail;
} RINGO__MAY_ALIAS;

RINGO__SYNC_VIEW_OK(struct cond, ringo_cond);

static struct cond *cond_of(ringo_cond *c)
{
	return (struct cond *)(void *)c;
}

static bool ticket_less(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool unlock_cond(struct ringo__g *g, void *arg)
{
	(void)g;
	ringo__unlock(&((struct cond *)arg)->lock);
	return true;
}

void ringo_cond_init(ringo_cond *c)
{
	struct cond *cv = cond_of(c);

	atomic_init(&cv->wait, 0);
	atomic_init(&cv->notify, 0);
	cv->lock = (struct ringo__lock)RINGO__LOCK_INIT;
	cv->head = cv->tail = NULL;
}

void ringo_cond_wait(ringo_cond *c, ringo_mutex *m)
{
	struct cond *cv = cond_of(c);
	struct ringo__g *g = ringo__must_park("ringo_cond_wait");

	uint32_t t = atomic_fetch_add(&cv->wait, 1);
	ringo_mutex_unlock(m);

	ringo__lock(&cv->lock);
	if (ticket_less(t, atomic_load_explicit(&cv->notify,
						memory_order_relaxed))) {
		/* Notified between the unlock and here. */
		ringo__unlock(&cv->lock);
	} else {
		struct condwaiter w = { .g = g, .ticket = t };
		if (cv->tail)
			cv->tail->next = &w;
		else
			cv->head = &w;
		cv->tail = &w;
		ringo__park(unlock_cond, cv, RINGO_WAIT_COND, c);
	}
	ringo_mutex_lock(m);
}

void ringo_cond_signal(ringo_cond *c)
{
	struct cond *cv = cond_of(c);

	if (atomic_load(&cv->wait) == atomic_load(&cv->notify))
		return;
	ringo__lock(&cv->lock);
	uint32_t t = atomic_load_explicit(&cv->notify, memory_order_relaxed);
	if (t == atomic_load(&cv->wait)) {
		ringo__unlock(&cv->lock);
		return;
	}
	atomic_store(&cv->notify, t + 1);
	/* Wake ticket t if it has parked; if not, it will see notify > t
	 * and not park. */
	for (struct condwaiter *p = NULL, *w = cv->head; w; p = w, w = w->next) {
		if (w->ticket != t)
			continue;
		if (p)
			p->next = w->next;
		else
			cv->head = w->next;
		if (cv->tail == w)
			cv->tail = p;
		ringo__unlock(&cv->lock);
		ringo__ready(w->g);
		return;
	}
	ringo__unlock(&cv->lock);
}

void ringo_cond_broadcast(ringo_cond *c)
{
	struct cond *cv = cond_of(c);

	if (atomic_load(&cv->wait) == atomic_load(&cv->notify))
		return;
	ringo__lock(&cv->lock);
	struct condwaiter *w = cv->head;
	cv->head = cv->tail = NULL;
	atomic_store(&cv->notify, atomic_load(&cv->wait));
	ringo__unlock(&cv->lock);
	/* Each waiter's struct stays valid until we ready its goroutine;
	 * read `next` first. The first runs next on this P, the others
	 * queue behind it in list order. */
	for (bool first = true; w; first = false) {
		struct condwaiter *next = w->next;
		if (first)
			ringo__ready(w->g);
		else
			ringo__ready_tail(w->g);
		w = next;
	}
}
