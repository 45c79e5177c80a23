/* ga_internal.h: the allocator's shared internal structures and functions.
 * See malloc.c for the overview of the design.
 *
 * Lock order, outermost first (held locks never nest the other way):
 *   mcentral[spc].lock  ->  mheap.lock  ->  fixalloc.lock
 * The free path takes no lock unless a span changes list (see mspan.c).
 * These are ga_locks: skipped, and the shared words' read-modify-writes
 * made plain, while the process is single-threaded (stmode.c).
 */
#ifndef GA_INTERNAL_H
#define GA_INTERNAL_H

#include "ga.h"

#include <pthread.h>
#include <stdatomic.h>

#define GA_LIKELY(x) __builtin_expect(!!(x), 1)
#define GA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GA_NOINLINE __attribute__((noinline))
#define GA_ALWAYS_INLINE __attribute__((always_inline)) inline
#define GA_HIDDEN __attribute__((visibility("hidden")))

/* Population count.  Baseline x86-64 guarantees no POPCNT instruction and
 * libgcc's __popcountdi2 is out of line, so on x86-64 the instruction is
 * used when CPUID says the CPU has it (ga_have_popcnt, set once at start-up
 * by _ga_options_init) and the SWAR bit count otherwise.  Counting a
 * 1024-slot span's freed bits is 16 words: ~50 instructions instead of
 * ~200 (the count is on the free path of a span no cache holds). */
extern bool ga_have_popcnt __attribute__((visibility("hidden")));
static inline unsigned _ga_popcount64(uint64_t x)
{
#if defined(__POPCNT__) || !defined(__x86_64__)
	return (unsigned)__builtin_popcountll(x);
#else
	if (GA_LIKELY(ga_have_popcnt)) {
		uint64_t r;
		__asm__("popcntq %1, %0" : "=r"(r) : "r"(x));
		return (unsigned)r;
	}
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
#endif
}

/* Relaxed/acquire/release access to plain fields shared between threads. */
#define GA_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define GA_LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define GA_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define GA_STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* A lock of the heap's shared structures (mcentral, mheap, fixalloc): a
 * mutex, which the single-threaded mode skips (stmode.c, _ga_lock). */
typedef struct ga_lock {
	pthread_mutex_t m;
	bool elided; /* T0 holds it without the mutex: only T0 writes it */
} ga_lock;
#define GA_LOCK_INITIALIZER {PTHREAD_MUTEX_INITIALIZER, false}

enum {
	GA_ARENA_SHIFT = 26,                       /* 64 MiB arenas, as Go on 64-bit Linux */
	GA_ARENA_BYTES = 1 << GA_ARENA_SHIFT,
	GA_PAGES_PER_ARENA = GA_ARENA_BYTES / GA_PAGE_SIZE, /* 8192 */
	GA_ARENA_INDEX_BITS = 47 - GA_ARENA_SHIFT, /* user space is 47 bits on x86-64 */
	GA_ARENA_L2_BITS = 12,                     /* a leaf of the arena map: 256 GiB, 32 KiB */
	GA_ARENA_L1_BITS = GA_ARENA_INDEX_BITS - GA_ARENA_L2_BITS,
	GA_CHUNK_PAGES = 512,                      /* Go's pallocChunkPages: 4 MiB */
	GA_CHUNKS_PER_ARENA = GA_PAGES_PER_ARENA / GA_CHUNK_PAGES,
	GA_ARENA_WORDS = GA_PAGES_PER_ARENA / 64,
	GA_SPANCLASS_TINY = GA_CLASSES,            /* class-2 spans carved into tiny blocks */
	GA_SPANCLASSES = GA_CLASSES + 1,
	GA_MAX_NELEMS = GA_PAGE_SIZE / 8,          /* 1024 objects in a class-1 span */
	GA_BITS_WORDS = GA_MAX_NELEMS / 64,
};

/* Span states.  A small span is CACHED (owned by one mcache; its owner-private
 * fields are written only by that thread), or on its mcentral's PARTIAL or
 * FULL list (fields protected by that mcentral's lock).  LARGE spans hold one
 * class-0 object.  FREE spans are back in the page heap. */
