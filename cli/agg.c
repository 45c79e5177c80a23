/* agg.c: the drainer's model of the traced heap (see agg.h).
 *
 * Accounting, in Go's terms, summed over the run's processes:
 *   HeapAlloc    += class size at each small alloc, 16 per tiny block
 *                   opened, whole pages per large object; -= at their frees
 *   requested    += requested bytes of every object, tiny ones included
 *   HeapInuse    += pages of a span when it is created (SPAN_ALLOC, or a
 *                   large object's span), -= when it goes back (SPAN_FREE)
 *   HeapSys      += pages mapped (HEAP_GROW)
 *   HeapReleased += pages mapped (fresh pages count as released, as in Go)
 *                   and pages scavenged; -= released pages a span reuses
 *   HeapIdle      = HeapSys - HeapInuse
 * Tiny blocks are class-2 objects (Go's tinySpanClass); the tiny objects in
 * them add to class 2's requested bytes, not to its object counts.
 * Processes: a forked child starts with a copy of its parent's heap, so its
 * objects and spans add to the classes' live counts (the copies count as
 * spans created); a process that ends, other than the root one, takes its
 * objects out of them and its spans still in use count as released.  So at
 * every event spans_created - spans_released is the spans the run's live
 * processes hold, and no class holds more objects than its spans have room.
 *
 * Finding an object: the model mirrors the heap's own structure, so the hot
 * path does no hashing.  Per process and arena, a page map (page -> span,
 * as mheap's); per span, the requested size of each slot (small spans: one
 * uint16 per slot, size + 1, 0 when free: small objects are at most 32 KiB)
 * or of each byte offset of each tiny block (one nibble per offset, 0 when
 * free).  Memory: 2 bytes per slot of live small spans, 8 per tiny block,
 * freed with the span: the arrays are most of what a free touches, so they
 * are kept small.  Objects that
 * carry a stack id (sites.c) keep it in a second array of the span, made
 * only for spans that hold one: 4 bytes per slot, or per byte of a tiny
 * span (its objects sit at any offset).
 *
 * Ordering: the drainer hands events over in timestamp order within a
 * round; a free may still arrive before its allocation (the two were made
 * on different threads and landed in different rounds), so such a free
 * waits in `pend` and is applied right after its allocation.  An allocation
 * of a slot that is still live means the old object's free is in flight:
 * the old size moves to `shadow` until that free arrives.  Both are rare
 * and hashed.
 */
#include "agg.h"

#include "ga.h"
#include "sites.h"
#include "u64map.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum { PAGE_SHIFT = 13, ARENA_SHIFT = 26, PAGES_PER_ARENA = 1 << (ARENA_SHIFT - PAGE_SHIFT) };

/* In a fork copy's stack arrays, a stack id of an object the parent
 * allocated: the child's frees of those leave the sites' figures alone
 * (sites.c, cli_sites_fork).  Stack ids stay far below 2^31. */
#define STACK_INHERITED 0x80000000u

#define GT_LIKELY_AGG(x) __builtin_expect(!!(x), 1)
#define GT_UNLIKELY_AGG(x) __builtin_expect(!!(x), 0)
/* The per-event path is one function after inlining: calls cost more
 * than the work (prologues were a quarter of its instructions). */
#define AGG_HOT static inline __attribute__((always_inline))

/* The first 64 bytes hold what an object's event reads (spans are
 * allocated on a cache line: span_alloc): one miss per event, not two. */
typedef struct spanv {
	uint64_t base;
	uint16_t *sizes;    /* small: per slot, requested + 1 (at most 32769), 0 when free */
	uint64_t *tiny;     /* tiny: per block, a nibble per offset */
	uint32_t *stacks;   /* stack id per slot (small) or per byte offset (tiny blocks); made
	                       when the first object with a stack lands in the span */
	int64_t live, peak;
	uint32_t id, divmagic, nelems;
	uint8_t cls;
	bool is_tiny;
	bool released;      /* the heap gave it back (SPAN_FREE seen) */
	bool zombie : 1;    /* in cli_agg.zombies: off the page map, events still due */
	bool req_pending : 1; /* a fork copy on cli_agg.reqpend (at req_pend): here, for the
	                         check remember and forget make on every event */
	/* second line: spans' lives and large objects */
	int64_t npages, created_ns;
	uint64_t large_req; /* class 0: the object's requested size */
	int64_t released_ns;
	uint32_t large_stack;
	uint32_t elemsize;
	int pid;
	uint32_t proc;
	uint32_t req_pend;  /* while req_pending: 1 + its index in cli_agg.reqpend */
} spanv;
_Static_assert(offsetof(spanv, npages) == 64, "an event's fields fill the first line");
_Static_assert(GA_MAX_SMALL + 1 <= UINT16_MAX, "a small object's size + 1 fits a slot");

/* A span's memory, on a cache line of its own. */
static spanv *span_alloc(void)
{
	void *p;
	if (posix_memalign(&p, 64, sizeof(spanv)) != 0)
		abort();
	return p;
}

enum { POOL_SPANS = 1024, POOL_ARRAYS = 64 };
#if defined(__SANITIZE_ADDRESS__)
#define AGG_POOL 0 /* ASan builds keep nothing: a span used after it went is still caught */
#else
#define AGG_POOL 1
#endif
typedef struct array_pool {
	void *p[POOL_ARRAYS];
	uint32_t nelems[POOL_ARRAYS];
	int n;
} array_pool;

typedef struct arena_pages {
	spanv *page[PAGES_PER_ARENA];
} arena_pages;

typedef struct pending {
	gt_record rec;
	int64_t t_ns;
	int pid, tid;
} pending;

U64MAP_DEFINE(arenamap, arena_pages *)
/* FIFO queues per address (rare: only when events arrive out of order). */
typedef struct pendq {
	pending *items;
	uint32_t head, n, cap;
} pendq;
typedef struct shadowed {
	uint64_t size;
	uint32_t stack;
	uint32_t span; /* the span id it was allocated in */
} shadowed;
typedef struct sizeq {
	shadowed *items;
	uint32_t head, n, cap;
} sizeq;
U64MAP_DEFINE(sizemap, sizeq)
U64MAP_DEFINE(pendmap, pendq)
U64MAP_DEFINE(spanidmap, spanv *)

#define QPUSH(q, v)                                                                   \
	do {                                                                              \
		if ((q)->head + (q)->n == (q)->cap) {                                         \
			if ((q)->head) {                                                          \
				memmove((q)->items, (q)->items + (q)->head, (q)->n * sizeof *(q)->items); \
				(q)->head = 0;                                                        \
			} else {                                                                  \
				(q)->cap = (q)->cap ? (q)->cap * 2 : 2;                               \
				(q)->items = realloc((q)->items, (q)->cap * sizeof *(q)->items);      \
				if (!(q)->items)                                                      \
					abort();                                                          \
			}                                                                         \
		}                                                                             \
		(q)->items[(q)->head + (q)->n++] = (v);                                       \
	} while (0)

