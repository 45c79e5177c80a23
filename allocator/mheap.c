/* mheap.c: the page heap (Go's mheap): 64 MiB arenas reserved at Go's hint
 * addresses (0xc000000000 upwards), made usable 4 MiB at a time, an arena map
 * (two levels, as Go's arenas[L1][L2]: address >> 38 -> leaf, then
 * (address >> 26) % 4096 -> arena; leaves made as arenas appear) and
 * per-arena page -> span map, spans of whole pages for mcentral and for
 * large objects, and the hand-off of free pages to the scavenger.  See
 * malloc.c for the overview.
 *
 * Address space: an arena's whole 64 MiB is reserved up front, unless the
 * OS refuses (RLIMIT_AS): then only the pages asked for are reserved, at an
 * arena-aligned address, and the reservation grows in place 4 MiB at a time
 * (reserve_more_locked).  Running out is an ENOMEM for the caller, never an
 * abort.
 *
 * Invariants (ga_heap.lock):
 *   pages_sys == pages_inuse + free pages of all arenas;
 *   pages_released == free pages with the scav bit;
 *   a->spans[i] == s for every page i of an in-use span s, NULL for free pages.
 * The arena map and page map are written under the lock and read without it
 * (atomic loads) by the free path.
 */
#include "ga_internal.h"

#include <errno.h>
#include <string.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define GA_FIRST_HINT 0 /* the sanitizers own that part of the address space */
#else
#define GA_FIRST_HINT 0x00c000000000ull /* Go's first arena hint on amd64 */
#endif

GA_HIDDEN ga_mheap ga_heap = {
	.lock = GA_LOCK_INITIALIZER,
	.hint = GA_FIRST_HINT,
};
GA_HIDDEN ga_arena **ga_arena_l1[1u << GA_ARENA_L1_BITS];

/* Enter arena a in the arena map, making its leaf if it has none. */
static bool arena_map_set_locked(ga_arena *a)
{
	uintptr_t i = a->base >> GA_ARENA_SHIFT;
	ga_arena **leaf = ga_arena_l1[i >> GA_ARENA_L2_BITS];
	if (!leaf) {
		leaf = _ga_os_alloc_meta(sizeof(ga_arena *) << GA_ARENA_L2_BITS);
		if (!leaf)
			return false;
		GA_STORE_REL(&ga_arena_l1[i >> GA_ARENA_L2_BITS], leaf);
	}
	GA_STORE_REL(&leaf[i & ((1u << GA_ARENA_L2_BITS) - 1)], a);
	return true;
}

static bool arenas_insert_locked(ga_arena *a)
{
	ga_mheap *h = &ga_heap;
	if (h->narenas == h->cap_arenas) {
		uint32_t cap = h->cap_arenas ? h->cap_arenas * 2 : 64;
		ga_arena **n = _ga_os_alloc_meta(cap * sizeof *n);
		if (!n)
			return false;
		if (h->narenas)
			memcpy(n, h->arenas, h->narenas * sizeof *n);
		h->arenas = n; /* the old array is left mapped: a few KiB, rare */
		h->cap_arenas = cap;
	}
	uint32_t i = h->narenas;
	while (i > 0 && h->arenas[i - 1]->base > a->base) {
		h->arenas[i] = h->arenas[i - 1];
		i--;
	}
	h->arenas[i] = a;
	h->narenas++;
	return true;
}

/* Reserve n contiguous arenas, the first `use` pages of them usable;
 * returns the first (lowest) arena.  Those pages are made usable before
 * anything is recorded, so a request the OS will not commit (more than
 * memory and swap, as glibc's mmap is refused) leaves nothing behind. */
static ga_arena *arenas_reserve_locked(uint32_t n, uint32_t use)
{
	ga_mheap *h = &ga_heap;
	size_t bytes = (size_t)n << GA_ARENA_SHIFT;
	/* At the hint if that address range is free, else wherever the OS puts it. */
	char *base = _ga_os_reserve(h->hint, bytes, GA_ARENA_BYTES);
	if (!base && GA_FIRST_HINT) {
		/* Address space is short (RLIMIT_AS): reserve only the pages asked
		 * for, at the first arena-aligned address from the hint on that is
		 * free; the last arena's reservation grows later in place
		 * (reserve_more_locked). */
		bytes = (size_t)use << GA_PAGE_SHIFT;
		for (int k = 0; k < 64 && !base; k++) {
			int err;
			base = _ga_os_reserve_at(h->hint + ((uintptr_t)k << GA_ARENA_SHIFT), bytes, &err);
			if (!base && err != EEXIST)
				return NULL;
		}
	}
	if (!base)
		return NULL;
	if (((uintptr_t)base + bytes - 1) >> 47 || _ga_os_map(base, (size_t)use << GA_PAGE_SHIFT) != 0) {
		_ga_os_unreserve(base, bytes);
		return NULL;
	}
	if (GA_FIRST_HINT)
		h->hint = (uintptr_t)base + ((uintptr_t)n << GA_ARENA_SHIFT);
	ga_arena *first = NULL;
	uint64_t left = bytes >> GA_PAGE_SHIFT;
	for (uint32_t i = 0; i < n; i++) {
		ga_arena *a = _ga_os_alloc_meta(sizeof *a);
		if (!a)
			return NULL;
		a->base = (uintptr_t)base + ((uintptr_t)i << GA_ARENA_SHIFT);
		a->reserved_pages = left < GA_PAGES_PER_ARENA ? (uint32_t)left : GA_PAGES_PER_ARENA;
		left -= a->reserved_pages;
		memset(a->alloc, 0xff, sizeof a->alloc); /* nothing mapped yet */
		if (!arenas_insert_locked(a))
			return NULL;
		if (!arena_map_set_locked(a))
			return NULL;
		if (!first)
			first = a;
	}
	return first;
}

