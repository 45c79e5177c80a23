/* pagealloc.c: the page allocator (Go's pageAlloc, simplified): per arena a
 * bitmap of in-use pages, a bitmap of pages returned to the OS, and per 4 MiB
 * chunk a summary (free pages at its start, at its end, longest free run), so
 * a first-fit search by address skips full chunks and finds runs that cross
 * chunk and arena boundaries.  Adjacent free pages coalesce by construction.
 *
 * Invariants (all under ga_heap.lock):
 *   - pages at or above a->mapped_pages have their alloc bit set;
 *   - scav bit set  =>  alloc bit clear (only free pages are released);
 *   - a->free_pages == number of clear alloc bits;
 *   - sum_* describe the alloc bits of their chunk exactly.
 * See malloc.c for the overview.
 */
#include "ga_internal.h"

static inline bool bit_get(const uint64_t *w, uint32_t i)
{
	return (w[i >> 6] >> (i & 63)) & 1;
}

/* Index of the first clear bit in [i, end), or end. */
static uint32_t next_zero(const uint64_t *w, uint32_t i, uint32_t end)
{
	while (i < end) {
		uint64_t x = ~w[i >> 6] & (~0ull << (i & 63));
		if (x) {
			uint32_t r = (i & ~63u) + (uint32_t)__builtin_ctzll(x);
			return r < end ? r : end;
		}
		i = (i & ~63u) + 64;
	}
	return end;
}

/* Index of the first set bit in [i, end), or end. */
static uint32_t next_one(const uint64_t *w, uint32_t i, uint32_t end)
{
	while (i < end) {
		uint64_t x = w[i >> 6] & (~0ull << (i & 63));
		if (x) {
			uint32_t r = (i & ~63u) + (uint32_t)__builtin_ctzll(x);
			return r < end ? r : end;
		}
		i = (i & ~63u) + 64;
	}
	return end;
}

static uint32_t count_ones(const uint64_t *w, uint32_t i, uint32_t end)
{
	uint32_t n = 0;
	for (; i < end && (i & 63); i++)
		n += bit_get(w, i);
	for (; i + 64 <= end; i += 64)
		n += (uint32_t)_ga_popcount64(w[i >> 6]);
	for (; i < end; i++)
		n += bit_get(w, i);
	return n;
}

static void set_range(uint64_t *w, uint32_t i, uint32_t end, bool v)
{
	while (i < end) {
		uint32_t bit = i & 63;
		uint32_t n = end - i < 64 - bit ? end - i : 64 - bit;
		uint64_t mask = (n == 64 ? ~0ull : ((1ull << n) - 1)) << bit;
		if (v)
			w[i >> 6] |= mask;
		else
			w[i >> 6] &= ~mask;
		i += n;
	}
}

static void chunk_summarize(ga_arena *a, uint32_t k)
{
	uint32_t lo = k * GA_CHUNK_PAGES, hi = lo + GA_CHUNK_PAGES;
	uint32_t first_used = next_one(a->alloc, lo, hi);
	uint32_t start = first_used - lo, end = 0, max = start;
	if (first_used < hi) {
		uint32_t i = first_used;
		for (;;) {
			uint32_t z = next_zero(a->alloc, i, hi);
			if (z >= hi)
				break;
			uint32_t o = next_one(a->alloc, z, hi);
			if (o - z > max)
				max = o - z;
			if (o >= hi) {
				end = o - z;
				break;
			}
			i = o;
		}
	} else {
		end = GA_CHUNK_PAGES;
	}
	a->sum_start[k] = (uint16_t)start;
	a->sum_max[k] = (uint16_t)max;
	a->sum_end[k] = (uint16_t)end;
}

static void summarize_range(ga_arena *a, uint32_t lo, uint32_t hi)
{
	for (uint32_t k = lo / GA_CHUNK_PAGES; k * GA_CHUNK_PAGES < hi; k++)
		chunk_summarize(a, k);
}

/* First run of n clear bits in [from, end) whose absolute page number
 * (page0 + index) is a multiple of align; -1 if none. */
static int64_t find_run(const uint64_t *w, uint32_t from, uint32_t end, uint32_t n, uint32_t align,
                        uint64_t page0)
{
	uint32_t i = from;
	while (i < end) {
		uint32_t s = next_zero(w, i, end);
		if (s >= end)
			return -1;
		uint32_t e = next_one(w, s, end);
		uint64_t as = ((page0 + s + align - 1) / align) * align - page0;
		if (as + n <= e)
			return (int64_t)as;
		i = e;
	}
	return -1;
}

static ga_arena *arena_for(uintptr_t addr)
{
	return _ga_arena_at(addr >> GA_ARENA_SHIFT);
}

