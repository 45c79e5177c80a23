/* test_heap.c: the heap through its own API (ga.h), with the mode chosen by
 * the environment (ctest runs it C-safe, Go-exact and with tiny off).
 * Table-driven cases: class placement and usable sizes, tiny merging and
 * tiny frees, realloc across classes and into large, calloc on dirty memory,
 * page-heap coalescing, the scavenger, aligned allocation, ENOMEM, and the
 * observer's events. */
#include "check.h"
#include "ga_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool go_exact, tiny_on;

/* ---- observer: records the last events of this thread ------------------- */
enum { MAXEV = 4096 };
static __thread ga_event evs[MAXEV];
static __thread int nev;
static void observe(const ga_event *ev, void *ctx)
{
	(void)ctx;
	if (nev < MAXEV)
		evs[nev++] = *ev;
}
static int count_events(int kind)
{
	int n = 0;
	for (int i = 0; i < nev; i++)
		n += evs[i].kind == kind;
	return n;
}

static unsigned mode_class(size_t n)
{
	return ga_size_to_class(n, go_exact);
}

/* Run fn(arg) on a new thread, whose mcache starts empty, and wait. */
static void in_fresh_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	int err = pthread_create(&t, NULL, fn, arg);
	CHECK(err == 0, "pthread_create: error %d", err);
	if (err == 0)
		pthread_join(t, NULL);
}

/* Objects of one class requested back to back by a fresh thread come from
 * one span, one class size apart, in address order. */
static void *same_span_thread(void *arg)
{
	(void)arg;
	for (unsigned cls = 1; cls < GA_CLASSES; cls++) {
		if (cls == 3 && !go_exact)
			continue;
		uint32_t size = ga_class_size(cls), n = ga_class_nelems(cls);
		size_t req = size; /* a request of exactly the class size */
		if (cls <= 2 && tiny_on)
			continue; /* 8- and 16-byte requests under 16 B are tiny */
		char **p = malloc(n * sizeof *p);
		for (uint32_t i = 0; i < n; i++)
			p[i] = ga_malloc(req);
		uintptr_t base = (uintptr_t)p[0];
		CHECK(base % GA_PAGE_SIZE == 0, "class %u: first object %p not at a span start", cls, (void *)p[0]);
		for (uint32_t i = 1; i < n; i++)
			CHECK((uintptr_t)p[i] == base + (uintptr_t)i * size, "class %u: object %u at %p, want %p", cls,
			      i, (void *)p[i], (void *)(base + (uintptr_t)i * size));
		for (uint32_t i = 0; i < n; i++)
			ga_free(p[i]);
		free(p);
	}
	return NULL;
}

static void test_class_placement(void)
{
	in_fresh_thread(same_span_thread, NULL);
}

static void test_usable_size(void)
{
	for (size_t n = 16; n <= GA_MAX_SMALL; n++) {
		void *p = ga_malloc(n);
		size_t want = ga_class_size(mode_class(n));
		CHECK(ga_usable_size(p) == want, "usable(%zu) = %zu, want %zu", n, ga_usable_size(p), want);
		ga_free(p);
	}
	static const size_t large[] = {32769, 40000, 65536, 1 << 20, (1 << 20) + 1, 10000000};
	for (size_t i = 0; i < sizeof large / sizeof *large; i++) {
		void *p = ga_malloc(large[i]);
		size_t want = (large[i] + GA_PAGE_SIZE - 1) / GA_PAGE_SIZE * GA_PAGE_SIZE;
		CHECK(ga_usable_size(p) == want, "usable(%zu) = %zu, want %zu", large[i], ga_usable_size(p), want);
		CHECK((uintptr_t)p % GA_PAGE_SIZE == 0, "large object not page aligned");
		ga_free(p);
	}
}

/* Tiny: each case is a sequence of sizes on a fresh thread and the expected
 * (block, offset) of each object, per mode. */
