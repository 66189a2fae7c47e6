/*
 * io/netpoll_uring.c - the io_uring backend.
 *
 * A ring per P (up to RINGS_MAX; Ps beyond share). A goroutine's request
 * goes to the ring of the P it runs on, written under that ring's sq_lock
 * from the parked goroutine's unlock callback (so a completion can never
 * reach a goroutine that is still running). Two Ms never enter one ring
 * at once in the common case: with one shared ring they serialized on its
 * kernel mutex, whose holder runs the batch's sends and receives inline.
 *
 * Deferred submission: an op's SQE is published but not submitted; the M
 * goes on to the next goroutine, which may queue another, and one
 * io_uring_enter passes them all when the scheduler flushes (io/netpoll.h:
 * before an M looks for work or sleeps, every 32 switches, and from
 * sysmon). An M flushes only its own P's ring, so it is the submitter of
 * the requests its goroutines made, and their completions' task work (the
 * recv that runs once the socket is readable) runs on it, on the core
 * where those goroutines run. Wakes and cancels are submitted at once.
 *
 * Reaping: Ms peek at CQs from user space, no system call, their own ring
 * first. The one M blocked in poll() waits for "a CQE on any ring, a wake
 * or the next timer": with one ring in a single io_uring_enter (GETEVENTS
 * with an EXT_ARG timeout, submitting the SQ backlog in the same call; a
 * wake is a NOP on the ring); with several in epoll_pwait2 on the ring
 * fds (readable while a CQ holds entries) and an eventfd for wakes, since
 * one thread cannot wait in several rings. wake_pending coalesces wakes.
 *
 * COOP_TASKRUN: task work is queued on its submitter without an IPI: a
 * busy M runs it at its next system call or interrupt, instead of being
 * interrupted for each one; an M asleep (on its futex, in the ring or in
 * epoll) is still woken to run it (TWA_SIGNAL_NO_IPI wakes interruptible
 * sleepers). Running pending work early from the reaper (TASKRUN_FLAG
 * plus a GETEVENTS enter) measured no better. Measured: docs/io.md.
 *
 * Rejected for now: SINGLE_ISSUER/DEFER_TASKRUN (a P's ring is entered by
 * whichever M holds the P, and sysmon; with DEFER_TASKRUN a completion
 * waits for its submitter to enter the ring with GETEVENTS, which an M
 * asleep on its futex never does).
 *
 * Sockets are registered in each ring's file table at their first
 * request there (index = fd number), so requests skip the file lookup.
 *
 * user_data names a slot in a table whose chunks live until fini (type
 * stable), the slot's ring, a sequence tag and a kind
 * (io/netpoll_uring.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <ringo/sched.h>

#include "core/lock.h"
#include "epoll_wait.h"
#include "netpoll.h"
#include "pd.h"
#include "netpoll_uring.h"

#define SQ_ENTRIES 16384
/* The CQ entries of all rings together (each gets its share, at least
 * CQ_ENTRIES_MIN): the in-flight maximum, a request per direction for each
 * of the ~20000 descriptors a process may open here, with room for
 * cancels. One ring that holds more than its share overflows into the
 * kernel's buffer (IORING_FEAT_NODROP), which reap() flushes.
 * RINGO_URING_CQ_ENTRIES sets each ring's size, for tests. */
#define CQ_ENTRIES_DEFAULT 65536
#define CQ_ENTRIES_MIN 8192
/* The registered-file table's size bound (entries per ring). */
#define FIXED_FILES_MAX 65536
/* pd->be.uring.fixed_rings: do not register this descriptor. */
#define FIXED_NEVER (UINT32_C(1) << 31)

/* ------------------------------------------------------------ state */

/* A ring per P, up to RINGS_MAX (P i uses ring i % nrings). Bit i of
 * ringo__netpoll_pending is ring i's "SQEs published, not yet entered". */
#define RINGS_MAX 16

struct uring {
	struct io_uring ring;
	/* Protects liburing's SQ bookkeeping (sqe_head, sqe_tail) and the
	 * kernel SQ tail: every io_uring_get_sqe .. io_uring_submit
	 * sequence. Own cache line: Ms of other Ps take it to cancel. */
	_Alignas(64) struct ringo__lock sq_lock;
	/* Deferred flushes asked for (ring_flush). */
	_Atomic uint32_t flush_req;
	/* Flushes so far; and sysmon's view of the ring at its previous
	 * tick (only sysmon touches those two): see uring_flush. */
	_Atomic uint32_t flushes;
	uint32_t stale_flushes;
	bool stale_pending;
	/* Protects the CQ head (and, with one ring, in_kernel and
	 * wake_seen). Held while reaping, not while blocked. */
	_Alignas(64) struct ringo__lock cq_lock;
	/* Size of its registered-file table; 0 without one. */
	unsigned files_nr;
	unsigned idx;
};

static struct uring *rings;
static unsigned nrings;
static bool ring_up;

/* With one ring the blocking poller waits in io_uring_enter, and these
 * belong to it (under rings[0].cq_lock):
 * in_kernel: the poller is in (or about to enter) io_uring_enter:
 *   peekers leave the CQ alone, so every CQE posted after it decided to
 *   block is still there for the kernel to count as its wake-up.
 * wake_seen: a WAKE CQE was reaped and the poller has not yet returned
 *   because of it. A peeker that reaps the wake records it here. */
static bool in_kernel;
static bool wake_seen;
/* With several rings the poller waits in epoll_wait on every ring's fd
 * (readable while its CQ holds entries) and on wake_fd, an eventfd that
 * wake() writes. Peekers may reap while it sleeps: a ring it was told
 * about but finds empty is not reported, and it sleeps on. */
static int wait_epfd = -1;
static int wake_fd = -1;
/* 0: no wake outstanding; 1: one is (or is about to be) posted (a NOP,
 * or wake_fd) or recorded in wake_seen. wake() moves 0 -> 1 and posts;
 * the blocking poller moves 1 -> 0 when it returns because of it. */
static _Atomic int wake_pending;

/* Stale CQEs dropped (cancels whose target's slot was reused when they
 * arrived); read by tests through ringo__uring_stats. */
static _Atomic uint64_t stale_nr;
static _Atomic uint64_t overflow_flush_nr;
static _Atomic uint64_t wake_nr;
/* Requests of slots the kernel holds: +1 when a slot is ARMED, -1 at its
 * last CQE (no IORING_CQE_F_MORE). fini drains it to zero. */
static _Atomic int64_t inflight_nr;

/* The fd array a files-update SQE names to clear an entry. */
static int fixed_clear = -1;

/* fini is draining the ring: completions ready nobody (their goroutines
 * were freed with the runtime). Set and read by the thread in fini. */
static bool finishing;
/* The shutdown cancel-all was sent; reset by init. */
static _Atomic bool shutdown_cancelled;

/* The calling M's P's ring; ring 0 for a thread without a P. */
static unsigned cur_ring(void)
{
	struct ringo__m *m = ringo__getm();

	return m && m->p ? (unsigned)m->p->id % nrings : 0;
}

static uint32_t ring_bit(const struct uring *u)
{
	return UINT32_C(1) << u->idx;
}

/* ------------------------------------------------------------ slots */

/* Slots are never freed while the ring can see them: chunks are added
 * under slot_lock and freed only by fini, after the ring is gone. */
