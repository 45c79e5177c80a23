/* test_stmode.c: the single-threaded mode (allocator/stmode.c) and its end.
 *
 *   test_stmode [trials]
 *
 * The parent first makes itself multi-threaded (a thread that allocates);
 * each trial then runs in a fork child, where the forking thread is alone
 * and the mode starts over.  In the child the main thread (T0) allocates
 * objects of several classes, tiny ones included, enough for many spans,
 * so most of them are listed in mcentral and frees into them go through
 * the freed bitmaps and tiny F words (plain stores while the mode is on).
 * Then a second thread starts and, once both are running, both free
 * alternate objects of the same spans at once: the second thread's first
 * free ends the mode while T0 is in the middle of its plain frees.  A lost update would leave a freed
 * object marked allocated, so its span would never empty: after freeing
 * everything and releasing, HeapAlloc and HeapInuse must be 0, and every
 * object's contents must be intact at its free.  Such a race is a few
 * cycles wide, so the test holds T0's plain read-modify-write open for a
 * few microseconds now and then (ga_st_test_spin) while the other thread
 * frees into the same words: with the end of the mode not waiting for T0
 * (the barrier and the wait in _ga_go_mt left out) this test failed.
 * Then a fork child checks the reuse threshold of a FULL span with the
 * freed count T0 keeps in the mode (exact, and when stale, late but never
 * blind to the span's emptiness).  Last, one more fork child checks that
 * a third thread waits for T0's window as the second does. */
#include "check.h"

#include "ga.h"
#include "ga_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { NOBJ = 24000 };
/* An odd number of sizes: consecutive objects of one class alternate between
 * the two freeing threads. */
static const size_t sizes[] = {5, 8, 13, 24, 48, 64, 128, 200, 400, 1000, 3000};

static void *objs[NOBJ];
static size_t objsize[NOBJ];
static _Atomic int go, ready;
static _Atomic int bad;

static void fill(void *p, size_t n, size_t i)
{
	memset(p, (int)(i * 7 + 1) & 0xff, n);
}

static void check_free(size_t i)
{
	unsigned char *p = objs[i];
	unsigned char want = (unsigned char)((i * 7 + 1) & 0xff);
	for (size_t k = 0; k < objsize[i]; k++)
		if (p[k] != want) {
			atomic_store(&bad, 1);
			break;
		}
	ga_free(p);
}


static void *second(void *arg)
{
	(void)arg;
	atomic_store_explicit(&ready, 1, memory_order_release);
	while (!atomic_load_explicit(&go, memory_order_acquire))
		;
	for (size_t i = 65; i < NOBJ; i += 2)
		check_free(i);
	return NULL;
}

static void *warm(void *arg)
{
	(void)arg;
	ga_free(ga_malloc(100));
	return NULL;
}

static int trial(void)
{
	CHECK(!GA_LOAD(&ga_mt), "a fork child does not start in the single-threaded mode");
	for (size_t i = 0; i < NOBJ; i++) {
		objsize[i] = sizes[i % (sizeof sizes / sizeof sizes[0])];
		objs[i] = ga_malloc(objsize[i]);
		if (!objs[i])
			return 2;
		fill(objs[i], objsize[i], i);
	}
	ga_st_test_spin = 5000; /* inside T0's plain window, one time in 16: ~5 us */
	/* Free a few first, so that T0 has taken plain paths before the end. */
	for (size_t i = 0; i < 64; i += 2)
		check_free(i);
	CHECK(!GA_LOAD(&ga_mt), "the mode ended with one thread");
	pthread_t t;
	if (pthread_create(&t, NULL, second, NULL) != 0)
		return 2;
	while (!atomic_load_explicit(&ready, memory_order_acquire))
		;
	atomic_store_explicit(&go, 1, memory_order_release);
	for (size_t i = 64; i < NOBJ; i += 2)
		check_free(i);
	pthread_join(t, NULL);
	for (size_t i = 1; i < 64; i += 2)
		check_free(i);
	CHECK(GA_LOAD(&ga_mt), "a second thread freed and the mode did not end");
	CHECK(!atomic_load(&bad), "an object's contents changed before its free");
	ga_thread_exit(); /* T0's cached spans back to mcentral */
	ga_release_all();
	ga_heap_stats st;
	ga_read_stats(&st);
	CHECK(st.heap_alloc == 0, "HeapAlloc %llu after freeing everything", (unsigned long long)st.heap_alloc);
	CHECK(st.heap_inuse == 0, "HeapInuse %llu after freeing everything (a free was lost)",
	      (unsigned long long)st.heap_inuse);
	return check_failures ? 1 : 0;
}

/* A third thread, arriving while the second is still waiting for T0's
 * window to close, must wait too: T0 holds an elided lock (its mutex
 * untaken) for 300 ms while T2 ends the mode and T3 takes the same lock.
 * With T3 going ahead on seeing ga_mt set, it was inside at once. */
static ga_lock third_lock = GA_LOCK_INITIALIZER;
static _Atomic int third_in;

static void *ender(void *arg)
{
	(void)arg;
	_ga_go_mt();
	return NULL;
}

