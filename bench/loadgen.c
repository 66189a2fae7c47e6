/*
 * bench/loadgen.c - ringo-loadgen, the closed-loop echo client of the
 * `echo` benchmark. A plain C program (not linked with ringo), so every
 * server under test faces the same client.
 *
 *   ringo-loadgen [--conns N] [--size B] [--threads T] [--warmup-ms W]
 *                 [--window-ms D] [--reps R] [--server-pid PID] HOST:PORT
 *
 * Opens N TCP connections in batches of RAMP_BATCH: a batch's blocking
 * connects, then one round trip on each of its connections before the
 * next batch. A connect returns once the kernel has queued the connection,
 * before the server accepts it, so connecting all N at once could
 * overflow the server's accept queue (4,096 here): the kernel then drops
 * the handshake's last packet and the client's first data waits for
 * retransmits backing off for tens of seconds. Then it keeps exactly one
 * B-byte message in flight on each: send, wait for all B bytes to come back
 * (checked), send again. Each message starts with its connection's index
 * and its number on that connection (12 bytes, so B >= 12; default 64),
 * the rest a fixed pattern: an echo that went to another connection,
 * came back twice or not at all is caught, not only a changed byte. T
 * threads (default: the CPUs this process may
 * run on) each own N/T connections and wait on their own epoll set, so
 * 10,000 connections need a handful of threads, not 10,000.
 *
 * Measurement: after the ramp (every connection has completed one round
 * trip), a warm-up of W ms, then R windows of D ms. For each
 * window one line on stdout:
 *   window ops=OPS wall_ns=NS p99_ns=NS server_cpu_ns=NS
 * OPS round trips completed, the window's wall time, the 99th percentile
 * round-trip time, and the CPU time the process PID spent during the
 * window (-1 without --server-pid), read from its kernel CPU clock
 * (clock_getcpuclockid): the scheduler's run time of all its threads,
 * exited ones and io_uring's io-wq workers included, in ns, not the
 * tick-sampled utime + stime of /proc/PID/stat. With irq time accounting
 * off (CONFIG_IRQ_TIME_ACCOUNTING, off on the kernel ringo-bench runs on)
 * a softirq counts to the thread it interrupted, so on loopback the
 * receive work of what one side sends is mostly charged to the sender
 * (docs/benchmarks.md).
 *
 * Exit status 0, or 1 with the reason on stderr (connection refused or
 * closed, wrong echo, too few descriptors: RLIMIT_NOFILE is raised to its
 * hard limit first and named if still too low).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SIZE_MAX_BYTES 4096
#define STAMP 12             /* bytes of a message's stamp (stamp()) */
#define REPS_MAX 100
#define THREADS_MAX 64
#define FD_SPARE 32          /* descriptors besides the connections */
#define RAMP_BATCH 256       /* connections dialled before their first trips */
#define FIRST_TRIP_LIMIT_S 30 /* a batch's first trips end by then */
#define EVENTS 256

/* Latency histogram: log-linear, SUB buckets per power of two, so any
 * value is within 1/SUB (1.6%) of its bucket's lower bound. */
#define SUB_BITS 6
#define SUB (1 << SUB_BITS)
#define BUCKETS ((64 - SUB_BITS + 1) * SUB)

struct window {
	uint64_t ops;
	uint32_t hist[BUCKETS];
};

struct conn {
	int fd;
	uint32_t id;      /* its index among all connections */
	uint64_t seq;     /* messages it completed: the current one's number */
	int got;          /* bytes of the current echo received */
	int64_t sent_ns;  /* when the current message went out */
};

struct worker {
	pthread_t tid;
	struct conn *conns;
	int nconns;
	struct window *win; /* [reps + 1]: 0 is the warm-up */
};

/* Shared with the workers: the window the completions count towards
 * (0 warm-up, 1..reps measured, reps + 1 stop). */
