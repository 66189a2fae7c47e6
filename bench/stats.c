/*
 * bench/stats.c - fold the repetitions of one (bench, impl, mode) into one
 * row: the median of each metric (robust to one slow repetition) and its
 * range, and the spread of ns_per_op, flagged as noisy past 25% of the
 * median.
 */
#include <stdlib.h>

#include "bench.h"

#define NOISY_SPREAD 0.25 /* (max - min) / median above this is noisy */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of the k values sorts in place. */
static double median(double *vals, int k)
{
	qsort(vals, (size_t)k, sizeof(*vals), cmp_double);
	return k % 2 ? vals[k / 2] : (vals[k / 2 - 1] + vals[k / 2]) / 2;
}

void bench_fold(struct bench_result *r, const struct bench_sample *samples, int reps)
{
	double vals[reps];

	r->reps = reps;
	r->procs = samples[0].procs;
	r->n = samples[0].n;
	r->med.procs = r->procs;
	r->med.n = r->n;
	r->med.has = 0;
	for (int m = 0; m < BENCH_METRIC_NR; m++) {
		int k = 0;
		for (int i = 0; i < reps; i++)
			if (bench_has(&samples[i], m))
				vals[k++] = samples[i].v[m];
		if (!k)
			continue;
		bench_set(&r->med, m, median(vals, k)); /* sorts vals */
		r->lo[m] = vals[0];
		r->hi[m] = vals[k - 1];
	}
	double mid = r->med.v[BENCH_NS_PER_OP];
	r->noisy = mid > 0 &&
		   (r->hi[BENCH_NS_PER_OP] - r->lo[BENCH_NS_PER_OP]) / mid > NOISY_SPREAD;
}
