/*
 * tests/uring_io.c - I/O through the ring, and what is particular to it:
 * deadlines and close cancel requests the kernel already holds
 * (IORING_OP_ASYNC_CANCEL) and the descriptor number is reused only after
 * their completions arrived; extending a deadline lets a request go on;
 * datagrams carry their addresses; file I/O in 64 goroutines at once
 * creates no thread; a CQ far too small for the requests in flight
 * overflows without losing a completion. The behavioural tests also run
 * in epoll mode; the ring-only ones skip there.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>

#include <ringo/fs.h>

#include "io/netpoll.h"
#include "io/netpoll_uring.h"
#include "io/pd.h"
#include "net_helpers.h"

#define MS RINGO_MILLISECOND

static bool uring_mode(void)
{
	return strcmp(ringo__netpoll->name, "uring") == 0;
}

/* A connected TCP pair over loopback, its listener closed. */
static int conn_pair(ringo_conn **a, ringo_conn **b)
{
	ringo_listener *l;

	ASSERT_EQ(tcp_pair(&l, a, b), 0);
	ASSERT_EQ(ringo_listener_close(l), 0);
	return 0;
}

static int test_read_deadline(void)
{
	ringo_conn *a, *b;
	char buf[16];

	if (conn_pair(&a, &b))
		return 1;
	int64_t t0 = ringo_now();
	ASSERT_EQ(ringo_conn_set_read_deadline(a, t0 + 50 * MS), 0);
	EXPECT_ERR(ringo_conn_read(a, buf, sizeof(buf)), -ETIMEDOUT);
	int64_t d = ringo_now() - t0;
	ASSERT_GE(d, 50 * MS);
	ASSERT_LE(d, 3000 * MS);
	/* It stays expired... */
	EXPECT_ERR(ringo_conn_read(a, buf, sizeof(buf)), -ETIMEDOUT);
	/* ...until cleared; no byte was lost to the cancelled request. */
	ASSERT_EQ(ringo_conn_set_read_deadline(a, 0), 0);
	ASSERT_EQ(ringo_conn_write(b, "xyz", 3), 3);
	ASSERT_EQ(ringo_conn_read_full(a, buf, 3), 3);
	ASSERT(memcmp(buf, "xyz", 3) == 0);
	ASSERT_EQ(ringo_conn_close(a), 0);
	ASSERT_EQ(ringo_conn_close(b), 0);
	return 0;
}

struct extend {
	ringo_conn *reader, *writer;
};

static void extend_then_write(void *arg)
{
	struct extend *e = arg;

	test_wait_parked(1, "main", "IO wait", NULL);
	ringo_conn_set_read_deadline(e->reader, ringo_now() + 5000 * MS);
	ringo_sleep(80 * MS); /* past the old deadline: time must pass */
	ringo_conn_write(e->writer, "late", 4);
}

/* A deadline moved later while a read waits: the read goes on waiting
 * past the old deadline and gets the data. */
static int test_deadline_extended(void)
{
	struct extend e;
	char buf[8];

	if (conn_pair(&e.reader, &e.writer))
		return 1;
	ASSERT_EQ(ringo_conn_set_read_deadline(e.reader, ringo_now() + 50 * MS),
		  0);
	ringo_go(extend_then_write, &e);
	ASSERT_EQ(ringo_conn_read_full(e.reader, buf, 4), 4);
	ASSERT(memcmp(buf, "late", 4) == 0);
	ASSERT_EQ(ringo_conn_close(e.reader), 0);
	ASSERT_EQ(ringo_conn_close(e.writer), 0);
	return 0;
}

/* A deadline moved earlier (into the past) while a read waits: the read
 * ends then, not before. */
static _Atomic bool shortened;

static void expire_soon(void *arg)
{
	test_wait_parked(1, "main", "IO wait", NULL);
	atomic_store(&shortened, true);
	ringo_conn_set_read_deadline(arg, ringo_now() - 1);
}

static int test_deadline_shortened(void)
{
	ringo_conn *a, *b;
	char buf[8];

	if (conn_pair(&a, &b))
		return 1;
	atomic_store(&shortened, false);
	ringo_go(expire_soon, a);
	EXPECT_ERR(ringo_conn_read(a, buf, sizeof(buf)), -ETIMEDOUT);
	ASSERT(atomic_load(&shortened));
	ASSERT_EQ(ringo_conn_close(a), 0);
	ASSERT_EQ(ringo_conn_close(b), 0);
	return 0;
}

