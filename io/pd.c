/*
 * io/pd.c - poll descriptors: the pool, references, per-direction locks,
 * deadlines and close (the backend-neutral half of Go's pollDesc and
 * fdMutex; see io/pd.h).
 *
 * The pool is an array of chunks indexed by the tag's index bits; chunks
 * are allocated on demand and never freed, so any index below `pool_nr`
 * names valid pd memory forever and ringo__pd_from_tag needs no lock.
 *
 * One ringo__lock per pd serialises everything but the ops themselves.
 * Go uses a lock-free state word (fdMutex) with semaphores for the queued
 * case; a short critical section under a spinning futex lock costs about
 * the same two atomics per op uncontended and is far easier to check.
 */
#include <stdlib.h>
#include <unistd.h>

#include "io/netpoll.h"
#include "io/pd.h"

#define CHUNK_SHIFT 9
#define CHUNK_NR (1u << CHUNK_SHIFT)
#define CHUNKS_MAX (1u << (RINGO__PD_TAG_IDX_BITS - CHUNK_SHIFT))

/* closing values */
#define OPEN 0
#define CLOSING 1
#define CLOSED 2

/* Chunk pointers: written once under pool_lock (release), read anywhere
 * (acquire, ringo__pd_from_tag). */
static struct ringo__pd *_Atomic chunks[CHUNKS_MAX];
/* Protects free_list and the growth of pool_nr; pool_nr is also read
 * without it (acquire, pairs with the release after a slot's init). */
static struct ringo__lock pool_lock = RINGO__LOCK_INIT;
static struct ringo__pd *free_list;
static _Atomic uint32_t pool_nr = 1; /* index 0 is never used */

_Atomic uint64_t ringo__pd_stale_nr;

static struct ringo__pd *slot(uint32_t idx)
{
	/* Acquire pairs with the release store of the chunk pointer. */
	struct ringo__pd *c = atomic_load_explicit(&chunks[idx >> CHUNK_SHIFT],
						   memory_order_acquire);
	return &c[idx & (CHUNK_NR - 1)];
}

static void deadline_fire(struct ringo__timer *t, int64_t now, uint64_t seq);

/* A never-used slot at idx; caller holds pool_lock. */
static struct ringo__pd *slot_new(void)
{
	uint32_t idx = atomic_load_explicit(&pool_nr, memory_order_relaxed);

	if (idx >= CHUNKS_MAX * CHUNK_NR)
		return NULL;
	if (!atomic_load_explicit(&chunks[idx >> CHUNK_SHIFT],
				  memory_order_relaxed)) {
		struct ringo__pd *c = calloc(CHUNK_NR, sizeof(*c));
		if (!c)
			return NULL;
		atomic_store_explicit(&chunks[idx >> CHUNK_SHIFT], c,
				      memory_order_release);
	}
	struct ringo__pd *pd = slot(idx);
	pd->idx = idx;
	atomic_store(&pd->seq, 1);
	for (int d = 0; d < 2; d++)
		ringo__timer_init(&pd->dir[d].timer, deadline_fire, pd);
	/* Release pairs with the acquire in ringo__pd_from_tag. */
	atomic_store_explicit(&pool_nr, idx + 1, memory_order_release);
	return pd;
}

static struct ringo__pd *pd_alloc(void)
{
	ringo__lock(&pool_lock);
	struct ringo__pd *pd = free_list;
	if (pd)
		free_list = pd->link;
	else
		pd = slot_new();
	ringo__unlock(&pool_lock);
	return pd;
}

/* pd's fd is closed and nobody holds a reference: bump the sequence so
 * that events tagged for this life are recognised as stale. */
static void pd_free(struct ringo__pd *pd)
{
	ringo__lock(&pool_lock);
	atomic_store(&pd->closing, CLOSED);
	atomic_fetch_add(&pd->seq, 1);
	pd->link = free_list;
	free_list = pd;
	ringo__unlock(&pool_lock);
}

struct ringo__pd *ringo__pd_from_tag(uint64_t tag)
{
	uint32_t idx = (uint32_t)(tag & ((1u << RINGO__PD_TAG_IDX_BITS) - 1));
	uint32_t seq = (uint32_t)((tag & RINGO__PD_TAG_MASK) >>
				  RINGO__PD_TAG_SEQ_SHIFT);

	if (idx == 0 || idx >= atomic_load_explicit(&pool_nr,
						    memory_order_acquire))
		ringo__throw("netpoll", "event for pd index %u of %u (tag "
			     "%#llx)", idx, atomic_load(&pool_nr),
			     (unsigned long long)tag);
	struct ringo__pd *pd = slot(idx);
	if (atomic_load(&pd->seq) != seq) {
		atomic_fetch_add_explicit(&ringo__pd_stale_nr, 1,
					  memory_order_relaxed);
		return NULL;
	}
	return pd;
}

int ringo__pd_open(int fd, enum ringo__pd_kind kind, int family,
		   struct ringo__pd **out)
{
	struct ringo__pd *pd = pd_alloc();

