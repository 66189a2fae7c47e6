/*
 * tests/net_misuse.c - misuse of the I/O API aborts with a message that
 * names the call, as Go's panics do: a call from a thread that is not
 * running a goroutine or from inside ringo_syscall_enter/exit (also for
 * the calls that take no handle: listen, dial, file open, stat), and a
 * handle of one type cast to another (a
 * ringo_conn passed as a ringo_file would otherwise become a read
 * request on a socket, which no close can cancel).
 */
#include <fcntl.h>

#include <ringo/fs.h>

#include "net_helpers.h"

/* The misuses that need a listener and a connection: main runs one on
 * a fresh pair (arg). */
struct on_pair {
	void (*misuse)(ringo_listener *l, ringo_conn *c);
};

static int pair_main(void *arg)
{
	const struct on_pair *op = arg;
	ringo_listener *l;
	ringo_conn *c, *peer;

	if (tcp_pair(&l, &c, &peer))
		return 2;
	op->misuse(l, c);
	return 0;
}

static void file_read_on_conn(ringo_listener *l, ringo_conn *c)
{
	char buf[4];

	(void)l;
	ringo_file_read_at((ringo_file *)c, buf, sizeof(buf), 0);
}

static void accept_on_conn(ringo_listener *l, ringo_conn *c)
{
	ringo_conn *x;

	(void)l;
	ringo_net_accept((ringo_listener *)c, &x);
}

static void close_listener_as_conn(ringo_listener *l, ringo_conn *c)
{
	(void)c;
	ringo_conn_close((ringo_conn *)l);
}

/* Inside a system-call section the goroutine has no P to park on. */
static void read_in_syscall(ringo_listener *l, ringo_conn *c)
{
	char buf[4];

	(void)l;
	ringo_syscall_enter();
	ringo_conn_read(c, buf, sizeof(buf));
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

/* The calls that take no handle, in a system-call section: arg picks
 * one. Listen never waits, yet it is a call of the API all the same; a
 * dial must panic before it parses its address. */
static int no_handle_in_syscall(void *arg)
{
	const char *which = arg;
	ringo_listener *l;
	ringo_conn *c;
	ringo_file *f;
	struct stat st;

	ringo_syscall_enter();
	if (strcmp(which, "listen") == 0)
		ringo_net_listen("tcp", "127.0.0.1:0", &l);
	else if (strcmp(which, "listen_packet") == 0)
		ringo_net_listen_packet("udp", "127.0.0.1:0", &c);
	else if (strcmp(which, "dial") == 0)
		ringo_net_dial("tcp", "not an address", &c);
	else if (strcmp(which, "open") == 0)
		ringo_file_open("/dev/null", O_RDONLY, 0, &f);
	else
		ringo_fs_stat("/dev/null", &st);
	ringo_syscall_exit();
	return 0;
}

static int no_handle_cases(void)
{
	static const char *const calls[][2] = {
		{ "listen", "ringo_net_listen: called between" },
		{ "listen_packet", "ringo_net_listen_packet: called between" },
		{ "dial", "ringo_net_dial: called between" },
		{ "open", "ringo_file_open: called between" },
		{ "stat", "ringo_fs_stat: called between" },
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (test_death_run(calls[i][0], no_handle_in_syscall,
				   (void *)calls[i][0], calls[i][1]))
			return 1;
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
	static const struct on_pair file_read = { file_read_on_conn },
				    accept = { accept_on_conn },
				    close_listener = { close_listener_as_conn },
				    syscall_read = { read_in_syscall };

	test_watchdog(60);
	return test_death_run("file read on a conn", pair_main,
			      (void *)&file_read, "ringo_file_read_at: handle") ||
	       test_death_run("conn read on a file", conn_read_on_file, NULL,
			      "is a ringo_file") ||
	       test_death_run("accept on a conn", pair_main, (void *)&accept,
			      "ringo_net_accept: handle") ||
	       test_death_run("close of a listener as a conn", pair_main,
			      (void *)&close_listener, "is a ringo_listener") ||
	       test_death_run("read in a system call", pair_main,
			      (void *)&syscall_read,
			      "ringo_conn_read: called between ringo_syscall_enter") ||
	       no_handle_cases() ||
	       test_death("read outside", read_outside, NULL,
			  "ringo_conn_read: called outside a goroutine") ||
	       test_death("write_at outside", write_at_outside, NULL,
			  "ringo_file_write_at: called outside a goroutine") ||
	       test_death("deadline outside", deadline_outside, NULL,
			  "ringo_conn_set_deadline: called outside a goroutine") ||
	       test_death("dial outside", dial_outside, NULL,
			  "ringo_net_dial_dl: called outside a goroutine");
}
