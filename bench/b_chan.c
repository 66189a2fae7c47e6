/*
 * bench/b_chan.c - channel benchmarks: pingpong and mpmc (against the
 * number of Ps), select, ring (up to millions of goroutines). Each mirrors
 * the function of the same name in bench/go/chan.go, with the same
 * goroutines, channels and counts;
 * values are int64_t, as Go's int; goroutines are joined on latches
 * (latch.h) where Go uses a sync.WaitGroup.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ringo/ringo.h>

#include "bench.h"
#include "latch.h"

/* Keeps computed sums alive, as gobench's `sink`. */
static volatile int64_t sink;

/* ------------------------------------------------------------------------
 * pingpong: channel round trip. A pinger sends i on `ping` and waits for
 * it back on `pong`, N times, then closes ping; the ponger echoes until
 * ping is closed. ns_per_op = time per round trip (two hand-offs, two
 * wake-ups), against the number of Ps: on one P the two goroutines hand
 * the P to each other, on more they may wake each other across cores. */

struct pingpong {
	long n;
	ringo_chan *ping, *pong;
	struct bench_latch done;
};

static void ponger(void *arg)
{
	struct pingpong *pp = arg;
	int64_t v;
	while (ringo_chan_recv(pp->ping, &v))
		ringo_chan_send(pp->pong, &v);
	bench_latch_count_down(&pp->done);
}

static void pinger(void *arg)
{
	struct pingpong *pp = arg;
	for (int64_t i = 0; i < pp->n; i++) {
		int64_t v;
		ringo_chan_send(pp->ping, &i);
		ringo_chan_recv(pp->pong, &v);
	}
	ringo_chan_close(pp->ping);
	bench_latch_count_down(&pp->done);
}

static int run_pingpong(long n, struct bench_sample *s)
{
	struct pingpong pp = { .n = n };
	struct bench_clock c;
	int ret = -1;

	pp.ping = bench_chan_make(sizeof(int64_t), 0);
	pp.pong = bench_chan_make(sizeof(int64_t), 0);
	if (!pp.ping || !pp.pong || bench_latch_init(&pp.done, 2) != 0)
		goto out;
	bench_clock_start(&c);
	ringo_go(ponger, &pp);
	ringo_go(pinger, &pp);
	bench_latch_wait(&pp.done);
	bench_clock_stop(&c, (double)n, s);
	bench_wait_alone();
	ringo_chan_free(pp.done.done);
	ret = 0;
out:
	ringo_chan_free(pp.pong);
	ringo_chan_free(pp.ping);
	return ret;
}

const struct bench bench_pingpong = {
	.name = "pingpong",
	.desc = "round trip over two unbuffered channels",
	.n_quick = 200000,
	.n_full = 2000000,
	.run = run_pingpong,
	.go_name = "pingpong",
	.axis = BENCH_AXIS_PROCS,
	.x_label = "Ps (GOMAXPROCS)",
	.op = "round trip",
};

/* ------------------------------------------------------------------------
 * mpmc: a contended buffered channel. 4 producers and 4 consumers share
 * one channel of capacity 128; N messages in total, split across the
 * producers as evenly as gobench splits them. The main goroutine closes
 * the channel once all producers are done. ns_per_op = time per message,
 * against the number of Ps. */

#define MPMC_PRODUCERS 4
#define MPMC_CONSUMERS 4
#define MPMC_CAP 128

struct mpmc {
	ringo_chan *ch;
	struct bench_latch prod, cons;
	atomic_llong total;   /* sum of everything received */
	long cnt[MPMC_PRODUCERS];
};

struct mpmc_producer {
	struct mpmc *m;
	long cnt;
};

static void mpmc_consumer(void *arg)
{
	struct mpmc *m = arg;
	int64_t v, sum = 0;
	while (ringo_chan_recv(m->ch, &v))
		sum += v;
	atomic_fetch_add_explicit(&m->total, sum, memory_order_relaxed);
	bench_latch_count_down(&m->cons);
}

static void mpmc_producer(void *arg)
{
	struct mpmc_producer *p = arg;
	for (int64_t i = 0; i < p->cnt; i++)
		ringo_chan_send(p->m->ch, &i);
	bench_latch_count_down(&p->m->prod);
}

