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
 * warm-up child and then one child per repetition. Either way a long
 * first run counts and long runs stop early (bench.h, BENCH_WARMUP_NS).
 */
#include <errno.h>
#include <stdbool.h>
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

/* The child's main goroutine: the warm-up rule and the early stop of
 * bench.h's BENCH_WARMUP_NS and BENCH_LONG_REP_NS; j->warmups is 1 for a
 * run whose first repetition may be a warm-up, 0 for a fresh process. */
static int job_main(void *arg)
{
	const struct job *j = arg;
	bool long_seen = false;

	for (int i = 0, sent = 0; sent < j->reps; i++) {
		struct bench_sample s = { 0 };
		int64_t start = sys_now_ns();
		if (j->b->run(j->n, &s) != 0)
			return 1;
		s.run_ns = sys_now_ns() - start;
		if (!bench_has(&s, BENCH_NS_PER_OP)) {
			fprintf(stderr, "ringo-bench: %s: no ns_per_op\n", j->b->name);
			return 1;
		}
		if (i < j->warmups && s.run_ns < BENCH_WARMUP_NS)
			continue;
		s.procs = ringo_maxprocs();
		s.n = j->n;
		if (s.v[BENCH_NS_PER_OP] > 0)
			bench_set(&s, BENCH_OPS_PER_S, 1e9 / s.v[BENCH_NS_PER_OP]);
		if (write_all(j->fd, &s, sizeof(s)) != 0)
			return 1;
		sent++;
		long_seen |= s.run_ns >= BENCH_LONG_REP_NS;
		if (long_seen && sent >= BENCH_LONG_REPS)
			break;
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

/* Run j in one child; the samples it sends (1 to j->reps) go to out.
 * Returns how many, or -1 with why filled. */
static int run_child(struct job *j, int timeout_s, struct bench_sample *out,
		     char *why, size_t why_len)
{
	struct proc pr;
	if (proc_start(&pr, job_child, j, why, why_len) != 0)
		return -1;
	size_t cap = (size_t)j->reps * sizeof(*out);
	long got = proc_finish(&pr, out, cap, timeout_s, why, why_len);
	if (got < 0)
		return -1;
	if (got == 0 || (size_t)got % sizeof(*out) != 0) {
		snprintf(why, why_len, "child sent %ld bytes of samples, expected "
			 "1 to %d samples of %zu", got, j->reps, sizeof(*out));
		return -1;
	}
	return (int)((size_t)got / sizeof(*out));
}

void bench_run_ringo(const struct bench *b, const char *mode,
		     const struct bench_plan *p, struct bench_result *r)
{
	struct bench_sample samples[p->reps];
	struct job j = { .b = b, .mode = mode, .procs = p->procs, .n = p->n };
	char why[128];
	int got = 0;

	if (!b->fresh) {
		j.warmups = 1;
		j.reps = p->reps;
		got = run_child(&j, p->timeout_s, samples, why, sizeof(why));
		if (got < 0) {
			snprintf(r->failed, sizeof(r->failed), "child %s", why);
			return;
		}
		bench_fold(r, samples, got);
		return;
	}
	/* One process per repetition, after a warm-up process whose sample
	 * counts only if it was long (the same rule as in job_main). */
	j.reps = 1;
	bool long_seen = false;
	for (int i = -1; got < p->reps && !(long_seen && got >= BENCH_LONG_REPS); i++) {
		int64_t avail = sys_meminfo("MemAvailable");
		if (p->mem_need > 0 && avail >= 0 && (double)avail < p->mem_need) {
			if (got)
				break;
			snprintf(r->skipped, sizeof(r->skipped), "MemAvailable fell to "
				 "%.1f GiB, %.1f GiB needed", (double)avail / (1 << 30),
				 p->mem_need / (1 << 30));
			return;
		}
		if (run_child(&j, p->timeout_s, &samples[got], why, sizeof(why)) < 0) {
			/* SIGKILL without a timeout: the OOM killer, other
			 * work having taken the memory mid-run. */
			snprintf(r->failed, sizeof(r->failed), "%s child %.100s%s",
				 i < 0 ? "warm-up" : "repetition", why,
				 strstr(why, "signal 9") ? " (out of memory?)" : "");
			return;
		}
		if (i < 0 && samples[got].run_ns < BENCH_WARMUP_NS)
			continue;
		long_seen |= samples[got].run_ns >= BENCH_LONG_REP_NS;
		got++;
	}
	bench_fold(r, samples, got);
}
