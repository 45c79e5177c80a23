/* report_workload.c: the workload the report tests trace.  Two profiles:
 *   mixed  tiny objects (1..15 B), several small classes (16, 17..24, 33,
 *          100, 500, 1000, 3000, 20000 B), aligned requests, large objects
 *          (40 KB .. 1 MB), frees as it goes, a peak in the middle (the
 *          second of three phases) and most of the heap freed at the end;
 *          ~30 steps 12 ms apart so the heap timeline has ~35 samples.
 *   odd    many objects of odd sizes 17..24 and 100..300 (every other byte
 *          count), a contrasting size profile for compare.
 * Deterministic: a fixed xorshift seed. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void pause_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

enum { SLOTS = 6000 };
static void *slot[SLOTS];

static void *touch(void *p, size_t n)
{
	if (p)
		memset(p, 0xa5, n);
	return p;
}

static int mixed(void)
{
	static const size_t sizes[] = {16, 17, 20, 24, 33, 100, 500, 1000, 3000, 20000};
	int steps = 30;
	for (int step = 0; step < steps; step++) {
		/* phase 1 (steps 0..9) grows, phase 2 (10..19) grows more and
		 * then frees, phase 3 (20..29) frees nearly everything */
		int grow = step < 15 ? 400 : 60;
		for (int i = 0; i < grow; i++) {
			int k = (int)(rng() % SLOTS);
			free(slot[k]);
			uint32_t r = rng() % 100;
			size_t n;
			if (r < 30)
				n = 1 + rng() % 15; /* tiny */
			else if (r < 97)
				n = sizes[rng() % (sizeof sizes / sizeof *sizes)];
			else
				n = 40000 + (rng() % 4) * 300000; /* large */
			if (r == 50) {
				void *p = NULL;
				if (posix_memalign(&p, 64, 40) != 0)
					return 1;
				slot[k] = touch(p, 40);
			} else {
				slot[k] = touch(malloc(n), n);
			}
		}
		if (step >= 15)
			for (int k = 0; k < SLOTS; k++)
				if (slot[k] && rng() % 4 == 0) {
					free(slot[k]);
					slot[k] = NULL;
				}
		pause_ms(12);
	}
	/* keep a few objects live at exit */
	int kept = 0;
	for (int k = 0; k < SLOTS; k++)
		if (slot[k] && kept++ > 40) {
			free(slot[k]);
			slot[k] = NULL;
		}
	return 0;
}

static int odd(void)
{
	for (int step = 0; step < 10; step++) {
		for (int i = 0; i < 800; i++) {
			int k = (int)(rng() % SLOTS);
			free(slot[k]);
			size_t n = rng() % 2 ? 17 + 2 * (rng() % 4) : 101 + 2 * (rng() % 100);
			slot[k] = touch(malloc(n), n);
		}
		pause_ms(5);
	}
	for (int k = 0; k < SLOTS; k += 2) {
		free(slot[k]);
		slot[k] = NULL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "mixed";
	int rc = !strcmp(mode, "odd") ? odd() : mixed();
	printf("%s done\n", mode);
	return rc;
}
