/*
 * io/epoll_wait.c - epoll_wait with a timeout in nanoseconds (epoll_wait.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "epoll_wait.h"

/* Set once a call found epoll_pwait2 missing; any thread may read it. */
static _Atomic bool no_pwait2;

int ringo__epoll_wait_ns(int epfd, struct epoll_event *ev, int max,
			 int64_t delay_ns)
{
	if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
		struct timespec ts, *tsp = NULL;
		if (delay_ns >= 0) {
			ts.tv_sec = delay_ns / 1000000000;
			ts.tv_nsec = delay_ns % 1000000000;
			tsp = &ts;
		}
		int n = epoll_pwait2(epfd, ev, max, tsp, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		atomic_store_explicit(&no_pwait2, true, memory_order_relaxed);
	}
	int64_t ms = delay_ns < 0 ? -1 : (delay_ns + 999999) / 1000000;
	return epoll_wait(epfd, ev, max, ms > INT32_MAX ? INT32_MAX : (int)ms);
}
