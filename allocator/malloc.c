/* malloc.c: the allocator's entry points and the overview of its design.
 *
 * Overview (after Go's runtime/malloc.go)
 * ---------------------------------------
 * The heap hands out objects of 67 size classes (8 B .. 32 KiB, Go's table,
 * sizeclass.c) from spans: runs of 8 KiB pages carved into equal slots
 * (mspan.c).  Objects over 32 KiB are "large" (class 0) and get a span of
 * their own.  Three levels, each caching the one below:
 *
 *   mcache   (mcache.c)   per thread: one span per class to allocate from with
 *                         no lock (nextFreeFast over the span's allocCache),
 *                         plus the thread's tiny block (tiny.c).
 *   mcentral (mcentral.c) per class: spans not owned by any mcache, partial
 *                         (free slots) and full.  An mcache whose span is
 *                         exhausted gives it back and takes a partial one.
 *   mheap    (mheap.c)    pages: 64 MiB arenas reserved at Go's hint addresses
 *                         and mapped 4 MiB at a time, a page allocator with
 *                         first-fit by address (pagealloc.c), large objects,
 *                         and the scavenger that returns free pages to the OS
 *                         (scavenge.c).
 *
 * Allocating a small object: size -> class through Go's two lookup tables;
 * take the next free slot of the mcache's span for that class (a count-
 * trailing-zeros on a 64-bit cache of the allocation bitmap); when the span
 * is exhausted, refill from mcentral, which grows from mheap when it has no
 * partial span.  Requests under 16 B go to the tiny allocator.
 *
 * Freeing, which Go does not have (its GC sweeps): the address finds its
 * arena (arena map) and span (page map) in O(1); the span says whether it is
 * large, tiny or small and where objects start, so an address that is not a
 * live object start is caught and reported.  A small free marks the slot in
 * the span's freed bitmap, lock-free from any thread; the owner folds those
 * marks in when it sweeps the span, as Go's sweeper would.  A span no mcache
 * owns moves from full to partial once a quarter of its slots (1 to 16)
 * are free (mcentral.c), and back to the page heap on its last free.
 *
 * Span metadata, bitmaps and caches live off-heap (fixalloc.c), never in the
 * memory they describe.  Pages fresh from the OS or returned to it read as
 * zero, so calloc clears only what may be dirty (Go's needzero).
 *
 * Alignment modes (DESIGN.md): C-safe by default, Go-exact with
 * GOALLOC_GO_EXACT=1; the mode picks the size -> class table and the tiny
 * alignment rule, nothing else.
 *
 * Every decision is reported to an optional observer (ga_set_observer)
 * behind one predictable branch on a global flag.
 */
#include "ga_internal.h"

#include <errno.h>
#include <string.h>

GA_HIDDEN bool ga_observe_on;
static ga_observer_fn observer_fn;
static void *observer_ctx;

void ga_set_observer(ga_observer_fn fn, void *ctx)
{
	observer_ctx = ctx;
	observer_fn = fn;
	__atomic_store_n(&ga_observe_on, fn != NULL, __ATOMIC_RELEASE);
}

void _ga_emit_slow(const ga_event *ev)
{
	ga_observer_fn fn = observer_fn;
	if (fn)
		fn(ev, observer_ctx);
}

/* ---- allocation ---------------------------------------------------------- */

/* The common paths of malloc, calloc and free compile to leaf code: every
 * other case leaves by a tail call, so nothing is pushed or popped on them
 * (before, the inlined slow paths and the observer's event made free and
 * malloc save six registers and a 72-byte frame on every call).  The
 * observer's events are emitted by a second copy of each path (observe =
 * true), entered through the noinline *_observed functions when
 * ga_observe_on is set. */

/* What every small allocation does once it has its slot p in span s. */
static GA_ALWAYS_INLINE void *small_done(ga_mcache *c, ga_mspan *s, unsigned spc, void *p, size_t size,
                                         bool zero, bool observe)
{
	c->nmalloc[spc]++;
	if (observe)
		GA_EMIT(.kind = GA_EV_ALLOC_SMALL, .cls = (uint8_t)spc, .size = size, .addr = (uintptr_t)p,
		        .span_id = s->id);
	if (zero && s->needzero)
		return memset(p, 0, size);
	return p;
}

/* A small allocation that found the cached span exhausted. */
static GA_NOINLINE void *small_alloc_refill(ga_mcache *c, unsigned spc, size_t size, bool zero)
{
	void *p = _ga_small_alloc_slow(c, (uint8_t)spc);
	if (GA_UNLIKELY(!p)) {
		errno = ENOMEM;
		return NULL;
	}
	return small_done(c, c->alloc[spc], spc, p, size, zero, true);
}

