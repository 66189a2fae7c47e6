/*
 * io/netpoll_epoll.c - the epoll backend (Go's own design).
 *
 * One epoll instance per runtime. Sockets are non-blocking and registered
 * once, edge-triggered, for both directions (EPOLLIN | EPOLLOUT |
 * EPOLLRDHUP | EPOLLET) with the pd's tag as data. An op tries its system
 * call first; only on EAGAIN does its goroutine park in the pd's reader
 * or writer slot (struct ringo__pd_epoll, states in io/pd.h), and an edge
 * reported by epoll_pwait2 moves the slot to READY and hands the parked
 * goroutine to the scheduler, which retries the call. An edge that finds
 * nobody waiting is kept as READY, so none is lost between an op's EAGAIN
 * and its park.
 *
 * Regular files cannot be polled: file ops are plain system calls that
 * block the M they run on, inside a system-call section (core/syscall.c),
 * so that sysmon hands the P to another M when one takes long.
 *
 * An eventfd registered with tag 0 lets any thread interrupt a blocked
 * epoll_pwait2 (nanosecond timeouts, so timers are not rounded to
 * milliseconds where the kernel has it: io/epoll_wait.h). `wake_pending`
 * coalesces wakes: only the first wake after a blocking poll drained the
 * eventfd writes to it; peeks leave it (level-triggered) for the poll that
 * blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ringo/sched.h>

#include "epoll_wait.h"
#include "netpoll.h"
#include "pd.h"

static int epfd = -1;
static int wakefd = -1;
/* 0: no wake written since the last blocking poll drained it; 1: one is
 * pending. wake() moves 0 -> 1 and writes; a poll with delay != 0 moves
 * 1 -> 0 after reading (a peek must not: see epoll_poll). */
static _Atomic int wake_pending;

static int epoll_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wakefd < 0)
		goto err;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) < 0)
		goto err;
	atomic_store(&wake_pending, 0);
	return 0;
err:;
	int err = -errno;
	if (wakefd >= 0)
		close(wakefd);
	close(epfd);
	epfd = wakefd = -1;
	return err;
}

static void epoll_fini(void)
{
	ringo__pd_fini();
	close(wakefd);
	close(epfd);
	epfd = wakefd = -1;
}

/* ------------------------------------------------------ waiter slots */

static _Atomic uintptr_t *slot_of(struct ringo__pd *pd, int dir)
{
	return dir == RINGO__PD_READ ? &pd->be.epoll.rg : &pd->be.epoll.wg;
}

/* Take the parked G out of a slot (Go's netpollunblock). ioready: the
 * fd is ready, leave READY for the next waiter; else (deadline, close)
 * leave NIL. Returns the G to make runnable, or NULL. */
static struct ringo__g *slot_unblock(_Atomic uintptr_t *gp, bool ioready)
{
	uintptr_t old = atomic_load(gp);

	for (;;) {
		if (old == RINGO__PD_READY)
			return NULL;
		if (old == RINGO__PD_NIL && !ioready)
			return NULL;
		uintptr_t new = ioready ? RINGO__PD_READY : RINGO__PD_NIL;
		/* Seq-cst: pairs with the waiter's CAS NIL -> WAIT and its
		 * re-check of closing/deadline (ringo__pd_check). */
		if (atomic_compare_exchange_weak(gp, &old, new))
			break;
	}
	if (old == RINGO__PD_NIL || old == RINGO__PD_WAIT)
		return NULL; /* the waiter sees the new state, does not park */
	atomic_fetch_sub(&ringo__netpoll_waiters_nr, 1);
	return (struct ringo__g *)old;
}

/* park's unlock callback: the G is off its stack; WAIT -> G makes it
 * visible to notifiers. Fails (G runs on) if a notifier got in first. */
static bool slot_commit(struct ringo__g *g, void *arg)
{
	_Atomic uintptr_t *gp = arg;
	uintptr_t wait = RINGO__PD_WAIT;

	/* Counted before a notifier can take it (and uncount it). */
	atomic_fetch_add(&ringo__netpoll_waiters_nr, 1);
	if (atomic_compare_exchange_strong(gp, &wait, (uintptr_t)g))
		return true;
	atomic_fetch_sub(&ringo__netpoll_waiters_nr, 1);
	return false;
}

/* Park until the fd may be ready in direction dir (Go's netpollblock and
 * pollWait). 0: retry the call; else -ETIMEDOUT or -ECANCELED. */