struct blocked {
	ringo_conn *c;
	ringo_chan *done;
};

/* Named, so that test_parked tells it from the other goroutines. */
static void go_named(const char *name, void (*fn)(void *), void *arg)
{
	struct ringo_go_opts o = { .name = name };

	ringo_go_opts(&o, fn, arg);
}

static void blocked_reader(void *arg)
{
	struct blocked *bl = arg;
	char buf[8];
	int r = (int)ringo_conn_read(bl->c, buf, sizeof(buf));

	ringo_chan_send(bl->done, &r);
}

/* Close while goroutines wait in the kernel: they all get -ECANCELED,
 * close returns after they are out, and only then is the number free. */
static int test_close_cancels(void)
{
	enum { N = 16 };
	ringo_conn *a[N], *b[N];
	struct blocked bl[N];
	ringo_chan *done = ringo_chan_make(sizeof(int), N);

	for (int i = 0; i < N; i++) {
		if (conn_pair(&a[i], &b[i]))
			return 1;
		bl[i] = (struct blocked){ a[i], done };
		go_named("reader", blocked_reader, &bl[i]);
	}
	test_wait_parked(N, "reader", "IO wait", NULL); /* in their requests */
	for (int i = 0; i < N; i++) {
		int fd = ringo_conn_fd(a[i]);
		ASSERT_EQ(ringo_conn_close(a[i]), 0);
		/* Closed by the time close returns (its readers are out). */
		ASSERT_EQ(fcntl(fd, F_GETFD), -1);
		ASSERT_EQ(errno, EBADF);
	}
	for (int i = 0; i < N; i++) {
		int r;
		ASSERT(ringo_chan_recv(done, &r));
		EXPECT_ERR(r, -ECANCELED);
		ASSERT_EQ(ringo_conn_close(b[i]), 0);
	}
	ringo_chan_free(done);
	return 0;
}

static void blocked_accept(void *arg)
{
	ringo_conn *c;
	struct blocked *bl = arg;
	int r = ringo_net_accept((ringo_listener *)(void *)bl->c, &c);

	ringo_chan_send(bl->done, &r);
}

static int test_listener_close_cancels(void)
{
	ringo_listener *l;
	struct blocked bl = { .done = ringo_chan_make(sizeof(int), 1) };
	int r;

	ASSERT_EQ(ringo_net_listen("tcp", "127.0.0.1:0", &l), 0);
	bl.c = (ringo_conn *)(void *)l;
	go_named("acceptor", blocked_accept, &bl);
	test_wait_parked(1, "acceptor", "IO wait", NULL);
	ASSERT_EQ(ringo_listener_close(l), 0);
	ASSERT(ringo_chan_recv(bl.done, &r));
	EXPECT_ERR(r, -ECANCELED);
	ringo_chan_free(bl.done);
	return 0;
}

static int test_udp(void)
{
	ringo_conn *a, *b;
	struct ringo_addr aa, ba, from;
	char buf[64];

	ASSERT_EQ(ringo_net_listen_packet("udp", "127.0.0.1:0", &a), 0);
	ASSERT_EQ(ringo_net_listen_packet("udp", "127.0.0.1:0", &b), 0);
	ASSERT_EQ(ringo_conn_local_addr(a, &aa), 0);
	ASSERT_EQ(ringo_conn_local_addr(b, &ba), 0);
	for (int i = 0; i < 10; i++) {
		ASSERT_EQ(ringo_conn_sendto(a, "ping", 4, &ba), 4);
		memset(&from, 0, sizeof(from));
		ASSERT_EQ(ringo_conn_recvfrom(b, buf, sizeof(buf), &from), 4);
		ASSERT(memcmp(buf, "ping", 4) == 0);
		ASSERT_EQ(from.len, aa.len);
		ASSERT(memcmp(&from.in4, &aa.in4, sizeof(aa.in4)) == 0);
		ASSERT_EQ(ringo_conn_sendto(b, "pong", 4, &from), 4);
		ASSERT_EQ(ringo_conn_recvfrom(a, buf, sizeof(buf), NULL), 4);
		ASSERT(memcmp(buf, "pong", 4) == 0);
	}
	ASSERT_EQ(ringo_conn_set_read_deadline(a, ringo_now() + 20 * MS), 0);
	EXPECT_ERR(ringo_conn_recvfrom(a, buf, sizeof(buf), NULL), -ETIMEDOUT);
	ASSERT_EQ(ringo_conn_close(a), 0);
	ASSERT_EQ(ringo_conn_close(b), 0);
	return 0;
}

