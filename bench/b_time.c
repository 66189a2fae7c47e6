/*
 * bench/b_time.c - timer benchmarks: sleepers, and the cost of one timer
 * against the number of live timers (timer-stop, timer-fire). Each mirrors
 * the function of the same name in bench/go/time.go; where Go joins on
 * a sync.WaitGroup, ringo joins on a latch (latch.h: a channel the last
 * goroutine closes), so the waiter parks.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ringo/ringo.h>
#include <ringo/time.h>

#include "bench.h"
#include "latch.h"

#define SLEEP_NS (100 * RINGO_MILLISECOND)

/* ------------------------------------------------------------------------
 * sleepers: timer scalability. N goroutines each sleep 100 ms. Two numbers,
 * because the first cannot show the timers' lateness:
 *   wall_ns:      from the first spawn until the last has woken and counted
 *                 down. Spawning 1M goroutines takes over a second on any
 *                 runtime, so at large N this is bounded by spawn cost.
 *                 ns_per_op = wall_ns / N.
 *   sleep_max_ns, sleep_p99_ns: each sleeper reads ringo_now() just before
 *                 and just after its ringo_sleep; the longest of those N
 *                 sleeps, and their 99th percentile. Ideal: 100 ms whatever
 *                 N; what exceeds it is how late the timers (and the run
 *                 queues behind them) woke the sleepers.
 * A sleep shorter than 100 ms fails the benchmark. The percentile comes
 * from a histogram of lateness in SLEEP_BUCKET_NS buckets, counted with
 * relaxed atomics (the latch's acq_rel count-down publishes them to the
 * waiter); it is the upper edge of its bucket, capped at the maximum, so
 * it overstates by less than a bucket. Go's twin does the same. */

#define SLEEP_BUCKET_NS (100 * RINGO_MICROSECOND)
#define SLEEP_BUCKETS 65536 /* 6.5 s of lateness; the last bucket is open */

struct sleepers {
	struct bench_latch all_woke;
	atomic_int_least64_t max_ns; /* longest sleep seen */
	atomic_int_least64_t min_ns; /* shortest, to catch an early wake-up */
	atomic_uint_least32_t *late; /* [SLEEP_BUCKETS] counts of lateness */
};

static void sleepers_note(struct sleepers *sl, int64_t slept)
{
	int64_t seen = atomic_load_explicit(&sl->max_ns, memory_order_relaxed);
	while (slept > seen &&
	       !atomic_compare_exchange_weak_explicit(&sl->max_ns, &seen, slept,
						      memory_order_relaxed,
						      memory_order_relaxed))
		;
	seen = atomic_load_explicit(&sl->min_ns, memory_order_relaxed);
	while (slept < seen &&
	       !atomic_compare_exchange_weak_explicit(&sl->min_ns, &seen, slept,
						      memory_order_relaxed,
						      memory_order_relaxed))
		;
	if (slept < SLEEP_NS)
		return;
	int64_t b = (slept - SLEEP_NS) / SLEEP_BUCKET_NS;
	b = b < SLEEP_BUCKETS ? b : SLEEP_BUCKETS - 1;
	atomic_fetch_add_explicit(&sl->late[b], 1, memory_order_relaxed);
}

static void sleeper(void *arg)
{
	struct sleepers *sl = arg;
	int64_t start = ringo_now();
	ringo_sleep(SLEEP_NS);
	sleepers_note(sl, ringo_now() - start);
	bench_latch_count_down(&sl->all_woke);
}

/* The sleep that at least 99% of the n sleeps were no longer than. */
static int64_t sleepers_p99(struct sleepers *sl, long n, int64_t max)
{
	long want = n - n / 100, seen = 0;
	for (int64_t b = 0; b < SLEEP_BUCKETS - 1; b++) {
		seen += (long)atomic_load_explicit(&sl->late[b], memory_order_relaxed);
		if (seen >= want) {
			int64_t edge = SLEEP_NS + (b + 1) * SLEEP_BUCKET_NS;
			return edge < max ? edge : max;
		}
	}
	return max;
}

