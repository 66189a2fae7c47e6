/*
 * core/syscall.c - system-call sections: a goroutine that may block its
 * thread in the kernel lets its P go first, so the other goroutines keep
 * running (Go's entersyscall/exitsyscall).
 *
 * Entering costs a few stores: the M drops its P (status SYSCALL, m->p
 * NULL) but remembers it in m->oldp. Leaving CASes the P back to RUNNING;
 * that fails only if sysmon decided the call was taking too long and gave
 * the P to another M (core/sysmon.c). Then the M takes any idle P, or, if
 * there is none, switches to its g0, which queues the goroutine globally
 * and puts the M to sleep until a P is free.
 *
 * Rejected: handing the P off on every entry (a futex wake and a thread
 * switch for calls that mostly return in microseconds); a thread pool for
 * blocking calls (libuv's design: a copy of every argument and a
 * completion hop per call, and the caller's code cannot block freely).
 */
#include <errno.h>
#include <stdlib.h>

#include <ringo/sched.h>

#include "runtime.h"
#include "sched_internal.h"
#include "switch.h"

void ringo_syscall_enter(void)
{
	struct ringo__m *m = ringo__getm();

	if (!m || !m->curg)
		return; /* a thread of the program's own: nothing to hand off */
	if (m->in_syscall)
		ringo__panic("ringo_syscall_enter", "already inside a system-call "
			     "section (missing ringo_syscall_exit?)");
	struct ringo__p *p = m->p;
	atomic_store_explicit(&p->syscalltick,
			      atomic_load_explicit(&p->syscalltick,
						   memory_order_relaxed) + 1,
			      memory_order_relaxed);
	m->in_syscall = true;
	atomic_store_explicit(&m->curg->in_syscall, 1, memory_order_relaxed);
	m->oldp = p;
	m->p = NULL;
	p->m = NULL;
	/* Pairs with sysmon's CAS: from here on it may take the P. Seq-cst,
	 * as is the load of long_nap after it: sysmon stores long_nap and
	 * then looks for SYSCALL Ps (core/sysmon.c nap), so either it sees
	 * this P or this call sees its long nap and wakes it. */
	atomic_store(&p->status, RINGO_P_SYSCALL);
	if (atomic_load(&ringo__sysmon_long_nap))
		ringo__sysmon_wake();
}

/* sysmon took the P and none is idle: let g0 queue g once its context is
 * saved. errno was restored by the caller before the switch; the switch
 * carries it over to whichever thread resumes g (never touch errno after
 * it here: the compiler may keep the old thread's errno address). */
__attribute__((noinline)) static void exit_without_p(struct ringo__m *m)
{
	struct ringo__g *g = m->curg;

	atomic_store_explicit(&g->status, RINGO_G_RUNNABLE, memory_order_relaxed);
	m->after = RINGO_AFTER_SYSCALL;
	m->after_g = g;
	ringo__switch(m, g, NULL);
}

int ringo_syscall_exit(void)
{
	struct ringo__m *m = ringo__getm();

	if (!m || !m->curg)
		return errno;
	if (!m->in_syscall)
		ringo__panic("ringo_syscall_exit", "not inside a system-call "
			     "section (missing ringo_syscall_enter?)");
	int saved = errno;
	struct ringo__p *p = m->oldp;
	m->in_syscall = false;
	atomic_store_explicit(&m->curg->in_syscall, 0, memory_order_relaxed);
	m->oldp = NULL;
	int st = RINGO_P_SYSCALL;
	/* Pairs with the release store in enter (same M) and with sysmon's
	 * CAS: exactly one of the two moves the P out of SYSCALL. */
	if (atomic_compare_exchange_strong_explicit(&p->status, &st,
						    RINGO_P_RUNNING,
						    memory_order_acquire,
						    memory_order_relaxed)) {
		p->m = m;
		m->p = p;
		errno = saved;
		return saved;
	}
	/* sysmon took the P. Any idle one will do. */
	pthread_mutex_lock(&ringo__sched.lock);
	struct ringo__p *idle = ringo__pidleget_locked();
	pthread_mutex_unlock(&ringo__sched.lock);
	if (idle)
		ringo__acquirep(m, idle);
	errno = saved;
	if (!idle)
		exit_without_p(m);
	return saved;
}

int ringo__maxthreads_from(int cfg_value)
{
	const char *env = getenv("RINGO_MAXTHREADS");

	if (cfg_value)
		return cfg_value;
	if (!env || !*env)
		return RINGO_MAXTHREADS_DEFAULT;
	char *end;
	long v = strtol(env, &end, 10);
	if (*end || v < 1 || v > 1000000)
		ringo__panic("ringo_run", "RINGO_MAXTHREADS=\"%s\": want a thread "
			     "count from 1 to 1000000", env);
	return (int)v;
}