/* ---- spurious unblocks (io/netpoll.h: "go on waiting") ---- */

struct spur {
	struct ringo__pd *pd;
	int peer;
	_Atomic int stop;
	ringo_wg done; /* the unblocker has returned */
};

static void unblocker(void *arg)
{
	struct spur *sp = arg;

	/* The deadline and close timers of an earlier life of a pd may call
	 * unblock on this one: the waiting recv must shrug it off. */
	for (int i = 0; i < 50 && !atomic_load(&sp->stop); i++) {
		ringo__netpoll->unblock(sp->pd, RINGO__PD_READ);
		/* Spread over the wait, as stray timers would come: not a
		 * wait for any state. */
		ringo_sleep(MS / 5);
	}
	ssize_t w = write(sp->peer, "data", 4);
	(void)w;
	ringo_wg_done(&sp->done);
}

static const struct ringo__pd_call test_call = {
	"test_spurious_unblock", RINGO__PD_KINDS_CONN
};

static int test_spurious_unblock(void)
{
	int sv[2];
	struct ringo__pd *pd;
	char buf[8];

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			     0, sv), 0);
	ASSERT_EQ(ringo__pd_open(sv[0], RINGO__PD_STREAM, AF_UNIX, &pd), 0);
	for (int round = 0; round < 3; round++) {
		struct spur sp = { pd, sv[1], 0, RINGO_WG_INITIALIZER };
		ringo_wg_add(&sp.done, 1);
		ringo_go(unblocker, &sp);
		struct ringo__pd *p;
		ASSERT_EQ(ringo__pd_acquire(&test_call, ringo__pd_handle(pd),
					    RINGO__PD_READ, &p), 0);
		ASSERT(p == pd);
		ssize_t n = ringo__netpoll->recv(pd, buf, sizeof(buf), 0);
		ringo__pd_release(pd, RINGO__PD_READ);
		atomic_store(&sp.stop, 1);
		ASSERT_EQ(n, 4);
		ASSERT(memcmp(buf, "data", 4) == 0);
		ringo_wg_wait(&sp.done);
	}
	ASSERT_EQ(ringo__pd_close(&test_call, ringo__pd_handle(pd)), 0);
	close(sv[1]);
	return 0;
}

/* ---- files ---- */

static char dir[64];

#define FILE_SIZE (256 * 1024)

static int make_file(const char *path, int seed)
{
	ringo_file *f;
	static char buf[FILE_SIZE];

	for (int i = 0; i < FILE_SIZE; i++)
		buf[i] = (char)(i * 7 + seed);
	ASSERT_EQ(ringo_file_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600,
				  &f), 0);
	ASSERT_EQ(ringo_file_write_at(f, buf, FILE_SIZE, 0), FILE_SIZE);
	ASSERT_EQ(ringo_file_datasync(f), 0);
	ASSERT_EQ(ringo_file_close(f), 0);
	return 0;
}

static int test_file_ops(void)
{
	char path[128];
	ringo_file *f;
	struct stat st;
	char buf[100];

	snprintf(path, sizeof(path), "%s/ops", dir);
	if (make_file(path, 1))
		return 1;
	ASSERT_EQ(ringo_fs_stat(path, &st), 0);
	ASSERT_EQ(st.st_size, FILE_SIZE);
	ASSERT(S_ISREG(st.st_mode));
	ASSERT_EQ(ringo_file_open(path, O_RDWR, 0, &f), 0);
	ASSERT_EQ(ringo_file_stat(f, &st), 0);
	ASSERT_EQ(st.st_size, FILE_SIZE);
	ASSERT_EQ(ringo_file_read_at(f, buf, 100, 1000), 100);
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(buf[i], (char)((1000 + i) * 7 + 1));
	ASSERT_EQ(ringo_file_read_at(f, buf, 100, FILE_SIZE - 10), 10);
	ASSERT_EQ(ringo_file_read_at(f, buf, 100, FILE_SIZE), 0);
	ASSERT_EQ(ringo_file_write_at(f, "hello", 5, FILE_SIZE), 5);
	ASSERT_EQ(ringo_file_sync(f), 0);
	ASSERT_EQ(ringo_file_stat(f, &st), 0);
	ASSERT_EQ(st.st_size, FILE_SIZE + 5);
	ASSERT_EQ(ringo_file_close(f), 0);
	EXPECT_ERR(ringo_fs_stat("/nonexistent/ringo", &st), -ENOENT);
	EXPECT_ERR(ringo_file_open("/nonexistent/ringo", O_RDONLY, 0, &f),
		   -ENOENT);
	unlink(path);
	return 0;
}

