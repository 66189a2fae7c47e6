/*
 * bench/b_sysmon.c - what sysmon buys: preemption of CPU hogs (hog) and
 * the P handed off around blocking file reads (handoff). Each mirrors the
 * function of the same name in bench/go/sysmon.go.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringo/ringo.h>

#include "bench.h"
#include "latch.h"

/* ------------------------------------------------------------------------
 * hog: a goroutine per P spins in a loop with no calls (only asynchronous
 * preemption can take its P), while a ping-pong pair does N round trips
 * over unbuffered channels, each timed. ns_per_op = mean round trip,
 * p99_ns = 99th percentile: how long a goroutine can be kept waiting by
 * hogs (about one 10 ms slice when preemption works; forever without). */

static _Atomic int hog_stop;
static struct bench_latch hogs_running;
/* Keeps the hogs' arithmetic alive, as gobench's `sink`. */
static volatile uint64_t sink;

static void hog_spin(void *arg)
{
	struct bench_latch *done = arg;
	uint64_t x = 1;

	bench_latch_count_down(&hogs_running);
	while (!atomic_load_explicit(&hog_stop, memory_order_relaxed))
		for (int i = 0; i < 1 << 20; i++) /* ~1 ms of arithmetic */
			x = x * 6364136223846793005ull + 1442695040888963407ull;
	sink += x;
	bench_latch_count_down(done);
}

struct hog_pair {
	ringo_chan *ping, *pong;
	long n;
	int64_t *lat;
	struct bench_latch done;
};

static void hog_ponger(void *arg)
{
	struct hog_pair *h = arg;
	long v;

	while (ringo_chan_recv(h->ping, &v))
		ringo_chan_send(h->pong, &v);
	bench_latch_count_down(&h->done);
}

static void hog_pinger(void *arg)
{
	struct hog_pair *h = arg;

	for (long i = 0; i < h->n; i++) {
		int64_t t = sys_now_ns();
		ringo_chan_send(h->ping, &i);
		ringo_chan_recv(h->pong, NULL);
		h->lat[i] = sys_now_ns() - t;
	}
	ringo_chan_close(h->ping);
	bench_latch_count_down(&h->done);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int run_hog(long n, struct bench_sample *s)
{
	int procs = ringo_maxprocs();
	struct bench_latch hogs;
	struct hog_pair h = { .n = n };
	struct bench_clock c;

	h.lat = calloc((size_t)n, sizeof(*h.lat));
	h.ping = bench_chan_make(sizeof(long), 0);
	h.pong = bench_chan_make(sizeof(long), 0);
	if (!h.lat || !h.ping || !h.pong || bench_latch_init(&hogs, procs) ||
	    bench_latch_init(&h.done, 2) || bench_latch_init(&hogs_running, procs)) {
		fprintf(stderr, "ringo-bench: hog: out of memory\n");
		return -1;
	}
	atomic_store(&hog_stop, 0);
	for (int i = 0; i < procs; i++)
		ringo_go(hog_spin, &hogs);
	bench_latch_wait(&hogs_running); /* every hog is on a P, as in Go */
	bench_clock_start(&c);
	ringo_go(hog_ponger, &h);
	ringo_go(hog_pinger, &h);
	bench_latch_wait(&h.done);
	bench_clock_stop(&c, (double)n, s);
	atomic_store(&hog_stop, 1);
	bench_latch_wait(&hogs);
	bench_wait_alone();

	int64_t sum = 0;
	for (long i = 0; i < n; i++)
		sum += h.lat[i];
	qsort(h.lat, (size_t)n, sizeof(*h.lat), cmp_i64);
	long rank = (99 * n + 99) / 100; /* ceil(0.99 n), 1-based, as Go's */
	bench_set(s, BENCH_NS_PER_OP, (double)sum / (double)n);
	bench_set(s, BENCH_P99_NS, (double)h.lat[rank - 1]);
	free(h.lat);
	ringo_chan_free(h.ping);
	ringo_chan_free(h.pong);
	ringo_chan_free(h.done.done);
	ringo_chan_free(hogs.done);
	ringo_chan_free(hogs_running.done);
	return 0;
}

const struct bench bench_hog = {
	.name = "hog",
	.desc = "ping-pong round trip while a call-free loop hogs every P",
	.n_quick = 2000,
	.n_full = 20000,
	.run = run_hog,
	.go_name = "hog",
};

/* ------------------------------------------------------------------------
 * handoff: 64 goroutines read random 4 KiB blocks of a 16 MiB file with
 * O_DIRECT, so every read waits for the disk (~100 us here). In io_uring
 * mode a read is an SQE and the goroutine parks; in epoll mode it blocks
 * its thread inside a system-call section and sysmon hands the P to
 * another thread. ns_per_op = wall time / reads; threads_created = OS
 * threads the process gained while reading (kernel io-wq workers
 * included). Each repetition is a fresh process, so threads made by an
 * earlier one do not hide. */

#define HANDOFF_READERS 64
#define HANDOFF_BLOCK 4096
#define HANDOFF_FILE_BYTES (16l << 20)

struct handoff {
	ringo_file *f;
	_Atomic long left;
	_Atomic int failed;
	struct bench_latch done;
};

static void handoff_reader(void *arg)
{
	struct handoff *h = arg;
	void *buf = aligned_alloc(HANDOFF_BLOCK, HANDOFF_BLOCK);
	uint64_t seed = (uint64_t)(uintptr_t)buf | 1;

	while (buf && atomic_fetch_sub(&h->left, 1) > 0) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		int64_t off = (int64_t)((seed >> 33) %
					(HANDOFF_FILE_BYTES / HANDOFF_BLOCK)) *
			      HANDOFF_BLOCK;
		if (ringo_file_read_at(h->f, buf, HANDOFF_BLOCK, off) !=
		    HANDOFF_BLOCK) {
			atomic_store(&h->failed, 1);
			break;
		}
	}
	if (!buf)
		atomic_store(&h->failed, 1);
	free(buf);
	bench_latch_count_down(&h->done);
}

