/*
 * core/sysmon.c - the system monitor: a thread without a P that watches
 * the Ps and acts when a goroutine keeps one too long.
 *
 * Each tick it looks at every P:
 *   - SYSCALL for a whole tick (same syscalltick as last time) while other
 *     work waits, or for 10 ms in any case: take the P (CAS to IDLE) and
 *     hand it to another M (ringo__handoffp). An idle program with a call
 *     blocked forever thus costs one handoff, not one per tick.
 *   - RUNNING the same slice (same schedtick) for 10 ms: ask the M to
 *     preempt it (core/preempt.c).
 * and, if goroutines wait for I/O but no M has looked at the netpoller for
 * 10 ms (every P busy), it polls and queues what is ready; and every
 * 100 ms it frees dead goroutines' stacks that lay unused that long
 * (alloc/gpool.c).
 *
 * Its sleep starts at 20 us and doubles after 50 ticks with nothing to do,
 * up to 10 ms; when every P is idle it goes straight to 10 ms. So an idle
 * program wakes 100 times a second, for a few microseconds each. Nothing
 * wakes sysmon when work resumes (that would cost a futex wake, and a
 * burst of 20 us ticks, on every idle-to-busy edge of a lightly loaded
 * server), except a system call entered while it naps long: handoff is
 * the one job that cannot wait 10 ms.
 *
 * Rejected: a timer signal per M (every M woken 100 times a second even
 * when idle, and SIGALRM belongs to the program); checking in the
 * scheduler only (a goroutine in a call-free loop never reaches it).
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "alloc/gpool.h"
#include "futex.h"
#include "io/netpoll.h"
#include "runtime.h"
#include "sched_internal.h"

#define TICK_MIN_NS 20000           /* 20 us */
#define TICK_MAX_NS 10000000        /* 10 ms */
/* While goroutines run, the longest sleep: a slice is seen at most this
 * late, so a hog is preempted between 10 and 15 ms, not 20. */
#define TICK_MAX_BUSY_NS 5000000
/* While some M is in a system call: a call must be seen twice to be
 * retaken, so with 5 ms ticks only calls of 5 ms and more would ever be;
 * at 100 us, calls of a few hundred microseconds (a disk read) are. */
#define TICK_MAX_SYSCALL_NS 100000
#define PREEMPT_FAST_RETRIES 8
#define PREEMPT_RETRY_NS 1000000    /* then one request per ms at most */
#define IDLE_TICKS_BEFORE_BACKOFF 50
#define FORCE_PREEMPT_NS 10000000   /* a slice longer than this is preempted */
#define SYSCALL_RETAKE_NS 10000000  /* retake even when nobody waits */

/* What sysmon saw of a P on its previous look; sysmon's own. */
struct pwatch {
	uint32_t schedtick, syscalltick;
	int64_t schedwhen, syscallwhen;
	int preempt_tries; /* requests sent for this slice */
	int64_t preempt_sent; /* when the last one was sent */
};

static pthread_t thread;
static bool started;
/* Futex word: 0 while sysmon sleeps (or is about to), 1 once woken. */
static _Atomic uint32_t note;
/* sysmon's current nap is longer than TICK_MAX_SYSCALL_NS. Set by sysmon
 * before it naps; cleared by the first system call that wakes it. */
_Atomic bool ringo__sysmon_long_nap;

static void notewakeup(void)
{
	atomic_store(&note, 1);
	ringo__futex_wake(&note, 1);
}

void ringo__sysmon_wake(void)
{
	if (atomic_exchange(&ringo__sysmon_long_nap, false))
		notewakeup();
}

static bool any_in_syscall(void)
{
	for (int i = 0; i < ringo__sched.nprocs; i++)
		if (atomic_load(&ringo__sched.allp[i]->status) == RINGO_P_SYSCALL)
			return true;
	return false;
}

/* Sleep up to ns, or until woken. A long nap is announced first and the
 * Ps looked at after (both seq-cst; ringo_syscall_enter stores SYSCALL,
 * then reads long_nap): a system call that began just before is seen
 * here, one that begins after sees long_nap and wakes sysmon. */
static void nap(int64_t ns)
{
	if (ns > TICK_MAX_SYSCALL_NS) {
		atomic_store(&ringo__sysmon_long_nap, true);
		if (any_in_syscall())
			ns = TICK_MAX_SYSCALL_NS;
	}
	if (atomic_load(&note) == 0)
		ringo__futex_wait(&note, 0, ns);
	atomic_store(&ringo__sysmon_long_nap, false);
	atomic_store(&note, 0);
}

static bool shutting_down(void)
{
	return atomic_load_explicit(&ringo__sched.shutdown, memory_order_relaxed);
}

/* What one round of looks found. */
struct seen {
	int running; /* Ps running goroutines */
	int syscall; /* Ps whose M is in a system call */
};

