/*
 * tests/stack_slab.c - default-size stacks come from slabs (alloc/slab.c):
 * a burst of goroutines that end in random order gives its memory back
 * (the free-G caches keep it until ringo_free_os_memory, or until sysmon's
 * scavenger finds it unused for a window), a second burst reuses the
 * returned slots, ringo_free_os_memory also returns the pages of free
 * slots in slabs still in use, and a goroutine on a reused default-size
 * stack that overflows is still caught by its guard page.
 */
#include <stdatomic.h>
#include <stdint.h>

#include <ringo/ringo.h>

#include "recurse.h"
#include "test.h"
#include "waitq.h"

/* Above what the scavenger keeps cached (16,384 Gs), so slots go back to
 * their slabs. TSan allows only 8128 goroutines at once. */
#define N TEST_SCALE(100000, 40000, 4000)

static struct waitq q;
static _Atomic int finished;

/* arg: the waitq to park on. */
static void parker(void *arg)
{
	waitq_park(arg);
	atomic_fetch_add(&finished, 1);
}

static long rss_bytes(void)
{
	long size, pages = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &pages) != 2)
			pages = -1;
		fclose(f);
	}
	return pages * sysconf(_SC_PAGESIZE);
}

static void spawn_parked(int n)
{
	for (int i = 0; i < n; i++)
		ringo_go(parker, &q);
	while (waitq_len(&q) < (size_t)n)
		ringo_yield();
}

/* Wake every parked goroutine in a random order (so they end scattered
 * over their slabs) and wait until they are gone. */
static void wake_shuffled(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int start = atomic_load(&finished);

	ringo_preempt_disable(); /* see waitq.h */
	ringo__lock(&q.lock);
	size_t n = q.n;
	for (size_t i = n - 1; i > 0; i--) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t j = (size_t)(x % (i + 1));
		struct ringo__g *t = q.gs[i];
		q.gs[i] = q.gs[j];
		q.gs[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		ringo__ready_tail(q.gs[i]);
	q.n = 0;
	ringo__unlock(&q.lock);
	ringo_preempt_enable();
	while (atomic_load(&finished) - start < (int)n)
		ringo_yield();
	while (ringo_num_goroutines() > 1)
		ringo_yield();
}

static int test_burst_returns_memory(void)
{
	long before = rss_bytes();
	spawn_parked(N);
	long peak = rss_bytes();
	ASSERT_EQ(ringo_num_goroutines(), N + 1);
	wake_shuffled();
	ringo_free_os_memory();
	long after = rss_bytes();
	ASSERT_GE(peak - before, (long)N * 4096 / 2);
	/* The sanitizers keep their own memory per goroutine; the bound
	 * holds for the stacks alone. */
	if (!TEST_SANITIZED)
		ASSERT_LE(after - before, (peak - before) / 2);

	spawn_parked(N);
	ASSERT_EQ(ringo_num_goroutines(), N + 1);
	wake_shuffled();
	ASSERT_EQ(ringo_num_goroutines(), 1);
	return 0;
}

/* Without ringo_free_os_memory, sysmon's scavenger gives the cached
 * stacks back once they lie unused for a window: wait for the memory
 * itself (the test's watchdog bounds the wait). */
static int test_scavenger_returns_memory(void)
{
	ringo_free_os_memory(); /* the burst must start from fresh stacks */
	long before = rss_bytes();
	spawn_parked(N);
	long peak = rss_bytes();
	wake_shuffled();
	ASSERT_GE(peak - before, (long)N * 4096 / 2);
	if (TEST_SANITIZED)
		return 0;
	while (rss_bytes() - before > (peak - before) / 2)
		ringo_sleep(10 * RINGO_MILLISECOND);
	return 0;
}

/* Free slots in slabs that cannot be freed yet (a goroutine in each is
 * still alive) keep their pages until more than 4,096 pile up; fewer
 * stay resident, unless ringo_free_os_memory returns them too. */
#define TRIM_N 3000
#define KEEP_EVERY 25 /* a slab holds ~75 slots: 3 keepers each */

static struct waitq keepers;

static int test_free_os_memory_trims_slots(void)
{
	int keep = (TRIM_N + KEEP_EVERY - 1) / KEEP_EVERY;

	ringo_free_os_memory();
	for (int i = 0; i < TRIM_N; i++)
		ringo_go(parker, i % KEEP_EVERY ? &q : &keepers);
	while (waitq_len(&q) < (size_t)(TRIM_N - keep) ||
	       waitq_len(&keepers) < (size_t)keep)
		ringo_yield();
	int start = atomic_load(&finished);
	ASSERT_EQ(waitq_wake_all(&q), (size_t)(TRIM_N - keep));
	while (atomic_load(&finished) - start < TRIM_N - keep)
		ringo_yield();
	while (ringo_num_goroutines() > 1 + keep)
		ringo_yield();
	long cached = rss_bytes();
	ringo_free_os_memory();
	long after = rss_bytes();
	/* All but the per-P caches (64 each) went back, a page or more
	 * each; the sanitizers keep their own memory per goroutine. */
	long returned = (long)(TRIM_N - keep - 64 * ringo_maxprocs()) * 4096;
	if (!TEST_SANITIZED)
		ASSERT_GE(cached - after, returned / 2);
	ASSERT_EQ(waitq_wake_all(&keepers), (size_t)keep);
	while (ringo_num_goroutines() > 1)
		ringo_yield();
	return 0;
}

static int main_ok(void *arg)
{
	(void)arg;
	RUN(test_burst_returns_memory);
	RUN(test_scavenger_returns_memory);
	RUN(test_free_os_memory_trims_slots);
	return 0;
}


static volatile char top[1];
static volatile uint64_t sink;

static void overflow(void *arg)
{
	(void)arg;
	sink = recurse(300, top);
	ringo_yield();
}

/* n below the mprotect budget (max_map_count / 4), so every stack of the
 * mprotect run has a real guard, not the canary fallback. */
static int main_overflow(void *arg)
{
	int n = *(int *)arg;

	spawn_parked(n);
	wake_shuffled();
	spawn_parked(n / 2);
	ringo_go(overflow, NULL);
	for (;;)
		ringo_yield();
	return 0;
}

static int overflow_n;

static void run_overflow(void *mode)
{
	setenv("RINGO_STACK_GUARD", mode, 1);
	ringo_run(main_overflow, &overflow_n);
}

int main(void)
{
	test_watchdog(240);
	waitq_init(&q, N);
	waitq_init(&keepers, TRIM_N);
	if (ringo_run(main_ok, NULL) != 0)
		return 1;
	overflow_n = TEST_SCALE(30000, 20000, 4000);
	if (test_death("madvise guard, reused slot", run_overflow, "madvise",
		       "stack overflow in goroutine"))
		return 1;
	overflow_n = TEST_SCALE(12000, 12000, 4000);
	if (test_death("mprotect guard, reused slot", run_overflow, "mprotect",
		       "stack overflow in goroutine"))
		return 1;
	return 0;
}
