/*
 * examples/pipeline.c - a pipeline with cancellation: generate -> square
 * -> (consumer). Each stage owns its output channel and closes it when
 * it is done, and every send also watches the context, so when the
 * consumer has had enough and cancels, every stage returns instead of
 * blocking forever on a send nobody will receive (the classic goroutine
 * leak of the Go lessons).
 *
 * Go:
 *   func gen(ctx context.Context, n int) <-chan int {
 *       out := make(chan int)
 *       go func() {
 *           defer close(out)
 *           for i := 1; i <= n; i++ {
 *               select {
 *               case out <- i:
 *               case <-ctx.Done(): return
 *               }
 *           }
 *       }()
 *       return out
 *   }
 */
#include <ringo/ringo.h>
#include <stdio.h>

struct stage {
	ringo_ctx *ctx;
	ringo_chan *in;  /* NULL for the generator */
	ringo_chan *out; /* int, unbuffered; closed by the stage */
	int n;           /* generator: how many numbers */
	ringo_wg *wg;    /* done when the stage has returned */
};

/* Send v on out unless ctx is done first. False if cancelled. */
static bool send_ctx(ringo_ctx *ctx, ringo_chan *out, int v)
{
	struct ringo_select_case cs[] = {
		RINGO_SEND(out, &v),
		RINGO_RECV(ringo_ctx_done(ctx), NULL),
	};
	return RINGO_SELECT(cs) == 0;
}

static void generate(void *arg)
{
	struct stage *s = arg;

	for (int i = 1; i <= s->n; i++)
		if (!send_ctx(s->ctx, s->out, i))
			break;
	ringo_chan_close(s->out);
	ringo_wg_done(s->wg);
}

static void square(void *arg)
{
	struct stage *s = arg;
	int v;

	while (ringo_chan_recv(s->in, &v))
		if (!send_ctx(s->ctx, s->out, v * v))
			break;
	ringo_chan_close(s->out);
	ringo_wg_done(s->wg);
}

/* Run gen(n) -> square -> consumer that stops after `take` values.
 * Returns the sum of the values taken. */
static long long run(int n, int take)
{
	ringo_ctx *ctx = ringo_ctx_with_cancel(NULL);
	ringo_wg wg = RINGO_WG_INITIALIZER;
	ringo_chan *nums = ringo_chan_make(sizeof(int), 0);
	ringo_chan *squares = ringo_chan_make(sizeof(int), 0);
	struct stage g = { ctx, NULL, nums, n, &wg };
	struct stage sq = { ctx, nums, squares, 0, &wg };
	long long sum = 0;
	int v, got = 0;

	ringo_wg_add(&wg, 2);
	ringo_go(generate, &g);
	ringo_go(square, &sq);
	while (got < take && ringo_chan_recv(squares, &v)) {
		sum += v;
		got++;
	}
	ringo_ctx_cancel(ctx); /* we have enough: stop the pipeline */
	ringo_wg_wait(&wg);    /* every stage returned: nothing leaked */
	ringo_ctx_free(ctx);
	ringo_chan_free(nums);
	ringo_chan_free(squares);
	printf("gen(%d) -> square -> take %d: got %d, sum %lld\n", n, take,
	       got, sum);
	return sum;
}

static int main_g(void *arg)
{
	(void)arg;
	/* The whole stream: 1^2 + ... + 1000^2. */
	if (run(1000, 1000000) != 333833500LL)
		return 1;
	/* Only the first 10 of a million: the stages are cancelled. */
	if (run(1000000, 10) != 385)
		return 1;
	/* Nothing at all. */
	if (run(1000000, 0) != 0)
		return 1;
	/* Only main is left: no stage is blocked forever. (A stage that
	 * called ringo_wg_done may still be on its way out: give it a
	 * moment.) */
	int left = ringo_num_goroutines();
	for (int i = 0; i < 1000 && left > 1; i++) {
		ringo_sleep(RINGO_MILLISECOND);
		left = ringo_num_goroutines();
	}
	printf("goroutines left: %d\n", left);
	return left == 1 ? 0 : 1;
}

int main(void)
{
	return ringo_run(main_g, NULL);
}