typedef struct tiny_case {
	const char *name;
	size_t sizes[8];
	int blk_csafe[8], off_csafe[8];
	int blk_go[8], off_go[8];
} tiny_case;

static const tiny_case tiny_cases[] = {
	{"bytes pack", {1, 1, 1, 1}, {0, 0, 0, 0}, {0, 1, 2, 3}, {0, 0, 0, 0}, {0, 1, 2, 3}},
	{"align 8", {1, 8}, {0, 0}, {0, 8}, {0, 0}, {0, 8}},
	/* C-safe aligns 12 B to 8, which no longer fits; Go aligns it to 4. */
	{"align 12", {1, 12}, {0, 1}, {0, 0}, {0, 0}, {0, 4}},
	{"align 3", {1, 3, 3}, {0, 0, 0}, {0, 2, 6}, {0, 0, 0}, {0, 1, 4}},
	{"new block when full", {15, 2}, {0, 1}, {0, 0}, {0, 1}, {0, 0}},
	/* 8 B open a new block with 8 B left, more than the current's 6: it
	 * replaces the current block, and the 4 B go after the 8. */
	{"replacement taken", {10, 8, 4}, {0, 1, 1}, {0, 0, 8}, {0, 1, 1}, {0, 0, 8}},
	{"replacement taken 2", {14, 3, 1}, {0, 1, 1}, {0, 0, 3}, {0, 1, 1}, {0, 0, 3}},
	/* 12 B open a new block with 4 B left, less than the current's 8: the
	 * current block stays, and the 4 B go into it. */
	{"replacement not taken", {8, 12, 4}, {0, 1, 0}, {0, 0, 8}, {0, 1, 0}, {0, 0, 8}},
};

static void *tiny_thread(void *arg)
{
	const tiny_case *tc = arg;
	char *objs[8] = {0};
	uintptr_t blocks[8] = {0};
	int nblocks = 0;
	for (int i = 0; i < 8 && tc->sizes[i]; i++) {
		objs[i] = ga_malloc(tc->sizes[i]);
		uintptr_t blk = (uintptr_t)objs[i] & ~(uintptr_t)15;
		int b = -1;
		for (int k = 0; k < nblocks; k++)
			if (blocks[k] == blk)
				b = k;
		if (b < 0) {
			b = nblocks;
			blocks[nblocks++] = blk;
		}
		int want_b = go_exact ? tc->blk_go[i] : tc->blk_csafe[i];
		int want_off = go_exact ? tc->off_go[i] : tc->off_csafe[i];
		CHECK(b == want_b && (int)((uintptr_t)objs[i] - blk) == want_off,
		      "tiny case '%s' object %d (size %zu): block %d offset %d, want block %d offset %d", tc->name, i,
		      tc->sizes[i], b, (int)((uintptr_t)objs[i] - blk), want_b, want_off);
		CHECK(ga_usable_size(objs[i]) == tc->sizes[i], "tiny usable %zu != %zu", ga_usable_size(objs[i]),
		      tc->sizes[i]);
		memset(objs[i], 0x40 + i, tc->sizes[i]);
	}
	for (int i = 0; i < 8 && tc->sizes[i]; i++) {
		for (size_t k = 0; k < tc->sizes[i]; k++)
			CHECK(objs[i][k] == 0x40 + i, "tiny object %d overwritten by a neighbour", i);
		ga_free(objs[i]);
	}
	return NULL;
}

/* A block goes back to its span only when its last object is freed and it
 * is not the thread's current block: watch for the TINY_SPAN free. */
static int tiny_block_frees(void)
{
	int n = 0;
	for (int i = 0; i < nev; i++)
		n += evs[i].kind == GA_EV_FREE && (evs[i].flags & GA_EVF_TINY_SPAN);
	return n;
}

