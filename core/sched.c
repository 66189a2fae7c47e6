/*
 * core/sched.c - the scheduler: Ms looking for work, idle Ps and Ms, and
 * waking exactly one M when new work appears.
 *
 * Glossary: see core/runtime.h (G, M, P, g0). The loop each M runs on its
 * g0 is schedule() -> find a G -> run it -> back here when the G parks,
 * yields or exits and no other G of the same P could be switched to
 * directly (core/proc.c does the direct G-to-G switches).
 *
 * Where a G is found, in order: every 61st tick the global queue (a tick
 * is a new time slice; a pair of Gs ping-ponging through runnext shares
 * one until sysmon finds it over 10 ms, and then the next hand-off
 * starts a new one: core/switch.c, pick_next); the expired
 * timers of every P, whose Gs become this P's (a P whose M runs one long
 * goroutine, such as a loop spawning a million others, cannot run its own);
 * runnext and the local ring; the global queue; the netpoller (io/); then
 * stealing half of another P's ring, up to four rounds in random order,
 * the last round also taking runnext.
 *
 * Spinning: an M that has a P but no work is "spinning" while it steals.
 * At most half of the busy Ps' worth of Ms spin. New work calls wakep(),
 * which starts one M only if no M spins and a P is idle; a spinning M that
 * finds work calls wakep() in turn. So a burst of work wakes Ms one at a
 * time instead of all at once, and an idle runtime has no M running.
 *
 * Going idle (the delicate part): an M that found nothing first gives its
 * P back under sched.lock after a last look at the global queue, then
 * stops spinning (a sequentially consistent decrement) and only then looks
 * at every P's ring once more. A producer queues its G and then reads
 * nmspinning: either it sees no spinner and wakes an M, or the spinner's
 * last look sees the G. Idle Ms sleep on a futex in their M struct.
 *
 * Rejected: one global run queue under a lock (the design this replaces:
 * every spawn and wake contends on it); waking an M on every ready (a
 * thundering herd of futex wakes for a ping-pong pair).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "futex.h"
#include "io/netpoll.h"
#include "runtime.h"
#include "sched_internal.h"
#include "switch.h"

struct ringo__sched ringo__sched = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.gfree_lock = PTHREAD_MUTEX_INITIALIZER,
	.allg_lock = PTHREAD_MUTEX_INITIALIZER,
};

int64_t ringo__nanotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint32_t ringo__fastrand(struct ringo__m *m)
{
	uint64_t x = m->rand;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	m->rand = x;
	return (uint32_t)(x >> 32);
}

/* ------------------------------------------------ idle Ps and Ms */

/* Caller holds sched.lock. */
static void pidleput(struct ringo__p *p)
{
	if (!ringo__runqempty(p))
		ringo__throw("sched", "idle P %d has runnable Gs", p->id);
	p->status = RINGO_P_IDLE;
	p->m = NULL;
	p->link = ringo__sched.pidle;
	ringo__sched.pidle = p;
	atomic_fetch_add(&ringo__sched.npidle, 1);
}

/* Caller holds sched.lock. */
struct ringo__p *ringo__pidleget_locked(void)
{
	struct ringo__p *p = ringo__sched.pidle;

	if (p) {
		ringo__sched.pidle = p->link;
		atomic_fetch_sub(&ringo__sched.npidle, 1);
	}
	return p;
}

void ringo__acquirep(struct ringo__m *m, struct ringo__p *p)
{
	if (p->m || p->status != RINGO_P_IDLE)
		ringo__throw("sched", "acquire of busy P %d", p->id);
	p->m = m;
	p->status = RINGO_P_RUNNING;
	p->now = ringo__nanotime(); /* stale after idling; parks read it */
	m->p = p;
}

static struct ringo__p *releasep(struct ringo__m *m)
{
	struct ringo__p *p = m->p;

	m->p = NULL;
	return p;
}

/* Put m to sleep until startm() hands it a P (in m->nextp) or the runtime
 * shuts down. Returns false on shutdown. */
