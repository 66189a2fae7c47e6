/*
 * tests/net_emfile.c - running out of descriptors. With RLIMIT_NOFILE
 * lowered to a few above what is open, dial, listen, accept and file
 * open fail with -EMFILE, cleanly: nothing leaks, a connection the
 * failed accept left queued is accepted once a descriptor is free, and
 * everything works again after the limit is restored. An accept that
 * already waits when the descriptors run out fails with -EMFILE once
 * its connection comes, and that connection stays queued too.
 *
 * The system's file table (ENFILE) cannot be filled safely on a shared
 * machine, so a child process has the kernel fail socket(2) and
 * accept4(2) with ENFILE (a seccomp filter on every thread): dial,
 * listen and accept return -ENFILE, nothing leaks, and a connection
 * made before goes on working. (In io_uring mode a file open is a ring
 * request, which seccomp does not see; its error path is the one the
 * EMFILE case above takes.)
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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

static ringo_listener *parked_l;
static ringo_chan *accepted;

static void parked_acceptor(void *arg)
{
	ringo_conn *c;
	int r = ringo_net_accept(parked_l, &c);

	(void)arg;
	if (r == 0)
		ringo_conn_close(c);
	ringo_chan_send(accepted, &r);
}

static int test_emfile_parked(void)
{
	struct ringo_addr a;
	struct rlimit old, low;
	int fill[64], n = 0, r;
	ringo_conn *c;
	char buf[2];

	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &parked_l), 0);
	ASSERT_EQ(ringo_listener_addr(parked_l, &a), 0);
	accepted = ringo_chan_make(sizeof(int), 1);
	/* The client is a plain socket, made while descriptors are free. */
	int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT(client >= 0);
	/* The limit caps descriptor numbers: the lowest free one and a few
	 * after it stay usable, so the acceptor can start waiting. */
	int lowest = dup(0);
	ASSERT(lowest >= 0);
	ASSERT_EQ(close(lowest), 0);
	ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)lowest + 8;
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
	ringo_go(parked_acceptor, NULL);
	test_wait_parked(1, NULL, "IO wait", NULL);
	/* Now use up every number left, then connect. */
	while (n < 64 && (fill[n] = dup(0)) >= 0)
		n++;
	ASSERT_EQ(errno, EMFILE);
	ASSERT_EQ(connect(client, &a.sa, a.len), 0);
	ASSERT(ringo_chan_recv(accepted, &r));
	EXPECT_ERR(r, -EMFILE);
	EXPECT_ERR(ringo_net_accept(parked_l, &c), -EMFILE);
	/* One number free: the queued connection is the one accepted. */
	ASSERT_EQ(close(fill[--n]), 0);
	ASSERT_EQ(ringo_net_accept(parked_l, &c), 0);
	ASSERT_EQ(write(client, "ok", 2), 2);
	ASSERT_EQ(ringo_conn_read_full(c, buf, 2), 2);
	ASSERT(memcmp(buf, "ok", 2) == 0);
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
	while (n > 0)
		ASSERT_EQ(close(fill[--n]), 0);
	ASSERT_EQ(ringo_conn_close(c), 0);
	ASSERT_EQ(close(client), 0);
	ASSERT_EQ(ringo_listener_close(parked_l), 0);
	ringo_chan_free(accepted);
	return 0;
}

#if defined(__x86_64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* test_enfile's exit status when the kernel will not install the filter
 * (no seccomp, or another architecture): the case is skipped. */
#define ENFILE_SKIPPED 77

/* From now on socket(2) and accept4(2) fail with ENFILE on every thread
 * of the process. 0, or -1 if seccomp filters are not available. */
static int fail_sockets_with_enfile(void)
{
#ifndef TEST_AUDIT_ARCH
	return -1;
#else
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TEST_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_accept4, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENFILE),
	};
	struct sock_fprog prog = {
		.len = sizeof(code) / sizeof(code[0]), .filter = code
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		       SECCOMP_FILTER_FLAG_TSYNC, &prog) ? -1 : 0;
#endif
}

static int test_enfile(void)
{
	ringo_listener *l, *l2;
	ringo_conn *client, *server, *queued, *c;
	struct ringo_addr a;
	char buf[2];

	/* Before the filter: a listener, a connection accepted and one
	 * left in the backlog (so that accept calls accept4 in both
	 * modes). */
	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &client), 0);
	ASSERT_EQ(ringo_net_accept(l, &server), 0);
	ASSERT_EQ(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &queued), 0);
	int before = open_fds();

	if (fail_sockets_with_enfile() != 0)
		return ENFILE_SKIPPED;
	EXPECT_ERR(ringo_net_dial_addr(SOCK_STREAM, &a, 0, &c), -ENFILE);
	EXPECT_ERR(ringo_net_dial("tcp", "127.0.0.1:1", &c), -ENFILE);
	EXPECT_ERR(ringo_net_listen("tcp", "127.0.0.1:0", &l2), -ENFILE);
	EXPECT_ERR(ringo_net_listen_packet("udp", "127.0.0.1:0", &c), -ENFILE);
	EXPECT_ERR(ringo_net_accept(l, &c), -ENFILE);
	ASSERT_EQ(open_fds(), before); /* the failures leaked nothing */

	/* What was open before still works. */
	ASSERT_EQ(ringo_conn_write_all(client, "ok", 2), 2);
	ASSERT_EQ(ringo_conn_read_full(server, buf, 2), 2);
	ASSERT(memcmp(buf, "ok", 2) == 0);
	ASSERT_EQ(ringo_conn_close(queued), 0);
	ASSERT_EQ(ringo_conn_close(client), 0);
	ASSERT_EQ(ringo_conn_read(server, buf, 1), 0);
	ASSERT_EQ(ringo_conn_close(server), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ASSERT_EQ(open_fds(), before - 4);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	return test_emfile() || test_emfile_parked();
}

static int enfile_main(void *arg)
{
	(void)arg;
	return test_enfile();
}

/* test_enfile in a child: its filter stays with the process. */
static int run_enfile_child(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		alarm(60); /* the watchdog thread did not survive fork */
		_exit(ringo_run(enfile_main, NULL));
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return 1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == ENFILE_SKIPPED) {
		fprintf(stderr, "enfile: seccomp filters unavailable, skipped\n");
		return 0;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "FAIL enfile child: status 0x%x\n", st);
		return 1;
	}
	return 0;
}

int main(void)
{
	test_watchdog(60);
	if (run_enfile_child())
		return 1;
	return ringo_run(main_fn, NULL);
}