static atomic_int cur_window;
static int size = 64, reps = 3;
static char msg[SIZE_MAX_BYTES]; /* the pattern after the stamp */

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("ringo-loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int bucket_of(uint64_t v)
{
	if (v < SUB)
		return (int)v;
	int msb = 63 - __builtin_clzll(v);
	int shift = msb - SUB_BITS;
	return (shift + 1) * SUB + (int)((v >> shift) & (SUB - 1));
}

static uint64_t bucket_floor(int b)
{
	if (b < SUB)
		return (uint64_t)b;
	int shift = b / SUB - 1;
	return ((uint64_t)SUB + (uint64_t)(b % SUB)) << shift;
}

/* The first STAMP bytes of c's current message: c->id and c->seq. */
static void stamp(const struct conn *c, char *out)
{
	memcpy(out, &c->id, sizeof(c->id));
	memcpy(out + sizeof(c->id), &c->seq, sizeof(c->seq));
}

/* Are the k bytes at buf, which arrived at offset off of c's current
 * echo, what was sent there? */
static bool echo_matches(const struct conn *c, const char *buf, int off, int k)
{
	char head[STAMP];

	stamp(c, head);
	for (; k > 0 && off < STAMP; k--)
		if (*buf++ != head[off++])
			return false;
	return memcmp(buf, msg + off, (size_t)k) == 0;
}

static void send_msg(struct conn *c, int64_t t)
{
	char out[SIZE_MAX_BYTES];

	stamp(c, out);
	memcpy(out + STAMP, msg + STAMP, (size_t)(size - STAMP));
	ssize_t k = write(c->fd, out, (size_t)size);
	/* One message in flight, far below any socket buffer: a short write
	 * would mean the server stopped reading. */
	if (k != size)
		die("write: %s", k < 0 ? strerror(errno) : "short write");
	c->sent_ns = t;
	c->got = 0;
}

/* Read what has come of c's current echo and check it: false if nothing
 * is there now (EAGAIN). Dies on an error, an early close or a wrong
 * byte. */
static bool read_echo(struct conn *c)
{
	char buf[SIZE_MAX_BYTES];
	ssize_t k;

	while ((k = read(c->fd, buf + c->got, (size_t)(size - c->got))) < 0 &&
	       errno == EINTR)
		;
	if (k < 0 && errno == EAGAIN)
		return false;
	if (k <= 0)
		die("read: %s", k < 0 ? strerror(errno) : "the server closed a connection");
	if (!echo_matches(c, buf + c->got, c->got, (int)k))
		die("connection %u: the echo differs from message %llu sent on it",
		    c->id, (unsigned long long)c->seq);
	c->got += (int)k;
	return true;
}

static void on_readable(struct conn *c, struct window *w)
{
	for (;;) {
		if (!read_echo(c))
			return;
		if (c->got < size)
			continue;
		c->seq++;
		int64_t t = now_ns();
		w->ops++;
		w->hist[bucket_of((uint64_t)(t - c->sent_ns))]++;
		send_msg(c, t);
		return;
	}
}

/* One round trip on each of the n connections at cs (sent all, then
 * read back), before the workers take them over. */
static void first_trips(struct conn *cs, long n)
{
	int64_t deadline = now_ns() + (int64_t)FIRST_TRIP_LIMIT_S * 1000000000;

	for (long i = 0; i < n; i++)
		send_msg(&cs[i], now_ns());
	for (long i = 0; i < n; i++) {
		struct conn *c = &cs[i];
		while (c->got < size) {
			int left_ms = (int)((deadline - now_ns()) / 1000000);
			struct pollfd p = { .fd = c->fd, .events = POLLIN };
			if (left_ms <= 0 || poll(&p, 1, left_ms) == 0)
				die("connection %u got no echo within %d s (its "
				    "batch of %ld, from connection %u)", c->id,
				    FIRST_TRIP_LIMIT_S, n, cs[0].id);
			read_echo(c);
		}
		c->seq++;
	}
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct epoll_event ev[EVENTS];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	for (int i = 0; i < wk->nconns; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &wk->conns[i] };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, wk->conns[i].fd, &e) != 0)
			die("epoll_ctl: %s", strerror(errno));
		send_msg(&wk->conns[i], now_ns());
	}
	for (;;) {
		int w = atomic_load_explicit(&cur_window, memory_order_relaxed);
		if (w > reps)
			break;
		int n = epoll_wait(ep, ev, EVENTS, 50);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			on_readable(ev[i].data.ptr, &wk->win[w]);
	}
	close(ep);
	return NULL;
}

static void raise_nofile(long want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < want)
		die("%ld connections need %ld descriptors, but RLIMIT_NOFILE is %ld "
		    "(hard limit): raise it (ulimit -Hn)", want - FD_SPARE, want,
		    (long)rl.rlim_cur);
}

