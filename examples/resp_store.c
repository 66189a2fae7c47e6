/*
 * examples/resp_store.c - the RESP server's keys and values: SHARDS
 * chained hash tables, each behind its own ringo_mutex, so goroutines on
 * different Ps rarely wait for each other.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "resp.h"

#define SHARDS 64

struct entry {
	struct entry *next;
	uint64_t hash;
	size_t klen, vlen;
	char data[];            /* the key, then the value */
};

/* mu guards every other field and every entry reachable from slots.
 * Entries are replaced whole (SET, INCR) and freed after mu is released;
 * readers copy what they need out while they hold mu. */
static struct shard {
	_Alignas(64) ringo_mutex mu;  /* one cache line per shard */
	struct entry **slots;         /* mask + 1 chains; NULL when empty */
	size_t mask;
	size_t count;
} shards[SHARDS];

static uint64_t hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a ... */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	h ^= h >> 33; /* ... then a mix, so shard (top bits) and slot
			 * (low bits) both depend on every byte */
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static struct shard *shard_of(uint64_t h) { return &shards[h >> 58]; }

static struct entry *entry_new(uint64_t h, const char *k, size_t klen,
			       const char *v, size_t vlen)
{
	struct entry *e = xrealloc(NULL, sizeof(*e) + klen + vlen);
	*e = (struct entry){ .hash = h, .klen = klen, .vlen = vlen };
	memcpy(e->data, k, klen);
	memcpy(e->data + klen, v, vlen);
	return e;
}

/* The link that points at key's entry, or the NULL link ending its
 * chain. Caller holds s->mu and s->slots is not NULL. */
static struct entry **link_of(struct shard *s, uint64_t h, const char *k, size_t n)
{
	struct entry **pp = &s->slots[h & s->mask];
	while (*pp && ((*pp)->hash != h || (*pp)->klen != n ||
		       memcmp((*pp)->data, k, n) != 0))
		pp = &(*pp)->next;
	return pp;
}

static struct entry *lookup(struct shard *s, uint64_t h, const char *k, size_t n)
{
	return s->slots ? *link_of(s, h, k, n) : NULL;
}

/* Double the slots; the load factor stays at most 1. Caller holds s->mu. */
static void grow(struct shard *s)
{
	size_t n = s->slots ? (s->mask + 1) * 2 : 16;
	struct entry **t = xrealloc(NULL, n * sizeof(*t));
	memset(t, 0, n * sizeof(*t));
	for (size_t i = 0; s->slots && i <= s->mask; i++)
		for (struct entry *e = s->slots[i], *next; e; e = next) {
			next = e->next;
			e->next = t[e->hash & (n - 1)];
			t[e->hash & (n - 1)] = e;
		}
	free(s->slots);
	s->slots = t;
	s->mask = n - 1;
}

/* Link e in place of the entry with its key; returns that one (to be
 * freed once s->mu is released) or NULL. Caller holds s->mu. */
static struct entry *put(struct shard *s, struct entry *e)
{
	if (!s->slots || s->count > s->mask)
		grow(s);
	struct entry **pp = link_of(s, e->hash, e->data, e->klen);
	struct entry *old = *pp;
	e->next = old ? old->next : NULL;
	*pp = e;
	s->count += !old;
	return old;
}

bool store_get(const char *k, size_t kn,
	       void (*found)(void *ctx, const char *v, size_t vn), void *ctx)
{
	uint64_t h = hash(k, kn);
	struct shard *s = shard_of(h);
	ringo_mutex_lock(&s->mu);
	struct entry *e = lookup(s, h, k, kn);
	if (e)
		found(ctx, e->data + e->klen, e->vlen);
	ringo_mutex_unlock(&s->mu);
	return e != NULL;
}

void store_set(const char *k, size_t kn, const char *v, size_t vn)
{
	uint64_t h = hash(k, kn);
	struct shard *s = shard_of(h);
	struct entry *e = entry_new(h, k, kn, v, vn);
	ringo_mutex_lock(&s->mu);
	struct entry *old = put(s, e);
	ringo_mutex_unlock(&s->mu);
	free(old);
}

bool store_del(const char *k, size_t kn)
{
	uint64_t h = hash(k, kn);
	struct shard *s = shard_of(h);
	struct entry *e = NULL;
	ringo_mutex_lock(&s->mu);
	if (s->slots) {
		struct entry **pp = link_of(s, h, k, kn);
		if ((e = *pp)) {
			*pp = e->next;
			s->count--;
		}
	}
	ringo_mutex_unlock(&s->mu);
	free(e);
	return e != NULL;
}

const char *store_incr(const char *k, size_t kn, long long *x)
{
	uint64_t h = hash(k, kn);
	struct shard *s = shard_of(h);
	const char *err = NULL;
	struct entry *old = NULL;
	*x = 0;
	ringo_mutex_lock(&s->mu);
	struct entry *e = lookup(s, h, k, kn);
	if (e && !parse_ll(e->data + e->klen, e->vlen, x))
		err = "-ERR value is not an integer or out of range\r\n";
	else if (*x == LLONG_MAX)
		err = "-ERR increment or decrement would overflow\r\n";
	else {
		char num[24];
		int n = snprintf(num, sizeof(num), "%lld", ++*x);
		old = put(s, entry_new(h, k, kn, num, (size_t)n));
	}
	ringo_mutex_unlock(&s->mu);
	free(old);
	return err;
}

size_t store_size(void)
{
	size_t n = 0;
	for (int i = 0; i < SHARDS; i++) {
		ringo_mutex_lock(&shards[i].mu);
		n += shards[i].count;
		ringo_mutex_unlock(&shards[i].mu);
	}
	return n;
}
