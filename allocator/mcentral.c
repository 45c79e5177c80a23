/* mcentral.c: per span class, the spans not owned by any mcache (Go's
 * mcentral): `partial` (free slots at their last sweep, or frees pending)
 * and `full`.  An mcache gives back its exhausted span and takes one with
 * room in one call (exchange), and gives back all its spans at thread exit
 * (uncache_span); spans come from and return to mheap.
 * See malloc.c for the overview.
 *
 * State machine of a small span (every transition under c->lock, except
 * CACHED -> the owner's private fields):
 *   mheap --grow--> CACHED --uncache--> PARTIAL | FULL | back to mheap (empty)
 *   PARTIAL --exchange--> CACHED
 *   FULL --the free that makes it reusable--> PARTIAL
 *   PARTIAL | FULL --last free--> back to mheap
 * Reuse threshold: a listed span is PARTIAL once a quarter of its slots (at
 * least 1, at most 16) are free, FULL below that.  Go reuses a slot only
 * after the collection that finds it dead, so its refills get spans in
 * which a cycle's garbage has collected; a C program frees one object at a
 * time, and moving a span to partial at its first free handed refills
 * spans with one or two free slots, each refill paying the class lock and
 * two sweeps (bench-larson: 4.2 objects per refill, 2.1 in the 1 KiB class;
 * 6.0 with this rule, in 0.88x the time; bench-churn's peak RSS +6%, and
 * +26% with half the slots instead of a quarter).  The cap keeps spans of
 * small objects, whose refills are cheap per object anyway, from idling a
 * quarter of their slots.  A FULL span keeps in reuse_need the freed bits
 * it still needs, fixed while it is listed.  A span below the threshold
 * keeps its few free slots idle until more frees come: that is span waste
 * (HeapInuse - HeapAlloc), which the report shows.
 * Publication: the state is stored with seq_cst and then the freed bits are
 * counted (seq_cst loads); a freer ORs its bit with seq_cst and then reads
 * the state (and reuse_need, written before it); so at least one side sees
 * the other and no free is left unhandled (Dekker).
 */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP */
#include "ga_internal.h"

GA_HIDDEN ga_mcentral ga_central[GA_SPANCLASSES];

static void list_init(ga_mspan *h)
{
	h->next = h->prev = h;
}

