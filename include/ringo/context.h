/*
 * ringo/context.h - cancellation, deadlines and request-scoped values
 * (Go's package context).
 *
 * Contexts form a tree. ringo_ctx_background() is the root: never
 * cancelled, no deadline, no values. Each ringo_ctx_with_*() derives a
 * child from a parent. Cancelling a context (ringo_ctx_cancel, its
 * deadline passing, or its parent being cancelled) cancels every context
 * derived from it, closes its done channel and fixes its error; a
 * context's cancellation never reaches its parent.
 *
 * A goroutine watches for cancellation by receiving from the done
 * channel, usually in a select next to its real work:
 *
 *   struct ringo_select_case cs[] = { RINGO_RECV(jobs, &job),
 *                                     RINGO_RECV(ringo_ctx_done(ctx), NULL) };
 *   if (RINGO_SELECT(cs) == 1)
 *           return ringo_ctx_err(ctx);     // RINGO_CANCELED or ..._EXCEEDED
 *
 * Errors: ringo_ctx_err() returns 0 while the context is live, then
 * RINGO_CANCELED (-ECANCELED) if it was cancelled or
 * RINGO_DEADLINE_EXCEEDED (-ETIMEDOUT) if its deadline passed (Go's
 * context.Canceled and context.DeadlineExceeded), following ringo's
 * negative-errno convention. Allocation failure aborts, as Go does when
 * out of memory. Misuse panics with a message naming the call: cancelling
 * a context that has no cancel, a value with a NULL key, and (as far as
 * it can be seen) retaining or releasing a context that was already
 * freed.
 *
 * Memory model (Go's): a cancel happens before every receive that sees
 * its done channel closed, and before every ringo_ctx_err() that returns
 * its error.
 */
