/*
 * tests/fs_io.c - files: what ringo_file_write_at writes, plain pread
 * reads back, and the other way round, over random chunks and offsets
 * (holes included); reads at and past the end; stat and sync; many
 * goroutines reading and writing disjoint ranges of one file at once;
 * errors (-ENOENT, -EINVAL, -EBADF after close, -EISDIR, fsync's
 * -EINVAL); O_CLOEXEC. A file without offsets (a FIFO) fails reads and
 * writes at an offset with -ESPIPE in both modes: the ring would
 * ignore the offset and write into the FIFO.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include <ringo/fs.h>

#include "net_helpers.h"

#define SIZE (4u << 20)

static char path[128], fifo[160];

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int test_against_plain(void)
{
	ringo_file *f;
	unsigned char *model = calloc(1, SIZE), *buf = malloc(SIZE);
	uint64_t s = 42;
	size_t end = 0;

	ASSERT(model && buf);
	ASSERT_EQ(ringo_file_open(path, O_RDWR | O_CREAT | O_TRUNC, 0600, &f), 0);
	int fd = ringo_file_fd(f);
	ASSERT(fd >= 0);
	ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* Random writes through ringo; the model is what the file holds. */
	for (int i = 0; i < 200; i++) {
		size_t off = rnd(&s) % (SIZE - 65536), len = 1 + rnd(&s) % 65536;
		for (size_t k = 0; k < len; k++)
			buf[k] = (unsigned char)rnd(&s);
		ASSERT_EQ(ringo_file_write_at(f, buf, len, (int64_t)off), len);
		memcpy(model + off, buf, len);
		if (off + len > end)
			end = off + len;
	}
	/* Plain pread sees exactly that. */
	ASSERT_EQ(pread(fd, buf, SIZE, 0), end);
	ASSERT(memcmp(buf, model, end) == 0);
	/* Plain pwrite, then ringo reads it back in random pieces. */
	for (size_t k = 0; k < end; k++)
		model[k] = (unsigned char)(k * 7 + 3);
	ASSERT_EQ(pwrite(fd, model, end, 0), end);
	for (int i = 0; i < 200; i++) {
		size_t off = rnd(&s) % end, len = 1 + rnd(&s) % 100000;
		size_t want = off + len <= end ? len : end - off;
		ASSERT_EQ(ringo_file_read_at(f, buf, len, (int64_t)off), want);
		ASSERT(memcmp(buf, model + off, want) == 0);
	}
	/* The whole file in one call; at and past the end. */
	ASSERT_EQ(ringo_file_read_at(f, buf, SIZE, 0), end);
	ASSERT(memcmp(buf, model, end) == 0);
	ASSERT_EQ(ringo_file_read_at(f, buf, 10, (int64_t)end), 0);
	ASSERT_EQ(ringo_file_read_at(f, buf, 10, (int64_t)end + 100), 0);
	EXPECT_ERR(ringo_file_read_at(f, buf, 10, -1), -EINVAL);

	struct stat st, st2;
	ASSERT_EQ(ringo_file_stat(f, &st), 0);
	ASSERT_EQ(st.st_size, end);
	ASSERT(S_ISREG(st.st_mode));
	ASSERT_EQ(fstat(fd, &st2), 0);
	ASSERT_EQ(st.st_ino, st2.st_ino);
	ASSERT_EQ(st.st_dev, st2.st_dev);
	ASSERT_EQ(st.st_mtim.tv_sec, st2.st_mtim.tv_sec);
	ASSERT_EQ(st.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
	ASSERT_EQ(ringo_file_sync(f), 0);
	ASSERT_EQ(ringo_file_datasync(f), 0);
	ASSERT_EQ(ringo_file_close(f), 0);

	/* Closed: every call says so. */
	EXPECT_ERR(ringo_file_read_at(f, buf, 1, 0), -EBADF);
	EXPECT_ERR(ringo_file_write_at(f, buf, 1, 0), -EBADF);
	EXPECT_ERR(ringo_file_stat(f, &st), -EBADF);
	EXPECT_ERR(ringo_file_sync(f), -EBADF);
	EXPECT_ERR(ringo_file_fd(f), -EBADF);
	EXPECT_ERR(ringo_file_close(f), -EBADF);

	ASSERT_EQ(ringo_fs_stat(path, &st), 0);
	ASSERT_EQ(st.st_size, end);
	free(model);
	free(buf);
	return 0;
}

