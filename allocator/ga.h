/* ga.h: the public interface of the Go-style heap (allocator/).
 *
 * The allocator is a C implementation of the Go runtime's heap: Go's size
 * classes, tiny allocator, mspan/mcache/mcentral/mheap, 64 MiB arenas and a
 * scavenger.  It knows nothing of tracing, SQLite or the CLI: it reports its
 * decisions through the observer below.  See malloc.c for the overview.
 *
 * Every entry point is thread-safe.  Errors: allocation failure returns NULL
 * with errno ENOMEM; an invalid or double free prints one line naming the call
 * and the address on stderr and aborts.
 */
#ifndef GA_H
#define GA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The malloc family, with C's contract (see DESIGN.md). */
void *ga_malloc(size_t size);
void ga_free(void *p);
void *ga_calloc(size_t n, size_t size);
void *ga_realloc(void *p, size_t size);
void *ga_aligned_alloc(size_t align, size_t size); /* NULL + EINVAL if align is not a power of two */
size_t ga_usable_size(const void *p);

/* Page heap housekeeping: return every free page to the OS now. */
void ga_release_all(void);

/* Called by the embedding library around fork(2) (pthread_atfork). */
void ga_fork_prepare(void);
void ga_fork_parent(void);
void ga_fork_child(void);

/* Called when a thread exits: flushes its mcache back to mcentral. */
void ga_thread_exit(void);

/* Whether a second thread has used the heap since the process started or
 * forked (the single-threaded mode is over, stmode.c). */
bool ga_threaded(void);

/* Hooks an embedding library may define (weak references): called at the
 * end of the heap's initialisation (first allocation of the process, after
 * which allocation works), and on a thread's exit after its mcache was
 * flushed (events emitted by the flush come before it). */
void ga_init_hook(void) __attribute__((weak));
void ga_thread_exit_hook(void) __attribute__((weak));

/* ---- Options (read once from the environment at first use) ----------- */

typedef struct ga_options {
	bool go_exact;               /* GOALLOC_GO_EXACT=1: Go's table and tiny rule bit for bit */
	bool tiny;                   /* GOALLOC_TINY=0 switches tiny merging off */
	bool stats;                  /* GOALLOC_STATS=1 (or a GOALLOC_STATS_FILE): print heap figures at exit */
	const char *stats_file;      /* GOALLOC_STATS_FILE: append them to this file (absolute), not stderr; or NULL */
	bool scavenge;               /* GOALLOC_SCAVENGE=0 never returns pages to the OS */
	uint32_t scavenge_percent;   /* GOALLOC_SCAVENGE_PERCENT: Go's GOGC for the heap goal (default 100) */
	uint64_t scavenge_min_bytes; /* GOALLOC_SCAVENGE_MIN_KB: idle pages always retained (default 16384 KiB) */
} ga_options;

const ga_options *ga_get_options(void);

/* ---- Size classes ------------------------------------------------------ */

enum {
	GA_PAGE_SHIFT = 13,
	GA_PAGE_SIZE = 1 << GA_PAGE_SHIFT, /* Go's page: 8 KiB, not the OS page */
	GA_MAX_SMALL = 32768,              /* largest size served from a size class */
	GA_TINY_SIZE = 16,                 /* tiny block size (class 2) */
	GA_CLASSES = 68,                   /* class 0 means large */
};

uint32_t ga_class_size(unsigned cls);   /* bytes per object */
uint32_t ga_class_npages(unsigned cls); /* pages per span */
uint32_t ga_class_nelems(unsigned cls); /* objects per span */
/* The class the current mode serves a request of `size` bytes from (1..32768);
 * Go's class when `go_exact`, the C-safe class otherwise. */
unsigned ga_size_to_class(size_t size, bool go_exact);

/* ---- Heap figures, in Go's names (runtime.MemStats) ------------------- */

typedef struct ga_class_stats {
	uint64_t allocs; /* objects allocated (for class 2: includes tiny blocks) */
	uint64_t frees;
} ga_class_stats;

