/*
 * bench/report.c - print results as a table (people), JSON lines and CSV
 * (programs). A result that was skipped or failed keeps its row, with the
 * reason, so a missing number is never silent.
 *
 * Besides ns_per_op's range (ns_min, ns_max) the reports carry the range
 * of server_cpu_ns_per_op (server_cpu_ns_min, server_cpu_ns_max): for a
 * server row that is the figure the table's "ringo vs go" column and
 * `compare` go by (net.h says why).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

const char *const bench_metric_key[BENCH_METRIC_NR] = {
	[BENCH_NS_PER_OP] = "ns_per_op",
	[BENCH_OPS_PER_S] = "ops_per_s",
	[BENCH_CPU_NS_PER_OP] = "cpu_ns_per_op",
	[BENCH_RSS_BYTES_PER_G] = "rss_bytes_per_g",
	[BENCH_SPAWN_NS_PER_G] = "spawn_ns_per_g",
	[BENCH_P99_NS] = "p99_ns",
	[BENCH_WALL_NS] = "wall_ns",
	[BENCH_SERVER_CPU_NS_PER_OP] = "server_cpu_ns_per_op",
	[BENCH_THREADS_CREATED] = "threads_created",
	[BENCH_WAKE_NS_PER_G] = "wake_ns_per_g",
	[BENCH_SLEEP_MAX_NS] = "sleep_max_ns",
	[BENCH_SLEEP_P99_NS] = "sleep_p99_ns",
};

const char *const bench_metric_label[BENCH_METRIC_NR] = {
	[BENCH_NS_PER_OP] = "ns per op",
	[BENCH_OPS_PER_S] = "operations per second",
	[BENCH_CPU_NS_PER_OP] = "CPU time per op (ns, all threads)",
	[BENCH_RSS_BYTES_PER_G] = "RSS per goroutine (bytes)",
	[BENCH_SPAWN_NS_PER_G] = "time to start one goroutine (ns)",
	[BENCH_P99_NS] = "99th percentile latency (ns)",
	[BENCH_WALL_NS] = "wall time of the run (ns)",
	[BENCH_SERVER_CPU_NS_PER_OP] = "server CPU time per op (ns)",
	[BENCH_THREADS_CREATED] = "OS threads created",
	[BENCH_WAKE_NS_PER_G] = "time to wake and finish one goroutine (ns)",
	[BENCH_SLEEP_MAX_NS] = "longest sleep, as slept (ns)",
	[BENCH_SLEEP_P99_NS] = "99th percentile sleep, as slept (ns)",
};

const char *bench_axis_key(enum bench_axis a)
{
	return a == BENCH_AXIS_N ? "n" : a == BENCH_AXIS_PROCS ? "procs" : "";
}

static bool ran(const struct bench_result *r)
{
	return !r->skipped[0] && !r->failed[0];
}

/* ======================================================================
 * JSON lines
 * =================================================================== */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Integral values print as integers; JSON has no NaN or infinity. */
static void json_num(FILE *f, double v)
{
	if (!isfinite(v))
		fputs("null", f);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.10g", v);
}

void report_json_header(FILE *f, const struct sys_info *si, bool quick, int reps,
			const char *args)
{
	const struct sys_uring *u = &si->uring;

	fputs("{\"header\":true,\"date\":", f);
	json_str(f, si->date);
	fputs(",\"cpu\":", f);
	json_str(f, si->cpu);
	fprintf(f, ",\"cores\":%d,\"kernel\":", si->cores);
	json_str(f, si->kernel);
	fprintf(f, ",\"io_uring\":{\"available\":%s", u->err ? "false" : "true");
	if (u->err) {
		fputs(",\"error\":", f);
		json_str(f, strerror(-u->err));
	}
	fprintf(f, ",\"single_issuer\":%s,\"defer_taskrun\":%s,\"coop_taskrun\":%s",
		u->single_issuer ? "true" : "false",
		u->defer_taskrun ? "true" : "false",
		u->coop_taskrun ? "true" : "false");
	fputs(",\"features\":", f);
	json_str(f, u->features);
	fputs("}", f);
	fprintf(f, ",\"mem_total_bytes\":%lld,\"mem_available_bytes\":%lld"
		",\"max_map_count\":%ld", (long long)si->mem_total,
		(long long)si->mem_available, si->max_map_count);
	fputs(",\"ringo_commit\":", f);
	json_str(f, si->commit);
	fputs(",\"go_version\":", f);
	if (si->go_version[0])
		json_str(f, si->go_version);
	else
		fputs("null", f);
	/* Every baseline tool, null when it is not installed. */
	fputs(",\"baselines\":{", f);
	for (int i = 0; i < si->baselines_nr; i++) {
		fputs(i ? "," : "", f);
		json_str(f, si->baselines[i].name);
		fputc(':', f);
		if (si->baselines[i].version[0])
			json_str(f, si->baselines[i].version);
		else
			fputs("null", f);
	}
	fputs("},\"args\":", f);
	json_str(f, args);
	fprintf(f, ",\"quick\":%s,\"reps\":%d}\n", quick ? "true" : "false", reps);
}