/* A free run [s, e) (absolute page numbers) holds an aligned run of n? */
static bool fits_aligned(uint64_t s, uint64_t e, uint32_t n, uint32_t align, uint64_t *at)
{
	uint64_t as = (s + align - 1) / align * align;
	if (as + n <= e) {
		*at = as;
		return true;
	}
	return false;
}

/* First fit of npages starting at a multiple of align_pages: free runs are
 * followed across contiguous arenas (an aligned object may be larger than
 * one arena). */
static uintptr_t find_aligned_locked(uint32_t npages, uint32_t align_pages)
{
	ga_mheap *h = &ga_heap;
	uint64_t run_s = 0, at;
	bool open = false; /* a free run reaching the end of the previous arena */
	uint64_t prev_end = 0; /* page number just past the previous arena */
	for (uint32_t ai = 0; ai < h->narenas; ai++) {
		ga_arena *a = h->arenas[ai];
		uint64_t page0 = a->base >> GA_PAGE_SHIFT;
		if (open && page0 != prev_end) {
			if (fits_aligned(run_s, prev_end, npages, align_pages, &at))
				return (uintptr_t)(at << GA_PAGE_SHIFT);
			open = false;
		}
		uint32_t i = 0;
		for (;;) {
			uint32_t z = next_zero(a->alloc, i, GA_PAGES_PER_ARENA);
			if (open && z != 0) {
				/* the run from the previous arena ended at this one's start */
				if (fits_aligned(run_s, page0, npages, align_pages, &at))
					return (uintptr_t)(at << GA_PAGE_SHIFT);
				open = false;
			}
			if (z >= GA_PAGES_PER_ARENA)
				break;
			uint32_t o = next_one(a->alloc, z, GA_PAGES_PER_ARENA);
			uint64_t s = open ? run_s : page0 + z;
			open = false;
			if (o == GA_PAGES_PER_ARENA) {
				run_s = s;
				open = true; /* it may go on in the next arena */
				break;
			}
			if (fits_aligned(s, page0 + o, npages, align_pages, &at))
				return (uintptr_t)(at << GA_PAGE_SHIFT);
			i = o;
		}
		prev_end = page0 + GA_PAGES_PER_ARENA;
	}
	if (open && fits_aligned(run_s, prev_end, npages, align_pages, &at))
		return (uintptr_t)(at << GA_PAGE_SHIFT);
	return 0;
}

/* Lowest address of a free run of npages (address-ordered first fit), whose
 * page number is a multiple of align_pages; 0 if there is none. */
uintptr_t _ga_pages_find_locked(uint32_t npages, uint32_t align_pages)
{
	ga_mheap *h = &ga_heap;
	if (align_pages > 1)
		return find_aligned_locked(npages, align_pages);
	uint64_t carry = 0;
	uintptr_t carry_start = 0, prev_end = 0;
	for (uint32_t ai = 0; ai < h->narenas; ai++) {
		ga_arena *a = h->arenas[ai];
		if (a->base != prev_end)
			carry = 0;
		prev_end = a->base + GA_ARENA_BYTES;
		if (a->free_pages == 0) {
			carry = 0;
			continue;
		}
		for (uint32_t k = 0; k < GA_CHUNKS_PER_ARENA; k++) {
			uintptr_t cbase = a->base + ((uintptr_t)k * GA_CHUNK_PAGES << GA_PAGE_SHIFT);
			uint32_t st = a->sum_start[k];
			if (carry + st >= npages)
				return carry ? carry_start : cbase;
			if (st == GA_CHUNK_PAGES) {
				if (carry == 0)
					carry_start = cbase;
				carry += GA_CHUNK_PAGES;
				continue;
			}
			if (a->sum_max[k] >= npages) {
				uint32_t lo = k * GA_CHUNK_PAGES;
				int64_t r = find_run(a->alloc, lo, lo + GA_CHUNK_PAGES, npages, 1, 0);
				if (r >= 0)
					return a->base + ((uintptr_t)r << GA_PAGE_SHIFT);
			}
			carry = a->sum_end[k];
			carry_start = cbase + (((uintptr_t)GA_CHUNK_PAGES - carry) << GA_PAGE_SHIFT);
		}
	}
	return 0;
}

/* Walk [base, end) one arena-local piece [lo, hi) (page indexes) at a time;
 * a span may cross into the next, contiguous arena. */
