/*
 * alloc/gpool.c - per-P and global free lists of dead Gs.
 *
 * A dead G keeps its stack (the G lives on it), so reusing a G reuses its
 * stack and spawn rarely touches jemalloc. Only default-size Gs are kept.
 * Each P keeps up to LOCAL_MAX without locks; beyond that, half moves to
 * the global list, which keeps up to GLOBAL_MAX so that a burst of a
 * million goroutines does not pin a million stacks after it ends.
 *
 * Every G with a stack is on the allg list (for dumps and teardown); it is
 * linked when its stack is allocated and unlinked just before it is freed,
 * both under sched.allg_lock, which only those two slow paths take.
 */
#include "gpool.h"

#include "../core/switch.h"
#include "stack.h"

#define LOCAL_MAX 64
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

static void free_g(struct ringo__g *g)
{
	pthread_mutex_lock(&ringo__sched.allg_lock);
	allg_remove(g);
	pthread_mutex_unlock(&ringo__sched.allg_lock);
	ringo__switch_release_g(g);
	ringo__stack_free_g(g);
}

struct ringo__g *ringo__gfree_get(struct ringo__p *p, size_t size)
{
	if (size == ringo__sched.stack_size) {
		if (!p->gfree && atomic_load_explicit(&ringo__sched.gfree_nr,
						      memory_order_relaxed)) {
			pthread_mutex_lock(&ringo__sched.gfree_lock);
			while (p->gfree_nr < LOCAL_MAX / 2 && ringo__sched.gfree) {
				struct ringo__g *g = ringo__sched.gfree;
				ringo__sched.gfree = g->schedlink;
				atomic_fetch_sub_explicit(&ringo__sched.gfree_nr, 1,
							  memory_order_relaxed);
				g->schedlink = p->gfree;
				p->gfree = g;
				p->gfree_nr++;
			}
			pthread_mutex_unlock(&ringo__sched.gfree_lock);
		}
		if (p->gfree) {
			struct ringo__g *g = p->gfree;
			p->gfree = g->schedlink;
			p->gfree_nr--;
			return g;
		}
	}
	struct ringo__g *g = ringo__stack_alloc_g(p, size);
	if (g)
		allg_add(g);
	return g;
}

void ringo__gfree_put(struct ringo__p *p, struct ringo__g *g)
{
	if (g->stack_block_size !=
	    ringo__stack_block_size(ringo__sched.stack_size)) {
		free_g(g);
		return;
	}
	atomic_store_explicit(&g->status, RINGO_G_IDLE, memory_order_relaxed);
	/* Sanitizer state is per live goroutine (TSan allows only 8128
	 * fibers); a reused G gets fresh state in ringo__switch_prepare_g. */
	ringo__switch_release_g(g);
	g->schedlink = p->gfree;
	p->gfree = g;
	if (++p->gfree_nr <= LOCAL_MAX)
		return;
	/* Move half to the global list; free what does not fit there. */
	struct ringo__g *spill = NULL;
	pthread_mutex_lock(&ringo__sched.gfree_lock);
	while (p->gfree_nr > LOCAL_MAX / 2) {
		struct ringo__g *x = p->gfree;
		p->gfree = x->schedlink;
		p->gfree_nr--;
		if (atomic_load_explicit(&ringo__sched.gfree_nr,
					 memory_order_relaxed) < GLOBAL_MAX) {
			x->schedlink = ringo__sched.gfree;
			ringo__sched.gfree = x;
			atomic_fetch_add_explicit(&ringo__sched.gfree_nr, 1,
						  memory_order_relaxed);
		} else {
			x->schedlink = spill;
			spill = x;
		}
	}
	pthread_mutex_unlock(&ringo__sched.gfree_lock);
	while (spill) {
		struct ringo__g *x = spill;
		spill = x->schedlink;
		free_g(x);
	}
}

void ringo__gfree_all(void)
{
	struct ringo__g *g = ringo__sched.allg;

	while (g) {
		struct ringo__g *next = g->allnext;
		ringo__switch_release_g(g);
		ringo__stack_free_g(g);
		g = next;
	}
	ringo__sched.allg = NULL;
	ringo__sched.gfree = NULL;
	atomic_store_explicit(&ringo__sched.gfree_nr, 0, memory_order_relaxed);
	for (int i = 0; i < ringo__sched.nprocs; i++) {
		ringo__sched.allp[i]->gfree = NULL;
		ringo__sched.allp[i]->gfree_nr = 0;
	}
}
