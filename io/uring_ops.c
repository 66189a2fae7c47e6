/*
 * io/uring_ops.c - the operations a goroutine runs through the io_uring
 * backend: it writes its request into its P's ring from park's unlock
 * callback (so a completion can never reach a goroutine that is still
 * running) and parks until the reaper readies it with the result.
 *
 * Socket ops follow io/netpoll.h's deadline and close protocol: the
 * request's user_data is published in its descriptor before the last
 * check, so unblock() can cancel exactly that request; every op returns
 * only after its CQE, and close waits for every op, so a descriptor
 * number is reused only after the kernel is done with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ringo/sched.h>

#include "pd.h"
#include "uring_ring.h"

/* pd->be.uring.fixed_rings: do not register this descriptor. */
#define FIXED_NEVER (UINT32_C(1) << 31)
/* The fd array a files-update SQE names to clear an entry. */
static int fixed_clear = -1;

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
static struct io_uring_sqe *sock_sqe_locked(struct ringo__uring *u,
					     struct req *r)
{
	struct ringo__pd *pd = r->pd;
	uint32_t on = atomic_load_explicit(&pd->be.uring.fixed_rings,
					   memory_order_relaxed);

	r->fixed_file = !(on & FIXED_NEVER) && (unsigned)pd->fd < u->files_nr;
	if (!r->fixed_file || (on & ringo__uring_bit(u)))
		return ringo__uring_sqe_locked(u);
	if (io_uring_sq_space_left(&u->ring) < 2)
		ringo__uring_submit_locked(u);
	if (io_uring_sq_space_left(&u->ring) < 2)
		return NULL;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	io_uring_prep_files_update(sqe, &pd->fd, 1, pd->fd);
	io_uring_sqe_set_data64(sqe, (uint64_t)RINGO__UD_IGNORE
					     << RINGO__UD_KIND_SHIFT);
	atomic_fetch_or_explicit(&pd->be.uring.fixed_rings, ringo__uring_bit(u),
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

	struct ringo__uring *u = &ringo__urings[s->ring];

	(void)g;
	ringo__lock(&u->sq_lock);
	if (atomic_load_explicit(&s->cancel_tag, memory_order_relaxed) == tag ||
	    atomic_load_explicit(&ringo__uring_shutdown_cancelled,
				 memory_order_relaxed)) {
		/* unblock() came between the op's last check and here, or
		 * the runtime is shutting down (see ringo__uring_wake). */
		ringo__unlock(&u->sq_lock);
		r->res = -ECANCELED;
		goto not_submitted;
	}
	struct io_uring_sqe *sqe = r->pd ? sock_sqe_locked(u, r)
					   : ringo__uring_sqe_locked(u);
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
	ringo__uring_unlock_defer(u);
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
	/* Pairs with the release store of DONE in uring_cq.c's handle_cqe. */
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
		/* Seq-cst, pairs with the load in ringo__uring_unblock: either it
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

int ringo__uring_open(struct ringo__pd *pd)
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
	/* The kernel clears a file's pread, pwrite and lseek rights
	 * together (nonseekable_open, stream_open): lseek's ESPIPE says
	 * pread(2) would fail, as it does in epoll mode. */
	pd->be.uring.no_offset = pd->kind == RINGO__PD_FILE &&
				 lseek(pd->fd, 0, SEEK_CUR) < 0 &&
				 errno == ESPIPE;
	return 0;
}

void ringo__uring_unblock(struct ringo__pd *pd, int dirs)
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

static void unfix_now(struct ringo__uring *u, int fd)
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

	for (unsigned i = 0; i < ringo__nurings; i++) {
		struct ringo__uring *u = &ringo__urings[i];
		if (!(on & ringo__uring_bit(u)))
			continue;
		if (i != close_ring) {
			unfix_now(u, pd->fd);
			continue;
		}
		ringo__lock(&u->sq_lock);
		struct io_uring_sqe *sqe = ringo__uring_sqe_locked(u);
		if (!sqe) {
			ringo__unlock(&u->sq_lock);
			unfix_now(u, pd->fd);
			continue;
		}
		io_uring_prep_files_update(sqe, &fixed_clear, 1, pd->fd);
		io_uring_sqe_set_data64(sqe, (uint64_t)RINGO__UD_IGNORE
						     << RINGO__UD_KIND_SHIFT);
		ringo__uring_unlock_defer(u);
	}
}

