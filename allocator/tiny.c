/* tiny.c: the tiny allocator (Go's tiny allocator, malloc.go): requests under
 * 16 bytes are packed into the thread's current 16-byte block (a class-2 slot
 * of a tiny span), and a new block replaces the current one only when it has
 * more room left.  See malloc.c for the overview.
 *
 * A C program frees tiny objects one by one, so each block has two metadata
 * words (ga_internal.h: GA_TINY_*): where its objects start and end, written
 * only by the thread whose current block it is, and which of them have been
 * freed and whether the block is still current, changed by atomic OR.  The
 * block goes back to its span when the last object is freed and it is no
 * longer current.
 *
 * Alignment: Go-exact mode uses Go's rule (8 if size%8==0, 4 if size%4==0,
 * 2 if even, else 1); C-safe mode aligns to the largest power of two not
 * above the size, which is what C17 owes an object of that size.
 *
 * Invariant: objects in a block never overlap and are placed in increasing
 * address order; an object's bytes are [start, end], so malloc_usable_size
 * of a tiny object is exactly its requested size.
 */
#include "ga_internal.h"

#include <errno.h>
#include <string.h>

static inline uint32_t tiny_align(size_t size)
{
	if (ga_opts.go_exact) {
		if ((size & 7) == 0)
			return 8;
		if ((size & 3) == 0)
			return 4;
		if ((size & 1) == 0)
			return 2;
		return 1;
	}
	return 1u << (31 - __builtin_clz((unsigned)size));
}

static inline uint32_t obj_bits(uint32_t off, uint32_t size)
{
	uint32_t end = off + size - 1;
	return (1u << off) | (end < 15 ? 1u << (16 + end) : 0);
}

/* Offset of the last byte of the object starting at off. */
static inline uint32_t obj_end(uint32_t word, uint32_t off)
{
	uint32_t ends = (word >> 16) & 0x7fff;
	uint32_t m = ends & ~((1u << off) - 1);
	return m ? (uint32_t)__builtin_ctz(m) : 15;
}

static void *tiny_alloc(ga_mcache *c, size_t size)
{
	uint32_t a = tiny_align(size);
	uint32_t off = (c->tinyoffset + a - 1) & ~(a - 1);
	if (off + size <= GA_TINY_SIZE && c->tiny) {
		uintptr_t p = c->tiny + off;
		c->tinyoffset = off + (uint32_t)size;
		GA_STORE(c->tiny_word, GA_LOAD(c->tiny_word) | obj_bits(off, (uint32_t)size)); /* its only writer */
		c->tiny_allocs++;
		c->tiny_count++;
		GA_EMIT(.kind = GA_EV_ALLOC_TINY, .cls = 2, .size = size, .addr = p,
		        .span_id = c->tiny_span->id, .aux = off);
		return (void *)p;
	}
	/* A new block (Go: c.alloc[tinySpanClass]). */
	ga_mspan *s = c->alloc[GA_SPANCLASS_TINY];
	uint32_t idx = _ga_span_next_free_fast(s);
	uintptr_t blk;
	if (GA_LIKELY(idx != UINT32_MAX)) {
		blk = s->base + (uintptr_t)idx * GA_TINY_SIZE;
	} else {
		blk = (uintptr_t)_ga_small_alloc_slow(c, GA_SPANCLASS_TINY);
		if (!blk)
			return NULL;
		s = c->alloc[GA_SPANCLASS_TINY];
		idx = _ga_span_index(s, blk);
	}
	c->nmalloc[GA_SPANCLASS_TINY]++;
	bool keep = size < c->tinyoffset || c->tiny == 0;
	uint32_t *word = &s->tiny_words[2 * idx];
	uint32_t bits = obj_bits(0, (uint32_t)size);
	/* The block was free: nobody else reads or writes its words now. */
	GA_STORE(&word[0], bits);
	GA_STORE(&word[1], keep ? 0 : GA_TINY_RETIRED);
	GA_EMIT(.kind = GA_EV_TINY_OPEN, .cls = 2, .addr = blk, .span_id = s->id, .aux = keep);
	if (keep) {
		_ga_tiny_retire(c);
		c->tiny = blk;
		c->tinyoffset = (uint32_t)size;
		c->tiny_word = word;
		c->tiny_span = s;
		c->tiny_count = 1;
	}
	c->tiny_allocs++;
	GA_EMIT(.kind = GA_EV_ALLOC_TINY, .cls = 2, .size = size, .addr = blk, .span_id = s->id, .aux = 0);
	return (void *)blk;
}

