/*
 * tests/sync_sema.c - ringo_sema: counts, try-acquire, a bound on the
 * goroutines inside, weighted waiters served strictly in order with their
 * units handed over, producers and consumers on several Ps, and the
 * misuse panics.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "test.h"

static int test_counts(void)
{
	ringo_sema a = RINGO_SEMA_INITIALIZER(3), b, z;

	ringo_sema_init(&b, 3);
	memset(&z, 0, sizeof(z));
	ringo_sema *all[] = { &a, &b };
	for (int i = 0; i < 2; i++) {
		ringo_sema *s = all[i];
		ASSERT(ringo_sema_tryacquire(s));
		ASSERT(ringo_sema_tryacquire_n(s, 2));
		ASSERT(!ringo_sema_tryacquire(s));
		ringo_sema_release_n(s, 5);
		ASSERT(!ringo_sema_tryacquire_n(s, 6));
		ringo_sema_acquire_n(s, 5); /* available: no wait */
		ASSERT(!ringo_sema_tryacquire(s));
		ringo_sema_release(s);
		ringo_sema_acquire(s);
		ringo_sema_acquire_n(s, 0);
		ASSERT(ringo_sema_tryacquire_n(s, 0));
	}
	ASSERT(!ringo_sema_tryacquire(&z));
	ringo_sema_release(&z);
	ASSERT(ringo_sema_tryacquire(&z));
	return 0;
}

/* ------------------------------------------------------- bounded */

#define LIMIT 3
#define WORKERS 32
#define ITERS TEST_SCALE(2000, 1000, 200)

static ringo_sema bound = RINGO_SEMA_INITIALIZER(LIMIT);
static _Atomic int inside, max_inside;
static ringo_wg bound_wg;

static void bounded_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITERS; i++) {
		ringo_sema_acquire(&bound);
		int n = atomic_fetch_add(&inside, 1) + 1;
		int m = atomic_load(&max_inside);
		while (n > m && !atomic_compare_exchange_weak(&max_inside, &m, n))
			;
		ringo_yield();
		atomic_fetch_sub(&inside, 1);
		ringo_sema_release(&bound);
	}
	ringo_wg_done(&bound_wg);
}

static int test_bounded(void)
{
	ringo_wg_add(&bound_wg, WORKERS);
	for (int i = 0; i < WORKERS; i++)
		ringo_go(bounded_worker, NULL);
	ringo_wg_wait(&bound_wg);
	ASSERT_LE(atomic_load(&max_inside), LIMIT);
	ASSERT_GE(atomic_load(&max_inside), 1);
	/* Every unit came back. */
	ASSERT(ringo_sema_tryacquire_n(&bound, LIMIT));
	ASSERT(!ringo_sema_tryacquire(&bound));
	ringo_sema_release_n(&bound, LIMIT);
	return 0;
}

/* ------------------------------------------- FIFO and weights, one P */

static ringo_sema fifo = RINGO_SEMA_INITIALIZER(0);
static char order[8];
static _Atomic int order_nr, queued;

static void weighted(void *arg)
{
	size_t n = (size_t)(intptr_t)arg;

	atomic_fetch_add(&queued, 1);
	ringo_sema_acquire_n(&fifo, n);
	order[atomic_fetch_add(&order_nr, 1)] = (char)('0' + n);
}

static void settle(void)
{
	for (int i = 0; i < 50; i++)
		ringo_yield();
}

static int test_fifo_weighted(void)
{
	/* Queue: 3, then 1, then 2. */
	for (intptr_t i = 0, want[] = { 3, 1, 2 }; i < 3; i++) {
		ringo_go(weighted, (void *)want[i]);
		while (atomic_load(&queued) != i + 1)
			ringo_yield();
		settle(); /* let it park */
	}
	/* One unit would satisfy the second waiter, but the first is at
	 * the head: nobody goes, and nobody may jump the queue. */
	ringo_sema_release(&fifo);
	settle();
	ASSERT_EQ(atomic_load(&order_nr), 0);
	ASSERT(!ringo_sema_tryacquire(&fifo));
	ringo_sema_release_n(&fifo, 3); /* 4 units: 3 and 1 go */
	while (atomic_load(&order_nr) != 2)
		ringo_yield();
	settle();
	ASSERT_EQ(atomic_load(&order_nr), 2);
	ringo_sema_release_n(&fifo, 3); /* 2 goes, 1 unit left over */
	while (atomic_load(&order_nr) != 3)
		ringo_yield();
	ASSERT_EQ(memcmp(order, "312", 3), 0);
	ASSERT(ringo_sema_tryacquire(&fifo));
	ASSERT(!ringo_sema_tryacquire(&fifo));
	return 0;
}

/* ------------------------------------ producers/consumers, several Ps */

#define PRODUCERS 8
#define CONSUMERS 8
#define ITEMS TEST_SCALE(20000, 5000, 1000) /* per producer */

static ringo_sema items = RINGO_SEMA_INITIALIZER(0);
static _Atomic long consumed;
static ringo_wg pc_wg;

static void producer(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITEMS;) {
		if (i % 7 == 0 && i + 2 <= ITEMS) {
			ringo_sema_release_n(&items, 2);
			i += 2;
		} else {
			ringo_sema_release(&items);
			i++;
		}
		if (i % 64 == 0)
			ringo_yield();
	}
	ringo_wg_done(&pc_wg);
}

static void consumer(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITEMS * PRODUCERS / CONSUMERS;) {
		if (i % 5 == 0 && i + 3 <= ITEMS * PRODUCERS / CONSUMERS) {
			ringo_sema_acquire_n(&items, 3);
			i += 3;
		} else if (ringo_sema_tryacquire(&items)) {
			i++;
		} else {
			ringo_sema_acquire(&items);
			i++;
		}
	}
	atomic_fetch_add(&consumed, ITEMS * PRODUCERS / CONSUMERS);
	ringo_wg_done(&pc_wg);
}

static int test_producers_consumers(void)
{
	ringo_wg_add(&pc_wg, PRODUCERS + CONSUMERS);
	for (int i = 0; i < CONSUMERS; i++)
		ringo_go(consumer, NULL);
	for (int i = 0; i < PRODUCERS; i++)
		ringo_go(producer, NULL);
	ringo_wg_wait(&pc_wg);
	ASSERT_EQ(atomic_load(&consumed), (long)ITEMS * PRODUCERS);
	ASSERT(!ringo_sema_tryacquire(&items));
	return 0;
}

static int main_one_p(void *arg)
{
	(void)arg;
	RUN(test_fifo_weighted);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_counts);
	RUN(test_bounded);
	RUN(test_producers_consumers);
	return 0;
}

/* ------------------------------------------------------ death tests */

static void acquire_outside(void *arg)
{
	(void)arg;
	ringo_sema s = RINGO_SEMA_INITIALIZER(1);
	ringo_sema_acquire(&s); /* available: fine on a plain thread */
	ringo_sema_acquire(&s);
}

static void overflow(void *arg)
{
	(void)arg;
	ringo_sema s = RINGO_SEMA_INITIALIZER((size_t)1 << 61);
	ringo_sema_release(&s);
}

int main(void)
{
	test_watchdog(110);
	struct ringo_config one = { .maxprocs = 1 };
	if (ringo_run_config(&one, main_one_p, NULL))
		return 1;
	if (ringo_run(main_fn, NULL))
		return 1;
	if (test_death("acquire outside", acquire_outside, NULL,
		       "ringo_sema_acquire: would block outside a goroutine"))
		return 1;
	if (test_death("overflow", overflow, NULL,
		       "ringo_sema_release: count"))
		return 1;
	return 0;
}
