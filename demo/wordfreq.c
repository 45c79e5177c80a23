/* wordfreq.c: the bundled demo workload.  Generates N words of Zipf-like
 * text, counts word frequencies in a chained hash table of strdup'd keys
 * (tiny and small objects), keeps a growing array of line buffers (realloc,
 * large objects), frees half of the table, and prints the top words.  Its
 * output is deterministic, so it also checks the allocator. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
	char *word;
	long count;
	struct entry *next;
} entry;

static uint64_t rng_state = 42;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void make_word(char *buf, unsigned rank)
{
	static const char syll[][4] = {"ka", "lo", "mi", "ne", "su", "tor", "va", "qui", "ze", "pha"};
	int n = 1 + (int)(rank % 5);
	buf[0] = 0;
	for (int i = 0; i < n; i++) {
		strcat(buf, syll[(rank / (i + 1) + (unsigned)i) % 10]);
	}
	char num[16];
	snprintf(num, sizeof num, "%u", rank % 97);
	strcat(buf, num);
}

static int by_count(const void *a, const void *b)
{
	const entry *x = *(entry *const *)a, *y = *(entry *const *)b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->word, y->word);
}

int main(int argc, char **argv)
{
	long nwords = argc > 1 ? atol(argv[1]) : 200000;
	size_t nbuckets = 1 << 14;
	entry **table = calloc(nbuckets, sizeof *table);
	char **lines = NULL;
	size_t nlines = 0, cap = 0;
	char *line = NULL;
	size_t linelen = 0;
	long distinct = 0;
	for (long i = 0; i < nwords; i++) {
		/* Zipf-like: small ranks are frequent. */
		unsigned rank = (unsigned)(rng() % 1000);
		rank = rank * rank / (1 + (unsigned)(rng() % 1000)) % 20000;
		char w[64];
		make_word(w, rank);
		uint64_t h = 1469598103934665603ull;
		for (char *p = w; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		entry **b = &table[h & (nbuckets - 1)], *e;
		for (e = *b; e && strcmp(e->word, w); e = e->next)
			;
		if (!e) {
			e = malloc(sizeof *e);
			e->word = strdup(w);
			e->count = 0;
			e->next = *b;
			*b = e;
			distinct++;
		}
		e->count++;
		size_t wl = strlen(w);
		line = realloc(line, linelen + wl + 2);
		memcpy(line + linelen, w, wl);
		linelen += wl;
		line[linelen++] = ' ';
		line[linelen] = 0;
		if (linelen > 70) {
			if (nlines == cap) {
				cap = cap ? cap * 2 : 64;
				lines = realloc(lines, cap * sizeof *lines);
			}
			lines[nlines++] = line;
			line = NULL;
			linelen = 0;
		}
	}
	entry **all = malloc((size_t)distinct * sizeof *all);
	long k = 0;
	for (size_t i = 0; i < nbuckets; i++)
		for (entry *e = table[i]; e; e = e->next)
			all[k++] = e;
	qsort(all, (size_t)distinct, sizeof *all, by_count);
	printf("%ld words, %ld distinct, %zu lines\n", nwords, distinct, nlines);
	for (int i = 0; i < 5 && i < distinct; i++)
		printf("  %-16s %ld\n", all[i]->word, all[i]->count);
	/* Free the rarer half of the words and every other line: fragmentation. */
	for (long i = distinct / 2; i < distinct; i++) {
		free(all[i]->word);
		all[i]->word = NULL;
	}
	for (size_t i = 0; i < nlines; i += 2)
		free(lines[i]);
	free(line);
	return 0;
}
