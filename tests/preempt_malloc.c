/*
 * tests/preempt_malloc.c - preemption never lands inside the allocator:
 * 100 goroutines allocate, fill, check and free blocks in call-free-ish
 * loops for two seconds on every P, so preemption signals keep hitting
 * them, many inside malloc or free. A goroutine preempted while holding
 * an allocator lock would deadlock the next one on its thread (the
 * watchdog turns that into a failure); under ASan a block corrupted by a
 * switch in the middle of an allocation is reported.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ringo/ringo.h>

#include "test.h"
#include "core/sched_internal.h"

#define GOROUTINES 100
#define RUN_NS (2000ll * 1000 * 1000)
#define SLOTS 16

static int64_t deadline;
static _Atomic int bad;
static ringo_wg done = RINGO_WG_INITIALIZER;

static void churn(void *arg)
{
	uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
	unsigned char *slot[SLOTS] = { 0 };
	size_t len[SLOTS] = { 0 };

	while (ringo_now() < deadline) {
		seed = seed * 1103515245u + 12345u;
		int s = (int)(seed >> 8) % SLOTS;
		if (slot[s]) {
			for (size_t k = 0; k < len[s]; k += 61)
				if (slot[s][k] != (unsigned char)(s + len[s]))
					atomic_store(&bad, 1);
			free(slot[s]);
		}
		len[s] = 1 + (seed >> 12) % 20000;
		slot[s] = malloc(len[s]);
		if (!slot[s]) {
			atomic_store(&bad, 1);
			break;
		}
		memset(slot[s], (unsigned char)(s + len[s]), len[s]);
	}
	for (int s = 0; s < SLOTS; s++)
		free(slot[s]);
	ringo_wg_done(&done);
}

static int main_fn(void *arg)
{
	(void)arg;
	uint64_t before = ringo__preempt_count();

	deadline = ringo_now() + RUN_NS;
	ringo_wg_add(&done, GOROUTINES);
	for (int i = 0; i < GOROUTINES; i++)
		ringo_go(churn, (void *)(uintptr_t)i);
	ringo_wg_wait(&done);
	ASSERT_EQ(atomic_load(&bad), 0);
	/* Preemption is off under TSan (core/preempt.c); elsewhere the
	 * goroutines never block, so only preemption switched them. */
	if (!TEST_TSAN)
		ASSERT(ringo__preempt_count() > before);
	return 0;
}

int main(void)
{
	test_watchdog(120);
	return ringo_run(main_fn, NULL);
}