static GA_ALWAYS_INLINE void *small_alloc(ga_mcache *c, unsigned spc, size_t size, bool zero,
                                          bool observe)
{
	ga_mspan *s = c->alloc[spc];
	uint32_t idx = _ga_span_next_free_fast(s);
	if (GA_UNLIKELY(idx == UINT32_MAX))
		return small_alloc_refill(c, spc, size, zero);
	return small_done(c, s, spc, (void *)(s->base + (uintptr_t)idx * s->elemsize), size, zero, observe);
}

static GA_NOINLINE void *large_alloc(ga_mcache *c, size_t size, uint32_t align_pages, bool zero)
{
	if (size > ((size_t)UINT32_MAX << GA_PAGE_SHIFT) / 2) {
		errno = ENOMEM;
		return NULL;
	}
	uint32_t npages = (uint32_t)((size + GA_PAGE_SIZE - 1) >> GA_PAGE_SHIFT);
	ga_mspan *s = _ga_mheap_alloc_span(npages, 0, align_pages);
	if (!s)
		return NULL;
	s->elemsize = 0;
	GA_STORE(&s->nelems, 1);
	s->req_size = size;
	__atomic_store_n(&s->state, (uint8_t)GA_SPAN_LARGE, __ATOMIC_RELEASE);
	void *p = (void *)s->base;
	if (zero && s->needzero)
		memset(p, 0, size);
	c->large_allocs++;
	c->large_bytes_alloc += (uint64_t)npages << GA_PAGE_SHIFT;
	GA_EMIT(.kind = GA_EV_ALLOC_LARGE, .cls = 0, .size = size, .addr = s->base, .span_id = s->id,
	        .npages = npages, .aux = s->scav_pages);
	return p;
}

/* malloc(0): a unique object.  Go-exact mode serves it as a 1-byte request
 * (Go itself returns one shared zerobase, which free could not tell apart);
 * C-safe mode gives it a 16-byte slot of its own, 16-aligned as glibc's is,
 * because programs that tag the low bits of every malloc'd pointer or
 * assert its alignment do so for empty buffers too. */
static GA_NOINLINE void *zero_alloc(ga_mcache *c, bool observe)
{
	if (!ga_opts.go_exact)
		return small_alloc(c, _ga_class_of(GA_TINY_SIZE), 0, false, observe);
	if (ga_opts.tiny)
		return _ga_tiny_alloc(c, 0, false);
	return small_alloc(c, _ga_class_of(1), 0, false, observe);
}

static GA_ALWAYS_INLINE void *alloc_with(ga_mcache *c, size_t size, bool zero, bool observe)
{
	if (GA_LIKELY(size <= GA_MAX_SMALL)) {
		if (size < GA_TINY_SIZE) {
			if (GA_UNLIKELY(size == 0))
				return zero_alloc(c, observe);
			if (ga_opts.tiny)
				return _ga_tiny_alloc(c, size, zero);
		}
		return small_alloc(c, _ga_class_of(size), size, zero, observe);
	}
	return large_alloc(c, size, 1, zero);
}

/* malloc and calloc when the thread has no cache yet (or no more), or an
 * observer is set. */
static GA_NOINLINE void *alloc_observed(size_t size, bool zero)
{
	ga_mcache *c = ga_tls_cache;
	if (!c)
		c = _ga_mcache_get_slow();
	if (c)
		return alloc_with(c, size, zero, true);
	c = _ga_orphan_enter();
	void *p = alloc_with(c, size, zero, true);
	_ga_orphan_leave();
	return p;
}

void *ga_malloc(size_t size)
{
	ga_mcache *c = ga_tls_cache;
	if (GA_UNLIKELY(!c || GA_LOAD(&ga_observe_on)))
		return alloc_observed(size, false);
	return alloc_with(c, size, false, false);
}

void *ga_calloc(size_t n, size_t size)
{
	size_t total;
	if (GA_UNLIKELY(__builtin_mul_overflow(n, size, &total))) {
		errno = ENOMEM;
		return NULL;
	}
	ga_mcache *c = ga_tls_cache;
	if (GA_UNLIKELY(!c || GA_LOAD(&ga_observe_on)))
		return alloc_observed(total, true);
	return alloc_with(c, total, true, false);
}