static int run_mpmc(long n, struct bench_sample *s)
{
	struct mpmc m = { 0 };
	struct mpmc_producer prods[MPMC_PRODUCERS];
	struct bench_clock c;
	int64_t want = 0;
	int ret = -1;

	m.ch = bench_chan_make(sizeof(int64_t), MPMC_CAP);
	if (!m.ch)
		return -1;
	if (bench_latch_init(&m.prod, MPMC_PRODUCERS) != 0)
		goto out_ch;
	if (bench_latch_init(&m.cons, MPMC_CONSUMERS) != 0)
		goto out_prod;
	for (int p = 0; p < MPMC_PRODUCERS; p++) {
		long cnt = n / MPMC_PRODUCERS + (p < n % MPMC_PRODUCERS);
		prods[p] = (struct mpmc_producer){ .m = &m, .cnt = cnt };
		want += (int64_t)cnt * (cnt - 1) / 2;
	}

	bench_clock_start(&c);
	for (int i = 0; i < MPMC_CONSUMERS; i++)
		ringo_go(mpmc_consumer, &m);
	for (int p = 0; p < MPMC_PRODUCERS; p++)
		ringo_go(mpmc_producer, &prods[p]);
	bench_latch_wait(&m.prod);
	ringo_chan_close(m.ch);
	bench_latch_wait(&m.cons);
	bench_clock_stop(&c, (double)n, s);
	bench_wait_alone();

	int64_t total = atomic_load_explicit(&m.total, memory_order_relaxed);
	sink += total;
	if (total != want)
		fprintf(stderr, "ringo-bench: mpmc: received sum %lld, expected %lld\n",
			(long long)total, (long long)want);
	else
		ret = 0;
	ringo_chan_free(m.cons.done);
out_prod:
	ringo_chan_free(m.prod.done);
out_ch:
	ringo_chan_free(m.ch);
	return ret;
}

const struct bench bench_mpmc = {
	.name = "mpmc",
	.desc = "4 producers, 4 consumers on one channel of capacity 128",
	.n_quick = 1000000,
	.n_full = 10000000,
	.run = run_mpmc,
	.go_name = "mpmc",
	.axis = BENCH_AXIS_PROCS,
	.x_label = "Ps (GOMAXPROCS)",
	.op = "message",
};

/* ------------------------------------------------------------------------
 * select: a 2-way select. One receiver goroutine loops N times over a
 * select receiving from two unbuffered channels, adding what comes from a
 * and subtracting what comes from b; one sender feeds a N/2 values, the
 * other feeds b the rest. ns_per_op = time per completed select. */

struct sel {
	long n;
	ringo_chan *a, *b;
	struct bench_latch done;
};

struct sel_sender {
	struct sel *sl;
	ringo_chan *c;
	long cnt;
};

static void sel_receiver(void *arg)
{
	struct sel *sl = arg;
	int64_t va, vb, sum = 0;
	struct ringo_select_case cs[] = { RINGO_RECV(sl->a, &va), RINGO_RECV(sl->b, &vb) };

	for (long i = 0; i < sl->n; i++) {
		switch (RINGO_SELECT(cs)) {
		case 0:
			sum += va;
			break;
		case 1:
			sum -= vb;
			break;
		}
	}
	sink += sum;
	bench_latch_count_down(&sl->done);
}

static void sel_sender(void *arg)
{
	struct sel_sender *ss = arg;
	for (int64_t i = 0; i < ss->cnt; i++)
		ringo_chan_send(ss->c, &i);
	bench_latch_count_down(&ss->sl->done);
}

static int run_select(long n, struct bench_sample *s)
{
	struct sel sl = { .n = n };
	struct sel_sender sa = { &sl, NULL, n / 2 }, sb = { &sl, NULL, n - n / 2 };
	struct bench_clock c;
	int ret = -1;

	sa.c = sl.a = bench_chan_make(sizeof(int64_t), 0);
	sb.c = sl.b = bench_chan_make(sizeof(int64_t), 0);
	if (!sl.a || !sl.b || bench_latch_init(&sl.done, 3) != 0)
		goto out;
	bench_clock_start(&c);
	ringo_go(sel_receiver, &sl);
	ringo_go(sel_sender, &sa);
	ringo_go(sel_sender, &sb);
	bench_latch_wait(&sl.done);
	bench_clock_stop(&c, (double)n, s);
	bench_wait_alone();
	ringo_chan_free(sl.done.done);
	ret = 0;
out:
	ringo_chan_free(sl.b);
	ringo_chan_free(sl.a);
	return ret;
}

const struct bench bench_select = {
	.name = "select",
	.desc = "2-way select receiving from two unbuffered channels",
	.n_quick = 500000,
	.n_full = 5000000,
	.run = run_select,
	.go_name = "select",
};

