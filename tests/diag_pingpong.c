/*
 * tests/diag_pingpong.c - no false deadlock: goroutines that park and are
 * woken by other goroutines over and over (ping-pong pairs over unbuffered
 * channels and through select, a ring passing a token) make every M go
 * idle and come back countless times; the program must finish normally.
 */
#include <ringo/ringo.h>

#include "test.h"

struct pair {
	ringo_chan *ping, *pong, *done;
	int rounds;
};

static void ponger(void *arg)
{
	struct pair *p = arg;
	int v;
	while (ringo_chan_recv(p->ping, &v))
		ringo_chan_send(p->pong, &v);
	ringo_chan_send(p->done, NULL);
}

static void pinger(void *arg)
{
	struct pair *p = arg;
	for (int i = 0; i < p->rounds; i++) {
		int v = i;
		ringo_chan_send(p->ping, &v);
		ringo_chan_recv(p->pong, &v);
	}
	ringo_chan_close(p->ping);
	ringo_chan_send(p->done, NULL);
}

/* Same through select, with a second, never-ready case. */
static void select_ponger(void *arg)
{
	struct pair *p = arg;
	ringo_chan *idle = ringo_chan_make(sizeof(int), 0);
	int v, w;
	for (;;) {
		struct ringo_select_case cs[] = { RINGO_RECV(p->ping, &v),
						  RINGO_RECV(idle, &w) };
		if (RINGO_SELECT(cs) != 0 || !cs[0].ok)
			break;
		ringo_chan_send(p->pong, &v);
	}
	ringo_chan_free(idle);
	ringo_chan_send(p->done, NULL);
}

struct ring {
	ringo_chan *in, *out;
	int laps;
};

/* Pass the token on; the first member starts each lap. */
static void ring_member(void *arg)
{
	struct ring *r = arg;
	int v;
	for (int i = 0; i < r->laps; i++) {
		ringo_chan_recv(r->in, &v);
		v++;
		ringo_chan_send(r->out, &v);
	}
}

#define PAIRS 4
#define RING 8

static int test_pingpong(void)
{
	int rounds = TEST_SCALE(20000, 5000, 2000);
	ringo_chan *done = ringo_chan_make(0, 0);
	struct pair pairs[PAIRS];

	for (int i = 0; i < PAIRS; i++) {
		pairs[i].ping = ringo_chan_make(sizeof(int), 0);
		pairs[i].pong = ringo_chan_make(sizeof(int), 0);
		pairs[i].done = done;
		pairs[i].rounds = rounds;
		ringo_go(i % 2 ? select_ponger : ponger, &pairs[i]);
		ringo_go(pinger, &pairs[i]);
	}
	for (int i = 0; i < 2 * PAIRS; i++)
		ringo_chan_recv(done, NULL);
	for (int i = 0; i < PAIRS; i++) {
		ringo_chan_free(pairs[i].ping);
		ringo_chan_free(pairs[i].pong);
	}
	ringo_chan_free(done);
	ASSERT_EQ(ringo_leakcheck(1, 10 * RINGO_SECOND), 0);
	return 0;
}

static int test_ring(void)
{
	int laps = TEST_SCALE(2000, 500, 200);
	ringo_chan *chans[RING + 1];
	struct ring members[RING];

	for (int i = 0; i <= RING; i++)
		chans[i] = ringo_chan_make(sizeof(int), 0);
	for (int i = 0; i < RING; i++) {
		members[i] = (struct ring){ chans[i], chans[i + 1], laps };
		ringo_go(ring_member, &members[i]);
	}
	/* main closes the ring: every lap all RING+1 goroutines park. */
	for (int i = 0; i < laps; i++) {
		int v = 0;
		ringo_chan_send(chans[0], &v);
		ringo_chan_recv(chans[RING], &v);
		ASSERT_EQ(v, RING);
	}
	ASSERT_EQ(ringo_leakcheck(1, 10 * RINGO_SECOND), 0);
	for (int i = 0; i <= RING; i++)
		ringo_chan_free(chans[i]);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_pingpong);
	RUN(test_ring);
	return 0;
}

int main(void)
{
	test_watchdog(110);
	static const int procs[] = { 2, 1, 4 };
	for (int i = 0; i < 3; i++) {
		struct ringo_config cfg = { .maxprocs = procs[i] };
		if (ringo_run_config(&cfg, main_fn, NULL) != 0)
			return 1;
	}
	return 0;
}
