/*
 * bench/report.h - the three forms of a report: a table for people, JSON
 * lines and CSV for programs. JSON and CSV carry the same fields.
 */
#ifndef RINGO_BENCH_REPORT_H
#define RINGO_BENCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "bench.h"
#include "sys.h"

/* The machine and the run's settings (args: the command line after the
 * program name): the first JSON line. */
void report_json_header(FILE *f, const struct sys_info *si, bool quick, int reps,
			const char *args);
void report_json(FILE *f, const struct bench_result *r);

/* A header line, then one line per result. */
void report_csv(FILE *f, const struct bench_result *rs, int nr);

/* One row per result; ringo rows compare against the go row of the same
 * benchmark. */
void report_table(FILE *f, const struct sys_info *si, const struct bench_result *rs,
		  int nr);

/* compare.c: `ringo-bench compare` with argv[0] = "compare"; returns the
 * exit status (0 compared, 1 regression with --fail-on-regression, 2 bad
 * usage or report). */
int bench_compare(int argc, char **argv);

/* The JSON/CSV name of an axis ("n", "procs"); "" for none. */
const char *bench_axis_key(enum bench_axis a);

/* plot.c: one PNG per curve and plotted metric into dir (created if
 * missing), drawn by gnuplot. Returns 0, or -1 after saying on stderr why
 * there are no plots (gnuplot missing, dir not writable); never fatal. */
int bench_plot(const char *dir, const struct sys_info *si,
	       const struct bench_result *rs, int nr);

/* One table line: ncols cells (cell bytes apart in `cells`), padded to
 * width[], right-aligned where right[] says, two spaces apart, with no
 * trailing blanks. Shared by the results table and compare's. */
void bench_print_row(FILE *f, const char *cells, size_t cell, int ncols,
		     const int *width, const bool *right);

#endif
