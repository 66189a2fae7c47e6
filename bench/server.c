/*
 * bench/server.c - start, watch and stop a server under test.
 *
 * The server dies with ringo-bench (proc_die_with_parent), so an
 * interrupted run leaves no server holding a port or a core.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "server.h"
#include "sys.h"

#define READY_TIMEOUT_NS (10 * (int64_t)1000000000) /* start-up bound */

static void child(const struct server_spec *spec, int out, pid_t parent)
{
	proc_die_with_parent(parent);
	if (spec->cpus && sched_setaffinity(0, sizeof(*spec->cpus), spec->cpus) != 0) {
		fprintf(stderr, "ringo-bench: sched_setaffinity: %s\n", strerror(errno));
		_exit(127);
	}
	int null = open("/dev/null", O_RDWR);
	if (null < 0) {
		fprintf(stderr, "ringo-bench: /dev/null: %s\n", strerror(errno));
		_exit(127);
	}
	/* stdin is /dev/null; stdout is the announcement pipe, or /dev/null
	 * for servers that log to it. */
	dup2(null, STDIN_FILENO);
	dup2(out >= 0 ? out : null, STDOUT_FILENO);
	if (spec->env)
		putenv((char *)spec->env);
	execvp(spec->argv[0], spec->argv);
	fprintf(stderr, "ringo-bench: exec %s: %s\n", spec->argv[0], strerror(errno));
	_exit(127);
}

/* The first line the server prints, read within the start-up bound.
 * Returns 0, or -1 with why filled. */
static int read_line(struct server *s, char *line, size_t cap, char *why, size_t why_len)
{
	size_t len = 0;
	int64_t deadline = sys_now_ns() + READY_TIMEOUT_NS;

	while (len + 1 < cap) {
		int left_ms = (int)((deadline - sys_now_ns()) / 1000000);
		struct pollfd pfd = { .fd = s->out, .events = POLLIN };
		if (left_ms <= 0 || poll(&pfd, 1, left_ms) == 0) {
			snprintf(why, why_len, "the server announced no port within %lld s",
				 (long long)(READY_TIMEOUT_NS / 1000000000));
			return -1;
		}
		ssize_t k = read(s->out, line + len, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (server_alive(s, why, why_len) == 0)
				snprintf(why, why_len, "the server closed its stdout");
			return -1;
		}
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	return 0;
}

/* "listening on 127.0.0.1:PORT" or "ready PORT": the number at the end. */
static int parse_port(const char *line)
{
	const char *p = line + strlen(line);
	while (p > line && p[-1] >= '0' && p[-1] <= '9')
		p--;
	long port = *p ? strtol(p, NULL, 10) : 0;
	if (p == line || (p[-1] != ':' && p[-1] != ' ') || port <= 0 || port > 65535)
		return -1;
	return (int)port;
}

static int try_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int ret = connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return ret;
}

/* Is socket inode `ino` one of process pid's descriptors? */
static bool holds_socket(pid_t pid, unsigned long ino)
{
	char dir[64], path[320], link[64], want[48];
	struct dirent *e;
	bool found = false;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	DIR *d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		ssize_t k = readlink(path, link, sizeof(link) - 1);
		if (k > 0) {
			link[k] = '\0';
			found = strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return found;
}

/* Local addresses (as /proc/net/tcp{,6} print them) whose listener takes
 * a connection to 127.0.0.1: 127.0.0.1 itself and the wildcards, IPv4
 * and IPv6 (dual-stack). */
static bool reaches_loopback(const char *addr)
{
	static const char *const any[] = {
		"0100007F", "00000000", "00000000000000000000000000000000",
		"0000000000000000FFFF00000100007F",
	};
	for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++)
		if (strcmp(addr, any[i]) == 0)
			return true;
	return false;
}

/* Count the sockets listening on s->port where a connection to 127.0.0.1
 * could land: the server's (*ours; none once it has died) and any other
 * process's (*other). */
static void count_listeners(const struct server *s, int *ours, int *other)
{
	static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char *line = NULL;
	size_t cap = 0;

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		FILE *f = fopen(tables[t], "r");
		if (!f)
			continue; /* no IPv6: nothing listens there */
		while (getline(&line, &cap, f) > 0) {
			char addr[40];
			unsigned port, state;
			unsigned long ino;
			/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
			if (sscanf(line, " %*u: %39[0-9A-F]:%x %*s %x %*s %*s %*s %*u %*u %lu",
				   addr, &port, &state, &ino) != 4 ||
			    (int)port != s->port || state != 0x0A || !reaches_loopback(addr))
				continue;
			if (holds_socket(s->pid, ino))
				(*ours)++;
			else
				(*other)++;
		}
		fclose(f);
	}
	free(line);
}

/* Does the server own the port, i.e. is every socket listening on it
 * where a connection to 127.0.0.1 could land one of the server's? A port
 * picked by server_free_port is bound and released, so another process
 * can take it before the server does; the server then fails to bind, but
 * the port answers all the same and the client would measure the other
 * process. Returns 0, or -1 with why. */
