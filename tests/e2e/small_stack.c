/* small_stack.c BURN: one thread on a PTHREAD_STACK_MIN (16 KiB) stack
 * uses BURN bytes of it, then mallocs and frees 100,000 times (small and
 * large sizes, so refills, new spans and, traced, sampled stacks).  Exit 0,
 * or death by SIGSEGV when the allocator's stack and TLS leave the program
 * less than BURN bytes (run_cases.sh small-stack). */
#include <alloca.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t burn;

static void *work(void *arg)
{
	(void)arg;
	volatile char *pad = alloca(burn);
	pad[0] = 1;
	pad[burn - 1] = 1;
	void *v[64] = {0};
	for (int i = 0; i < 100000; i++) {
		int k = i & 63;
		free(v[k]);
		v[k] = malloc((size_t)i * 7919 % 40000 + 1);
		if (!v[k])
			abort();
		memset(v[k], 1, 8);
	}
	for (int k = 0; k < 64; k++)
		free(v[k]);
	return NULL;
}

int main(int argc, char **argv)
{
	burn = argc > 1 ? strtoul(argv[1], NULL, 0) : 1;
	if (burn < 1)
		burn = 1;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN);
	pthread_t t;
	int e = pthread_create(&t, &a, work, NULL);
	if (e) {
		fprintf(stderr, "small_stack: pthread_create: %s\n", strerror(e));
		return 2;
	}
	pthread_join(t, NULL);
	return 0;
}
