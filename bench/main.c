/*
 * bench/main.c - ringo-bench's command line, and the loop that runs each
 * selected benchmark's ringo side (once per netpoll mode where the mode
 * matters) and then its Go twin, at each point of its curve, and reports
 * them side by side. The rows of one point take turns, a repetition each
 * per round (run_point).
 *
 * The run is planned first as a list of items, one per row of the report
 * (bench, impl, mode, procs, n), so a progress line can say how far it is
 * and a point too big for the free memory is skipped with a reason.
 *
 * Exit status: 0 all ran (skipped baselines included), 1 something failed
 * (named on stderr; the other benchmarks still ran), 2 bad command line.
 * `ringo-bench compare` is a separate command: see compare.c.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringo/ringo.h>

#include "bench.h"
#include "net.h"
#include "report.h"
#include "sys.h"

#define TIMEOUT_S 600 /* per process: generous, to catch hangs only */
#define REPS_MAX 1000
#define BENCH_MAX 64  /* registry size bound, checked at start */
/* Rows of one point, at most: ringo in 2 modes, go, a server benchmark's
 * baselines (the loop in 2 modes). */
#define ROWS_PER_POINT (3 + 2 * BENCH_NET_BASELINES)
/* Memory a run needs besides its goroutines: the binary, runtime, Go's
 * heap goal slack. A point is skipped unless this much stays free. */
#define MEM_RESERVE (512.0 * 1024 * 1024)

struct opts {
	bool quick;
	bool list;
	bool uring, epoll; /* modes for per_mode benchmarks */
	int reps;          /* 0 = 3 with --quick, 5 with --full */
	const char *json, *csv; /* file names, "-" = stdout, NULL = none */
	const char *plot;  /* directory for PNGs, NULL = none */
	bool selected[BENCH_MAX];
	bool any_selected;
};

/* One row of the report to be: what to run. */
struct item {
	const struct bench *b;
	const char *impl;   /* "ringo", "go", or a server benchmark's baseline */
	const char *mode;   /* netpoll mode of a per_mode ringo row, else NULL */
	struct bench_plan p;
};

static void usage(FILE *f)
{
	fputs("usage: ringo-bench [NAME...] [--quick|--full] [--mode uring|epoll|both]\n"
	      "                   [--json FILE] [--csv FILE] [--plot DIR] [--reps R]\n"
	      "                   [--list]\n"
	      "       ringo-bench compare [--fail-on-regression] OLD.json NEW.json\n"
	      "Runs the named benchmarks (default: all; NAME includes NAME-*), each\n"
	      "against its Go twin (server benchmarks: and nginx, redis-server or,\n"
	      "under echo, a one-thread loop with no runtime).\n"
	      "  --quick        smaller problem sizes and fewer curve points,\n"
	      "                 3 repetitions (default)\n"
	      "  --full         full sizes: up to 4M goroutines (points that would\n"
	      "                 not fit in MemAvailable are skipped), 5 repetitions\n"
	      "  --mode M       netpoller for benchmarks that depend on it (default both)\n"
	      "  --json FILE    JSON lines: a header, then one object per result\n"
	      "  --csv FILE     the same fields as CSV; FILE - is stdout (the table\n"
	      "                 then goes to stderr)\n"
	      "  --plot DIR     a PNG per curve into DIR, drawn by gnuplot (none,\n"
	      "                 with a message, if gnuplot is missing)\n"
	      "  --reps R       measured repetitions (after one warm-up; at least\n"
	      "                 3 once one takes over 10 s)\n"
	      "  --list         list the benchmarks and exit\n"
	      "compare shows the change between two --json reports, in server\n"
	      "CPU per request for server rows and in ns/op for the others\n"
	      "(compare --help says more).\n"
	      "Environment: RINGO_GOBENCH overrides the Go twin's path;\n"
	      "RINGO_BENCH_MEMAVAILABLE=BYTES replaces /proc/meminfo's MemAvailable\n"
	      "in the checks that skip points, or stop starting processes, when\n"
	      "the memory would not hold them (for tests).\n", f);
}

