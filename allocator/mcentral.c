/* mcentral.c: per span class, the spans not owned by any mcache (Go's
 * mcentral): PARTIAL ones (free slots at their last sweep, or frees
 * pending) in a FIFO queue, and FULL ones, which are on no list: nothing
 * walks them.  An mcache gives back its exhausted span and takes one with
 * room in one call (exchange), and gives back all its spans at thread exit
 * (uncache_span); spans come from and return to mheap.
 * See malloc.c for the overview.
 *
 * Why no lists through the spans: with a doubly linked partial list and a
 * full list, every move between them and every uncache wrote the links of
 * two neighbouring span structs, usually cold and last written by another
 * core, and the seq_cst state store after them waited for those writes
 * (bench-larson, 4 threads: 15% of its time on those stores).  Now a move
 * writes only the span and c's own ring.
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

/* The partial queue is FIFO, as Go's partial spanSets are: spans join at
 * the tail and refills take the head, so the span handed out is the one
 * that has been collecting frees longest (with random frees, taking the
 * newest instead gave ~1.5 objects per refill on bench-churn).  It is a
 * ring of pointers rather than a list through the spans, so joining and
 * leaving it write only c's own lines, never a neighbouring span's.  A
 * span that leaves out of turn (it became empty) leaves a NULL behind,
 * which the head skips. */

/* Move the queue's spans, in order, to places first..first+n-1 of ring q
 * (mask m), renumbering them; the NULLs are dropped.  q may be c->q when
 * first is c->qhead: each span then moves to a place at or before its
 * own, so none is overwritten before it has moved. */
static void queue_pack(ga_mcentral *c, ga_mspan **q, uint64_t m, uint64_t first)
{
	uint64_t n = first;
	for (uint64_t i = c->qhead; i < c->qtail; i++) {
		ga_mspan *s = c->q[i & (c->qcap - 1)];
		if (s) {
			s->qpos = n;
			q[n++ & m] = s;
		}
	}
	c->qhead = first;
	c->qtail = n;
}

/* Room for one more span in the queue: the NULLs packed out of the ring
 * in place, and the ring grown to twice its size when more than half of
 * it is still live.  False only when every place is live and there is no
 * memory to grow. */
static bool queue_room(ga_mcentral *c)
{
	if (c->qtail - c->qhead < c->qcap)
		return true;
	if (c->qcap) {
		queue_pack(c, c->q, c->qcap - 1, c->qhead);
		if (c->qtail - c->qhead <= c->qcap / 2)
			return true;
	}
	uint64_t cap = c->qcap ? c->qcap * 2 : 512;
	ga_mspan **q = _ga_os_alloc_meta(cap * sizeof *q);
	if (!q)
		return c->qtail - c->qhead < c->qcap;
	ga_mspan **old = c->q;
	uint64_t oldcap = c->qcap;
	queue_pack(c, q, cap - 1, 0);
	c->q = q;
	c->qcap = cap;
	if (old)
		_ga_os_unreserve(old, oldcap * sizeof *old);
	return true;
}

/* Under c's lock, after queue_room. */
static void partial_push(ga_mcentral *c, ga_mspan *s)
{
	s->qpos = c->qtail;
	c->q[c->qtail++ & (c->qcap - 1)] = s;
}

static ga_mspan *partial_pop(ga_mcentral *c)
{
	while (c->qhead < c->qtail) {
		ga_mspan *s = c->q[c->qhead++ & (c->qcap - 1)];
		if (s)
			return s;
	}
	return NULL;
}

static void partial_remove(ga_mcentral *c, ga_mspan *s)
{
	c->q[s->qpos & (c->qcap - 1)] = NULL;
	if (s->qpos + 1 == c->qtail)
		c->qtail--;
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
	}
}

/* The free slots that make a listed span PARTIAL: a quarter of its slots,
 * at least 1 and at most 16 (the threshold above). */
static int32_t reuse_min(uint32_t nelems)
{
	int32_t n = (int32_t)(nelems / 4);
	return n < 1 ? 1 : n > 16 ? 16 : n;
}

/* Under c's lock: s's new state, stored before the queue operations of
 * the same move (a freer that sees it early acts on it only through this
 * lock, held until the move is done). */
static void set_state(ga_mspan *s, uint8_t st)
{
	__atomic_store_n(&s->state, st, __ATOMIC_RELEASE);
}

/* The store that lists s (FULL or PARTIAL) before its freed bits are
 * counted: seq_cst for the Dekker above, except when the lock was elided:
 * then the process is single-threaded and this is T0's window (stmode.c),
 * so no freer can be reading.  The other moves need no full barrier: a
 * freer that reads a stale state still ends in a path that handles the
 * span's emptiness (FULL: its count reaches reuse_need, which is at most
 * alloc_count; PARTIAL: its word's bits match; either way the locked
 * path looks again), and a span that becomes CACHED is swept after its
 * store, which collects every bit set before the sweep's exchange.  The
 * barrier cost the most where the state's line was cold: exchange's store
 * of CACHED waited for that line and for everything before it. */
static void publish_state(ga_mcentral *c, ga_mspan *s, uint8_t st)
{
	if (c->lock.elided)
		GA_STORE(&s->state, st);
	else
		__atomic_store_n(&s->state, st, __ATOMIC_SEQ_CST);
}

/* The freed bits of listed span s, under c's lock, kept for T0's frees
 * in the single-threaded mode (mspan.c). */
static int32_t count_freed(ga_mspan *s)
{
	int32_t n = _ga_span_nfreed(s);
	GA_STORE(&s->nfreed_st, (uint16_t)(n < 0 ? 0 : n));
	return n;
}

/* Take the span out of c for good (off the queue when `queued`); the
 * caller unlocks c and gives it to mheap. */
static void drop_span_locked(ga_mcentral *c, ga_mspan *s, bool queued)
{
	set_state(s, GA_SPAN_FREE);
	if (queued)
		partial_remove(c, s);
	c->nspans--;
}

/* List a span its owner has just swept and given up (Go's uncacheSpan);
 * true when it turned out empty and was dropped instead. */
static bool uncache_locked(ga_mcentral *c, ga_mspan *s)
{
	/* Freed bits still needed: the reuse threshold less the slots the
	 * owner's sweep left free. */
	int32_t need = reuse_min(s->nelems) - ((int32_t)s->nelems - s->alloc_count);
	bool room = queue_room(c);
	if (!room)
		need = s->alloc_count; /* no memory to queue it: FULL until it is empty */
	bool full = need > 0;
	if (full)
		GA_STORE(&s->reuse_need, (uint16_t)need);
	publish_state(c, s, full ? GA_SPAN_FULL : GA_SPAN_PARTIAL);
	int32_t n = count_freed(s);
	if (n == s->alloc_count) {
		drop_span_locked(c, s, false); /* empty: it never joins the queue */
		return true;
	}
	if (full && n >= need)
		set_state(s, GA_SPAN_PARTIAL);
	if (!full || n >= need)
		partial_push(c, s);
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
	ga_mspan *s = partial_pop(c);
	if (s) {
		set_state(s, GA_SPAN_CACHED);
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
	int32_t n = count_freed(s);
	if (n == s->alloc_count) {
		drop_span_locked(c, s, st == GA_SPAN_PARTIAL);
		_ga_unlock(&c->lock);
		_ga_mheap_free_span(s, true);
		return;
	}
	if (st == GA_SPAN_FULL && n >= (int32_t)GA_LOAD(&s->reuse_need) && queue_room(c)) {
		set_state(s, GA_SPAN_PARTIAL);
		partial_push(c, s);
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
