/*
 * io/netpoll_epoll.c - the epoll backend (Go's own design).
 *
 * One epoll instance per runtime. An eventfd registered in it lets any
 * thread interrupt a blocked epoll_pwait2 (nanosecond timeouts, so timers
 * are not rounded to milliseconds). `wake_pending` coalesces wakes: only
 * the first wake after a poll writes to the eventfd.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "netpoll.h"

#define EVENTS_MAX 128

static int epfd = -1;
static int wakefd = -1;
/* 0: no wake written since the last poll drained it; 1: one is pending.
 * wake() moves 0 -> 1 and writes; poll() moves 1 -> 0 after reading. */
static _Atomic int wake_pending;

static int epoll_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wakefd < 0)
		goto err;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) < 0)
		goto err;
	atomic_store(&wake_pending, 0);
	return 0;
err:;
	int err = -errno;
	if (wakefd >= 0)
		close(wakefd);
	close(epfd);
	epfd = wakefd = -1;
	return err;
}

static void epoll_fini(void)
{
	close(wakefd);
	close(epfd);
	epfd = wakefd = -1;
}

static int epoll_poll(int64_t delay_ns, struct ringo__glist *ready)
{
	struct epoll_event evs[EVENTS_MAX];
	struct timespec ts, *tsp = NULL;

	(void)ready;
	if (delay_ns >= 0) {
		ts.tv_sec = delay_ns / 1000000000;
		ts.tv_nsec = delay_ns % 1000000000;
		tsp = &ts;
	}
	int n = epoll_pwait2(epfd, evs, EVENTS_MAX, tsp, NULL);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (evs[i].data.ptr == NULL) {
			uint64_t v;
			if (read(wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
			atomic_store(&wake_pending, 0);
		}
	}
	return 0;
}

static void epoll_wake(void)
{
	int zero = 0;

	if (!atomic_compare_exchange_strong(&wake_pending, &zero, 1))
		return;
	uint64_t one = 1;
	int saved = errno;
	if (write(wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		ringo__throw("netpoll", "eventfd write failed");
	errno = saved;
}

const struct ringo__netpoll_ops ringo__netpoll_epoll_ops = {
	.name = "epoll",
	.init = epoll_init,
	.fini = epoll_fini,
	.poll = epoll_poll,
	.wake = epoll_wake,
};
