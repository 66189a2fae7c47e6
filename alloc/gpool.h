/*
 * alloc/gpool.h - free Gs (with their stacks) for reuse.
 */
#ifndef RINGO_ALLOC_GPOOL_H
#define RINGO_ALLOC_GPOOL_H

#include "../core/runtime.h"

/* A G with a stack of `size` bytes (rounded), reused from p's free list or
 * the global one when the size is the default, else freshly allocated.
 * NULL when memory is exhausted. */
struct ringo__g *ringo__gfree_get(struct ringo__p *p, size_t size);

/* Keep dead g for reuse, or free it. Called by p's owner. */
void ringo__gfree_put(struct ringo__p *p, struct ringo__g *g);

/* sysmon, every tick: free the Gs of the global list that lay unused
 * for a whole scavenging window (alloc/gpool.c). Any thread. */
void ringo__gfree_scavenge(int64_t now);

/* Free every G of the allg list (teardown). No goroutine may run. */
void ringo__gfree_all(void);

#endif
