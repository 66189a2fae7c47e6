/*
 * io/uring_slots.c - the slots that io_uring requests' user_data names.
 *
 * A goroutine takes a slot for each request and holds it until the
 * request's last CQE; the reaper finds the slot from the CQE's user_data
 * and readies the goroutine recorded there. The table is type stable:
 * chunks are added under slot_lock and freed only by fini, after the
 * rings are gone, so a late CQE always names valid memory, and its
 * sequence tag tells whether it is still the slot's current request
 * (io/netpoll_uring.h has the layout and the states).
 */
#include <stdlib.h>

#include "uring_ring.h"

#define SLOT_CHUNK_SHIFT 10
#define SLOT_CHUNK (1u << SLOT_CHUNK_SHIFT)
#define SLOT_CHUNKS_MAX 4096 /* 4M slots: the index fits user_data's 24 bits */

static struct ringo__uslot *_Atomic slot_chunks[SLOT_CHUNKS_MAX];
/* Protects slot_free, slot_nchunks and each free slot's next_free. */
static struct ringo__lock slot_lock = RINGO__LOCK_INIT;
static uint32_t slot_free = UINT32_MAX;
static uint32_t slot_nchunks;

struct ringo__uslot *ringo__uslot_at(uint32_t idx)
{
	uint32_t c = idx >> SLOT_CHUNK_SHIFT;

	if (ringo__unlikely(c >= SLOT_CHUNKS_MAX))
		return NULL;
	/* Pairs with the release store in slot_grow_locked. */
	struct ringo__uslot *chunk =
		atomic_load_explicit(&slot_chunks[c], memory_order_acquire);
	return chunk ? &chunk[idx & (SLOT_CHUNK - 1)] : NULL;
}

static bool slot_grow_locked(void)
{
	if (slot_nchunks == SLOT_CHUNKS_MAX)
		return false;
	struct ringo__uslot *chunk = calloc(SLOT_CHUNK, sizeof(*chunk));
	if (!chunk)
		return false;
	uint32_t base = slot_nchunks << SLOT_CHUNK_SHIFT;
	for (uint32_t i = SLOT_CHUNK; i-- > 0;) {
		chunk[i].idx = base + i;
		chunk[i].next_free = slot_free;
		slot_free = base + i;
	}
	atomic_store_explicit(&slot_chunks[slot_nchunks], chunk,
			      memory_order_release);
	slot_nchunks++;
	return true;
}

struct ringo__uslot *ringo__uslot_get(void)
{
	ringo__lock(&slot_lock);
	if (slot_free == UINT32_MAX && !slot_grow_locked()) {
		ringo__unlock(&slot_lock);
		return NULL;
	}
	struct ringo__uslot *s = ringo__uslot_at(slot_free);
	slot_free = s->next_free;
	ringo__unlock(&slot_lock);
	uint32_t seq = (atomic_load_explicit(&s->seq, memory_order_relaxed) + 1) &
		       RINGO__UD_SEQ_MASK;
	atomic_store_explicit(&s->seq, seq, memory_order_relaxed);
	s->g = NULL;
	s->res = 0;
	s->cflags = 0;
	s->done = NULL;
	s->done_arg = NULL;
	s->ring = ringo__uring_cur_idx();
	atomic_store_explicit(&s->state, RINGO__USLOT_OWNED, memory_order_relaxed);
	return s;
}

void ringo__uslot_put(struct ringo__uslot *s)
{
	uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);

	if (st != RINGO__USLOT_OWNED && st != RINGO__USLOT_DONE)
		ringo__throw("netpoll", "uring: freeing slot %u in state %u",
			     s->idx, st);
	/* Bump the tag so a late CQE naming the old one is stale. */
	atomic_store_explicit(&s->seq, (atomic_load_explicit(&s->seq,
				memory_order_relaxed) + 1) & RINGO__UD_SEQ_MASK,
			      memory_order_relaxed);
	atomic_store_explicit(&s->state, RINGO__USLOT_FREE, memory_order_relaxed);
	ringo__lock(&slot_lock);
	s->next_free = slot_free;
	slot_free = s->idx;
	ringo__unlock(&slot_lock);
}

uint32_t ringo__uslots_nr(void)
{
	return slot_nchunks << SLOT_CHUNK_SHIFT;
}

void ringo__uslots_free_all(void)
{
	for (uint32_t c = 0; c < slot_nchunks; c++) {
		free(atomic_load(&slot_chunks[c]));
		atomic_store(&slot_chunks[c], NULL);
	}
	slot_nchunks = 0;
	slot_free = UINT32_MAX;
}