typedef struct cls_acc {
	int64_t allocs, frees, requested, allocated, live_objs, live_bytes, live_req, peak_objs, peak_bytes,
	    spans_created, spans_released, refills;
	int64_t spans_live, spans_peak; /* spans_created - spans_released, and its most */
} cls_acc;

/* Allocations served from a size class, per requested size (0..32768) and
 * whether they went into a tiny block: n[tiny][size] = {allocs, frees}, one
 * cache line touched per event (and a bit in `dirty`, 8 KiB that stay in
 * cache).  Live objects of a size are allocs - frees + adj: adj counts the
 * objects of fork copies in (a child frees its parent's objects; a copy is
 * counted in lazily: cli_agg.reqpend) and those of processes that ended
 * out, as the classes' live counts do.  A size marked dirty since the last
 * cli_agg_take_request_sizes call is one whose row changed. */
typedef struct req_acc {
	int64_t n[2][GA_MAX_SMALL + 1][2];
	int64_t adj[2][GA_MAX_SMALL + 1];
	uint64_t dirty[2][(GA_MAX_SMALL + 64) / 64]; /* sizes counted since that call */
	cli_req_row *rows;
} req_acc;

static inline void req_count(req_acc *q, int tiny, uint64_t size, int freed)
{
	q->n[tiny][size][freed]++;
	q->dirty[tiny][size >> 6] |= 1ull << (size & 63);
}

static void req_live_adj(req_acc *q, int tiny, uint64_t size, int d)
{
	q->adj[tiny][size] += d;
	q->dirty[tiny][size >> 6] |= 1ull << (size & 63);
}

enum { LIVE_OBJS, LIVE_BYTES, LIVE_REQ };

typedef struct procfig {
	int64_t fig[FIG_N]; /* this process's part of the totals */
	int64_t live[CLI_CLASSES][3]; /* and of each class's live figures (LIVE_*) */
	bool ended;
	int pid;            /* for span rows; 0 until known */
} procfig;

struct cli_agg {
	procfig *procs;       /* by proc index */
	uint32_t nprocs;
	int64_t *pf;          /* the current event's process's figures */
	int64_t (*pl)[3];     /* ... and its classes' live figures */
	uint32_t cur_proc;    /* the process pf and pl are of (UINT32_MAX: none) */
	arenamap arenas;      /* (proc << 32 | arena index) + 1 -> page map */
	uint64_t last_akey;   /* a one-entry cache of arenas */
	arena_pages *last_arena;
	sizemap shadow;       /* superseded live objects whose free is in flight */
	pendmap pend;         /* frees waiting for their allocation */
	int64_t npend;        /* frees in pend */
	spanidmap zombies;    /* (proc << 32 | span id): released by the heap, frees still to come */
	cls_acc cls[CLI_CLASSES];
	req_acc *req;         /* allocated apart: 1.5 MiB */
	int64_t fig[FIG_N];
	int64_t peak[FIG_N], peak_t;
	int64_t tiny_blocks, tiny_objs, tiny_bytes;
	int64_t interval, last_sample;
	int64_t last_event_t; /* time of the last event applied */
	bool unsampled;       /* the figures changed since the last sample */
	int64_t (*samples)[1 + FIG_N];
	int nsamples, cap_samples;
	cli_span_row *rows;
	int nrows, cap_rows;
	cli_agg_sink sink;
	void *sink_ctx;
	cli_sites *sites;     /* allocation sites, when stacks are recorded */
	int cur_tid; /* of the event being applied */
	/* Memory of spans gone, kept for the next ones (span_get, array_get):
	 * spans come and go at the program's rate (bench-prodcons makes 128k),
	 * and malloc and free of their parts were 14% of its drainer. */
	spanv *spool[POOL_SPANS];
	int nspool;
	array_pool apool[CLI_CLASSES][2]; /* per class: [0] slot arrays, [1] tiny-block arrays */
	/* Fork copies whose objects are not yet in req->adj.  A copy's objects
	 * join the live counts per requested size when the child first touches
	 * the span or the counts are taken, and a copy the child never touched
	 * leaves with its process without being counted in and out: a shell's
	 * subshell that execs at once copied and uncounted every slot of its
	 * parent's heap (23% of the drainer's CPU samples on a bash script with
	 * a 100k-element array and 300 command substitutions). */
	spanv **reqpend;
	uint32_t nreqpend, cap_reqpend;
};

/* Bytes per object of each class: the allocator's own table (ga.h), copied
 * once so the hot path reads an array. */
static uint32_t class_size[CLI_CLASSES];

cli_agg *cli_agg_new(int64_t sample_interval_ns)
{
	cli_agg *a = calloc(1, sizeof *a);
	if (!a || !arenamap_init(&a->arenas, 16) || !sizemap_init(&a->shadow, 64) || !pendmap_init(&a->pend, 64) ||
	    !spanidmap_init(&a->zombies, 16))
		abort();
	a->req = calloc(1, sizeof *a->req);
	if (!a->req)
		abort();
	a->interval = sample_interval_ns;
	a->last_sample = -sample_interval_ns;
	a->cur_proc = UINT32_MAX;
	for (unsigned c = 0; c < CLI_CLASSES; c++)
		class_size[c] = ga_class_size(c);
	return a;
}

void cli_agg_set_sites(cli_agg *a, cli_sites *s)
{
	a->sites = s;
}

void cli_agg_set_sink(cli_agg *a, cli_agg_sink fn, void *ctx)
{
	a->sink = fn;
	a->sink_ctx = ctx;
}

static inline void out(cli_agg *a, const gt_record *r, int pid, int64_t t_ns, int kind, uint64_t size)
{
	if (a->sink)
		a->sink(a->sink_ctx, r, pid, a->cur_tid, t_ns, kind, size);
}

/* A span's struct: a kept one, or a new one on a cache line of its own. */
static spanv *span_get(cli_agg *a)
{
	return a->nspool ? a->spool[--a->nspool] : span_alloc();
}

/* A zeroed array of nelems items of `size` bytes for a span of class cls. */
static void *array_get(cli_agg *a, uint8_t cls, bool tiny, uint32_t nelems, size_t size)
{
	array_pool *q = &a->apool[cls][tiny];
	if (q->n && q->nelems[q->n - 1] == nelems) {
		void *p = q->p[--q->n];
		memset(p, 0, nelems * size);
		return p;
	}
	void *p = calloc(nelems, size);
	if (!p)
		abort();
	return p;
}

static void array_put(cli_agg *a, uint8_t cls, bool tiny, uint32_t nelems, void *p)
{
	array_pool *q = &a->apool[cls][tiny];
	if (!p)
		return;
	if (!AGG_POOL || q->n == POOL_ARRAYS) {
		free(p);
		return;
	}
	q->p[q->n] = p;
	q->nelems[q->n++] = nelems;
}

static void req_resolve(cli_agg *a, spanv *v);

static void span_destroy(cli_agg *a, spanv *v)
{
	if (v->req_pending)
		req_resolve(a, v); /* as if counted at the fork: only a process's end counts a copy out */
	free(v->stacks);
	array_put(a, v->cls, false, v->nelems, v->sizes);
	array_put(a, v->cls, true, v->nelems, v->tiny);
	if (AGG_POOL && a->nspool < POOL_SPANS)
		a->spool[a->nspool++] = v;
	else
		free(v);
}

