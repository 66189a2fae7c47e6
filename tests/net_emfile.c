/*
 * tests/net_emfile.c - running out of descriptors. With RLIMIT_NOFILE
 * lowered to a few above what is open, dial, listen, accept and file
 * open fail with -EMFILE, cleanly: nothing leaks, a connection the
 * failed accept left queued is accepted once a descriptor is free, and
 * everything works again after the limit is restored.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>

#include <ringo/fs.h>

#include "net_helpers.h"

#define MAX_CONNS 64

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the DIR's own fd */
}

static int test_emfile(void)
{
	ringo_listener *l, *l2;
	ringo_conn *cs[MAX_CONNS], *a1, *a2;
	ringo_file *f;
	struct ringo_addr a;
	struct rlimit old, low;
	int n = 0, err;

	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
	int before = open_fds();
	ASSERT(before > 0);
	low = old;
	low.rlim_cur = (rlim_t)before + 8;
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);

	/* Dial until out of descriptors (the connections complete in the
	 * listener's backlog, nobody accepts yet). */
	while (n < MAX_CONNS &&
	       (err = ringo_net_dial_addr(SOCK_STREAM, &a, 0, &cs[n])) == 0)
		n++;
	EXPECT_ERR(err, -EMFILE);
	ASSERT_GE(n, 1);
	int at_limit = open_fds();
	EXPECT_ERR(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &cs[n]), -EMFILE);
	EXPECT_ERR(ringo_net_accept(l, &a1), -EMFILE);
	EXPECT_ERR(ringo_net_listen("tcp", "127.0.0.1:0", &l2), -EMFILE);
	EXPECT_ERR(ringo_file_open("/dev/null", O_RDONLY, 0, &f), -EMFILE);
	ASSERT_EQ(open_fds(), at_limit); /* the failures leaked nothing */

	/* One descriptor free: the queued connection is accepted. */
	ASSERT_EQ(ringo_conn_close(cs[--n]), 0);
	ASSERT_EQ(ringo_net_accept(l, &a1), 0);
	EXPECT_ERR(ringo_file_open("/dev/null", O_RDONLY, 0, &f), -EMFILE);
	ASSERT_EQ(ringo_conn_close(cs[--n]), 0);
	ASSERT_EQ(ringo_file_open("/dev/null", O_RDONLY, 0, &f), 0);
	ASSERT_EQ(ringo_file_close(f), 0);

	/* Limit restored: all well again, and the accepted conn talks. */
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
	ASSERT_EQ(ringo_net_accept(l, &a2), 0);
	ASSERT_EQ(ringo_conn_write_all(a1, "hi", 2), 2);
	ASSERT_EQ(ringo_conn_close(a1), 0);
	ASSERT_EQ(ringo_conn_close(a2), 0);
	while (n > 0)
		ASSERT_EQ(ringo_conn_close(cs[--n]), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ASSERT_EQ(open_fds(), before - 1);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	return test_emfile();
}

int main(void)
{
	test_watchdog(60);
	return ringo_run(main_fn, NULL);
}
