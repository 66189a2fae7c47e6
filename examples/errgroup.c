/*
 * examples/errgroup.c - the lesson's errgroup "fetch": fetch several URLs
 * at once; the first failure cancels the group's context, the other
 * fetches notice and give up, and wait returns that first error.
 *
 *   g, ctx := errgroup.WithContext(context.Background())
 *   for _, url := range urls {
 *       g.Go(func() error { return fetch(ctx, url) })
 *   }
 *   if err := g.Wait(); err != nil { ... }
 *
 * A fetch is simulated: a short connect (ringo_sleep), then a transfer
 * that takes `ms` unless the context is cancelled first.
 */
#include <ringo/ringo.h>
#include <stdio.h>
#include <string.h>

#define MS RINGO_MILLISECOND

struct fetch {
	const char *url;
	int ms;    /* transfer time */
	int fails; /* error returned at the end of the transfer, or 0 */
	int result;
	bool finished;
};

static int fetch(ringo_ctx *ctx, void *arg)
{
	struct fetch *f = arg;

	if (ringo_ctx_err(ctx)) /* as the lesson: check before working */
		return f->result = ringo_ctx_err(ctx);
	ringo_sleep(2 * MS); /* connect */
	ringo_chan *done = ringo_after(f->ms * MS);
	struct ringo_select_case cs[] = {
		RINGO_RECV(done, NULL),
		RINGO_RECV(ringo_ctx_done(ctx), NULL),
	};
	if (RINGO_SELECT(cs) == 1) {
		f->result = ringo_ctx_err(ctx); /* RINGO_CANCELED */
	} else {
		f->finished = true;
		f->result = f->fails;
	}
	ringo_after_free(done);
	return f->result;
}

static int fetch_all(struct fetch *fs, int n, int limit)
{
	ringo_group *g = ringo_group_new(NULL);

	ringo_group_set_limit(g, limit);
	for (int i = 0; i < n; i++)
		ringo_group_go(g, fetch, &fs[i]);
	int err = ringo_group_wait(g);
	ringo_group_free(g);
	return err;
}

static int main_g(void *arg)
{
	(void)arg;
	struct fetch fs[] = {
		{ "http://google.com", 300, 0, 0, false },
		{ "http://bad-url.com", 20, -EHOSTUNREACH, 0, false },
		{ "http://bing.com", 500, 0, 0, false },
		{ "http://go.dev", 400, 0, 0, false },
	};
	int n = (int)(sizeof(fs) / sizeof(fs[0])), bad = 0;

	int64_t t0 = ringo_now();
	int err = fetch_all(fs, n, -1);
	int64_t took = ringo_now() - t0;
	for (int i = 0; i < n; i++)
		printf("%-20s %s\n", fs[i].url,
		       fs[i].finished ? (fs[i].result ? "failed" : "ok")
				      : "cancelled");
	printf("error encountered: %s, after %lld ms\n", strerror(-err),
	       (long long)(took / MS));
	/* The bad URL failed; everyone else was cancelled long before
	 * their transfers could end. */
	bad |= err != -EHOSTUNREACH || took >= 250 * MS;
	for (int i = 0; i < n; i++)
		bad |= fs[i].finished != (i == 1);

	/* All good, two at a time: no error, everyone finished. */
	struct fetch ok[] = {
		{ "http://a.example", 10, 0, 0, false },
		{ "http://b.example", 20, 0, 0, false },
		{ "http://c.example", 10, 0, 0, false },
	};
	err = fetch_all(ok, 3, 2);
	printf("three good fetches, two at a time: %s\n",
	       err ? strerror(-err) : "all fetches successful");
	bad |= err != 0 || !ok[0].finished || !ok[1].finished || !ok[2].finished;
	return bad;
}

int main(void)
{
	return ringo_run(main_g, NULL);
}
