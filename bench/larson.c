/* larson.c: bench-larson, a server simulation after Larson and Krishnan.
 *
 * `threads` worker threads each own an array of `slots` live objects of
 * 8..1000 bytes.  A worker repeatedly picks a random slot, checks its object,
 * and replaces it with a new one of random size; one time in 16 the old
 * object (if it is at least 24 bytes) is not freed but handed to another
 * worker's inbox, which that worker frees later: memory allocated by one
 * thread and freed by another, as a server's connection buffers are.  The
 * workers live for one generation of `iters` replacements, then exit and are
 * replaced by new threads that inherit their arrays and inboxes, so thread
 * caches are torn down and rebuilt `gens` times.  Per-thread fixed seeds: the
 * objects made, and so the checksum, do not depend on the interleaving.
 *
 * Usage: bench-larson [threads [gens [iters [slots]]]]
 */
#include "bench_common.h"

#include <pthread.h>
#include <stdatomic.h>

static const char *prog = "bench-larson";

enum { MIN_BYTES = 8, MAX_BYTES = 1000, HANDOFF_MIN_BYTES = 24 };

typedef struct slot {
	void *p;
	uint32_t size;
	uint64_t tag;
} slot;

/* A handed-off object reuses its first 24 bytes for this header; the rest
 * still holds the pattern byte of its tag. */
typedef struct handoff {
	struct handoff *next;
	uint64_t size;
	uint64_t tag;
} handoff;

typedef struct worker {
	pthread_mutex_t lock;
	handoff *inbox; /* protected by lock */
	slot *slots;    /* owned by the worker thread of the current generation */
	unsigned id;
	unsigned gen;
	uint64_t made, checked; /* tag sums, written by the worker only */
	uint64_t handed;
	char pad[64]; /* keeps workers' counters off each other's cache lines */
} worker;

static worker *workers;
static unsigned nthreads, ngens;
static uint64_t iters;
static size_t nslots;

static void check_slot(const slot *s)
{
	if (!bench_check(s->p, s->size, s->tag))
		bench_fail(prog, "object of %u bytes corrupted", s->size);
}

static uint64_t drain_inbox(worker *w)
{
	pthread_mutex_lock(&w->lock);
	handoff *h = w->inbox;
	w->inbox = NULL;
	pthread_mutex_unlock(&w->lock);
	uint64_t sum = 0;
	while (h) {
		handoff *next = h->next;
		const unsigned char *b = (const unsigned char *)h;
		uint8_t v = bench_tag_byte(h->tag);
		size_t n = h->size;
		if (n < HANDOFF_MIN_BYTES || n > MAX_BYTES ||
		    (n > HANDOFF_MIN_BYTES && (b[HANDOFF_MIN_BYTES] != v || b[n - 1] != v)))
			bench_fail(prog, "handed-off object of %zu bytes corrupted", n);
		sum += h->tag;
		free(h);
		h = next;
	}
	return sum;
}

static void new_object(worker *w, slot *s, bench_rng *r, uint64_t *serial)
{
	s->size = (uint32_t)bench_range(r, MIN_BYTES, MAX_BYTES);
	s->tag = ((uint64_t)(w->gen * nthreads + w->id + 1) << 40) | ++*serial;
	s->p = bench_xmalloc(prog, s->size);
	bench_fill(s->p, s->size, s->tag);
	w->made += s->tag;
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	bench_rng r = { 0x5eed0000ull + (uint64_t)w->gen * 1000 + w->id };
	uint64_t serial = 0;

	if (w->gen == 0)
		for (size_t i = 0; i < nslots; i++)
			new_object(w, &w->slots[i], &r, &serial);

	for (uint64_t it = 0; it < iters; it++) {
		slot *s = &w->slots[bench_rand(&r) % nslots];
		check_slot(s);
		w->checked += s->tag;
		if (nthreads > 1 && s->size >= HANDOFF_MIN_BYTES && bench_rand(&r) % 16 == 0) {
			unsigned to = (w->id + 1 + (unsigned)(bench_rand(&r) % (nthreads - 1))) % nthreads;
			handoff *h = s->p;
			h->size = s->size;
			h->tag = s->tag;
			w->checked -= s->tag; /* counted by the receiver */
			w->handed++;
			pthread_mutex_lock(&workers[to].lock);
			h->next = workers[to].inbox;
			workers[to].inbox = h;
			pthread_mutex_unlock(&workers[to].lock);
		} else {
			free(s->p);
		}
		new_object(w, s, &r, &serial);
		if ((it & 255) == 255)
			w->checked += drain_inbox(w);
	}
	w->checked += drain_inbox(w);
	return NULL;
}

int main(int argc, char **argv)
{
	nthreads = (unsigned)bench_arg(argc, argv, 1, 4);
	ngens = (unsigned)bench_arg(argc, argv, 2, 8);
	iters = bench_arg(argc, argv, 3, 250000);
	nslots = (size_t)bench_arg(argc, argv, 4, 4000);
	if (nthreads == 0 || nslots == 0)
		bench_fail(prog, "threads and slots must be positive");

	workers = calloc(nthreads, sizeof *workers);
	if (!workers)
		bench_fail(prog, "cannot allocate the workers");
	for (unsigned t = 0; t < nthreads; t++) {
		pthread_mutex_init(&workers[t].lock, NULL);
		workers[t].id = t;
		workers[t].slots = calloc(nslots, sizeof(slot));
		if (!workers[t].slots)
			bench_fail(prog, "cannot allocate the slots");
	}
	pthread_t *tids = calloc(nthreads, sizeof *tids);
	if (!tids)
		bench_fail(prog, "cannot allocate the thread ids");

	for (unsigned g = 0; g < ngens; g++) {
		for (unsigned t = 0; t < nthreads; t++) {
			workers[t].gen = g;
			if (pthread_create(&tids[t], NULL, worker_main, &workers[t]))
				bench_fail(prog, "cannot create a thread");
		}
		for (unsigned t = 0; t < nthreads; t++)
			pthread_join(tids[t], NULL);
	}

	uint64_t made = 0, checked = 0, handed = 0;
	for (unsigned t = 0; t < nthreads; t++) {
		worker *w = &workers[t];
		w->checked += drain_inbox(w);
		for (size_t i = 0; i < nslots; i++) {
			check_slot(&w->slots[i]);
			w->checked += w->slots[i].tag;
			free(w->slots[i].p);
		}
		free(w->slots);
		made += w->made;
		checked += w->checked;
		handed += w->handed;
	}
	free(tids);
	free(workers);
	if (checked != made)
		bench_fail(prog, "checksum %llu, expected %llu", (unsigned long long)checked,
		           (unsigned long long)made);
	printf("bench-larson: ok threads=%u gens=%u handed=%llu checksum=%llu\n", nthreads, ngens,
	       (unsigned long long)handed, (unsigned long long)checked);
	return 0;
}