/* The smallest class of the mode that holds size and whose slots (at
 * multiples of its size from a page boundary) are align-aligned. */
static unsigned aligned_class(size_t size, size_t align)
{
	for (unsigned cls = _ga_class_of(size); cls < GA_CLASSES; cls++) {
		uint32_t sz = ga_class_to_size[cls];
		if (sz < size || (cls == 3 && !ga_opts.go_exact))
			continue;
		uint32_t slot_align = sz & -sz;
		if (slot_align > GA_PAGE_SIZE)
			slot_align = GA_PAGE_SIZE;
		if (slot_align >= align)
			return cls;
	}
	return 0;
}

static void *aligned_with(ga_mcache *c, size_t align, size_t size)
{
	if (size == 0)
		size = 1;
	if (size <= GA_MAX_SMALL && align <= GA_PAGE_SIZE) {
		unsigned cls = aligned_class(size, align);
		if (cls)
			return small_alloc(c, cls, size, false, true);
	}
	/* Alignments above an arena too: the heap grows by contiguous arenas
	 * enough to hold an aligned run. */
	size_t align_pages = align > GA_PAGE_SIZE ? align >> GA_PAGE_SHIFT : 1;
	if (align_pages > UINT32_MAX / 4) {
		errno = ENOMEM;
		return NULL;
	}
	return large_alloc(c, size, (uint32_t)align_pages, false);
}

