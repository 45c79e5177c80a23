/* gt_event.h: the one contract between libtrace (in the target) and the CLI:
 * the shared-memory region, its rings and the event record.  Versioned,
 * with a magic number; both sides include this file and nothing else of
 * each other.
 *
 * Region (one memfd, created by the CLI, inherited by the whole process
 * tree through the fd named in GOALLOC_TRACE_FD, "FD@PID" with PID the
 * CLI's: a process that closed FD opens /proc/PID/fd/FD instead):
 *
 *   gt_region   header page
 *   gt_ring[n]  ring headers (one cache line per field group)
 *   records     n rings x cap records of 40 bytes
 *
 * Ring 0 is shared by threads that find no free ring (its writers hold
 * gt_region.shared_lock); rings 1..n-1 are single-producer: a thread claims
 * one (state FREE -> OWNED by CAS), writes at head, and gives it back
 * (OWNED -> DONE) when it exits.  The drainer is the only consumer: it reads
 * from tail to head and, once a DONE ring is empty, makes it FREE again.
 *
 * Who writes what:
 *   ring.head      producer (release store after the record is written)
 *   ring.tail      drainer  (stored after the records are consumed; then it
 *                  wakes producers waiting on the tail's low word, a futex)
 *   ring.tail_seen producer  (its own copy of tail, on the head's line)
 *   ring.dropped   producer (records dropped: lossy mode or drainer gone)
 *   region.heartbeat_ns  drainer, every loop; producers that wait for room
 *                  stop waiting when it goes stale or the drainer is gone.
 */
#ifndef GT_EVENT_H
#define GT_EVENT_H

#include <stdint.h>

#define GT_MAGIC 0x5443414c4c414f47ull /* "GOALLACT" little-endian */
#define GT_VERSION 2
#define GT_ENV_FD "GOALLOC_TRACE_FD"

/* Event kinds 1..11 are the allocator's (ga_event_kind, same numbers). */
enum gt_kind {
	GT_EV_ALLOC_SMALL = 1, /* addr, size = requested, cls, span */
	GT_EV_ALLOC_TINY,      /* addr, size = requested, span */
	GT_EV_ALLOC_LARGE,     /* addr, size = requested, span, aux = released pages reused */
	GT_EV_FREE,            /* addr, cls (0 large), span; flags TINY_OBJ / TINY_BLOCK */
	GT_EV_TINY_OPEN,       /* addr = block, span, aux = 1 if it became current */
	GT_EV_TINY_RETIRE,     /* addr = block, span, aux = objects placed in it */
	GT_EV_REFILL,          /* cls, span, addr = span base, size = npages, aux = free slots */
	GT_EV_SPAN_ALLOC,      /* cls, span, addr, size = npages, aux = released pages reused */
	GT_EV_SPAN_FREE,       /* cls, span, addr, size = npages */
	GT_EV_HEAP_GROW,       /* addr, size = npages, aux = 1 for a new arena */
	GT_EV_SCAVENGE,        /* addr, size = npages */
	GT_EV_THREAD_START = 32, /* aux = tid */
	GT_EV_THREAD_EXIT,     /* aux = tid */
	GT_EV_PROC_START,      /* aux = pid, size = ppid, cls = 1 if Go-exact, flags bit 0 = tiny on,
	                          bit 1 (GT_PS_CLONED) = a child forked without fork's handlers
	                          (a raw clone system call): its heap is a copy of its parent's
	                          at this record; span = the parent's FORK number (0: not a fork
	                          child) */
	GT_EV_PROC_EXIT,       /* aux = pid, size = exit status */
	GT_EV_TEXT,            /* the command line of the last PROC_START: GT_TEXT_CHUNK bytes
	                          of text in addr..span (see gt_record_text) */
	GT_EV_OWNER = 40,      /* ring 0 only: the records that follow are pid = size, tid = aux */
	GT_EV_FORK,            /* the process is about to fork: span = FORK number (1, 2, ...);
	                          the child's heap is a copy of the parent's heap here */
	GT_EV_STACK,           /* a stack's definition, sent once per process before the first
	                          record that names it: stack = id, cls = frames in all,
	                          flags = chunk index; GT_STACK_CHUNK frames per record (see
	                          gt_stack_frames), innermost first, return addresses */
	GT_EV_MODULE,          /* a loaded object: addr = lowest mapped address, size = bytes
	                          mapped, stack = module number, bias (load address) =
	                          aux | span << 32; its path follows in MODPATH records */
	GT_EV_MODPATH,         /* GT_TEXT_CHUNK bytes of the path of module `stack`, chunk `flags` */
	GT_EV_CHILD_EXIT,      /* ring 0: the process reaped child aux (wait family), which ended
	                          with size = its exit code, or 128 + the signal that killed it */
};

