/*
 * alloc/gpool.c - per-P and global free lists of dead Gs.
 *
 * A dead G keeps its stack (the G lives on it), so reusing a G reuses its
 * stack and spawn rarely touches jemalloc. Only default-size Gs are kept.
 * Each P keeps up to RINGO_GFREE_LOCAL without locks; beyond that, half
 * moves to the global list, which takes every G it is given: an exiting
 * goroutine never pays for returning memory. That used to be paid at the
 * exit of every goroutine beyond a 16,384 cap, a system call per 32 and a
 * TLB shootdown per call, in the middle of a burst of wake-ups (100,000
 * sleepers woken at once took 48 ms past their 100 ms instead of Go's 7;
 * docs/design.md).
 *
 * So that a burst of a million goroutines does not pin a million stacks
 * after it ends, sysmon runs a scavenger (as Go's GC frees the stacks of
 * dead Gs): every SCAVENGE_WINDOW_NS it counts the Gs that lay on the
 * global list for the whole window unused (its low-water mark) and frees
 * that many, down to SCAVENGE_KEEP, at most SCAVENGE_TICK_NS of work per
 * tick, back to their slabs (alloc/slab.c), which return the memory to
 * the kernel. ringo_free_os_memory() frees the whole list at once.
 *
 * Every G with a stack is on the allg list (for dumps and teardown); it is
 * linked when its stack is allocated and unlinked just before it is freed,
 * both under sched.allg_lock, which only those two slow paths take.
 */
#include "gpool.h"

#include <stdlib.h>
#include <string.h>

#include "../core/switch.h"
#include "slab.h"
#include "stack.h"

#define SCAVENGE_KEEP 16384
#define SCAVENGE_WINDOW_NS 100000000 /* 100 ms */
/* sysmon's time for freeing per tick: its other duties (preemption,
 * retaking Ps from system calls) wait meanwhile. A G takes 1-2.5 us to
 * free here, so ~250 per tick, a million in about 40 s at idle ticks. */
#define SCAVENGE_TICK_NS 500000
#define SCAVENGE_BATCH 64            /* Gs freed per hold of gfree_lock */
#define GFREE_MIN_CAP 1024

/* The smallest gfree_nr since the current window began: that many Gs on
 * the global list lay unused all along. Under gfree_lock. */
static int32_t gfree_low;
/* sysmon's own: when the next window ends, and how many Gs the last one
 * found unused that are still to be freed. */
static int64_t scavenge_next;
static int64_t scavenge_debt;

/* The global list now holds nr Gs, fewer than before. Caller holds
 * gfree_lock. */
static void global_shrunk_to(int32_t nr)
{
	atomic_store_explicit(&ringo__sched.gfree_nr, nr, memory_order_relaxed);
	if (nr < gfree_low)
		gfree_low = nr;
}

static void allg_add(struct ringo__g *g)
{
	pthread_mutex_lock(&ringo__sched.allg_lock);
	g->allprev = NULL;
	g->allnext = ringo__sched.allg;
	if (g->allnext)
		g->allnext->allprev = g;
	ringo__sched.allg = g;
	pthread_mutex_unlock(&ringo__sched.allg_lock);
}

static void allg_remove(struct ringo__g *g)
{
	if (g->allprev)
		g->allprev->allnext = g->allnext;
	else
		ringo__sched.allg = g->allnext;
	if (g->allnext)
		g->allnext->allprev = g->allprev;
}

/* The Gs are dead and on no free list. */
static void free_gs(struct ringo__g **gs, int n)
{
	pthread_mutex_lock(&ringo__sched.allg_lock);
	for (int i = 0; i < n; i++)
		allg_remove(gs[i]);
	pthread_mutex_unlock(&ringo__sched.allg_lock);
	for (int i = 0; i < n; i++)
		ringo__switch_release_g(gs[i]);
	ringo__stack_free_gs(gs, n);
}

struct ringo__g *ringo__gfree_get(struct ringo__p *p, size_t size)
{
	if (size == ringo__sched.stack_size) {
		if (!p->gfree_nr && atomic_load_explicit(&ringo__sched.gfree_nr,
							 memory_order_relaxed)) {
			pthread_mutex_lock(&ringo__sched.gfree_lock);
			int32_t n = ringo__sched.gfree_nr;
			if (n > RINGO_GFREE_LOCAL / 2)
				n = RINGO_GFREE_LOCAL / 2;
			int32_t left = ringo__sched.gfree_nr - n;
			memcpy(p->gfree, ringo__sched.gfree + left,
			       (size_t)n * sizeof(*p->gfree));
			global_shrunk_to(left);
			pthread_mutex_unlock(&ringo__sched.gfree_lock);
			p->gfree_nr = n;
		}
		if (p->gfree_nr)
			return p->gfree[--p->gfree_nr];
	}
	struct ringo__g *g = ringo__stack_alloc_g(p, size);
	if (g)
		allg_add(g);
	return g;
}

/* Caller holds gfree_lock. Returns false if the global stack cannot
 * grow: the caller frees the G instead. */
static bool global_push(struct ringo__g *g)
{
	int32_t n = ringo__sched.gfree_nr;

	if (n == ringo__sched.gfree_cap) {
		int32_t cap = n ? 2 * n : GFREE_MIN_CAP;
		struct ringo__g **a = realloc(ringo__sched.gfree,
					      (size_t)cap * sizeof(*a));
		if (!a)
			return false;
		ringo__sched.gfree = a;
		ringo__sched.gfree_cap = cap;
	}
	ringo__sched.gfree[n] = g;
	atomic_store_explicit(&ringo__sched.gfree_nr, n + 1,
			      memory_order_relaxed);
	return true;
}

