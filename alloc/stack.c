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
 * Overflow: the lowest page of every block is never used as stack. While
 * the guard budget lasts it is mprotect(PROT_NONE), so an overflow faults
 * at once and the SIGSEGV handler (core/signal.c) names the goroutine.
 * Every guard splits a mapping, and the kernel allows vm.max_map_count
 * mappings per process (65530 by default), so only a quarter of that many
 * stacks get guards (or RINGO_GUARD_PAGES). The rest rely on the page as
 * untouched slack plus a canary word above it, checked on every switch
 * away from the goroutine: an overflow of up to a page is caught before
 * it reaches a neighbour. docs/design.md tells how to raise the limit.
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

#define MAX_ARENAS 1024

static unsigned arenas[MAX_ARENAS]; /* arena per P id, created once */
static int arenas_nr;               /* under arenas_lock */
static pthread_mutex_t arenas_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t page_size;
static long guard_budget;           /* stacks that may carry a guard */
static _Atomic long guarded_nr;     /* stacks that carry one now */

static long read_guard_budget(void)
{
	const char *env = getenv("RINGO_GUARD_PAGES");
	long max_maps = 65530;
	FILE *f;

	if (env && *env) {
		char *end;
		long v = strtol(env, &end, 10);
		if (*end || v < 0)
			ringo__panic("ringo_run", "RINGO_GUARD_PAGES=\"%s\": want "
				     "a count >= 0", env);
		return v;
	}
	f = fopen("/proc/sys/vm/max_map_count", "r");
	if (f) {
		if (fscanf(f, "%ld", &max_maps) != 1)
			max_maps = 65530;
		fclose(f);
	}
	return max_maps / 4;
}

int ringo__stack_init(int nprocs)
{
	if (nprocs > MAX_ARENAS)
		return -EINVAL;
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	guard_budget = read_guard_budget();
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

static size_t g_footprint(void)
{
	return (sizeof(struct ringo__g) + 63) & ~(size_t)63;
}

struct ringo__g *ringo__stack_alloc_g(struct ringo__p *p, size_t size)
{
	size_t total = page_size + size + g_footprint();
	total = (total + page_size - 1) & ~(page_size - 1);
	char *block = mallocx(total, MALLOCX_ARENA(p->arena) |
					     MALLOCX_TCACHE_NONE |
					     MALLOCX_ALIGN(page_size));
	if (!block)
		return NULL;

	bool guarded = false;
	if (atomic_fetch_add_explicit(&guarded_nr, 1, memory_order_relaxed) <
	    guard_budget)
		guarded = mprotect(block, page_size, PROT_NONE) == 0;
	if (!guarded)
		atomic_fetch_sub_explicit(&guarded_nr, 1, memory_order_relaxed);

	struct ringo__g *g =
		(struct ringo__g *)(block + total - g_footprint());
	memset(g, 0, sizeof(*g));
	g->stack_block = block;
	g->stack_block_size = total;
	g->guarded = guarded;
	g->canary = (uint64_t *)(block + page_size);
	*g->canary = RINGO_STACK_CANARY;
	return g;
}

void ringo__stack_free_g(struct ringo__g *g)
{
	char *block = g->stack_block;

#ifdef RINGO_ASAN
	/* Frames that ran here left poisoned redzones; jemalloc may hand
	 * this memory to plain malloc users next. */
	__asan_unpoison_memory_region(block + page_size,
				      g->stack_block_size - page_size);
#endif
	if (g->guarded) {
		if (mprotect(block, page_size, PROT_READ | PROT_WRITE) != 0)
			ringo__throw("stack", "unprotecting a guard page");
		atomic_fetch_sub_explicit(&guarded_nr, 1, memory_order_relaxed);
	}
	dallocx(block, MALLOCX_TCACHE_NONE);
}

size_t ringo__stack_size(const struct ringo__g *g)
{
	return (size_t)((const char *)g - (const char *)(g->canary + 1));
}

void ringo__stack_check(const struct ringo__g *g)
{
	if (ringo__unlikely(*g->canary != RINGO_STACK_CANARY))
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

	return a >= g->stack_block && a < g->stack_block + page_size;
}