struct reader {
	ringo_file *f;
	int seed;
	ringo_chan *done;
};

static void file_reader(void *arg)
{
	struct reader *r = arg;
	char buf[4096];
	int bad = 0;

	for (int64_t off = 0; off < FILE_SIZE; off += (int64_t)sizeof(buf)) {
		if (ringo_file_read_at(r->f, buf, sizeof(buf), off) !=
		    (ssize_t)sizeof(buf)) {
			bad = 1;
			break;
		}
		for (int i = 0; i < (int)sizeof(buf); i += 97)
			if (buf[i] != (char)((off + i) * 7 + r->seed))
				bad = 1;
	}
	ringo_chan_send(r->done, &bad);
}

/* n goroutines read the files, which are first dropped from the page
 * cache: a cached read is a plain preadv2 that never reaches the ring
 * (io/uring_ops.c), and would show nothing about the ring's reads. */
static int read_round(ringo_file **f, int nfiles, int n)
{
	struct reader r[64];

	for (int i = 0; i < nfiles; i++)
		ASSERT_EQ(posix_fadvise(ringo_file_fd(f[i]), 0, 0,
					POSIX_FADV_DONTNEED), 0);
	ringo_chan *done = ringo_chan_make(sizeof(int), (size_t)n);

	for (int i = 0; i < n; i++) {
		r[i] = (struct reader){ f[i % nfiles], i % nfiles, done };
		ringo_go(file_reader, &r[i]);
	}
	int bad = done_wait(done, n);
	ringo_chan_free(done);
	ASSERT_EQ(bad, 0);
	return 0;
}

static int test_file_readers_no_threads(void)
{
	enum { FILES = 8, READERS = 64 };
	ringo_file *f[FILES];
	char path[128];

	if (!uring_mode())
		return 0; /* epoll blocks an M per read: nothing to check */
	for (int i = 0; i < FILES; i++) {
		snprintf(path, sizeof(path), "%s/r%d", dir, i);
		if (make_file(path, i))
			return 1;
		ASSERT_EQ(ringo_file_open(path, O_RDONLY, 0, &f[i]), 0);
	}
	/* Warm up: whatever Ms the scheduler wants for this load exist. */
	if (read_round(f, FILES, READERS))
		return 1;
	int iou0, iou1;
	int t0 = test_count_threads(&iou0);
	for (int round = 0; round < 5; round++)
		if (read_round(f, FILES, READERS))
			return 1;
	int t1 = test_count_threads(&iou1);
	ASSERT(t0 > 0);
	/* No M blocked in a read, so none had to be started for the others
	 * (epoll mode's handoff starts one per blocked read: 64 here). The
	 * scheduler may still start an M to run an idle P while another
	 * sleeps in the ring: at most one M per P plus the one blocked in
	 * the ring (m0 is one of the Ms), plus sysmon's thread and this
	 * test's watchdog. */
	int bound = ringo_maxprocs() + 3;
	if (t1 > t0 && t1 > bound)
		TEST_FAIL("threads grew from %d to %d (io-wq workers %d, %d); "
			  "bound %d", t0, t1, iou0, iou1, bound);
	for (int i = 0; i < FILES; i++) {
		ASSERT_EQ(ringo_file_close(f[i]), 0);
		snprintf(path, sizeof(path), "%s/r%d", dir, i);
		unlink(path);
	}
	return 0;
}

/* ---- CQ overflow ---- */

struct client {
	const char *addr;
	ringo_chan *done;
};

static void echo_client(void *arg)
{
	struct client *cl = arg;
	ringo_conn *c;
	char msg[32], back[32];
	int bad = 1;

	if (ringo_net_dial("tcp", cl->addr, &c) == 0) {
		bad = 0;
		for (int i = 0; i < 20 && !bad; i++) {
			int n = snprintf(msg, sizeof(msg), "m%d", i);
			if (ringo_conn_write_all(c, msg, (size_t)n) != n ||
			    ringo_conn_read_full(c, back, (size_t)n) != n ||
			    memcmp(msg, back, (size_t)n) != 0)
				bad = 1;
		}
		ringo_conn_close(c);
	}
	ringo_chan_send(cl->done, &bad);
}

