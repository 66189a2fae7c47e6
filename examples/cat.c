/*
 * examples/cat.c - copy a file with many goroutines, each reading and
 * writing its own 64 KiB chunks at their offsets (Go's ReadAt/WriteAt),
 * joined with a wait group. With io_uring every read and write runs in
 * the ring and only its goroutine waits; with epoll each call blocks the
 * thread it runs on (see ringo/fs.h).
 *
 *   cat [--mode uring|epoll] [--jobs N] SRC DST
 *
 * Goroutine i copies chunks i, i+N, i+2N, ... (N defaults to 16). Exits
 * non-zero with a message on any error, including a short read (SRC
 * shrank while being copied). With no arguments it tests itself: copies
 * a few MB of a known pattern through temporary files, compares the
 * copy byte for byte and removes both.
 */
#include <ringo/ringo.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CHUNK = 64 * 1024 };

struct copy {
	ringo_file *src, *dst;
	int64_t size;   /* bytes of SRC when the copy started */
	int jobs;
	atomic_int failed; /* set by the first worker that fails; others stop */
	ringo_wg wg;
};

struct job {
	struct copy *c;
	int id;
	char err[128]; /* empty unless this worker failed */
};

static void copy_chunks(void *arg)
{
	struct job *j = arg;
	struct copy *c = j->c;
	char *buf = malloc(CHUNK); /* too big for a goroutine's stack */
	int64_t stride = (int64_t)c->jobs * CHUNK;

	if (!buf)
		snprintf(j->err, sizeof(j->err), "out of memory");
	for (int64_t off = (int64_t)j->id * CHUNK; buf && off < c->size;
	     off += stride) {
		if (atomic_load(&c->failed))
			break;
		size_t len = c->size - off < CHUNK ? (size_t)(c->size - off)
						   : CHUNK;
		ssize_t n = ringo_file_read_at(c->src, buf, len, off);
		if (n >= 0 && (size_t)n < len)
			snprintf(j->err, sizeof(j->err),
				 "short read at %lld: %zd of %zu bytes",
				 (long long)off, n, len);
		else if (n < 0)
			snprintf(j->err, sizeof(j->err), "read at %lld: %s",
				 (long long)off, strerror((int)-n));
		else if ((n = ringo_file_write_at(c->dst, buf, len, off)) < 0)
			snprintf(j->err, sizeof(j->err), "write at %lld: %s",
				 (long long)off, strerror((int)-n));
		else if ((size_t)n < len)
			snprintf(j->err, sizeof(j->err),
				 "short write at %lld: %zd of %zu bytes",
				 (long long)off, n, len);
		if (j->err[0])
			break;
	}
	if (j->err[0])
		atomic_store(&c->failed, 1);
	free(buf);
	ringo_wg_done(&c->wg);
}

/* Copy src to dst with `jobs` goroutines; 0 or 1 (after a message). */
static int copy_file(const char *src, const char *dst, int jobs)
{
	struct copy c = { .jobs = jobs };
	struct stat st, dst_st;
	struct job *js = NULL;
	int err, rc = 1;

	if ((err = ringo_file_open(src, O_RDONLY, 0, &c.src))) {
		fprintf(stderr, "cat: %s: %s\n", src, strerror(-err));
		return 1;
	}
	if ((err = ringo_file_stat(c.src, &st))) {
		fprintf(stderr, "cat: %s: %s\n", src, strerror(-err));
		goto out_src;
	}
	if (ringo_fs_stat(dst, &dst_st) == 0 && dst_st.st_dev == st.st_dev &&
	    dst_st.st_ino == st.st_ino) {
		fprintf(stderr, "cat: %s and %s are the same file\n", src, dst);
		goto out_src;
	}
	if ((err = ringo_file_open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644,
				   &c.dst))) {
		fprintf(stderr, "cat: %s: %s\n", dst, strerror(-err));
		goto out_src;
	}
	if (!(js = calloc((size_t)jobs, sizeof(*js)))) {
		fprintf(stderr, "cat: out of memory\n");
		goto out_dst;
	}
	c.size = st.st_size;
	ringo_wg_init(&c.wg);
	ringo_wg_add(&c.wg, jobs);
	for (int i = 0; i < jobs; i++) {
		js[i] = (struct job){ .c = &c, .id = i };
		ringo_go(copy_chunks, &js[i]);
	}
	ringo_wg_wait(&c.wg);
	rc = 0;
	for (int i = 0; i < jobs; i++)
		if (js[i].err[0]) {
			fprintf(stderr, "cat: %s -> %s: %s\n", src, dst,
				js[i].err);
			rc = 1;
		}
	free(js);
