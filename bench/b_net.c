/*
 * bench/b_net.c - the server benchmarks: echo, http, resp-*. What a row
 * measures is in net.h; how the servers and clients are run, in net.c
 * and client.c.
 */
#include "net.h"

/* echo: examples/echo (one goroutine per connection) against Go's
 * goroutine-per-connection net server, under ringo-loadgen: N connections
 * each with one 64-byte message in flight. */
static const struct bench_net echo_net = {
	.client = BENCH_CLIENT_ECHO,
	.example = "echo",
	.example_args = { "0" },
	.setups_quick = BENCH_SETUP_ONE,
	.setups_full = BENCH_SETUP_ONE | BENCH_SETUP_ALL,
	.conns_quick = { 10, 1000, 10000 },
	.conns_full = { 10, 100, 1000, 3000, 10000 },
};

const struct bench bench_echo = {
	.name = "echo",
	.desc = "echo server, 64-byte messages, n = connections "
		"(ringo-loadgen; baseline Go net)",
	.per_mode = true,
	.go_name = "echo-server",
	.net = &echo_net,
};

/* http: examples/http's "GET /" (a 6-byte body) against Go's net/http
 * and nginx with one worker returning the same body, under wrk with
 * keep-alive. */
static const struct bench_net http_net = {
	.client = BENCH_CLIENT_WRK,
	.example = "http",
	.example_args = { "0" },
	.nginx = true,
	.setups_quick = BENCH_SETUP_ONE | BENCH_SETUP_ALL,
	.setups_full = BENCH_SETUP_ONE | BENCH_SETUP_ALL,
	.conns_quick = { 100, 1000 },
	.conns_full = { 10, 100, 1000, 10000 },
};

const struct bench bench_http = {
	.name = "http",
	.desc = "HTTP/1.1 GET of a small body, n = connections "
		"(wrk; baselines Go net/http, nginx with 1 worker)",
	.per_mode = true,
	.go_name = "http-server",
	.net = &http_net,
};

/* resp-*: examples/resp against redis-server, under redis-benchmark with
 * its default 50 connections, one request at a time or 16 pipelined. */
#define RESP(test_, pipeline_, quick_, full_)                      \
	{                                                          \
		.client = BENCH_CLIENT_REDIS,                      \
		.example = "resp",                                 \
		.example_args = { "--addr", "127.0.0.1:0" },       \
		.redis = true,                                     \
		.setups_quick = BENCH_SETUP_ONE,                   \
		.setups_full = BENCH_SETUP_ONE,                    \
		.conns_quick = { 50 },                             \
		.conns_full = { 50 },                              \
		.redis_test = test_,                               \
		.requests_quick = quick_,                          \
		.requests_full = full_,                            \
		.pipeline = pipeline_,                             \
	}

static const struct bench_net resp_get_net = RESP("get", 1, 30000, 200000);
static const struct bench_net resp_set_net = RESP("set", 1, 30000, 200000);
static const struct bench_net resp_get_p16_net = RESP("get", 16, 240000, 1600000);
static const struct bench_net resp_set_p16_net = RESP("set", 16, 240000, 1600000);

const struct bench bench_resp_get = {
	.name = "resp-get",
	.desc = "RESP GET, one at a time (redis-benchmark; baseline redis-server)",
	.per_mode = true,
	.net = &resp_get_net,
};

const struct bench bench_resp_set = {
	.name = "resp-set",
	.desc = "RESP SET, one at a time (redis-benchmark; baseline redis-server)",
	.per_mode = true,
	.net = &resp_set_net,
};

const struct bench bench_resp_get_p16 = {
	.name = "resp-get-p16",
	.desc = "RESP GET, 16 pipelined (redis-benchmark -P 16; baseline redis-server)",
	.per_mode = true,
	.net = &resp_get_p16_net,
};

const struct bench bench_resp_set_p16 = {
	.name = "resp-set-p16",
	.desc = "RESP SET, 16 pipelined (redis-benchmark -P 16; baseline redis-server)",
	.per_mode = true,
	.net = &resp_set_p16_net,
};
