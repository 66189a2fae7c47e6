/*
 * bench/net.h - server benchmarks: a server process under a load
 * generator, instead of a run function inside ringo-bench's own child.
 *
 * A `struct bench` with `net` set is one of these. Each of its rows is
 * one server - ringo's example in uring and in epoll mode, the Go twin
 * `gobench <go_name>`, and the baselines below (nginx, redis-server, the
 * echo loop) - at one number of client connections (the row's n, a point
 * of the curve).
 * The bench's procs says how it runs:
 *   1  the server on 1 P (GOMAXPROCS 1, one nginx worker) pinned to the
 *      first CPU, the client pinned to the others;
 *   0  the server with a P per CPU, nothing pinned (the default a user
 *      gets; on a small machine server and client then share cores).
 * A row's repetitions each give
 *   ops_per_s             requests (round trips) per second, as the client saw
 *   ns_per_op             1e9 / ops_per_s, as for every benchmark
 *   server_cpu_ns_per_op  CPU time of the server process (all threads,
 *                         user + system) per request it served; for wrk
 *                         at 1,000 connections and more without what
 *                         connecting and closing cost it (client.c)
 *   p99_ns                the client's 99th percentile latency
 * The client usually saturates a small machine before the server does, so
 * server_cpu_ns_per_op is the number that tells servers apart: the table's
 * "ringo vs go" column and `compare` go by it for these rows (report.c,
 * compare.c).
 */
#ifndef RINGO_BENCH_NET_H
#define RINGO_BENCH_NET_H

#include "bench.h"

#define BENCH_NET_BASELINES 2 /* at most, per server benchmark */

enum bench_client {
	BENCH_CLIENT_ECHO,  /* ringo-loadgen (bench/loadgen.c), 64-byte messages */
	BENCH_CLIENT_WRK,   /* wrk: HTTP GET / with keep-alive */
	BENCH_CLIENT_REDIS, /* redis-benchmark */
};

struct bench_net {
	enum bench_client client;
	/* The ringo server: build/examples/<example> --mode M <example_args>;
	 * it prints "listening on ADDR" first. */
	const char *example;
	const char *example_args[3];
	/* Baselines besides the Go twin: "nginx", "redis" (the row's impl),
	 * "loop" (ringo-echo-loop: a row in each mode ringo runs in);
	 * NULL-terminated unless all BENCH_NET_BASELINES are set. */
	const char *baselines[BENCH_NET_BASELINES];
	/* BENCH_CLIENT_REDIS: the test (redis-benchmark -t), requests per
	 * repetition, and requests per pipeline (-P). */
	const char *redis_test;
	long requests_quick, requests_full;
	int pipeline;
};

/* Start the server of row r of server benchmark b (r->impl and r->mode
 * say which; p->n connections), run the client's warm-up and one measured
 * repetition into *s, stop the server. Fills r->setup, and r->skipped or
 * r->failed if it could not run or failed. gobench is the Go twin's path
 * ("" = none). ringo-bench calls it once per round for each row of a
 * point (bench/main.c). */
void bench_run_net(const struct bench *b, const struct bench_plan *p,
		   const char *gobench, struct bench_result *r,
		   struct bench_sample *s);

#endif
