/*
 * core/chan.c - channels: Go's hchan in C.
 *
 * A channel is a ring buffer of cap elements plus two queues of parked
 * goroutines (sudogs on their own stacks), all under one internal lock.
 * A send that finds a parked receiver copies the value straight into the
 * receiver's destination and readies it into the sender's runnext, so a
 * ping-pong pair stays on one P and never touches the buffer. A receive
 * from a full buffer with a parked sender takes the head and moves the
 * sender's value into the freed tail slot, keeping FIFO order.
 *
 * Rejected: a lock-free ring for buffered channels (close, select and
 * blocking would still need the lock, and the hand-off fast path is
 * already one uncontended lock).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ringo/chan.h>

#include "chan_internal.h"

/* ------------------------------------------------------ wait queues */

void ringo__waitq_remove(struct ringo__waitq *q, struct ringo__sudog *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else if (q->first == s)
		q->first = s->next;
	else
		return; /* not queued */
	if (s->next)
		s->next->prev = s->prev;
	else
		q->last = s->prev;
	s->next = s->prev = NULL;
}

/* ------------------------------------------------------------ helpers */

static bool unlock_chan(struct ringo__g *g, void *arg)
{
	(void)g;
	ringo__unlock(&((struct ringo_chan *)arg)->lock);
	return true;
}

static _Noreturn void block_forever(const char *call, enum ringo__wait_reason r);

/* --------------------------------------------------------- lifecycle */

ringo_chan *ringo_chan_make(size_t elem_size, size_t cap)
{
	if (elem_size && cap > SIZE_MAX / elem_size) {
		errno = ENOMEM;
		return NULL;
	}
	ringo_chan *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->elem_size = elem_size;
	c->cap = cap;
	if (cap && elem_size) {
		c->buf = malloc(cap * elem_size);
		if (!c->buf) {
			free(c);
			return NULL;
		}
	}
	return c;
}

void ringo__chan_not_owned(ringo_chan *c, const char *call)
{
	if (ringo__unlikely(c && c->owner))
		ringo__panic(call, "channel %p belongs to a timer or a context "
			     "(only receive from it; ringo_timer_free, "
			     "ringo_after_free or ringo_ctx_free frees it)",
			     (void *)c);
}

void ringo_chan_free(ringo_chan *c)
{
	ringo__chan_not_owned(c, "ringo_chan_free");
	ringo__chan_free_owned(c);
}

void ringo__chan_free_owned(ringo_chan *c)
{
	if (!c)
		return;
	ringo__lock(&c->lock);
	/* Outside a run, waiters can only be goroutines ringo_run discarded
	 * when it returned (their entries name freed stacks): free anyway. */
	bool waiting = (c->recvq.first || c->sendq.first) &&
		       ringo__sched.running;
	ringo__unlock(&c->lock);
	if (waiting)
		ringo__panic("ringo_chan_free", "channel %p still has waiting "
			     "goroutines", (void *)c);
	free(c->buf);
	free(c);
}

/* The owned channels report len and cap 0, as Go's do: a context's done
 * channel is unbuffered, and a timer's, which holds a firing in its one
 * slot until it is received, is synchronous since Go 1.23 - stop and
 * reset take that value back, so it is no buffered element to count. */
size_t ringo_chan_len(ringo_chan *c)
{
	if (!c || c->owner)
		return 0;
	ringo__lock(&c->lock);
	size_t n = c->qcount;
	ringo__unlock(&c->lock);
	return n;
}

size_t ringo_chan_cap(ringo_chan *c)
{
	return c && !c->owner ? c->cap : 0;
}

/* -------------------------------------------------------------- send */

/* The blocking halves, out of line so that the inline paths below keep
 * few registers live: park on c until a receiver (sender) completes the
 * operation or close wakes us. */
__attribute__((noinline)) static void send_park(struct ringo_chan *c,
						const void *elem,
						const char *call)
{
	struct ringo__g *g = ringo__must_park(call);

	struct ringo__sudog s = { .g = g, .c = c, .elem = (void *)elem };
	ringo__waitq_push(&c->sendq, &s);
	ringo__park(unlock_chan, c, RINGO_WAIT_CHAN_SEND, c);
	if (!s.success)
		ringo__panic(call, "send on closed channel");
}

/* Returns false if woken by close. */
__attribute__((noinline)) static bool recv_park(struct ringo_chan *c,
						void *elem, const char *call)
{
	struct ringo__g *g = ringo__must_park(call);

	struct ringo__sudog r = { .g = g, .c = c, .elem = elem };
	ringo__waitq_push(&c->recvq, &r);
	ringo__park(unlock_chan, c, RINGO_WAIT_CHAN_RECV, c);
	return r.success;
}

/* Send, blocking unless `nonblock`. Returns true if sent. Inlined into
 * each public entry point, so that `nonblock` is a constant there. */
