/*
 * io/netpoll.h - the contract between the scheduler and an I/O backend.
 *
 * The scheduler (core/idle.c) never sees CQEs or epoll events: a backend
 * turns them into a list of goroutines to make runnable. One backend is
 * chosen before the first goroutine runs (RINGO_NETPOLL or
 * ringo_config.netpoll) and does not change while the runtime runs.
 *
 * At most one M at a time blocks in poll() with a delay; others may peek
 * (delay 0) concurrently. All calls return 0 or a negative errno.
 */
#ifndef RINGO_IO_NETPOLL_H
#define RINGO_IO_NETPOLL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/runtime.h"

/* Goroutines made ready by a poll, linked through g->schedlink. */
struct ringo__glist {
	struct ringo__g *head, *tail;
	int n;
};

static inline void ringo__glist_push(struct ringo__glist *l, struct ringo__g *g)
{
	g->schedlink = NULL;
	if (l->tail)
		l->tail->schedlink = g;
	else
		l->head = g;
	l->tail = g;
	l->n++;
}

struct ringo__netpoll_ops {
	const char *name;
	/* Called once per ringo_run, before any goroutine runs. */
	int (*init)(void);
	/* Called once after every M has stopped. */
	void (*fini)(void);
	/* Wait for I/O: delay_ns < 0 blocks until something happens or
	 * wake() is called, 0 only peeks, > 0 waits at most that long.
	 * Goroutines whose I/O completed are appended to *ready (their
	 * status is still WAITING: the caller readies them). */
	int (*poll)(int64_t delay_ns, struct ringo__glist *ready);
	/* Make a blocked (or the next) poll return. Callable from any
	 * thread; concurrent calls coalesce into one wakeup. */
	void (*wake)(void);
};

/* The backend in use; set by ringo__netpoll_select before goroutines run. */
extern const struct ringo__netpoll_ops *ringo__netpoll;
extern const struct ringo__netpoll_ops ringo__netpoll_epoll_ops;

/* Pick and initialise the backend named by `mode` ("uring", "epoll", or
 * NULL for RINGO_NETPOLL's value, default uring). A bad name panics; a
 * uring backend that cannot start falls back to epoll, saying so once on
 * stderr. Returns 0 or -errno. */
int ringo__netpoll_select(const char *mode);

/* Goroutines parked waiting for I/O; the deadlock detector and the idle
 * path read it. Backends count their waiters here. */
extern _Atomic int32_t ringo__netpoll_waiters_nr;

#endif
