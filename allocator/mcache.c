/* mcache.c: the per-thread cache (Go's mcache, per thread instead of per P):
 * one span per span class to allocate from without locks, the thread's tiny
 * block, and its statistics.  Created on a thread's first allocation,
 * flushed back to mcentral when the thread exits (pthread key destructor).
 * See malloc.c for the overview.
 *
 * Invariants: only the owning thread touches its mcache, except
 *   - the all-caches list and the totals of dead caches (all_lock), read for
 *     statistics;
 *   - after fork, the child flushes the caches of threads that did not
 *     survive the fork.
 * Allocation after a thread's cache was flushed (glibc frees and allocates
 * during thread teardown) goes through the shared orphan cache under
 * orphan_lock.
 */
#include "ga_internal.h"

#include <string.h>

GA_HIDDEN __thread ga_mcache *ga_tls_cache __attribute__((tls_model("initial-exec")));
GA_HIDDEN __thread bool ga_tls_dead __attribute__((tls_model("initial-exec")));
GA_HIDDEN uint64_t ga_orphan_nfree[GA_SPANCLASSES]; /* atomic: frees on threads with no cache */

static pthread_key_t cache_key;
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static ga_mcache *all_head;      /* all_lock */
static ga_mcache dead_totals;    /* all_lock: statistics of flushed caches */
static pthread_mutex_t orphan_lock = PTHREAD_MUTEX_INITIALIZER;
static ga_mcache orphan;         /* orphan_lock */

static void cache_init(ga_mcache *c)
{
	for (int i = 0; i < GA_SPANCLASSES; i++)
		c->alloc[i] = &ga_empty_span;
}

static void cache_destructor(void *p)
{
	(void)p;
	ga_thread_exit();
}

void _ga_mcache_init(void)
{
	pthread_key_create(&cache_key, cache_destructor);
	cache_init(&orphan);
}

static void all_link_locked(ga_mcache *c)
{
	c->all_prev = NULL;
	c->all_next = all_head;
	if (all_head)
		all_head->all_prev = c;
	all_head = c;
}

static void all_unlink_locked(ga_mcache *c)
{
	if (c->all_prev)
		c->all_prev->all_next = c->all_next;
	else
		all_head = c->all_next;
	if (c->all_next)
		c->all_next->all_prev = c->all_prev;
}

/* The calling thread's cache, created now; NULL once the thread has exited. */
ga_mcache *_ga_mcache_get_slow(void)
{
	_ga_ensure_init();
	if (ga_tls_dead)
		return NULL;
	_ga_stmode_new_cache(); /* T0 or not, before this thread takes a heap lock */
	ga_mcache *c = _ga_fixalloc_mcache();
	if (!c)
		return NULL; /* the caller allocates through the shared cache; the next call tries again */
	cache_init(c);
	pthread_mutex_lock(&all_lock);
	all_link_locked(c);
	pthread_mutex_unlock(&all_lock);
	ga_tls_cache = c; /* before setspecific, which may itself allocate */
	pthread_setspecific(cache_key, c);
	return c;
}

void *_ga_orphan_enter(void)
{
	_ga_ensure_init();
	pthread_mutex_lock(&orphan_lock);
	return &orphan;
}

void _ga_orphan_leave(void)
{
	pthread_mutex_unlock(&orphan_lock);
}

/* Go's mcache.refill: give back the exhausted span, take one with room. */
ga_mspan *_ga_mcache_refill(ga_mcache *c, uint8_t spc)
{
	ga_mspan *s = c->alloc[spc];
	c->alloc[spc] = &ga_empty_span;
	s = _ga_mcentral_exchange(s != &ga_empty_span ? s : NULL, spc);
	if (!s)
		return NULL;
	__atomic_store_n(&s->owner, c, __ATOMIC_RELAXED); /* read only by this thread to match itself */
	c->alloc[spc] = s;
	GA_EMIT(.kind = GA_EV_REFILL, .cls = s->cls, .span_id = s->id, .addr = s->base,
	        .npages = s->npages, .aux = (uint64_t)(s->nelems - (uint32_t)s->alloc_count),
	        .flags = spc == GA_SPANCLASS_TINY ? GA_EVF_TINY_SPAN : 0);
	return s;
}

/* Allocation when nextFreeFast found nothing: Go's mcache.nextFree. */
void *_ga_small_alloc_slow(ga_mcache *c, uint8_t spc)
{
	ga_mspan *s = c->alloc[spc];
	uint32_t idx = _ga_span_next_free_index(s);
	if (idx >= s->nelems) {
		s = _ga_mcache_refill(c, spc);
		if (!s)
			return NULL;
		idx = _ga_span_next_free_index(s);
		if (idx >= s->nelems)
			_ga_fatal("malloc", "internal error: refilled span has no free slot", (void *)s->base);
	}
	return (void *)(s->base + (uintptr_t)idx * s->elemsize);
}

