/*
 * io/addr.h - network names and "host:port" parsing shared by io/addr.c
 * and io/net.c. Not installed.
 */
#ifndef RINGO_IO_ADDR_H
#define RINGO_IO_ADDR_H

#include <stdbool.h>

#include <ringo/net.h>

/* What a network name ("tcp6", "unixgram", ...) means. */
struct ringo__net {
	int type;     /* SOCK_STREAM or SOCK_DGRAM */
	int family;   /* AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC ("tcp") */
};

/* 0 or -EINVAL for an unknown network. */
int ringo__net_parse(const char *network, struct ringo__net *n);

/* Parse address for network n. passive: for listening, so an empty host
 * is the wildcard (:: for "tcp"/"udp", which also accepts IPv4); else an
 * empty host is the loopback address. 0 or -EINVAL. */
int ringo__addr_resolve(const struct ringo__net *n, const char *address,
			bool passive, struct ringo_addr *out);

#endif
