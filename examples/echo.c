/*
 * examples/echo.c - a TCP echo server with one goroutine per connection,
 * the way a Go server is written: accept in a loop, hand each connection
 * to its own goroutine, which reads and writes back until the client
 * closes.
 *
 *   echo [--mode uring|epoll] [port]
 *
 * Listens on every local address (IPv4 and IPv6) at `port` (default
 * 7777; 0 picks a free one) and prints "listening on ADDR". The mode
 * picks the netpoller (default: RINGO_NETPOLL, else uring). Try it with
 *   ./echo 7777 &  nc localhost 7777
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringo/ringo.h>

static void serve(void *arg)
{
	ringo_conn *c = arg;
	char buf[16384];
	ssize_t n;

	while ((n = ringo_conn_read(c, buf, sizeof(buf))) > 0)
		if (ringo_conn_write_all(c, buf, (size_t)n) < 0)
			break;
	/* n == 0: the client closed; < 0: reset or the like. Either way. */
	ringo_conn_close(c);
}

static int main_g(void *arg)
{
	const char *address = arg;
	ringo_listener *l;
	struct ringo_addr a;
	char name[RINGO_ADDR_STRLEN];

	int err = ringo_net_listen("tcp", address, &l);
	if (err) {
		fprintf(stderr, "echo: listen %s: %s\n", address, strerror(-err));
		return 1;
	}
	ringo_listener_addr(l, &a);
	ringo_addr_format(&a, name, sizeof(name));
	printf("listening on %s\n", name);
	fflush(stdout);

	for (;;) {
		ringo_conn *c;
		err = ringo_net_accept(l, &c);
		if (err == -EMFILE || err == -ENFILE || err == -ENOMEM) {
			/* Out of descriptors: the connection stays queued;
			 * wait for some to be closed, as Go's servers do. */
			ringo_sleep(10 * RINGO_MILLISECOND);
			continue;
		}
		if (err) {
			fprintf(stderr, "echo: accept: %s\n", strerror(-err));
			break;
		}
		ringo_go(serve, c);
	}
	ringo_listener_close(l);
	return 1;
}

int main(int argc, char **argv)
{
	struct ringo_config cfg = { 0 };
	const char *port = "7777";
	char address[32];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			cfg.netpoll = argv[++i];
		} else if (argv[i][0] != '-' && !argv[i][strspn(argv[i], "0123456789")]) {
			port = argv[i];
		} else {
			fprintf(stderr, "usage: %s [--mode uring|epoll] [port]\n",
				argv[0]);
			return 2;
		}
	}
	snprintf(address, sizeof(address), ":%s", port);
	return ringo_run_config(&cfg, main_g, address);
}