void report_json(FILE *f, const struct bench_result *r)
{
	fputs("{\"bench\":", f);
	json_str(f, r->b->name);
	fputs(",\"impl\":", f);
	json_str(f, r->impl);
	fputs(",\"mode\":", f);
	json_str(f, r->mode);
	fprintf(f, ",\"procs\":%d,\"n\":%ld", r->procs, r->n);
	if (r->b->axis != BENCH_AXIS_NONE)
		fprintf(f, ",\"axis\":\"%s\"", bench_axis_key(r->b->axis));
	if (r->setup[0]) {
		fputs(",\"setup\":", f);
		json_str(f, r->setup);
	}
	if (r->skipped[0] || r->failed[0]) {
		fputs(r->skipped[0] ? ",\"skipped\":" : ",\"failed\":", f);
		json_str(f, r->skipped[0] ? r->skipped : r->failed);
		fputs("}\n", f);
		return;
	}
	fputs(",\"ns_per_op\":", f);
	json_num(f, r->med.v[BENCH_NS_PER_OP]);
	fputs(",\"ns_min\":", f);
	json_num(f, r->lo[BENCH_NS_PER_OP]);
	fputs(",\"ns_max\":", f);
	json_num(f, r->hi[BENCH_NS_PER_OP]);
	fprintf(f, ",\"reps\":%d,\"noisy\":%s", r->reps, r->noisy ? "true" : "false");
	for (int m = BENCH_NS_PER_OP + 1; m < BENCH_METRIC_NR; m++) {
		if (!bench_has(&r->med, m))
			continue;
		fprintf(f, ",\"%s\":", bench_metric_key[m]);
		json_num(f, r->med.v[m]);
	}
	if (bench_has(&r->med, BENCH_SERVER_CPU_NS_PER_OP)) {
		fputs(",\"server_cpu_ns_min\":", f);
		json_num(f, r->lo[BENCH_SERVER_CPU_NS_PER_OP]);
		fputs(",\"server_cpu_ns_max\":", f);
		json_num(f, r->hi[BENCH_SERVER_CPU_NS_PER_OP]);
	}
	fputs("}\n", f);
}

/* ======================================================================
 * CSV: the JSON fields as columns; empty where a field does not apply.
 * =================================================================== */