	if (!pd)
		return -ENOMEM;
	pd->fd = fd;
	pd->kind = (uint8_t)kind;
	pd->family = family;
	pd->refs = 0;
	pd->closer = NULL;
	for (int d = 0; d < 2; d++) {
		atomic_store(&pd->dir[d].deadline, 0);
		pd->dir[d].busy = false;
		pd->dir[d].head = pd->dir[d].tail = NULL;
		pd->dir[d].pending_err = 0;
	}
	atomic_store(&pd->closing, OPEN);
	int err = ringo__netpoll->open(pd);
	if (err < 0) {
		pd_free(pd);
		return err;
	}
	*out = pd;
	return 0;
}

/* park's unlock callback: the G is off its stack, let wakers at it. */
static bool unlock_pd(struct ringo__g *g, void *arg)
{
	(void)g;
	ringo__unlock(&((struct ringo__pd *)arg)->lock);
	return true;
}

/* The slot a handle names (maybe in another life), NULL if none. */
static struct ringo__pd *lookup(const void *h, uint32_t *seq)
{
	uint64_t tag = (uint64_t)(uintptr_t)h;
	uint32_t idx = (uint32_t)(tag & ((1u << RINGO__PD_TAG_IDX_BITS) - 1));

	*seq = (uint32_t)((tag & RINGO__PD_TAG_MASK) >> RINGO__PD_TAG_SEQ_SHIFT);
	if (idx == 0 || idx >= atomic_load_explicit(&pool_nr,
						    memory_order_acquire))
		return NULL;
	return slot(idx);
}

/* Caller holds pd->lock: 0 if seq is pd's life and it is open. Reads
 * closing before seq: an OPEN written by a later life was written after
 * that life's seq (pool lock), so the seq check then fails. */
static int live(struct ringo__pd *pd, uint32_t seq)
{
	uint8_t c = atomic_load(&pd->closing);

	if (atomic_load(&pd->seq) != seq || c == CLOSED)
		return -EBADF;
	return c == CLOSING ? -ECANCELED : 0;
}

static const char *kind_name(unsigned kind)
{
	switch (kind) {
	case RINGO__PD_FILE:
		return "a ringo_file";
	case RINGO__PD_LISTENER:
		return "a ringo_listener";
	default:
		return "a ringo_conn";
	}
}

/* Lock the pd of handle h if h is its live, open life; else an error.
 * Panics, naming the call, outside a goroutine or if h is a handle of
 * another type (see pd.h). */
static int lock_live(const struct ringo__pd_call *call, const void *h,
		     struct ringo__pd **out)
{
	uint32_t seq;

	ringo__must_m(call->name);
	struct ringo__pd *pd = lookup(h, &seq);
	if (ringo__unlikely(!pd))
		return -EBADF;
	ringo__lock(&pd->lock);
	int err = live(pd, seq);
	if (ringo__unlikely(err)) {
		ringo__unlock(&pd->lock);
		return err;
	}
	if (ringo__unlikely(!(call->kinds & 1u << pd->kind))) {
		unsigned kind = pd->kind;
		ringo__unlock(&pd->lock);
		ringo__panic(call->name, "handle %p is %s", h, kind_name(kind));
	}
	*out = pd;
	return 0;
}

int ringo__pd_connect_start(struct ringo__pd *pd, const struct sockaddr *sa,
			    socklen_t salen)
{
	int err = ringo__pd_check(pd, RINGO__PD_WRITE);

	if (err)
		return err;
	if (connect(pd->fd, sa, salen) == 0)
		return 0;
	if (errno == EINPROGRESS || errno == EINTR || errno == EALREADY)
		return -EINPROGRESS;
	return -errno;
}

int ringo__pd_connect_result(struct ringo__pd *pd)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(pd->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -errno;
	switch (soerr) {
	case EINPROGRESS:
	case EALREADY:
	case EINTR:
		return -EINPROGRESS;
	case 0:
	case EISCONN: {
		/* Connected only if it has a peer: no error and no peer is
		 * a report that came before the handshake ended. */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (getpeername(pd->fd, (struct sockaddr *)&ss, &sl) == 0)
			return 0;
		return errno == ENOTCONN ? -EINPROGRESS : -errno;
	}
	default:
		return -soerr;
	}
}

int ringo__pd_fd(const struct ringo__pd_call *call, const void *h)
{
	struct ringo__pd *pd;
	int err = lock_live(call, h, &pd);

	if (err)
		return err;
	int fd = pd->fd;
	ringo__unlock(&pd->lock);
	return fd;
}

int ringo__pd_acquire(const struct ringo__pd_call *call, const void *h,
		      int mode, struct ringo__pd **out)
{
	struct ringo__pd *pd;
	int err = lock_live(call, h, &pd);

	if (err)
		return err;
	*out = pd;
	if (mode) {
		struct ringo__pd_dir *d = &pd->dir[mode - 1];
		if (d->busy) {
			/* Queue; release hands the lock (and a reference)
			 * straight to us, close fails us. */
			struct ringo__pd_waiter w = {
				.g = ringo__getg(), .next = NULL, .result = 1
			};
			if (d->tail)
				d->tail->next = &w;
			else
				d->head = &w;
			d->tail = &w;
			ringo__park(unlock_pd, pd, RINGO_WAIT_IO, pd);
			return w.result;
		}
		d->busy = true;
	}
	pd->refs++;
	ringo__unlock(&pd->lock);
	return 0;
}