enum {
	GT_F_TINY_OBJ = 1,   /* FREE of a tiny object (not a whole block) */
	GT_F_TINY_BLOCK = 2, /* FREE of a whole tiny block / span of tiny blocks */
	GT_PS_CLONED = 2,    /* PROC_START of a child that no fork handler saw (above) */
};

/* One decision.  40 bytes, naturally aligned. */
typedef struct gt_record {
	uint64_t tsc;     /* rdtsc (allocator decisions: region.now_tsc, a coarse clock);
	                     the region header converts it to ns */
	uint64_t addr;
	uint64_t size;
	uint32_t aux;
	uint32_t span;    /* span id (low 32 bits) */
	uint32_t stack;   /* stack id, 0 when none */
	uint8_t kind;
	uint8_t cls;
	uint16_t flags;
} gt_record;
_Static_assert(sizeof(gt_record) == 40, "record size");

/* A GT_EV_STACK record carries GT_STACK_CHUNK frames in addr, size and
 * (aux | span << 32). */
#define GT_STACK_CHUNK 3
static inline void gt_stack_put(gt_record *r, unsigned i, uint64_t pc)
{
	if (i == 0)
		r->addr = pc;
	else if (i == 1)
		r->size = pc;
	else {
		r->aux = (uint32_t)pc;
		r->span = (uint32_t)(pc >> 32);
	}
}
static inline uint64_t gt_stack_get(const gt_record *r, unsigned i)
{
	return i == 0 ? r->addr : i == 1 ? r->size : ((uint64_t)r->span << 32 | r->aux);
}

/* Allocation stacks (region.stack_mode). */
enum { GT_STACKS_OFF = 0, GT_STACKS_SAMPLE, GT_STACKS_ALL };
#define GT_STACK_DEPTH_MAX 128

/* A GT_EV_TEXT record carries GT_TEXT_CHUNK bytes of text in place of addr,
 * size, aux and span; flags holds the chunk index; the text is NUL-padded. */
#define GT_TEXT_CHUNK 24
static inline char *gt_record_text(gt_record *r)
{
	return (char *)&r->addr;
}

enum { GT_RING_FREE = 0, GT_RING_OWNED, GT_RING_DONE };

typedef struct gt_ring {
	uint32_t state;   /* atomic: GT_RING_* */
	int32_t pid, tid; /* owner, written at claim */
	uint32_t gen;     /* bumped at every claim */
	char pad0[48];
	uint64_t head;    /* atomic: producer */
	uint64_t dropped; /* atomic: producer */
	uint64_t tail_seen; /* producer only: the tail it last read (room is known
	                       without loading the drainer's line until head
	                       reaches tail_seen + cap) */
	char pad1[40];
	uint64_t tail;    /* atomic: drainer */
	char pad2[56];
} gt_ring;
_Static_assert(sizeof(gt_ring) == 192, "ring header size");

enum { GT_FLAG_LOSSY = 1 };

