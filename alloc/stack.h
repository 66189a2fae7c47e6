/*
 * alloc/stack.h - goroutine stacks and the G structs that live on them.
 *
 * One block of memory holds a goroutine's whole life:
 *
 *   block                                                  block + size
 *   | guard page | stack (canary at the bottom if unguarded) ... | struct g |
 *
 * The G sits at the top, in the page the first frames touch anyway, so it
 * costs no extra page. Default-size blocks are slots of slabs carved from
 * the creating P's jemalloc arena (alloc/slab.c); other sizes are one
 * allocation each from that arena. Dead Gs keep their blocks in free
 * lists (alloc/gpool.c).
 */
#ifndef RINGO_ALLOC_STACK_H
#define RINGO_ALLOC_STACK_H

#include <stddef.h>

#include "../core/runtime.h"
#include "guard.h"

#define RINGO_STACK_CANARY 0x52494e474f535421ull /* "RINGOST!" */

/* Create one jemalloc arena per P (once per process; later runs reuse
 * them), choose the guard mode. Returns 0 or -errno. */
int ringo__stack_init(int nprocs);

/* Round a requested stack size to what ringo allocates (pages, at least
 * RINGO_STACK_MIN). A request above RINGO_STACK_MAX panics, naming
 * `call` (the rounding would wrap). */
size_t ringo__stack_round(size_t size, const char *call);

/* Bytes of a block for a stack of `size` (rounded) bytes: the guard page
 * plus the stack, whose top holds the G struct. */
size_t ringo__stack_block_size(size_t size);

/* A fresh G with a stack of `size` bytes (already rounded; the G takes
 * the top few hundred) from p's arena, or NULL if memory is exhausted.
 * Fields other than the stack ones are zero. */
struct ringo__g *ringo__stack_alloc_g(struct ringo__p *p, size_t size);

/* Give back the blocks of n dead Gs, already off the allg list and with
 * their sanitizer state released. Reorders gs. */
void ringo__stack_free_gs(struct ringo__g **gs, int n);

/* Teardown: free the block of every G on the list `allg` (linked by
 * allnext), then every slab. No goroutine may run. */
void ringo__stack_free_all(struct ringo__g *allg);

/* Usable stack bytes of g (between the guard page and the G struct). */
size_t ringo__stack_size(const struct ringo__g *g);

/* For alloc/slab.c: build a G at the top of [block, block + size), whose
 * first page has a guard of kind `guard` (enum ringo__guard); and undo
 * that (valgrind, ASan) before the block is reused or freed. */
struct ringo__g *ringo__stack_place_g(char *block, size_t size, int guard);
void ringo__stack_unplace_g(struct ringo__g *g);

/* Abort with a message naming g. */
_Noreturn void ringo__stack_overflow(const struct ringo__g *g);
/* Called on every switch away from g, on g's stack (`sp` is an address
 * in the caller's frame): the stack pointer must be above the stack's
 * bottom and an unguarded stack's canary intact. */
static inline void ringo__stack_check(const struct ringo__g *g, const void *sp)
{
	if (ringo__unlikely((const char *)sp < g->stack_lo ||
			    (g->canary && *g->canary != RINGO_STACK_CANARY)))
		ringo__stack_overflow(g);
}

/* Was `addr` inside g's guard page? For the SIGSEGV handler. */
bool ringo__stack_in_guard(const struct ringo__g *g, const void *addr);

#endif