/* With RINGO_URING_CQ_ENTRIES=4, hundreds of requests complete at once:
 * the kernel parks the excess in its overflow list and reap() moves it
 * in, so no completion (and no goroutine) is lost. */
static int overflow_main(void *arg)
{
	int n = *(int *)arg;
	struct echo_server s;
	struct client cl[256];
	ringo_chan *done = ringo_chan_make(sizeof(int), (size_t)n);

	if (!uring_mode())
		return 77;
	ASSERT_EQ(echo_start(&s, "tcp", "127.0.0.1:0"), 0);
	for (int i = 0; i < n; i++) {
		cl[i] = (struct client){ s.addr_str, done };
		ringo_go(echo_client, &cl[i]);
	}
	ASSERT_EQ(done_wait(done, n), 0);
	ringo_chan_free(done);
	ASSERT_EQ(echo_stop(&s), 0);
	struct ringo__uring_stats st;
	ringo__uring_stats(&st);
	ASSERT_GE(st.overflow_flush_nr, 1);
	return 0;
}

static int test_cq_overflow(void)
{
	int n = TEST_SCALE(256, 128, 64);
	struct ringo_config cfg = { .netpoll = "uring" };

	setenv("RINGO_URING_CQ_ENTRIES", "4", 1);
	int r = ringo_run_config(&cfg, overflow_main, &n);
	unsetenv("RINGO_URING_CQ_ENTRIES");
	if (r == 77)
		return 0;
	ASSERT_EQ(r, 0);
	return 0;
}

/* ---- multishot receive (opt-in: RINGO_URING_MSRECV=1) ---- */

#define STREAM_BYTES (1 << 20)

struct streamer {
	ringo_conn *c;
	int chunk;
};

static void stream_out(void *arg)
{
	struct streamer *st = arg;
	char buf[7000];
	int64_t off = 0;

	while (off < STREAM_BYTES) {
		int n = st->chunk;
		if (off + n > STREAM_BYTES)
			n = (int)(STREAM_BYTES - off);
		for (int i = 0; i < n; i++)
			buf[i] = (char)((off + i) % 251);
		if (ringo_conn_write_all(st->c, buf, (size_t)n) != n)
			break;
		off += n;
	}
	ringo_conn_close(st->c);
}

/* Every byte arrives once and in order, however the reads are cut and
 * however slowly they come (the per-connection cap cancels and re-arms),
 * then end of stream, and it stays there. */
static int stream_in(ringo_conn *c, size_t rlen, int64_t pause)
{
	static char buf[5000];
	int64_t off = 0;
	ssize_t n;

	while ((n = ringo_conn_read(c, buf, rlen)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != (char)((off + i) % 251))
				TEST_FAIL("byte %lld: got %d", (long long)(off + i),
					  buf[i]);
		off += n;
		if (pause && off % (64 * 1024) < (int64_t)rlen)
			ringo_sleep(pause); /* the slow reader is the test */
	}
	ASSERT_EQ(n, 0);
	ASSERT_EQ(off, STREAM_BYTES);
	ASSERT_EQ(ringo_conn_read(c, buf, rlen), 0);
	return 0;
}

static int ms_main(void *arg)
{
	(void)arg;
	ringo_conn *a, *b;
	char buf[16];

	if (!uring_mode())
		return 77;
	const size_t rlens[] = { 1, 100, 4096, 5000 };
	for (int k = 0; k < 4; k++) {
		if (conn_pair(&a, &b))
			return 1;
		struct streamer st = { b, k % 2 ? 7000 : 333 };
		ringo_go(stream_out, &st);
		if (stream_in(a, rlens[k], k == 2 ? MS : 0))
			return 1;
		ASSERT_EQ(ringo_conn_close(a), 0);
	}
	if (test_spurious_unblock())
		return 1;
	/* Deadline and close while the multishot request is armed. */
	if (conn_pair(&a, &b))
		return 1;
	ASSERT_EQ(ringo_conn_write(b, "x", 1), 1);
	ASSERT_EQ(ringo_conn_read(a, buf, sizeof(buf)), 1);
	ASSERT_EQ(ringo_conn_set_read_deadline(a, ringo_now() + 20 * MS), 0);
	EXPECT_ERR(ringo_conn_read(a, buf, sizeof(buf)), -ETIMEDOUT);
	ASSERT_EQ(ringo_conn_set_read_deadline(a, 0), 0);
	ASSERT_EQ(ringo_conn_write(b, "yz", 2), 2);
	ASSERT_EQ(ringo_conn_read_full(a, buf, 2), 2);
	ASSERT(memcmp(buf, "yz", 2) == 0);
	struct blocked bl = { a, ringo_chan_make(sizeof(int), 1) };
	go_named("reader", blocked_reader, &bl);
	test_wait_parked(1, "reader", "IO wait", NULL);
	ASSERT_EQ(ringo_conn_close(a), 0);
	int r;
	ASSERT(ringo_chan_recv(bl.done, &r));
	EXPECT_ERR(r, -ECANCELED);
	ringo_chan_free(bl.done);
	ASSERT_EQ(ringo_conn_close(b), 0);
	return 0;
}

