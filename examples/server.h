/*
 * examples/server.h - the accept loop the example servers (echo, http,
 * resp) share, written as a Go server's would be: accept, hand the
 * connection to a goroutine of its own, accept again.
 */
#ifndef RINGO_EXAMPLES_SERVER_H
#define RINGO_EXAMPLES_SERVER_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <ringo/ringo.h>

/* Write v in decimal so that it ends just before `end`, which must have
 * 20 bytes of room before it; returns where it starts. The servers build
 * their replies by hand: snprintf was a visible share of a request's
 * CPU. */
static inline char *example_format_ll(char *end, long long v)
{
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v
				     : (unsigned long long)v;

	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--end = '-';
	return end;
}

/* The address to listen on, into buf: `address` (HOST:PORT, as --addr
 * gives it) with its port replaced by `port` (a bare port argument) if
 * that is not NULL. */
static inline void example_address(char *buf, size_t cap, const char *address,
				   const char *port)
{
	const char *colon = strrchr(address, ':');
	int host = colon ? (int)(colon - address) : (int)strlen(address);

	if (port)
		snprintf(buf, cap, "%.*s:%s", host, address, port);
	else
		snprintf(buf, cap, "%s", address);
}

/* Does accept's -err concern only the connection it was taking, or a
 * shortage that passes, so that a later accept may well succeed? Linux
 * passes on errors of the new socket (accept(2), "Error handling"):
 * aborted before it was taken, its network failed, a firewall refused
 * it (Go retries ECONNABORTED); out of descriptors or memory (EMFILE,
 * ENFILE, ENOMEM, ENOBUFS) the connection stays queued until some are
 * freed; EINTR, a signal, is no error of the listener either. */
static inline bool example_accept_transient(int err)
{
	switch (-err) {
	case ECONNABORTED: case EPROTO: case ENOPROTOOPT: case EHOSTDOWN:
	case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
	case ENETDOWN: case EPERM: case EINTR:
	case EMFILE: case ENFILE: case ENOMEM: case ENOBUFS:
		return true;
	default:
		return false;
	}
}

/* Listen on `address`, print "listening on ADDR" on stdout (the tests and
 * ringo-bench read the port from it), and give every accepted connection
 * to start(c), which starts the goroutine that serves it. After an
 * error that may pass (example_accept_transient) the loop says so on
 * stderr and accepts again after a pause that doubles from 5 ms to 1 s
 * while the errors go on, as Go's net/http server does: an error that
 * lasts (EPERM from a security policy) must not spin a CPU.
 * Returns 1 once listen or accept fails otherwise (EBADF, EINVAL, or
 * ECANCELED after the listener closed), saying so on stderr after
 * `prog`. */
static inline int example_serve(const char *prog, const char *address,
				void (*start)(ringo_conn *c))
{
	ringo_listener *l;
	struct ringo_addr a;
	char name[RINGO_ADDR_STRLEN];

	int err = ringo_net_listen("tcp", address, &l);
	if (err) {
		fprintf(stderr, "%s: listen %s: %s\n", prog, address, strerror(-err));
		return 1;
	}
	ringo_listener_addr(l, &a);
	ringo_addr_format(&a, name, sizeof(name));
	printf("listening on %s\n", name);
	fflush(stdout);

	int64_t pause = 0;
	for (;;) {
		ringo_conn *c;
		err = ringo_net_accept(l, &c);
		if (example_accept_transient(err)) {
			pause = pause ? pause * 2 : 5 * RINGO_MILLISECOND;
			if (pause > RINGO_SECOND)
				pause = RINGO_SECOND;
			fprintf(stderr, "%s: accept: %s; again in %lld ms\n", prog,
				strerror(-err), (long long)(pause / RINGO_MILLISECOND));
			ringo_sleep(pause);
			continue;
		}
		pause = 0;
		if (err) {
			fprintf(stderr, "%s: accept: %s\n", prog, strerror(-err));
			break;
		}
		start(c);
	}
	ringo_listener_close(l);
	return 1;
}

#endif