static void list_remove(ga_mspan *s)
{
	s->prev->next = s->next;
	s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static void list_push(ga_mspan *h, ga_mspan *s)
{
	s->next = h->next;
	s->prev = h;
	h->next->prev = s;
	h->next = s;
}

/* The partial list is a queue, as Go's partial spanSets are: spans join at
 * the tail and refills take the head, so the span handed out is the one
 * that has been collecting frees longest (with random frees, taking the
 * newest instead gave ~1.5 objects per refill on bench-churn). */
static void partial_push(ga_mcentral *c, ga_mspan *s)
{
	ga_mspan *h = &c->partial;
	s->prev = h->prev;
	s->next = h;
	h->prev->next = s;
	h->prev = s;
}

void _ga_mcentral_init(void)
{
	/* Critical sections here are a few list operations: spinning briefly
	 * before sleeping beats a futex round trip (bench-larson, 4 threads:
	 * 155,000 futex calls with plain mutexes). */
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	for (int i = 0; i < GA_SPANCLASSES; i++) {
		pthread_mutex_init(&ga_central[i].lock.m, &attr);
		list_init(&ga_central[i].partial);
		list_init(&ga_central[i].full);
	}
}

/* The free slots that make a listed span PARTIAL: a quarter of its slots,
 * at least 1 and at most 16 (the threshold above). */
static int32_t reuse_min(uint32_t nelems)
{
	int32_t n = (int32_t)(nelems / 4);
	return n < 1 ? 1 : n > 16 ? 16 : n;
}

/* Under c's lock.  seq_cst for the Dekker above, except when the lock was
 * elided: then the process is single-threaded and this is T0's window
 * (stmode.c), so no freer can be reading. */
static void set_state(ga_mcentral *c, ga_mspan *s, uint8_t st)
{
	if (c->lock.elided)
		GA_STORE(&s->state, st);
	else
		__atomic_store_n(&s->state, st, __ATOMIC_SEQ_CST);
}

/* Take the span off the lists for good; the caller unlocks c and gives it
 * to mheap. */
static void drop_span_locked(ga_mcentral *c, ga_mspan *s)
{
	list_remove(s);
	c->nspans--;
	set_state(c, s, GA_SPAN_FREE);
}

/* List a span its owner has just swept and given up (Go's uncacheSpan);
 * true when it turned out empty and was dropped instead. */
static bool uncache_locked(ga_mcentral *c, ga_mspan *s)
{
	/* Freed bits still needed: the reuse threshold less the slots the
	 * owner's sweep left free. */
	int32_t need = reuse_min(s->nelems) - ((int32_t)s->nelems - s->alloc_count);
	bool full = need > 0;
	if (full) {
		GA_STORE(&s->reuse_need, (uint16_t)need);
		list_push(&c->full, s);
	} else {
		partial_push(c, s);
	}
	set_state(c, s, full ? GA_SPAN_FULL : GA_SPAN_PARTIAL);
	int32_t n = _ga_span_nfreed(s);
	if (n == s->alloc_count) {
		drop_span_locked(c, s);
		return true;
	}
	if (full && n >= need) {
		list_remove(s);
		partial_push(c, s);
		set_state(c, s, GA_SPAN_PARTIAL);
	}
	return false;
}

/* The owner lets go of s: its own frees go remote from now, and what was
 * freed into it is folded in. */
static void disown(ga_mspan *s)
{
	__atomic_store_n(&s->owner, NULL, __ATOMIC_RELAXED);
	_ga_span_sweep(s);
}

/* An mcache's exhausted span `old` (or NULL) back, a span with at least one
 * free slot out, owned by the caller (Go's mcache.refill: uncacheSpan then
 * cacheSpan), under one hold of the lock.  NULL when the heap is out of
 * memory. */
ga_mspan *_ga_mcentral_exchange(ga_mspan *old, uint8_t spc)
{
	ga_mcentral *c = &ga_central[spc];
	ga_mspan *dead = NULL;
	if (old)
		disown(old);
	_ga_lock(&c->lock);
	if (old && uncache_locked(c, old))
		dead = old;
	ga_mspan *s = c->partial.next;
	if (s != &c->partial) {
		list_remove(s);
		set_state(c, s, GA_SPAN_CACHED);
		_ga_unlock(&c->lock);
		if (dead)
			_ga_mheap_free_span(dead, true);
		_ga_span_sweep(s);
		return s; /* the caller publishes itself as owner */
	}
	_ga_unlock(&c->lock);
	if (dead)
		_ga_mheap_free_span(dead, true);

	/* Go's mcentral.grow. */
	unsigned cls = spc == GA_SPANCLASS_TINY ? 2 : spc;
	s = _ga_mheap_alloc_span(ga_class_to_npages[cls], spc, 1);
	if (!s)
		return NULL;
	if (!_ga_span_init_small(s, spc)) {
		_ga_mheap_free_span(s, false); /* never announced */
		return NULL;
	}
	__atomic_store_n(&s->state, (uint8_t)GA_SPAN_CACHED, __ATOMIC_SEQ_CST); /* no lock held */
	/* The record under the class lock, which fork's prepare handler takes
	 * before its FORK record: a span a fork child inherits is never
	 * announced after the point the trace copies the child's heap at. */
	_ga_lock(&c->lock);
	c->nspans++;
	GA_EMIT(.kind = GA_EV_SPAN_ALLOC, .cls = (uint8_t)cls, .addr = s->base, .npages = s->npages,
	        .span_id = s->id, .aux = s->scav_pages, .flags = spc == GA_SPANCLASS_TINY ? GA_EVF_TINY_SPAN : 0);
	_ga_unlock(&c->lock);
	return s;
}

/* Take back an mcache's span for good (thread exit, fork).  Called by its
 * owner. */
void _ga_mcentral_uncache_span(ga_mspan *s)
{
	ga_mcentral *c = &ga_central[s->spc];
	disown(s);
	_ga_lock(&c->lock);
	bool dead = uncache_locked(c, s);
	_ga_unlock(&c->lock);
	if (dead)
		_ga_mheap_free_span(s, true);
}

/* A free on a listed span may have made it reusable or empty: move or
 * release it.
 * The span may have been released and its struct reused meanwhile, so
 * everything is checked again under the lock of the class it was in. */
void _ga_mcentral_free_slow(ga_mspan *s)
{
	uint8_t spc = GA_LOAD(&s->spc);
	if (spc == 0 || spc >= GA_SPANCLASSES)
		return;
	ga_mcentral *c = &ga_central[spc];
	_ga_lock(&c->lock);
	uint8_t st = GA_LOAD(&s->state);
	if (GA_LOAD(&s->spc) != spc || (st != GA_SPAN_PARTIAL && st != GA_SPAN_FULL)) {
		_ga_unlock(&c->lock);
		return;
	}
	int32_t n = _ga_span_nfreed(s);
	if (n == s->alloc_count) {
		drop_span_locked(c, s);
		_ga_unlock(&c->lock);
		_ga_mheap_free_span(s, true);
		return;
	}
	if (st == GA_SPAN_FULL && n >= (int32_t)GA_LOAD(&s->reuse_need)) {
		list_remove(s);
		partial_push(c, s);
		set_state(c, s, GA_SPAN_PARTIAL);
	}
	_ga_unlock(&c->lock);
}

void _ga_mcentral_lock_all(void)
{
	for (int i = 0; i < GA_SPANCLASSES; i++)
		pthread_mutex_lock(&ga_central[i].lock.m);
}

void _ga_mcentral_unlock_all(void)
{
	for (int i = GA_SPANCLASSES; i-- > 0;)
		pthread_mutex_unlock(&ga_central[i].lock.m);
}
