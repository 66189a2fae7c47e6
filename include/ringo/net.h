/*
 * ringo/net.h - TCP, UDP and Unix-domain sockets for goroutines (Go's net
 * package).
 *
 * Calls read like blocking POSIX calls, but only the calling goroutine
 * waits: its thread goes on running other goroutines, and the runtime's
 * netpoller (io_uring, or edge-triggered epoll) wakes it when the socket
 * is ready. So one goroutine per connection is the natural design, as in
 * Go; ten thousand idle connections cost ten thousand parked goroutines
 * and no threads.
 *
 * Errors: every function returns 0 or a count on success and a negative
 * errno value on failure (there is no -1/errno form). Values worth
 * knowing:
 *   -ETIMEDOUT     a deadline passed (ringo_conn_set_deadline). It stays
 *                  passed: later calls fail the same way until the
 *                  deadline is moved or cleared. The kernel's own
 *                  timeouts (TCP_USER_TIMEOUT, keepalive, a dial's
 *                  unanswered SYNs) give -ETIMEDOUT too, with the
 *                  deadline not passed: the connection is gone, as
 *                  after a reset.
 *   -ECANCELED     another goroutine closed the connection or listener
 *                  while this call was waiting in it, or while the close
 *                  was still in progress.
 *   -EBADF         the handle had been closed before the call. Handles
 *                  carry a sequence number, so a closed one never
 *                  reaches a later connection that reuses its slot: a
 *                  goroutine may call accept on a listener another one
 *                  is closing, as Go servers do to stop.
 *   -ECONNRESET, -EPIPE   the peer is gone. Writing to it never raises
 *                  SIGPIPE (sends use MSG_NOSIGNAL), so there is no need
 *                  to ignore the signal.
 *   -EMFILE, -ENFILE   out of file descriptors (the process's
 *                  RLIMIT_NOFILE, or the system's file table); nothing
 *                  leaks.
 * End of stream is not an error: read returns 0.
 *
 * Must be called from a goroutine (inside ringo_run), and not between
 * ringo_syscall_enter and ringo_syscall_exit: a call from any other
 * thread or from such a section aborts with a message naming the call,
 * as does a handle of another type cast to this one (a ringo_file
 * passed as a ringo_conn). ringo_addr_parse and ringo_addr_format may
 * be called anywhere. Connections and listeners still open when
 * ringo_run returns are closed by it.
 */
#ifndef RINGO_NET_H
#define RINGO_NET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * Addresses
 *
 * Networks are named as in Go: "tcp", "tcp4", "tcp6", "udp", "udp4",
 * "udp6", "unix" (stream) and "unixgram" (datagram).
 *
 * IP addresses are "host:port" strings: "127.0.0.1:8080", "[::1]:80",
 * "[fe80::1%eth0]:80", ":8080" (no host: every local address when
 * listening, this machine when dialing), "localhost:80" (127.0.0.1, or ::1
 * for tcp6/udp6). Hosts must be IP literals or "localhost" (in any
 * case): no name is looked up (that would block a thread; it will come
 * with DNS support).
 * Port 0 when listening picks a free port; read it back with
 * ringo_listener_addr. Unix addresses are paths of at most 107 bytes
 * (sun_path, with the NUL); a leading '@' names an abstract socket
 * (Linux), of at most 107 bytes after the '@'. An IPv6 zone is an
 * interface name or index. Anything else is -EINVAL.
 * ===================================================================== */

/* Any socket address, with its length. */
struct ringo_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
		struct sockaddr_un un;
		struct sockaddr_storage ss;
	};
	socklen_t len; /* bytes of the union in use; 0 = no address */
};

/* Long enough for any formatted address, with its NUL. */
#define RINGO_ADDR_STRLEN 112

/* Parse `address` for `network` into *out. -EINVAL if it does not parse
 * or does not fit the network (an IPv6 literal for "tcp4"). */
int ringo_addr_parse(const char *network, const char *address,
		     struct ringo_addr *out);

/* Format as "1.2.3.4:80", "[::1]:80", a path or "@abstract". Returns the
 * length (without the NUL), -ENOSPC if buf is too small, -EAFNOSUPPORT
 * for other families. */
int ringo_addr_format(const struct ringo_addr *a, char *buf, size_t size);

/* ========================================================================
 * Stream connections: TCP and Unix
 *
 * A listener accepts connections; a connection reads and writes bytes.
 * Reads and writes on one connection may run in different goroutines at
 * the same time (one reader and one writer is the usual pattern); two
 * readers (or two writers) take turns, each call whole.
 * ===================================================================== */

typedef struct ringo_listener ringo_listener;
typedef struct ringo_conn ringo_conn;

/* Listen on a "tcp*" or "unix" address (SO_REUSEADDR for TCP; the
 * backlog is SOMAXCONN). A "tcp" listener without a host, or with "::",
 * accepts IPv4 and IPv6. */
int ringo_net_listen(const char *network, const char *address,
		     ringo_listener **out);

/* Listen on a ready-made address (TCP or Unix), as ringo_net_listen
 * does; an IPv6 wildcard ("::") accepts IPv4 too. -EINVAL if a->len is 0
 * or larger than the union. */
int ringo_net_listen_addr(const struct ringo_addr *a, ringo_listener **out);

/* Wait for a connection and return it in *out. Fails with -ETIMEDOUT
 * after the listener's deadline, -ECANCELED if the listener is closed
 * meanwhile, -EMFILE when out of descriptors (the pending connection
 * stays queued: accept again once some are free). */
int ringo_net_accept(ringo_listener *l, ringo_conn **out);

