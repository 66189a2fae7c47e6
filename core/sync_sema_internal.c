/*
 * core/sync_sema_internal.c - the semaphore that mutex, rwmutex and wait
 * group park on: Go's runtime/sema.go in C.
 *
 * The count is a uint32_t inside the primitive; the waiters live in one of
 * SEMTAB_SIZE buckets ("roots") chosen by hashing the count's address, so
 * a primitive costs no memory for its queue and needs no destructor. A
 * waiter is a struct on the parked goroutine's own stack, valid exactly
 * while it is parked. Within a root each address has its own FIFO queue:
 * the first waiter of an address is on the root's list of addresses and
 * holds the queue's tail.
 *
 * The no-waiter fast path of release is one atomic add and one load: the
 * root counts its waiters (nwait) and release looks at the lock only when
 * that count is non-zero. acquire increments nwait before its last try at
 * the count, release adds to the count before reading nwait; both are
 * sequentially consistent, so at least one of them sees the other.
 *
 * Rejected: Go's treap of addresses per root. A root sees only the
 * addresses that hash to it *and* have waiters right now, which is a
 * handful even with thousands of contended locks, so a linked list is
 * shorter to read and as fast. A wait queue inside each primitive (as
 * channels have) would need a lock word there too and grow every mutex.
 */
#include <stdint.h>

#include <ringo/sched.h>

#include "lock.h"
#include "runtime.h"
#include "sync_internal.h"

#define SEMTAB_SIZE 251 /* prime, as Go's */
/* Waiters semrelease_n dequeues per hold of a root's lock, so that
 * releasing 100,000 waiters does not keep other Ms spinning on it. */
#define RELEASE_BATCH 64

/* A parked acquirer, on its own stack. */
struct semwaiter {
	struct ringo__g *g;
	_Atomic uint32_t *addr;
	struct semwaiter *next;    /* next waiter for the same address */
	/* Valid in the first waiter of an address only: */
	struct semwaiter *tail;    /* last waiter for the address */
	struct semwaiter *hnext;   /* the root's next address */
	struct semwaiter *hprev;
	/* Set by the releaser to 1 when it handed its unit over: the waiter
	 * owns it without touching the count. Written after the waiter was
	 * dequeued and before it is readied, read after it resumes. */
	bool ticket;
};

/* lock protects heads and every queue hanging off it. nwait is read
 * without it by release's fast path: it counts the waiters queued or
 * about to be (incremented before the last try, under lock). */
struct semroot {
	struct ringo__lock lock;
	_Atomic uint32_t nwait;
	struct semwaiter *heads;
} __attribute__((aligned(64)));

static struct semroot semtab[SEMTAB_SIZE];

static struct semroot *root_for(_Atomic uint32_t *addr)
{
	return &semtab[((uintptr_t)addr >> 3) % SEMTAB_SIZE];
}

/* Take one unit if the count is non-zero. */
static bool can_acquire(_Atomic uint32_t *addr)
{
	uint32_t v = atomic_load(addr);

	while (v != 0)
		if (atomic_compare_exchange_weak(addr, &v, v - 1))
			return true;
	return false;
}

/* ---------------------------------------------------------- queues */

static struct semwaiter *find_head(struct semroot *r, _Atomic uint32_t *addr)
{
	struct semwaiter *h;

	for (h = r->heads; h; h = h->hnext)
		if (h->addr == addr)
			return h;
	return NULL;
}

/* Replace head h by s in the root's address list. */
static void replace_head(struct semroot *r, struct semwaiter *h,
			 struct semwaiter *s)
{
	s->hnext = h->hnext;
	s->hprev = h->hprev;
	if (s->hnext)
		s->hnext->hprev = s;
	if (s->hprev)
		s->hprev->hnext = s;
	else
		r->heads = s;
}

/* Caller holds r->lock. */
static void enqueue(struct semroot *r, struct semwaiter *s, bool lifo)
{
	struct semwaiter *h = find_head(r, s->addr);

	s->next = NULL;
	if (!h) {
		s->tail = s;
		s->hprev = NULL;
		s->hnext = r->heads;
		if (r->heads)
			r->heads->hprev = s;
		r->heads = s;
		return;
	}
	if (lifo) {
		s->next = h;
		s->tail = h->tail;
		replace_head(r, h, s);
		return;
	}
	h->tail->next = s;
	h->tail = s;
}

