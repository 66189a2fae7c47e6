/*
 * alloc/stack.c - goroutine stacks from per-P jemalloc arenas.
 *
 * Each P owns a jemalloc arena (created with "arenas.create"), and stacks
 * are taken with mallocx(MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE), so Ps
 * never contend on one allocator lock and the thread caches never hold
 * megabytes of stacks. Large jemalloc extents are not touched on
 * allocation: a stack costs resident memory only for the pages its
 * goroutine actually used.
 *
 * Default-size stacks come in slabs (alloc/slab.c): one allocation and
 * one guard-installing system call serve dozens of goroutines. A stack of
 * any other size is one allocation with its own guard, freed when its
 * goroutine ends. The lowest page of every block is the guard
 * (alloc/guard.c); the SIGSEGV handler (core/signal.c) names the
 * goroutine that ran into it.
 */
#include "stack.h"

#include <errno.h>
#include <jemalloc/jemalloc.h>
#include <string.h>
#include <unistd.h>

#include <ringo/sched.h>

#include "madvise.h"
#include "slab.h"

#ifdef RINGO_ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef RINGO_VALGRIND
#include <valgrind/valgrind.h>
#endif

#define MAX_ARENAS 1024

static unsigned arenas[MAX_ARENAS]; /* arena per P id, created once */
static int arenas_nr;               /* under arenas_lock */
static pthread_mutex_t arenas_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t page_size;            /* set by init, read-only after */

int ringo__stack_init(int nprocs)
{
	if (nprocs > MAX_ARENAS)
		return -EINVAL;
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	ringo__madvise_init();
	ringo__guard_init();
	pthread_mutex_lock(&arenas_lock);
	while (arenas_nr < nprocs) {
		unsigned a;
		size_t sz = sizeof(a);
		int err = mallctl("arenas.create", &a, &sz, NULL, 0);
		if (err) {
			pthread_mutex_unlock(&arenas_lock);
			return -err;
		}
		arenas[arenas_nr++] = a;
	}
	pthread_mutex_unlock(&arenas_lock);
	for (int i = 0; i < nprocs; i++)
		ringo__sched.allp[i]->arena = arenas[i];
	return 0;
}

size_t ringo__stack_round(size_t size, const char *call)
{
	if (size > RINGO_STACK_MAX)
		ringo__panic(call, "stack size %zu above RINGO_STACK_MAX (1 GiB)",
			     size);
	if (size < RINGO_STACK_MIN)
		size = RINGO_STACK_MIN;
	return (size + page_size - 1) & ~(page_size - 1);
}

size_t ringo__stack_block_size(size_t size)
{
	return page_size + size;
}

static size_t g_footprint(void)
{
	return (sizeof(struct ringo__g) + 63) & ~(size_t)63;
}

struct ringo__g *ringo__stack_place_g(char *block, size_t size, int guard)
{
	/* Blocks are a multiple of the page size apart, so without an offset
	 * every G and every stack's first frames would fall in the same few
	 * L1 sets (4 KiB apart) and evict each other while the scheduler
	 * cycles through a few hundred Gs. Stagger them by up to 1920 bytes,
	 * which still leaves a parked G's frames in the top page. */
	size_t color = (((uintptr_t)block / page_size) % 16) * 128;
	struct ringo__g *g =
		(struct ringo__g *)(block + size - g_footprint() - color);

	memset(g, 0, sizeof(*g));
	g->stack_block = block;
	g->stack_block_size = size;
	g->stack_lo = block + page_size;
	g->guard = (uint8_t)guard;
	/* Only unguarded stacks pay for a canary: writing it touches the
	 * lowest stack page, which a guarded stack never needs resident. */
	if (guard == RINGO_GUARD_CANARY) {
		g->canary = (uint64_t *)g->stack_lo;
		*g->canary = RINGO_STACK_CANARY;
	}
#ifdef RINGO_VALGRIND
	/* Without this, valgrind takes a switch between two stacks less than
	 * 2 MB apart for a huge frame and flags everything on them. */
	g->valgrind_stack_id = VALGRIND_STACK_REGISTER(g->stack_lo, (char *)g);
#endif
	return g;
}

void ringo__stack_unplace_g(struct ringo__g *g)
{
#ifdef RINGO_VALGRIND
	VALGRIND_STACK_DEREGISTER(g->valgrind_stack_id);
#endif
#ifdef RINGO_ASAN
	/* Frames that ran here left poisoned redzones; the block goes to
	 * another goroutine or back to jemalloc next. */
	__asan_unpoison_memory_region(g->stack_lo,
				      g->stack_block_size - page_size);
#else
	(void)g;
#endif
}

/* A block of its own for a stack of a size other than the default. */
static struct ringo__g *block_alloc_g(struct ringo__p *p, size_t size)
{
	size_t total = ringo__stack_block_size(size);
	char *block = mallocx(total, MALLOCX_ARENA(p->arena) |
					     MALLOCX_TCACHE_NONE |
					     MALLOCX_ALIGN(page_size));
	if (!block)
		return NULL;
	uint8_t guard;
	ringo__guard_install(block, total, 1, &guard);
	return ringo__stack_place_g(block, total, guard);
}

/* g is unplaced. */
static void block_free(struct ringo__g *g)
{
	char *block = g->stack_block;
	uint8_t guard = g->guard;

	ringo__guard_remove(block, g->stack_block_size, 1, &guard);
	dallocx(block, MALLOCX_TCACHE_NONE);
}

struct ringo__g *ringo__stack_alloc_g(struct ringo__p *p, size_t size)
{
	if (size == ringo__sched.stack_size)
		return ringo__slab_alloc_g(p);
	return block_alloc_g(p, size);
}

void ringo__stack_free_gs(struct ringo__g **gs, int n)
{
	int nslab = 0;

	/* Slab Gs move to the front of gs, in place. */
	for (int i = 0; i < n; i++) {
		struct ringo__g *g = gs[i];
		ringo__stack_unplace_g(g);
		if (g->slab)
			gs[nslab++] = g;
		else
			block_free(g);
	}
	if (nslab)
		ringo__slab_free_gs(gs, nslab);
}

void ringo__stack_free_all(struct ringo__g *allg)
{
	while (allg) {
		struct ringo__g *next = allg->allnext;
		ringo__stack_unplace_g(allg);
		if (!allg->slab)
			block_free(allg);
		allg = next;
	}
	ringo__slab_free_all();
}

size_t ringo__stack_size(const struct ringo__g *g)
{
	return (size_t)((const char *)g - g->stack_lo);
}

void ringo__stack_overflow(const struct ringo__g *g)
{
	ringo__throw("stack", "stack overflow in goroutine %llu%s%s%s "
			     "(stack size %zu bytes; give it a larger "
			     "ringo_go_opts.stack_size)",
			     (unsigned long long)g->id, g->name[0] ? " [" : "",
			     g->name, g->name[0] ? "]" : "",
			     ringo__stack_size(g));
}

bool ringo__stack_in_guard(const struct ringo__g *g, const void *addr)
{
	const char *a = addr;

	return g->guard != RINGO_GUARD_CANARY && a >= g->stack_block &&
	       a < g->stack_lo;
}
