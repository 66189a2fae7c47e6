/*
 * core/context.c - contexts: a tree of cancellation scopes with deadlines
 * and values (Go's package context, see ringo/context.h for the API).
 *
 * Three kinds of node. The background is a static root that is never
 * done. A cancel node (with_cancel, with_deadline, with_timeout) owns a
 * done channel, an error and a list of the cancel nodes registered under
 * it. A value node carries one (key, value) pair and nothing else: its
 * done channel and error are those of its nearest cancel ancestor, its
 * `canceller`. A new cancel node registers in its parent's canceller's
 * child list, so cancelling a node walks exactly the cancel nodes below
 * it, however many value nodes sit in between (Go's parentCancelCtx).
 *
 * Memory: C has no GC, so nodes are reference counted. The creator owns
 * one reference (dropped by ringo_ctx_free), each child owns one on its
 * parent, and a pending deadline timer owns one on its node. So a node is
 * freed only once nothing can reach it: its creator freed it, all of its
 * children are freed, and its timer can no longer fire. Child lists do
 * not own references: a node leaves its canceller's list (under that
 * node's lock) before its creator's reference is dropped.
 *
 * Lock order: a node's lock before its children's locks (cancel walks
 * down holding each level), and a node's lock before its timer's heap
 * lock. A node takes its parent canceller's lock only while holding no
 * lock of its own (register, unlink), so no cycle can form.
 *
 * Rejected: freeing a node's whole subtree with it (the children are
 * owned by other code, which would be left with dangling pointers), and
 * a goroutine per deadline (a timer callback is enough and costs no
 * stack).
 */
#include <stdlib.h>

#include <ringo/chan.h>
#include <ringo/context.h>
#include <ringo/time.h>

#include "chan_internal.h"
#include "lock.h"
#include "runtime.h"
#include "timer.h"

enum ctx_kind { CTX_BACKGROUND, CTX_CANCEL, CTX_VALUE };

struct ringo_ctx {
	/* Protects: `children` and, for every node in it, its sib_next,
	 * sib_prev and `linked`; the 0 -> error move of err and cause;
	 * has_timer. err and cause are also read without it (atomics). */
	struct ringo__lock lock;
	uint8_t kind;          /* enum ctx_kind; immutable */
	bool has_deadline;     /* immutable */
	bool has_timer;        /* timer pending and owning a reference */
	bool linked;           /* in the parent canceller's children;
				* under that canceller's lock */
	/* References: creator + children + pending timer. Moves 1 -> ... ->
	 * 0 once; the node is freed by whoever moves it to 0. */
	_Atomic int refs;
	/* 0 while live; set once, under lock, to RINGO_CANCELED or
	 * RINGO_DEADLINE_EXCEEDED. cause is stored before err (both
	 * seq_cst), so a reader that sees err sees cause. */
	_Atomic int err;
	_Atomic int cause;
	ringo_ctx *parent;     /* owns a reference; NULL for the root */
	ringo_ctx *canceller;  /* self for CANCEL, nearest CANCEL ancestor
				* for VALUE (NULL if none); immutable */
	ringo_chan *done;      /* CANCEL: closed on cancel; immutable */
	ringo_ctx *children;   /* registered CANCEL descendants */
	ringo_ctx *sib_next, *sib_prev;
	int64_t deadline;      /* ns, CLOCK_MONOTONIC, if has_deadline */
	const void *key;       /* VALUE */
	void *value;
	struct ringo__timer timer; /* CANCEL with a deadline of its own */
};

static ringo_ctx background = { .kind = CTX_BACKGROUND };

ringo_ctx *ringo_ctx_background(void)
{
	return &background;
}

static ringo_ctx *or_background(ringo_ctx *c)
{
	return c ? c : &background;
}

/* ------------------------------------------------------ references */

static void ctx_unlink(ringo_ctx *c);

ringo_ctx *ringo_ctx_retain(ringo_ctx *c)
{
	if (!c || c->kind == CTX_BACKGROUND)
		return c;
	if (atomic_fetch_add(&c->refs, 1) <= 0)
		ringo__panic("ringo_ctx_retain", "context %p already freed",
			     (void *)c);
	return c;
}

/* Drop one reference; free the node, and walk up, at zero. Never parks,
 * so a timer callback may call it. */
