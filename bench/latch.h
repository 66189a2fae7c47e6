/*
 * bench/latch.h - how a benchmark's main goroutine joins the goroutines it
 * started. Where Go joins on a sync.WaitGroup, ringo joins on a latch (a
 * channel the last goroutine closes), so the waiter parks rather than
 * spins, as Go's does.
 */
#ifndef RINGO_BENCH_LATCH_H
#define RINGO_BENCH_LATCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

#include <ringo/ringo.h>

/* ringo_chan_make that says why it failed (out of memory) on stderr. */
static inline ringo_chan *bench_chan_make(size_t elem_size, size_t cap)
{
	ringo_chan *c = ringo_chan_make(elem_size, cap);
	if (!c)
		fprintf(stderr, "ringo-bench: ringo_chan_make: out of memory\n");
	return c;
}

/* A one-shot countdown: `left` goes from n to 0, once per goroutine; the
 * goroutine that takes it to 0 closes `done`, releasing bench_latch_wait.
 * The owner frees `done` once bench_wait_alone has returned. */
struct bench_latch {
	atomic_long left;
	ringo_chan *done;
};

/* Returns 0, or -1 after printing why it failed. */
static inline int bench_latch_init(struct bench_latch *l, long n)
{
	atomic_store_explicit(&l->left, n, memory_order_relaxed);
	l->done = bench_chan_make(0, 0);
	return l->done ? 0 : -1;
}

/* acq_rel: the closer sees every other count_down's writes, and the
 * waiter sees them through the close/recv hand-off. */
static inline void bench_latch_count_down(struct bench_latch *l)
{
	if (atomic_fetch_sub_explicit(&l->left, 1, memory_order_acq_rel) == 1)
		ringo_chan_close(l->done);
}

static inline void bench_latch_wait(struct bench_latch *l)
{
	ringo_chan_recv(l->done, NULL);
}

/* Let every other goroutine finish, so none can still be inside a channel
 * or sync call on what the caller frees next and the next run starts
 * clean. */
static inline void bench_wait_alone(void)
{
	while (ringo_num_goroutines() > 1)
		ringo_yield();
}

#endif
