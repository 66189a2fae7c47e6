/*
 * core/signal.c - per-M signal stacks and the stack-overflow report.
 *
 * A goroutine that runs into its guard page faults with no stack left to
 * run a handler on, so every M gets an alternate signal stack. The
 * SIGSEGV/SIGBUS handler only claims faults inside the running G's guard
 * page; any other fault goes to the handler that was installed before
 * ringo's (or the default action), so crashes stay crashes.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../alloc/stack.h"
#include "runtime.h"
#include "sched_internal.h"
#include "switch.h"

#define ALTSTACK_SIZE (64u * 1024u)

static struct sigaction old_segv, old_bus;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void put_str(char *buf, size_t *len, size_t cap, const char *s)
{
	while (*s && *len + 1 < cap)
		buf[(*len)++] = *s++;
}

static void put_u64(char *buf, size_t *len, size_t cap, unsigned long long v)
{
	char digits[24];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 23);
	while (n && *len + 1 < cap)
		buf[(*len)++] = digits[--n];
}

static void report_overflow(const struct ringo__g *g)
{
	char buf[256];
	size_t len = 0;

	/* Async-signal-safe: no stdio, no allocation. */
	put_str(buf, &len, sizeof(buf), "ringo: fatal: stack: stack overflow "
					"in goroutine ");
	put_u64(buf, &len, sizeof(buf), g->id);
	if (g->name[0]) {
		put_str(buf, &len, sizeof(buf), " [");
		put_str(buf, &len, sizeof(buf), g->name);
		put_str(buf, &len, sizeof(buf), "]");
	}
	put_str(buf, &len, sizeof(buf), " (stack size ");
	put_u64(buf, &len, sizeof(buf), ringo__stack_size(g));
	put_str(buf, &len, sizeof(buf), " bytes; hit the guard page)\n");
	if (write(2, buf, len) < 0)
		abort();
}

static void on_fault(int sig, siginfo_t *si, void *uctx)
{
	struct ringo__m *m = ringo__getm();
	struct ringo__g *g = m ? m->curg : NULL;

	if (g && ringo__stack_in_guard(g, si->si_addr)) {
		report_overflow(g);
		signal(SIGABRT, SIG_DFL);
		abort();
	}
	struct sigaction *old = sig == SIGSEGV ? &old_segv : &old_bus;
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, si, uctx);
		return;
	}
	if (old->sa_handler == SIG_IGN || old->sa_handler == SIG_DFL) {
		ringo__diag_fatal_signal(sig, g);
		/* For a real fault, returning re-executes the faulting access
		 * under the default action: the usual crash and core dump at
		 * the right place. A signal sent by kill() would not recur,
		 * so deliver it again. */
		signal(sig, SIG_DFL);
		if (si->si_code <= 0)
			raise(sig);
		return;
	}
	old->sa_handler(sig);
}

static void install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
}

void ringo__m_init_thread(struct ringo__m *m)
{
	pthread_attr_t attr;
	stack_t ss;

	pthread_once(&handlers_once, install_handlers);
	pthread_sigmask(SIG_SETMASK, NULL, &m->sigmask);
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &m->g0_stack_lo, &m->g0_stack_size);
		pthread_attr_destroy(&attr);
	}
	ringo__switch_init_m(m);
	/* Keep an alternate stack someone else (a sanitizer, the
	 * application) already installed on this thread. */
	if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE))
		return;
	ss.ss_sp = malloc(ALTSTACK_SIZE);
	if (!ss.ss_sp)
		ringo__throw("signal", "out of memory for a signal stack");
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) != 0)
		ringo__throw("signal", "sigaltstack failed");
	m->altstack = ss.ss_sp;
}

void ringo__m_exit_thread(struct ringo__m *m)
{
	if (!m->altstack)
		return;
	stack_t ss = { .ss_flags = SS_DISABLE };
	sigaltstack(&ss, NULL);
	free(m->altstack);
	m->altstack = NULL;
}
