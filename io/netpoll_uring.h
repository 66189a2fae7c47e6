/*
 * io/netpoll_uring.h - the io_uring backend's slots and what tests may
 * look at: the type-stable slots that user_data names, cancels by
 * user_data, and counters. The rings themselves are in io/uring_ring.h.
 * Nothing outside the backend's files includes it, except tests.
 */
#ifndef RINGO_IO_NETPOLL_URING_H
#define RINGO_IO_NETPOLL_URING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "netpoll.h"

struct io_uring_sqe;

/* user_data = slot index [0,24) | ring [24,32) | sequence tag [32,56) |
 * kind [56,64). A CQE whose tag differs from its slot's is stale: allowed
 * (and counted, then dropped) only for kinds nobody waits for. */
#define RINGO__UD_SLOT_MASK 0xffffffu
#define RINGO__UD_RING_SHIFT 24
#define RINGO__UD_SEQ_SHIFT 32
#define RINGO__UD_SEQ_MASK 0xffffffu
#define RINGO__UD_KIND_SHIFT 56
enum ringo__ud_kind {
	RINGO__UD_OP = 1,       /* the slot's operation; its G waits for it */
	RINGO__UD_STALE_OK = 2, /* a cancel's CQE, naming its target slot */
	RINGO__UD_WAKE = 3,     /* a wake NOP, no slot */
	RINGO__UD_IGNORE = 4,   /* fire-and-forget, no slot */
};

/* Slot states (state word; who moves it):
 *   FREE  -> OWNED   ringo__uslot_get, by the goroutine starting an op
 *   OWNED -> ARMED   the owner, before its SQE can reach the kernel
 *   ARMED -> DONE    the reaper, with res/cflags set (release)
 *   ARMED -> ARMED   the reaper, for a multishot CQE handled by done()
 *   DONE|OWNED -> FREE  ringo__uslot_put, by the owner, after reading res */
enum ringo__uslot_state {
	RINGO__USLOT_FREE,
	RINGO__USLOT_OWNED,
	RINGO__USLOT_ARMED,
	RINGO__USLOT_DONE,
};

struct ringo__uslot;
/* Completion hook run by the reaper under cq_lock instead of readying
 * s->g; it may push goroutines onto *ready. */
typedef void (*ringo__uslot_done_fn)(struct ringo__uslot *s,
				     struct ringo__glist *ready);

struct ringo__uslot {
	_Atomic uint32_t state;   /* enum ringo__uslot_state */
	_Atomic uint32_t seq;     /* tag, bumped by get and put */
	uint32_t idx;             /* own index, fixed */
	/* The ring its requests go to: the ring of the P that took the
	 * slot, fixed until the slot is freed (user_data carries it, so a
	 * cancel finds the ring its target is on). */
	uint32_t ring;
	uint32_t next_free;       /* free list link, under slot_lock */
	/* The tag an unblock() asked to cancel; under sq_lock. A submit
	 * that finds its own tag here does not go to the kernel. */
	_Atomic uint32_t cancel_tag;
	struct ringo__g *g;       /* waiter, set before ARMED */
	int32_t res;              /* cqe->res, set before DONE */
	uint32_t cflags;          /* cqe->flags, set before DONE */
	ringo__uslot_done_fn done;
	void *done_arg;
};

struct ringo__uslot *ringo__uslot_get(void);   /* NULL: out of memory */
void ringo__uslot_put(struct ringo__uslot *s);
uint64_t ringo__uslot_ud(const struct ringo__uslot *s, unsigned kind);
/* OWNED -> ARMED, counted in flight; call before the SQE can reach the
 * kernel (under the SQ lock, before submitting). */
void ringo__uslot_armed(struct ringo__uslot *s);

/* Cancel the request user_data names, if that request is still in
 * flight (IORING_OP_ASYNC_CANCEL); a request not yet submitted is marked
 * so its submit is skipped. Never parks. */
void ringo__uring_cancel(uint64_t ud);

/* ---- io/uring_recv.c: multishot receive into provided buffers ---- */

struct io_uring;
struct ringo__pd;
/* ringo__uring_ms_recv cannot serve this call: use a single-shot recv. */
#define RINGO__MS_FALLBACK ((ssize_t)-100000)
/* Buffer ring registered and RINGO_URING_MSRECV not 0. */
extern bool ringo__uring_ms_on;
int ringo__uring_ms_init(struct io_uring *ring);
void ringo__uring_ms_fini(void);
ssize_t ringo__uring_ms_recv(struct ringo__pd *pd, void *buf, size_t len);
void ringo__uring_ms_unblock(struct ringo__pd *pd);
void ringo__uring_ms_close(struct ringo__pd *pd);
void ringo__uring_ms_counts(uint64_t *enobufs, uint64_t *capped);

struct ringo__uring_stats {
	uint64_t stale_nr;          /* stale CQEs dropped */
	uint64_t overflow_flush_nr; /* times reap found IORING_SQ_CQ_OVERFLOW */
	uint64_t wake_nr;           /* wake NOPs posted */
	uint64_t enobufs_nr;        /* multishot receives that ran dry */
	uint64_t capped_nr;         /* ... stopped at a connection's cap */
	unsigned rings;             /* rings in use: one per P, or one */
};
void ringo__uring_stats(struct ringo__uring_stats *st);

extern const struct ringo__netpoll_ops ringo__netpoll_uring_ops;

#endif
