/*
 * bench/compare.c - `ringo-bench compare OLD.json NEW.json`: the change in
 * ns_per_op of each (bench, impl, mode) between two --json reports, with a
 * verdict that respects the noise, in the spirit of benchstat. A server
 * row (one with server_cpu_ns_per_op) is compared on that instead, with
 * its range (server_cpu_ns_min, server_cpu_ns_max): its ns_per_op is the
 * client's throughput, while the server CPU per request is what tells
 * servers apart (net.h), so that --fail-on-regression sees a server that
 * got costlier.
 *
 * A change counts only when it is both large (at least CHANGE_MIN of the
 * old median) and clear of the noise: the [ns_min, ns_max] ranges of the
 * two runs do not overlap. Otherwise the verdict is "~". With a handful of
 * repetitions a range test is cruder than benchstat's Mann-Whitney U test,
 * but it needs no minimum number of samples and never calls one slow
 * repetition a regression. Rows that were skipped or failed, or are in
 * only one report, are listed with why instead of a number.
 *
 * The reports are our own JSON lines: a header object, then one flat
 * object per row. The parser accepts strings, numbers, true/false/null and
 * (for the header's "io_uring") nested objects, and rejects anything else
 * with the file and line, so a changed format fails loudly.
 *
 * Exit status: 0 compared; 1 with --fail-on-regression when a ringo row got
 * significantly slower; 2 bad command line or an unreadable or malformed
 * report.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report.h"

#define CHANGE_MIN 0.05 /* smaller relative changes are "~" whatever the ranges */
#define DEPTH_MAX 4     /* nesting accepted in the header */
#define CELL 200

/* One row of a report, or its header's description of the run. */
struct row {
	char bench[32], impl[16], mode[16];
	char axis[8];              /* a curve's point: "n", "procs", or "" */
	int procs;
	long n;
	double ns, ns_min, ns_max; /* ns_per_op median and range */
	double cpu, cpu_min, cpu_max; /* server_cpu_ns_per_op's (server rows) */
	unsigned has;              /* HAS_* bits of the members seen */
	char skipped[160], failed[160];
	bool matched;              /* in the other report too */
};

enum {
	HAS_BENCH = 1u << 0, HAS_IMPL = 1u << 1, HAS_MODE = 1u << 2,
	HAS_NS = 1u << 3, HAS_MIN = 1u << 4, HAS_MAX = 1u << 5,
	HAS_HEADER = 1u << 6,
	HAS_CPU = 1u << 7, HAS_CPU_MIN = 1u << 8, HAS_CPU_MAX = 1u << 9,
};

struct header {
	char commit[48], date[32], cpu[128];
	int quick;                 /* -1 unknown */
	int reps;
};

struct report {
	const char *path;
	struct header h;
	struct row *rows;
	int rows_nr, rows_cap;
};

/* ======================================================================
 * Reading a report
 * =================================================================== */

/* Where parse errors go: "path:line: why". */
struct src {
	const char *path;
	long line;
	char why[160];
};

/* One member's value as read: a string, a number, or neither (true,
 * false, null, an object). */
struct value {
	const char *str;
	bool is_num;
	double num;
	int boolean; /* 1 true, 0 false, -1 neither */
};

