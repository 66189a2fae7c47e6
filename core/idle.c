/*
 * core/idle.c - what an M without work waits for: timers and I/O.
 *
 * At most one M at a time blocks in the netpoller (io/netpoll.h), with a
 * timeout of the earliest timer of all Ps; other idle Ms sleep on their
 * futex. So a program whose goroutines all sleep or wait for I/O has one
 * thread blocked in one syscall and no thread polling.
 *
 * The poller publishes its deadline in poll_until before it blocks and
 * re-reads the heaps after; a goroutine that arms a timer updates the
 * heap and then reads poll_until, waking the poller if it would sleep too
 * long (both sides sequentially consistent: one of them sees the other).
 * If nobody polls, arming a timer starts an M (wakep) that will.
 */
#include <stdint.h>

#include "io/netpoll.h"
#include "sched_internal.h"
#include "timer.h"

/* 1 while an M is in (or about to enter) the blocking poll. */
static _Atomic int polling;
/* Deadline of the blocking poll in ns, INT64_MAX if it has none, 0 if no
 * poll is blocked. Written by the poller, read by timer adders. */
static _Atomic int64_t poll_until;
/* When an M last looked at the netpoller (ns, CLOCK_MONOTONIC, a P's
 * coarse clock): sysmon looks itself if it is too long ago. */
static _Atomic int64_t last_poll;
/* 1 while sysmon holds goroutines it took out of the poller and has not
 * queued yet: they are neither counted as I/O waiters nor runnable. */
static _Atomic int sysmon_readying;

#define SYSMON_POLL_NS 10000000 /* 10 ms */
/* last_poll moves in steps of at least this: every P's tick peeks every
 * 32 switches, and a store each time would keep its cache line (beside
 * poll_until, which every timer arm reads) moving between cores for a
 * value sysmon only compares with 10 ms. */
#define LAST_POLL_STEP_NS 1000000 /* 1 ms */

/* Run the expired timers of one P's heap, if any are due; if_free: only
 * if nobody holds its lock now. */
static void run_timers_of(struct ringo__p *p, int64_t *now, bool if_free)
{
	int64_t next = atomic_load_explicit(&p->timers->next,
					    memory_order_relaxed);
	if (!next)
		return;
	if (!*now)
		*now = ringo__nanotime();
	if (next <= *now)
		ringo__timers_run_heap(p->timers, *now, if_free);
}

void ringo__timers_run(struct ringo__p *p)
{
	int64_t now = 0;

	run_timers_of(p, &now, false);
}

/* An M looking for work runs every P's expired timers: a P whose M is
 * busy in a long goroutine (one spawning a million others, say), or that
 * is idle itself, would otherwise leave them late. The Gs they ready go
 * into the calling M's P. One load per P when nothing is due. Another
 * P's heap whose lock is held is skipped: its holder is most likely
 * running those very timers, one lock round trip per timer, and waiting
 * to take turns with it made both Ms sleep in the lock's back-off (100,000
 * sleepers waking at once); this M does better stealing the goroutines
 * that holder readies. */
void ringo__timers_run_all(void)
{
	struct ringo__m *m = ringo__getm();
	struct ringo__p *own = m ? m->p : NULL;
	int64_t now = 0;

	for (int i = 0; i < ringo__sched.nprocs; i++) {
		struct ringo__p *p = ringo__sched.allp[i];
		run_timers_of(p, &now, p != own);
	}
}

bool ringo__netpoll_waiters(void)
{
	return atomic_load(&ringo__netpoll_waiters_nr) > 0;
}

bool ringo__idle_can_wake(void)
{
	return ringo__netpoll_waiters() || ringo__timers_earliest() != 0;
}

/* Queue Gs made ready by the poller globally; caller holds sched.lock. */
static void inject_global_locked(struct ringo__glist *l)
{
	struct ringo__g *g = l->head;

	while (g) {
		struct ringo__g *next = g->schedlink;
		atomic_store(&g->status, RINGO_G_RUNNABLE);
		ringo__globrunqput(g);
		g = next;
	}
}

/* Put Gs made ready by the poller on p's queue (overflow goes global). */
static void inject(struct ringo__p *p, struct ringo__glist *l)
{
	struct ringo__g *g = l->head;

	while (g) {
		struct ringo__g *next = g->schedlink;
		uint32_t st = RINGO_G_WAITING;
		if (!atomic_compare_exchange_strong(&g->status, &st,
						    RINGO_G_RUNNABLE))
			ringo__throw("netpoll", "poll readied goroutine %llu "
				     "in state %u", (unsigned long long)g->id, st);
		ringo__runqput(p, g, false);
		g = next;
	}
}

