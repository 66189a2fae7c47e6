/*
 * examples/echo.c - a TCP echo server with one goroutine per connection,
 * the way a Go server is written: accept in a loop, hand each connection
 * to its own goroutine, which reads and writes back until the client
 * closes.
 *
 *   echo [--mode uring|epoll] [--addr HOST:PORT] [port]
 *
 * Listens on every local address (IPv4 and IPv6) at port 7777 unless
 * told otherwise (--addr 127.0.0.1:0: loopback only, a free port; a bare
 * port keeps the host) and prints "listening on ADDR". The mode
 * picks the netpoller (default: RINGO_NETPOLL, else uring). Try it with
 *   ./echo 7777 &  nc localhost 7777
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringo/ringo.h>

#include "server.h"

static void serve(void *arg)
{
	ringo_conn *c = arg;
	char buf[16384];
	ssize_t n;

	while ((n = ringo_conn_read(c, buf, sizeof(buf))) > 0)
		if (ringo_conn_write_all(c, buf, (size_t)n) != n)
			break;
	/* n == 0: the client closed; < 0 (or a short write): reset or the
	 * like. Either way. */
	ringo_conn_close(c);
}

static void start(ringo_conn *c)
{
	ringo_go(serve, c);
}

static int main_g(void *arg)
{
	return example_serve("echo", arg, start);
}

int main(int argc, char **argv)
{
	struct ringo_config cfg = { 0 };
	const char *address = ":7777", *port = NULL;
	char buf[RINGO_ADDR_STRLEN + 8];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			cfg.netpoll = argv[++i];
		} else if (strcmp(argv[i], "--addr") == 0 && i + 1 < argc &&
			   strlen(argv[i + 1]) < RINGO_ADDR_STRLEN) {
			address = argv[++i];
		} else if (argv[i][0] != '-' && strlen(argv[i]) < 8 &&
			   !argv[i][strspn(argv[i], "0123456789")]) {
			port = argv[i];
		} else {
			fprintf(stderr, "usage: %s [--mode uring|epoll] "
				"[--addr HOST:PORT] [port]\n", argv[0]);
			return 2;
		}
	}
	example_address(buf, sizeof(buf), address, port);
	return ringo_run_config(&cfg, main_g, buf);
}
