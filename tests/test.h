/*
 * tests/test.h - the little test framework every tests/<feature>.c uses.
 *
 * Each test is its own program: main returns 0 (pass), 1 (fail) or 77
 * (skip). ASSERT_* print file:line, the expression and the values, then
 * make the enclosing test_* function return 1. Death tests run a function
 * in a child process and check that it aborts with a given message.
 * A watchdog thread turns a hang into a failure with a message.
 */
#ifndef RINGO_TESTS_TEST_H
#define RINGO_TESTS_TEST_H

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ringo/diag.h>

/* Weak: the example servers' tests do not link libringo. */
extern int ringo_dump(FILE *out) __attribute__((weak));

#include <ringo/sched.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TEST_SANITIZED 1
#else
#define TEST_SANITIZED 0
#endif
#if defined(__SANITIZE_THREAD__)
#define TEST_TSAN 1
#else
#define TEST_TSAN 0
#endif

/* Scale a count down under the sanitizers, which make each goroutine and
 * each switch far more expensive (TSan keeps state per fiber). */
#define TEST_SCALE(n, asan_n, tsan_n) \
	(TEST_TSAN ? (tsan_n) : TEST_SANITIZED ? (asan_n) : (n))

#define TEST_FAIL(...)                                                     \
	do {                                                               \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);       \
		fprintf(stderr, __VA_ARGS__);                              \
		fprintf(stderr, "\n");                                     \
		return 1;                                                  \
	} while (0)

#define ASSERT(cond)                                                       \
	do {                                                               \
		if (!(cond))                                               \
			TEST_FAIL("%s", #cond);                            \
	} while (0)

#define ASSERT_EQ(a, b)                                                    \
	do {                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);        \
		if (a_ != b_)                                              \
			TEST_FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_); \
	} while (0)

#define ASSERT_NE(a, b)                                                    \
	do {                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);        \
		if (a_ == b_)                                              \
			TEST_FAIL("%s != %s: both %lld", #a, #b, a_);      \
	} while (0)

#define ASSERT_GE(a, b)                                                    \
	do {                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);        \
		if (a_ < b_)                                               \
			TEST_FAIL("%s >= %s: %lld < %lld", #a, #b, a_, b_); \
	} while (0)

#define ASSERT_LE(a, b)                                                    \
	do {                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);        \
		if (a_ > b_)                                               \
			TEST_FAIL("%s <= %s: %lld > %lld", #a, #b, a_, b_); \
	} while (0)

/* `call` must return -expected_errno. */
#define EXPECT_ERR(call, err)                                              \
	do {                                                               \
		long long r_ = (long long)(call);                          \
		if (r_ != (long long)(err))                                \
			TEST_FAIL("%s: got %lld (%s), want %s", #call, r_, \
				  r_ < 0 ? strerror((int)-r_) : "ok", #err); \
	} while (0)

#define RUN(test)                                                          \
	do {                                                               \
		if (test()) {                                              \
			fprintf(stderr, "  in %s\n", #test);               \
			return 1;                                          \
		}                                                          \
	} while (0)

/* ---- watchdog: a hang becomes a failure ---- */

static unsigned test_watchdog_secs_;
static pthread_mutex_t test_watchdog_mu_ = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t test_watchdog_cv_ = PTHREAD_COND_INITIALIZER;
static int test_watchdog_up_;

static void *test_watchdog_(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&test_watchdog_mu_);
	test_watchdog_up_ = 1;
	pthread_cond_signal(&test_watchdog_cv_);
	pthread_mutex_unlock(&test_watchdog_mu_);
	struct timespec ts = { .tv_sec = (time_t)test_watchdog_secs_ };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	fprintf(stderr, "FAIL: watchdog: test still running after %u s "
		"(hang or lost wakeup); the goroutines:\n", test_watchdog_secs_);
	/* The dump takes the runtime's goroutine-list lock, which a hang
	 * may hold: SIGALRM ends the process if it does not return. */
	alarm(10);
	if (ringo_dump)
		ringo_dump(stderr);
	_exit(1);
}

/* Fail the whole program if it runs longer than secs seconds. The thread
 * is outside the runtime, so it fires even if every M is stuck. Returns
 * once the thread runs: a fork while it is still starting could copy a
 * lock (the sanitizers' allocator) in its locked state. */
static inline void test_watchdog(unsigned secs)
{
	pthread_t t;
	test_watchdog_secs_ = secs;
	if (pthread_create(&t, NULL, test_watchdog_, NULL) != 0)
		return;
	pthread_detach(t);
	pthread_mutex_lock(&test_watchdog_mu_);
	while (!test_watchdog_up_)
		pthread_cond_wait(&test_watchdog_cv_, &test_watchdog_mu_);
	pthread_mutex_unlock(&test_watchdog_mu_);
}

/* ---- threads ---- */

/* Runtime threads: every task of the process except the kernel's io-wq
 * workers (iou-wrk-*), which belong to the ring, not to the runtime;
 * those are counted in *iou if iou is not NULL. */
static inline int test_count_threads(int *iou)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0, iou_nr = 0;

	if (iou)
		*iou = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[300], comm[64] = "";
		snprintf(p, sizeof(p), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(p, "r");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = 0;
			fclose(f);
		}
		if (strncmp(comm, "iou-", 4) == 0)
			iou_nr++;
		else
			n++;
	}
	closedir(d);
	if (iou)
		*iou = iou_nr;
	return n;
}

