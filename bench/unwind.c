/* unwind.c: bench-unwind, what capturing one stack costs: libtrace's own
 * unwinder (libtrace/unwind.c, as `run --stacks` uses it) against
 * libunwind's unw_backtrace, in one invocation, at several depths of a
 * recursion.  Two patterns per depth:
 *   same   the same stack N times (gt_unwind's memo of the thread's last
 *          walk then gives all of it after checking its words)
 *   alt    depths d and d+1 in turn (the memo gives all but the innermost
 *          frames; this is closer to a program, whose allocations share
 *          their outer frames)
 * Prints the best of 5 timings of N captures (the recursion's own calls
 * included, the same for both unwinders) and the ratio.
 *
 * Usage: bench-unwind [N]     (default 1000000 captures per depth)
 */
#define _GNU_SOURCE
#include "unwind.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

static void *pcs[256];
static volatile int sink;
static int use_own;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

__attribute__((noinline)) static int leaf(void)
{
	int k = use_own ? gt_unwind(pcs, 256, 0, 0, false) : unw_backtrace(pcs, 256);
	sink += k;
	return k;
}

__attribute__((noinline)) static int down(int d)
{
	if (d == 0)
		return leaf();
	int r = down(d - 1);
	sink += r;
	return r;
}

static double best_ns(int d, long n, int alt)
{
	double best = 1e30;
	for (int rep = 0; rep < 5; rep++) {
		double t = now();
		for (long i = 0; i < n; i++)
			down(d + (alt & (int)i));
		double ns = (now() - t) / (double)n * 1e9;
		if (ns < best)
			best = ns;
	}
	return best;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	if (n < 1 || !gt_unwind_init()) {
		fprintf(stderr, "usage: bench-unwind [N]\n");
		return 2;
	}
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	printf("ns per captured stack, best of 5 x %ld (lower is better)\n", n);
	printf("%8s %8s %14s %14s %8s\n", "frames", "pattern", "unw_backtrace", "gt_unwind", "ratio");
	for (int d = 0; d <= 40; d += 8) {
		use_own = 1;
		int frames = down(d);
		use_own = 0;
		if (down(d) != frames)
			fprintf(stderr, "bench-unwind: the unwinders disagree on the depth (%d, %d)\n", frames, down(d));
		for (int alt = 0; alt < 2; alt++) {
			use_own = 0;
			double lib = best_ns(d, n, alt);
			use_own = 1;
			double own = best_ns(d, n, alt);
			printf("%8d %8s %14.1f %14.1f %7.2fx\n", frames, alt ? "alt" : "same", lib, own, own / lib);
		}
	}
	return 0;
}
