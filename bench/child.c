/*
 * bench/child.c - the ringo side of a benchmark, run in fork()ed children.
 *
 * The fork happens before ringo_run, so each child starts a fresh runtime
 * in a process whose heap holds nothing from earlier benchmarks (jemalloc
 * keeps freed pages resident, which would hide or inflate RSS growth).
 * A child sends its sample to the parent as a raw `struct bench_sample`:
 * parent and child are the same binary, so the layout agrees.
 *
 * One call measures one repetition (ringo-bench's rounds give each row
 * one at a time, bench/main.c). Usually one child runs a warm-up and the
 * repetition in one runtime, as the Go twin does in one process; a
 * `fresh` benchmark gets a warm-up child and then a child for the
 * repetition (fresh.c, as the Go twin does). Either way a first run of
 * BENCH_WARMUP_NS or more counts as the repetition instead of being a
 * warm-up (bench.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include <ringo/ringo.h>

#include "bench.h"
#include "proc.h"

struct job {
	const struct bench *b;
	const char *mode; /* netpoll mode; NULL = the runtime's default */
	int procs;
	long n;
	bool warmup; /* a run before the repetition, unless that run is long */
	int timeout_s;
	int fd;      /* in the child: where the sample goes */
};

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t k = write(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* The child's main goroutine: the warm-up rule of bench.h's
 * BENCH_WARMUP_NS (j->warmup false for a fresh process), then the sample
 * to the parent. */
static int job_main(void *arg)
{
	const struct job *j = arg;
	struct bench_sample s;

	for (int i = 0;; i++) {
		s = (struct bench_sample){ 0 };
		int64_t start = sys_now_ns();
		if (j->b->run(j->n, &s) != 0)
			return 1;
		s.run_ns = sys_now_ns() - start;
		if (!bench_has(&s, BENCH_NS_PER_OP)) {
			fprintf(stderr, "ringo-bench: %s: no ns_per_op\n", j->b->name);
			return 1;
		}
		if (i > 0 || !j->warmup || s.run_ns >= BENCH_WARMUP_NS)
			break;
	}
	s.procs = ringo_maxprocs();
	s.n = j->n;
	if (s.v[BENCH_NS_PER_OP] > 0)
		bench_set(&s, BENCH_OPS_PER_S, 1e9 / s.v[BENCH_NS_PER_OP]);
	return write_all(j->fd, &s, sizeof(s)) == 0 ? 0 : 1;
}

static void job_child(void *arg, int wfd)
{
	struct job *j = arg;
	struct ringo_config cfg = { .maxprocs = j->procs, .netpoll = j->mode };

	j->fd = wfd;
	_exit(ringo_run_config(&cfg, job_main, j) == 0 ? 0 : 1);
}

/* Run the job ctx in one child; its sample goes to out. Returns 0, or -1
 * with why filled. A bench_fresh_fn. */
static int run_child(void *ctx, struct bench_sample *out, char *why, size_t why_len)
{
	struct job *j = ctx;
	struct proc pr;
	if (proc_start(&pr, job_child, j, why, why_len) != 0)
		return -1;
	long got = proc_finish(&pr, out, sizeof(*out), j->timeout_s, why, why_len);
	if (got < 0)
		return -1;
	if ((size_t)got != sizeof(*out)) {
		snprintf(why, why_len, "child sent %ld bytes, expected a sample of %zu",
			 got, sizeof(*out));
		return -1;
	}
	return 0;
}

void bench_run_ringo(const struct bench *b, const char *mode,
		     const struct bench_plan *p, struct bench_result *r,
		     struct bench_sample *s)
{
	struct job j = { .b = b, .mode = mode, .procs = p->procs, .n = p->n,
			 .warmup = !b->fresh, .timeout_s = p->timeout_s };
	char why[128];

	if (b->fresh)
		bench_run_fresh(p, run_child, &j, "child", r, s);
	else if (run_child(&j, s, why, sizeof(why)) != 0)
		snprintf(r->failed, sizeof(r->failed), "child %s", why);
}
