/*
 * tests/migrate.c - what belongs to a goroutine travels with it when it
 * resumes on another M: errno and the FP control state (rounding mode).
 *
 * Each check reads errno and the thread id through functions the compiler
 * cannot inline, as docs/design.md tells users to: glibc declares
 * __errno_location and pthread_self const, so a plain `errno` after a
 * switch could legally be read through the old thread's address.
 */
#include <fenv.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include <ringo/ringo.h>

#include "test.h"

#define ROUNDS TEST_SCALE(20000, 20000, 2000)

static _Atomic int stop;

__attribute__((noinline)) static int get_errno(void)
{
	__asm__ volatile("" ::: "memory");
	return errno;
}

__attribute__((noinline)) static void set_errno(int v)
{
	__asm__ volatile("" ::: "memory");
	errno = v;
}

__attribute__((noinline)) static long thread_id(void)
{
	return syscall(SYS_gettid);
}

static ringo_chan *ping;

/* Keep every P busy, and wake parked goroutines from whichever M the
 * feeder runs on: a goroutine readied there resumes there. */
static void feeder(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		if (!ringo_chan_trysend(ping, NULL))
			ringo_yield();
}

/* Leave the CPU by yielding or by parking on `ping`, alternately. */
static void reschedule(int i)
{
	if (i % 2)
		ringo_yield();
	else
		ringo_chan_recv(ping, NULL);
}

struct result {
	_Atomic int migrations;
	_Atomic int failures;
	_Atomic int finished;
};

static void errno_keeper(void *arg)
{
	struct result *r = arg;
	int mine = 1000 + (int)ringo_id();
	long tid = thread_id();

	/* Go on until some goroutine has changed threads at least once. */
	for (int i = 0; i < ROUNDS || !atomic_load(&r->migrations); i++) {
		set_errno(mine);
		reschedule(i);
		if (get_errno() != mine)
			atomic_fetch_add(&r->failures, 1);
		long now = thread_id();
		if (now != tid)
			atomic_fetch_add(&r->migrations, 1);
		tid = now;
	}
	atomic_fetch_add(&r->finished, 1);
}

static void round_keeper(void *arg)
{
	struct result *r = arg;
	/* Half the goroutines round up, half down; both must keep theirs. */
	int mode = ringo_id() % 2 ? FE_UPWARD : FE_DOWNWARD;

	fesetround(mode);
	for (int i = 0; i < ROUNDS; i++) {
		reschedule(i);
		volatile double one = 1.0, three = 3.0;
		double third = one / three;
		if (fegetround() != mode ||
		    (mode == FE_UPWARD) != (third * three > 1.0 ||
					    third > 0.33333333333333331))
			atomic_fetch_add(&r->failures, 1);
	}
	fesetround(FE_TONEAREST);
	atomic_fetch_add(&r->finished, 1);
}

static int check(void (*fn)(void *), const char *what)
{
	struct result r = { 0 };
	atomic_store(&stop, 0);
	for (int i = 0; i < 4; i++)
		ringo_go(feeder, NULL);
	for (int i = 0; i < 8; i++)
		ringo_go(fn, &r);
	while (atomic_load(&r.finished) < 8)
		ringo_yield();
	atomic_store(&stop, 1);
	if (atomic_load(&r.failures))
		TEST_FAIL("%s: %d failures", what, atomic_load(&r.failures));
	if (fn == errno_keeper && atomic_load(&r.migrations) == 0)
		TEST_FAIL("%s: no goroutine ever changed threads", what);
	/* The main goroutine's own rounding mode was never touched. */
	ASSERT_EQ(fegetround(), FE_TONEAREST);
	return 0;
}

static int test_errno(void)
{
	return check(errno_keeper, "errno");
}

static int test_fp(void)
{
	return check(round_keeper, "rounding mode");
}

static int main_fn(void *arg)
{
	(void)arg;
	ping = ringo_chan_make(0, 0);
	RUN(test_errno);
	RUN(test_fp);
	while (ringo_num_goroutines() > 1)
		ringo_yield();
	ringo_chan_free(ping);
	return 0;
}

int main(void)
{
	test_watchdog(120);
	struct ringo_config cfg = { .maxprocs = 2 };
	return ringo_run_config(&cfg, main_fn, NULL);
}
