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
	typedef struct NAME {                                                                       \
		uint64_t *keys;                                                                         \
		VAL *vals;                                                                              \
		uint64_t mask, count;                                                                   \
	} NAME;                                                                                     \
	static inline bool NAME##_init(NAME *m, uint64_t cap)                                       \
	{                                                                                           \
		m->keys = calloc(cap, sizeof *m->keys);                                                 \
		m->vals = calloc(cap, sizeof *m->vals);                                                 \
		m->mask = cap - 1;                                                                      \
		m->count = 0;                                                                           \
		return m->keys && m->vals;                                                              \
	}                                                                                           \
	static inline void NAME##_destroy(NAME *m)                                                  \
	{                                                                                           \
		free(m->keys);                                                                          \
		free(m->vals);                                                                          \
	}                                                                                           \
	static inline VAL *NAME##_get(NAME *m, uint64_t k)                                          \
	{                                                                                           \
		for (uint64_t i = u64map_hash(k) & m->mask;; i = (i + 1) & m->mask) {                   \
			if (m->keys[i] == k)                                                                \
				return &m->vals[i];                                                             \
			if (m->keys[i] == 0)                                                                \
				return NULL;                                                                    \
		}                                                                                       \
	}                                                                                           \
	static void NAME##_grow(NAME *m);                                                           \
	static inline VAL *NAME##_put(NAME *m, uint64_t k, bool *isnew)                             \
	{                                                                                           \
		if ((m->count + 1) * 4 > (m->mask + 1) * 3)                                             \
			NAME##_grow(m);                                                                     \
		for (uint64_t i = u64map_hash(k) & m->mask;; i = (i + 1) & m->mask) {                   \
			if (m->keys[i] == k) {                                                              \
				*isnew = false;                                                                 \
				return &m->vals[i];                                                             \
			}                                                                                   \
			if (m->keys[i] == 0) {                                                              \
				m->keys[i] = k;                                                                 \
				m->count++;                                                                     \
				*isnew = true;                                                                  \
				memset(&m->vals[i], 0, sizeof m->vals[i]);                                      \
				return &m->vals[i];                                                             \
			}                                                                                   \
		}                                                                                       \
	}                                                                                           \
	static void NAME##_grow(NAME *m)                                                            \
	{                                                                                           \
		NAME old = *m;                                                                          \
		if (!NAME##_init(m, (old.mask + 1) * 2))                                                \
			abort();                                                                            \
		for (uint64_t i = 0; i <= old.mask; i++)                                                \
			if (old.keys[i]) {                                                                  \
				bool n_;                                                                        \
				*NAME##_put(m, old.keys[i], &n_) = old.vals[i];                                 \
			}                                                                                   \
		NAME##_destroy(&old);                                                                   \
	}                                                                                           \
	/* Remove k; returns false if absent.  Backward-shift keeps probe runs intact. */           \
	static inline bool NAME##_del(NAME *m, uint64_t k, VAL *out)                                \
	{                                                                                           \
		uint64_t i = u64map_hash(k) & m->mask;                                                  \
		for (;; i = (i + 1) & m->mask) {                                                        \
			if (m->keys[i] == 0)                                                                \
				return false;                                                                   \
			if (m->keys[i] == k)                                                                \
				break;                                                                          \
		}                                                                                       \
		if (out)                                                                                \
			*out = m->vals[i];                                                                  \
		for (uint64_t j = (i + 1) & m->mask;; j = (j + 1) & m->mask) {                          \
			if (m->keys[j] == 0)                                                                \
				break;                                                                          \
			uint64_t home = u64map_hash(m->keys[j]) & m->mask;                                  \
			/* move j to i if its home is not in (i, j] (cyclically) */                        \
			if (((j - home) & m->mask) >= ((j - i) & m->mask)) {                                \
				m->keys[i] = m->keys[j];                                                        \
				m->vals[i] = m->vals[j];                                                        \
				i = j;                                                                          \
			}                                                                                   \
		}                                                                                       \
		m->keys[i] = 0;                                                                         \
		m->count--;                                                                             \
		return true;                                                                            \
	}

#endif
