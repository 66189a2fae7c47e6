/*
 * alloc/gpool.c - per-P and global free lists of dead Gs.
 *
 * A dead G keeps its stack (the G lives on it), so reusing a G reuses its
 * stack and spawn rarely touches jemalloc. Only default-size Gs are kept.
 * Each P keeps up to RINGO_GFREE_LOCAL without locks; beyond that, half moves to
 * the global list, which keeps up to GLOBAL_MAX so that a burst of a
 * million goroutines does not pin a million stacks after it ends: the
 * rest go back to their slabs (alloc/slab.c), which return memory to the
 * kernel.
 *
 * Every G with a stack is on the allg list (for dumps and teardown); it is
 * linked when its stack is allocated and unlinked just before it is freed,
 * both under sched.allg_lock, which only those two slow paths take.
 */
#include "gpool.h"

#include <stdlib.h>
#include <string.h>

#include "../core/switch.h"
#include "stack.h"

#define GLOBAL_MAX 16384

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
			atomic_store_explicit(&ringo__sched.gfree_nr, left,
					      memory_order_relaxed);
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

/* Caller holds gfree_lock. Returns false if the global stack is at its
 * cap (or cannot grow): the caller frees the G instead. */
static bool global_push(struct ringo__g *g)
{
	int32_t n = ringo__sched.gfree_nr;

	if (n >= GLOBAL_MAX)
		return false;
	if (n == ringo__sched.gfree_cap) {
		int32_t cap = n ? 2 * n : 1024;
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
	/* Full: move the older half to the global stack, free what does
	 * not fit there, keep g. */
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
	for (int i = 0; i < ringo__sched.nprocs; i++)
		ringo__sched.allp[i]->gfree_nr = 0;
}
