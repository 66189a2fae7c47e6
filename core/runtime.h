/*
 * core/runtime.h - the runtime's internal objects (G, M, P) and the
 * interfaces shared between core/, alloc/ and io/. Not installed.
 *
 * Glossary (as in Go's runtime):
 *   G  a goroutine: its stack, saved context, status and wait reason.
 *   M  an OS thread. An M runs goroutines only while it holds a P.
 *   P  a processor: the right to run goroutines, plus the caches that go
 *      with it (run queue, free Gs and stacks, jemalloc arena, timers).
 *      There are exactly `maxprocs` Ps.
 *   g0 an M's own context on its thread stack, where the scheduler loop
 *      runs when no goroutine can be switched to directly.
 *
 * Internal error convention: 0 or a count on success, -errno on failure.
 */
#ifndef RINGO_CORE_RUNTIME_H
#define RINGO_CORE_RUNTIME_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

#if defined(__SANITIZE_ADDRESS__)
#define RINGO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RINGO_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define RINGO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RINGO_TSAN 1
#endif
#endif

/* Valgrind client requests (stack registration) when its header is
 * there; they cost a few no-op instructions outside valgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#define RINGO_VALGRIND 1
#endif
#endif

#define ringo__likely(x) __builtin_expect(!!(x), 1)
#define ringo__unlikely(x) __builtin_expect(!!(x), 0)

/* ---------------------------------------------------------------- G */

/* G status. Transitions (who moves it):
 *   IDLE -> RUNNABLE     ringo_go or ringo__spawn, when the new G is queued
 *   RUNNABLE -> RUNNING  the M that picks it from a run queue
 *   RUNNING -> RUNNABLE  yield (by the G itself, before it switches away)
 *   RUNNING -> WAITING   park, on the G itself before it switches away;
 *                        the G's context is saved before its unlockf runs
 *   WAITING -> RUNNABLE  ringo__ready(), from any thread, exactly once
 *   RUNNING -> DEAD      goexit; a DEAD G goes to a free list (IDLE) */
enum ringo__gstatus {
	RINGO_G_IDLE,
	RINGO_G_RUNNABLE,
	RINGO_G_RUNNING,
	RINGO_G_WAITING,
	RINGO_G_DEAD,
};

/* Why a G waits; shown in goroutine dumps. */
enum ringo__wait_reason {
	RINGO_WAIT_NONE,
	RINGO_WAIT_CHAN_SEND,
	RINGO_WAIT_CHAN_RECV,
	RINGO_WAIT_SELECT,
	RINGO_WAIT_SELECT_NO_CASES,
	RINGO_WAIT_CHAN_SEND_NIL,
	RINGO_WAIT_CHAN_RECV_NIL,
	RINGO_WAIT_SLEEP,
	RINGO_WAIT_MUTEX,
	RINGO_WAIT_RWMUTEX_RLOCK,
	RINGO_WAIT_RWMUTEX_LOCK,
	RINGO_WAIT_WAITGROUP,
	RINGO_WAIT_COND,
	RINGO_WAIT_SEMA,
	RINGO_WAIT_ONCE,
	RINGO_WAIT_IO,
	RINGO_WAIT_TEST,
	RINGO_WAIT_NR
};

#define RINGO_G_NAME_MAX 32

struct ringo__stack_slab; /* alloc/slab.c */

