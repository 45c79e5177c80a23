/* stmode.c: the single-threaded mode, in which the free path makes no
 * atomic read-modify-write.
 *
 * A free into a span no mcache of the freeing thread holds ORs a bit into
 * the span's freed bitmap, and a tiny free ORs one into its block's F word
 * (mspan.c, tiny.c).  Between threads those must be atomic; on this kind of
 * machine a locked instruction after the program's own stores to fresh
 * memory waits for them to drain, and it was the single largest cost of
 * the allocator on single-threaded churn (13% of bench-churn's time).  Most
 * programs never free from a second thread, many never start one.  So:
 *
 *   - The first thread to create an mcache is T0 (ga_tls_t0).  While no
 *     other thread has used the heap (ga_mt false), T0 makes those ORs and
 *     the sweep's exchanges as plain loads and stores, each inside a window
 *     marked by ga_st_busy (_ga_setbit64 and friends, ga_internal.h).
 *   - Any other thread, before its first act that could meet one of T0's
 *     plain writes (creating its mcache, freeing without one, releasing
 *     memory, or any of the helpers), calls _ga_go_mt: it sets ga_mt, makes
 *     every thread of the process pass a full memory barrier
 *     (membarrier(2), PRIVATE_EXPEDITED, else GLOBAL, else an mprotect that
 *     makes the kernel interrupt every CPU running the process), then waits
 *     until ga_st_busy is clear.  T0 marks its window and then reads ga_mt
 *     with only a compiler barrier between; the membarrier turns that into
 *     a full barrier where it matters (asymmetric Dekker): either T0 sees
 *     ga_mt and takes the atomic path, or its window is visible to the new
 *     thread, which waits for it to close.  Then it sets ga_mt_ready; any
 *     other thread goes ahead only once it has seen that (acquire), not
 *     ga_mt.  From then on everyone is atomic.
 *   - The heap's locks (mcentral, mheap, fixalloc: _ga_lock) are skipped
 *     the same way: on T0 in the mode, a critical section is a window and
 *     the lock is marked `elided`, so the thread ending the mode waits for
 *     it like for any window, and a lock taken before the end is released
 *     as it was taken.  ga_fork_prepare on another thread ends the mode
 *     before it takes the mutexes.
 *   - In a fork child only the forking thread is left: it becomes T0 and
 *     the mode starts over.
 * Without any way to issue such a barrier the process starts in ga_mt.
 *
 * Invariants: only T0 writes ga_st_busy (a count of its open windows) and
 * sets a lock's `elided`; ga_mt goes from false to true only
 * through _ga_go_mt (and back only in a fork child); a plain RMW of shared
 * heap metadata happens only on T0, inside a window, after reading ga_mt
 * false inside that window.
 */
#define _GNU_SOURCE
#include "ga_internal.h"

#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

GA_HIDDEN bool ga_mt;
GA_HIDDEN bool ga_mt_ready; /* atomic: the mode has ended and T0's windows are closed */
GA_HIDDEN int ga_st_busy; /* T0's open windows */
GA_HIDDEN unsigned ga_st_test_spin, ga_st_test_calls; /* tests only */
GA_HIDDEN __thread bool ga_tls_t0 __attribute__((tls_model("initial-exec")));
static bool t0_taken;          /* atomic: some thread became T0 */
static int barrier_cmd;        /* the membarrier command that works, or 0 */
static void *ipi_page;         /* mprotect fallback */
static pthread_mutex_t mt_lock = PTHREAD_MUTEX_INITIALIZER;

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

/* The page whose write access the mprotect fallback drops; NULL if none. */
static void *ipi_map(void)
{
	if (!ipi_page) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ipi_page = p == MAP_FAILED ? NULL : p;
	}
	return ipi_page;
}

/* Called once at heap init, while the process is (for the allocator)
 * single-threaded. */
void _ga_stmode_init(void)
{
	long q = membarrier(MEMBARRIER_CMD_QUERY);
	if (q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
		barrier_cmd = MEMBARRIER_CMD_PRIVATE_EXPEDITED;
	else if (q > 0 && (q & MEMBARRIER_CMD_GLOBAL))
		barrier_cmd = MEMBARRIER_CMD_GLOBAL;
	if (!barrier_cmd && !ipi_map()) {
		GA_STORE(&ga_mt, true);
		GA_STORE(&ga_mt_ready, true);
	}
}

/* The calling thread creates its mcache: the first one to do so is T0. */
void _ga_stmode_new_cache(void)
{
	if (GA_LOAD_ACQ(&ga_mt_ready))
		return;
	bool expect = false;
	if (__atomic_compare_exchange_n(&t0_taken, &expect, true, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		ga_tls_t0 = true;
	else if (!ga_tls_t0)
		_ga_go_mt();
}

/* Every thread of the process executes a full memory barrier before this
 * returns. */
static bool process_barrier(void)
{
	if (barrier_cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED) {
		/* A fork child's registration may not have been inherited. */
		if (membarrier(barrier_cmd) == 0)
			return true;
		if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 && membarrier(barrier_cmd) == 0)
			return true;
		if (membarrier(MEMBARRIER_CMD_GLOBAL) == 0)
			return true;
	} else if (barrier_cmd && membarrier(barrier_cmd) == 0) {
		return true;
	}
	/* Dropping write access to a touched page makes the kernel shoot down
	 * its TLB entry on every CPU running this process: an interrupt there,
	 * which serializes. */
	if (ipi_map()) {
		*(volatile char *)ipi_page = 1;
		if (mprotect(ipi_page, 4096, PROT_READ) == 0 && mprotect(ipi_page, 4096, PROT_READ | PROT_WRITE) == 0)
			return true;
	}
	return false;
}

void _ga_go_mt(void)
{
	pthread_mutex_lock(&mt_lock);
	if (!GA_LOAD(&ga_mt)) {
		__atomic_store_n(&ga_mt, true, __ATOMIC_SEQ_CST);
		if (!process_barrier())
			_ga_fatal("malloc", "a second thread started, and no memory barrier across threads is available", NULL);
		while (__atomic_load_n(&ga_st_busy, __ATOMIC_ACQUIRE))
			__builtin_ia32_pause();
	}
	/* Only now may other threads go ahead: one that saw ga_mt set while
	 * the wait above was still on would have met T0 inside a critical
	 * section whose mutex it skipped (seen under TSan as two threads in
	 * fixalloc at once). */
	__atomic_store_n(&ga_mt_ready, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&mt_lock);
}

bool ga_threaded(void)
{
	return GA_LOAD(&ga_mt);
}

/* In a fork child the forking thread is the only one: T0 again. */
void _ga_stmode_fork_child(void)
{
	pthread_mutex_init(&mt_lock, NULL);
	GA_STORE(&ga_st_busy, 0);
	if (barrier_cmd || ipi_page) {
		ga_tls_t0 = true;
		GA_STORE(&t0_taken, true);
		GA_STORE(&ga_mt, false);
		GA_STORE(&ga_mt_ready, false);
	}
}
