/*
 * alloc/slab.h - default-size stacks, dozens per allocation
 * (alloc/slab.c).
 */
#ifndef RINGO_ALLOC_SLAB_H
#define RINGO_ALLOC_SLAB_H

#include "../core/runtime.h"

/* A G on a default-size stack: a free slot of some slab if there is one,
 * else the next slot of p's slab, else the first of a new slab from p's
 * arena. NULL if memory is exhausted. Called by p's owner. */
struct ringo__g *ringo__slab_alloc_g(struct ringo__p *p);

/* Take back the slots of n dead Gs (already unplaced: alloc/stack.h).
 * Any thread. */
void ringo__slab_free_gs(struct ringo__g **gs, int n);

/* Return every dirty free slot's pages to the kernel now (they stay
 * free slots, with their guards). Any thread. */
void ringo__slab_trim(void);

/* Teardown: free every slab, whatever its slots hold. */
void ringo__slab_free_all(void);

#endif
