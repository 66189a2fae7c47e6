/*
 * ringo/time.h - time, sleeping, timers and tickers (Go's time package).
 *
 * Times are int64_t nanoseconds of CLOCK_MONOTONIC; durations are int64_t
 * nanoseconds. A sleeping goroutine costs no thread: timers live in a
 * 4-ary heap per P and idle Ms sleep until the earliest one.
 *
 * A timer or ticker delivers on a channel of int64_t (the time it fired,
 * as ringo_now()) that holds one firing until it is received: a tick that
 * finds one waiting is dropped, so a slow receiver sees fewer ticks,
 * never a backlog. Stop and reset follow Go 1.23's rules: after stop or
 * reset returns, no value from the old schedule is received; and, as
 * Go 1.23's synchronous timer channels, the channel reports len and cap 0.
 *
 * A timer from ringo_after_func has no channel: each firing starts a
 * function in a goroutine of its own instead (Go's time.AfterFunc).
 *
 * ringo_sleep and the functions that create or restart a timer
 * (ringo_timer_new, ringo_ticker_new, ringo_after_func,
 * ringo_timer_reset, ringo_after) must be called from a goroutine
 * (inside ringo_run); from any other thread they abort with a message
 * naming the call.
 */
#ifndef RINGO_TIME_H
#define RINGO_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include <ringo/chan.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RINGO_NANOSECOND ((int64_t)1)
#define RINGO_MICROSECOND ((int64_t)1000)
#define RINGO_MILLISECOND ((int64_t)1000000)
#define RINGO_SECOND ((int64_t)1000000000)

/* Monotonic time in ns (CLOCK_MONOTONIC). */
int64_t ringo_now(void);

/* Park the calling goroutine for at least ns nanoseconds (<= 0: yield).
 * Durations here and in the timers saturate: INT64_MAX is "never". */
void ringo_sleep(int64_t ns);

/* ========================================================================
 * Timers
 * ===================================================================== */

typedef struct ringo_timer ringo_timer;

/* A timer that sends the current time on its channel after ns, once.
 * NULL with errno = ENOMEM. */
ringo_timer *ringo_timer_new(int64_t ns);
/* A ticker that sends every period_ns (> 0, else it panics). */
ringo_timer *ringo_ticker_new(int64_t period_ns);
/* A timer that runs fn(arg) in a new goroutine after ns (as soon as it
 * can if ns <= 0; never inline in the caller), once per arming: reset
 * arms it again. It has no channel. fn must not be NULL (it panics).
 * Stop, reset and free do not wait for a fn that has started (keep what
 * arg points to alive until fn is done with it). Still pending when
 * ringo_run returns, it fires in the next run (or never, if stopped or
 * freed in between). NULL with errno = ENOMEM. */
ringo_timer *ringo_after_func(int64_t ns, void (*fn)(void *arg), void *arg);
/* The channel values arrive on (element int64_t; len and cap 0); NULL
 * for a ringo_after_func timer. It belongs to the timer: only receive
 * from it (sending on it, closing or freeing it with the chan.h calls
 * panics; ringo_timer_free frees it, and ringo_after_free an after
 * channel). */
ringo_chan *ringo_timer_chan(ringo_timer *t);
/* Stop: true if this call stopped a pending timer, which includes one
 * that fired but whose value nobody received (Go 1.23: the value is
 * taken back); false if it had already been received from or stopped.
 * Drains the channel. An after_func timer: true if this call stopped it
 * before its fn was started (fn will not run for that arming), false if
 * fn had been started or the timer was stopped. */
bool ringo_timer_stop(ringo_timer *t);
/* Restart to fire after ns (timers) or every ns (tickers: ns > 0, else
 * it panics). Returns true if the timer was pending (an after_func
 * timer: its fn not yet started, and now not started for the old
 * arming). Drains the channel. */
bool ringo_timer_reset(ringo_timer *t, int64_t ns);
/* Stop and free. The channel is freed too; an after_func timer's fn
 * that has started runs on. */
void ringo_timer_free(ringo_timer *t);

/* A channel that receives the time once after ns, like Go's time.After.
 * C has no garbage collector: free it with ringo_after_free() when done
 * with it (freeing it before it fired stops the timer). NULL with errno =
 * ENOMEM. */
ringo_chan *ringo_after(int64_t ns);
void ringo_after_free(ringo_chan *c);

#ifdef __cplusplus
}
#endif
#endif
