/*
 * io/net.c - the public socket API (ringo/net.h) over poll descriptors
 * and the netpoller's ops.
 *
 * A ringo_conn or ringo_listener is its poll descriptor's tag (io/pd.h):
 * no allocation per connection beyond the pd pool, and a handle used
 * after close fails with -EBADF instead of reaching a reused slot.
 * Each call takes the pd (a reference plus, for reads and writes, that
 * direction's turn), runs one backend op and gives it back; read_full and
 * write_all keep their turn for the whole loop, as Go's Write does.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include <ringo/net.h>

#include "addr.h"
#include "netpoll.h"
#include "pd.h"

/* Largest single read or write, as Go's maxRW: keeps counts in range. */
#define RW_MAX ((size_t)1 << 30)

/* The calls that take no handle check with ringo__must_m what
 * ringo__pd_acquire checks for the others: a goroutine with a P (not
 * outside ringo_run, not in a system-call section), else a panic naming
 * the call. */

/* A public call on a connection or a listener (io/pd.h). */
#define CONN_CALL(name) (&(const struct ringo__pd_call){ name, RINGO__PD_KINDS_CONN })
#define LISTENER_CALL(name) \
	(&(const struct ringo__pd_call){ name, RINGO__PD_KINDS_LISTENER })

/* A non-blocking socket of a's family, registered as a pd of `kind`.
 * setup (may be NULL) runs on the fd before registration. */
static int sock_new(int family, int type, enum ringo__pd_kind kind,
		    int (*setup)(int fd, void *arg), void *arg,
		    struct ringo__pd **out)
{
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int err = setup ? setup(fd, arg) : 0;
	if (err)
		goto err;
	if ((err = ringo__pd_open(fd, kind, family, out)))
		goto err;
	return 0;
err:
	close(fd);
	return err;
}

static void set_nodelay(int fd, int family)
{
	int one = 1;

	/* Go's default: small writes go out at once (no Nagle delay). */
	if (family == AF_INET || family == AF_INET6)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ------------------------------------------------------------ listen */

struct bind_args {
	const struct ringo_addr *a;
	int type;
	bool v6only;
};

static int bind_setup(int fd, void *arg)
{
	struct bind_args *b = arg;
	int one = 1, v6only = b->v6only;

	if (b->type == SOCK_STREAM && b->a->sa.sa_family != AF_UNIX &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if (b->a->sa.sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		       sizeof(v6only)) < 0)
		return -errno;
	if (bind(fd, &b->a->sa, b->a->len) < 0)
		return -errno;
	if (b->type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)
		return -errno;
	return 0;
}

/* Bind (and for streams listen) on a; v6only as IPV6_V6ONLY for an
 * IPv6 address. any_family: a wildcard IPv6 address may fall back to
 * IPv4's when the kernel has no IPv6 ("tcp", "udp" without a host). */
static int bound(const struct ringo_addr *addr, int type, bool v6only,
		 bool any_family, void **out)
{
	enum ringo__pd_kind kind = type == SOCK_STREAM ? RINGO__PD_LISTENER
						       : RINGO__PD_DGRAM;
	struct ringo_addr a = *addr;
	struct bind_args b = { .a = &a, .type = type, .v6only = v6only };
	struct ringo__pd *pd;

	if (a.len == 0 || a.len > sizeof(a.ss))
		return -EINVAL;
	int err = sock_new(a.sa.sa_family, type, kind, bind_setup, &b, &pd);
	if (err == -EAFNOSUPPORT && any_family && a.sa.sa_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&a.in6.sin6_addr)) {
		uint16_t port = a.in6.sin6_port;
		memset(&a, 0, sizeof(a));
		a.in4.sin_family = AF_INET;
		a.in4.sin_port = port;
		a.len = sizeof(a.in4);
		err = sock_new(AF_INET, type, kind, bind_setup, &b, &pd);
	}
	if (!err)
		*out = ringo__pd_handle(pd);
	return err;
}

