/*
 * core/runq.c - run queues: each P's lock-free ring plus runnext, and the
 * global queue that takes their overflow.
 *
 * The local ring has one producer (the P's owner, at tail) and many
 * consumers (the owner and thieves, at head, by CAS). A full ring moves
 * half of itself plus the new G to the global queue in one locked batch,
 * so the global lock is taken once per 128 Gs at worst. Thieves take half
 * of a victim's ring in one CAS.
 *
 * Rejected: a mutex per P (every steal and every get would contend with
 * the owner) and an unbounded lock-free list (no cheap "take half").
 */
#include <stdlib.h>
#include <unistd.h>

#include "runtime.h"

/* Move half of p's ring plus g to the global queue. Returns false if the
 * ring stopped being full meanwhile (a thief took some), so the caller
 * retries the fast path. */
static bool runqputslow(struct ringo__p *p, struct ringo__g *g, uint32_t h,
			uint32_t t)
{
	struct ringo__g *batch[RINGO_RUNQ_SIZE / 2 + 1];
	uint32_t n = (t - h) / 2;

	if (n != RINGO_RUNQ_SIZE / 2)
		ringo__throw("runq", "put slow on a ring that is not full");
	for (uint32_t i = 0; i < n; i++)
		batch[i] = atomic_load_explicit(&p->runq[(h + i) % RINGO_RUNQ_SIZE],
						memory_order_relaxed);
	/* Pairs with the owner's load-acquire of head in ringo__runqput. */
	if (!atomic_compare_exchange_strong_explicit(&p->runqhead, &h, h + n,
						     memory_order_release,
						     memory_order_relaxed))
		return false;
	batch[n] = g;
	pthread_mutex_lock(&ringo__sched.lock);
	ringo__globrunqputbatch(batch, (int32_t)n + 1);
	pthread_mutex_unlock(&ringo__sched.lock);
	return true;
}

/* Spill half of the ring, or retry if a thief made room meanwhile. Out
 * of line, so the inline common path needs no saved registers. */
void ringo__runqput_full(struct ringo__p *p, struct ringo__g *g)
{
	for (;;) {
		/* Pairs with the CAS-release of head by consumers. */
		uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
		if (t - h < RINGO_RUNQ_SIZE) {
			atomic_store_explicit(&p->runq[t % RINGO_RUNQ_SIZE], g,
					      memory_order_relaxed);
			atomic_store_explicit(&p->runqtail, t + 1,
					      memory_order_release);
			return;
		}
		if (runqputslow(p, g, h, t))
			return;
	}
}

uint32_t ringo__runqfree(struct ringo__p *p)
{
	uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_relaxed);
	uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);

	return t - h >= RINGO_RUNQ_SIZE ? 0 : RINGO_RUNQ_SIZE - (t - h);
}

bool ringo__runqfull(struct ringo__p *p)
{
	return ringo__runqfree(p) == 0;
}

bool ringo__runqempty(struct ringo__p *p)
{
	/* tail, head, tail again: a consistent snapshot even while a G is
	 * being moved from runnext to the ring. */
	for (;;) {
		uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_acquire);
		uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
		struct ringo__g *next = atomic_load_explicit(&p->runnext,
							     memory_order_acquire);
		if (t == atomic_load_explicit(&p->runqtail, memory_order_acquire))
			return h == t && !next;
	}
}

/* Copy half of victim's ring into batch[] (capacity RINGO_RUNQ_SIZE/2).
 * Returns the number taken. */
static uint32_t runqgrab(struct ringo__p *victim, struct ringo__g **batch,
			 bool steal_runnext)
{
	for (;;) {
		uint32_t h = atomic_load_explicit(&victim->runqhead,
						  memory_order_acquire);
		uint32_t t = atomic_load_explicit(&victim->runqtail,
						  memory_order_acquire);
		uint32_t n = t - h;
		n -= n / 2;
		if (n == 0) {
			if (!steal_runnext)
				return 0;
			struct ringo__g *next = atomic_load_explicit(
				&victim->runnext, memory_order_relaxed);
			if (!next)
				return 0;
			/* A running victim is most likely about to switch to
			 * its runnext (a channel hand-off takes ~100 ns):
			 * stealing it now would split a ping-pong pair across
			 * Ps. Back off a few microseconds first, as Go does. */
			if (victim->status == RINGO_P_RUNNING) {
				usleep(3);
				next = atomic_load_explicit(&victim->runnext,
							    memory_order_relaxed);
				if (!next)
					return 0;
			}
			if (!atomic_compare_exchange_strong_explicit(
				    &victim->runnext, &next, NULL,
				    memory_order_acquire, memory_order_relaxed))
				continue;
			batch[0] = next;
			return 1;
		}
		if (n > RINGO_RUNQ_SIZE / 2)
			continue; /* h and t were read inconsistently */
		for (uint32_t i = 0; i < n; i++)
			batch[i] = atomic_load_explicit(
				&victim->runq[(h + i) % RINGO_RUNQ_SIZE],
				memory_order_relaxed);
		if (atomic_compare_exchange_strong_explicit(
			    &victim->runqhead, &h, h + n, memory_order_release,
			    memory_order_relaxed))
			return n;
	}
}

