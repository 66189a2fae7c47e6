/*
 * alloc/stack.h - goroutine stacks and the G structs that live on them.
 *
 * One allocation holds a goroutine's whole life:
 *
 *   block                                                  block + size
 *   | guard page | stack (canary at the bottom if unguarded) ... | struct g |
 *
 * The G sits at the top, in the page the first frames touch anyway, so it
 * costs no extra page. Memory comes from the jemalloc arena of the P that
 * creates the goroutine; dead Gs keep their stacks in per-P free lists.
 */
#ifndef RINGO_ALLOC_STACK_H
#define RINGO_ALLOC_STACK_H

#include <stddef.h>

#include "../core/runtime.h"

#define RINGO_STACK_CANARY 0x52494e474f535421ull /* "RINGOST!" */

/* Create one jemalloc arena per P (once per process; later runs reuse
 * them) and read the guard-page budget. Returns 0 or -errno. */
int ringo__stack_init(int nprocs);

/* Round a requested stack size to what ringo allocates (pages, at least
 * RINGO_STACK_MIN). */
size_t ringo__stack_round(size_t size);

/* Bytes allocated for a stack of `size` (rounded) bytes: the guard page
 * plus the stack, whose top holds the G struct. */
size_t ringo__stack_block_size(size_t size);

/* A fresh G with a stack of `size` bytes (already rounded; the G takes
 * the top few hundred) from p's arena, or NULL if memory is exhausted.
 * Fields other than the stack ones are zero. */
struct ringo__g *ringo__stack_alloc_g(struct ringo__p *p, size_t size);

/* Return g's memory to jemalloc. g must not be running. */
void ringo__stack_free_g(struct ringo__g *g);

/* Usable stack bytes of g (between the guard page and the G struct). */
size_t ringo__stack_size(const struct ringo__g *g);

/* How a stack's lowest page catches overflow (alloc/stack.c). */
enum ringo__guard {
	RINGO_GUARD_CANARY,
	RINGO_GUARD_MADVISE,
	RINGO_GUARD_MPROTECT,
};

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