/* strlcpy: the fields are sized for what ringo-bench writes. */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t len = strnlen(src, cap - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Store one top-level member in r / h (either may be NULL). */
static void store(const char *key, const struct value *v, struct row *r,
		  struct header *h)
{
	static const struct {
		const char *key;
		unsigned bit;
		size_t off;
	} nums[] = {
		{ "ns_per_op", HAS_NS, offsetof(struct row, ns) },
		{ "ns_min", HAS_MIN, offsetof(struct row, ns_min) },
		{ "ns_max", HAS_MAX, offsetof(struct row, ns_max) },
		{ "server_cpu_ns_per_op", HAS_CPU, offsetof(struct row, cpu) },
		{ "server_cpu_ns_min", HAS_CPU_MIN, offsetof(struct row, cpu_min) },
		{ "server_cpu_ns_max", HAS_CPU_MAX, offsetof(struct row, cpu_max) },
	};

	if (strcmp(key, "header") == 0 && v->boolean == 1)
		r->has |= HAS_HEADER;
	if (v->str) {
		if (strcmp(key, "bench") == 0) {
			copy(r->bench, sizeof(r->bench), v->str);
			r->has |= HAS_BENCH;
		} else if (strcmp(key, "impl") == 0) {
			copy(r->impl, sizeof(r->impl), v->str);
			r->has |= HAS_IMPL;
		} else if (strcmp(key, "mode") == 0) {
			copy(r->mode, sizeof(r->mode), v->str);
			r->has |= HAS_MODE;
		} else if (strcmp(key, "axis") == 0) {
			copy(r->axis, sizeof(r->axis), v->str);
		} else if (strcmp(key, "skipped") == 0) {
			copy(r->skipped, sizeof(r->skipped), v->str);
		} else if (strcmp(key, "failed") == 0) {
			copy(r->failed, sizeof(r->failed), v->str);
		} else if (h && strcmp(key, "ringo_commit") == 0) {
			copy(h->commit, sizeof(h->commit), v->str);
		} else if (h && strcmp(key, "date") == 0) {
			copy(h->date, sizeof(h->date), v->str);
		} else if (h && strcmp(key, "cpu") == 0) {
			copy(h->cpu, sizeof(h->cpu), v->str);
		}
		return;
	}
	if (h && strcmp(key, "quick") == 0 && v->boolean >= 0)
		h->quick = v->boolean;
	if (!v->is_num)
		return;
	if (strcmp(key, "procs") == 0)
		r->procs = (int)v->num;
	else if (strcmp(key, "n") == 0)
		r->n = (long)v->num;
	else if (h && strcmp(key, "reps") == 0)
		h->reps = (int)v->num;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (strcmp(key, nums[i].key) == 0) {
			*(double *)((char *)r + nums[i].off) = v->num;
			r->has |= nums[i].bit;
		}
}

/* The object at p; its top-level members go to store() when r is set
 * (nested objects are passed NULL and only checked). Returns the position
 * after it, or NULL with s->why set. */
static const char *parse_object(const char *p, int depth, struct row *r,
				struct header *h, struct src *s)
{
	char key[64], str[160];

	if (depth > DEPTH_MAX) {
		snprintf(s->why, sizeof(s->why), "objects nested too deep");
		return NULL;
	}
	if (*p++ != '{')
		goto bad;
	p = bench_json_skip_ws(p);
	if (*p == '}')
		return p + 1;
	for (;;) {
		struct value v = { .boolean = -1 };
		p = bench_json_string(p, key, sizeof(key), false);
		if (!p || *(p = bench_json_skip_ws(p)) != ':')
			goto bad;
		p = bench_json_skip_ws(p + 1);
		if (*p == '"') {
			if (!(p = bench_json_string(p, str, sizeof(str), false)))
				goto bad;
			v.str = str;
		} else if (*p == '{') {
			if (!(p = parse_object(p, depth + 1, NULL, NULL, s)))
				return NULL;
		} else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
			v.boolean = *p == 't';
			p += v.boolean ? 4 : 5;
		} else if (strncmp(p, "null", 4) == 0) {
			p += 4;
		} else {
			char *end;
			v.num = strtod(p, &end);
			if (end == p || !isfinite(v.num))
				goto bad;
			v.is_num = true;
			p = end;
		}
		if (r)
			store(key, &v, r, h);
		p = bench_json_skip_ws(p);
		if (*p == '}')
			return p + 1;
		if (*p != ',')
			goto bad;
		p = bench_json_skip_ws(p + 1);
	}
bad:
	snprintf(s->why, sizeof(s->why), "not a flat JSON object");
	return NULL;
}

/* The row of rep that r is compared with: same bench, impl and mode and,
 * for a point of a curve, the same value on its axis (a quick and a full
 * run share their small points). */
static struct row *find_row(const struct report *rep, const struct row *r)
{
	for (int i = 0; i < rep->rows_nr; i++) {
		struct row *o = &rep->rows[i];
		if (strcmp(o->bench, r->bench) != 0 || strcmp(o->impl, r->impl) != 0 ||
		    strcmp(o->mode, r->mode) != 0 || strcmp(o->axis, r->axis) != 0)
			continue;
		if (strcmp(r->axis, "n") == 0 && o->n != r->n)
			continue;
		if (strcmp(r->axis, "procs") == 0 && o->procs != r->procs)
			continue;
		return o;
	}
	return NULL;
}

/* "park" or, for a point of a curve, "park@n=4000000" (one word, so
 * the table splits on blanks). */
