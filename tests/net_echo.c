/*
 * tests/net_echo.c - round trips through an echo server over TCP (IPv4
 * and IPv6, and which wildcard listeners take IPv4), Unix (path and
 * abstract, up to sun_path's size) sockets; address parsing (with the
 * edges of ports, zones and paths) and formatting; TCP_NODELAY on
 * dialed and accepted connections; errors for bad networks, addresses
 * and refused dials.
 */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ringo/fs.h>

#include "net_helpers.h"

static int round_trips(const char *network, const char *address)
{
	ringo_conn *c;
	char msg[64], back[64];

	ASSERT_EQ(ringo_net_dial(network, address, &c), 0);
	for (int i = 0; i < 100; i++) {
		int n = snprintf(msg, sizeof(msg), "hello %d via %s", i, network);
		ASSERT_EQ(ringo_conn_write_all(c, msg, (size_t)n), n);
		ASSERT_EQ(ringo_conn_read_full(c, back, (size_t)n), n);
		ASSERT(memcmp(msg, back, (size_t)n) == 0);
	}
	/* Shut our side: the server sees EOF, closes, we see EOF. */
	ASSERT_EQ(ringo_conn_shutdown(c, SHUT_WR), 0);
	ASSERT_EQ(ringo_conn_read(c, back, sizeof(back)), 0);
	ASSERT_EQ(ringo_conn_close(c), 0);
	return 0;
}

static int echo_over(const char *network, const char *address)
{
	struct echo_server s;

	ASSERT_EQ(echo_start(&s, network, address), 0);
	if (round_trips(network, s.addr_str)) {
		fprintf(stderr, "  %s %s\n", network, s.addr_str);
		return 1;
	}
	ASSERT_EQ(echo_stop(&s), 0);
	ASSERT_EQ(s.accepted, 1);
	return 0;
}

static int test_tcp4(void)
{
	return echo_over("tcp", "127.0.0.1:0");
}

static int test_tcp6(void)
{
	struct echo_server s;

	ASSERT_EQ(echo_start(&s, "tcp6", "[::1]:0"), 0);
	ASSERT(strncmp(s.addr_str, "[::1]:", 6) == 0);
	ASSERT_EQ(round_trips("tcp6", s.addr_str), 0);
	ASSERT_EQ(echo_stop(&s), 0);
	return 0;
}

/* A "tcp" listener without a host takes IPv4 and IPv6 dials. */
static int test_dual_stack(void)
{
	struct echo_server s;
	char a[64];

	ASSERT_EQ(echo_start(&s, "tcp", ":0"), 0);
	uint16_t port = ntohs(s.addr.sa.sa_family == AF_INET6
				      ? s.addr.in6.sin6_port
				      : s.addr.in4.sin_port);
	snprintf(a, sizeof(a), "127.0.0.1:%u", port);
	ASSERT_EQ(round_trips("tcp4", a), 0);
	if (s.addr.sa.sa_family == AF_INET6) {
		snprintf(a, sizeof(a), "[::1]:%u", port);
		ASSERT_EQ(round_trips("tcp6", a), 0);
	}
	snprintf(a, sizeof(a), "localhost:%u", port);
	ASSERT_EQ(round_trips("tcp", a), 0);
	ASSERT_EQ(echo_stop(&s), 0);
	return 0;
}

/* A dial over IPv4 to l's port: 0 once l accepted it, or the dial's
 * error. */
static int dial4(ringo_listener *l)
{
	struct ringo_addr a;
	ringo_conn *c, *peer;
	char s[64];

	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	ASSERT_EQ(a.sa.sa_family, AF_INET6);
	snprintf(s, sizeof(s), "127.0.0.1:%u", ntohs(a.in6.sin6_port));
	int err = ringo_net_dial("tcp4", s, &c);
	if (err)
		return err;
	ASSERT_EQ(ringo_net_accept(l, &peer), 0);
	ASSERT_EQ(ringo_conn_close(peer), 0);
	ASSERT_EQ(ringo_conn_close(c), 0);
	return 0;
}