struct ringo__g {
	struct ringo__ctx ctx;    /* saved while not RUNNING */
	void (*fn)(void *arg);
	void *arg;
	uint64_t id;
	_Atomic uint32_t status;  /* enum ringo__gstatus, see above */
	int saved_errno;          /* errno belongs to the G across switches */
	uint8_t wait_reason;      /* enum ringo__wait_reason while WAITING */
	bool is_main;
	uint8_t guard;            /* enum ringo__guard (alloc/stack.h) */
	/* ringo_once_do functions running on this G: ringo_exit from one
	 * would leave its once locked and never done. */
	uint8_t in_once;
	/* Inside ringo_syscall_enter/exit (set and cleared by the G; dumps
	 * read it from other threads, racily, to show "syscall"). */
	_Atomic uint8_t in_syscall;
	int64_t wait_since;       /* ns, CLOCK_MONOTONIC, when it parked (P's
				   * coarse clock, a few microseconds late) */
	struct ringo__g *schedlink; /* global run queue / free list link */
	struct ringo__g *allnext;   /* allg list, under sched.allg_lock */
	struct ringo__g *allprev;
	char *stack_block;        /* block base (guard page first) */
	size_t stack_block_size;  /* whole block, bytes */
	struct ringo__stack_slab *slab; /* holding the block; NULL: own block */
	char *stack_lo;           /* lowest usable stack byte */
	uint64_t *canary;         /* at stack_lo if unguarded, else NULL */
	uint64_t creator_id;      /* G that called ringo_go, 0 for main */
	void *create_pc;          /* return address of that ringo_go call */
	void *waiting_on;         /* object parked on, for dumps; may be NULL */
	void *park_obj;           /* the sudog that completed a channel wait */
	/* 0 while parked in select, 1 once one case won it; moved 0 -> 1 by
	 * the winning waker (core/chan_internal.h), reset by select. */
	_Atomic uint32_t select_done;
	/* Depth of ringo_preempt_disable() calls; the G itself moves it, the
	 * preemption signal handler reads it on the same thread. */
	uint32_t preempt_off;
#ifdef RINGO_ASAN
	void *asan_fake_stack;
#endif
#ifdef RINGO_TSAN
	void *tsan_fiber;
#endif
#ifdef RINGO_VALGRIND
	unsigned valgrind_stack_id;
#endif
	char name[RINGO_G_NAME_MAX];
};

/* ---------------------------------------------------------------- P */

#define RINGO_RUNQ_SIZE 256
#define RINGO_GFREE_LOCAL 64

/* P status. Transitions (who moves it):
 *   IDLE -> RUNNING      acquirep, by the M that took the P from the idle
 *                        list (under sched.lock) or was handed it
 *   RUNNING -> IDLE      the owner giving the P back (under sched.lock)
 *   RUNNING -> SYSCALL   ringo_syscall_enter, by the owner, which keeps no
 *                        claim on the P but the right to CAS it back
 *   SYSCALL -> RUNNING   ringo_syscall_exit, by that M (CAS)
 *   SYSCALL -> IDLE      sysmon retaking the P (CAS), which then hands it
 *                        to another M or puts it on the idle list
 * The two CASes decide who owns a P whose M is in a system call. */
enum ringo__pstatus { RINGO_P_IDLE, RINGO_P_RUNNING, RINGO_P_SYSCALL };

struct ringo__timers;

struct ringo__p {
	int id;
	_Atomic int status;     /* enum ringo__pstatus, transitions above */
	/* Owner while RUNNING, NULL otherwise; written by the M taking or
	 * leaving the P, read by sysmon to signal that M. */
	struct ringo__m *_Atomic m;
	struct ringo__p *link;  /* idle P list; under sched.lock */
	/* Time slices begun on this P: for the global-queue fairness tick,
	 * and for sysmon, which preempts a slice it sees unchanged for
	 * 10 ms. Written by the owner only (relaxed load + store). */
	_Atomic uint32_t schedtick;
	/* System-call sections entered; owner writes, sysmon reads. */
	_Atomic uint32_t syscalltick;
	/* sysmon's request to preempt a slice: RINGO__PREEMPT_REQ_BIT |
	 * schedtick of that slice, 0 = none. Set by sysmon (also when
	 * signals are off), cleared by the signal handler on the owner M
	 * when it preempts (core/preempt.c), or by the owner's next switch
	 * to a runnext goroutine, which then starts a new slice instead of
	 * inheriting the old one (core/switch.c, pick_next). */
	_Atomic uint64_t preempt_req;
	/* The owner M is looking for work on its g0 (findrunnable), so
	 * there is no goroutine to preempt. Set by the scheduler loop before
	 * findrunnable, cleared by execute; read by sysmon. */
	_Atomic bool in_scheduler;

