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
 * (the barrier and the wait in _ga_go_mt left out) this test failed. */
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
	printf("test_stmode: %d trials\n", trials);
	return check_result("test_stmode");
}
