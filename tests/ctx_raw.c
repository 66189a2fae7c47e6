/*
 * tests/ctx_raw.c - the bare context switch (core/ctx_*.S), without the
 * runtime: values the compiler keeps in callee-saved registers survive a
 * round trip through another context, each context keeps its own FP
 * rounding mode, and a new context starts with an ABI-aligned stack.
 * Built natively and, where a cross compiler and qemu-user exist, for
 * aarch64 too (tests/meson.build).
 */
#include <fenv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctx.h"

#define ROUNDS 10000

static struct ringo__ctx main_ctx, co_ctx;
static volatile long co_steps;
static int failures;

__attribute__((noinline)) static int aligned(void)
{
	/* 16-byte alignment is what both ABIs promise at a call. */
	_Alignas(16) volatile char probe[16];
	return ((uintptr_t)probe & 15) == 0;
}

static void co(void *arg)
{
	long k = (long)(intptr_t)arg;

	if (!aligned())
		failures++;
	fesetround(FE_UPWARD);
	for (;;) {
		co_steps += k;
		if (fegetround() != FE_UPWARD)
			failures++;
		ringo__ctx_switch(&co_ctx, &main_ctx);
	}
}

int main(void)
{
	char *stack = malloc(64 * 1024);
	if (!stack)
		return 1;
	ringo__ctx_make(&co_ctx, stack + 64 * 1024, co, (void *)(intptr_t)3);

	/* Many values live across the switch: the compiler must keep most
	 * of them in callee-saved registers. */
	long a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
	double x = 0.5, y = 1.5, z = 2.5;
	for (int i = 0; i < ROUNDS; i++) {
		ringo__ctx_switch(&main_ctx, &co_ctx);
		a += 1, b += 2, c += 3, d += 4, e += 5, f += 6, g += 7, h += 8;
		x += 1.0, y += 2.0, z += 3.0;
		if (fegetround() != FE_TONEAREST)
			failures++;
	}
	long want = ROUNDS;
	if (a != 1 + want || b != 2 + 2 * want || c != 3 + 3 * want ||
	    d != 4 + 4 * want || e != 5 + 5 * want || f != 6 + 6 * want ||
	    g != 7 + 7 * want || h != 8 + 8 * want)
		failures++;
	if (x != 0.5 + ROUNDS || y != 1.5 + 2.0 * ROUNDS ||
	    z != 2.5 + 3.0 * ROUNDS)
		failures++;
	if (co_steps != 3L * ROUNDS)
		failures++;
	if (failures)
		fprintf(stderr, "FAIL ctx_raw: %d failures\n", failures);
	free(stack);
	return failures ? 1 : 0;
}