enum ga_span_state { GA_SPAN_FREE = 0, GA_SPAN_CACHED, GA_SPAN_PARTIAL, GA_SPAN_FULL, GA_SPAN_LARGE };

/* Tiny-block metadata: two words per 16-byte block of a tiny span,
 * tiny_words[2*i] (A, "allocated") and tiny_words[2*i+1] (F, "freed").
 *   A bits 0..15   an object starts at this byte offset
 *   A bits 16..30  an object ends at byte offset (bit - 16); an object with
 *                  no end bit at or after its start ends at offset 15
 *   F bits 0..15   the object starting at this offset has been freed
 *   F bit 31       the block is no thread's current block (retired)
 * A is written only by the thread whose current block it is, with plain
 * (relaxed) stores, and is final once F's retired bit is set: a tiny
 * allocation makes no atomic read-modify-write.  F is changed only by
 * atomic OR (a free, or the owner retiring the block); the OR that leaves
 * F's freed bits equal to A's start bits with the retired bit set is the
 * last one, and whoever made it returns the block to its span. */
#define GA_TINY_RETIRED (1u << 31)
#define GA_TINY_STARTS 0xffffu

typedef struct ga_mspan {
	/* First cache line: every field a free reads, written only when the
	 * span changes hands or state (fixalloc hands out 64-byte-aligned
	 * structs).  A free of an object in a span no cache holds touches one
	 * line of the struct, and a free into a span another thread is
	 * allocating from does not share a line with that thread's writes. */
	uintptr_t base;   /* a free struct's free-list link overlays it */
	uint8_t spc;      /* span class: 0 large, 1..67, GA_SPANCLASS_TINY */
	uint8_t cls;      /* size class (2 for tiny spans) */
	uint8_t state;    /* atomic: enum ga_span_state */
	uint8_t needzero; /* owner/lock: some free slot may be dirty */
	uint32_t divmagic; /* idx = (off * divmagic) >> 32, Go's divMul */
	uint32_t elemsize;
	uint32_t nelems;
	/* Bitmaps (off-heap, fixalloc.c): alloc_bits and freed_bits share
	 * lines, local_bits (the owner's) starts a line of its own. */
	uint64_t *alloc_bits; /* 1 = allocated at the last sweep (listed spans: exactly the allocated slots) */
	uint64_t *local_bits; /* owner only: freed by the owner since the last sweep */
	uint64_t *freed_bits; /* written by any thread but the owner: _ga_setbit64, freed since the last sweep */
	struct ga_mcache *owner; /* atomic: the caching mcache, NULL when listed */
	uint32_t npages;
	uint16_t reuse_need; /* atomic: listed FULL spans, the freed bits that make it PARTIAL (mcentral.c) */
	uint16_t nfreed_st;  /* FULL spans: freed bits, as mcentral last counted them plus T0's frees since, in the single-threaded mode (mspan.c) */

	/* Second line: the owner's allocation state (written on every
	 * allocation) and the rest.  Owner-private while CACHED, mcentral
	 * lock while listed; freeindex is read by any thread (acquire,
	 * paired with the sweep's release store) to check a free when
	 * alloc_bits says the slot is free. */
	uint64_t alloc_cache __attribute__((aligned(64))); /* ~alloc_bits shifted so bit 0 is freeindex */
	uint32_t freeindex;   /* objects below it are all allocated */
	int32_t alloc_count;  /* objects allocated as of the last sweep + since */
	uint32_t scav_pages;  /* pages of the last mheap allocation that had been released */
	uint64_t id;          /* unique per span allocation, for events */
	uint32_t *tiny_words; /* tiny spans: two words per block (above) */

	uint64_t qpos;           /* PARTIAL spans, mcentral lock: place in the class's queue */
	uint64_t req_size;       /* large spans: requested bytes */
} ga_mspan;
_Static_assert(__builtin_offsetof(ga_mspan, alloc_cache) == 64, "the free path's fields fill line 0");
_Static_assert(sizeof(ga_mspan) == 128, "two lines");

