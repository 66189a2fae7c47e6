/*
 * core/proc.c - goroutines: the public API (ringo_run, ringo_go, yield,
 * exit) and the internal park/ready interface every blocking primitive is
 * built on.
 *
 * A G leaves the CPU in exactly one place, ringo__leave() in
 * core/switch.c: it records what the next context must finish for it
 * (requeue, park callback, free) and switches straight to the next G of
 * its P when there is one, or to the M's g0, which runs the scheduler
 * loop (core/sched.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ringo/sched.h>

#include "../alloc/gpool.h"
#include "../alloc/stack.h"
#include "futex.h"
#include "runtime.h"
#include "sched_internal.h"
#include "switch.h"
#include "sync_internal.h"
#include "timer.h"
#include "io/netpoll.h"

#ifdef RINGO_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define GOID_BATCH 16

_Noreturn void ringo__must_m_fail(const char *call)
{
	struct ringo__m *m = ringo__getm();

	if (m && m->in_syscall)
		ringo__panic(call, "called between ringo_syscall_enter "
			     "and ringo_syscall_exit");
	ringo__panic(call, "called outside a goroutine (use it inside "
		     "ringo_run)");
}

/* Owner-only counter that other threads sum: a relaxed load and store,
 * no locked instruction. */
static void gcount_add(struct ringo__p *p, int64_t d)
{
	atomic_store_explicit(&p->gcount,
			      atomic_load_explicit(&p->gcount,
						   memory_order_relaxed) + d,
			      memory_order_relaxed);
}

void ringo__preempt_leave(struct ringo__m *m, struct ringo__g *g)
{
	atomic_store_explicit(&g->status, RINGO_G_RUNNABLE, memory_order_relaxed);
	ringo__leave(m, g, RINGO_AFTER_PREEMPT);
}

/* Every goroutine starts here, on its own stack. */
static _Noreturn void goexit(struct ringo__m *m, struct ringo__g *g);

static void g_entry(void *unused)
{
	(void)unused;
	struct ringo__g *g = ringo__getg();

	ringo__switch_finish(g);
	g->fn(g->arg);
	goexit(ringo__getm(), ringo__getg());
}

static _Noreturn void goexit(struct ringo__m *m, struct ringo__g *g)
{
	gcount_add(m->p, -1);
	atomic_store_explicit(&g->status, RINGO_G_DEAD, memory_order_relaxed);
	if (g->is_main)
		ringo__sched_wake_all();
	ringo__leave(m, g, RINGO_AFTER_EXIT);
	ringo__throw("sched", "dead goroutine %llu resumed",
		     (unsigned long long)g->id);
}

static uint64_t new_goid(struct ringo__p *p)
{
	if (p->goid_next == p->goid_end) {
		p->goid_next = atomic_fetch_add(&ringo__sched.goid_gen,
						GOID_BATCH) + 1;
		p->goid_end = p->goid_next + GOID_BATCH;
	}
	return p->goid_next++;
}

/* A runnable G for fn(arg) on p, not yet queued. */
static struct ringo__g *newproc(struct ringo__p *p, const struct ringo_go_opts *o,
				void (*fn)(void *), void *arg,
				struct ringo__g *creator, void *pc)
{
	size_t size = o && o->stack_size
			      ? ringo__stack_round(o->stack_size, "ringo_go_opts")
			      : ringo__sched.stack_size;
	struct ringo__g *g = ringo__gfree_get(p, size);

	if (!g) {
		errno = ENOMEM;
		ringo__throw("ringo_go", "cannot allocate a %zu-byte stack",
			     size);
	}
#ifdef RINGO_ASAN
	__asan_unpoison_memory_region(g->stack_lo, ringo__stack_size(g));
#endif
	ringo__switch_prepare_g(g);
	ringo__ctx_make(&g->ctx, g, g_entry, NULL);
	g->fn = fn;
	g->arg = arg;
	g->id = new_goid(p);
	g->saved_errno = 0;
	g->preempt_off = 0;
	atomic_store_explicit(&g->in_syscall, 0, memory_order_relaxed);
	g->is_main = false;
	g->wait_reason = RINGO_WAIT_NONE;
	g->waiting_on = NULL;
	g->creator_id = creator ? creator->id : 0;
	g->create_pc = pc;
	g->name[0] = 0;
	if (o && o->name) {
		strncpy(g->name, o->name, RINGO_G_NAME_MAX - 1);
		g->name[RINGO_G_NAME_MAX - 1] = 0;
	}
	gcount_add(p, 1);
	atomic_store_explicit(&g->status, RINGO_G_RUNNABLE, memory_order_relaxed);
	return g;
}

