/*
 * core/procs.c - how many Ps to run (GOMAXPROCS).
 *
 * Default: the CPUs in this thread's affinity mask, capped by the cgroup v2
 * quota in cpu.max (ceil(quota / period)), as Go 1.25 does. RINGO_MAXPROCS
 * overrides the default; a value that is not a positive integer aborts with
 * a message instead of being ignored.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#define MAXPROCS_LIMIT 1024

static int affinity_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n > 0 ? n : 1;
}

/* The cgroup v2 file holding our quota: /sys/fs/cgroup + the path from
 * /proc/self/cgroup ("0::/path"). Returns 0 for "no quota". */
static int cgroup_quota_cpus(void)
{
	char line[512], path[768];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int cpus = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cpu.max",
			 strcmp(line + 3, "/") == 0 ? "" : line + 3);
		FILE *q = fopen(path, "r");
		char quota[32];
		long long period;
		if (q && fscanf(q, "%31s %lld", quota, &period) == 2 &&
		    strcmp(quota, "max") != 0 && period > 0) {
			long long qv = atoll(quota);
			if (qv > 0)
				cpus = (int)((qv + period - 1) / period);
		}
		if (q)
			fclose(q);
		break;
	}
	fclose(f);
	return cpus;
}

int ringo__procs_default(void)
{
	const char *env = getenv("RINGO_MAXPROCS");

	if (env && *env) {
		char *end;
		errno = 0;
		long v = strtol(env, &end, 10);
		if (errno || *end || v < 1 || v > MAXPROCS_LIMIT)
			ringo__panic("ringo_run", "RINGO_MAXPROCS=\"%s\": want an "
				     "integer from 1 to %d", env, MAXPROCS_LIMIT);
		errno = 0;
		return (int)v;
	}
	int n = affinity_cpus();
	int quota = cgroup_quota_cpus();
	if (quota > 0 && quota < n)
		n = quota;
	return n;
}