/* Whether page p of the arena map stored under key is span v's first page
 * (a span is listed once, though every page of it points at it). */
static inline bool first_page(const spanv *v, uint64_t key, uint32_t p)
{
	return ((v->base >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)) == p &&
	       (v->base >> ARENA_SHIFT) == ((key - 1) & 0xffffffffull);
}

/* A span about to be destroyed leaves its pages of this arena (from its
 * first): the loops that destroy spans at their first page go on to read
 * the following pages, which must not point at freed memory. */
static void unlink_span_pages(arena_pages *ap, uint32_t first, const spanv *v)
{
	for (uint32_t q = first; q < PAGES_PER_ARENA && ap->page[q] == v; q++)
		ap->page[q] = NULL;
}

/* Forget the pages of spans that start in another arena (a large span can
 * cross from one arena into the next).  Done for every arena before any
 * span is destroyed: the arena a span starts in destroys it, and a later
 * arena must not read it through its own pages. */
static void unlink_foreign_pages(arena_pages *ap, uint64_t key)
{
	for (uint32_t p = 0; p < PAGES_PER_ARENA; p++) {
		spanv *v = ap->page[p];
		if (v && (v->base >> ARENA_SHIFT) != ((key - 1) & 0xffffffffull))
			ap->page[p] = NULL;
	}
}

void cli_agg_free(cli_agg *a)
{
	if (!a)
		return;
	while (a->nreqpend) /* nothing reads the counts any more */
		a->reqpend[--a->nreqpend]->req_pending = false;
	free(a->reqpend);
	for (uint64_t i = 0; i <= a->arenas.mask; i++)
		if (a->arenas.slots[i].key)
			unlink_foreign_pages(a->arenas.slots[i].val, a->arenas.slots[i].key);
	for (uint64_t i = 0; i <= a->arenas.mask; i++) {
		arena_pages *ap = a->arenas.slots[i].val;
		if (!a->arenas.slots[i].key)
			continue;
		for (uint32_t p = 0; p < PAGES_PER_ARENA; p++) {
			spanv *v = ap->page[p];
			if (v && first_page(v, a->arenas.slots[i].key, p)) {
				unlink_span_pages(ap, p, v); /* its other pages must not read it when it is gone */
				span_destroy(a, v);
			}
		}
		free(ap);
	}
	arenamap_destroy(&a->arenas);
	for (uint64_t i = 0; i <= a->shadow.mask; i++)
		if (a->shadow.slots[i].key)
			free(a->shadow.slots[i].val.items);
	for (uint64_t i = 0; i <= a->pend.mask; i++)
		if (a->pend.slots[i].key)
			free(a->pend.slots[i].val.items);
	for (uint64_t i = 0; i <= a->zombies.mask; i++)
		if (a->zombies.slots[i].key)
			span_destroy(a, a->zombies.slots[i].val);
	sizemap_destroy(&a->shadow);
	pendmap_destroy(&a->pend);
	spanidmap_destroy(&a->zombies);
	while (a->nspool)
		free(a->spool[--a->nspool]);
	for (int c = 0; c < CLI_CLASSES; c++)
		for (int t = 0; t < 2; t++)
			while (a->apool[c][t].n)
				free(a->apool[c][t].p[--a->apool[c][t].n]);
	free(a->samples);
	free(a->rows);
	free(a->procs);
	if (a->req)
		free(a->req->rows);
	free(a->req);
	free(a);
}

static inline uint64_t obj_key(uint32_t proc, uint64_t addr)
{
	return ((uint64_t)proc << 48) | (addr & 0xffffffffffffull);
}

/* The page map of proc's arena holding addr; created when create. */
AGG_HOT arena_pages *arena_of(cli_agg *a, uint32_t proc, uint64_t addr, bool create)
{
	uint64_t key = (((uint64_t)proc << 32) | (addr >> ARENA_SHIFT)) + 1;
	if (GT_LIKELY_AGG(key == a->last_akey))
		return a->last_arena;
	arena_pages **slot = arenamap_get(&a->arenas, key), *ap = slot ? *slot : NULL;
	if (!ap && create) {
		ap = calloc(1, sizeof *ap);
		if (!ap)
			abort();
		bool isnew;
		*arenamap_put(&a->arenas, key, &isnew) = ap;
	}
	if (ap) {
		a->last_akey = key;
		a->last_arena = ap;
	}
	return ap;
}

AGG_HOT spanv *span_at(cli_agg *a, uint32_t proc, uint64_t addr)
{
	arena_pages *ap = arena_of(a, proc, addr, false);
	return ap ? ap->page[(addr >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)] : NULL;
}

static void zombie_add(cli_agg *a, spanv *v);

/* Point pages at v (or NULL).  A different span still found there is one
 * whose SPAN_FREE or last frees arrive later (events out of order): it
 * leaves the page map for the zombie table, where its id finds it. */
static void set_pages(cli_agg *a, uint32_t proc, uint64_t base, int64_t npages, spanv *v)
{
	for (int64_t i = 0; i < npages; i++) {
		uint64_t p = base + ((uint64_t)i << PAGE_SHIFT);
		arena_pages *ap = arena_of(a, proc, p, true);
		spanv **e = &ap->page[(p >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)];
		spanv *old = *e;
		if (v && old && old != v && !old->zombie) {
			set_pages(a, proc, old->base, old->npages, NULL);
			zombie_add(a, old);
		}
		if (!v && old && old->zombie)
			continue; /* not ours to clear */
		*e = v;
	}
}

static void push_sample(cli_agg *a, int64_t t_ns)
{
	if (a->nsamples == a->cap_samples) {
		a->cap_samples = a->cap_samples ? a->cap_samples * 2 : 256;
		a->samples = realloc(a->samples, (size_t)a->cap_samples * sizeof *a->samples);
		if (!a->samples)
			abort();
	}
	a->fig[FIG_IDLE] = a->fig[FIG_SYS] - a->fig[FIG_INUSE];
	a->samples[a->nsamples][0] = t_ns;
	memcpy(&a->samples[a->nsamples][1], a->fig, sizeof a->fig);
	a->nsamples++;
	a->last_sample = t_ns;
	a->unsampled = false;
}

void cli_agg_sample(cli_agg *a, int64_t t_ns)
{
	if (a->nsamples && a->samples[a->nsamples - 1][0] == t_ns)
		a->nsamples--; /* replace a sample at the same instant */
	push_sample(a, t_ns);
}

static procfig *procfig_of(cli_agg *a, uint32_t proc);

static void push_row(cli_agg *a, const spanv *v, int64_t released_ns)
{
	if (a->nrows == a->cap_rows) {
		a->cap_rows = a->cap_rows ? a->cap_rows * 2 : 256;
		a->rows = realloc(a->rows, (size_t)a->cap_rows * sizeof *a->rows);
		if (!a->rows)
			abort();
	}
	int pid = v->proc < a->nprocs && a->procs[v->proc].pid ? a->procs[v->proc].pid : v->pid;
	a->rows[a->nrows++] = (cli_span_row){.pid = pid, .span_id = v->id, .cls = v->cls, .tiny = v->is_tiny,
	                                     .base = v->base, .npages = v->npages, .created_ns = v->created_ns,
	                                     .released_ns = released_ns, .peak = v->peak};
}

