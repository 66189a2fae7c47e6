/*
 * alloc/madvise.h - one madvise(2) advice over many ranges in few system
 * calls (alloc/madvise.c).
 */
#ifndef RINGO_ALLOC_MADVISE_H
#define RINGO_ALLOC_MADVISE_H

#include <stddef.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* uapi mman-common.h, Linux 6.13 */
#define MADV_GUARD_REMOVE 103
#endif

/* Ranges per system call; the caller's iovec array (on a goroutine's
 * stack, possibly) need not be longer. */
#define RINGO_MADV_BATCH 32

/* Probe whether process_madvise(2) takes our own process (PIDFD_SELF,
 * Linux 6.15+) with any advice. Called by ringo__stack_init. */
void ringo__madvise_init(void);

/* madvise(base + i * stride, len, advice) for i < n. Returns 0, or the
 * first -errno; every range is tried even after a failure. */
int ringo__madvise_strided(char *base, size_t stride, size_t len, int n,
			   int advice);

/* madvise(addrs[i], len, advice) for i < n; same result. */
int ringo__madvise_each(char *const *addrs, size_t len, int n, int advice);

#endif
