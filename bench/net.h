/*
 * bench/net.h - server benchmarks: a server process under a load
 * generator, instead of a run function inside ringo-bench's own child.
 *
 * A `struct bench` with `net` set is one of these. Each of its rows is
 * one server (ringo's example in uring and in epoll mode, the Go twin
 * `gobench <go_name>`, nginx, redis-server) at one number of client
 * connections (the row's n) and one setup (the row's procs). A row's
 * repetitions each give
 *   ops_per_s             requests (round trips) per second, as the client saw
 *   ns_per_op             1e9 / ops_per_s, so compare and the ratio column work
 *   server_cpu_ns_per_op  CPU time of the server process (all threads,
 *                         user + system) over the requests it served
 *   p99_ns                the client's 99th percentile latency
 * The client usually saturates a small machine before the server does, so
 * server_cpu_ns_per_op is the number that tells servers apart.
 */
#ifndef RINGO_BENCH_NET_H
#define RINGO_BENCH_NET_H

#include <stdbool.h>

#include "bench.h"

enum bench_client {
	BENCH_CLIENT_ECHO,  /* ringo-loadgen (bench/loadgen.c), 64-byte messages */
	BENCH_CLIENT_WRK,   /* wrk: HTTP GET / with keep-alive */
	BENCH_CLIENT_REDIS, /* redis-benchmark */
};

/* Setups, as bits of bench_net.setups_*:
 * ONE: the server on 1 P (GOMAXPROCS 1, one nginx worker) pinned to the
 *      first CPU, the client pinned to the others;
 * ALL: the server with a P per CPU, nothing pinned (the default a user
 *      gets; on a small machine server and client then share cores). */
enum {
	BENCH_SETUP_ONE = 1u << 0,
	BENCH_SETUP_ALL = 1u << 1,
};

#define BENCH_NET_POINTS 8
/* Rows of one server benchmark at most: 2 setups x points x 5 servers. */
#define BENCH_NET_ROWS_MAX (2 * BENCH_NET_POINTS * 5)

struct bench_net {
	enum bench_client client;
	/* The ringo server: build/examples/<example> --mode M <example_args>;
	 * it prints "listening on ADDR" first. */
	const char *example;
	const char *example_args[3];
	bool nginx, redis;                  /* baselines besides the Go twin */
	unsigned setups_quick, setups_full;
	long conns_quick[BENCH_NET_POINTS]; /* client connections, 0-terminated */
	long conns_full[BENCH_NET_POINTS];
	/* BENCH_CLIENT_REDIS: the test (redis-benchmark -t), requests per
	 * repetition, and requests per pipeline (-P). */
	const char *redis_test;
	long requests_quick, requests_full;
	int pipeline;
};

struct bench_net_opts {
	bool quick;
	bool uring, epoll; /* ringo rows to run */
	int uring_err;     /* 0, or why io_uring is unavailable (-errno) */
	int reps;
	const char *gobench;
	/* Called with each row as it is finished. */
	void (*progress)(const struct bench_result *r);
};

/* Run b's rows into rs (room for cap). Returns how many were added. */
int bench_run_net(const struct bench *b, const struct bench_net_opts *o,
		  struct bench_result *rs, int cap);

#endif