/* Grow a partly reserved arena's reservation in place by at least npages
 * (whole 4 MiB chunks, at most to the arena's end).  False when the
 * addresses after it are taken or the OS refuses. */
static bool reserve_more_locked(ga_arena *a, uint32_t npages)
{
	uint32_t n = (npages + GA_CHUNK_PAGES - 1) / GA_CHUNK_PAGES * GA_CHUNK_PAGES;
	if (n > GA_PAGES_PER_ARENA - a->reserved_pages)
		n = GA_PAGES_PER_ARENA - a->reserved_pages;
	int err;
	if (n == 0 ||
	    !_ga_os_reserve_at(a->base + ((uintptr_t)a->reserved_pages << GA_PAGE_SHIFT), (size_t)n << GA_PAGE_SHIFT, &err))
		return false;
	a->reserved_pages += n;
	return true;
}

static bool map_pages_locked(ga_arena *a, uint32_t npages, bool new_arena)
{
	if (npages == 0)
		return true;
	void *p = (void *)(a->base + ((uintptr_t)a->mapped_pages << GA_PAGE_SHIFT));
	/* a new arena's pages were made usable when it was reserved */
	if (!new_arena && _ga_os_map(p, (size_t)npages << GA_PAGE_SHIFT) != 0)
		return false;
	_ga_pages_grow_locked(a, npages);
	GA_EMIT(.kind = GA_EV_HEAP_GROW, .addr = (uint64_t)(uintptr_t)p, .npages = npages,
	        .aux = new_arena);
	return true;
}

/* Add at least npages of usable pages to the heap (Go's mheap.grow): from
 * the current arena's reservation in 4 MiB steps, else from new arenas. */
static bool grow_locked(uint32_t npages)
{
	ga_mheap *h = &ga_heap;
	uint32_t ask = (npages + GA_CHUNK_PAGES - 1) / GA_CHUNK_PAGES * GA_CHUNK_PAGES;
	ga_arena *cur = h->cur;
	if (cur && cur->reserved_pages - cur->mapped_pages < ask && cur->reserved_pages < GA_PAGES_PER_ARENA)
		reserve_more_locked(cur, ask - (cur->reserved_pages - cur->mapped_pages));
	if (cur && cur->reserved_pages - cur->mapped_pages >= ask)
		return map_pages_locked(cur, ask, false);

	uint32_t narenas = (ask + GA_PAGES_PER_ARENA - 1) / GA_PAGES_PER_ARENA;
	ga_arena *first = arenas_reserve_locked(narenas, ask);
	if (!first)
		return false;
	if (cur) {
		/* Hand the old arena's unmapped tail to the page heap too; if the new
		 * arenas follow it, a run can cross into them. */
		uint32_t rem = cur->reserved_pages - cur->mapped_pages;
		if (!map_pages_locked(cur, rem, false))
			return false;
		if (cur->base + GA_ARENA_BYTES == first->base && cur->reserved_pages == GA_PAGES_PER_ARENA)
			ask = rem >= ask ? 0 : (ask - rem + GA_CHUNK_PAGES - 1) / GA_CHUNK_PAGES * GA_CHUNK_PAGES;
	}
	ga_arena *a = first;
	for (uint32_t i = 0; i < narenas; i++) {
		a = _ga_arena_at((first->base >> GA_ARENA_SHIFT) + i);
		uint32_t n = ask > a->reserved_pages ? a->reserved_pages : ask;
		if (!map_pages_locked(a, n, true))
			return false;
		ask -= n;
	}
	h->cur = a;
	return true;
}

static void set_span_map_locked(uintptr_t base, uint32_t npages, ga_mspan *s)
{
	for (uint32_t i = 0; i < npages; i++) {
		uintptr_t p = base + ((uintptr_t)i << GA_PAGE_SHIFT);
		ga_arena *a = _ga_arena_at(p >> GA_ARENA_SHIFT);
		GA_STORE_REL(&a->spans[(p >> GA_PAGE_SHIFT) & (GA_PAGES_PER_ARENA - 1)], s);
	}
}

/* A span of npages (first page a multiple of align_pages), state FREE, with
 * needzero set when any page may be dirty.  NULL with errno ENOMEM. */
