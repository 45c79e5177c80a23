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
 * for a counter doubled the cost of a remote free).  Only T0, in the
 * single-threaded mode, keeps a count (nfreed_st: _ga_span_free_index).
 * The owner folds both into alloc_bits when it sweeps (at uncache and at
 * cache time), which is when Go would reuse the slots too: freed slots are
 * reused after the next sweep, not at once.
 *
 * Invariants:
 *   allocated(i) == i < freeindex || alloc_bits[i]      (owner's view)
 *   a listed span: allocated(i) == alloc_bits[i] (every sweep folds the
 *   slots below freeindex into alloc_bits)
 *   live objects == alloc_count - popcount(local_bits) - popcount(freed_bits)
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

/* A free on a listed span may have made it reusable or empty: count.  A
 * FULL span's test is reuse_need alone (at most alloc_count, so an empty
 * span passes it too), which is on the struct's first line; alloc_count,
 * on the second, is read only for a PARTIAL one. */
static GA_NOINLINE void listed_maybe_changed(ga_mspan *s, uint8_t st)
{
	int32_t n = _ga_span_nfreed(s);
	if (st == GA_SPAN_FULL ? n >= (int32_t)GA_LOAD(&s->reuse_need) : n == GA_LOAD(&s->alloc_count))
		_ga_mcentral_free_slow(s);
}

/* _ga_fatal, but reached by a tail call (it is not declared noreturn):
 * the free path then keeps nothing alive for its error messages. */
static GA_NOINLINE __attribute__((noipa)) void free_index_fatal(const char *call, const char *what, const void *p)
{
	_ga_fatal(call, what, p);
}

/* The first thread other than T0 to free here ends the single-threaded
 * mode first (stmode.c), then frees. */
static GA_NOINLINE void free_index_go_mt(ga_mspan *s, uint32_t idx, const void *p, const char *call)
{
	_ga_go_mt();
	_ga_span_free_index(s, idx, p, call);
}

/* Free slot idx of small span s (any thread).  p and call name the request
 * in error messages.  Leaf code on its common paths: every call it may
 * make is a tail call or does not return.
 *
 * Whether a listed span became reusable or empty: its freed bits reach
 * reuse_need (FULL) or alloc_count.  Counting them is a popcount of the
 * whole bitmap (16 words in the 8-byte class), so it is done only when it
 * can say yes.  Emptiness: the last free of a span always leaves its own
 * word all free (freed bits equal to alloc_bits, which are exact and fixed
 * while the span is listed), so the count is taken only then (alloc_count
 * is on the struct's second line, which a free does not otherwise touch).
 * Reusability: T0 in the single-threaded mode keeps a FULL span's count in
 * nfreed_st (exact there, since it is the only thread and mcentral sets
 * the count whenever it counts a listed span) and counts when that reaches
 * reuse_need.  Between threads the count is not kept (a second atomic per
 * free cost as much as the first), and a FULL span is counted at every
 * free.  A stale nfreed_st (frees by other threads before a fork made this
 * child single-threaded again) is only ever too low: it delays the span's
 * reuse until a count, and never hides its emptiness. */
void _ga_span_free_index(ga_mspan *s, uint32_t idx, const void *p, const char *call)
{
	uint32_t w = idx >> 6;
	uint64_t bit = 1ull << (idx & 63);
	/* Allocated: set in alloc_bits, or below freeindex (allocated since the
	 * last sweep of a cached span).  freeindex is on the owner's line, so
	 * it is read only when alloc_bits says free; then alloc_bits again,
	 * since a sweep may have moved the slot from one to the other (its
	 * release store of freeindex follows its alloc_bits stores). */
	uint64_t ab = GA_LOAD(&s->alloc_bits[w]);
	if (GA_UNLIKELY(!(ab & bit)) && idx >= GA_LOAD_ACQ(&s->freeindex) && !(GA_LOAD(&s->alloc_bits[w]) & bit)) {
		free_index_fatal(call, "invalid pointer (not allocated, or already freed)", p);
		return;
	}
	uint64_t *fw = &s->freed_bits[w];
	if (_ga_st_enter()) {
		/* T0's window (stmode.c): plain loads and stores. */
		uint64_t old = GA_LOAD(fw), now = old | bit;
		_ga_st_test_hold();
		GA_STORE(fw, now);
		uint8_t st = GA_LOAD(&s->state);
		bool count = false;
		if (st == GA_SPAN_FULL) {
			uint16_t n = (uint16_t)(GA_LOAD(&s->nfreed_st) + 1);
			GA_STORE(&s->nfreed_st, n);
			count = n >= GA_LOAD(&s->reuse_need) || now == ab;
		} else if (st == GA_SPAN_PARTIAL) {
			count = now == ab;
		}
		_ga_st_leave();
		if (GA_UNLIKELY(old & bit)) {
			free_index_fatal(call, "double free", p);
			return;
		}
		if (count)
			listed_maybe_changed(s, st);
		return;
	}
	if (GA_UNLIKELY(!GA_LOAD_ACQ(&ga_mt_ready)) && !ga_tls_t0) {
		free_index_go_mt(s, idx, p, call);
		return;
	}
	if ((__atomic_fetch_or(fw, bit, __ATOMIC_SEQ_CST) & bit) != 0) {
		free_index_fatal(call, "double free", p);
		return;
	}
	/* From here on the span may be released by another thread: only reads
	 * of fields that stay meaningful, and the locked slow path. */
	uint8_t st = __atomic_load_n(&s->state, __ATOMIC_SEQ_CST);
	if (st == GA_SPAN_FULL) {
		listed_maybe_changed(s, st);
		return;
	}
	/* A listed span is empty only if every word's freed bits equal its
	 * allocated ones (alloc_bits, exact and fixed while it is listed: see
	 * _ga_span_sweep), this word's first.  When the span changed state
	 * meanwhile the word says nothing, but then the free is not this
	 * thread's to finish: the span's new owner sweeps it.  The bitmap is
	 * read as _ga_span_nfreed reads freed_bits: the span may be gone. */
	if (st == GA_SPAN_PARTIAL) {
		uint64_t *abits = __atomic_load_n(&s->alloc_bits, __ATOMIC_ACQUIRE);
		if (abits && GA_LOAD(fw) == GA_LOAD(&abits[w]))
			listed_maybe_changed(s, st);
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
