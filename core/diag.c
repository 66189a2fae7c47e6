/*
 * core/diag.c - diagnostics: goroutine dumps (ringo_dump, SIGQUIT), the
 * deadlock check, leak checks, and naming the goroutine a fatal signal
 * kills.
 *
 * A dump may be written from a signal handler, or by an M that holds
 * sched.lock and is about to abort, so every dump goes through one writer
 * that is async-signal-safe: a buffer on the stack, numbers formatted by
 * hand, and write(2) (fwrite only for ringo_dump's FILE). A dump never
 * takes sched.lock. It walks the allg list under sched.allg_lock, which
 * only the slow paths of G allocation and freeing take, each briefly and
 * with no other lock held; so the lock order is sched.lock, then
 * allg_lock, and a signal handler only tries it.
 *
 * The dump reads Gs that other Ms are running. status is atomic; the
 * rest (wait reason, name, the saved stack pointer, the stack itself) are
 * plain fields written by the M that runs the G. snapshot_g() is the one
 * function that reads them, without sanitizer instrumentation: a dump may
 * be stale, and says so in ringo/diag.h. Holding allg_lock keeps every G
 * on the list (and its stack) allocated, so a racy read returns an old or
 * torn value but never faults, and a stack walk is bounded by the G's
 * stack and stops at the first frame record that does not ascend.
 *
 * Rejected: stopping the world for a dump, as Go does (nothing can stop a
 * goroutine busy in C code); copying the Gs under the lock and formatting
 * after (a signal handler cannot allocate); stdio in signal handlers (it
 * locks and allocates).
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringo/diag.h>
#include <ringo/sched.h>
#include <ringo/time.h>

#include "sched_internal.h"

/* The dump's racy reads (see above) are deliberate. */
#define RACY_READER __attribute__((noinline, no_sanitize("address", "thread")))

#define MAX_FRAMES 32
#define LIST_MAX (1L << 26) /* Gs visited without the lock: stops a cycle */

/* ------------------------------------------------------------ writer */

struct out {
	int fd;        /* write(2) here when f is NULL */
	FILE *f;
	bool failed;   /* a write failed; output was lost */
	size_t len;
	char buf[1024];
};

static void out_flush(struct out *o)
{
	if (o->f) {
		if (fwrite(o->buf, 1, o->len, o->f) != o->len)
			o->failed = true;
		o->len = 0;
		return;
	}
	for (size_t off = 0; off < o->len;) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);
		if (n > 0) {
			off += (size_t)n;
		} else if (n == 0 || errno != EINTR) {
			o->failed = true;
			break;
		}
	}
	o->len = 0;
}

static void put_c(struct out *o, char c)
{
	if (o->len == sizeof(o->buf))
		out_flush(o);
	o->buf[o->len++] = c;
}

static void put_s(struct out *o, const char *s)
{
	while (*s)
		put_c(o, *s++);
}

static void put_u(struct out *o, uint64_t v)
{
	char d[20];
	int n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		put_c(o, d[--n]);
}

/* As printf's %p: "0x" and lowercase digits without leading zeros. */
static void put_x(struct out *o, uintptr_t v)
{
	char d[2 * sizeof(v)];
	int n = 0;

	put_s(o, "0x");
	do
		d[n++] = "0123456789abcdef"[v & 15];
	while ((v >>= 4));
	while (n)
		put_c(o, d[--n]);
}

/* A code address with its symbol (if exported) and its object file and
 * offset there, for addr2line. `pc` is a return address: the call is
 * just before it, which is what is looked up (a call can be the last
 * instruction of a function). */
static void put_pc(struct out *o, uintptr_t pc)
{
	Dl_info info;

	put_x(o, pc);
	if (!pc || !dladdr((void *)(pc - 1), &info))
		return;
	if (info.dli_sname && info.dli_saddr) {
		put_c(o, ' ');
		put_s(o, info.dli_sname);
		put_c(o, '+');
		put_x(o, pc - (uintptr_t)info.dli_saddr);
	}
	if (info.dli_fname && info.dli_fname[0]) {
		put_s(o, " (");
		put_s(o, info.dli_fname);
		put_c(o, '+');
		put_x(o, pc - (uintptr_t)info.dli_fbase);
		put_c(o, ')');
	}
}

