/*
 * tests/select_fair.c - select chooses uniformly among ready cases.
 *
 * The statistics. With k ready cases over n rounds, the count of one case
 * is Binomial(n, 1/k): mean n/k, standard deviation s = sqrt(n (1/k)
 * (1 - 1/k)). For n = 100,000 and k = 2, s = sqrt(25,000) = 158, that is
 * 0.16% of n; a 5-sigma band is +-0.8%. The test accepts 45%..55%, a band
 * of +-5,000 = 31.6 s: a fair select leaves it with probability below
 * 2 exp(-31.6^2 / 2) ~ 1e-217 (the binomial tail is lighter still, by
 * Hoeffding: 2 exp(-2 * 5000^2 / n) = 2 exp(-500)). So the test cannot
 * flake, yet any real bias (a case preferred by position, a poll order
 * that is not a permutation) is far outside the band. The same bound,
 * with the same margin, holds for k = 4 (25% +- 5%: s = 137, band 36 s)
 * and for the "same choice as last round" rate (a select that alternates
 * would be perfectly balanced but fail this one: 0% or 100%).
 * The buffered case runs once outside any goroutine too (before
 * ringo_run), where the shuffle has a per-thread state of its own.
 */
#include <ringo/ringo.h>

#include "test.h"

static int rounds;

/* Assert count is within [lo%, hi%] of rounds. */
#define ASSERT_PCT(count, lo, hi)                                          \
	do {                                                               \
		ASSERT_GE((long long)(count) * 100, (long long)rounds * (lo)); \
		ASSERT_LE((long long)(count) * 100, (long long)rounds * (hi)); \
	} while (0)

static int test_two_closed(void)
{
	ringo_chan *a = ringo_chan_make(sizeof(int), 0);
	ringo_chan *b = ringo_chan_make(sizeof(int), 0);
	int hits[2] = { 0, 0 }, same = 0, prev = -1, x;

	ringo_chan_close(a);
	ringo_chan_close(b);
	for (int r = 0; r < rounds; r++) {
		struct ringo_select_case cs[] = { RINGO_RECV(a, &x),
						  RINGO_RECV(b, &x) };
		int i = RINGO_SELECT(cs);
		hits[i]++;
		same += i == prev;
		prev = i;
	}
	ASSERT_PCT(hits[0], 45, 55);
	ASSERT_PCT(hits[1], 45, 55);
	ASSERT_PCT(same, 45, 55);
	ringo_chan_free(a);
	ringo_chan_free(b);
	return 0;
}

/* Buffered channels kept ready: two receives on full ones and two sends
 * on ones with room, in one select, with a default that must never be
 * taken. */
static int test_four_buffered(void)
{
	ringo_chan *c[4];
	int hits[4] = { 0 }, v = 1, w, same = 0, prev = -1;

	for (int i = 0; i < 4; i++)
		c[i] = ringo_chan_make(sizeof(int), 1);
	ringo_chan_send(c[0], &v);
	ringo_chan_send(c[1], &v);
	for (int r = 0; r < rounds; r++) {
		struct ringo_select_case cs[] = {
			RINGO_RECV(c[0], &w), RINGO_RECV(c[1], &w),
			RINGO_SEND(c[2], &v), RINGO_SEND(c[3], &v),
		};
		int i = RINGO_SELECT_DEFAULT(cs);
		ASSERT(i >= 0);
		hits[i]++;
		same += i == prev;
		prev = i;
		if (i < 2)
			ringo_chan_send(c[i], &v); /* refill */
		else
			ringo_chan_recv(c[i], &w); /* make room */
	}
	for (int i = 0; i < 4; i++)
		ASSERT_PCT(hits[i], 20, 30);
	ASSERT_PCT(same, 20, 30);
	for (int i = 0; i < 4; i++)
		ringo_chan_free(c[i]);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_two_closed);
	RUN(test_four_buffered);
	return 0;
}

int main(void)
{
	rounds = 100000;
	test_watchdog(110);
	/* The non-blocking form works outside goroutines too, on a thread
	 * of its own: as fair there. */
	if (test_four_buffered())
		return 1;
	return test_run_default_then_one_p(main_fn, NULL);
}
