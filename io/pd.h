/*
 * io/pd.h - poll descriptors: what the runtime knows about one open fd.
 *
 * Every socket and file the public API opens has a pd (Go's pollDesc plus
 * the reference counting of its fdMutex). The backend-neutral half lives
 * here and in io/pd.c: reference counts, the per-direction locks that
 * serialise readers and writers, deadlines with their timers, and close.
 * The backend keeps its own state in pd->be (one member per backend).
 *
 * Type-stable: pds come from a pool of chunks that is never freed (not
 * even after ringo_run returns), so a completion, an epoll event or a
 * timer that arrives after its descriptor was closed and its slot reused
 * still points at a pd. It carries a tag (ringo__pd_tag: pool index plus
 * the slot's sequence number, bumped at every free) and
 * ringo__pd_from_tag drops it if the sequence moved on.
 *
 * Life of a pd:
 *   ringo__pd_open      alloc, backend->open
 *   ringo__pd_acquire   per op: a reference (+ the direction's lock)
 *   ringo__pd_release
 *   ringo__pd_close     mark closing, wake every op (-ECANCELED), wait
 *                       until the last reference is released, then
 *                       backend->close (closes the fd) and free.
 * So an fd number is never reused while a goroutine can still use it.
 *
 * Public handles (ringo_conn *, ringo_listener *, ringo_file *) are tags
 * too, not pointers: acquire, set_deadline and close take the tag and
 * check its sequence number under pd->lock, so a handle used after its
 * close (a server's accept loop racing with the listener's close, as Go
 * programs do) fails with -EBADF and can never reach the slot's next
 * life. The handle is never dereferenced by anyone.
 */
#ifndef RINGO_IO_PD_H
#define RINGO_IO_PD_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/lock.h"
#include "core/runtime.h"
#include "core/timer.h"

/* Op directions (bit masks) and acquire modes. */
#define RINGO__PD_REF 0   /* acquire: a reference only (file ops, stat) */
#define RINGO__PD_READ 1  /* recv, recvfrom, accept */
#define RINGO__PD_WRITE 2 /* send, sendto, connect */

enum ringo__pd_kind {
	RINGO__PD_FILE,     /* regular file or anything epoll cannot watch */
	RINGO__PD_STREAM,   /* connected stream socket (TCP, Unix) */
	RINGO__PD_DGRAM,    /* datagram socket (UDP) */
	RINGO__PD_LISTENER, /* listening stream socket */
};

/* A goroutine queued for a direction's lock (on its own stack). */
struct ringo__pd_waiter {
	struct ringo__g *g;
	struct ringo__pd_waiter *next;
	int result;           /* 0: granted; -ECANCELED: pd closed */
};

struct ringo__pd_dir {
	/* Deadline: 0 none, > 0 ns CLOCK_MONOTONIC, -1 expired. Moved only
	 * under pd->lock (set_deadline, the timer callback, free); read
	 * without it by ringo__pd_check (seq-cst, pairs with the waiter
	 * slot protocol of io/netpoll.h). */
	_Atomic int64_t deadline;
	/* Fires at `deadline`; started and stopped under pd->lock. */
	struct ringo__timer timer;
	/* Under pd->lock: an op holds this direction; others queue. */
	bool busy;
	struct ringo__pd_waiter *head, *tail;
	/* The socket's error (-errno) that a call looping over several ops
	 * met after moving some bytes: it returned their count, and the next
	 * call in this direction returns the error. The kernel reports a
	 * reset or its own timeout once: without this a read_full cut short
	 * by one would be followed by what looks like a clean end of stream,
	 * a write_all by -EPIPE. Only the holder of the direction's turn
	 * touches it. */
	int pending_err;
};

