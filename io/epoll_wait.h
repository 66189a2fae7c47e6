/*
 * io/epoll_wait.h - epoll_wait with a timeout in nanoseconds, for the
 * pollers that sleep in epoll (io/netpoll_epoll.c; io/uring_cq.c with
 * a ring per P) until the next timer.
 */
#ifndef RINGO_IO_EPOLL_WAIT_H
#define RINGO_IO_EPOLL_WAIT_H

#include <stdint.h>
#include <sys/epoll.h>

/* epoll_pwait2 (5.11+) waits to the nanosecond, as timers need. Without
 * it (an older kernel; valgrind 3.19 does not know the call) epoll_wait,
 * rounding the delay up to whole milliseconds: timers may fire up to a
 * millisecond late, never early. delay_ns < 0 waits without a timeout.
 * Returns as epoll_wait: the event count, or -1 with errno. */
int ringo__epoll_wait_ns(int epfd, struct epoll_event *ev, int max,
			 int64_t delay_ns);

#endif
