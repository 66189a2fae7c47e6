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
 * Overflow: the lowest page of every block is never used as stack; it is
 * made a guard, so an overflow faults at once and the SIGSEGV handler
 * (core/signal.c) names the goroutine. Three ways, best first:
 *   madvise   MADV_GUARD_INSTALL (Linux 6.13+): a guard that does not
 *             split the mapping, so a million stacks cost no extra VMAs.
 *   mprotect  PROT_NONE: splits the mapping, and the kernel allows only
 *             vm.max_map_count mappings (65530 by default), so only a
 *             quarter of that many stacks get one; the rest fall back to:
 *   canary    a word above the untouched slack page, checked on every
 *             switch away from the goroutine: an overflow of up to a page
 *             is caught before it reaches a neighbour.
 * RINGO_STACK_GUARD=madvise|mprotect|canary forces one (for tests and for
 * kernels where the probe misleads); docs/design.md has the sysctl.
 */
#include "stack.h"

#include <errno.h>
#include <jemalloc/jemalloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ringo/sched.h>

#include "../core/runtime.h"

#ifdef RINGO_ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef RINGO_VALGRIND
#include <valgrind/valgrind.h>
#endif

#define MAX_ARENAS 1024

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* uapi mman-common.h, Linux 6.13 */
#define MADV_GUARD_REMOVE 103
#endif

static unsigned arenas[MAX_ARENAS]; /* arena per P id, created once */
static int arenas_nr;               /* under arenas_lock */
static pthread_mutex_t arenas_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t page_size;
static int guard_mode;              /* enum ringo__guard, set by init */
static long mprotect_budget;        /* stacks that may get a PROT_NONE page */
static _Atomic long mprotect_nr;    /* stacks that have one now */

static long read_mprotect_budget(void)
{
	long max_maps = 65530;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");

	if (f) {
		if (fscanf(f, "%ld", &max_maps) != 1)
			max_maps = 65530;
		fclose(f);
	}
	return max_maps / 4;
}

/* Does this kernel take MADV_GUARD_INSTALL on our memory? Probed on a
 * private anonymous page, like the ones jemalloc hands out. */
static bool madvise_guard_works(void)
{
	void *p = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	bool ok = madvise(p, page_size, MADV_GUARD_INSTALL) == 0;
	munmap(p, page_size);
	return ok;
}

static int read_guard_mode(void)
{
	const char *env = getenv("RINGO_STACK_GUARD");

	if (env && *env) {
		if (strcmp(env, "madvise") == 0)
			return RINGO_GUARD_MADVISE;
		if (strcmp(env, "mprotect") == 0)
			return RINGO_GUARD_MPROTECT;
		if (strcmp(env, "canary") == 0)
			return RINGO_GUARD_CANARY;
		ringo__panic("ringo_run", "RINGO_STACK_GUARD=\"%s\": want "
			     "madvise, mprotect or canary", env);
	}
	return madvise_guard_works() ? RINGO_GUARD_MADVISE
				     : RINGO_GUARD_MPROTECT;
}

int ringo__stack_init(int nprocs)
{
	if (nprocs > MAX_ARENAS)
		return -EINVAL;
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	guard_mode = read_guard_mode();
	mprotect_budget = read_mprotect_budget();
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

size_t ringo__stack_round(size_t size)
{
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

struct ringo__g *ringo__stack_alloc_g(struct ringo__p *p, size_t size)
{
	size_t total = ringo__stack_block_size(size);
	char *block = mallocx(total, MALLOCX_ARENA(p->arena) |
					     MALLOCX_TCACHE_NONE |
					     MALLOCX_ALIGN(page_size));
	if (!block)
		return NULL;

	int guard = RINGO_GUARD_CANARY;
	if (guard_mode == RINGO_GUARD_MADVISE &&
	    madvise(block, page_size, MADV_GUARD_INSTALL) == 0) {
		guard = RINGO_GUARD_MADVISE;
	} else if (guard_mode != RINGO_GUARD_CANARY &&
		   atomic_fetch_add_explicit(&mprotect_nr, 1,
					     memory_order_relaxed) <
			   mprotect_budget) {
		if (mprotect(block, page_size, PROT_NONE) == 0)
			guard = RINGO_GUARD_MPROTECT;
		else
			atomic_fetch_sub_explicit(&mprotect_nr, 1,
						  memory_order_relaxed);
	} else if (guard_mode != RINGO_GUARD_CANARY) {
		atomic_fetch_sub_explicit(&mprotect_nr, 1, memory_order_relaxed);
	}

	struct ringo__g *g =
		(struct ringo__g *)(block + total - g_footprint());
	memset(g, 0, sizeof(*g));
	g->stack_block = block;
	g->stack_block_size = total;
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

void ringo__stack_free_g(struct ringo__g *g)
{
	char *block = g->stack_block;

#ifdef RINGO_VALGRIND
	VALGRIND_STACK_DEREGISTER(g->valgrind_stack_id);
#endif
#ifdef RINGO_ASAN
	/* Frames that ran here left poisoned redzones; jemalloc may hand
	 * this memory to plain malloc users next. */
	__asan_unpoison_memory_region(block + page_size,
				      g->stack_block_size - page_size);
#endif
	if (g->guard == RINGO_GUARD_MADVISE &&
	    madvise(block, page_size, MADV_GUARD_REMOVE) != 0)
		ringo__throw("stack", "removing a guard page");
	if (g->guard == RINGO_GUARD_MPROTECT) {
		if (mprotect(block, page_size, PROT_READ | PROT_WRITE) != 0)
			ringo__throw("stack", "unprotecting a guard page");
		atomic_fetch_sub_explicit(&mprotect_nr, 1, memory_order_relaxed);
	}
	dallocx(block, MALLOCX_TCACHE_NONE);
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
