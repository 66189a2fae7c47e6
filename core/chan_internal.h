/*
 * core/chan_internal.h - the channel object and its waiters, shared by
 * core/chan.c (send, receive, close) and core/select.c.
 */
#ifndef RINGO_CORE_CHAN_INTERNAL_H
#define RINGO_CORE_CHAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "lock.h"
#include "runtime.h"

/* A goroutine waiting on one channel operation. It lives on the waiting
 * G's stack: valid exactly while the G is parked on the operation. */
struct ringo__sudog {
	struct ringo__g *g;
	struct ringo_chan *c;
	struct ringo__sudog *next, *prev; /* in c->recvq or c->sendq */
	void *elem;       /* value to send, or where to receive */
	bool success;     /* set by the waker: value moved (false: closed) */
	bool is_select;
	int case_index;   /* select: which case this sudog is */
};

struct ringo__waitq {
	struct ringo__sudog *first, *last;
};

/* Lock protects every field but elem_size and cap (immutable). */
struct ringo_chan {
	struct ringo__lock lock;
	bool closed;
	size_t elem_size;
	size_t cap;
	size_t qcount;     /* elements in buf */
	size_t sendx;      /* next slot to fill */
	size_t recvx;      /* next slot to take */
	struct ringo__waitq recvq, sendq;
	char *buf;         /* cap * elem_size bytes */
	void *owner;       /* the timer of a timer channel, else NULL */
};

void ringo__waitq_push(struct ringo__waitq *q, struct ringo__sudog *s);
void ringo__waitq_remove(struct ringo__waitq *q, struct ringo__sudog *s);
/* Dequeue the first waiter that can still be completed: a select waiter
 * counts only if this call wins its select (see core/select.c). */
struct ringo__sudog *ringo__waitq_pop(struct ringo__waitq *q);

/* Complete a send into a waiting receiver / a receive from a waiting
 * sender, with c->lock held. Returns the peer, for the caller to ready
 * after it has released the lock. */
struct ringo__g *ringo__chan_send_to(struct ringo_chan *c,
				     struct ringo__sudog *r, const void *elem);
struct ringo__g *ringo__chan_recv_from(struct ringo_chan *c,
				       struct ringo__sudog *s, void *elem);

/* Buffer operations with c->lock held: put needs qcount < cap, take
 * needs qcount > 0. */
void ringo__chan_buf_put(struct ringo_chan *c, const void *elem);
void ringo__chan_buf_take(struct ringo_chan *c, void *elem);

/* Win the select that g is parked in: CAS of g->select_done 0 -> 1. Only
 * the winner may complete an operation with one of g's sudogs. */
static inline bool ringo__select_claim(struct ringo__g *g)
{
	uint32_t zero = 0;

	return atomic_compare_exchange_strong(&g->select_done, &zero, 1);
}

#endif
