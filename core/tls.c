/*
 * core/tls.c - the runtime's only thread-local: the current M.
 *
 * Invariant: every read goes through ringo__getm(), a function that is
 * neither inlined nor assumed pure, so a caller that may have migrated to
 * another thread during a switch re-reads the thread pointer instead of
 * reusing an address computed on the old thread. The empty asm makes the
 * load opaque even under link-time optimisation.
 */
#include "runtime.h"

static _Thread_local struct ringo__m *tls_m;

__attribute__((noinline)) struct ringo__m *ringo__getm(void)
{
	struct ringo__m *m = tls_m;

	__asm__ volatile("" : "+r"(m) : : "memory");
	return m;
}

__attribute__((noinline)) void ringo__setm(struct ringo__m *m)
{
	__asm__ volatile("" : : : "memory");
	tls_m = m;
}

__attribute__((noinline)) struct ringo__g *ringo__getg(void)
{
	struct ringo__m *m = ringo__getm();

	return m ? m->curg : NULL;
}
