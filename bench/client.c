/*
 * bench/client.c - run a load generator against a server and read its
 * numbers: ringo-loadgen (echo), wrk (HTTP), redis-benchmark (RESP).
 *
 * ringo-loadgen reads the server's CPU clock itself at the edges of its
 * measured window, with every connection open and busy. wrk and
 * redis-benchmark are a process per run, which connects when it starts
 * and closes when it exits; the comment above struct one_run says how
 * their runs are timed.
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
		       double server_cpu_ns_per_op, double p99_ns)
{
	s->run_ns = (int64_t)wall_ns;
	bench_set(s, BENCH_NS_PER_OP, wall_ns / ops);
	bench_set(s, BENCH_OPS_PER_S, ops * 1e9 / wall_ns);
	bench_set(s, BENCH_SERVER_CPU_NS_PER_OP, server_cpu_ns_per_op);
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
	set_sample(out, (double)ops, (double)wall, (double)cpu / (double)ops, (double)p99);
	ret = 0;
out:
	free(text);
	return ret;
}

/* ------------------------------------------------------------------------
 * Clients that run once per measurement: wrk, redis-benchmark.
 *
 * A run of either opens its connections as it starts and closes them as
 * it exits, and the server's share of that lands in the server's CPU
 * clock around the run. Two things keep it out of the CPU per request:
 *   - the clock is read once it has settled (server_cpu_settled_ns), so
 *     that a window holds the whole teardown of its own run's connections
 *     and none of the run before (the closes of a warm-up with 10,000
 *     connections weigh as much as a second of requests);
 *   - wrk with WRK_DIFF_CONNS or more connections runs twice with as
 *     many connections, for d and 2d seconds, and the CPU per request is
 *     (cpu_2d - cpu_d) / (requests_2d - requests_d): connecting, closing
 *     and anything else a run costs once cancel out (40-100 us of server
 *     CPU per connection here: at 10,000 connections 0.3-0.8 s against
 *     1.2 s for the requests of a 2 s run; at 1,000 4-10%). The
 *     difference is noisier than one run's average, and taken as it
 *     comes (clamping it to the plausible side would bias it low): the
 *     median over the rounds absorbs a wild one either way. Only a
 *     difference that is no cost at all (the 2d run served or used no
 *     more than the d run: the machine's speed changed) is replaced by
 *     the 2d run's own average, and ringo-bench says so. Throughput and
 *     p99 are the 2d run's. With fewer connections the fixed cost is
 *     under 1% and wrk runs once, for 2d.
 *     redis-benchmark's 50 connections are 2-5 ms of that against
 *     0.2-0.4 s for the shortest runs, 1-2%: a difference of two of its
 *     runs, measured, scattered more than that on this VM, so it runs
 *     once. */

#define WRK_DIFF_CONNS 1000

