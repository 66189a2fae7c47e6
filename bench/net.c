/*
 * bench/net.c - one repetition of a row of a server benchmark: start the
 * server, put the client on it, stop the server.
 *
 * A missing baseline or third-party tool (gobench, nginx, redis-server,
 * wrk, redis-benchmark) or too few descriptors makes the row "skipped"
 * with the reason; ringo's own side missing (an example, ringo-loadgen or
 * ringo-echo-loop not built) makes it "failed", as does a server or client that
 * misbehaves: a run that measured nothing of ringo must not pass.
 * ringo-bench runs the rows one after another, so no server loads the
 * machine under another.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "client.h"
#include "net.h"
#include "server.h"

#define FD_SPARE 64 /* descriptors a process needs besides its connections */
#define PORT_TRIES 3 /* free ports tried for nginx or redis-server */

/* What one row runs, and where. */
struct row {
	const struct bench *b;
	const struct bench_plan *p;
	const char *impl;         /* "ringo", "go", "nginx", "redis", "loop" */
	const char *mode;         /* ringo and loop: "uring" or "epoll" */
	const char *gobench;
	bool pinned;
	cpu_set_t server_cpus, client_cpus;
	int client_threads;
};

/* ======================================================================
 * Finding things
 * =================================================================== */

static bool executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* A tool by name in PATH, then in the sbin directories (nginx lives in
 * /usr/sbin, outside a user's PATH). Returns false if none. */
static bool find_tool(const char *name, char *out, size_t cap)
{
	const char *path = getenv("PATH");
	char dirs[4096];

	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin:/usr/local/sbin",
		 path ? path : "/usr/bin:/bin");
	for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, cap, "%s/%s", d, name);
		if (executable(out))
			return true;
	}
	return false;
}

/* The client's path into path. Returns 0; or 1 with why in r->skipped
 * (a third-party tool is missing); or -1 with why in r->failed
 * (ringo-loadgen, which is ours, is not built). */
static int find_client(const struct row *rw, char *path, size_t cap,
		       struct bench_result *r)
{
	const char *tool = rw->b->net->client == BENCH_CLIENT_WRK ? "wrk" : "redis-benchmark";

	if (rw->b->net->client == BENCH_CLIENT_ECHO) {
		snprintf(path, cap, "%s", RINGO_BENCH_LOADGEN);
		if (executable(path))
			return 0;
		snprintf(r->failed, sizeof(r->failed), "no %.120s (not built)", path);
		return -1;
	}
	if (find_tool(tool, path, cap))
		return 0;
	snprintf(r->skipped, sizeof(r->skipped), "%s not found (make bench installs it)",
		 tool);
	return 1;
}

/* ======================================================================
 * Where server and client run
 * =================================================================== */

/* procs 1: the server on the first CPU this process may use, the client
 * on the others (if there are others); procs 0: nothing pinned. The
 * client gets a thread per CPU it may use. setup says which. */
static void place(struct row *rw, char *setup, size_t len)
{
	cpu_set_t all;
	int cpus[CPU_SETSIZE], n = 0;

	if (sched_getaffinity(0, sizeof(all), &all) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &all))
				cpus[n++] = c;
	rw->pinned = rw->b->procs == 1 && n > 1;
	rw->client_threads = rw->pinned ? n - 1 : n > 0 ? n : 1;
	if (!rw->pinned) {
		snprintf(setup, len, "not pinned%s", n < 2 ? " (one CPU)" : "");
		return;
	}
	CPU_ZERO(&rw->server_cpus);
	CPU_ZERO(&rw->client_cpus);
	CPU_SET(cpus[0], &rw->server_cpus);
	for (int i = 1; i < n; i++)
		CPU_SET(cpus[i], &rw->client_cpus);
	if (n == 2)
		snprintf(setup, len, "server cpu %d, client cpu %d", cpus[0], cpus[1]);
	else
		snprintf(setup, len, "server cpu %d, client cpus %d-%d", cpus[0], cpus[1],
			 cpus[n - 1]);
}

