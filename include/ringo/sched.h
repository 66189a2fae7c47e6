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
	/* Asynchronous preemption of goroutines that run longer than 10 ms
	 * without blocking: 0 = default (on, unless RINGO_PREEMPT=0),
	 * 1 = on, -1 = off. See "Preemption" below. */
	int preempt;
	/* Most OS threads (Ms) the runtime may create; 0 = RINGO_MAXTHREADS
	 * or RINGO_MAXTHREADS_DEFAULT. Exceeding it is fatal, as in Go. */
	int max_threads;
};

#define RINGO_MAXTHREADS_DEFAULT 10000

#define RINGO_STACK_DEFAULT (64u * 1024u) /* bytes; a parked G touches ~1 page */
#define RINGO_STACK_MIN (16u * 1024u)     /* bytes; smaller requests round up */
#define RINGO_STACK_MAX (1u << 30)        /* bytes; larger requests panic */

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
 * stack cannot be allocated, as Go does when out of memory. The new
 * goroutine runs next on this P. When this P's run queue is full (256
 * goroutines waiting), the caller yields, so that a loop spawning many
 * short goroutines runs them on recycled stacks instead of holding a stack
 * for each; it does not yield while preemption is disabled. */
uint64_t ringo_go(void (*fn)(void *arg), void *arg);
uint64_t ringo_go_opts(const struct ringo_go_opts *opts,
		       void (*fn)(void *arg), void *arg);

/* Let other goroutines run; the caller stays runnable (runtime.Gosched). */
void ringo_yield(void);

/* End the calling goroutine now (runtime.Goexit). Ending main this way
 * aborts: main's result is ringo_run's result. So does ending a
 * goroutine from inside a ringo_once_do function, whose once would stay
 * locked (Go's deferred unlock has no C equivalent). */
_Noreturn void ringo_exit(void);

/* Id of the calling goroutine (> 0), or 0 outside a goroutine. */
uint64_t ringo_id(void);

/* Goroutines that exist now (runnable, running or waiting). */
int ringo_num_goroutines(void);

/* Number of Ps of the running runtime; outside ringo_run, the value
 * ringo_run would use (from the affinity mask, cgroup and environment). */
int ringo_maxprocs(void);

/* The default stack size in bytes (ringo_config.stack_size or
 * RINGO_STACK_SIZE, else RINGO_STACK_DEFAULT). Inside ringo_run, the
 * size in use: rounded up to whole pages and slab slots; outside, the
 * size asked for. */
size_t ringo_stack_default(void);

/* Give the kernel back, now, the stacks of the dead goroutines the
 * runtime keeps for reuse (Go's debug.FreeOSMemory, for stacks). Stacks
 * of goroutines that ended are cached, so a burst of spawns after a burst
 * of exits costs no page faults; the runtime returns those that lay
 * unused for 100 ms on its own, gradually (all but 16,384), so calling
 * this is never required. What stays: up to 64 cached per P, for the
 * next spawns there. It runs in the calling goroutine and takes about
 * 2 us per cached stack. Outside a goroutine it does nothing. */
void ringo_free_os_memory(void);

/* ========================================================================
 * System calls that may block
 *
 * A goroutine that blocks its thread in the kernel (read on a pipe or a
 * terminal, a slow disk, flock, waitpid, a blocking library call) would
 * also stop every goroutine queued on its P. Wrap such calls:
 *
 *     ringo_syscall_enter();
 *     n = read(fd, buf, len);
 *     ringo_syscall_exit();
 *
 * or RINGO_SYSCALL(n = read(fd, buf, len)); . Entering costs a few
 * stores; if the call is still running on sysmon's next tick (20 us to
 * 100 us while a call runs) and other goroutines want the P, the P moves
 * to another thread. ringo_syscall_exit returns the errno the call left,
 * and leaves errno set to it; but the goroutine may come back on another
 * thread, and a compiler that took errno's address before the section
 * (glibc's __errno_location is declared const) would read the old
 * thread's: take errno from the return value, or read it inside the
 * section. Do not leave the section by return, break or goto.
 *
 * Between the two calls, call no other ringo function: the goroutine owns
 * no P there (ringo_go, ringo_yield and anything that parks abort with a
 * message). Outside goroutines both calls do nothing.
 *
 * ringo wraps what it blocks in itself: in epoll mode, its file calls
 * (ringo_file_*: open, pread, pwrite, fsync, stat). In io_uring mode
 * they do not block a thread at all. Sockets opened through ringo never
 * block. The number of threads is capped by ringo_config.max_threads.
 *
 * When main returns, ringo_run waits for goroutines inside a section to
 * come back from their call (a thread blocked in the kernel cannot be
 * stopped, only joined): do not leave one blocked forever. Go exits the
 * process instead, which a library that returns from ringo_run cannot.
 * ===================================================================== */

void ringo_syscall_enter(void);
int ringo_syscall_exit(void); /* returns errno as the call left it */

#define RINGO_SYSCALL(stmt)            \
	do {                           \
		ringo_syscall_enter(); \
		stmt;                  \
		ringo_syscall_exit();  \
	} while (0)

/* ========================================================================
 * Preemption
 *
 * sysmon interrupts a goroutine that has run for 10 ms without blocking
 * or yielding with a signal, SIGURG (Go's choice: rarely used otherwise,
 * and ignored by default), and if the interrupted code is a safe point the goroutine yields, going to
 * the global run queue. Safe means: the goroutine is running its own code
 * (the program's executable or a library not listed in docs/design.md,
 * "Preemption"), not ringo's, libc's, jemalloc's, the dynamic loader's or
 * a sanitizer's (which may hold locks), on its own stack (not in a handler
 * on the alternate signal stack) with the thread's usual signal mask (not
 * inside another signal handler), and preemption is not disabled. At an
 * unsafe point nothing happens and sysmon tries again 20 us later.
 *
 * Only the innermost function is checked. Code of yours that libc calls
 * back while holding one of its locks (a dl_iterate_phdr or fopencookie
 * callback, work between flockfile and funlockfile, a pthread_once body)
 * must disable preemption, and so must a program that links libc, the C++
 * runtime or an allocator statically into its executable.
 *
 * The handler is installed with SA_RESTART, so most interrupted system
 * calls restart by themselves; the ones the kernel never restarts (poll,
 * epoll_wait, nanosleep, ... see signal(7)) return EINTR, so retry them.
 *
 * Turn it off with RINGO_PREEMPT=0 or ringo_config.preempt = -1. It is
 * off in ThreadSanitizer and valgrind runs (both defer signals to points
 * of their own choosing). A program whose own SIGURG handler was
 * installed before ringo_run keeps it: ringo calls it for every SIGURG.
 * ===================================================================== */

/* Stop preempting the calling goroutine until the matching
 * ringo_preempt_enable (they nest). For code that holds a lock of the
 * program's own (a pthread mutex, a spinlock) that other goroutines on
 * the same thread might need. */
void ringo_preempt_disable(void);
void ringo_preempt_enable(void);

#ifdef __cplusplus
}
#endif
#endif