static void *tiny_block_thread(void *arg)
{
	(void)arg;
	nev = 0;
	ga_set_observer(observe, NULL);
	char *a = ga_malloc(4), *b = ga_malloc(4); /* block 0, offsets 0 and 4 */
	char *c = ga_malloc(15);                   /* block 1, not current (1 B left < 8) */
	CHECK(((uintptr_t)a >> 4) == ((uintptr_t)b >> 4) && ((uintptr_t)c >> 4) != ((uintptr_t)a >> 4),
	      "tiny placement %p %p %p", (void *)a, (void *)b, (void *)c);
	ga_free(a);
	ga_free(b);
	CHECK(tiny_block_frees() == 0, "current block went back to its span while current");
	ga_free(c);
	CHECK(tiny_block_frees() == 1, "non-current block with no object left not freed (%d)", tiny_block_frees());
	ga_set_observer(NULL, NULL);
	return NULL;
}

static void test_tiny(void)
{
	if (!tiny_on) {
		void *p = ga_malloc(3), *q = ga_malloc(3);
		CHECK(((uintptr_t)p ^ (uintptr_t)q) >= 8, "tiny off but two 3-byte objects share a slot");
		CHECK(ga_usable_size(p) == 8, "tiny off: usable(3) = %zu", ga_usable_size(p));
		ga_free(p);
		ga_free(q);
		return;
	}
	for (size_t i = 0; i < sizeof tiny_cases / sizeof *tiny_cases; i++) {
		in_fresh_thread(tiny_thread, (void *)&tiny_cases[i]);
	}
	/* C-safe alignment of every tiny size, many times over. */
	for (int round = 0; round < 1000; round++)
		for (size_t n = 1; n < 16; n++) {
			void *p = ga_malloc(n);
			size_t a = go_exact ? ((n & 7) == 0 ? 8 : (n & 3) == 0 ? 4 : (n & 1) == 0 ? 2 : 1)
			                    : (size_t)1 << (63 - __builtin_clzll(n));
			CHECK((uintptr_t)p % a == 0, "tiny %zu at %p not %zu-aligned", n, p, a);
			ga_free(p);
		}
	in_fresh_thread(tiny_block_thread, NULL);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7);
}
static bool verify(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i * 7))
			return false;
	return true;
}

static void test_realloc(void)
{
	static const size_t steps[] = {1, 5, 15, 16, 17, 24, 25, 100, 1000, 1024, 1025, 4000, 32768,
	                               32769, 100000, 1 << 20, 3 << 20, 50000, 20000, 300, 9, 2, 1};
	size_t n = sizeof steps / sizeof *steps;
	unsigned char *p = NULL;
	size_t have = 0;
	for (size_t i = 0; i < n; i++) {
		p = ga_realloc(p, steps[i]);
		CHECK(p != NULL, "realloc to %zu failed", steps[i]);
		size_t keep = have < steps[i] ? have : steps[i];
		CHECK(verify(p, keep, 3), "realloc to %zu lost content", steps[i]);
		fill(p, steps[i], 3);
		have = steps[i];
		CHECK(ga_usable_size(p) >= steps[i], "usable below request after realloc");
	}
	/* in place while the class still fits */
	void *q = ga_malloc(100);
	void *r = ga_realloc(q, 110);
	CHECK(q == r, "realloc 100 -> 110 moved (both class %u)", mode_class(100));
	r = ga_realloc(r, 200);
	CHECK(ga_usable_size(r) == ga_class_size(mode_class(200)), "realloc to another class");
	ga_free(r);
	/* large shrinks in place */
	void *L = ga_malloc(1 << 20), *L2 = ga_realloc(L, 100000);
	CHECK(L == L2 && ga_usable_size(L2) == 106496, "large shrink in place: %p %p %zu", L, L2,
	      ga_usable_size(L2));
	ga_free(L2);
	/* large grows in place into free pages that follow it */
	char *A = ga_malloc(1 << 20), *B = ga_malloc(1 << 20);
	CHECK(B == A + (1 << 20), "two large objects adjacent");
	memset(A, 9, 1 << 20);
	ga_free(B);
	char *A2 = ga_realloc(A, (2 << 20) - 5);
	CHECK(A2 == A && A2[(1 << 20) - 1] == 9, "large realloc grows in place into freed neighbour");
	CHECK(ga_usable_size(A2) == 2 << 20, "grown usable size %zu", ga_usable_size(A2));
	ga_free(A2);
	CHECK(ga_realloc(p, 0) == NULL, "realloc(p, 0) frees and returns NULL");
}