static bool stopm(struct ringo__m *m)
{
	pthread_mutex_lock(&ringo__sched.lock);
	if (atomic_load(&ringo__sched.shutdown)) {
		pthread_mutex_unlock(&ringo__sched.lock);
		return false;
	}
	atomic_store_explicit(&m->note, 0, memory_order_relaxed);
	m->schedlink = ringo__sched.midle;
	ringo__sched.midle = m;
	ringo__sched.nmidle++;
	ringo__diag_check_deadlock_locked();
	pthread_mutex_unlock(&ringo__sched.lock);

	/* Pairs with the store-release of 1 in notewakeup(). */
	while (atomic_load_explicit(&m->note, memory_order_acquire) == 0)
		ringo__futex_wait(&m->note, 0, -1);
	if (!m->nextp)
		return false; /* woken for shutdown */
	ringo__acquirep(m, m->nextp);
	m->nextp = NULL;
	return true;
}

static void notewakeup(struct ringo__m *m)
{
	atomic_store_explicit(&m->note, 1, memory_order_release);
	ringo__futex_wake(&m->note, 1);
}

/* Caller holds sched.lock. */
static struct ringo__m *mget(void)
{
	struct ringo__m *m = ringo__sched.midle;

	if (m) {
		ringo__sched.midle = m->schedlink;
		ringo__sched.nmidle--;
	}
	return m;
}

static void *mstart(void *arg);

static void mstarting_done(void)
{
	atomic_fetch_sub(&ringo__sched.mstarting, 1);
	ringo__futex_wake(&ringo__sched.mstarting, 1);
}

/* Start a new M that will run p; after shutdown, none. */
static void newm(struct ringo__p *p, bool spinning)
{
	/* The new M is on allm before pthread_create sets its thread id.
	 * Counted before shutdown is read, and teardown sets shutdown before
	 * it waits for the count to be 0 (both seq-cst): either this sees
	 * shutdown and starts nothing, or teardown joins this M only once
	 * its id is set. */
	atomic_fetch_add(&ringo__sched.mstarting, 1);
	if (atomic_load(&ringo__sched.shutdown)) {
		mstarting_done();
		return;
	}
	struct ringo__m *m = calloc(1, sizeof(*m));
	pthread_attr_t attr;

	if (!m)
		ringo__throw("sched", "out of memory creating an M");
	m->nextp = p;
	m->spinning = spinning;
	pthread_mutex_lock(&ringo__sched.lock);
	m->id = ringo__sched.mcount++;
	pthread_mutex_unlock(&ringo__sched.lock);
	/* Like Go's limit of 10,000 threads: a program whose goroutines all
	 * block in system calls would otherwise grow without bound. */
	if (m->id >= ringo__sched.maxmcount)
		ringo__throw("sched", "program exceeds the %d-thread limit "
			     "(RINGO_MAXTHREADS): too many goroutines blocked "
			     "in system calls at once", ringo__sched.maxmcount);
	m->rand = 0x9e3779b97f4a7c15ull * (uint64_t)(m->id + 1);
	struct ringo__m *head = atomic_load(&ringo__sched.allm);
	do
		m->alllink = head;
	while (!atomic_compare_exchange_weak(&ringo__sched.allm, &head, m));

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, RINGO_M_STACK_SIZE);
	int err = pthread_create(&m->thread, &attr, mstart, m);
	pthread_attr_destroy(&attr);
	if (err) {
		errno = err;
		ringo__throw("sched", "pthread_create for a new M failed");
	}
	mstarting_done();
}

/* Give p (or an idle P when p is NULL) to an idle or new M. `spinning`
 * means the caller already counted the new M in nmspinning. */
static void startm(struct ringo__p *p, bool spinning)
{
	pthread_mutex_lock(&ringo__sched.lock);
	if (!p) {
		p = ringo__pidleget_locked();
		if (!p) {
			pthread_mutex_unlock(&ringo__sched.lock);
			if (spinning)
				atomic_fetch_sub(&ringo__sched.nmspinning, 1);
			return;
		}
	}
	struct ringo__m *m = mget();
	pthread_mutex_unlock(&ringo__sched.lock);
	if (!m) {
		newm(p, spinning);
		return;
	}
	m->spinning = spinning;
	m->nextp = p;
	notewakeup(m);
}

