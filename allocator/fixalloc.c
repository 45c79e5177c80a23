/* fixalloc.c: off-heap metadata (Go's fixalloc): span structs, span bitmaps
 * and mcache structs.  Memory comes from the OS in 1 MiB slabs and is never
 * returned, so a stale span pointer always points at some span struct (the
 * free path relies on that, see mspan.c).  Freed objects go on free lists.
 *
 * Invariant: every list and slab here is protected by fix.lock, which is the
 * innermost lock (taken under mheap.lock, never the other way).
 */
#include "ga_internal.h"

#include <string.h>

enum { SLAB_BYTES = 1 << 20 };

typedef struct free_node {
	struct free_node *next;
} free_node;

static struct {
	ga_lock lock;
	char *slab, *slab_end;
	free_node *spans;
	free_node *mcaches;
	free_node *bits[GA_SPANCLASSES]; /* bitmap blocks sized per span class */
} fix = {.lock = GA_LOCK_INITIALIZER};

static void *fix_carve_locked(size_t bytes)
{
	bytes = (bytes + 63) & ~(size_t)63;
	if (fix.slab == NULL || (size_t)(fix.slab_end - fix.slab) < bytes) {
		size_t n = bytes > SLAB_BYTES ? bytes : SLAB_BYTES;
		char *p = _ga_os_alloc_meta(n);
		if (!p)
			return NULL;
		fix.slab = p;
		fix.slab_end = p + n;
	}
	void *r = fix.slab;
	fix.slab += bytes;
	return r;
}

static void *fix_alloc(free_node **list, size_t bytes)
{
	_ga_lock(&fix.lock);
	void *r = *list;
	if (r)
		*list = GA_LOAD(&((free_node *)r)->next);
	else
		r = fix_carve_locked(bytes);
	_ga_unlock(&fix.lock);
	return r;
}

static void fix_free(free_node **list, void *p)
{
	_ga_lock(&fix.lock);
	/* Atomic: a freer may still read a released span's bitmap words
	 * (mspan.c), and the link overlays the first of them. */
	GA_STORE(&((free_node *)p)->next, *list);
	*list = p;
	_ga_unlock(&fix.lock);
}

/* Span structs are recycled but never unmapped; the state byte of a recycled
 * struct stays FREE until the heap hands it out again. */
ga_mspan *_ga_fixalloc_span(void)
{
	ga_mspan *s = fix_alloc(&fix.spans, sizeof(ga_mspan));
	if (s) {
		GA_STORE(&s->state, (uint8_t)GA_SPAN_FREE);
		GA_STORE(&s->owner, NULL);
		s->local_bits = NULL;
		/* read late: see _ga_span_bits_alloc */
		__atomic_store_n(&s->alloc_bits, NULL, __ATOMIC_RELEASE);
		__atomic_store_n(&s->freed_bits, NULL, __ATOMIC_RELEASE);
		s->tiny_words = NULL;
	}
	return s;
}

void _ga_fixfree_span(ga_mspan *s)
{
	/* The free-list link overlays `base`; state and spc stay readable. */
	fix_free(&fix.spans, s);
}

/* A span's bitmap block: alloc and freed words (read by freers, the freed
 * ones written by them), then from the next line the owner's local words,
 * then for tiny spans the block words.  Bytes and the local words' offset
 * in words. */
static size_t bits_bytes(uint8_t spc, size_t *local_off)
{
	uint32_t nelems = ga_class_nelems(spc == GA_SPANCLASS_TINY ? 2 : spc);
	size_t words = (nelems + 63) / 64;
	size_t shared = (2 * words * sizeof(uint64_t) + 63) & ~(size_t)63;
	size_t bytes = shared + words * sizeof(uint64_t);
	if (spc == GA_SPANCLASS_TINY)
		bytes += 2 * nelems * sizeof(uint32_t);
	*local_off = shared / sizeof(uint64_t);
	return bytes;
}

/* Give a small span its alloc/freed/local bitmaps (and tiny words), all
 * zero; false when the OS has no memory for them. */
bool _ga_span_bits_alloc(ga_mspan *s)
{
	size_t local_off;
	size_t bytes = bits_bytes(s->spc, &local_off);
	uint64_t *w = fix_alloc(&fix.bits[s->spc], bytes);
	if (!w)
		return false;
	size_t words = (s->nelems + 63) / 64;
	/* A freer that raced with this buffer's previous span may still read its
	 * alloc and freed words (_ga_span_free_index, _ga_span_nfreed): they
	 * and the pointers to them are written atomically, the rest plainly. */
	for (size_t i = 0; i < 2 * words; i++)
		__atomic_store_n(&w[i], 0, __ATOMIC_RELAXED);
	memset(w + local_off, 0, bytes - local_off * sizeof *w);
	__atomic_store_n(&s->alloc_bits, w, __ATOMIC_RELEASE);
	__atomic_store_n(&s->freed_bits, w + words, __ATOMIC_RELEASE);
	s->local_bits = w + local_off;
	s->tiny_words = s->spc == GA_SPANCLASS_TINY ? (uint32_t *)(w + local_off + words) : NULL;
	return true;
}

void _ga_span_bits_free(ga_mspan *s)
{
	if (s->alloc_bits)
		fix_free(&fix.bits[s->spc], s->alloc_bits);
	s->local_bits = NULL;
	__atomic_store_n(&s->alloc_bits, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&s->freed_bits, NULL, __ATOMIC_RELEASE);
	s->tiny_words = NULL;
}

ga_mcache *_ga_fixalloc_mcache(void)
{
	ga_mcache *c = fix_alloc(&fix.mcaches, sizeof(ga_mcache));
	if (c)
		memset(c, 0, sizeof *c);
	return c;
}

void _ga_fixfree_mcache(ga_mcache *c)
{
	fix_free(&fix.mcaches, c);
}

/* fork: the mutexes themselves (the caller has left the single-threaded
 * mode's windows behind, see ga_fork_prepare). */
void _ga_fixalloc_lock_all(void)
{
	pthread_mutex_lock(&fix.lock.m);
}

void _ga_fixalloc_unlock_all(void)
{
	pthread_mutex_unlock(&fix.lock.m);
}

void _ga_fixalloc_reinit(void)
{
	pthread_mutex_init(&fix.lock.m, NULL);
	fix.lock.elided = false;
}