/* ------------------------------------------------------------------------
 * ring: hand-off through many goroutines (cache-cold wake-ups). N
 * goroutines form a ring of unbuffered channels; each receives the token
 * from its left channel and sends token - 1 to its right one, and the one
 * that receives 1 reports completion on `done` (capacity 1). The token
 * makes one trip if N >= 100000, else enough trips for 1,000,000 hops;
 * N goes up to millions (the ring is a curve over N).
 * Tear-down closes ring[0]; each goroutine closes its right channel in
 * turn, except the last (its right channel is ring[0]).
 * ns_per_op = time per hop; spawn_ns_per_g = time to start the N
 * goroutines (until each has counted itself started) / N;
 * rss_bytes_per_g = RSS growth over the spawn / N. Each repetition is a
 * fresh process, so every spawn is a cold one, as in park. */

struct ring {
	ringo_chan **chans;
	ringo_chan *done;
	struct bench_latch started, finished;
};

struct ring_g {
	struct ring *r;
	ringo_chan *in, *out;
	bool last;
};

static void ring_member(void *arg)
{
	struct ring_g *g = arg;
	int64_t v;

	bench_latch_count_down(&g->r->started);
	while (ringo_chan_recv(g->in, &v)) {
		if (v == 1) {
			ringo_chan_send(g->r->done, NULL);
			continue;
		}
		v--;
		ringo_chan_send(g->out, &v);
	}
	if (!g->last)
		ringo_chan_close(g->out);
	bench_latch_count_down(&g->r->finished);
}

static int run_ring(long n, struct bench_sample *s)
{
	long trips = n < 100000 ? (1000000 + n - 1) / n : 1;
	int64_t hops = (int64_t)n * trips;
	struct ring r = { 0 };
	struct ring_g *gs = calloc((size_t)n, sizeof(*gs));
	struct bench_clock c;
	long made = 0;
	int ret = -1;

	r.chans = calloc((size_t)n, sizeof(*r.chans));
	if (!gs || !r.chans) {
		fprintf(stderr, "ringo-bench: ring: out of memory\n");
		goto out;
	}
	for (; made < n; made++)
		if (!(r.chans[made] = bench_chan_make(sizeof(int64_t), 0)))
			goto out;
	if (!(r.done = bench_chan_make(0, 1)))
		goto out;
	if (bench_latch_init(&r.started, n) != 0)
		goto out_done;
	if (bench_latch_init(&r.finished, n) != 0)
		goto out_started;
	for (long i = 0; i < n; i++)
		gs[i] = (struct ring_g){ &r, r.chans[i], r.chans[(i + 1) % n], i == n - 1 };

	int64_t rss_before = sys_rss_bytes();
	int64_t spawn_start = sys_now_ns();
	for (long i = 0; i < n; i++)
		ringo_go(ring_member, &gs[i]);
	bench_latch_wait(&r.started);
	int64_t spawn_ns = sys_now_ns() - spawn_start;
	int64_t rss_after = sys_rss_bytes();
	if (rss_before >= 0 && rss_after >= 0)
		bench_set(s, BENCH_RSS_BYTES_PER_G,
			  (double)(rss_after - rss_before) / (double)n);

	bench_clock_start(&c);
	ringo_chan_send(r.chans[0], &hops);
	ringo_chan_recv(r.done, NULL);
	bench_clock_stop(&c, (double)hops, s);
	bench_set(s, BENCH_SPAWN_NS_PER_G, (double)spawn_ns / (double)n);

	ringo_chan_close(r.chans[0]);
	bench_latch_wait(&r.finished);
	bench_wait_alone();
	ret = 0;
	ringo_chan_free(r.finished.done);
out_started:
	ringo_chan_free(r.started.done);
out_done:
	ringo_chan_free(r.done);
out:
	for (long i = 0; i < made; i++)
		ringo_chan_free(r.chans[i]);
	free(r.chans);
	free(gs);
	return ret;
}

const struct bench bench_ring = {
	.name = "ring",
	.desc = "a token passed around a ring of N goroutines",
	.fresh = true,
	.run = run_ring,
	.go_name = "ring",
	.axis = BENCH_AXIS_N,
	.points_quick = { 10000, 100000 },
	.points_full = { 10000, 100000, 1000000, 2000000, 4000000 },
	.x_label = "goroutines in the ring (N)",
	.op = "hop",
	.plots = { BENCH_NS_PER_OP, BENCH_SPAWN_NS_PER_G, BENCH_RSS_BYTES_PER_G },
	.plots_nr = 3,
	/* park's stack and G, plus a channel and a ring slot each. */
	.bytes_per_g = { 5000, 3500 },
};
