/*
 * io/netpoll.h - the contract between the runtime and an I/O backend.
 *
 * The scheduler (core/idle.c) never sees CQEs or epoll events: a backend
 * turns them into a list of goroutines to make runnable. One backend is
 * chosen before the first goroutine runs (RINGO_NETPOLL or
 * ringo_config.netpoll) and does not change while the runtime runs.
 *
 * At most one M at a time blocks in poll() with a delay; others may peek
 * (delay 0) concurrently. All calls return 0 (or a count) or a negative
 * errno, never -1 with errno.
 *
 * I/O operations are blocking-style: called by a goroutine, an op parks
 * that goroutine (never its M, except where noted) until it can finish,
 * then returns what the system call would have returned, as >= 0 or
 * -errno. Each op works on a poll descriptor (io/pd.h) that io/pd.c has
 * already acquired for the caller, which guarantees:
 *   - pd->fd stays open until the op returns (close waits for it);
 *   - at most one READ-direction op (recv, recvfrom, accept) and one
 *     WRITE-direction op (send, sendto, connect) are in progress on a pd
 *     at a time; file ops (pread, pwrite, fsync, statx on pd->fd) take
 *     only a reference and may run concurrently with anything.
 *
 * Deadlines and close. A socket op ends early with
 *   -ETIMEDOUT   if its direction's deadline has expired (Go's
 *                os.ErrDeadlineExceeded; it stays expired, failing later
 *                calls too, until ringo__pd_set_deadline moves it), or
 *   -ECANCELED   if the descriptor is being closed.
 * io/pd.c keeps the deadlines and the closing flag and calls unblock()
 * when either changes; the backend only has to follow this protocol:
 *   1. check ringo__pd_check(pd, dir) before starting, return its error;
 *   2. publish that it is waiting (epoll: the G in pd's slot; uring: the
 *      in-flight request where unblock can find it), THEN check
 *      ringo__pd_check again before parking (both sides use seq-cst
 *      atomics: either unblock sees the waiter or the waiter sees the
 *      error);
 *   3. after every wake, if ringo__pd_check reports an error, stop and
 *      return it (unless the operation already completed: a request that
 *      finished with a result returns that result); otherwise (the
 *      deadline was extended meanwhile) go on waiting.
 * Sockets handed to open() are non-blocking (SOCK_NONBLOCK); a backend
 * may change that in open(). SIGPIPE is never raised: send/sendto add
 * MSG_NOSIGNAL.
 *
 * Waiter count. Every goroutine a backend parks for I/O is counted in
 * ringo__netpoll_waiters_nr from before it can be woken until it is made
 * runnable (by poll's list or ringo__ready): idle Ms only block in poll()
 * while it is > 0, and the deadlock detector treats it as "I/O can still
 * wake someone". Ops that block their M instead (epoll's file ops) are
 * not counted.
 */
#ifndef RINGO_IO_NETPOLL_H
#define RINGO_IO_NETPOLL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/runtime.h"

struct ringo__pd;

/* Goroutines made ready by a poll, linked through g->schedlink. */
struct ringo__glist {
	struct ringo__g *head, *tail;
	int n;
};

static inline void ringo__glist_push(struct ringo__glist *l, struct ringo__g *g)
{
	g->schedlink = NULL;
	if (l->tail)
		l->tail->schedlink = g;
	else
		l->head = g;
	l->tail = g;
	l->n++;
}

/* How many goroutines one poll() readies, about: io_uring stops reaping
 * once that many are in the list (CQEs that ready nobody do not count),
 * epoll takes that many events (each readies a reader, a writer or
 * both). The rest stay queued in the kernel, in each ring's completion
 * order, for the next poll. With thousands of connections a poll that
 * took everything would spill most of it to the global run queue, which
 * a busy P serves one goroutine per 61 slices: those goroutines would
 * wait behind every later completion. */
#define RINGO__NETPOLL_BATCH 128

struct ringo__netpoll_ops {
	const char *name;

	/* ---- the idle wait ---- */

	/* Called once per ringo_run, before any goroutine runs. */
	int (*init)(void);
	/* Called once after every M has stopped. Calls ringo__pd_fini()
	 * first (closes the descriptors the program left open, io/pd.h). */
	void (*fini)(void);
	/* Wait for I/O: delay_ns < 0 blocks until something happens or
	 * wake() is called, 0 only peeks, > 0 waits at most that long.
	 * Goroutines whose I/O completed are appended to *ready (their
	 * status is still WAITING: the caller readies them), about
	 * RINGO__NETPOLL_BATCH at most (below). */
	int (*poll)(int64_t delay_ns, struct ringo__glist *ready);
	/* poll(0) costs no system call (io_uring: a look at the CQ in
	 * memory). The scheduler then also peeks every 32 switches, beside
	 * the flush, when its run queue has room for a whole batch: an M
	 * whose run queue never empties picks up its own completions
	 * itself, instead of leaving them to sysmon's poll, which comes
	 * 10 ms late and queues them globally. A backend whose peek is a
	 * system call (epoll_wait) leaves it false. */
	bool peek_free;
	/* Make a blocked (or the next) poll return. Callable from any
	 * thread; concurrent calls coalesce into one wakeup. */
	void (*wake)(void);
	/* Pass requests queued by ops to the kernel. A backend that queues
	 * (io_uring: SQEs written, one io_uring_enter for many of them) sets
	 * ringo__netpoll_pending when it does; the scheduler then calls this
	 * through ringo__netpoll_flush() before an M looks for work or
	 * sleeps, every 32 switches, and from sysmon. NULL if it never
	 * queues. An M with a P flushes what that P's goroutines queued
	 * (a backend with one queue: everything). sysmon, the only caller
	 * without a P, calls it once per tick and flushes only what was
	 * queued at its previous call too and not flushed since: requests
	 * an M queued and then left behind, going on to a long goroutine.
	 * Flushing sooner would make sysmon the submitter of requests an
	 * M was about to submit (io/uring_sq.c: completions run task
	 * work on their submitter). */
	void (*flush)(void);

