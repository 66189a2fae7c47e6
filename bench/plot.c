/*
 * bench/plot.c - `--plot DIR`: one PNG per curve and plotted metric,
 * drawn by gnuplot (Debian's gnuplot-nox), with one line per (impl, mode)
 * so ringo in each netpoll mode and Go share a picture.
 *
 * A curve is every row of one benchmark with an axis (bench.h, enum
 * bench_axis): x is the row's n or procs, y the metric's median, with the
 * [min..max] of the repetitions as error bars. The script goes to
 * gnuplot's stdin with the data inline, so DIR gets nothing but the
 * pictures. Plots are an extra: without gnuplot, or when one fails, the
 * run says so and goes on.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"

#define SERIES_MAX 4   /* ringo uring, ringo epoll, ringo, go */
#define LOG_SPAN 100.0 /* an axis spanning this factor or more is log */

struct series {
	const char *impl, *mode;
	int points;
};

static bool ran(const struct bench_result *r)
{
	return !r->skipped[0] && !r->failed[0];
}

/* mkdir -p: 0, or -1 with errno. */
static int make_dirs(const char *dir)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* A gnuplot string literal: double quotes, with " and \ escaped and a
 * newline as \n. */
static void gp_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static double x_of(const struct bench_result *r)
{
	return r->b->axis == BENCH_AXIS_PROCS ? r->procs : (double)r->n;
}

static bool has_point(const struct bench_result *r, enum bench_metric m)
{
	return ran(r) && bench_has(&r->med, m) && r->med.v[m] > 0;
}

/* The distinct (impl, mode) pairs of b's rows, in the order they ran,
 * with how many points each has for metric m. */
static int find_series(const struct bench *b, enum bench_metric m,
		       const struct bench_result *rs, int nr, struct series *ss)
{
	int n = 0;

	for (const struct bench_result *r = rs; r < rs + nr; r++) {
		if (r->b != b)
			continue;
		int i = 0;
		while (i < n && (strcmp(ss[i].impl, r->impl) != 0 ||
				 strcmp(ss[i].mode, r->mode) != 0))
			i++;
		if (i == n) {
			if (n == SERIES_MAX)
				continue;
			ss[n++] = (struct series){ r->impl, r->mode, 0 };
		}
		ss[i].points += has_point(r, m);
	}
	return n;
}

static void y_label(char *buf, size_t len, const struct bench *b, enum bench_metric m)
{
	if (m == BENCH_NS_PER_OP)
		snprintf(buf, len, "ns per %s", b->op ? b->op : "op");
	else
		snprintf(buf, len, "%s", bench_metric_label[m]);
}

/* Write the gnuplot script for one picture to f. */
static void script(FILE *f, const char *png, const struct sys_info *si,
		   const struct bench *b, enum bench_metric m,
		   const struct bench_result *rs, int nr, const struct series *ss,
		   int ns)
{
	double xmin = INFINITY, xmax = 0, ymin = INFINITY, ymax = 0;
	char label[160];

	for (const struct bench_result *r = rs; r < rs + nr; r++) {
		if (r->b != b || !has_point(r, m))
			continue;
		xmin = fmin(xmin, x_of(r));
		xmax = fmax(xmax, x_of(r));
		ymin = fmin(ymin, r->med.v[m]);
		ymax = fmax(ymax, r->med.v[m]);
	}

	fputs("set terminal pngcairo size 900,560 font \"sans,10\" noenhanced\n"
	      "set output ", f);
	gp_str(f, png);
	y_label(label, sizeof(label), b, m);
	char title[1024];
	snprintf(title, sizeof(title), "%s: %s\nringo %s, %s, %s, %d cores, Linux %s, %s",
		 b->name, label, si->commit, si->go_version[0] ? si->go_version : "no go",
		 si->cpu, si->cores, si->kernel, si->date);
	fputs("\nset title ", f);
	gp_str(f, title);
	fputs("\nset xlabel ", f);
	gp_str(f, b->x_label ? b->x_label : bench_axis_key(b->axis));
	fputs("\nset ylabel ", f);
	gp_str(f, label);
	fputs("\nset grid\nset key top left box opaque\n", f);
	if (b->axis == BENCH_AXIS_PROCS && xmax <= BENCH_POINTS_MAX) {
		fprintf(f, "set xtics 1\nset xrange [%g:%g]\n", xmin - 0.5, xmax + 0.5);
	} else if (b->axis == BENCH_AXIS_PROCS) { /* 1, 2, 4, ... (main.c) */
		fprintf(f, "set logscale x 2\nset xrange [%g:%g]\n", xmin / 1.2, xmax * 1.2);
	} else if (xmax / xmin >= LOG_SPAN) {
		fputs("set logscale x 10\nset format x \"%.0s%c\"\n", f);
		fprintf(f, "set xrange [%g:%g]\n", xmin / 1.5, xmax * 1.5);
	}
	if (ymax / ymin >= LOG_SPAN)
		fputs("set logscale y 10\n", f);
	else
		fputs("set yrange [0:*]\n", f);

	/* The data: one inline block per series, "x y lo hi" per point. */
	for (int i = 0; i < ns; i++) {
		fprintf(f, "$s%d << EOD\n", i);
		for (const struct bench_result *r = rs; r < rs + nr; r++) {
			if (r->b != b || strcmp(r->impl, ss[i].impl) != 0 ||
			    strcmp(r->mode, ss[i].mode) != 0 || !has_point(r, m))
				continue;
			fprintf(f, "%.10g %.10g %.10g %.10g\n", x_of(r), r->med.v[m],
				r->lo[m], r->hi[m]);
		}
		fputs("EOD\n", f);
	}
	fputs("plot", f);
	for (int i = 0, k = 0; i < ns; i++) {
		if (!ss[i].points)
			continue;
		char name[48];
		snprintf(name, sizeof(name), "%s%s%s", ss[i].impl,
			 strcmp(ss[i].mode, "-") ? " " : "",
			 strcmp(ss[i].mode, "-") ? ss[i].mode : "");
		fprintf(f, "%s $s%d using 1:2:3:4 with yerrorlines lw 2 pt 7 title ",
			k++ ? "," : "", i);
		gp_str(f, name);
	}
	fputs("\n", f);
}