static void row_name(char *buf, size_t len, const struct row *r)
{
	if (strcmp(r->axis, "n") == 0)
		snprintf(buf, len, "%s@n=%ld", r->bench, r->n);
	else if (strcmp(r->axis, "procs") == 0)
		snprintf(buf, len, "%s@procs=%d", r->bench, r->procs);
	else
		snprintf(buf, len, "%s", r->bench);
}

/* Check one parsed row and append it. Returns 0, or -1 with s->why. */
static int add_row(struct report *rep, const struct row *r, struct src *s)
{
	const unsigned key = HAS_BENCH | HAS_IMPL | HAS_MODE;
	const unsigned nums = HAS_NS | HAS_MIN | HAS_MAX;

	if ((r->has & key) != key) {
		snprintf(s->why, sizeof(s->why), "a row without bench, impl or mode");
		return -1;
	}
	if (!r->skipped[0] && !r->failed[0] && (r->has & nums) != nums) {
		snprintf(s->why, sizeof(s->why), "%s/%s/%s: no ns_per_op, ns_min or ns_max",
			 r->bench, r->impl, r->mode);
		return -1;
	}
	if (find_row(rep, r)) {
		char name[64];
		row_name(name, sizeof(name), r);
		snprintf(s->why, sizeof(s->why), "%s/%s/%s appears twice",
			 name, r->impl, r->mode);
		return -1;
	}
	if (rep->rows_nr == rep->rows_cap) {
		int cap = rep->rows_cap ? 2 * rep->rows_cap : 32;
		struct row *rows = realloc(rep->rows, (size_t)cap * sizeof(*rows));
		if (!rows) {
			snprintf(s->why, sizeof(s->why), "out of memory");
			return -1;
		}
		rep->rows = rows;
		rep->rows_cap = cap;
	}
	rep->rows[rep->rows_nr++] = *r;
	return 0;
}

