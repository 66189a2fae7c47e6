/*
 * core/idle.c - what an M without work waits for: timers and I/O.
 *
 * Until the timer heap and the netpoller are wired in, an idle M simply
 * sleeps on its futex (core/sched.c, stopm) and nothing can wake a
 * goroutine except another goroutine.
 */
#include "sched_internal.h"

void ringo__timers_run(struct ringo__p *p)
{
	(void)p;
}

bool ringo__timers_pending(struct ringo__p *p)
{
	(void)p;
	return false;
}

struct ringo__g *ringo__netpoll_nonblock(struct ringo__p *p)
{
	(void)p;
	return NULL;
}

bool ringo__netpoll_waiters(void)
{
	return false;
}

void ringo__idle_note_timers(struct ringo__p *p)
{
	(void)p;
}

bool ringo__idle_poll(struct ringo__m *m)
{
	(void)m;
	return false;
}

void ringo__netpoll_break(void)
{
}

bool ringo__idle_can_wake(void)
{
	return false;
}
