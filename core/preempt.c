/*
 * core/preempt.c - asynchronous preemption: interrupting a goroutine
 * that has run 10 ms without giving up its P.
 *
 * sysmon (core/sysmon.c) notices the long slice, records it in the P's
 * preempt_req and sends SIGURG to the M running it. The handler, on that
 * M and on the goroutine's own stack, preempts only if
 *   - the request is for the slice still running (the G may have parked
 *     and another started since sysmon looked);
 *   - the G has not disabled preemption (ringo_preempt_disable);
 *   - the interrupted PC lies in code that holds no lock a goroutine on
 *     this M could need next: not ringo's own code (run queues, locks,
 *     the ring), nor libc, the dynamic loader, jemalloc, libgcc, the C++
 *     runtime, liburing or a sanitizer runtime; code of the program's
 *     executable and of other libraries loaded at start is safe;
 *   - the stack pointer is inside the G's stack (a handler of the
 *     program's own running on the alternate signal stack is not).
 * Then the G switches away from inside the handler, as if it had called
 * ringo_yield, but to the global queue (a ping-pong pair sharing
 * runnext must not get its slice back at once). The kernel's signal frame
 * on the G's stack keeps every register, FP state included, until the G
 * resumes - possibly on another M - and returns from the handler.
 *
 * Two details make returning on another thread correct: the handler
 * unblocks SIGURG before it switches away (the kernel blocks it while the
 * handler runs, and the M goes on running other goroutines without
 * returning from it); and sigreturn restores the signal stack recorded in
 * the frame, which is the old thread's, so the resumed handler writes the
 * current thread's into the frame first. SIGURG stays blocked while a
 * handler decides, so requests that arrive meanwhile coalesce instead of
 * nesting handler frames on the goroutine's stack (an overloaded machine
 * that deschedules the M inside its handler would otherwise pile them up
 * until the stack overflows).
 *
 * Rejected: injecting a call into the interrupted context (Go's
 * asyncPreempt) - it needs hand-written save/restore of every register
 * and vector state, which the kernel's frame already holds; cooperative
 * checks in ringo's functions - a loop that calls none is never reached.
 */
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <ringo/sched.h>

#include "../alloc/stack.h"
#include "runtime.h"
#include "sched_internal.h"

#ifdef RINGO_VALGRIND
#include <valgrind/valgrind.h>
#endif

#define PREEMPT_SIGNAL SIGURG
#define RANGES_MAX 256

/* Libraries whose code may hold locks or is the runtime itself (matched
 * as substrings of the loaded object's path). */
static const char *const unsafe_objects[] = {
	"/libc.so", "/ld-linux", "/libjemalloc", "/libgcc_s", "/libstdc++",
	"/libasan", "/libtsan", "/libubsan", "/liblsan", "/liburing",
	"/libpthread", "linux-vdso", "/libvalgrind",
};

/* Executable code safe to preempt: filled once before any M starts,
 * read-only while the handler may run. */
struct range {
	uintptr_t lo, hi;
};
static struct range safe[RANGES_MAX];
static int safe_nr;

static bool enabled;
static bool installed;
static struct sigaction old_action;
static _Atomic uint64_t preempt_nr;

static bool object_is_unsafe(const struct dl_phdr_info *info, uintptr_t self)
{
	const char *name = info->dlpi_name ? info->dlpi_name : "";

	for (size_t i = 0; i < sizeof(unsafe_objects) / sizeof(*unsafe_objects); i++)
		if (strstr(name, unsafe_objects[i]))
			return true;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && self >= lo && self < lo + ph->p_memsz)
			return true; /* ringo itself */
	}
	return false;
}

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	if (object_is_unsafe(info, (uintptr_t)data))
		return 0;
	for (int i = 0; i < info->dlpi_phnum && safe_nr < RANGES_MAX; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		safe[safe_nr++] = (struct range){ lo, lo + ph->p_memsz };
	}
	return 0;
}

static bool pc_is_safe(uintptr_t pc)
{
	for (int i = 0; i < safe_nr; i++)
		if (pc >= safe[i].lo && pc < safe[i].hi)
			return true;
	return false;
}

static void context_pc_sp(const ucontext_t *uc, uintptr_t *pc, uintptr_t *sp)
{
#if defined(__x86_64__)
	*pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	*sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
	*pc = (uintptr_t)uc->uc_mcontext.pc;
	*sp = (uintptr_t)uc->uc_mcontext.sp;
#else
#error "ringo: preemption knows x86_64 and aarch64 signal contexts only"
#endif
}

/* Never reads or writes errno: it may switch threads, and errno's
 * address is per thread (the switch itself carries errno over). */
/* The interrupted code ran with the M's usual signal mask (SIGURG
 * aside): not inside another signal handler, which blocks its signal,
 * nor in code that blocked signals for a reason of its own. Only the
 * kernel's 64 signals are compared: glibc's sigset_t is larger than what
 * the kernel writes into the frame. */