typedef struct ga_heap_stats {
	uint64_t heap_alloc;    /* bytes in allocated objects, at class size */
	uint64_t heap_inuse;    /* bytes in in-use spans */
	uint64_t heap_idle;     /* bytes in free pages (HeapSys - HeapInuse) */
	uint64_t heap_released; /* bytes of free pages returned to the OS */
	uint64_t heap_sys;      /* bytes of heap address space mapped for use */
	uint64_t next_gc;       /* the heap goal the scavenger keeps to (Go's NextGC, scavenge.c) */
	uint64_t tiny_allocs;   /* tiny objects placed in tiny blocks */
	uint64_t tiny_blocks;   /* tiny blocks opened */
	uint64_t large_allocs, large_frees;
	uint64_t arenas;        /* 64 MiB arenas reserved */
	uint64_t reserved;      /* bytes of address space they reserve (less than arenas x 64 MiB when it was short) */
	ga_class_stats cls[GA_CLASSES];
} ga_heap_stats;

/* A snapshot; exact when no other thread is allocating. */
void ga_read_stats(ga_heap_stats *out);
/* The same without waiting for a lock, for a caller that may have
 * interrupted the heap (a signal handler): false when it could not. */
bool ga_read_stats_nowait(ga_heap_stats *out);
/* Writes the figures to fd in one write(2), never allocating; the title
 * names the program and pid, "at exit" or "now". */
void ga_print_stats(int fd, bool at_exit);
void ga_write_stats(int fd, const ga_heap_stats *st, bool at_exit); /* the same, of a snapshot */
/* A snapshot's report at exit: to stderr or appended to GOALLOC_STATS_FILE.
 * Async-signal-safe. */
void ga_write_exit_stats(const ga_heap_stats *st);

/* ---- Observer: every decision the heap makes --------------------------- */

typedef enum ga_event_kind {
	GA_EV_ALLOC_SMALL = 1, /* object from a size class: cls, size (requested), addr, span */
	GA_EV_ALLOC_TINY,      /* tiny object placed in a block: size, addr, span, aux = offset */
	GA_EV_ALLOC_LARGE,     /* class 0: size, addr, span, npages */
	GA_EV_FREE,            /* cls (0 large), addr, span; aux = 1 for a tiny object; flag TINY_SPAN: a tiny block went back to its span */
	GA_EV_TINY_OPEN,       /* a 16-byte block was carved for tiny objects: addr, span, aux = 1 if it became current */
	GA_EV_TINY_RETIRE,     /* a block stopped being current: addr, span, aux = objects placed in it */
	GA_EV_REFILL,          /* mcache got span from mcentral: cls, span, aux = free slots */
	GA_EV_SPAN_ALLOC,      /* mcentral got a new span from mheap: cls, span, addr, npages */
	GA_EV_SPAN_FREE,       /* span returned to mheap: cls, span, addr, npages */
	GA_EV_HEAP_GROW,       /* pages mapped for the heap: addr, npages; aux = 1 if a new arena */
	GA_EV_SCAVENGE,        /* pages released to the OS: addr, npages */
	GA_EV_KIND_MAX
} ga_event_kind;

typedef struct ga_event {
	uint8_t kind;   /* ga_event_kind */
	uint8_t cls;    /* size class; GA_SPANCLASS_TINY spans report class 2 */
	uint16_t flags; /* GA_EVF_* */
	uint32_t npages;
	uint64_t size;  /* requested bytes */
	uint64_t addr;
	uint64_t span_id;
	uint64_t aux;
} ga_event;

enum {
	GA_EVF_TINY_SPAN = 1,
	GA_EVF_REALLOC = 2, /* the free and the allocation of a realloc in place */
};

/* The observer is called on the thread that made the decision, with no
 * allocator lock held except where noted in malloc.c; it must not allocate
 * through the heap.  Set it once, before other threads allocate. */
typedef void (*ga_observer_fn)(const ga_event *ev, void *ctx);
void ga_set_observer(ga_observer_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