static bool next_piece(uintptr_t *p, uintptr_t end, ga_arena **a, uint32_t *lo, uint32_t *hi)
{
	if (*p >= end)
		return false;
	*a = arena_for(*p);
	uintptr_t aend = (*a)->base + GA_ARENA_BYTES;
	uintptr_t stop = end < aend ? end : aend;
	*lo = (uint32_t)((*p - (*a)->base) >> GA_PAGE_SHIFT);
	*hi = (uint32_t)((stop - (*a)->base) >> GA_PAGE_SHIFT);
	*p = stop;
	return true;
}

/* Like next_piece, but stops (false, *p < end) at an address no arena owns. */
static bool next_piece_mapped(uintptr_t *p, uintptr_t end, ga_arena **a, uint32_t *lo, uint32_t *hi)
{
	if (*p >= end || (*p >> 47) || !arena_for(*p))
		return false;
	return next_piece(p, end, a, lo, hi);
}

#define PIECES(base, npages) \
	uintptr_t p_ = (base), e_ = (base) + ((uintptr_t)(npages) << GA_PAGE_SHIFT); \
	ga_arena *a; \
	uint32_t lo, hi
#define NEXT_PIECE() next_piece(&p_, e_, &a, &lo, &hi)

/* Whether every page of [base, base + npages pages) is mapped and free. */
bool _ga_pages_range_free_locked(uintptr_t base, uint32_t npages)
{
	PIECES(base, npages);
	while (next_piece_mapped(&p_, e_, &a, &lo, &hi)) {
		if (next_one(a->alloc, lo, hi) != hi)
			return false;
	}
	return p_ >= e_;
}

/* Mark pages in use; returns how many of them had been returned to the OS
 * (those read as zero), and keeps the released figure exact. */
uint32_t _ga_pages_alloc_locked(uintptr_t base, uint32_t npages)
{
	uint32_t scav = 0;
	PIECES(base, npages);
	while (NEXT_PIECE()) {
		uint32_t s = count_ones(a->scav, lo, hi);
		scav += s;
		set_range(a->scav, lo, hi, false);
		set_range(a->alloc, lo, hi, true);
		a->free_pages -= hi - lo;
		summarize_range(a, lo, hi);
	}
	ga_heap.pages_released -= scav;
	return scav;
}

void _ga_pages_free_locked(uintptr_t base, uint32_t npages)
{
	PIECES(base, npages);
	while (NEXT_PIECE()) {
		set_range(a->alloc, lo, hi, false);
		a->free_pages += hi - lo;
		summarize_range(a, lo, hi);
	}
}

void _ga_pages_set_scav_locked(uintptr_t base, uint32_t npages)
{
	PIECES(base, npages);
	while (NEXT_PIECE()) {
		ga_heap.pages_released += (hi - lo) - count_ones(a->scav, lo, hi);
		set_range(a->scav, lo, hi, true);
	}
}

/* The highest run of free pages still backed by memory (not released), at
 * addresses below `below`.  Go's scavenger also works from the top down. */
bool _ga_pages_find_dirty_locked(uintptr_t *base, uint32_t *npages, uintptr_t below)
{
	ga_mheap *h = &ga_heap;
	for (uint32_t ai = h->narenas; ai-- > 0;) {
		ga_arena *a = h->arenas[ai];
		if (a->base >= below || a->free_pages == 0)
			continue;
		uint32_t limit = GA_PAGES_PER_ARENA;
		if (below - a->base < GA_ARENA_BYTES)
			limit = (uint32_t)((below - a->base) >> GA_PAGE_SHIFT);
		uint64_t busy[GA_ARENA_WORDS];
		for (uint32_t w = 0; w < GA_ARENA_WORDS; w++)
			busy[w] = a->alloc[w] | a->scav[w];
		int64_t best_lo = -1, best_hi = -1;
		uint32_t i = 0;
		while (i < limit) {
			uint32_t z = next_zero(busy, i, limit);
			if (z >= limit)
				break;
			uint32_t o = next_one(busy, z, limit);
			best_lo = z;
			best_hi = o;
			i = o;
		}
		if (best_lo >= 0) {
			*base = a->base + ((uintptr_t)best_lo << GA_PAGE_SHIFT);
			*npages = (uint32_t)(best_hi - best_lo);
			return true;
		}
	}
	return false;
}

/* Make the next npages of the arena's reservation available; they come from
 * the OS zeroed, so they start out "released" as in Go's mheap.grow. */
void _ga_pages_grow_locked(ga_arena *a, uint32_t npages)
{
	uint32_t lo = a->mapped_pages, hi = lo + npages;
	set_range(a->alloc, lo, hi, false);
	set_range(a->scav, lo, hi, true);
	a->mapped_pages = hi;
	a->free_pages += npages;
	ga_heap.pages_released += npages;
	ga_heap.pages_sys += npages;
	summarize_range(a, lo, hi);
}
