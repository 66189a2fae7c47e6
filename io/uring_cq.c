/*
 * io/uring_cq.c - the io_uring backend's completion side: reaping, the
 * idle wait and wakes.
 *
 * Ms peek at CQs from user space, no system call, their own ring first,
 * and take at most a batch of goroutines per look. The one M blocked in
 * poll() waits for "a CQE on any ring, a wake or the next timer": with
 * one ring in a single io_uring_enter (GETEVENTS with an EXT_ARG timeout,
 * submitting the SQ backlog in the same call; a wake is a NOP on the
 * ring); with several in epoll_pwait2 on the ring fds (readable while a
 * CQ holds entries) and an eventfd for wakes, since one thread cannot
 * wait in several rings. wake_pending coalesces wakes.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "epoll_wait.h"
#include "uring_ring.h"

/* With one ring the blocking poller waits in io_uring_enter, and these
 * belong to it (under ringo__urings[0].cq_lock):
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
 * arrived), overflow flushes and wakes posted; read by tests through
 * ringo__uring_stats. */
static _Atomic uint64_t stale_nr;
static _Atomic uint64_t overflow_flush_nr;
static _Atomic uint64_t wake_nr;

/* fini is draining the rings: completions ready nobody (their goroutines
 * were freed with the runtime). Set and read by the thread in fini. */
static bool finishing;

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
	struct ringo__uslot *s = ringo__uslot_at(idx);
	if (!s)
		ringo__throw("netpoll", "uring: CQE names slot %u of %u", idx,
			     ringo__uslots_nr());
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
	/* Pairs with the acquire load in uring_ops.c's req_run. */
	atomic_store_explicit(&s->state, RINGO__USLOT_DONE, memory_order_release);
	ringo__glist_push(ready, g);
}

/* Drain u's CQ, and the kernel's overflow list behind it, until *ready
 * holds max goroutines (0: no limit; the rest wait in the CQ, in order,
 * for the next reap). cq_lock held. The counters all Ms share move once
 * per drain, not once per CQE: both mean "a request may still complete",
 * so a count that stays high until the drain ends (before its goroutines
 * can run) errs on the safe side. */
static void reap_locked(struct ringo__uring *u, struct ringo__glist *ready,
			int max)
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
		atomic_fetch_sub_explicit(&ringo__uring_inflight_nr, c.ended,
					  memory_order_relaxed);
	if (c.readied)
		atomic_fetch_sub(&ringo__netpoll_waiters_nr, c.readied);
}

/* Reap u if it has anything and nobody else is reaping it (someone else
 * reaping is as good as us reaping). */
static void peek_ring(struct ringo__uring *u, struct ringo__glist *ready)
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

	for (unsigned k = 0; k < ringo__nurings; k++) {
		struct ringo__uring *u =
			&ringo__urings[(start + k) % ringo__nurings];
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

	for (unsigned i = 0; i < ringo__nurings; i++)
		peek_ring(&ringo__urings[i], &l);
	for (struct ringo__g *g = l.head, *next; g; g = next) {
		next = g->schedlink;
		ringo__ready(g);
	}
}

/* One ring: the blocking poller consumes a wake. ringo__urings[0].cq_lock
 * held. */