/* A process in another pid namespace than the drainer's (a sandbox: bwrap,
 * unshare --pid, a container) is known to the trace by this bit and 30 bits
 * of a hash of its namespace and its pid there, not by its pid: pids repeat
 * across namespaces, and the drainer cannot see them in its /proc.  No pid
 * has the bit (pid_max is at most 2^22). */
#define GT_FOREIGN_PID 0x40000000
static inline int gt_foreign_pid(uint32_t pidns, int pid)
{
	uint64_t x = ((uint64_t)pidns << 32 | (uint32_t)pid) + 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (int)(GT_FOREIGN_PID | (x & (GT_FOREIGN_PID - 1)));
}

/* Each producer thread raises the coarse clock (region.now_tsc) to rdtsc
 * every this many allocator decisions; the drainer raises it every round.
 * So a drainer may sleep long only while the producers decide at least
 * this often (cli/pace.c). */
#define GT_CLOCK_EVERY 128

typedef struct gt_region {
	uint64_t magic;
	uint32_t version;
	uint32_t nrings;
	uint32_t cap;           /* records per ring, a power of two */
	uint32_t flags;         /* GT_FLAG_* */
	uint64_t rings_off;     /* byte offsets from the region start */
	uint64_t records_off;
	uint64_t bytes;         /* whole region */
	int32_t drainer_pid;
	uint32_t drainer_gone;  /* atomic: set by a producer that gave up on the drainer,
	                           cleared by the drainer when it is heard from again */
	uint64_t heartbeat_ns;  /* atomic: CLOCK_MONOTONIC of the drainer's last loop */
	uint32_t shared_lock;   /* atomic spin lock of ring 0 */
	int32_t shared_pid;     /* shared_lock: writer of ring 0's last record */
	int32_t shared_tid;
	uint32_t drainer_pidns; /* inode of the drainer's pid namespace, 0 if unknown */
	uint64_t tsc0, ns0;     /* a (rdtsc, CLOCK_MONOTONIC ns) pair taken together */
	uint64_t tsc_per_ms;    /* calibrated by the CLI before the target starts */
	uint32_t waiters;       /* atomic: producers waiting for room (the drainer then never
	                           sleeps); also the futex word the drainer sleeps on, which a
	                           producer wakes when it starts to wait (cli/pace.c) */
	uint32_t waits;         /* atomic: times a producer found its ring full and waited (wraps) */
	uint64_t now_tsc;       /* atomic, only raised (gt_clock_raise): rdtsc, refreshed by
	                           the drainer every round and by each producer every
	                           GT_CLOCK_EVERY decisions (trace.c): the coarse clock of the
	                           allocator's records (rdtsc costs 22 ns on this kind of
	                           VM; a load of this line a few) */
	uint32_t stack_mode;    /* GT_STACKS_*: which allocations carry a stack */
	uint32_t stack_depth;   /* frames kept per stack, 1..GT_STACK_DEPTH_MAX */
	uint64_t sample_rate;   /* GT_STACKS_SAMPLE: mean bytes between sampled allocations */
} gt_region;

static inline gt_ring *gt_region_ring(gt_region *r, uint32_t i)
{
	return (gt_ring *)((char *)r + r->rings_off) + i;
}

static inline gt_record *gt_region_records(gt_region *r, uint32_t i)
{
	return (gt_record *)((char *)r + r->records_off) + (uint64_t)i * r->cap;
}

static inline uint64_t gt_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Raise region.now_tsc to t if it is behind (it never goes back: the
 * drainer and the producers both move it); returns the clock after. */
static inline uint64_t gt_clock_raise(gt_region *r, uint64_t t)
{
	uint64_t cur = __atomic_load_n(&r->now_tsc, __ATOMIC_RELAXED);
	while (cur < t && !__atomic_compare_exchange_n(&r->now_tsc, &cur, t, 1, __ATOMIC_RELAXED,
	                                               __ATOMIC_RELAXED))
		;
	return cur < t ? t : cur;
}

#endif
