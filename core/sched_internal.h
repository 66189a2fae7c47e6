/*
 * core/sched_internal.h - what core/sched.c shares with the files that
 * feed it work while it is idle (core/idle.c) and start it (core/proc.c).
 */
#ifndef RINGO_CORE_SCHED_INTERNAL_H
#define RINGO_CORE_SCHED_INTERNAL_H

#include "runtime.h"

#define RINGO_M_STACK_SIZE (256u * 1024u) /* g0 stacks of new Ms, bytes */

/* The scheduler loop of m's g0; returns on shutdown. m holds a P. */
void ringo__schedule(struct ringo__m *m);
/* Take an idle P (NULL if none); caller holds sched.lock. */
struct ringo__p *ringo__pidleget_locked(void);
/* Make idle P p m's. */
void ringo__acquirep(struct ringo__m *m, struct ringo__p *p);
/* Set shutdown and wake every M (sleeping or polling). */
void ringo__sched_wake_all(void);

/* ---- system calls and sysmon (core/syscall.c, core/sysmon.c) ---- */

/* sysmon took p from an M in a system call (status now IDLE, on no
 * list, no M): give it to an M if there is work, else to the idle list. */
void ringo__handoffp(struct ringo__p *p);
/* On m's g0, with no P: g left a system call and its P was gone. Take an
 * idle P for it, or queue it globally (m then sleeps until handed one). */
void ringo__syscall_requeue(struct ringo__m *m, struct ringo__g *g);
/* Start sysmon (ringo_run, before main runs) and stop it (teardown, once
 * shutdown is set and before the Ms are joined: sysmon signals Ms and may
 * still start one, which the join then waits for). */
void ringo__sysmon_start(void);
void ringo__sysmon_stop(void);
/* A system call began: wake sysmon if it naps too long to hand the P off
 * in time. ringo__sysmon_long_nap says whether it does. */
extern _Atomic bool ringo__sysmon_long_nap;
void ringo__sysmon_wake(void);
/* sysmon: if no M has looked at the netpoller for a while although
 * goroutines wait for I/O, look now and queue what is ready globally.
 * Returns true if it found any. */
bool ringo__sysmon_netpoll(int64_t now);
/* ringo_run: the thread limit from the config or RINGO_MAXTHREADS. */
int ringo__maxthreads_from(int cfg_value);

/* ---- asynchronous preemption, core/preempt.c ---- */

/* ringo_run, before any M starts: decide whether preemption is on
 * (cfg_value: 0 default, > 0 on, < 0 off; RINGO_PREEMPT), and if so
 * learn which code is safe to interrupt and install the signal handler. */
void ringo__preempt_init(int cfg_value);
/* Restore the previous handler (teardown). */
void ringo__preempt_fini(void);
/* sysmon: ask the M running p to preempt the slice with schedtick
 * `tick`, if the goroutine is at a safe point when the signal lands.
 * Returns false if preemption is off (nothing was sent); the request is
 * recorded either way, for core/switch.c's pick_next. */
bool ringo__preempt_request(struct ringo__p *p, uint32_t tick);
/* In the preempting signal handler: switch away from g as a yield to
 * the global queue (core/proc.c). Returns when g runs again. */
void ringo__preempt_leave(struct ringo__m *m, struct ringo__g *g);
/* Successful preemptions since ringo_run started (tests read it). */
uint64_t ringo__preempt_count(void);

/* Per-thread set-up and tear-down of an M (signal stack, sanitizers). */
void ringo__m_init_thread(struct ringo__m *m);
void ringo__m_exit_thread(struct ringo__m *m);

/* ---- idle hooks, core/idle.c ---- */

/* Run p's expired timers (they ready their Gs into p's queue). */
void ringo__timers_run(struct ringo__p *p);
/* Run every P's expired timers, readying their Gs into the caller's P. */
void ringo__timers_run_all(void);
/* A G made ready by I/O completions or readiness, without blocking;
 * others found at the same time go into p's run queue. NULL if none. */
struct ringo__g *ringo__netpoll_nonblock(struct ringo__p *p);
/* The scheduler's 32-switch tick: if the backend's peek is free
 * (io/netpoll.h) and p's run queue has room for a whole poll batch,
 * queue what completed on p without blocking. */
void ringo__netpoll_tick(struct ringo__p *p);
/* Are goroutines waiting for I/O? */
bool ringo__netpoll_waiters(void);
/* m has no P. If no other M is blocked in the poller and there are timers
 * or I/O waiters, block in the poller until the earliest timer, then try
 * to get a P for what became ready. Returns true if m now holds a P. */
bool ringo__idle_poll(struct ringo__m *m);
/* Interrupt an M blocked in ringo__idle_poll. */
void ringo__netpoll_break(void);
/* A timer was armed to fire at `when`: wake the polling M if it sleeps
 * past that. */
void ringo__idle_timer_added(int64_t when);

/* Could anything outside the running goroutines still make one runnable:
 * a pending timer, or a goroutine waiting for I/O? */
bool ringo__idle_can_wake(void);
/* Is sysmon between taking goroutines out of the poller and queueing
 * them? (Read after the waiter count, which it lowers.) */
bool ringo__idle_sysmon_readying(void);

/* ---- core/diag.c ---- */

/* Called with sched.lock held just after an M put itself on the idle
 * list: if every M is idle and !ringo__idle_can_wake(), no goroutine can
 * ever run again: print "all goroutines are asleep - deadlock!" with a
 * goroutine dump and abort, as Go does. */
void ringo__diag_check_deadlock_locked(void);
/* ringo_run, before it starts any M: read RINGO_DEADLOCK_CHECK; install
 * the SIGQUIT dump and the SIGFPE, SIGILL and SIGABRT reports, each only
 * where the program left the default disposition. */
void ringo__diag_init(void);
/* A fatal signal is about to take its default action on this thread:
 * print "ringo: fatal signal N in goroutine ID [name]" (g NULL: on g0).
 * Async-signal-safe; silent on threads that are not Ms. */
void ringo__diag_fatal_signal(int sig, const struct ringo__g *g);

#endif