static bool take_wake_locked(void)
{
	if (!wake_seen)
		return false;
	wake_seen = false;
	atomic_store(&wake_pending, 0);
	return true;
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
	for (unsigned i = 0; i < ringo__nurings; i++) {
		ev.data.u32 = i;
		if (epoll_ctl(wait_epfd, EPOLL_CTL_ADD,
			      ringo__urings[i].ring.ring_fd, &ev) < 0)
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

int ringo__uring_cq_init(void)
{
	in_kernel = false;
	wake_seen = false;
	atomic_store(&wake_pending, 0);
	atomic_store(&stale_nr, 0);
	atomic_store(&overflow_flush_nr, 0);
	atomic_store(&wake_nr, 0);
	if (ringo__nurings == 1)
		return 0;
	int r = wait_set_up();
	if (r < 0)
		wait_set_close();
	return r;
}

/* Wait at most 10 ms for a completion on any ring. */
static void wait_briefly(void)
{
	struct __kernel_timespec ts = { .tv_nsec = 10000000 };

	if (ringo__nurings == 1) {
		struct io_uring_cqe *cqe;
		io_uring_wait_cqe_timeout(&ringo__urings[0].ring, &cqe, &ts);
		return;
	}
	struct epoll_event ev[RINGO__URINGS_MAX + 1];
	int n = epoll_wait(wait_epfd, ev, RINGO__URINGS_MAX + 1, 10);
	for (int i = 0; i < n; i++)
		if (ev[i].data.u32 == UINT32_MAX)
			take_wake_fd(); /* level-triggered: it would spin */
}

void ringo__uring_cq_drain(void)
{
	finishing = true;
	ringo__uring_cancel_all();
	struct ringo__glist l = { 0 };
	int64_t until = ringo__nanotime() + 5000000000;
	for (;;) {
		reap_all(&l, 0);
		if (atomic_load(&ringo__uring_inflight_nr) <= 0 ||
		    ringo__nanotime() > until)
			break;
		wait_briefly();
	}
}

void ringo__uring_cq_fini(void)
{
	wait_set_close();
	finishing = false;
}

/* The calling M's own ring first: what completed there was submitted, and
 * its data copied, on this core. Other rings only if it had nothing. */
static int peek(struct ringo__glist *ready)
{
	unsigned own = ringo__uring_cur_idx();

	peek_ring(&ringo__urings[own], ready);
	for (unsigned i = 1; i < ringo__nurings && !ready->n; i++)
		peek_ring(&ringo__urings[(own + i) % ringo__nurings], ready);
	return 0;
}

/* One ring: one io_uring_enter that submits the SQ backlog and waits for
 * a CQE, a wake NOP or the timeout. */
static int wait_one(int64_t delay_ns, struct ringo__glist *ready)
{
	struct ringo__uring *u = &ringo__urings[0];

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
	unsigned to_submit = ringo__uring_publish_unlock(u);

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
	for (int j = (int)i; j < ringo__sched.nprocs; j += (int)ringo__nurings)
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
	struct epoll_event ev[RINGO__URINGS_MAX + 1];
	uint32_t bits = atomic_load_explicit(&ringo__netpoll_pending,
					     memory_order_relaxed);

	for (unsigned i = 0; bits && i < ringo__nurings; i++)
		if ((bits & ringo__uring_bit(&ringo__urings[i])) &&
		    ring_unowned(i))
			ringo__uring_ring_flush(&ringo__urings[i]);
	reap_all(ready, RINGO__NETPOLL_BATCH);
	if (ready->n)
		return 0;
	int n = ringo__epoll_wait_ns(wait_epfd, ev, RINGO__URINGS_MAX + 1,
				     delay_ns);
	if (n < 0 && errno != EINTR)
		ringo__throw("netpoll", "uring: epoll_pwait2: %s",
			     strerror(errno));
	for (int i = 0; i < n; i++)
		if (ev[i].data.u32 == UINT32_MAX)
			take_wake_fd();
	reap_all(ready, RINGO__NETPOLL_BATCH);
	return 0;
}

int ringo__uring_poll(int64_t delay_ns, struct ringo__glist *ready)
{
	if (delay_ns == 0)
		return peek(ready);
	return ringo__nurings == 1 ? wait_one(delay_ns, ready)
			   : wait_all(delay_ns, ready);
}

void ringo__uring_wake(void)
{
	int zero = 0;

	/* Shutdown (main returned): the goroutines parked in requests will
	 * be discarded and their stacks freed before fini runs, so stop the
	 * kernel from writing into them as early as we hear of it. Submits
	 * after this point are refused (submit_unlockf). */
	if (ringo__unlikely(atomic_load_explicit(&ringo__sched.shutdown,
						 memory_order_relaxed)) &&
	    !atomic_exchange(&ringo__uring_shutdown_cancelled, true))
		ringo__uring_cancel_all();
	if (!atomic_compare_exchange_strong(&wake_pending, &zero, 1))
		return;
	atomic_fetch_add_explicit(&wake_nr, 1, memory_order_relaxed);
	int saved = errno;
	if (ringo__nurings > 1) {
		uint64_t one = 1;
		while (write(wake_fd, &one, sizeof(one)) < 0)
			if (errno != EINTR)
				ringo__throw("netpoll", "uring: waking the "
					     "poller: %s", strerror(errno));
		errno = saved;
		return;
	}
	struct ringo__uring *u = &ringo__urings[0];
	ringo__lock(&u->sq_lock);
	struct io_uring_sqe *sqe = ringo__uring_sqe_locked(u);
	if (!sqe)
		ringo__throw("netpoll", "uring: no SQE for a wake");
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, (uint64_t)RINGO__UD_WAKE
					     << RINGO__UD_KIND_SHIFT);
	ringo__uring_unlock_submit(u);
	errno = saved;
}

void ringo__uring_stats(struct ringo__uring_stats *st)
{
	st->stale_nr = atomic_load(&stale_nr);
	st->overflow_flush_nr = atomic_load(&overflow_flush_nr);
	st->wake_nr = atomic_load(&wake_nr);
	ringo__uring_ms_counts(&st->enobufs_nr, &st->capped_nr);
	st->rings = ringo__nurings;
}
