/*
 * io/uring_recv.c - multishot receive with a provided-buffer ring, for
 * stream sockets in the io_uring backend.
 *
 * A connection's first recv arms one IORING_OP_RECV with
 * IORING_RECV_MULTISHOT and IOSQE_BUFFER_SELECT: from then on the kernel
 * receives into buffers it takes from a ring that all connections share,
 * and posts a CQE per chunk without being asked again. The reaper (under
 * cq_lock) queues each chunk on the connection's `struct msr` and readies
 * the goroutine waiting in recv, which copies out of the queue and gives
 * fully read buffers back to the ring. So a steady stream costs no SQE
 * per receive.
 *
 * Ends of a multishot request (a CQE without IORING_CQE_F_MORE): end of
 * stream (res 0), an error (reported once), our cancel, or -ENOBUFS when
 * the ring had no buffer. ENOBUFS loses nothing - the data stays in the
 * socket - and the next recv reads it with a plain single-shot request
 * into the caller's buffer, then re-arms. A connection may hold at most
 * MSR_QUEUE_CAP unread buffers: when it gets there (a slow reader) its
 * request is cancelled, so it cannot take every buffer from the others
 * or read far past the socket's own buffer; the next recv re-arms.
 *
 * `struct msr`s come from a pool freed only by fini (type-stable): a late
 * unblock() for a closed descriptor may still touch one, which at worst
 * wakes a reader that then re-checks and goes on waiting.
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/lock.h"
#include "netpoll.h"
#include "pd.h"
#include "uring_ring.h"

#define BGID 7
#define BUF_SIZE 4096u
#define NBUF_DEFAULT 1024u
#define MSR_QUEUE_CAP 8u

/* A received chunk not yet read: buffer id, bytes in it, bytes read. */
struct chunk {
	uint16_t bid;
	uint32_t len, off;
};

struct msr {
	/* Protects everything below except the pool links. */
	struct ringo__lock lock;
	int fd;
	/* The multishot request while armed (its slot's done hook is
	 * ms_done), else NULL. */
	struct ringo__uslot *slot;
	bool cancel_sent;  /* this request was asked to stop */
	bool starved;      /* it ended with -ENOBUFS */
	bool eof;          /* it ended with end of stream */
	int err;           /* it ended with this error; reported once */
	struct ringo__g *reader; /* parked in recv */
	struct ringo__g *closer; /* parked in close, until the request ends */
	struct chunk *q;   /* ring of chunks: qhead, qlen of qcap */
	uint32_t qhead, qlen, qcap;
	/* Pool links, under pool_lock. */
	struct msr *next_free, *all_next;
};

static struct ringo__lock pool_lock = RINGO__LOCK_INIT;
static struct msr *pool_free, *pool_all;

/* The buffer ring and its buffers; buf_lock serialises returns. */
static struct ringo__lock buf_lock = RINGO__LOCK_INIT;
static struct io_uring_buf_ring *br;
static size_t br_bytes;
static char *bufs;
static size_t bufs_bytes;
static unsigned nbuf;

bool ringo__uring_ms_on;
static _Atomic uint64_t enobufs_nr, capped_nr;

/* ------------------------------------------------------ buffer ring */

static void buf_give_locked(uint16_t bid, int off)
{
	io_uring_buf_ring_add(br, bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, bid,
			      io_uring_buf_ring_mask(nbuf), off);
}

static void bufs_give(const uint16_t *bids, int n)
{
	if (!n)
		return;
	ringo__lock(&buf_lock);
	for (int i = 0; i < n; i++)
		buf_give_locked(bids[i], i);
	io_uring_buf_ring_advance(br, n);
	ringo__unlock(&buf_lock);
}