static inline void fig_add(cli_agg *a, int i, int64_t v)
{
	a->fig[i] += v;
	a->pf[i] += v;
}

/* Requested bytes of live objects of class cls (the run's and the process's). */
static inline void live_req_add(cli_agg *a, int cls, int64_t v)
{
	a->cls[cls].live_req += v;
	a->pl[cls][LIVE_REQ] += v;
}

/* HeapAlloc has just grown: the run's peak, if it is one (its time is set
 * by cli_agg_event, at the event being applied). */
static inline void peak_check(cli_agg *a)
{
	if (a->fig[FIG_ALLOC] > a->peak[FIG_ALLOC]) {
		memcpy(a->peak, a->fig, sizeof a->fig);
		a->peak_t = -1;
	}
}

static inline void live_add(cli_agg *a, int cls, int64_t objs, int64_t bytes)
{
	cls_acc *c = &a->cls[cls];
	c->live_objs += objs;
	c->live_bytes += bytes;
	a->pl[cls][LIVE_OBJS] += objs;
	a->pl[cls][LIVE_BYTES] += bytes;
	if (c->live_objs > c->peak_objs)
		c->peak_objs = c->live_objs;
	if (c->live_bytes > c->peak_bytes)
		c->peak_bytes = c->live_bytes;
	fig_add(a, FIG_ALLOC, (bytes));
	if (bytes > 0)
		peak_check(a);
}

static inline void span_live(spanv *v, int64_t d)
{
	v->live += d;
	if (v->live > v->peak)
		v->peak = v->live;
}

static int64_t large_bytes(uint64_t size)
{
	return (int64_t)((size + 8191) / 8192 * 8192);
}

/* ---- spans ----------------------------------------------------------------- */

/* A span joins or leaves a process's heap (class counts of the header). */
static inline void spans_in(cli_agg *a, uint8_t cls)
{
	a->cls[cls].spans_created++;
	if (++a->cls[cls].spans_live > a->cls[cls].spans_peak)
		a->cls[cls].spans_peak = a->cls[cls].spans_live;
}

static inline void spans_out(cli_agg *a, uint8_t cls)
{
	a->cls[cls].spans_released++;
	a->cls[cls].spans_live--;
}

static spanv *span_new(cli_agg *a, uint32_t proc, int pid, const gt_record *r, uint8_t cls, bool tiny,
                       int64_t npages, int64_t t_ns)
{
	spanv *v = span_get(a);
	*v = (spanv){.base = r->addr, .npages = npages, .created_ns = t_ns, .id = r->span, .cls = cls,
	             .is_tiny = tiny, .pid = pid, .proc = proc};
	if (cls > 0) {
		v->elemsize = tiny ? 16 : class_size[cls];
		v->divmagic = UINT32_MAX / v->elemsize + 1;
		v->nelems = (uint32_t)(npages * 8192 / v->elemsize);
		if (tiny)
			v->tiny = array_get(a, cls, true, v->nelems, sizeof *v->tiny);
		else
			v->sizes = array_get(a, cls, false, v->nelems, sizeof *v->sizes);
	}
	set_pages(a, proc, v->base, npages, v);
	spans_in(a, cls);
	fig_add(a, FIG_INUSE, (npages * 8192));
	fig_add(a, FIG_RELEASED, -((int64_t)r->aux * 8192));
	return v;
}

static inline uint64_t zkey(uint32_t proc, uint32_t id)
{
	return (((uint64_t)proc << 32) | id) + 1;
}

static void zombie_add(cli_agg *a, spanv *v)
{
	if (v->zombie)
		return;
	v->zombie = true;
	bool isnew;
	*spanidmap_put(&a->zombies, zkey(v->proc, v->id), &isnew) = v;
	a->last_akey = 0;
}

/* A released span whose objects are all accounted for leaves the model. */
static void span_finish(cli_agg *a, spanv *v)
{
	if (v->zombie) {
		spanv *dead;
		spanidmap_del(&a->zombies, zkey(v->proc, v->id), &dead);
	} else {
		set_pages(a, v->proc, v->base, v->npages, NULL);
	}
	push_row(a, v, v->released_ns);
	span_destroy(a, v);
}

/* SPAN_FREE: the heap gave the span back.  Frees still due for it (made
 * before, drained after) keep it as a zombie until they arrive. */
static void span_release(cli_agg *a, spanv *v, int64_t t_ns)
{
	if (!v->released) {
		v->released = true;
		v->released_ns = t_ns;
		spans_out(a, v->cls);
		fig_add(a, FIG_INUSE, -(v->npages * 8192));
	}
	if (v->live <= 0) {
		span_finish(a, v);
	} else if (!v->zombie) {
		set_pages(a, v->proc, v->base, v->npages, NULL);
		zombie_add(a, v);
	}
}

/* The span an event names: the one on the page map if its id matches,
 * else a zombie with that id. */
AGG_HOT spanv *span_of(cli_agg *a, uint32_t proc, const gt_record *r)
{
	spanv *v = span_at(a, proc, r->addr);
	if (GT_LIKELY_AGG(v && v->id == r->span))
		return v;
	spanv **z = a->zombies.count ? spanidmap_get(&a->zombies, zkey(proc, r->span)) : NULL;
	return z ? *z : NULL;
}

/* After a free on v: a released span with nothing left goes. */
static inline void span_check_done(cli_agg *a, spanv *v)
{
	if (GT_UNLIKELY_AGG(v->released) && v->live <= 0)
		span_finish(a, v);
}

static inline uint32_t slot_of(const spanv *v, uint64_t addr)
{
	return (uint32_t)(((addr - v->base) * v->divmagic) >> 32);
}

/* ---- objects ----------------------------------------------------------------- */

static void do_event_call(cli_agg *a, uint32_t proc, int pid, const gt_record *r, int64_t t_ns);

/* The index of the first item of queue q whose `field` is v, or q->n. */
#define QFIND(q, field, v)                                                                  \
	({                                                                                  \
		uint32_t i_ = 0;                                                            \
		while (i_ < (q)->n && (q)->items[(q)->head + i_].field != (v))              \
			i_++;                                                               \
		i_;                                                                         \
	})

/* Remove item i of queue q (FIFO), keeping the order of the others. */
#define QTAKE(q, i)                                                                        \
	do {                                                                               \
		memmove((q)->items + (q)->head + 1, (q)->items + (q)->head, (i) * sizeof *(q)->items); \
		(q)->head++;                                                               \
		(q)->n--;                                                                  \
	} while (0)

/* A free that arrived before this allocation is applied now: the oldest
 * one waiting at this address for an object of this span.  (The span id
 * tells apart an object freed in a span the heap has since reused at the
 * same address: in the merge, a free may come after the next allocation
 * there when both fell in one tick of the coarse clock.) */
