/*
 * examples/ratelimit.c - rate limiting with a ticker, as in the lesson:
 *
 *   limiter := time.Tick(20 * time.Millisecond)
 *   for req := range requests { <-limiter; handle(req) }
 *
 * and a bursty limiter: a bucket (a buffered channel) of 3 tokens,
 * refilled by a ticker with a non-blocking send, lets the first 3
 * requests through at once and then one per tick.
 *
 * The checks use only what timers guarantee: a tick never comes before
 * its time (so request i waits at least (i + 1) periods), plus one
 * generous upper bound showing the burst really was immediate.
 */
#include <ringo/ringo.h>
#include <stdio.h>

#define MS RINGO_MILLISECOND
#define PERIOD (20 * MS)
enum { REQUESTS = 8, BURST = 3 };

struct refill {
	ringo_chan *bucket; /* empty elements: tokens */
	ringo_ctx *ctx;     /* stops the refiller */
	ringo_wg done;
};

static void refiller(void *arg)
{
	struct refill *r = arg;
	ringo_timer *tick = ringo_ticker_new(PERIOD);
	int64_t t;

	for (;;) {
		struct ringo_select_case cs[] = {
			RINGO_RECV(ringo_timer_chan(tick), &t),
			RINGO_RECV(ringo_ctx_done(r->ctx), NULL),
		};
		if (RINGO_SELECT(cs) == 1)
			break;
		ringo_chan_trysend(r->bucket, NULL); /* full: drop the token */
	}
	ringo_timer_free(tick);
	ringo_wg_done(&r->done);
}

static int main_g(void *arg)
{
	(void)arg;
	int64_t at[REQUESTS], t, t0 = ringo_now();
	int bad = 0;

	/* 1. One request per tick. */
	ringo_timer *limiter = ringo_ticker_new(PERIOD);
	for (int i = 0; i < REQUESTS; i++) {
		ringo_chan_recv(ringo_timer_chan(limiter), &t);
		at[i] = ringo_now() - t0;
		printf("request %d at %3lld ms\n", i, (long long)(at[i] / MS));
		bad |= at[i] < (i + 1) * PERIOD;
	}
	ringo_timer_free(limiter);

	/* 2. Bursts of up to 3. */
	struct refill r = { ringo_chan_make(0, BURST),
			    ringo_ctx_with_cancel(NULL), RINGO_WG_INITIALIZER };
	for (int i = 0; i < BURST; i++)
		ringo_chan_send(r.bucket, NULL); /* start full */
	t0 = ringo_now();
	ringo_wg_add(&r.done, 1);
	ringo_go(refiller, &r);
	for (int i = 0; i < REQUESTS; i++) {
		ringo_chan_recv(r.bucket, NULL); /* wait for a token */
		at[i] = ringo_now() - t0;
		printf("bursty request %d at %3lld ms\n", i,
		       (long long)(at[i] / MS));
		if (i >= BURST)
			bad |= at[i] < (i - BURST + 1) * PERIOD;
	}
	/* Paced, the third request would wait 3 periods. */
	bad |= at[BURST - 1] >= 2 * PERIOD;
	ringo_ctx_cancel(r.ctx);
	ringo_wg_wait(&r.done);
	ringo_ctx_free(r.ctx);
	ringo_chan_free(r.bucket);
	if (bad)
		printf("timing is wrong\n");
	return bad;
}

int main(void)
{
	return ringo_run(main_g, NULL);
}
