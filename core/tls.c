/*
 * core/tls.c - the runtime's only thread-local: the current M.
 *
 * Invariant: every read goes through ringo__getm() (core/runtime.h),
 * never through a plain access the compiler could hoist or reuse across a
 * call that switches goroutines. Where no volatile asm load exists for
 * the architecture, ringo__getm() is this out-of-line function, opaque
 * even under link-time optimisation thanks to the empty asm.
 */
#include <errno.h>

#include "runtime.h"

__attribute__((tls_model("initial-exec"))) _Thread_local struct ringo__m
	*ringo__tls_m;

#if !defined(__x86_64__)
__attribute__((noinline)) struct ringo__m *ringo__getm(void)
{
	struct ringo__m *m = ringo__tls_m;

	__asm__ volatile("" : "+r"(m) : : "memory");
	return m;
}
#endif

__attribute__((noinline)) void ringo__setm(struct ringo__m *m)
{
	__asm__ volatile("" : : : "memory");
	ringo__tls_m = m;
	if (m)
		m->errno_loc = &errno;
}