#ifndef RINGO_CONTEXT_H
#define RINGO_CONTEXT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <ringo/chan.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * Ownership: who frees what
 *
 * C has no garbage collector, so every context made by a ringo_ctx_with_*
 * function comes with one reference, owned by its creator, who gives it
 * back with ringo_ctx_free() exactly once (Go's `defer cancel()`):
 *
 *   ringo_ctx *ctx = ringo_ctx_with_timeout(parent, 100 * RINGO_MILLISECOND);
 *   ... start goroutines that use ctx; wait for them ...
 *   ringo_ctx_free(ctx);               // cancels, then drops the reference
 *
 * - ringo_ctx_free() cancels the context first (with RINGO_CANCELED, if it
 *   is still live), so its whole subtree is cancelled, then drops the
 *   reference. Use ringo_ctx_cancel() to cancel without freeing.
 * - Contexts may be freed in any order. A child holds a reference to its
 *   parent, so a parent freed before its children is cancelled at once
 *   (and with it the children), but its memory lives until the last
 *   child is freed too. Freeing a parent never frees a child.
 * - A context must not be used after its last reference is dropped: free
 *   it only once the goroutines you gave it to have stopped using it
 *   (waited for with a wait group, an errgroup or a channel), exactly as
 *   with a channel. A goroutine that may outlive its creator's
 *   ringo_ctx_free() takes a reference of its own with ringo_ctx_retain()
 *   and gives it back with ringo_ctx_release(), which does not cancel.
 * - ringo_ctx_background() is a static object: retain, release and free
 *   ignore it.
 * - Cancelling walks the subtree recursively: a chain of contexts
 *   thousands deep (each derived from the last) would need as many stack
 *   frames. Trees of any width are fine.
 * ===================================================================== */

typedef struct ringo_ctx ringo_ctx;

/* The errors of a done context. */
#define RINGO_CANCELED (-ECANCELED)
#define RINGO_DEADLINE_EXCEEDED (-ETIMEDOUT)

/* ========================================================================
 * Making contexts
 *
 * Every parent argument may be NULL, meaning ringo_ctx_background().
 * A child of a context that is already done is born done, with the
 * parent's error and cause.
 * ===================================================================== */

/* The root context: never done, no deadline, no values. Static. */
ringo_ctx *ringo_ctx_background(void);

/* A child that is done when ringo_ctx_cancel(child) (or _free) is called
 * or when its parent is done, whichever happens first. */
ringo_ctx *ringo_ctx_with_cancel(ringo_ctx *parent);

/* A child that is also done, with RINGO_DEADLINE_EXCEEDED, at `deadline`
 * (ns, CLOCK_MONOTONIC, as ringo_now()). If the parent's deadline is
 * earlier, the child simply keeps that one (as Go). A deadline already
 * past makes the child born done. Must be called from a goroutine when a
 * timer is needed (the deadline is in the future and earlier than the
 * parent's). */
ringo_ctx *ringo_ctx_with_deadline(ringo_ctx *parent, int64_t deadline);
/* ringo_ctx_with_deadline(parent, ringo_now() + timeout), timeout in ns. */
ringo_ctx *ringo_ctx_with_timeout(ringo_ctx *parent, int64_t timeout);

/* A child carrying (key, value): ringo_ctx_value(child or any descendant,
 * key) finds value unless a nearer context binds the same key. Keys are
 * compared as pointers; use the address of a static object of your own,
 * so keys of different modules never collide. Neither key nor value is
 * copied or freed: they must outlive the context. A NULL key panics, as
 * Go's nil key does. The child has no cancel of its own: it is done
 * exactly when its parent is. */
ringo_ctx *ringo_ctx_with_value(ringo_ctx *parent, const void *key,
				void *value);

/* ========================================================================
 * Cancelling and freeing
 * ===================================================================== */

/* Cancel ctx and its subtree with RINGO_CANCELED. Cancelling a context
 * that is already done does nothing. Panics if ctx is the background or
 * a value context (they have no cancel, as in Go). Callable from any
 * thread, in or outside a goroutine. */
void ringo_ctx_cancel(ringo_ctx *ctx);
/* Cancel with a cause (Go's WithCancelCause): ringo_ctx_err() still says
 * RINGO_CANCELED, ringo_ctx_cause() returns `cause` (any non-zero int, by
 * convention a negative errno or an application code; 0 means
 * RINGO_CANCELED, as Go's nil cause does). */
void ringo_ctx_cancel_cause(ringo_ctx *ctx, int cause);

/* Cancel (as ringo_ctx_cancel; value contexts are only released), then
 * drop the creator's reference. NULL and the background are ignored. */
void ringo_ctx_free(ringo_ctx *ctx);

/* Take / give back an extra reference (see "Ownership" above); release
 * never cancels. Retain returns ctx. */
ringo_ctx *ringo_ctx_retain(ringo_ctx *ctx);
void ringo_ctx_release(ringo_ctx *ctx);

/* ========================================================================
 * Looking at a context
 *
 * All of these are safe from any thread while you hold a reference.
 * ===================================================================== */

/* A channel (element size 0) that is closed when ctx is done. NULL for
 * the background and its value children: a NULL channel is never ready,
 * so a select case on it simply never fires, as with Go's nil Done().
 * Only receive from it: sending on it, closing or freeing it panics. */
ringo_chan *ringo_ctx_done(ringo_ctx *ctx);

/* 0 while ctx is live; then RINGO_CANCELED or RINGO_DEADLINE_EXCEEDED. */
int ringo_ctx_err(ringo_ctx *ctx);

/* Why ctx is done: the cause given to ringo_ctx_cancel_cause (inherited
 * from the ancestor that was cancelled), else the same as
 * ringo_ctx_err(). 0 while ctx is live. */
int ringo_ctx_cause(ringo_ctx *ctx);

/* True and *deadline (ns, CLOCK_MONOTONIC) if ctx or an ancestor has a
 * deadline (the earliest one); false if none. deadline may be NULL. */
bool ringo_ctx_deadline(ringo_ctx *ctx, int64_t *deadline);

/* The value bound to key by the nearest ringo_ctx_with_value ancestor
 * (or ctx itself), NULL if none. */
void *ringo_ctx_value(ringo_ctx *ctx, const void *key);

#ifdef __cplusplus
}
#endif
#endif
