/*
 * alloc/guard.c - the page below each stack that catches an overflow.
 *
 * Three ways, best first:
 *   madvise   MADV_GUARD_INSTALL (Linux 6.13+): a guard that does not
 *             split the mapping, so a million stacks cost no extra VMAs.
 *             A slab's guards go in one process_madvise (alloc/madvise.c).
 *   mprotect  PROT_NONE: splits the mapping, and the kernel allows only
 *             vm.max_map_count mappings (65530 by default), so only a
 *             quarter of that many stacks get one; the rest fall back to:
 *   canary    nothing here: the page stays untouched slack and the stack
 *             code writes a word above it, checked on every switch away
 *             from the goroutine. An overflow of up to a page is caught
 *             before it reaches a neighbour.
 * RINGO_STACK_GUARD=madvise|mprotect|canary forces one (for tests and for
 * kernels where the probe misleads); docs/design.md has the sysctl.
 */
#include "guard.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../core/runtime.h"
#include "madvise.h"

/* Set by ringo__guard_init before any goroutine runs; read-only after. */
static size_t page_size;
static int guard_mode;              /* enum ringo__guard */
static long mprotect_budget;        /* pages that may be PROT_NONE */
static _Atomic long mprotect_nr;    /* pages that are now */

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

void ringo__guard_init(void)
{
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	guard_mode = read_guard_mode();
	mprotect_budget = read_mprotect_budget();
}

/* A PROT_NONE page while the budget lasts, else a canary. */
static uint8_t protect_one(char *page)
{
	if (atomic_fetch_add_explicit(&mprotect_nr, 1, memory_order_relaxed) <
		    mprotect_budget &&
	    mprotect(page, page_size, PROT_NONE) == 0)
		return RINGO_GUARD_MPROTECT;
	atomic_fetch_sub_explicit(&mprotect_nr, 1, memory_order_relaxed);
	return RINGO_GUARD_CANARY;
}

void ringo__guard_install(char *base, size_t stride, int n, uint8_t *kinds)
{
	if (guard_mode == RINGO_GUARD_CANARY) {
		memset(kinds, RINGO_GUARD_CANARY, (size_t)n);
		return;
	}
	if (guard_mode == RINGO_GUARD_MADVISE &&
	    ringo__madvise_strided(base, stride, page_size, n,
				   MADV_GUARD_INSTALL) == 0) {
		memset(kinds, RINGO_GUARD_MADVISE, (size_t)n);
		return;
	}
	/* mprotect mode, or some madvise guard failed: decide page by page
	 * (installing a guard twice is harmless). */
	for (int i = 0; i < n; i++) {
		char *page = base + (size_t)i * stride;
		if (guard_mode == RINGO_GUARD_MADVISE &&
		    madvise(page, page_size, MADV_GUARD_INSTALL) == 0)
			kinds[i] = RINGO_GUARD_MADVISE;
		else
			kinds[i] = protect_one(page);
	}
}

void ringo__guard_remove(char *base, size_t stride, int n,
			 const uint8_t *kinds)
{
	bool any_madvise = false;

	for (int i = 0; i < n; i++) {
		if (kinds[i] == RINGO_GUARD_MADVISE)
			any_madvise = true;
		if (kinds[i] != RINGO_GUARD_MPROTECT)
			continue;
		if (mprotect(base + (size_t)i * stride, page_size,
			     PROT_READ | PROT_WRITE) != 0)
			ringo__throw("stack", "unprotecting a guard page");
		atomic_fetch_sub_explicit(&mprotect_nr, 1, memory_order_relaxed);
	}
	/* Removing from a page that has no guard is harmless. */
	if (any_madvise && ringo__madvise_strided(base, stride, page_size, n,
						  MADV_GUARD_REMOVE) != 0)
		ringo__throw("stack", "removing a guard page");
}