static _Noreturn void bad_usage(const char *fmt, ...)
{
	va_list ap;
	fputs("ringo-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(ringo-bench --help shows the usage)\n", stderr);
	exit(2);
}

/* If argv[*i] is the flag `name`, as "--name VALUE" or "--name=VALUE",
 * return the value (advancing *i past it), else NULL. */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
	size_t len = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, len) != 0)
		return NULL;
	if (a[len] == '=')
		return a + len + 1;
	if (a[len] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		bad_usage("%s needs a value", name);
	return argv[++*i];
}

/* Select the benchmark called name and its variants called name-*
 * (echo: echo-p1; resp: resp-get, resp-set, ...). Returns how many. */
static int select_bench(const char *name, bool *selected)
{
	size_t len = strlen(name);
	int found = 0;

	for (int k = 0; bench_all[k]; k++)
		if (strncmp(bench_all[k]->name, name, len) == 0 &&
		    (bench_all[k]->name[len] == '\0' || bench_all[k]->name[len] == '-')) {
			selected[k] = true;
			found++;
		}
	return found;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	const char *v;

	*o = (struct opts){ .quick = true, .uring = true, .epoll = true };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--quick") == 0) {
			o->quick = true;
		} else if (strcmp(a, "--full") == 0) {
			o->quick = false;
		} else if (strcmp(a, "--list") == 0) {
			o->list = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else if ((v = flag_value(argc, argv, &i, "--mode"))) {
			o->uring = strcmp(v, "uring") == 0 || strcmp(v, "both") == 0;
			o->epoll = strcmp(v, "epoll") == 0 || strcmp(v, "both") == 0;
			if (!o->uring && !o->epoll)
				bad_usage("--mode %s: expected uring, epoll or both", v);
		} else if ((v = flag_value(argc, argv, &i, "--json"))) {
			o->json = v;
		} else if ((v = flag_value(argc, argv, &i, "--csv"))) {
			o->csv = v;
		} else if ((v = flag_value(argc, argv, &i, "--plot"))) {
			o->plot = v;
		} else if ((v = flag_value(argc, argv, &i, "--reps"))) {
			char *end;
			errno = 0;
			long r = strtol(v, &end, 10);
			if (errno || *end || end == v || r < 1 || r > REPS_MAX)
				bad_usage("--reps %s: expected 1..%d", v, REPS_MAX);
			o->reps = (int)r;
		} else if (a[0] == '-') {
			bad_usage("unknown option %s", a);
		} else {
			if (!select_bench(a, o->selected))
				bad_usage("unknown benchmark '%s' (--list shows them)", a);
			o->any_selected = true;
		}
	}
	if (o->json && o->csv && strcmp(o->json, "-") == 0 && strcmp(o->csv, "-") == 0)
		bad_usage("--json and --csv cannot both write to stdout");
	if (!o->reps)
		o->reps = o->quick ? 3 : 5;
}

static void list(void)
{
	for (int k = 0; bench_all[k]; k++) {
		const struct bench *b = bench_all[k];
		printf("%-12s %s%s", b->name, b->desc,
		       b->per_mode ? " [per netpoll mode]" : "");
		if (b->axis)
			printf(" [curve over %s]", bench_axis_key(b->axis));
		printf(" [%s%s]\n", b->go_name ? "go twin: " : "no go twin",
		       b->go_name ? b->go_name : "");
	}
}

static FILE *open_out(const char *path)
{
	if (!path || strcmp(path, "-") == 0)
		return path ? stdout : NULL;
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "ringo-bench: cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return f;
}

/* Where the run is: on a terminal, one line on stderr rewritten in place
 * (finished rows are printed above it); elsewhere (make, CI logs) only
 * the finished rows. */
static bool tty;
static int64_t run_start_ns;

static void progress_show(const struct item *it, int k, int total)
{
	if (!tty)
		return;
	long s = (long)((sys_now_ns() - run_start_ns) / 1000000000);
	fprintf(stderr, "\r\033[K[%d/%d, %ld:%02ld] %s %s%s%s procs=%d n=%ld ...",
		k + 1, total, s / 60, s % 60, it->b->name, it->impl,
		it->mode ? " " : "", it->mode ? it->mode : "", it->p.procs, it->p.n);
	fflush(stderr);
}