	/* Local run queue: a ring written only by the owner at `tail` and
	 * consumed at `head` by the owner and by thieves (CAS). The owner's
	 * store-release of tail pairs with the load-acquire in thieves; a
	 * consumer's CAS-release of head pairs with the owner's load-acquire
	 * before it reuses a slot. */
	_Atomic uint32_t runqhead;
	_Atomic uint32_t runqtail;
	struct ringo__g *_Atomic runq[RINGO_RUNQ_SIZE];
	/* The G readied by the running G, run next with the current slice.
	 * Set by the owner, taken by the owner or stolen by CAS. */
	struct ringo__g *_Atomic runnext;

	/* Owner only: dead Gs kept with their default-size stacks. An
	 * array, not a list through the Gs: each G sits on its own stack
	 * page, and chasing links through cold pages costs a miss per G. */
	struct ringo__g *gfree[RINGO_GFREE_LOCAL];
	int gfree_nr;
	unsigned arena;          /* jemalloc arena for this P's stacks */
	struct ringo__stack_slab *slab; /* owner only: slab being carved */

	uint64_t goid_next, goid_end; /* batch of G ids, owner only */
	_Atomic int64_t gcount;  /* Gs created minus Gs ended on this P */

	struct ringo__timers *timers; /* core/timer.c */
	uint32_t timer_tick;     /* owner only: leaves since timers checked */
	/* Owner only: ns, CLOCK_MONOTONIC, refreshed by the scheduler loop
	 * and every 32 switches; cheap "when did it park" for dumps. */
	int64_t now;
};

/* ---------------------------------------------------------------- M */

/* What the next context to run on this M must finish for the previous G,
 * once that G's registers are safely saved (see core/switch.c). */
enum ringo__after {
	RINGO_AFTER_NONE,
	RINGO_AFTER_YIELD,   /* requeue prev at the tail of the local queue */
	RINGO_AFTER_PARK,    /* run unlockf(prev, arg); false = ready prev */
	RINGO_AFTER_EXIT,    /* free prev */
	RINGO_AFTER_PREEMPT, /* prev was preempted: global run queue */
	RINGO_AFTER_SYSCALL, /* prev left a syscall and found no P: get it
			      * one or queue it globally (on g0, no P) */
};

struct ringo__m {
	struct ringo__ctx g0ctx;
	struct ringo__g *curg;      /* G running on this M, NULL on g0 */
	struct ringo__p *p;         /* P held, NULL while idle */
	struct ringo__p *nextp;     /* P handed over by the waker */
	struct ringo__m *schedlink; /* idle M list; under sched.lock */
	struct ringo__m *alllink;   /* all Ms, for shutdown and dumps */
	/* Futex word for sleeping: 0 = asleep or about to be, 1 = woken.
	 * The waker stores 1 and wakes; the sleeper waits while it is 0. */
	_Atomic uint32_t note;
	bool spinning;              /* looking for work; counted in sched */
	bool is_m0;                 /* the thread that called ringo_run */
	/* Inside ringo_syscall_enter/exit: m->p is NULL and oldp is the P
	 * it may CAS back. Only this M reads or writes both. */
	bool in_syscall;
	struct ringo__p *oldp;
	int id;
	pthread_t thread;
	uint64_t rand;              /* xorshift state for steal order */

	enum ringo__after after;
	struct ringo__g *after_g;
	bool (*after_unlockf)(struct ringo__g *g, void *arg);
	void *after_arg;

	void *altstack;             /* our signal stack, NULL if not ours */
	sigset_t sigmask;           /* the thread's signal mask at start */
	int *errno_loc;             /* this thread's errno */
	void *g0_stack_lo;          /* thread stack, for the sanitizers */
	size_t g0_stack_size;
#ifdef RINGO_ASAN
	void *g0_asan_fake_stack;
#endif
#ifdef RINGO_TSAN
	void *g0_tsan_fiber;
#endif
};

