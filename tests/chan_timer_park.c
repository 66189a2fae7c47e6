/*
 * tests/chan_timer_park.c - regression: a timer that expires while a
 * goroutine parks on that timer's own channel.
 *
 * KNOWN BUG, NOT YET IN tests/meson.build (it hangs today; register it
 * as ['chan_timer_park', ['quick'], 60] once fixed). leave() in
 * core/proc.c runs the P's expired timers every 32 switches
 * ("ringo__timers_run(p)" under `timer_tick & 31`), and it does so for a
 * park too, before the switch, so before the park's unlockf has released
 * the lock the parking goroutine holds (a channel's lock for send/recv,
 * every channel's lock for select). A timer callback that takes that
 * lock - fire() in core/time.c sending on the timer's channel, a
 * context's deadline closing its done channel - then waits for itself:
 * the M deadlocks, and with it every goroutine that touches the channel.
 * Go checks timers only on g0 after park_m has run unlockf; running them
 * after the switch (once `after` is done) or not for RINGO_AFTER_PARK
 * would fix it.
 *
 * Each loop below deadlocks within its first 32 iterations without the
 * fix.
 */
#include <ringo/ringo.h>

#include "test.h"

static int test_recv_on_expired_timer(void)
{
	for (int i = 0; i < 10000; i++) {
		ringo_chan *a = ringo_after(0); /* expired at once */
		ASSERT(ringo_chan_recv(a, NULL)); /* parks holding a's lock */
		ringo_after_free(a);
	}
	return 0;
}

static int test_select_on_expired_timer(void)
{
	ringo_chan *never = ringo_chan_make(0, 0);

	for (int i = 0; i < 10000; i++) {
		ringo_chan *a = ringo_after(0);
		struct ringo_select_case cs[] = { RINGO_RECV(never, NULL),
						  RINGO_RECV(a, NULL) };
		ASSERT_EQ(RINGO_SELECT(cs), 1);
		ringo_after_free(a);
	}
	ringo_chan_free(never);
	return 0;
}

static int test_context_deadline(void)
{
	for (int i = 0; i < 10000; i++) {
		ringo_ctx *c = ringo_ctx_with_timeout(NULL, 1);
		/* Parks holding done's lock; the deadline closes done. */
		ASSERT(!ringo_chan_recv(ringo_ctx_done(c), NULL));
		ringo_ctx_free(c);
	}
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_recv_on_expired_timer);
	RUN(test_select_on_expired_timer);
	RUN(test_context_deadline);
	return 0;
}

int main(void)
{
	test_watchdog(50);
	struct ringo_config one = { .maxprocs = 1 };
	if (ringo_run_config(&one, main_fn, NULL))
		return 1;
	return ringo_run(main_fn, NULL);
}