static int owns_port(const struct server *s, char *why, size_t why_len)
{
	int ours = 0, other = 0;

	count_listeners(s, &ours, &other);
	if (ours && !other)
		return 0;
	snprintf(why, why_len, "port %d is taken by another process%s", s->port,
		 ours ? " as well" : "");
	return -1;
}

/* Until the server accepts connections on s->port. */
static int wait_listening(struct server *s, char *why, size_t why_len)
{
	int64_t deadline = sys_now_ns() + READY_TIMEOUT_NS;

	while (try_connect(s->port) != 0) {
		if (server_alive(s, why, why_len) != 0)
			return -1;
		if (sys_now_ns() > deadline) {
			snprintf(why, why_len, "the server did not listen on port %d "
				 "within %lld s", s->port,
				 (long long)(READY_TIMEOUT_NS / 1000000000));
			return -1;
		}
		/* The server's start-up is out of our sight: poll. */
		nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
	}
	return 0;
}

int server_start(struct server *s, const struct server_spec *spec, char *why,
		 size_t why_len)
{
	int fds[2] = { -1, -1 };
	pid_t parent = getpid();

	s->pid = -1;
	s->out = -1;
	s->port = spec->port;
	if (!spec->port && pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(why, why_len, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	s->pid = fork();
	if (s->pid == 0)
		child(spec, fds[1], parent);
	if (fds[1] >= 0)
		close(fds[1]);
	s->out = fds[0];
	if (s->pid < 0) {
		snprintf(why, why_len, "fork: %s", strerror(errno));
		server_stop(s);
		return -1;
	}
	if (!spec->port) {
		char line[256];
		if (read_line(s, line, sizeof(line), why, why_len) != 0) {
			server_stop(s);
			return -1;
		}
		s->port = parse_port(line);
		if (s->port < 0) {
			snprintf(why, why_len, "no port in the server's first line: %.80s", line);
			server_stop(s);
			return -1;
		}
	}
	if (wait_listening(s, why, why_len) != 0 ||
	    server_alive(s, why, why_len) != 0) {
		/* A server given a port may have died on finding it taken
		 * (the other process bound it first): worth another port. */
		int ours = 0, other = 0;
		if (spec->port)
			count_listeners(s, &ours, &other);
		server_stop(s);
		if (!other)
			return -1;
		snprintf(why, why_len, "port %d is taken by another process",
			 s->port);
		return 1;
	}
	if (owns_port(s, why, why_len) != 0) {
		server_stop(s);
		return 1;
	}
	return 0;
}

int64_t server_cpu_ns(const struct server *s)
{
	clockid_t clk;
	struct timespec ts;

	if (clock_getcpuclockid(s->pid, &clk) != 0 || clock_gettime(clk, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t server_cpu_settled_ns(const struct server *s)
{
	const int64_t poll_ns = 20000000, quiet_ns = poll_ns / 100;
	const int64_t deadline = sys_now_ns() + 2000000000;
	int64_t cpu = server_cpu_ns(s);

	int quiet = 0;

	while (quiet < 2 && cpu >= 0) {
		if (sys_now_ns() >= deadline)
			return -2;
		nanosleep(&(struct timespec){ .tv_nsec = poll_ns }, NULL);
		int64_t now = server_cpu_ns(s);
		quiet = now >= 0 && now - cpu < quiet_ns ? quiet + 1 : 0;
		cpu = now;
	}
	return cpu;
}

int server_alive(struct server *s, char *why, size_t why_len)
{
	int status;
	if (s->pid <= 0) {
		snprintf(why, why_len, "the server is not running");
		return -1;
	}
	pid_t got = waitpid(s->pid, &status, WNOHANG);
	if (got == 0)
		return 0;
	if (got < 0)
		snprintf(why, why_len, "waitpid: %s", strerror(errno));
	else if (WIFSIGNALED(status))
		snprintf(why, why_len, "the server was killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(why, why_len, "the server exited with status %d%s",
			 WEXITSTATUS(status),
			 WEXITSTATUS(status) == 127 ? " (could not start it)" : "");
	s->pid = -1;
	return -1;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void server_stop(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
		s->pid = -1;
	}
	if (s->out >= 0)
		close(s->out);
	s->out = -1;
	if (s->dir[0])
		nftw(s->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	s->dir[0] = '\0';
}

int server_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

int server_make_dir(struct server *s, char *why, size_t why_len)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	int n = snprintf(s->dir, sizeof(s->dir), "%s/ringo-bench.XXXXXX", tmp);
	if (n < 0 || (size_t)n >= sizeof(s->dir) || !mkdtemp(s->dir)) {
		snprintf(why, why_len, "a temporary directory in %.60s: %s", tmp,
			 n >= 0 && (size_t)n < sizeof(s->dir) ? strerror(errno)
							       : "path too long");
		s->dir[0] = '\0';
		return -1;
	}
	return 0;
}
