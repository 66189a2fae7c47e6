/*
 * bench/registry.c - every benchmark, in the order a full run does them
 * (cheap scheduler numbers first). Each is defined in its b_<area>.c.
 */
#include <stddef.h>

#include "bench.h"

extern const struct bench bench_spawn, bench_park, bench_yield;
extern const struct bench bench_pingpong, bench_mpmc, bench_select, bench_ring;
extern const struct bench bench_sleepers, bench_timer_stop, bench_timer_fire;
extern const struct bench bench_mutex;
extern const struct bench bench_hog, bench_handoff;
extern const struct bench bench_file;
extern const struct bench bench_echo_p1, bench_echo, bench_http_p1, bench_http;
extern const struct bench bench_resp_get, bench_resp_set, bench_resp_get_p16, bench_resp_set_p16;

const struct bench *const bench_all[] = {
	&bench_spawn,
	&bench_park,
	&bench_yield,
	&bench_pingpong, &bench_mpmc, &bench_select, &bench_ring,
	&bench_sleepers, &bench_timer_stop, &bench_timer_fire,
	&bench_mutex,
	&bench_hog, &bench_handoff,
	&bench_file,
	&bench_echo_p1, &bench_echo, &bench_http_p1, &bench_http,
	&bench_resp_get, &bench_resp_set, &bench_resp_get_p16, &bench_resp_set_p16,
	NULL,
};
