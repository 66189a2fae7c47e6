/*
 * core/ctx.c - building the first frame of a new context.
 *
 * The frame must match what ringo__ctx_switch pops (see the .S files): the
 * new context "returns" into ringo__ctx_start with the entry function and
 * its argument in two callee-saved registers and default FP control state.
 */
#include "ctx.h"

#include <stdint.h>
#include <string.h>

void ringo__ctx_start(void);

#if defined(__x86_64__)

enum { X86_MXCSR_DEFAULT = 0x1f80, X86_FPCW_DEFAULT = 0x037f };

void ringo__ctx_make(struct ringo__ctx *c, void *top, void (*entry)(void *),
		     void *arg)
{
	/* 16 bytes of zeroes above the return address stand in for the
	 * caller's frame; ringo__ctx_start then runs with rsp = top - 16. */
	uintptr_t t = (uintptr_t)top & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)(t - 16 - 64);

	memset(sp, 0, 80);
	sp[0] = (uint64_t)X86_MXCSR_DEFAULT | ((uint64_t)X86_FPCW_DEFAULT << 32);
	sp[1] = 0;                      /* r15 */
	sp[2] = 0;                      /* r14 */
	sp[3] = (uint64_t)(uintptr_t)arg;   /* r13 */
	sp[4] = (uint64_t)(uintptr_t)entry; /* r12 */
	sp[5] = 0;                      /* rbx */
	sp[6] = 0;                      /* rbp: ends frame-pointer walks */
	sp[7] = (uint64_t)(uintptr_t)ringo__ctx_start;
	c->sp = sp;
}

#elif defined(__aarch64__)

void ringo__ctx_make(struct ringo__ctx *c, void *top, void (*entry)(void *),
		     void *arg)
{
	uintptr_t t = (uintptr_t)top & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)(t - 176);

	memset(sp, 0, 176);
	sp[0] = (uint64_t)(uintptr_t)entry; /* x19 */
	sp[1] = (uint64_t)(uintptr_t)arg;   /* x20 */
	sp[11] = (uint64_t)(uintptr_t)ringo__ctx_start; /* x30 */
	sp[20] = 0; /* FPCR: round to nearest, no traps */
	c->sp = sp;
}

#else
#error "ringo: context switch implemented for x86-64 and aarch64 only"
#endif
