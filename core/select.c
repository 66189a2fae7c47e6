/*
 * core/select.c - waiting on several channel operations at once.
 *
 * As Go's selectgo: the cases are polled in a random permutation (so each
 * ready case is equally likely to win), every channel involved is locked
 * in address order (so two selects over the same channels cannot
 * deadlock), and when nothing is ready the goroutine parks with one sudog
 * on every channel's queue. The first waker to win the CAS on the G's
 * select_done completes its operation; wakers on the other channels see
 * the CAS fail and skip the sudog. After waking, the G relocks all
 * channels and takes its remaining sudogs off their queues.
 */
#include <stdlib.h>
#include <string.h>

#include <ringo/chan.h>

#include "chan_internal.h"

#define SMALL_CASES 8

struct sel {
	struct ringo_select_case *cases;
	int n;
	uint16_t *pollorder;
	uint16_t *lockorder; /* indices of non-NULL cases by channel address */
	int nlock;
};

static void sel_lock(struct sel *s)
{
	struct ringo_chan *prev = NULL;

	for (int i = 0; i < s->nlock; i++) {
		struct ringo_chan *c = s->cases[s->lockorder[i]].chan;
		if (c != prev)
			ringo__lock(&c->lock);
		prev = c;
	}
}

static void sel_unlock(struct sel *s)
{
	for (int i = s->nlock - 1; i >= 0; i--) {
		struct ringo_chan *c = s->cases[s->lockorder[i]].chan;
		if (i == 0 || s->cases[s->lockorder[i - 1]].chan != c)
			ringo__unlock(&c->lock);
	}
}

static bool sel_unlock_cb(struct ringo__g *g, void *arg)
{
	(void)g;
	sel_unlock(arg);
	return true;
}

static uint32_t next_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return (uint32_t)(x >> 32);
}

static void sel_order(struct sel *s, uint64_t *rand)
{
	/* Inside-out Fisher-Yates for the poll order. */
	for (int i = 0; i < s->n; i++) {
		int j = (int)(next_rand(rand) % (uint32_t)(i + 1));
		s->pollorder[i] = s->pollorder[j];
		s->pollorder[j] = (uint16_t)i;
	}
	/* Insertion sort by channel address: n is small in practice. */
	s->nlock = 0;
	for (int i = 0; i < s->n; i++) {
		struct ringo_chan *c = s->cases[i].chan;
		if (!c)
			continue;
		int k = s->nlock++;
		while (k > 0 && (uintptr_t)s->cases[s->lockorder[k - 1]].chan >
					(uintptr_t)c) {
			s->lockorder[k] = s->lockorder[k - 1];
			k--;
		}
		s->lockorder[k] = (uint16_t)i;
	}
}

/* Try every case once, in poll order, with all channels locked. Returns
 * the index done, or -1. On success the locks are released. */
static int sel_poll(struct sel *s)
{
	for (int k = 0; k < s->n; k++) {
		int i = s->pollorder[k];
		struct ringo_select_case *cs = &s->cases[i];
		struct ringo_chan *c = cs->chan;
		struct ringo__g *peer = NULL;
		struct ringo__sudog *w;

		if (!c)
			continue;
		if (cs->dir == RINGO_SELECT_SEND) {
			if (c->closed) {
				sel_unlock(s);
				ringo__panic("ringo_select", "send on closed "
					     "channel (case %d)", i);
			}
			if ((w = ringo__waitq_pop(&c->recvq)))
				peer = ringo__chan_send_to(c, w, cs->elem);
			else if (c->qcount < c->cap)
				ringo__chan_buf_put(c, cs->elem);
			else
				continue;
		} else {
			cs->ok = true;
			if ((w = ringo__waitq_pop(&c->sendq))) {
				peer = ringo__chan_recv_from(c, w, cs->elem);
			} else if (c->qcount > 0) {
				ringo__chan_buf_take(c, cs->elem);
			} else if (c->closed) {
				if (cs->elem && c->elem_size)
					memset(cs->elem, 0, c->elem_size);
				cs->ok = false;
			} else {
				continue;
			}
		}
		sel_unlock(s);
		if (peer)
			ringo__ready(peer);
		return i;
	}
	return -1;
}

/* What a parked select shows in dumps: Go's reason for the same
 * statement. Go parks a select of two or more cases in selectgo as
 * "select", even when every channel is nil; it compiles a one-case
 * select to the plain channel operation ("chan receive", or "chan
 * receive (nil chan)" on a nil channel), and select {} to a block of
 * its own ("select (no cases)"). */