/* Per-thread cache (Go's mcache is per P; ours is per thread). */
typedef struct ga_mcache {
	ga_mspan *alloc[GA_SPANCLASSES]; /* never NULL: &ga_empty_span when none */
	uintptr_t tiny;                  /* current tiny block or 0 */
	uint32_t tinyoffset;
	uint32_t *tiny_word;             /* A word of the current block (this thread its only writer) */
	ga_mspan *tiny_span;
	uint32_t tiny_count;              /* objects placed in the current block */
	bool dead;
	/* Statistics, written by the owner only. */
	uint64_t nmalloc[GA_SPANCLASSES];
	uint64_t nfree[GA_SPANCLASSES];
	uint64_t tiny_allocs;
	uint64_t large_allocs, large_frees, large_bytes_alloc, large_bytes_free;
	struct ga_mcache *all_next, *all_prev; /* ga_mcaches list: ga_mcaches_lock */
} ga_mcache;

typedef struct ga_mcentral {
	ga_lock lock;
	/* PARTIAL spans, a FIFO ring of pointers (mcentral.c); FULL spans are
	 * on no list.  Span i of the queue is q[i & (qcap - 1)], qhead <= i <
	 * qtail; NULL there for one that left it out of turn. */
	ga_mspan **q;
	uint64_t qhead, qtail;
	uint64_t qcap;
	uint64_t nspans;
} __attribute__((aligned(64))) ga_mcentral;

/* One arena's metadata (Go's heapArena), off-heap. */
typedef struct ga_arena {
	uintptr_t base;
	uint32_t reserved_pages;               /* pages of its range reserved (prefix; all but when address space is short) */
	uint32_t mapped_pages;                 /* pages made available (prefix of the reserved ones) */
	uint32_t free_pages;                   /* free pages among the mapped ones */
	ga_mspan *spans[GA_PAGES_PER_ARENA];   /* atomic: page -> in-use span */
	uint64_t alloc[GA_ARENA_WORDS];        /* 1 = page in use (or not yet mapped) */
	uint64_t scav[GA_ARENA_WORDS];         /* 1 = free page returned to the OS (zero) */
	uint16_t sum_start[GA_CHUNKS_PER_ARENA]; /* free pages at the chunk's start */
	uint16_t sum_max[GA_CHUNKS_PER_ARENA];   /* longest free run in the chunk */
	uint16_t sum_end[GA_CHUNKS_PER_ARENA];   /* free pages at the chunk's end */
} ga_arena;

typedef struct ga_mheap {
	ga_lock lock;
	ga_arena **arenas;       /* sorted by base; lock */
	uint32_t narenas, cap_arenas;
	ga_arena *cur;           /* arena being mapped in 4 MiB steps */
	uintptr_t hint;          /* next arena address to try (Go's arena hints) */
	uint64_t pages_inuse;    /* lock */
	uint64_t pages_sys;      /* lock: mapped pages */
	uint64_t pages_released; /* lock: free pages with the scav bit */
	uint64_t next_span_id;   /* lock */
	uint64_t goal_pages;     /* lock: the heap goal (Go's NextGC), scavenge.c */
	uint64_t cycle_pages;    /* lock: pages handed out since the goal was set */
	uint64_t cycle_budget;   /* lock: ... after which the next cycle starts (GOGC% of the heap then) */
} ga_mheap;

extern GA_HIDDEN ga_mheap ga_heap;
extern GA_HIDDEN ga_mcentral ga_central[GA_SPANCLASSES];
/* The arena map, two levels: address >> 38 -> leaf, (address >> 26) % 4096
 * -> arena.  The first level is static and small; leaves are made as
 * arenas appear (a flat map would reserve 16 MiB of address space, which a
 * process under a small RLIMIT_AS cannot spare).  Atomic loads; written
 * under ga_heap.lock. */
extern GA_HIDDEN ga_arena **ga_arena_l1[1u << GA_ARENA_L1_BITS];
extern GA_HIDDEN ga_mspan ga_empty_span;
extern GA_HIDDEN ga_options ga_opts;
extern GA_HIDDEN const uint8_t *ga_size_to_class8;
extern GA_HIDDEN bool ga_inited;

/* Observer. */
extern GA_HIDDEN bool ga_observe_on;
GA_HIDDEN void _ga_emit_slow(const ga_event *ev);
#define GA_EMIT(...)                                          \
	do {                                                      \
		if (GA_UNLIKELY(GA_LOAD(&ga_observe_on))) {           \
			ga_event ev_ = {__VA_ARGS__};                     \
			_ga_emit_slow(&ev_);                              \
		}                                                     \
	} while (0)

