/* bench_common.h: what the benchmark workload programs share: a seeded
 * random generator, the fill-and-verify pattern that lets a workload catch an
 * allocator that hands out overlapping, moved or corrupted memory, and the
 * failure exit.
 *
 * Pattern: an object of n bytes carrying a 64-bit tag holds, when n >= 8, the
 * tag in its first 8 bytes and the byte bench_tag_byte(tag) everywhere else;
 * a smaller object holds only that byte.  bench_check() reads the head, the
 * middle and the last byte, so a neighbour that overwrites either end is seen.
 * Every workload sums the tags it checks and compares the sum with the sum of
 * the tags it created: exit status 0 means every object came back intact.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: tiny, fast, and good enough to drive allocation sizes. */
typedef struct bench_rng {
	uint64_t s;
} bench_rng;

static inline uint64_t bench_rand(bench_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline size_t bench_range(bench_rng *r, size_t lo, size_t hi)
{
	return lo + (size_t)(bench_rand(r) % (uint64_t)(hi - lo + 1));
}

static inline uint8_t bench_tag_byte(uint64_t tag)
{
	return (uint8_t)(tag ^ (tag >> 29) ^ 0x5a);
}

static inline void bench_fill(void *p, size_t n, uint64_t tag)
{
	unsigned char *b = p;
	uint8_t v = bench_tag_byte(tag);
	if (n >= 8) {
		memcpy(b, &tag, 8);
		memset(b + 8, v, n - 8);
	} else {
		memset(b, v, n);
	}
}

/* 1 when the object still holds the pattern of `tag` written by bench_fill. */
static inline int bench_check(const void *p, size_t n, uint64_t tag)
{
	const unsigned char *b = p;
	uint8_t v = bench_tag_byte(tag);
	if (n == 0)
		return 1;
	if (n >= 8) {
		uint64_t head;
		memcpy(&head, b, 8);
		if (head != tag)
			return 0;
		if (n == 8)
			return 1;
		return b[8] == v && b[8 + (n - 8) / 2] == v && b[n - 1] == v;
	}
	return b[0] == v && b[n / 2] == v && b[n - 1] == v;
}

__attribute__((noreturn, format(printf, 2, 3)))
static inline void bench_fail(const char *prog, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: FAILED: %s\n", prog, buf);
	exit(2);
}

static inline void *bench_xmalloc(const char *prog, size_t n)
{
	void *p = malloc(n);
	if (!p && n)
		bench_fail(prog, "malloc(%zu) returned NULL", n);
	return p;
}

/* Optional positional argument i as an unsigned number, or `def`. */
static inline uint64_t bench_arg(int argc, char **argv, int i, uint64_t def)
{
	if (argc <= i)
		return def;
	char *end;
	unsigned long long v = strtoull(argv[i], &end, 10);
	if (*end || end == argv[i]) {
		fprintf(stderr, "%s: argument %d is not a number: %s\n", argv[0], i, argv[i]);
		exit(64);
	}
	return v;
}

#endif
