/*
 * tests/sysmon_idle.c - an idle runtime costs no CPU: with every
 * goroutine asleep, sysmon and the Ms sleep in the kernel until the timer
 * is due instead of waking up to look around. Over a 400 ms idle stretch
 * the process's threads may go to sleep at most MAX_SLEEPS times (the
 * voluntary context switches of all its threads): sysmon's 10 ms idle
 * tick makes ~40, a polling loop of any kind (1 ms ticks: 400; 20 us
 * ticks: 20,000) many more. Counting sleeps rather than CPU time keeps
 * the check about behaviour: CPU time also grows when other work on the
 * machine slows every wake-up down.
 */
#include <sys/resource.h>

#include <ringo/ringo.h>

#include "test.h"

#define IDLE_NS (400 * 1000 * 1000)
#define MAX_SLEEPS 200

static long sleeps(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_nvcsw;
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

	/* Let the start-up settle (Ms created, sysmon backed off): no event
	 * marks its end, so this is time passing, not a wait for a state. */
	ringo_sleep(50 * 1000 * 1000);
	ringo_wg_add(&wg, 2);
	ringo_go(sleeper, &wg);
	ringo_go(sleeper, &wg);
	long s0 = sleeps();
	int64_t t0 = ringo_now();
	ringo_wg_wait(&wg);
	long s1 = sleeps();
	int64_t t1 = ringo_now();
	if (s1 - s0 > MAX_SLEEPS)
		TEST_FAIL("idle runtime went to sleep %ld times in %.0f ms",
			  s1 - s0, (double)(t1 - t0) / 1e6);
	return 0;
}

int main(void)
{
	test_watchdog(60);
	return ringo_run(main_fn, NULL);
}