/* Peek at the netpoller and queue what it readied on p; false if it
 * readied nothing. */
static bool peek_into(struct ringo__p *p)
{
	if (!ringo__netpoll_waiters())
		return false;
	if (p->now - atomic_load_explicit(&last_poll, memory_order_relaxed) >=
	    LAST_POLL_STEP_NS)
		atomic_store_explicit(&last_poll, p->now, memory_order_relaxed);
	struct ringo__glist l = { 0 };
	ringo__netpoll->poll(0, &l);
	if (!l.n)
		return false;
	inject(p, &l);
	return true;
}

struct ringo__g *ringo__netpoll_nonblock(struct ringo__p *p)
{
	return peek_into(p) ? ringo__runqget(p) : NULL;
}

/* Counts as a look for sysmon (last_poll), as findrunnable's peek does:
 * sysmon's own poll queues what it takes globally, where a P that always
 * has local work serves it once per 61 slices (p99 at 10,000 echo
 * connections went from ~160 ms to ~1 s when the tick did not count). */
void ringo__netpoll_tick(struct ringo__p *p)
{
	if (ringo__netpoll->peek_free &&
	    ringo__runqfree(p) >= RINGO__NETPOLL_BATCH)
		peek_into(p);
}

bool ringo__idle_poll(struct ringo__m *m)
{
	int zero = 0;

	if (!ringo__idle_can_wake() ||
	    !atomic_compare_exchange_strong(&polling, &zero, 1))
		return false;

	int64_t deadline;
	for (;;) {
		deadline = ringo__timers_earliest();
		atomic_store(&poll_until, deadline ? deadline : INT64_MAX);
		/* Pairs with the read of poll_until in idle_timer_added. */
		int64_t again = ringo__timers_earliest();
		if (again == deadline || (again && deadline && again > deadline))
			break;
	}
	struct ringo__glist ready = { 0 };
	if (!atomic_load(&ringo__sched.shutdown)) {
		int64_t delay = -1;
		if (deadline) {
			delay = deadline - ringo__nanotime();
			if (delay < 0)
				delay = 0;
		}
		ringo__netpoll->poll(delay, &ready);
	}
	atomic_store_explicit(&last_poll, ringo__nanotime(), memory_order_relaxed);
	atomic_store(&poll_until, 0);
	atomic_store(&polling, 0);
	if (atomic_load(&ringo__sched.shutdown))
		return false;

	/* Timers are due or I/O completed: both need a P to run on. */
	pthread_mutex_lock(&ringo__sched.lock);
	struct ringo__p *p = ringo__pidleget_locked();
	if (!p)
		inject_global_locked(&ready);
	pthread_mutex_unlock(&ringo__sched.lock);
	if (!p)
		return false;
	ringo__acquirep(m, p);
	inject(p, &ready);
	return true;
}

bool ringo__sysmon_netpoll(int64_t now)
{
	if (!ringo__netpoll_waiters() || atomic_load(&polling) ||
	    now - atomic_load_explicit(&last_poll, memory_order_relaxed) <
		    SYSMON_POLL_NS)
		return false;
	atomic_store_explicit(&last_poll, now, memory_order_relaxed);
	struct ringo__glist l = { 0 };
	/* Set before the poll uncounts any waiter (both seq-cst): the
	 * deadlock check, which reads the waiter count first, then sees it. */
	atomic_store(&sysmon_readying, 1);
	ringo__netpoll->poll(0, &l);
	pthread_mutex_lock(&ringo__sched.lock);
	inject_global_locked(&l);
	atomic_store(&sysmon_readying, 0);
	/* The last M to go idle may have skipped the check because of the
	 * flag; with nothing queued, nobody else would make it again. */
	if (!l.n)
		ringo__diag_check_deadlock_locked();
	pthread_mutex_unlock(&ringo__sched.lock);
	if (l.n)
		ringo__wakep();
	return l.n > 0;
}

bool ringo__idle_sysmon_readying(void)
{
	return atomic_load(&sysmon_readying);
}

void ringo__idle_timer_added(int64_t when)
{
	/* Pairs with the store of poll_until in ringo__idle_poll. */
	int64_t until = atomic_load(&poll_until);

	if (until && when < until)
		ringo__netpoll->wake();
	else if (!atomic_load(&polling))
		ringo__wakep();
}

void ringo__netpoll_break(void)
{
	if (ringo__netpoll)
		ringo__netpoll->wake();
}