/* bound() on network/address. */
static int bound_str(const char *network, const char *address, int want_type,
		     void **out)
{
	struct ringo__net n;
	struct ringo_addr a;
	int err;

	if ((err = ringo__net_parse(network, &n)) || n.type != want_type)
		return err ? err : -EINVAL;
	if ((err = ringo__addr_resolve(&n, address, true, &a)))
		return err;
	return bound(&a, n.type, n.family == AF_INET6, n.family == AF_UNSPEC,
		     out);
}

int ringo_net_listen(const char *network, const char *address,
		     ringo_listener **out)
{
	ringo__must_m("ringo_net_listen");
	return bound_str(network, address, SOCK_STREAM, (void **)out);
}

int ringo_net_listen_packet(const char *network, const char *address,
			    ringo_conn **out)
{
	ringo__must_m("ringo_net_listen_packet");
	return bound_str(network, address, SOCK_DGRAM, (void **)out);
}

int ringo_net_listen_addr(const struct ringo_addr *a, ringo_listener **out)
{
	ringo__must_m("ringo_net_listen_addr");
	return bound(a, SOCK_STREAM, false, false, (void **)out);
}

int ringo_net_listen_packet_addr(const struct ringo_addr *a, ringo_conn **out)
{
	ringo__must_m("ringo_net_listen_packet_addr");
	return bound(a, SOCK_DGRAM, false, false, (void **)out);
}

int ringo_net_accept(ringo_listener *l, ringo_conn **out)
{
	struct ringo__pd *pd, *cpd;

	int fd = ringo__pd_acquire(LISTENER_CALL("ringo_net_accept"), l,
				   RINGO__PD_READ, &pd);
	if (fd)
		return fd;
	int family = pd->family;
	fd = ringo__netpoll->accept(pd, NULL, NULL);
	ringo__pd_release(pd, RINGO__PD_READ);
	if (fd < 0)
		return fd;
	set_nodelay(fd, family);
	int err = ringo__pd_open(fd, RINGO__PD_STREAM, family, &cpd);
	if (err) {
		close(fd);
		return err;
	}
	*out = ringo__pd_handle(cpd);
	return 0;
}

int ringo_listener_set_deadline(ringo_listener *l, int64_t deadline)
{
	return ringo__pd_set_deadline(LISTENER_CALL("ringo_listener_set_deadline"),
				      l, RINGO__PD_READ, deadline);
}

static int sockname(const struct ringo__pd_call *call, const void *h,
		    struct ringo_addr *out, bool peer)
{
	struct ringo__pd *pd;
	int err = ringo__pd_acquire(call, h, RINGO__PD_REF, &pd);

	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	out->len = sizeof(out->ss);
	int r = peer ? getpeername(pd->fd, &out->sa, &out->len)
		     : getsockname(pd->fd, &out->sa, &out->len);
	err = r < 0 ? -errno : 0;
	ringo__pd_release(pd, RINGO__PD_REF);
	return err;
}

int ringo_listener_addr(ringo_listener *l, struct ringo_addr *out)
{
	return sockname(LISTENER_CALL("ringo_listener_addr"), l, out, false);
}

int ringo_listener_close(ringo_listener *l)
{
	const struct ringo__pd_call *call = LISTENER_CALL("ringo_listener_close");
	struct ringo_addr a = { .len = 0 };

	if (sockname(call, l, &a, false) < 0 || a.sa.sa_family != AF_UNIX)
		a.len = 0;
	int err = ringo__pd_close(call, l);
	/* Go's unix listener removes the file it created (not abstract). */
	if (!err && a.len > offsetof(struct sockaddr_un, sun_path) &&
	    a.un.sun_path[0])
		unlink(a.un.sun_path);
	return err;
}

/* -------------------------------------------------------------- dial */

