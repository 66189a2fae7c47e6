/*
 * tests/net_stress.c - 10,000 TCP connections open at once in one
 * server process (fewer under TSan, which caps live goroutines). The
 * clients run in a second process (this program re-executed with
 * "client"), so each side needs about n descriptors: with the machine's
 * hard RLIMIT_NOFILE of 20,000 both ends would not fit in one process.
 * Skips (77) if the limit is still too low.
 *
 * Protocol: a client dials, sends ROUNDS messages of MSG bytes and reads
 * each echo back; after the first one it waits until every client got
 * that far (a barrier, so all n are connected together). The server
 * echoes exactly ROUNDS messages and closes first (so TIME_WAIT stays on
 * the server's port and the clients' ephemeral ports are freed); the
 * client reads end of stream, then closes. The server tracks the most
 * connections it had open at once and requires n.
 */
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>

#include "net_helpers.h"

#define ROUNDS 3
#define MSG 64

extern char **environ;

static int n_conns;
static _Atomic int live, live_max;
static ringo_chan *served; /* int per finished server connection */

static void serve(void *arg)
{
	ringo_conn *c = arg;
	char buf[MSG];
	int bad = 0;
	int now = atomic_fetch_add(&live, 1) + 1, max = atomic_load(&live_max);

	while (now > max && !atomic_compare_exchange_weak(&live_max, &max, now))
		;
	for (int r = 0; r < ROUNDS && !bad; r++)
		bad = ringo_conn_read_full(c, buf, MSG) != MSG ||
		      ringo_conn_write_all(c, buf, MSG) != MSG;
	atomic_fetch_sub(&live, 1);
	ringo_conn_close(c);
	ringo_chan_send(served, &bad);
}

static void accept_loop(void *arg)
{
	ringo_listener *l = arg;
	ringo_conn *c;

	while (ringo_net_accept(l, &c) == 0)
		ringo_go(serve, c);
}

static int server_main(void *arg)
{
	const char *self = arg;
	ringo_listener *l;
	struct ringo_addr a;
	char addr[RINGO_ADDR_STRLEN], nstr[16];

	ASSERT_EQ(ringo_net_listen("tcp4", "127.0.0.1:0", &l), 0);
	ASSERT_EQ(ringo_listener_addr(l, &a), 0);
	ASSERT(ringo_addr_format(&a, addr, sizeof(addr)) > 0);
	served = ringo_chan_make(sizeof(int), (size_t)n_conns);
	ringo_go(accept_loop, l);

	snprintf(nstr, sizeof(nstr), "%d", n_conns);
	char *argv[] = { (char *)self, "client", addr, nstr, NULL };
	pid_t pid;
	int err = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ);
	ASSERT_EQ(err, 0);

	int bad = done_wait(served, n_conns);
	ASSERT_EQ(ringo_listener_close(l), 0);
	int st;
	ASSERT_EQ(waitpid(pid, &st, 0), pid); /* it is exiting: brief */
	ASSERT(WIFEXITED(st));
	ASSERT_EQ(WEXITSTATUS(st), 0);
	ASSERT_EQ(bad, 0);
	ASSERT_EQ(atomic_load(&live_max), n_conns);
	ringo_chan_free(served);
	return 0;
}

/* ------------------------------------------------------------ client */

static const char *server;
static ringo_chan *connected, *go, *done;

static void client(void *arg)
{
	int id = (int)(intptr_t)arg, bad = 0;
	char msg[MSG], back[MSG];
	ringo_conn *c;

	int err = ringo_net_dial("tcp4", server, &c);
	if (err) {
		fprintf(stderr, "client %d: dial: %s\n", id, strerror(-err));
		bad = 1;
		ringo_chan_send(connected, &bad);
		done_signal(done, 1);
		return;
	}
	for (int r = 0; r < ROUNDS && !bad; r++) {
		memset(msg, 'a' + (id + r) % 26, sizeof(msg));
		snprintf(msg, sizeof(msg), "%d/%d", id, r);
		bad = ringo_conn_write_all(c, msg, MSG) != MSG ||
		      ringo_conn_read_full(c, back, MSG) != MSG ||
		      memcmp(msg, back, MSG) != 0;
		if (r == 0) {
			int v;
			ringo_chan_send(connected, &bad);
			ringo_chan_recv(go, &v);
		}
	}
	if (!bad)
		bad = ringo_conn_read(c, back, sizeof(back)) != 0; /* EOF */
	ringo_conn_close(c);
	done_signal(done, bad);
}

static int client_main(void *arg)
{
	(void)arg;
	connected = ringo_chan_make(sizeof(int), (size_t)n_conns);
	done = ringo_chan_make(sizeof(int), (size_t)n_conns);
	go = ringo_chan_make(sizeof(int), 0);
	for (int i = 0; i < n_conns; i++)
		ringo_go(client, (void *)(intptr_t)i);
	int bad = done_wait(connected, n_conns);
	ringo_chan_close(go);
	bad += done_wait(done, n_conns);
	if (bad)
		fprintf(stderr, "FAIL: %d of %d clients failed\n", bad, n_conns);
	ringo_chan_free(connected);
	ringo_chan_free(done);
	ringo_chan_free(go);
	return bad != 0;
}

int main(int argc, char **argv)
{
	n_conns = TEST_SCALE(10000, 10000, 3000);
	if (argc == 4 && strcmp(argv[1], "client") == 0) {
		server = argv[2];
		n_conns = atoi(argv[3]);
		nofile_raise();
		return ringo_run(client_main, NULL);
	}
	long lim = nofile_raise();
	if (lim < n_conns + 64) {
		printf("SKIP: RLIMIT_NOFILE is %ld, %d connections need %d "
		       "descriptors per process\n", lim, n_conns, n_conns + 64);
		return 77;
	}
	test_watchdog(280);
	return ringo_run(server_main, argv[0]);
}
