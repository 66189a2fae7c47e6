/*
 * core/futex.h - sleeping an M without polling.
 *
 * Only threads sleep here (idle Ms, sysmon); goroutines park instead.
 */
#ifndef RINGO_CORE_FUTEX_H
#define RINGO_CORE_FUTEX_H

#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleep while *word == val, at most timeout_ns (< 0: no limit). Returns
 * on a wake, a timeout, a signal or a changed word: callers re-check. */
static inline void ringo__futex_wait(_Atomic uint32_t *word, uint32_t val,
				     int64_t timeout_ns)
{
	struct timespec ts, *tsp = NULL;

	if (timeout_ns >= 0) {
		ts.tv_sec = timeout_ns / 1000000000;
		ts.tv_nsec = timeout_ns % 1000000000;
		tsp = &ts;
	}
	int saved = errno;
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, val, tsp,
		NULL, 0);
	errno = saved;
}

/* Wake up to n threads sleeping on word. */
static inline void ringo__futex_wake(_Atomic uint32_t *word, int n)
{
	int saved = errno;
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL,
		NULL, 0);
	errno = saved;
}

#endif