#define SLOT_CHUNK_SHIFT 10
#define SLOT_CHUNK (1u << SLOT_CHUNK_SHIFT)
#define SLOT_CHUNKS_MAX 4096 /* 4M slots: the index fits user_data's 24 bits */

static struct ringo__uslot *_Atomic slot_chunks[SLOT_CHUNKS_MAX];
/* Protects slot_free, slot_nchunks and each free slot's next_free. */
static struct ringo__lock slot_lock = RINGO__LOCK_INIT;
static uint32_t slot_free = UINT32_MAX;
static uint32_t slot_nchunks;

static struct ringo__uslot *slot_at(uint32_t idx)
{
	uint32_t c = idx >> SLOT_CHUNK_SHIFT;

	if (ringo__unlikely(c >= SLOT_CHUNKS_MAX))
		return NULL;
	/* Pairs with the release store in slot_grow_locked. */
	struct ringo__uslot *chunk =
		atomic_load_explicit(&slot_chunks[c], memory_order_acquire);
	return chunk ? &chunk[idx & (SLOT_CHUNK - 1)] : NULL;
}

static bool slot_grow_locked(void)
{
	if (slot_nchunks == SLOT_CHUNKS_MAX)
		return false;
	struct ringo__uslot *chunk = calloc(SLOT_CHUNK, sizeof(*chunk));
	if (!chunk)
		return false;
	uint32_t base = slot_nchunks << SLOT_CHUNK_SHIFT;
	for (uint32_t i = SLOT_CHUNK; i-- > 0;) {
		chunk[i].idx = base + i;
		chunk[i].next_free = slot_free;
		slot_free = base + i;
	}
	atomic_store_explicit(&slot_chunks[slot_nchunks], chunk,
			      memory_order_release);
	slot_nchunks++;
	return true;
}

struct ringo__uslot *ringo__uslot_get(void)
{
	ringo__lock(&slot_lock);
	if (slot_free == UINT32_MAX && !slot_grow_locked()) {
		ringo__unlock(&slot_lock);
		return NULL;
	}
	struct ringo__uslot *s = slot_at(slot_free);
	slot_free = s->next_free;
	ringo__unlock(&slot_lock);
	uint32_t seq = (atomic_load_explicit(&s->seq, memory_order_relaxed) + 1) &
		       RINGO__UD_SEQ_MASK;
	atomic_store_explicit(&s->seq, seq, memory_order_relaxed);
	s->g = NULL;
	s->res = 0;
	s->cflags = 0;
	s->done = NULL;
	s->done_arg = NULL;
	s->ring = cur_ring();
	atomic_store_explicit(&s->state, RINGO__USLOT_OWNED, memory_order_relaxed);
	return s;
}

void ringo__uslot_put(struct ringo__uslot *s)
{
	uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);

	if (st != RINGO__USLOT_OWNED && st != RINGO__USLOT_DONE)
		ringo__throw("netpoll", "uring: freeing slot %u in state %u",
			     s->idx, st);
	/* Bump the tag so a late CQE naming the old one is stale. */
	atomic_store_explicit(&s->seq, (atomic_load_explicit(&s->seq,
				memory_order_relaxed) + 1) & RINGO__UD_SEQ_MASK,
			      memory_order_relaxed);
	atomic_store_explicit(&s->state, RINGO__USLOT_FREE, memory_order_relaxed);
	ringo__lock(&slot_lock);
	s->next_free = slot_free;
	slot_free = s->idx;
	ringo__unlock(&slot_lock);
}

static void slots_free_all(void)
{
	for (uint32_t c = 0; c < slot_nchunks; c++) {
		free(atomic_load(&slot_chunks[c]));
		atomic_store(&slot_chunks[c], NULL);
	}
	slot_nchunks = 0;
	slot_free = UINT32_MAX;
}

/* --------------------------------------------------------- submission */

uint64_t ringo__uslot_ud(const struct ringo__uslot *s, unsigned kind)
{
	uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	return (uint64_t)s->idx | (uint64_t)s->ring << RINGO__UD_RING_SHIFT |
	       seq << RINGO__UD_SEQ_SHIFT |
	       (uint64_t)kind << RINGO__UD_KIND_SHIFT;
}

static void mark_pending(struct uring *u)
{
	atomic_fetch_or_explicit(&ringo__netpoll_pending, ring_bit(u),
				 memory_order_relaxed);
}

/* Make the SQEs written so far visible to the kernel (the SQ tail) without
 * entering it: any thread's next enter submits them. As liburing's own
 * flush, with a release store pairing with the kernel's acquire of the
 * tail. */
static void publish_locked(struct uring *u)
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
static void submit_locked(struct uring *u)
{
	publish_locked(u);
	int r = io_uring_submit(&u->ring);

	/* On EAGAIN/EBUSY the SQEs stay in the SQ: the next submit or the
	 * blocking poller's enter passes them to the kernel. */
	if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -EINTR)
		ringo__throw("netpoll", "uring: io_uring_submit: %s",
			     strerror(-r));
}

static struct io_uring_sqe *sqe_locked(struct uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (ringo__likely(sqe != NULL))
		return sqe;
	submit_locked(u);
	return io_uring_get_sqe(&u->ring);
}

void ringo__uslot_armed(struct ringo__uslot *s)
{
	atomic_fetch_add_explicit(&inflight_nr, 1, memory_order_relaxed);
	/* Pairs with the acquire load in handle_cqe. */
	atomic_store_explicit(&s->state, RINGO__USLOT_ARMED, memory_order_release);
}

static void unlock_defer(struct uring *u)
{
	publish_locked(u);
	mark_pending(u);
	ringo__unlock(&u->sq_lock);
}

/* Publish what is queued and unlock sq_lock; returns how many SQEs an
 * enter should pass. The flush counts from here (sysmon's stale check). */