/* Goroutines each own a 64 KB stripe: write it, read it back. */
static ringo_file *shared;
static ringo_chan *done;

static void striper(void *arg)
{
	int id = (int)(intptr_t)arg, bad = 0;
	unsigned char w[65536], r[65536];
	int64_t off = (int64_t)id * (int64_t)sizeof(w);

	for (int round = 0; round < 4 && !bad; round++) {
		memset(w, id * 4 + round, sizeof(w));
		bad = ringo_file_write_at(shared, w, sizeof(w), off) != sizeof(w) ||
		      ringo_file_read_at(shared, r, sizeof(r), off) != sizeof(r) ||
		      memcmp(w, r, sizeof(r)) != 0;
	}
	done_signal(done, bad);
}

static int test_concurrent(void)
{
	int n = TEST_SCALE(64, 32, 16);

	ASSERT_EQ(ringo_file_open(path, O_RDWR | O_TRUNC, 0, &shared), 0);
	done = ringo_chan_make(sizeof(int), (size_t)n);
	for (int i = 0; i < n; i++)
		ringo_go_opts(&(struct ringo_go_opts){ .stack_size = 256 << 10 },
			      striper, (void *)(intptr_t)i);
	ASSERT_EQ(done_wait(done, n), 0);
	struct stat st;
	ASSERT_EQ(ringo_file_stat(shared, &st), 0);
	ASSERT_EQ(st.st_size, (int64_t)n * 65536);
	ASSERT_EQ(ringo_file_close(shared), 0);
	ringo_chan_free(done);
	return 0;
}

static int test_errors(void)
{
	ringo_file *f;
	struct stat st;
	char buf[4];

	EXPECT_ERR(ringo_file_open("/nonexistent/ringo", O_RDONLY, 0, &f), -ENOENT);
	EXPECT_ERR(ringo_fs_stat("/nonexistent/ringo", &st), -ENOENT);
	EXPECT_ERR(ringo_file_open("/tmp", O_RDWR, 0, &f), -EISDIR);
	ASSERT_EQ(ringo_file_open(path, O_RDONLY, 0, &f), 0);
	EXPECT_ERR(ringo_file_write_at(f, "x", 1, 0), -EBADF); /* read-only */
	ASSERT_EQ(ringo_file_read_at(f, buf, 0, 0), 0);
	EXPECT_ERR(ringo_file_write_at(f, "x", 1, -1), -EINVAL);
	ASSERT_EQ(ringo_file_close(f), 0);
	/* A device without fsync: the kernel's error comes back. */
	ASSERT_EQ(ringo_file_open("/dev/null", O_WRONLY, 0, &f), 0);
	EXPECT_ERR(ringo_file_sync(f), -EINVAL);
	EXPECT_ERR(ringo_file_datasync(f), -EINVAL);
	ASSERT_EQ(ringo_file_close(f), 0);
	return 0;
}

static int test_fifo(void)
{
	char buf[8];
	ringo_file *f;

	ASSERT_EQ(mkfifo(fifo, 0600), 0);
	/* O_RDWR: the open does not wait for a writer or a reader. */
	ASSERT_EQ(ringo_file_open(fifo, O_RDWR, 0, &f), 0);
	EXPECT_ERR(ringo_file_write_at(f, "hello", 5, 0), -ESPIPE);
	/* Nothing went in: a plain read of the FIFO finds it empty. */
	int fd = open(fifo, O_RDONLY | O_NONBLOCK);
	ASSERT(fd >= 0);
	ASSERT_EQ(read(fd, buf, sizeof(buf)), -1);
	ASSERT_EQ(errno, EAGAIN);
	/* With data in it, a read at an offset still refuses. */
	ASSERT_EQ(write(ringo_file_fd(f), "data", 4), 4);
	EXPECT_ERR(ringo_file_read_at(f, buf, sizeof(buf), 0), -ESPIPE);
	ASSERT_EQ(read(fd, buf, sizeof(buf)), 4);
	ASSERT_EQ(close(fd), 0);
	ASSERT_EQ(ringo_file_close(f), 0);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	snprintf(path, sizeof(path), "/tmp/ringo-fs-io-%d", getpid());
	snprintf(fifo, sizeof(fifo), "%s.fifo", path);
	int r = test_against_plain() || test_concurrent() || test_errors() ||
		test_fifo();
	unlink(path);
	unlink(fifo);
	return r;
}

int main(void)
{
	test_watchdog(120);
	return ringo_run(main_fn, NULL);
}