ga_mspan *_ga_mheap_alloc_span(uint32_t npages, uint8_t spc, uint32_t align_pages)
{
	ga_mheap *h = &ga_heap;
	_ga_lock(&h->lock);
	uintptr_t base = _ga_pages_find_locked(npages, align_pages);
	if (!base) {
		uint64_t want = (uint64_t)npages + (align_pages > 1 ? align_pages : 0);
		if (want > UINT32_MAX / 2 || !grow_locked((uint32_t)want) ||
		    !(base = _ga_pages_find_locked(npages, align_pages))) {
			_ga_unlock(&h->lock);
			errno = ENOMEM;
			return NULL;
		}
	}
	ga_mspan *s = _ga_fixalloc_span();
	if (!s) {
		_ga_unlock(&h->lock);
		errno = ENOMEM;
		return NULL;
	}
	uint32_t scav = _ga_pages_alloc_locked(base, npages);
	s->base = base;
	s->npages = npages;
	GA_STORE(&s->spc, spc); /* read by late freers of a recycled struct (_ga_mcentral_free_slow) */
	s->cls = spc == GA_SPANCLASS_TINY ? 2 : spc;
	s->needzero = scav < npages;
	s->scav_pages = scav;
	s->id = ++h->next_span_id;
	s->qpos = 0;
	h->pages_inuse += npages;
	_ga_heap_goal_alloc_locked(npages);
	set_span_map_locked(base, npages, s);
	_ga_unlock(&h->lock);
	return s;
}

/* Return a span's pages to the heap; the span struct is recycled. */
void _ga_mheap_free_span(ga_mspan *s, bool announce)
{
	ga_mheap *h = &ga_heap;
	if (announce)
		GA_EMIT(.kind = GA_EV_SPAN_FREE, .cls = s->cls, .addr = s->base, .npages = s->npages,
		        .span_id = s->id, .flags = s->spc == GA_SPANCLASS_TINY ? GA_EVF_TINY_SPAN : 0);
	_ga_span_bits_free(s);
	_ga_lock(&h->lock);
	set_span_map_locked(s->base, s->npages, NULL);
	_ga_pages_free_locked(s->base, s->npages);
	h->pages_inuse -= s->npages;
	GA_STORE_REL(&s->state, (uint8_t)GA_SPAN_FREE);
	_ga_fixfree_span(s);
	_ga_scavenge_maybe_locked();
	_ga_unlock(&h->lock);
}

/* Give back the pages of a large span beyond its first npages (realloc
 * shrinking a large object in place). */
bool _ga_mheap_shrink_span(ga_mspan *s, uint32_t npages)
{
	ga_mheap *h = &ga_heap;
	if (npages >= s->npages)
		return true;
	uint32_t tail = s->npages - npages;
	uintptr_t tbase = s->base + ((uintptr_t)npages << GA_PAGE_SHIFT);
	_ga_lock(&h->lock);
	set_span_map_locked(tbase, tail, NULL);
	_ga_pages_free_locked(tbase, tail);
	h->pages_inuse -= tail;
	s->npages = npages;
	_ga_scavenge_maybe_locked();
	_ga_unlock(&h->lock);
	return true;
}

/* Grow a large span in place to npages when the pages after it are free
 * (realloc of a growing buffer then copies nothing).  *needzero tells
 * whether the added pages may be dirty. */
bool _ga_mheap_extend_span(ga_mspan *s, uint32_t npages, bool *needzero)
{
	ga_mheap *h = &ga_heap;
	if (npages <= s->npages)
		return true;
	uint32_t add = npages - s->npages;
	uintptr_t tail = s->base + ((uintptr_t)s->npages << GA_PAGE_SHIFT);
	_ga_lock(&h->lock);
	bool ok = _ga_pages_range_free_locked(tail, add);
	if (ok) {
		uint32_t scav = _ga_pages_alloc_locked(tail, add);
		*needzero = scav < add;
		s->scav_pages = scav;
		set_span_map_locked(tail, add, s);
		h->pages_inuse += add;
		_ga_heap_goal_alloc_locked(add);
		s->npages = npages;
	}
	_ga_unlock(&h->lock);
	return ok;
}

bool _ga_mheap_stats(ga_heap_stats *out, bool nowait)
{
	ga_mheap *h = &ga_heap;
	if (!nowait)
		_ga_lock(&h->lock);
	else if (!_ga_trylock(&h->lock))
		return false;
	out->next_gc = h->goal_pages << GA_PAGE_SHIFT;
	out->heap_inuse = h->pages_inuse << GA_PAGE_SHIFT;
	out->heap_sys = h->pages_sys << GA_PAGE_SHIFT;
	out->heap_released = h->pages_released << GA_PAGE_SHIFT;
	out->arenas = h->narenas;
	uint64_t r = 0;
	for (uint32_t i = 0; i < h->narenas; i++)
		r += h->arenas[i]->reserved_pages;
	out->reserved = r << GA_PAGE_SHIFT;
	_ga_unlock(&h->lock);
	return true;
}
