/*
 * bench/server.h - a server under test in its own process: started pinned
 * to given CPUs, found listening, its CPU time read, stopped.
 *
 * Servers that choose their own port announce it on stdout as their
 * first line ("listening on ADDR" from the ringo examples, "ready PORT"
 * from gobench); the others (nginx, redis-server) are given a free port
 * and are ready once it accepts a connection.
 */
#ifndef RINGO_BENCH_SERVER_H
#define RINGO_BENCH_SERVER_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct server {
	pid_t pid;
	int out;         /* read end of its stdout (announcing servers), or -1 */
	int port;        /* on 127.0.0.1 */
	char dir[256];   /* temporary directory removed by server_stop, or "" */
};

/* What to start: argv[0] is a path or a name looked up in PATH. */
struct server_spec {
	char *const *argv;
	const char *env;       /* one NAME=VALUE added to the environment, or NULL */
	const cpu_set_t *cpus; /* affinity, or NULL: not pinned */
	int port;              /* 0: the server announces its port on stdout */
};

/* Start the server and wait until it accepts connections on its port and
 * holds every socket listening there. Returns 0; or -1 with why filled;
 * or 1 with why filled if another process holds the port (spec->port was
 * taken between server_free_port and the server's bind: try another).
 * On -1 and 1 the server is stopped. */
int server_start(struct server *s, const struct server_spec *spec, char *why,
		 size_t why_len);

/* CPU time of the server process from its kernel CPU clock
 * (clock_getcpuclockid: all threads, live and exited, io-wq workers
 * included), ns; -1 if it cannot be read. */
int64_t server_cpu_ns(const struct server *s);

/* The server's CPU time (as server_cpu_ns) once its clock has stopped
 * moving: polled every 20 ms until it moved less than 1% of a CPU in two
 * polls in a row, for at most 2 s. A client's run ends with its process,
 * before the server has taken in the closes of its connections (10,000
 * at most); read here, the clock holds all of that run and none of the
 * next. -1 if it cannot be read, -2 if it was still moving after 2 s
 * (the server kept busy: a reading then would not be settled). */
int64_t server_cpu_settled_ns(const struct server *s);

/* 0 if the server still runs, else -1 with how it ended in why. */
int server_alive(struct server *s, char *why, size_t why_len);

/* Kill (SIGKILL: nothing to flush), reap, remove s->dir. */
void server_stop(struct server *s);

/* A free TCP port on 127.0.0.1, or -1. It is bound and released, so
 * another process can take it before the server does: server_start then
 * returns 1. */
int server_free_port(void);

/* A new directory under $TMPDIR or /tmp in s->dir. Returns 0 or -1. */
int server_make_dir(struct server *s, char *why, size_t why_len);

#endif
