/*
 * bench/b_time.c - timer benchmarks: sleepers, and the cost of one timer
 * against the number of live timers (timer-stop, timer-fire). Each mirrors
 * the function of the same name in bench/go/gobench.go; where Go joins on
 * a sync.WaitGroup, ringo joins on a latch (latch.h: a channel the last
 * goroutine closes), so the waiter parks.
 */
#include <stdio.h>
#include <stdlib.h>

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
