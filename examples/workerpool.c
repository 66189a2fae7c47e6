/*
 * examples/workerpool.c - a bounded worker pool (the Go lesson's
 * "Hands-On Exercise 2"): a fixed number of workers take jobs from one
 * channel and put results on another; closing the jobs channel tells
 * them the work is done, a wait group closes the results channel when
 * the last worker has left, and a context lets the caller stop the pool
 * early. Every goroutine exits cleanly either way.
 *
 * Go:                                  ringo:
 *   for { select {                       struct ringo_select_case cs[] = {
 *   case <-ctx.Done(): return              RINGO_RECV(ringo_ctx_done(ctx), NULL),
 *   case j, ok := <-jobs: ... } }          RINGO_RECV(jobs, &j) };
 */
#include <ringo/ringo.h>
#include <stdio.h>

struct pool {
	ringo_ctx *ctx;
	ringo_chan *jobs;    /* int, buffered */
	ringo_chan *results; /* int, buffered */
	ringo_wg wg;
	int per_worker[16];  /* jobs done by each worker, for the report */
};

struct worker {
	struct pool *pool;
	int id;
};

static void worker(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;
	int job;

	for (;;) {
		struct ringo_select_case cs[] = {
			RINGO_RECV(ringo_ctx_done(p->ctx), NULL),
			RINGO_RECV(p->jobs, &job),
		};
		if (RINGO_SELECT(cs) == 0 || !cs[1].ok)
			break; /* cancelled, or no more jobs */
		ringo_sleep(RINGO_MILLISECOND / 2); /* simulate work */
		int result = job * job;
		ringo_chan_send(p->results, &result);
		p->per_worker[w->id]++;
	}
	ringo_wg_done(&p->wg);
}

static void close_when_done(void *arg)
{
	struct pool *p = arg;

	ringo_wg_wait(&p->wg);
	ringo_chan_close(p->results);
}

/* Square jobs[0..n) with `workers` goroutines; returns the sum of the
 * results, and how many there were in *count. */
static long long worker_pool(ringo_ctx *ctx, int workers, const int *jobs,
			     int n, int *count)
{
	struct pool p = { .ctx = ctx };
	struct worker ws[16];

	p.jobs = ringo_chan_make(sizeof(int), (size_t)n);
	p.results = ringo_chan_make(sizeof(int), (size_t)n);
	ringo_wg_init(&p.wg);
	ringo_wg_add(&p.wg, workers);
	for (int i = 0; i < workers; i++) {
		ws[i] = (struct worker){ &p, i };
		ringo_go(worker, &ws[i]);
	}
	for (int i = 0; i < n; i++)
		ringo_chan_send(p.jobs, &jobs[i]);
	ringo_chan_close(p.jobs); /* signal workers: no more jobs */
	ringo_go(close_when_done, &p);

	long long sum = 0;
	int r;
	*count = 0;
	while (ringo_chan_recv(p.results, &r)) { /* range over results */
		sum += r;
		(*count)++;
	}
	for (int i = 0; i < workers; i++)
		printf("  worker %d did %d jobs\n", i, p.per_worker[i]);
	ringo_chan_free(p.jobs);
	ringo_chan_free(p.results);
	return sum;
}

static int main_g(void *arg)
{
	(void)arg;
	enum { N = 100 };
	int jobs[N], count;

	for (int i = 0; i < N; i++)
		jobs[i] = i + 1;

	/* All jobs: the sum of squares 1..100. */
	long long sum = worker_pool(ringo_ctx_background(), 5, jobs, N, &count);
	printf("5 workers, %d results, sum of squares %lld\n", count, sum);
	if (count != N || sum != 338350)
		return 1;

	/* A context cancelled before the pool starts: the workers leave at
	 * once, whatever the jobs channel holds (select picks at random
	 * between done and a job, so a few jobs may still run). */
	ringo_ctx *ctx = ringo_ctx_with_cancel(NULL);
	ringo_ctx_cancel(ctx);
	sum = worker_pool(ctx, 3, jobs, N, &count);
	printf("cancelled pool: %d results (of %d)\n", count, N);
	ringo_ctx_free(ctx);
	if (count >= N / 2)
		return 1;
	return 0;
}

int main(void)
{
	return ringo_run(main_g, NULL);
}