	/* ---- descriptors ---- */

	/* Start serving pd (pd->fd, pd->kind, pd->family set). Called
	 * once per life of the slot, by a goroutine, before any op on pd.
	 * pd->be is as the slot's previous life left it: reset it, with
	 * atomic stores where a late unblock() or event for the previous
	 * life may still touch it. On failure pd->fd is left open (the
	 * caller closes it). */
	int (*open)(struct ringo__pd *pd);
	/* Wake the op in progress in direction(s) `dirs` (RINGO__PD_READ |
	 * RINGO__PD_WRITE) on pd, if any, so that it re-checks
	 * ringo__pd_check (protocol above). May find no op, or one that has
	 * not parked yet. Must not park: runs in deadline timer callbacks
	 * (on any M with a P) and in the goroutine that closes pd. */
	void (*unblock)(struct ringo__pd *pd, int dirs);
	/* Stop serving pd and close pd->fd: no op is in progress and none
	 * will start. Returns close(2)'s result. May park. */
	int (*close)(struct ringo__pd *pd);

	/* ---- sockets; honour deadlines and close as above ---- */

	/* recv(2)/send(2); flags as theirs (send adds MSG_NOSIGNAL). A
	 * send may be short, as on a blocking socket with a deadline. */
	ssize_t (*recv)(struct ringo__pd *pd, void *buf, size_t len, int flags);
	ssize_t (*send)(struct ringo__pd *pd, const void *buf, size_t len,
			int flags);
	/* recvfrom(2)/sendto(2), for datagrams. sa/salen may be NULL. */
	ssize_t (*recvfrom)(struct ringo__pd *pd, void *buf, size_t len,
			    int flags, struct sockaddr *sa, socklen_t *salen);
	ssize_t (*sendto)(struct ringo__pd *pd, const void *buf, size_t len,
			  int flags, const struct sockaddr *sa,
			  socklen_t salen);
	/* accept4(2) on a listening pd: returns the new fd, non-blocking
	 * and close-on-exec, not yet open()ed. sa/salen may be NULL.
	 * READ direction. */
	int (*accept)(struct ringo__pd *pd, struct sockaddr *sa,
		      socklen_t *salen);
	/* connect(2) to completion (0 or the connection's error, e.g.
	 * -ECONNREFUSED). WRITE direction: a dial timeout is a write
	 * deadline. */
	int (*connect)(struct ringo__pd *pd, const struct sockaddr *sa,
		       socklen_t salen);

	/* ---- files; no deadlines. The epoll backend runs these as plain
	 * system calls that block the M (syscall handoff to another M is
	 * a separate piece of work); io_uring runs them in the ring. ---- */

	/* pread(2)/pwrite(2); off >= 0. A count may be short. */
	ssize_t (*pread)(struct ringo__pd *pd, void *buf, size_t len,
			 int64_t off);
	ssize_t (*pwrite)(struct ringo__pd *pd, const void *buf, size_t len,
			  int64_t off);
	/* fsync(2), or fdatasync(2) if datasync. */
	int (*fsync)(struct ringo__pd *pd, bool datasync);
	/* openat(2): returns a new fd (the caller adds O_CLOEXEC), not yet
	 * open()ed. No pd. */
	int (*openat)(int dirfd, const char *path, int flags, mode_t mode);
	/* statx(2). No pd: for an open descriptor the caller passes its fd
	 * with path "" and AT_EMPTY_PATH, holding a reference. */
	int (*statx)(int dirfd, const char *path, int flags, unsigned mask,
		     struct statx *stx);
};

/* The backend in use; set by ringo__netpoll_select before goroutines run. */
extern const struct ringo__netpoll_ops *ringo__netpoll;
extern const struct ringo__netpoll_ops ringo__netpoll_epoll_ops;

/* Pick and initialise the backend named by `mode` ("uring", "epoll", or
 * NULL for RINGO_NETPOLL's value, default uring). A bad name panics; a
 * uring backend that cannot start falls back to epoll, saying so once on
 * stderr. Returns 0 or -errno. */
int ringo__netpoll_select(const char *mode);

/* Goroutines parked waiting for I/O; the deadlock detector and the idle
 * path read it. Backends count their waiters here (see above). */
extern _Atomic int32_t ringo__netpoll_waiters_nr;

/* Nonzero while a backend holds requests that flush() would submit (the
 * io_uring backend: a bit per ring). Set by the backend after queueing
 * one, cleared by its flush; read without a lock as a hint (a stale 1
 * costs an empty flush, a stale 0 is followed by the scheduler's next
 * check). */
extern _Atomic uint32_t ringo__netpoll_pending;

static inline void ringo__netpoll_flush(void)
{
	if (atomic_load_explicit(&ringo__netpoll_pending, memory_order_relaxed))
		ringo__netpoll->flush();
}

#endif
