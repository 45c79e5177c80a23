/* mspan.c: a span of pages carved into objects of one size class, and the
 * two halves of an object's life in it: allocation by the owning mcache
 * (Go's nextFreeIndex over allocBits through the 64-bit allocCache) and
 * explicit free by any thread.  See malloc.c for the overview.
 *
 * Go frees objects by sweeping mark bits; a C program frees explicitly.  A
 * free by the thread whose mcache owns the span sets the object's bit in
 * local_bits (plain stores: only the owner writes them); a free by any other
 * thread sets it in freed_bits with one atomic OR (a plain one while the
 * process is single-threaded: stmode.c), and nothing else: the
 * number of remote frees is the population count of freed_bits, read when
 * it matters (an atomic RMW costs ~20 ns on this kind of VM; a second one
 * for a counter doubled the cost of a remote free).  The owner folds both
 * into alloc_bits when it sweeps (at uncache and at cache time), which is
 * when Go would reuse the slots too: freed slots are reused after the next
 * sweep, not at once.
 *
 * Invariants:
 *   allocated(i) == i < freeindex || alloc_bits[i]      (owner's view)
 *   a listed span: allocated(i) == alloc_bits[i] (every sweep folds the
 *   slots below freeindex into alloc_bits)
 *   live objects == alloc_count - nlocal - popcount(freed_bits)
 *   A freer's OR is its only write to the span, so a listed span whose
 *   freed bits count alloc_count has no free in flight and may go back to
 *   the heap.  With seq_cst ORs and loads, the freer whose OR comes last
 *   sees every other bit when it counts, so the last free is never missed.
 */
#include "ga_internal.h"

GA_HIDDEN ga_mspan ga_empty_span; /* nelems 0: every cache falls into refill */

bool _ga_span_init_small(ga_mspan *s, uint8_t spc)
{
	unsigned cls = spc == GA_SPANCLASS_TINY ? 2 : spc;
	s->elemsize = ga_class_to_size[cls];
	GA_STORE(&s->nelems, (uint32_t)s->npages * GA_PAGE_SIZE / s->elemsize); /* read late by _ga_span_nfreed */
	s->divmagic = ga_class_to_divmagic[cls];
	s->freeindex = 0;
	GA_STORE(&s->alloc_count, 0);
	s->alloc_cache = ~0ull;
	s->nlocal = 0;
	s->owner = NULL;
	return _ga_span_bits_alloc(s);
}

static inline void refill_alloc_cache(ga_mspan *s, uint32_t whichword)
{
	s->alloc_cache = ~GA_LOAD(&s->alloc_bits[whichword]);
}

/* Go's nextFreeIndex: the next free slot at or after freeindex, or nelems.
 * Counts the allocation when it finds one. */
uint32_t _ga_span_next_free_index(ga_mspan *s)
{
	uint32_t sfreeindex = s->freeindex, snelems = s->nelems;
	if (sfreeindex >= snelems)
		return snelems;
	uint64_t acache = s->alloc_cache;
	unsigned bit = acache ? (unsigned)__builtin_ctzll(acache) : 64;
	while (bit == 64) {
		sfreeindex = (sfreeindex + 64) & ~63u;
		if (sfreeindex >= snelems) {
			GA_STORE(&s->freeindex, snelems);
			return snelems;
		}
		refill_alloc_cache(s, sfreeindex / 64);
		acache = s->alloc_cache;
		bit = acache ? (unsigned)__builtin_ctzll(acache) : 64;
	}
	uint32_t result = sfreeindex + bit;
	if (result >= snelems) {
		GA_STORE(&s->freeindex, snelems);
		return snelems;
	}
	s->alloc_cache = (acache >> bit) >> 1;
	sfreeindex = result + 1;
	if ((sfreeindex & 63) == 0 && sfreeindex != snelems)
		refill_alloc_cache(s, sfreeindex / 64);
	GA_STORE(&s->freeindex, sfreeindex);
	GA_STORE(&s->alloc_count, s->alloc_count + 1);
	return result;
}

/* The slots of bitmap word w below freeindex fi: allocated, whatever
 * alloc_bits says. */
static inline uint64_t below_freeindex(uint32_t fi, uint32_t w)
{
	if (fi >= (w + 1) * 64)
		return ~0ull;
	return fi > w * 64 ? (1ull << (fi - w * 64)) - 1 : 0;
}

/* Fold the frees since the last sweep and the slots below freeindex into
 * alloc_bits, so that a listed span's alloc_bits are exactly its allocated
 * slots (the free path reads no freeindex there), and restart the
 * allocation scan at slot 0.  Caller owns the span (cached, or just taken
 * off an mcentral list). */
void _ga_span_sweep(ga_mspan *s)
{
	uint32_t words = (s->nelems + 63) / 64, fi = s->freeindex;
	int32_t total = 0;
	for (uint32_t w = 0; w < words; w++) {
		uint64_t below = below_freeindex(fi, w);
		uint64_t r = GA_LOAD(&s->freed_bits[w]) ? _ga_xchg64(&s->freed_bits[w], 0) : 0;
		uint64_t f = r | s->local_bits[w];
		s->local_bits[w] = 0;
		total += _ga_popcount64(f);
		GA_STORE(&s->alloc_bits[w], (s->alloc_bits[w] | below) & ~f);
	}
	if (total)
		s->needzero = 1;
	s->nlocal = 0;
	GA_STORE(&s->alloc_count, s->alloc_count - total);
	GA_STORE_REL(&s->freeindex, 0);
	refill_alloc_cache(s, 0);
}