static void resolve_pending(cli_agg *a, uint32_t proc, const gt_record *r)
{
	if (GT_LIKELY_AGG(!a->npend))
		return;
	uint64_t key = obj_key(proc, r->addr);
	pendq *q = pendmap_get(&a->pend, key);
	if (!q || !q->n)
		return;
	uint32_t i = QFIND(q, rec.span, r->span);
	if (i == q->n)
		return;
	pending p = q->items[q->head + i];
	QTAKE(q, i);
	a->npend--;
	if (!q->n) {
		pendq dead = {0};
		pendmap_del(&a->pend, key, &dead);
		free(dead.items);
	}
	int tid = a->cur_tid;
	a->cur_tid = p.tid;
	do_event_call(a, proc, p.pid, &p.rec, p.t_ns);
	a->cur_tid = tid;
}

static void wait_for_alloc(cli_agg *a, uint32_t proc, int pid, const gt_record *r, int64_t t_ns)
{
	bool isnew;
	pendq *q = pendmap_put(&a->pend, obj_key(proc, r->addr), &isnew);
	pending p = {.rec = *r, .t_ns = t_ns, .pid = pid, .tid = a->cur_tid};
	QPUSH(q, p);
	a->npend++;
}

static void shadow_push(cli_agg *a, uint64_t key, uint64_t size, uint32_t stack, uint32_t span)
{
	bool isnew;
	sizeq *q = sizemap_put(&a->shadow, key, &isnew);
	shadowed v = {size, stack, span};
	QPUSH(q, v);
}

/* The oldest superseded object at this address from span `span`. */
static bool shadow_pop(cli_agg *a, uint64_t key, uint32_t span, uint64_t *size, uint32_t *stack)
{
	sizeq *q = sizemap_get(&a->shadow, key);
	if (!q || !q->n)
		return false;
	uint32_t i = QFIND(q, span, span);
	if (i == q->n)
		return false;
	*size = q->items[q->head + i].size;
	*stack = q->items[q->head + i].stack;
	QTAKE(q, i);
	if (!q->n) {
		sizeq dead = {0};
		sizemap_del(&a->shadow, key, &dead);
		free(dead.items);
	}
	return true;
}

/* Record that an object of `size` requested bytes lives at r->addr; the
 * previous one, if its free is still in flight, moves to the shadow. */
static inline uint32_t stacks_len(const spanv *v)
{
	return v->tiny ? v->nelems * 16 : v->nelems;
}

/* Put stack at index i of v's stack array (made on first need); the old one. */
static inline uint32_t stack_swap(spanv *v, uint32_t i, uint32_t stack)
{
	if (GT_UNLIKELY_AGG(stack) && !v->stacks && !(v->stacks = calloc(stacks_len(v), sizeof *v->stacks)))
		abort();
	if (GT_LIKELY_AGG(!v->stacks))
		return 0;
	uint32_t old = v->stacks[i];
	v->stacks[i] = stack;
	return old;
}

AGG_HOT void remember(cli_agg *a, uint32_t proc, spanv *v, const gt_record *r, uint64_t size)
{
	bool superseded = false;
	uint64_t old = 0;
	uint32_t old_stack = 0;
	if (GT_UNLIKELY_AGG(v->req_pending))
		req_resolve(a, v);
	if (v->sizes) {
		uint32_t slot = slot_of(v, r->addr);
		if (GT_UNLIKELY_AGG(slot >= v->nelems))
			return;
		uint16_t *s = &v->sizes[slot];
		superseded = *s != 0;
		old = *s - 1u;
		*s = (uint16_t)((size < GA_MAX_SMALL ? size : GA_MAX_SMALL) + 1);
		old_stack = stack_swap(v, slot, r->stack);
	} else if (v->tiny) {
		if (GT_UNLIKELY_AGG(((r->addr - v->base) >> 4) >= v->nelems))
			return;
		uint64_t *w = &v->tiny[(r->addr - v->base) >> 4];
		unsigned sh = (unsigned)(r->addr & 15) * 4;
		superseded = (*w >> sh) & 15;
		old = (*w >> sh) & 15;
		*w = (*w & ~(15ull << sh)) | ((size & 15) << sh);
		old_stack = stack_swap(v, (uint32_t)(r->addr - v->base), r->stack);
	} else {
		superseded = v->large_req != UINT64_MAX && v->live > 0;
		old = v->large_req;
		v->large_req = size;
		old_stack = v->large_stack;
		v->large_stack = r->stack;
	}
	if (GT_UNLIKELY_AGG(superseded))
		shadow_push(a, obj_key(proc, r->addr), old, old_stack, v->id);
}

/* The requested size of the live object at r->addr, forgotten; false if
 * there is none (its allocation has not been seen yet). */
AGG_HOT bool forget(cli_agg *a, uint32_t proc, spanv *v, const gt_record *r, uint64_t *size,
                          uint32_t *stack)
{
	*stack = 0;
	if (GT_UNLIKELY_AGG(a->shadow.count) && shadow_pop(a, obj_key(proc, r->addr), r->span, size, stack))
		return true; /* the older object at this address */
	if (GT_UNLIKELY_AGG(v->req_pending))
		req_resolve(a, v);
	if (v->sizes) {
		uint32_t slot = slot_of(v, r->addr);
		if (GT_UNLIKELY_AGG(slot >= v->nelems))
			return false;
		uint16_t *s = &v->sizes[slot];
		if (!*s)
			return false;
		*size = *s - 1u;
		*s = 0;
		*stack = stack_swap(v, slot, 0);
		return true;
	}
	if (v->tiny) {
		if (GT_UNLIKELY_AGG(((r->addr - v->base) >> 4) >= v->nelems))
			return false;
		uint64_t *w = &v->tiny[(r->addr - v->base) >> 4];
		unsigned sh = (unsigned)(r->addr & 15) * 4;
		*size = (*w >> sh) & 15;
		if (!*size)
			return false;
		*w &= ~(15ull << sh);
		*stack = stack_swap(v, (uint32_t)(r->addr - v->base), 0);
		return true;
	}
	if (v->live <= 0)
		return false;
	*size = v->large_req;
	*stack = v->large_stack;
	v->large_stack = 0;
	return true;
}