/* Draw b's metric m into dir. Returns 0 drawn, 1 nothing to draw, -1
 * gnuplot failed (said on stderr). */
static int plot_one(const char *dir, const struct sys_info *si,
		    const struct bench *b, enum bench_metric m,
		    const struct bench_result *rs, int nr)
{
	struct series ss[SERIES_MAX];
	int ns = find_series(b, m, rs, nr, ss);
	bool curve = false;
	for (int i = 0; i < ns; i++)
		curve |= ss[i].points >= 2;
	if (!curve)
		return 1;

	char png[4200];
	if (m == BENCH_NS_PER_OP)
		snprintf(png, sizeof(png), "%s/%s.png", dir, b->name);
	else
		snprintf(png, sizeof(png), "%s/%s-%s.png", dir, b->name, bench_metric_key[m]);
	fflush(NULL);
	FILE *gp = popen("gnuplot", "w");
	if (!gp) {
		fprintf(stderr, "ringo-bench: --plot: cannot start gnuplot: %s\n",
			strerror(errno));
		return -1;
	}
	script(gp, png, si, b, m, rs, nr, ss, ns);
	int status = pclose(gp);
	if (status != 0) {
		fprintf(stderr, "ringo-bench: --plot: gnuplot failed on %s (status %d)\n",
			png, status);
		return -1;
	}
	fprintf(stderr, "ringo-bench: plotted %s\n", png);
	return 0;
}

int bench_plot(const char *dir, const struct sys_info *si,
	       const struct bench_result *rs, int nr)
{
	int drawn = 0, ret = 0;

	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		fprintf(stderr, "ringo-bench: --plot: gnuplot not found, no plots "
			"(Debian package gnuplot-nox; `make bench` installs it)\n");
		return -1;
	}
	if (make_dirs(dir) != 0) {
		fprintf(stderr, "ringo-bench: --plot: cannot create %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	for (const struct bench_result *r = rs; r < rs + nr; r++) {
		const struct bench *b = r->b;
		bool first = true;
		for (const struct bench_result *q = rs; q < r && first; q++)
			first = q->b != b;
		if (!first || b->axis == BENCH_AXIS_NONE)
			continue;
		int plots = b->plots_nr ? b->plots_nr : 1;
		for (int k = 0; k < plots; k++) {
			int got = plot_one(dir, si, b, b->plots_nr ? b->plots[k]
						 : BENCH_NS_PER_OP, rs, nr);
			drawn += got == 0;
			ret |= got < 0 ? -1 : 0;
		}
	}
	if (!drawn && !ret)
		fprintf(stderr, "ringo-bench: --plot: no curve with two points or "
			"more in this run, no plots\n");
	return ret;
}
