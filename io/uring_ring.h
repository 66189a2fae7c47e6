/*
 * io/uring_ring.h - the io_uring backend's rings, as its files share them:
 *
 *   netpoll_uring.c  setting the rings up and down, the backend's table
 *   uring_slots.c    the type-stable slots that user_data names
 *   uring_sq.c       the submission side: SQEs, deferred flushes, cancels
 *   uring_cq.c       the completion side: reaping, the idle wait, wakes
 *   uring_ops.c      the operations a goroutine submits and parks on
 *   uring_recv.c     multishot receive into provided buffers (opt-in)
 *
 * Nothing outside these files includes it, except tests that look
 * inside the backend.
 */
#ifndef RINGO_IO_URING_RING_H
#define RINGO_IO_URING_RING_H

#include <liburing.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/lock.h"
#include "core/runtime.h"
#include "netpoll_uring.h"

/* A ring per P, up to RINGO__URINGS_MAX (P i uses ring i % nurings). Bit
 * i of ringo__netpoll_pending is ring i's "SQEs published, not yet
 * entered". */
#define RINGO__URINGS_MAX 16

struct ringo__uring {
	struct io_uring ring;
	/* Protects liburing's SQ bookkeeping (sqe_head, sqe_tail) and the
	 * kernel SQ tail: every io_uring_get_sqe .. io_uring_submit
	 * sequence. Own cache line: Ms of other Ps take it to cancel. */
	_Alignas(64) struct ringo__lock sq_lock;
	/* Deferred flushes asked for (ringo__uring_ring_flush). */
	_Atomic uint32_t flush_req;
	/* Flushes so far; and sysmon's view of the ring at its previous
	 * tick (only sysmon touches those two): see ringo__uring_flush. */
	_Atomic uint32_t flushes;
	uint32_t stale_flushes;
	bool stale_pending;
	/* Protects the CQ head (and, with one ring, the blocking poller's
	 * state in uring_cq.c). Held while reaping, not while blocked. */
	_Alignas(64) struct ringo__lock cq_lock;
	/* Size of its registered-file table; 0 without one. */
	unsigned files_nr;
	unsigned idx;
};

/* Set by init before any M runs, cleared by fini after every M stopped. */
extern struct ringo__uring *ringo__urings;
extern unsigned ringo__nurings;

/* Requests of slots the kernel holds: +1 when a slot is ARMED, -1 at its
 * last CQE (no IORING_CQE_F_MORE). fini drains it to zero. */
extern _Atomic int64_t ringo__uring_inflight_nr;
/* The shutdown cancel-all was sent (ringo__uring_wake): submits after it
 * are refused. Reset by init. */
extern _Atomic bool ringo__uring_shutdown_cancelled;

/* The calling M's P's ring; ring 0 for a thread without a P. */
static inline unsigned ringo__uring_cur_idx(void)
{
	struct ringo__m *m = ringo__getm();

	return m && m->p ? (unsigned)m->p->id % ringo__nurings : 0;
}

static inline struct ringo__uring *ringo__uring_cur(void)
{
	return &ringo__urings[ringo__uring_cur_idx()];
}

static inline uint32_t ringo__uring_bit(const struct ringo__uring *u)
{
	return UINT32_C(1) << u->idx;
}

/* ---- uring_slots.c ---- */
/* The slot with index idx, NULL past the table. */
struct ringo__uslot *ringo__uslot_at(uint32_t idx);
uint32_t ringo__uslots_nr(void);
/* fini, once the rings are gone and no CQE can name a slot. */
void ringo__uslots_free_all(void);

/* ---- uring_sq.c; u->sq_lock held where a name ends in _locked, and
 * released by the unlock calls ---- */
/* A free SQE, entering the kernel first if the SQ is full; NULL if the
 * kernel takes none now. */
struct io_uring_sqe *ringo__uring_sqe_locked(struct ringo__uring *u);
/* Publish and enter now: for a caller that needs room in a full SQ. */
void ringo__uring_submit_locked(struct ringo__uring *u);
/* Publish the new SQEs and leave them for the next flush. */
void ringo__uring_unlock_defer(struct ringo__uring *u);
/* Publish and enter now (wakes, cancels). */
void ringo__uring_unlock_submit(struct ringo__uring *u);
/* Publish and unlock; how many SQEs the caller's enter should pass. */
unsigned ringo__uring_publish_unlock(struct ringo__uring *u);
/* Enter u for every flush asked for, combined (see uring_sq.c). */
void ringo__uring_ring_flush(struct ringo__uring *u);
/* The backend's flush (io/netpoll.h). */
void ringo__uring_flush(void);
/* Cancel every request in flight on every ring (-ECANCELED). */
void ringo__uring_cancel_all(void);
/* Cancel by user_data: ringo__uring_cancel in io/netpoll_uring.h. */

/* ---- uring_cq.c ---- */
int ringo__uring_cq_init(void);
/* Cancel every request and reap until the kernel holds none (at most
 * 5 s), readying nobody: the goroutines are gone. */
void ringo__uring_cq_drain(void);
void ringo__uring_cq_fini(void);
/* Reap the CQs now where nobody else is, readying what completed. */
void ringo__uring_reap_ready(void);
int ringo__uring_poll(int64_t delay_ns, struct ringo__glist *ready);
void ringo__uring_wake(void);

/* ---- uring_ops.c ---- */
int ringo__uring_open(struct ringo__pd *pd);
void ringo__uring_unblock(struct ringo__pd *pd, int dirs);
int ringo__uring_close(struct ringo__pd *pd);
ssize_t ringo__uring_recv(struct ringo__pd *pd, void *buf, size_t len,
			  int flags);
ssize_t ringo__uring_send(struct ringo__pd *pd, const void *buf, size_t len,
			  int flags);
ssize_t ringo__uring_recvfrom(struct ringo__pd *pd, void *buf, size_t len,
			      int flags, struct sockaddr *sa, socklen_t *salen);
ssize_t ringo__uring_sendto(struct ringo__pd *pd, const void *buf,
			    size_t len, int flags, const struct sockaddr *sa,
			    socklen_t salen);
int ringo__uring_accept(struct ringo__pd *pd, struct sockaddr *sa,
			socklen_t *salen);
int ringo__uring_connect(struct ringo__pd *pd, const struct sockaddr *sa,
			 socklen_t salen);
ssize_t ringo__uring_pread(struct ringo__pd *pd, void *buf, size_t len,
			   int64_t off);
ssize_t ringo__uring_pwrite(struct ringo__pd *pd, const void *buf,
			    size_t len, int64_t off);
int ringo__uring_fsync(struct ringo__pd *pd, bool datasync);
int ringo__uring_openat(int dirfd, const char *path, int flags, mode_t mode);
int ringo__uring_statx(int dirfd, const char *path, int flags, unsigned mask,
		       struct statx *stx);

#endif
