/*
 * tests/stack.c - stacks: deep recursion within the stack size works;
 * recursion past it is reported as a stack overflow naming the goroutine
 * and its stack size, with each guard kind (alloc/stack.c).
 */
#include <stdint.h>

#include <ringo/ringo.h>

#include "recurse.h"
#include "test.h"


static volatile char top[1];

static volatile uint64_t sink;

static void deep_ok(void *arg)
{
	int *done = arg;
	/* ~300 bytes a frame: 100 frames is ~30 KiB of a 64 KiB stack
	 * (the sanitizers' bigger frames still fit). */
	sink = recurse(100, top);
	__atomic_store_n(done, 1, __ATOMIC_RELEASE);
}

static int main_ok(void *arg)
{
	(void)arg;
	int done = 0;
	struct ringo_go_opts o = { .stack_size = 64 * 1024, .name = "deep" };
	ringo_go_opts(&o, deep_ok, &done);
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE))
		ringo_yield();
	return 0;
}

static void overflow_and_yield(void *arg)
{
	(void)arg;
	/* 64 KiB of frames on a 16 KiB stack: the guard page stops it; in
	 * canary mode, a shallower overflow (under a page past the bottom)
	 * is caught at the next switch. */
	sink = recurse(*(int *)arg, top);
	ringo_yield();
}

/* A frame of 64 KiB whose first write is at its bottom, far below the
 * guard page of a 16 KiB stack. Built with -fstack-clash-protection (as
 * meson.build builds everything) the frame is probed page by page as it
 * grows, and the first probe past the stack's bottom hits the guard;
 * without it this write could land in another goroutine's stack. */
__attribute__((noinline)) static uint64_t big_frame(void)
{
	volatile char buf[64 * 1024];

	buf[0] = 1;
	return (uint64_t)buf[0];
}

static void big_frame_and_yield(void *arg)
{
	(void)arg;
	sink = big_frame();
	ringo_yield();
}

static int depth_arg;

/* arg: NULL for deep recursion, else one big frame. */
static int main_overflow(void *arg)
{
	struct ringo_go_opts o = { .stack_size = 16 * 1024, .name = "deep" };
	ringo_go_opts(&o, arg ? big_frame_and_yield : overflow_and_yield,
		      &depth_arg);
	for (;;)
		ringo_yield();
	return 0;
}

static void run_overflow(void *mode)
{
	setenv("RINGO_STACK_GUARD", mode, 1);
	ringo_run(main_overflow, NULL);
}

static void run_big_frame(void *mode)
{
	setenv("RINGO_STACK_GUARD", mode, 1);
	ringo_run(main_overflow, "big frame");
}

int main(void)
{
	test_watchdog(120);
	if (ringo_run(main_ok, NULL) != 0)
		return 1;
	depth_arg = 250;
	if (test_death("madvise guard", run_overflow, "madvise",
		       "stack overflow in goroutine") ||
	    test_death("mprotect guard", run_overflow, "mprotect",
		       "stack overflow in goroutine"))
		return 1;
	/* A canary sees only what is written over it, so the big frame is
	 * for the guard pages. */
	if (test_death("big frame, madvise guard", run_big_frame, "madvise",
		       "stack overflow in goroutine") ||
	    test_death("big frame, mprotect guard", run_big_frame, "mprotect",
		       "stack overflow in goroutine"))
		return 1;
	/* Sanitized frames are larger and less predictable; the canary's
	 * bounded overflow needs the plain build's frame size. */
	if (TEST_SANITIZED)
		return 0;
	depth_arg = 60; /* ~18 KiB: just past a 16 KiB stack */
	if (test_death("canary", run_overflow, "canary",
		       "stack overflow in goroutine"))
		return 1;
	return 0;
}
