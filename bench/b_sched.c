/*
 * bench/b_sched.c - scheduler benchmarks: spawn, park (millions), yield. Each mirrors
 * the function of the same name in bench/go/sched.go; where Go waits on
 * a sync.WaitGroup, ringo waits on a latch (latch.h: a channel the last
 * goroutine closes), so both sides park the waiter rather than spin.
 */
#include <stdio.h>

#include <ringo/ringo.h>

#include "bench.h"
#include "latch.h"

/* ------------------------------------------------------------------------
 * spawn: create, run and retire N trivial goroutines; each only counts
 * down. ns_per_op = time until all have run / N. */

static void spawn_leaf(void *arg)
{
	bench_latch_count_down(arg);
}

static int run_spawn(long n, struct bench_sample *s)
{
	struct bench_latch all_ran;
	struct bench_clock c;

	if (bench_latch_init(&all_ran, n) != 0)
		return -1;
	bench_clock_start(&c);
	for (long i = 0; i < n; i++)
		ringo_go(spawn_leaf, &all_ran);
	bench_latch_wait(&all_ran);
	bench_clock_stop(&c, (double)n, s);
	bench_wait_alone();
	ringo_chan_free(all_ran.done);
	return 0;
}

const struct bench bench_spawn = {
	.name = "spawn",
	.desc = "create, run and retire a trivial goroutine",
	.n_quick = 100000,
	.n_full = 1000000,
	.run = run_spawn,
	.go_name = "spawn",
};

/* ------------------------------------------------------------------------
 * park: footprint, creation and wake-up cost of blocked goroutines, up to
 * millions alive at once. N goroutines count themselves started, then
 * block receiving from one shared unbuffered channel; closing it wakes
 * them all, and each counts itself finished.
 * ns_per_op = time until all have started / N; rss_bytes_per_g = RSS
 * growth over that time / N; wake_ns_per_g = time from the close until
 * all have finished / N. */

struct park {
	struct bench_latch started, finished;
	ringo_chan *block;
};

static void park_g(void *arg)
{
	struct park *pk = arg;
	bench_latch_count_down(&pk->started);
	ringo_chan_recv(pk->block, NULL);
	bench_latch_count_down(&pk->finished);
}

static int run_park(long n, struct bench_sample *s)
{
	struct park pk = { 0 };
	struct bench_clock c;
	int ret = -1;

	if (!(pk.block = bench_chan_make(0, 0)))
		return -1;
	if (bench_latch_init(&pk.started, n) != 0)
		goto out_block;
	if (bench_latch_init(&pk.finished, n) != 0)
		goto out_started;
	int64_t before = sys_rss_bytes();
	bench_clock_start(&c);
	for (long i = 0; i < n; i++)
		ringo_go(park_g, &pk);
	bench_latch_wait(&pk.started);
	bench_clock_stop(&c, (double)n, s);
	int64_t after = sys_rss_bytes();

	/* All N have counted down and none can leave before the close. */
	int live = ringo_num_goroutines();
	if (live != n + 1)
		fprintf(stderr, "ringo-bench: park: %d goroutines, expected %ld\n",
			live, n + 1);
	if (before >= 0 && after >= 0)
		bench_set(s, BENCH_RSS_BYTES_PER_G, (double)(after - before) / (double)n);

	int64_t wake_start = sys_now_ns();
	ringo_chan_close(pk.block);
	bench_latch_wait(&pk.finished);
	bench_set(s, BENCH_WAKE_NS_PER_G, (double)(sys_now_ns() - wake_start) / (double)n);
	bench_wait_alone();
	ret = live == n + 1 ? 0 : -1;
	ringo_chan_free(pk.finished.done);
out_started:
	ringo_chan_free(pk.started.done);
out_block:
	ringo_chan_free(pk.block);
	return ret;
}

const struct bench bench_park = {
	.name = "park",
	.desc = "N goroutines blocked on a channel: spawn time, memory, wake-up",
	.fresh = true,
	.run = run_park,
	.go_name = "park",
	.axis = BENCH_AXIS_N,
	.points_quick = { 10000, 100000 },
	.points_full = { 10000, 100000, 1000000, 2000000, 4000000 },
	.x_label = "goroutines parked at once (N)",
	.op = "goroutine started",
	.plots = { BENCH_NS_PER_OP, BENCH_WAKE_NS_PER_G, BENCH_RSS_BYTES_PER_G },
	.plots_nr = 3,
	/* Measured at 4M: ringo 4.3 KiB RSS (one stack page plus jemalloc's
	 * share) + 170 B of page tables; Go 2.7 KiB. */
	.bytes_per_g = { 4700, 3200 },
};

/* ------------------------------------------------------------------------
 * yield: voluntary context switches against the number of Ps. Two
 * goroutines per P each yield N times, so on one P control bounces
 * between the two. ns_per_op = time / all yields (2N per P): with perfect
 * scaling it halves each time the Ps double. */

struct yielders {
	long n;
	struct bench_latch done;
};

static void yielder(void *arg)
{
	struct yielders *y = arg;
	for (long i = 0; i < y->n; i++)
		ringo_yield();
	bench_latch_count_down(&y->done);
}

static int run_yield(long n, struct bench_sample *s)
{
	struct yielders y = { .n = n };
	struct bench_clock c;
	int goroutines = 2 * ringo_maxprocs();

	if (bench_latch_init(&y.done, goroutines) != 0)
		return -1;
	bench_clock_start(&c);
	for (int i = 0; i < goroutines; i++)
		ringo_go(yielder, &y);
	bench_latch_wait(&y.done);
	bench_clock_stop(&c, (double)goroutines * (double)n, s);
	bench_wait_alone();
	ringo_chan_free(y.done.done);
	return 0;
}

const struct bench bench_yield = {
	.name = "yield",
	.desc = "ringo_yield, two goroutines per P",
	.n_quick = 1000000,
	.n_full = 10000000,
	.run = run_yield,
	.go_name = "yield",
	.axis = BENCH_AXIS_PROCS,
	.x_label = "Ps (GOMAXPROCS)",
	.op = "yield (all Ps)",
};