void ringo__gfree_put(struct ringo__p *p, struct ringo__g *g)
{
	if (g->stack_block_size !=
	    ringo__stack_block_size(ringo__sched.stack_size)) {
		free_gs(&g, 1);
		return;
	}
	atomic_store_explicit(&g->status, RINGO_G_IDLE, memory_order_relaxed);
	/* Sanitizer state is per live goroutine (TSan allows only 8128
	 * fibers); a reused G gets fresh state in ringo__switch_prepare_g. */
	ringo__switch_release_g(g);
	if (p->gfree_nr < RINGO_GFREE_LOCAL) {
		p->gfree[p->gfree_nr++] = g;
		return;
	}
	/* Full: move the older half to the global stack (free what it has
	 * no room for), keep g. */
	struct ringo__g *spill[RINGO_GFREE_LOCAL / 2];
	int nspill = 0;
	pthread_mutex_lock(&ringo__sched.gfree_lock);
	for (int i = 0; i < RINGO_GFREE_LOCAL / 2; i++)
		if (!global_push(p->gfree[i]))
			spill[nspill++] = p->gfree[i];
	pthread_mutex_unlock(&ringo__sched.gfree_lock);
	memmove(p->gfree, p->gfree + RINGO_GFREE_LOCAL / 2,
		(RINGO_GFREE_LOCAL / 2) * sizeof(*p->gfree));
	p->gfree_nr = RINGO_GFREE_LOCAL / 2;
	p->gfree[p->gfree_nr++] = g;
	if (nspill)
		free_gs(spill, nspill);
}

/* Free up to n Gs from the global list, never leaving fewer than keep,
 * SCAVENGE_BATCH per hold of the lock (spawners wait at most that long),
 * until `until` (ns; 0: no limit) passes. Which Gs go does not matter:
 * the count is what lay unused. Returns how many it freed. */
static int64_t global_release(int64_t n, int32_t keep, int64_t until)
{
	struct ringo__g *batch[SCAVENGE_BATCH];
	int64_t freed = 0;

	while (freed < n && (!until || ringo__nanotime() < until)) {
		pthread_mutex_lock(&ringo__sched.gfree_lock);
		int32_t nr = ringo__sched.gfree_nr;
		int64_t k = nr - keep;
		if (k > n - freed)
			k = n - freed;
		if (k > SCAVENGE_BATCH)
			k = SCAVENGE_BATCH;
		if (k <= 0) {
			pthread_mutex_unlock(&ringo__sched.gfree_lock);
			break;
		}
		nr -= (int32_t)k;
		memcpy(batch, ringo__sched.gfree + nr, (size_t)k * sizeof(*batch));
		global_shrunk_to(nr);
		/* A million-G burst left an 8 MB array: halve it as it
		 * empties. */
		int32_t cap = ringo__sched.gfree_cap;
		if (cap > GFREE_MIN_CAP && nr < cap / 4) {
			struct ringo__g **a = realloc(ringo__sched.gfree,
						      (size_t)(cap / 2) *
							      sizeof(*a));
			if (a) {
				ringo__sched.gfree = a;
				ringo__sched.gfree_cap = cap / 2;
			}
		}
		pthread_mutex_unlock(&ringo__sched.gfree_lock);
		free_gs(batch, (int)k);
		freed += k;
	}
	return freed;
}

void ringo__gfree_scavenge(int64_t now)
{
	if (now >= scavenge_next) {
		scavenge_next = now + SCAVENGE_WINDOW_NS;
		pthread_mutex_lock(&ringo__sched.gfree_lock);
		int32_t unused = gfree_low;
		gfree_low = ringo__sched.gfree_nr;
		pthread_mutex_unlock(&ringo__sched.gfree_lock);
		scavenge_debt = unused > SCAVENGE_KEEP ? unused - SCAVENGE_KEEP
						       : 0;
	}
	if (scavenge_debt <= 0)
		return;
	int64_t freed = global_release(scavenge_debt, SCAVENGE_KEEP,
				       now + SCAVENGE_TICK_NS);
	scavenge_debt = freed ? scavenge_debt - freed : 0;
}

void ringo_free_os_memory(void)
{
	/* Only goroutines: teardown frees the list without its lock, after
	 * joining every M (so no goroutine is in here), but a foreign
	 * thread could still be. */
	if (!ringo__getg())
		return;
	global_release(INT64_MAX, 0, 0);
	ringo__slab_trim();
}

void ringo__gfree_all(void)
{
	for (struct ringo__g *g = ringo__sched.allg; g; g = g->allnext)
		ringo__switch_release_g(g);
	ringo__stack_free_all(ringo__sched.allg);
	ringo__sched.allg = NULL;
	free(ringo__sched.gfree);
	ringo__sched.gfree = NULL;
	ringo__sched.gfree_cap = 0;
	atomic_store_explicit(&ringo__sched.gfree_nr, 0, memory_order_relaxed);
	gfree_low = 0;
	scavenge_next = 0;
	scavenge_debt = 0;
	for (int i = 0; i < ringo__sched.nprocs; i++)
		ringo__sched.allp[i]->gfree_nr = 0;
}
