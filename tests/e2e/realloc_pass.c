/* realloc_pass.c: objects passed between threads and resized in place by
 * the receiver.  A producer allocates objects of 1-8 KiB (classes of one
 * to eight objects a span: most of its allocations take a new span, whose
 * records carry a fresh clock reading) and hands each to a consumer through
 * a mutex-guarded queue; the consumer reallocs it within its class (in
 * place: a free and an allocation at the same address, made by the thread
 * that did not allocate it) and frees it.  In the trace the consumer's
 * records must still come after the producer's allocation.
 *
 * Usage: realloc_pass [objects]; prints "ok N". */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { QCAP = 64 };
static void *q[QCAP];
static size_t qsize[QCAP];
static unsigned qhead, qtail;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nonempty = PTHREAD_COND_INITIALIZER, nonfull = PTHREAD_COND_INITIALIZER;
static int n = 20000;

/* Go's classes from 1024 B up to 8 KiB: a request a little under each */
static const size_t classes[] = {1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688,
                                 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192};

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 0; i < n; i++) {
		size_t c = classes[(unsigned)i * 7u % (sizeof classes / sizeof *classes)];
		char *p = malloc(c - 100);
		if (!p)
			abort();
		memset(p, i & 0xff, 16);
		pthread_mutex_lock(&mu);
		while (qtail - qhead == QCAP)
			pthread_cond_wait(&nonfull, &mu);
		q[qtail % QCAP] = p;
		qsize[qtail % QCAP] = c;
		qtail++;
		pthread_cond_signal(&nonempty);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		n = atoi(argv[1]);
	pthread_t t;
	pthread_create(&t, NULL, producer, NULL);
	long moved = 0;
	for (int i = 0; i < n; i++) {
		pthread_mutex_lock(&mu);
		while (qtail == qhead)
			pthread_cond_wait(&nonempty, &mu);
		char *p = q[qhead % QCAP];
		size_t c = qsize[qhead % QCAP];
		qhead++;
		pthread_cond_signal(&nonfull);
		pthread_mutex_unlock(&mu);
		char *r = realloc(p, c - 8); /* the same class: in place */
		if (!r)
			abort();
		moved += r != p;
		free(r);
	}
	pthread_join(t, NULL);
	printf("ok %d%s\n", n, moved ? " (some reallocs moved)" : "");
	return 0;
}