/* stmode.c: the single-threaded mode (see there).  The helpers below are
 * the only read-modify-writes of metadata that other threads also write:
 * plain on T0 while no other thread has used the heap, atomic otherwise. */
extern GA_HIDDEN bool ga_mt;
extern GA_HIDDEN bool ga_mt_ready;
extern GA_HIDDEN int ga_st_busy;
extern GA_HIDDEN __thread bool ga_tls_t0 __attribute__((tls_model("initial-exec")));
/* Tests only (test_stmode): when nonzero, one in 16 of T0's plain
 * read-modify-writes spins this many rounds inside its window, to hold it
 * open while another thread ends the mode.  A spin rather than a call, so
 * the free path needs no stack frame. */
extern GA_HIDDEN unsigned ga_st_test_spin;
extern GA_HIDDEN unsigned ga_st_test_calls;
static GA_ALWAYS_INLINE void _ga_st_test_hold(void)
{
	if (GA_UNLIKELY(GA_LOAD(&ga_st_test_spin) != 0) && (++ga_st_test_calls & 15) == 0)
		for (unsigned k = GA_LOAD(&ga_st_test_spin); k; k--)
			__asm__ volatile("" ::: "memory");
}
GA_HIDDEN void _ga_stmode_init(void);
GA_HIDDEN void _ga_stmode_new_cache(void);
GA_HIDDEN void _ga_stmode_fork_child(void);
GA_HIDDEN void _ga_go_mt(void);
#define GA_COMPILER_BARRIER() __asm__ volatile("" ::: "memory")

/* A thread that is not T0 is about to act on the heap: leave the mode. */
static inline void _ga_stmode_check(void)
{
	if (GA_UNLIKELY(!GA_LOAD_ACQ(&ga_mt_ready)) && !ga_tls_t0)
		_ga_go_mt();
}

/* Open one of T0's windows (stmode.c): true when the mode is on and the
 * caller, T0, may make plain accesses to shared heap metadata until
 * _ga_st_leave; false when it must take the atomic or locked path (after
 * _ga_stmode_check, if it is not T0). */
static GA_ALWAYS_INLINE bool _ga_st_enter(void)
{
	if (ga_tls_t0 && !GA_LOAD(&ga_mt)) {
		GA_STORE(&ga_st_busy, ga_st_busy + 1);
		GA_COMPILER_BARRIER();
		if (GA_LIKELY(!GA_LOAD(&ga_mt)))
			return true;
		GA_STORE_REL(&ga_st_busy, ga_st_busy - 1);
	}
	return false;
}
static GA_ALWAYS_INLINE void _ga_st_leave(void)
{
	GA_COMPILER_BARRIER();
	GA_STORE_REL(&ga_st_busy, ga_st_busy - 1);
}

#define GA_ST_RMW_R(type, rtype, name, plain_expr, plain_ret, atomic_call)      \
	static inline rtype name(type *w, type v)                               \
	{                                                                       \
		if (_ga_st_enter()) {                                           \
			type old = GA_LOAD(w);                                  \
			_ga_st_test_hold();                                     \
			GA_STORE(w, (type)(plain_expr));                        \
			_ga_st_leave();                                         \
			return (plain_ret);                                     \
		}                                                               \
		_ga_stmode_check();                                             \
		return atomic_call;                                             \
	}
#define GA_ST_RMW(type, name, plain_expr, atomic_call) \
	GA_ST_RMW_R(type, type, name, plain_expr, old, atomic_call)
/* Take and release a heap lock.  On T0 in the single-threaded mode the
 * mutex is skipped and the critical section is a window instead: a thread
 * ending the mode waits for it, so nobody else is inside. */
static inline void _ga_lock(ga_lock *l)
{
	if (_ga_st_enter()) {
		l->elided = true;
		return;
	}
	_ga_stmode_check();
	pthread_mutex_lock(&l->m);
}
/* _ga_lock without waiting, for a caller that may have interrupted the
 * heap on its own thread (a signal handler's _exit): false when the lock is
 * held, or when T0's window in the single-threaded mode is open. */