static int slot_wait(struct ringo__pd *pd, int dir)
{
	_Atomic uintptr_t *gp = slot_of(pd, dir);
	uintptr_t old = atomic_load(gp);

	for (;;) {
		if (old == RINGO__PD_READY) {
			atomic_store(gp, RINGO__PD_NIL);
			return 0;
		}
		if (old != RINGO__PD_NIL)
			ringo__throw("netpoll", "pd %u: two goroutines wait in "
				     "one direction (%#lx)", pd->idx,
				     (unsigned long)old);
		if (atomic_compare_exchange_weak(gp, &old, RINGO__PD_WAIT))
			break;
	}
	/* Re-check after publishing WAIT: a deadline or close that came
	 * before it is seen here; one that comes after finds WAIT or G. */
	int err = ringo__pd_check(pd, dir);
	if (!err)
		ringo__park(slot_commit, (void *)gp, RINGO_WAIT_IO, pd);
	old = atomic_exchange(gp, RINGO__PD_NIL);
	if (old > RINGO__PD_WAIT)
		ringo__throw("netpoll", "pd %u: woken with a goroutine still "
			     "in the slot", pd->idx);
	if (old == RINGO__PD_READY)
		return 0;
	return ringo__pd_check(pd, dir);
}

/* ------------------------------------------------------------- poll */

static int epoll_poll(int64_t delay_ns, struct ringo__glist *ready)
{
	struct epoll_event evs[RINGO__NETPOLL_BATCH];

	int n = ringo__epoll_wait_ns(epfd, evs, RINGO__NETPOLL_BATCH, delay_ns);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		uint32_t e = evs[i].events;
		if (evs[i].data.u64 == 0) {
			/* Only a poll that may block consumes the wake (as
			 * Go's netpoll): a peek that drained it could leave
			 * the blocked poller asleep with a wake coalesced
			 * into the one it took. */
			uint64_t v;
			if (delay_ns == 0)
				continue;
			if (read(wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
			atomic_store(&wake_pending, 0);
			continue;
		}
		struct ringo__pd *pd = ringo__pd_from_tag(evs[i].data.u64);
		if (!pd)
			continue; /* closed since; its slot moved on */
		struct ringo__g *g;
		if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
			if ((g = slot_unblock(&pd->be.epoll.rg, true)))
				ringo__glist_push(ready, g);
		}
		if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
			if ((g = slot_unblock(&pd->be.epoll.wg, true)))
				ringo__glist_push(ready, g);
		}
	}
	return 0;
}

static void epoll_wake(void)
{
	int zero = 0;

	if (!atomic_compare_exchange_strong(&wake_pending, &zero, 1))
		return;
	uint64_t one = 1;
	int saved = errno;
	if (write(wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		ringo__throw("netpoll", "eventfd write failed");
	errno = saved;
}

/* ------------------------------------------------------- descriptors */

static int epoll_open(struct ringo__pd *pd)
{
	atomic_store(&pd->be.epoll.rg, RINGO__PD_NIL);
	atomic_store(&pd->be.epoll.wg, RINGO__PD_NIL);
	if (pd->kind == RINGO__PD_FILE)
		return 0;
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.u64 = ringo__pd_tag(pd),
	};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, pd->fd, &ev) < 0)
		return -errno;
	return 0;
}

static void epoll_unblock(struct ringo__pd *pd, int dirs)
{
	struct ringo__g *rg = NULL, *wg = NULL;

	if (dirs & RINGO__PD_READ)
		rg = slot_unblock(&pd->be.epoll.rg, false);
	if (dirs & RINGO__PD_WRITE)
		wg = slot_unblock(&pd->be.epoll.wg, false);
	if (rg)
		ringo__ready(rg);
	if (wg)
		ringo__ready(wg);
}

static int epoll_close(struct ringo__pd *pd)
{
	/* Closing the fd drops it from the epoll set (we never dup it);
	 * events already queued carry a tag that is stale after the free. */
	return close(pd->fd) < 0 ? -errno : 0;
}

/* ----------------------------------------------------------- sockets */

/* After a socket call returned *n: false if *n is the op's result (a
 * count, or -errno), true to make the call again (EINTR, or EAGAIN and
 * we parked until the fd may be ready). */
static bool again(struct ringo__pd *pd, int dir, ssize_t *n)
{
	if (*n >= 0)
		return false;
	if (errno == EINTR)
		return true;
	if (errno != EAGAIN && errno != EWOULDBLOCK) {
		*n = -errno;
		return false;
	}
	int err = slot_wait(pd, dir);
	if (err) {
		*n = err;
		return false;
	}
	return true;
}

static ssize_t epoll_recv(struct ringo__pd *pd, void *buf, size_t len,
			  int flags)
{
	ssize_t n;

	do {
		if ((n = ringo__pd_check(pd, RINGO__PD_READ)))
			return n;
		n = recv(pd->fd, buf, len, flags | MSG_DONTWAIT);
	} while (again(pd, RINGO__PD_READ, &n));
	return n;
}