/* Deadline for accept: ns of CLOCK_MONOTONIC (ringo_now()), 0 = none. */
int ringo_listener_set_deadline(ringo_listener *l, int64_t deadline);

/* The address the listener is bound to (with the port picked for :0). */
int ringo_listener_addr(ringo_listener *l, struct ringo_addr *out);

/* Stop listening; a goroutine blocked in accept gets -ECANCELED. A Unix
 * listener removes its socket file. Frees l. */
int ringo_listener_close(ringo_listener *l);

/* Connect to `address` ("tcp*", "unix", also "udp*" and "unixgram" for a
 * connected datagram socket). Fails with -ECONNREFUSED and the like. TCP
 * connections, dialed or accepted, have TCP_NODELAY set, as in Go. */
int ringo_net_dial(const char *network, const char *address,
		   ringo_conn **out);

/* Same, giving up with -ETIMEDOUT at `deadline` (ns of CLOCK_MONOTONIC,
 * as ringo_now(); 0 = none). For a timeout pass ringo_now() + timeout. */
int ringo_net_dial_dl(const char *network, const char *address,
		      int64_t deadline, ringo_conn **out);

/* Connect to a ready-made address; type is SOCK_STREAM or SOCK_DGRAM
 * (-EINVAL otherwise, or if a->len is 0 or larger than the union). */
int ringo_net_dial_addr(int type, const struct ringo_addr *a,
			int64_t deadline, ringo_conn **out);

/* Read up to len bytes: the count (> 0), 0 at end of stream (or if len
 * is 0: that reads nothing, not even a datagram), or -errno. Waits only
 * if nothing is there yet. On a datagram socket: one datagram, as
 * ringo_conn_recvfrom. */
ssize_t ringo_conn_read(ringo_conn *c, void *buf, size_t len);

/* Read exactly len bytes unless the stream ends or an error comes
 * first: returns len; or the smaller count read before the end or the
 * error (the bytes are in buf, and the next call returns 0 at the end,
 * or the error); or -errno if nothing was read. So no byte read is lost
 * to a deadline or a reset: as Go's io.ReadFull returns (n, err). */
ssize_t ringo_conn_read_full(ringo_conn *c, void *buf, size_t len);

/* Write some of buf: the count (> 0, possibly less than len, as write(2)
 * on a socket whose buffer filled), or -errno. */
ssize_t ringo_conn_write(ringo_conn *c, const void *buf, size_t len);

/* Write all of buf: returns len; or, if an error stops it after some
 * bytes were sent, their count (less than len: send the rest with a
 * later call once the cause is dealt with, e.g. a deadline moved on;
 * the next call returns the error unless it is gone, as a deadline
 * moved later is); or -errno if nothing was sent. Check for `!= len`,
 * as with write(2).
 * Other writers on c wait until it is done. */
ssize_t ringo_conn_write_all(ringo_conn *c, const void *buf, size_t len);

/* shutdown(2): SHUT_WR sends end-of-stream to the peer (which reads 0)
 * while this side can still read; SHUT_RD, SHUT_RDWR. */
int ringo_conn_shutdown(ringo_conn *c, int how);

/* Close the connection and free c. Goroutines blocked on c wake with
 * -ECANCELED; close returns once they are all out, and only then is the
 * descriptor number released for reuse. Returns close(2)'s result;
 * -EBADF for a second close (also one racing with the first). */
int ringo_conn_close(ringo_conn *c);

/* Deadlines (Go's SetDeadline): absolute, ns of CLOCK_MONOTONIC as
 * ringo_now(); 0 = none. Apply to calls in progress and to later ones: a
 * passed deadline makes them fail with -ETIMEDOUT until it is moved
 * (setting a later one while a call waits lets that call go on).
 * set_deadline sets both directions. Returns 0, or -EBADF if closed. */
int ringo_conn_set_deadline(ringo_conn *c, int64_t deadline);
int ringo_conn_set_read_deadline(ringo_conn *c, int64_t deadline);
int ringo_conn_set_write_deadline(ringo_conn *c, int64_t deadline);

int ringo_conn_local_addr(ringo_conn *c, struct ringo_addr *out);
int ringo_conn_remote_addr(ringo_conn *c, struct ringo_addr *out);

/* The descriptor, for setsockopt and the like (-EBADF if closed). Do not
 * read, write or close it directly. */
int ringo_conn_fd(ringo_conn *c);

/* ========================================================================
 * Datagrams: UDP and unixgram
 *
 * A datagram socket is a ringo_conn too: bind one with
 * ringo_net_listen_packet and talk to many peers with recvfrom/sendto,
 * or ringo_net_dial one peer and use read/write. Each call moves one
 * datagram; deadlines and close behave as for streams.
 * ===================================================================== */

/* A datagram socket bound to `address` ("udp*" or "unixgram"). */
int ringo_net_listen_packet(const char *network, const char *address,
			    ringo_conn **out);

/* The same for a ready-made address (UDP or unixgram). */
int ringo_net_listen_packet_addr(const struct ringo_addr *a, ringo_conn **out);

/* Receive one datagram: its length (truncated to len if longer, the
 * rest dropped, as in Go; 0 for an empty datagram), with the sender in
 * *from if from is not NULL. */
ssize_t ringo_conn_recvfrom(ringo_conn *c, void *buf, size_t len,
			    struct ringo_addr *from);

/* Send one datagram to `to`. Returns len or -errno. */
ssize_t ringo_conn_sendto(ringo_conn *c, const void *buf, size_t len,
			  const struct ringo_addr *to);

#ifdef __cplusplus
}
#endif
#endif
