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
 * firing as pending (Go 1.23 rules). An after_func timer is the same
 * timer without a channel: its firing decides under the same lock, by
 * the same sequence number, whether to start its function in a new
 * goroutine, so stop and reset answer exactly whether it was started.
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
	/* Serialises stop/reset with fire's send, or fire_func's decision */
	struct ringo__lock lock;
	ringo_chan *c; /* NULL for an after_func timer */
	/* After_func timers: what each firing starts in a goroutine of its
	 * own. Set before the timer is first armed, read-only after. */
	void (*func)(void *);
	void *func_arg;
	/* A firing sent into c since the last drain (under lock): stop and
	 * reset skip the drain, a channel lock round trip, when not. */
	bool sent;
	/* Firings taken off the heap that are settled (under lock): a
	 * current one when it takes the lock, the ones a stop or reset made
	 * stale by that stop or reset (take_back). Below t.taken_nr exactly
	 * while a current firing is between the heap and the lock. A stale
	 * firing does not count itself: the take_back that made it stale
	 * settled it. (Were it counted again at the lock, a newer arming's
	 * firing that got there first would look still on its way to a
	 * later stop, which would return true for a fired timer.) */
	uint64_t settled_nr;
};

/* With t->lock held: true if the firing taken off the heap at seq is
 * current (no stop or reset since), which settles it. */
static bool firing_current(struct ringo_timer *rt, uint64_t seq)
{
	if (atomic_load(&rt->t.seq) != seq)
		return false;
	rt->settled_nr++;
	return true;
}

static void fire(struct ringo__timer *t, int64_t now, uint64_t seq)
{
	struct ringo_timer *rt = (struct ringo_timer *)t;

	ringo__lock(&rt->lock);
	if (firing_current(rt, seq) &&
	    ringo__chan_trysend_owned(rt->c, &now))
		rt->sent = true;
	ringo__unlock(&rt->lock);
	ringo__timer_done(t);
}

/* An after_func timer's firing. It starts func only if no stop or reset
 * came first, and decides under the lock: a stop that takes the lock
 * after a current firing finds it settled and returns false (func
 * started); one that took it before made this firing stale and returned
 * true. func and its argument are read before ringo__timer_done, after
 * which the timer may be freed. */
static void fire_func(struct ringo__timer *t, int64_t now, uint64_t seq)
{
	struct ringo_timer *rt = (struct ringo_timer *)t;

	(void)now;
	ringo__lock(&rt->lock);
	bool live = firing_current(rt, seq);
	ringo__unlock(&rt->lock);
	if (live)
		ringo__spawn(rt->func, rt->func_arg);
	ringo__timer_done(t);
}

/* A timer whose firings call fn, not armed yet: counted and outliving
 * the run, as its memory is the program's. Panics naming `call` outside
 * a goroutine; NULL with errno = ENOMEM. */
static ringo_timer *timer_alloc(ringo__timer_fn fn, const char *call)
{
	if (!ringo__getg())
		ringo__panic(call, "called outside a goroutine");
	ringo_timer *rt = calloc(1, sizeof(*rt));
	if (!rt) {
		errno = ENOMEM;
		return NULL;
	}
	ringo__timer_init(&rt->t, fn, rt);
	rt->t.counted = true;
	rt->t.outlives_run = true;
	return rt;
}

/* Arm t, which is in no heap, to fire after ns (at once if <= 0). */
static void timer_arm(ringo_timer *t, int64_t ns)
{
	ringo__timer_add(&t->t, ringo__nanotime_after(ns > 0 ? ns : 0));
}

static ringo_timer *timer_new(int64_t ns, int64_t period, const char *call)
{
	ringo_timer *rt = timer_alloc(fire, call);

	if (!rt)
		return NULL;
	rt->c = ringo_chan_make(sizeof(int64_t), 1);
	if (!rt->c) {
		free(rt);
		errno = ENOMEM;
		return NULL;
	}
	rt->c->owner = rt;
	rt->t.period = period;
	timer_arm(rt, ns);
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

ringo_timer *ringo_after_func(int64_t ns, void (*fn)(void *), void *arg)
{
	if (!fn)
		ringo__panic("ringo_after_func", "NULL function");
	ringo_timer *rt = timer_alloc(fire_func, "ringo_after_func");
	if (!rt)
		return NULL;
	rt->func = fn;
	rt->func_arg = arg;
	timer_arm(rt, ns);
	return rt;
}

ringo_chan *ringo_timer_chan(ringo_timer *t)
{
	return t->c;
}

/* Empty t's channel of what its firings sent; true if a value was
 * there. Caller holds t->lock. An after_func timer never sends. */
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
	 * that, so the stop's look at the heap made it visible here. The
	 * stop made every firing on its way stale, and none can be taken
	 * while we hold the lock (only an arming under it re-adds t): all
	 * are settled here. */
	uint64_t taken = atomic_load(&t->t.taken_nr);
	if (t->t.period == 0 && taken != t->settled_nr)
		pending = true;
	t->settled_nr = taken;
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
	timer_arm(t, ns);
	ringo__unlock(&t->lock);
	return pending;
}

void ringo_timer_free(ringo_timer *t)
{
	if (!t)
		return;
	ringo_timer_stop(t);
	/* A firing already taken off the heap may still be on its way to
	 * the lock (it will see a stale seq and send or start nothing): wait
	 * for it. A function it started runs on: it does not use t. */
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