static unsigned publish_unlock(struct uring *u)
{
	publish_locked(u);
	unsigned n = io_uring_sq_ready(&u->ring);
	atomic_fetch_and_explicit(&ringo__netpoll_pending, ~ring_bit(u),
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
static void enter_unlocked(struct uring *u, unsigned to_submit)
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

static void unlock_submit(struct uring *u)
{
	enter_unlocked(u, publish_unlock(u));
}

void ringo__uring_sq_lock(unsigned ring)
{
	ringo__lock(&rings[ring].sq_lock);
}

struct io_uring_sqe *ringo__uring_sqe_locked(unsigned ring)
{
	return sqe_locked(&rings[ring]);
}

void ringo__uring_sq_unlock_submit(unsigned ring)
{
	unlock_submit(&rings[ring]);
}

void ringo__uring_sq_unlock_defer(unsigned ring)
{
	unlock_defer(&rings[ring]);
}

void ringo__uring_sq_unlock(unsigned ring)
{
	ringo__unlock(&rings[ring].sq_lock);
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
static void ring_flush(struct uring *u)
{
	if (atomic_fetch_add_explicit(&u->flush_req, 1, memory_order_acq_rel))
		return;
	uint32_t n = 1;
	for (int round = 0;; round++) {
		ringo__lock(&u->sq_lock);
		enter_unlocked(u, publish_unlock(u));
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
static void uring_flush(void)
{
	struct ringo__m *m = ringo__getm();
	uint32_t bits = atomic_load_explicit(&ringo__netpoll_pending,
					     memory_order_relaxed);

	if (m && m->p) {
		struct uring *u = &rings[cur_ring()];
		if (bits & ring_bit(u))
			ring_flush(u);
		return;
	}
	for (unsigned i = 0; i < nrings; i++) {
		struct uring *u = &rings[i];
		bool pending = bits & ring_bit(u);
		uint32_t flushes = atomic_load_explicit(&u->flushes,
							memory_order_relaxed);
		if (pending && u->stale_pending && flushes == u->stale_flushes) {
			ring_flush(u);
			flushes = atomic_load_explicit(&u->flushes,
						       memory_order_relaxed);
			pending = false;
		}
		u->stale_pending = pending;
		u->stale_flushes = flushes;
	}
}

/* ----------------------------------------------------------- reaping */

/* What a reap pass counts, to move the shared counters once. */
struct reap_counts {
	int32_t readied; /* goroutines to take off ringo__netpoll_waiters_nr */
	int64_t ended;   /* requests whose last CQE came (inflight_nr) */
};

static void handle_cqe(const struct io_uring_cqe *cqe,
		       struct ringo__glist *ready, struct reap_counts *c)
{
	uint64_t ud = cqe->user_data;
	unsigned kind = (unsigned)(ud >> RINGO__UD_KIND_SHIFT);

	switch (kind) {
	case RINGO__UD_WAKE:
		wake_seen = true;
		return;
	case RINGO__UD_IGNORE:
		return;
	default:
		break;
	}
	uint32_t idx = (uint32_t)ud & RINGO__UD_SLOT_MASK;
	uint32_t tag = (uint32_t)(ud >> RINGO__UD_SEQ_SHIFT) & RINGO__UD_SEQ_MASK;
	struct ringo__uslot *s = slot_at(idx);
	if (!s)
		ringo__throw("netpoll", "uring: CQE names slot %u of %u", idx,
			     slot_nchunks << SLOT_CHUNK_SHIFT);
	bool stale = atomic_load_explicit(&s->seq, memory_order_relaxed) != tag;
	if (kind == RINGO__UD_STALE_OK) {
		/* A cancel's own CQE, naming its target: nobody waits for
		 * it, and the target may be over and its slot reused. */
		if (stale)
			atomic_fetch_add_explicit(&stale_nr, 1,
						  memory_order_relaxed);
		return;
	}
	/* A request a goroutine waits on holds its slot until this CQE. */
	if (stale)
		ringo__throw("netpoll", "uring: stale completion (kind %u, "
			     "slot %u, tag %u, res %d)", kind, idx, tag,
			     cqe->res);
	/* Pairs with the release store in ringo__uslot_armed. */
	uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
	if (st != RINGO__USLOT_ARMED)
		ringo__throw("netpoll", "uring: completion for slot %u in state "
			     "%u", idx, st);
	s->res = cqe->res;
	s->cflags = cqe->flags;
	if (!(cqe->flags & IORING_CQE_F_MORE))
		c->ended++;
	if (finishing)
		return; /* its goroutine is freed: leave the slot, it goes too */
	if (s->done) {
		s->done(s, ready);
		return;
	}
	struct ringo__g *g = s->g;
	c->readied++;
	/* Pairs with the acquire load in req_run. */
	atomic_store_explicit(&s->state, RINGO__USLOT_DONE, memory_order_release);
	ringo__glist_push(ready, g);
}

/* Drain u's CQ, and the kernel's overflow list behind it, until *ready
 * holds max goroutines (0: no limit; the rest wait in the CQ, in order,
 * for the next reap). cq_lock held. The counters all Ms share move once
 * per drain, not once per CQE: both mean "a request may still complete",
 * so a count that stays high until the drain ends (before its goroutines
 * can run) errs on the safe side. */
static void reap_locked(struct uring *u, struct ringo__glist *ready, int max)
{
	struct reap_counts c = { 0 };

	for (int round = 0; round < 64; round++) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		bool full = false;

		io_uring_for_each_cqe(&u->ring, head, cqe) {
			if (max && ready->n >= max) {
				full = true;
				break;
			}
			handle_cqe(cqe, ready, &c);
			n++;
		}
		io_uring_cq_advance(&u->ring, n);
		/* CQEs the kernel could not post while the CQ was full wait in
		 * its overflow list: an enter with GETEVENTS moves them in. */
		if (full || !(IO_URING_READ_ONCE(*u->ring.sq.kflags) &
			      IORING_SQ_CQ_OVERFLOW))
			break;
		atomic_fetch_add_explicit(&overflow_flush_nr, 1,
					  memory_order_relaxed);
		io_uring_get_events(&u->ring);
	}
	if (c.ended)
		atomic_fetch_sub_explicit(&inflight_nr, c.ended,
					  memory_order_relaxed);
	if (c.readied)
		atomic_fetch_sub(&ringo__netpoll_waiters_nr, c.readied);
}

/* Reap u if it has anything and nobody else is reaping it (someone else
 * reaping is as good as us reaping). */
static void peek_ring(struct uring *u, struct ringo__glist *ready)
{
	/* A hint without the lock (the reaper moves the head): relaxed
	 * loads, so nothing it reads is a data race. */
	if (IO_URING_READ_ONCE(*u->ring.cq.ktail) ==
		    IO_URING_READ_ONCE(*u->ring.cq.khead) &&
	    !(IO_URING_READ_ONCE(*u->ring.sq.kflags) & IORING_SQ_CQ_OVERFLOW))
		return;
	if (!ringo__trylock(&u->cq_lock))
		return;
	if (!in_kernel)
		reap_locked(u, ready, RINGO__NETPOLL_BATCH);
	ringo__unlock(&u->cq_lock);
}

/* Every ring, until *ready holds max goroutines (0: no limit). Each
 * call starts one ring further on, so that a busy ring that fills the
 * batch every time does not keep the others' completions waiting. */
static void reap_all(struct ringo__glist *ready, int max)
{
	static _Atomic unsigned first;
	unsigned start = atomic_fetch_add_explicit(&first, 1,
						   memory_order_relaxed);

	for (unsigned k = 0; k < nrings; k++) {
		struct uring *u = &rings[(start + k) % nrings];
		ringo__lock(&u->cq_lock);
		reap_locked(u, ready, max);
		ringo__unlock(&u->cq_lock);
	}
}

/* Reap what is there where nobody else is; used outside poll() by a
 * submitter that found no SQE free. */
void ringo__uring_reap_ready(void)
{
	struct ringo__glist l = { 0 };

	for (unsigned i = 0; i < nrings; i++)
		peek_ring(&rings[i], &l);
	for (struct ringo__g *g = l.head, *next; g; g = next) {
		next = g->schedlink;
		ringo__ready(g);
	}
}

/* One ring: the blocking poller consumes a wake. rings[0].cq_lock held. */
static bool take_wake_locked(void)
{
	if (!wake_seen)
		return false;
	wake_seen = false;
	atomic_store(&wake_pending, 0);
	return true;
}

/* ------------------------------------------------------- the backend */

/* The CQ of each ring: CQ_ENTRIES_DEFAULT shared out among the rings (at
 * least CQ_ENTRIES_MIN each; a full CQ only costs an overflow flush), or
 * RINGO_URING_CQ_ENTRIES. */
static unsigned cq_entries_from_env(unsigned nr)
{
	const char *env = getenv("RINGO_URING_CQ_ENTRIES");

	if (!env || !*env)
		return CQ_ENTRIES_DEFAULT / nr > CQ_ENTRIES_MIN
			       ? CQ_ENTRIES_DEFAULT / nr : CQ_ENTRIES_MIN;
	char *end;
	unsigned long v = strtoul(env, &end, 10);
	if (*end || v < 2 || v > CQ_ENTRIES_DEFAULT)
		ringo__panic("ringo_run", "RINGO_URING_CQ_ENTRIES=%s: want 2 to "
			     "%u", env, CQ_ENTRIES_DEFAULT);
	return (unsigned)v;
}

/* How many rings: one per P up to RINGS_MAX, or RINGO_URING_RINGS=n
 * (1 to RINGS_MAX, at most one per P); one when multishot receive is asked
 * for (its provided buffers belong to one ring). */
static unsigned rings_wanted(void)
{
	const char *ms = getenv("RINGO_URING_MSRECV");
	const char *env = getenv("RINGO_URING_RINGS");
	long n = ringo__sched.nprocs;

	if (env && *env) {
		char *end;
		long v = strtol(env, &end, 10);
		if (*end || v < 1 || v > RINGS_MAX)
			ringo__panic("ringo_run", "RINGO_URING_RINGS=%s: want 1 "
				     "to %d", env, RINGS_MAX);
		if (v < n)
			n = v;
	}
	if ((ms && strcmp(ms, "1") == 0) || n < 1)
		return 1;
	return n > RINGS_MAX ? RINGS_MAX : (unsigned)n;
}

/* Before Linux 6.13 a file cleared from a ring's table was released only
 * once every earlier fixed-file request on that ring had finished (the
 * ring retired its resource nodes in order): one idle connection's recv
 * would keep every socket closed after it open, its peer waiting for a
 * FIN. Registration is for 6.13 and later only. */
static bool fixed_files_release_at_once(void)
{
	struct utsname u;
	unsigned major, minor;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 13);
}

/* A sparse registered-file table with a slot per possible descriptor
 * (the open-file limit, at most FIXED_FILES_MAX): a socket's requests then
 * name its slot (IOSQE_FIXED_FILE) and the kernel skips the per-request
 * lookup and reference count of the file. RINGO_URING_FIXED_FILES=0 turns
 * it off. Returns the table's size, 0 without one. */
static unsigned fixed_files_register(struct io_uring *ring)
{
	const char *env = getenv("RINGO_URING_FIXED_FILES");
	struct rlimit rl;

	if ((env && strcmp(env, "0") == 0) || !fixed_files_release_at_once() ||
	    getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	/* The kernel allows at most the soft limit. */
	rlim_t n = rl.rlim_cur < FIXED_FILES_MAX ? rl.rlim_cur : FIXED_FILES_MAX;
	if (!n || io_uring_register_files_sparse(ring, (unsigned)n) < 0)
		return 0;
	return (unsigned)n;
}

static int ring_setup(struct uring *u, unsigned cq)
{
	struct io_uring_params p;
	unsigned sq = SQ_ENTRIES < cq ? SQ_ENTRIES : cq;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP |
		  IORING_SETUP_COOP_TASKRUN;
	p.cq_entries = cq;
	int r = io_uring_queue_init_params(sq, &u->ring, &p);
	if (r == -EINVAL) {
		/* Before 5.19: the default (IPI) task-work notification. */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
		p.cq_entries = cq;
		r = io_uring_queue_init_params(sq, &u->ring, &p);
	}
	if (r < 0)
		return r;
	/* Needed: EXT_ARG (the timed wait is one enter), NODROP (overflow
	 * is buffered, not lost). Both since 5.11/5.5. */
	if (!(p.features & IORING_FEAT_EXT_ARG) ||
	    !(p.features & IORING_FEAT_NODROP)) {
		io_uring_queue_exit(&u->ring);
		return -ENOSYS;
	}
	u->files_nr = fixed_files_register(&u->ring);
	return 0;
}

/* Several rings: the blocking poller consumes a wake. */
static void take_wake_fd(void)
{
	uint64_t v;

	while (read(wake_fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	atomic_store(&wake_pending, 0);
}

/* Several rings: the epoll set the blocking poller waits in. */
static int wait_set_up(void)
{
	struct epoll_event ev = { .events = EPOLLIN };

	wait_epfd = epoll_create1(EPOLL_CLOEXEC);
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wait_epfd < 0 || wake_fd < 0)
		return -errno;
	ev.data.u32 = UINT32_MAX;
	if (epoll_ctl(wait_epfd, EPOLL_CTL_ADD, wake_fd, &ev) < 0)
		return -errno;
	for (unsigned i = 0; i < nrings; i++) {
		ev.data.u32 = i;
		if (epoll_ctl(wait_epfd, EPOLL_CTL_ADD, rings[i].ring.ring_fd,
			      &ev) < 0)
			return -errno;
	}
	return 0;
}

static void wait_set_close(void)
{
	if (wait_epfd >= 0)
		close(wait_epfd);
	if (wake_fd >= 0)
		close(wake_fd);
	wait_epfd = wake_fd = -1;
}

static void rings_free(unsigned up)
{
	for (unsigned i = 0; i < up; i++)
		io_uring_queue_exit(&rings[i].ring);
	free(rings);
	rings = NULL;
	nrings = 0;
}

static int uring_init(void)
{
	const char *fail = getenv("RINGO_FAIL_URING_SETUP");

	if (fail && *fail && strcmp(fail, "0") != 0)
		return -ENOSYS;
	unsigned nr = rings_wanted();
	rings = aligned_alloc(_Alignof(struct uring), nr * sizeof(*rings));
	if (!rings)
		return -ENOMEM;
	memset(rings, 0, nr * sizeof(*rings));
	nrings = nr;
	unsigned cq = cq_entries_from_env(nr);
	for (unsigned i = 0; i < nr; i++) {
		rings[i].idx = i;
		int r = ring_setup(&rings[i], cq);
		if (r < 0) {
			rings_free(i);
			return r;
		}
	}
	if (nr > 1) {
		int r = wait_set_up();
		if (r < 0) {
			wait_set_close();
			rings_free(nr);
			return r;
		}
	}
	ring_up = true;
	ringo__uring_ms_init(&rings[0].ring);
	atomic_store(&inflight_nr, 0);
	atomic_store(&shutdown_cancelled, false);
	atomic_store(&ringo__netpoll_pending, 0);
	in_kernel = false;
	wake_seen = false;
	atomic_store(&wake_pending, 0);
	atomic_store(&stale_nr, 0);
	atomic_store(&overflow_flush_nr, 0);
	atomic_store(&wake_nr, 0);
	return 0;
}

static void cancel_all(void);

/* Wait at most 10 ms for a completion on any ring. */
static void wait_briefly(void)
{
	struct __kernel_timespec ts = { .tv_nsec = 10000000 };

	if (nrings == 1) {
		struct io_uring_cqe *cqe;
		io_uring_wait_cqe_timeout(&rings[0].ring, &cqe, &ts);
		return;
	}
	struct epoll_event ev[RINGS_MAX + 1];
	int n = epoll_wait(wait_epfd, ev, RINGS_MAX + 1, 10);
	for (int i = 0; i < n; i++)
		if (ev[i].data.u32 == UINT32_MAX)
			take_wake_fd(); /* level-triggered: it would spin */
}

/* After every M has stopped: the goroutines parked in requests are gone
 * (their stacks too), so cancel every request still in flight and wait
 * for the cancellations, reaping without touching those goroutines; then
 * the descriptors left open are closed and the rings go. */
static void uring_fini(void)
{
	if (!ring_up)
		return;
	finishing = true;
	cancel_all();
	struct ringo__glist l = { 0 };
	int64_t until = ringo__nanotime() + 5000000000;
	for (;;) {
		reap_all(&l, 0);
		if (atomic_load(&inflight_nr) <= 0 ||
		    ringo__nanotime() > until)
			break;
		wait_briefly();
	}
	ringo__pd_fini();
	wait_set_close();
	rings_free(nrings);
	ring_up = false;
	finishing = false;
	ringo__uring_ms_fini();
	slots_free_all();
	atomic_store(&ringo__netpoll_waiters_nr, 0);
}

/* The calling M's own ring first: what completed there was submitted, and
 * its data copied, on this core. Other rings only if it had nothing. */
static int peek(struct ringo__glist *ready)
{
	unsigned own = cur_ring();

	peek_ring(&rings[own], ready);
	for (unsigned i = 1; i < nrings && !ready->n; i++)
		peek_ring(&rings[(own + i) % nrings], ready);
	return 0;
}

/* One ring: one io_uring_enter that submits the SQ backlog and waits for
 * a CQE, a wake NOP or the timeout. */
static int wait_one(int64_t delay_ns, struct ringo__glist *ready)
{
	struct uring *u = &rings[0];

	ringo__lock(&u->cq_lock);
	reap_locked(u, ready, RINGO__NETPOLL_BATCH);
	if (ready->n || take_wake_locked()) {
		ringo__unlock(&u->cq_lock);
		return 0;
	}
	in_kernel = true;
	ringo__unlock(&u->cq_lock);

	/* Deferred SQEs, and any left behind by a submit that failed with
	 * EAGAIN/EBUSY, go in with the wait: one io_uring_enter either way. */
	ringo__lock(&u->sq_lock);
	unsigned to_submit = publish_unlock(u);

	struct __kernel_timespec ts;
	struct io_uring_getevents_arg arg = { 0 };
	if (delay_ns > 0) {
		ts.tv_sec = delay_ns / 1000000000;
		ts.tv_nsec = delay_ns % 1000000000;
		arg.ts = (uint64_t)(uintptr_t)&ts;
	}
	int r = io_uring_enter2((unsigned)u->ring.ring_fd, to_submit, 1,
				IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
				(sigset_t *)&arg, sizeof(arg));
	if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY &&
	    r != -EAGAIN)
		ringo__throw("netpoll", "uring: io_uring_enter: %s",
			     strerror(-r));

	ringo__lock(&u->cq_lock);
	in_kernel = false;
	reap_locked(u, ready, RINGO__NETPOLL_BATCH);
	take_wake_locked();
	ringo__unlock(&u->cq_lock);
	return 0;
}

/* No P that uses ring i is held by an M: nobody would flush it soon.
 * Also true outside ringo_run (no Ps: the backend driven by a test). */
static bool ring_unowned(unsigned i)
{
	if (!ringo__sched.allp)
		return true;
	for (int j = (int)i; j < ringo__sched.nprocs; j += (int)nrings)
		if (atomic_load_explicit(&ringo__sched.allp[j]->status,
					 memory_order_relaxed) != RINGO_P_IDLE)
			return false;
	return true;
}

/* Several rings: epoll_pwait2 on every ring's fd and wake_fd. The M gave
 * its P up after flushing its ring. Requests still queued on a ring whose
 * Ps are all idle (one that took a retry, a flush that handed the rest
 * back, an enter the kernel refused) go in first, or they would wait for
 * sysmon; a ring some M holds is that M's to flush. A completion whose
 * task work is this thread's ends the wait with EINTR once it has run. */
static int wait_all(int64_t delay_ns, struct ringo__glist *ready)
{
	struct epoll_event ev[RINGS_MAX + 1];
	uint32_t bits = atomic_load_explicit(&ringo__netpoll_pending,
					     memory_order_relaxed);

	for (unsigned i = 0; bits && i < nrings; i++)
		if ((bits & ring_bit(&rings[i])) && ring_unowned(i))
			ring_flush(&rings[i]);
	reap_all(ready, RINGO__NETPOLL_BATCH);
	if (ready->n)
		return 0;
	int n = ringo__epoll_wait_ns(wait_epfd, ev, RINGS_MAX + 1, delay_ns);
	if (n < 0 && errno != EINTR)
		ringo__throw("netpoll", "uring: epoll_pwait2: %s",
			     strerror(errno));
	for (int i = 0; i < n; i++)
		if (ev[i].data.u32 == UINT32_MAX)
			take_wake_fd();
	reap_all(ready, RINGO__NETPOLL_BATCH);
	return 0;
}

static int uring_poll(int64_t delay_ns, struct ringo__glist *ready)
{
	if (delay_ns == 0)
		return peek(ready);
	return nrings == 1 ? wait_one(delay_ns, ready)
			   : wait_all(delay_ns, ready);
}

/* Cancel every request in flight, on every ring (they finish with
 * -ECANCELED). */
static void cancel_all(void)
{
	for (unsigned i = 0; i < nrings; i++) {
		struct uring *u = &rings[i];
		ringo__lock(&u->sq_lock);
		struct io_uring_sqe *sqe = sqe_locked(u);
		if (sqe) {
			io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ALL |
							   IORING_ASYNC_CANCEL_ANY);
			io_uring_sqe_set_data64(sqe, (uint64_t)RINGO__UD_IGNORE
							     << RINGO__UD_KIND_SHIFT);
		}
		unlock_submit(u);
	}
}

static void uring_wake(void)
{
	int zero = 0;

	/* Shutdown (main returned): the goroutines parked in requests will
	 * be discarded and their stacks freed before fini runs, so stop the
	 * kernel from writing into them as early as we hear of it. Submits
	 * after this point are refused (submit_unlockf). */
	if (ringo__unlikely(atomic_load_explicit(&ringo__sched.shutdown,
						 memory_order_relaxed)) &&
	    !atomic_exchange(&shutdown_cancelled, true))
		cancel_all();
	if (!atomic_compare_exchange_strong(&wake_pending, &zero, 1))
		return;
	atomic_fetch_add_explicit(&wake_nr, 1, memory_order_relaxed);
	int saved = errno;
	if (nrings > 1) {
		uint64_t one = 1;
		while (write(wake_fd, &one, sizeof(one)) < 0)
			if (errno != EINTR)
				ringo__throw("netpoll", "uring: waking the "
					     "poller: %s", strerror(errno));
		errno = saved;
		return;
	}
	struct uring *u = &rings[0];
	ringo__lock(&u->sq_lock);
	struct io_uring_sqe *sqe = sqe_locked(u);
	if (!sqe)
		ringo__throw("netpoll", "uring: no SQE for a wake");
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, (uint64_t)RINGO__UD_WAKE
					     << RINGO__UD_KIND_SHIFT);
	unlock_submit(u);
	errno = saved;
}


/* ---------------------------------------------------------------- ops */

enum req_op {
	OP_RECV, OP_SEND, OP_RECVMSG, OP_SENDMSG, OP_ACCEPT, OP_POLL,
	OP_READ, OP_WRITE, OP_FSYNC, OP_OPENAT, OP_STATX, OP_CLOSE,
};

/* Largest count one read/write request moves (the kernel's MAX_RW_COUNT
 * on 4 KiB pages); the contract allows short counts. */
#define RW_MAX 0x7ffff000u

/* A request as its goroutine sees it: on that goroutine's stack, which
 * stays put while it is parked, so buffers and paths named by the SQE
 * stay valid until the CQE. */
struct req {
	struct ringo__uslot *s;
	enum req_op op;
	int fd;                 /* or dirfd */
	int flags;              /* msg flags, open flags, statx flags */
	void *buf;
	unsigned len;
	int64_t off;
	struct msghdr *msg;
	struct sockaddr *sa;
	socklen_t *salen;
	const char *path;
	mode_t mode;
	unsigned mask;          /* statx mask, poll mask */
	struct statx *stx;
	/* A socket's request: it may name the socket by its slot in the
	 * ring's registered-file table (fixed_file: IOSQE_FIXED_FILE). */
	struct ringo__pd *pd;
	bool fixed_file;
	/* Set by the unlock callback when the request did not go to the
	 * kernel: res holds the result; ring_full asks for a retry. */
	bool submitted, ring_full;
	int res;
};

static void prep(struct io_uring_sqe *sqe, struct req *r)
{
	switch (r->op) {
	case OP_RECV:
		io_uring_prep_recv(sqe, r->fd, r->buf, r->len, r->flags);
		break;
	case OP_SEND:
		io_uring_prep_send(sqe, r->fd, r->buf, r->len,
				   r->flags | MSG_NOSIGNAL);
		break;
	case OP_RECVMSG:
		io_uring_prep_recvmsg(sqe, r->fd, r->msg, (unsigned)r->flags);
		break;
	case OP_SENDMSG:
		io_uring_prep_sendmsg(sqe, r->fd, r->msg,
				      (unsigned)r->flags | MSG_NOSIGNAL);
		break;
	case OP_ACCEPT:
		io_uring_prep_accept(sqe, r->fd, r->sa, r->salen,
				     SOCK_NONBLOCK | SOCK_CLOEXEC);
		break;
	case OP_POLL:
		io_uring_prep_poll_add(sqe, r->fd, r->mask);
		break;
	case OP_READ:
		io_uring_prep_read(sqe, r->fd, r->buf, r->len, (uint64_t)r->off);
		break;
	case OP_WRITE:
		io_uring_prep_write(sqe, r->fd, r->buf, r->len,
				    (uint64_t)r->off);
		break;
	case OP_FSYNC:
		io_uring_prep_fsync(sqe, r->fd, r->flags ? IORING_FSYNC_DATASYNC
							 : 0);
		break;
	case OP_OPENAT:
		io_uring_prep_openat(sqe, r->fd, r->path, r->flags, r->mode);
		break;
	case OP_STATX:
		io_uring_prep_statx(sqe, r->fd, r->path, r->flags, r->mask,
				    r->stx);
		break;
	case OP_CLOSE:
		io_uring_prep_close(sqe, r->fd);
		break;
	}
	if (r->fixed_file)
		sqe->flags |= IOSQE_FIXED_FILE;
}

/* The SQE for a socket's request r on ring u, naming the socket by its
 * registered-file slot, and registering it there first if this is its
 * first request on u: a files-update SQE ahead of the request's (the
 * kernel runs a ring's SQEs in order), so no system call of its own. The
 * kernel reads pd->fd when it runs the update; pd->fd stays until close.
 * Both SQEs or neither: an update left in the SQ without its request
 * could run after the socket's close cleared the slot, and register it
 * again. NULL if the SQ has no room. u->sq_lock held. */
static struct io_uring_sqe *sock_sqe_locked(struct uring *u, struct req *r)
{
	struct ringo__pd *pd = r->pd;
	uint32_t on = atomic_load_explicit(&pd->be.uring.fixed_rings,
					   memory_order_relaxed);

	r->fixed_file = !(on & FIXED_NEVER) && (unsigned)pd->fd < u->files_nr;
	if (!r->fixed_file || (on & ring_bit(u)))
		return sqe_locked(u);
	if (io_uring_sq_space_left(&u->ring) < 2)
		submit_locked(u);
	if (io_uring_sq_space_left(&u->ring) < 2)
		return NULL;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	io_uring_prep_files_update(sqe, &pd->fd, 1, pd->fd);
	io_uring_sqe_set_data64(sqe, (uint64_t)RINGO__UD_IGNORE
					     << RINGO__UD_KIND_SHIFT);
	atomic_fetch_or_explicit(&pd->be.uring.fixed_rings, ring_bit(u),
				 memory_order_relaxed);
	return io_uring_get_sqe(&u->ring);
}

/* park's unlock callback: the goroutine is off its stack, so its
 * completion may be reaped (and the goroutine readied) from here on. */
static bool submit_unlockf(struct ringo__g *g, void *arg)
{
	struct req *r = arg;
	struct ringo__uslot *s = r->s;
	uint32_t tag = atomic_load_explicit(&s->seq, memory_order_relaxed);

	struct uring *u = &rings[s->ring];

	(void)g;
	ringo__lock(&u->sq_lock);
	if (atomic_load_explicit(&s->cancel_tag, memory_order_relaxed) == tag ||
	    atomic_load_explicit(&shutdown_cancelled, memory_order_relaxed)) {
		/* unblock() came between the op's last check and here, or
		 * the runtime is shutting down (see uring_wake). */
		ringo__unlock(&u->sq_lock);
		r->res = -ECANCELED;
		goto not_submitted;
	}
	struct io_uring_sqe *sqe = r->pd ? sock_sqe_locked(u, r) : sqe_locked(u);
	if (!sqe) {
		ringo__unlock(&u->sq_lock);
		r->ring_full = true;
		goto not_submitted;
	}
	prep(sqe, r);
	io_uring_sqe_set_data64(sqe, ringo__uslot_ud(s, RINGO__UD_OP));
	r->submitted = true;
	ringo__uslot_armed(s);
	/* Deferred: the M goes on to the next goroutine, whose request may
	 * share the same io_uring_enter (see the file comment). */
	unlock_defer(u);
	return true;
not_submitted:
	atomic_fetch_sub(&ringo__netpoll_waiters_nr, 1);
	return false;
}

/* Submit r and park until its CQE; the result as the CQE's res. */
static int req_run(struct req *r, void *obj)
{
	struct ringo__g *g = ringo__getg();

	if (ringo__unlikely(!g))
		ringo__panic("netpoll", "I/O outside a goroutine");
	for (;;) {
		r->s->g = g;
		r->submitted = r->ring_full = false;
		r->res = 0;
		atomic_fetch_add(&ringo__netpoll_waiters_nr, 1);
		ringo__park(submit_unlockf, r, RINGO_WAIT_IO, obj);
		if (r->submitted)
			break;
		if (!r->ring_full)
			return r->res;
		/* The kernel took no SQE (its CQ overflow list is backed
		 * up): drain what we can and let others run first. */
		ringo__uring_reap_ready();
		ringo_yield();
	}
	/* Pairs with the release store of DONE in handle_cqe. */
	uint32_t st = atomic_load_explicit(&r->s->state, memory_order_acquire);
	if (st != RINGO__USLOT_DONE)
		ringo__throw("netpoll", "uring: woken with slot %u in state %u",
			     r->s->idx, st);
	int res = r->s->res;
	/* DONE -> OWNED, so the slot can be submitted again. */
	atomic_store_explicit(&r->s->state, RINGO__USLOT_OWNED,
			      memory_order_relaxed);
	return res;
}

/* A file op (or one without a pd): run once, retrying only EINTR. */
static int file_op(struct req *r, void *obj)
{
	r->s = ringo__uslot_get();
	if (!r->s)
		return -ENOMEM;
	int res;
	do
		res = req_run(r, obj);
	while (res == -EINTR);
	ringo__uslot_put(r->s);
	return res;
}

/* A socket op in direction dir, following the deadline/close protocol of
 * io/netpoll.h: the in-flight request is published in pd->be.uring.op
 * (its user_data) before the second check, so unblock() can cancel it. */
static int sock_op(struct ringo__pd *pd, int dir, struct req *r)
{
	void *_Atomic *slotp = &pd->be.uring.op[dir - 1];
	int res;

	r->fd = pd->fd;
	r->pd = pd;
	for (;;) {
		res = ringo__pd_check(pd, dir);
		if (res)
			break;
		/* A fresh slot (and tag) per request: a cancel aimed at an
		 * earlier one must not hit this one. */
		r->s = ringo__uslot_get();
		if (!r->s)
			return -ENOMEM;
		/* Seq-cst, pairs with the load in uring_unblock: either it
		 * sees the request or the check below sees its cause. */
		atomic_store(slotp, (void *)(uintptr_t)ringo__uslot_ud(
					    r->s, RINGO__UD_OP));
		res = ringo__pd_check(pd, dir);
		if (!res)
			res = req_run(r, pd);
		atomic_store(slotp, NULL);
		ringo__uslot_put(r->s);
		if (res == -EBADF && r->fixed_file) {
			/* pd->fd is open (pd.h), so the registration failed:
			 * go on without it. */
			atomic_fetch_or_explicit(&pd->be.uring.fixed_rings,
						 FIXED_NEVER,
						 memory_order_relaxed);
			continue;
		}
		if (res == -ECANCELED || res == -EINTR)
			continue; /* unblocked: re-check; deadline moved on */
		if (res == -EAGAIN && !(r->flags & MSG_DONTWAIT) &&
		    r->op != OP_POLL)
			continue;
		break;
	}
	return res;
}

static int uring_open(struct ringo__pd *pd)
{
	atomic_store(&pd->be.uring.op[0], NULL);
	atomic_store(&pd->be.uring.op[1], NULL);
	/* Files are not registered: their requests are rarer than their
	 * opens, and cached reads skip the ring. */
	atomic_store_explicit(&pd->be.uring.fixed_rings,
			      pd->kind == RINGO__PD_FILE ? FIXED_NEVER : 0,
			      memory_order_relaxed);
	__atomic_store_n(&pd->be.uring.spare[0], 0, __ATOMIC_RELEASE);
	int fl = pd->kind == RINGO__PD_FILE ? fcntl(pd->fd, F_GETFL) : -1;
	atomic_store_explicit(&pd->be.uring.read_nowait,
			      fl >= 0 && !(fl & O_DIRECT), memory_order_relaxed);
	return 0;
}

void ringo__uring_cancel(uint64_t ud)
{
	uint32_t idx = (uint32_t)ud & RINGO__UD_SLOT_MASK;
	uint32_t ring = (uint32_t)(ud >> RINGO__UD_RING_SHIFT) & 0xff;
	struct ringo__uslot *s = slot_at(idx);
	uint32_t tag = (uint32_t)(ud >> RINGO__UD_SEQ_SHIFT) & RINGO__UD_SEQ_MASK;

	if (!s || ring >= nrings)
		ringo__throw("netpoll", "uring: unblock of slot %u on ring %u",
			     idx, ring);
	/* The slot's ring, whose sq_lock its submit takes too: a cancel
	 * only works on the ring that holds its target. */
	struct uring *u = &rings[ring];
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
	struct io_uring_sqe *sqe = sqe_locked(u);
	if (!sqe)
		ringo__throw("netpoll", "uring: no SQE for a cancel");
	io_uring_prep_cancel64(sqe, ud, 0);
	/* Its CQE names the target, as a kind that may arrive stale. */
	uint64_t kind_mask = UINT64_C(0xff) << RINGO__UD_KIND_SHIFT;
	io_uring_sqe_set_data64(sqe, (ud & ~kind_mask) |
				     (uint64_t)RINGO__UD_STALE_OK
					     << RINGO__UD_KIND_SHIFT);
	unlock_submit(u);
}

static void uring_unblock(struct ringo__pd *pd, int dirs)
{
	for (int d = 0; d < 2; d++) {
		if (!(dirs & (1 << d)))
			continue;
		/* Seq-cst, pairs with the store in sock_op. */
		uint64_t ud = (uint64_t)(uintptr_t)atomic_load(
			&pd->be.uring.op[d]);
		if (ud)
			ringo__uring_cancel(ud);
	}
	if ((dirs & RINGO__PD_READ) && ringo__uring_ms_on)
		ringo__uring_ms_unblock(pd);
}

static void unfix_now(struct uring *u, int fd)
{
	int r = io_uring_register_files_update(&u->ring, (unsigned)fd,
					       &fixed_clear, 1);
	if (r < 0)
		ringo__throw("netpoll", "uring: clearing registered file %d: %s",
			     fd, strerror(-r));
}

/* A registered-file table's reference would keep the socket open past its
 * close: clear pd's entry on every ring that has one. On `close_ring`,
 * whose close SQE follows, the update rides the same enter (the kernel
 * runs a ring's SQEs in order). Other rings are cleared with a system
 * call of their own: entering another P's ring would submit its deferred
 * requests from this M, and their completions' task work would then run
 * here. */
static void unfix(struct ringo__pd *pd, unsigned close_ring)
{
	uint32_t on = atomic_load_explicit(&pd->be.uring.fixed_rings,
					   memory_order_relaxed);

	for (unsigned i = 0; i < nrings; i++) {
		struct uring *u = &rings[i];
		if (!(on & ring_bit(u)))
			continue;
		if (i != close_ring) {
			unfix_now(u, pd->fd);
			continue;
		}
		ringo__lock(&u->sq_lock);
		struct io_uring_sqe *sqe = sqe_locked(u);
		if (!sqe) {
			ringo__unlock(&u->sq_lock);
			unfix_now(u, pd->fd);
			continue;
		}
		io_uring_prep_files_update(sqe, &fixed_clear, 1, pd->fd);
		io_uring_sqe_set_data64(sqe, (uint64_t)RINGO__UD_IGNORE
						     << RINGO__UD_KIND_SHIFT);
		unlock_defer(u);
	}
}

static int uring_close(struct ringo__pd *pd)
{
	struct req r = { .op = OP_CLOSE, .fd = pd->fd };

	if (ringo__uring_ms_on)
		ringo__uring_ms_close(pd);
	r.s = ringo__uslot_get();
	unfix(pd, r.s ? r.s->ring : UINT32_MAX);
	if (!r.s)
		return close(pd->fd) < 0 ? -errno : 0;
	int res = req_run(&r, pd);
	ringo__uslot_put(r.s);
	return res;
}

static unsigned clamp_len(size_t len)
{
	return len > RW_MAX ? RW_MAX : (unsigned)len;
}

static ssize_t uring_recv(struct ringo__pd *pd, void *buf, size_t len,
			  int flags)
{
	if (ringo__uring_ms_on && flags == 0 && pd->kind == RINGO__PD_STREAM) {
		ssize_t n = ringo__uring_ms_recv(pd, buf, len);
		if (n != RINGO__MS_FALLBACK)
			return n;
	}
	struct req r = { .op = OP_RECV, .buf = buf, .len = clamp_len(len),
			 .flags = flags };
	return sock_op(pd, RINGO__PD_READ, &r);
}

static ssize_t uring_send(struct ringo__pd *pd, const void *buf, size_t len,
			  int flags)
{
	struct req r = { .op = OP_SEND, .buf = (void *)buf,
			 .len = clamp_len(len), .flags = flags };
	return sock_op(pd, RINGO__PD_WRITE, &r);
}

static ssize_t uring_recvfrom(struct ringo__pd *pd, void *buf, size_t len,
			      int flags, struct sockaddr *sa, socklen_t *salen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (sa && salen) {
		msg.msg_name = sa;
		msg.msg_namelen = *salen;
	}
	struct req r = { .op = OP_RECVMSG, .msg = &msg, .flags = flags };
	ssize_t n = sock_op(pd, RINGO__PD_READ, &r);
	if (n >= 0 && sa && salen)
		*salen = msg.msg_namelen;
	return n;
}

static ssize_t uring_sendto(struct ringo__pd *pd, const void *buf, size_t len,
			    int flags, const struct sockaddr *sa,
			    socklen_t salen)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_name = (void *)sa,
			      .msg_namelen = sa ? salen : 0 };
	struct req r = { .op = OP_SENDMSG, .msg = &msg, .flags = flags };
	return sock_op(pd, RINGO__PD_WRITE, &r);
}

