/*
 * ringo/errgroup.h - a group of goroutines working on one task
 * (golang.org/x/sync/errgroup).
 *
 * A group starts goroutines that each return an int: 0 for success,
 * anything else is an error (by convention a negative errno). The first
 * error cancels the group's context, so the others can stop early, and
 * ringo_group_wait() returns it once every goroutine has finished:
 *
 *   ringo_group *g = ringo_group_new(parent_ctx);
 *   for (int i = 0; i < n; i++)
 *           ringo_group_go(g, fetch, &urls[i]);   // int fetch(ctx, arg)
 *   int err = ringo_group_wait(g);                // first error, or 0
 *   ringo_group_free(g);
 *
 * Each function receives the group's context; it should watch
 * ringo_ctx_done(ctx) while it blocks and return when it closes.
 *
 * Errors: the group's own calls cannot fail; allocation failure aborts
 * and misuse (changing the limit while goroutines run, freeing a group
 * that still has goroutines) panics with a message naming the call.
 *
 * Memory model: a goroutine's return happens before the
 * ringo_group_wait() that sees it finished returns.
 */
#ifndef RINGO_ERRGROUP_H
#define RINGO_ERRGROUP_H

#include <stdbool.h>

#include <ringo/context.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ringo_group ringo_group;

/* The work of one goroutine: 0 for success, non-zero is an error. ctx is
 * the group's context (do not free it). */
typedef int (*ringo_group_fn)(ringo_ctx *ctx, void *arg);

/* A group whose context is a ringo_ctx_with_cancel child of parent (NULL
 * = background): it is cancelled by the first error, by ringo_group_wait
 * returning, or by the parent. The group holds its own reference to
 * parent while it lives. */
ringo_group *ringo_group_new(ringo_ctx *parent);

/* The group's context; valid until ringo_group_free. */
ringo_ctx *ringo_group_ctx(ringo_group *g);

/* At most n goroutines of the group run at once; n < 0 (the default)
 * means no limit, n = 0 that no goroutine may start (ringo_group_go would
 * block forever), as Go's SetLimit. Panics if goroutines of the group are
 * running. */
void ringo_group_set_limit(ringo_group *g, int n);

/* Run fn(ctx, arg) in a new goroutine. While the limit is reached, waits
 * (in the calling goroutine) for a running one to finish. The first fn to
 * return non-zero fixes the group's error and cancels its context with
 * that error as the cause (ringo_ctx_cause). */
void ringo_group_go(ringo_group *g, ringo_group_fn fn, void *arg);
/* As ringo_group_go, but never waits: false (and nothing started) if the
 * limit is reached. */
bool ringo_group_trygo(ringo_group *g, ringo_group_fn fn, void *arg);

/* Wait for every goroutine started so far, cancel the group's context
 * and return the first error (0 if none). May be called again. */
int ringo_group_wait(ringo_group *g);

/* Free a group after ringo_group_wait: its context is freed too. NULL
 * is ignored. Panics if goroutines of the group are still running. */
void ringo_group_free(ringo_group *g);

#ifdef __cplusplus
}
#endif
#endif
