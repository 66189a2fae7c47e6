/*
 * io/netpoll.c - choosing the netpoller backend.
 *
 * Until the io_uring backend lands, both modes wait in epoll; the mode
 * name is still validated so scripts that set it keep working.
 */
#include "netpoll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ringo__netpoll_ops *ringo__netpoll;
_Atomic int32_t ringo__netpoll_waiters_nr;

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
	ringo__netpoll = &ringo__netpoll_epoll_ops;
	return ringo__netpoll->init();
}
