/*
 * tests/lost_wakeup.c - thousands of rounds of bursts of spawns and parks
 * while the other Ps go to sleep between rounds. A wakeup lost anywhere
 * (ready vs. an M going idle, wakep vs. a spinning M giving up) leaves a
 * goroutine runnable with every M asleep: the watchdog turns that hang
 * into a failure.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "test.h"
#include "waitq.h"

#define ROUNDS TEST_SCALE(3000, 1000, 300)
#define BURST 64

static struct waitq q;
static _Atomic int parked, woken;

static void sleeper(void *arg)
{
	(void)arg;
	atomic_fetch_add(&parked, 1);
	waitq_park(&q);
	atomic_fetch_add(&woken, 1);
}

/* Wakes exactly BURST sleepers, as they arrive. */
static void waker(void *arg)
{
	(void)arg;
	for (int left = BURST; left > 0;) {
		size_t n = waitq_wake_one(&q);
		left -= (int)n;
		if (!n)
			ringo_yield();
	}
}

static int test_bursts(void)
{
	for (int r = 0; r < ROUNDS; r++) {
		atomic_store(&parked, 0);
		atomic_store(&woken, 0);
		for (int i = 0; i < BURST; i++)
			ringo_go(sleeper, NULL);
		/* Wake them from another goroutine, possibly on another P,
		 * while they may still be on their way to parking. */
		ringo_go(waker, NULL);
		while (atomic_load(&woken) < BURST)
			ringo_yield();
		ASSERT_EQ(atomic_load(&parked), BURST);
		ASSERT_EQ(waitq_len(&q), 0);
	}
	return 0;
}

/* Main parks and is woken by a goroutine that another P must pick up:
 * exercises wakep() from a single running P to sleeping ones. */
static struct waitq mainq;

static void wake_main(void *arg)
{
	(void)arg;
	while (!waitq_wake_one(&mainq))
		ringo_yield();
}

static int test_park_main(void)
{
	for (int r = 0; r < ROUNDS; r++) {
		ringo_go(wake_main, NULL);
		waitq_park(&mainq);
	}
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_bursts);
	RUN(test_park_main);
	return 0;
}

int main(void)
{
	test_watchdog(240);
	waitq_init(&q, BURST);
	waitq_init(&mainq, 1);
	struct ringo_config cfg = { .maxprocs = 4 };
	return ringo_run_config(&cfg, main_fn, NULL);
}