static inline __attribute__((always_inline)) bool
chan_send(struct ringo_chan *c, const void *elem, bool nonblock,
	  const char *call)
{
	if (ringo__unlikely(!c)) {
		if (nonblock)
			return false;
		block_forever(call, RINGO_WAIT_CHAN_SEND_NIL);
	}
	ringo__lock(&c->lock);
	if (ringo__unlikely(c->closed)) {
		ringo__unlock(&c->lock);
		ringo__panic(call, "send on closed channel");
	}
	struct ringo__sudog *r = ringo__waitq_pop(&c->recvq);
	if (r) {
		struct ringo__g *g = ringo__chan_send_to(c, r, elem);
		ringo__unlock(&c->lock);
		ringo__ready(g);
		return true;
	}
	if (c->qcount < c->cap) {
		ringo__chan_buf_put(c, elem);
		ringo__unlock(&c->lock);
		return true;
	}
	if (nonblock) {
		ringo__unlock(&c->lock);
		return false;
	}
	send_park(c, elem, call);
	return true;
}

void ringo_chan_send(ringo_chan *c, const void *elem)
{
	ringo__chan_not_owned(c, "ringo_chan_send");
	chan_send(c, elem, false, "ringo_chan_send");
}

bool ringo_chan_trysend(ringo_chan *c, const void *elem)
{
	ringo__chan_not_owned(c, "ringo_chan_trysend");
	return chan_send(c, elem, true, "ringo_chan_trysend");
}

bool ringo__chan_trysend_owned(ringo_chan *c, const void *elem)
{
	return chan_send(c, elem, true, "ringo_chan_trysend");
}

/* ----------------------------------------------------------- receive */

/* Receive, blocking unless `nonblock`. Returns true if something was
 * received (*closed then tells whether it was the closed zero value).
 * Inlined like chan_send. */
static inline __attribute__((always_inline)) bool
chan_recv(struct ringo_chan *c, void *elem, bool nonblock, bool *closed,
	  const char *call)
{
	*closed = false;
	if (ringo__unlikely(!c)) {
		if (nonblock)
			return false;
		block_forever(call, RINGO_WAIT_CHAN_RECV_NIL);
	}
	ringo__lock(&c->lock);
	if (ringo__unlikely(c->closed && c->qcount == 0)) {
		ringo__unlock(&c->lock);
		if (elem && c->elem_size)
			memset(elem, 0, c->elem_size);
		*closed = true;
		return true;
	}
	struct ringo__sudog *s = ringo__waitq_pop(&c->sendq);
	if (s) {
		struct ringo__g *g = ringo__chan_recv_from(c, s, elem);
		ringo__unlock(&c->lock);
		ringo__ready(g);
		return true;
	}
	if (c->qcount > 0) {
		ringo__chan_buf_take(c, elem);
		ringo__unlock(&c->lock);
		return true;
	}
	if (nonblock) {
		ringo__unlock(&c->lock);
		return false;
	}
	*closed = !recv_park(c, elem, call);
	return true;
}

bool ringo_chan_recv(ringo_chan *c, void *elem)
{
	bool closed;

	chan_recv(c, elem, false, &closed, "ringo_chan_recv");
	return !closed;
}

bool ringo_chan_tryrecv(ringo_chan *c, void *elem, bool *closed)
{
	bool dummy;

	return chan_recv(c, elem, true, closed ? closed : &dummy,
			 "ringo_chan_tryrecv");
}

/* ------------------------------------------------------------- close */

void ringo_chan_close(ringo_chan *c)
{
	ringo__chan_not_owned(c, "ringo_chan_close");
	ringo__chan_close_owned(c);
}

void ringo__chan_close_owned(ringo_chan *c)
{
	if (!c)
		ringo__panic("ringo_chan_close", "close of nil channel");
	ringo__lock(&c->lock);
	if (c->closed) {
		ringo__unlock(&c->lock);
		ringo__panic("ringo_chan_close", "close of closed channel");
	}
	c->closed = true;
	if (!ringo__sched.running) {
		/* Waiters outside a run are goroutines ringo_run discarded:
		 * their entries name freed stacks. Nobody to wake. */
		c->recvq = (struct ringo__waitq){ 0 };
		c->sendq = (struct ringo__waitq){ 0 };
		ringo__unlock(&c->lock);
		return;
	}

	/* Collect every waiter under the lock, ready them after: their
	 * sudogs stay valid until they run, and they only run once readied. */
	struct ringo__g *list = NULL;
	struct ringo__sudog *s;
	while ((s = ringo__waitq_pop(&c->recvq))) {
		if (s->elem && c->elem_size)
			memset(s->elem, 0, c->elem_size);
		s->success = false;
		s->g->park_obj = s;
		s->g->schedlink = list;
		list = s->g;
	}
	while ((s = ringo__waitq_pop(&c->sendq))) {
		s->success = false;
		s->g->park_obj = s;
		s->g->schedlink = list;
		list = s->g;
	}
	ringo__unlock(&c->lock);
	while (list) {
		struct ringo__g *g = list;
		list = g->schedlink;
		ringo__ready(g);
	}
}

/* ------------------------------------------------------- nil channel */

static bool keep_parked(struct ringo__g *g, void *arg)
{
	(void)g;
	(void)arg;
	return true;
}

static _Noreturn void block_forever(const char *call, enum ringo__wait_reason r)
{
	if (!ringo__getg())
		ringo__panic(call, "nil channel blocks forever, outside a "
			     "goroutine");
	ringo__park(keep_parked, NULL, r, NULL);
	ringo__throw("chan", "goroutine blocked on a nil channel was woken");
}
