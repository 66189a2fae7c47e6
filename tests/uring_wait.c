/*
 * tests/uring_wait.c - the io_uring backend's idle wait, with one ring
 * (poll() is one blocking io_uring_enter) and with a ring per P (poll()
 * waits in epoll on the rings and a wake eventfd): it returns for a
 * completion, a wake or its timeout; wakes coalesce (never more than one
 * outstanding) and are never lost; stale completions are dropped and
 * counted, and a stale completion for a request someone waits on aborts;
 * sysmon's flush passes on a request left behind on one ring although
 * another ring is flushed meanwhile; a poll takes a bounded batch of
 * completions and leaves the rest, in order; an idle runtime sleeps without
 * burning CPU; a failing setup falls back to epoll with one line on
 * stderr. Skips (77) when the kernel refuses io_uring.
 */
#include <fcntl.h>
#include <liburing.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ringo/ringo.h>

#include "io/netpoll.h"
#include "io/uring_ring.h"
#include "test.h"

#define MS 1000000LL

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t wakes(void)
{
	struct ringo__uring_stats st;

	ringo__uring_stats(&st);
	return st.wake_nr;
}

static uint64_t stales(void)
{
	struct ringo__uring_stats st;

	ringo__uring_stats(&st);
	return st.stale_nr;
}

/* 0 if the uring backend is up with a ring per P for `procs` Ps, 77 if
 * the kernel refused it. Outside ringo_run, so only the P count is set. */
static int start(int procs)
{
	ringo__sched.nprocs = procs;
	if (ringo__netpoll_select("uring") != 0)
		return 1;
	if (strcmp(ringo__netpoll->name, "uring") != 0) {
		ringo__netpoll->fini();
		return 77;
	}
	return 0;
}

static int test_wake_before_poll(void)
{
	struct ringo__glist l = { 0 };
	uint64_t w0 = wakes();

	ringo__netpoll->wake();
	ringo__netpoll->wake();
	ringo__netpoll->wake();
	ASSERT_EQ(wakes() - w0, 1); /* coalesced */
	int64_t t0 = now_ns();
	ASSERT_EQ(ringo__netpoll->poll(-1, &l), 0); /* returns at once */
	ASSERT_LE(now_ns() - t0, 1000 * MS);
	ASSERT_EQ(l.n, 0);
	t0 = now_ns();
	ASSERT_EQ(ringo__netpoll->poll(50 * MS, &l), 0); /* no leftover */
	ASSERT_GE(now_ns() - t0, 45 * MS);
	ASSERT_EQ(l.n, 0);
	return 0;
}

#ifdef SYS_epoll_wait
#define EPOLL_WAIT_NR SYS_epoll_wait
#else
#define EPOLL_WAIT_NR SYS_epoll_pwait /* aarch64 has no epoll_wait */
#endif

/* True once thread tid sleeps in the poller's wait (io_uring_enter with
 * one ring, epoll_pwait2 - or epoll_wait without it - with several): the
 * first field of /proc/self/task/TID/syscall is the number of the call a
 * blocked thread is in ("running" while it runs). */
static bool blocked_in_wait(pid_t tid)
{
	char path[64], buf[64] = "";
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	long nr = fgets(buf, sizeof(buf), f) ? strtol(buf, NULL, 10) : -1;
	bool in = (nr == SYS_io_uring_enter || nr == SYS_epoll_pwait2 ||
		   nr == SYS_epoll_pwait || nr == EPOLL_WAIT_NR) &&
		  strncmp(buf, "running", 7) != 0;
	fclose(f);
	return in;
}

struct wake_after_block {
	pid_t poller;
	_Atomic int64_t woke_at; /* when wake() was called, ns */
};

/* Wake the poller once it is asleep in its wait, not after a guess at how
 * long that takes: the test then shows that the blocking poll waited for
 * this wake and returned because of it. Between looks at /proc it naps
 * 1 ms (the kernel offers no notification of another thread blocking);
 * the test's watchdog bounds the wait. */
static void *wake_after_block(void *arg)
{
	struct wake_after_block *w = arg;
	struct timespec nap = { .tv_nsec = MS };

	while (!blocked_in_wait(w->poller))
		nanosleep(&nap, NULL);
	atomic_store(&w->woke_at, now_ns());
	ringo__netpoll->wake();
	return NULL;
}