static void test_calloc(void)
{
	for (size_t n = 1; n <= 70000; n = n * 3 + 1) {
		unsigned char *p = ga_malloc(n);
		memset(p, 0xa5, n);
		ga_free(p);
		for (int k = 0; k < 3; k++) {
			unsigned char *z = ga_calloc(1, n);
			bool zero = true;
			for (size_t i = 0; i < n; i++)
				zero &= z[i] == 0;
			CHECK(zero, "calloc(%zu) not zero", n);
			memset(z, 0x5a, n);
			ga_free(z);
		}
	}
	errno = 0;
	CHECK(ga_calloc(SIZE_MAX / 2, 4) == NULL && errno == ENOMEM, "calloc overflow must fail with ENOMEM");
}

/* Address-ordered first fit with coalescing: freeing two neighbours makes
 * room for an object the size of both, at the first one's address. */
static void test_coalesce(void)
{
	size_t sz = 40 * GA_PAGE_SIZE;
	char *a = ga_malloc(sz), *b = ga_malloc(sz), *c = ga_malloc(sz);
	CHECK(b == a + sz && c == b + sz, "large objects not adjacent: %p %p %p", (void *)a, (void *)b, (void *)c);
	ga_free(a);
	ga_free(b);
	char *d = ga_malloc(2 * sz);
	CHECK(d == a, "coalesced run not reused first-fit: %p vs %p", (void *)d, (void *)a);
	ga_free(d);
	ga_free(c);
}

static void test_scavenge(void)
{
	ga_heap_stats before, after;
	size_t n = 64, sz = 1 << 20;
	char *p[64];
	for (size_t i = 0; i < n; i++) {
		p[i] = ga_malloc(sz);
		memset(p[i], 1, sz);
	}
	ga_read_stats(&before);
	for (size_t i = 0; i < n; i++)
		ga_free(p[i]);
	ga_read_stats(&after);
	/* Within the cycle: HeapInuse + dirty pages stay under 110% of the
	 * goal (NextGC) plus the 1 MiB band, or the floor (scavenge.c). */
	uint64_t dirty = after.heap_idle - after.heap_released;
	uint64_t retained = after.next_gc + after.next_gc / 10;
	uint64_t retain = retained > after.heap_inuse ? retained - after.heap_inuse : 0;
	if (retain < ga_get_options()->scavenge_min_bytes)
		retain = ga_get_options()->scavenge_min_bytes;
	retain += 1 << 20;
	CHECK(after.next_gc >= 64 * sz, "NextGC %llu below the heap it was set for",
	      (unsigned long long)after.next_gc);
	CHECK(dirty <= retain, "scavenger left %llu dirty idle bytes, policy retains %llu",
	      (unsigned long long)dirty, (unsigned long long)retain);
	/* A second later the next page-heap free starts a cycle: the goal
	 * follows the now small heap and the freed pages go back to the OS. */
	struct timespec pause = {1, 200 * 1000 * 1000};
	nanosleep(&pause, NULL);
	ga_free(ga_malloc(sz));
	ga_read_stats(&after);
	uint64_t floor = ga_get_options()->scavenge_min_bytes;
	CHECK(after.heap_released >= before.heap_released + 60 * sz - floor - (1 << 20),
	      "too little released a cycle later: %llu of %llu bytes", (unsigned long long)after.heap_released,
	      (unsigned long long)(64 * sz));
	ga_release_all();
	ga_read_stats(&after);
	CHECK(after.heap_idle == after.heap_released, "release_all left %llu dirty bytes",
	      (unsigned long long)(after.heap_idle - after.heap_released));
}