static int test_msrecv(const char *nbufs, bool want_enobufs)
{
	struct ringo_config cfg = { .netpoll = "uring" };

	setenv("RINGO_URING_MSRECV", "1", 1);
	setenv("RINGO_URING_BUFS", nbufs, 1);
	int r = ringo_run_config(&cfg, ms_main, NULL);
	struct ringo__uring_stats st;
	ringo__uring_stats(&st);
	unsetenv("RINGO_URING_MSRECV");
	unsetenv("RINGO_URING_BUFS");
	if (r == 77)
		return 0;
	ASSERT_EQ(r, 0);
	if (getenv("URING_IO_VERBOSE"))
		fprintf(stderr, "msrecv bufs=%s: enobufs %llu capped %llu\n",
			nbufs, (unsigned long long)st.enobufs_nr,
			(unsigned long long)st.capped_nr);
	if (want_enobufs)
		ASSERT_GE(st.enobufs_nr, 1);
	else
		ASSERT_GE(st.capped_nr, 1); /* the slow reader hit the cap */
	return 0;
}

/* ---- main returns while goroutines wait in the ring ---- */

static void sender_later(void *arg)
{
	ringo_sleep(5 * MS); /* to send around main's return, by design */
	ringo_conn_write(arg, "late", 4);
}

/* Readers park in requests the kernel holds, one peer sends from a
 * goroutine, and main returns: the requests are cancelled and drained
 * without touching the discarded goroutines (ASan checks), and the next
 * ringo_run starts clean. */
static ringo_chan *exit_done;

static int exit_main(void *arg)
{
	static ringo_conn *a[32], *b[32];
	static struct blocked bl[32];
	int n = *(int *)arg;
	ringo_chan *done = exit_done = ringo_chan_make(sizeof(int), 32);

	for (int i = 0; i < n; i++) {
		if (conn_pair(&a[i], &b[i]))
			return 1;
		bl[i] = (struct blocked){ a[i], done };
		go_named("reader", blocked_reader, &bl[i]);
		if (i % 2)
			ringo_go(sender_later, b[i]);
	}
	/* Each reader parked, or done if its send came first. */
	while (test_parked("reader", "IO wait", NULL) +
	       (int)ringo_chan_len(done) < n)
		ringo_yield();
	return 0; /* with readers parked and sends on their way */
}

static int test_exit_with_requests(void)
{
	int n = 32;

	for (int round = 0; round < 3; round++) {
		ASSERT_EQ(ringo_run(exit_main, &n), 0);
		ringo_chan_free(exit_done); /* its readers are gone */
	}
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_read_deadline);
	RUN(test_deadline_extended);
	RUN(test_deadline_shortened);
	RUN(test_close_cancels);
	RUN(test_listener_close_cancels);
	RUN(test_udp);
	RUN(test_spurious_unblock);
	RUN(test_file_ops);
	RUN(test_file_readers_no_threads);
	return 0;
}

int main(void)
{
	test_watchdog(240);
	nofile_raise();
	/* In the working directory (meson's build tree), not /tmp: on a
	 * tmpfs dropping pages from the cache does nothing, and the reads
	 * of test_file_readers_no_threads would never reach the ring. */
	snprintf(dir, sizeof(dir), "ringo-uring-io-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	int r = ringo_run(main_fn, NULL);
	if (r == 0) {
		const char *mode = getenv("RINGO_NETPOLL");
		if (!mode || strcmp(mode, "uring") == 0)
			r = test_cq_overflow() || test_msrecv("1024", false) ||
			    test_msrecv("2", true);
		if (r == 0)
			r = test_exit_with_requests();
	}
	rmdir(dir);
	return r;
}