/* A new G on p, queued to run next, as in Go; the G it displaces from
 * runnext goes to the tail, where an idle P can steal it. */
static struct ringo__g *start(struct ringo__p *p,
			      const struct ringo_go_opts *opts,
			      void (*fn)(void *), void *arg,
			      struct ringo__g *creator, void *pc)
{
	struct ringo__g *g = newproc(p, opts, fn, arg, creator, pc);

	ringo__runqput(p, g, true);
	ringo__wakep();
	return g;
}

/* pc: where the user called ringo_go, for "created by" in dumps. */
static uint64_t go(const struct ringo_go_opts *opts, void (*fn)(void *),
		   void *arg, void *pc)
{
	struct ringo__m *m = ringo__must_m("ringo_go");

	if (!fn)
		ringo__panic("ringo_go", "NULL function");
	uint64_t id = start(m->p, opts, fn, arg, m->curg, pc)->id;
	/* Back-pressure: a loop spawning faster than the Ps run what it
	 * spawns would otherwise hold one stack (a fresh page, ~1.6 us to
	 * fault in on this VM) per queued goroutine - a million of them for a
	 * million short jobs. Once this P's ring is full, the spawner yields
	 * and the queued goroutines run, and die, first; spawning then
	 * reuses their warm stacks. Go's newproc never yields, but Go can
	 * preempt the loop at any instruction. Not while preemption is
	 * disabled: the caller asked to keep its P. */
	if (ringo__unlikely(ringo__runqfull(m->p)) && !m->curg->preempt_off)
		ringo_yield();
	return id;
}

__attribute__((noinline)) uint64_t
ringo_go_opts(const struct ringo_go_opts *opts, void (*fn)(void *), void *arg)
{
	return go(opts, fn, arg, __builtin_return_address(0));
}

__attribute__((noinline)) uint64_t ringo_go(void (*fn)(void *), void *arg)
{
	return go(NULL, fn, arg, __builtin_return_address(0));
}

void ringo__spawn(void (*fn)(void *), void *arg)
{
	struct ringo__m *m = ringo__getm();

	if (!m || !m->p)
		ringo__throw("sched", "goroutine spawned without a P");
	/* No back-pressure yield, unlike ringo_go: the caller is no
	 * goroutine of the program's, and may be g0. */
	start(m->p, NULL, fn, arg, NULL, NULL);
}

void ringo_exit(void)
{
	struct ringo__m *m = ringo__must_m("ringo_exit");

	if (m->curg->is_main)
		ringo__panic("ringo_exit", "called from the main goroutine "
			     "(return from main instead)");
	if (m->curg->in_once)
		ringo__panic("ringo_exit", "called from a ringo_once_do "
			     "function (its once would never be done)");
	goexit(m, m->curg);
}

uint64_t ringo_id(void)
{
	struct ringo__g *g = ringo__getg();

	return g ? g->id : 0;
}

int ringo_num_goroutines(void)
{
	int64_t n = 0;

	if (!ringo__sched.running)
		return 0;
	for (int i = 0; i < ringo__sched.nprocs; i++)
		n += atomic_load_explicit(&ringo__sched.allp[i]->gcount,
					  memory_order_relaxed);
	return (int)n;
}

int ringo_maxprocs(void)
{
	return ringo__sched.running ? ringo__sched.nprocs
				    : ringo__procs_default();
}

/* ----------------------------------------------------- park / ready */

