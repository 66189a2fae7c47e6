/*
 * bench/net.c - the rows of a server benchmark: for each setup and number
 * of connections, start each server, put the client on it, fold the
 * repetitions, stop the server.
 *
 * Anything missing (an example not built, io_uring, gobench, nginx, wrk,
 * descriptors) makes a row "skipped" with the reason; a server or client
 * that misbehaves makes it "failed". Servers are started one at a time
 * and stopped before the next, so none loads the machine under another.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ringo/ringo.h>

#include "client.h"
#include "net.h"
#include "server.h"

#define FD_SPARE 64 /* descriptors a process needs besides its connections */

enum impl { IMPL_RINGO, IMPL_GO, IMPL_NGINX, IMPL_REDIS };

static const char *const impl_name[] = {
	[IMPL_RINGO] = "ringo", [IMPL_GO] = "go", [IMPL_NGINX] = "nginx",
	[IMPL_REDIS] = "redis",
};

/* How one setup runs: procs and where server and client may run. */
struct setup {
	int procs;
	bool pinned;
	cpu_set_t server_cpus, client_cpus;
	int client_threads;
	char text[64];      /* "server cpu 0, client cpu 1" or "not pinned" */
};

/* One row to run. */
struct row {
	const struct bench *b;
	const struct bench_net_opts *o;
	const struct setup *su;
	enum impl impl;
	const char *mode;   /* ringo: "uring" or "epoll" */
	long conns;
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

/* The version a tool prints for `tool flag` (the first run of digits and
 * dots in its first line: "nginx version: nginx/1.22.1" -> "1.22.1"),
 * cached; "" if it prints none. */
static const char *tool_version(const char *path, const char *flag)
{
	static struct { char path[256], ver[32]; } cache[8];
	static int cached;
	char cmd[320], line[256] = "";

	for (int i = 0; i < cached; i++)
		if (strcmp(cache[i].path, path) == 0)
			return cache[i].ver;
	if (cached == (int)(sizeof(cache) / sizeof(cache[0])))
		return "";
	snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1", path, flag);
	FILE *p = popen(cmd, "r");
	if (p) {
		if (!fgets(line, sizeof(line), p))
			line[0] = '\0';
		pclose(p);
	}
	char *v = line + strcspn(line, "0123456789");
	snprintf(cache[cached].path, sizeof(cache[cached].path), "%s", path);
	snprintf(cache[cached].ver, sizeof(cache[cached].ver), "%.*s",
		 (int)strspn(v, "0123456789."), v);
	return cache[cached++].ver;
}

/* ======================================================================
 * Setups
 * =================================================================== */

static void make_setup(unsigned which, struct setup *su)
{
	cpu_set_t all;
	int cpus[CPU_SETSIZE], n = 0;

	memset(su, 0, sizeof(*su));
	if (sched_getaffinity(0, sizeof(all), &all) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &all))
				cpus[n++] = c;
	su->procs = which == BENCH_SETUP_ONE ? 1 : ringo_maxprocs();
	su->client_threads = n > 1 && which == BENCH_SETUP_ONE ? n - 1 : n > 0 ? n : 1;
	if (which != BENCH_SETUP_ONE || n < 2) {
		snprintf(su->text, sizeof(su->text), "not pinned%s",
			 n < 2 ? " (one CPU)" : "");
		return;
	}
	su->pinned = true;
	CPU_SET(cpus[0], &su->server_cpus);
	for (int i = 1; i < n; i++)
		CPU_SET(cpus[i], &su->client_cpus);
	if (n == 2)
		snprintf(su->text, sizeof(su->text), "server cpu %d, client cpu %d",
			 cpus[0], cpus[1]);
	else
		snprintf(su->text, sizeof(su->text), "server cpu %d, client cpus %d-%d",
			 cpus[0], cpus[1], cpus[n - 1]);
}

/* Descriptors: the soft limit is raised to the hard one once, so that the
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

/* Start the row's server. Returns 0; or 1 with why (skip: something is
 * missing); or -1 with why (failed). */
