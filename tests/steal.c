/*
 * tests/steal.c - work stealing really moves work: one goroutine spawns
 * 10,000 CPU-bound goroutines on its P, and every other P must end up
 * running some of them. The goroutines keep yielding until every P has
 * run one, so a thread the OS keeps off the CPU for a while (a loaded CI
 * machine) delays the test instead of failing it; if stealing never
 * happens, the watchdog fails it.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "test.h"
#include "core/runtime.h"

#define N TEST_SCALE(10000, 10000, 2000)
#define MAXP 64

static _Atomic int ran_on[MAXP];
static _Atomic int ps_seen;
static _Atomic int done;

static void burn(void *arg)
{
	volatile unsigned x = (unsigned)(uintptr_t)arg;
	for (int i = 0; i < 20000; i++)
		x = x * 1103515245u + 12345u;
	if (atomic_fetch_add(&ran_on[ringo__getm()->p->id], 1) == 0)
		atomic_fetch_add(&ps_seen, 1);
	while (atomic_load(&ps_seen) < ringo_maxprocs())
		ringo_yield();
	atomic_fetch_add(&done, 1);
}

static int main_fn(void *arg)
{
	(void)arg;
	int procs = ringo_maxprocs();
	if (procs < 2 || procs > MAXP)
		return 77;
	for (int i = 0; i < N; i++)
		ringo_go(burn, (void *)(uintptr_t)i);
	while (atomic_load(&done) < N)
		ringo_yield();
	for (int p = 0; p < procs; p++) {
		if (atomic_load(&ran_on[p]) == 0)
			TEST_FAIL("P %d ran none of the %d goroutines", p, N);
	}
	return 0;
}

int main(void)
{
	test_watchdog(120);
	struct ringo_config cfg = { .maxprocs = 2 };
	return ringo_run_config(&cfg, main_fn, NULL);
}
