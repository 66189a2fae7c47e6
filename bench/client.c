/*
 * bench/client.c - run a load generator against a server and read its
 * numbers: ringo-loadgen (echo), wrk (HTTP), redis-benchmark (RESP).
 *
 * ringo-loadgen reads the server's CPU clock itself at the edges of each
 * measured window. wrk and redis-benchmark are one process per
 * repetition, and the server's CPU time is read just before the client
 * starts and after it exits: the server's share of connecting and
 * disconnecting (a few ms against a second of requests) is then counted
 * too, the same for every server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "proc.h"

#define OUT_MAX 16384      /* bytes of client output kept */
#define REDIS_KEYS "1000"  /* redis-benchmark -r: the keyspace */

struct exec_job {
	char **argv;
	const cpu_set_t *cpus;
};

static void exec_body(void *arg, int wfd)
{
	struct exec_job *j = arg;

	if (j->cpus && sched_setaffinity(0, sizeof(*j->cpus), j->cpus) != 0) {
		fprintf(stderr, "ringo-bench: sched_setaffinity: %s\n", strerror(errno));
		_exit(127);
	}
	dup2(wfd, STDOUT_FILENO);
	execvp(j->argv[0], j->argv);
	fprintf(stderr, "ringo-bench: exec %s: %s\n", j->argv[0], strerror(errno));
	_exit(127);
}

/* Run argv pinned to cpus, killed after timeout_s; its stdout into out
 * (NUL-terminated). Returns 0, or -1 with why naming the tool. */
static int run_tool(char **argv, const cpu_set_t *cpus, int timeout_s, char *out,
		    char *why, size_t why_len)
{
	struct exec_job j = { argv, cpus };
	struct proc pr;
	char how[128];
	long len = -1;

	if (proc_start(&pr, exec_body, &j, how, sizeof(how)) == 0)
		len = proc_finish(&pr, out, OUT_MAX - 1, timeout_s, how, sizeof(how));
	if (len < 0) {
		snprintf(why, why_len, "%s %s", argv[0], how);
		return -1;
	}
	out[len] = '\0';
	return 0;
}

static void set_sample(struct bench_sample *s, double ops, double wall_ns,
		       double server_cpu_ns, double p99_ns)
{
	s->run_ns = (int64_t)wall_ns;
	bench_set(s, BENCH_NS_PER_OP, wall_ns / ops);
	bench_set(s, BENCH_OPS_PER_S, ops * 1e9 / wall_ns);
	bench_set(s, BENCH_SERVER_CPU_NS_PER_OP, server_cpu_ns / ops);
	bench_set(s, BENCH_P99_NS, p99_ns);
}

/* ------------------------------------------------------------------------
 * echo: ringo-loadgen does the warm-up and the measured window in one run. */

static int run_echo(const struct client_plan *p, struct bench_sample *out, char *why,
		    size_t why_len)
{
	char conns[24], threads[16], warm[16], window[16], pid[16], addr[32];
	char *argv[] = {
		(char *)p->tool, "--conns", conns, "--size", "64", "--threads", threads,
		"--warmup-ms", warm, "--window-ms", window, "--reps", "1",
		"--server-pid", pid, addr, NULL,
	};
	char *text = malloc(OUT_MAX);
	int ret = -1;

	snprintf(conns, sizeof(conns), "%ld", p->conns);
	snprintf(threads, sizeof(threads), "%d", p->threads);
	snprintf(warm, sizeof(warm), "%d", p->quick ? 300 : 1000);
	snprintf(window, sizeof(window), "%d", p->quick ? 500 : 1000);
	snprintf(pid, sizeof(pid), "%d", (int)p->server->pid);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", p->server->port);
	if (!text) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	if (run_tool(argv, p->cpus, p->timeout_s, text, why, why_len) != 0)
		goto out;
	unsigned long long ops, p99;
	long long wall, cpu;
	int end = 0;
	/* Its one line, and nothing else. */
	if (sscanf(text, "window ops=%llu wall_ns=%lld p99_ns=%llu server_cpu_ns=%lld\n%n",
		   &ops, &wall, &p99, &cpu, &end) != 4 || !end || text[end]) {
		snprintf(why, why_len, "ringo-loadgen printed no window line: %.80s", text);
		goto out;
	}
	if (ops == 0 || wall <= 0 || cpu < 0) {
		snprintf(why, why_len, "ringo-loadgen: a window without round trips or "
			 "CPU time: %.80s", text);
		goto out;
	}
	set_sample(out, (double)ops, (double)wall, (double)cpu, (double)p99);
	ret = 0;
out:
	free(text);
	return ret;
}

/* ------------------------------------------------------------------------
 * Clients that run once per measurement: wrk, redis-benchmark. */

struct one_run {
	double ops, wall_ns, p99_ns; /* parsed from the client's output */
};

/* "585.00us" / "1.23ms" / "1.00s" -> ns; -1 if not a duration. */
static double wrk_duration(const char *s)
{
	char unit[4] = "";
	double v;
	if (sscanf(s, "%lf%3s", &v, unit) != 2)
		return -1;
	if (strcmp(unit, "us") == 0)
		return v * 1e3;
	if (strcmp(unit, "ms") == 0)
		return v * 1e6;
	if (strcmp(unit, "s") == 0)
		return v * 1e9;
	if (strcmp(unit, "m") == 0)
		return v * 60e9;
	return -1;
}

