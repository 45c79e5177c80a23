/* prodcons.c: bench-prodcons, one thread allocates, another frees.
 *
 * The producer allocates `count` messages (90 % of 16..256 bytes, 10 % of
 * 257 B..8 KiB), fills them and passes them through a bounded single-producer
 * single-consumer ring (C11 atomics, no lock); the consumer checks and frees
 * them.  Every free is therefore a remote free of memory another thread's
 * cache handed out: the case where per-thread caches pay for returning
 * memory to its owner.  When the ring is full or empty a thread spins a
 * little, then yields (the machine may have fewer cores than threads).
 * Fixed seed: the output is independent of the interleaving.
 *
 * Usage: bench-prodcons [count [ring_slots]]
 */
#include "bench_common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

static const char *prog = "bench-prodcons";

typedef struct msg {
	void *p; /* NULL ends the stream */
	uint32_t size;
	uint64_t tag;
} msg;

/* The ring: slots [tail, head) hold messages; head is written only by the
 * producer, tail only by the consumer (release on write, acquire on read). */
static msg *ring;
static size_t ring_mask;
static _Atomic size_t ring_head, ring_tail;

static uint64_t count;
static uint64_t produced_sum, consumed_sum, consumed_count;

static void backoff(unsigned *spins)
{
	if (++*spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	} else {
		*spins = 0;
		sched_yield();
	}
}

static void push(msg m)
{
	size_t h = atomic_load_explicit(&ring_head, memory_order_relaxed);
	unsigned spins = 0;
	while (h - atomic_load_explicit(&ring_tail, memory_order_acquire) > ring_mask)
		backoff(&spins);
	ring[h & ring_mask] = m;
	atomic_store_explicit(&ring_head, h + 1, memory_order_release);
}

static msg pop(void)
{
	size_t t = atomic_load_explicit(&ring_tail, memory_order_relaxed);
	unsigned spins = 0;
	while (atomic_load_explicit(&ring_head, memory_order_acquire) == t)
		backoff(&spins);
	msg m = ring[t & ring_mask];
	atomic_store_explicit(&ring_tail, t + 1, memory_order_release);
	return m;
}

static void *producer(void *arg)
{
	(void)arg;
	bench_rng r = { 0xc0ffee };
	for (uint64_t k = 1; k <= count; k++) {
		msg m;
		m.size = (uint32_t)(bench_rand(&r) % 10 ? bench_range(&r, 16, 256)
		                                        : bench_range(&r, 257, 8192));
		m.tag = k * 0x9e3779b97f4a7c15ull;
		m.p = bench_xmalloc(prog, m.size);
		bench_fill(m.p, m.size, m.tag);
		produced_sum += m.tag;
		push(m);
	}
	push((msg){ NULL, 0, 0 });
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	for (;;) {
		msg m = pop();
		if (!m.p)
			break;
		if (!bench_check(m.p, m.size, m.tag))
			bench_fail(prog, "message of %u bytes corrupted", m.size);
		consumed_sum += m.tag;
		consumed_count++;
		free(m.p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	count = bench_arg(argc, argv, 1, 6000000);
	size_t slots = (size_t)bench_arg(argc, argv, 2, 16384);
	size_t pow2 = 2;
	while (pow2 < slots)
		pow2 <<= 1;
	ring = calloc(pow2, sizeof *ring);
	if (!ring)
		bench_fail(prog, "cannot allocate the ring");
	ring_mask = pow2 - 1;

	pthread_t prod, cons;
	if (pthread_create(&cons, NULL, consumer, NULL) || pthread_create(&prod, NULL, producer, NULL))
		bench_fail(prog, "cannot create threads");
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	free(ring);

	if (consumed_count != count || consumed_sum != produced_sum)
		bench_fail(prog, "consumed %llu messages with checksum %llu, expected %llu and %llu",
		           (unsigned long long)consumed_count, (unsigned long long)consumed_sum,
		           (unsigned long long)count, (unsigned long long)produced_sum);
	printf("bench-prodcons: ok messages=%llu checksum=%llu\n", (unsigned long long)count,
	       (unsigned long long)consumed_sum);
	return 0;
}