static int start(const struct row *rw, struct server *s, char *setup_text,
		 size_t setup_len, char *why, size_t why_len)
{
	const struct bench_net *net = rw->b->net;
	char path[512], procs[16], env[48], mode[16], conf[300], port[16];
	char *argv[16];
	struct server_spec spec = {
		.argv = argv,
		.cpus = rw->su->pinned ? &rw->su->server_cpus : NULL,
	};
	int k = 0;

	snprintf(procs, sizeof(procs), "%d", rw->su->procs);
	s->dir[0] = '\0';
	switch (rw->impl) {
	case IMPL_RINGO:
		snprintf(path, sizeof(path), "%s/%s", RINGO_BENCH_EXAMPLES, net->example);
		if (!executable(path)) {
			snprintf(why, why_len, "no %.120s (not built)", path);
			return 1;
		}
		snprintf(env, sizeof(env), "RINGO_MAXPROCS=%d", rw->su->procs);
		snprintf(mode, sizeof(mode), "%s", rw->mode);
		spec.env = env;
		argv[k++] = path;
		argv[k++] = "--mode";
		argv[k++] = mode;
		for (int i = 0; i < 3 && net->example_args[i]; i++)
			argv[k++] = (char *)net->example_args[i];
		break;
	case IMPL_GO:
		if (!rw->o->gobench || !*rw->o->gobench || !executable(rw->o->gobench)) {
			snprintf(why, why_len, "no gobench binary (go was not found when "
				 "ringo-bench was configured)");
			return 1;
		}
		snprintf(path, sizeof(path), "%s", rw->o->gobench);
		argv[k++] = path;
		argv[k++] = (char *)rw->b->go_name;
		argv[k++] = "-procs";
		argv[k++] = procs;
		break;
	case IMPL_NGINX:
		if (!find_tool("nginx", path, sizeof(path))) {
			snprintf(why, why_len, "nginx not found (make bench installs it)");
			return 1;
		}
		snprintf(setup_text, setup_len, "nginx %s", tool_version(path, "-v"));
		if ((s->port = spec.port = server_free_port()) < 0)
			break;
		if (nginx_conf(s, conf, sizeof(conf), why, why_len) != 0) {
			server_stop(s);
			return -1;
		}
		argv[k++] = path;
		argv[k++] = "-p";
		argv[k++] = s->dir;
		argv[k++] = "-c";
		argv[k++] = conf;
		argv[k++] = "-e";
		argv[k++] = "stderr";
		break;
	case IMPL_REDIS:
		if (!find_tool("redis-server", path, sizeof(path))) {
			snprintf(why, why_len, "redis-server not found (make bench installs it)");
			return 1;
		}
		snprintf(setup_text, setup_len, "redis %s", tool_version(path, "--version"));
		spec.port = server_free_port();
		snprintf(port, sizeof(port), "%d", spec.port);
		const char *r[] = { "--port", port, "--bind", "127.0.0.1", "--save", "",
				    "--appendonly", "no", "--maxclients", "15000" };
		argv[k++] = path;
		for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
			argv[k++] = (char *)r[i];
		break;
	}
	argv[k] = NULL;
	if (spec.port < 0) {
		snprintf(why, why_len, "no free port on 127.0.0.1");
		server_stop(s);
		return -1;
	}
	return server_start(s, &spec, why, why_len) == 0 ? 0 : -1;
}

/* ======================================================================
 * Rows
 * =================================================================== */

static void append(char *buf, size_t cap, const char *text)
{
	size_t len = strlen(buf);
	if (*text && len < cap)
		snprintf(buf + len, cap - len, "%s%s", len ? "; " : "", text);
}

/* The client's path and version into setup; false with why if missing. */
static bool find_client(const struct row *rw, char *path, size_t cap, char *setup,
			size_t setup_len, char *why, size_t why_len)
{
	char ver[64];

	switch (rw->b->net->client) {
	case BENCH_CLIENT_ECHO:
		snprintf(path, cap, "%s", RINGO_BENCH_LOADGEN);
		if (executable(path))
			return true;
		snprintf(why, why_len, "no %.120s (not built)", path);
		return false;
	case BENCH_CLIENT_WRK:
		if (!find_tool("wrk", path, cap))
			break;
		snprintf(ver, sizeof(ver), "wrk %s", tool_version(path, "-v"));
		append(setup, setup_len, ver);
		return true;
	case BENCH_CLIENT_REDIS:
		if (!find_tool("redis-benchmark", path, cap))
			break;
		snprintf(ver, sizeof(ver), "redis-benchmark %s", tool_version(path, "--version"));
		append(setup, setup_len, ver);
		return true;
	}
	snprintf(why, why_len, "%s not found (make bench installs it)",
		 rw->b->net->client == BENCH_CLIENT_WRK ? "wrk" : "redis-benchmark");
	return false;
}

