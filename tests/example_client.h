/*
 * tests/example_client.h - what the tests of the example servers share:
 * start the server with a free port and learn which one it bound (it
 * prints "listening on ADDR:PORT"), dial it with plain blocking sockets
 * that time out instead of hanging, send whole buffers, and throw random
 * requests at it (example_fuzz).
 */
#ifndef RINGO_TESTS_EXAMPLE_CLIENT_H
#define RINGO_TESTS_EXAMPLE_CLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static int port; /* the server's, once example_start returned */

static int dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send all len bytes; 0, or -1 if the connection failed. */
static inline int send_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len; ) {
		ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* xorshift64: the same sequence every run, so a failing input recurs. */
static uint64_t example_rng = 88172645463325252ull;
static inline uint64_t example_rand(void)
{
	example_rng ^= example_rng << 13, example_rng ^= example_rng >> 7,
		example_rng ^= example_rng << 17;
	return example_rng;
}

/* Send `rounds` random requests, each on its own connection, then
 * half-close and read until the server closes. Every third one is random
 * bytes, the others are built from the protocol's `parts` (one in three
 * starting with the valid `prefix`). The server may answer anything or
 * nothing; it must not die or hang (a read that times out fails). Returns
 * 0, or 1 after saying why. */
static inline int example_fuzz(const char *const *parts, size_t nparts,
			const char *prefix, int rounds)
{
	char buf[4096];
	for (int i = 0; i < rounds; i++) {
		size_t len = 0, want = 1 + example_rand() % (sizeof(buf) - 64);
		if (i % 3 == 1)
			len = (size_t)sprintf(buf, "%s", prefix);
		while (len < want) {
			if (i % 3 == 0) {
				buf[len++] = (char)example_rand();
			} else {
				const char *p = parts[example_rand() % nparts];
				size_t pl = p[0] ? strlen(p) : 1;
				if (len + pl > sizeof(buf))
					break;
				memcpy(buf + len, p, pl);
				len += pl;
			}
		}
		int fd = dial();
		if (fd < 0) {
			fprintf(stderr, "FAIL: fuzz %d: dial: %s\n", i,
				strerror(errno));
			return 1;
		}
		send_all(fd, buf, len); /* may fail if the server closed early */
		shutdown(fd, SHUT_WR);
		char sink[4096];
		ssize_t n;
		while ((n = recv(fd, sink, sizeof(sink), 0)) > 0)
			;
		if (n < 0 && errno != ECONNRESET) {
			fprintf(stderr, "FAIL: fuzz %d: %s (server hung?)\n", i,
				strerror(errno));
			return 1;
		}
		close(fd);
	}
	return 0;
}

/* Run `path --mode MODE [extra...] 0` (MODE from RINGO_NETPOLL), killed
 * if this process dies; returns its pid with `port` set, or -1. */
static pid_t example_start(const char *path, const char *const *extra)
{
	int p[2];
	const char *mode = getenv("RINGO_NETPOLL");
	char line[256];
	size_t len = 0;

	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		const char *argv[16] = { path, "--mode", mode ? mode : "epoll" };
		int argc = 3;
		for (; extra && *extra && argc < 14; extra++)
			argv[argc++] = *extra;
		argv[argc++] = "0";
		argv[argc] = NULL;
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	while (len < sizeof(line) - 1 && !memchr(line, '\n', len)) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		if (poll(&pfd, 1, 10000) <= 0)
			break;
		ssize_t n = read(p[0], line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	line[len] = 0;
	close(p[0]);
	char *colon = strrchr(line, ':');
	if (strncmp(line, "listening on ", 13) != 0 || !colon) {
		fprintf(stderr, "FAIL: server said \"%s\"\n", line);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	port = atoi(colon + 1);
	return pid;
}

/* Stop the server started by example_start with SIGTERM: it must still
 * be running (not dead of a crash along the way) and die of that signal.
 * Returns 0, or 1 after saying how it ended. */
static inline int example_stop(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM) {
		fprintf(stderr, "FAIL: server ended with status 0x%x\n", st);
		return 1;
	}
	return 0;
}

#endif
