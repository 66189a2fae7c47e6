/*
 * tests/sync_cond.c - ringo_cond: signal wakes exactly one waiter, the
 * oldest; broadcast wakes all; a signal with nobody waiting is not saved
 * for a later waiter; a ping-pong through signal never loses a wake-up;
 * and waiting outside a goroutine or without the mutex panics.
 *
 * The counting tests run on one P, where a woken waiter runs as soon as
 * the main goroutine yields, so "nobody else woke" can be checked by
 * counting after a few yields instead of by waiting for time to pass.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "test.h"

#define N 8

static ringo_mutex mu = RINGO_MUTEX_INITIALIZER;
static ringo_cond cv = RINGO_COND_INITIALIZER;
/* Under mu: */
static int waiting, tokens, wakeups, order_nr;
static int order[N];

static void waiter(void *arg)
{
	ringo_mutex_lock(&mu);
	waiting++;
	while (tokens == 0) {
		ringo_cond_wait(&cv, &mu);
		wakeups++;
	}
	tokens--;
	order[order_nr++] = (int)(intptr_t)arg;
	waiting--;
	ringo_mutex_unlock(&mu);
}

static int locked_read(int *v)
{
	ringo_mutex_lock(&mu);
	int x = *v;
	ringo_mutex_unlock(&mu);
	return x;
}

static void settle(void)
{
	for (int i = 0; i < 50; i++)
		ringo_yield();
}

static void reset(void)
{
	ringo_mutex_lock(&mu);
	waiting = tokens = wakeups = order_nr = 0;
	ringo_mutex_unlock(&mu);
}

/* Start N waiters one after another, so their tickets are in order. */
static void start_waiters(void)
{
	for (int i = 0; i < N; i++) {
		ringo_go(waiter, (void *)(intptr_t)i);
		while (locked_read(&waiting) != i + 1)
			ringo_yield();
	}
}

static int test_signal_one_fifo(void)
{
	reset();
	start_waiters();
	for (int k = 1; k <= N; k++) {
		ringo_mutex_lock(&mu);
		tokens++;
		ringo_cond_signal(&cv);
		ringo_mutex_unlock(&mu);
		while (locked_read(&order_nr) != k)
			ringo_yield();
		settle();
		ASSERT_EQ(locked_read(&wakeups), k);
		ASSERT_EQ(locked_read(&order_nr), k);
	}
	for (int i = 0; i < N; i++)
		ASSERT_EQ(order[i], i);
	return 0;
}

static int test_broadcast(void)
{
	reset();
	start_waiters();
	ringo_mutex_lock(&mu);
	tokens = N;
	ringo_cond_broadcast(&cv);
	ringo_mutex_unlock(&mu);
	while (locked_read(&order_nr) != N)
		ringo_yield();
	ASSERT_EQ(locked_read(&wakeups), N);
	ASSERT_EQ(locked_read(&waiting), 0);
	/* Broadcast and signal with nobody waiting are no-ops. */
	ringo_cond_broadcast(&cv);
	ringo_cond_signal(&cv);
	return 0;
}

/* A signal (without the mutex, too) while nobody waits is not kept. */
static int test_signal_not_banked(void)
{
	reset();
	ringo_cond_signal(&cv);
	ringo_cond_signal(&cv);
	ringo_go(waiter, (void *)(intptr_t)0);
	while (locked_read(&waiting) != 1)
		ringo_yield();
	ringo_mutex_lock(&mu);
	tokens = 1; /* so an extra wake-up would let it through */
	ringo_mutex_unlock(&mu);
	settle();
	ASSERT_EQ(locked_read(&wakeups), 0);
	ringo_cond_signal(&cv);
	while (locked_read(&order_nr) != 1)
		ringo_yield();
	ASSERT_EQ(locked_read(&wakeups), 1);
	return 0;
}

/* Signal wakes a waiter even when called without the mutex while a
 * broadcast and more waiters come and go. */
static int test_signal_unlocked(void)
{
	reset();
	start_waiters();
	ringo_mutex_lock(&mu);
	tokens = 2;
	ringo_mutex_unlock(&mu);
	ringo_cond_signal(&cv);
	ringo_cond_signal(&cv);
	while (locked_read(&order_nr) != 2)
		ringo_yield();
	ringo_mutex_lock(&mu);
	tokens = N - 2;
	ringo_mutex_unlock(&mu);
	ringo_cond_broadcast(&cv);
	while (locked_read(&order_nr) != N)
		ringo_yield();
	return 0;
}

/* ------------------------------------------- ping-pong, several Ps */

/* Two goroutines take turns through one cond and signal only: a signal
 * lost between a waiter's unlock and its park would hang them (the
 * watchdog turns that into a failure). */
#define PINGS TEST_SCALE(100000, 20000, 5000)

static ringo_mutex pp_mu = RINGO_MUTEX_INITIALIZER;
static ringo_cond pp_cv = RINGO_COND_INITIALIZER;
static int pp_turn;  /* under pp_mu */
static long pp_count[2];
static ringo_wg pp_wg;

static void ponger(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (int i = 0; i < PINGS; i++) {
		ringo_mutex_lock(&pp_mu);
		while (pp_turn != me)
			ringo_cond_wait(&pp_cv, &pp_mu);
		pp_turn = 1 - me;
		pp_count[me]++;
		ringo_mutex_unlock(&pp_mu);
		ringo_cond_signal(&pp_cv);
	}
	ringo_wg_done(&pp_wg);
}

static int test_pingpong(void)
{
	ringo_wg_add(&pp_wg, 2);
	ringo_go(ponger, (void *)0);
	ringo_go(ponger, (void *)1);
	ringo_wg_wait(&pp_wg);
	ASSERT_EQ(pp_count[0], PINGS);
	ASSERT_EQ(pp_count[1], PINGS);
	return 0;
}

static int main_one_p(void *arg)
{
	(void)arg;
	RUN(test_signal_one_fifo);
	RUN(test_broadcast);
	RUN(test_signal_not_banked);
	RUN(test_signal_unlocked);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_pingpong);
	return 0;
}

/* ------------------------------------------------------ death tests */

static void wait_outside(void *arg)
{
	(void)arg;
	ringo_mutex m = RINGO_MUTEX_INITIALIZER;
	ringo_cond c = RINGO_COND_INITIALIZER;
	ringo_mutex_lock(&m);
	ringo_cond_wait(&c, &m);
}

static int wait_unlocked_main(void *arg)
{
	(void)arg;
	ringo_mutex m = RINGO_MUTEX_INITIALIZER;
	ringo_cond c = RINGO_COND_INITIALIZER;
	ringo_cond_wait(&c, &m);
	return 0;
}

int main(void)
{
	test_watchdog(110);
	struct ringo_config one = { .maxprocs = 1 };
	if (ringo_run_config(&one, main_one_p, NULL))
		return 1;
	if (ringo_run(main_fn, NULL))
		return 1;
	if (test_death("wait outside", wait_outside, NULL,
		       "ringo_cond_wait: would block outside a goroutine"))
		return 1;
	if (test_death_run("wait without the mutex", wait_unlocked_main, NULL,
			   "ringo_mutex_unlock: unlock of unlocked mutex"))
		return 1;
	return 0;
}