static void run_row(const struct row *rw, struct bench_result *r)
{
	struct bench_sample samples[rw->o->reps];
	char path[512], server_text[48] = "";
	struct server s = { .pid = -1, .out = -1 };
	long need = rw->conns + FD_SPARE, limit = nofile_limit();

	*r = (struct bench_result){ .b = rw->b, .impl = impl_name[rw->impl],
				    .mode = rw->impl == IMPL_RINGO ? rw->mode : "-",
				    .procs = rw->su->procs, .n = rw->conns };
	snprintf(r->setup, sizeof(r->setup), "%s", rw->su->text);
	if (rw->impl == IMPL_RINGO && strcmp(rw->mode, "uring") == 0 && rw->o->uring_err) {
		snprintf(r->skipped, sizeof(r->skipped), "io_uring unavailable: %s",
			 strerror(-rw->o->uring_err));
		return;
	}
	if (limit < need) {
		snprintf(r->skipped, sizeof(r->skipped), "%ld connections need %ld "
			 "descriptors per process; RLIMIT_NOFILE allows %ld (raise the "
			 "hard limit)", rw->conns, need, limit);
		return;
	}
	if (!find_client(rw, path, sizeof(path), r->setup, sizeof(r->setup), r->skipped,
			 sizeof(r->skipped)))
		return;
	int st = start(rw, &s, server_text, sizeof(server_text), r->failed, sizeof(r->failed));
	append(r->setup, sizeof(r->setup), server_text);
	if (st != 0) {
		if (st > 0) {
			memcpy(r->skipped, r->failed, sizeof(r->skipped));
			r->failed[0] = '\0';
		}
		return;
	}
	struct client_plan cp = {
		.net = rw->b->net, .server = &s, .conns = rw->conns,
		.threads = rw->su->client_threads,
		.cpus = rw->su->pinned ? &rw->su->client_cpus : NULL,
		.quick = rw->o->quick, .reps = rw->o->reps, .loadgen = path,
	};
	memset(samples, 0, sizeof(samples));
	int ret = client_run(&cp, samples, r->failed, sizeof(r->failed));
	char died[128];
	if (server_alive(&s, died, sizeof(died)) != 0) {
		/* The server's end explains the client's errors. */
		snprintf(r->failed, sizeof(r->failed), "%s", died);
		ret = -1;
	}
	server_stop(&s);
	if (ret != 0)
		return;
	for (int i = 0; i < rw->o->reps; i++) {
		samples[i].procs = rw->su->procs;
		samples[i].n = rw->conns;
	}
	bench_fold(r, samples, rw->o->reps);
}

int bench_run_net(const struct bench *b, const struct bench_net_opts *o,
		  struct bench_result *rs, int cap)
{
	const struct bench_net *net = b->net;
	unsigned setups = o->quick ? net->setups_quick : net->setups_full;
	const long *conns = o->quick ? net->conns_quick : net->conns_full;
	int nr = 0;

	for (unsigned which = BENCH_SETUP_ONE; which <= BENCH_SETUP_ALL; which <<= 1) {
		if (!(setups & which))
			continue;
		struct setup su;
		make_setup(which, &su);
		for (int c = 0; c < BENCH_NET_POINTS && conns[c]; c++) {
			struct row rows[5];
			int k = 0;
			struct row base = { .b = b, .o = o, .su = &su, .conns = conns[c] };
			if (o->uring)
				rows[k] = base, rows[k].impl = IMPL_RINGO, rows[k++].mode = "uring";
			if (o->epoll)
				rows[k] = base, rows[k].impl = IMPL_RINGO, rows[k++].mode = "epoll";
			if (b->go_name)
				rows[k] = base, rows[k++].impl = IMPL_GO;
			/* nginx and redis-server are single-threaded servers: the
			 * one-P setup only. */
			if (net->nginx && which == BENCH_SETUP_ONE)
				rows[k] = base, rows[k++].impl = IMPL_NGINX;
			if (net->redis && which == BENCH_SETUP_ONE)
				rows[k] = base, rows[k++].impl = IMPL_REDIS;
			for (int i = 0; i < k && nr < cap; i++) {
				run_row(&rows[i], &rs[nr]);
				if (o->progress)
					o->progress(&rs[nr]);
				nr++;
			}
		}
	}
	return nr;
}