/* The IPv6 wildcard, as in Go: "tcp" and the sockaddr forms take IPv4
 * too, "tcp6" only IPv6; a "udp" socket without a host gets IPv4
 * datagrams. */
static int test_wildcards(void)
{
	ringo_listener *l;
	ringo_conn *u, *v;
	struct ringo_addr a;
	char s[64], buf[8];

	ASSERT_EQ(ringo_net_listen("tcp", "[::]:0", &l), 0);
	ASSERT_EQ(dial4(l), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	/* The port is held on 127.0.0.1 meanwhile (bound, not listening),
	 * so that no other process's listener answers in l's place; if one
	 * has it already, there is nothing to check. */
	ASSERT_EQ(ringo_net_listen("tcp6", "[::]:0", &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	struct sockaddr_in in4 = {
		.sin_family = AF_INET, .sin_port = a.in6.sin6_port,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int held = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT(held >= 0);
	if (bind(held, (struct sockaddr *)&in4, sizeof(in4)) == 0)
		EXPECT_ERR(dial4(l), -ECONNREFUSED);
	else
		ASSERT_EQ(errno, EADDRINUSE);
	ASSERT_EQ(close(held), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ASSERT_EQ(ringo_addr_parse("tcp6", "[::]:0", &a), 0);
	ASSERT_EQ(ringo_net_listen_addr(&a, &l), 0);
	ASSERT_EQ(dial4(l), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);

	ASSERT_EQ(ringo_net_listen_packet("udp", ":0", &u), 0);
	ASSERT_EQ(ringo_conn_local_addr(u, &a), 0);
	ASSERT_EQ(a.sa.sa_family, AF_INET6);
	snprintf(s, sizeof(s), "127.0.0.1:%u", ntohs(a.in6.sin6_port));
	ASSERT_EQ(ringo_net_dial("udp4", s, &v), 0);
	ASSERT_EQ(ringo_conn_write(v, "v4", 2), 2);
	ASSERT_EQ(ringo_conn_read(u, buf, sizeof(buf)), 2);
	ASSERT_EQ(ringo_conn_close(v), 0);
	ASSERT_EQ(ringo_conn_close(u), 0);
	return 0;
}

static int test_unix(void)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/tmp/ringo-net-echo-%d.sock", getpid());
	unlink(path);
	ASSERT_EQ(echo_over("unix", path), 0);
	/* Closing the listener removed its socket file. */
	EXPECT_ERR(ringo_fs_stat(path, &st), -ENOENT);
	snprintf(path, sizeof(path), "@ringo-net-echo-%d", getpid());
	ASSERT_EQ(echo_over("unix", path), 0);
	/* An abstract name as long as sun_path allows, its '@' included. */
	struct sockaddr_un un;
	char name[sizeof(un.sun_path) + 1];
	int n = snprintf(name, sizeof(name), "@ringo-net-echo-%d-", getpid());
	memset(name + n, 'n', sizeof(name) - 1 - (size_t)n);
	name[sizeof(name) - 1] = 0;
	ASSERT_EQ(echo_over("unix", name), 0);
	return 0;
}

/* Ports at their bounds, hosts and ports with something missing or
 * extra, IPv6 zones that are not an index or a name, and Unix paths
 * around sun_path's size. */
static int test_addr_edges(void)
{
	static const char *const bad[] = {
		"1.2.3.4:", "[::1]", "[::1]:", ":", "", "1.2.3.4:80x",
		"1.2.3.4:+80", "1.2.3.4:-1", "1.2.3.4 :80", " 1.2.3.4:80",
		"x1.2.3.4:80", "[::1]:80]", "[[::1]]:80", "1.2.3.4%1:80",
		"[fe80::1%]:80", "[fe80::1% 1]:80", "[fe80::1%-1]:80",
		"[fe80::1%+1]:80", "[fe80::1%4294967297]:80",
		"[fe80::1%no-such-if0]:80",
	};
	struct ringo_addr a;
	char path[sizeof(a.un.sun_path) + 2], buf[RINGO_ADDR_STRLEN];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ringo_addr_parse("tcp", bad[i], &a) != -EINVAL)
			TEST_FAIL("\"%s\" parsed", bad[i]);
	EXPECT_ERR(ringo_addr_parse("tcp", NULL, &a), -EINVAL);
	EXPECT_ERR(ringo_addr_parse(NULL, "1.2.3.4:80", &a), -EINVAL);
	ASSERT_EQ(ringo_addr_parse("tcp", "1.2.3.4:0", &a), 0);
	ASSERT_EQ(a.in4.sin_port, 0);
	ASSERT_EQ(ringo_addr_parse("tcp", "1.2.3.4:00080", &a), 0);
	ASSERT_EQ(ntohs(a.in4.sin_port), 80);
	ASSERT_EQ(ringo_addr_parse("tcp6", "[fe80::1%4294967295]:80", &a), 0);
	ASSERT_EQ(a.in6.sin6_scope_id, 4294967295u);
	ASSERT_EQ(ringo_addr_parse("tcp", "localhost:80", &a), 0);
	ASSERT_EQ(a.in4.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	memset(&a, 0, sizeof(a));
	ASSERT_EQ(ringo_addr_parse("tcp", "LocalHost:80", &a), 0);
	ASSERT_EQ(a.in4.sin_addr.s_addr, htonl(INADDR_LOOPBACK));

	/* A path and its NUL fill sun_path at most; an abstract name has
	 * no NUL, so "@" and 107 characters fit. */
	size_t max = sizeof(a.un.sun_path);
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[max - 1] = 0;
	ASSERT_EQ(ringo_addr_parse("unix", path, &a), 0);
	path[max - 1] = 'p';
	path[max] = 0;
	EXPECT_ERR(ringo_addr_parse("unix", path, &a), -EINVAL);
	path[0] = '@';
	ASSERT_EQ(ringo_addr_parse("unix", path, &a), 0);
	ASSERT_EQ(ringo_addr_format(&a, buf, sizeof(buf)), max);
	ASSERT(strcmp(buf, path) == 0);
	path[max] = 'p';
	path[max + 1] = 0;
	EXPECT_ERR(ringo_addr_parse("unix", path, &a), -EINVAL);
	return 0;
}

static int test_addr(void)
{
	struct ringo_addr a;
	char buf[RINGO_ADDR_STRLEN];

	ASSERT_EQ(ringo_addr_parse("tcp", "1.2.3.4:80", &a), 0);
	ASSERT_EQ(a.sa.sa_family, AF_INET);
	ASSERT_EQ(ringo_addr_format(&a, buf, sizeof(buf)), 10);
	ASSERT(strcmp(buf, "1.2.3.4:80") == 0);
	ASSERT_EQ(ringo_addr_parse("udp6", "[2001:db8::1]:65535", &a), 0);
	ASSERT_EQ(a.sa.sa_family, AF_INET6);
	ASSERT(ringo_addr_format(&a, buf, sizeof(buf)) > 0);
	ASSERT(strcmp(buf, "[2001:db8::1]:65535") == 0);
	ASSERT_EQ(ringo_addr_parse("tcp6", "[fe80::1%1]:22", &a), 0);
	ASSERT_EQ(a.in6.sin6_scope_id, 1);
	ASSERT_EQ(ringo_addr_parse("tcp4", ":8080", &a), 0);
	ASSERT_EQ(a.in4.sin_addr.s_addr, htonl(INADDR_ANY));
	ASSERT_EQ(ringo_addr_parse("tcp6", "localhost:1", &a), 0);
	ASSERT_EQ(a.sa.sa_family, AF_INET6);
	ASSERT_EQ(ringo_addr_parse("unix", "@abs", &a), 0);
	ASSERT_EQ(ringo_addr_format(&a, buf, sizeof(buf)), 4);
	ASSERT(strcmp(buf, "@abs") == 0);
	ASSERT_EQ(ringo_addr_format(&a, buf, 3), -ENOSPC);
	EXPECT_ERR(ringo_addr_parse("tcp4", "[::1]:80", &a), -EINVAL);
	EXPECT_ERR(ringo_addr_parse("tcp6", "1.2.3.4:80", &a), -EINVAL);
	EXPECT_ERR(ringo_addr_parse("tcp", "::1:80", &a), -EINVAL);
	EXPECT_ERR(ringo_addr_parse("tcp", "1.2.3.4", &a), -EINVAL);
	EXPECT_ERR(ringo_addr_parse("tcp", "1.2.3.4:65536", &a), -EINVAL);
	EXPECT_ERR(ringo_addr_parse("tcp", "1.2.3.4:http", &a), -EINVAL);
	EXPECT_ERR(ringo_addr_parse("tcp", "example.com:80", &a), -EINVAL);
	EXPECT_ERR(ringo_addr_parse("sctp", "1.2.3.4:80", &a), -EINVAL);
	EXPECT_ERR(ringo_addr_parse("unix", "", &a), -EINVAL);
	return test_addr_edges();
}

static int test_errors(void)
{
	ringo_conn *c;
	ringo_listener *l;
	struct ringo_addr a;

	ASSERT_EQ(ringo_net_listen("tcp4", "127.0.0.1:0", &l), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	EXPECT_ERR(ringo_listener_close(l), -EBADF);
	/* A port bound but not listening refuses, and stays ours: a port
	 * only closed could be taken by another test's listener, or be
	 * the dial's own source port (a TCP self-connect succeeds). */
	int held = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT(held >= 0);
	memset(&a, 0, sizeof(a));
	a.in4.sin_family = AF_INET;
	a.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.len = sizeof(a.in4);
	ASSERT_EQ(bind(held, &a.sa, a.len), 0);
	socklen_t alen = a.len;
	ASSERT_EQ(getsockname(held, &a.sa, &alen), 0);
	EXPECT_ERR(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &c), -ECONNREFUSED);
	ASSERT_EQ(close(held), 0);
	EXPECT_ERR(ringo_net_dial("tcp", "nonsense", &c), -EINVAL);
	EXPECT_ERR(ringo_net_listen("udp", "127.0.0.1:0", &l), -EINVAL);
	/* Two listeners on one port. */
	ASSERT_EQ(ringo_net_listen("tcp4", "127.0.0.1:0", &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	char s[RINGO_ADDR_STRLEN];
	ringo_listener *l2;
	ASSERT(ringo_addr_format(&a, s, sizeof(s)) > 0);
	EXPECT_ERR(ringo_net_listen("tcp4", s, &l2), -EADDRINUSE);
	/* Accept with a deadline that passes. */
	ASSERT_EQ(ringo_listener_set_deadline(l, ringo_now() + 20 * RINGO_MILLISECOND), 0);
	EXPECT_ERR(ringo_net_accept(l, &c), -ETIMEDOUT);
	EXPECT_ERR(ringo_net_accept(l, &c), -ETIMEDOUT);
	ASSERT_EQ(ringo_listener_close(l), 0);
	return 0;
}

/* The sockaddr forms of listen, and dial with a timeout by string: each
 * end's addresses are the other's. */
static int test_sockaddr_forms(void)
{
	struct ringo_addr want, la, a, b;
	ringo_listener *l;
	ringo_conn *c, *s, *u1, *u2;
	char str[RINGO_ADDR_STRLEN], buf[8];

	ASSERT_EQ(ringo_addr_parse("tcp", "127.0.0.1:0", &want), 0);
	ASSERT_EQ(ringo_net_listen_addr(&want, &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &la), 0);
	ASSERT(ringo_addr_format(&la, str, sizeof(str)) > 0);
	ASSERT_EQ(ringo_net_dial_dl("tcp", str, ringo_now() + RINGO_SECOND, &c),
		  0);
	ASSERT_EQ(ringo_net_accept(l, &s), 0);
	ASSERT_EQ(ringo_conn_remote_addr(c, &a), 0);
	ASSERT_EQ(a.len, la.len);
	ASSERT(memcmp(&a.sa, &la.sa, a.len) == 0);
	ASSERT_EQ(ringo_conn_local_addr(c, &a), 0);
	ASSERT_EQ(ringo_conn_remote_addr(s, &b), 0);
	ASSERT_EQ(a.len, b.len);
	ASSERT(memcmp(&a.sa, &b.sa, a.len) == 0);
	ASSERT_EQ(ringo_conn_write_all(c, "ping", 4), 4);
	ASSERT_EQ(ringo_conn_read_full(s, buf, 4), 4);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(ringo_conn_close(s), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);

	/* Datagrams, both ends bound by sockaddr. */
	ASSERT_EQ(ringo_addr_parse("udp", "127.0.0.1:0", &want), 0);
	ASSERT_EQ(ringo_net_listen_packet_addr(&want, &u1), 0);
	ASSERT_EQ(ringo_net_listen_packet_addr(&want, &u2), 0);
	ASSERT_EQ(ringo_conn_local_addr(u1, &a), 0);
	ASSERT_EQ(ringo_conn_sendto(u2, "dgram", 5, &a), 5);
	ASSERT_EQ(ringo_conn_recvfrom(u1, buf, sizeof(buf), &b), 5);
	ASSERT_EQ(ringo_conn_local_addr(u2, &a), 0);
	ASSERT_EQ(a.len, b.len);
	ASSERT(memcmp(&a.sa, &b.sa, a.len) == 0);
	ASSERT_EQ(ringo_conn_close(u1), 0);
	ASSERT_EQ(ringo_conn_close(u2), 0);

	struct ringo_addr none = { .len = 0 };
	EXPECT_ERR(ringo_net_listen_addr(&none, &l), -EINVAL);
	EXPECT_ERR(ringo_net_dial_addr(SOCK_STREAM, &none, 0, &c), -EINVAL);
	return 0;
}

/* Both ends of a TCP connection, dialed and accepted, have TCP_NODELAY
 * set, as net.h promises (Go's default). */
static int nodelay(ringo_conn *c)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(ringo_conn_fd(c), IPPROTO_TCP, TCP_NODELAY, &v,
		       &len) < 0)
		return -errno;
	return v;
}

static int test_nodelay(void)
{
	static const char *const addrs[][2] = {
		{ "tcp4", "127.0.0.1:0" }, { "tcp6", "[::1]:0" },
	};

	for (int i = 0; i < 2; i++) {
		ringo_listener *l;
		ringo_conn *c, *peer;
		struct ringo_addr a;
		ASSERT_EQ(ringo_net_listen(addrs[i][0], addrs[i][1], &l), 0);
		ASSERT_EQ(ringo_listener_addr(l, &a), 0);
		ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &c), 0);
		ASSERT_EQ(ringo_net_accept(l, &peer), 0);
		ASSERT_EQ(nodelay(c), 1);
		ASSERT_EQ(nodelay(peer), 1);
		ASSERT_EQ(ringo_conn_close(c), 0);
		ASSERT_EQ(ringo_conn_close(peer), 0);
		ASSERT_EQ(ringo_listener_close(l), 0);
	}
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_addr);
	RUN(test_sockaddr_forms);
	RUN(test_tcp4);
	RUN(test_tcp6);
	RUN(test_dual_stack);
	RUN(test_wildcards);
	RUN(test_unix);
	RUN(test_nodelay);
	RUN(test_errors);
	return 0;
}

int main(void)
{
	test_watchdog(60);
	return ringo_run(main_fn, NULL);
}