static int test_wake_from_thread(void)
{
	struct ringo__glist l = { 0 };
	struct wake_after_block w = { .poller = (pid_t)syscall(SYS_gettid) };
	pthread_t t;

	atomic_init(&w.woke_at, 0);
	ASSERT_EQ(pthread_create(&t, NULL, wake_after_block, &w), 0);
	ASSERT_EQ(ringo__netpoll->poll(-1, &l), 0);
	int64_t returned = now_ns();
	pthread_join(t, NULL);
	/* The poll blocked until the wake, and the wake ended it. */
	int64_t woke_at = atomic_load(&w.woke_at);
	ASSERT(woke_at != 0);
	ASSERT_GE(returned, woke_at);
	ASSERT_LE(returned - woke_at, 5000 * MS);
	ASSERT_EQ(l.n, 0);
	return 0;
}

/* A peek (delay 0) that races with the wake must not eat it: the next
 * blocking poll still returns at once. */
static int test_peek_keeps_wake(void)
{
	struct ringo__glist l = { 0 };

	ringo__netpoll->wake();
	ASSERT_EQ(ringo__netpoll->poll(0, &l), 0);
	ASSERT_EQ(ringo__netpoll->poll(0, &l), 0);
	int64_t t0 = now_ns();
	ASSERT_EQ(ringo__netpoll->poll(5000 * MS, &l), 0);
	ASSERT_LE(now_ns() - t0, 1000 * MS);
	return 0;
}

static _Atomic int wakers_left;

static void *waker(void *arg)
{
	int n = (int)(intptr_t)arg;

	for (int i = 0; i < n; i++)
		ringo__netpoll->wake();
	atomic_fetch_sub(&wakers_left, 1);
	ringo__netpoll->wake();
	return NULL;
}

/* Many threads wake a poller that keeps going back to sleep: every wake
 * (a NOP, or an eventfd write with several rings) is consumed by one poll
 * return (at most one outstanding), and the
 * last wake is not lost (the loop ends). */
static int test_concurrent_wakes(void)
{
	enum { THREADS = 4 };
	int per = TEST_SCALE(20000, 5000, 2000);
	pthread_t t[THREADS];
	struct ringo__glist l = { 0 };
	uint64_t w0 = wakes();
	long polls = 0;

	atomic_store(&wakers_left, THREADS);
	for (int i = 0; i < THREADS; i++)
		ASSERT_EQ(pthread_create(&t[i], NULL, waker,
					 (void *)(intptr_t)per), 0);
	while (atomic_load(&wakers_left) > 0) {
		ASSERT_EQ(ringo__netpoll->poll(-1, &l), 0);
		polls++;
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	/* Drain the wake the last waker may have left. */
	ringo__netpoll->poll(0, &l);
	ringo__netpoll->poll(1 * MS, &l);
	uint64_t w = wakes() - w0;
	ASSERT_GE(w, 1);
	ASSERT_LE(w, (uint64_t)polls + 2);
	ASSERT_LE(w, (uint64_t)THREADS * (uint64_t)per);
	return 0;
}

static void post_nop(unsigned ring, uint64_t ud, bool defer)
{
	struct ringo__uring *u = &ringo__urings[ring];
	ringo__lock(&u->sq_lock);
	struct io_uring_sqe *sqe = ringo__uring_sqe_locked(u);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, ud);
	if (defer)
		ringo__uring_unlock_defer(u);
	else
		ringo__uring_unlock_submit(u);
}

/* user_data of a slot already freed: its CQE is dropped and counted. */
static uint64_t stale_ud(void)
{
	struct ringo__uslot *s = ringo__uslot_get();
	uint64_t ud = ringo__uslot_ud(s, RINGO__UD_STALE_OK);

	ringo__uslot_put(s);
	return ud;
}

/* A request left queued on a ring no M holds (outside ringo_run no M
 * holds any) goes in with the blocking poller's wait, not a sysmon tick
 * later. */
static int test_poller_flushes_unowned(void)
{
	struct ringo__glist l = { 0 };
	uint64_t s0 = stales();

	post_nop(1, stale_ud(), true);
	ASSERT_EQ(ringo__netpoll->poll(10 * MS, &l), 0);
	ASSERT_EQ(stales() - s0, 1);
	return 0;
}

/* A request queued on ring 1 and left there is passed on by sysmon's
 * second flush (this thread has no P, so flush() acts as sysmon's), even
 * though ring 0 is flushed in between: staleness is per ring. */
