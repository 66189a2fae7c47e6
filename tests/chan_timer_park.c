/*
 * tests/chan_timer_park.c - regression: a timer that expires while a
 * goroutine parks on that timer's own channel.
 *
 * The scheduler runs a P's expired timers every 32 switches. It once did
 * so before the switch of a parking goroutine, i.e. before park's unlock
 * callback had released the lock the goroutine held (a channel's lock for
 * send/recv, every channel's lock for select). A timer callback that
 * takes that lock - a timer channel's send, a context deadline closing
 * its done channel - then waited for itself and the M deadlocked. Timers
 * now run only after the previous goroutine's after-work (core/switch.c),
 * as Go runs them on g0 after park_m's unlock.
 *
 * Each loop below deadlocked within its first 32 iterations.
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
