/*
 * core/errgroup.c - groups of goroutines with a shared context and a
 * first error (golang.org/x/sync/errgroup; API in ringo/errgroup.h).
 *
 * Built only from public pieces, as Go's errgroup is: a wait group counts
 * the running goroutines, a CAS on `err` elects the first error, which
 * cancels the group's context, and the limit is a channel of empty
 * elements used as a counting semaphore (a send takes a slot, blocking
 * while all `cap` are taken; a receive gives one back). Unlimited groups
 * have no channel.
 */
#include <stdlib.h>

#include <ringo/chan.h>
#include <ringo/context.h>
#include <ringo/errgroup.h>
#include <ringo/sched.h>
#include <ringo/sync.h>

#include "runtime.h"

struct ringo_group {
	ringo_ctx *ctx;      /* owned: freed by ringo_group_free */
	ringo_wg wg;         /* goroutines started and not finished */
	/* NULL: no limit. Else a channel of capacity `limit` holding one
	 * element per running goroutine. Replaced only by set_limit, which
	 * requires that none runs, so goroutines read it without a lock. */
	ringo_chan *sem;
	/* Running goroutines, for set_limit's and free's misuse checks
	 * (the wait group's counter is private). */
	_Atomic int active;
	/* 0 until the first error; moved once, by CAS, by the goroutine
	 * that returned it. Read by wait after the wait group, which
	 * orders it. */
	_Atomic int err;
};

struct task {
	ringo_group *g;
	ringo_group_fn fn;
	void *arg;
};

ringo_group *ringo_group_new(ringo_ctx *parent)
{
	ringo_group *g = calloc(1, sizeof(*g));

	if (!g)
		ringo__throw("errgroup", "out of memory");
	g->ctx = ringo_ctx_with_cancel(parent);
	ringo_wg_init(&g->wg);
	return g;
}

ringo_ctx *ringo_group_ctx(ringo_group *g)
{
	return g->ctx;
}

void ringo_group_set_limit(ringo_group *g, int n)
{
	int active = atomic_load(&g->active);

	if (active)
		ringo__panic("ringo_group_set_limit", "limit changed while %d "
			     "goroutines of the group are running", active);
	ringo_chan_free(g->sem);
	g->sem = NULL;
	if (n < 0)
		return;
	g->sem = ringo_chan_make(0, (size_t)n);
	if (!g->sem)
		ringo__throw("errgroup", "out of memory");
}

static void run(void *arg)
{
	struct task *t = arg;
	ringo_group *g = t->g;
	int err = t->fn(g->ctx, t->arg);
	int zero = 0;

	free(t);
	if (err && atomic_compare_exchange_strong(&g->err, &zero, err))
		ringo_ctx_cancel_cause(g->ctx, err);
	if (g->sem)
		ringo_chan_recv(g->sem, NULL); /* a slot is ours: never blocks */
	atomic_fetch_sub(&g->active, 1);
	ringo_wg_done(&g->wg); /* last touch of g: wait may free it */
}

static bool start(ringo_group *g, ringo_group_fn fn, void *arg, bool try,
		  const char *call)
{
	ringo__must_m(call);
	if (!g || !fn)
		ringo__panic(call, "NULL %s", g ? "function" : "group");
	if (g->sem) {
		if (try && !ringo_chan_trysend(g->sem, NULL))
			return false;
		if (!try)
			ringo_chan_send(g->sem, NULL);
	}
	struct task *t = malloc(sizeof(*t));
	if (!t)
		ringo__throw("errgroup", "out of memory");
	*t = (struct task){ .g = g, .fn = fn, .arg = arg };
	atomic_fetch_add(&g->active, 1);
	ringo_wg_add(&g->wg, 1);
	ringo_go(run, t);
	return true;
}

void ringo_group_go(ringo_group *g, ringo_group_fn fn, void *arg)
{
	start(g, fn, arg, false, "ringo_group_go");
}

bool ringo_group_trygo(ringo_group *g, ringo_group_fn fn, void *arg)
{
	return start(g, fn, arg, true, "ringo_group_trygo");
}

int ringo_group_wait(ringo_group *g)
{
	ringo_wg_wait(&g->wg);
	int err = atomic_load(&g->err);
	ringo_ctx_cancel_cause(g->ctx, err ? err : RINGO_CANCELED);
	return err;
}

void ringo_group_free(ringo_group *g)
{
	if (!g)
		return;
	int active = atomic_load(&g->active);
	if (active)
		ringo__panic("ringo_group_free", "%d goroutines of the group "
			     "are still running", active);
	ringo_ctx_free(g->ctx);
	ringo_chan_free(g->sem);
	free(g);
}