AGG_HOT void do_event(cli_agg *a, uint32_t proc, int pid, const gt_record *r, int64_t t_ns)
{
	uint8_t cls = r->cls < CLI_CLASSES ? r->cls : 0;
	spanv *v;
	uint64_t size;
	switch (r->kind) {
	case GT_EV_ALLOC_SMALL: {
		cls_acc *c = &a->cls[cls];
		c->allocs++;
		c->requested += (int64_t)r->size;
		c->allocated += class_size[cls];
		live_req_add(a, cls, (int64_t)r->size);
		fig_add(a, FIG_REQ, ((int64_t)r->size));
		live_add(a, cls, 1, class_size[cls]);
		if (GT_LIKELY_AGG(r->size <= GA_MAX_SMALL)) {
			req_count(a->req, 0, r->size, 0);
		}
		v = span_of(a, proc, r);
		if (GT_LIKELY_AGG(v && v->sizes)) {
			remember(a, proc, v, r, r->size);
			span_live(v, 1);
		}
		if (GT_UNLIKELY_AGG(r->stack) && a->sites)
			cli_sites_on_alloc(a->sites, proc, r->stack, cls, r->size, class_size[cls]);
		out(a, r, pid, t_ns, r->kind, r->size);
		resolve_pending(a, proc, r); /* after the allocation's own row */
		return;
	}
	case GT_EV_ALLOC_TINY:
		a->tiny_objs++;
		a->tiny_bytes += (int64_t)r->size;
		a->cls[2].requested += (int64_t)r->size;
		live_req_add(a, 2, (int64_t)r->size);
		fig_add(a, FIG_REQ, ((int64_t)r->size));
		if (GT_LIKELY_AGG(r->size <= GA_MAX_SMALL)) {
			req_count(a->req, 1, r->size, 0);
		}
		v = span_of(a, proc, r);
		if (GT_LIKELY_AGG(v && v->tiny))
			remember(a, proc, v, r, r->size);
		if (GT_UNLIKELY_AGG(r->stack) && a->sites)
			cli_sites_on_alloc(a->sites, proc, r->stack, 2, r->size, r->size);
		out(a, r, pid, t_ns, r->kind, r->size);
		resolve_pending(a, proc, r);
		return;
	case GT_EV_ALLOC_LARGE: {
		int64_t bytes = large_bytes(r->size);
		v = span_at(a, proc, r->addr);
		if (v && v->cls == 0 && v->base == r->addr && v->id == r->span && !v->released) {
			/* realloc in place: the span grew or shrank */
			if (bytes / 8192 > v->npages)
				set_pages(a, proc, v->base, bytes / 8192, v);
			else if (bytes / 8192 < v->npages)
				set_pages(a, proc, v->base + (uint64_t)bytes, v->npages - bytes / 8192, NULL);
			fig_add(a, FIG_INUSE, (bytes - v->npages * 8192));
			fig_add(a, FIG_RELEASED, -((int64_t)r->aux * 8192));
			v->npages = bytes / 8192;
		} else {
			v = span_new(a, proc, pid, r, 0, false, bytes / 8192, t_ns);
			v->large_req = UINT64_MAX;
		}
		cls_acc *c = &a->cls[0];
		c->allocs++;
		c->requested += (int64_t)r->size;
		c->allocated += bytes;
		live_req_add(a, 0, (int64_t)r->size);
		fig_add(a, FIG_REQ, ((int64_t)r->size));
		remember(a, proc, v, r, r->size);
		span_live(v, 1);
		live_add(a, 0, 1, bytes);
		if (GT_UNLIKELY_AGG(r->stack) && a->sites)
			cli_sites_on_alloc(a->sites, proc, r->stack, 0, r->size, (uint64_t)bytes);
		out(a, r, pid, t_ns, r->kind, r->size);
		resolve_pending(a, proc, r);
		return;
	}
	case GT_EV_FREE:
		v = span_of(a, proc, r);
		if (r->flags & GT_F_TINY_BLOCK) {
			a->cls[2].frees++;
			live_add(a, 2, -1, -16);
			out(a, r, pid, t_ns, CLI_EV_TINY_BLOCK_FREE, 16);
			if (v) {
				span_live(v, -1);
				span_check_done(a, v);
			}
			return;
		}
		uint32_t stack;
		if (!v || !forget(a, proc, v, r, &size, &stack)) {
			wait_for_alloc(a, proc, pid, r, t_ns); /* its row is written when applied */
			return;
		}
		if (GT_UNLIKELY_AGG(stack) && a->sites && !(stack & STACK_INHERITED)) {
			int sc = (r->flags & GT_F_TINY_OBJ) ? 2 : v->cls;
			uint64_t ab = (r->flags & GT_F_TINY_OBJ) ? size : v->cls ? class_size[v->cls] : (uint64_t)large_bytes(size);
			cli_sites_on_free(a->sites, proc, stack, sc, size, ab);
		}
		if (r->flags & GT_F_TINY_OBJ) {
			fig_add(a, FIG_REQ, -((int64_t)size));
			live_req_add(a, 2, -(int64_t)size);
			if (GT_LIKELY_AGG(size <= GA_MAX_SMALL))
				req_count(a->req, 1, size, 1);
			out(a, r, pid, t_ns, CLI_EV_FREE_TINY, size);
			return;
		}
		{
			uint8_t oc = v->cls;
			cls_acc *c = &a->cls[oc];
			c->frees++;
			live_req_add(a, oc, -(int64_t)size);
			if (oc && GT_LIKELY_AGG(size <= GA_MAX_SMALL))
				req_count(a->req, 0, size, 1);
			fig_add(a, FIG_REQ, -((int64_t)size));
			live_add(a, oc, -1, oc ? -(int64_t)class_size[oc] : -large_bytes(size));
			out(a, r, pid, t_ns, GT_EV_FREE, size);
			span_live(v, -1);
			span_check_done(a, v); /* last: v may go */
		}
		return;
	case GT_EV_TINY_OPEN:
		a->tiny_blocks++;
		a->cls[2].allocs++;
		a->cls[2].allocated += 16;
		live_add(a, 2, 1, 16);
		v = span_of(a, proc, r);
		if (v)
			span_live(v, 1);
		break;
	case GT_EV_REFILL:
		a->cls[cls].refills++;
		break;
	case GT_EV_SPAN_ALLOC:
		span_new(a, proc, pid, r, cls, r->flags & GT_F_TINY_BLOCK, (int64_t)r->size, t_ns);
		break;
	case GT_EV_SPAN_FREE:
		v = span_of(a, proc, r);
		if (v && v->base == r->addr)
			span_release(a, v, t_ns);
		break;
	case GT_EV_HEAP_GROW:
		fig_add(a, FIG_SYS, ((int64_t)r->size * 8192));
		fig_add(a, FIG_RELEASED, ((int64_t)r->size * 8192));
		break;
	case GT_EV_SCAVENGE:
		fig_add(a, FIG_RELEASED, ((int64_t)r->size * 8192));
		break;
	default:
		break;
	}
	out(a, r, pid, t_ns, r->kind, r->size);
}

/* A free applied when its allocation arrives (resolve_pending). */
static __attribute__((noinline)) void do_event_call(cli_agg *a, uint32_t proc, int pid, const gt_record *r,
                                                     int64_t t_ns)
{
	do_event(a, proc, pid, r, t_ns);
}

static __attribute__((noinline)) procfig *procfig_grow(cli_agg *a, uint32_t proc)
{
	uint32_t n = proc * 2 + 8;
	a->procs = realloc(a->procs, n * sizeof *a->procs);
	if (!a->procs)
		abort();
	memset(a->procs + a->nprocs, 0, (n - a->nprocs) * sizeof *a->procs);
	a->nprocs = n;
	a->cur_proc = UINT32_MAX; /* pf and pl pointed into the old array */
	return &a->procs[proc];
}

