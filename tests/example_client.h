/*
 * tests/example_client.h - what the tests of the example servers share:
 * start the server with a free port and learn which one it bound (it
 * prints "listening on ADDR:PORT"), and dial it with plain blocking
 * sockets that time out instead of hanging.
 */
#ifndef RINGO_TESTS_EXAMPLE_CLIENT_H
#define RINGO_TESTS_EXAMPLE_CLIENT_H

#include <arpa/inet.h>
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

#endif