static inline bool _ga_trylock(ga_lock *l)
{
	if (ga_tls_t0 && !GA_LOAD(&ga_mt)) {
		if (GA_LOAD(&ga_st_busy))
			return false;
		_ga_lock(l);
		return true;
	}
	_ga_stmode_check();
	return pthread_mutex_trylock(&l->m) == 0;
}
static inline void _ga_unlock(ga_lock *l)
{
	if (l->elided) {
		l->elided = false;
		_ga_st_leave();
		return;
	}
	pthread_mutex_unlock(&l->m);
}

/* Set the single bit v in *w, seq_cst when atomic (mspan.c's Dekker);
 * whether it was set already.  One `lock bts`, where a fetch-or whose old
 * value is used whole is a compare-exchange loop. */
GA_ST_RMW_R(uint64_t, bool, _ga_setbit64, old | v, (old & v) != 0,
            (__atomic_fetch_or(w, v, __ATOMIC_SEQ_CST) & v) != 0)
GA_ST_RMW(uint32_t, _ga_or32, old | v, __atomic_fetch_or(w, v, __ATOMIC_ACQ_REL))
/* *w = v, returning the old value. */
GA_ST_RMW(uint64_t, _ga_xchg64, v, __atomic_exchange_n(w, v, __ATOMIC_ACQ_REL))

/* sizeclass.c */
extern GA_HIDDEN const uint16_t ga_class_to_size[GA_CLASSES];
extern GA_HIDDEN const uint8_t ga_class_to_npages[GA_CLASSES];
extern GA_HIDDEN const uint32_t ga_class_to_divmagic[GA_CLASSES];
extern GA_HIDDEN const uint8_t ga_size_to_class128[];
extern GA_HIDDEN const uint8_t ga_size_to_class8_go[];
extern GA_HIDDEN const uint8_t ga_size_to_class8_csafe[];
GA_HIDDEN void _ga_sizeclass_init(bool go_exact);

static inline unsigned _ga_class_of(size_t size)
{
	if (size <= 1024 - 8)
		return ga_size_to_class8[(size + 7) >> 3];
	return ga_size_to_class128[(size - 1024 + 127) >> 7];
}

/* os.c */
GA_HIDDEN void *_ga_os_reserve(uintptr_t hint, size_t bytes, size_t align);
GA_HIDDEN void _ga_os_unreserve(void *p, size_t bytes);
GA_HIDDEN void *_ga_os_reserve_at(uintptr_t addr, size_t bytes, int *err);
GA_HIDDEN int _ga_os_map(void *p, size_t bytes);
GA_HIDDEN void _ga_os_release(void *p, size_t bytes);
GA_HIDDEN void *_ga_os_alloc_meta(size_t bytes);
GA_HIDDEN _Noreturn void _ga_fatal(const char *call, const char *what, const void *addr);

/* fixalloc.c: off-heap metadata. */
GA_HIDDEN ga_mspan *_ga_fixalloc_span(void);
GA_HIDDEN void _ga_fixfree_span(ga_mspan *s);
GA_HIDDEN bool _ga_span_bits_alloc(ga_mspan *s); /* false: out of memory */
GA_HIDDEN void _ga_span_bits_free(ga_mspan *s);
GA_HIDDEN ga_mcache *_ga_fixalloc_mcache(void);
GA_HIDDEN void _ga_fixfree_mcache(ga_mcache *c);
GA_HIDDEN void _ga_fixalloc_lock_all(void);
GA_HIDDEN void _ga_fixalloc_unlock_all(void);
GA_HIDDEN void _ga_fixalloc_reinit(void);

/* pagealloc.c: per-arena page bitmaps, caller holds ga_heap.lock. */
GA_HIDDEN uintptr_t _ga_pages_find_locked(uint32_t npages, uint32_t align_pages);
GA_HIDDEN uint32_t _ga_pages_alloc_locked(uintptr_t base, uint32_t npages); /* returns scavenged pages in range */
GA_HIDDEN void _ga_pages_free_locked(uintptr_t base, uint32_t npages);
GA_HIDDEN bool _ga_pages_range_free_locked(uintptr_t base, uint32_t npages);
GA_HIDDEN void _ga_pages_set_scav_locked(uintptr_t base, uint32_t npages);
GA_HIDDEN bool _ga_pages_find_dirty_locked(uintptr_t *base, uint32_t *npages, uintptr_t below);
GA_HIDDEN void _ga_pages_grow_locked(ga_arena *a, uint32_t npages);

