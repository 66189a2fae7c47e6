/*
 * bench/client.h - the load generators of the server benchmarks: run one
 * against a started server and turn its output into samples.
 */
#ifndef RINGO_BENCH_CLIENT_H
#define RINGO_BENCH_CLIENT_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#include "bench.h"
#include "net.h"
#include "server.h"

struct client_plan {
	const struct bench_net *net;
	const struct server *server; /* listening on 127.0.0.1:server->port */
	long conns;
	int threads;                 /* client threads */
	const cpu_set_t *cpus;       /* client affinity, or NULL */
	bool quick;                  /* shorter warm-up and measurement */
	int timeout_s;               /* per client process (bench_plan's) */
	const char *tool;            /* the client program's path */
};

/* Warm up, then measure one repetition into out (ops_per_s, ns_per_op,
 * server_cpu_ns_per_op, p99_ns). Returns 0, or -1 with why. */
int client_run(const struct client_plan *p, struct bench_sample *out, char *why,
	       size_t why_len);

#endif
