/*
 * core/diag.c - diagnostics: deadlock detection (goroutine dumps, SIGQUIT
 * and leak checks are being added).
 */
#include "sched_internal.h"

void ringo__diag_check_deadlock_locked(void)
{
}