void *ga_aligned_alloc(size_t align, size_t size)
{
	if (align == 0 || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	ga_mcache *c = ga_tls_cache;
	if (GA_UNLIKELY(!c)) {
		c = _ga_mcache_get_slow();
		if (!c) {
			c = _ga_orphan_enter();
			void *p = aligned_with(c, align, size);
			_ga_orphan_leave();
			return p;
		}
	}
	return aligned_with(c, align, size);
}

/* ---- free ---------------------------------------------------------------- */

static GA_NOINLINE void large_free(ga_mspan *s, void *p, const char *call)
{
	if ((uintptr_t)p != s->base)
		_ga_fatal(call, "invalid pointer (inside a large object)", p);
	uint8_t expect = GA_SPAN_LARGE;
	if (!__atomic_compare_exchange_n(&s->state, &expect, (uint8_t)GA_SPAN_FREE, false,
	                                 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		_ga_fatal(call, "double free", p);
	ga_mcache *c = ga_tls_cache;
	if (c) {
		c->large_frees++;
		c->large_bytes_free += (uint64_t)s->npages << GA_PAGE_SHIFT;
	} else {
		ga_mcache *o = _ga_orphan_enter();
		o->large_frees++;
		o->large_bytes_free += (uint64_t)s->npages << GA_PAGE_SHIFT;
		_ga_orphan_leave();
	}
	GA_EMIT(.kind = GA_EV_FREE, .cls = 0, .addr = s->base, .span_id = s->id, .npages = s->npages);
	_ga_mheap_free_span(s, true);
}

/* The span of a live object at p, or a fatal error naming call. */
static inline ga_mspan *span_of_object(const void *p, const char *call)
{
	ga_mspan *s = _ga_span_of((uintptr_t)p);
	if (GA_UNLIKELY(!s))
		_ga_fatal(call, "invalid pointer (not in the heap, or already freed)", p);
	uint8_t st = GA_LOAD(&s->state);
	if (GA_UNLIKELY(st == GA_SPAN_FREE))
		_ga_fatal(call, "invalid pointer (already freed)", p);
	return s;
}

static GA_ALWAYS_INLINE void free_body(void *ptr, const char *call, bool observe)
{
	uintptr_t p = (uintptr_t)ptr;
	ga_mspan *s = span_of_object(ptr, call);
	uint8_t spc = s->spc;
	if (GA_UNLIKELY(spc == 0)) {
		large_free(s, ptr, call);
		return;
	}
	if (spc == GA_SPANCLASS_TINY) {
		_ga_tiny_free(s, p, call);
		return;
	}
	uint32_t idx = _ga_span_index(s, p);
	if (GA_UNLIKELY(s->base + (uintptr_t)idx * s->elemsize != p))
		_ga_fatal(call, "invalid pointer (not the start of an object)", ptr);
	if (observe)
		GA_EMIT(.kind = GA_EV_FREE, .cls = spc, .addr = p, .span_id = s->id);
	ga_mcache *c = ga_tls_cache;
	if (GA_LIKELY(c != NULL)) {
		c->nfree[spc]++;
		if (GA_LOAD(&s->owner) == c) {
			_ga_span_free_local(s, idx, ptr, call);
			return;
		}
	} else {
		__atomic_fetch_add(&ga_orphan_nfree[spc], 1, __ATOMIC_RELAXED);
	}
	_ga_span_free_index(s, idx, ptr, call); /* last: the span may go away */
}

static GA_NOINLINE void free_observed(void *ptr, const char *call)
{
	free_body(ptr, call, true);
}

static inline void free_impl(void *ptr, const char *call)
{
	if (GA_UNLIKELY(GA_LOAD(&ga_observe_on)))
		free_observed(ptr, call);
	else
		free_body(ptr, call, false);
}

void ga_free(void *p)
{
	if (GA_LIKELY(p != NULL))
		free_impl(p, "free");
}

/* Bytes usable at p without touching any other object. */
static size_t usable_impl(ga_mspan *s, const void *p, const char *call)
{
	if (s->spc == 0) {
		if ((uintptr_t)p != s->base)
			_ga_fatal(call, "invalid pointer (inside a large object)", p);
		return (size_t)s->npages << GA_PAGE_SHIFT;
	}
	if (s->spc == GA_SPANCLASS_TINY)
		return _ga_tiny_size(s, (uintptr_t)p, call);
	uint32_t idx = _ga_span_index(s, (uintptr_t)p);
	if (s->base + (uintptr_t)idx * s->elemsize != (uintptr_t)p)
		_ga_fatal(call, "invalid pointer (not the start of an object)", p);
	return s->elemsize;
}

size_t ga_usable_size(const void *p)
{
	if (!p)
		return 0;
	return usable_impl(span_of_object(p, "malloc_usable_size"), p, "malloc_usable_size");
}

/* ---- realloc ------------------------------------------------------------- */

void *ga_realloc(void *ptr, size_t size)
{
	if (!ptr)
		return ga_malloc(size);
	if (size == 0) {
		/* glibc's behaviour: free and return NULL. */
		free_impl(ptr, "realloc");
		return NULL;
	}
	ga_mspan *s = span_of_object(ptr, "realloc");
	size_t old = usable_impl(s, ptr, "realloc");
	bool in_place, extended = false;
	if (s->spc == 0) {
		size_t npages = (size + GA_PAGE_SIZE - 1) >> GA_PAGE_SHIFT;
		uint32_t old_pages = s->npages;
		bool dirty = false;
		in_place = size > GA_MAX_SMALL && npages <= old_pages;
		if (in_place && npages < old_pages)
			_ga_mheap_shrink_span(s, (uint32_t)npages);
		else if (!in_place && size > GA_MAX_SMALL && npages < UINT32_MAX / 2)
			in_place = extended = _ga_mheap_extend_span(s, (uint32_t)npages, &dirty);
		ga_mcache *c = in_place ? _ga_mcache_get() : NULL;
		if (c) {
			c->large_bytes_alloc += (uint64_t)s->npages << GA_PAGE_SHIFT;
			c->large_bytes_free += (uint64_t)old_pages << GA_PAGE_SHIFT;
		}
	} else if (s->spc == GA_SPANCLASS_TINY) {
		in_place = size <= old;
	} else {
		in_place = size <= GA_MAX_SMALL && _ga_class_of(size) == s->spc;
	}
	if (in_place) {
		GA_EMIT(.kind = GA_EV_FREE, .cls = s->spc == GA_SPANCLASS_TINY ? 2 : s->spc, .flags = GA_EVF_REALLOC,
		        .addr = (uintptr_t)ptr, .span_id = s->id, .aux = s->spc == GA_SPANCLASS_TINY);
		GA_EMIT(.kind = s->spc == 0 ? GA_EV_ALLOC_LARGE
		                            : (s->spc == GA_SPANCLASS_TINY ? GA_EV_ALLOC_TINY : GA_EV_ALLOC_SMALL),
		        .cls = s->spc == GA_SPANCLASS_TINY ? 2 : s->spc, .flags = GA_EVF_REALLOC, .size = size,
		        .addr = (uintptr_t)ptr,
		        .span_id = s->id, .npages = s->spc == 0 ? s->npages : 0,
		        .aux = s->spc == 0 && extended ? s->scav_pages : 0);
		if (s->spc == 0)
			s->req_size = size;
		return ptr;
	}
	void *q = ga_malloc(size);
	if (!q)
		return NULL;
	memcpy(q, ptr, old < size ? old : size);
	free_impl(ptr, "realloc");
	return q;
}