static void test_aligned(void)
{
	for (size_t align = 1; align <= (4u << 20); align <<= 1) {
		static const size_t sizes[] = {1, 7, 16, 24, 100, 4096, 5000, 40000};
		for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
			void *p = ga_aligned_alloc(align, sizes[i]);
			CHECK(p && (uintptr_t)p % align == 0, "aligned_alloc(%zu, %zu) = %p", align, sizes[i], p);
			CHECK(ga_usable_size(p) >= sizes[i], "aligned usable");
			memset(p, 1, sizes[i]);
			ga_free(p);
		}
	}
	/* aligned objects larger than an arena: the run crosses arenas */
	static const size_t big[][2] = {{65536, 100u << 20}, {16384, (64u << 20) + 1}, {1u << 26, 200u << 20}};
	for (size_t i = 0; i < 3; i++) {
		void *p = ga_aligned_alloc(big[i][0], big[i][1]);
		CHECK(p && (uintptr_t)p % big[i][0] == 0, "aligned_alloc(%zu, %zu) = %p", big[i][0], big[i][1], p);
		if (p)
			memset(p, 1, 8192);
		ga_free(p);
	}
	errno = 0;
	CHECK(ga_aligned_alloc(24, 10) == NULL && errno == EINVAL, "non-power-of-two alignment");
}

static void test_enomem(void)
{
	errno = 0;
	CHECK(ga_malloc(SIZE_MAX - 100) == NULL && errno == ENOMEM, "huge malloc must fail with ENOMEM");
	errno = 0;
	CHECK(ga_malloc((size_t)1 << 46) == NULL && errno == ENOMEM, "64 TiB malloc must fail with ENOMEM");
	void *p = ga_malloc(10);
	errno = 0;
	CHECK(ga_realloc(p, SIZE_MAX - 100) == NULL && errno == ENOMEM, "huge realloc");
	ga_free(p);
}

static void *observer_thread(void *arg)
{
	(void)arg;
	nev = 0;
	void *p = ga_malloc(100);
	void *L = ga_malloc(100000);
	ga_free(p);
	ga_free(L);
	return NULL;
}

static void test_observer(void)
{
	ga_set_observer(observe, NULL);
	in_fresh_thread(observer_thread, NULL);
	ga_set_observer(NULL, NULL);
	/* nev/evs are per thread: check through a second run on this thread. */
	nev = 0;
	ga_set_observer(observe, NULL);
	void *p = ga_malloc(100);
	void *L = ga_malloc(100000);
	ga_free(p);
	ga_free(L);
	ga_set_observer(NULL, NULL);
	int small = 0;
	for (int i = 0; i < nev; i++)
		if (evs[i].kind == GA_EV_ALLOC_SMALL && evs[i].addr == (uintptr_t)p) {
			small++;
			CHECK(evs[i].cls == mode_class(100) && evs[i].size == 100, "small alloc event fields");
		}
	CHECK(small == 1, "one small alloc event, saw %d", small);
	CHECK(count_events(GA_EV_ALLOC_LARGE) == 1, "one large alloc event");
	CHECK(count_events(GA_EV_FREE) >= 2, "free events");
	CHECK(count_events(GA_EV_SPAN_FREE) >= 1, "large free returns a span to mheap");
}

/* Reuse threshold (mcentral.c): a span no mcache holds becomes PARTIAL,
 * i.e. a refill may take it, once a quarter of its slots (at least 1, at
 * most 16) are free, counting those its owner freed before giving it up;
 * it goes back to the page heap at its last free.  A thread fills one
 * fresh span, frees `local` of its objects itself and exits; this thread
 * frees the rest one by one and watches the state. */
typedef struct {
	size_t size;
	uint32_t local;
	void **objs; /* the span's objects, in address order */
	uint32_t n;
} reuse_arg;