static inline __attribute__((always_inline)) void ready(struct ringo__g *g,
							bool next)
{
	/* Only one waker can own a parked G (it took it off a wait queue
	 * under that queue's lock), so a check and a store suffice. */
	uint32_t st = atomic_load_explicit(&g->status, memory_order_relaxed);
	if (ringo__unlikely(st != RINGO_G_WAITING))
		ringo__throw("sched", "ready of goroutine %llu in state %u",
			     (unsigned long long)g->id, st);
	atomic_store_explicit(&g->status, RINGO_G_RUNNABLE, memory_order_relaxed);
	g->wait_reason = RINGO_WAIT_NONE;
	struct ringo__m *m = ringo__getm();
	if (m && m->p) {
		ringo__runqput(m->p, g, next);
	} else {
		pthread_mutex_lock(&ringo__sched.lock);
		ringo__globrunqput(g);
		pthread_mutex_unlock(&ringo__sched.lock);
	}
	ringo__wakep();
}

void ringo__ready(struct ringo__g *g)
{
	ready(g, true);
}

void ringo__ready_tail(struct ringo__g *g)
{
	ready(g, false);
}

/* ------------------------------------------------------- ringo_run */

struct main_call {
	int (*fn)(void *);
	void *arg;
};

static void main_entry(void *arg)
{
	struct main_call *c = arg;

	ringo__sched.main_result = c->fn(c->arg);
}

static size_t stack_size_from(const struct ringo_config *cfg)
{
	const char *env = getenv("RINGO_STACK_SIZE");

	if (cfg && cfg->stack_size)
		return cfg->stack_size;
	if (env && *env) {
		char *end;
		unsigned long long v = strtoull(env, &end, 10);
		unsigned long long unit = 1;
		if (*end == 'k' || *end == 'K')
			unit = 1024, end++;
		else if (*end == 'm' || *end == 'M')
			unit = 1024 * 1024, end++;
		if (v > RINGO_STACK_MAX / unit)
			v = 0; /* too big: refused below, before it can wrap */
		v *= unit;
		if (*end || v == 0 || v > RINGO_STACK_MAX)
			ringo__panic("ringo_run", "RINGO_STACK_SIZE=\"%s\": want "
				     "bytes (suffix k or m allowed), up to 1g",
				     env);
		return (size_t)v;
	}
	return RINGO_STACK_DEFAULT;
}

size_t ringo_stack_default(void)
{
	return ringo__sched.running ? ringo__sched.stack_size
				    : stack_size_from(NULL);
}

static void create_ps(int nprocs)
{
	ringo__sched.nprocs = nprocs;
	ringo__sched.allp = calloc((size_t)nprocs, sizeof(*ringo__sched.allp));
	if (!ringo__sched.allp)
		ringo__throw("ringo_run", "out of memory");
	for (int i = 0; i < nprocs; i++) {
		struct ringo__p *p = aligned_alloc(64, (sizeof(*p) + 63) & ~63ul);
		if (!p)
			ringo__throw("ringo_run", "out of memory");
		memset(p, 0, sizeof(*p));
		p->id = i;
		p->status = RINGO_P_IDLE;
		if (ringo__timers_create(p) != 0)
			ringo__throw("ringo_run", "out of memory");
		ringo__sched.allp[i] = p;
	}
	/* Timers an earlier run left pending (core/timer.h). */
	ringo__timers_adopt(ringo__sched.allp[0]);
}

static void teardown(struct ringo__m *m0)
{
	/* sysmon first: it signals Ms and may still start one. */
	ringo__sysmon_stop();
	ringo__preempt_fini();
	uint32_t starting;
	while ((starting = atomic_load(&ringo__sched.mstarting)))
		ringo__futex_wait(&ringo__sched.mstarting, starting, -1);
	struct ringo__m *m = atomic_load(&ringo__sched.allm);

	while (m) {
		struct ringo__m *next = m->alllink;
		if (m != m0) {
			pthread_join(m->thread, NULL);
			free(m);
		}
		m = next;
	}
	/* Timers first, while each is as its owner left it (the netpoller's
	 * fini re-initialises the descriptors' deadline timers) and a
	 * sleeper's stack is still there (core/timer.h). */
	for (int i = 0; i < ringo__sched.nprocs; i++)
		ringo__timers_orphan(ringo__sched.allp[i]);
	/* Then the netpoller: its fini waits for every request in flight,
	 * and the kernel may still be writing into a discarded goroutine's
	 * stack for one of them. */
	ringo__netpoll->fini();
	/* The semaphore table may still list waiters that live on the
	 * stacks of discarded goroutines, freed just below. */
	ringo__sema_teardown();
	ringo__gfree_all();
	ringo__m_exit_thread(m0);
	free(m0);
	for (int i = 0; i < ringo__sched.nprocs; i++) {
		ringo__timers_destroy(ringo__sched.allp[i]);
		free(ringo__sched.allp[i]);
	}
	free(ringo__sched.allp);
	ringo__sched.allp = NULL;
	ringo__sched.allm = NULL;
	ringo__globrunq_free();
	ringo__sched.pidle = NULL;
	atomic_store(&ringo__sched.npidle, 0);
	ringo__sched.midle = NULL;
	ringo__sched.nmidle = 0;
	atomic_store(&ringo__sched.nmspinning, 0);
	ringo__sched.mcount = 0;
	atomic_store(&ringo__sched.shutdown, false);
	ringo__sched.running = false;
	ringo__setm(NULL);
}

