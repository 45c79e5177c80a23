/* records.c: the second bundled demo workload, with a size profile unlike
 * wordfreq's.  It parses N generated "name=value;" records into a list of
 * small structs (24 bytes each) holding copies of odd-length keys and
 * values (17..24 and 33..47 bytes), indexes them in a sorted array, and
 * drops two records in three: mostly objects of 17..48 bytes, where Go's
 * 24-byte class and the C-safe rule (17..24 B served from 32 B) differ.
 * Its output (a checksum) is deterministic, so it also checks the
 * allocator. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rec {
	char *key, *value;
	struct rec *next;
} rec; /* 24 bytes */

static uint64_t rng_state = 7;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A string of n letters, in a buffer of its own (n + 1 bytes). */
static char *text(size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		exit(1);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + rng() % 26);
	s[n] = 0;
	return s;
}

static int by_key(const void *a, const void *b)
{
	return strcmp((*(rec *const *)a)->key, (*(rec *const *)b)->key);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	rec *head = NULL;
	for (long i = 0; i < n; i++) {
		rec *r = malloc(sizeof *r);
		if (!r)
			return 1;
		r->key = text(16 + rng() % 8);                               /* 17..24 bytes */
		r->value = text(rng() % 3 ? 16 + rng() % 8 : 32 + rng() % 15); /* 17..24 or 33..47 */
		r->next = head;
		head = r;
	}
	rec **index = malloc((size_t)n * sizeof *index);
	if (!index)
		return 1;
	long k = 0;
	for (rec *r = head; r; r = r->next)
		index[k++] = r;
	qsort(index, (size_t)n, sizeof *index, by_key);
	uint64_t sum = 0;
	for (long i = 0; i < n; i++) {
		sum = sum * 31 + (unsigned char)index[i]->key[0] + strlen(index[i]->value);
		if (i % 3) {
			free(index[i]->key);
			free(index[i]->value);
			free(index[i]);
		}
	}
	printf("%ld records, checksum %016llx\n", n, (unsigned long long)sum);
	free(index);
	return 0;
}