static void add_stats(ga_mcache *to, const ga_mcache *from)
{
	for (int i = 0; i < GA_SPANCLASSES; i++) {
		to->nmalloc[i] += from->nmalloc[i];
		to->nfree[i] += from->nfree[i];
	}
	to->tiny_allocs += from->tiny_allocs;
	to->large_allocs += from->large_allocs;
	to->large_frees += from->large_frees;
	to->large_bytes_alloc += from->large_bytes_alloc;
	to->large_bytes_free += from->large_bytes_free;
}

static void release_spans(ga_mcache *c, bool recount)
{
	for (int i = 0; i < GA_SPANCLASSES; i++) {
		ga_mspan *s = c->alloc[i];
		if (s != &ga_empty_span) {
			c->alloc[i] = &ga_empty_span;
			if (recount)
				_ga_span_recount(s);
			_ga_mcentral_uncache_span(s);
		}
	}
}

/* Give every cached span back to mcentral (Go's mcache.releaseAll). */
void _ga_mcache_release_all(ga_mcache *c)
{
	_ga_tiny_retire(c);
	release_spans(c, false);
}

void ga_thread_exit(void)
{
	ga_mcache *c = ga_tls_cache;
	if (!c)
		return;
	_ga_mcache_release_all(c);
	ga_tls_cache = NULL;
	ga_tls_dead = true;
	pthread_mutex_lock(&all_lock);
	all_unlink_locked(c);
	add_stats(&dead_totals, c);
	pthread_mutex_unlock(&all_lock);
	/* Late frees on this thread see ga_tls_cache == NULL and never touch c;
	 * late allocations use the orphan cache.  So c can serve a new thread. */
	_ga_fixfree_mcache(c);
	if (ga_thread_exit_hook)
		ga_thread_exit_hook();
}

static bool lock_or_try(pthread_mutex_t *m, bool nowait)
{
	if (nowait)
		return pthread_mutex_trylock(m) == 0;
	pthread_mutex_lock(m);
	return true;
}

bool _ga_mcaches_sum(ga_heap_stats *out, bool nowait)
{
	ga_mcache t;
	memset(&t, 0, sizeof t);
	if (!lock_or_try(&all_lock, nowait))
		return false;
	add_stats(&t, &dead_totals);
	for (ga_mcache *c = all_head; c; c = c->all_next)
		add_stats(&t, c);
	pthread_mutex_unlock(&all_lock);
	if (!lock_or_try(&orphan_lock, nowait))
		return false;
	add_stats(&t, &orphan);
	pthread_mutex_unlock(&orphan_lock);
	for (int i = 0; i < GA_SPANCLASSES; i++)
		t.nfree[i] += GA_LOAD(&ga_orphan_nfree[i]);

	uint64_t alloc = 0;
	for (int i = 1; i < GA_SPANCLASSES; i++) {
		unsigned cls = i == GA_SPANCLASS_TINY ? 2 : (unsigned)i;
		out->cls[cls].allocs += t.nmalloc[i];
		out->cls[cls].frees += t.nfree[i];
		alloc += (t.nmalloc[i] - t.nfree[i]) * ga_class_to_size[cls];
	}
	out->tiny_allocs = t.tiny_allocs;
	out->tiny_blocks = t.nmalloc[GA_SPANCLASS_TINY];
	out->large_allocs = t.large_allocs;
	out->large_frees = t.large_frees;
	out->cls[0].allocs = t.large_allocs;
	out->cls[0].frees = t.large_frees;
	out->heap_alloc = alloc + t.large_bytes_alloc - t.large_bytes_free;
	return true;
}

void _ga_mcaches_lock(void)
{
	pthread_mutex_lock(&orphan_lock);
	pthread_mutex_lock(&all_lock);
}

void _ga_mcaches_unlock(void)
{
	pthread_mutex_unlock(&all_lock);
	pthread_mutex_unlock(&orphan_lock);
}

/* The cache of a thread that did not survive a fork, back to mcentral.
 * The thread may have stopped anywhere outside the heap's locks (fork's
 * prepare handler holds them): in its allocation fast path, or between
 * two stores of its tiny block's fields.  Its spans are counted again
 * before they are listed (a span listed with a slot too many made the
 * child's refill find none: "refilled span has no free slot", 2 runs in
 * 40 of e2e fork-threads); a tiny block caught half set up is left
 * as it is (16 bytes). */
static void release_dead(ga_mcache *c)
{
	if (c->tiny && c->tiny_word && c->tiny_span)
		_ga_tiny_retire(c);
	release_spans(c, true);
}

/* In a fork child only the forking thread survives: flush the others. */
void _ga_mcaches_after_fork_child(void)
{
	ga_mcache *self = ga_tls_cache;
	ga_mcache *c = all_head;
	while (c) {
		ga_mcache *next = c->all_next;
		if (c != self) {
			release_dead(c);
			all_unlink_locked(c);
			add_stats(&dead_totals, c);
		}
		c = next;
	}
}