/* ---------------------------------------------------------- snapshot */

/* Go's names where Go has the same wait (the sync ones as Go 1.24 shows
 * them; Go 1.23 and older showed a WaitGroup.Wait as "semacquire"); a
 * reason added to the enum without a name here shows as "waiting". */
static const char *const wait_names[RINGO_WAIT_NR] = {
	[RINGO_WAIT_NONE] = "waiting",
	[RINGO_WAIT_CHAN_SEND] = "chan send",
	[RINGO_WAIT_CHAN_RECV] = "chan receive",
	[RINGO_WAIT_SELECT] = "select",
	[RINGO_WAIT_SELECT_NO_CASES] = "select (no cases)",
	[RINGO_WAIT_CHAN_SEND_NIL] = "chan send (nil chan)",
	[RINGO_WAIT_CHAN_RECV_NIL] = "chan receive (nil chan)",
	[RINGO_WAIT_SLEEP] = "sleep",
	[RINGO_WAIT_MUTEX] = "sync.Mutex.Lock",
	/* Go shows a writer queued behind another writer as
	 * "sync.Mutex.Lock", its RWMutex's inner mutex: here every wait of
	 * a writer is an RWMutex.Lock. */
	[RINGO_WAIT_RWMUTEX_RLOCK] = "sync.RWMutex.RLock",
	[RINGO_WAIT_RWMUTEX_LOCK] = "sync.RWMutex.Lock",
	[RINGO_WAIT_WAITGROUP] = "sync.WaitGroup.Wait",
	[RINGO_WAIT_COND] = "sync.Cond.Wait",
	/* golang.org/x/sync/semaphore waits in a select: the runtime's
	 * semaphore name says more. */
	[RINGO_WAIT_SEMA] = "semacquire",
	/* A Once's waiters wait for its mutex, in Go as here. */
	[RINGO_WAIT_ONCE] = "sync.Mutex.Lock",
	[RINGO_WAIT_IO] = "IO wait",
	[RINGO_WAIT_TEST] = "test park",
};

/* Where ringo__ctx_switch leaves the frame pointer and the return address
 * in a saved context, in words above the saved stack pointer, and the
 * size of that frame (core/ctx_x86_64.S, core/ctx_aarch64.S). */
#if defined(__x86_64__)
enum { CTX_FP = 6, CTX_PC = 7, CTX_WORDS = 8 };
#elif defined(__aarch64__)
enum { CTX_FP = 10, CTX_PC = 11, CTX_WORDS = 22 };
#else
#error "ringo: saved-context layout known for x86-64 and aarch64 only"
#endif

/* One G as the dump prints it, copied field by field. */
struct gsnap {
	uint64_t id, creator_id;
	uint32_t status;                /* enum ringo__gstatus */
	bool in_syscall;                /* running inside a syscall section */
	uint8_t reason;                 /* enum ringo__wait_reason */
	int64_t since;                  /* ns, CLOCK_MONOTONIC; 0: unknown */
	uintptr_t waiting_on, create_pc;
	char name[RINGO_G_NAME_MAX];
	int nframes;
	uintptr_t frames[MAX_FRAMES];   /* return addresses, innermost first */
};

/* Follow the frame records {caller's frame pointer, return address} that
 * every function keeps (the project builds with frame pointers) from fp,
 * inside [lo, hi). The chain must ascend, so a stale or torn one ends the
 * walk; a new G's first frame has a NULL frame pointer (core/ctx.c). */
RACY_READER static void walk_frames(struct gsnap *s, uintptr_t fp,
				    uintptr_t lo, uintptr_t hi)
{
	while (s->nframes < MAX_FRAMES && fp >= lo &&
	       fp <= hi - 2 * sizeof(uintptr_t) &&
	       fp % sizeof(uintptr_t) == 0) {
		const uintptr_t *rec = (const uintptr_t *)fp;
		if (!rec[1])
			break;
		s->frames[s->nframes++] = rec[1];
		if (rec[0] <= fp)
			break;
		fp = rec[0];
	}
}

