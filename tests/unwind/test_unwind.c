/* test_unwind.c: libtrace's own unwinder (unwind.c) against libunwind's
 * unw_backtrace, frame for frame, on stacks built to need each kind of
 * rule: deep recursion, frames with and without a frame pointer, alloca
 * (a CFA that only rbp gives), callbacks from libc (qsort), a thread's
 * outermost frames, a signal handler (there gt_unwind may decline: -1, and
 * the caller falls back to libunwind), and C library frames below main.
 *
 * Both captures are made from capture() one after the other: their first
 * entries are their own call sites in capture(), so the stacks are compared
 * from capture()'s caller on.  Exit status 0 when every case matches. */
#define _GNU_SOURCE
#include "unwind.h"

#include <alloca.h>
#include <dlfcn.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

enum { MAXF = 256 };

static int failures, cases, declined;
static volatile int sink;

__attribute__((noinline)) static void capture(const char *what)
{
	void *a[MAXF], *b[MAXF];
	int na = gt_unwind(a, MAXF, 0, 0, false);
	int nb = unw_backtrace(b, MAXF);
	cases++;
	if (na < 0) { /* declined: only allowed in a signal handler */
		declined++;
		if (strcmp(what, "signal") != 0) {
			fprintf(stderr, "FAIL %s: gt_unwind declined\n", what);
			failures++;
		}
		return;
	}
	if (na < 3 || nb < 3) {
		fprintf(stderr, "FAIL %s: too few frames (%d, %d)\n", what, na, nb);
		failures++;
		return;
	}
	void **x = a + 1, **y = b + 1;
	int nx = na - 1, ny = nb - 1, i = 0;
	while (i < nx && i < ny && x[i] == y[i])
		i++;
	if (i != nx || nx != ny) {
		fprintf(stderr, "FAIL %s: frame %d differs (own %d frames, libunwind %d)\n", what, i, nx, ny);
		for (int k = 0; k < nx || k < ny; k++)
			fprintf(stderr, "  %2d  %18p  %18p\n", k, k < nx ? x[k] : NULL, k < ny ? y[k] : NULL);
		failures++;
	}
}

/* gt_unwind told to pass over this program's frames: what is left is
 * libunwind's stack from its first frame outside the program, and at most
 * max of it. */
__attribute__((noinline)) static void skipped(int max)
{
	struct dl_find_object fo;
	if (_dl_find_object((void *)skipped, &fo) != 0) {
		fprintf(stderr, "FAIL skip: _dl_find_object\n");
		failures++;
		return;
	}
	uintptr_t lo = (uintptr_t)fo.dlfo_map_start, hi = (uintptr_t)fo.dlfo_map_end;
	void *a[MAXF], *b[MAXF];
	int na = gt_unwind(a, max, lo, hi, false);
	int nb = unw_backtrace(b, MAXF), k = 0;
	while (k < nb && (uintptr_t)b[k] - lo < hi - lo)
		k++;
	int want = nb - k < max ? nb - k : max;
	cases++;
	if (na != want || (want > 0 && memcmp(a, b + k, (size_t)want * sizeof *a) != 0)) {
		fprintf(stderr, "FAIL skip (max %d): own %d frames, libunwind %d after %d skipped\n", max, na, want, k);
		failures++;
	}
	if (want < 1) {
		fprintf(stderr, "FAIL skip: no frame outside the program\n");
		failures++;
	}
}

__attribute__((noinline)) static int recurse(int d, const char *what)
{
	if (d == 0) {
		if (strcmp(what, "skip") == 0) {
			skipped(MAXF);
			skipped(1);
		} else {
			capture(what);
		}
		return 0;
	}
	int r = recurse(d - 1, what);
	sink += r;
	return r + 1;
}

__attribute__((noinline, optimize("no-omit-frame-pointer"))) static int with_fp(int d)
{
	if (d == 0) {
		capture("frame pointer");
		return 0;
	}
	int r = with_fp(d - 1);
	sink += r;
	return r + 1;
}

__attribute__((noinline, optimize("omit-frame-pointer"))) static int without_fp(int d)
{
	if (d == 0) {
		capture("no frame pointer");
		return 0;
	}
	int r = without_fp(d - 1);
	sink += r;
	return r + 1;
}

__attribute__((noinline)) static int with_alloca(int d, size_t n)
{
	char *p = alloca(n);
	memset(p, d, n);
	sink += p[n / 2];
	if (d == 0) {
		capture("alloca");
		return 0;
	}
	int r = with_alloca(d - 1, n + 24);
	return r + p[0];
}

/* The same frames at the same stack addresses under two different callers:
 * the second capture must not take the first one's outer frames (the
 * unwinder's memo of the last walk must check them). */
__attribute__((noinline)) static int middle(int x)
{
	capture(x ? "other caller, same depth (b)" : "other caller, same depth (a)");
	return x + sink;
}
__attribute__((noinline)) static int outer_a(void)
{
	return middle(0) + 1;
}
__attribute__((noinline)) static int outer_b(void)
{
	return middle(1) + 2;
}

static int cmp_calls;
static int cmp(const void *x, const void *y)
{
	if (cmp_calls++ == 3)
		capture("qsort callback");
	return *(const int *)x - *(const int *)y;
}

static void *thread_main(void *arg)
{
	(void)arg;
	recurse(5, "thread");
	return NULL;
}

/* A thread on a stack the program gave it (pthread_attr_setstack): glibc
 * puts its TCB at the top of that stack, which is where gt_unwind stops
 * reading; the whole stack must still come out. */
static void *own_stack_thread(void *arg)
{
	(void)arg;
	recurse(9, "thread on its own stack");
	return NULL;
}

static int run_on_own_stack(void)
{
	size_t size = 256 * 1024;
	void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_attr_t at;
	pthread_t t;
	if (stack == MAP_FAILED || pthread_attr_init(&at) != 0 || pthread_attr_setstack(&at, stack, size) != 0 ||
	    pthread_create(&t, &at, own_stack_thread, NULL) != 0 || pthread_join(t, NULL) != 0)
		return -1;
	pthread_attr_destroy(&at);
	munmap(stack, size);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	capture("signal");
}

int main(void)
{
	if (!gt_unwind_init())
		return 2;
	for (int d = 0; d <= 60; d += 6)
		recurse(d, "recursion");
	with_fp(7);
	without_fp(7);
	with_alloca(5, 40);
	int v[64];
	for (int i = 0; i < 64; i++)
		v[i] = (i * 37) % 64;
	qsort(v, 64, sizeof *v, cmp);
	pthread_t t;
	if (pthread_create(&t, NULL, thread_main, NULL) != 0 || pthread_join(t, NULL) != 0)
		return 2;
	if (run_on_own_stack() != 0)
		return 2;
	signal(SIGUSR1, on_signal);
	raise(SIGUSR1);
	/* the same stacks again: now from the rule cache */
	for (int d = 0; d <= 60; d += 6)
		recurse(d, "recursion, cached");
	with_alloca(3, 100);
	recurse(10, "skip");
	for (int i = 0; i < 3; i++)
		sink += outer_a() + outer_b();
	printf("%d cases, %d failed, %d declined (signal frames)\n", cases, failures, declined);
	return failures ? 1 : 0;
}
