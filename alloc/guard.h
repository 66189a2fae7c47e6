/*
 * alloc/guard.h - the page below each stack that catches an overflow
 * (alloc/guard.c).
 */
#ifndef RINGO_ALLOC_GUARD_H
#define RINGO_ALLOC_GUARD_H

#include <stddef.h>
#include <stdint.h>

/* How a stack's lowest page catches overflow, best first. */
enum ringo__guard {
	RINGO_GUARD_CANARY,
	RINGO_GUARD_MADVISE,
	RINGO_GUARD_MPROTECT,
};

/* Choose the mode (RINGO_STACK_GUARD, else a probe) and read the
 * mprotect budget. Called by ringo__stack_init. */
void ringo__guard_init(void);

/* Guard the page at base + i * stride for i < n; kinds[i] receives what
 * page i got (RINGO_GUARD_CANARY: nothing, the caller writes a canary). */
void ringo__guard_install(char *base, size_t stride, int n, uint8_t *kinds);

/* Undo ringo__guard_install for the same pages. */
void ringo__guard_remove(char *base, size_t stride, int n,
			 const uint8_t *kinds);

#endif