/* mheap.c */
/* The arena of index i (address >> GA_ARENA_SHIFT, below 2^21), or NULL. */
static inline ga_arena *_ga_arena_at(uintptr_t i)
{
	ga_arena **leaf = GA_LOAD(&ga_arena_l1[i >> GA_ARENA_L2_BITS]);
	if (GA_UNLIKELY(!leaf))
		return NULL;
	return GA_LOAD(&leaf[i & ((1u << GA_ARENA_L2_BITS) - 1)]);
}
static inline ga_arena *_ga_arena_of(uintptr_t p)
{
	if (GA_UNLIKELY(p >> 47))
		return NULL;
	return _ga_arena_at(p >> GA_ARENA_SHIFT);
}
static inline ga_mspan *_ga_span_of(uintptr_t p)
{
	ga_arena *a = _ga_arena_of(p);
	if (GA_UNLIKELY(!a))
		return NULL;
	return GA_LOAD_ACQ(&a->spans[(p >> GA_PAGE_SHIFT) & (GA_PAGES_PER_ARENA - 1)]);
}
GA_HIDDEN ga_mspan *_ga_mheap_alloc_span(uint32_t npages, uint8_t spc, uint32_t align_pages);
GA_HIDDEN void _ga_mheap_free_span(ga_mspan *s, bool announce); /* announce: emit SPAN_FREE */
GA_HIDDEN bool _ga_mheap_shrink_span(ga_mspan *s, uint32_t npages);
GA_HIDDEN bool _ga_mheap_extend_span(ga_mspan *s, uint32_t npages, bool *needzero);
/* The page heap's figures into out; with nowait, false (and nothing read)
 * when its lock is not free at once. */
GA_HIDDEN bool _ga_mheap_stats(ga_heap_stats *out, bool nowait);

/* scavenge.c */
GA_HIDDEN void _ga_scavenge_locked(uint64_t goal_bytes);
GA_HIDDEN void _ga_scavenge_maybe_locked(void);
GA_HIDDEN void _ga_heap_goal_alloc_locked(uint32_t npages);

/* mspan.c */
GA_HIDDEN bool _ga_span_init_small(ga_mspan *s, uint8_t spc); /* false: no memory for its bitmaps */
GA_HIDDEN uint32_t _ga_span_next_free_index(ga_mspan *s);
GA_HIDDEN void _ga_span_sweep(ga_mspan *s);
GA_HIDDEN void _ga_span_recount(ga_mspan *s);
GA_HIDDEN void _ga_span_free_index(ga_mspan *s, uint32_t idx, const void *p, const char *call);
/* Remote frees not swept yet (popcount of freed_bits). */
GA_HIDDEN int32_t _ga_span_nfreed(ga_mspan *s);
/* Most 64-bit words in a span's bitmaps: class 1 (8 B) has 1024 slots. */
#define GA_MAX_BITWORDS 16
GA_HIDDEN _Noreturn void _ga_span_bad_free(ga_mspan *s, uint32_t idx, const void *p, const char *call);

/* Free slot idx of a span the calling thread's mcache owns: no atomic
 * read-modify-write, since only the owner writes local_bits and sweeps. */
static inline void _ga_span_free_local(ga_mspan *s, uint32_t idx, const void *p, const char *call)
{
	uint32_t w = idx >> 6;
	uint64_t bit = 1ull << (idx & 63);
	if (GA_UNLIKELY((idx >= s->freeindex && !(s->alloc_bits[w] & bit)) ||
	                ((s->local_bits[w] | GA_LOAD(&s->freed_bits[w])) & bit)))
		_ga_span_bad_free(s, idx, p, call);
	s->local_bits[w] |= bit;
}
static inline uint32_t _ga_span_next_free_fast(ga_mspan *s)
{
	uint64_t cache = s->alloc_cache;
	if (cache) {
		unsigned bit = (unsigned)__builtin_ctzll(cache);
		uint32_t result = s->freeindex + bit;
		if (GA_LIKELY(result < s->nelems)) {
			uint32_t freeidx = result + 1;
			if ((freeidx & 63) == 0 && freeidx != s->nelems)
				return UINT32_MAX;
			s->alloc_cache = (cache >> bit) >> 1;
			GA_STORE(&s->freeindex, freeidx);
			GA_STORE(&s->alloc_count, s->alloc_count + 1);
			return result;
		}
	}
	return UINT32_MAX;
}
static inline uint32_t _ga_span_index(const ga_mspan *s, uintptr_t p)
{
	return (uint32_t)(((uint64_t)(p - s->base) * s->divmagic) >> 32);
}