static void progress_done(const struct bench_result *r)
{
	fprintf(stderr, "%sringo-bench: %s/%s/%s", tty ? "\r\033[K" : "", r->b->name,
		r->impl, r->mode);
	if (r->b->axis)
		fprintf(stderr, " procs=%d n=%ld", r->procs, r->n);
	if (r->skipped[0])
		fprintf(stderr, ": skipped: %s\n", r->skipped);
	else if (r->failed[0])
		fprintf(stderr, ": FAILED: %s\n", r->failed);
	else
		fprintf(stderr, ": %.1f ns/op (%.1f..%.1f)\n", r->med.v[BENCH_NS_PER_OP],
			r->lo[BENCH_NS_PER_OP], r->hi[BENCH_NS_PER_OP]);
}

/* The points of b's curve: (procs, n) pairs. Returns how many. */
static int points(const struct bench *b, bool quick, int *procs, long *n)
{
	int nr = 0, maxprocs = ringo_maxprocs();
	int fixed = b->procs ? b->procs : maxprocs;
	bool dense = maxprocs <= BENCH_POINTS_MAX;
	long n1 = quick ? b->n_quick : b->n_full;
	const long *list = quick ? b->points_quick : b->points_full;

	switch (b->axis) {
	case BENCH_AXIS_N:
		for (; nr < BENCH_POINTS_MAX && list[nr]; nr++) {
			procs[nr] = fixed;
			n[nr] = list[nr];
		}
		break;
	case BENCH_AXIS_PROCS:
		/* 1 to the cores; past BENCH_POINTS_MAX cores 1, 2, 4, ...
		 * and the cores themselves (docs/benchmarks.md says so). */
		for (int k = 1; k < maxprocs && nr < BENCH_POINTS_MAX - 1;
		     k = dense ? k + 1 : 2 * k) {
			procs[nr] = k;
			n[nr++] = n1;
		}
		procs[nr] = maxprocs;
		n[nr++] = n1;
		break;
	case BENCH_AXIS_NONE:
		procs[nr] = fixed;
		n[nr++] = n1;
		break;
	}
	return nr;
}

/* Append b's items (every point: ringo per mode, then go) to items. */
static int plan(const struct bench *b, const struct opts *o, struct item *items,
		int nr)
{
	int procs[BENCH_POINTS_MAX];
	long n[BENCH_POINTS_MAX];
	int pts = points(b, o->quick, procs, n);
	const char *modes[2];
	int modes_nr = 0;

	if (!b->per_mode)
		modes[modes_nr++] = NULL;
	if (b->per_mode && o->uring)
		modes[modes_nr++] = "uring";
	if (b->per_mode && o->epoll)
		modes[modes_nr++] = "epoll";
	for (int k = 0; k < pts; k++) {
		struct bench_plan p = { .n = n[k], .reps = o->reps, .procs = procs[k],
					.timeout_s = TIMEOUT_S, .quick = o->quick };
		for (int i = 0; i < modes_nr; i++)
			items[nr++] = (struct item){ b, "ringo", modes[i], p };
		if (b->go_name)
			items[nr++] = (struct item){ b, "go", NULL, p };
		for (int i = 0; b->net && i < BENCH_NET_BASELINES && b->net->baselines[i]; i++) {
			const char *base = b->net->baselines[i];
			if (strcmp(base, "loop") != 0) {
				items[nr++] = (struct item){ b, base, NULL, p };
				continue;
			}
			/* The floor runs in each mode ringo runs in. */
			for (int m = 0; m < modes_nr; m++)
				items[nr++] = (struct item){ b, base, modes[m], p };
		}
	}
	return nr;
}

/* Would its goroutines not fit in the memory free now? The estimate per
 * goroutine is the benchmark's, or what a smaller point of the same curve
 * measured (plus page tables and slack) if that is more. */
