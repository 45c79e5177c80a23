/* realloc.c: bench-realloc, mixed sizes from 1 B to 1 MiB with realloc.
 *
 * `nbuf` buffers each follow a random walk: created (malloc or calloc) at a
 * log-uniform size in 1 B .. 1 MiB, then grown by 10..110 % (appending, as a
 * string builder or vector does), shrunk to 30..90 %, or freed.  After every
 * realloc the preserved prefix is checked and the new tail filled; calloc'd
 * memory is checked to be zero.  The content is one byte value per 4 KiB
 * chunk, derived from the buffer's generation and the chunk index, so a
 * realloc that loses, moves or mixes data is caught.  Fixed seed.
 *
 * Usage: bench-realloc [steps [nbuf]]
 */
#include "bench_common.h"

static const char *prog = "bench-realloc";

enum { MAX_BYTES = 1 << 20, CHUNK_SHIFT = 12 };

typedef struct buf {
	unsigned char *p;
	size_t size;
	uint64_t gen;
} buf;

static uint64_t checksum;

static inline uint8_t chunk_byte(uint64_t gen, size_t chunk)
{
	return (uint8_t)((gen * 0x9e3779b1u) >> 7 ^ (chunk * 0x3b) ^ 0xa5);
}

/* Writes the pattern into [from, to). */
static void fill_range(buf *b, size_t from, size_t to)
{
	while (from < to) {
		size_t chunk = from >> CHUNK_SHIFT;
		size_t end = (chunk + 1) << CHUNK_SHIFT;
		if (end > to)
			end = to;
		memset(b->p + from, chunk_byte(b->gen, chunk), end - from);
		from = end;
	}
}

/* Checks the first and last byte of each chunk in [0, n) and folds them
 * into the checksum. */
static void check_prefix(const buf *b, size_t n, size_t idx)
{
	for (size_t chunk = 0; (chunk << CHUNK_SHIFT) < n; chunk++) {
		size_t first = chunk << CHUNK_SHIFT;
		size_t last = first + ((size_t)1 << CHUNK_SHIFT) - 1;
		if (last >= n)
			last = n - 1;
		uint8_t v = chunk_byte(b->gen, chunk);
		if (b->p[first] != v || b->p[last] != v)
			bench_fail(prog, "buffer %zu (%zu bytes) lost its data at chunk %zu", idx, n,
			           chunk);
		checksum = checksum * 31 + v + first;
	}
}

static size_t random_size(bench_rng *r)
{
	unsigned bits = (unsigned)(bench_rand(r) % 21); /* 2^0 .. 2^20 */
	size_t n = ((size_t)1 << bits) + (size_t)(bench_rand(r) & (((size_t)1 << bits) - 1));
	return n > MAX_BYTES ? MAX_BYTES : n;
}

int main(int argc, char **argv)
{
	uint64_t steps = bench_arg(argc, argv, 1, 150000);
	size_t nbuf = (size_t)bench_arg(argc, argv, 2, 256);
	bench_rng r = { 0xfeedbeef };
	uint64_t gen = 0, reallocs = 0;

	if (nbuf == 0)
		nbuf = 1;
	buf *bufs = calloc(nbuf, sizeof *bufs);
	if (!bufs)
		bench_fail(prog, "cannot allocate the buffer array");

	for (uint64_t st = 0; st < steps; st++) {
		size_t i = (size_t)(bench_rand(&r) % nbuf);
		buf *b = &bufs[i];
		if (!b->p) {
			b->size = random_size(&r);
			b->gen = ++gen;
			if (bench_rand(&r) & 1) {
				b->p = calloc(1, b->size);
				if (!b->p)
					bench_fail(prog, "calloc(1, %zu) returned NULL", b->size);
				for (size_t k = 0; k < b->size; k += 64)
					if (b->p[k])
						bench_fail(prog, "calloc(1, %zu) not zero at %zu", b->size, k);
				if (b->p[b->size - 1])
					bench_fail(prog, "calloc(1, %zu) not zero at the end", b->size);
			} else {
				b->p = bench_xmalloc(prog, b->size);
			}
			fill_range(b, 0, b->size);
			continue;
		}
		unsigned pick = (unsigned)(bench_rand(&r) % 100);
		size_t n;
		if (pick < 10) {
			check_prefix(b, b->size, i);
			free(b->p);
			b->p = NULL;
			continue;
		} else if (pick < 60 && b->size < MAX_BYTES) {
			n = b->size + b->size * bench_range(&r, 10, 110) / 100 + bench_range(&r, 1, 16);
			if (n > MAX_BYTES)
				n = MAX_BYTES;
		} else {
			n = b->size * bench_range(&r, 30, 90) / 100;
			if (n == 0)
				n = 1;
		}
		unsigned char *q = realloc(b->p, n);
		if (!q)
			bench_fail(prog, "realloc(%zu) returned NULL", n);
		reallocs++;
		b->p = q;
		check_prefix(b, n < b->size ? n : b->size, i);
		if (n > b->size)
			fill_range(b, b->size, n);
		b->size = n;
	}

	for (size_t i = 0; i < nbuf; i++) {
		if (bufs[i].p) {
			check_prefix(&bufs[i], bufs[i].size, i);
			free(bufs[i].p);
		}
	}
	free(bufs);
	printf("bench-realloc: ok buffers=%llu reallocs=%llu checksum=%llu\n",
	       (unsigned long long)gen, (unsigned long long)reallocs, (unsigned long long)checksum);
	return 0;
}