static void ctx_release(ringo_ctx *c, const char *call)
{
	while (c && c->kind != CTX_BACKGROUND) {
		int old = atomic_fetch_sub(&c->refs, 1);
		if (old > 1)
			return;
		if (old < 1)
			ringo__panic(call, "context %p already freed",
				     (void *)c);
		/* Normally unlinked by free; not if the creator's reference
		 * went through ringo_ctx_release. */
		ctx_unlink(c);
		ringo_ctx *parent = c->parent;
		ringo__chan_free_owned(c->done);
		free(c);
		c = parent;
	}
}

void ringo_ctx_release(ringo_ctx *c)
{
	ctx_release(c, "ringo_ctx_release");
}

/* ------------------------------------------------------ cancelling */

/* Cancel c and every registered descendant; c->lock is held. */
static void cancel_locked(ringo_ctx *c, int err, int cause)
{
	if (atomic_load_explicit(&c->err, memory_order_relaxed))
		return;
	atomic_store(&c->cause, cause);
	atomic_store(&c->err, err);
	if (c->has_timer) {
		c->has_timer = false;
		/* Stopped before it fired: its reference is ours to drop
		 * (the creator still holds one, so it is not the last).
		 * Otherwise the callback has it and drops it. */
		if (ringo__timer_stop(&c->timer) &&
		    atomic_fetch_sub(&c->refs, 1) <= 1)
			ringo__throw("context", "timer held the last reference");
	}
	/* The close's channel lock orders the stores above before any
	 * receive that sees done closed. */
	ringo__chan_close_owned(c->done);
	for (ringo_ctx *ch = c->children; ch; ch = ch->sib_next) {
		ringo__lock(&ch->lock);
		cancel_locked(ch, err, cause);
		ringo__unlock(&ch->lock);
		ch->linked = false;
	}
	c->children = NULL;
}

/* Take c out of its parent canceller's children, if it is still there. */
static void ctx_unlink(ringo_ctx *c)
{
	ringo_ctx *pc = c->parent ? c->parent->canceller : NULL;

	if (!pc || c->kind != CTX_CANCEL)
		return;
	ringo__lock(&pc->lock);
	if (c->linked) {
		if (c->sib_prev)
			c->sib_prev->sib_next = c->sib_next;
		else
			pc->children = c->sib_next;
		if (c->sib_next)
			c->sib_next->sib_prev = c->sib_prev;
		c->sib_next = c->sib_prev = NULL;
		c->linked = false;
	}
	ringo__unlock(&pc->lock);
}

/* Cancel c itself (not through its parent): it also leaves its parent's
 * list, so long-lived parents do not collect cancelled children. */
static void ctx_cancel(ringo_ctx *c, int err, int cause)
{
	ringo__lock(&c->lock);
	cancel_locked(c, err, cause);
	ringo__unlock(&c->lock);
	ctx_unlink(c);
}

static void check_cancellable(ringo_ctx *c, const char *call)
{
	if (!c || c->kind != CTX_CANCEL)
		ringo__panic(call, "context %p has no cancel (%s)", (void *)c,
			     !c || c->kind == CTX_BACKGROUND ? "background"
							    : "value context");
}

void ringo_ctx_cancel(ringo_ctx *c)
{
	check_cancellable(c, "ringo_ctx_cancel");
	ctx_cancel(c, RINGO_CANCELED, RINGO_CANCELED);
}

void ringo_ctx_cancel_cause(ringo_ctx *c, int cause)
{
	check_cancellable(c, "ringo_ctx_cancel_cause");
	ctx_cancel(c, RINGO_CANCELED, cause ? cause : RINGO_CANCELED);
}

void ringo_ctx_free(ringo_ctx *c)
{
	if (!c || c->kind == CTX_BACKGROUND)
		return;
	if (c->kind == CTX_CANCEL)
		ctx_cancel(c, RINGO_CANCELED, RINGO_CANCELED);
	ctx_release(c, "ringo_ctx_free");
}

/* -------------------------------------------------------- creating */

static ringo_ctx *ctx_alloc(ringo_ctx *parent, enum ctx_kind kind)
{
	ringo_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		ringo__throw("context", "out of memory");
	c->kind = (uint8_t)kind;
	atomic_init(&c->refs, 1);
	c->parent = ringo_ctx_retain(parent);
	c->has_deadline = parent->has_deadline;
	c->deadline = parent->deadline;
	return c;
}

