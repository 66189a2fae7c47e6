/*
 * ringo/sched.h - goroutines and the scheduler.
 *
 * A goroutine is a function running on its own small stack, multiplexed by
 * the runtime onto a few OS threads (Ms), at most `maxprocs` of which run
 * goroutines at once (Ps). Everything ringo offers runs inside ringo_run():
 * the calling thread becomes the first M and `main_fn` the first goroutine.
 *
 * Errors: functions that can fail return 0 (or a count) on success and a
 * negative errno value on failure. Misuse of the API (calling a goroutine-only
 * function outside ringo_run, a bad option) aborts with a message naming the
 * call, as Go panics.
 */
#ifndef RINGO_SCHED_H
#define RINGO_SCHED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * Running the runtime
 *
 * ringo_run() starts the runtime, runs main_fn(arg) as the first goroutine
 * and returns its result as soon as it returns. As in Go, returning from main
 * ends the program's goroutines: those still alive are discarded without
 * running further (their stacks are freed, nothing on them is unwound), so
 * hand results back through channels or a WaitGroup before main returns.
 * ringo_run() may be called again after it returns, but not nested.
 * ===================================================================== */

/* Settings for ringo_run_config(); zero means "default" for every field. */
struct ringo_config {
	/* Number of Ps. Default: CPUs in the affinity mask, capped by the
	 * cgroup v2 cpu.max quota; the RINGO_MAXPROCS environment variable
	 * overrides the default, this field overrides both. */
	int maxprocs;
	/* Default goroutine stack size in bytes, rounded up to pages.
	 * Default RINGO_STACK_DEFAULT, or RINGO_STACK_SIZE from the
	 * environment. */
	size_t stack_size;
	/* Netpoller: "uring", "epoll", or NULL for RINGO_NETPOLL or uring. */
	const char *netpoll;
};

#define RINGO_STACK_DEFAULT (64u * 1024u) /* bytes; a parked G touches ~1 page */
#define RINGO_STACK_MIN (16u * 1024u)     /* bytes; smaller requests round up */

int ringo_run(int (*main_fn)(void *arg), void *arg);
int ringo_run_config(const struct ringo_config *cfg,
		     int (*main_fn)(void *arg), void *arg);

/* ========================================================================
 * Goroutines
 * ===================================================================== */

/* Options for ringo_go_opts(); zero fields take the defaults. */
struct ringo_go_opts {
	size_t stack_size; /* bytes; 0 = the runtime's default */
	const char *name;  /* shown in dumps; copied (up to 31 bytes) */
};

/* Start fn(arg) in a new goroutine. Returns its id (> 0). Aborts if the
 * stack cannot be allocated, as Go does when out of memory. */
uint64_t ringo_go(void (*fn)(void *arg), void *arg);
uint64_t ringo_go_opts(const struct ringo_go_opts *opts,
		       void (*fn)(void *arg), void *arg);

/* Let other goroutines run; the caller stays runnable (runtime.Gosched). */
void ringo_yield(void);

/* End the calling goroutine now (runtime.Goexit). Ending main this way
 * aborts: main's result is ringo_run's result. */
_Noreturn void ringo_exit(void);

/* Id of the calling goroutine (> 0), or 0 outside a goroutine. */
uint64_t ringo_id(void);

/* Goroutines that exist now (runnable, running or waiting). */
int ringo_num_goroutines(void);

/* Number of Ps of the running runtime; outside ringo_run, the value
 * ringo_run would use (from the affinity mask, cgroup and environment). */
int ringo_maxprocs(void);

/* The default stack size in bytes (ringo_config.stack_size or
 * RINGO_STACK_SIZE, else RINGO_STACK_DEFAULT). */
size_t ringo_stack_default(void);

#ifdef __cplusplus
}
#endif
#endif
