/*
 * io/netpoll_uring.c - the io_uring backend: setting its rings up and
 * down, and the table io/netpoll.h calls through.
 *
 * A ring per P (up to RINGO__URINGS_MAX; Ps beyond share). A goroutine's
 * request goes to the ring of the P it runs on (uring_ops.c), is
 * submitted in batches by that P's M (uring_sq.c), and is reaped by
 * whichever M looks at the CQ next, or by the blocking poller
 * (uring_cq.c). Two Ms rarely enter one ring at once: with one shared
 * ring they serialized on its kernel mutex, whose holder runs the batch's
 * sends and receives inline. user_data names a slot in a type-stable
 * table (uring_slots.c), the slot's ring, a sequence tag and a kind
 * (io/netpoll_uring.h).
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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include "pd.h"
#include "uring_ring.h"

#define SQ_ENTRIES 16384
/* The CQ entries of all rings together (each gets its share, at least
 * CQ_ENTRIES_MIN): the in-flight maximum, a request per direction for each
 * of the ~20000 descriptors a process may open here, with room for
 * cancels. One ring that holds more than its share overflows into the
 * kernel's buffer (IORING_FEAT_NODROP), which the reaper flushes.
 * RINGO_URING_CQ_ENTRIES sets each ring's size, for tests. */
#define CQ_ENTRIES_DEFAULT 65536
#define CQ_ENTRIES_MIN 8192
/* The registered-file table's size bound (entries per ring). */
#define FIXED_FILES_MAX 65536

struct ringo__uring *ringo__urings;
unsigned ringo__nurings;
_Atomic int64_t ringo__uring_inflight_nr;
_Atomic bool ringo__uring_shutdown_cancelled;
/* init succeeded and fini has not run. */
static bool ring_up;

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

/* How many rings: one per P up to RINGO__URINGS_MAX, or
 * RINGO_URING_RINGS=n (1 to RINGO__URINGS_MAX, at most one per P); one
 * when multishot receive is asked for (its provided buffers belong to
 * one ring). */
static unsigned rings_wanted(void)
{
	const char *ms = getenv("RINGO_URING_MSRECV");
	const char *env = getenv("RINGO_URING_RINGS");
	long n = ringo__sched.nprocs;

	if (env && *env) {
		char *end;
		long v = strtol(env, &end, 10);
		if (*end || v < 1 || v > RINGO__URINGS_MAX)
			ringo__panic("ringo_run", "RINGO_URING_RINGS=%s: want 1 "
				     "to %d", env, RINGO__URINGS_MAX);
		if (v < n)
			n = v;
	}
	if ((ms && strcmp(ms, "1") == 0) || n < 1)
		return 1;
	return n > RINGO__URINGS_MAX ? RINGO__URINGS_MAX : (unsigned)n;
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

static int ring_setup(struct ringo__uring *u, unsigned cq)
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

static void rings_free(unsigned up)
{
	for (unsigned i = 0; i < up; i++)
		io_uring_queue_exit(&ringo__urings[i].ring);
	free(ringo__urings);
	ringo__urings = NULL;
	ringo__nurings = 0;
}

static int uring_init(void)
{
	const char *fail = getenv("RINGO_FAIL_URING_SETUP");

	if (fail && *fail && strcmp(fail, "0") != 0)
		return -ENOSYS;
	unsigned nr = rings_wanted();
	ringo__urings = aligned_alloc(_Alignof(struct ringo__uring),
				      nr * sizeof(*ringo__urings));
	if (!ringo__urings)
		return -ENOMEM;
	memset(ringo__urings, 0, nr * sizeof(*ringo__urings));
	ringo__nurings = nr;
	unsigned cq = cq_entries_from_env(nr);
	for (unsigned i = 0; i < nr; i++) {
		ringo__urings[i].idx = i;
		int r = ring_setup(&ringo__urings[i], cq);
		if (r < 0) {
			rings_free(i);
			return r;
		}
	}
	int r = ringo__uring_cq_init();
	if (r < 0) {
		rings_free(nr);
		return r;
	}
	ring_up = true;
	ringo__uring_ms_init(&ringo__urings[0].ring);
	atomic_store(&ringo__uring_inflight_nr, 0);
	atomic_store(&ringo__uring_shutdown_cancelled, false);
	atomic_store(&ringo__netpoll_pending, 0);
	return 0;
}

/* After every M has stopped: the goroutines parked in requests are gone
 * (their stacks too), so cancel every request still in flight and wait
 * for the cancellations, reaping without touching those goroutines; then
 * the descriptors left open are closed and the rings go. */
static void uring_fini(void)
{
	if (!ring_up)
		return;
	ringo__uring_cq_drain();
	ringo__pd_fini();
	ringo__uring_cq_fini();
	rings_free(ringo__nurings);
	ring_up = false;
	ringo__uring_ms_fini();
	ringo__uslots_free_all();
	atomic_store(&ringo__netpoll_waiters_nr, 0);
}

const struct ringo__netpoll_ops ringo__netpoll_uring_ops = {
	.name = "uring",
	.init = uring_init,
	.fini = uring_fini,
	.poll = ringo__uring_poll,
	.peek_free = true,
	.wake = ringo__uring_wake,
	.flush = ringo__uring_flush,
	.open = ringo__uring_open,
	.unblock = ringo__uring_unblock,
	.close = ringo__uring_close,
	.recv = ringo__uring_recv,
	.send = ringo__uring_send,
	.recvfrom = ringo__uring_recvfrom,
	.sendto = ringo__uring_sendto,
	.accept = ringo__uring_accept,
	.connect = ringo__uring_connect,
	.pread = ringo__uring_pread,
	.pwrite = ringo__uring_pwrite,
	.fsync = ringo__uring_fsync,
	.openat = ringo__uring_openat,
	.statx = ringo__uring_statx,
};
