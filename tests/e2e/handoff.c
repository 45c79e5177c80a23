/* handoff.c: spans handed from thread to thread as fast as the heap can.
 * Waves of threads each churn a few objects of 1.5-8 KiB (classes of one to
 * five objects a span), so every few allocations a thread gives its span
 * back to mcentral and another thread takes it, and spans go back to the
 * heap and come out again for other threads.  Threads of a wave run at
 * once; a wave's threads exit before the next starts, flushing their caches.
 * Every object is freed by the thread that made it.
 *
 * Usage: handoff [waves [threads [iters]]]; prints "ok ALLOCS". */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int iters = 20000;

static void *worker(void *arg)
{
	unsigned x = (unsigned)(uintptr_t)arg * 2654435761u + 1;
	void *slot[16] = {0};
	for (int i = 0; i < iters; i++) {
		x = x * 1103515245u + 12345u;
		unsigned k = (x >> 24) & 15;
		free(slot[k]);
		size_t size = 1500 + (x >> 8) % 6700;
		slot[k] = malloc(size);
		if (!slot[k])
			abort();
		memset(slot[k], (int)k, 16);
	}
	for (int k = 0; k < 16; k++)
		free(slot[k]);
	return NULL;
}

int main(int argc, char **argv)
{
	int waves = argc > 1 ? atoi(argv[1]) : 8, threads = argc > 2 ? atoi(argv[2]) : 8;
	if (argc > 3)
		iters = atoi(argv[3]);
	pthread_t t[256];
	if (threads < 1 || threads > 256 || waves < 1 || iters < 1)
		return 2;
	for (int w = 0; w < waves; w++) {
		for (int i = 0; i < threads; i++)
			if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(w * threads + i + 1)) != 0)
				return 1;
		for (int i = 0; i < threads; i++)
			pthread_join(t[i], NULL);
	}
	printf("ok %ld\n", (long)waves * threads * iters);
	return 0;
}
