/*
 * bench/bench.h - the benchmark registry and the records benchmarks produce.
 *
 * A benchmark is a `struct bench`: its ringo side is a run function called
 * inside the main goroutine of a runtime started in a fork()ed child (see
 * child.c); its Go side, if any, is the same benchmark in bench/go/<area>.go
 * run as a separate process (see gobench.c). A server benchmark instead
 * runs servers (ringo's examples, Go's, nginx, redis-server) as processes
 * under a load generator (see net.h). Each runner measures one repetition
 * per call into a `struct bench_sample`; main.c calls them once per round,
 * stats.c folds the repetitions of one (bench, impl, mode) into a
 * `struct bench_result`, and report.c prints those.
 *
 * Names shared between bench files start with bench_ (the library's ringo_
 * and ringo__ prefixes are kept for the runtime itself).
 */
#ifndef RINGO_BENCH_BENCH_H
#define RINGO_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sys.h"

struct bench_net;

/* What one repetition can measure. The JSON/CSV key of each is
 * bench_metric_key[m]; ns_per_op is always present. */
enum bench_metric {
	BENCH_NS_PER_OP,            /* ns per operation: the headline number */
	BENCH_OPS_PER_S,            /* 1e9 / ns_per_op */
	BENCH_CPU_NS_PER_OP,        /* process CPU time (all threads) per op */
	BENCH_RSS_BYTES_PER_G,      /* RSS growth per goroutine, bytes */
	BENCH_SPAWN_NS_PER_G,       /* time to start one goroutine, ns */
	BENCH_P99_NS,               /* 99th percentile latency, ns */
	BENCH_WALL_NS,              /* wall time of the whole run, ns */
	BENCH_SERVER_CPU_NS_PER_OP, /* CPU time of the server process per op */
	BENCH_THREADS_CREATED,      /* OS threads the runtime created */
	BENCH_WAKE_NS_PER_G,        /* time to wake and finish one parked G, ns */
	BENCH_SLEEP_MAX_NS,         /* longest of N timed sleeps, as slept, ns */
	BENCH_SLEEP_P99_NS,         /* their 99th percentile, ns */
	BENCH_METRIC_NR
};

extern const char *const bench_metric_key[BENCH_METRIC_NR];
/* What the metric is, with its unit, for a plot's y axis; ns_per_op's is
 * built from the benchmark's `op` instead. */
extern const char *const bench_metric_label[BENCH_METRIC_NR];

/* One measured repetition. */
struct bench_sample {
	int procs;      /* Ps (GOMAXPROCS) in effect while measuring */
	long n;         /* problem size */
	unsigned has;   /* bit (1u << m) set for each metric m measured */
	double v[BENCH_METRIC_NR];
	int64_t run_ns; /* wall time of the repetition's run (its warm-up
			 * and process start and exit not included): the
			 * rule for long repetitions below goes by it */
};

static inline void bench_set(struct bench_sample *s, enum bench_metric m, double v)
{
	s->v[m] = v;
	s->has |= 1u << m;
}

static inline bool bench_has(const struct bench_sample *s, enum bench_metric m)
{
	return s->has & (1u << m);
}

/* Times one measured region in wall and process CPU time:
 *   bench_clock_start(&c); ...ops operations...; bench_clock_stop(&c, ops, s);
 * sets ns_per_op and cpu_ns_per_op and returns the wall time in ns. */
struct bench_clock {
	int64_t wall_ns, cpu_ns;
};

static inline void bench_clock_start(struct bench_clock *c)
{
	c->wall_ns = sys_now_ns();
	c->cpu_ns = sys_cpu_ns();
}

static inline int64_t bench_clock_stop(const struct bench_clock *c, double ops,
				       struct bench_sample *s)
{
	int64_t wall = sys_now_ns() - c->wall_ns;
	int64_t cpu = sys_cpu_ns() - c->cpu_ns;
	bench_set(s, BENCH_NS_PER_OP, (double)wall / ops);
	bench_set(s, BENCH_CPU_NS_PER_OP, (double)cpu / ops);
	return wall;
}

/* What a curve varies: a benchmark with an axis is run once per point and
 * gives one row per point; without one it is run at a single n. */
enum bench_axis {
	BENCH_AXIS_NONE,
	BENCH_AXIS_N,     /* n over points_quick / points_full */
	BENCH_AXIS_PROCS, /* procs 1..cores, at n_quick / n_full */
};

#define BENCH_POINTS_MAX 8
#define BENCH_PLOTS_MAX 4

struct bench {
	const char *name;
	const char *desc;
	/* Depends on the netpoller: the ringo side runs once per mode
	 * (uring, epoll); otherwise once, with the runtime's default. */
	bool per_mode;
	/* Measures first-touch costs (memory): on both sides each repetition
	 * runs in a new process and the warm-up is a discarded process of
	 * its own (bench_run_fresh), instead of a run before the repetition
	 * in the same process. */
	bool fresh;
	/* Ps for both sides (ringo maxprocs, gobench -procs); 0 = ringo's
	 * default, which the Go side is then given explicitly. */
	int procs;
	long n_quick, n_full;
	/* Called in the main goroutine of a running runtime. Sets at least
	 * BENCH_NS_PER_OP in *s, usually with bench_clock_stop (the driver
	 * adds procs, n and ops_per_s), and leaves main the only goroutine.
	 * Returns 0, or -1 after printing why it failed. */
	int (*run)(long n, struct bench_sample *s);
	const char *go_name; /* gobench NAME of the twin, or NULL */

