/*
 * core/time.c - the public time API on top of the per-P timer heaps:
 * sleep, timers, tickers and after-channels (Go's time package).
 *
 * A sleeping goroutine arms a timer that lives on its own stack and is
 * started only after the goroutine has switched away (in park's unlock
 * callback), so the wake-up can never reach a goroutine that is still
 * running. Channel timers send the firing time with a non-blocking send
 * on a channel of capacity 1; stop and reset take the timer's lock, bump
 * its sequence number and drain the channel, so a firing that raced with
 * them sees a stale sequence number and sends nothing, and count such a
 * firing as pending (Go 1.23 rules).
 */
#include <errno.h>
#include <stdlib.h>

#include <ringo/sched.h>
#include <ringo/time.h>

#include "chan_internal.h"
#include "lock.h"
#include "runtime.h"
#include "timer.h"

int64_t ringo_now(void)
{
	return ringo__nanotime();
}

/* ------------------------------------------------------------- sleep */

struct sleeper {
	struct ringo__timer t;
	int64_t when;
};

static void wake_sleeper(struct ringo__timer *t, int64_t now, uint64_t seq)
{
	(void)now;
	(void)seq;
	ringo__ready(((struct sleeper *)t)->t.arg);
}

static bool arm_sleeper(struct ringo__g *g, void *arg)
{
	(void)g;
	struct sleeper *s = arg;
	ringo__timer_add(&s->t, s->when);
	return true;
}

void ringo_sleep(int64_t ns)
{
	struct ringo__g *g = ringo__must_park("ringo_sleep");

	if (ns <= 0) {
		ringo_yield();
		return;
	}
	struct sleeper s = { .when = ringo__nanotime_after(ns) };
	ringo__timer_init(&s.t, wake_sleeper, g);
	ringo__park(arm_sleeper, &s, RINGO_WAIT_SLEEP, NULL);
}

/* ------------------------------------------------------------ timers */

struct ringo_timer {
	struct ringo__timer t;
	struct ringo__lock lock; /* serialises stop/reset/fire's send */
	ringo_chan *c;
	/* A firing sent into c since the last drain (under lock): stop and
	 * reset skip the drain, a channel lock round trip, when not. */
	bool sent;
	/* Runs of fire that have taken the lock (under lock). Below
	 * t.taken_nr while a firing is between the heap and the lock. */
	uint64_t fired_nr;
};

static void fire(struct ringo__timer *t, int64_t now, uint64_t seq)
{
	struct ringo_timer *rt = (struct ringo_timer *)t;

	ringo__lock(&rt->lock);
	rt->fired_nr++;
	if (atomic_load(&t->seq) == seq &&
	    ringo__chan_trysend_owned(rt->c, &now))
		rt->sent = true;
	ringo__unlock(&rt->lock);
	ringo__timer_done(t);
}

static ringo_timer *timer_new(int64_t ns, int64_t period, const char *call)
{
	if (!ringo__getg())
		ringo__panic(call, "called outside a goroutine");
	ringo_timer *rt = calloc(1, sizeof(*rt));
	if (!rt)
		return NULL;
	rt->c = ringo_chan_make(sizeof(int64_t), 1);
	if (!rt->c) {
		free(rt);
		errno = ENOMEM;
		return NULL;
	}
	rt->c->owner = rt;
	ringo__timer_init(&rt->t, fire, rt);
	rt->t.counted = true;
	rt->t.outlives_run = true;
	rt->t.period = period;
	ringo__timer_add(&rt->t, ringo__nanotime_after(ns > 0 ? ns : 0));
	return rt;
}

ringo_timer *ringo_timer_new(int64_t ns)
{
	return timer_new(ns, 0, "ringo_timer_new");
}

ringo_timer *ringo_ticker_new(int64_t period_ns)
{
	if (period_ns <= 0)
		ringo__panic("ringo_ticker_new", "non-positive interval %lld",
			     (long long)period_ns);
	return timer_new(period_ns, period_ns, "ringo_ticker_new");
}

ringo_chan *ringo_timer_chan(ringo_timer *t)
{
	return t->c;
}

/* Empty t's channel of what its firings sent; true if a value was
 * there. Caller holds t->lock. */
static bool drain(ringo_timer *t)
{
	int64_t v;
	bool took = false;

	if (!t->sent)
		return false;
	while (ringo_chan_tryrecv(t->c, &v, NULL))
		took = true;
	t->sent = false;
	return took;
}

/* Stop t, with t->lock held: take it off the heap, cancel a firing on
 * its way to the lock (the stop's sequence bump makes it stale) and
 * drain a value sent and not received. Go 1.23 counts each of the three
 * as pending - the value is taken back - so stop and reset return true
 * for them, and the old "if (!stop) receive" idiom cannot block. */
static bool take_back(ringo_timer *t)
{
	bool pending = ringo__timer_stop(&t->t);

	/* A ticker stays on the heap while it fires: the stop counted it.
	 * A one-shot timer's firing left it; taken_nr was counted before
	 * that, so the stop's look at the heap made it visible here. */
	if (t->t.period == 0 && atomic_load(&t->t.taken_nr) != t->fired_nr)
		pending = true;
	pending |= drain(t);
	return pending;
}

bool ringo_timer_stop(ringo_timer *t)
{
	ringo__lock(&t->lock);
	bool pending = take_back(t);
	ringo__unlock(&t->lock);
	return pending;
}

bool ringo_timer_reset(ringo_timer *t, int64_t ns)
{
	ringo__must_m("ringo_timer_reset");
	if (t->t.period > 0 && ns <= 0)
		ringo__panic("ringo_timer_reset", "non-positive ticker interval "
			     "%lld", (long long)ns);
	ringo__lock(&t->lock);
	bool pending = take_back(t);
	if (t->t.period > 0)
		t->t.period = ns;
	ringo__timer_add(&t->t, ringo__nanotime_after(ns > 0 ? ns : 0));
	ringo__unlock(&t->lock);
	return pending;
}

void ringo_timer_free(ringo_timer *t)
{
	if (!t)
		return;
	ringo_timer_stop(t);
	/* A firing already taken off the heap may still be on its way to
	 * the lock (it will see a stale seq and send nothing): wait for it. */
	while (atomic_load(&t->t.running))
		ringo_yield();
	ringo__chan_free_owned(t->c);
	free(t);
}

ringo_chan *ringo_after(int64_t ns)
{
	ringo_timer *t = timer_new(ns, 0, "ringo_after");

	if (!t)
		return NULL;
	t->c->after = true;
	return t->c;
}

void ringo_after_free(ringo_chan *c)
{
	if (!c)
		return;
	if (!c->after)
		ringo__panic("ringo_after_free", "channel %p does not come from "
			     "ringo_after", (void *)c);
	ringo_timer_free(c->owner);
}