void ringo__pd_release(struct ringo__pd *pd, int mode)
{
	struct ringo__g *next = NULL, *closer = NULL;

	ringo__lock(&pd->lock);
	if (mode) {
		struct ringo__pd_dir *d = &pd->dir[mode - 1];
		struct ringo__pd_waiter *w = d->head;
		if (w) {
			d->head = w->next;
			if (!d->head)
				d->tail = NULL;
			w->result = 0;
			next = w->g; /* w is dead once next runs */
			pd->refs++;
		} else {
			d->busy = false;
		}
	}
	if (--pd->refs < 0)
		ringo__throw("netpoll", "pd %u: reference count below zero",
			     pd->idx);
	if (pd->refs == 0 && pd->closer) {
		closer = pd->closer;
		pd->closer = NULL;
	}
	ringo__unlock(&pd->lock);
	if (next)
		ringo__ready(next);
	if (closer)
		ringo__ready(closer);
}

/* ---------------------------------------------------------- deadlines */

static void deadline_fire(struct ringo__timer *t, int64_t now, uint64_t seq)
{
	struct ringo__pd *pd = t->arg;
	int d = t == &pd->dir[0].timer ? 0 : 1;

	(void)now;
	ringo__lock(&pd->lock);
	/* Reset, stopped or closed since it was taken off the heap. */
	if (atomic_load(&t->seq) != seq) {
		ringo__unlock(&pd->lock);
		return;
	}
	atomic_store(&pd->dir[d].deadline, -1);
	ringo__unlock(&pd->lock);
	/* pd may be closed and reused by now: a spurious unblock is
	 * harmless, the op re-checks and goes on waiting. */
	ringo__netpoll->unblock(pd, 1 << d);
}

int ringo__pd_set_deadline(const struct ringo__pd_call *call, const void *h,
			   int dirs, int64_t when)
{
	int64_t now = when > 0 ? ringo__nanotime() : 0;
	int expired = 0;
	struct ringo__pd *pd;

	if (lock_live(call, h, &pd))
		return -EBADF;
	for (int d = 0; d < 2; d++) {
		if (!(dirs & (1 << d)))
			continue;
		struct ringo__pd_dir *dir = &pd->dir[d];
		if (when > now) {
			atomic_store(&dir->deadline, when);
			ringo__timer_start(&dir->timer, when);
			continue;
		}
		ringo__timer_stop(&dir->timer);
		atomic_store(&dir->deadline, when ? -1 : 0);
		if (when)
			expired |= 1 << d;
	}
	ringo__unlock(&pd->lock);
	if (expired)
		ringo__netpoll->unblock(pd, expired);
	return 0;
}

/* -------------------------------------------------------------- close */

int ringo__pd_close(const struct ringo__pd_call *call, const void *h)
{
	struct ringo__pd_waiter *queued[2];
	struct ringo__pd *pd;

	if (lock_live(call, h, &pd))
		return -EBADF;
	/* Seq-cst: an op that publishes itself as waiting after this sees
	 * it in ringo__pd_check; one published before, unblock finds. */
	atomic_store(&pd->closing, CLOSING);
	for (int d = 0; d < 2; d++) {
		ringo__timer_stop(&pd->dir[d].timer);
		queued[d] = pd->dir[d].head;
		pd->dir[d].head = pd->dir[d].tail = NULL;
	}
	ringo__unlock(&pd->lock);

	for (int d = 0; d < 2; d++) {
		struct ringo__pd_waiter *w = queued[d];
		while (w) {
			struct ringo__pd_waiter *next = w->next;
			struct ringo__g *g = w->g;
			w->result = -ECANCELED;
			ringo__ready(g); /* w is dead from here */
			w = next;
		}
	}
	ringo__netpoll->unblock(pd, RINGO__PD_READ | RINGO__PD_WRITE);

	ringo__lock(&pd->lock);
	if (pd->refs > 0) {
		pd->closer = ringo__getg();
		ringo__park(unlock_pd, pd, RINGO_WAIT_IO, pd);
	} else {
		ringo__unlock(&pd->lock);
	}
	int err = ringo__netpoll->close(pd);
	pd_free(pd);
	return err;
}

void ringo__pd_fini(void)
{
	uint32_t n = atomic_load(&pool_nr);

	for (uint32_t i = 1; i < n; i++) {
		struct ringo__pd *pd = slot(i);
		/* Its deadline timers left their heaps already (teardown
		 * drops pending timers first: core/timer.h). */
		if (atomic_load(&pd->closing) == CLOSED)
			continue;
		close(pd->fd);
		pd_free(pd);
	}
}
