/*
 * alloc/slab.c - default-size stacks, dozens per allocation.
 *
 * A slab is one mallocx() from a P's arena, cut into slots of one guard
 * page plus one default-size stack each (alloc/stack.h has a slot's
 * layout). Making a slab costs one allocation and, with madvise guards,
 * one process_madvise per 32 guards (alloc/madvise.c), where a stack of
 * its own costs an allocation and a system call per goroutine, plus
 * jemalloc's ~200 bytes of extent metadata, resident, per goroutine.
 * The top page of every slot, which holds the G and the first frames, is
 * made resident at once with MADV_POPULATE_WRITE, again one call per 32:
 * on the benchmark VM that cut a parked goroutine's creation from ~3.8 to
 * ~2.7 us of CPU, against one page fault each (docs/design.md).
 *
 * A P hands out the slots of its current slab in order without a lock
 * (p->slab). Slots come back only when the G free lists (alloc/gpool.c)
 * overflow; a returned slot keeps its guard and goes on its slab's free
 * list, and new goroutines take such slots before carving fresh ones. A
 * slab whose every handed-out slot has come back, and that no P is still
 * carving, is freed: its pages returned to the kernel with one
 * MADV_DONTNEED, its guards removed in one batch, the range handed back
 * to jemalloc.
 *
 * Returned slots keep the pages their last goroutine dirtied ("dirty"
 * slots: a new goroutine there takes no page fault). When more than
 * DIRTY_MAX dirty slots sit in slabs that cannot be freed yet (a few
 * goroutines of a finished burst still alive, scattered over many slabs),
 * slots are returned to the kernel with MADV_DONTNEED, 32 per system
 * call, until half that many are left ("clean" slots; their guards stay).
 * A burst of a million goroutines that all end thus leaves at most
 * DIRTY_MAX dirty slots beyond the G free lists' cap, not a million.
 *
 * Rejected: MADV_DONTNEED on every returned slot at once (measured on the
 * benchmark VM: 1 us per slot in batches of 32, 4.4 us while another
 * thread of the process runs, for the TLB shootdown; a burst ending in
 * creation order frees whole slabs, one MADV_DONTNEED per ~75 slots).
 */
#include "slab.h"

#include <jemalloc/jemalloc.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "madvise.h"
#include "stack.h"

#define SLAB_SLOTS 64               /* at least; the size class rounds up */
#define SLAB_MAX_BYTES (64u << 20)  /* fewer slots for huge stacks */
#define DIRTY_MAX 4096              /* dirty free slots, see above */

struct ringo__stack_slab {
	char *base;                 /* slots_nr * stride bytes, P's arena */
	size_t stride;              /* guard page + default stack */
	int slots_nr;
	/* Slots handed out so far, in order. Written only by the carving P
	 * while `carving`; it clears `carving` under slab_lock after its
	 * last write, so readers under the lock see the final value. */
	int carved;
	/* Under slab_lock from here on. */
	bool carving;               /* still some P's p->slab */
	int dirty_nr, clean_nr;     /* free slots of each kind */
	struct ringo__stack_slab *next, *prev;   /* all slabs */
	struct ringo__stack_slab *fnext, *fprev; /* slabs with free slots */
	uint16_t *dirty, *clean;    /* stacks of free slot numbers */
	uint8_t *guard;             /* per slot, enum ringo__guard; fixed */
};

/* Protects the two slab lists, every slab's fields marked above, and
 * dirty_total. free_total is written under it and read without it as a
 * hint (a stale 0 only means a fresh slot is carved instead). */
static pthread_mutex_t slab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ringo__stack_slab *all_slabs, *free_slabs;
static int dirty_total;
static _Atomic int free_total;

static char *slot_block(const struct ringo__stack_slab *s, int i)
{
	return s->base + (size_t)i * s->stride;
}

static struct ringo__g *place(struct ringo__stack_slab *s, int i)
{
	struct ringo__g *g =
		ringo__stack_place_g(slot_block(s, i), s->stride, s->guard[i]);
	g->slab = s;
	return g;
}