struct ringo__g *ringo__runqsteal(struct ringo__p *p, struct ringo__p *victim,
				  bool steal_runnext)
{
	struct ringo__g *batch[RINGO_RUNQ_SIZE / 2];
	uint32_t n = runqgrab(victim, batch, steal_runnext);

	if (n == 0)
		return NULL;
	/* The thief's own ring is empty (it looked before stealing) and only
	 * its owner - this thread - adds to it, so n - 1 Gs always fit. */
	uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
	for (uint32_t i = 1; i < n; i++)
		atomic_store_explicit(&p->runq[(t + i - 1) % RINGO_RUNQ_SIZE],
				      batch[i], memory_order_relaxed);
	if (n > 1)
		atomic_store_explicit(&p->runqtail, t + n - 1, memory_order_release);
	return batch[0];
}

void ringo__globrunqput(struct ringo__g *g)
{
	ringo__globrunqputbatch(&g, 1);
}

/* Caller holds sched.lock. */
static void globrunq_grow(uint32_t need)
{
	uint32_t size = (uint32_t)atomic_load_explicit(&ringo__sched.runqsize,
						       memory_order_relaxed);
	uint32_t cap = ringo__sched.runq_cap ? ringo__sched.runq_cap : 256;

	while (cap < size + need)
		cap *= 2;
	if (cap == ringo__sched.runq_cap)
		return;
	struct ringo__g **q = malloc(cap * sizeof(*q));
	if (!q)
		ringo__throw("runq", "out of memory growing the global queue");
	for (uint32_t i = 0; i < size; i++)
		q[i] = ringo__sched.runq[(ringo__sched.runq_head + i) &
					 (ringo__sched.runq_cap - 1)];
	free(ringo__sched.runq);
	ringo__sched.runq = q;
	ringo__sched.runq_head = 0;
	ringo__sched.runq_cap = cap;
}

void ringo__globrunqputbatch(struct ringo__g *const *gs, int32_t n)
{
	uint32_t size = (uint32_t)atomic_load_explicit(&ringo__sched.runqsize,
						       memory_order_relaxed);

	if (size + (uint32_t)n > ringo__sched.runq_cap)
		globrunq_grow((uint32_t)n);
	uint32_t mask = ringo__sched.runq_cap - 1;
	for (int32_t i = 0; i < n; i++)
		ringo__sched.runq[(ringo__sched.runq_head + size + (uint32_t)i) &
				  mask] = gs[i];
	atomic_fetch_add_explicit(&ringo__sched.runqsize, n,
				  memory_order_relaxed);
}

/* Take a fair share of the global queue: one G to run and up to half of
 * the local ring's worth more into p's ring. max = 0 means no extra cap. */
struct ringo__g *ringo__globrunqget(struct ringo__p *p, int max)
{
	int32_t size = atomic_load_explicit(&ringo__sched.runqsize,
					    memory_order_relaxed);
	if (size == 0)
		return NULL;
	int32_t n = size / ringo__sched.nprocs + 1;
	if (n > size)
		n = size;
	if (max > 0 && n > max)
		n = max;
	if (n > RINGO_RUNQ_SIZE / 2)
		n = RINGO_RUNQ_SIZE / 2;
	atomic_fetch_sub_explicit(&ringo__sched.runqsize, n,
				  memory_order_relaxed);
	uint32_t mask = ringo__sched.runq_cap - 1;
	struct ringo__g *g = ringo__sched.runq[ringo__sched.runq_head];
	for (int32_t i = 1; i < n; i++)
		ringo__runqput(p, ringo__sched.runq[(ringo__sched.runq_head +
						     (uint32_t)i) & mask],
			       false);
	ringo__sched.runq_head = (ringo__sched.runq_head + (uint32_t)n) & mask;
	return g;
}

void ringo__globrunq_free(void)
{
	free(ringo__sched.runq);
	ringo__sched.runq = NULL;
	ringo__sched.runq_head = ringo__sched.runq_cap = 0;
	atomic_store(&ringo__sched.runqsize, 0);
}