void ringo__wakep_slow(void)
{
	int32_t zero = 0;

	if (atomic_load_explicit(&ringo__sched.nmspinning,
				 memory_order_relaxed) != 0 ||
	    !atomic_compare_exchange_strong(&ringo__sched.nmspinning, &zero, 1))
		return;
	startm(NULL, true);
}

void ringo__handoffp(struct ringo__p *p)
{
	/* Decide under sched.lock: a producer that queues globally after
	 * the check below then finds p on the idle list when it wakes one. */
	pthread_mutex_lock(&ringo__sched.lock);
	if (!ringo__runqempty(p) ||
	    atomic_load_explicit(&ringo__sched.runqsize, memory_order_relaxed)) {
		pthread_mutex_unlock(&ringo__sched.lock);
		startm(p, false);
		return;
	}
	/* No work now, and nobody looking for any: let one M look. */
	int32_t zero = 0;
	if (atomic_load(&ringo__sched.npidle) == 0 &&
	    atomic_compare_exchange_strong(&ringo__sched.nmspinning, &zero, 1)) {
		pthread_mutex_unlock(&ringo__sched.lock);
		startm(p, true);
		return;
	}
	pidleput(p);
	pthread_mutex_unlock(&ringo__sched.lock);
	/* p's timers and the goroutines waiting for I/O need an M in the
	 * poller; wakep starts one if none is looking. */
	if (ringo__idle_can_wake())
		ringo__wakep();
}

void ringo__syscall_requeue(struct ringo__m *m, struct ringo__g *g)
{
	pthread_mutex_lock(&ringo__sched.lock);
	struct ringo__p *p = ringo__pidleget_locked();
	if (!p)
		ringo__globrunqput(g);
	pthread_mutex_unlock(&ringo__sched.lock);
	if (p) {
		ringo__acquirep(m, p);
		ringo__runqput(p, g, false);
	}
}

static void resetspinning(struct ringo__m *m)
{
	m->spinning = false;
	int32_t n = atomic_fetch_sub(&ringo__sched.nmspinning, 1) - 1;
	if (n < 0)
		ringo__throw("sched", "negative nmspinning");
	ringo__wakep();
}

/* ------------------------------------------------ finding work */

static struct ringo__g *steal_work(struct ringo__m *m)
{
	struct ringo__p *p = m->p;
	int n = ringo__sched.nprocs;

	for (int round = 0; round < 4; round++) {
		/* Visit Ps in a random rotation with a step coprime to n. */
		uint32_t start = ringo__fastrand(m) % (uint32_t)n;
		for (int i = 0; i < n; i++) {
			struct ringo__p *v =
				ringo__sched.allp[(start + (uint32_t)i) % (uint32_t)n];
			if (v == p)
				continue;
			struct ringo__g *g = ringo__runqsteal(p, v, round == 3);
			if (g)
				return g;
		}
	}
	return NULL;
}

/* Block until there is a G to run; returns it with m holding a P. Returns
 * NULL only on shutdown. */
static struct ringo__g *findrunnable(struct ringo__m *m)
{
	struct ringo__g *g;

top:
	if (atomic_load_explicit(&ringo__sched.shutdown, memory_order_relaxed))
		return NULL;
	struct ringo__p *p = m->p;
	ringo__timers_run_all();
	/* Before this M runs another G or sleeps: I/O the previous G queued
	 * must reach the kernel. */
	ringo__netpoll_flush();
	if ((g = ringo__runqget(p)))
		return g;
	if (atomic_load_explicit(&ringo__sched.runqsize, memory_order_relaxed)) {
		pthread_mutex_lock(&ringo__sched.lock);
		g = ringo__globrunqget(p, 0);
		pthread_mutex_unlock(&ringo__sched.lock);
		if (g)
			return g;
	}
	if ((g = ringo__netpoll_nonblock(p)))
		return g;

	/* Limit spinners to half the busy Ps: beyond that, stealing only
	 * burns CPU the busy Ps could use. */
	int32_t busy = ringo__sched.nprocs -
		       atomic_load_explicit(&ringo__sched.npidle,
					    memory_order_relaxed);
	if (m->spinning ||
	    2 * atomic_load_explicit(&ringo__sched.nmspinning,
				     memory_order_relaxed) < busy) {
		if (!m->spinning) {
			m->spinning = true;
			atomic_fetch_add(&ringo__sched.nmspinning, 1);
		}
		if ((g = steal_work(m)))
			return g;
	}