static int run_sleepers(long n, struct bench_sample *s)
{
	struct sleepers sl = { .late = calloc(SLEEP_BUCKETS, sizeof(*sl.late)) };
	struct bench_clock c;

	if (!sl.late) {
		fprintf(stderr, "ringo-bench: sleepers: out of memory\n");
		return -1;
	}
	atomic_init(&sl.max_ns, 0);
	atomic_init(&sl.min_ns, INT64_MAX);
	if (bench_latch_init(&sl.all_woke, n) != 0) {
		free(sl.late);
		return -1;
	}
	bench_clock_start(&c);
	for (long i = 0; i < n; i++)
		ringo_go(sleeper, &sl);
	bench_latch_wait(&sl.all_woke);
	int64_t wall = bench_clock_stop(&c, (double)n, s);
	int64_t max = atomic_load_explicit(&sl.max_ns, memory_order_relaxed);
	int64_t min = atomic_load_explicit(&sl.min_ns, memory_order_relaxed);
	bench_set(s, BENCH_WALL_NS, (double)wall);
	bench_set(s, BENCH_SLEEP_MAX_NS, (double)max);
	bench_set(s, BENCH_SLEEP_P99_NS, (double)sleepers_p99(&sl, n, max));

	/* Let the closer leave ringo_chan_close before the free. */
	bench_wait_alone();
	ringo_chan_free(sl.all_woke.done);
	free(sl.late);
	if (wall < SLEEP_NS || min < SLEEP_NS) {
		fprintf(stderr, "ringo-bench: sleepers: a %lld ns sleep returned after "
			"%lld ns (all woke after %lld ns)\n", (long long)SLEEP_NS,
			(long long)min, (long long)wall);
		return -1;
	}
	return 0;
}

const struct bench bench_sleepers = {
	.name = "sleepers",
	.desc = "N goroutines each sleeping 100 ms: wall time until all woke, "
		"and the longest sleep",
	.n_quick = 100000,
	.n_full = 1000000,
	.run = run_sleepers,
	.go_name = "sleepers",
};

/* ------------------------------------------------------------------------
 * timer-stop, timer-fire: one timer's cost against the number of live
 * timers. On one P (so every timer is in one heap), N timers are started
 * to fire between 1 and 2 hours from now, in a pseudo-random order both
 * sides share (an LCG); then TIMER_OPS times, one more timer is
 *   timer-stop: reset to a pseudo-random time in that range, then stopped
 *               (an insert and a removal from the middle of the heap);
 *   timer-fire: reset to 1 ns and received from (an insert at the top,
 *               the pop when it fires, and the wake-up of the receiver).
 * Resetting one timer keeps allocation out of the numbers. ns_per_op =
 * time per reset+stop or reset+fire. */

#define TIMER_OPS 100000
#define TIMER_SPREAD (3600 * RINGO_SECOND)

/* Go's twin uses the same generator: Knuth's MMIX LCG. */
static uint64_t timer_lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return *x >> 11;
}

static int64_t timer_far(uint64_t *x)
{
	return TIMER_SPREAD + (int64_t)(timer_lcg(x) % (uint64_t)TIMER_SPREAD);
}

static int run_timers(long n, struct bench_sample *s, bool fire)
{
	ringo_timer **live = calloc((size_t)n, sizeof(*live));
	ringo_timer *t = NULL;
	uint64_t x = 1;
	long made = 0;
	int ret = -1;

	if (!live)
		goto out;
	for (; made < n; made++)
		if (!(live[made] = ringo_timer_new(timer_far(&x))))
			goto out;
	if (!(t = ringo_timer_new(timer_far(&x))))
		goto out;
	ringo_timer_stop(t);

	struct bench_clock c;
	bench_clock_start(&c);
	for (int i = 0; i < TIMER_OPS; i++) {
		if (fire) {
			int64_t when;
			ringo_timer_reset(t, 1);
			ringo_chan_recv(ringo_timer_chan(t), &when);
		} else {
			ringo_timer_reset(t, timer_far(&x));
			ringo_timer_stop(t);
		}
	}
	bench_clock_stop(&c, TIMER_OPS, s);
	ret = 0;
out:
	if (ret != 0)
		fprintf(stderr, "ringo-bench: timers: out of memory after %ld timers\n",
			made);
	ringo_timer_free(t);
	for (long i = 0; i < made; i++)
		ringo_timer_free(live[i]);
	free(live);
	return ret;
}

static int run_timer_stop(long n, struct bench_sample *s)
{
	return run_timers(n, s, false);
}

static int run_timer_fire(long n, struct bench_sample *s)
{
	return run_timers(n, s, true);
}

const struct bench bench_timer_stop = {
	.name = "timer-stop",
	.desc = "reset a timer to 1-2 h and stop it, among N live timers",
	.procs = 1,
	.run = run_timer_stop,
	.go_name = "timerstop",
	.axis = BENCH_AXIS_N,
	.points_quick = { 1000, 100000 },
	.points_full = { 1000, 10000, 100000, 1000000 },
	.x_label = "live timers (N)",
	.op = "reset + stop",
};

const struct bench bench_timer_fire = {
	.name = "timer-fire",
	.desc = "reset a timer to 1 ns and receive its tick, among N live timers",
	.procs = 1,
	.run = run_timer_fire,
	.go_name = "timerfire",
	.axis = BENCH_AXIS_N,
	.points_quick = { 1000, 100000 },
	.points_full = { 1000, 10000, 100000, 1000000 },
	.x_label = "live timers (N)",
	.op = "reset + fire + receive",
};
