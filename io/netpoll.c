/*
 * io/netpoll.c - choosing the netpoller backend.
 *
 * "uring" (the default) starts io/netpoll_uring.c and falls back to
 * io/netpoll_epoll.c when the ring cannot be set up (old kernel, seccomp,
 * io_uring_disabled), saying so once per process on stderr.
 * RINGO_FAIL_URING_SETUP=1 makes the setup fail, so tests can check the
 * fallback.
 */
#include "netpoll.h"
#include "netpoll_uring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ringo__netpoll_ops *ringo__netpoll;
_Atomic int32_t ringo__netpoll_waiters_nr;
_Atomic uint32_t ringo__netpoll_pending;

static _Atomic int fallback_said;

int ringo__netpoll_select(const char *mode)
{
	if (!mode)
		mode = getenv("RINGO_NETPOLL");
	if (!mode || !*mode)
		mode = "uring";
	if (strcmp(mode, "uring") != 0 && strcmp(mode, "epoll") != 0)
		ringo__panic("ringo_run", "netpoll mode \"%s\": want uring or "
			     "epoll (RINGO_NETPOLL or ringo_config.netpoll)",
			     mode);
	atomic_store(&ringo__netpoll_waiters_nr, 0);
	atomic_store(&ringo__netpoll_pending, 0);
	if (strcmp(mode, "uring") == 0) {
		int err = ringo__netpoll_uring_ops.init();
		if (err == 0) {
			ringo__netpoll = &ringo__netpoll_uring_ops;
			return 0;
		}
		if (!atomic_exchange(&fallback_said, 1))
			fprintf(stderr, "ringo: io_uring setup failed (%s); "
				"using epoll\n", strerror(-err));
	}
	ringo__netpoll = &ringo__netpoll_epoll_ops;
	return ringo__netpoll->init();
}
