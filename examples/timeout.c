/*
 * examples/timeout.c - timeouts with select, as in the lessons:
 *
 *   select {
 *   case result := <-dbResponse: use(result)
 *   case <-time.After(50 * time.Millisecond): fmt.Println("timeout")
 *   }
 *
 * and a loop that works until its context's deadline (lesson 4's
 * doWork). The reply channel has room for one value, so a query that
 * answers after we gave up does not block forever (the goroutine leak
 * the lessons warn about); C has no GC, so we still collect the late
 * answer before freeing the channel.
 */
#include <ringo/ringo.h>
#include <stdio.h>

#define MS RINGO_MILLISECOND

struct query {
	int64_t latency;
	ringo_chan *reply; /* int, capacity 1 */
};

static void db_query(void *arg)
{
	struct query *q = arg;
	int row = 42;

	ringo_sleep(q->latency);
	ringo_chan_send(q->reply, &row); /* never blocks: capacity 1 */
}

/* Ask with a timeout: the row, or -1 on timeout. */
static int query_with_timeout(struct query *q, int64_t timeout)
{
	int row = -1;
	int64_t t;

	q->reply = ringo_chan_make(sizeof(int), 1);
	ringo_go(db_query, q);
	ringo_chan *after = ringo_after(timeout);
	struct ringo_select_case cs[] = { RINGO_RECV(q->reply, &row),
					  RINGO_RECV(after, &t) };
	int which = RINGO_SELECT(cs);
	ringo_after_free(after);
	printf("query taking %lld ms, timeout %lld ms: %s\n",
	       (long long)(q->latency / MS), (long long)(timeout / MS),
	       which == 0 ? "got the row" : "timeout");
	return which == 0 ? row : -1;
}

/* Work in 10 ms steps until ctx is done; returns the steps done. */
static int do_work(ringo_ctx *ctx)
{
	int steps = 0;

	for (;;) {
		ringo_chan *step = ringo_after(10 * MS);
		struct ringo_select_case cs[] = {
			RINGO_RECV(ringo_ctx_done(ctx), NULL),
			RINGO_RECV(step, NULL),
		};
		int which = RINGO_SELECT(cs);
		ringo_after_free(step);
		if (which == 0)
			return steps;
		steps++;
	}
}

static int main_g(void *arg)
{
	(void)arg;
	int bad = 0;

	struct query fast = { .latency = 5 * MS };
	bad |= query_with_timeout(&fast, 1000 * MS) != 42;
	ringo_chan_free(fast.reply);

	struct query slow = { .latency = 400 * MS };
	bad |= query_with_timeout(&slow, 50 * MS) != -1;
	ringo_chan_recv(slow.reply, NULL); /* the late answer arrives */
	ringo_chan_free(slow.reply);

	int64_t t0 = ringo_now();
	ringo_ctx *ctx = ringo_ctx_with_timeout(NULL, 100 * MS);
	int steps = do_work(ctx);
	int64_t took = ringo_now() - t0;
	int err = ringo_ctx_err(ctx);
	printf("worked %d steps in %lld ms, then: %s\n", steps,
	       (long long)(took / MS),
	       err == RINGO_DEADLINE_EXCEEDED ? "deadline exceeded" : "?");
	ringo_ctx_free(ctx);
	/* At most 10 steps of 10 ms fit in 100 ms; the deadline ended it. */
	bad |= err != RINGO_DEADLINE_EXCEEDED || steps > 10 || took < 100 * MS;
	return bad;
}

int main(void)
{
	return ringo_run(main_g, NULL);
}
