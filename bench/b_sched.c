/*
 * bench/b_sched.c - scheduler benchmarks: spawn, park, yield. Each mirrors
 * the function of the same name in bench/go/gobench.go; where Go waits on
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
 * park: footprint and creation cost of a blocked goroutine. N goroutines
 * count themselves started, then block receiving from one shared
 * unbuffered channel. rss_bytes_per_g = RSS growth from before the first
 * spawn to when all have started, / N; ns_per_op = that time / N. */

struct park {
	struct bench_latch started;
	ringo_chan *block;
};

static void park_g(void *arg)
{
	struct park *pk = arg;
	bench_latch_count_down(&pk->started);
	ringo_chan_recv(pk->block, NULL);
}

static int run_park(long n, struct bench_sample *s)
{
	struct park pk;
	struct bench_clock c;
	int ret = 0;

	pk.block = ringo_chan_make(0, 0);
	if (!pk.block || bench_latch_init(&pk.started, n) != 0) {
		ringo_chan_free(pk.block);
		return -1;
	}
	int64_t before = sys_rss_bytes();
	bench_clock_start(&c);
	for (long i = 0; i < n; i++)
		ringo_go(park_g, &pk);
	bench_latch_wait(&pk.started);
	bench_clock_stop(&c, (double)n, s);
	int64_t after = sys_rss_bytes();

	/* All N have counted down and none can leave before the close. */
	int live = ringo_num_goroutines();
	if (live != n + 1) {
		fprintf(stderr, "ringo-bench: park: %d goroutines, expected %ld\n",
			live, n + 1);
		ret = -1;
	}
	if (before >= 0 && after >= 0)
		bench_set(s, BENCH_RSS_BYTES_PER_G, (double)(after - before) / (double)n);
	ringo_chan_close(pk.block);
	bench_wait_alone();
	ringo_chan_free(pk.block);
	ringo_chan_free(pk.started.done);
	return ret;
}

const struct bench bench_park = {
	.name = "park",
	.desc = "memory and creation time of a goroutine blocked on a channel",
	.fresh = true,
	.n_quick = 100000,
	.n_full = 1000000,
	.run = run_park,
	.go_name = "park",
};

/* ------------------------------------------------------------------------
 * yield: one voluntary context switch. On a single P, two goroutines each
 * yield N times, so control bounces between them. ns_per_op = time / 2N. */

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

	if (bench_latch_init(&y.done, 2) != 0)
		return -1;
	bench_clock_start(&c);
	ringo_go(yielder, &y);
	ringo_go(yielder, &y);
	bench_latch_wait(&y.done);
	bench_clock_stop(&c, 2.0 * (double)n, s);
	bench_wait_alone();
	ringo_chan_free(y.done.done);
	return 0;
}

const struct bench bench_yield = {
	.name = "yield",
	.desc = "one ringo_yield between two goroutines on one P",
	.procs = 1,
	.n_quick = 1000000,
	.n_full = 10000000,
	.run = run_yield,
	.go_name = "yield",
};
