/*
 * examples/fanin.c - fan-out, fan-in: one input channel is shared by
 * several workers (fan-out: whoever is free takes the next number), each
 * worker has its own output channel, and one merging goroutine per
 * output forwards into a single channel (fan-in) that is closed when
 * all of them are done - the "closer" goroutine waits on a wait group.
 *
 * Go (the lesson's fanOut / fanIn):
 *   channels := fanOut(input)       // 5 workers: out <- n * n
 *   for n := range fanIn(channels) { sum += n }
 */
#include <ringo/ringo.h>
#include <stdio.h>

enum { WORKERS = 5, N = 1000 };

static ringo_chan *input;          /* int: the numbers 1..N */
static ringo_chan *outs[WORKERS];  /* int: one per worker */
static ringo_chan *merged;         /* int: everything */
static ringo_wg merging = RINGO_WG_INITIALIZER;
static int handled[WORKERS];

static void producer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= N; i++)
		ringo_chan_send(input, &i);
	ringo_chan_close(input);
}

static void fan_out_worker(void *arg)
{
	int id = (int)(intptr_t)arg, n;

	while (ringo_chan_recv(input, &n)) {
		int sq = n * n;
		ringo_chan_send(outs[id], &sq);
		handled[id]++;
	}
	ringo_chan_close(outs[id]);
}

static void fan_in_forwarder(void *arg)
{
	ringo_chan *c = arg;
	int v;

	while (ringo_chan_recv(c, &v))
		ringo_chan_send(merged, &v);
	ringo_wg_done(&merging);
}

static void closer(void *arg)
{
	(void)arg;
	ringo_wg_wait(&merging);
	ringo_chan_close(merged);
}

static int main_g(void *arg)
{
	(void)arg;
	input = ringo_chan_make(sizeof(int), 0);
	merged = ringo_chan_make(sizeof(int), 0);
	ringo_go(producer, NULL);
	/* Fan out. */
	for (intptr_t i = 0; i < WORKERS; i++) {
		outs[i] = ringo_chan_make(sizeof(int), 0);
		ringo_go(fan_out_worker, (void *)i);
	}
	/* Fan in. */
	ringo_wg_add(&merging, WORKERS);
	for (int i = 0; i < WORKERS; i++)
		ringo_go(fan_in_forwarder, outs[i]);
	ringo_go(closer, NULL);

	long long sum = 0;
	int v, count = 0;
	while (ringo_chan_recv(merged, &v)) {
		sum += v;
		count++;
	}
	int total = 0;
	for (int i = 0; i < WORKERS; i++) {
		printf("worker %d squared %d numbers\n", i, handled[i]);
		total += handled[i];
		ringo_chan_free(outs[i]);
	}
	printf("%d results, sum of squares %lld\n", count, sum);
	ringo_chan_free(input);
	ringo_chan_free(merged);
	/* 1^2 + ... + 1000^2 = 1000 * 1001 * 2001 / 6 */
	return count == N && total == N && sum == 333833500LL ? 0 : 1;
}

int main(void)
{
	return ringo_run(main_g, NULL);
}