/* dial_addr for `call`. */
static int dial(const struct ringo__pd_call *call, int type,
		const struct ringo_addr *a, int64_t deadline, ringo_conn **out)
{
	struct ringo__pd *pd;
	int family = a->sa.sa_family;

	if ((type != SOCK_STREAM && type != SOCK_DGRAM) || a->len == 0 ||
	    a->len > sizeof(a->ss))
		return -EINVAL;
	int err = sock_new(family, type,
			   type == SOCK_STREAM ? RINGO__PD_STREAM
					       : RINGO__PD_DGRAM,
			   NULL, NULL, &pd);
	if (err)
		return err;
	if (type == SOCK_STREAM)
		set_nodelay(pd->fd, family);
	ringo_conn *h = ringo__pd_handle(pd);
	if (deadline)
		ringo__pd_set_deadline(call, h, RINGO__PD_WRITE, deadline);
	if (!(err = ringo__pd_acquire(call, h, RINGO__PD_WRITE, &pd))) {
		err = ringo__netpoll->connect(pd, &a->sa, a->len);
		ringo__pd_release(pd, RINGO__PD_WRITE);
	}
	if (err) {
		ringo__pd_close(call, h);
		return err;
	}
	if (deadline)
		ringo__pd_set_deadline(call, h, RINGO__PD_WRITE, 0);
	*out = h;
	return 0;
}

int ringo_net_dial_addr(int type, const struct ringo_addr *a,
			int64_t deadline, ringo_conn **out)
{
	ringo__must_m("ringo_net_dial_addr");
	return dial(CONN_CALL("ringo_net_dial_addr"), type, a, deadline, out);
}

/* dial on network/address, for `name`. */
static int dial_str(const char *name, const char *network,
		    const char *address, int64_t deadline, ringo_conn **out)
{
	struct ringo__net n;
	struct ringo_addr a;
	int err;

	ringo__must_m(name);
	if ((err = ringo__net_parse(network, &n)))
		return err;
	if ((err = ringo__addr_resolve(&n, address, false, &a)))
		return err;
	return dial(CONN_CALL(name), n.type, &a, deadline, out);
}

int ringo_net_dial_dl(const char *network, const char *address,
		      int64_t deadline, ringo_conn **out)
{
	return dial_str("ringo_net_dial_dl", network, address, deadline, out);
}

int ringo_net_dial(const char *network, const char *address,
		   ringo_conn **out)
{
	return dial_str("ringo_net_dial", network, address, 0, out);
}

/* ------------------------------------------------------- read, write */

/* One read or write op; loop: until len bytes (or end of stream). An
 * error after some bytes moved returns their count: the caller must
 * know where the stream stands (a deadline can be moved and the rest
 * sent), and the error comes back from its next call - from the
 * deadline or the close, which stay, or from pending_err (io/pd.h). */
static ssize_t xfer(const char *name, ringo_conn *c, int dir, void *buf,
		    size_t len, bool loop)
{
	struct ringo__pd *pd;
	ssize_t err = ringo__pd_acquire(CONN_CALL(name), c, dir, &pd);

	if (err)
		return err;
	int *pending = &pd->dir[dir - 1].pending_err;
	/* A read of nothing returns at once, as Go's Read does: a recv of 0
	 * bytes on a datagram socket would take a datagram and drop it. A
	 * write of nothing sends nothing on a stream, an empty datagram on a
	 * datagram socket. */
	bool nothing = len == 0 && (dir == RINGO__PD_READ ||
				    pd->kind == RINGO__PD_STREAM);
	if (*pending || nothing) {
		err = *pending;
		*pending = 0;
		ringo__pd_release(pd, dir);
		return err;
	}
	size_t done = 0;
	do {
		size_t chunk = len - done < RW_MAX ? len - done : RW_MAX;
		ssize_t n = dir == RINGO__PD_READ
			? ringo__netpoll->recv(pd, (char *)buf + done, chunk, 0)
			: ringo__netpoll->send(pd, (char *)buf + done, chunk, 0);
		if (n < 0) {
			err = n;
			break;
		}
		done += (size_t)n;
		if (n == 0)
			break; /* end of stream (or an empty datagram) */
	} while (loop && done < len);
	/* Kept unless the descriptor says it again by itself: a close or
	 * a passed deadline stays, the socket's error (a reset, or the
	 * kernel's own -ETIMEDOUT: TCP_USER_TIMEOUT, keepalive) is reported
	 * once. A deadline moved on between the op's return and this check
	 * leaves its -ETIMEDOUT here for one call, as if it had been moved
	 * a moment later. */
	if (err && done && err != ringo__pd_check(pd, dir))
		*pending = (int)err;
	ringo__pd_release(pd, dir);
	return err && !done ? err : (ssize_t)done;
}

