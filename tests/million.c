/*
 * tests/million.c - one million goroutines alive at once, each parked,
 * then all woken and finished; the goroutine count follows. Fewer under
 * the sanitizers: ASan's shadow makes each stack costlier, and TSan treats
 * every goroutine as a thread and allows at most 8128 at once.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "test.h"
#include "waitq.h"

#define N TEST_SCALE(1000000, 100000, 5000)

static struct waitq q;
static _Atomic int finished;

static void parker(void *arg)
{
	(void)arg;
	waitq_park(&q);
	atomic_fetch_add(&finished, 1);
}

static int main_fn(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++)
		ringo_go(parker, NULL);
	while (waitq_len(&q) < (size_t)N)
		ringo_yield();
	ASSERT_EQ(ringo_num_goroutines(), N + 1);
	ASSERT_EQ(waitq_wake_all(&q), N);
	while (atomic_load(&finished) < N)
		ringo_yield();
	while (ringo_num_goroutines() > 1)
		ringo_yield();
	ASSERT_EQ(ringo_num_goroutines(), 1);
	return 0;
}

int main(void)
{
	test_watchdog(300);
	waitq_init(&q, N);
	return ringo_run(main_fn, NULL);
}