	/* Nothing found: give the P back. */
	pthread_mutex_lock(&ringo__sched.lock);
	if (atomic_load_explicit(&ringo__sched.runqsize, memory_order_relaxed)) {
		g = ringo__globrunqget(p, 0);
		pthread_mutex_unlock(&ringo__sched.lock);
		return g;
	}
	releasep(m);
	pidleput(p);
	pthread_mutex_unlock(&ringo__sched.lock);

	if (m->spinning) {
		m->spinning = false;
		if (atomic_fetch_sub(&ringo__sched.nmspinning, 1) - 1 < 0)
			ringo__throw("sched", "negative nmspinning");
		/* Last look at every ring, after the seq-cst decrement above
		 * (pairs with the producer's read of nmspinning in wakep). */
		for (int i = 0; i < ringo__sched.nprocs; i++) {
			if (ringo__runqempty(ringo__sched.allp[i]))
				continue;
			pthread_mutex_lock(&ringo__sched.lock);
			struct ringo__p *p2 = ringo__pidleget_locked();
			pthread_mutex_unlock(&ringo__sched.lock);
			if (p2) {
				ringo__acquirep(m, p2);
				m->spinning = true;
				atomic_fetch_add(&ringo__sched.nmspinning, 1);
				goto top;
			}
			break;
		}
	}

	/* Block in the poller (timers, I/O) if nobody else does, else sleep
	 * until handed a P. */
	if (ringo__idle_poll(m))
		goto top;
	if (!stopm(m))
		return NULL;
	goto top;
}

/* Run g on m (from g0). Returns when m is back on g0. */
static void execute(struct ringo__m *m, struct ringo__g *g, bool inherit)
{
	atomic_store_explicit(&m->p->in_scheduler, false, memory_order_relaxed);
	if (!inherit)
		ringo__schedtick_inc(m->p);
	atomic_store_explicit(&g->status, RINGO_G_RUNNING, memory_order_relaxed);
	ringo__switch(m, NULL, g);
}

void ringo__schedule(struct ringo__m *m)
{
	for (;;) {
		struct ringo__g *g = NULL;
		bool inherit = false;

		if (atomic_load_explicit(&ringo__sched.shutdown,
					 memory_order_relaxed))
			return;
		/* A G that left a system call found no P and was queued
		 * (ringo__syscall_requeue): its M waits for one. */
		if (!m->p && !stopm(m))
			return;
		struct ringo__p *p = m->p;
		p->now = ringo__nanotime();
		if (ringo__schedtick(p) % 61 == 0 &&
		    atomic_load_explicit(&ringo__sched.runqsize,
					 memory_order_relaxed)) {
			pthread_mutex_lock(&ringo__sched.lock);
			g = ringo__globrunqget(p, 1);
			pthread_mutex_unlock(&ringo__sched.lock);
		}
		if (!g) {
			struct ringo__g *next = atomic_load_explicit(
				&p->runnext, memory_order_relaxed);
			g = ringo__runqget(p);
			inherit = g && g == next;
		}
		if (!g) {
			atomic_store_explicit(&p->in_scheduler, true,
					      memory_order_relaxed);
			g = findrunnable(m);
			if (!g)
				return;
		}
		if (m->spinning)
			resetspinning(m);
		execute(m, g, inherit);
	}
}

static void *mstart(void *arg)
{
	struct ringo__m *m = arg;

	ringo__setm(m);
	ringo__m_init_thread(m);
	ringo__acquirep(m, m->nextp);
	m->nextp = NULL;
	ringo__schedule(m);
	ringo__m_exit_thread(m);
	return NULL;
}

/* Wake every sleeping M so that it sees `shutdown` and leaves. */
void ringo__sched_wake_all(void)
{
	pthread_mutex_lock(&ringo__sched.lock);
	atomic_store(&ringo__sched.shutdown, true);
	struct ringo__m *m;
	while ((m = mget())) {
		m->nextp = NULL;
		notewakeup(m);
	}
	pthread_mutex_unlock(&ringo__sched.lock);
	ringo__netpoll_break();
}