ssize_t ringo_conn_read(ringo_conn *c, void *buf, size_t len)
{
	return xfer("ringo_conn_read", c, RINGO__PD_READ, buf, len, false);
}

ssize_t ringo_conn_read_full(ringo_conn *c, void *buf, size_t len)
{
	return xfer("ringo_conn_read_full", c, RINGO__PD_READ, buf, len, true);
}

ssize_t ringo_conn_write(ringo_conn *c, const void *buf, size_t len)
{
	return xfer("ringo_conn_write", c, RINGO__PD_WRITE, (void *)buf, len,
		    false);
}

ssize_t ringo_conn_write_all(ringo_conn *c, const void *buf, size_t len)
{
	return xfer("ringo_conn_write_all", c, RINGO__PD_WRITE, (void *)buf,
		    len, true);
}

ssize_t ringo_conn_recvfrom(ringo_conn *c, void *buf, size_t len,
			    struct ringo_addr *from)
{
	struct ringo__pd *pd;
	ssize_t n = ringo__pd_acquire(CONN_CALL("ringo_conn_recvfrom"), c,
				      RINGO__PD_READ, &pd);

	if (n)
		return n;
	if (from) {
		memset(from, 0, sizeof(*from));
		from->len = sizeof(from->ss);
	}
	n = ringo__netpoll->recvfrom(pd, buf, len < RW_MAX ? len : RW_MAX, 0,
				     from ? &from->sa : NULL,
				     from ? &from->len : NULL);
	ringo__pd_release(pd, RINGO__PD_READ);
	return n;
}

ssize_t ringo_conn_sendto(ringo_conn *c, const void *buf, size_t len,
			  const struct ringo_addr *to)
{
	struct ringo__pd *pd;
	ssize_t n = ringo__pd_acquire(CONN_CALL("ringo_conn_sendto"), c,
				      RINGO__PD_WRITE, &pd);

	if (n)
		return n;
	n = ringo__netpoll->sendto(pd, buf, len, 0, to ? &to->sa : NULL,
				   to ? to->len : 0);
	ringo__pd_release(pd, RINGO__PD_WRITE);
	return n;
}

/* --------------------------------------------------------------- misc */

int ringo_conn_shutdown(ringo_conn *c, int how)
{
	struct ringo__pd *pd;
	int err = ringo__pd_acquire(CONN_CALL("ringo_conn_shutdown"), c,
				    RINGO__PD_REF, &pd);

	if (err)
		return err;
	err = shutdown(pd->fd, how) < 0 ? -errno : 0;
	ringo__pd_release(pd, RINGO__PD_REF);
	return err;
}

int ringo_conn_close(ringo_conn *c)
{
	return ringo__pd_close(CONN_CALL("ringo_conn_close"), c);
}

int ringo_conn_set_deadline(ringo_conn *c, int64_t deadline)
{
	return ringo__pd_set_deadline(CONN_CALL("ringo_conn_set_deadline"), c,
				      RINGO__PD_READ | RINGO__PD_WRITE, deadline);
}

int ringo_conn_set_read_deadline(ringo_conn *c, int64_t deadline)
{
	return ringo__pd_set_deadline(CONN_CALL("ringo_conn_set_read_deadline"),
				      c, RINGO__PD_READ, deadline);
}

int ringo_conn_set_write_deadline(ringo_conn *c, int64_t deadline)
{
	return ringo__pd_set_deadline(CONN_CALL("ringo_conn_set_write_deadline"),
				      c, RINGO__PD_WRITE, deadline);
}

int ringo_conn_local_addr(ringo_conn *c, struct ringo_addr *out)
{
	return sockname(CONN_CALL("ringo_conn_local_addr"), c, out, false);
}

int ringo_conn_remote_addr(ringo_conn *c, struct ringo_addr *out)
{
	return sockname(CONN_CALL("ringo_conn_remote_addr"), c, out, true);
}

int ringo_conn_fd(ringo_conn *c)
{
	return ringo__pd_fd(CONN_CALL("ringo_conn_fd"), c);
}