static struct ringo__stack_slab *new_slab(struct ringo__p *p)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t stride = ringo__stack_block_size(ringo__sched.stack_size);
	size_t want = SLAB_SLOTS * stride;
	int flags = MALLOCX_ARENA(p->arena) | MALLOCX_TCACHE_NONE |
		    MALLOCX_ALIGN(page);

	if (want > SLAB_MAX_BYTES)
		want = SLAB_MAX_BYTES > stride ? SLAB_MAX_BYTES / stride * stride
					       : stride;
	/* Every byte of the size class becomes a slot. */
	size_t bytes = nallocx(want, flags);
	int n = (int)(bytes / stride);
	struct ringo__stack_slab *s =
		malloc(sizeof(*s) + (size_t)n * (2 * sizeof(uint16_t) + 1));
	if (!s)
		return NULL;
	s->base = mallocx(bytes, flags);
	if (!s->base) {
		free(s);
		return NULL;
	}
	s->stride = stride;
	s->slots_nr = n;
	s->carved = 0;
	s->carving = true;
	s->dirty_nr = s->clean_nr = 0;
	s->dirty = (uint16_t *)(s + 1);
	s->clean = s->dirty + n;
	s->guard = (uint8_t *)(s->clean + n);
	s->fnext = s->fprev = NULL;
	ringo__guard_install(s->base, stride, n, s->guard);
	/* Every goroutine touches its top page (the G lives there): fault
	 * them all in now, in one batch. Failure (before Linux 5.14) only
	 * leaves the faults for later. */
	ringo__madvise_strided(s->base + stride - page, stride, page, n,
			       MADV_POPULATE_WRITE);

	pthread_mutex_lock(&slab_lock);
	s->prev = NULL;
	s->next = all_slabs;
	if (all_slabs)
		all_slabs->prev = s;
	all_slabs = s;
	pthread_mutex_unlock(&slab_lock);
	return s;
}

/* No slot of s is in use any more and s is off both lists. The pages go
 * back to the kernel now: jemalloc would purge them only as it decays,
 * and only while something allocates from the arena, which an idle
 * program after a burst does not. */
static void free_slab(struct ringo__stack_slab *s)
{
	size_t bytes = (size_t)s->slots_nr * s->stride;

	if (madvise(s->base, bytes, MADV_DONTNEED) != 0)
		ringo__throw("stack", "returning a slab's pages");
	ringo__guard_remove(s->base, s->stride, s->slots_nr, s->guard);
	dallocx(s->base, MALLOCX_TCACHE_NONE);
	free(s);
}

static void free_list_add(struct ringo__stack_slab *s)
{
	s->fprev = NULL;
	s->fnext = free_slabs;
	if (free_slabs)
		free_slabs->fprev = s;
	free_slabs = s;
}

static void free_list_remove(struct ringo__stack_slab *s)
{
	if (s->fprev)
		s->fprev->fnext = s->fnext;
	else
		free_slabs = s->fnext;
	if (s->fnext)
		s->fnext->fprev = s->fprev;
}

