/* scavenge.c: returning free pages to the OS (Go's scavenger).
 *
 * Policy (documented in README, configurable by environment):
 *   retain = max(GOALLOC_SCAVENGE_MIN_KB, HeapInuse * GOALLOC_SCAVENGE_PERCENT / 100)
 * Whenever pages go back to the page heap and the free pages still backed by
 * memory (HeapIdle - HeapReleased) exceed retain * 5/4 + 1 MiB, the
 * highest-addressed such runs are released with madvise(MADV_DONTNEED) until
 * they are at most `retain`.  The band between the two keeps a heap that
 * breathes by a few spans from releasing and faulting the same pages over
 * and over (measured: 65,000 madvise calls on bench-prodcons without it).
 * Go paces a background scavenger towards a retained goal of 10% over the
 * heap goal (itself up to twice the live heap with GOGC=100); we have no GC
 * cycle, so we scavenge synchronously on free.  Defaults (50%, 16 MiB) were
 * chosen on bench/: at 10% and 4 MiB, bench-realloc ran 2.1x slower than
 * with no scavenging (3.19 s vs 1.49 s) for 8 MiB less peak RSS.
 * GOALLOC_SCAVENGE=0 keeps every page; malloc_trim(0) releases all of them.
 *
 * The madvise runs without ga_heap.lock: the run is first marked in use so no
 * one can be handed those pages, then freed back with the scav bit set.
 */
#include "ga_internal.h"

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
		pthread_mutex_unlock(&h->lock);
		_ga_os_release((void *)base, (size_t)take << GA_PAGE_SHIFT);
		GA_EMIT(.kind = GA_EV_SCAVENGE, .addr = base, .npages = take);
		pthread_mutex_lock(&h->lock);
		_ga_pages_free_locked(base, take);
		_ga_pages_set_scav_locked(base, take);
		below = base;
	}
}

void _ga_scavenge_maybe_locked(void)
{
	if (!ga_opts.scavenge)
		return;
	uint64_t retain = ga_heap.pages_inuse * ga_opts.scavenge_percent / 100;
	uint64_t floor = ga_opts.scavenge_min_bytes >> GA_PAGE_SHIFT;
	if (retain < floor)
		retain = floor;
	uint64_t trigger = retain + retain / 4 + ((1u << 20) >> GA_PAGE_SHIFT);
	if (dirty_pages_locked() > trigger)
		_ga_scavenge_locked(retain << GA_PAGE_SHIFT);
}

void ga_release_all(void)
{
	_ga_ensure_init();
	pthread_mutex_lock(&ga_heap.lock);
	_ga_scavenge_locked(0);
	pthread_mutex_unlock(&ga_heap.lock);
}