static void csv_str(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_num(FILE *f, bool has, double v)
{
	fputc(',', f);
	if (has)
		json_num(f, v);
}

void report_csv(FILE *f, const struct bench_result *rs, int nr)
{
	fputs("bench,impl,mode,procs,n,axis,ns_per_op,ns_min,ns_max,reps,noisy", f);
	for (int m = BENCH_NS_PER_OP + 1; m < BENCH_METRIC_NR; m++)
		fprintf(f, ",%s", bench_metric_key[m]);
	fputs(",server_cpu_ns_min,server_cpu_ns_max,setup,skipped,failed\n", f);

	for (const struct bench_result *r = rs; r < rs + nr; r++) {
		bool ok = ran(r);
		csv_str(f, r->b->name);
		fprintf(f, ",%s,%s,%d,%ld,%s", r->impl, r->mode, r->procs, r->n,
			bench_axis_key(r->b->axis));
		csv_num(f, ok, r->med.v[BENCH_NS_PER_OP]);
		csv_num(f, ok, r->lo[BENCH_NS_PER_OP]);
		csv_num(f, ok, r->hi[BENCH_NS_PER_OP]);
		if (ok)
			fprintf(f, ",%d,%s", r->reps, r->noisy ? "true" : "false");
		else
			fputs(",,", f);
		for (int m = BENCH_NS_PER_OP + 1; m < BENCH_METRIC_NR; m++)
			csv_num(f, ok && bench_has(&r->med, m), r->med.v[m]);
		bool cpu = ok && bench_has(&r->med, BENCH_SERVER_CPU_NS_PER_OP);
		csv_num(f, cpu, r->lo[BENCH_SERVER_CPU_NS_PER_OP]);
		csv_num(f, cpu, r->hi[BENCH_SERVER_CPU_NS_PER_OP]);
		fputc(',', f);
		csv_str(f, r->setup);
		fputc(',', f);
		csv_str(f, r->skipped);
		fputc(',', f);
		csv_str(f, r->failed);
		fputc('\n', f);
	}
}

/* ======================================================================
 * Table
 * =================================================================== */

enum { C_BENCH, C_IMPL, C_MODE, C_PROCS, C_N, C_NS, C_RANGE, C_VS, C_EXTRA, C_NR };

#define CELL 192

static const char *const col_title[C_NR] = {
	"bench", "impl", "mode", "procs", "n", "ns/op", "min..max", "ringo vs go",
	"extra",
};

/* Columns of numbers align right. */
static const bool col_right[C_NR] = {
	[C_PROCS] = true, [C_N] = true, [C_NS] = true, [C_RANGE] = true,
};

/* Up to 4 significant digits without switching units: 3.25, 34.4, 3139. */
static void fmt_ns(char *buf, size_t len, double ns)
{
	snprintf(buf, len, ns < 10 ? "%.2f" : ns < 1000 ? "%.1f" : "%.0f", ns);
}

static void fmt_dur(char *buf, size_t len, double ns)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
}

static void fmt_count(char *buf, size_t len, double v)
{
	snprintf(buf, len, "%.0f", v);
}

static void fmt_bytes(char *buf, size_t len, double b)
{
	if (b < 1024)
		snprintf(buf, len, "%.0f B", b);
	else
		snprintf(buf, len, "%.1f KiB", b / 1024);
}

/* The metrics worth a glance, comma-separated; the rest are in JSON. */
static void fmt_extra(char *buf, size_t len, const struct bench_sample *s)
{
	static const struct {
		enum bench_metric m;
		const char *label;
		void (*fmt)(char *, size_t, double);
	} shown[] = {
		{ BENCH_RSS_BYTES_PER_G, "RSS/G", fmt_bytes },
		{ BENCH_SPAWN_NS_PER_G, "spawn/G", fmt_dur },
		{ BENCH_WAKE_NS_PER_G, "wake/G", fmt_dur },
		{ BENCH_P99_NS, "p99", fmt_dur },
		{ BENCH_WALL_NS, "wall", fmt_dur },
		{ BENCH_SLEEP_MAX_NS, "slept max", fmt_dur },
		{ BENCH_SLEEP_P99_NS, "p99", fmt_dur },
		{ BENCH_SERVER_CPU_NS_PER_OP, "server cpu/op", fmt_dur },
		{ BENCH_THREADS_CREATED, "threads", fmt_count },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		if (!bench_has(s, shown[i].m) || used >= len)
			continue;
		char val[32];
		shown[i].fmt(val, sizeof(val), s->v[shown[i].m]);
		used += (size_t)snprintf(buf + used, len - used, "%s%s %s",
					 used ? ", " : "", shown[i].label, val);
	}
}

/* "3.2x faster" / "1.4x slower": ringo's median against go's at the same
 * point (n and procs); for a server row "2.1x less CPU" / "1.2x more CPU",
 * from the server CPU per request. */
static void fmt_vs(char *buf, size_t len, const struct bench_result *r,
		   const struct bench_result *rs, int nr)
{
	enum bench_metric m = r->b->net ? BENCH_SERVER_CPU_NS_PER_OP : BENCH_NS_PER_OP;

	buf[0] = '\0';
	if (strcmp(r->impl, "ringo") != 0 || !ran(r))
		return;
	for (const struct bench_result *g = rs; g < rs + nr; g++) {
		if (g->b != r->b || g->n != r->n || g->procs != r->procs ||
		    strcmp(g->impl, "go") != 0 || !ran(g))
			continue;
		double ringo = r->med.v[m], go = g->med.v[m];
		if (ringo <= 0 || go <= 0)
			return;
		if (go >= ringo)
			snprintf(buf, len, "%.1fx %s", go / ringo, r->b->net ? "less CPU" : "faster");
		else
			snprintf(buf, len, "%.1fx %s", ringo / go, r->b->net ? "more CPU" : "slower");
		return;
	}
}

