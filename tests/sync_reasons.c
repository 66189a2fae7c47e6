/*
 * tests/sync_reasons.c - a goroutine blocked in each sync primitive is
 * parked (not spinning, not blocking its thread) with the primitive's
 * wait reason and address, and goroutine dumps show it under Go's name
 * for that wait ("sync.Mutex.Lock", "sync.RWMutex.RLock"...).
 *
 * The reason and object are plain fields of the G, written by the parking
 * goroutine and read here without a happens-before edge (the G's status
 * is relaxed), so under TSan only the status is checked.
 */
#include <stdatomic.h>

#include <ringo/ringo.h>

#include "core/runtime.h"
#include "test.h"

static struct ringo__g *_Atomic blocked_g;
static _Atomic int released;

/* Wait until the goroutine that stored itself in blocked_g has parked,
 * then check why and on what, and that a dump shows it as `name`. */
static int expect_parked(enum ringo__wait_reason reason, const char *name,
			 void *obj)
{
	struct ringo__g *g;

	while (!(g = atomic_load(&blocked_g)) ||
	       atomic_load(&g->status) != RINGO_G_WAITING)
		ringo_yield();
	if (!TEST_TSAN) {
		ASSERT_EQ(g->wait_reason, reason);
		ASSERT(g->waiting_on == obj);
	}
	ASSERT_EQ(test_parked(NULL, name, obj), 1);
	return 0;
}

static void reset(void)
{
	atomic_store(&blocked_g, NULL);
	atomic_store(&released, 0);
}

static void wait_released(void)
{
	while (!atomic_load(&released))
		ringo_yield();
}

static void me(void)
{
	atomic_store(&blocked_g, ringo__getg());
}

/* ---------------------------------------------------------------- */

static ringo_mutex mu;

static void mutex_blocker(void *arg)
{
	(void)arg;
	me();
	ringo_mutex_lock(&mu);
	ringo_mutex_unlock(&mu);
	atomic_store(&released, 1);
}

static int test_mutex(void)
{
	reset();
	ringo_mutex_lock(&mu);
	ringo_go(mutex_blocker, NULL);
	if (expect_parked(RINGO_WAIT_MUTEX, "sync.Mutex.Lock", &mu))
		return 1;
	ringo_mutex_unlock(&mu);
	wait_released();
	return 0;
}

static ringo_rwmutex rw;

static void reader_blocker(void *arg)
{
	(void)arg;
	me();
	ringo_rwmutex_rlock(&rw);
	ringo_rwmutex_runlock(&rw);
	atomic_store(&released, 1);
}

static void writer_blocker(void *arg)
{
	(void)arg;
	me();
	ringo_rwmutex_lock(&rw);
	ringo_rwmutex_unlock(&rw);
	atomic_store(&released, 1);
}

static int test_rwmutex(void)
{
	reset();
	ringo_rwmutex_lock(&rw); /* a reader waits for the writer */
	ringo_go(reader_blocker, NULL);
	if (expect_parked(RINGO_WAIT_RWMUTEX_RLOCK, "sync.RWMutex.RLock",
			  &rw))
		return 1;
	ringo_rwmutex_unlock(&rw);
	wait_released();

	reset();
	ringo_rwmutex_rlock(&rw); /* a writer waits for the reader */
	ringo_go(writer_blocker, NULL);
	if (expect_parked(RINGO_WAIT_RWMUTEX_LOCK, "sync.RWMutex.Lock",
			  &rw))
		return 1;
	ringo_rwmutex_runlock(&rw);
	wait_released();

	reset();
	ringo_rwmutex_lock(&rw); /* a writer waits for the writer */
	ringo_go(writer_blocker, NULL);
	if (expect_parked(RINGO_WAIT_RWMUTEX_LOCK, "sync.RWMutex.Lock",
			  &rw))
		return 1;
	ringo_rwmutex_unlock(&rw);
	wait_released();
	return 0;
}

static ringo_wg wg;

static void wg_blocker(void *arg)
{
	(void)arg;
	me();
	ringo_wg_wait(&wg);
	atomic_store(&released, 1);
}

static int test_wg(void)
{
	reset();
	ringo_wg_add(&wg, 1);
	ringo_go(wg_blocker, NULL);
	if (expect_parked(RINGO_WAIT_WAITGROUP, "sync.WaitGroup.Wait", &wg))
		return 1;
	ringo_wg_done(&wg);
	wait_released();
	return 0;
}

static ringo_once once = RINGO_ONCE_INIT;
static ringo_sema gate = RINGO_SEMA_INITIALIZER(0);
static _Atomic int in_once;

static void slow_once(void *arg)
{
	(void)arg;
	atomic_store(&in_once, 1);
	ringo_sema_acquire(&gate);
}

static void once_runner(void *arg)
{
	(void)arg;
	ringo_once_do(&once, slow_once, NULL);
}

static void once_blocker(void *arg)
{
	(void)arg;
	me();
	ringo_once_do(&once, slow_once, NULL);
	atomic_store(&released, 1);
}

static int test_once(void)
{
	reset();
	ringo_go(once_runner, NULL);
	while (!atomic_load(&in_once))
		ringo_yield();
	ringo_go(once_blocker, NULL);
	/* Go's Once waiters wait for its mutex, and show so. */
	if (expect_parked(RINGO_WAIT_ONCE, "sync.Mutex.Lock", &once))
		return 1;
	ringo_sema_release(&gate);
	wait_released();
	return 0;
}

static ringo_mutex cmu;
static ringo_cond cv;
static bool flag; /* under cmu */

static void cond_blocker(void *arg)
{
	(void)arg;
	me();
	ringo_mutex_lock(&cmu);
	while (!flag)
		ringo_cond_wait(&cv, &cmu);
	ringo_mutex_unlock(&cmu);
	atomic_store(&released, 1);
}

static int test_cond(void)
{
	reset();
	ringo_go(cond_blocker, NULL);
	if (expect_parked(RINGO_WAIT_COND, "sync.Cond.Wait", &cv))
		return 1;
	ringo_mutex_lock(&cmu);
	flag = true;
	ringo_cond_signal(&cv);
	ringo_mutex_unlock(&cmu);
	wait_released();
	return 0;
}

static ringo_sema sem;

static void sema_blocker(void *arg)
{
	(void)arg;
	me();
	ringo_sema_acquire_n(&sem, 2);
	atomic_store(&released, 1);
}

static int test_sema(void)
{
	reset();
	ringo_go(sema_blocker, NULL);
	if (expect_parked(RINGO_WAIT_SEMA, "semacquire", &sem))
		return 1;
	ringo_sema_release_n(&sem, 2);
	wait_released();
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_mutex);
	RUN(test_rwmutex);
	RUN(test_wg);
	RUN(test_once);
	RUN(test_cond);
	RUN(test_sema);
	return 0;
}

int main(void)
{
	test_watchdog(110);
	return ringo_run(main_fn, NULL);
}