static int dial(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	while (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		if (errno != EINTR)
			die("connect: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Non-blocking from here on: the workers read until EAGAIN. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
		die("fcntl: %s", strerror(errno));
	return fd;
}

/* CPU time of process pid in ns (all its threads, live and exited), or -1
 * when no pid was given. */
static int64_t server_cpu_ns(pid_t pid)
{
	clockid_t clk;
	struct timespec ts;

	if (pid <= 0)
		return -1;
	int err = clock_getcpuclockid(pid, &clk);
	if (err)
		die("the CPU clock of process %d: %s", (int)pid, strerror(err));
	if (clock_gettime(clk, &ts) != 0)
		die("the CPU time of process %d: %s", (int)pid, strerror(errno));
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long arg_long(const char *flag, const char *v, long lo, long hi)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || *end || end == v || x < lo || x > hi)
		die("%s %s: expected %ld..%ld", flag, v, lo, hi);
	return x;
}

static int cpus_allowed(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	return CPU_COUNT(&set);
}

/* The 99th percentile of the windows' merged histograms, as the bucket's
 * lower bound. */
static uint64_t p99_of(struct worker *wk, int nthreads, int w)
{
	uint64_t total = 0, seen = 0;
	for (int t = 0; t < nthreads; t++)
		total += wk[t].win[w].ops;
	uint64_t rank = (total * 99 + 99) / 100; /* ceil(0.99 total), 1-based */
	for (int b = 0; b < BUCKETS; b++) {
		for (int t = 0; t < nthreads; t++)
			seen += wk[t].win[w].hist[b];
		if (seen >= rank && rank > 0)
			return bucket_floor(b);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long conns = 10, threads = 0, warmup_ms = 300, window_ms = 500;
	pid_t server = 0;
	const char *target = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] != '-') {
			target = a;
			continue;
		}
		if (!v)
			die("%s needs a value", a);
		i++;
		if (strcmp(a, "--conns") == 0)
			conns = arg_long(a, v, 1, 1000000);
		else if (strcmp(a, "--size") == 0)
			size = (int)arg_long(a, v, STAMP, SIZE_MAX_BYTES);
		else if (strcmp(a, "--threads") == 0)
			threads = arg_long(a, v, 1, THREADS_MAX);
		else if (strcmp(a, "--warmup-ms") == 0)
			warmup_ms = arg_long(a, v, 0, 3600000);
		else if (strcmp(a, "--window-ms") == 0)
			window_ms = arg_long(a, v, 1, 3600000);
		else if (strcmp(a, "--reps") == 0)
			reps = (int)arg_long(a, v, 1, REPS_MAX);
		else if (strcmp(a, "--server-pid") == 0)
			server = (pid_t)arg_long(a, v, 1, INT32_MAX);
		else
			die("unknown option %s (see the comment at the top of bench/loadgen.c)", a);
	}
	char host[256], *colon;
	if (!target || strlen(target) >= sizeof(host) || !(colon = strrchr(strcpy(host, target), ':')))
		die("usage: ringo-loadgen [--conns N] [--size B] [--threads T] "
		    "[--warmup-ms W] [--window-ms D] [--reps R] [--server-pid PID] HOST:PORT");
	*colon = '\0';
	if (!threads)
		threads = cpus_allowed();
	if (threads > conns)
		threads = conns;
	raise_nofile(conns + FD_SPARE);

	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int err = getaddrinfo(host, colon + 1, &hints, &ai);
	if (err)
		die("%s: %s", target, gai_strerror(err));
	for (int i = 0; i < size; i++)
		msg[i] = (char)('a' + i % 26);

	struct conn *all = calloc((size_t)conns, sizeof(*all));
	struct worker *wk = calloc((size_t)threads, sizeof(*wk));
	if (!all || !wk)
		die("out of memory");
	for (long first = 0; first < conns; first += RAMP_BATCH) {
		long n = conns - first < RAMP_BATCH ? conns - first : RAMP_BATCH;
		for (long i = first; i < first + n; i++) {
			all[i].fd = dial(ai);
			all[i].id = (uint32_t)i;
		}
		first_trips(all + first, n);
	}
	freeaddrinfo(ai);

	for (long t = 0, first = 0; t < threads; t++) {
		long share = conns / threads + (t < conns % threads);
		wk[t].conns = all + first;
		wk[t].nconns = (int)share;
		first += share;
		wk[t].win = calloc((size_t)reps + 1, sizeof(struct window));
		if (!wk[t].win)
			die("out of memory");
		err = pthread_create(&wk[t].tid, NULL, worker_main, &wk[t]);
		if (err)
			die("pthread_create: %s", strerror(err));
	}

	sleep_ns(warmup_ms * 1000000);

	int64_t wall[REPS_MAX + 1], cpu[REPS_MAX + 1];
	for (int w = 1; w <= reps + 1; w++) {
		/* Window w - 1 ends and w begins at this instant. */
		cpu[w - 1] = server_cpu_ns(server);
		wall[w - 1] = now_ns();
		atomic_store_explicit(&cur_window, w, memory_order_relaxed);
		if (w <= reps)
			sleep_ns(window_ms * 1000000);
	}
	for (long t = 0; t < threads; t++)
		pthread_join(wk[t].tid, NULL);

	for (int w = 1; w <= reps; w++) {
		uint64_t ops = 0;
		for (long t = 0; t < threads; t++)
			ops += wk[t].win[w].ops;
		printf("window ops=%llu wall_ns=%lld p99_ns=%llu server_cpu_ns=%lld\n",
		       (unsigned long long)ops, (long long)(wall[w] - wall[w - 1]),
		       (unsigned long long)p99_of(wk, (int)threads, w),
		       server > 0 ? (long long)(cpu[w] - cpu[w - 1]) : -1LL);
	}
	if (fflush(stdout) != 0)
		die("writing the results: %s", strerror(errno));
	for (long t = 0; t < threads; t++)
		free(wk[t].win);
	for (long i = 0; i < conns; i++)
		close(all[i].fd);
	free(wk);
	free(all);
	return 0;
}