static inline procfig *procfig_of(cli_agg *a, uint32_t proc)
{
	return GT_LIKELY_AGG(proc < a->nprocs) ? &a->procs[proc] : procfig_grow(a, proc);
}

void cli_agg_event(cli_agg *a, uint32_t proc, int pid, int tid, const gt_record *r, int64_t t_ns)
{
	a->cur_tid = tid;
	if (GT_UNLIKELY_AGG(proc != a->cur_proc)) {
		procfig *pf = procfig_of(a, proc);
		a->pf = pf->fig;
		a->pl = pf->live;
		a->cur_proc = proc;
	}
	do_event(a, proc, pid, r, t_ns);
	if (a->peak_t < 0)
		a->peak_t = t_ns;
	a->last_event_t = t_ns;
	if (t_ns - a->last_sample >= a->interval)
		push_sample(a, t_ns);
	else
		a->unsampled = true;
}

void cli_agg_quiet(cli_agg *a)
{
	/* Allocations carry the coarse clock and may be stamped a little before
	 * the last sample (taken at a later-stamped event): then just after it. */
	if (a->unsampled)
		push_sample(a, a->last_event_t > a->last_sample ? a->last_event_t : a->last_sample + 1);
}

/* The live objects of span v join (d = 1) or leave (d = -1) the live
 * counts per requested size: a fork's copy of it, or its process ended. */
static void req_span_live(req_acc *q, const spanv *v, int d)
{
	if (v->sizes) {
		for (uint32_t i = 0; i < v->nelems; i++)
			if (v->sizes[i])
				req_live_adj(q, 0, v->sizes[i] - 1u, d);
	} else if (v->tiny) {
		for (uint32_t b = 0; b < v->nelems; b++)
			for (uint64_t w = v->tiny[b]; w; w >>= 4)
				if (w & 15)
					req_live_adj(q, 1, w & 15, d);
	}
}

static void req_pend_add(cli_agg *a, spanv *v)
{
	if (!v->sizes && !v->tiny)
		return; /* a large object is not counted per requested size */
	if (a->nreqpend == a->cap_reqpend) {
		a->cap_reqpend = a->cap_reqpend ? 2 * a->cap_reqpend : 256;
		a->reqpend = realloc(a->reqpend, a->cap_reqpend * sizeof *a->reqpend);
		if (!a->reqpend)
			abort();
	}
	a->reqpend[a->nreqpend++] = v;
	v->req_pend = a->nreqpend;
	v->req_pending = true;
}

/* v leaves the pending list; its objects are counted (resolve) or not. */
static void req_pend_drop(cli_agg *a, spanv *v)
{
	spanv *last = a->reqpend[--a->nreqpend];
	a->reqpend[v->req_pend - 1] = last;
	last->req_pend = v->req_pend;
	v->req_pending = false;
}

static __attribute__((noinline)) void req_resolve(cli_agg *a, spanv *v)
{
	req_span_live(a->req, v, 1);
	req_pend_drop(a, v);
}

/* Span v goes with its ended process: its objects leave the counts, or
 * were never in them. */
static void req_span_out(cli_agg *a, spanv *v)
{
	if (v->req_pending)
		req_pend_drop(a, v);
	else
		req_span_live(a->req, v, -1);
}

static spanv *span_clone(const spanv *v, uint32_t proc, int pid)
{
	spanv *c = span_alloc();
	*c = *v;
	c->req_pending = false;
	c->proc = proc;
	c->pid = pid;
	if (v->sizes) {
		c->sizes = malloc(v->nelems * sizeof *c->sizes);
		if (!c->sizes)
			abort();
		memcpy(c->sizes, v->sizes, v->nelems * sizeof *c->sizes);
	}
	if (v->stacks) {
		c->stacks = malloc(stacks_len(v) * sizeof *c->stacks);
		if (!c->stacks)
			abort();
		for (uint32_t i = 0, n = stacks_len(v); i < n; i++)
			c->stacks[i] = v->stacks[i] ? v->stacks[i] | STACK_INHERITED : 0;
	}
	if (c->large_stack)
		c->large_stack |= STACK_INHERITED;
	if (v->tiny) {
		c->tiny = malloc(v->nelems * sizeof *c->tiny);
		if (!c->tiny)
			abort();
		memcpy(c->tiny, v->tiny, v->nelems * sizeof *c->tiny);
	}
	return c;
}

void cli_agg_set_pid(cli_agg *a, uint32_t proc, int pid)
{
	procfig_of(a, proc)->pid = pid;
}

/* The zombies of process proc (released or displaced spans whose last
 * frees have not come; in --lossy mode they may never come), into a fresh
 * array of *n (the caller frees it). */
static spanv **proc_zombies(cli_agg *a, uint32_t proc, size_t *n)
{
	spanv **out = malloc((a->zombies.count + 1) * sizeof *out);
	if (!out)
		abort();
	*n = 0;
	for (uint64_t i = 0; i <= a->zombies.mask; i++)
		if (a->zombies.slots[i].key && ((a->zombies.slots[i].key - 1) >> 32) == proc)
			out[(*n)++] = a->zombies.slots[i].val;
	return out;
}

void cli_agg_fork(cli_agg *a, uint32_t parent, uint32_t child, int child_pid)
{
	procfig *pp = procfig_of(a, parent), *cp = procfig_of(a, child);
	pp = procfig_of(a, parent); /* procfig_of(child) may have moved the array */
	/* The child starts with a copy of its parent's heap. */
	memcpy(cp->fig, pp->fig, sizeof cp->fig);
	for (int i = 0; i < FIG_N; i++)
		a->fig[i] += pp->fig[i];
	if (pp->fig[FIG_ALLOC] > 0)
		peak_check(a); /* two heaps now */
	memcpy(cp->live, pp->live, sizeof cp->live);
	for (int c = 0; c < CLI_CLASSES; c++) {
		cls_acc *ca = &a->cls[c];
		ca->live_objs += pp->live[c][LIVE_OBJS];
		ca->live_bytes += pp->live[c][LIVE_BYTES];
		ca->live_req += pp->live[c][LIVE_REQ];
		if (ca->live_objs > ca->peak_objs)
			ca->peak_objs = ca->live_objs;
		if (ca->live_bytes > ca->peak_bytes)
			ca->peak_bytes = ca->live_bytes;
	}
	uint64_t n = a->arenas.mask + 1;
	struct {
		uint64_t key;
		arena_pages *ap;
	} *todo = malloc(n * sizeof *todo);
	size_t ntodo = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t key = a->arenas.slots[i].key;
		if (key && ((key - 1) >> 32) == parent)
			todo[ntodo++] = (typeof(*todo)){key, a->arenas.slots[i].val};
	}
	for (size_t t = 0; t < ntodo; t++) {
		uint64_t arena = (todo[t].key - 1) & 0xffffffffull;
		for (uint32_t p = 0; p < PAGES_PER_ARENA; p++) {
			spanv *v = todo[t].ap->page[p];
			if (v && first_page(v, todo[t].key, p)) {
				spanv *c = span_clone(v, child, child_pid);
				set_pages(a, child, c->base, c->npages, c);
				spans_in(a, c->cls); /* the child's copy is a span of its heap */
				req_pend_add(a, c);
			}
		}
		(void)arena;
	}
	free(todo);
	/* The parent's zombies hold objects the child has copies of, which it
	 * may free: the child gets its own zombies. */
	size_t nz;
	spanv **z = proc_zombies(a, parent, &nz);
	for (size_t i = 0; i < nz; i++) {
		spanv *c = span_clone(z[i], child, child_pid);
		c->zombie = false;
		zombie_add(a, c);
		if (!c->released)
			spans_in(a, c->cls);
		req_pend_add(a, c);
	}
	free(z);
	a->last_akey = 0;
}