static void *reuse_thread(void *arg)
{
	reuse_arg *a = arg;
	uint32_t n = ga_class_nelems(mode_class(a->size));
	uint32_t cap = 8 * n + 64, used = 0, run = 0;
	void **all = malloc(cap * sizeof *all);
	/* A fresh span hands out its slots from its base, in address order. */
	while (used < cap && run < n) {
		void *p = ga_malloc(a->size);
		all[used++] = p;
		ga_mspan *s = _ga_span_of((uintptr_t)p);
		if ((uintptr_t)p == s->base)
			run = 0;
		if (run > 0 && _ga_span_of((uintptr_t)a->objs[run - 1]) != s)
			run = 0;
		a->objs[run++] = p;
	}
	a->n = run;
	for (uint32_t i = 0; i < used - run; i++)
		ga_free(all[i]); /* the objects outside the span */
	free(all);
	for (uint32_t i = 0; i < a->local && i < run; i++)
		ga_free(a->objs[i]);
	return NULL;
}

static void reuse_case(size_t size, uint32_t local)
{
	unsigned cls = mode_class(size);
	uint32_t n = ga_class_nelems(cls), min = n / 4 < 1 ? 1 : n / 4 > 16 ? 16 : n / 4;
	reuse_arg a = {.size = size, .local = local, .objs = malloc(n * sizeof(void *))};
	in_fresh_thread(reuse_thread, &a);
	CHECK(a.n == n, "class %u: no fresh span of %u objects (got a run of %u)", cls, n, a.n);
	if (a.n != n) {
		free(a.objs);
		return;
	}
	ga_mspan *s = _ga_span_of((uintptr_t)a.objs[0]);
	for (uint32_t i = local; i < n; i++) {
		uint8_t want = i < min ? GA_SPAN_FULL : GA_SPAN_PARTIAL;
		uint8_t st = GA_LOAD(&s->state);
		CHECK(st == want, "class %u (%u slots, reusable at %u free): %u free, state %u, want %u", cls, n, min, i,
		      st, want);
		ga_free(a.objs[i]);
	}
	CHECK(GA_LOAD(&s->state) == GA_SPAN_FREE, "class %u: span not back in the page heap after its last free",
	      cls);
	free(a.objs);
}

static void test_reuse(void)
{
	reuse_case(1024, 0);  /* 8 slots: reusable at 2 free */
	reuse_case(256, 3);   /* 32 slots, 3 freed by the owner: 5 more needed */
	reuse_case(256, 8);   /* ... 8 by the owner: partial at once */
	reuse_case(48, 0);    /* 170 slots, three bitmap words: reusable at 16 */
	reuse_case(128, 10);  /* 64 slots: 6 more */
	reuse_case(16, 20);   /* 512 slots: partial at once */
	reuse_case(32768, 0); /* 1 slot */
}

/* mcentral's partial queue (a ring of span pointers): spans join it in the
 * order they become reusable and refills take them in that order, also
 * after the ring has grown, after spans left it out of turn (empty, back
 * to the page heap), and after it was packed in place.  Class 4096: two
 * slots a span, reusable at one free, empty at two. */
static bool queue_consistent(ga_mcentral *c)
{
	for (uint64_t i = c->qhead; i < c->qtail; i++) {
		ga_mspan *s = c->q[i & (c->qcap - 1)];
		if (s && (s->qpos != i || GA_LOAD(&s->state) != GA_SPAN_PARTIAL))
			return false;
	}
	return true;
}

static uint64_t queue_live(ga_mcentral *c)
{
	uint64_t n = 0;
	for (uint64_t i = c->qhead; i < c->qtail; i++)
		n += c->q[i & (c->qcap - 1)] != NULL;
	return n;
}

