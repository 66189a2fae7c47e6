/*
 * io/uring_sq.c - the io_uring backend's submission side.
 *
 * A goroutine's request goes to the ring of the P it runs on, written
 * under that ring's sq_lock from the parked goroutine's unlock callback
 * (uring_ops.c). Deferred submission: the SQE is published but not
 * submitted; the M goes on to the next goroutine, which may queue
 * another, and one io_uring_enter passes them all when the scheduler
 * flushes (io/netpoll.h: before an M looks for work or sleeps, every 32
 * switches, and from sysmon). An M flushes only its own P's ring, so it
 * is the submitter of the requests its goroutines made, and their
 * completions' task work (the recv that runs once the socket is
 * readable) runs on it, on the core where those goroutines run. Wakes
 * and cancels are submitted at once.
 */
#include <errno.h>
#include <string.h>

#include "uring_ring.h"

uint64_t ringo__uslot_ud(const struct ringo__uslot *s, unsigned kind)
{
	uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	return (uint64_t)s->idx | (uint64_t)s->ring << RINGO__UD_RING_SHIFT |
	       seq << RINGO__UD_SEQ_SHIFT |
	       (uint64_t)kind << RINGO__UD_KIND_SHIFT;
}

static void mark_pending(struct ringo__uring *u)
{
	atomic_fetch_or_explicit(&ringo__netpoll_pending, ringo__uring_bit(u),
				 memory_order_relaxed);
}

/* Make the SQEs written so far visible to the kernel (the SQ tail) without
 * entering it: any thread's next enter submits them. As liburing's own
 * flush, with a release store pairing with the kernel's acquire of the
 * tail. */
static void publish_locked(struct ringo__uring *u)
{
	struct io_uring_sq *sq = &u->ring.sq;

	if (sq->sqe_head == sq->sqe_tail)
		return;
	sq->sqe_head = sq->sqe_tail;
	io_uring_smp_store_release(sq->ktail, sq->sqe_tail);
}

/* Publish and enter under sq_lock: only for a full SQ, where the caller
 * needs the kernel to take SQEs before it can write another. liburing
 * publishes the tail with a plain store, enough when the writer enters
 * itself; another thread's enter may pick them up, hence the release
 * store first. */
void ringo__uring_submit_locked(struct ringo__uring *u)
{
	publish_locked(u);
	int r = io_uring_submit(&u->ring);

	/* On EAGAIN/EBUSY the SQEs stay in the SQ: the next submit or the
	 * blocking poller's enter passes them to the kernel. */
	if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -EINTR)
		ringo__throw("netpoll", "uring: io_uring_submit: %s",
			     strerror(-r));
}

struct io_uring_sqe *ringo__uring_sqe_locked(struct ringo__uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (ringo__likely(sqe != NULL))
		return sqe;
	ringo__uring_submit_locked(u);
	return io_uring_get_sqe(&u->ring);
}

void ringo__uslot_armed(struct ringo__uslot *s)
{
	atomic_fetch_add_explicit(&ringo__uring_inflight_nr, 1,
				  memory_order_relaxed);
	/* Pairs with the acquire load in uring_cq.c's handle_cqe. */
	atomic_store_explicit(&s->state, RINGO__USLOT_ARMED, memory_order_release);
}

void ringo__uring_unlock_defer(struct ringo__uring *u)
{
	publish_locked(u);
	mark_pending(u);
	ringo__unlock(&u->sq_lock);
}

/* Publish what is queued and unlock sq_lock; returns how many SQEs an
 * enter should pass. The flush counts from here (sysmon's stale check). */
unsigned ringo__uring_publish_unlock(struct ringo__uring *u)
{
	publish_locked(u);
	unsigned n = io_uring_sq_ready(&u->ring);
	atomic_fetch_and_explicit(&ringo__netpoll_pending, ~ringo__uring_bit(u),
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&u->flushes, 1, memory_order_relaxed);
	ringo__unlock(&u->sq_lock);
	return n;
}

/* Enter the kernel with published SQEs, without sq_lock: the kernel takes
 * SQEs from its head up to the published tail under its own lock, so an
 * enter can run beside other enters and beside Ms queueing more (only
 * liburing's user-space sqe_head/sqe_tail need sq_lock). Holding the lock
 * across the enter made every other M wait while the kernel ran the
 * batch's sends and receives inline. An enter that passed nothing
 * (EAGAIN, EBUSY) leaves the SQEs pending for the next flush. */
static void enter_unlocked(struct ringo__uring *u, unsigned to_submit)
{
	if (!to_submit)
		return;
	int r = io_uring_enter((unsigned)u->ring.ring_fd, to_submit, 0, 0, NULL);
	if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -EINTR)
		ringo__throw("netpoll", "uring: io_uring_enter: %s",
			     strerror(-r));
	/* A failed or short enter leaves SQEs published but not passed. */
	if (r < 0 || (unsigned)r < to_submit)
		mark_pending(u);
}

void ringo__uring_unlock_submit(struct ringo__uring *u)
{
	enter_unlocked(u, ringo__uring_publish_unlock(u));
}

/* Rounds one combiner does before it hands the rest back: under steady
 * load it could otherwise enter for others forever (sysmon included, which
 * has its own work). */
#define FLUSH_ROUNDS_MAX 4

