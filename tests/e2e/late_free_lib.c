/* late_free_lib.c: a library whose destructor frees what its constructor
 * allocated: 100 objects of 100..199 bytes, freed when the process exits,
 * possibly after libgoalloc's own destructor wrote the process's exit. */
#include <stdlib.h>

static void *keep[100];

__attribute__((constructor)) static void make(void)
{
	for (int i = 0; i < 100; i++)
		keep[i] = malloc(100 + (size_t)i);
}

__attribute__((destructor)) static void unmake(void)
{
	for (int i = 0; i < 100; i++)
		free(keep[i]);
}

__attribute__((visibility("default"))) int late_free_kept(void)
{
	int n = 0;
	for (int i = 0; i < 100; i++)
		n += keep[i] != NULL;
	return n;
}
