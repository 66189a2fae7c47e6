/*
 * tests/net_misuse.c - misuse of the I/O API aborts with a message that
 * names the call, as Go's panics do: a call from a thread that is not
 * running a goroutine or from inside ringo_syscall_enter/exit, and a
 * handle of one type cast to another (a
 * ringo_conn passed as a ringo_file would otherwise become a read
 * request on a socket, which no close can cancel).
 */
#include <fcntl.h>

#include <ringo/fs.h>

#include "net_helpers.h"

static ringo_conn *conn_pair(ringo_listener **l, ringo_conn **peer)
{
	struct ringo_addr a;
	ringo_conn *c = NULL;

	if (ringo_net_listen("tcp", "127.0.0.1:0", l) ||
	    ringo_listener_addr(*l, &a) ||
	    ringo_net_dial_addr(SOCK_STREAM, &a, 0, &c) ||
	    ringo_net_accept(*l, peer))
		return NULL;
	return c;
}

static int file_read_on_conn(void *arg)
{
	ringo_listener *l;
	ringo_conn *peer, *c = conn_pair(&l, &peer);
	char buf[4];

	(void)arg;
	if (!c)
		return 2;
	ringo_file_read_at((ringo_file *)c, buf, sizeof(buf), 0);
	return 0;
}

static int conn_read_on_file(void *arg)
{
	ringo_file *f;
	char buf[4];

	(void)arg;
	if (ringo_file_open("/dev/null", O_RDONLY, 0, &f))
		return 2;
	ringo_conn_read((ringo_conn *)f, buf, sizeof(buf));
	return 0;
}

static int accept_on_conn(void *arg)
{
	ringo_listener *l;
	ringo_conn *peer, *c = conn_pair(&l, &peer), *x;

	(void)arg;
	if (!c)
		return 2;
	ringo_net_accept((ringo_listener *)c, &x);
	return 0;
}

static int close_listener_as_conn(void *arg)
{
	ringo_listener *l;
	ringo_conn *peer, *c = conn_pair(&l, &peer);

	(void)arg;
	if (!c)
		return 2;
	ringo_conn_close((ringo_conn *)l);
	return 0;
}

/* Inside a system-call section the goroutine has no P to park on. */
static int read_in_syscall(void *arg)
{
	ringo_listener *l;
	ringo_conn *peer, *c = conn_pair(&l, &peer);
	char buf[4];

	(void)arg;
	if (!c)
		return 2;
	ringo_syscall_enter();
	ringo_conn_read(c, buf, sizeof(buf));
	return 0;
}

/* Outside ringo_run: no goroutine at all. */
static void read_outside(void *arg)
{
	char buf[4];

	(void)arg;
	ringo_conn_read((ringo_conn *)(uintptr_t)1, buf, sizeof(buf));
}

static void write_at_outside(void *arg)
{
	(void)arg;
	ringo_file_write_at((ringo_file *)(uintptr_t)1, "x", 1, 0);
}

static void deadline_outside(void *arg)
{
	(void)arg;
	ringo_conn_set_deadline((ringo_conn *)(uintptr_t)1, 0);
}

static void dial_outside(void *arg)
{
	ringo_conn *c;

	(void)arg;
	ringo_net_dial_dl("tcp", "not an address", 0, &c);
}

int main(void)
{
	test_watchdog(60);
	return test_death_run("file read on a conn", file_read_on_conn, NULL,
			      "ringo_file_read_at: handle") ||
	       test_death_run("conn read on a file", conn_read_on_file, NULL,
			      "is a ringo_file") ||
	       test_death_run("accept on a conn", accept_on_conn, NULL,
			      "ringo_net_accept: handle") ||
	       test_death_run("close of a listener as a conn",
			      close_listener_as_conn, NULL,
			      "is a ringo_listener") ||
	       test_death_run("read in a system call", read_in_syscall, NULL,
			      "ringo_conn_read: called between ringo_syscall_enter") ||
	       test_death("read outside", read_outside, NULL,
			  "ringo_conn_read: called outside a goroutine") ||
	       test_death("write_at outside", write_at_outside, NULL,
			  "ringo_file_write_at: called outside a goroutine") ||
	       test_death("deadline outside", deadline_outside, NULL,
			  "ringo_conn_set_deadline: called outside a goroutine") ||
	       test_death("dial outside", dial_outside, NULL,
			  "ringo_net_dial_dl: called outside a goroutine");
}
