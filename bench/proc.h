/*
 * bench/proc.h - a measurement in a child process, its output read back
 * through a pipe under a time limit.
 *
 * Every measurement runs in its own process so that a crash or a hang
 * fails one benchmark, not the suite, and so that memory numbers start
 * from a clean heap.
 */
#ifndef RINGO_BENCH_PROC_H
#define RINGO_BENCH_PROC_H

#include <stddef.h>
#include <sys/types.h>

struct proc {
	pid_t pid;
	int fd; /* read end of the pipe the child writes to */
};

/* Fork; the child runs body(arg, wfd) with wfd the pipe's write end and
 * its stdout redirected to stderr, so nothing it prints can land in a
 * report on stdout. body must end the child with _exit or exec. The
 * child dies with the caller (proc_die_with_parent). Returns 0, or -1
 * with why filled. */
int proc_start(struct proc *pr, void (*body)(void *arg, int wfd), void *arg,
	       char *why, size_t why_len);

/* In a child forked by the process `parent`: be killed (SIGKILL) when it
 * ends (strictly, when the thread that forked ends: ringo-bench has one
 * thread), so that an interrupted ringo-bench leaves no benchmark, server
 * or client running (a `park --full` child holds 17 GB). The setting
 * survives exec. Exits at once (status 127) if the parent is gone
 * already, since then the signal would never come. */
void proc_die_with_parent(pid_t parent);

/* Read the child's output into buf (up to cap bytes) until it closes the
 * pipe, killing it after timeout_s seconds, then reap it. Returns the
 * bytes read if the child exited with status 0, else -1 with why filled
 * (timeout, signal, exit status, output larger than cap). */
long proc_finish(struct proc *pr, void *buf, size_t cap, int timeout_s,
		 char *why, size_t why_len);

#endif