static void *queue_thread(void *arg)
{
	(void)arg;
	unsigned cls = mode_class(4096);
	ga_mcentral *c = &ga_central[cls];
	CHECK(ga_class_nelems(cls) == 2, "class %u has %u slots, want 2", cls, ga_class_nelems(cls));
	/* Empty the queue of what earlier cases left: every refill takes one. */
	enum { KEEP = 1 << 16 };
	void **keep = malloc(KEEP * sizeof *keep);
	uint32_t nkeep = 0;
	while (c->qhead != c->qtail && nkeep < KEEP)
		keep[nkeep++] = ga_malloc(4096);
	CHECK(c->qhead == c->qtail, "queue not emptied");
	uint64_t cap = c->qcap ? c->qcap : 512;
	/* cap + 2 fresh spans, two objects each; the last stays cached. */
	uint32_t nspans = (uint32_t)cap + 2;
	void **p = malloc(2 * (size_t)nspans * sizeof *p);
	for (uint32_t i = 0; i < 2 * nspans; i++)
		p[i] = ga_malloc(4096);
	bool paired = true;
	for (uint32_t i = 0; i < nspans; i++)
		paired &= _ga_span_of((uintptr_t)p[2 * i]) == _ga_span_of((uintptr_t)p[2 * i + 1]) &&
		          (i == 0 || _ga_span_of((uintptr_t)p[2 * i]) != _ga_span_of((uintptr_t)p[2 * i - 1]));
	CHECK(paired, "objects 2i and 2i+1 not the two slots of one span");
	if (!paired)
		goto out;
	/* Spans 0..cap-1 join in order: the ring fills exactly. */
	for (uint32_t i = 0; i < cap; i++)
		ga_free(p[2 * i + 1]);
	CHECK(c->qcap == cap && c->qtail - c->qhead == cap && queue_live(c) == cap,
	      "after %llu joins: ring of %llu, %llu places, %llu live", (unsigned long long)cap,
	      (unsigned long long)c->qcap, (unsigned long long)(c->qtail - c->qhead),
	      (unsigned long long)queue_live(c));
	/* Every even one leaves out of turn: empty, back to the heap (the
	 * last place stays taken, so the ring stays full). */
	for (uint32_t i = 0; i < cap; i += 2) {
		ga_mspan *s = _ga_span_of((uintptr_t)p[2 * i]);
		ga_free(p[2 * i]);
		CHECK(GA_LOAD(&s->state) == GA_SPAN_FREE, "span %u not freed at its last free", i);
	}
	CHECK(queue_live(c) == cap / 2 && queue_consistent(c), "half left: %llu live",
	      (unsigned long long)queue_live(c));
	/* One more joins a full ring half of which is live: packed in place. */
	ga_free(p[2 * cap + 1]);
	CHECK(c->qcap == cap && c->qtail - c->qhead == cap / 2 + 1 && queue_consistent(c),
	      "after packing: ring of %llu, %llu places", (unsigned long long)c->qcap,
	      (unsigned long long)(c->qtail - c->qhead));
	/* Refills hand out the odd spans' free slots in the order they
	 * joined, then span cap's. */
	bool order = true;
	for (uint32_t i = 1; i < cap; i += 2)
		order &= ga_malloc(4096) == p[2 * i + 1];
	order &= ga_malloc(4096) == p[2 * cap + 1];
	CHECK(order, "refills out of the order spans joined the queue");
	CHECK(queue_live(c) == 0, "%llu spans left in the queue", (unsigned long long)queue_live(c));
	/* Now every odd span is full again: freeing both slots of each joins
	 * it (first free) and takes it out of turn (second). */
	for (uint32_t i = 1; i < cap; i += 2) {
		ga_free(p[2 * i + 1]);
		ga_free(p[2 * i]);
	}
	ga_free(p[2 * cap + 1]);
	ga_free(p[2 * cap]);
	CHECK(queue_live(c) == 0 && queue_consistent(c), "%llu spans left after their last frees",
	      (unsigned long long)queue_live(c));
	/* Growth: 2 * cap spans join a ring of cap places. */
	void **q = malloc(4 * cap * sizeof *q);
	for (uint64_t i = 0; i < 4 * cap; i++)
		q[i] = ga_malloc(4096);
	for (uint64_t i = 0; i < 4 * cap; i += 2)
		ga_free(q[i]);
	CHECK(c->qcap >= 2 * cap && queue_live(c) >= 2 * cap - 1 && queue_consistent(c),
	      "after growth: ring of %llu, %llu live", (unsigned long long)c->qcap, (unsigned long long)queue_live(c));
	for (uint64_t i = 1; i < 4 * cap; i += 2)
		ga_free(q[i]);
	free(q);
	ga_free(p[2 * nspans - 2]);
	ga_free(p[2 * nspans - 1]);
out:
	free(p);
	for (uint32_t i = 0; i < nkeep; i++)
		ga_free(keep[i]);
	free(keep);
	return NULL;
}

