/* churn.c: bench-churn, single-thread small-object churn.
 *
 * A working set of `slots` live objects of 8..512 bytes (skewed to the small
 * end, as real heaps are: half under 64 B, which includes tiny requests) is
 * churned `iters` times: a random slot's object is checked and freed and a
 * new object of a random size takes its place.  Every 4096 iterations a
 * burst of 256 short-lived objects is allocated and freed in LIFO order, the
 * pattern of temporary strings and nodes.  Fixed seed: the output is the
 * same under every correct allocator.
 *
 * Usage: bench-churn [iters [slots]]
 */
#include "bench_common.h"

static const char *prog = "bench-churn";

typedef struct slot {
	void *p;
	uint32_t size;
	uint64_t tag;
} slot;

static size_t churn_size(bench_rng *r)
{
	unsigned pick = (unsigned)(bench_rand(r) % 100);
	if (pick < 50)
		return bench_range(r, 8, 64);
	if (pick < 85)
		return bench_range(r, 65, 256);
	return bench_range(r, 257, 512);
}

int main(int argc, char **argv)
{
	uint64_t iters = bench_arg(argc, argv, 1, 12000000);
	size_t nslots = (size_t)bench_arg(argc, argv, 2, 40000);
	bench_rng r = { 0x1234567 };
	uint64_t next_tag = 1, made = 0, checked = 0;

	if (nslots == 0)
		nslots = 1;
	slot *s = calloc(nslots, sizeof *s);
	if (!s)
		bench_fail(prog, "cannot allocate the slot array");
	for (size_t i = 0; i < nslots; i++) {
		s[i].size = (uint32_t)churn_size(&r);
		s[i].tag = next_tag++;
		s[i].p = bench_xmalloc(prog, s[i].size);
		bench_fill(s[i].p, s[i].size, s[i].tag);
		made += s[i].tag;
	}

	void *burst[256];
	uint32_t burst_size[256];
	uint64_t burst_tag[256];
	for (uint64_t it = 0; it < iters; it++) {
		size_t i = (size_t)(bench_rand(&r) % nslots);
		if (!bench_check(s[i].p, s[i].size, s[i].tag))
			bench_fail(prog, "object of %u bytes in slot %zu corrupted", s[i].size, i);
		checked += s[i].tag;
		free(s[i].p);
		s[i].size = (uint32_t)churn_size(&r);
		s[i].tag = next_tag++;
		s[i].p = bench_xmalloc(prog, s[i].size);
		bench_fill(s[i].p, s[i].size, s[i].tag);
		made += s[i].tag;

		if ((it & 4095) == 4095) {
			for (int b = 0; b < 256; b++) {
				burst_size[b] = (uint32_t)bench_range(&r, 1, 128);
				burst_tag[b] = next_tag++;
				burst[b] = bench_xmalloc(prog, burst_size[b]);
				bench_fill(burst[b], burst_size[b], burst_tag[b]);
				made += burst_tag[b];
			}
			for (int b = 255; b >= 0; b--) {
				if (!bench_check(burst[b], burst_size[b], burst_tag[b]))
					bench_fail(prog, "burst object of %u bytes corrupted", burst_size[b]);
				checked += burst_tag[b];
				free(burst[b]);
			}
		}
	}

	for (size_t i = 0; i < nslots; i++) {
		if (!bench_check(s[i].p, s[i].size, s[i].tag))
			bench_fail(prog, "object of %u bytes in slot %zu corrupted", s[i].size, i);
		checked += s[i].tag;
		free(s[i].p);
	}
	free(s);
	if (checked != made)
		bench_fail(prog, "checksum %llu, expected %llu", (unsigned long long)checked,
		           (unsigned long long)made);
	printf("bench-churn: ok objects=%llu checksum=%llu\n", (unsigned long long)(next_tag - 1),
	       (unsigned long long)checked);
	return 0;
}