static void *third(void *arg)
{
	(void)arg;
	_ga_lock(&third_lock);
	atomic_store(&third_in, 1);
	_ga_unlock(&third_lock);
	return NULL;
}

static int third_trial(void)
{
	CHECK(!GA_LOAD(&ga_mt) && ga_tls_t0, "a fork child's thread is T0 in the mode");
	_ga_lock(&third_lock);
	CHECK(third_lock.elided, "T0's lock is elided in the mode");
	pthread_t t2, t3;
	if (pthread_create(&t2, NULL, ender, NULL) != 0)
		return 2;
	for (int i = 0; i < 100 && !GA_LOAD(&ga_mt); i++)
		usleep(1000);
	CHECK(GA_LOAD(&ga_mt), "the second thread set ga_mt");
	if (pthread_create(&t3, NULL, third, NULL) != 0)
		return 2;
	usleep(300 * 1000);
	CHECK(!atomic_load(&third_in), "a third thread entered T0's critical section before it ended");
	_ga_unlock(&third_lock);
	pthread_join(t2, NULL);
	pthread_join(t3, NULL);
	CHECK(atomic_load(&third_in), "the third thread got the lock after T0 let go");
	return check_failures ? 1 : 0;
}

/* The reuse threshold with T0's kept count (mspan.c's nfreed_st): in the
 * mode, a FULL span of 32 slots (256 B, reusable at 8 free) must turn
 * PARTIAL at exactly its 8th free and go back to the page heap at its
 * last, as between threads.  Then with the count kept stale (too low, as
 * after frees by threads that did not survive a fork): the span is not
 * reused early, and its emptiness is still seen at its last free. */
static int reuse_trial(void)
{
	CHECK(!GA_LOAD(&ga_mt) && ga_tls_t0, "a fork child's thread is T0 in the mode");
	enum { N = 32, NEED = 8, MAXALL = 4 * N };
	for (int stale = 0; stale < 2; stale++) {
		void *all[MAXALL], *span_objs[N];
		int used = 0, run = 0;
		ga_mspan *s = NULL;
		/* A run of N objects from one fresh span, in address order. */
		while (run < N && used < MAXALL) {
			void *p = ga_malloc(256);
			all[used++] = p;
			ga_mspan *ps = _ga_span_of((uintptr_t)p);
			if (run == 0 || ps != s || (uintptr_t)p != ps->base + (uintptr_t)run * ps->elemsize) {
				run = 0;
				s = ps;
				if ((uintptr_t)p != ps->base)
					continue;
			}
			span_objs[run++] = p;
		}
		CHECK(run == N && s->nelems == N, "no fresh span of %d objects of 256 B", N);
		if (run != N)
			return 1;
		void *next = ga_malloc(256); /* the span is exhausted: it goes to mcentral, FULL */
		CHECK(GA_LOAD(&s->state) == GA_SPAN_FULL && GA_LOAD(&s->reuse_need) == NEED,
		      "exhausted span: state %u, reuse_need %u", GA_LOAD(&s->state), GA_LOAD(&s->reuse_need));
		for (int i = 0; i < N; i++) {
			if (stale)
				GA_STORE(&s->nfreed_st, 0); /* never reaches reuse_need */
			uint8_t want = stale || i < NEED ? GA_SPAN_FULL : GA_SPAN_PARTIAL;
			CHECK(GA_LOAD(&s->state) == want, "stale %d: %d freed, state %u, want %u", stale, i,
			      GA_LOAD(&s->state), want);
			ga_free(span_objs[i]);
		}
		CHECK(GA_LOAD(&s->state) == GA_SPAN_FREE, "stale %d: span not back in the page heap after its last free",
		      stale);
		CHECK(!GA_LOAD(&ga_mt), "the mode ended with one thread");
		for (int i = 0; i < used - N; i++)
			ga_free(all[i]);
		ga_free(next);
	}
	return check_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	int trials = argc > 1 ? atoi(argv[1]) : 100;
	/* libgoalloc.so registers these in its constructor; linked statically
	 * here, the test does. */
	pthread_atfork(ga_fork_prepare, ga_fork_parent, ga_fork_child);
	ga_free(ga_malloc(100)); /* the main thread is T0 */
	CHECK(!GA_LOAD(&ga_mt), "one thread, and not in the single-threaded mode");
	pthread_t t;
	if (pthread_create(&t, NULL, warm, NULL) != 0)
		return 2;
	pthread_join(t, NULL);
	CHECK(GA_LOAD(&ga_mt), "a second thread allocated and the mode did not end");
	int failed = 0;
	for (int k = 0; k < trials; k++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0)
			_exit(trial());
		int status;
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			if (failed++ < 5)
				fprintf(stderr, "test_stmode: trial %d failed (status 0x%x)\n", k, status);
		}
	}
	CHECK(failed == 0, "%d of %d trials failed", failed, trials);
	int status;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(reuse_trial());
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the reuse-threshold trial failed (status 0x%x)", pid > 0 ? status : -1);
	pid = fork();
	if (pid == 0)
		_exit(third_trial());
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the third-thread trial failed (status 0x%x)", pid > 0 ? status : -1);
	printf("test_stmode: %d trials\n", trials);
	return check_result("test_stmode");
}