int ringo__uring_ms_init(struct io_uring *ring)
{
	const char *env = getenv("RINGO_URING_MSRECV");

	ringo__uring_ms_on = false;
	if (!env || strcmp(env, "1") != 0)
		return 0; /* off by default: see docs/io.md, Measurements */
	const char *nenv = getenv("RINGO_URING_BUFS");
	nbuf = NBUF_DEFAULT;
	if (nenv && *nenv) {
		unsigned long v = strtoul(nenv, NULL, 10);
		/* A power of two from 1 to 32768 (buffer ids are 16 bits). */
		if (v < 1 || v > 32768 || (v & (v - 1)))
			ringo__panic("ringo_run", "RINGO_URING_BUFS=%s: want a "
				     "power of two from 1 to 32768", nenv);
		nbuf = (unsigned)v;
	}
	br_bytes = (nbuf * sizeof(struct io_uring_buf) + 4095) & ~(size_t)4095;
	bufs_bytes = (size_t)nbuf * BUF_SIZE;
	br = mmap(NULL, br_bytes, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (br == MAP_FAILED)
		goto err;
	bufs = mmap(NULL, bufs_bytes, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bufs == MAP_FAILED)
		goto err_br;
	io_uring_buf_ring_init(br);
	struct io_uring_buf_reg reg = {
		.ring_addr = (uint64_t)(uintptr_t)br,
		.ring_entries = nbuf,
		.bgid = BGID,
	};
	if (io_uring_register_buf_ring(ring, &reg, 0) < 0)
		goto err_bufs; /* old kernel: single-shot receives only */
	for (unsigned i = 0; i < nbuf; i++)
		buf_give_locked((uint16_t)i, (int)i);
	io_uring_buf_ring_advance(br, (int)nbuf);
	atomic_store(&enobufs_nr, 0);
	atomic_store(&capped_nr, 0);
	ringo__uring_ms_on = true;
	return 0;
err_bufs:
	munmap(bufs, bufs_bytes);
err_br:
	munmap(br, br_bytes);
err:
	br = NULL;
	bufs = NULL;
	return 0;
}

/* After the ring is gone: no request can reach a buffer or an msr. */
void ringo__uring_ms_fini(void)
{
	struct msr *m = pool_all;

	while (m) {
		struct msr *next = m->all_next;
		free(m->q);
		free(m);
		m = next;
	}
	pool_all = pool_free = NULL;
	if (br) {
		munmap(bufs, bufs_bytes);
		munmap(br, br_bytes);
		br = NULL;
		bufs = NULL;
	}
	ringo__uring_ms_on = false;
}

void ringo__uring_ms_counts(uint64_t *enobufs, uint64_t *capped)
{
	*enobufs = atomic_load(&enobufs_nr);
	*capped = atomic_load(&capped_nr);
}

/* ------------------------------------------------------------ pool */

static struct msr *msr_of(struct ringo__pd *pd)
{
	return (struct msr *)(uintptr_t)__atomic_load_n(&pd->be.uring.spare[0],
							__ATOMIC_ACQUIRE);
}

static struct msr *msr_get(struct ringo__pd *pd)
{
	struct msr *m = msr_of(pd);

	if (m)
		return m;
	ringo__lock(&pool_lock);
	m = pool_free;
	if (m) {
		pool_free = m->next_free;
	} else if ((m = calloc(1, sizeof(*m)))) {
		m->all_next = pool_all;
		pool_all = m;
	}
	ringo__unlock(&pool_lock);
	if (!m)
		return NULL;
	ringo__lock(&m->lock);
	m->fd = pd->fd;
	m->slot = NULL;
	m->cancel_sent = m->starved = m->eof = false;
	m->err = 0;
	m->reader = m->closer = NULL;
	m->qhead = m->qlen = 0;
	ringo__unlock(&m->lock);
	/* Release pairs with the acquire in msr_of (unblock). */
	__atomic_store_n(&pd->be.uring.spare[0], (uint64_t)(uintptr_t)m,
			 __ATOMIC_RELEASE);
	return m;
}

static void msr_put(struct ringo__pd *pd, struct msr *m)
{
	__atomic_store_n(&pd->be.uring.spare[0], 0, __ATOMIC_RELEASE);
	ringo__lock(&pool_lock);
	m->next_free = pool_free;
	pool_free = m;
	ringo__unlock(&pool_lock);
}

/* ------------------------------------------------------ completions */

static bool q_push(struct msr *m, uint16_t bid, uint32_t len)
{
	if (m->qlen == m->qcap) {
		uint32_t cap = m->qcap ? 2 * m->qcap : 16;
		struct chunk *q = malloc(cap * sizeof(*q));
		if (!q)
			return false;
		for (uint32_t i = 0; i < m->qlen; i++)
			q[i] = m->q[(m->qhead + i) % m->qcap];
		free(m->q);
		m->q = q;
		m->qcap = cap;
		m->qhead = 0;
	}
	m->q[(m->qhead + m->qlen) % m->qcap] = (struct chunk){ bid, len, 0 };
	m->qlen++;
	return true;
}

static void wake(struct ringo__g **gp, struct ringo__glist *ready)
{
	struct ringo__g *g = *gp;

	if (!g)
		return;
	*gp = NULL;
	atomic_fetch_sub(&ringo__netpoll_waiters_nr, 1);
	ringo__glist_push(ready, g);
}

/* The reaper's hook for every CQE of a multishot request (cq_lock held). */
static void ms_done(struct ringo__uslot *s, struct ringo__glist *ready)
{
	struct msr *m = s->done_arg;
	int res = s->res;
	uint32_t fl = s->cflags;
	bool more = fl & IORING_CQE_F_MORE;
	uint64_t cancel = 0;

	ringo__lock(&m->lock);
	if (m->slot != s)
		ringo__throw("netpoll", "uring: multishot CQE for slot %u, "
			     "armed %d", s->idx, m->slot ? (int)m->slot->idx : -1);
	if (res > 0) {
		if (!(fl & IORING_CQE_F_BUFFER))
			ringo__throw("netpoll", "uring: multishot recv of %d "
				     "bytes without a buffer", res);
		if (!q_push(m, (uint16_t)(fl >> IORING_CQE_BUFFER_SHIFT),
			    (uint32_t)res))
			ringo__throw("netpoll", "uring: out of memory queueing "
				     "received data");
		if (more && m->qlen >= MSR_QUEUE_CAP && !m->cancel_sent) {
			m->cancel_sent = true;
			cancel = ringo__uslot_ud(s, RINGO__UD_OP);
			atomic_fetch_add_explicit(&capped_nr, 1,
						  memory_order_relaxed);
		}
	} else if (res == 0) {
		m->eof = true;
	} else if (res == -ENOBUFS) {
		m->starved = true;
		atomic_fetch_add_explicit(&enobufs_nr, 1, memory_order_relaxed);
	} else if (res != -ECANCELED) {
		m->err = res;
	}
	wake(&m->reader, ready);
	if (!more) {
		m->slot = NULL;
		m->cancel_sent = false;
		wake(&m->closer, ready);
	}
	ringo__unlock(&m->lock);
	if (cancel)
		ringo__uring_cancel(cancel);
	if (!more) {
		atomic_store_explicit(&s->state, RINGO__USLOT_DONE,
				      memory_order_release);
		ringo__uslot_put(s);
	}
}

/* Arm the multishot request; m->lock held. false: no slot or SQE. */
static bool arm_locked(struct msr *m)
{
	struct ringo__uslot *s = ringo__uslot_get();

	if (!s)
		return false;
	s->done = ms_done;
	s->done_arg = m;
	struct ringo__uring *u = &ringo__urings[s->ring];
	ringo__lock(&u->sq_lock);
	struct io_uring_sqe *sqe = ringo__uring_sqe_locked(u);
	if (!sqe) {
		ringo__unlock(&u->sq_lock);
		ringo__uslot_put(s);
		return false;
	}
	io_uring_prep_recv_multishot(sqe, m->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, ringo__uslot_ud(s, RINGO__UD_OP));
	m->slot = s;
	ringo__uslot_armed(s);
	ringo__uring_unlock_submit(u);
	return true;
}

/* ------------------------------------------------------------- ops */

static bool unlock_msr(struct ringo__g *g, void *arg)
{
	(void)g;
	ringo__unlock(&((struct msr *)arg)->lock);
	return true;
}

/* Copy queued chunks into buf; m->lock held. Collects the ids of the
 * buffers now fully read into bids (at most MSR_QUEUE_CAP + the chunks
 * that arrived after a cancel: bounded by the caller's array). */
static size_t copy_out(struct msr *m, char *buf, size_t len, uint16_t *bids,
		       int *nbids, int maxbids)
{
	size_t done = 0;

	while (m->qlen && done < len && *nbids < maxbids) {
		struct chunk *c = &m->q[m->qhead];
		size_t n = c->len - c->off;
		if (n > len - done)
			n = len - done;
		memcpy(buf + done, bufs + (size_t)c->bid * BUF_SIZE + c->off, n);
		done += n;
		c->off += (uint32_t)n;
		if (c->off == c->len) {
			bids[(*nbids)++] = c->bid;
			m->qhead = (m->qhead + 1) % m->qcap;
			m->qlen--;
		}
	}
	return done;
}

ssize_t ringo__uring_ms_recv(struct ringo__pd *pd, void *buf, size_t len)
{
	struct msr *m = msr_get(pd);
	uint16_t bids[64];
	int nbids = 0;

	if (!m)
		return RINGO__MS_FALLBACK;
	if (len == 0)
		return 0;
	for (;;) {
		int err = ringo__pd_check(pd, RINGO__PD_READ);
		if (err)
			return err;
		ringo__lock(&m->lock);
		if (m->qlen) {
			size_t n = copy_out(m, buf, len, bids, &nbids, 64);
			ringo__unlock(&m->lock);
			bufs_give(bids, nbids);
			return (ssize_t)n;
		}
		if (m->err) {
			err = m->err;
			m->err = 0;
			ringo__unlock(&m->lock);
			return err;
		}
		if (m->eof) {
			ringo__unlock(&m->lock);
			return 0;
		}
		if (!m->slot && m->starved) {
			/* The data is still in the socket: read it the plain
			 * way this once, re-arm on the next call. */
			m->starved = false;
			ringo__unlock(&m->lock);
			return RINGO__MS_FALLBACK;
		}
		if (!m->slot && !arm_locked(m)) {
			ringo__unlock(&m->lock);
			return RINGO__MS_FALLBACK;
		}
		/* Under m->lock, which unblock takes: either it finds the
		 * reader or this check sees what it was called for. */
		if (ringo__pd_check(pd, RINGO__PD_READ)) {
			ringo__unlock(&m->lock);
			continue;
		}
		m->reader = ringo__getg();
		atomic_fetch_add(&ringo__netpoll_waiters_nr, 1);
		ringo__park(unlock_msr, m, RINGO_WAIT_IO, pd);
	}
}

void ringo__uring_ms_unblock(struct ringo__pd *pd)
{
	struct msr *m = msr_of(pd);

	if (!m)
		return;
	ringo__lock(&m->lock);
	struct ringo__g *g = m->reader;
	m->reader = NULL;
	ringo__unlock(&m->lock);
	if (g) {
		atomic_fetch_sub(&ringo__netpoll_waiters_nr, 1);
		ringo__ready(g);
	}
}

/* Before pd->fd is closed (no op is in progress): stop the request, wait
 * for its last CQE, give its buffers back. */
void ringo__uring_ms_close(struct ringo__pd *pd)
{
	struct msr *m = msr_of(pd);
	uint16_t bids[64];

	if (!m)
		return;
	ringo__lock(&m->lock);
	while (m->slot) {
		uint64_t cancel = 0;
		if (!m->cancel_sent) {
			m->cancel_sent = true;
			cancel = ringo__uslot_ud(m->slot, RINGO__UD_OP);
		}
		m->closer = ringo__getg();
		atomic_fetch_add(&ringo__netpoll_waiters_nr, 1);
		if (cancel) {
			/* Submitted under m->lock: the request cannot end (and
			 * ms_done cannot run) before the closer is recorded. */
			ringo__uring_cancel(cancel);
		}
		ringo__park(unlock_msr, m, RINGO_WAIT_IO, pd);
		ringo__lock(&m->lock);
	}
	while (m->qlen) {
		int n = 0;
		while (m->qlen && n < 64) {
			bids[n++] = m->q[m->qhead].bid;
			m->qhead = (m->qhead + 1) % m->qcap;
			m->qlen--;
		}
		bufs_give(bids, n);
	}
	ringo__unlock(&m->lock);
	msr_put(pd, m);
}
