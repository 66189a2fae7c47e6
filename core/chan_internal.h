/*
 * core/chan_internal.h - the channel object and its waiters, shared by
 * core/chan.c (send, receive, close) and core/select.c.
 */
#ifndef RINGO_CORE_CHAN_INTERNAL_H
#define RINGO_CORE_CHAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

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

/* Lock protects every field but elem_size, cap, owner and after, which
 * are set before the channel is shared and never change. */
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
	/* The timer of a timer channel or the context of a done channel,
	 * else NULL. Only the owner sends on, closes or frees its channel
	 * (the ringo__chan_*_owned calls): the public calls panic, as Go's
	 * receive-only time.C and Done() channels do not compile. */
	void *owner;
	/* An after channel (ringo_after): its owner is the timer that
	 * ringo_after_free frees. */
	bool after;
};

bool ringo__chan_trysend_owned(ringo_chan *c, const void *elem);
void ringo__chan_close_owned(ringo_chan *c);
void ringo__chan_free_owned(ringo_chan *c);

/* Panics, naming `call`, if c belongs to a timer or a context. */
void ringo__chan_not_owned(ringo_chan *c, const char *call);

/* Win the select that g is parked in: CAS of g->select_done 0 -> 1. Only
 * the winner may complete an operation with one of g's sudogs. */
static inline bool ringo__select_claim(struct ringo__g *g)
{
	uint32_t zero = 0;

	return atomic_compare_exchange_strong(&g->select_done, &zero, 1);
}

/* Wait queues: doubly linked through the sudogs, first->prev == NULL.
 * A sudog that is not queued has prev == NULL and is not first. */
static inline void ringo__waitq_push(struct ringo__waitq *q,
				     struct ringo__sudog *s)
{
	s->next = NULL;
	s->prev = q->last;
	if (q->last)
		q->last->next = s;
	else
		q->first = s;
	q->last = s;
}

/* Unlink s if it is queued (a select cleaning up its other cases). */
void ringo__waitq_remove(struct ringo__waitq *q, struct ringo__sudog *s);

/* Dequeue the first waiter that can still be completed: a select waiter
 * counts only if this call wins its select (see core/select.c). */
static inline struct ringo__sudog *ringo__waitq_pop(struct ringo__waitq *q)
{
	struct ringo__sudog *s;

	while ((s = q->first)) {
		q->first = s->next;
		if (s->next)
			s->next->prev = NULL;
		else
			q->last = NULL;
		s->next = NULL; /* s->prev is NULL already: it was first */
		/* A select waiter may have been won by another channel; it
		 * then removes itself from our queue once it has our lock,
		 * so just skip it here. */
		if (!s->is_select || ringo__select_claim(s->g))
			return s;
	}
	return NULL;
}

/* ------------------------------------------------ moving elements */

static inline void *ringo__chan_slot(struct ringo_chan *c, size_t i)
{
	return c->buf + i * c->elem_size;
}

/* dst NULL: the receiver discards the value. */
static inline void ringo__chan_copy(struct ringo_chan *c, void *dst,
				    const void *src)
{
	if (!dst)
		return;
	/* Word-sized elements are the common case: copy them inline. */
	switch (c->elem_size) {
	case 0:
		return;
	case 4:
		memcpy(dst, src, 4);
		return;
	case 8:
		memcpy(dst, src, 8);
		return;
	default:
		memcpy(dst, src, c->elem_size);
	}
}

/* Buffer operations with c->lock held: put needs qcount < cap, take
 * needs qcount > 0. */
static inline void ringo__chan_buf_put(struct ringo_chan *c, const void *elem)
{
	ringo__chan_copy(c, ringo__chan_slot(c, c->sendx), elem);
	if (++c->sendx == c->cap)
		c->sendx = 0;
	c->qcount++;
}

static inline void ringo__chan_buf_take(struct ringo_chan *c, void *elem)
{
	ringo__chan_copy(c, elem, ringo__chan_slot(c, c->recvx));
	if (++c->recvx == c->cap)
		c->recvx = 0;
	c->qcount--;
}

/* Complete a send into a waiting receiver r / a receive from a waiting
 * sender s, with c->lock held: the value goes straight from the sender's
 * memory to the receiver's. Returns the peer, for the caller to ready
 * after it has released the lock. */
static inline struct ringo__g *ringo__chan_send_to(struct ringo_chan *c,
						   struct ringo__sudog *r,
						   const void *elem)
{
	ringo__chan_copy(c, r->elem, elem);
	r->success = true;
	r->g->park_obj = r;
	return r->g;
}

static inline struct ringo__g *ringo__chan_recv_from(struct ringo_chan *c,
						     struct ringo__sudog *s,
						     void *elem)
{
	if (c->cap == 0) {
		ringo__chan_copy(c, elem, s->elem);
	} else {
		/* Buffer is full: take its head, put the sender's value in
		 * the slot that frees (head and tail are the same slot). */
		ringo__chan_copy(c, elem, ringo__chan_slot(c, c->recvx));
		ringo__chan_copy(c, ringo__chan_slot(c, c->recvx), s->elem);
		if (++c->recvx == c->cap)
			c->recvx = 0;
		c->sendx = c->recvx;
	}
	s->success = true;
	s->g->park_obj = s;
	return s->g;
}

#endif
