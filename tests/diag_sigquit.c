/*
 * tests/diag_sigquit.c - SIGQUIT during ringo_run writes a goroutine dump
 * to stderr and exits with status 2, as Go; a SIGQUIT handler the program
 * installed first is left alone; outside ringo_run SIGQUIT keeps its
 * default action. Each case runs in a child (this program, run again)
 * that says on a pipe when it is ready for the signal.
 */
#include <fcntl.h>
#include <sys/resource.h>

#include <ringo/ringo.h>

#include "test.h"

static int ready_fd;
static int block_fds[2];
static ringo_chan *never;

static void sleeper(void *arg)
{
	(void)arg;
	ringo_chan_recv(never, NULL);
}

/* Tell the parent to send the signal, then block this M for good in a
 * read nobody will satisfy. */
static void ready_and_block(void)
{
	char c = 'r';
	if (write(ready_fd, &c, 1) != 1)
		_exit(10);
	while (read(block_fds[0], &c, 1) != 0)
		;
	_exit(11);
}

/* Dump into memory until the sleeper shows up parked. */
static void wait_parked(void)
{
	for (;;) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (!f)
			_exit(12);
		ringo_dump(f);
		fclose(f);
		bool parked = strstr(buf, "[sleeper] [chan receive]:") != NULL;
		free(buf);
		if (parked)
			return;
		ringo_sleep(RINGO_MILLISECOND);
	}
}

static int main_dump(void *arg)
{
	(void)arg;
	never = ringo_chan_make(0, 0);
	struct ringo_go_opts o = { .name = "sleeper" };
	ringo_go_opts(&o, sleeper, NULL);
	wait_parked();
	ready_and_block();
	return 0;
}

static void child_dump(void)
{
	struct ringo_config cfg = { .maxprocs = 2 };
	ringo_run_config(&cfg, main_dump, NULL);
}

static void custom_quit(int sig)
{
	static const char msg[] = "custom handler\n";
	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(13);
	_exit(3);
}

static int main_custom(void *arg)
{
	(void)arg;
	ready_and_block();
	return 0;
}

static void child_custom(void)
{
	signal(SIGQUIT, custom_quit);
	ringo_run(main_custom, NULL);
}

static int main_empty(void *arg)
{
	(void)arg;
	return 0;
}

static void child_after(void)
{
	ringo_run(main_empty, NULL);
	ready_and_block();
}

/* TSan runs an asynchronous signal's handler at once only on a thread
 * in a call it knows to block (pause, poll; not read), else when that
 * thread next enters an intercepted call, and an idle M waits in a raw
 * futex syscall, possibly for ever. So under TSan the signal goes to a
 * thread of its own that waits in pause(): the Ms, which inherit the mask
 * of the thread that calls ringo_run, block it. */
static void *catcher(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void route_quit_to_catcher(void)
{
	pthread_t t;
	sigset_t quit;

	if (pthread_create(&t, NULL, catcher, NULL) != 0)
		_exit(15);
	sigemptyset(&quit);
	sigaddset(&quit, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &quit, NULL);
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "dump", child_dump },
	{ "custom", child_custom },
	{ "after", child_after },
};

/* The child: `test-diag_sigquit CASE READY_FD`. */
static int child(const char *name, const char *fd)
{
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	ready_fd = atoi(fd);
	if (pipe(block_fds) != 0)
		return 16;
	alarm(60);
	signal(SIGQUIT, SIG_DFL); /* not ignored, even if we were */
	if (TEST_TSAN)
		route_quit_to_catcher();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(name, cases[i].name) == 0)
			cases[i].fn();
	return 14;
}

/* Run a case in a child, a fresh exec of this program (TSan does not
 * deliver signals in a child forked from a process that has threads);
 * once it is ready send SIGQUIT; collect its stderr into buf and its
 * wait status. */
static int quit_child(const char *name, char *buf, size_t cap, int *status)
{
	int ready[2], err[2];
	char fd[16];

	if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
		return 1;
	snprintf(fd, sizeof(fd), "%d", ready[1]);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		fcntl(ready[1], F_SETFD, 0);
		dup2(err[1], 2);
		execl("/proc/self/exe", "test-diag_sigquit", name, fd,
		      (char *)NULL);
		_exit(17);
	}
	close(ready[1]);
	close(err[1]);
	char c;
	if (read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "FAIL: child never got ready\n");
		return 1;
	}
	close(ready[0]);
	kill(pid, SIGQUIT);
	size_t len = 0;
	ssize_t n;
	while ((n = read(err[0], buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(err[0]);
	waitpid(pid, status, 0);
	return 0;
}

static char out[65536];

static int test_dump(void)
{
	int st;
	ASSERT_EQ(quit_child("dump", out, sizeof(out), &st), 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 2)
		TEST_FAIL("child status 0x%x, want exit 2; stderr:\n%s", st,
			  out);
	if (!strstr(out, "SIGQUIT: quit\n\ngoroutine ") ||
	    !strstr(out, " [main] [running]:\n") ||
	    !strstr(out, " [sleeper] [chan receive]:\n\twaiting on 0x") ||
	    !strstr(out, "\tcreated by goroutine "))
		TEST_FAIL("stderr lacks the dump:\n%s", out);
	return 0;
}

static int test_custom(void)
{
	int st;
	ASSERT_EQ(quit_child("custom", out, sizeof(out), &st), 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 3 ||
	    strcmp(out, "custom handler\n") != 0)
		TEST_FAIL("child status 0x%x, want exit 3; stderr:\n%s", st,
			  out);
	return 0;
}

static int test_after(void)
{
	int st;
	ASSERT_EQ(quit_child("after", out, sizeof(out), &st), 0);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGQUIT || out[0])
		TEST_FAIL("child status 0x%x, want death by SIGQUIT; "
			  "stderr:\n%s", st, out);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3)
		return child(argv[1], argv[2]);
	test_watchdog(100);
	RUN(test_dump);
	RUN(test_custom);
	RUN(test_after);
	return 0;
}
