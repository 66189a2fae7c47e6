/*
 * bench/b_time.c - timer benchmarks: sleepers. Mirrors benchSleepers in
 * bench/go/gobench.go; where Go joins on a sync.WaitGroup, ringo joins on
 * a latch (latch.h: a channel the last goroutine closes), so the waiter
 * parks.
 */
#include <stdio.h>

#include <ringo/ringo.h>
#include <ringo/time.h>

#include "bench.h"
#include "latch.h"

#define SLEEP_NS (100 * RINGO_MILLISECOND)

/* ------------------------------------------------------------------------
 * sleepers: timer scalability. N goroutines each sleep 100 ms; wall_ns is
 * the time from the first spawn until the last has woken and counted
 * down (ideal: ~100 ms whatever N). ns_per_op = wall_ns / N. */

static void sleeper(void *arg)
{
	ringo_sleep(SLEEP_NS);
	bench_latch_count_down(arg);
}

static int run_sleepers(long n, struct bench_sample *s)
{
	struct bench_latch all_woke;
	struct bench_clock c;

	if (bench_latch_init(&all_woke, n) != 0)
		return -1;
	bench_clock_start(&c);
	for (long i = 0; i < n; i++)
		ringo_go(sleeper, &all_woke);
	bench_latch_wait(&all_woke);
	int64_t wall = bench_clock_stop(&c, (double)n, s);
	bench_set(s, BENCH_WALL_NS, (double)wall);

	/* Let the closer leave ringo_chan_close before the free. */
	bench_wait_alone();
	ringo_chan_free(all_woke.done);
	if (wall < SLEEP_NS) {
		fprintf(stderr, "ringo-bench: sleepers: all woke after %lld ns, "
			"before the %lld ns sleep\n", (long long)wall, (long long)SLEEP_NS);
		return -1;
	}
	return 0;
}

const struct bench bench_sleepers = {
	.name = "sleepers",
	.desc = "N goroutines each sleeping 100 ms: wall time until all woke",
	.n_quick = 100000,
	.n_full = 1000000,
	.run = run_sleepers,
	.go_name = "sleepers",
};
