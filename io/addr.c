/*
 * io/addr.c - socket addresses: network names, "host:port" parsing and
 * formatting (IPv4, bracketed IPv6 with an optional zone, Unix paths and
 * abstract names). Literals only: no name service is consulted, since
 * getaddrinfo would block the M (and wants far more stack than a
 * goroutine has).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

int ringo__net_parse(const char *network, struct ringo__net *n)
{
	static const struct {
		const char *name;
		int type, family;
	} nets[] = {
		{ "tcp", SOCK_STREAM, AF_UNSPEC },
		{ "tcp4", SOCK_STREAM, AF_INET },
		{ "tcp6", SOCK_STREAM, AF_INET6 },
		{ "udp", SOCK_DGRAM, AF_UNSPEC },
		{ "udp4", SOCK_DGRAM, AF_INET },
		{ "udp6", SOCK_DGRAM, AF_INET6 },
		{ "unix", SOCK_STREAM, AF_UNIX },
		{ "unixgram", SOCK_DGRAM, AF_UNIX },
	};

	if (!network)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		if (strcmp(network, nets[i].name) == 0) {
			n->type = nets[i].type;
			n->family = nets[i].family;
			return 0;
		}
	}
	return -EINVAL;
}

static int unix_resolve(const char *path, struct ringo_addr *out)
{
	size_t len = strlen(path);

	/* A path needs room for its NUL; an abstract name ('@' becomes the
	 * leading NUL, none ends it) may fill sun_path, as in Go. */
	if (len == 0 || len > sizeof(out->un.sun_path) ||
	    (len == sizeof(out->un.sun_path) && path[0] != '@'))
		return -EINVAL;
	out->un.sun_family = AF_UNIX;
	memcpy(out->un.sun_path, path, len);
	if (path[0] == '@') { /* abstract: a NUL first, no NUL after */
		out->un.sun_path[0] = 0;
		out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				       len);
	} else {
		out->un.sun_path[len] = 0;
		out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				       len + 1);
	}
	return 0;
}

static int port_parse(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

static void set_v4(struct ringo_addr *out, uint32_t ip, uint16_t port)
{
	out->in4.sin_family = AF_INET;
	out->in4.sin_port = htons(port);
	out->in4.sin_addr.s_addr = ip;
	out->len = sizeof(out->in4);
}

static void set_v6(struct ringo_addr *out, const struct in6_addr *ip,
		   uint16_t port, uint32_t scope)
{
	out->in6.sin6_family = AF_INET6;
	out->in6.sin6_port = htons(port);
	out->in6.sin6_addr = *ip;
	out->in6.sin6_scope_id = scope;
	out->len = sizeof(out->in6);
}

/* An IPv6 zone: an interface index (decimal digits that fit 32 bits)
 * or an interface name. 0 or -EINVAL. */
static int zone_parse(const char *zone, uint32_t *scope)
{
	uint64_t v = 0;
	const char *p;

	for (p = zone; *p >= '0' && *p <= '9' && v <= UINT32_MAX; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (p != zone && !*p && v <= UINT32_MAX) {
		*scope = (uint32_t)v;
		return 0;
	}
	*scope = if_nametoindex(zone);
	return *scope ? 0 : -EINVAL;
}

/* host is a NUL-terminated copy without brackets. */
static int ip_resolve(int family, char *host, uint16_t port, bool passive,
		      struct ringo_addr *out)
{
	struct in_addr a4;
	struct in6_addr a6;

	/* Host names are case-insensitive (RFC 4343), as in Go. */
	if (!*host || strcasecmp(host, "localhost") == 0) {
		bool any = !*host && passive;
		if (family == AF_INET6 || (family == AF_UNSPEC && any)) {
			set_v6(out, any ? &in6addr_any : &in6addr_loopback,
			       port, 0);
			return 0;
		}
		set_v4(out, htonl(any ? INADDR_ANY : INADDR_LOOPBACK), port);
		return 0;
	}
	if (inet_pton(AF_INET, host, &a4) == 1) {
		if (family == AF_INET6)
			return -EINVAL;
		set_v4(out, a4.s_addr, port);
		return 0;
	}
	if (family == AF_INET)
		return -EINVAL;
	uint32_t scope = 0;
	char *zone = strchr(host, '%');
	if (zone) {
		*zone++ = 0;
		if (zone_parse(zone, &scope))
			return -EINVAL;
	}
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return -EINVAL;
	set_v6(out, &a6, port, scope);
	return 0;
}

int ringo__addr_resolve(const struct ringo__net *n, const char *address,
			bool passive, struct ringo_addr *out)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];

	memset(out, 0, sizeof(*out));
	if (!address)
		return -EINVAL;
	if (n->family == AF_UNIX)
		return unix_resolve(address, out);
	const char *colon = strrchr(address, ':');
	if (!colon)
		return -EINVAL;
	const char *h = address, *hend = colon;
	if (*h == '[') {
		if (hend == h || hend[-1] != ']')
			return -EINVAL;
		h++;
		hend--;
	} else if (memchr(h, ':', (size_t)(hend - h))) {
		return -EINVAL; /* an IPv6 literal needs brackets */
	}
	if ((size_t)(hend - h) >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = 0;
	uint16_t port;
	int err = port_parse(colon + 1, &port);
	if (err)
		return err;
	return ip_resolve(n->family, host, port, passive, out);
}

int ringo_addr_parse(const char *network, const char *address,
		     struct ringo_addr *out)
{
	struct ringo__net n;
	int err = ringo__net_parse(network, &n);

	if (err)
		return err;
	return ringo__addr_resolve(&n, address, true, out);
}

int ringo_addr_format(const struct ringo_addr *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	switch (a->sa.sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &a->in4.sin_addr, ip, sizeof(ip));
		n = snprintf(buf, size, "%s:%u", ip, ntohs(a->in4.sin_port));
		break;
	case AF_INET6: {
		char zone[IF_NAMESIZE + 2] = "";
		inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip));
		if (a->in6.sin6_scope_id) {
			char name[IF_NAMESIZE];
			if (if_indextoname(a->in6.sin6_scope_id, name))
				snprintf(zone, sizeof(zone), "%%%s", name);
			else
				snprintf(zone, sizeof(zone), "%%%u",
					 a->in6.sin6_scope_id);
		}
		n = snprintf(buf, size, "[%s%s]:%u", ip, zone,
			     ntohs(a->in6.sin6_port));
		break;
	}
	case AF_UNIX: {
		size_t off = offsetof(struct sockaddr_un, sun_path);
		size_t len = a->len > off ? a->len - off : 0;
		const char *p = a->un.sun_path;
		if (len && p[0] == 0) /* abstract */
			n = snprintf(buf, size, "@%.*s", (int)(len - 1), p + 1);
		else
			n = snprintf(buf, size, "%.*s", (int)strnlen(p, len), p);
		break;
	}
	default:
		return -EAFNOSUPPORT;
	}
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}