static int parse_wrk(char *text, struct one_run *r, char *why, size_t why_len)
{
	double secs = -1;
	long requests = -1;

	r->p99_ns = -1;
	for (char *save, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = line + strspn(line, " \t");
		char when[32];
		if (strncmp(p, "99%", 3) == 0)
			r->p99_ns = wrk_duration(p + 3 + strspn(p + 3, " "));
		else if (sscanf(p, "%ld requests in %31[^,]", &requests, when) == 2)
			secs = wrk_duration(when) / 1e9;
		else if (strncmp(p, "Non-2xx", 7) == 0 || strncmp(p, "Socket errors", 13) == 0) {
			snprintf(why, why_len, "wrk: %.120s", p);
			return -1;
		}
	}
	if (requests <= 0 || secs <= 0 || r->p99_ns < 0) {
		snprintf(why, why_len, "wrk printed no request count, duration or "
			 "99%% latency");
		return -1;
	}
	r->ops = (double)requests;
	r->wall_ns = secs * 1e9;
	return 0;
}

/* The --csv line of the test: "GET","rps","avg","min","p50","p95","p99","max"
 * (latencies in ms). */
static int parse_redis(char *text, const char *test, long requests, struct one_run *r,
		       char *why, size_t why_len)
{
	char want[16];
	snprintf(want, sizeof(want), "\"%s\"", test);
	for (char *p = want; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);

	for (char *save, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		double rps, avg, min, p50, p95, p99;
		if (strncmp(line, want, strlen(want)) != 0)
			continue;
		if (sscanf(line + strlen(want), ",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\"",
			   &rps, &avg, &min, &p50, &p95, &p99) != 6 || rps <= 0)
			break;
		r->ops = (double)requests;
		r->wall_ns = (double)requests / rps * 1e9;
		r->p99_ns = p99 * 1e6;
		return 0;
	}
	snprintf(why, why_len, "redis-benchmark printed no %s result line", want);
	return -1;
}

/* The command line of one client run; warm-up runs are shorter and, for
 * redis-benchmark, SET then GET, so the keys a GET asks for exist. */
struct argv_buf {
	char *argv[24];
	char a[6][32];
};

static void client_argv(const struct client_plan *p, bool warmup, struct argv_buf *b)
{
	const struct bench_net *net = p->net;
	int k = 0;

	if (net->client == BENCH_CLIENT_WRK) {
		snprintf(b->a[0], 32, "%d", p->threads);
		snprintf(b->a[1], 32, "%ld", p->conns);
		snprintf(b->a[2], 32, "%ds", warmup || p->quick ? 1 : 2);
		snprintf(b->a[3], 32, "http://127.0.0.1:%d/", p->server->port);
		char *w[] = { (char *)p->tool, "-t", b->a[0], "-c", b->a[1], "-d", b->a[2],
			      "--latency", "--timeout", "10s", b->a[3], NULL };
		memcpy(b->argv, w, sizeof(w));
		return;
	}
	long n = p->quick ? net->requests_quick : net->requests_full;
	snprintf(b->a[0], 32, "%d", p->server->port);
	snprintf(b->a[1], 32, "%ld", p->conns);
	snprintf(b->a[2], 32, "%ld", warmup ? n / 4 : n);
	snprintf(b->a[3], 32, "%d", net->pipeline);
	snprintf(b->a[4], 32, "%d", p->threads);
	char *r[] = { (char *)p->tool, "-h", "127.0.0.1", "-p", b->a[0], "-c", b->a[1],
		      "-n", b->a[2], "-P", b->a[3], "-r", REDIS_KEYS, "--csv",
		      "-t", warmup ? "set,get" : (char *)net->redis_test, NULL };
	memcpy(b->argv, r, sizeof(r));
	for (k = 0; b->argv[k]; k++)
		;
	if (p->threads > 1) {
		b->argv[k++] = "--threads";
		b->argv[k++] = b->a[4];
		b->argv[k] = NULL;
	}
}

static int run_each(const struct client_plan *p, struct bench_sample *out, char *why,
		    size_t why_len)
{
	char *text = malloc(OUT_MAX);
	int ret = 0;

	if (!text) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	for (int i = -1; i < 1 && ret == 0; i++) {
		struct argv_buf b;
		struct one_run r;
		client_argv(p, i < 0, &b);
		int64_t cpu0 = server_cpu_ns(p->server);
		ret = run_tool(b.argv, p->cpus, p->timeout_s, text, why, why_len);
		int64_t cpu1 = server_cpu_ns(p->server);
		if (ret != 0 || i < 0)
			continue;
		if (cpu0 < 0 || cpu1 < 0) {
			snprintf(why, why_len, "cannot read the server's CPU time");
			ret = -1;
		} else if (p->net->client == BENCH_CLIENT_WRK) {
			ret = parse_wrk(text, &r, why, why_len);
		} else {
			ret = parse_redis(text, p->net->redis_test,
					  p->quick ? p->net->requests_quick
						   : p->net->requests_full,
					  &r, why, why_len);
		}
		if (ret == 0)
			set_sample(out, r.ops, r.wall_ns, (double)(cpu1 - cpu0), r.p99_ns);
	}
	free(text);
	return ret;
}

int client_run(const struct client_plan *p, struct bench_sample *out, char *why,
	       size_t why_len)
{
	if (p->net->client == BENCH_CLIENT_ECHO)
		return run_echo(p, out, why, why_len);
	return run_each(p, out, why, why_len);
}