/* The epoll backend's waiter slots, Go's pollDesc.rg/wg. States:
 *   RINGO__PD_NIL    nobody waits, no readiness saved
 *   RINGO__PD_READY  readiness arrived with nobody waiting; the next
 *                    waiter consumes it (READY -> NIL) and retries
 *   RINGO__PD_WAIT   a G is about to park (between its CAS and park's
 *                    unlock callback)
 *   a G pointer      that G is parked
 * The op's G moves NIL -> WAIT -> G (park commit) and, after waking,
 * anything -> NIL; notifiers (poll, unblock) move NIL/WAIT/G -> READY
 * (I/O ready) or WAIT/G -> NIL (deadline, close) and ready the G they
 * took out. */
#define RINGO__PD_NIL ((uintptr_t)0)
#define RINGO__PD_READY ((uintptr_t)1)
#define RINGO__PD_WAIT ((uintptr_t)2)

struct ringo__pd_epoll {
	_Atomic uintptr_t rg, wg;
};

/* Reserved for the io_uring backend (io/uring_ops.c); its owner may
 * reshape it (keep the union's size reasonable: a pd exists per open fd). */
struct ringo__pd_uring {
	void *_Atomic op[2];  /* in-flight request per direction, for cancel */
	/* The rings whose registered-file table holds the socket (bit i:
	 * ring i; index: its fd number), set by the first request on each;
	 * bit 31: never register (a file, or a registration failed). */
	_Atomic uint32_t fixed_rings;
	/* A file read tries preadv2(RWF_NOWAIT) first: set at open for
	 * files not opened O_DIRECT, cleared by a read that finds the file
	 * system without it. */
	_Atomic bool read_nowait;
	/* A file without positions (a FIFO, a terminal): a read or write
	 * request would ignore its offset, where pread(2) and pwrite(2)
	 * fail with ESPIPE. Set at open, before any op of this life. */
	bool no_offset;
	uint64_t spare[2];
};

struct ringo__pd {
	int fd;               /* set by open; valid until backend->close */
	uint8_t kind;         /* enum ringo__pd_kind */
	int family;           /* AF_* for sockets, 0 for files */
	uint32_t idx;         /* index in the pool, fixed for life */
	/* Bumped at every free; events tagged with an old value are stale.
	 * Written under the pool lock, read anywhere. */
	_Atomic uint32_t seq;
	/* 0 open; 1 closing or closed (also while on the free list). Set
	 * under lock, read anywhere (seq-cst, ringo__pd_check). */
	_Atomic uint8_t closing;

	/* Protects refs, closer, dir[].busy/head/tail and the deadline
	 * timers; dir[].deadline is written under it. */
	struct ringo__lock lock;
	int refs;                  /* acquired and not yet released */
	struct ringo__g *closer;   /* parked in close until refs == 0 */
	struct ringo__pd_dir dir[2]; /* [0] READ, [1] WRITE */

	struct ringo__pd *link;    /* free list / open list, pool lock */

	union {
		struct ringo__pd_epoll epoll;
		struct ringo__pd_uring uring;
	} be;
};

/* ---- tags: 64-bit handles for epoll data and io_uring user_data ----
 * bits 0..23 pool index (never 0: tag 0 is free for a backend's own use),
 * bits 24..55 sequence number, bits 56..63 free for the backend (an op
 * code, a direction). */
#define RINGO__PD_TAG_IDX_BITS 24
#define RINGO__PD_TAG_SEQ_SHIFT 24
#define RINGO__PD_TAG_USER_SHIFT 56
#define RINGO__PD_TAG_MASK ((UINT64_C(1) << RINGO__PD_TAG_USER_SHIFT) - 1)

static inline uint64_t ringo__pd_tag(struct ringo__pd *pd)
{
	return (uint64_t)atomic_load_explicit(&pd->seq, memory_order_relaxed)
		       << RINGO__PD_TAG_SEQ_SHIFT |
	       pd->idx;
}

/* The pd a tag names (user bits ignored), or NULL if its slot has been
 * freed since the tag was made (the event is stale: drop it). A pd can
 * still be freed right after this returns it: what the caller does with
 * it must be harmless for a reused slot (a spurious readiness is). */
struct ringo__pd *ringo__pd_from_tag(uint64_t tag);