int ringo__uring_close(struct ringo__pd *pd)
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

ssize_t ringo__uring_recv(struct ringo__pd *pd, void *buf, size_t len,
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

ssize_t ringo__uring_send(struct ringo__pd *pd, const void *buf, size_t len,
			  int flags)
{
	struct req r = { .op = OP_SEND, .buf = (void *)buf,
			 .len = clamp_len(len), .flags = flags };
	return sock_op(pd, RINGO__PD_WRITE, &r);
}

ssize_t ringo__uring_recvfrom(struct ringo__pd *pd, void *buf, size_t len,
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

ssize_t ringo__uring_sendto(struct ringo__pd *pd, const void *buf, size_t len,
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
int ringo__uring_accept(struct ringo__pd *pd, struct sockaddr *sa,
			socklen_t *salen)
{
	for (;;) {
		int fd = ringo__pd_check(pd, RINGO__PD_READ);
		if (fd)
			return fd;
		while ((fd = accept4(pd->fd, sa, sa ? salen : NULL,
				     SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0 &&
		       errno == EINTR)
			;
		if (fd >= 0)
			return fd;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct req r = { .op = OP_ACCEPT, .sa = sa,
					 .salen = sa ? salen : NULL };
			fd = sock_op(pd, RINGO__PD_READ, &r);
			if (fd != -ECONNABORTED)
				return fd;
		} else if (errno != ECONNABORTED) {
			return -errno;
		}
		/* Reset before it was taken: the next one, as in epoll mode
		 * and Go's Accept. */
	}
}

/* connect(2) itself never blocks on a non-blocking socket; the wait for
 * the handshake is a POLLOUT request, which a deadline or close can
 * cancel and this loop can re-issue without disturbing the connection
 * attempt (a cancelled IORING_OP_CONNECT could not be re-issued). */
int ringo__uring_connect(struct ringo__pd *pd, const struct sockaddr *sa,
			 socklen_t salen)
{
	int err = ringo__pd_connect_start(pd, sa, salen);

	if (err != -EINPROGRESS)
		return err;
	do {
		struct req r = { .op = OP_POLL, .mask = POLLOUT };
		int res = sock_op(pd, RINGO__PD_WRITE, &r);
		if (res < 0)
			return res;
		err = ringo__pd_connect_result(pd);
	} while (err == -EINPROGRESS);
	return err;
}

/* A read of data already in the page cache is a copy: preadv2 with
 * RWF_NOWAIT does it in one system call without parking. It returns what
 * was cached (a short count if only the start was: the caller loops) or
 * EAGAIN when nothing was, without waiting; only then does the read go
 * through the ring. Not for O_DIRECT files, whose reads always wait for
 * the device; a file system without RWF_NOWAIT answers EOPNOTSUPP once
 * and the descriptor stops trying. */
ssize_t ringo__uring_pread(struct ringo__pd *pd, void *buf, size_t len,
			   int64_t off)
{
	struct req r = { .op = OP_READ, .fd = pd->fd, .buf = buf,
			 .len = clamp_len(len), .off = off };
	if (pd->be.uring.no_offset)
		return -ESPIPE;
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

ssize_t ringo__uring_pwrite(struct ringo__pd *pd, const void *buf, size_t len,
			    int64_t off)
{
	struct req r = { .op = OP_WRITE, .fd = pd->fd, .buf = (void *)buf,
			 .len = clamp_len(len), .off = off };
	if (pd->be.uring.no_offset)
		return -ESPIPE;
	return file_op(&r, pd);
}

int ringo__uring_fsync(struct ringo__pd *pd, bool datasync)
{
	struct req r = { .op = OP_FSYNC, .fd = pd->fd, .flags = datasync };
	return file_op(&r, pd);
}

int ringo__uring_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	struct req r = { .op = OP_OPENAT, .fd = dirfd, .path = path,
			 .flags = flags, .mode = mode };
	return file_op(&r, NULL);
}

int ringo__uring_statx(int dirfd, const char *path, int flags, unsigned mask,
		       struct statx *stx)
{
	struct req r = { .op = OP_STATX, .fd = dirfd, .path = path,
			 .flags = flags, .mask = mask, .stx = stx };
	return file_op(&r, NULL);
}