void cli_agg_proc_end(cli_agg *a, uint32_t proc, int64_t t_ns)
{
	procfig *pf = procfig_of(a, proc);
	if (pf->ended)
		return;
	pf->ended = true;
	for (int i = 0; i < FIG_N; i++) {
		a->fig[i] -= pf->fig[i];
		pf->fig[i] = 0;
	}
	for (int c = 0; c < CLI_CLASSES; c++) {
		a->cls[c].live_objs -= pf->live[c][LIVE_OBJS];
		a->cls[c].live_bytes -= pf->live[c][LIVE_BYTES];
		a->cls[c].live_req -= pf->live[c][LIVE_REQ];
	}
	memset(pf->live, 0, sizeof pf->live);
	/* Its spans are listed as in use at its end; its model goes. */
	uint64_t n = a->arenas.mask + 1;
	uint64_t *keys = malloc(n * sizeof *keys);
	size_t nk = 0;
	for (uint64_t i = 0; i < n; i++)
		if (a->arenas.slots[i].key && ((a->arenas.slots[i].key - 1) >> 32) == proc)
			keys[nk++] = a->arenas.slots[i].key;
	for (size_t k = 0; k < nk; k++)
		unlink_foreign_pages(*arenamap_get(&a->arenas, keys[k]), keys[k]);
	for (size_t k = 0; k < nk; k++) {
		arena_pages *ap;
		if (!arenamap_del(&a->arenas, keys[k], &ap))
			continue;
		for (uint32_t p = 0; p < PAGES_PER_ARENA; p++) {
			spanv *v = ap->page[p];
			if (v && first_page(v, keys[k], p)) {
				spans_out(a, v->cls); /* it goes with the process */
				req_span_out(a, v);
				push_row(a, v, -1);
				unlink_span_pages(ap, p, v);
				span_destroy(a, v);
			}
		}
		free(ap);
	}
	free(keys);
	/* Its zombies go with it too: no event for them can come now. */
	size_t nz;
	spanv **z = proc_zombies(a, proc, &nz);
	for (size_t i = 0; i < nz; i++) {
		spanv *v = z[i];
		if (!v->released) {
			spans_out(a, v->cls);
			v->released_ns = -1; /* its row: in use at the end */
		}
		req_span_out(a, v);
		span_finish(a, v);
	}
	free(z);
	a->last_akey = 0;
	push_sample(a, t_ns);
}

int64_t cli_agg_unmatched(const cli_agg *a)
{
	return a->npend;
}

void cli_agg_figures(const cli_agg *a, int64_t fig[FIG_N])
{
	memcpy(fig, a->fig, sizeof a->fig);
	fig[FIG_IDLE] = fig[FIG_SYS] - fig[FIG_INUSE];
}

void cli_agg_peak(const cli_agg *a, int64_t fig[FIG_N], int64_t *t_ns)
{
	memcpy(fig, a->peak, sizeof a->peak);
	fig[FIG_IDLE] = fig[FIG_SYS] - fig[FIG_INUSE];
	*t_ns = a->peak_t < 0 ? 0 : a->peak_t;
}

void cli_agg_class(const cli_agg *a, int cls, cli_class_row *row)
{
	const cls_acc *c = &a->cls[cls];
	*row = (cli_class_row){.allocs = c->allocs,
	                       .frees = c->frees,
	                       .requested_bytes = c->requested,
	                       .allocated_bytes = c->allocated,
	                       .peak_live_objects = c->peak_objs,
	                       .peak_live_bytes = c->peak_bytes,
	                       .live_objects = c->live_objs,
	                       .live_bytes = c->live_bytes,
	                       .live_requested = c->live_req,
	                       .spans_created = c->spans_created,
	                       .spans_released = c->spans_released,
	                       .refills = c->refills};
}

int64_t cli_agg_class_peak_spans(const cli_agg *a, int cls)
{
	return a->cls[cls].spans_peak;
}

int cli_agg_take_request_sizes(cli_agg *a, const cli_req_row **outp)
{
	req_acc *q = a->req;
	while (a->nreqpend)
		req_resolve(a, a->reqpend[a->nreqpend - 1]);
	if (!q->rows) {
		q->rows = malloc(2 * (GA_MAX_SMALL + 1) * sizeof *q->rows);
		if (!q->rows)
			abort();
	}
	int n = 0;
	for (int t = 0; t < 2; t++)
		for (int w = 0; w < (GA_MAX_SMALL + 64) / 64; w++)
			for (uint64_t m = q->dirty[t][w]; m; m &= m - 1) {
				int s = w * 64 + __builtin_ctzll(m);
				q->rows[n++] = (cli_req_row){
				    .size = s, .tiny = t, .allocs = q->n[t][s][0], .live = q->n[t][s][0] - q->n[t][s][1] + q->adj[t][s]};
			}
	memset(q->dirty, 0, sizeof q->dirty);
	*outp = q->rows;
	return n;
}

void cli_agg_tiny(const cli_agg *a, int64_t *blocks, int64_t *objects, int64_t *bytes)
{
	*blocks = a->tiny_blocks;
	*objects = a->tiny_objs;
	*bytes = a->tiny_bytes;
}

int cli_agg_take_samples(cli_agg *a, const int64_t (**outp)[1 + FIG_N])
{
	int n = a->nsamples;
	*outp = (const int64_t(*)[1 + FIG_N])a->samples;
	a->nsamples = 0;
	return n;
}

int cli_agg_take_spans(cli_agg *a, const cli_span_row **outp)
{
	int n = a->nrows;
	*outp = a->rows;
	a->nrows = 0;
	return n;
}

int cli_agg_live_spans(cli_agg *a, const cli_span_row **outp)
{
	a->nrows = 0;
	for (uint64_t i = 0; i <= a->zombies.mask; i++)
		if (a->zombies.slots[i].key) {
			spanv *v = a->zombies.slots[i].val;
			push_row(a, v, v->released ? v->released_ns : -1);
		}
	for (uint64_t i = 0; i <= a->arenas.mask; i++) {
		if (!a->arenas.slots[i].key)
			continue;
		arena_pages *ap = a->arenas.slots[i].val;
		for (uint32_t p = 0; p < PAGES_PER_ARENA; p++) {
			spanv *v = ap->page[p];
			if (v && first_page(v, a->arenas.slots[i].key, p))
				push_row(a, v, -1);
		}
	}
	return cli_agg_take_spans(a, outp);
}