/* ---- parked goroutines ---- */

/* How many goroutines a dump (ringo/diag.h) shows waiting: named `name`,
 * for `reason` as the dump words it ("chan receive", "select", "IO
 * wait"...), on `obj`; NULL matches any. A goroutine shows as waiting
 * only once it has queued itself where a wakeup (a send, a close, a
 * cancel) will find it. */
static inline int test_parked(const char *name, const char *reason,
			      const void *obj)
{
	char *buf = NULL, *line, *next, on[48] = "", named[48] = "";
	size_t len = 0, rlen = reason ? strlen(reason) : 0;
	int n = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		perror("test_parked: open_memstream");
		abort();
	}
	int r = ringo_dump(f);
	if (fclose(f) != 0 || r < 0) {
		fprintf(stderr, "test_parked: ringo_dump failed\n");
		abort();
	}
	if (obj)
		snprintf(on, sizeof(on), "\twaiting on %p\n", obj);
	if (name)
		snprintf(named, sizeof(named), " [%s] [", name);
	for (line = buf; line; line = next) {
		char *eol = strchr(line, '\n');
		next = eol ? eol + 1 : NULL;
		/* "goroutine ID [name] [state]:", the state "reason" or
		 * "reason, N s" while it waits. */
		if (!eol || strncmp(line, "goroutine ", 10) != 0)
			continue;
		char *state = memrchr(line, '[', (size_t)(eol - line));
		if (!state)
			continue;
		state++;
		if (!strncmp(state, "running]", 8) ||
		    !strncmp(state, "runnable]", 9))
			continue;
		if (reason && (strncmp(state, reason, rlen) != 0 ||
			       (state[rlen] != ']' && state[rlen] != ',')))
			continue;
		char *id_end = line + 10 + strspn(line + 10, "0123456789");
		if (name && (strncmp(id_end, named, strlen(named)) != 0 ||
			     id_end + strlen(named) != state))
			continue;
		if (obj && strncmp(next, on, strlen(on)) != 0)
			continue;
		n++;
	}
	free(buf);
	return n;
}

/* Yield until at least n goroutines are parked as test_parked counts
 * them: a wait on the state itself, not on a guess at how long it takes
 * to get there. A goroutine that never parks hangs the test until the
 * watchdog fails it, with a dump. */
static inline void test_wait_parked(int n, const char *name,
				    const char *reason, const void *obj)
{
	while (test_parked(name, reason, obj) < n)
		ringo_yield();
}

/* ---- death tests ---- */

/* Run fn(arg) in a child; pass if it dies by SIGABRT and its stderr
 * contains `want`. Returns 0 on pass, 1 on fail (printing why). */
static inline int test_death(const char *what, void (*fn)(void *), void *arg,
			     const char *want)
{
	int fds[2];
	if (pipe(fds) != 0)
		return 1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		alarm(60); /* the watchdog thread did not survive fork */
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	char buf[8192];
	size_t len = 0;
	ssize_t n;
	while ((n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT) {
		fprintf(stderr, "FAIL death test %s: child did not abort "
			"(status 0x%x); stderr:\n%s\n", what, st, buf);
		return 1;
	}
	if (!strstr(buf, want)) {
		fprintf(stderr, "FAIL death test %s: stderr lacks \"%s\":\n%s\n",
			what, want, buf);
		return 1;
	}
	return 0;
}

struct test_death_run_ {
	int (*main_fn)(void *);
	void *arg;
};

static inline void test_death_run_child_(void *p)
{
	struct test_death_run_ *r = p;
	exit(ringo_run(r->main_fn, r->arg));
}

/* test_death with the runtime started in the child: ringo_run(main_fn,
 * arg) must abort with `want` on stderr. If it returns instead, the child
 * exits with its value, which the failure message shows. */
static inline int test_death_run(const char *what, int (*main_fn)(void *),
				 void *arg, const char *want)
{
	struct test_death_run_ r = { main_fn, arg };
	return test_death(what, test_death_run_child_, &r, want);
}

/* ---- running a test on one P too ---- */

/* Run main_fn(arg) as the main goroutine with the default config, then
 * again on one P, where no two goroutines run at once and hand-offs take
 * the same-P paths. Returns 0 if both runs returned 0, else 1. */
static inline int test_run_default_then_one_p(int (*main_fn)(void *), void *arg)
{
	if (ringo_run(main_fn, arg))
		return 1;
	struct ringo_config one = { .maxprocs = 1 };
	return ringo_run_config(&one, main_fn, arg) ? 1 : 0;
}

#endif