/* ------------------------------------------------------------ sched */

struct ringo__sched {
	/* Protects: the global run queue list, the idle P and idle M lists,
	 * M creation. Read without it: runqsize, npidle, nmspinning (atomics
	 * used as hints, re-checked under the lock before acting). */
	pthread_mutex_t lock;
	/* Global run queue: a growable ring of G pointers (power-of-two
	 * capacity), for the same reason as the P's free array. */
	struct ringo__g **runq;
	uint32_t runq_head, runq_cap;
	_Atomic int32_t runqsize;
	struct ringo__p *pidle;
	_Atomic int32_t npidle;
	struct ringo__m *midle;
	int32_t nmidle;
	_Atomic int32_t nmspinning;
	int32_t mcount;             /* Ms created; under lock */
	int32_t maxmcount;          /* limit on mcount (RINGO_MAXTHREADS) */

	/* Free Gs that overflowed the per-P arrays: a growable stack of
	 * pointers, under gfree_lock; gfree_nr is also read as a hint. */
	pthread_mutex_t gfree_lock;
	struct ringo__g **gfree;
	_Atomic int32_t gfree_nr;
	int32_t gfree_cap;

	int nprocs;
	struct ringo__p **allp;
	struct ringo__m *_Atomic allm;
	/* newm calls between their check of shutdown and the new M's thread
	 * id being set (a futex word: teardown waits for it to be 0). */
	_Atomic uint32_t mstarting;
	/* Every G that has a stack (alive or on a free list). Protects
	 * allg and each G's allnext/allprev. */
	pthread_mutex_t allg_lock;
	struct ringo__g *allg;
	_Atomic uint64_t goid_gen;       /* ids handed to Ps in batches */
	size_t stack_size;               /* default stack size, bytes */

	_Atomic bool shutdown;           /* main returned: Ms leave */
	int main_result;
	bool running;                    /* inside ringo_run */
};

extern struct ringo__sched ringo__sched;

/* ------------------------------------------------------ thread-locals */

/* The current M and G. A goroutine may resume on another thread after
 * any call that can switch, and a thread-local address the compiler
 * cached before the call would then point at the old thread's copy (see
 * docs/design.md, "Thread-locals"). So the M pointer is read either by a
 * volatile asm that loads through the thread pointer each time it runs
 * (x86-64, initial-exec TLS) or by an out-of-line function the compiler
 * cannot treat as pure (core/tls.c). */
extern __attribute__((tls_model("initial-exec"))) _Thread_local struct ringo__m
	*ringo__tls_m;
#if defined(__x86_64__)
static inline struct ringo__m *ringo__getm(void)
{
	struct ringo__m *m;

	__asm__ volatile("movq ringo__tls_m@gottpoff(%%rip), %0\n\t"
			 "movq %%fs:(%0), %0"
			 : "=r"(m)
			 :
			 : "memory");
	return m;
}
#else
struct ringo__m *ringo__getm(void);
#endif
void ringo__setm(struct ringo__m *m);
static inline struct ringo__g *ringo__getg(void)
{
	struct ringo__m *m = ringo__getm();

	return m ? m->curg : NULL;
}

/* The current M, which must be running a goroutine (it has a P and is
 * not inside ringo_syscall_enter/exit); else a panic naming `call`. */
_Noreturn void ringo__must_m_fail(const char *call);
static inline struct ringo__m *ringo__must_m(const char *call)
{
	struct ringo__m *m = ringo__getm();

	if (ringo__unlikely(!m || !m->curg || !m->p))
		ringo__must_m_fail(call);
	return m;
}

/* ------------------------------------------------------------- throw */

/* Impossible runtime state: print "ringo: fatal: <sub>: <msg>" with the
 * running goroutine and abort. Never compiled out. */
