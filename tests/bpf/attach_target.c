/* attach_target.c: a program on glibc's malloc with known requests, for the
 * `goalloc-trace attach` test (check_kview.sh attach).  It waits until the
 * file GO exists (the attacher is ready), then makes:
 *   main thread:   1000 x malloc(100), 300 of them freed;
 *                  500 x calloc(50, 40) (2000 B each), all freed;
 *                  10 x malloc(100000) (large), all freed;
 *                  one realloc chain 1000 -> 2000 -> 4000 B, freed;
 *                  realloc(NULL, 600) (glibc calls its malloc inside) and
 *                  realloc(malloc(300), 0) (glibc calls its free inside)
 *   second thread: 200 x malloc(700), all freed
 * and exits.  Built with -fno-builtin so that every call is made. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *keep[2000];

static void *second(void *arg)
{
	void *p[200];
	for (int i = 0; i < 200; i++)
		p[i] = malloc(700);
	for (int i = 0; i < 200; i++)
		free(p[i]);
	return arg;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	struct timespec ts = {0, 5 * 1000 * 1000};
	for (int i = 0; access(argv[1], F_OK) != 0; i++) {
		if (i > 6000)
			return 3; /* 30 s: nobody came */
		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < 1000; i++)
		keep[i] = malloc(100);
	for (int i = 0; i < 300; i++)
		free(keep[i]);
	for (int i = 0; i < 500; i++)
		keep[1000 + i] = calloc(50, 40);
	for (int i = 0; i < 500; i++)
		free(keep[1000 + i]);
	for (int i = 0; i < 10; i++) {
		char *big = malloc(100000);
		big[0] = 1;
		free(big);
	}
	char *r = malloc(1000);
	r = realloc(r, 2000);
	r = realloc(r, 4000);
	free(r);
	char *n = realloc(NULL, 600);
	n[0] = 1;
	free(n);
	if (realloc(malloc(300), 0) != NULL)
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, second, NULL);
	pthread_join(t, NULL);
	printf("done %d\n", (int)getpid());
	return 0;
}
