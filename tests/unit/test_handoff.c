/* test_handoff.c: producer/consumer pairs: one thread allocates, another
 * frees, so every free is a remote free into spans the producer's cache
 * handed out, and spans go back to the heap while frees into them may still
 * be in flight (the race a remote free must survive: bench-prodcons found a
 * crash there that test_stress's mostly-local frees did not).
 *
 *   test_handoff [pairs] [objects per pair] [ring slots]
 *
 * Sizes: tiny, small of many classes, a few large.  Each object carries a
 * pattern the consumer checks before freeing; the consumer sometimes holds
 * a batch back and frees it at once (spans empty in bursts).  At the end the
 * heap must hold no allocated bytes and no in-use spans.
 *
 * Built twice: as a unit test of allocator/ (ga_malloc, linked statically)
 * and, with -DHANDOFF_MALLOC, as a preload test calling malloc and free
 * through libgoalloc.so (tests/preload): the races are timing-dependent and
 * the preloaded build is the one that showed the crash; there the final
 * check reads HeapAlloc through mallinfo2. */
#include "check.h"

#ifdef HANDOFF_MALLOC
#include <malloc.h>
#define ga_malloc malloc
#define ga_free free
#else
#include "ga.h"
#endif

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct msg {
	uint64_t *p;
	size_t n;
	uint64_t tag;
} msg;

typedef struct pair {
	msg *ring;
	size_t cap;
	_Atomic size_t head, tail;
	long count;
	uint64_t seed;
	pthread_t prod, cons;
} pair;

static _Atomic int corrupt;

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Mostly small, and one in ten from classes with few objects per span
 * (257 B .. 8 KiB): their spans fill at once, go back to mcentral and, once
 * the consumer has freed their objects, to the heap, while the consumer may
 * still be inside its free of the last one. */
static size_t pick_size(uint64_t *s)
{
	uint64_t r = rng(s) % 1000;
	if (r < 50)
		return 1 + rng(s) % 15;
	if (r < 895)
		return 16 + rng(s) % 241;
	if (r < 998)
		return 257 + rng(s) % 7936;
	return 32769 + rng(s) % 100000;
}

/* Wait for the other thread: spin first (both threads on their own core is
 * when the allocator's races are tightest), then yield (fewer cores). */
static void backoff(unsigned *spins)
{
	if (++*spins < 200) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	} else {
		*spins = 0;
		sched_yield();
	}
}

/* The first bytes (up to 64) and the last byte: cheap enough that the two
 * threads run at allocator speed, where the races are. */
static void fill(uint64_t *p, size_t n, uint64_t tag)
{
	unsigned char *b = (unsigned char *)p;
	for (size_t i = 0; i < n && i < 64; i++)
		b[i] = (unsigned char)(tag + i * 131);
	b[n - 1] = (unsigned char)(tag >> 8);
}

static bool good(const uint64_t *p, size_t n, uint64_t tag)
{
	const unsigned char *b = (const unsigned char *)p;
	for (size_t i = 0; i < n && i < 64; i++)
		if (b[i] != (unsigned char)(tag + i * 131) && !(i == n - 1 && b[i] == (unsigned char)(tag >> 8)))
			return false;
	return b[n - 1] == (unsigned char)(tag >> 8);
}

static void *producer(void *arg)
{
	pair *pr = arg;
	uint64_t s = pr->seed;
	for (long i = 0; i <= pr->count; i++) {
		msg m = {0};
		if (i < pr->count) {
			m.n = pick_size(&s);
			m.tag = rng(&s);
			m.p = ga_malloc(m.n);
			if (!m.p) {
				corrupt = 1;
				return NULL;
			}
			fill(m.p, m.n, m.tag);
		}
		size_t h = atomic_load_explicit(&pr->head, memory_order_relaxed);
		unsigned spins = 0;
		while (h - atomic_load_explicit(&pr->tail, memory_order_acquire) == pr->cap)
			backoff(&spins);
		pr->ring[h % pr->cap] = m;
		atomic_store_explicit(&pr->head, h + 1, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	pair *pr = arg;
	enum { HOLD = 512 };
	msg held[HOLD];
	int nheld = 0;
	uint64_t s = pr->seed ^ 0x9e3779b97f4a7c15ull;
	for (;;) {
		size_t t = atomic_load_explicit(&pr->tail, memory_order_relaxed);
		unsigned spins = 0;
		while (atomic_load_explicit(&pr->head, memory_order_acquire) == t)
			backoff(&spins);
		msg m = pr->ring[t % pr->cap];
		atomic_store_explicit(&pr->tail, t + 1, memory_order_release);
		if (!m.p)
			break;
		if (!good(m.p, m.n, m.tag))
			corrupt = 1;
		if (rng(&s) % 8 == 0 && nheld < HOLD) {
			held[nheld++] = m; /* freed later, in a burst */
			continue;
		}
		ga_free(m.p);
		if (nheld == HOLD || (nheld && rng(&s) % 4096 == 0)) {
			for (int i = 0; i < nheld; i++) {
				if (!good(held[i].p, held[i].n, held[i].tag))
					corrupt = 1;
				ga_free(held[i].p);
			}
			nheld = 0;
		}
	}
	for (int i = 0; i < nheld; i++)
		ga_free(held[i].p);
	return NULL;
}

int main(int argc, char **argv)
{
	int npairs = argc > 1 ? atoi(argv[1]) : 2;
	long count = argc > 2 ? atol(argv[2]) : 2000000;
	size_t cap = argc > 3 ? (size_t)atol(argv[3]) : 1024;
	if (npairs <= 0 || count <= 0 || cap == 0) {
		fprintf(stderr, "usage: test_handoff [pairs] [objects per pair] [ring slots]\n");
		return 2;
	}
	pair *pairs = calloc((size_t)npairs, sizeof *pairs);
	if (!pairs)
		return 2;
	for (int i = 0; i < npairs; i++) {
		pairs[i].ring = calloc(cap, sizeof(msg));
		if (!pairs[i].ring)
			return 2;
		pairs[i].cap = cap;
		pairs[i].count = count;
		pairs[i].seed = 0x1234567ull + (uint64_t)i * 7919;
		if (pthread_create(&pairs[i].cons, NULL, consumer, &pairs[i]) != 0 ||
		    pthread_create(&pairs[i].prod, NULL, producer, &pairs[i]) != 0) {
			fprintf(stderr, "test_handoff: cannot start threads\n");
			return 2;
		}
	}
	for (int i = 0; i < npairs; i++) {
		pthread_join(pairs[i].prod, NULL);
		pthread_join(pairs[i].cons, NULL);
		free(pairs[i].ring);
	}
	free(pairs);
	CHECK(!corrupt, "an object's contents changed between its allocation and its free");
#ifdef HANDOFF_MALLOC
	/* mallinfo2 under libgoalloc.so: uordblks is HeapAlloc.  The C library
	 * and this program hold a few objects of their own: bound, not zero. */
	struct mallinfo2 mi = mallinfo2();
	CHECK(mi.uordblks < (1u << 20), "HeapAlloc %zu after freeing every message", mi.uordblks);
#else
	ga_release_all();
	ga_heap_stats st;
	ga_read_stats(&st);
	CHECK(st.heap_alloc == 0, "HeapAlloc %llu after freeing everything", (unsigned long long)st.heap_alloc);
	CHECK(st.heap_inuse == 0, "HeapInuse %llu after freeing everything", (unsigned long long)st.heap_inuse);
#endif
	printf("test_handoff: %d pairs x %ld objects\n", npairs, count);
	return check_result("test_handoff");
}