static void test_partial_queue(void)
{
	in_fresh_thread(queue_thread, NULL);
}

/* A span of a thread stopped mid-allocation by fork: a slot taken (below
 * freeindex) but not yet counted.  _ga_span_recount, which the fork child
 * runs on dead threads' spans, counts it from the bitmap. */
static void *recount_thread(void *arg)
{
	(void)arg;
	unsigned cls = mode_class(48);
	void *p[100];
	for (int i = 0; i < 100; i++)
		p[i] = ga_malloc(48);
	ga_mspan *s = ga_tls_cache->alloc[cls];
	CHECK(s->alloc_count == 100 && s->nelems > 101, "a fresh span of %u slots with 100 taken", s->nelems);
	for (int torn = 1; torn <= 2; torn++) {
		uint32_t idx = _ga_span_next_free_fast(s);
		CHECK(idx == 99 + (uint32_t)torn, "the next slot in order: %u", idx);
		GA_STORE(&s->alloc_count, s->alloc_count - 1); /* stopped before counting it */
		_ga_span_recount(s);
		CHECK(s->alloc_count == 100 + torn, "recount: %d slots allocated, want %d", s->alloc_count, 100 + torn);
	}
	ga_free((char *)s->base + 100 * s->elemsize);
	ga_free((char *)s->base + 101 * s->elemsize);
	for (int i = 0; i < 100; i++)
		ga_free(p[i]);
	return NULL;
}

static void test_fork_recount(void)
{
	in_fresh_thread(recount_thread, NULL);
}

static void test_stats_exact(void)
{
	ga_heap_stats a, b;
	ga_read_stats(&a);
	void *p[100];
	for (int i = 0; i < 100; i++)
		p[i] = ga_malloc(1000);
	ga_read_stats(&b);
	uint64_t cls = mode_class(1000);
	CHECK(b.cls[cls].allocs - a.cls[cls].allocs == 100, "class allocs counted");
	CHECK(b.heap_alloc - a.heap_alloc == 100 * ga_class_size(cls), "HeapAlloc grows by 100 objects");
	for (int i = 0; i < 100; i++)
		ga_free(p[i]);
	ga_read_stats(&b);
	CHECK(b.heap_alloc == a.heap_alloc, "HeapAlloc back after frees");
	CHECK(b.heap_sys == b.heap_inuse + b.heap_idle, "HeapSys = HeapInuse + HeapIdle");
}

int main(void)
{
	go_exact = ga_get_options()->go_exact;
	tiny_on = ga_get_options()->tiny;
	printf("mode: %s, tiny %s\n", go_exact ? "Go-exact" : "C-safe", tiny_on ? "on" : "off");
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{"class placement", test_class_placement}, {"usable size", test_usable_size},
		{"tiny", test_tiny},                       {"realloc", test_realloc},
		{"calloc", test_calloc},                   {"coalesce", test_coalesce},
		{"scavenge", test_scavenge},               {"aligned", test_aligned},
		{"enomem", test_enomem},                   {"observer", test_observer},
		{"stats", test_stats_exact},               {"reuse threshold", test_reuse},
		{"fork recount", test_fork_recount},       {"partial queue", test_partial_queue},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int before = check_failures;
		cases[i].fn();
		printf("  %-16s %s\n", cases[i].name, check_failures == before ? "ok" : "FAILED");
	}
	return check_result("test_heap");
}
