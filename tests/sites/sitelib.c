/* sitelib.c: a shared library that allocates, for the sites tests: its
 * allocations must be attributed to sitelib_alloc in sitelib.c. */
#include <stdlib.h>

void *volatile sitelib_sink;

__attribute__((noinline)) long sitelib_alloc(long n)
{
	long sum = 0;
	for (long i = 0; i < n; i++) {
		char *p = malloc(200); /* SITE:sitelib */
		p[0] = (char)i;
		sitelib_sink = p; /* escapes: the compiler keeps the allocation */
		sum += p[0];
		free(p);
	}
	return sum;
}