static bool too_big(struct item *it, const struct bench_result *done,
		    int done_nr, char *why, size_t len)
{
	double per_g = it->b->bytes_per_g[strcmp(it->impl, "go") == 0];
	if (per_g <= 0)
		return false;
	for (const struct bench_result *r = done; r < done + done_nr; r++)
		if (r->b == it->b && strcmp(r->impl, it->impl) == 0 &&
		    !r->skipped[0] && !r->failed[0] && r->n < it->p.n &&
		    bench_has(&r->med, BENCH_RSS_BYTES_PER_G))
			per_g = fmax(per_g, 1.1 * r->med.v[BENCH_RSS_BYTES_PER_G] + 256);
	int64_t avail = sys_mem_available();
	double need = per_g * (double)it->p.n + MEM_RESERVE;
	it->p.mem_need = need;
	if (avail < 0 || need <= (double)avail)
		return false;
	snprintf(why, len, "needs about %.1f GiB (%.0f bytes per goroutine), "
		 "%.1f GiB available (MemAvailable)", need / (1 << 30), per_g,
		 (double)avail / (1 << 30));
	return true;
}

/* Set up its result; false (r->skipped set) if it cannot run here. */
static bool item_start(struct item *it, const struct sys_info *si,
		       struct bench_result *r, const struct bench_result *done,
		       int done_nr)
{
	*r = (struct bench_result){ .b = it->b, .impl = it->impl,
				    .mode = it->mode ? it->mode : "-",
				    .procs = it->p.procs, .n = it->p.n };
	if (it->mode && strcmp(it->mode, "uring") == 0 && si->uring.err)
		snprintf(r->skipped, sizeof(r->skipped), "io_uring unavailable: %s",
			 strerror(-si->uring.err));
	else if (too_big(it, done, done_nr, r->skipped, sizeof(r->skipped)))
		;
	else
		return true;
	return false;
}

static bool same_point(const struct item *a, const struct item *b)
{
	return a->b == b->b && a->p.n == b->p.n && a->p.procs == b->p.procs;
}

/* One repetition of it's row into *sample, with its own process (and
 * server) start and warm-up; false if the row failed or was skipped (r
 * says why). */
static bool run_one(struct item *it, const char *gobench, struct bench_result *r,
		    struct bench_sample *sample)
{
	if (it->b->net)
		bench_run_net(it->b, &it->p, gobench, r, sample);
	else if (strcmp(it->impl, "go") == 0)
		bench_run_go(it->b, gobench, &it->p, r, sample);
	else
		bench_run_ringo(it->b, it->mode, &it->p, r, sample);
	return !r->failed[0] && !r->skipped[0];
}

/* The rows of one point (ringo per mode, the Go twin, a server
 * benchmark's nginx or redis) take turns: each round gives every row one
 * repetition, with its own process start and warm-up. This VM's speed
 * flips by ~30% from one second to the next; run back to back, a row's
 * repetitions would all share one state and the order of the rows would
 * follow it. Taking turns spreads those states over all rows alike. Once
 * a repetition has taken BENCH_LONG_REP_NS, BENCH_LONG_REPS rounds are
 * enough (bench.h). Runs the rows from items[i] on; returns how many. */
static int run_point(struct item *items, int i, int nr,
		     const struct sys_info *si, const char *gobench,
		     struct bench_result *rs)
{
	int end = i, reps = items[i].p.reps;

