/*
 * ringo/chan.h - channels and select, with Go's semantics.
 *
 * A channel carries fixed-size elements (elem_size bytes, copied in and
 * out). cap 0 makes it unbuffered: a send waits for a receiver and hands
 * the value straight to it. A NULL channel blocks forever, as in Go.
 *
 * Misuse panics (aborts with a message naming the call and the goroutine),
 * as in Go: send on a closed channel, close of a closed or NULL channel,
 * freeing a channel that goroutines still wait on. Blocking calls must be
 * made from a goroutine. "Closed", "empty" and "full" are return values,
 * not errors.
 *
 * Goroutines still blocked on a channel when ringo_run returns are
 * discarded (ringo/sched.h) and stay in its queues: such a channel can
 * only be freed (ringo_chan_free accepts it once ringo_run has
 * returned); make a new one for a later run.
 */
#ifndef RINGO_CHAN_H
#define RINGO_CHAN_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ringo_chan ringo_chan;

/* A new channel, or NULL with errno = ENOMEM. elem_size 0 makes a pure
 * signal channel (elem pointers may then be NULL). */
ringo_chan *ringo_chan_make(size_t elem_size, size_t cap);
/* Free a channel no goroutine uses any more. NULL is ignored. */
void ringo_chan_free(ringo_chan *c);

/* Send *elem (elem_size bytes). Blocks until a receiver takes it or the
 * buffer has room. Panics if c is closed. */
void ringo_chan_send(ringo_chan *c, const void *elem);
/* Receive into elem (may be NULL to drop the value). Returns true for a
 * value sent by a sender, false once c is closed and drained (elem is then
 * zeroed), like Go's `v, ok := <-c`. */
bool ringo_chan_recv(ringo_chan *c, void *elem);

/* Non-blocking forms: true if the value was sent / something was received
 * (for recv, *closed tells whether it was the closed-and-drained zero
 * value; closed may be NULL). */
bool ringo_chan_trysend(ringo_chan *c, const void *elem);
bool ringo_chan_tryrecv(ringo_chan *c, void *elem, bool *closed);

/* Close: receivers drain the buffer then get ok = false; blocked senders
 * panic. Panics if c is NULL or already closed. */
void ringo_chan_close(ringo_chan *c);

/* Elements buffered now, and the buffer's capacity. Both are 0 for NULL,
 * for a context's done channel and for a timer's channel (Go 1.23's timer
 * channels are synchronous). */
size_t ringo_chan_len(ringo_chan *c);
size_t ringo_chan_cap(ringo_chan *c);

/* ========================================================================
 * select
 *
 * ringo_select() waits on several channel operations at once and performs
 * exactly one that is ready, choosing uniformly at random among the ready
 * ones (Go's fairness). With `nonblock`, it returns -1 instead of waiting
 * (Go's `default:`). A case with a NULL channel is never ready.
 * Returns the index of the case performed; for a receive case, `ok` is
 * set as ringo_chan_recv's result.
 * ===================================================================== */

enum ringo_select_dir { RINGO_SELECT_SEND = 1, RINGO_SELECT_RECV = 2 };

struct ringo_select_case {
	ringo_chan *chan;
	enum ringo_select_dir dir;
	void *elem; /* send: value to send; recv: where to store (or NULL) */
	bool ok;    /* recv: set on return, as ringo_chan_recv's result */
};

int ringo_select(struct ringo_select_case *cases, int n, bool nonblock);

/* Convenience forms for the common small selects:
 *   struct ringo_select_case cs[] = { RINGO_RECV(c1, &v), RINGO_SEND(c2, &w) };
 *   switch (RINGO_SELECT(cs)) { case 0: ... case 1: ... }
 *   RINGO_SELECT_DEFAULT(cs) returns -1 when no case is ready. */
#define RINGO_RECV(ch, p) { (ch), RINGO_SELECT_RECV, (p), false }
#define RINGO_SEND(ch, p) { (ch), RINGO_SELECT_SEND, (void *)(p), false }
#define RINGO_SELECT(cs) ringo_select((cs), (int)(sizeof(cs) / sizeof((cs)[0])), false)
#define RINGO_SELECT_DEFAULT(cs) \
	ringo_select((cs), (int)(sizeof(cs) / sizeof((cs)[0])), true)

#ifdef __cplusplus
}
#endif
#endif