/* Descriptors: the soft limit is raised to the hard one, so that the
 * servers and clients started from here inherit it. Returns the limit. */
static long nofile_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? 1L << 30 : (long)rl.rlim_cur;
}

/* ======================================================================
 * Servers
 * =================================================================== */

/* nginx serving "hello\n" as the other HTTP servers do, as this user,
 * everything it writes inside s->dir. Keep-alive without a request limit
 * (1000 by default), like the others. */
static int nginx_conf(struct server *s, char *conf, size_t cap, char *why, size_t why_len)
{
	if (server_make_dir(s, why, why_len) != 0)
		return -1;
	snprintf(conf, cap, "%s/nginx.conf", s->dir);
	FILE *f = fopen(conf, "w");
	if (!f) {
		snprintf(why, why_len, "%.100s: %s", conf, strerror(errno));
		return -1;
	}
	fprintf(f, "worker_processes 1;\n"
		"daemon off;\n"
		"master_process off;\n"
		"pid %s/nginx.pid;\n"
		"error_log stderr warn;\n"
		"events { worker_connections 16384; }\n"
		"http {\n"
		"  access_log off;\n"
		"  keepalive_requests 1000000000;\n", s->dir);
	static const char *const temps[] = { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" };
	for (size_t i = 0; i < sizeof(temps) / sizeof(temps[0]); i++)
		fprintf(f, "  %s_temp_path %s/%s;\n", temps[i], s->dir, temps[i]);
	fprintf(f, "  server {\n"
		"    listen 127.0.0.1:%d;\n"
		"    location / { default_type text/plain; return 200 \"hello\\n\"; }\n"
		"  }\n"
		"}\n", s->port);
	if (fclose(f) != 0) {
		snprintf(why, why_len, "%.100s: %s", conf, strerror(errno));
		return -1;
	}
	return 0;
}

/* The command of a baseline that is given its port (nginx, redis-server
 * at path) from argv[k] on, for a free port picked now into s->port; conf
 * and port are its buffers. Returns 0, or -1 with why. */
static int baseline_argv(const struct row *rw, struct server *s, const char *path,
			 char **argv, int k, char *conf, size_t conf_cap, char *port,
			 size_t port_cap, char *why, size_t why_len)
{
	if ((s->port = server_free_port()) < 0) {
		snprintf(why, why_len, "no free port on 127.0.0.1");
		return -1;
	}
	snprintf(port, port_cap, "%d", s->port);
	if (strcmp(rw->impl, "nginx") == 0) {
		if (nginx_conf(s, conf, conf_cap, why, why_len) != 0) {
			server_stop(s);
			return -1;
		}
		char *a[] = { (char *)path, "-p", s->dir, "-c", conf, "-e", "stderr", NULL };
		memcpy(argv + k, a, sizeof(a));
		return 0;
	}
	char *a[] = { (char *)path, "--port", port, "--bind", "127.0.0.1", "--save", "",
		      "--appendonly", "no", "--maxclients", "15000", NULL };
	memcpy(argv + k, a, sizeof(a));
	return 0;
}

/* Start the row's server. Returns 0; or 1 with why (skip: a baseline is
 * missing); or -1 with why (failed, ringo's example missing included). A
 * baseline whose free port another process took first (server_start
 * says so) is started again on another, up to PORT_TRIES times; the
 * others are given port 0 and announce the port the kernel chose. */
static int start(const struct row *rw, struct server *s, char *why, size_t why_len)
{
	const struct bench_net *net = rw->b->net;
	char path[512], procs[16], env[48], conf[300], port[16];
	char *argv[16];
	struct server_spec spec = {
		.argv = argv,
		.cpus = rw->pinned ? &rw->server_cpus : NULL,
	};
	int k = 0;

	snprintf(procs, sizeof(procs), "%d", rw->p->procs);
	if (strcmp(rw->impl, "ringo") == 0) {
		snprintf(path, sizeof(path), "%s/%s", RINGO_BENCH_EXAMPLES, net->example);
		if (!executable(path)) {
			snprintf(why, why_len, "no %.120s (not built)", path);
			return -1;
		}
		snprintf(env, sizeof(env), "RINGO_MAXPROCS=%d", rw->p->procs);
		spec.env = env;
		argv[k++] = path;
		argv[k++] = "--mode";
		argv[k++] = (char *)rw->mode;
		for (int i = 0; i < 3 && net->example_args[i]; i++)
			argv[k++] = (char *)net->example_args[i];
	} else if (strcmp(rw->impl, "loop") == 0) {
		snprintf(path, sizeof(path), "%s", RINGO_BENCH_ECHOLOOP);
		if (!executable(path)) {
			snprintf(why, why_len, "no %.120s (not built)", path);
			return -1;
		}
		argv[k++] = path;
		argv[k++] = "--mode";
		argv[k++] = (char *)rw->mode;
		argv[k++] = "--addr";
		argv[k++] = "127.0.0.1:0";
	} else if (strcmp(rw->impl, "go") == 0) {
		if (!rw->gobench || !*rw->gobench || !executable(rw->gobench)) {
			snprintf(why, why_len, "no gobench binary (go was not found when "
				 "ringo-bench was configured)");
			return 1;
		}
		snprintf(path, sizeof(path), "%s", rw->gobench);
		argv[k++] = path;
		argv[k++] = (char *)rw->b->go_name;
		argv[k++] = "-procs";
		argv[k++] = procs;
	} else {
		const char *tool = strcmp(rw->impl, "nginx") == 0 ? "nginx" : "redis-server";
		if (!find_tool(tool, path, sizeof(path))) {
			snprintf(why, why_len, "%s not found (make bench installs it)", tool);
			return 1;
		}
		for (int tries = 1;; tries++) {
			if (baseline_argv(rw, s, path, argv, k, conf, sizeof(conf), port,
					  sizeof(port), why, why_len) != 0)
				return -1;
			spec.port = s->port;
			int st = server_start(s, &spec, why, why_len);
			if (st <= 0 || tries == PORT_TRIES)
				return st <= 0 ? st : -1;
			why[0] = '\0'; /* the port's, which the next try replaces */
		}
	}
	argv[k] = NULL;
	return server_start(s, &spec, why, why_len) == 0 ? 0 : -1;
}

/* ======================================================================
 * A row
 * =================================================================== */

void bench_run_net(const struct bench *b, const struct bench_plan *p,
		   const char *gobench, struct bench_result *r,
		   struct bench_sample *s)
{
	struct row rw = { .b = b, .p = p, .impl = r->impl, .mode = r->mode,
			  .gobench = gobench };
	struct server srv = { .pid = -1, .out = -1 };
	char client[512];
	long need = p->n + FD_SPARE, limit = nofile_limit();

	place(&rw, r->setup, sizeof(r->setup));
	if (limit < need) {
		snprintf(r->skipped, sizeof(r->skipped), "%ld connections need %ld "
			 "descriptors per process; RLIMIT_NOFILE allows %ld (raise the "
			 "hard limit)", p->n, need, limit);
		return;
	}
	if (find_client(&rw, client, sizeof(client), r) != 0)
		return;
	int st = start(&rw, &srv, r->failed, sizeof(r->failed));
	if (st != 0) {
		if (st > 0) {
			memcpy(r->skipped, r->failed, sizeof(r->skipped));
			r->failed[0] = '\0';
		}
		return;
	}
	struct client_plan cp = {
		.net = b->net, .server = &srv, .conns = p->n,
		.threads = rw.client_threads,
		.cpus = rw.pinned ? &rw.client_cpus : NULL,
		.quick = p->quick, .timeout_s = p->timeout_s, .tool = client,
	};
	*s = (struct bench_sample){ .procs = p->procs, .n = p->n };
	/* On failure the client's why is in r->failed, unless the server's
	 * end, which explains the client's errors, replaces it. */
	client_run(&cp, s, r->failed, sizeof(r->failed));
	char died[128];
	if (server_alive(&srv, died, sizeof(died)) != 0)
		snprintf(r->failed, sizeof(r->failed), "%s", died);
	server_stop(&srv);
}
