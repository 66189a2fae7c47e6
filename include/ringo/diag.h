/*
 * ringo/diag.h - diagnostics: goroutine dumps, leak checks, and what the
 * runtime prints when a program dies (Go's SIGQUIT dump, "all goroutines
 * are asleep - deadlock!", goleak).
 *
 * Errors: ringo_dump returns a count or -EIO, ringo_leakcheck 0 or
 * -ETIMEDOUT.
 * Calling ringo_leakcheck outside a goroutine aborts, as Go panics.
 */
#ifndef RINGO_DIAG_H
#define RINGO_DIAG_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * Goroutine dumps
 *
 * A dump has one block per goroutine that exists (runnable, running or
 * waiting), separated by blank lines:
 *
 *   goroutine 7 [worker] [chan receive, 12 s]:
 *   	waiting on 0x55d0c2a4b2a0
 *   	0x55d0c1e8a3f1 (/usr/bin/prog+0x63f1)
 *   	0x55d0c1e8c02a ringo_chan_recv+0x3a (/usr/bin/prog+0x802a)
 *   	created by goroutine 1 at 0x55d0c1e8b4c4 (/usr/bin/prog+0x74c4)
 *
 * The first line has the goroutine's id, its name in brackets if it has
 * one (ringo_go_opts.name), and in the last brackets its state: "running",
 * "syscall" (running inside ringo_syscall_enter/exit), "runnable", or
 * while it waits the reason ("chan receive", "chan send", "select",
 * "select (no cases)", "chan receive (nil chan)", "chan send (nil chan)",
 * "sleep", "sync.Mutex.Lock" (also a once's waiters, as in Go),
 * "sync.RWMutex.RLock", "sync.RWMutex.Lock", "sync.WaitGroup.Wait",
 * "sync.Cond.Wait", "semacquire" (a ringo_sema), "IO wait": Go's names
 * for the same waits), followed from one second on by how long it has
 * waited, in whole seconds (from a clock the scheduler refreshes now and
 * then, so approximate). Then the
 * object it waits on (a channel, a mutex...) if any; its stack, innermost
 * frame first, for goroutines that are not running (the running caller's
 * own stack too); and the goroutine that created it with the address of
 * the ringo_go call. Addresses are symbolized with dladdr(): a name+offset
 * when the symbol is exported (link with -rdynamic to get them all), and
 * the object file and the offset in it, which `addr2line -e FILE OFFSET`
 * turns into a source line (the line after the call: these are return
 * addresses).
 *
 * Goroutines keep running while the dump is written, so it is a snapshot
 * taken one goroutine at a time, not an instant: a goroutine that is
 * switching may show a stale stack. The goroutine list is locked meanwhile,
 * which delays creating goroutines that need a fresh stack.
 *
 * SIGQUIT: ringo_run installs a handler, unless SIGQUIT is already handled
 * or ignored (a shell ignores it for background jobs), that writes
 * "SIGQUIT: quit" and a dump to stderr and then exits with status 2, as Go
 * does (_exit: atexit handlers do not run, stdio buffers are not flushed;
 * the goroutine the signal interrupted shows as running, without a
 * stack). The handler formats with
 * async-signal-safe code and write(2); symbolizing calls dladdr(), which
 * POSIX does not list as async-signal-safe (glibc's takes the loader's
 * lock; it does not allocate). If the goroutine list is locked when the
 * signal arrives the dump says "dump may be inconsistent" and omits
 * stacks. Outside ringo_run, SIGQUIT keeps its default action.
 * ===================================================================== */

/* Write a dump of every goroutine to `out` (which must not be a pipe that
 * a goroutine drains: the dump holds a lock while it writes). Callable
 * from any thread, inside ringo_run or not. Returns the number of
 * goroutines listed, or -EIO if writing to `out` failed. */
int ringo_dump(FILE *out);

/* ========================================================================
 * Leak checks for tests (goleak's idea)
 *
 * At the end of a test, the goroutines it started should have ended:
 *
 *   if (ringo_leakcheck(1, RINGO_SECOND) != 0)   // 1: main only
 *           return 1;
 *
 * ringo_leakcheck() waits, yielding and then sleeping with a growing
 * backoff (up to 10 ms), until ringo_num_goroutines() <= expected, and
 * returns 0. If that does not happen within timeout_ns, it prints
 * "ringo_leakcheck: N goroutines after T ms, want M" and a dump of every
 * goroutine but the caller to stderr, and returns -ETIMEDOUT. Call it from a
 * goroutine.
 * ===================================================================== */

int ringo_leakcheck(int expected, int64_t timeout_ns);

/* ========================================================================
 * Fatal errors
 *
 * The runtime names the goroutine in everything that kills the process:
 *
 * - "fatal error: all goroutines are asleep - deadlock!" and a dump, then
 *   abort(), when every thread of the runtime is idle and neither a timer
 *   nor I/O can wake a goroutine: the remaining goroutines wait for each
 *   other forever. Nothing is reported once main has returned. A thread
 *   outside the runtime that wakes goroutines (ringo/sync.h's unlock, done
 *   or release from a C library's thread) is invisible to this check: if
 *   every goroutine waits for such a thread, set RINGO_DEADLOCK_CHECK=0.
 * - "ringo: fatal signal N in goroutine ID [name] (SIGSEGV)" for SIGSEGV,
 *   SIGBUS, SIGFPE and SIGILL that are not a stack overflow, and for
 *   SIGABRT (abort() in a goroutine), on threads of the runtime. The
 *   signal then takes the action it had before ringo_run (the default:
 *   the process dies by it). ringo_run leaves SIGFPE, SIGILL and SIGABRT
 *   alone if the program set their disposition first; SIGSEGV and SIGBUS
 *   are reported only when they fall through to the default action.
 * ===================================================================== */

#ifdef __cplusplus
}
#endif
#endif