static void fill_row(char (*row)[CELL], const struct bench_result *r,
		     const struct bench_result *rs, int nr)
{
	char lo[32], hi[32], extra[CELL];

	snprintf(row[C_BENCH], CELL, "%s", r->b->name);
	snprintf(row[C_IMPL], CELL, "%s", r->impl);
	snprintf(row[C_MODE], CELL, "%s", r->mode);
	snprintf(row[C_PROCS], CELL, "%d", r->procs);
	snprintf(row[C_N], CELL, "%ld", r->n);
	if (!ran(r)) {
		snprintf(row[C_NS], CELL, "-");
		snprintf(row[C_RANGE], CELL, "-");
		row[C_VS][0] = '\0';
		snprintf(row[C_EXTRA], CELL, "%s: %s", r->skipped[0] ? "skipped" : "FAILED",
			 r->skipped[0] ? r->skipped : r->failed);
		return;
	}
	fmt_ns(row[C_NS], CELL - 1, r->med.v[BENCH_NS_PER_OP]);
	if (r->noisy)
		strcat(row[C_NS], "*");
	fmt_ns(lo, sizeof(lo), r->lo[BENCH_NS_PER_OP]);
	fmt_ns(hi, sizeof(hi), r->hi[BENCH_NS_PER_OP]);
	snprintf(row[C_RANGE], CELL, "%s..%s", lo, hi);
	fmt_vs(row[C_VS], CELL, r, rs, nr);
	fmt_extra(extra, sizeof(extra), &r->med);
	/* Server rows: the throughput as people quote it, besides ns/op. */
	if (r->b->net && bench_has(&r->med, BENCH_OPS_PER_S))
		snprintf(row[C_EXTRA], CELL, "%.0f ops/s%s%.150s",
			 r->med.v[BENCH_OPS_PER_S], extra[0] ? ", " : "", extra);
	else
		snprintf(row[C_EXTRA], CELL, "%s", extra);
	if (r->setup[0]) {
		size_t len = strlen(row[C_EXTRA]);
		snprintf(row[C_EXTRA] + len, CELL - len, "%s%s", len ? "; " : "", r->setup);
	}
}

void bench_print_row(FILE *f, const char *cells, size_t cell, int ncols,
		     const int *width, const bool *right)
{
	char line[2048]; /* wider than any table row: 9 cells of at most 200 */
	size_t len = 0;

	for (int c = 0; c < ncols && len < sizeof(line); c++)
		len += (size_t)snprintf(line + len, sizeof(line) - len,
					right[c] ? "%*s  " : "%-*s  ", width[c],
					cells + (size_t)c * cell);
	if (len > sizeof(line) - 1)
		len = sizeof(line) - 1;
	while (len && line[len - 1] == ' ')
		len--;
	fprintf(f, "%.*s\n", (int)len, line);
}

static void print_row(FILE *f, char (*row)[CELL], const int *width)
{
	bench_print_row(f, row[0], CELL, C_NR, width, col_right);
}

void report_table(FILE *f, const struct sys_info *si, const struct bench_result *rs,
		  int nr)
{
	char (*cells)[C_NR][CELL] = calloc((size_t)nr + 1, sizeof(*cells));
	int width[C_NR] = { 0 };
	bool any_noisy = false;

	if (!cells) {
		fputs("ringo-bench: out of memory for the table\n", f);
		return;
	}
	for (int c = 0; c < C_NR; c++)
		snprintf(cells[0][c], CELL, "%s", col_title[c]);
	for (int i = 0; i < nr; i++) {
		fill_row(cells[i + 1], &rs[i], rs, nr);
		any_noisy |= ran(&rs[i]) && rs[i].noisy;
	}
	for (int i = 0; i <= nr; i++)
		for (int c = 0; c < C_NR; c++) {
			int w = (int)strlen(cells[i][c]);
			width[c] = w > width[c] ? w : width[c];
		}

	fprintf(f, "%s, %d cores, Linux %s, io_uring %s; ringo %s, %s\n",
		si->cpu, si->cores, si->kernel, si->uring.err ? "unavailable" : "yes",
		si->commit, si->go_version[0] ? si->go_version : "go not found");
	for (int i = 0; i <= nr; i++)
		print_row(f, cells[i], width);
	if (any_noisy)
		fputs("* noisy: (max - min) / median > 25%\n", f);
	free(cells);
}
