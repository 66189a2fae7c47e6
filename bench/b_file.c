/*
 * bench/b_file.c - file benchmarks: file. Mirrors benchFile in
 * bench/go/file.go.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringo/fs.h>
#include <ringo/ringo.h>
#include <ringo/sync.h>

#include "bench.h"
#include "latch.h"

#define FILE_BYTES (16L << 20)
#define BLOCK 4096L
#define READERS 64

/* ------------------------------------------------------------------------
 * file: READERS goroutines read one 16 MiB file (in the page cache after
 * it is written) in 4 KiB blocks with ringo_file_read_at, N reads in all.
 * ns_per_op = time per read. threads_created = threads the process gained
 * while reading (io_uring's io-wq workers included); each repetition is a
 * fresh process, as in `handoff` (b_sysmon.c, the same reads with O_DIRECT,
 * so that each waits for the disk), so threads an earlier one made do not
 * hide. A cached read completes at once in every mode: what differs is
 * its path (the ring and a park, or pread on the M). */

struct file_run {
	ringo_file *f;
	long per;          /* reads per goroutine */
	atomic_int failed; /* 0, or the first bad read's result */
	ringo_wg wg;
};

struct file_reader {
	struct file_run *fr;
	long first;        /* block index where this reader starts */
};

static void file_reader(void *arg)
{
	struct file_reader *rd = arg;
	struct file_run *fr = rd->fr;
	char buf[BLOCK];

	for (long i = 0; i < fr->per; i++) {
		long block = (rd->first + i) % (FILE_BYTES / BLOCK);
		ssize_t k = ringo_file_read_at(fr->f, buf, BLOCK, block * BLOCK);
		if (k != BLOCK) {
			int zero = 0;
			atomic_compare_exchange_strong(&fr->failed, &zero, k < 0 ? (int)k : -EIO);
			break;
		}
	}
	ringo_wg_done(&fr->wg);
}

/* A FILE_BYTES file, already unlinked, open for reading into *f. */
static int make_file(ringo_file **f)
{
	const char *tmp = getenv("TMPDIR");
	char path[512];
	int fd, err;

	snprintf(path, sizeof(path), "%s/ringo-bench-file.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if ((fd = mkstemp(path)) < 0) {
		fprintf(stderr, "ringo-bench: file: mkstemp %s: %s\n", path, strerror(errno));
		return -1;
	}
	close(fd);
	err = ringo_file_open(path, O_RDWR, 0, f);
	unlink(path);
	if (err) {
		fprintf(stderr, "ringo-bench: file: open %s: %s\n", path, strerror(-err));
		return -1;
	}
	char *chunk = malloc(1 << 20);
	if (!chunk) {
		fprintf(stderr, "ringo-bench: file: out of memory\n");
		ringo_file_close(*f);
		return -1;
	}
	for (long i = 0; i < (1 << 20); i++)
		chunk[i] = (char)(i * 131);
	ssize_t n = 1 << 20;
	for (long off = 0; off < FILE_BYTES && n == 1 << 20; off += 1 << 20)
		n = ringo_file_write_at(*f, chunk, 1 << 20, off);
	free(chunk);
	if (n != 1 << 20) {
		fprintf(stderr, "ringo-bench: file: write: %s\n",
			n < 0 ? strerror((int)-n) : "short write");
		ringo_file_close(*f);
		return -1;
	}
	return 0;
}

static int run_file(long n, struct bench_sample *s)
{
	struct file_run fr = { .per = n / READERS, .wg = RINGO_WG_INITIALIZER };
	struct file_reader rd[READERS];
	struct bench_clock c;

	if (make_file(&fr.f) != 0)
		return -1;
	ringo_wg_add(&fr.wg, READERS);
	int before = sys_threads();
	bench_clock_start(&c);
	for (int i = 0; i < READERS; i++) {
		rd[i] = (struct file_reader){ &fr, i * fr.per };
		ringo_go(file_reader, &rd[i]);
	}
	ringo_wg_wait(&fr.wg);
	bench_clock_stop(&c, (double)(fr.per * READERS), s);
	int after = sys_threads();

	/* Let the last reader leave ringo_wg_done before fr goes away. */
	bench_wait_alone();
	ringo_file_close(fr.f);
	if (atomic_load(&fr.failed)) {
		fprintf(stderr, "ringo-bench: file: a read returned %d (%s)\n",
			atomic_load(&fr.failed), strerror(-atomic_load(&fr.failed)));
		return -1;
	}
	if (before >= 0 && after >= 0)
		bench_set(s, BENCH_THREADS_CREATED, after - before);
	return 0;
}

const struct bench bench_file = {
	.name = "file",
	.desc = "64 goroutines reading one cached file in 4 KiB blocks (ringo_file_read_at)",
	.per_mode = true,
	.fresh = true,
	.n_quick = 256000,
	.n_full = 2560000,
	.run = run_file,
	.go_name = "file",
};