static enum ringo__wait_reason sel_reason(const struct sel *s)
{
	if (s->n == 0)
		return RINGO_WAIT_SELECT_NO_CASES;
	if (s->n > 1)
		return RINGO_WAIT_SELECT;
	bool nil = !s->cases[0].chan;
	if (s->cases[0].dir == RINGO_SELECT_SEND)
		return nil ? RINGO_WAIT_CHAN_SEND_NIL : RINGO_WAIT_CHAN_SEND;
	return nil ? RINGO_WAIT_CHAN_RECV_NIL : RINGO_WAIT_CHAN_RECV;
}

/* The shuffle's state on threads without an M (only the non-blocking
 * form runs there): per thread, seeded at its first select from the
 * clock and the thread's own address, so that repeated calls choose
 * among ready cases at random, as inside goroutines. */
static _Thread_local uint64_t outside_rand;

static int select_impl(struct sel *s, bool nonblock, struct ringo__sudog *sg)
{
	struct ringo__m *m = ringo__getm();

	if (!nonblock)
		ringo__must_park("ringo_select");
	if (!(m && m->curg) && !outside_rand)
		outside_rand = ((uint64_t)ringo__nanotime() ^
				(uintptr_t)&outside_rand) | 1;
	sel_order(s, m && m->curg ? &m->rand : &outside_rand);
	sel_lock(s);
	int i = sel_poll(s);
	if (i >= 0)
		return i;
	if (nonblock) {
		sel_unlock(s);
		return -1;
	}

	struct ringo__g *g = m->curg;
	atomic_store(&g->select_done, 0);
	g->park_obj = NULL;
	for (int k = 0; k < s->nlock; k++) {
		int ci = s->lockorder[k];
		struct ringo_select_case *cs = &s->cases[ci];
		sg[ci] = (struct ringo__sudog){
			.g = g, .c = cs->chan, .elem = cs->elem,
			.is_select = true, .case_index = ci,
		};
		ringo__waitq_push(cs->dir == RINGO_SELECT_SEND ? &cs->chan->sendq
							     : &cs->chan->recvq,
				  &sg[ci]);
	}
	/* A select with no channel parks forever, as in Go. */
	ringo__park(sel_unlock_cb, s, sel_reason(s),
		    s->n == 1 ? s->cases[0].chan : NULL);

	struct ringo__sudog *won = g->park_obj;
	sel_lock(s);
	for (int k = 0; k < s->nlock; k++) {
		int ci = s->lockorder[k];
		struct ringo_select_case *cs = &s->cases[ci];
		if (&sg[ci] != won)
			ringo__waitq_remove(cs->dir == RINGO_SELECT_SEND
						    ? &cs->chan->sendq
						    : &cs->chan->recvq,
					    &sg[ci]);
	}
	sel_unlock(s);
	if (!won)
		ringo__throw("select", "woken without a winning case");
	i = won->case_index;
	if (s->cases[i].dir == RINGO_SELECT_SEND) {
		if (!won->success)
			ringo__panic("ringo_select", "send on closed channel "
				     "(case %d)", i);
	} else {
		s->cases[i].ok = won->success;
	}
	return i;
}

int ringo_select(struct ringo_select_case *cases, int n, bool nonblock)
{
	if (n < 0 || n > UINT16_MAX || (n && !cases))
		ringo__panic("ringo_select", "bad case array (n = %d)", n);
	for (int i = 0; i < n; i++) {
		if (cases[i].dir != RINGO_SELECT_SEND &&
		    cases[i].dir != RINGO_SELECT_RECV)
			ringo__panic("ringo_select", "case %d: bad direction %d",
				     i, (int)cases[i].dir);
		if (cases[i].dir == RINGO_SELECT_SEND)
			ringo__chan_not_owned(cases[i].chan, "ringo_select");
	}

	struct sel s = { .cases = cases, .n = n };
	if (n <= SMALL_CASES) {
		uint16_t po[SMALL_CASES], lo[SMALL_CASES];
		struct ringo__sudog sg[SMALL_CASES];
		s.pollorder = po;
		s.lockorder = lo;
		return select_impl(&s, nonblock, sg);
	}
	/* The sudogs must outlive the park, so they live on the heap here
	 * and are freed only after the select completed. */
	uint16_t *orders = malloc(2 * (size_t)n * sizeof(uint16_t));
	struct ringo__sudog *sg = malloc((size_t)n * sizeof(*sg));
	if (!orders || !sg)
		ringo__throw("ringo_select", "out of memory for %d cases", n);
	s.pollorder = orders;
	s.lockorder = orders + n;
	int r = select_impl(&s, nonblock, sg);
	free(orders);
	free(sg);
	return r;
}