struct one_run {
	double ops, wall_ns, p99_ns; /* parsed from the client's output */
	double cpu_ns;               /* the server's, settled to settled */
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

/* wrk's requests ("N requests in 1.00s"), its rate ("Requests/sec: X",
 * the requests over its own clock in microseconds, where the duration
 * after "in" has 3 digits) and its 99th percentile ("99%" under
 * --latency). */
static int parse_wrk(char *text, struct one_run *r, char *why, size_t why_len)
{
	double rps = -1;
	long requests = -1;

	r->p99_ns = -1;
	for (char *save, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = line + strspn(line, " \t");
		if (strncmp(p, "99%", 3) == 0)
			r->p99_ns = wrk_duration(p + 3 + strspn(p + 3, " "));
		else if (strncmp(p, "Requests/sec:", 13) == 0)
			rps = strtod(p + 13, NULL);
		else if (strstr(p, " requests in "))
			requests = strtol(p, NULL, 10);
		else if (strncmp(p, "Non-2xx", 7) == 0 || strncmp(p, "Socket errors", 13) == 0) {
			snprintf(why, why_len, "wrk: %.120s", p);
			return -1;
		}
	}
	if (requests <= 0 || rps <= 0 || r->p99_ns < 0) {
		snprintf(why, why_len, "wrk printed no request count, rate or "
			 "99%% latency");
		return -1;
	}
	r->ops = (double)requests;
	r->wall_ns = (double)requests / rps * 1e9;
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

/* The command line of one client run: scale 0 is the warm-up (shorter
 * and, for redis-benchmark, SET then GET, so the keys a GET asks for
 * exist), 1 and 2 a measured run and one twice as long. */
struct argv_buf {
	char *argv[24];
	char a[6][32];
};

static void client_argv(const struct client_plan *p, int scale, struct argv_buf *b)
{
	const struct bench_net *net = p->net;
	int k = 0;

	if (net->client == BENCH_CLIENT_WRK) {
		snprintf(b->a[0], 32, "%d", p->threads);
		snprintf(b->a[1], 32, "%ld", p->conns);
		snprintf(b->a[2], 32, "%ds", scale ? scale * (p->quick ? 1 : 2) : 1);
		snprintf(b->a[3], 32, "http://127.0.0.1:%d/", p->server->port);
		char *w[] = { (char *)p->tool, "-t", b->a[0], "-c", b->a[1], "-d", b->a[2],
			      "--latency", "--timeout", "10s", b->a[3], NULL };
		memcpy(b->argv, w, sizeof(w));
		return;
	}
	long n = p->quick ? net->requests_quick : net->requests_full;
	snprintf(b->a[0], 32, "%d", p->server->port);
	snprintf(b->a[1], 32, "%ld", p->conns);
	snprintf(b->a[2], 32, "%ld", scale ? scale * n : n / 4);
	snprintf(b->a[3], 32, "%d", net->pipeline);
	snprintf(b->a[4], 32, "%d", p->threads);
	char *r[] = { (char *)p->tool, "-h", "127.0.0.1", "-p", b->a[0], "-c", b->a[1],
		      "-n", b->a[2], "-P", b->a[3], "-r", REDIS_KEYS, "--csv",
		      "-t", scale ? (char *)net->redis_test : "set,get", NULL };
	memcpy(b->argv, r, sizeof(r));
	for (k = 0; b->argv[k]; k++)
		;
	if (p->threads > 1) {
		b->argv[k++] = "--threads";
		b->argv[k++] = b->a[4];
		b->argv[k] = NULL;
	}
}

/* Run the client at scale (client_argv) with its output in text; a
 * measured run (scale > 0) is parsed into r, with the server's CPU time
 * from *cpu (settled before it) to the settled clock after it, which
 * becomes the new *cpu. Returns 0, or -1 with why. */
static int run_once(const struct client_plan *p, int scale, char *text, int64_t *cpu,
		   struct one_run *r, char *why, size_t why_len)
{
	struct argv_buf b;
	long requests = p->quick ? p->net->requests_quick : p->net->requests_full;

	client_argv(p, scale, &b);
	if (run_tool(b.argv, p->cpus, p->timeout_s, text, why, why_len) != 0)
		return -1;
	int64_t after = server_cpu_settled_ns(p->server);
	if (after == -2) {
		snprintf(why, why_len, "the server kept using over 1%% of a CPU "
			 "for 2 s after a client run: no settled reading");
		return -1;
	}
	if (after < 0 || (scale && *cpu < 0)) {
		snprintf(why, why_len, "cannot read the server's CPU time");
		return -1;
	}
	if (scale) {
		r->cpu_ns = (double)(after - *cpu);
		if (p->net->client == BENCH_CLIENT_WRK ? parse_wrk(text, r, why, why_len)
		    : parse_redis(text, p->net->redis_test, scale * requests, r, why,
				  why_len))
			return -1;
	}
	*cpu = after;
	return 0;
}

/* The warm-up, then the measured run or runs (see above). */
static int run_each(const struct client_plan *p, struct bench_sample *out, char *why,
		    size_t why_len)
{
	char *text = malloc(OUT_MAX);
	struct one_run d, d2;
	int64_t cpu = -1;
	int ret = -1;

	if (!text) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	bool wrk = p->net->client == BENCH_CLIENT_WRK;
	bool diff = wrk && p->conns >= WRK_DIFF_CONNS;

	if (run_once(p, 0, text, &cpu, NULL, why, why_len) != 0 ||
	    (diff && run_once(p, 1, text, &cpu, &d, why, why_len) != 0) ||
	    run_once(p, wrk ? 2 : 1, text, &cpu, &d2, why, why_len) != 0)
		goto out;
	double per_op = d2.cpu_ns / d2.ops;
	if (diff && d2.ops > d.ops && d2.cpu_ns > d.cpu_ns)
		per_op = (d2.cpu_ns - d.cpu_ns) / (d2.ops - d.ops);
	else if (diff)
		fprintf(stderr, "ringo-bench: wrk, %ld connections to port %d: "
			"its 2d run served %.0f requests in %.1f ms of server "
			"CPU, its d run %.0f in %.1f ms; taking the 2d run's "
			"average\n", p->conns, p->server->port, d2.ops,
			d2.cpu_ns / 1e6, d.ops, d.cpu_ns / 1e6);
	set_sample(out, d2.ops, d2.wall_ns, per_op, d2.p99_ns);
	ret = 0;
out:
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