void *_ga_tiny_alloc(ga_mcache *c, size_t size, bool zero)
{
	void *p = tiny_alloc(c, size ? size : 1);
	if (GA_UNLIKELY(!p))
		errno = ENOMEM;
	else if (zero)
		memset(p, 0, size);
	return p;
}

/* The block's last object is gone and it is no thread's current block:
 * back to its span. */
static void tiny_block_free(ga_mcache *c, ga_mspan *s, uint32_t idx, uintptr_t blk, const char *call)
{
	if (c)
		c->nfree[GA_SPANCLASS_TINY]++;
	else
		__atomic_fetch_add(&ga_orphan_nfree[GA_SPANCLASS_TINY], 1, __ATOMIC_RELAXED);
	GA_EMIT(.kind = GA_EV_FREE, .cls = 2, .addr = blk, .span_id = s->id, .flags = GA_EVF_TINY_SPAN);
	_ga_span_free_index(s, idx, (void *)blk, call);
}

/* The current block stops being current; back to the span if it is empty. */
void _ga_tiny_retire(ga_mcache *c)
{
	if (!c->tiny)
		return;
	uintptr_t blk = c->tiny;
	ga_mspan *s = c->tiny_span;
	uint32_t *word = c->tiny_word;
	uint32_t starts = GA_LOAD(word) & GA_TINY_STARTS;
	GA_EMIT(.kind = GA_EV_TINY_RETIRE, .cls = 2, .addr = blk, .span_id = s->id, .aux = c->tiny_count);
	c->tiny = 0;
	c->tinyoffset = 0;
	c->tiny_word = NULL;
	c->tiny_span = NULL;
	c->tiny_count = 0;
	uint32_t old = _ga_or32(&word[1], GA_TINY_RETIRED);
	if ((old & GA_TINY_STARTS) == starts)
		tiny_block_free(c, s, _ga_span_index(s, blk), blk, "free");
}

void _ga_tiny_free(ga_mspan *s, uintptr_t p, const char *call)
{
	uint32_t idx = _ga_span_index(s, p);
	uintptr_t blk = s->base + (uintptr_t)idx * GA_TINY_SIZE;
	uint32_t off = (uint32_t)(p - blk);
	uint32_t *word = &s->tiny_words[2 * idx];
	uint32_t bit = 1u << off;
	if (!(GA_LOAD(&word[0]) & bit))
		_ga_fatal(call, "invalid pointer (not a live tiny object, or already freed)", (void *)p);
	uint32_t old = _ga_or32(&word[1], bit);
	if (old & bit)
		_ga_fatal(call, "double free", (void *)p);
	GA_EMIT(.kind = GA_EV_FREE, .cls = 2, .addr = p, .span_id = s->id, .aux = 1);
	/* Retired: A is final (the owner's OR released it, ours acquired it). */
	if ((old & GA_TINY_RETIRED) && ((old | bit) & GA_TINY_STARTS) == (GA_LOAD(&word[0]) & GA_TINY_STARTS))
		tiny_block_free(ga_tls_cache, s, idx, blk, call);
}

size_t _ga_tiny_size(ga_mspan *s, uintptr_t p, const char *call)
{
	uint32_t idx = _ga_span_index(s, p);
	uint32_t off = (uint32_t)(p - (s->base + (uintptr_t)idx * GA_TINY_SIZE));
	uint32_t aw = GA_LOAD(&s->tiny_words[2 * idx]);
	uint32_t fw = GA_LOAD(&s->tiny_words[2 * idx + 1]);
	if (!(aw & (1u << off)) || (fw & (1u << off)))
		_ga_fatal(call, "invalid pointer (not a live tiny object)", (void *)p);
	return obj_end(aw, off) - off + 1;
}