static void all_list_remove(struct ringo__stack_slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		all_slabs = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

/* A returned slot, dirty ones first (their pages are still there). */
static struct ringo__g *reuse_slot(void)
{
	pthread_mutex_lock(&slab_lock);
	struct ringo__stack_slab *s = free_slabs;
	if (!s) {
		pthread_mutex_unlock(&slab_lock);
		return NULL;
	}
	int i;
	if (s->dirty_nr) {
		i = s->dirty[--s->dirty_nr];
		dirty_total--;
	} else {
		i = s->clean[--s->clean_nr];
	}
	atomic_store_explicit(&free_total,
			      atomic_load_explicit(&free_total,
						   memory_order_relaxed) - 1,
			      memory_order_relaxed);
	if (!s->dirty_nr && !s->clean_nr)
		free_list_remove(s);
	pthread_mutex_unlock(&slab_lock);
	return place(s, i);
}

struct ringo__g *ringo__slab_alloc_g(struct ringo__p *p)
{
	if (atomic_load_explicit(&free_total, memory_order_relaxed) > 0) {
		struct ringo__g *g = reuse_slot();
		if (g)
			return g;
	}
	struct ringo__stack_slab *s = p->slab;
	if (!s) {
		s = new_slab(p);
		if (!s)
			return NULL;
		p->slab = s;
	}
	int i = s->carved++;
	if (s->carved == s->slots_nr) {
		pthread_mutex_lock(&slab_lock);
		s->carving = false;
		pthread_mutex_unlock(&slab_lock);
		p->slab = NULL;
	}
	return place(s, i);
}

/* Return dirty slots to the kernel until `keep` are left, taking
 * them from the slabs that have been partly free longest (the list's
 * tail). Under slab_lock: a slot being cleaned must not be handed out. */
static void trim_locked(int keep)
{
	struct ringo__stack_slab *tail = free_slabs;
	char *addrs[RINGO_MADV_BATCH];
	int n = 0;

	while (tail && tail->fnext)
		tail = tail->fnext;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	for (struct ringo__stack_slab *s = tail;
	     s && dirty_total > keep; s = s->fprev) {
		while (s->dirty_nr && dirty_total > keep) {
			int i = s->dirty[--s->dirty_nr];
			s->clean[s->clean_nr++] = (uint16_t)i;
			dirty_total--;
			addrs[n++] = slot_block(s, i) + page;
			if (n == RINGO_MADV_BATCH) {
				if (ringo__madvise_each(addrs, s->stride - page,
							n, MADV_DONTNEED))
					ringo__throw("stack",
						     "returning stack pages");
				n = 0;
			}
		}
	}
	/* All slabs share one stride; tail is non-NULL when n > 0. */
	if (n && ringo__madvise_each(addrs, tail->stride - page, n,
				     MADV_DONTNEED))
		ringo__throw("stack", "returning stack pages");
}

void ringo__slab_free_gs(struct ringo__g **gs, int n)
{
	struct ringo__stack_slab *dead = NULL;

	pthread_mutex_lock(&slab_lock);
	int freed = 0;
	for (int k = 0; k < n; k++) {
		/* gs[k] lives in the slot: read it before the slot is free. */
		struct ringo__stack_slab *s = gs[k]->slab;
		int i = (int)((gs[k]->stack_block - s->base) / s->stride);
		if (!s->dirty_nr && !s->clean_nr)
			free_list_add(s);
		s->dirty[s->dirty_nr++] = (uint16_t)i;
		dirty_total++;
		freed++;
		if (s->carving || s->dirty_nr + s->clean_nr < s->carved)
			continue;
		free_list_remove(s);
		all_list_remove(s);
		dirty_total -= s->dirty_nr;
		freed -= s->dirty_nr + s->clean_nr;
		s->next = dead;
		dead = s;
	}
	atomic_store_explicit(&free_total,
			      atomic_load_explicit(&free_total,
						   memory_order_relaxed) +
				      freed,
			      memory_order_relaxed);
	if (dirty_total > DIRTY_MAX)
		trim_locked(DIRTY_MAX / 2);
	pthread_mutex_unlock(&slab_lock);
	while (dead) {
		struct ringo__stack_slab *next = dead->next;
		free_slab(dead);
		dead = next;
	}
}

void ringo__slab_trim(void)
{
	pthread_mutex_lock(&slab_lock);
	trim_locked(0);
	pthread_mutex_unlock(&slab_lock);
}

void ringo__slab_free_all(void)
{
	pthread_mutex_lock(&slab_lock);
	struct ringo__stack_slab *s = all_slabs;
	all_slabs = free_slabs = NULL;
	dirty_total = 0;
	atomic_store_explicit(&free_total, 0, memory_order_relaxed);
	pthread_mutex_unlock(&slab_lock);
	while (s) {
		struct ringo__stack_slab *next = s->next;
		free_slab(s);
		s = next;
	}
	for (int i = 0; i < ringo__sched.nprocs; i++)
		ringo__sched.allp[i]->slab = NULL;
}