/* First waiter for addr, removed; NULL if none. Caller holds r->lock. */
static struct semwaiter *dequeue(struct semroot *r, _Atomic uint32_t *addr)
{
	struct semwaiter *h = find_head(r, addr);

	if (!h)
		return NULL;
	struct semwaiter *n = h->next;
	if (n) {
		n->tail = h->tail;
		replace_head(r, h, n);
	} else {
		if (h->hnext)
			h->hnext->hprev = h->hprev;
		if (h->hprev)
			h->hprev->hnext = h->hnext;
		else
			r->heads = h->hnext;
	}
	h->next = h->tail = h->hnext = h->hprev = NULL;
	return h;
}

/* ------------------------------------------------- acquire / release */

static bool unlock_root(struct ringo__g *g, void *arg)
{
	(void)g;
	ringo__unlock(&((struct semroot *)arg)->lock);
	return true;
}

void ringo__semacquire(_Atomic uint32_t *addr, bool lifo,
		       enum ringo__wait_reason reason, void *obj,
		       const char *call)
{
	if (can_acquire(addr))
		return;
	struct ringo__g *g = ringo__must_park(call);
	struct semroot *r = root_for(addr);
	struct semwaiter s = { .g = g, .addr = addr };
	for (;;) {
		ringo__lock(&r->lock);
		/* Count ourselves before the last look at the count: pairs
		 * with release's add-then-load of nwait. */
		atomic_fetch_add(&r->nwait, 1);
		if (can_acquire(addr)) {
			atomic_fetch_sub(&r->nwait, 1);
			ringo__unlock(&r->lock);
			return;
		}
		s.ticket = false;
		enqueue(r, &s, lifo);
		ringo__park(unlock_root, r, reason, obj);
		if (s.ticket || can_acquire(addr))
			return;
	}
}

void ringo__semrelease(_Atomic uint32_t *addr, bool handoff)
{
	struct semroot *r = root_for(addr);

	atomic_fetch_add(addr, 1);
	/* Seq-cst load after the seq-cst add: pairs with acquire's
	 * increment of nwait before its last can_acquire. */
	if (atomic_load(&r->nwait) == 0)
		return;
	ringo__lock(&r->lock);
	if (atomic_load(&r->nwait) == 0) {
		ringo__unlock(&r->lock);
		return;
	}
	struct semwaiter *s = dequeue(r, addr);
	if (s)
		atomic_fetch_sub(&r->nwait, 1);
	ringo__unlock(&r->lock);
	if (!s)
		return;
	/* s is ours now: nobody else can dequeue it, and its goroutine
	 * stays parked (so its stack frame stays) until we ready it. */
	if (handoff && can_acquire(addr))
		s->ticket = true;
	bool yield = s->ticket;
	ringo__ready(s->g);
	if (yield && ringo__getg())
		ringo_yield();
}

void ringo__semrelease_n(_Atomic uint32_t *addr, uint32_t n)
{
	struct semroot *r = root_for(addr);

	if (n == 0)
		return;
	/* After this add a waiter that has not parked yet may take a unit
	 * and return, and the primitive may then be gone: from here on addr
	 * is only compared, never dereferenced. */
	atomic_fetch_add(addr, n);
	/* Pairs with acquire's increment of nwait, as in semrelease. */
	while (n && atomic_load(&r->nwait) != 0) {
		struct semwaiter *batch[RELEASE_BATCH];
		uint32_t k = 0;
		ringo__lock(&r->lock);
		while (k < n && k < RELEASE_BATCH &&
		       (batch[k] = dequeue(r, addr)))
			k++;
		atomic_fetch_sub(&r->nwait, k);
		ringo__unlock(&r->lock);
		if (k == 0)
			return; /* the rest have not parked: they will not */
		n -= k;
		/* In queue order: the first runs next on this P. */
		ringo__ready(batch[0]->g);
		for (uint32_t i = 1; i < k; i++)
			ringo__ready_tail(batch[i]->g);
	}
}

void ringo__sema_teardown(void)
{
	for (int i = 0; i < SEMTAB_SIZE; i++) {
		semtab[i].heads = NULL;
		atomic_store_explicit(&semtab[i].nwait, 0, memory_order_relaxed);
	}
}