out_dst:
	/* close(2) can report a failed write-back. */
	if ((err = ringo_file_close(c.dst)) && !rc) {
		fprintf(stderr, "cat: %s: %s\n", dst, strerror(-err));
		rc = 1;
	}
out_src:
	ringo_file_close(c.src);
	return rc;
}

/* The self-test's pattern: no period that divides a chunk. */
static char pattern(int64_t i)
{
	return (char)(i * 7 + (i >> 13) + (i >> 16) * 3);
}

/* Write or check `size` bytes of pattern(); 0 or 1 (after a message). */
static int pattern_io(const char *path, int64_t size, int check)
{
	static char buf[CHUNK], want[CHUNK];
	ringo_file *f;
	int err, rc = 1;

	err = ringo_file_open(path, check ? O_RDONLY : O_WRONLY | O_TRUNC, 0,
			      &f);
	if (err) {
		fprintf(stderr, "cat: %s: %s\n", path, strerror(-err));
		return 1;
	}
	for (int64_t off = 0; off < size; off += CHUNK) {
		size_t len = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		for (size_t i = 0; i < len; i++)
			want[i] = pattern(off + (int64_t)i);
		ssize_t n = check ? ringo_file_read_at(f, buf, len, off)
				  : ringo_file_write_at(f, want, len, off);
		if (n != (ssize_t)len) {
			fprintf(stderr, "cat: %s at %lld: %s\n", path,
				(long long)off,
				n < 0 ? strerror((int)-n)
				      : check ? "short read" : "short write");
			goto out;
		}
		if (check && memcmp(buf, want, len)) {
			size_t i = 0;
			while (buf[i] == want[i])
				i++;
			fprintf(stderr, "cat: %s differs at byte %lld\n", path,
				(long long)(off + (int64_t)i));
			goto out;
		}
	}
	/* Nothing past the end either. */
	if (check && ringo_file_read_at(f, buf, 1, size) != 0) {
		fprintf(stderr, "cat: %s is longer than %lld bytes\n", path,
			(long long)size);
		goto out;
	}
	rc = 0;
out:
	ringo_file_close(f);
	return rc;
}

static int self_test(int jobs)
{
	const int64_t size = 3 * 1024 * 1024 + 12345; /* a partial last chunk */
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char src[256], dst[256];
	int fd, rc = 1;

	snprintf(src, sizeof(src), "%s/ringo-cat-src-XXXXXX", tmp);
	snprintf(dst, sizeof(dst), "%s/ringo-cat-dst-XXXXXX", tmp);
	if ((fd = mkstemp(src)) < 0) {
		perror("cat: mkstemp");
		return 1;
	}
	close(fd);
	if ((fd = mkstemp(dst)) < 0) {
		perror("cat: mkstemp");
		goto out_src;
	}
	close(fd);
	if (pattern_io(src, size, 0) || copy_file(src, dst, jobs) ||
	    pattern_io(dst, size, 1))
		goto out;
	printf("copied %lld bytes with %d goroutines: copy matches\n",
	       (long long)size, jobs);
	rc = 0;
out:
	unlink(dst);
out_src:
	unlink(src);
	return rc;
}

struct args {
	const char *src, *dst;
	int jobs;
};

static int main_g(void *arg)
{
	struct args *a = arg;

	return a->src ? copy_file(a->src, a->dst, a->jobs) : self_test(a->jobs);
}

int main(int argc, char **argv)
{
	struct ringo_config cfg = { 0 };
	struct args a = { .jobs = 16 };
	const char *paths[2];
	int npaths = 0;
	char *end;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			cfg.netpoll = argv[++i];
		} else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
			long n = strtol(argv[++i], &end, 10);
			if (*end || n < 1 || n > 4096)
				goto usage;
			a.jobs = (int)n;
		} else if (argv[i][0] != '-' && npaths < 2) {
			paths[npaths++] = argv[i];
		} else {
			goto usage;
		}
	}
	if (npaths == 1)
		goto usage;
	if (npaths == 2) {
		a.src = paths[0];
		a.dst = paths[1];
	}
	return ringo_run_config(&cfg, main_g, &a);
usage:
	fprintf(stderr, "usage: %s [--mode uring|epoll] [--jobs N] SRC DST\n"
			"       %s  (no arguments: copy a test file and check it)\n",
		argv[0], argv[0]);
	return 2;
}
