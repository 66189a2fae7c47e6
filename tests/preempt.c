/*
 * tests/preempt.c - asynchronous preemption.
 *
 *   hog: a call-free loop on every P does not stop a ping-pong pair from
 *        finishing its rounds (Go's PingPongHog idea): only preemption can
 *        give the pair a P. Without it the watchdog fails the test.
 *   disabled: on one P, a goroutine that disabled preemption keeps its P
 *        while it spins, so the goroutine queued behind it does not run;
 *        once it enables preemption again, that goroutine gets the P.
 *   misuse: a bad RINGO_PREEMPT and an enable without a disable abort
 *        with a message naming them.
 *
 * Preemption is off under ThreadSanitizer (core/preempt.c says why): the
 * test is skipped there.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <ringo/ringo.h>

#include "test.h"
#include "core/sched_internal.h"

#define ROUNDS 20
#define GUARDED_SPIN_NS (50 * 1000 * 1000)

static _Atomic int stop;
static _Atomic int hogs_running;
static ringo_wg hogs_done;
static ringo_wg pong_done;

static void hog(void *arg)
{
	(void)arg;
	atomic_fetch_add(&hogs_running, 1);
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		;
	ringo_wg_done(&hogs_done);
}

static void pong(void *arg)
{
	ringo_chan **ch = arg;
	int v;

	while (ringo_chan_recv(ch[0], &v)) {
		v++;
		ringo_chan_send(ch[1], &v);
	}
	ringo_wg_done(&pong_done);
}

static int hog_main(void *arg)
{
	(void)arg;
	int procs = ringo_maxprocs();
	uint64_t before = ringo__preempt_count();

	atomic_store(&stop, 0);
	atomic_store(&hogs_running, 0);
	ringo_wg_init(&hogs_done);
	ringo_wg_add(&hogs_done, procs);
	for (int i = 0; i < procs; i++)
		ringo_go(hog, NULL);
	/* Every P is taken by a hog once all of them run. */
	while (atomic_load(&hogs_running) < procs)
		ringo_yield();

	ringo_chan *ch[2] = { ringo_chan_make(sizeof(int), 0),
			      ringo_chan_make(sizeof(int), 0) };
	ringo_wg_init(&pong_done);
	ringo_wg_add(&pong_done, 1);
	ringo_go(pong, ch);
	for (int i = 0; i < ROUNDS; i++) {
		int v = i;
		ringo_chan_send(ch[0], &v);
		ASSERT(ringo_chan_recv(ch[1], &v));
		ASSERT_EQ(v, i + 1);
	}
	ringo_chan_close(ch[0]);
	ringo_wg_wait(&pong_done);
	atomic_store(&stop, 1);
	ringo_wg_wait(&hogs_done);
	ringo_chan_free(ch[0]);
	ringo_chan_free(ch[1]);
	ASSERT(ringo__preempt_count() > before);
	return 0;
}

static _Atomic int other_ran;
static int seen_while_disabled;
static ringo_wg guarded_done;

static void other(void *arg)
{
	(void)arg;
	atomic_store(&other_ran, 1);
}

static void guarded(void *arg)
{
	(void)arg;
	ringo_preempt_disable();
	ringo_go(other, NULL); /* queued on this, the only, P */
	int64_t end = ringo_now() + GUARDED_SPIN_NS;
	while (ringo_now() < end)
		;
	seen_while_disabled = atomic_load(&other_ran);
	ringo_preempt_enable();
	/* Now sysmon's next request lands, and `other` gets the P. */
	while (!atomic_load_explicit(&other_ran, memory_order_relaxed))
		;
	ringo_wg_done(&guarded_done);
}

static int disabled_main(void *arg)
{
	(void)arg;
	atomic_store(&other_ran, 0);
	ringo_wg_init(&guarded_done);
	ringo_wg_add(&guarded_done, 1);
	ringo_go(guarded, NULL);
	ringo_wg_wait(&guarded_done);
	ASSERT_EQ(seen_while_disabled, 0);
	return 0;
}

static void bad_env(void *arg)
{
	(void)arg;
	setenv("RINGO_PREEMPT", "maybe", 1);
	exit(ringo_run(hog_main, NULL));
}

static int enable_twice_main(void *arg)
{
	(void)arg;
	ringo_preempt_enable();
	return 0;
}

int main(void)
{
	if (TEST_TSAN)
		return 77;
	test_watchdog(120);
	if (test_death("bad RINGO_PREEMPT", bad_env, NULL, "RINGO_PREEMPT=\"maybe\""))
		return 1;
	if (test_death_run("enable without disable", enable_twice_main, NULL,
			   "ringo_preempt_enable: preemption is not disabled"))
		return 1;
	if (ringo_run(hog_main, NULL))
		return 1;
	struct ringo_config one = { .maxprocs = 1 };
	if (ringo_run_config(&one, hog_main, NULL))
		return 1;
	return ringo_run_config(&one, disabled_main, NULL);
}