/* mcentral.c */
GA_HIDDEN ga_mspan *_ga_mcentral_exchange(ga_mspan *old, uint8_t spc);
GA_HIDDEN void _ga_mcentral_uncache_span(ga_mspan *s);
GA_HIDDEN void _ga_mcentral_free_slow(ga_mspan *s);
GA_HIDDEN void _ga_mcentral_init(void);
GA_HIDDEN void _ga_mcentral_lock_all(void);
GA_HIDDEN void _ga_mcentral_unlock_all(void);

/* mcache.c */
extern GA_HIDDEN __thread ga_mcache *ga_tls_cache __attribute__((tls_model("initial-exec")));
GA_HIDDEN ga_mcache *_ga_mcache_get_slow(void);
GA_HIDDEN ga_mspan *_ga_mcache_refill(ga_mcache *c, uint8_t spc);
GA_HIDDEN void *_ga_small_alloc_slow(ga_mcache *c, uint8_t spc);
GA_HIDDEN void _ga_mcache_init(void);
GA_HIDDEN void *_ga_orphan_enter(void);
GA_HIDDEN void _ga_orphan_leave(void);
extern GA_HIDDEN __thread bool ga_tls_dead __attribute__((tls_model("initial-exec")));
extern GA_HIDDEN uint64_t ga_orphan_nfree[GA_SPANCLASSES];
GA_HIDDEN void _ga_mcache_release_all(ga_mcache *c);
GA_HIDDEN bool _ga_mcaches_sum(ga_heap_stats *out, bool nowait); /* nowait: as _ga_mheap_stats */
GA_HIDDEN void _ga_mcaches_lock(void);
GA_HIDDEN void _ga_mcaches_unlock(void);
GA_HIDDEN void _ga_mcaches_after_fork_child(void);
static inline ga_mcache *_ga_mcache_get(void)
{
	ga_mcache *c = ga_tls_cache;
	if (GA_LIKELY(c != NULL))
		return c;
	return _ga_mcache_get_slow();
}

/* tiny.c */
/* A tiny request (size < 16; 0 counts as 1), cleared if zero; NULL and
 * errno ENOMEM when out of memory. */
GA_HIDDEN void *_ga_tiny_alloc(ga_mcache *c, size_t size, bool zero);
GA_HIDDEN void _ga_tiny_free(ga_mspan *s, uintptr_t p, const char *call);
GA_HIDDEN size_t _ga_tiny_size(ga_mspan *s, uintptr_t p, const char *call);
GA_HIDDEN void _ga_tiny_retire(ga_mcache *c);

/* options.c */
GA_HIDDEN void _ga_options_init(void);
GA_HIDDEN void _ga_init_slow(void);
static inline void _ga_ensure_init(void)
{
	if (GA_UNLIKELY(!GA_LOAD_ACQ(&ga_inited)))
		_ga_init_slow();
}

/* print.c: formatting into caller buffers, never allocating. */
typedef struct ga_buf {
	char *p;
	size_t len, cap;
} ga_buf;
GA_HIDDEN void _ga_buf_str(ga_buf *b, const char *s);
GA_HIDDEN void _ga_buf_u64(ga_buf *b, uint64_t v, int width);
GA_HIDDEN void _ga_buf_hex(ga_buf *b, uint64_t v);
GA_HIDDEN void _ga_buf_bytes(ga_buf *b, uint64_t v, int width);
GA_HIDDEN void _ga_buf_pad(ga_buf *b, const char *s, int width);
GA_HIDDEN void _ga_write_all(int fd, const char *p, size_t n);

#endif
