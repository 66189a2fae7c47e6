/*
 * bench/sys.c - clocks, memory and the machine description that heads
 * every report, so that numbers from two machines are never compared
 * unknowingly.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "commit.h"
#include "sys.h"

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sys_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int64_t sys_cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

int64_t sys_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return -1;
	long size, resident;
	int got = fscanf(f, "%ld %ld", &size, &resident);
	fclose(f);
	if (got != 2)
		return -1;
	return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

int sys_threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void cpu_model(char *buf, size_t len)
{
	snprintf(buf, len, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) != 0 || !colon)
			continue;
		colon += 1 + (colon[1] == ' ');
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

/* 0 if the kernel accepts a ring with these setup flags, else -errno. */
static int uring_try(unsigned flags)
{
	struct io_uring ring;
	int ret = io_uring_queue_init(8, &ring, flags);
	if (ret == 0)
		io_uring_queue_exit(&ring);
	return ret;
}

static void uring_probe(struct sys_uring *u)
{
	memset(u, 0, sizeof(*u));
	u->err = uring_try(0);
	if (u->err)
		return;
	u->single_issuer = uring_try(IORING_SETUP_SINGLE_ISSUER) == 0;
	u->defer_taskrun = uring_try(IORING_SETUP_SINGLE_ISSUER |
				     IORING_SETUP_DEFER_TASKRUN) == 0;
	u->coop_taskrun = uring_try(IORING_SETUP_COOP_TASKRUN) == 0;
}

/* "go version go1.22.1 linux/amd64" -> "go1.22.1"; "" without go. */
static void go_version(char *buf, size_t len)
{
	buf[0] = '\0';
	FILE *p = popen("go version 2>/dev/null", "r");
	if (!p)
		return;
	char line[256], ver[64];
	if (fgets(line, sizeof(line), p) &&
	    sscanf(line, "go version %63s", ver) == 1)
		snprintf(buf, len, "%s", ver);
	pclose(p);
}

void sys_info_get(struct sys_info *si)
{
	memset(si, 0, sizeof(*si));
	time_t now = time(NULL);
	struct tm tm;
	strftime(si->date, sizeof(si->date), "%Y-%m-%dT%H:%M:%SZ",
		 gmtime_r(&now, &tm));
	cpu_model(si->cpu, sizeof(si->cpu));
	si->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
	struct utsname un;
	snprintf(si->kernel, sizeof(si->kernel), "%s",
		 uname(&un) == 0 ? un.release : "unknown");
	uring_probe(&si->uring);
	snprintf(si->commit, sizeof(si->commit), "%s", RINGO_BENCH_COMMIT);
	go_version(si->go_version, sizeof(si->go_version));
}
