/*
 * bench/b_time.c - timer benchmarks: sleepers. Mirrors benchSleepers in
 * bench/go/gobench.go; where Go joins on a sync.WaitGroup, ringo joins on
 * a latch (a channel the last goroutine closes), so the waiter parks.
 */
#include <stdatomic.h>
#include <stdio.h>

#include <ringo/ringo.h>
#include <ringo/time.h>

#include "bench.h"

#define SLEEP_NS (100 * RINGO_MILLISECOND)

/* A one-shot countdown: `left` goes from n to 0, once per goroutine; the
 * goroutine that takes it to 0 closes `done`, releasing the waiter. */
struct latch {
	atomic_long left;
	ringo_chan *done;
};

/* ------------------------------------------------------------------------
 * sleepers: timer scalability. N goroutines each sleep 100 ms; wall_ns is
 * the time from the first spawn until the last has woken and counted
 * down (ideal: ~100 ms whatever N). ns_per_op = wall_ns / N. */

static void sleeper(void *arg)
{
	struct latch *l = arg;

	ringo_sleep(SLEEP_NS);
	/* acq_rel: the closer sees every other sleeper's count-down. */
	if (atomic_fetch_sub_explicit(&l->left, 1, memory_order_acq_rel) == 1)
		ringo_chan_close(l->done);
}

static int run_sleepers(long n, struct bench_sample *s)
{
	struct latch all_woke = { .done = ringo_chan_make(0, 0) };
	struct bench_clock c;

	if (!all_woke.done) {
		fprintf(stderr, "ringo-bench: ringo_chan_make: out of memory\n");
		return -1;
	}
	atomic_store_explicit(&all_woke.left, n, memory_order_relaxed);
	bench_clock_start(&c);
	for (long i = 0; i < n; i++)
		ringo_go(sleeper, &all_woke);
	ringo_chan_recv(all_woke.done, NULL);
	int64_t wall = bench_clock_stop(&c, (double)n, s);
	bench_set(s, BENCH_WALL_NS, (double)wall);

	/* Let the closer leave ringo_chan_close before the free. */
	while (ringo_num_goroutines() > 1)
		ringo_yield();
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