/* After fork, for a span cached by a thread that did not survive it: that
 * thread may have been stopped inside an allocation, between taking a
 * slot and counting it, so alloc_count is counted again from the bitmap
 * (allocated(i) above).  A slot taken but not yet below freeindex counts
 * as free: its pointer was never returned in this process. */
void _ga_span_recount(ga_mspan *s)
{
	uint32_t words = (s->nelems + 63) / 64, fi = s->freeindex;
	int32_t n = 0;
	for (uint32_t w = 0; w < words; w++)
		n += _ga_popcount64(s->alloc_bits[w] | below_freeindex(fi, w));
	GA_STORE(&s->alloc_count, n);
}

void _ga_span_bad_free(ga_mspan *s, uint32_t idx, const void *p, const char *call)
{
	uint64_t bit = 1ull << (idx & 63);
	uint32_t w = idx >> 6;
	if ((s->local_bits[w] | GA_LOAD(&s->freed_bits[w])) & bit)
		_ga_fatal(call, "double free", p);
	_ga_fatal(call, "invalid pointer (not allocated, or already freed)", p);
}

/* A free on a PARTIAL span left the freed bits of one of its words equal
 * to that word's allocated bits: count the rest. */
static GA_NOINLINE void partial_maybe_empty(ga_mspan *s)
{
	if (_ga_span_nfreed(s) == GA_LOAD(&s->alloc_count))
		_ga_mcentral_free_slow(s); /* the span may be empty */
}

/* Free slot idx of small span s (any thread).  p and call name the request
 * in error messages. */
void _ga_span_free_index(ga_mspan *s, uint32_t idx, const void *p, const char *call)
{
	uint32_t w = idx >> 6;
	uint64_t bit = 1ull << (idx & 63);
	/* Allocated: set in alloc_bits, or below freeindex (allocated since the
	 * last sweep of a cached span).  freeindex is on the owner's line, so
	 * it is read only when alloc_bits says free; then alloc_bits again,
	 * since a sweep may have moved the slot from one to the other (its
	 * release store of freeindex follows its alloc_bits stores). */
	if (!(GA_LOAD(&s->alloc_bits[w]) & bit) && idx >= GA_LOAD_ACQ(&s->freeindex) &&
	    !(GA_LOAD(&s->alloc_bits[w]) & bit))
		_ga_fatal(call, "invalid pointer (not allocated, or already freed)", p);
	uint64_t *fw = &s->freed_bits[w];
	if (_ga_setbit64(fw, bit))
		_ga_fatal(call, "double free", p);
	/* From here on the span may be released by another thread: only reads
	 * of fields that stay meaningful, and the locked slow path. */
	uint8_t st = __atomic_load_n(&s->state, __ATOMIC_SEQ_CST);
	if (st == GA_SPAN_FULL) {
		/* Reusable (or empty) once its freed bits reach reuse_need. */
		if (_ga_span_nfreed(s) >= (int32_t)GA_LOAD(&s->reuse_need))
			_ga_mcentral_free_slow(s);
		return;
	}
	/* A listed span is empty only if every word's freed bits equal its
	 * allocated ones (alloc_bits, exact and fixed while it is listed: see
	 * _ga_span_sweep), this word's first.  When the span changed state
	 * meanwhile the word says nothing, but then the free is not this
	 * thread's to finish: the span's new owner sweeps it.  The bitmap is
	 * read as _ga_span_nfreed reads freed_bits: the span may be gone. */
	if (st == GA_SPAN_PARTIAL) {
		uint64_t *ab = __atomic_load_n(&s->alloc_bits, __ATOMIC_ACQUIRE);
		if (ab && GA_LOAD(fw) == GA_LOAD(&ab[w]))
			partial_maybe_empty(s);
	}
}

/* Remote frees not swept yet: the population count of freed_bits.  A
 * freer may call this on a span another thread has just released (and
 * whose struct may be in use again): the bitmap pointer is read once and
 * may be NULL, the word count is bounded, and bitmaps live in fixalloc
 * memory, which is never unmapped; a wrong count there only sends the
 * freer to the locked path, which checks again. */
int32_t _ga_span_nfreed(ga_mspan *s)
{
	uint64_t *bits = __atomic_load_n(&s->freed_bits, __ATOMIC_ACQUIRE);
	if (!bits)
		return -1;
	uint32_t words = (GA_LOAD(&s->nelems) + 63) / 64;
	if (words > GA_MAX_BITWORDS)
		words = GA_MAX_BITWORDS;
	int32_t n = 0;
	for (uint32_t w = 0; w < words; w++)
		n += _ga_popcount64(__atomic_load_n(&bits[w], __ATOMIC_SEQ_CST));
	return n;
}