static ringo_ctx *new_cancel(ringo_ctx *parent)
{
	ringo_ctx *c = ctx_alloc(parent, CTX_CANCEL);
	ringo_ctx *pc = parent->canceller;

	c->canceller = c;
	c->done = ringo_chan_make(0, 0);
	if (!c->done)
		ringo__throw("context", "out of memory");
	c->done->owner = c;
	if (!pc)
		return c;
	/* Register, or be born done: c is not shared yet, so its lock
	 * is only for cancel_locked's sake. */
	ringo__lock(&pc->lock);
	int err = atomic_load(&pc->err);
	if (err) {
		ringo__lock(&c->lock);
		cancel_locked(c, err, atomic_load(&pc->cause));
		ringo__unlock(&c->lock);
	} else {
		c->sib_next = pc->children;
		if (pc->children)
			pc->children->sib_prev = c;
		pc->children = c;
		c->linked = true;
	}
	ringo__unlock(&pc->lock);
	return c;
}

ringo_ctx *ringo_ctx_with_cancel(ringo_ctx *parent)
{
	return new_cancel(or_background(parent));
}

/* The deadline passed: runs on whichever M found the timer expired. */
static void deadline_fired(struct ringo__timer *t, int64_t now, uint64_t seq)
{
	ringo_ctx *c = t->arg;

	(void)now;
	(void)seq; /* one-shot and never reset: the firing always counts */
	ctx_cancel(c, RINGO_DEADLINE_EXCEEDED, RINGO_DEADLINE_EXCEEDED);
	ctx_release(c, "context deadline");
}

ringo_ctx *ringo_ctx_with_deadline(ringo_ctx *parent, int64_t deadline)
{
	parent = or_background(parent);
	if (parent->has_deadline && parent->deadline <= deadline)
		return new_cancel(parent); /* the parent's comes first */

	ringo_ctx *c = new_cancel(parent);
	c->has_deadline = true;
	c->deadline = deadline;
	if (atomic_load(&c->err))
		return c;
	if (deadline <= ringo_now()) {
		ctx_cancel(c, RINGO_DEADLINE_EXCEEDED, RINGO_DEADLINE_EXCEEDED);
		return c;
	}
	if (!ringo__getg())
		ringo__panic("ringo_ctx_with_deadline", "a future deadline "
			     "needs a timer: call from a goroutine");
	atomic_fetch_add(&c->refs, 1); /* the timer's */
	ringo__timer_init(&c->timer, deadline_fired, c);
	c->timer.outlives_run = true;
	ringo__lock(&c->lock);
	bool armed = !atomic_load(&c->err);
	if (armed) {
		c->has_timer = true;
		ringo__timer_start(&c->timer, deadline);
	}
	ringo__unlock(&c->lock);
	if (!armed) /* cancelled by the parent meanwhile */
		ctx_release(c, "ringo_ctx_with_deadline");
	return c;
}

ringo_ctx *ringo_ctx_with_timeout(ringo_ctx *parent, int64_t timeout)
{
	return ringo_ctx_with_deadline(parent, ringo__nanotime_after(timeout));
}

ringo_ctx *ringo_ctx_with_value(ringo_ctx *parent, const void *key,
				void *value)
{
	/* Go panics too: a NULL key is nobody's, so any module's lookup
	 * of an unset key could find it. */
	if (!key)
		ringo__panic("ringo_ctx_with_value", "nil key");
	parent = or_background(parent);
	ringo_ctx *c = ctx_alloc(parent, CTX_VALUE);

	c->canceller = parent->canceller;
	c->key = key;
	c->value = value;
	return c;
}

/* -------------------------------------------------------- looking */

ringo_chan *ringo_ctx_done(ringo_ctx *c)
{
	c = or_background(c);
	return c->canceller ? c->canceller->done : NULL;
}

int ringo_ctx_err(ringo_ctx *c)
{
	c = or_background(c);
	return c->canceller ? atomic_load(&c->canceller->err) : 0;
}

int ringo_ctx_cause(ringo_ctx *c)
{
	c = or_background(c);
	if (!c->canceller || !atomic_load(&c->canceller->err))
		return 0;
	return atomic_load(&c->canceller->cause);
}

bool ringo_ctx_deadline(ringo_ctx *c, int64_t *deadline)
{
	c = or_background(c);
	if (c->has_deadline && deadline)
		*deadline = c->deadline;
	return c->has_deadline;
}

void *ringo_ctx_value(ringo_ctx *c, const void *key)
{
	for (c = or_background(c); c; c = c->parent)
		if (c->kind == CTX_VALUE && c->key == key)
			return c->value;
	return NULL;
}