/* A connection already in the accept queue is taken with a plain
 * accept4 (the listener is non-blocking); only an empty queue costs a
 * request and a park. A server's accept loop is one goroutine among
 * thousands: if every accept parked it, it would take one connection per
 * trip through the run queues, and a burst of 10,000 connects would wait
 * in the backlog for tens of seconds (Go's Accept also tries the system
 * call first). */
static int uring_accept(struct ringo__pd *pd, struct sockaddr *sa,
			socklen_t *salen)
{
	int res = ringo__pd_check(pd, RINGO__PD_READ);
	if (res)
		return res;
	int fd;
	while ((fd = accept4(pd->fd, sa, sa ? salen : NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0 &&
	       errno == EINTR)
		;
	if (fd >= 0)
		return fd;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	struct req r = { .op = OP_ACCEPT, .sa = sa, .salen = sa ? salen : NULL };
	return sock_op(pd, RINGO__PD_READ, &r);
}

/* connect(2) itself never blocks on a non-blocking socket; the wait for
 * the handshake is a POLLOUT request, which a deadline or close can
 * cancel and this loop can re-issue without disturbing the connection
 * attempt (a cancelled IORING_OP_CONNECT could not be re-issued). */
static int uring_connect(struct ringo__pd *pd, const struct sockaddr *sa,
			 socklen_t salen)
{
	int err = ringo__pd_check(pd, RINGO__PD_WRITE);

	if (err)
		return err;
	if (connect(pd->fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return -errno;
	struct req r = { .op = OP_POLL, .mask = POLLOUT };
	int res = sock_op(pd, RINGO__PD_WRITE, &r);
	if (res < 0)
		return res;
	int soerr = 0;
	socklen_t l = sizeof(soerr);
	if (getsockopt(pd->fd, SOL_SOCKET, SO_ERROR, &soerr, &l) < 0)
		return -errno;
	return -soerr;
}

/* A read of data already in the page cache is a copy: preadv2 with
 * RWF_NOWAIT does it in one system call without parking. It returns what
 * was cached (a short count if only the start was: the caller loops) or
 * EAGAIN when nothing was, without waiting; only then does the read go
 * through the ring. Not for O_DIRECT files, whose reads always wait for
 * the device; a file system without RWF_NOWAIT answers EOPNOTSUPP once
 * and the descriptor stops trying. */
static ssize_t uring_pread(struct ringo__pd *pd, void *buf, size_t len,
			   int64_t off)
{
	struct req r = { .op = OP_READ, .fd = pd->fd, .buf = buf,
			 .len = clamp_len(len), .off = off };
	if (atomic_load_explicit(&pd->be.uring.read_nowait,
				 memory_order_relaxed)) {
		struct iovec iov = { .iov_base = buf, .iov_len = r.len };
		ssize_t n = preadv2(pd->fd, &iov, 1, (off_t)off, RWF_NOWAIT);
		if (n >= 0)
			return n;
		if (errno == EOPNOTSUPP)
			atomic_store_explicit(&pd->be.uring.read_nowait, false,
					      memory_order_relaxed);
		else if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return file_op(&r, pd);
}

static ssize_t uring_pwrite(struct ringo__pd *pd, const void *buf, size_t len,
			    int64_t off)
{
	struct req r = { .op = OP_WRITE, .fd = pd->fd, .buf = (void *)buf,
			 .len = clamp_len(len), .off = off };
	return file_op(&r, pd);
}

static int uring_fsync(struct ringo__pd *pd, bool datasync)
{
	struct req r = { .op = OP_FSYNC, .fd = pd->fd, .flags = datasync };
	return file_op(&r, pd);
}

static int uring_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	struct req r = { .op = OP_OPENAT, .fd = dirfd, .path = path,
			 .flags = flags, .mode = mode };
	return file_op(&r, NULL);
}

static int uring_statx(int dirfd, const char *path, int flags, unsigned mask,
		       struct statx *stx)
{
	struct req r = { .op = OP_STATX, .fd = dirfd, .path = path,
			 .flags = flags, .mask = mask, .stx = stx };
	return file_op(&r, NULL);
}

void ringo__uring_stats(struct ringo__uring_stats *st)
{
	st->stale_nr = atomic_load(&stale_nr);
	st->overflow_flush_nr = atomic_load(&overflow_flush_nr);
	st->wake_nr = atomic_load(&wake_nr);
	ringo__uring_ms_counts(&st->enobufs_nr, &st->capped_nr);
	st->rings = nrings;
}

const struct ringo__netpoll_ops ringo__netpoll_uring_ops = {
	.name = "uring",
	.init = uring_init,
	.fini = uring_fini,
	.poll = uring_poll,
	.peek_free = true,
	.wake = uring_wake,
	.flush = uring_flush,
	.open = uring_open,
	.unblock = uring_unblock,
	.close = uring_close,
	.recv = uring_recv,
	.send = uring_send,
	.recvfrom = uring_recvfrom,
	.sendto = uring_sendto,
	.accept = uring_accept,
	.connect = uring_connect,
	.pread = uring_pread,
	.pwrite = uring_pwrite,
	.fsync = uring_fsync,
	.openat = uring_openat,
	.statx = uring_statx,
};
