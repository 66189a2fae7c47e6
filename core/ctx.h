/*
 * core/ctx.h - the machine context of a goroutine or of an M's scheduler.
 *
 * A context is just a saved stack pointer: ringo__ctx_switch() pushes the
 * callee-saved registers and the FP control state (MXCSR and the x87 control
 * word on x86-64, FPCR on aarch64) on the old stack, stores the old stack
 * pointer, loads the new one and pops the same set. Caller-saved registers
 * are already dead at a call, so nothing else needs saving; no syscall and no
 * signal-mask change happens, which is why this is not ucontext.
 *
 * Sanitizer annotations live in the caller (core/switch.c), not here: the
 * assembly must stay a leaf that neither sanitizer instruments.
 */
#ifndef RINGO_CORE_CTX_H
#define RINGO_CORE_CTX_H

#include <stddef.h>

struct ringo__ctx {
	void *sp; /* saved stack pointer; valid only while not running */
};

/* Save the running context in *from and resume *to. Returns when some
 * other context switches back to *from. */
void ringo__ctx_switch(struct ringo__ctx *from, struct ringo__ctx *to);

/* Prepare *c so that switching to it calls entry(arg) on the stack whose
 * highest usable address is `top` (exclusive). entry must never return. */
void ringo__ctx_make(struct ringo__ctx *c, void *top, void (*entry)(void *),
		     void *arg);

#endif