/* Deferred flushes of one ring, combined: flush_req counts the flushes
 * asked for, and the thread that moves it from 0 enters the kernel for
 * all of them - again until the count it takes back leaves zero, for a
 * few rounds at most. The others only count and go on. Two threads in one
 * ring serialize on its kernel mutex, whose owner runs the batch's sends
 * and receives inline: the second spun on it (mutex_spin_on_owner, a
 * fifth of the server's CPU on 2 Ps at 3,000 connections, when all Ps
 * shared one ring). Each asker published its SQEs before its increment
 * (release); the combiner's RMWs acquire. */
void ringo__uring_ring_flush(struct ringo__uring *u)
{
	if (atomic_fetch_add_explicit(&u->flush_req, 1, memory_order_acq_rel))
		return;
	uint32_t n = 1;
	for (int round = 0;; round++) {
		ringo__lock(&u->sq_lock);
		enter_unlocked(u, ringo__uring_publish_unlock(u));
		if (round == FLUSH_ROUNDS_MAX) {
			/* Take every outstanding request back at once, so the
			 * next flush finds 0 and combines again, and leave
			 * their SQEs to it. */
			if (atomic_exchange_explicit(&u->flush_req, 0,
						     memory_order_acq_rel) != n)
				mark_pending(u);
			return;
		}
		uint32_t left = atomic_fetch_sub_explicit(
			&u->flush_req, n, memory_order_acq_rel) - n;
		if (!left)
			return;
		n = left;
	}
}

/* An M with a P flushes its own ring only: the submitter of a request is
 * the thread its completion's task work runs on, and that should be the M
 * that will run the goroutine. The other rings' Ms flush their own before
 * they look for work, sleep, or every 32 switches. sysmon (no P) flushes,
 * ring by ring, what was pending at its previous tick and has not been
 * flushed since (io/netpoll.h). */
void ringo__uring_flush(void)
{
	struct ringo__m *m = ringo__getm();
	uint32_t bits = atomic_load_explicit(&ringo__netpoll_pending,
					     memory_order_relaxed);

	if (m && m->p) {
		struct ringo__uring *u = ringo__uring_cur();
		if (bits & ringo__uring_bit(u))
			ringo__uring_ring_flush(u);
		return;
	}
	for (unsigned i = 0; i < ringo__nurings; i++) {
		struct ringo__uring *u = &ringo__urings[i];
		bool pending = bits & ringo__uring_bit(u);
		uint32_t flushes = atomic_load_explicit(&u->flushes,
							memory_order_relaxed);
		if (pending && u->stale_pending && flushes == u->stale_flushes) {
			ringo__uring_ring_flush(u);
			flushes = atomic_load_explicit(&u->flushes,
						       memory_order_relaxed);
			pending = false;
		}
		u->stale_pending = pending;
		u->stale_flushes = flushes;
	}
}

/* Cancel every request in flight, on every ring (they finish with
 * -ECANCELED). */
void ringo__uring_cancel_all(void)
{
	for (unsigned i = 0; i < ringo__nurings; i++) {
		struct ringo__uring *u = &ringo__urings[i];
		ringo__lock(&u->sq_lock);
		struct io_uring_sqe *sqe = ringo__uring_sqe_locked(u);
		if (sqe) {
			io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ALL |
							   IORING_ASYNC_CANCEL_ANY);
			io_uring_sqe_set_data64(sqe, (uint64_t)RINGO__UD_IGNORE
							     << RINGO__UD_KIND_SHIFT);
		}
		ringo__uring_unlock_submit(u);
	}
}

void ringo__uring_cancel(uint64_t ud)
{
	uint32_t idx = (uint32_t)ud & RINGO__UD_SLOT_MASK;
	uint32_t ring = (uint32_t)(ud >> RINGO__UD_RING_SHIFT) & 0xff;
	struct ringo__uslot *s = ringo__uslot_at(idx);
	uint32_t tag = (uint32_t)(ud >> RINGO__UD_SEQ_SHIFT) & RINGO__UD_SEQ_MASK;

	if (!s || ring >= ringo__nurings)
		ringo__throw("netpoll", "uring: unblock of slot %u on ring %u",
			     idx, ring);
	/* The slot's ring, whose sq_lock its submit takes too: a cancel
	 * only works on the ring that holds its target. */
	struct ringo__uring *u = &ringo__urings[ring];
	ringo__lock(&u->sq_lock);
	if (atomic_load_explicit(&s->seq, memory_order_relaxed) != tag) {
		ringo__unlock(&u->sq_lock); /* that request is over */
		return;
	}
	atomic_store_explicit(&s->cancel_tag, tag, memory_order_relaxed);
	if (atomic_load_explicit(&s->state, memory_order_relaxed) !=
	    RINGO__USLOT_ARMED) {
		ringo__unlock(&u->sq_lock); /* its submit will see cancel_tag */
		return;
	}
	struct io_uring_sqe *sqe = ringo__uring_sqe_locked(u);
	if (!sqe)
		ringo__throw("netpoll", "uring: no SQE for a cancel");
	io_uring_prep_cancel64(sqe, ud, 0);
	/* Its CQE names the target, as a kind that may arrive stale. */
	uint64_t kind_mask = UINT64_C(0xff) << RINGO__UD_KIND_SHIFT;
	io_uring_sqe_set_data64(sqe, (ud & ~kind_mask) |
				     (uint64_t)RINGO__UD_STALE_OK
					     << RINGO__UD_KIND_SHIFT);
	ringo__uring_unlock_submit(u);
}
