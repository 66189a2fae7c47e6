/*
 * tests/diag_deadlock.c - when every goroutine waits for another and no
 * timer or I/O can wake one, the runtime says "all goroutines are asleep -
 * deadlock!", dumps the goroutines and aborts (death tests); a goroutine
 * that sleeps is not asleep in that sense; RINGO_DEADLOCK_CHECK=0 lets a
 * thread outside the runtime wake the only goroutine.
 */
#include <sched.h>

#include <ringo/ringo.h>

#include "test.h"

static int main_alone(void *arg)
{
	(void)arg;
	ringo_chan *never = ringo_chan_make(sizeof(int), 0);
	ringo_chan_recv(never, NULL);
	return 0;
}

static ringo_chan *to_a, *to_b;

/* a waits for b, b waits for a, main waits for a to finish. */
static void a(void *done)
{
	ringo_chan_recv(to_a, NULL);
	ringo_chan_close(done);
}

static void b(void *arg)
{
	(void)arg;
	ringo_chan_send(to_a, NULL);
	ringo_chan_recv(to_b, NULL); /* nobody sends: a is done with us */
}

static int main_cycle(void *arg)
{
	(void)arg;
	ringo_chan *done = ringo_chan_make(0, 0);
	to_a = ringo_chan_make(0, 0);
	to_b = ringo_chan_make(0, 0);
	struct ringo_go_opts oa = { .name = "a" }, ob = { .name = "b" };
	ringo_go_opts(&oa, a, done);
	ringo_go_opts(&ob, b, NULL);
	ringo_chan_recv(done, NULL); /* a closes it */
	ringo_chan_recv(to_a, NULL); /* but nobody sends here any more */
	return 0;
}

/* Asleep only once the timer has fired: no report during the sleep. */
static int main_after_sleep(void *arg)
{
	(void)arg;
	ringo_sleep(20 * RINGO_MILLISECOND);
	ringo_chan_recv(NULL, NULL);
	return 0;
}

struct run {
	int (*main_fn)(void *);
	int maxprocs;
};

static void run(void *arg)
{
	struct run *r = arg;
	struct ringo_config cfg = { .maxprocs = r->maxprocs };
	ringo_run_config(&cfg, r->main_fn, NULL);
}

static int expect_deadlock(const char *what, struct run *r, const char *dump)
{
	if (test_death(what, run, r,
		       "fatal error: all goroutines are asleep - deadlock!\n\n"
		       "goroutine ") ||
	    test_death(what, run, r, dump))
		return 1;
	return 0;
}

static void nap_then_send(void *done)
{
	ringo_sleep(10 * RINGO_MILLISECOND);
	ringo_chan_send(done, NULL);
}

static int main_ok(void *arg)
{
	(void)arg;
	/* Goroutines that sleep and a main that waits for them: every M goes
	 * idle, but the timers will wake someone. */
	ringo_chan *done = ringo_chan_make(0, 0);
	for (int i = 0; i < 4; i++)
		ringo_go(nap_then_send, done);
	for (int i = 0; i < 4; i++)
		ringo_chan_recv(done, NULL);
	ringo_sleep(30 * RINGO_MILLISECOND);
	ringo_chan_free(done);
	return 0;
}

static ringo_chan *from_thread;

static void *foreign_sender(void *arg)
{
	(void)arg;
	while (!ringo_chan_trysend(from_thread, NULL))
		sched_yield();
	return NULL;
}

static int main_foreign(void *arg)
{
	pthread_t t;

	(void)arg;
	from_thread = ringo_chan_make(0, 0);
	if (pthread_create(&t, NULL, foreign_sender, NULL) != 0)
		return 1;
	ringo_chan_recv(from_thread, NULL); /* every M idles meanwhile */
	pthread_join(t, NULL);
	ringo_chan_free(from_thread);
	return 0;
}

int main(void)
{
	/* The death tests fork while this process has no other thread: a
	 * thread that is starting (the watchdog's) can hold a sanitizer's
	 * allocator lock, which the child would inherit held. Each child
	 * has its own alarm. */
	for (int procs = 1; procs <= 4; procs *= 4) {
		struct run alone = { main_alone, procs };
		struct run cycle = { main_cycle, procs };
		struct run slept = { main_after_sleep, procs };
		if (expect_deadlock("alone", &alone, "[main] [chan receive]:\n"
				    "\twaiting on 0x") ||
		    expect_deadlock("cycle", &cycle, "[b] [chan receive]:") ||
		    test_death("cycle main", run, &cycle,
			       "[main] [chan receive]:") ||
		    expect_deadlock("after sleep", &slept,
				    "[main] [chan receive (nil chan)]:"))
			return 1;
	}
	test_watchdog(100);
	for (int procs = 1; procs <= 4; procs *= 4) {
		struct ringo_config cfg = { .maxprocs = procs };
		if (ringo_run_config(&cfg, main_ok, NULL) != 0)
			return 1;
		setenv("RINGO_DEADLOCK_CHECK", "0", 1);
		int r = ringo_run_config(&cfg, main_foreign, NULL);
		unsetenv("RINGO_DEADLOCK_CHECK");
		if (r != 0)
			return 1;
	}
	return 0;
}
