/*
 * tests/net_example_echo.c - runs examples/echo (path in argv[1]) on a
 * free port and talks to it with plain blocking sockets, as any client
 * would: 50 connections at once, each with a few messages; then 4 MB
 * through one connection (a writer thread, the main thread reading)
 * with a checksum. Every socket has 10 s timeouts and the server dies
 * with us (PR_SET_PDEATHSIG), so a broken server fails the test instead
 * of hanging it. The mode comes from RINGO_NETPOLL.
 */
#include <stdint.h>
#include <sys/socket.h>

#include "example_client.h"
#include "test.h"

#define CONNS 50
#define BIG (4u << 20)

static int full(int fd, void *buf, size_t len, int writing)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = writing
			? send(fd, (char *)buf + done, len - done, MSG_NOSIGNAL)
			: recv(fd, (char *)buf + done, len - done, 0);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int test_many(void)
{
	int fds[CONNS];
	char msg[64], back[64];

	for (int i = 0; i < CONNS; i++)
		ASSERT((fds[i] = dial()) >= 0);
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < CONNS; i++) {
			int n = snprintf(msg, sizeof(msg), "conn %d round %d", i, round);
			ASSERT_EQ(full(fds[i], msg, (size_t)n, 1), 0);
		}
		for (int i = 0; i < CONNS; i++) {
			int n = snprintf(msg, sizeof(msg), "conn %d round %d", i, round);
			ASSERT_EQ(full(fds[i], back, (size_t)n, 0), 0);
			ASSERT(memcmp(msg, back, (size_t)n) == 0);
		}
	}
	for (int i = 0; i < CONNS; i++)
		close(fds[i]);
	return 0;
}

static unsigned char *big;

static void *big_writer(void *arg)
{
	int fd = (int)(intptr_t)arg;
	int r = full(fd, big, BIG, 1);
	shutdown(fd, SHUT_WR);
	return (void *)(intptr_t)r;
}

static int test_big(void)
{
	unsigned char *back = malloc(BIG);
	pthread_t t;
	void *r;
	int fd = dial();

	big = malloc(BIG);
	ASSERT(fd >= 0 && big && back);
	for (size_t i = 0; i < BIG; i++)
		big[i] = (unsigned char)(i * 2654435761u >> 13);
	ASSERT_EQ(pthread_create(&t, NULL, big_writer, (void *)(intptr_t)fd), 0);
	int got = full(fd, back, BIG, 0);
	pthread_join(t, &r);
	ASSERT_EQ(got, 0);
	ASSERT_EQ((intptr_t)r, 0);
	ASSERT(memcmp(big, back, BIG) == 0);
	char c;
	ASSERT_EQ(recv(fd, &c, 1, 0), 0); /* the server closed after EOF */
	close(fd);
	free(big);
	free(back);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s path/to/echo\n", argv[0]);
		return 1;
	}
	test_watchdog(60);
	pid_t pid = example_start(argv[1], NULL);
	if (pid < 0)
		return 1;
	int r = test_many() || test_big();
	if (example_stop(pid))
		r = 1;
	return r;
}
