/*
 * bench/sys.h - clocks, memory and a description of the machine.
 *
 * Functions that can fail return -1 (numbers) or leave "unknown" (strings):
 * a report with a hole in it is still worth printing.
 */
#ifndef RINGO_BENCH_SYS_H
#define RINGO_BENCH_SYS_H

#include <stdbool.h>
#include <stdint.h>

int64_t sys_now_ns(void);    /* CLOCK_MONOTONIC, ns */
int64_t sys_cpu_ns(void);    /* CPU time of this process (all threads), ns */
int64_t sys_rss_bytes(void); /* resident set size from /proc/self/statm */
int sys_threads(void);       /* threads of this process (/proc/self/status),
			      * io_uring's io-wq workers included */
/* A field of /proc/meminfo ("MemAvailable", "MemTotal") in bytes, or -1. */
int64_t sys_meminfo(const char *field);
/* The memory the checks before a point and before each fresh process go
 * by: RINGO_BENCH_MEMAVAILABLE (bytes; tests set it) if set, else
 * MemAvailable; -1 unknown. */
int64_t sys_mem_available(void);

/* Which io_uring setups the kernel accepts (io_uring_queue_init). */
struct sys_uring {
	int err;             /* 0, or -errno of a plain setup: no io_uring */
	bool single_issuer;  /* IORING_SETUP_SINGLE_ISSUER */
	bool defer_taskrun;  /* IORING_SETUP_DEFER_TASKRUN (with SINGLE_ISSUER) */
	bool coop_taskrun;   /* IORING_SETUP_COOP_TASKRUN */
	char features[256];  /* io_uring_params.features, as names */
};

/* A program a benchmark compares ringo against, and its version ("" when
 * it is not installed). */
struct sys_baseline {
	const char *name;
	char version[64];
};

#define SYS_BASELINES_MAX 8

struct sys_info {
	char date[32];       /* UTC, ISO 8601 */
	char cpu[128];       /* model name from /proc/cpuinfo */
	int cores;           /* online CPUs */
	char kernel[128];    /* uname release */
	struct sys_uring uring;
	char commit[48];     /* ringo commit this binary was built from */
	char go_version[64]; /* from `go version`, or "" when go is missing */
	struct sys_baseline baselines[SYS_BASELINES_MAX];
	int baselines_nr;
	int64_t mem_total, mem_available; /* bytes, -1 unknown */
	long max_map_count;  /* vm.max_map_count, -1 unknown */
};

void sys_info_get(struct sys_info *si);

#endif