/* Copy what the dump shows of g; with `stack`, walk its stack too: the
 * caller's own, or a saved one (the G's stack lies between stack_lo and
 * the G struct on top of it). A running G's stack changes under us and
 * is left out. */
RACY_READER static void snapshot_g(const struct ringo__g *g, struct gsnap *s,
				   bool stack)
{
	size_t i;

	s->status = atomic_load_explicit(&g->status, memory_order_relaxed);
	s->in_syscall = s->status == RINGO_G_RUNNING &&
			atomic_load_explicit(&g->in_syscall, memory_order_relaxed);
	s->id = g->id;
	s->creator_id = g->creator_id;
	s->reason = g->wait_reason;
	s->since = g->wait_since;
	s->waiting_on = (uintptr_t)g->waiting_on;
	s->create_pc = (uintptr_t)g->create_pc;
	for (i = 0; i + 1 < sizeof(s->name) && g->name[i]; i++)
		s->name[i] = g->name[i];
	s->name[i] = 0;
	s->nframes = 0;
	if (!stack)
		return;
	uintptr_t lo = (uintptr_t)g->stack_lo, hi = (uintptr_t)g;
	if (g == ringo__getg()) {
		walk_frames(s, (uintptr_t)__builtin_frame_address(0), lo, hi);
		return;
	}
	if (s->status != RINGO_G_WAITING && s->status != RINGO_G_RUNNABLE)
		return;
	uintptr_t sp = (uintptr_t)g->ctx.sp;
	if (sp < lo || sp > hi - CTX_WORDS * sizeof(uintptr_t))
		return;
	const uintptr_t *saved = (const uintptr_t *)sp;
	s->frames[s->nframes++] = saved[CTX_PC];
	walk_frames(s, saved[CTX_FP], lo, hi);
}

/* The list head and links, read without allg_lock when a signal handler
 * could not get it. */
RACY_READER static struct ringo__g *first_g(void)
{
	return ringo__sched.allg;
}

RACY_READER static struct ringo__g *next_g(const struct ringo__g *g)
{
	return g->allnext;
}

/* -------------------------------------------------------------- dump */

static void put_g(struct out *o, const struct gsnap *s, int64_t now)
{
	bool waiting = s->status == RINGO_G_WAITING;

	put_s(o, "goroutine ");
	put_u(o, s->id);
	if (s->name[0]) {
		put_s(o, " [");
		put_s(o, s->name);
		put_c(o, ']');
	}
	put_s(o, " [");
	if (waiting) {
		const char *why = s->reason < RINGO_WAIT_NR
					  ? wait_names[s->reason]
					  : NULL;
		put_s(o, why ? why : "waiting");
		if (s->since > 0 && now - s->since >= 1000000000) {
			put_s(o, ", ");
			put_u(o, (uint64_t)(now - s->since) / 1000000000);
			put_s(o, " s");
		}
	} else if (s->in_syscall) {
		put_s(o, "syscall");
	} else {
		put_s(o, s->status == RINGO_G_RUNNING ? "running" : "runnable");
	}
	put_s(o, "]:\n");
	if (waiting && s->waiting_on) {
		put_s(o, "\twaiting on ");
		put_x(o, s->waiting_on);
		put_c(o, '\n');
	}
	for (int i = 0; i < s->nframes; i++) {
		put_c(o, '\t');
		put_pc(o, s->frames[i]);
		put_c(o, '\n');
	}
	if (!s->nframes && s->status == RINGO_G_RUNNING)
		put_s(o, s->in_syscall ? "\t(in a system call; stack unavailable)\n"
				       : "\t(running; stack unavailable)\n");
	if (s->creator_id) {
		put_s(o, "\tcreated by goroutine ");
		put_u(o, s->creator_id);
		put_s(o, " at ");
		put_pc(o, s->create_pc);
		put_c(o, '\n');
	} else {
		put_s(o, "\tcreated by ringo_run\n");
	}
}

/* Take allg_lock; a signal handler only tries, for a while, since the
 * thread it interrupted may be the holder. */