static ssize_t epoll_send(struct ringo__pd *pd, const void *buf, size_t len,
			  int flags)
{
	ssize_t n;

	do {
		if ((n = ringo__pd_check(pd, RINGO__PD_WRITE)))
			return n;
		n = send(pd->fd, buf, len, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (again(pd, RINGO__PD_WRITE, &n));
	return n;
}

static ssize_t epoll_recvfrom(struct ringo__pd *pd, void *buf, size_t len,
			      int flags, struct sockaddr *sa, socklen_t *salen)
{
	ssize_t n;

	do {
		if ((n = ringo__pd_check(pd, RINGO__PD_READ)))
			return n;
		n = recvfrom(pd->fd, buf, len, flags | MSG_DONTWAIT, sa, salen);
	} while (again(pd, RINGO__PD_READ, &n));
	return n;
}

static ssize_t epoll_sendto(struct ringo__pd *pd, const void *buf,
			    size_t len, int flags, const struct sockaddr *sa,
			    socklen_t salen)
{
	ssize_t n;

	do {
		if ((n = ringo__pd_check(pd, RINGO__PD_WRITE)))
			return n;
		n = sendto(pd->fd, buf, len,
			   flags | MSG_DONTWAIT | MSG_NOSIGNAL, sa, salen);
	} while (again(pd, RINGO__PD_WRITE, &n));
	return n;
}

static int epoll_accept(struct ringo__pd *pd, struct sockaddr *sa,
			socklen_t *salen)
{
	for (;;) {
		ssize_t fd = ringo__pd_check(pd, RINGO__PD_READ);
		if (fd)
			return (int)fd;
		fd = accept4(pd->fd, sa, salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && errno == ECONNABORTED)
			continue; /* reset before we took it: the next one */
		if (!again(pd, RINGO__PD_READ, &fd))
			return (int)fd;
	}
}

static int epoll_connect(struct ringo__pd *pd, const struct sockaddr *sa,
			 socklen_t salen)
{
	int err = ringo__pd_connect_start(pd, sa, salen);
	if (err != -EINPROGRESS)
		return err;
	for (;;) {
		/* Writable can be spurious (a READY left by the
		 * registration): the result says so. */
		if ((err = slot_wait(pd, RINGO__PD_WRITE)) ||
		    (err = ringo__pd_connect_result(pd)) != -EINPROGRESS)
			return err;
	}
}

/* ------------------------------------ files: block the M, hand off the P */

static ssize_t epoll_pread(struct ringo__pd *pd, void *buf, size_t len,
			   int64_t off)
{
	ssize_t n;

	ringo_syscall_enter();
	while ((n = pread(pd->fd, buf, len, (off_t)off)) < 0 && errno == EINTR)
		;
	int err = ringo_syscall_exit();
	return n < 0 ? -err : n;
}

static ssize_t epoll_pwrite(struct ringo__pd *pd, const void *buf,
			    size_t len, int64_t off)
{
	ssize_t n;

	ringo_syscall_enter();
	while ((n = pwrite(pd->fd, buf, len, (off_t)off)) < 0 &&
	       errno == EINTR)
		;
	int err = ringo_syscall_exit();
	return n < 0 ? -err : n;
}

static int epoll_fsync(struct ringo__pd *pd, bool datasync)
{
	int r;

	ringo_syscall_enter();
	while ((r = datasync ? fdatasync(pd->fd) : fsync(pd->fd)) < 0 &&
	       errno == EINTR)
		;
	int err = ringo_syscall_exit();
	return r < 0 ? -err : 0;
}

static int epoll_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	int fd;

	ringo_syscall_enter();
	while ((fd = openat(dirfd, path, flags, mode)) < 0 && errno == EINTR)
		;
	int err = ringo_syscall_exit();
	return fd < 0 ? -err : fd;
}

static int epoll_statx(int dirfd, const char *path, int flags, unsigned mask,
		       struct statx *stx)
{
	int r;

	ringo_syscall_enter();
	while ((r = statx(dirfd, path, flags, mask, stx)) < 0 && errno == EINTR)
		;
	int err = ringo_syscall_exit();
	return r < 0 ? -err : 0;
}

const struct ringo__netpoll_ops ringo__netpoll_epoll_ops = {
	.name = "epoll",
	.init = epoll_init,
	.fini = epoll_fini,
	.poll = epoll_poll,
	.wake = epoll_wake,
	.open = epoll_open,
	.unblock = epoll_unblock,
	.close = epoll_close,
	.recv = epoll_recv,
	.send = epoll_send,
	.recvfrom = epoll_recvfrom,
	.sendto = epoll_sendto,
	.accept = epoll_accept,
	.connect = epoll_connect,
	.pread = epoll_pread,
	.pwrite = epoll_pwrite,
	.fsync = epoll_fsync,
	.openat = epoll_openat,
	.statx = epoll_statx,
};