	/* Curves (see enum bench_axis). points_* are n values, ascending,
	 * 0-terminated; with BENCH_AXIS_N they replace n_quick / n_full. */
	enum bench_axis axis;
	long points_quick[BENCH_POINTS_MAX], points_full[BENCH_POINTS_MAX];
	const char *x_label; /* the plot's x axis, with its unit */
	const char *op;      /* one operation, for "ns per <op>": "hop" */
	/* Metrics plotted, one picture each; none = ns_per_op only. */
	enum bench_metric plots[BENCH_PLOTS_MAX];
	int plots_nr;
	/* Memory one goroutine is expected to need, bytes ([0] ringo, [1]
	 * go), so that a point that would not fit in MemAvailable is skipped
	 * rather than swapping or being OOM-killed; 0 = no check. */
	double bytes_per_g[2];
	/* A server benchmark (net.h): servers in their own processes under a
	 * load generator, one row per server at each point (n = client
	 * connections); run and fresh are unused, go_name is the gobench
	 * server mode, and procs is 1 (server pinned to one CPU, the client
	 * on the others) or 0 (a P per CPU, nothing pinned). */
	const struct bench_net *net;
};

/* All benchmarks, in the order they run; NULL-terminated. */
extern const struct bench *const bench_all[];

/* One row of the report: the repetitions of one (bench, impl, mode). */
struct bench_result {
	const struct bench *b;
	const char *impl;           /* "ringo" or "go" */
	const char *mode;           /* "uring", "epoll", or "-" */
	int procs;
	long n;
	int reps;                   /* repetitions measured, >= 1: fewer
				     * than asked when a point with long
				     * ones stops early, or a fresh row's
				     * memory went after some (main.c) */
	struct bench_sample med;    /* per-metric medians over the reps */
	/* Per-metric minimum and maximum over the reps (where med has it). */
	double lo[BENCH_METRIC_NR], hi[BENCH_METRIC_NR];
	bool noisy;                 /* of ns_per_op: (max - min) / median
				     * > 0.25 */
	char skipped[160];          /* non-empty: not run, and why */
	char failed[160];           /* non-empty: failed, and why */
	char setup[64];             /* how it ran, if that needs saying
				     * (server benchmarks: CPU pinning), or "" */
};

/* What to run: size, repetitions, limit. */
struct bench_plan {
	long n;
	int reps;        /* rounds of the point, at most (main.c; see
			  * BENCH_LONG_REP_NS); each runner call is one */
	int procs;       /* resolved: never 0 */
	int timeout_s;   /* per process; past it the process is killed */
	double mem_need; /* bytes the goroutines need (0: not checked), so a
			  * fresh process is not started once other work has
			  * taken the memory the check at the start saw */
	bool quick;      /* --quick: server benchmarks measure for less long */
};

/* Warm-up and repetitions, the same rule on both sides: a first run
 * shorter than BENCH_WARMUP_NS is an untimed warm-up, a longer one counts
 * as the repetition (child.c, bench/go/main.go); once a repetition has
 * taken BENCH_LONG_REP_NS, BENCH_LONG_REPS rounds are enough (main.c). A
 * point with a million goroutines takes a minute a run, and three such
 * runs say what five would. */
#define BENCH_WARMUP_NS 1000000000LL
#define BENCH_LONG_REP_NS 10000000000LL
#define BENCH_LONG_REPS 3

/* stats.c: fill r's numbers from reps samples (reps >= 1). */
void bench_fold(struct bench_result *r, const struct bench_sample *samples, int reps);

/* The runners measure one repetition of the row r (b, impl, mode, procs
 * and n set) into *s, or set r->failed or r->skipped with the reason
 * (*s then means nothing). */

/* child.c: b's ringo side under netpoll mode (NULL = default), in
 * fork()ed children. */
void bench_run_ringo(const struct bench *b, const char *mode,
		     const struct bench_plan *p, struct bench_result *r,
		     struct bench_sample *s);

/* gobench.c: b's Go twin with the binary at path ("" = none: then
 * r->skipped says so). */
void bench_run_go(const struct bench *b, const char *path,
		  const struct bench_plan *p, struct bench_result *r,
		  struct bench_sample *s);

/* One process of a fresh benchmark: start it, read its sample (run_ns
 * set) into *s. Returns 0, or -1 with why filled. */
typedef int bench_fresh_fn(void *ctx, struct bench_sample *s, char *why,
			   size_t why_len);

/* fresh.c: one repetition of a fresh benchmark with run(ctx, ...): a
 * warm-up process, then the repetition's, each after checking that
 * p->mem_need bytes are still available (else r->skipped says so). what
 * names the process in r->failed ("child", "gobench"). */
void bench_run_fresh(const struct bench_plan *p, bench_fresh_fn *run, void *ctx,
		     const char *what, struct bench_result *r, struct bench_sample *s);

#endif