int ringo_run_config(const struct ringo_config *cfg, int (*main_fn)(void *),
		     void *arg)
{
	if (ringo__sched.running || ringo__getm())
		ringo__panic("ringo_run", "already running (nested call?)");
	if (!main_fn)
		ringo__panic("ringo_run", "NULL main function");
	int nprocs = cfg && cfg->maxprocs ? cfg->maxprocs : ringo__procs_default();
	if (nprocs < 1 || nprocs > 1024)
		ringo__panic("ringo_run", "maxprocs %d: want 1 to 1024", nprocs);
	size_t stack = stack_size_from(cfg);

	create_ps(nprocs);
	int err = ringo__netpoll_select(cfg ? cfg->netpoll : NULL);
	if (err < 0) {
		errno = -err;
		ringo__throw("ringo_run", "starting the netpoller failed");
	}
	err = ringo__stack_init(nprocs);
	if (err < 0) {
		errno = -err;
		ringo__throw("ringo_run", "creating jemalloc arenas failed");
	}
	ringo__sched.stack_size = ringo__stack_round(stack, "ringo_run");
	ringo__sched.maxmcount = ringo__maxthreads_from(cfg ? cfg->max_threads : 0);
	if (ringo__sched.maxmcount < nprocs)
		ringo__panic("ringo_run", "thread limit %d is below maxprocs %d",
			     ringo__sched.maxmcount, nprocs);
	ringo__preempt_init(cfg ? cfg->preempt : 0);
	ringo__sched.main_result = 0;
	ringo__sched.running = true;

	struct ringo__m *m0 = calloc(1, sizeof(*m0));
	if (!m0)
		ringo__throw("ringo_run", "out of memory");
	m0->is_m0 = true;
	m0->thread = pthread_self();
	m0->rand = 0x9e3779b97f4a7c15ull;
	ringo__sched.mcount = 1;
	atomic_store(&ringo__sched.allm, m0);
	ringo__setm(m0);
	ringo__m_init_thread(m0);
	ringo__diag_init();

	pthread_mutex_lock(&ringo__sched.lock);
	for (int i = nprocs - 1; i >= 1; i--) {
		struct ringo__p *p = ringo__sched.allp[i];
		p->link = ringo__sched.pidle;
		ringo__sched.pidle = p;
		atomic_fetch_add(&ringo__sched.npidle, 1);
	}
	pthread_mutex_unlock(&ringo__sched.lock);
	struct ringo__p *p0 = ringo__sched.allp[0];
	p0->status = RINGO_P_RUNNING;
	p0->m = m0;
	m0->p = p0;

	struct main_call call = { main_fn, arg };
	struct ringo_go_opts opts = { .name = "main" };
	struct ringo__g *g = newproc(p0, &opts, main_entry, &call, NULL, NULL);
	g->is_main = true;
	ringo__runqput(p0, g, false);

	ringo__sysmon_start();
	ringo__schedule(m0);
	ringo__sched_wake_all();
	int result = ringo__sched.main_result;
	teardown(m0);
	return result;
}

int ringo_run(int (*main_fn)(void *), void *arg)
{
	return ringo_run_config(NULL, main_fn, arg);
}