_Noreturn void ringo__throw(const char *sub, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* API misuse by the caller ("ringo_chan_send: send on closed channel"):
 * prints "ringo: panic: <call>: <msg>" with the goroutine and aborts. */
_Noreturn void ringo__panic(const char *call, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The goroutine of a public call that is about to park: a panic naming
 * `call` outside a goroutine or inside ringo_syscall_enter/exit (where
 * ringo__park would otherwise fail, naming itself). */
static inline struct ringo__g *ringo__must_park(const char *call)
{
	struct ringo__m *m = ringo__getm();

	if (ringo__unlikely(!m || !m->curg))
		ringo__panic(call, "would block outside a goroutine");
	if (ringo__unlikely(!m->p))
		ringo__must_m_fail(call);
	return m->curg;
}


/* ------------------------------------------------------------- park */

/* Park the running G (state RUNNING -> WAITING). After its context is
 * saved, unlockf(g, arg) runs on the next context of this M; it typically
 * releases the lock that protects the wait queue the G was put on, making
 * the G visible to wakers. If unlockf returns false the G is made
 * runnable again at once. Returns when some thread calls ringo__ready(g).
 * `obj` is what the G waits on, shown in dumps. */
void ringo__park(bool (*unlockf)(struct ringo__g *g, void *arg), void *arg,
		 enum ringo__wait_reason reason, void *obj);
/* An unlockf that releases the ringo__lock `lock` and keeps the G parked.
 * unlockf runs in the next context's after-work with that context's
 * preemption state, so it must be code sysmon never preempts, that is
 * libringo's own: code outside it (a test's wait queue) that parks
 * holding an internal lock passes this one instead of its own. */
bool ringo__park_unlock(struct ringo__g *g, void *lock);

/* Make a WAITING G runnable. Callable from any thread, inside or outside
 * a goroutine; on a P the G goes into runnext (it inherits the slice),
 * otherwise onto the global queue, and an idle P is woken if needed. */
void ringo__ready(struct ringo__g *g);
/* Same, but queue at the tail of the local run queue (not runnext). */
void ringo__ready_tail(struct ringo__g *g);

/* Start fn(arg) in a new goroutine from runtime code that holds a P but
 * may run on no goroutine of the program's: a timer callback, on g0 in
 * the scheduler loop or in a switch's after-work. Takes only the
 * scheduler's own locks (global run queue, free Gs, the G list), which
 * a timer callback's caller never holds; never yields. The new G has
 * no creator in dumps. */
void ringo__spawn(void (*fn)(void *), void *arg);

/* Owner of p: start a new time slice (see ringo__p.schedtick). */
static inline void ringo__schedtick_inc(struct ringo__p *p)
{
	atomic_store_explicit(&p->schedtick,
			      atomic_load_explicit(&p->schedtick,
						   memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

#define RINGO__PREEMPT_REQ_BIT (UINT64_C(1) << 32)

static inline uint32_t ringo__schedtick(const struct ringo__p *p)
{
	return atomic_load_explicit(&p->schedtick, memory_order_relaxed);
}

/* ------------------------------------------------------------ queues */

/* The owner's side of p's run queue (design in core/runq.c), inline
 * because every switch and every wake-up goes through it. */

/* Ring full when ringo__runqput looked: spill half of it globally. */
void ringo__runqput_full(struct ringo__p *p, struct ringo__g *g);

/* Owner of p: queue g in runnext (next) or at the tail of the ring. */
static inline void ringo__runqput(struct ringo__p *p, struct ringo__g *g,
				  bool next)
{
	if (next) {
		/* Only the owner stores a non-NULL runnext; thieves and
		 * ringo__runqget only move it to NULL. A NULL seen here thus
		 * stays NULL until this store, which needs no locked
		 * instruction. Release pairs with the acquire CAS that takes
		 * runnext (ringo__runqget_inherit, runqgrab in core/runq.c). */
		struct ringo__g *old = atomic_load_explicit(
			&p->runnext, memory_order_relaxed);
		if (ringo__likely(!old)) {
			atomic_store_explicit(&p->runnext, g,
					      memory_order_release);
			return;
		}
		old = atomic_exchange_explicit(&p->runnext, g,
					       memory_order_acq_rel);
		if (!old)
			return; /* a thief took it meanwhile */
		g = old; /* the previous runnext goes to the tail */
	}
	/* Pairs with the CAS-release of head by consumers. */
	uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
	if (ringo__unlikely(t - h >= RINGO_RUNQ_SIZE)) {
		ringo__runqput_full(p, g);
		return;
	}
	atomic_store_explicit(&p->runq[t % RINGO_RUNQ_SIZE], g,
			      memory_order_relaxed);
	/* Pairs with the load-acquire of tail in consumers. */
	atomic_store_explicit(&p->runqtail, t + 1, memory_order_release);
}

/* Owner of p: take runnext, else the head of the ring; NULL if both are
 * empty. *inherit tells whether it was runnext, which runs in the
 * current time slice. */
static inline struct ringo__g *ringo__runqget_inherit(struct ringo__p *p,
						      bool *inherit)
{
	struct ringo__g *g = atomic_load_explicit(&p->runnext,
						  memory_order_relaxed);
	/* A thief may take runnext at any time: claim it by CAS. */
	*inherit = g && atomic_compare_exchange_strong_explicit(
				&p->runnext, &g, NULL, memory_order_acquire,
				memory_order_relaxed);
	if (*inherit)
		return g;
	for (;;) {
		uint32_t h = atomic_load_explicit(&p->runqhead,
						  memory_order_acquire);
		uint32_t t = atomic_load_explicit(&p->runqtail,
						  memory_order_acquire);
		if (t == h)
			return NULL;
		g = atomic_load_explicit(&p->runq[h % RINGO_RUNQ_SIZE],
					 memory_order_relaxed);
		if (atomic_compare_exchange_strong_explicit(
			    &p->runqhead, &h, h + 1, memory_order_release,
			    memory_order_relaxed))
			return g;
	}
}

static inline struct ringo__g *ringo__runqget(struct ringo__p *p)
{
	bool inherit;

	return ringo__runqget_inherit(p, &inherit);
}

bool ringo__runqempty(struct ringo__p *p);
/* Owner only: would the next put to p's ring spill to the global queue? */
bool ringo__runqfull(struct ringo__p *p);
/* Owner only: how many puts p's ring takes before it spills. */
uint32_t ringo__runqfree(struct ringo__p *p);
struct ringo__g *ringo__runqsteal(struct ringo__p *p, struct ringo__p *victim,
				  bool steal_runnext);
/* Global queue; the caller holds sched.lock. */
void ringo__globrunqput(struct ringo__g *g);
void ringo__globrunqputbatch(struct ringo__g *const *gs, int32_t n);
void ringo__globrunq_free(void);
struct ringo__g *ringo__globrunqget(struct ringo__p *p, int max);

/* Make an idle P/M run if there is an idle P and nobody is spinning.
 * The first test is inline: with every P busy (always, with one P) a
 * wake-up costs a load. */
void ringo__wakep_slow(void);
static inline void ringo__wakep(void)
{
	if (atomic_load_explicit(&ringo__sched.npidle, memory_order_relaxed))
		ringo__wakep_slow();
}

/* ------------------------------------------------------------- misc */

int64_t ringo__nanotime(void);            /* ns, CLOCK_MONOTONIC */

/* ringo__nanotime() + ns, saturating at INT64_MAX ("never"), as Go's
 * time.when does: ringo_sleep(INT64_MAX) must not wrap into the past. */
static inline int64_t ringo__nanotime_after(int64_t ns)
{
	int64_t now = ringo__nanotime();

	return ns > 0 && now > INT64_MAX - ns ? INT64_MAX : now + ns;
}
uint32_t ringo__fastrand(struct ringo__m *m);
int ringo__procs_default(void);           /* affinity, cgroup, env */

#endif
