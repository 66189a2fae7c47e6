/*
 * tests/chan_many.c - 100,000 goroutines blocked on one channel, then
 * all released: half by values handed to them one by one, the rest by a
 * close that wakes them all at once. Every value arrives exactly once
 * and every goroutine returns. Then the same with the crowd blocked on
 * the send side of a channel, drained by one receiver.
 */
#include <stdatomic.h>
#include <stdint.h>

#include <ringo/ringo.h>

#include "test.h"

#define MS RINGO_MILLISECOND

static int n;
static _Atomic int started, got_value, got_closed, finished;
static _Atomic int64_t sum;

static void receiver(void *arg)
{
	int v;

	if (ringo_chan_recv(arg, &v)) {
		atomic_fetch_add(&sum, v);
		atomic_fetch_add(&got_value, 1);
	} else {
		atomic_fetch_add(&got_closed, 1);
	}
}

static void sender(void *arg)
{
	int v = (int)atomic_fetch_add(&started, 1);

	ringo_chan_send(arg, &v);
	atomic_fetch_add(&finished, 1);
}

static int test_many_receivers(void)
{
	ringo_chan *c = ringo_chan_make(sizeof(int), 0);
	int half = n / 2;

	for (int i = 0; i < n; i++)
		ringo_go(receiver, c);
	test_wait_parked(n, NULL, "chan receive", c);
	ASSERT_EQ(atomic_load(&got_value) + atomic_load(&got_closed), 0);
	int64_t want = 0;
	for (int i = 1; i <= half; i++) {
		ringo_chan_send(c, &i); /* each hands off to a parked receiver */
		want += i;
	}
	ringo_chan_close(c);
	while (atomic_load(&got_value) + atomic_load(&got_closed) < n)
		ringo_sleep(MS);
	ASSERT_EQ(atomic_load(&got_value), half);
	ASSERT_EQ(atomic_load(&got_closed), n - half);
	ASSERT_EQ(atomic_load(&sum), want);
	ringo_chan_free(c);
	return 0;
}

static int test_many_senders(void)
{
	ringo_chan *c = ringo_chan_make(sizeof(int), 16);

	/* Spawning is what costs under TSan (a fiber each): fewer here. */
	n = TEST_SCALE(100000, 50000, 1000);
	uint8_t *seen = calloc((size_t)n, 1);

	atomic_store(&started, 0);
	for (int i = 0; i < n; i++)
		ringo_go(sender, c);
	while (atomic_load(&started) < n)
		ringo_sleep(MS);
	for (int i = 0; i < n; i++) {
		int v;
		ASSERT(ringo_chan_recv(c, &v));
		ASSERT(v >= 0 && v < n);
		ASSERT_EQ(seen[v], 0);
		seen[v] = 1;
	}
	while (atomic_load(&finished) < n)
		ringo_sleep(MS);
	ASSERT_EQ(ringo_chan_len(c), 0);
	free(seen);
	ringo_chan_free(c);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_many_receivers);
	RUN(test_many_senders);
	return 0;
}

int main(void)
{
	n = TEST_SCALE(100000, 100000, 4000);
	test_watchdog(110);
	return ringo_run(main_fn, NULL);
}
