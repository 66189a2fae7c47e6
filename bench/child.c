/*
 * bench/child.c - the ringo side of a benchmark, run in fork()ed children.
 *
 * The fork happens before ringo_run, so each child starts a fresh runtime
 * in a process whose heap holds nothing from earlier benchmarks (jemalloc
 * keeps freed pages resident, which would hide or inflate RSS growth).
 * A child sends its samples to the parent as raw `struct bench_sample`s:
 * parent and child are the same binary, so the layout agrees.
 *
 * Usually one child runs the warm-up and then the repetitions in one
 * runtime, as the Go twin does in one process; a `fresh` benchmark gets a
 * discarded warm-up child and then one child per repetition.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ringo/ringo.h>

#include "bench.h"
#include "proc.h"

struct job {
	const struct bench *b;
	const char *mode; /* netpoll mode; NULL = the runtime's default */
	int procs;
	long n;
	int warmups, reps;
	int fd; /* in the child: where samples go */
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

/* The child's main goroutine. */
static int job_main(void *arg)
{
	const struct job *j = arg;

	for (int i = 0; i < j->warmups + j->reps; i++) {
		struct bench_sample s = { 0 };
		if (j->b->run(j->n, &s) != 0)
			return 1;
		if (!bench_has(&s, BENCH_NS_PER_OP)) {
			fprintf(stderr, "ringo-bench: %s: no ns_per_op\n", j->b->name);
			return 1;
		}
		if (i < j->warmups)
			continue;
		s.procs = ringo_maxprocs();
		s.n = j->n;
		if (s.v[BENCH_NS_PER_OP] > 0)
			bench_set(&s, BENCH_OPS_PER_S, 1e9 / s.v[BENCH_NS_PER_OP]);
		if (write_all(j->fd, &s, sizeof(s)) != 0)
			return 1;
	}
	return 0;
}

static void job_child(void *arg, int wfd)
{
	struct job *j = arg;
	struct ringo_config cfg = { .maxprocs = j->procs, .netpoll = j->mode };

	j->fd = wfd;
	_exit(ringo_run_config(&cfg, job_main, j) == 0 ? 0 : 1);
}

/* Run j in one child; its j->reps samples go to out. */
static int run_child(struct job *j, int timeout_s, struct bench_sample *out,
		     char *why, size_t why_len)
{
	struct proc pr;
	if (proc_start(&pr, job_child, j, why, why_len) != 0)
		return -1;
	size_t want = (size_t)j->reps * sizeof(*out);
	long got = proc_finish(&pr, out, want, timeout_s, why, why_len);
	if (got < 0)
		return -1;
	if ((size_t)got != want) {
		snprintf(why, why_len, "child sent %ld of %zu bytes of samples",
			 got, want);
		return -1;
	}
	return 0;
}

void bench_run_ringo(const struct bench *b, const char *mode,
		     const struct bench_plan *p, struct bench_result *r)
{
	struct bench_sample samples[p->reps];
	struct job j = { .b = b, .mode = mode, .procs = p->procs, .n = p->n };
	char why[128];

	if (!b->fresh) {
		j.warmups = 1;
		j.reps = p->reps;
		if (run_child(&j, p->timeout_s, samples, why, sizeof(why)) != 0) {
			snprintf(r->failed, sizeof(r->failed), "child %s", why);
			return;
		}
		bench_fold(r, samples, p->reps);
		return;
	}
	j.reps = 1;
	for (int i = -1; i < p->reps; i++) {
		/* The warm-up (i = -1) writes to samples[0], measured next. */
		struct bench_sample *out = &samples[i < 0 ? 0 : i];
		if (run_child(&j, p->timeout_s, out, why, sizeof(why)) != 0) {
			snprintf(r->failed, sizeof(r->failed), "%s child %s",
				 i < 0 ? "warm-up" : "repetition", why);
			return;
		}
	}
	bench_fold(r, samples, p->reps);
}