static int test_left_behind_flushed(void)
{
	struct ringo__glist l = { 0 };
	uint64_t s0 = stales();

	ringo__netpoll->flush(); /* sysmon's view: nothing pending */
	post_nop(1, stale_ud(), true);
	ringo__netpoll->flush(); /* first look: pending, not yet stale */
	ASSERT_EQ(ringo__netpoll->poll(0, &l), 0);
	ASSERT_EQ(stales() - s0, 0);
	/* A peek, not a blocking poll: that would pass ring 1's request on
	 * itself (test_poller_flushes_unowned). The NOP completes inside its
	 * submit. */
	post_nop(0, stale_ud(), false);
	ASSERT_EQ(ringo__netpoll->poll(0, &l), 0);
	ASSERT_EQ(stales() - s0, 1);
	ringo__netpoll->flush(); /* a tick later: stale, so submitted */
	ASSERT_EQ(ringo__netpoll->poll(1000 * MS, &l), 0);
	ASSERT_EQ(stales() - s0, 2);
	ASSERT_EQ(l.n, 0);
	return 0;
}

/* A poll takes RINGO__NETPOLL_BATCH goroutines at most; the rest wait
 * in the CQ and come with the next polls, in completion order, each a
 * blocking poll that returns at once. A wake queued behind them is not
 * lost: a blocking poll after the drain returns, and the next wake posts
 * anew. The waiters are stand-ins: poll only links them into its list. */
static int test_poll_batch(void)
{
	enum { N = 2 * RINGO__NETPOLL_BATCH + 10 };
	static struct ringo__g gs[N];
	struct ringo__uslot *slots[N];
	const int want[] = { RINGO__NETPOLL_BATCH, RINGO__NETPOLL_BATCH, 10 };

	atomic_fetch_add(&ringo__netpoll_waiters_nr, N);
	for (int i = 0; i < N; i++) {
		slots[i] = ringo__uslot_get();
		ASSERT(slots[i] != NULL);
		slots[i]->g = &gs[i];
		ringo__uslot_armed(slots[i]);
		post_nop(0, ringo__uslot_ud(slots[i], RINGO__UD_OP), true);
	}
	ringo__netpoll->flush(); /* no P: sysmon's first look, submits nothing */
	ringo__netpoll->flush(); /* stale now: submitted */
	ringo__netpoll->wake();
	int seen = 0;
	for (int round = 0; round < 3; round++) {
		struct ringo__glist l = { 0 };
		ASSERT_EQ(ringo__netpoll->poll(-1, &l), 0);
		ASSERT_EQ(l.n, want[round]);
		for (struct ringo__g *g = l.head; g; g = g->schedlink)
			ASSERT(g == &gs[seen++]);
	}
	ASSERT_EQ(seen, N);
	ASSERT_EQ(atomic_load(&ringo__netpoll_waiters_nr), 0);
	for (int i = 0; i < N; i++)
		ringo__uslot_put(slots[i]);
	/* Taken with the last batch (one ring) or still pending (eventfd):
	 * either way this wake makes a blocking poll return... */
	struct ringo__glist l = { 0 };
	ringo__netpoll->wake();
	ASSERT_EQ(ringo__netpoll->poll(-1, &l), 0);
	ASSERT_EQ(l.n, 0);
	/* ...after which nothing is outstanding: the next wake is new. */
	uint64_t w0 = wakes();
	ringo__netpoll->wake();
	ASSERT_EQ(wakes() - w0, 1);
	ASSERT_EQ(ringo__netpoll->poll(-1, &l), 0);
	return 0;
}

/* A completion naming a slot that has since been freed (tag moved on) is
 * dropped and counted. */
static int test_stale_dropped(void)
{
	struct ringo__glist l = { 0 };
	uint64_t s0 = stales();

	post_nop(0, stale_ud(), false);
	ASSERT_EQ(ringo__netpoll->poll(1000 * MS, &l), 0);
	ASSERT_EQ(l.n, 0);
	ASSERT_EQ(stales() - s0, 1);
	return 0;
}

static void stale_op(void *arg)
{
	(void)arg;
	struct ringo__glist l = { 0 };
	if (start(1) != 0)
		_exit(77);
	struct ringo__uslot *s = ringo__uslot_get();
	uint64_t ud = ringo__uslot_ud(s, RINGO__UD_OP);
	ringo__uslot_put(s);
	post_nop(0, ud, false);
	ringo__netpoll->poll(1000 * MS, &l);
}