static bool usual_mask(const struct ringo__m *m, const ucontext_t *uc)
{
	for (int sig = 1; sig <= 64; sig++)
		if (sig != PREEMPT_SIGNAL &&
		    sigismember(&uc->uc_sigmask, sig) !=
			    sigismember(&m->sigmask, sig))
			return false;
	return true;
}

static void try_preempt(struct ringo__m *m, ucontext_t *uc)
{
	struct ringo__g *g = m->curg;
	struct ringo__p *p = m->p;

	if (!g || !p || g->preempt_off)
		return;
	uint64_t req = atomic_load_explicit(&p->preempt_req, memory_order_relaxed);
	if (req != (RINGO__PREEMPT_REQ_BIT | ringo__schedtick(p)))
		return;
	uintptr_t pc, sp;
	context_pc_sp(uc, &pc, &sp);
	uintptr_t lo = (uintptr_t)g->stack_lo;
	if (!pc_is_safe(pc) || sp <= lo || sp > lo + ringo__stack_size(g) ||
	    !usual_mask(m, uc))
		return;

	atomic_store_explicit(&p->preempt_req, 0, memory_order_relaxed);
	atomic_fetch_add_explicit(&preempt_nr, 1, memory_order_relaxed);
	sigset_t urg;
	sigemptyset(&urg);
	sigaddset(&urg, PREEMPT_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &urg, NULL);
	ringo__preempt_leave(m, g);

	/* Resumed, perhaps on another thread: see the file comment. */
	stack_t cur;
	if (sigaltstack(NULL, &cur) == 0)
		uc->uc_stack = cur;
}

/* The program's own SIGURG handler, if it had one. Out of line so that
 * errno's address is taken on the thread this runs on. */
__attribute__((noinline)) static void chain(int sig, siginfo_t *si, void *uctx)
{
	int saved = errno;

	if (old_action.sa_flags & SA_SIGINFO)
		old_action.sa_sigaction(sig, si, uctx);
	else if (old_action.sa_handler != SIG_DFL &&
		 old_action.sa_handler != SIG_IGN)
		old_action.sa_handler(sig);
	errno = saved;
}

static void on_signal(int sig, siginfo_t *si, void *uctx)
{
	struct ringo__m *m = ringo__getm();

	if (m)
		try_preempt(m, uctx);
	chain(sig, si, uctx);
}

static bool wanted(int cfg_value)
{
	const char *env = getenv("RINGO_PREEMPT");
	bool env_off = false;

	if (env && *env) {
		if (strcmp(env, "0") && strcmp(env, "1"))
			ringo__panic("ringo_run", "RINGO_PREEMPT=\"%s\": want 0 "
				     "(off) or 1 (on)", env);
		env_off = !strcmp(env, "0");
	}
	if (cfg_value)
		return cfg_value > 0;
	return !env_off;
}

void ringo__preempt_init(int cfg_value)
{
	enabled = false;
	if (!wanted(cfg_value))
		return;
#ifdef RINGO_TSAN
	/* TSan delivers asynchronous signals only at its interceptors, which
	 * a call-free loop never reaches. */
	return;
#endif
#ifdef RINGO_VALGRIND
	if (RUNNING_ON_VALGRIND)
		return; /* valgrind, too, runs handlers where it chooses */
#endif
	safe_nr = 0;
	dl_iterate_phdr(collect, (void *)(uintptr_t)&ringo__preempt_init);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(PREEMPT_SIGNAL, &sa, &old_action) != 0)
		ringo__throw("preempt", "sigaction(SIGURG) failed");
	installed = true;
	atomic_store(&preempt_nr, 0);
	enabled = true;
}

void ringo__preempt_fini(void)
{
	if (installed)
		sigaction(PREEMPT_SIGNAL, &old_action, NULL);
	installed = false;
	enabled = false;
}

bool ringo__preempt_request(struct ringo__p *p, uint32_t tick)
{
	struct ringo__m *m = atomic_load(&p->m);
	if (!m)
		return false;
	/* Recorded even without signals: the P's next hand-off to a
	 * runnext goroutine honours it (pick_next), so that a pair that
	 * passes the slice back and forth cannot keep the P forever. */
	atomic_store_explicit(&p->preempt_req, RINGO__PREEMPT_REQ_BIT | tick,
			      memory_order_relaxed);
	if (!enabled)
		return false; /* nothing sent: sysmon need not retry soon */
	pthread_kill(m->thread, PREEMPT_SIGNAL);
	return true;
}

uint64_t ringo__preempt_count(void)
{
	return atomic_load_explicit(&preempt_nr, memory_order_relaxed);
}

void ringo_preempt_disable(void)
{
	struct ringo__g *g = ringo__getg();

	if (!g)
		return;
	g->preempt_off++;
	/* Orders the count with the handler, which runs on this thread. */
	atomic_signal_fence(memory_order_seq_cst);
}

void ringo_preempt_enable(void)
{
	struct ringo__g *g = ringo__getg();

	if (!g)
		return;
	if (!g->preempt_off)
		ringo__panic("ringo_preempt_enable", "preemption is not disabled "
			     "(more enables than disables)");
	atomic_signal_fence(memory_order_seq_cst);
	g->preempt_off--;
}
