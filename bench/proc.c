/*
 * bench/proc.c - run a measurement in a child process and collect what it
 * writes to a pipe, with a time limit, and say plainly how it ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "sys.h"

void proc_die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127); /* the parent died before the prctl */
}

int proc_start(struct proc *pr, void (*body)(void *arg, int wfd), void *arg,
	       char *why, size_t why_len)
{
	pid_t parent = getpid();
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(why, why_len, "pipe: %s", strerror(errno));
		return -1;
	}
	/* Buffered output would otherwise be written twice, once by the
	 * child's exit path if it ever reached exit(). */
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, why_len, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		proc_die_with_parent(parent);
		close(fds[0]);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		body(arg, fds[1]);
		_exit(127);
	}
	close(fds[1]);
	pr->pid = pid;
	pr->fd = fds[0];
	return 0;
}

/* Read until EOF or the deadline. Returns bytes kept, or -1 on timeout;
 * *overflow is set if more than cap bytes came (the rest is drained). */
static long read_until(int fd, char *buf, size_t cap, int64_t deadline_ns,
		       bool *overflow)
{
	size_t len = 0;
	char sink[4096];

	*overflow = false;
	for (;;) {
		int64_t left_ms = (deadline_ns - sys_now_ns()) / 1000000;
		if (left_ms <= 0)
			return -1;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ready = poll(&pfd, 1, left_ms > 60000 ? 60000 : (int)left_ms);
		if (ready < 0 && errno != EINTR)
			return -1;
		if (ready <= 0)
			continue;
		char *dst = len < cap ? buf + len : sink;
		size_t room = len < cap ? cap - len : sizeof(sink);
		ssize_t got = read(fd, dst, room);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return (long)len;
		if (dst == sink)
			*overflow = true;
		else
			len += (size_t)got;
	}
}

long proc_finish(struct proc *pr, void *buf, size_t cap, int timeout_s,
		 char *why, size_t why_len)
{
	bool overflow;
	long len = read_until(pr->fd, buf, cap,
			      sys_now_ns() + (int64_t)timeout_s * 1000000000, &overflow);
	close(pr->fd);
	if (len < 0)
		kill(pr->pid, SIGKILL);

	int status;
	while (waitpid(pr->pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, why_len, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (len < 0) {
		snprintf(why, why_len, "timed out after %d s", timeout_s);
		return -1;
	}
	if (WIFSIGNALED(status)) {
		snprintf(why, why_len, "killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
		return -1;
	}
	if (WEXITSTATUS(status) != 0) {
		snprintf(why, why_len, "exited with status %d", WEXITSTATUS(status));
		return -1;
	}
	if (overflow) {
		snprintf(why, why_len, "wrote more than %zu bytes", cap);
		return -1;
	}
	return len;
}
