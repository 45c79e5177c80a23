/* u64map.h: an open-addressing hash map from non-zero 64-bit keys to values
 * of one type, with linear probing and backward-shift deletion (no
 * tombstones, so lookups stay short under heavy insert/delete churn).
 *
 *   U64MAP_DEFINE(objmap, struct obj)  defines objmap, objmap_get,
 *   objmap_put (returns the slot's value, *isnew), objmap_del, objmap_each.
 * Keys of 0 are reserved for empty slots.  Not thread-safe. */
#ifndef CLI_U64MAP_H
#define CLI_U64MAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline uint64_t u64map_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

#define U64MAP_DEFINE(NAME, VAL)                                                                \
	/* key and value side by side: one cache line per probe */                                 \
	typedef struct NAME##_slot {                                                                \
		uint64_t key;                                                                           \
		VAL val;                                                                                \
	} NAME##_slot;                                                                              \
	typedef struct NAME {                                                                       \
		NAME##_slot *slots;                                                                     \
		uint64_t mask, count;                                                                   \
	} NAME;                                                                                     \
	static inline bool NAME##_init(NAME *m, uint64_t cap)                                       \
	{                                                                                           \
		m->slots = calloc(cap, sizeof *m->slots);                                               \
		m->mask = cap - 1;                                                                      \
		m->count = 0;                                                                           \
		return m->slots != NULL;                                                                \
	}                                                                                           \
	static inline void NAME##_destroy(NAME *m)                                                  \
	{                                                                                           \
		free(m->slots);                                                                         \
	}                                                                                           \
	static inline VAL *NAME##_get(NAME *m, uint64_t k)                                          \
	{                                                                                           \
		for (uint64_t i = u64map_hash(k) & m->mask;; i = (i + 1) & m->mask) {                   \
			if (m->slots[i].key == k)                                                                \
				return &m->slots[i].val;                                                             \
			if (m->slots[i].key == 0)                                                                \
				return NULL;                                                                    \
		}                                                                                       \
	}                                                                                           \
	static void NAME##_grow(NAME *m);                                                           \
	static inline VAL *NAME##_put(NAME *m, uint64_t k, bool *isnew)                             \
	{                                                                                           \
		if ((m->count + 1) * 2 > (m->mask + 1)) /* at most half full: short probe runs */      \
			NAME##_grow(m);                                                                     \
		for (uint64_t i = u64map_hash(k) & m->mask;; i = (i + 1) & m->mask) {                   \
			if (m->slots[i].key == k) {                                                              \
				*isnew = false;                                                                 \
				return &m->slots[i].val;                                                             \
			}                                                                                   \
			if (m->slots[i].key == 0) {                                                              \
				m->slots[i].key = k;                                                                 \
				m->count++;                                                                     \
				*isnew = true;                                                                  \
				memset(&m->slots[i].val, 0, sizeof m->slots[i].val);                                      \
				return &m->slots[i].val;                                                             \
			}                                                                                   \
		}                                                                                       \
	}                                                                                           \
	static void NAME##_grow(NAME *m)                                                            \
	{                                                                                           \
		NAME old = *m;                                                                          \
		if (!NAME##_init(m, (old.mask + 1) * 2))                                                \
			abort();                                                                            \
		for (uint64_t i = 0; i <= old.mask; i++)                                                \
			if (old.slots[i].key) {                                                                  \
				bool n_;                                                                        \
				*NAME##_put(m, old.slots[i].key, &n_) = old.slots[i].val;                                 \
			}                                                                                   \
		NAME##_destroy(&old);                                                                   \
	}                                                                                           \
	/* Remove k; returns false if absent.  Backward-shift keeps probe runs intact. */           \
	static inline bool NAME##_del(NAME *m, uint64_t k, VAL *out)                                \
	{                                                                                           \
		uint64_t i = u64map_hash(k) & m->mask;                                                  \
		for (;; i = (i + 1) & m->mask) {                                                        \
			if (m->slots[i].key == 0)                                                                \
				return false;                                                                   \
			if (m->slots[i].key == k)                                                                \
				break;                                                                          \
		}                                                                                       \
		if (out)                                                                                \
			*out = m->slots[i].val;                                                                  \
		for (uint64_t j = (i + 1) & m->mask;; j = (j + 1) & m->mask) {                          \
			if (m->slots[j].key == 0)                                                                \
				break;                                                                          \
			uint64_t home = u64map_hash(m->slots[j].key) & m->mask;                                  \
			/* move j to i if its home is not in (i, j] (cyclically) */                        \
			if (((j - home) & m->mask) >= ((j - i) & m->mask)) {                                \
				m->slots[i].key = m->slots[j].key;                                                        \
				m->slots[i].val = m->slots[j].val;                                                        \
				i = j;                                                                          \
			}                                                                                   \
		}                                                                                       \
		m->slots[i].key = 0;                                                                         \
		m->count--;                                                                             \
		return true;                                                                            \
	}

#endif
