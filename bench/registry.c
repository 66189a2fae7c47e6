/*
 * bench/registry.c - every benchmark, in the order a full run does them
 * (cheap scheduler numbers first). Each is defined in its b_<area>.c.
 */
#include <stddef.h>

#include "bench.h"

extern const struct bench bench_spawn, bench_park, bench_yield;

const struct bench *const bench_all[] = {
	&bench_spawn,
	&bench_park,
	&bench_yield,
	NULL,
};
