/*
 * tests/diag_fatal.c - a fatal signal in a goroutine names it: a NULL
 * write (SIGSEGV), a division by zero and a raised SIGFPE, a raised
 * SIGILL and abort() each print "ringo: fatal signal N in goroutine ID
 * [name]" and the process still dies by that signal (death tests, each
 * in a child that runs this program again).
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>

#include <ringo/ringo.h>

#include "test.h"

/* The sanitizers own SIGSEGV and SIGFPE: they report them themselves. */
#define SANITIZER_OWNS_FAULTS TEST_SANITIZED

static volatile int *volatile null_ptr;
static volatile int zero, one = 1;
static volatile int sink;

/* What the crashing goroutine does. */
enum crash { NULL_WRITE, DIV_ZERO, RAISE_FPE, RAISE_ILL, ABORT };

/* Say which goroutine this is, so the parent knows what to expect. */
static void announce(void)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "id=%llu\n",
			 (unsigned long long)ringo_id());
	if (write(2, line, (size_t)n) != n)
		_exit(20);
}

static void crasher(void *arg)
{
	announce();
	switch ((enum crash)(intptr_t)arg) {
	case NULL_WRITE:
		*null_ptr = 1;
		break;
	case DIV_ZERO:
		sink = one / zero; /* not 1 / zero: GCC rewrites that */
		break;
	case RAISE_FPE:
		raise(SIGFPE);
		break;
	case RAISE_ILL:
		raise(SIGILL);
		break;
	case ABORT:
		abort();
	}
	_exit(21); /* survived */
}

static int main_crash(void *arg)
{
	struct ringo_go_opts o = { .name = "crasher" };
	ringo_go_opts(&o, crasher, arg);
	ringo_chan_recv(NULL, NULL); /* wait for the crash */
	return 0;
}

/* The child: `test-diag_fatal CRASH`. */
static int child(const char *crash)
{
	struct rlimit no_core = { 0, 0 };
	struct ringo_config cfg = { .maxprocs = 2 };

	setrlimit(RLIMIT_CORE, &no_core);
	alarm(60);
	ringo_run_config(&cfg, main_crash, (void *)(intptr_t)atoi(crash));
	return 22;
}

static char out[8192];

/* Run a crash in a child, a fresh exec of this program (a child forked
 * from a process with threads may inherit a sanitizer's allocator lock
 * held); it must die by `sig` and name the goroutine. */
static int expect_crash(const char *name, enum crash c, int sig)
{
	int err[2];
	char arg[16];

	if (pipe2(err, O_CLOEXEC) != 0)
		return 1;
	snprintf(arg, sizeof(arg), "%d", (int)c);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		dup2(err[1], 2);
		execl("/proc/self/exe", "test-diag_fatal", arg, (char *)NULL);
		_exit(23);
	}
	close(err[1]);
	size_t len = 0;
	ssize_t n;
	while ((n = read(err[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = 0;
	close(err[0]);
	int st;
	waitpid(pid, &st, 0);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != sig)
		TEST_FAIL("%s: child status 0x%x, want death by signal %d; "
			  "stderr:\n%s", name, st, sig, out);
	unsigned long long id;
	if (sscanf(out, "id=%llu", &id) != 1)
		TEST_FAIL("%s: no id in stderr:\n%s", name, out);
	char want[128];
	snprintf(want, sizeof(want),
		 "ringo: fatal signal %d in goroutine %llu [crasher] (", sig,
		 id);
	if (!strstr(out, want))
		TEST_FAIL("%s: stderr lacks \"%s\":\n%s", name, want, out);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2)
		return child(argv[1]);
	test_watchdog(100);
	if (!SANITIZER_OWNS_FAULTS &&
	    (expect_crash("NULL write", NULL_WRITE, SIGSEGV) ||
	     expect_crash("raise SIGFPE", RAISE_FPE, SIGFPE)))
		return 1;
#if defined(__x86_64__)
	/* aarch64 does not trap on integer division by zero. */
	if (!SANITIZER_OWNS_FAULTS &&
	    expect_crash("division by zero", DIV_ZERO, SIGFPE))
		return 1;
#endif
	if (expect_crash("raise SIGILL", RAISE_ILL, SIGILL) ||
	    expect_crash("abort", ABORT, SIGABRT))
		return 1;
	return 0;
}
