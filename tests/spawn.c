/*
 * tests/spawn.c - goroutines start, run once, get unique ids, and are
 * counted; many goroutines spawn at once; ringo_exit and main's result.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "test.h"

#define SPAWNERS 64
#define PER_SPAWNER TEST_SCALE(2000, 1000, 100)

static _Atomic int ran;
static _Atomic int spawners_done;
static _Atomic uint64_t id_xor;

static void leaf(void *arg)
{
	(void)arg;
	atomic_fetch_xor(&id_xor, ringo_id());
	atomic_fetch_add(&ran, 1); /* last: main stops waiting on it */
}

static void spawner(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_SPAWNER; i++) {
		uint64_t id = ringo_go(leaf, NULL);
		atomic_fetch_xor(&id_xor, id);
		if (i % 100 == 0)
			ringo_yield();
	}
	atomic_fetch_add(&spawners_done, 1);
}

static int test_many_spawners(void)
{
	for (int i = 0; i < SPAWNERS; i++)
		ringo_go(spawner, NULL);
	while (atomic_load(&spawners_done) < SPAWNERS ||
	       atomic_load(&ran) < SPAWNERS * PER_SPAWNER)
		ringo_yield();
	ASSERT_EQ(atomic_load(&ran), SPAWNERS * PER_SPAWNER);
	/* Each id was xored in by its creator and by itself. */
	ASSERT_EQ(atomic_load(&id_xor), 0);
	return 0;
}

static _Atomic int exited_after;
static _Atomic int release_exiter;

static void exiter(void *arg)
{
	(void)arg;
	while (!atomic_load(&release_exiter))
		ringo_yield();
	ringo_exit();
	atomic_store(&exited_after, 1);
}

static int test_exit_and_count(void)
{
	ASSERT(ringo_id() > 0);
	while (ringo_num_goroutines() > 1)
		ringo_yield();
	ASSERT_EQ(ringo_num_goroutines(), 1);
	ringo_go(exiter, NULL);
	ASSERT_EQ(ringo_num_goroutines(), 2);
	atomic_store(&release_exiter, 1);
	while (ringo_num_goroutines() > 1)
		ringo_yield();
	ASSERT_EQ(atomic_load(&exited_after), 0);
	return 0;
}

static void named(void *arg)
{
	__atomic_store_n((uint64_t *)arg, ringo_id(), __ATOMIC_RELEASE);
}

static int test_opts(void)
{
	uint64_t seen = 0;
	struct ringo_go_opts o = { .stack_size = 200 * 1024, .name = "big" };
	uint64_t id = ringo_go_opts(&o, named, &seen);
	while (!__atomic_load_n(&seen, __ATOMIC_ACQUIRE))
		ringo_yield();
	ASSERT_EQ(seen, id);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_many_spawners);
	RUN(test_exit_and_count);
	RUN(test_opts);
	return 42;
}

static int main_zero(void *arg)
{
	(void)arg;
	return 0;
}

static void outside(void *arg)
{
	(void)arg;
	ringo_yield();
}

static void nothing(void *arg)
{
	(void)arg;
}

static int huge_stack_main(void *arg)
{
	struct ringo_go_opts o = { .stack_size = SIZE_MAX };

	(void)arg;
	ringo_go_opts(&o, nothing, NULL);
	return 0;
}

static int main_exits(void *arg)
{
	(void)arg;
	ringo_exit();
}

int main(void)
{
	test_watchdog(120);
	if (ringo_run(main_fn, NULL) != 42)
		return 1;
	/* The runtime can run again after it returned. */
	if (ringo_run(main_zero, NULL) != 0)
		return 1;
	if (test_death("yield outside", outside, NULL,
		       "ringo_yield: called outside a goroutine"))
		return 1;
	if (test_death_run("exit from main", main_exits, NULL,
			   "ringo_exit: called from the main goroutine"))
		return 1;
	if (test_death_run("stack above the maximum", huge_stack_main, NULL,
			   "ringo_go_opts: stack size"))
		return 1;
	return 0;
}