	while (end < nr && same_point(&items[i], &items[end]))
		end++;
	struct bench_sample *samples = calloc((size_t)(end - i) * (size_t)reps,
					      sizeof(*samples));
	int *got = calloc((size_t)(end - i), sizeof(*got));
	if (!samples || !got) {
		fprintf(stderr, "ringo-bench: out of memory\n");
		exit(1);
	}
	for (int k = i; k < end; k++)
		item_start(&items[k], si, &rs[k], rs, k);
	int rounds = 0;
	bool long_seen = false;
	while (rounds < reps && !(long_seen && rounds >= BENCH_LONG_REPS)) {
		for (int k = i; k < end; k++) {
			/* A row that was skipped or failed (its result says
			 * why), or stopped early, sits out the rounds after. */
			if (rs[k].skipped[0] || rs[k].failed[0] || got[k - i] < rounds)
				continue;
			struct bench_sample *s = &samples[(k - i) * reps + got[k - i]];
			progress_show(&items[k], k, nr);
			if (run_one(&items[k], gobench, &rs[k], s)) {
				got[k - i]++;
				/* The repetition's own run: not its warm-up, nor
				 * starting and ending its process. */
				long_seen |= s->run_ns >= BENCH_LONG_REP_NS;
			} else if (rs[k].skipped[0] && got[k - i]) {
				/* The memory a fresh process needs went to other
				 * work after some rounds: keep what they measured. */
				rs[k].skipped[0] = '\0';
			}
		}
		rounds++;
	}
	for (int k = i; k < end; k++) {
		if (!rs[k].skipped[0] && !rs[k].failed[0])
			bench_fold(&rs[k], &samples[(k - i) * reps], got[k - i]);
		progress_done(&rs[k]);
	}
	free(got);
	free(samples);
	return end - i;
}

/* argv after the program name, space-separated, for the JSON header. */
static void join_args(char *buf, size_t len, int argc, char **argv)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 1; i < argc && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i > 1 ? " " : "",
					 argv[i]);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct sys_info si;
	char args[512];
	int nr = 0, failed = 0;

	int count = 0;
	while (bench_all[count])
		count++;
	if (count > BENCH_MAX) {
		fprintf(stderr, "ringo-bench: %d benchmarks: raise BENCH_MAX\n", count);
		return 2;
	}
	if (argc > 1 && strcmp(argv[1], "compare") == 0)
		return bench_compare(argc - 1, argv + 1);
	parse_args(argc, argv, &o);
	if (o.list) {
		list();
		return 0;
	}
	FILE *json = open_out(o.json), *csv = open_out(o.csv);
	FILE *table = json == stdout || csv == stdout ? stderr : stdout;
	const char *gobench = getenv("RINGO_GOBENCH");
	if (!gobench || !*gobench)
		gobench = RINGO_BENCH_GOBENCH;

	struct item *items = calloc((size_t)count * BENCH_POINTS_MAX * ROWS_PER_POINT,
				    sizeof(*items));
	if (!items) {
		fprintf(stderr, "ringo-bench: out of memory\n");
		return 1;
	}
	for (int k = 0; bench_all[k]; k++)
		if (!o.any_selected || o.selected[k])
			nr = plan(bench_all[k], &o, items, nr);
	struct bench_result *rs = calloc((size_t)nr + 1, sizeof(*rs));
	if (!rs) {
		fprintf(stderr, "ringo-bench: out of memory\n");
		return 1;
	}

	sys_info_get(&si);
	join_args(args, sizeof(args), argc, argv);
	tty = isatty(STDERR_FILENO);
	run_start_ns = sys_now_ns();
	for (int i = 0; i < nr;)
		i += run_point(items, i, nr, &si, gobench, rs);

	report_table(table, &si, rs, nr);
	if (json) {
		report_json_header(json, &si, o.quick, o.reps, args);
		for (int i = 0; i < nr; i++)
			report_json(json, &rs[i]);
	}
	if (csv)
		report_csv(csv, rs, nr);
	if (o.plot)
		bench_plot(o.plot, &si, rs, nr);
	for (int i = 0; i < nr; i++) {
		if (!rs[i].failed[0])
			continue;
		fprintf(stderr, "%s %s/%s/%s", failed++ ? ";" : "ringo-bench: failed:",
			rs[i].b->name, rs[i].impl, rs[i].mode);
		if (rs[i].b->axis)
			fprintf(stderr, " procs=%d n=%ld", rs[i].procs, rs[i].n);
		fprintf(stderr, ": %s", rs[i].failed);
	}
	if (failed)
		fputc('\n', stderr);
	free(rs);
	free(items);
	if ((json && json != stdout && fclose(json) != 0) ||
	    (csv && csv != stdout && fclose(csv) != 0) || fflush(stdout) != 0) {
		fprintf(stderr, "ringo-bench: writing the report: %s\n", strerror(errno));
		return 1;
	}
	return failed ? 1 : 0;
}
