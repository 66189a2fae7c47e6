/*
 * tests/diag_leak.c - ringo_leakcheck: passes once the goroutines a test
 * started have ended (waiting for slow ones), catches one that is left
 * parked, naming it in a dump of every goroutine but the caller, and
 * panics outside a goroutine.
 */
#include <stdint.h>

#include <ringo/ringo.h>

#include "test.h"

static void quick(void *arg)
{
	(void)arg;
	ringo_yield();
}

static void slow(void *arg)
{
	ringo_sleep((int64_t)(intptr_t)arg);
}

static int test_none_leak(void)
{
	for (int i = 0; i < 50; i++)
		ringo_go(quick, NULL);
	for (int i = 0; i < 10; i++)
		ringo_go(slow, (void *)(intptr_t)(30 * RINGO_MILLISECOND));
	int64_t t0 = ringo_now();
	ASSERT_EQ(ringo_leakcheck(1, 10 * RINGO_SECOND), 0);
	ASSERT_LE(ringo_now() - t0, 5 * RINGO_SECOND);
	ASSERT_EQ(ringo_num_goroutines(), 1);
	/* Fewer than expected is no leak. */
	ASSERT_EQ(ringo_leakcheck(3, 0), 0);
	return 0;
}

static void leaky(void *ch)
{
	ringo_chan_recv(ch, NULL);
}

static char out[16384];

/* ringo_leakcheck with stderr captured into out. */
static int leakcheck_captured(int expected, int64_t timeout_ns)
{
	FILE *tmp = tmpfile();
	if (!tmp)
		return -1000;
	fflush(stderr);
	int saved = dup(2);
	dup2(fileno(tmp), 2);
	int r = ringo_leakcheck(expected, timeout_ns);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = 0;
	fclose(tmp);
	return r;
}

static int test_catch(void)
{
	ringo_chan *ch = ringo_chan_make(0, 0);
	struct ringo_go_opts o = { .name = "leaky" };
	uint64_t id = ringo_go_opts(&o, leaky, ch);
	char want[64];

	int64_t t0 = ringo_now();
	EXPECT_ERR(leakcheck_captured(1, 100 * RINGO_MILLISECOND), -ETIMEDOUT);
	ASSERT_GE(ringo_now() - t0, 100 * RINGO_MILLISECOND);
	snprintf(want, sizeof(want), "goroutine %llu [leaky] [chan receive]:",
		 (unsigned long long)id);
	if (!strstr(out, "ringo_leakcheck: 2 goroutines after ") ||
	    !strstr(out, "want 1; all but the caller:\n\n") ||
	    !strstr(out, want) || strstr(out, "[main]"))
		TEST_FAIL("leak report lacks \"%s\" or names main:\n%s", want,
			  out);

	ringo_chan_close(ch);
	ASSERT_EQ(ringo_leakcheck(1, 10 * RINGO_SECOND), 0);
	ringo_chan_free(ch);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_none_leak);
	RUN(test_catch);
	return 0;
}

static void outside(void *arg)
{
	(void)arg;
	ringo_leakcheck(1, 0);
}

int main(void)
{
	test_watchdog(100);
	for (int procs = 1; procs <= 4; procs *= 4) {
		struct ringo_config cfg = { .maxprocs = procs };
		if (ringo_run_config(&cfg, main_fn, NULL) != 0)
			return 1;
	}
	return test_death("outside", outside, NULL,
			  "ringo: panic: ringo_leakcheck: called outside a "
			  "goroutine");
}