static bool lock_allg(bool in_handler)
{
	if (!in_handler) {
		pthread_mutex_lock(&ringo__sched.allg_lock);
		return true;
	}
	for (int i = 0; i < 1000; i++) {
		if (pthread_mutex_trylock(&ringo__sched.allg_lock) == 0)
			return true;
		sched_yield();
	}
	return false;
}

/* Write a block for every live G but the one with id skip_id (0: none).
 * Returns how many were written. */
static int dump_all(struct out *o, bool in_handler, uint64_t skip_id)
{
	bool locked = lock_allg(in_handler);
	int64_t now = ringo__nanotime(); /* clock_gettime: signal-safe */
	int n = 0;
	long visited = 0;

	if (!locked)
		put_s(o, "dump may be inconsistent: the goroutine list is "
			 "busy; stacks left out\n\n");
	for (struct ringo__g *g = first_g(); g && visited < LIST_MAX;
	     g = next_g(g), visited++) {
		struct gsnap s;
		snapshot_g(g, &s, locked);
		if (s.status == RINGO_G_IDLE || s.status == RINGO_G_DEAD ||
		    s.id == skip_id)
			continue;
		if (n++)
			put_c(o, '\n');
		put_g(o, &s, now);
	}
	if (locked)
		pthread_mutex_unlock(&ringo__sched.allg_lock);
	return n;
}

int ringo_dump(FILE *out)
{
	struct out o = { .fd = -1, .f = out };
	int n = dump_all(&o, false, 0);

	out_flush(&o);
	if (fflush(out) != 0 || o.failed)
		return -EIO;
	return n;
}

/* ---------------------------------------------------------- deadlock */

/* RINGO_DEADLOCK_CHECK=0 turns the check off, for programs whose
 * goroutines are woken by threads outside the runtime. Set by ringo_run
 * before it starts any M. */
static bool deadlock_check = true;

void ringo__diag_check_deadlock_locked(void)
{
	/* Every M is idle: none holds a P, so no goroutine runs or readies
	 * another, and each M took sched.lock after its last write to any
	 * G, so the G fields read below are settled. */
	if (!deadlock_check || atomic_load(&ringo__sched.shutdown) ||
	    ringo__sched.nmidle != ringo__sched.mcount ||
	    atomic_load(&ringo__sched.runqsize) || ringo__idle_can_wake() ||
	    ringo__idle_sysmon_readying())
		return;

	/* A G that a thread outside the runtime is readying is RUNNABLE
	 * before it reaches the global queue: then this is no deadlock (nor,
	 * as far as can be told, a lost wakeup). */
	int waiting = 0, other = 0;
	struct gsnap s;
	pthread_mutex_lock(&ringo__sched.allg_lock);
	for (struct ringo__g *g = ringo__sched.allg; g; g = g->allnext) {
		snapshot_g(g, &s, false);
		waiting += s.status == RINGO_G_WAITING;
		other += s.status == RINGO_G_RUNNABLE ||
			 s.status == RINGO_G_RUNNING;
	}
	pthread_mutex_unlock(&ringo__sched.allg_lock);
	if (!waiting || other)
		return;

	struct out o = { .fd = 2 };
	put_s(&o, "fatal error: all goroutines are asleep - deadlock!\n\n");
	dump_all(&o, false, 0);
	out_flush(&o);
	/* Said it all: no "fatal signal" line from our SIGABRT handler. */
	signal(SIGABRT, SIG_DFL);
	abort();
}

/* -------------------------------------------------------- leak check */

