/*
 * bench/b_sync.c - sync benchmarks: mutex. Mirrors benchMutex in
 * bench/go/sync.go: 8 goroutines, one lock, a counter inside.
 */
#include <stdio.h>

#include <ringo/ringo.h>
#include <ringo/sync.h>

#include "bench.h"
#include "latch.h"

#define MUTEX_WORKERS 8

/* ------------------------------------------------------------------------
 * mutex: contended lock hand-off. 8 goroutines each do N/8 lock/unlock
 * pairs on one ringo_mutex, incrementing a shared counter inside. The
 * counter is checked at the end: a lost increment is a broken mutex.
 * ns_per_op = time per lock/unlock pair (8 * (N/8) pairs in all). */

struct mutex_bench {
	long per;          /* pairs per worker */
	ringo_mutex mu;
	long counter;      /* protected by mu */
	ringo_wg wg;
};

static void mutex_worker(void *arg)
{
	struct mutex_bench *mb = arg;

	for (long i = 0; i < mb->per; i++) {
		ringo_mutex_lock(&mb->mu);
		mb->counter++;
		ringo_mutex_unlock(&mb->mu);
	}
	ringo_wg_done(&mb->wg);
}

static int run_mutex(long n, struct bench_sample *s)
{
	struct mutex_bench mb = {
		.per = n / MUTEX_WORKERS,
		.mu = RINGO_MUTEX_INITIALIZER,
		.wg = RINGO_WG_INITIALIZER,
	};
	long pairs = mb.per * MUTEX_WORKERS;
	struct bench_clock c;

	ringo_wg_add(&mb.wg, MUTEX_WORKERS);
	bench_clock_start(&c);
	for (int w = 0; w < MUTEX_WORKERS; w++)
		ringo_go(mutex_worker, &mb);
	ringo_wg_wait(&mb.wg);
	bench_clock_stop(&c, (double)pairs, s);

	/* Let the last worker leave ringo_wg_done before mb goes away. */
	bench_wait_alone();
	if (mb.counter != pairs) {
		fprintf(stderr, "ringo-bench: mutex: counter %ld, expected %ld\n",
			mb.counter, pairs);
		return -1;
	}
	return 0;
}

const struct bench bench_mutex = {
	.name = "mutex",
	.desc = "8 goroutines contending on one ringo_mutex",
	.n_quick = 1000000,
	.n_full = 10000000,
	.run = run_mutex,
	.go_name = "mutex",
};