/* ---- with the runtime ---- */

static int fallback_name_ok;

static int record_name(void *arg)
{
	fallback_name_ok = strcmp(ringo__netpoll->name, (const char *)arg) == 0;
	return 0;
}

static int test_fallback(void)
{
	char path[] = "/tmp/ringo-uring-fallback-XXXXXX";
	int fd = mkstemp(path);
	ASSERT(fd >= 0);
	unlink(path);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	setenv("RINGO_FAIL_URING_SETUP", "1", 1);
	struct ringo_config cfg = { .netpoll = "uring" };
	int r1 = ringo_run_config(&cfg, record_name, "epoll");
	int ok1 = fallback_name_ok;
	int r2 = ringo_run_config(&cfg, record_name, "epoll");
	int ok2 = fallback_name_ok;
	unsetenv("RINGO_FAIL_URING_SETUP");
	int r3 = ringo_run_config(&cfg, record_name, "uring");
	int ok3 = fallback_name_ok;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char buf[1024] = { 0 };
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	ASSERT_EQ(r1, 0);
	ASSERT_EQ(r2, 0);
	ASSERT_EQ(r3, 0);
	ASSERT(ok1);
	ASSERT(ok2);
	ASSERT(ok3);
	ASSERT(n > 0);
	const char *line = strstr(buf, "using epoll");
	if (!line)
		TEST_FAIL("no fallback line on stderr: \"%s\"", buf);
	ASSERT(strstr(line + 1, "using epoll") == NULL); /* said once */
	return 0;
}

static double cpu_secs(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static _Atomic int slept;

static void sleeper(void *arg)
{
	ringo_sleep((int64_t)(intptr_t)arg);
	atomic_fetch_add(&slept, 1);
}

/* Goroutines that all sleep leave one M blocked in the poller's wait and
 * nobody spinning: the process uses next to no CPU meanwhile. */
static int idle_main(void *arg)
{
	(void)arg;
	if (strcmp(ringo__netpoll->name, "uring") != 0)
		return 77;
	for (int i = 0; i < 8; i++)
		ringo_go(sleeper, (void *)(intptr_t)(300 * MS));
	double c0 = cpu_secs();
	int64_t t0 = ringo_now();
	ringo_sleep(300 * MS);
	while (atomic_load(&slept) < 8)
		ringo_sleep(10 * MS);
	double used = cpu_secs() - c0;
	int64_t d = ringo_now() - t0;
	if (d < 300 * MS)
		return 1;
	if (used > (TEST_SANITIZED ? 0.15 : 0.05)) {
		fprintf(stderr, "FAIL: %.3f s of CPU while idle for %.3f s\n",
			used, (double)d / 1e9);
		return 1;
	}
	return 0;
}

static int test_idle_cpu(void)
{
	struct ringo_config cfg = { .netpoll = "uring" };
	int r = ringo_run_config(&cfg, idle_main, NULL);
	if (r == 77)
		return 0;
	ASSERT_EQ(r, 0);
	return 0;
}

int main(void)
{
	test_watchdog(120);
	const char *mode = getenv("RINGO_NETPOLL");
	if (mode && strcmp(mode, "uring") != 0)
		return 77; /* the epoll run of this program has nothing to do */
	/* The ring counts below are the defaults'. */
	unsetenv("RINGO_URING_RINGS");
	unsetenv("RINGO_URING_MSRECV");
	for (int procs = 1; procs <= 2; procs++) {
		int r = start(procs);
		if (r)
			return r;
		struct ringo__uring_stats st;
		ringo__uring_stats(&st);
		ASSERT_EQ(st.rings, (unsigned)procs);
		if (procs > 1) {
			RUN(test_left_behind_flushed);
			RUN(test_poller_flushes_unowned);
		}
		RUN(test_wake_before_poll);
		RUN(test_wake_from_thread);
		RUN(test_peek_keeps_wake);
		RUN(test_concurrent_wakes);
		RUN(test_stale_dropped);
		RUN(test_poll_batch);
		ringo__netpoll->fini();
	}
	if (test_death("stale op", stale_op, NULL, "stale completion"))
		return 1;
	RUN(test_fallback);
	RUN(test_idle_cpu);
	return 0;
}
