/*
 * tests/sysmon_idle.c - an idle runtime costs no CPU: with every
 * goroutine asleep, sysmon and the Ms sleep in the kernel until the timer
 * is due instead of waking up to look around. The process's CPU time
 * over an idle stretch must stay a small fraction of it (a polling loop
 * of any kind, 20 us ticks or 1 ms ticks, would exceed it many times).
 */
#include <sys/resource.h>

#include <ringo/ringo.h>

#include "test.h"

#define IDLE_NS (400 * 1000 * 1000)
#define MAX_CPU_FRACTION 0.02 /* of one core; idle sysmon measures ~0 */

static int64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static void sleeper(void *arg)
{
	ringo_sleep(IDLE_NS);
	ringo_wg_done(arg);
}

static int main_fn(void *arg)
{
	(void)arg;
	ringo_wg wg = RINGO_WG_INITIALIZER;

	/* Let the start-up settle (Ms created, sysmon backed off). */
	ringo_sleep(50 * 1000 * 1000);
	ringo_wg_add(&wg, 2);
	ringo_go(sleeper, &wg);
	ringo_go(sleeper, &wg);
	int64_t c0 = cpu_ns(), t0 = ringo_now();
	ringo_wg_wait(&wg);
	int64_t c1 = cpu_ns(), t1 = ringo_now();
	double frac = (double)(c1 - c0) / (double)(t1 - t0);
	if (frac > MAX_CPU_FRACTION)
		TEST_FAIL("idle runtime used %.1f%% of a core over %.0f ms",
			  100 * frac, (double)(t1 - t0) / 1e6);
	return 0;
}

int main(void)
{
	test_watchdog(60);
	return ringo_run(main_fn, NULL);
}
