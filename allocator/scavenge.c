/* scavenge.c: returning free pages to the OS (Go's scavenger).
 *
 * Go keeps the memory it retains (HeapInuse plus free pages still backed,
 * HeapIdle - HeapReleased) near 110% of the heap goal, and sets the goal at
 * each GC cycle to the heap then times 1 + GOGC/100; a cycle starts when
 * the heap reaches the goal.  We have no GC, so a "cycle" here starts when
 * HeapInuse reaches the goal or when pages handed out since the last one
 * reach GOGC% of the heap at its start (the allocation a Go program would
 * make before its next GC), or when pages go back to the page heap more
 * than a second after the cycle began (Go forces a GC every two minutes
 * and its background scavenger works in the meantime: a program that
 * frees most of its heap and then stays quiet gets the memory back); the
 * goal is then
 *   goal = HeapInuse * (100 + GOALLOC_SCAVENGE_PERCENT) / 100      (NextGC)
 * Between cycles the goal stays where it was, as Go's does: a heap that
 * shrinks and grows back within a cycle keeps its pages instead of
 * releasing and faulting them in again (bench-realloc: 60,000 page faults
 * and 1.15 s with a goal that followed HeapInuse at once, 13,000 and ~0.5 s
 * with this one, at the same peak RSS).
 *
 * Whenever pages go back to the page heap and
 *   HeapInuse + dirty > goal * 110% + 1 MiB
 * the highest-addressed dirty runs are released with madvise(MADV_DONTNEED)
 * until HeapInuse + dirty <= goal * 110%; dirty pages up to
 * GOALLOC_SCAVENGE_MIN_KB are always kept.  The 1 MiB band keeps a heap that
 * breathes by a span or two from releasing the same pages over and over.
 * Go paces a background scavenger towards its goal; we scavenge
 * synchronously on free.  GOALLOC_SCAVENGE=0 keeps every page;
 * malloc_trim(0) releases all of them.
 *
 * The madvise runs without ga_heap.lock: the run is first marked in use so no
 * one can be handed those pages, then freed back with the scav bit set.
 */
#include "ga_internal.h"

#include <time.h>

enum { CYCLE_MAX_NS = 1000 * 1000 * 1000 };

static uint64_t coarse_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cycle_start_ns; /* ga_heap.lock */

static uint64_t dirty_pages_locked(void)
{
	ga_mheap *h = &ga_heap;
	return h->pages_sys - h->pages_inuse - h->pages_released;
}

void _ga_scavenge_locked(uint64_t goal_bytes)
{
	ga_mheap *h = &ga_heap;
	uint64_t goal = goal_bytes >> GA_PAGE_SHIFT;
	uintptr_t below = UINTPTR_MAX;
	uintptr_t base;
	uint32_t n;
	while (dirty_pages_locked() > goal && _ga_pages_find_dirty_locked(&base, &n, below)) {
		uint64_t excess = dirty_pages_locked() - goal;
		uint32_t take = excess < n ? (uint32_t)excess : n;
		base += (uintptr_t)(n - take) << GA_PAGE_SHIFT;
		_ga_pages_alloc_locked(base, take);
		_ga_unlock(&h->lock);
		_ga_os_release((void *)base, (size_t)take << GA_PAGE_SHIFT);
		GA_EMIT(.kind = GA_EV_SCAVENGE, .addr = base, .npages = take);
		_ga_lock(&h->lock);
		_ga_pages_free_locked(base, take);
		_ga_pages_set_scav_locked(base, take);
		below = base;
	}
}

/* A new cycle: the goal follows the heap (see above). */
static void new_cycle_locked(void)
{
	ga_mheap *h = &ga_heap;
	h->cycle_budget = h->pages_inuse * ga_opts.scavenge_percent / 100;
	h->goal_pages = h->pages_inuse + h->cycle_budget;
	h->cycle_pages = 0;
	cycle_start_ns = coarse_ns();
}

/* npages were just handed out of the page heap. */
void _ga_heap_goal_alloc_locked(uint32_t npages)
{
	ga_mheap *h = &ga_heap;
	h->cycle_pages += npages;
	if (h->pages_inuse >= h->goal_pages || h->cycle_pages >= h->cycle_budget)
		new_cycle_locked();
}

/* Dirty pages the policy lets the heap keep now. */
static uint64_t dirty_allowed_locked(void)
{
	ga_mheap *h = &ga_heap;
	uint64_t retained = h->goal_pages + h->goal_pages / 10;
	uint64_t allowed = retained > h->pages_inuse ? retained - h->pages_inuse : 0;
	uint64_t floor = ga_opts.scavenge_min_bytes >> GA_PAGE_SHIFT;
	return allowed > floor ? allowed : floor;
}

void _ga_scavenge_maybe_locked(void)
{
	if (!ga_opts.scavenge)
		return;
	if (coarse_ns() - cycle_start_ns > CYCLE_MAX_NS)
		new_cycle_locked();
	uint64_t allowed = dirty_allowed_locked();
	if (dirty_pages_locked() > allowed + ((1u << 20) >> GA_PAGE_SHIFT))
		_ga_scavenge_locked(allowed << GA_PAGE_SHIFT);
}

void ga_release_all(void)
{
	_ga_ensure_init();
	_ga_lock(&ga_heap.lock);
	_ga_scavenge_locked(0);
	_ga_unlock(&ga_heap.lock);
}
