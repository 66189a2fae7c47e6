/*
 * bench/gobench.c - the Go side of a benchmark: run the twin in
 * bench/go/ as `gobench NAME -n N -procs P` and read back its JSON line,
 * one repetition.
 *
 * gobench does its own warm-up by the rule in bench.h, in-process; the
 * twin of a fresh benchmark does none, and gets a warm-up process of its
 * own here, as the ringo side does (fresh.c). Its line is a
 * flat object of string and number members; the parser below accepts
 * exactly that and rejects anything else as bad output, so a changed twin
 * fails loudly instead of being misread.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "json.h"
#include "proc.h"

#define LINE_MAX_BYTES 1024 /* gobench's line is ~200 */

struct go_job {
	const char *path;
	const char *name; /* the benchmark, as gobench names it */
	int timeout_s;
	char *argv[8];
};

static void go_child(void *arg, int wfd)
{
	struct go_job *j = arg;
	dup2(wfd, STDOUT_FILENO);
	execv(j->path, j->argv);
	fprintf(stderr, "ringo-bench: exec %s: %s\n", j->path, strerror(errno));
	_exit(127);
}

static int metric_of(const char *key)
{
	for (int m = 0; m < BENCH_METRIC_NR; m++)
		if (strcmp(key, bench_metric_key[m]) == 0)
			return m;
	return -1;
}

/* Store one member of a gobench line in s; unknown members are ignored.
 * Returns 0, or -1 with why filled. */
static int member(const char *key, const char *str, double num, const char *want,
		  struct bench_sample *s, bool *named, char *why, size_t why_len)
{
	if (str) {
		if (strcmp(key, "bench") == 0 && !(*named = strcmp(str, want) == 0)) {
			snprintf(why, why_len, "bench \"%s\", expected \"%s\"", str, want);
			return -1;
		}
		if (strcmp(key, "impl") == 0 && strcmp(str, "go") != 0) {
			snprintf(why, why_len, "impl \"%s\", expected \"go\"", str);
			return -1;
		}
		return 0;
	}
	int m = metric_of(key);
	if (strcmp(key, "procs") == 0)
		s->procs = (int)num;
	else if (strcmp(key, "n") == 0)
		s->n = (long)num;
	else if (strcmp(key, "run_ns") == 0)
		s->run_ns = (int64_t)num;
	else if (m >= 0)
		bench_set(s, m, num);
	return 0;
}

/* Parse one line into s. Returns 0, or -1 with why filled. */
static int parse_line(const char *line, const char *want, struct bench_sample *s,
		      char *why, size_t why_len)
{
	const char *p = bench_json_skip_ws(line);
	char key[32], str[64];
	bool named = false;

	memset(s, 0, sizeof(*s));
	if (*p++ != '{')
		goto bad;
	p = bench_json_skip_ws(p);
	while (*p != '}') {
		p = bench_json_string(p, key, sizeof(key), true);
		if (!p || *(p = bench_json_skip_ws(p)) != ':')
			goto bad;
		p = bench_json_skip_ws(p + 1);
		const char *sval = NULL;
		double num = 0;
		if (*p == '"') {
			if (!(p = bench_json_string(p, str, sizeof(str), true)))
				goto bad;
			sval = str;
		} else {
			char *end;
			num = strtod(p, &end);
			if (end == p)
				goto bad;
			p = end;
		}
		if (member(key, sval, num, want, s, &named, why, why_len) != 0)
			return -1;
		p = bench_json_skip_ws(p);
		if (*p == '}')
			break;
		if (*p != ',' || *(p = bench_json_skip_ws(p + 1)) == '}')
			goto bad;
	}
	if (*bench_json_skip_ws(p + 1) != '\0')
		goto bad;
	if (!named || !bench_has(s, BENCH_NS_PER_OP) || s->procs <= 0 || s->n <= 0 ||
	    s->run_ns <= 0) {
		snprintf(why, why_len, "no bench, ns_per_op, procs, n or run_ns in: %.60s",
			 line);
		return -1;
	}
	return 0;
bad:
	snprintf(why, why_len, "not a flat JSON object: %.60s", line);
	return -1;
}

/* Run gobench once (the job ctx) and parse its line into s. Returns 0, or
 * -1 with why filled. A bench_fresh_fn. */
static int go_once(void *ctx, struct bench_sample *s, char *why, size_t why_len)
{
	struct go_job *j = ctx;
	char out[LINE_MAX_BYTES + 1], bad[128];
	struct proc pr;
	long len = -1;

	if (proc_start(&pr, go_child, j, why, why_len) == 0)
		len = proc_finish(&pr, out, LINE_MAX_BYTES, j->timeout_s, why, why_len);
	if (len < 0)
		return -1;
	out[len] = '\0'; /* one object and its newline: anything more is bad */
	if (parse_line(out, j->name, s, bad, sizeof(bad)) != 0) {
		snprintf(why, why_len, "bad output: %s", bad);
		return -1;
	}
	return 0;
}

void bench_run_go(const struct bench *b, const char *path,
		  const struct bench_plan *p, struct bench_result *r,
		  struct bench_sample *s)
{
	char n[24], procs[16], why[128];
	struct go_job j = {
		.path = path,
		.name = b->go_name,
		.timeout_s = p->timeout_s,
		.argv = { (char *)path, (char *)b->go_name, "-n", n, "-procs", procs,
			  NULL },
	};

	if (!path || !*path) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "go was not found when ringo-bench was configured");
		return;
	}
	if (access(path, X_OK) != 0) {
		snprintf(r->skipped, sizeof(r->skipped), "no gobench binary at %.120s",
			 path);
		return;
	}
	snprintf(n, sizeof(n), "%ld", p->n);
	snprintf(procs, sizeof(procs), "%d", p->procs);
	/* The twin of a fresh benchmark runs no warm-up of its own
	 * (noWarmup in bench/go/main.go): it gets a process for it here. */
	if (b->fresh)
		bench_run_fresh(p, go_once, &j, "gobench", r, s);
	else if (go_once(&j, s, why, sizeof(why)) != 0)
		snprintf(r->failed, sizeof(r->failed), "gobench %s", why);
}