/* Stale events dropped so far (for tests and dumps). */
extern _Atomic uint64_t ringo__pd_stale_nr;

/* Allocate a pd for fd and start the backend on it. On failure (-ENOMEM
 * or the backend's error) fd stays open and is the caller's. */
int ringo__pd_open(int fd, enum ringo__pd_kind kind, int family,
		   struct ringo__pd **out);

/* A public handle for pd (its tag as a pointer value; never NULL). */
static inline void *ringo__pd_handle(struct ringo__pd *pd)
{
	return (void *)(uintptr_t)ringo__pd_tag(pd);
}

/* What a public call takes and who it is, for the functions below that
 * take a handle: `call` names it in panics, `kinds` (RINGO__PD_KINDS_*)
 * says which kinds of pd its handle may be. Handles of every type are
 * tags, so a file cast to a connection would reach a socket op (and in
 * io_uring mode a read request on a socket that no close can cancel):
 * such a handle panics, naming the call, as a call outside a goroutine
 * does. */
struct ringo__pd_call {
	const char *name;
	unsigned kinds;
};
#define RINGO__PD_KINDS_CONN (1u << RINGO__PD_STREAM | 1u << RINGO__PD_DGRAM)
#define RINGO__PD_KINDS_LISTENER (1u << RINGO__PD_LISTENER)
#define RINGO__PD_KINDS_FILE (1u << RINGO__PD_FILE)

/* For the handle h (a tag): take a reference and, for RINGO__PD_READ /
 * RINGO__PD_WRITE, that direction's lock (parks while another op holds
 * it), and return the pd in *out. Returns 0, or -ECANCELED if the pd is
 * closing, -EBADF if h was closed (or is not a handle). */
int ringo__pd_acquire(const struct ringo__pd_call *call, const void *h,
		      int mode, struct ringo__pd **out);
void ringo__pd_release(struct ringo__pd *pd, int mode);

/* For ops: -ECANCELED if pd is closing, -ETIMEDOUT if direction dir's
 * deadline expired, else 0. dir 0 checks only closing. */
static inline int ringo__pd_check(struct ringo__pd *pd, int dir)
{
	if (atomic_load(&pd->closing))
		return -ECANCELED;
	if (dir && atomic_load(&pd->dir[dir - 1].deadline) < 0)
		return -ETIMEDOUT;
	return 0;
}

/* For the backends' connect: check pd's write direction, then start a
 * connect on its non-blocking socket. 0: connected at once; -EINPROGRESS:
 * wait until it is writable, then read SO_ERROR; or the error. EINTR and
 * EALREADY mean the attempt goes on in the background, as EINPROGRESS. */
int ringo__pd_connect_start(struct ringo__pd *pd, const struct sockaddr *sa,
			    socklen_t salen);

/* After a started connect's socket was reported writable: 0 if it is
 * connected, -EINPROGRESS if it is not yet (a writable report can be
 * early or spurious: wait again), or the connect's error. */
int ringo__pd_connect_result(struct ringo__pd *pd);

/* Set the deadline of direction(s) dirs of handle h: `when` in ns
 * CLOCK_MONOTONIC, 0 = none; a time not after now expires it at once.
 * Wakes an op whose deadline expires. Callable while ops are pending.
 * 0 or -EBADF. */
int ringo__pd_set_deadline(const struct ringo__pd_call *call, const void *h,
			   int dirs, int64_t when);

/* Close handle h: see the top of this file. Returns close(2)'s result,
 * or -EBADF if it is already closing or closed. Parks; call from a
 * goroutine. */
int ringo__pd_close(const struct ringo__pd_call *call, const void *h);

/* The fd of handle h, or -EBADF if h is closed (racy by nature: a
 * concurrent close may close it right after). */
int ringo__pd_fd(const struct ringo__pd_call *call, const void *h);

/* After every M has stopped: close the fds the program left open and
 * return their pds to the pool (their goroutines are gone). */
void ringo__pd_fini(void);

#endif
