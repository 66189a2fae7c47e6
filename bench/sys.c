/*
 * bench/sys.c - clocks, memory and the machine description that heads
 * every report, so that numbers from two machines are never compared
 * unknowingly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

int64_t sys_meminfo(const char *field)
{
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	char line[128];
	long long kib = -1;
	size_t len = strlen(field);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, len) == 0 && line[len] == ':' &&
		    sscanf(line + len + 1, "%lld", &kib) == 1)
			break;
	fclose(f);
	return kib < 0 ? -1 : (int64_t)kib * 1024;
}

int64_t sys_mem_available(void)
{
	const char *fake = getenv("RINGO_BENCH_MEMAVAILABLE");
	return fake && *fake ? strtoll(fake, NULL, 10) : sys_meminfo("MemAvailable");
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

/* IORING_FEAT_* by bit, as named in linux/io_uring.h (up to 6.18). */
static const char *const uring_feature_names[] = {
	"SINGLE_MMAP", "NODROP", "SUBMIT_STABLE", "RW_CUR_POS",
	"CUR_PERSONALITY", "FAST_POLL", "POLL_32BITS", "SQPOLL_NONFIXED",
	"EXT_ARG", "NATIVE_WORKERS", "RSRC_TAGS", "CQE_SKIP", "LINKED_FILE",
	"REG_REG_RING", "RECVSEND_BUNDLE", "MIN_TIMEOUT", "RW_ATTR", "NO_IOWAIT",
};

/* The feature bits the kernel reports for a plain ring, as names joined
 * by spaces; a bit with no name here shows as "bitN". */
static void uring_features(char *buf, size_t len)
{
	struct io_uring ring;
	struct io_uring_params p = { 0 };
	size_t used = 0;

	buf[0] = '\0';
	if (io_uring_queue_init_params(8, &ring, &p) != 0)
		return;
	io_uring_queue_exit(&ring);
	for (unsigned bit = 0; bit < 32 && used < len; bit++) {
		if (!(p.features & (1u << bit)))
			continue;
		size_t names = sizeof(uring_feature_names) / sizeof(uring_feature_names[0]);
		if (bit < names)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 used ? " " : "", uring_feature_names[bit]);
		else
			used += (size_t)snprintf(buf + used, len - used, "%sbit%u",
						 used ? " " : "", bit);
	}
}

static void uring_probe(struct sys_uring *u)
{
	memset(u, 0, sizeof(*u));
	u->err = uring_try(0);
	if (u->err)
		return;
	uring_features(u->features, sizeof(u->features));
	u->single_issuer = uring_try(IORING_SETUP_SINGLE_ISSUER) == 0;
	u->defer_taskrun = uring_try(IORING_SETUP_SINGLE_ISSUER |
				     IORING_SETUP_DEFER_TASKRUN) == 0;
	u->coop_taskrun = uring_try(IORING_SETUP_COOP_TASKRUN) == 0;
}

/* The first line `cmd` prints, without its newline, into buf; "" when the
 * command fails or prints nothing. */
static void first_line(const char *cmd, char *buf, size_t len)
{
	char line[256];

	buf[0] = '\0';
	FILE *p = popen(cmd, "r");
	if (!p)
		return;
	if (fgets(line, sizeof(line), p)) {
		size_t k = strcspn(line, "\n");
		k = k < len - 1 ? k : len - 1;
		memcpy(buf, line, k);
		buf[k] = '\0';
	}
	if (pclose(p) != 0)
		buf[0] = '\0';
}

/* Baselines and how to ask each for its version: a shell command whose
 * first line of output is the version. */
static const struct {
	const char *name, *cmd;
} baseline_cmds[] = {
	{ "go", "go env GOVERSION 2>/dev/null" },
	/* The server benchmarks' (net.h); nginx is in /usr/sbin. */
	{ "nginx", "PATH=$PATH:/usr/sbin:/sbin; command -v nginx >/dev/null && "
		   "nginx -v 2>&1 | sed 's|.*/||'" },
	{ "redis-server", "command -v redis-server >/dev/null && "
			  "redis-server --version | sed -n 's/.* v=\\([^ ]*\\).*/\\1/p'" },
	{ "wrk", "command -v wrk >/dev/null && wrk -v 2>&1 | sed -n '1s/^wrk \\([^ ]*\\).*/\\1/p'" },
	{ "redis-benchmark", "command -v redis-benchmark >/dev/null && "
			     "redis-benchmark --version | cut -d' ' -f2" },
};

static long read_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
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
	for (size_t i = 0; i < sizeof(baseline_cmds) / sizeof(baseline_cmds[0]) &&
			   si->baselines_nr < SYS_BASELINES_MAX; i++) {
		struct sys_baseline *b = &si->baselines[si->baselines_nr++];
		b->name = baseline_cmds[i].name;
		first_line(baseline_cmds[i].cmd, b->version, sizeof(b->version));
	}
	snprintf(si->go_version, sizeof(si->go_version), "%s", si->baselines[0].version);
	si->mem_total = sys_meminfo("MemTotal");
	si->mem_available = sys_meminfo("MemAvailable");
	si->max_map_count = read_long("/proc/sys/vm/max_map_count");
}