/* The data file, written through the page cache and synced so that the
 * O_DIRECT reads find it on disk. Returns 0 or -1 after saying why. */
static int handoff_file(char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	snprintf(path, len, "%s/ringo-bench-handoff-%d.dat",
		 dir && *dir ? dir : "/tmp", (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char block[HANDOFF_BLOCK];
	memset(block, 'r', sizeof(block));
	for (long done = 0; fd >= 0 && done < HANDOFF_FILE_BYTES; done += HANDOFF_BLOCK)
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block)) {
			close(fd);
			fd = -1;
		}
	if (fd < 0 || fsync(fd) != 0) {
		fprintf(stderr, "ringo-bench: handoff: writing %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

static int run_handoff(long n, struct bench_sample *s)
{
	struct handoff h = { .left = n };
	struct bench_clock c;
	char path[512];
	int ret = 0;

	if (handoff_file(path, sizeof(path)) != 0)
		return -1;
	int err = ringo_file_open(path, O_RDONLY | O_DIRECT, 0, &h.f);
	unlink(path);
	if (err < 0) {
		fprintf(stderr, "ringo-bench: handoff: O_DIRECT open: %s\n",
			strerror(-err));
		return -1;
	}
	if (bench_latch_init(&h.done, HANDOFF_READERS) != 0) {
		ringo_file_close(h.f);
		return -1;
	}
	int before = sys_threads();
	bench_clock_start(&c);
	for (int i = 0; i < HANDOFF_READERS; i++)
		ringo_go(handoff_reader, &h);
	bench_latch_wait(&h.done);
	bench_clock_stop(&c, (double)n, s);
	int after = sys_threads();
	bench_wait_alone();
	if (atomic_load(&h.failed)) {
		fprintf(stderr, "ringo-bench: handoff: a read failed\n");
		ret = -1;
	}
	if (before >= 0 && after >= 0)
		bench_set(s, BENCH_THREADS_CREATED, after - before);
	ringo_file_close(h.f);
	ringo_chan_free(h.done.done);
	return ret;
}

const struct bench bench_handoff = {
	.name = "handoff",
	.desc = "64 goroutines reading a file with O_DIRECT (4 KiB blocks)",
	.per_mode = true,
	.fresh = true,
	.n_quick = 20000,
	.n_full = 200000,
	.run = run_handoff,
	.go_name = "handoff",
};
