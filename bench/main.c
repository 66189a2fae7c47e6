/*
 * bench/main.c - ringo-bench's command line, and the loop that runs each
 * selected benchmark's ringo side (once per netpoll mode where the mode
 * matters) and then its Go twin, and reports them side by side.
 *
 * Exit status: 0 all ran (skipped baselines included), 1 something failed
 * (named on stderr; the other benchmarks still ran), 2 bad command line.
 * `ringo-bench compare` is a separate command: see compare.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringo/ringo.h>

#include "bench.h"
#include "net.h"
#include "report.h"
#include "sys.h"

#define TIMEOUT_S 600 /* per process: generous, to catch hangs only */
#define REPS_MAX 1000
#define BENCH_MAX 64  /* registry size bound, checked at start */
/* Result rows: a benchmark has at most 3 (ringo per mode, go), a server
 * benchmark at most BENCH_NET_ROWS_MAX. */
#define ROWS_MAX (BENCH_MAX * BENCH_NET_ROWS_MAX)

struct opts {
	bool quick;
	bool list;
	bool uring, epoll; /* modes for per_mode benchmarks */
	int reps;          /* 0 = 3 with --quick, 5 with --full */
	const char *json, *csv; /* file names, "-" = stdout, NULL = none */
	bool selected[BENCH_MAX];
	bool any_selected;
};

static void usage(FILE *f)
{
	fputs("usage: ringo-bench [NAME...] [--quick|--full] [--mode uring|epoll|both]\n"
	      "                   [--json FILE] [--csv FILE] [--reps R] [--list]\n"
	      "       ringo-bench compare [--fail-on-regression] OLD.json NEW.json\n"
	      "Runs the named benchmarks (default: all), each against its Go twin.\n"
	      "  --quick        smaller problem sizes, 3 repetitions (default)\n"
	      "  --full         full problem sizes, 5 repetitions\n"
	      "  --mode M       netpoller for benchmarks that depend on it (default both)\n"
	      "  --json FILE    JSON lines: a header, then one object per result\n"
	      "  --csv FILE     the same fields as CSV; FILE - is stdout (the table\n"
	      "                 then goes to stderr)\n"
	      "  --reps R       measured repetitions (after one warm-up)\n"
	      "  --list         list the benchmarks and exit\n"
	      "compare shows the change in ns/op between two --json reports\n"
	      "(compare --help says more).\n"
	      "Environment: RINGO_GOBENCH overrides the Go twin's path.\n", f);
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

/* Select the benchmark called name, or else every one called name-*
 * (resp: resp-get, resp-set, ...). Returns how many were selected. */
static int select_bench(const char *name, bool *selected)
{
	size_t len = strlen(name);
	int found = 0;

	for (int k = 0; bench_all[k]; k++)
		if (strcmp(bench_all[k]->name, name) == 0) {
			selected[k] = true;
			return 1;
		}
	for (int k = 0; bench_all[k]; k++)
		if (strncmp(bench_all[k]->name, name, len) == 0 &&
		    bench_all[k]->name[len] == '-') {
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
		printf("%-10s %s%s%s%s]\n", b->name, b->desc,
		       b->per_mode ? " [per netpoll mode]" : "",
		       b->go_name ? " [go twin: " : " [no go twin",
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

static void progress(const struct bench_result *r)
{
	fprintf(stderr, "ringo-bench: %s/%s/%s: ", r->b->name, r->impl, r->mode);
	if (r->skipped[0])
		fprintf(stderr, "skipped: %s\n", r->skipped);
	else if (r->failed[0])
		fprintf(stderr, "FAILED: %s\n", r->failed);
	else
		fprintf(stderr, "%.1f ns/op (%.1f..%.1f)\n", r->med.v[BENCH_NS_PER_OP],
			r->ns_min, r->ns_max);
}

/* A new result row for b, with what every runner is given. */
static struct bench_result *new_row(struct bench_result *rs, int *nr,
				    const struct bench *b, const char *impl,
				    const char *mode, const struct bench_plan *p)
{
	struct bench_result *r = &rs[(*nr)++];
	*r = (struct bench_result){ .b = b, .impl = impl, .mode = mode,
				    .procs = p->procs, .n = p->n };
	return r;
}

/* Run b's ringo side (per mode if it matters) and Go twin into rs. */
static void run_bench(const struct bench *b, const struct opts *o,
		      const struct sys_info *si, const char *gobench,
		      struct bench_result *rs, int *nr)
{
	struct bench_plan p = {
		.n = o->quick ? b->n_quick : b->n_full,
		.reps = o->reps,
		.procs = b->procs ? b->procs : ringo_maxprocs(),
		.timeout_s = TIMEOUT_S,
	};
	const char *modes[2];
	int modes_nr = 0;

	if (b->net) {
		struct bench_net_opts no = {
			.quick = o->quick, .uring = o->uring, .epoll = o->epoll,
			.uring_err = si->uring.err, .reps = o->reps, .gobench = gobench,
			.progress = progress,
		};
		*nr += bench_run_net(b, &no, rs + *nr, ROWS_MAX - *nr);
		return;
	}
	if (!b->per_mode)
		modes[modes_nr++] = NULL;
	if (b->per_mode && o->uring)
		modes[modes_nr++] = "uring";
	if (b->per_mode && o->epoll)
		modes[modes_nr++] = "epoll";
	for (int i = 0; i < modes_nr; i++) {
		struct bench_result *r = new_row(rs, nr, b, "ringo",
						 modes[i] ? modes[i] : "-", &p);
		if (modes[i] && strcmp(modes[i], "uring") == 0 && si->uring.err)
			snprintf(r->skipped, sizeof(r->skipped), "io_uring unavailable: %s",
				 strerror(-si->uring.err));
		else
			bench_run_ringo(b, modes[i], &p, r);
		progress(r);
	}
	if (b->go_name) {
		struct bench_result *r = new_row(rs, nr, b, "go", "-", &p);
		bench_run_go(b, gobench, &p, r);
		progress(r);
	}
}

int main(int argc, char **argv)
{
	static struct bench_result rs[ROWS_MAX];
	struct opts o;
	struct sys_info si;
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

	sys_info_get(&si);
	for (int k = 0; bench_all[k]; k++)
		if (!o.any_selected || o.selected[k])
			run_bench(bench_all[k], &o, &si, gobench, rs, &nr);

	report_table(table, &si, rs, nr);
	if (json) {
		report_json_header(json, &si, o.quick, o.reps);
		for (int i = 0; i < nr; i++)
			report_json(json, &rs[i]);
	}
	if (csv)
		report_csv(csv, rs, nr);
	for (int i = 0; i < nr; i++) {
		if (!rs[i].failed[0])
			continue;
		fprintf(stderr, "%s %s/%s/%s: %s", failed++ ? ";" : "ringo-bench: failed:",
			rs[i].b->name, rs[i].impl, rs[i].mode, rs[i].failed);
	}
	if (failed)
		fputc('\n', stderr);
	if ((json && json != stdout && fclose(json) != 0) ||
	    (csv && csv != stdout && fclose(csv) != 0) || fflush(stdout) != 0) {
		fprintf(stderr, "ringo-bench: writing the report: %s\n", strerror(errno));
		return 1;
	}
	return failed ? 1 : 0;
}
