/*
 * tests/maxprocs.c - the number of Ps: RINGO_MAXPROCS overrides the
 * default, the config struct overrides both, and a bad value is a clear
 * error naming the variable instead of a silent default.
 */
#include <sched.h>

#include <ringo/ringo.h>

#include "test.h"

static int report(void *arg)
{
	(void)arg;
	return ringo_maxprocs();
}

static void run_with(void *value)
{
	setenv("RINGO_MAXPROCS", value, 1);
	ringo_run(report, NULL);
}

static int test_env_and_config(void)
{
	setenv("RINGO_MAXPROCS", "3", 1);
	ASSERT_EQ(ringo_maxprocs(), 3);
	ASSERT_EQ(ringo_run(report, NULL), 3);
	struct ringo_config cfg = { .maxprocs = 5 };
	ASSERT_EQ(ringo_run_config(&cfg, report, NULL), 5);
	unsetenv("RINGO_MAXPROCS");

	cpu_set_t set;
	ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
	ASSERT_LE(ringo_maxprocs(), CPU_COUNT(&set));
	ASSERT_GE(ringo_maxprocs(), 1);
	return 0;
}

static int test_bad_values(void)
{
	const char *bad[] = { "abc", "0", "-2", "2x", "100000" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (test_death(bad[i], run_with, (void *)bad[i],
			       "RINGO_MAXPROCS"))
			return 1;
	return 0;
}

static void run_bad_stack(void *arg)
{
	(void)arg;
	setenv("RINGO_STACK_SIZE", "lots", 1);
	ringo_run(report, NULL);
}

static int test_bad_stack_size(void)
{
	return test_death("RINGO_STACK_SIZE", run_bad_stack, NULL,
			  "RINGO_STACK_SIZE=\"lots\"");
}

int main(void)
{
	test_watchdog(60);
	RUN(test_env_and_config);
	RUN(test_bad_values);
	RUN(test_bad_stack_size);
	return 0;
}