/* One look at p. Returns true if sysmon acted (or must soon retry). */
static bool watch(struct ringo__p *p, struct pwatch *w, int64_t now,
		  struct seen *seen)
{
	int st = atomic_load(&p->status);

	if (st == RINGO_P_SYSCALL) {
		seen->syscall++;
		uint32_t t = atomic_load_explicit(&p->syscalltick,
						  memory_order_relaxed);
		if (w->syscalltick != t) {
			w->syscalltick = t;
			w->syscallwhen = now;
			return false;
		}
		/* The same call since the last tick. Nobody else needs the P
		 * if its queue is empty and some M is spinning or some P is
		 * idle; then wait up to 10 ms before taking it. */
		if (ringo__runqempty(p) &&
		    atomic_load(&ringo__sched.nmspinning) +
				    atomic_load(&ringo__sched.npidle) > 0 &&
		    now - w->syscallwhen < SYSCALL_RETAKE_NS)
			return false;
		int expect = RINGO_P_SYSCALL;
		if (!atomic_compare_exchange_strong(&p->status, &expect,
						    RINGO_P_IDLE))
			return false; /* the call returned meanwhile */
		ringo__handoffp(p);
		return true;
	}
	if (st != RINGO_P_RUNNING)
		return false;
	seen->running++;
	uint32_t t = ringo__schedtick(p);
	if (w->schedtick != t) {
		w->schedtick = t;
		w->schedwhen = now;
		w->preempt_tries = 0;
		return false;
	}
	if (now - w->schedwhen < FORCE_PREEMPT_NS ||
	    atomic_load_explicit(&p->in_scheduler, memory_order_relaxed))
		return false; /* an M in findrunnable has nothing to preempt */
	if (w->preempt_tries >= PREEMPT_FAST_RETRIES &&
	    now - w->preempt_sent < PREEMPT_RETRY_NS)
		return false;
	if (!ringo__preempt_request(p, t))
		return false;
	w->preempt_sent = now;
	/* A request that found the goroutine at an unsafe point is retried
	 * on the next tick: keep ticks short for a few tries, then back off
	 * as usual (a goroutine that disabled preemption would otherwise
	 * keep sysmon busy). */
	return ++w->preempt_tries <= PREEMPT_FAST_RETRIES;
}

static void *sysmon_main(void *arg)
{
	struct pwatch *w = arg;
	int64_t delay = TICK_MIN_NS;
	int idle = 0;
	struct seen seen = { 0 };

	/* The default 50 us timer slack would stretch a 20 us tick to 70:
	 * a system call would then have to block 140 us, not 40, before
	 * its P moves. */
	prctl(PR_SET_TIMERSLACK, 1000ul, 0, 0, 0);

	while (!shutting_down()) {
		int64_t max = seen.syscall ? TICK_MAX_SYSCALL_NS
			      : seen.running ? TICK_MAX_BUSY_NS
					     : TICK_MAX_NS;
		if (idle == 0)
			delay = TICK_MIN_NS;
		else if (idle > IDLE_TICKS_BEFORE_BACKOFF)
			delay = delay * 2 < max ? delay * 2 : max;
		if (atomic_load(&ringo__sched.npidle) == ringo__sched.nprocs)
			delay = TICK_MAX_NS; /* nothing to watch */
		nap(delay);
		if (shutting_down())
			break;
		int64_t now = ringo__nanotime();
		/* I/O an M queued and left behind (io/netpoll.h: flush). */
		ringo__netpoll_flush();
		/* A periodic duty, not a reason for short ticks: it fires at
		 * most every 10 ms, and counting it made sysmon tick at 20 us
		 * for a millisecond after each (5,000 wake-ups a second on a
		 * busy server). As in Go, only retakes shorten the tick. */
		ringo__sysmon_netpoll(now);
		ringo__gfree_scavenge(now);
		bool acted = false;
		seen = (struct seen){ 0 };
		for (int i = 0; i < ringo__sched.nprocs; i++)
			acted |= watch(ringo__sched.allp[i], &w[i], now, &seen);
		idle = acted ? 0 : idle + 1;
	}
	free(w);
	return NULL;
}

void ringo__sysmon_start(void)
{
	struct pwatch *w = calloc((size_t)ringo__sched.nprocs, sizeof(*w));
	pthread_attr_t attr;

	if (!w)
		ringo__throw("sysmon", "out of memory");
	atomic_store(&note, 0);
	atomic_store(&ringo__sysmon_long_nap, false);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, RINGO_M_STACK_SIZE);
	int err = pthread_create(&thread, &attr, sysmon_main, w);
	pthread_attr_destroy(&attr);
	if (err)
		ringo__throw("sysmon", "pthread_create failed (error %d)", err);
	started = true;
}

void ringo__sysmon_stop(void)
{
	if (!started)
		return;
	notewakeup();
	pthread_join(thread, NULL);
	started = false;
}
