/*
 * bench/fresh.c - one repetition of a `fresh` benchmark (bench.h), the
 * same for ringo's side (child.c) and the Go twin (gobench.c): a warm-up
 * process, whose sample is dropped unless its run took BENCH_WARMUP_NS or
 * more, then the repetition's process. Each is started only if the memory
 * the point needs (bench_plan.mem_need, from main.c's check before the
 * point) is still available, since other work on the machine can take it
 * in between.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

void bench_run_fresh(const struct bench_plan *p, bench_fresh_fn *run, void *ctx,
		     const char *what, struct bench_result *r, struct bench_sample *s)
{
	char why[128];

	for (int i = 0; i < 2; i++) {
		int64_t avail = sys_mem_available();
		if (p->mem_need > 0 && avail >= 0 && (double)avail < p->mem_need) {
			snprintf(r->skipped, sizeof(r->skipped), "MemAvailable fell to "
				 "%.1f GiB, %.1f GiB needed", (double)avail / (1 << 30),
				 p->mem_need / (1 << 30));
			return;
		}
		if (run(ctx, s, why, sizeof(why)) != 0) {
			/* SIGKILL without a timeout: the OOM killer, other
			 * work having taken the memory mid-run. */
			snprintf(r->failed, sizeof(r->failed), "%s %s %.100s%s",
				 i == 0 ? "warm-up" : "repetition", what, why,
				 strstr(why, "signal 9") ? " (out of memory?)" : "");
			return;
		}
		if (s->run_ns >= BENCH_WARMUP_NS)
			return;
	}
}
