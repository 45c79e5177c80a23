/* test_stress.c: deterministic multi-threaded stress of the heap with content
 * verification, cross-thread frees and thread churn.
 *
 *   test_stress [threads] [slots per thread] [operations per thread] [waves]
 *
 * Each wave starts `threads` threads; each thread replaces random slots of
 * its own array with new objects (sizes from tiny to large, some realloc'd,
 * some calloc'd), writes a pattern derived from (thread, slot, generation)
 * and checks it before freeing.  One object in eight is instead passed to a
 * shared exchange where another thread verifies and frees it.  Threads exit
 * at the end of each wave (their caches are flushed); the next wave reuses
 * the spans.  At the end every object is freed and the heap must hold no
 * allocated bytes and no in-use spans. */
#include "check.h"
#include "ga.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct obj {
	unsigned char *p;
	size_t n;
	uint32_t seed;
} obj;

static int nthreads = 4, nslots = 2000, nops = 200000, nwaves = 3;

enum { XCH = 4096 };
static obj exchange[XCH];
static pthread_mutex_t xlock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int corrupt;

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t pick_size(uint64_t *s)
{
	uint64_t r = rng(s) % 1000;
	if (r < 300)
		return 1 + rng(s) % 15; /* tiny */
	if (r < 800)
		return 16 + rng(s) % 500;
	if (r < 970)
		return 512 + rng(s) % 32256;
	if (r < 995)
		return 32769 + rng(s) % 200000;
	return (1 << 20) + rng(s) % (3 << 20);
}

/* The pattern: 64-bit words of a sequence seeded by the object's seed, so
 * every byte is checked at memory speed. */
static inline uint64_t pattern_next(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return *x;
}

static void fill(obj *o)
{
	uint64_t x = o->seed, v;
	size_t i = 0;
	for (; i + 8 <= o->n; i += 8) {
		v = pattern_next(&x);
		memcpy(o->p + i, &v, 8);
	}
	v = pattern_next(&x);
	memcpy(o->p + i, &v, o->n - i);
}

static bool check_obj(const obj *o)
{
	uint64_t x = o->seed, v;
	size_t i = 0;
	for (; i + 8 <= o->n; i += 8) {
		v = pattern_next(&x);
		if (memcmp(o->p + i, &v, 8))
			return false;
	}
	v = pattern_next(&x);
	return memcmp(o->p + i, &v, o->n - i) == 0;
}

static void release(obj *o)
{
	if (!o->p)
		return;
	if (!check_obj(o))
		corrupt++;
	ga_free(o->p);
	o->p = NULL;
}

static void *worker(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	uint64_t s = 0x9e3779b97f4a7c15ull * (id + 1);
	obj *slots = calloc((size_t)nslots, sizeof *slots);
	for (int op = 0; op < nops; op++) {
		obj *o = &slots[rng(&s) % (uint64_t)nslots];
		uint64_t what = rng(&s) % 16;
		if (o->p && what == 0) {
			/* realloc keeps the prefix */
			size_t n = pick_size(&s);
			size_t keep = n < o->n ? n : o->n;
			unsigned char *q = ga_realloc(o->p, n);
			obj t = {q, keep, o->seed};
			if (!q || !check_obj(&t))
				corrupt++;
			o->p = q;
			o->n = n;
			fill(o);
			continue;
		}
		if (o->p && what <= 2) {
			/* hand it to whichever thread looks at this exchange slot next */
			pthread_mutex_lock(&xlock);
			obj *x = &exchange[rng(&s) % XCH];
			obj old = *x;
			*x = *o;
			pthread_mutex_unlock(&xlock);
			o->p = NULL;
			release(&old);
			continue;
		}
		release(o);
		o->n = pick_size(&s);
		o->seed = (uint32_t)rng(&s);
		if (what == 3) {
			o->p = ga_calloc(1, o->n);
			for (size_t i = 0; o->p && i < o->n; i++)
				if (o->p[i])
					corrupt++;
		} else {
			o->p = ga_malloc(o->n);
		}
		if (!o->p) {
			corrupt++;
			continue;
		}
		fill(o);
	}
	for (int i = 0; i < nslots; i++)
		release(&slots[i]);
	free(slots);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		nthreads = atoi(argv[1]);
	if (argc > 2)
		nslots = atoi(argv[2]);
	if (argc > 3)
		nops = atoi(argv[3]);
	if (argc > 4)
		nwaves = atoi(argv[4]);
	for (int w = 0; w < nwaves; w++) {
		pthread_t t[256];
		for (int i = 0; i < nthreads && i < 256; i++)
			pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(w * 1000 + i));
		for (int i = 0; i < nthreads && i < 256; i++)
			pthread_join(t[i], NULL);
	}
	for (int i = 0; i < XCH; i++)
		release(&exchange[i]);
	CHECK(corrupt == 0, "%d objects corrupted or lost", (int)corrupt);
	ga_heap_stats st;
	ga_read_stats(&st);
	CHECK(st.heap_alloc == 0, "HeapAlloc %llu after freeing everything", (unsigned long long)st.heap_alloc);
	CHECK(st.heap_inuse == 0, "HeapInuse %llu after freeing everything and all threads exited",
	      (unsigned long long)st.heap_inuse);
	CHECK(st.heap_sys == st.heap_inuse + st.heap_idle, "HeapSys = HeapInuse + HeapIdle");
	for (unsigned c = 0; c < GA_CLASSES; c++)
		CHECK(st.cls[c].allocs == st.cls[c].frees, "class %u: %llu allocs, %llu frees", c,
		      (unsigned long long)st.cls[c].allocs, (unsigned long long)st.cls[c].frees);
	printf("threads %d slots %d ops %d waves %d: HeapSys %llu KiB, released %llu KiB\n", nthreads, nslots,
	       nops, nwaves, (unsigned long long)st.heap_sys >> 10, (unsigned long long)st.heap_released >> 10);
	return check_result("test_stress");
}
