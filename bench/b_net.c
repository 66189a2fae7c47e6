/*
 * bench/b_net.c - the server benchmarks: echo, http, resp-*. What a row
 * measures is in net.h; how the servers and clients are run, in net.c
 * and client.c. The -p1 variants (and resp-*) give the server one P on a
 * CPU of its own, the client the other CPUs: on a small machine that is
 * the comparison that means something; the others are the default a user
 * gets (a P per CPU, nothing pinned).
 */
#include "net.h"

#define SERVER_PLOTS                                                      \
	.plots = { BENCH_SERVER_CPU_NS_PER_OP, BENCH_OPS_PER_S, BENCH_P99_NS }, \
	.plots_nr = 3

/* echo: examples/echo (a goroutine per connection) against Go's
 * goroutine-per-connection net server, under ringo-loadgen: n connections
 * each with one 64-byte message in flight. The "loop" rows are the floor
 * under both: ringo-echo-loop, one thread and no runtime, on the ring and
 * on epoll (bench/echoloop.c). */
static const struct bench_net echo_net = {
	.client = BENCH_CLIENT_ECHO,
	.example = "echo",
	.example_args = { "--addr", "127.0.0.1:0" },
	.baselines = { "loop" },
};

const struct bench bench_echo_p1 = {
	.name = "echo-p1",
	.desc = "echo server on 1 P pinned apart from the client, 64-byte "
		"messages (ringo-loadgen; baselines Go net and a one-thread "
		"loop with no runtime)",
	.per_mode = true,
	.procs = 1,
	.go_name = "echo-server",
	.net = &echo_net,
	.axis = BENCH_AXIS_N,
	.points_quick = { 10, 1000, 10000 },
	.points_full = { 10, 100, 1000, 3000, 10000 },
	.x_label = "client connections",
	.op = "message",
	SERVER_PLOTS,
};

const struct bench bench_echo = {
	.name = "echo",
	.desc = "echo-p1 with a P per CPU, nothing pinned (--full only)",
	.per_mode = true,
	.go_name = "echo-server",
	.net = &echo_net,
	.axis = BENCH_AXIS_N,
	.points_full = { 10, 100, 1000, 3000, 10000 },
	.x_label = "client connections",
	.op = "message",
	SERVER_PLOTS,
};

/* http: examples/http's "GET /" (a 6-byte body) against Go's net/http
 * and nginx with one worker returning the same body, under wrk with
 * keep-alive. */
static const struct bench_net http_net = {
	.client = BENCH_CLIENT_WRK,
	.example = "http",
	.example_args = { "--addr", "127.0.0.1:0" },
};

static const struct bench_net http_p1_net = {
	.client = BENCH_CLIENT_WRK,
	.example = "http",
	.example_args = { "--addr", "127.0.0.1:0" },
	.baselines = { "nginx" },
};

const struct bench bench_http_p1 = {
	.name = "http-p1",
	.desc = "HTTP/1.1 GET of a small body, server on 1 P pinned apart from the "
		"client (wrk; baselines Go net/http, nginx with 1 worker)",
	.per_mode = true,
	.procs = 1,
	.go_name = "http-server",
	.net = &http_p1_net,
	.axis = BENCH_AXIS_N,
	.points_quick = { 100, 1000 },
	.points_full = { 10, 100, 1000, 10000 },
	.x_label = "client connections",
	.op = "request",
	SERVER_PLOTS,
};

const struct bench bench_http = {
	.name = "http",
	.desc = "http-p1 with a P per CPU, nothing pinned (baseline Go net/http)",
	.per_mode = true,
	.go_name = "http-server",
	.net = &http_net,
	.axis = BENCH_AXIS_N,
	.points_quick = { 100, 1000 },
	.points_full = { 10, 100, 1000, 10000 },
	.x_label = "client connections",
	.op = "request",
	SERVER_PLOTS,
};

/* resp-*: examples/resp against redis-server, under redis-benchmark with
 * its default 50 connections, one request at a time or 16 pipelined;
 * server on 1 P (redis-server is single-threaded) pinned apart from the
 * client. */
#define RESP_NET(test_, pipeline_, quick_, full_)                \
	{                                                        \
		.client = BENCH_CLIENT_REDIS,                    \
		.example = "resp",                               \
		.example_args = { "--addr", "127.0.0.1:0" },     \
		.baselines = { "redis" },                        \
		.redis_test = test_,                             \
		.requests_quick = quick_,                        \
		.requests_full = full_,                          \
		.pipeline = pipeline_,                           \
	}

static const struct bench_net resp_get_net = RESP_NET("get", 1, 30000, 200000);
static const struct bench_net resp_set_net = RESP_NET("set", 1, 30000, 200000);
static const struct bench_net resp_get_p16_net = RESP_NET("get", 16, 240000, 1600000);
static const struct bench_net resp_set_p16_net = RESP_NET("set", 16, 240000, 1600000);

#define RESP(name_, desc_, net_)            \
	{                                   \
		.name = name_,              \
		.desc = desc_,              \
		.per_mode = true,           \
		.procs = 1,                 \
		.n_quick = 50,              \
		.n_full = 50,               \
		.op = "request",            \
		.net = &net_,               \
	}

const struct bench bench_resp_get =
	RESP("resp-get", "RESP GET, one at a time, 50 connections (redis-benchmark; "
	     "baseline redis-server)", resp_get_net);
const struct bench bench_resp_set =
	RESP("resp-set", "RESP SET, one at a time, 50 connections (redis-benchmark; "
	     "baseline redis-server)", resp_set_net);
const struct bench bench_resp_get_p16 =
	RESP("resp-get-p16", "RESP GET, 16 pipelined (redis-benchmark -P 16; baseline "
	     "redis-server)", resp_get_p16_net);
const struct bench bench_resp_set_p16 =
	RESP("resp-set-p16", "RESP SET, 16 pipelined (redis-benchmark -P 16; baseline "
	     "redis-server)", resp_set_p16_net);
