/*
 * tests/syscall.c - system-call sections and sysmon's handoff.
 *
 *   block: on one P, a goroutine blocked in read(2) on a pipe inside a
 *          system-call section does not stop the others: they spawn,
 *          ping-pong and finish while it is blocked (the pipe is written
 *          only after they are done, so without a handoff this hangs and
 *          the watchdog fails the test).
 *   errno: a section keeps the call's errno, also when the P was taken.
 *   threads: 64 goroutines blocked at once get their own threads, and no
 *          more than that: the count stays bounded.
 *   limit: past ringo_config.max_threads the runtime aborts, naming it.
 *   misuse: nested enter, exit without enter, ringo_yield inside.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringo/ringo.h>

#include "test.h"

#define BLOCKERS 64
#define PING_ROUNDS 1000
#define WORKERS 100

/* --------------------------------------------------------------- block */

struct blocker {
	int fd;
	ssize_t got;
	ringo_wg *done;
};

static _Atomic int entered;

static void blocked_reader(void *arg)
{
	struct blocker *b = arg;
	char c;
	ssize_t n;

	atomic_fetch_add(&entered, 1);
	RINGO_SYSCALL(n = read(b->fd, &c, 1));
	b->got = n;
	ringo_wg_done(b->done);
}

static void worker(void *arg)
{
	atomic_fetch_add((_Atomic int *)arg, 1);
}

static ringo_wg ponger_done;

static void ponger(void *arg)
{
	ringo_chan **ch = arg;
	int v;

	while (ringo_chan_recv(ch[0], &v))
		ringo_chan_send(ch[1], &v);
	ringo_wg_done(&ponger_done);
}

static int block_main(void *arg)
{
	(void)arg;
	int fds[2];
	ringo_wg done = RINGO_WG_INITIALIZER;
	struct blocker b = { .done = &done };

	ASSERT_EQ(pipe(fds), 0);
	b.fd = fds[0];
	ringo_wg_add(&done, 1);
	ringo_go(blocked_reader, &b);
	ringo_yield(); /* the reader runs first and blocks in read */

	_Atomic int ran = 0;
	for (int i = 0; i < WORKERS; i++)
		ringo_go(worker, &ran);
	ringo_chan *ch[2] = { ringo_chan_make(sizeof(int), 0),
			      ringo_chan_make(sizeof(int), 0) };
	ringo_wg_init(&ponger_done);
	ringo_wg_add(&ponger_done, 1);
	ringo_go(ponger, ch);
	for (int i = 0; i < PING_ROUNDS; i++) {
		int v = i;
		ringo_chan_send(ch[0], &v);
		ASSERT(ringo_chan_recv(ch[1], &v));
		ASSERT_EQ(v, i);
	}
	while (atomic_load(&ran) < WORKERS)
		ringo_yield();
	ASSERT_EQ(b.got, 0); /* still blocked: nothing was written yet */
	ringo_chan_close(ch[0]);
	ringo_wg_wait(&ponger_done);
	ringo_chan_free(ch[0]);
	ringo_chan_free(ch[1]);

	ASSERT_EQ(write(fds[1], "x", 1), 1);
	ringo_wg_wait(&done);
	ASSERT_EQ(b.got, 1);
	close(fds[0]);
	close(fds[1]);
	return 0;
}

/* --------------------------------------------------------------- errno */

static int errno_main(void *arg)
{
	(void)arg;
	char c;
	ssize_t n;

	ringo_syscall_enter();
	n = read(-1, &c, 1);
	int err = ringo_syscall_exit();
	ASSERT_EQ(n, -1);
	ASSERT_EQ(err, EBADF);
	/* A section without a failing call hands back the errno it found. */
	errno = ENOENT;
	ringo_syscall_enter();
	ASSERT_EQ(ringo_syscall_exit(), ENOENT);
	return 0;
}

/* ------------------------------------------------------------- threads */

static int threads_main(void *arg)
{
	(void)arg;
	int fds[BLOCKERS][2];
	struct blocker b[BLOCKERS];
	ringo_wg done = RINGO_WG_INITIALIZER;
	int before = test_count_threads(NULL);

	atomic_store(&entered, 0);
	for (int i = 0; i < BLOCKERS; i++) {
		ASSERT_EQ(pipe(fds[i]), 0);
		b[i] = (struct blocker){ .fd = fds[i][0], .done = &done };
		ringo_wg_add(&done, 1);
		ringo_go(blocked_reader, &b[i]);
	}
	while (atomic_load(&entered) < BLOCKERS)
		ringo_yield();
	int during = test_count_threads(NULL);
	for (int i = 0; i < BLOCKERS; i++)
		ASSERT_EQ(write(fds[i][1], "x", 1), 1);
	ringo_wg_wait(&done);
	for (int i = 0; i < BLOCKERS; i++) {
		ASSERT_EQ(b[i].got, 1);
		close(fds[i][0]);
		close(fds[i][1]);
	}
	/* At most one M per blocked goroutine plus one per P (and the
	 * runtime's own threads that existed before). */
	if (during > before + BLOCKERS + ringo_maxprocs())
		TEST_FAIL("%d threads with %d goroutines blocked (%d before)",
			  during, BLOCKERS, before);
	return 0;
}

static void limit_child(void *arg)
{
	(void)arg;
	struct ringo_config cfg = { .maxprocs = 2, .max_threads = 8 };
	exit(ringo_run_config(&cfg, threads_main, NULL));
}

/* -------------------------------------------------------------- misuse */

static int nested_main(void *arg)
{
	(void)arg;
	ringo_syscall_enter();
	ringo_syscall_enter();
	return 0;
}

static int unmatched_main(void *arg)
{
	(void)arg;
	ringo_syscall_exit();
	return 0;
}

static int yield_inside_main(void *arg)
{
	(void)arg;
	ringo_syscall_enter();
	ringo_yield();
	return 0;
}

/* A call that parks, made inside the section: the panic names it, not
 * the runtime function that found the M missing. */
static int send_inside_main(void *arg)
{
	ringo_chan *c = ringo_chan_make(sizeof(int), 0);
	int v = 1;

	(void)arg;
	ringo_syscall_enter();
	ringo_chan_send(c, &v);
	return 0;
}

int main(void)
{
	test_watchdog(120);
	if (test_death_run("nested enter", nested_main, NULL,
			   "ringo_syscall_enter: already inside") ||
	    test_death_run("exit without enter", unmatched_main, NULL,
			   "ringo_syscall_exit: not inside") ||
	    test_death_run("yield inside", yield_inside_main, NULL,
			   "ringo_yield: called between ringo_syscall_enter") ||
	    test_death_run("send inside", send_inside_main, NULL,
			   "ringo_chan_send: called between ringo_syscall_enter") ||
	    test_death("thread limit", limit_child, NULL,
		       "program exceeds the 8-thread limit"))
		return 1;
	struct ringo_config one = { .maxprocs = 1 };
	if (ringo_run_config(&one, block_main, NULL) ||
	    ringo_run(errno_main, NULL) ||
	    ringo_run_config(&one, errno_main, NULL))
		return 1;
	struct ringo_config two = { .maxprocs = 2 };
	return ringo_run_config(&two, threads_main, NULL);
}