int ringo_leakcheck(int expected, int64_t timeout_ns)
{
	struct ringo__g *self = ringo__getg();

	if (!self)
		ringo__panic("ringo_leakcheck", "called outside a goroutine");
	uint64_t self_id = self->id;
	int64_t start = ringo__nanotime(), pause = RINGO_MICROSECOND;
	int n;

	/* Goroutines that are about to end usually need only to run: yield
	 * first, then sleep so that a slow one is not starved of the CPU. */
	for (int i = 0; (n = ringo_num_goroutines()) > expected; i++) {
		int64_t waited = ringo__nanotime() - start;
		if (waited >= timeout_ns) {
			fprintf(stderr, "ringo_leakcheck: %d goroutines after "
				"%lld ms, want %d; all but the caller:\n\n", n,
				(long long)(waited / RINGO_MILLISECOND),
				expected);
			struct out o = { .fd = -1, .f = stderr };
			dump_all(&o, false, self_id);
			out_flush(&o);
			fflush(stderr);
			return -ETIMEDOUT;
		}
		if (i < 100) {
			ringo_yield();
			continue;
		}
		ringo_sleep(pause);
		if (pause < 10 * RINGO_MILLISECOND)
			pause *= 2;
	}
	return 0;
}

/* ----------------------------------------------------------- signals */

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGILL: return "SIGILL";
	case SIGABRT: return "SIGABRT";
	default: return "signal";
	}
}

void ringo__diag_fatal_signal(int sig, const struct ringo__g *g)
{
	struct ringo__m *m = ringo__getm();
	int saved = errno;

	if (!m)
		return;
	struct out o = { .fd = 2 };
	put_s(&o, "ringo: fatal signal ");
	put_u(&o, (uint64_t)sig);
	if (g) {
		put_s(&o, " in goroutine ");
		put_u(&o, g->id);
		if (g->name[0]) {
			put_s(&o, " [");
			put_s(&o, g->name);
			put_c(&o, ']');
		}
	} else {
		put_s(&o, " in the scheduler of M ");
		put_u(&o, (uint64_t)m->id);
	}
	put_s(&o, " (");
	put_s(&o, signal_name(sig));
	put_s(&o, ")\n");
	out_flush(&o);
	errno = saved;
}

/* SIGFPE, SIGILL, SIGABRT: name the goroutine, then take the default
 * action. A fault re-executes the faulting instruction when the handler
 * returns; a signal that was sent (kill, raise, abort: si_code <= 0) is
 * sent again, and stays pending until the handler returns. An abort()
 * outside a goroutine is the runtime's own (ringo__throw), which has
 * named the goroutine already. */
static void on_fatal(int sig, siginfo_t *si, void *uctx)
{
	struct ringo__g *g = ringo__getg();
	int saved = errno;

	(void)uctx;
	if (sig != SIGABRT || g)
		ringo__diag_fatal_signal(sig, g);
	signal(sig, SIG_DFL);
	if (si->si_code <= 0)
		raise(sig);
	errno = saved;
}

static atomic_flag quit_dumping = ATOMIC_FLAG_INIT;

/* SIGQUIT: a dump to stderr, then exit status 2, as Go. Outside
 * ringo_run (or once main has returned) the default action. The first
 * SIGQUIT to arrive dumps; one that arrives on another thread meanwhile
 * waits for the _exit. */
static void on_sigquit(int sig, siginfo_t *si, void *uctx)
{
	int saved = errno;

	(void)si;
	(void)uctx;
	if (atomic_load(&ringo__sched.shutdown) ||
	    !atomic_load(&ringo__sched.allm)) {
		signal(sig, SIG_DFL);
		raise(sig);
		errno = saved;
		return;
	}
	if (atomic_flag_test_and_set(&quit_dumping))
		for (;;)
			pause();
	struct out o = { .fd = 2 };
	put_s(&o, "SIGQUIT: quit\n\n");
	dump_all(&o, true, 0);
	out_flush(&o);
	_exit(2);
}

/* Install fn for sig unless the program chose a disposition of its own
 * (or a previous ringo_run installed fn already). */
static void install_if_default(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction cur, sa;

	if (sigaction(sig, NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) ||
	    cur.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	/* On the M's signal stack: a goroutine's stack may be nearly full. */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

void ringo__diag_init(void)
{
	const char *env = getenv("RINGO_DEADLOCK_CHECK");

	deadlock_check = !env || strcmp(env, "0") != 0;
	install_if_default(SIGQUIT, on_sigquit);
	install_if_default(SIGFPE, on_fatal);
	install_if_default(SIGILL, on_fatal);
	install_if_default(SIGABRT, on_fatal);
}