/* Read path into rep. Returns 0, or -1 after printing why. */
static int read_report(const char *path, struct report *rep)
{
	struct src s = { .path = path };
	char *line = NULL;
	size_t cap = 0;
	bool header = false;
	FILE *f = fopen(path, "r");

	*rep = (struct report){ .path = path, .h = { .quick = -1 } };
	if (!f) {
		fprintf(stderr, "ringo-bench compare: cannot read %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		struct row r = { 0 };
		s.line++;
		const char *p = bench_json_skip_ws(line);
		if (*p == '\0')
			continue;
		if (!(p = parse_object(p, 0, &r, header ? NULL : &rep->h, &s)))
			goto err;
		if (*bench_json_skip_ws(p) != '\0') {
			snprintf(s.why, sizeof(s.why), "text after the object");
			goto err;
		}
		if (!header) {
			if (!(r.has & HAS_HEADER)) {
				snprintf(s.why, sizeof(s.why), "the first line is not a "
					 "ringo-bench --json header (no \"header\":true)");
				goto err;
			}
			header = true;
		} else if (add_row(rep, &r, &s) != 0) {
			goto err;
		}
	}
	if (ferror(f)) {
		snprintf(s.why, sizeof(s.why), "read error: %s", strerror(errno));
		goto err;
	}
	if (!header) {
		snprintf(s.why, sizeof(s.why), "empty: not a ringo-bench --json report");
		goto err;
	}
	free(line);
	fclose(f);
	return 0;
err:
	fprintf(stderr, "ringo-bench compare: %s:%ld: %s\n", path, s.line, s.why);
	free(line);
	fclose(f);
	free(rep->rows);
	rep->rows = NULL;
	return -1;
}

/* ======================================================================
 * Comparing
 * =================================================================== */

enum { C_BENCH, C_IMPL, C_MODE, C_FIGURE, C_OLD, C_NEW, C_DELTA, C_VERDICT, C_NR };

static const char *const col_title[C_NR] = {
	"bench", "impl", "mode", "figure", "old", "new", "delta", "",
};

static const bool col_right[C_NR] = {
	[C_OLD] = true, [C_NEW] = true, [C_DELTA] = true,
};

enum verdict { V_NONE, V_SAME, V_FASTER, V_SLOWER };

/* As the table in report.c: up to 4 significant digits. */
static void fmt_ns(char *buf, size_t len, double ns)
{
	snprintf(buf, len, ns < 10 ? "%.2f" : ns < 1000 ? "%.1f" : "%.0f", ns);
}

/* Is the pair o, n (either may be NULL) compared on the server CPU per
 * request? Yes if either has it: a server row. */
static bool on_cpu(const struct row *o, const struct row *n)
{
	return (o && (o->has & HAS_CPU)) || (n && (n->has & HAS_CPU));
}

/* r's figure (ns_per_op, or server CPU if cpu) and its range; false if r
 * has no range of it (a report from before the server CPU's was kept). */
static bool figure(const struct row *r, bool cpu, double *mid, double *lo, double *hi)
{
	const unsigned want = cpu ? HAS_CPU | HAS_CPU_MIN | HAS_CPU_MAX
				  : HAS_NS | HAS_MIN | HAS_MAX;
	*mid = cpu ? r->cpu : r->ns;
	*lo = cpu ? r->cpu_min : r->ns_min;
	*hi = cpu ? r->cpu_max : r->ns_max;
	return (r->has & want) == want;
}

/* "19.0 [18.7..19.4]", or why there is no number. */
static void fmt_side(char *buf, size_t len, const struct row *r, bool cpu)
{
	char mid[32], lo[32], hi[32];
	double m, l, h;

	if (!r) {
		snprintf(buf, len, "-");
	} else if (r->skipped[0] || r->failed[0]) {
		snprintf(buf, len, "%s", r->skipped[0] ? "skipped" : "FAILED");
	} else if (!figure(r, cpu, &m, &l, &h)) {
		snprintf(buf, len, "no range");
	} else {
		fmt_ns(mid, sizeof(mid), m);
		fmt_ns(lo, sizeof(lo), l);
		fmt_ns(hi, sizeof(hi), h);
		snprintf(buf, len, "%s [%s..%s]", mid, lo, hi);
	}
}

/* Fill a row's delta and verdict cells; returns the verdict. */
static enum verdict judge(char *delta, char *verdict, const struct row *o,
			  const struct row *n)
{
	delta[0] = verdict[0] = '\0';
	if (!o || !n) {
		snprintf(verdict, CELL, "only in %s", o ? "old" : "new");
		return V_NONE;
	}
	const struct row *bad = o->failed[0] || o->skipped[0] ? o : n;
	if (bad->failed[0] || bad->skipped[0]) {
		snprintf(verdict, CELL, "%s in %s: %s",
			 bad->failed[0] ? "failed" : "skipped", bad == o ? "old" : "new",
			 bad->failed[0] ? bad->failed : bad->skipped);
		return V_NONE;
	}
	bool cpu = on_cpu(o, n);
	double om, ol, oh, nm, nl, nh;
	if (!figure(o, cpu, &om, &ol, &oh) || !figure(n, cpu, &nm, &nl, &nh)) {
		snprintf(verdict, CELL, "no server CPU range in %s (a report from before "
			 "it was kept)", figure(o, cpu, &om, &ol, &oh) ? "new" : "old");
		return V_NONE;
	}
	if (om <= 0) {
		snprintf(verdict, CELL, "old %s is not positive",
			 cpu ? "server_cpu_ns_per_op" : "ns_per_op");
		return V_NONE;
	}
	double change = (nm - om) / om;
	bool overlap = nl <= oh && ol <= nh;
	enum verdict v = overlap || fabs(change) < CHANGE_MIN ? V_SAME
			 : change > 0 ? V_SLOWER : V_FASTER;

	snprintf(delta, CELL, "%+.1f%%", 100 * change);
	snprintf(verdict, CELL, "%s", v == V_SAME ? "~" : v == V_SLOWER ? "slower"
				      : "faster");
	if (o->n != n->n || o->procs != n->procs)
		snprintf(verdict + strlen(verdict), CELL - strlen(verdict),
			 " (n %ld -> %ld, procs %d -> %d)", o->n, n->n, o->procs,
			 n->procs);
	return v;
}

static void print_row(FILE *f, char (*row)[CELL], const int *width)
{
	bench_print_row(f, row[0], CELL, C_NR, width, col_right);
}

static void print_header(const char *which, const struct report *rep)
{
	const struct header *h = &rep->h;
	printf("%s: %s: ringo %s, %s, %s%s\n", which, rep->path,
	       h->commit[0] ? h->commit : "?", h->date[0] ? h->date : "?",
	       h->cpu[0] ? h->cpu : "?",
	       h->quick < 0 ? "" : h->quick ? ", --quick" : ", --full");
}

/* The table of old against new; returns how many ringo rows got slower,
 * naming them on stderr. */
static int compare(const struct report *old, const struct report *new)
{
	int nr = old->rows_nr + new->rows_nr, out = 1, slower = 0;
	int counts[V_SLOWER + 1] = { 0 };
	char (*cells)[C_NR][CELL] = calloc((size_t)nr + 1, sizeof(*cells));
	int width[C_NR] = { 0 };

	if (!cells) {
		fputs("ringo-bench compare: out of memory for the table\n", stderr);
		exit(2);
	}
	for (int c = 0; c < C_NR; c++)
		snprintf(cells[0][c], CELL, "%s", col_title[c]);
	/* Old order first, then what only the new report has. */
	for (int pass = 0; pass < 2; pass++) {
		const struct report *rep = pass ? new : old;
		for (int i = 0; i < rep->rows_nr; i++) {
			struct row *r = &rep->rows[i];
			if (pass && r->matched)
				continue;
			struct row *o = pass ? NULL : r;
			struct row *n = pass ? r : find_row(new, r);
			if (n && !pass)
				n->matched = true;
			char (*row)[CELL] = cells[out++];
			bool cpu = on_cpu(o, n);
			row_name(row[C_BENCH], CELL, r);
			snprintf(row[C_IMPL], CELL, "%s", r->impl);
			snprintf(row[C_MODE], CELL, "%s", r->mode);
			snprintf(row[C_FIGURE], CELL, "%s", cpu ? "server cpu/op" : "ns/op");
			fmt_side(row[C_OLD], CELL, o, cpu);
			fmt_side(row[C_NEW], CELL, n, cpu);
			enum verdict v = judge(row[C_DELTA], row[C_VERDICT], o, n);
			counts[v]++;
			if (v == V_SLOWER && strcmp(r->impl, "ringo") == 0)
				fprintf(stderr, "%s %s/%s/%s %s",
					slower++ ? ";" : "ringo-bench compare: slower:",
					row[C_BENCH], r->impl, r->mode, row[C_DELTA]);
		}
	}
	if (slower)
		fputc('\n', stderr);
	for (int i = 0; i < out; i++)
		for (int c = 0; c < C_NR; c++) {
			int w = (int)strlen(cells[i][c]);
			width[c] = w > width[c] ? w : width[c];
		}

	print_header("old", old);
	print_header("new", new);
	for (int i = 0; i < out; i++)
		print_row(stdout, cells[i], width);
	printf("%d slower, %d faster, %d ~ (no significant change), %d not compared\n"
	       "~: [min..max] ranges overlap or the change is under %.0f%%; server rows\n"
	       "are compared on the server's CPU per request (slower: more CPU)\n",
	       counts[V_SLOWER], counts[V_FASTER], counts[V_SAME], counts[V_NONE],
	       100 * CHANGE_MIN);
	free(cells);
	return slower;
}

static const char compare_help[] =
	"usage: ringo-bench compare [--fail-on-regression] OLD.json NEW.json\n"
	"Compares ns_per_op of each (bench, impl, mode) in two --json reports;\n"
	"server rows (echo, http, resp) on server_cpu_ns_per_op instead.\n"
	"  ~       no significant change: the [min..max] ranges overlap or the\n"
	"          median moved less than 5%\n"
	"  slower, faster: both ranges apart and the median moved 5% or more\n"
	"  --fail-on-regression  exit 1 if a ringo row got slower\n"
	"Exit status: 0 compared, 1 regression (with the flag), 2 bad usage or\n"
	"an unreadable or malformed report.\n";

static _Noreturn void compare_usage(const char *why)
{
	fprintf(stderr, "ringo-bench compare: %s\n%s", why, compare_help);
	exit(2);
}

int bench_compare(int argc, char **argv)
{
	const char *paths[2];
	int paths_nr = 0;
	bool fail_on_regression = false;
	struct report old, new;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--fail-on-regression") == 0)
			fail_on_regression = true;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			exit(fputs(compare_help, stdout) < 0 ? 2 : 0);
		else if (argv[i][0] == '-')
			compare_usage("unknown option");
		else if (paths_nr == 2)
			compare_usage("more than two reports");
		else
			paths[paths_nr++] = argv[i];
	}
	if (paths_nr != 2)
		compare_usage("needs two reports");
	if (read_report(paths[0], &old) != 0)
		return 2;
	if (read_report(paths[1], &new) != 0) {
		free(old.rows);
		return 2;
	}
	int slower = compare(&old, &new);
	free(old.rows);
	free(new.rows);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "ringo-bench compare: writing: %s\n", strerror(errno));
		return 2;
	}
	return fail_on_regression && slower ? 1 : 0;
}
