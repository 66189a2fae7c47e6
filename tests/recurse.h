/*
 * tests/recurse.h - deep recursion for the stack tests: each frame holds a
 * 256-byte buffer that the next frame reads through a pointer, so the
 * frames must all exist at once (no loop, no tail call). About 300 bytes a
 * level: depth 300 is far past a 64 KiB stack.
 */
#ifndef RINGO_TESTS_RECURSE_H
#define RINGO_TESTS_RECURSE_H

#include <stdint.h>

__attribute__((noinline)) static uint64_t recurse(int depth,
						 volatile char *up)
{
	volatile char buf[256];
	for (int i = 0; i < 256; i++)
		buf[i] = (char)(depth + up[0]);
	if (depth == 0)
		return (uint64_t)buf[0];
	return recurse(depth - 1, buf) + (uint64_t)buf[0];
}

#endif
