/* stack.c: allocation stacks in the target.  Decides which allocations
 * carry a stack (all, or Go's sampling: a mean of one per sample_rate
 * bytes), captures the stack (unwind.c's own unwinder, libunwind's
 * unw_backtrace for the frames it does not follow), gives each distinct
 * stack a small id and sends its frames once, and tells the CLI where each
 * loaded object is mapped so it can symbolize the frames.
 *
 * GOALLOC_UNWIND picks the unwinder: unset or "fast" as above,
 * "libunwind" only unw_backtrace, "check" both for every stack, and a
 * stack on which they differ is printed and the process aborted (tests).
 *
 * Invariants:
 *   - nothing here allocates through the heap; an allocation made while
 *     this thread is capturing a stack (libunwind, a signal handler) gets
 *     no stack (tls_busy) instead of recursing;
 *   - a stack id is defined (GT_EV_STACK) on the ring of the thread that
 *     created it, before that thread's first record naming it; another
 *     thread may name it earlier in the merged stream: the CLI resolves
 *     ids at the end of the run, not when it sees them;
 *   - ids are per process; a fork child inherits its parent's tables (they are
 *     ordinary memory) and the CLI looks ids the child never defined up in
 *     the parent;
 *   - the id tables are insert-only and lock-free: a slot's hash is claimed
 *     by CAS, its id published after; a reader that finds the hash waits a
 *     bounded time for the id, else treats the stack as new (a fork child
 *     may have copied a half-made slot);
 *   - modules are scanned (dl_iterate_phdr) only when a new stack has a
 *     frame outside every module sent so far, under a try-lock: a thread
 *     that finds it taken sends its stack without waiting (dl_iterate_phdr
 *     takes the loader's lock, whose holder may be allocating).
 */
#define _GNU_SOURCE
#include "stack.h"

#include "trace.h"
#include "unwind.h"

#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

enum {
	/* The id table is two: a small one for a program's first stacks, which
	 * keeps them on few cache lines (a lookup per allocation under
	 * --stacks=all: cc1's 5.8k stacks spread over 16 MiB missed the cache
	 * on most), and a large one for the stacks after it has filled. */
	SMALL_SHIFT = 14,  /* 16K slots, 256 KiB */
	SMALL_MAX = 1 << 13, /* stacks it takes (half full: short probes) */
	TABLE_SHIFT = 20,  /* 1M slots, 16 MiB of address space, touched as used */
	PROBES = 64,
	SKIP_MAX = 24,     /* frames of the allocator and libunwind above the caller */
	MODULES_MAX = 2048,
};

typedef struct slot {
	uint64_t hash; /* atomic: 0 = empty */
	uint32_t id;   /* atomic: 0 until published */
	uint32_t pad;
} slot;

typedef struct range {
	uintptr_t lo, hi;
} range;

static uint32_t mode;   /* GT_STACKS_* */
enum { UNWIND_FAST = 0, UNWIND_LIBUNWIND, UNWIND_CHECK };

static int depth;
static int unwinder;    /* UNWIND_* */
static double rate;     /* mean bytes between samples */
static slot *small, *table;       /* the two id tables */
static uint32_t small_used;       /* atomic: slots claimed in small */
static uint32_t next_id;          /* atomic */
static range self[2];             /* this library and libunwind: frames to skip */
static range modules[MODULES_MAX]; /* sent to the CLI */
static uint32_t nmodules;          /* atomic (readers outside the lock) */
static uint32_t mod_lock;          /* try-lock of the module scan */

static __thread bool tls_busy __attribute__((tls_model("initial-exec")));
/* The thread's alternate signal stack, as its last sigaltstack call set
 * it: [lo, hi), or hi 0 for none (see sigaltstack below). */
static __thread uintptr_t tls_alt_lo __attribute__((tls_model("initial-exec")));
static __thread uintptr_t tls_alt_hi __attribute__((tls_model("initial-exec")));
static __thread int64_t tls_until_sample __attribute__((tls_model("initial-exec")));
static __thread uint64_t tls_rng __attribute__((tls_model("initial-exec")));

/* ---- sampling ---------------------------------------------------------------- */

static uint64_t rng_next(void)
{
	/* xorshift64* */
	uint64_t x = tls_rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	tls_rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* -ln(u) for u in (0, 1], to about 1e-13 (without libm, as Go's
 * fastexprand: a preload that maps fewer libraries starts each process
 * sooner).  u = m 2^e with m in [1, 2); ln m = 2 atanh(t) with
 * t = (m - 1) / (m + 1) < 1/3, twelve terms of its series. */
static double neg_ln(double u)
{
	uint64_t bits;
	memcpy(&bits, &u, sizeof bits);
	int e = (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & ((1ull << 52) - 1)) | (1023ull << 52);
	double m;
	memcpy(&m, &bits, sizeof m);
	double t = (m - 1) / (m + 1), t2 = t * t, sum = 0;
	for (int k = 23; k >= 1; k -= 2)
		sum = sum * t2 + 1.0 / k;
	return -(e * 0.69314718055994530942 + 2 * t * sum);
}

/* Bytes until the next sample: exponential with mean `rate`, as Go's
 * nextSample, so each allocation of n bytes is sampled with probability
 * 1 - exp(-n / rate) whatever came before it. */
static int64_t next_gap(void)
{
	if (!tls_rng)
		tls_rng = (gt_rdtsc() ^ ((uint64_t)gettid() << 32) ^ (uintptr_t)&tls_rng) | 1;
	double u = (double)((rng_next() >> 11) + 1) * 0x1p-53; /* (0, 1], never subnormal */
	double g = neg_ln(u) * rate;
	return g < 1 ? 1 : g > 0x1p62 ? INT64_C(1) << 62 : (int64_t)g;
}

static bool sampled(uint64_t size)
{
	if (mode == GT_STACKS_ALL)
		return true;
	int64_t n = size ? (int64_t)(size < (1ull << 62) ? size : 1ull << 62) : 1;
	if (GT_LIKELY(n < tls_until_sample)) {
		tls_until_sample -= n;
		return false;
	}
	if (GT_UNLIKELY(!tls_rng)) { /* this thread's first allocation: draw its first gap */
		tls_until_sample = next_gap();
		if (n < tls_until_sample) {
			tls_until_sample -= n;
			return false;
		}
	}
	tls_until_sample = next_gap();
	return true;
}

/* ---- modules ------------------------------------------------------------------ */

static bool in_range(const range *r, uintptr_t pc)
{
	return pc >= r->lo && pc < r->hi;
}

struct find_arg {
	uintptr_t addr;
	range out;
};

static void object_range(const struct dl_phdr_info *info, range *r)
{
	r->lo = UINTPTR_MAX;
	r->hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (lo < r->lo)
			r->lo = lo;
		if (hi > r->hi)
			r->hi = hi;
	}
}

static int find_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	(void)sz;
	struct find_arg *f = arg;
	range r;
	object_range(info, &r);
	if (in_range(&r, f->addr)) {
		f->out = r;
		return 1;
	}
	return 0;
}

static range object_of(const void *addr)
{
	struct find_arg f = {.addr = (uintptr_t)addr};
	dl_iterate_phdr(find_cb, &f);
	return f.out;
}

static void send_text(uint8_t kind, uint32_t ref, const char *s, size_t n)
{
	for (size_t off = 0, chunk = 0; off < n; off += GT_TEXT_CHUNK, chunk++) {
		gt_record rec;
		memset(&rec, 0, sizeof rec);
		rec.tsc = gt_rdtsc();
		rec.kind = kind;
		rec.stack = ref;
		rec.flags = (uint16_t)chunk;
		memcpy(gt_record_text(&rec), s + off, n - off < GT_TEXT_CHUNK ? n - off : GT_TEXT_CHUNK);
		gt_trace_put(&rec);
	}
}

static int scan_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	(void)sz;
	(void)arg;
	range r;
	object_range(info, &r);
	if (r.hi <= r.lo)
		return 0;
	uint32_t n = nmodules;
	for (uint32_t i = 0; i < n; i++)
		if (modules[i].lo == r.lo && modules[i].hi == r.hi)
			return 0;
	static char path[PATH_MAX]; /* under mod_lock; the stack may be a 16 KiB thread's */
	size_t len;
	if (info->dlpi_name && info->dlpi_name[0] == '/') {
		len = strlen(info->dlpi_name);
		if (len >= sizeof path)
			return 0;
		memcpy(path, info->dlpi_name, len);
	} else if (!info->dlpi_name || !info->dlpi_name[0]) {
		/* the main program (the first object without a name) */
		ssize_t k = readlink("/proc/self/exe", path, sizeof path - 1);
		if (k <= 0)
			return 0;
		len = (size_t)k;
	} else {
		return 0; /* the vDSO: no file */
	}
	if (n == MODULES_MAX)
		return 1;
	modules[n] = r;
	__atomic_store_n(&nmodules, n + 1, __ATOMIC_RELEASE);
	gt_record rec = {.tsc = gt_rdtsc(), .kind = GT_EV_MODULE, .addr = r.lo, .size = r.hi - r.lo,
	                 .stack = n + 1, .aux = (uint32_t)info->dlpi_addr,
	                 .span = (uint32_t)((uint64_t)info->dlpi_addr >> 32)};
	gt_trace_put(&rec);
	send_text(GT_EV_MODPATH, n + 1, path, len);
	return 0;
}

static bool known_pc(uintptr_t pc)
{
	uint32_t n = __atomic_load_n(&nmodules, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < n; i++)
		if (in_range(&modules[i], pc))
			return true;
	return false;
}

/* Make sure every frame's object has been sent (a dlopen'ed library, the
 * first stack of all). */
static void send_modules(void *const *pcs, int n)
{
	for (int i = 0; i < n; i++) {
		if (known_pc((uintptr_t)pcs[i]))
			continue;
		if (__atomic_exchange_n(&mod_lock, 1, __ATOMIC_ACQUIRE))
			return; /* another thread is scanning: not worth waiting for */
		dl_iterate_phdr(scan_cb, NULL);
		__atomic_store_n(&mod_lock, 0, __ATOMIC_RELEASE);
		return;
	}
}

/* ---- stacks -------------------------------------------------------------------- */

/* Two lanes over alternate frames, so that the multiplies of a deep stack
 * overlap instead of waiting on each other. */
static uint64_t hash_frames(void *const *pcs, int n)
{
	uint64_t a = 0x9E3779B97F4A7C15ull * (uint64_t)(n + 1), b = 0xD6E8FEB86659FD93ull;
	int i = 0;
	for (; i + 1 < n; i += 2) {
		a = (a ^ (uintptr_t)pcs[i]) * 0xff51afd7ed558ccdull;
		b = (b ^ (uintptr_t)pcs[i + 1]) * 0xc4ceb9fe1a85ec53ull;
		a ^= a >> 32;
		b ^= b >> 29;
	}
	if (i < n)
		a = (a ^ (uintptr_t)pcs[i]) * 0xff51afd7ed558ccdull;
	uint64_t h = a ^ (b * 0x9E3779B97F4A7C15ull);
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 32;
	return h ? h : 1;
}

static void send_stack(uint32_t id, void *const *pcs, int n)
{
	send_modules(pcs, n);
	uint64_t tsc = __atomic_load_n(&gt_trace_region()->now_tsc, __ATOMIC_RELAXED);
	for (int off = 0, chunk = 0; off < n; off += GT_STACK_CHUNK, chunk++) {
		gt_record rec;
		memset(&rec, 0, sizeof rec);
		rec.tsc = tsc;
		rec.kind = GT_EV_STACK;
		rec.stack = id;
		rec.cls = (uint8_t)n;
		rec.flags = (uint16_t)chunk;
		for (int k = 0; k < GT_STACK_CHUNK && off + k < n; k++)
			gt_stack_put(&rec, (unsigned)k, (uintptr_t)pcs[off + k]);
		gt_trace_put(&rec);
	}
}

static uint32_t new_id(void *const *pcs, int n)
{
	uint32_t id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	send_stack(id, pcs, n);
	return id;
}

/* In table t of 2^shift slots: the stack's id, or 0 when it is not
 * there and was not added: adding is allowed while *used (if given) is
 * under max. */
static uint32_t lookup(slot *t, unsigned shift, uint32_t *used, uint32_t max, uint64_t h, void *const *pcs,
                       int n)
{
	uint64_t mask = (1ull << shift) - 1;
	for (uint64_t probe = 0; probe < PROBES; probe++) {
		slot *s = &t[(h + probe) & mask];
		uint64_t cur = __atomic_load_n(&s->hash, __ATOMIC_ACQUIRE);
		if (cur == 0) {
			if (used && __atomic_load_n(used, __ATOMIC_RELAXED) >= max)
				return 0; /* full: the stack is not here, and goes elsewhere */
			if (__atomic_compare_exchange_n(&s->hash, &cur, h, false, __ATOMIC_ACQ_REL,
			                                __ATOMIC_ACQUIRE)) {
				if (used)
					__atomic_add_fetch(used, 1, __ATOMIC_RELAXED);
				uint32_t id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
				__atomic_store_n(&s->id, id, __ATOMIC_RELEASE);
				send_stack(id, pcs, n);
				return id;
			}
			/* lost the race: cur holds the winner's hash */
		}
		if (cur == h) {
			for (int spin = 0; spin < 4096; spin++) {
				uint32_t id = __atomic_load_n(&s->id, __ATOMIC_ACQUIRE);
				if (id)
					return id;
				sched_yield();
			}
			return new_id(pcs, n); /* never published (a fork copied it half made) */
		}
	}
	return used ? 0 : new_id(pcs, n); /* crowded here: on to the large table, or define it again */
}

/* A stack is in small if it came while small had room, else in table.
 * Two threads adding the same stack as small fills may give it two ids
 * (also a stack redefined in a crowded table): the CLI merges stacks whose
 * frames are equal, so this costs a definition, not a wrong figure. */
static uint32_t intern(void *const *pcs, int n)
{
	uint64_t h = hash_frames(pcs, n);
	uint32_t id = lookup(small, SMALL_SHIFT, &small_used, SMALL_MAX, h, pcs, n);
	return id ? id : lookup(table, TABLE_SHIFT, NULL, 0, h, pcs, n);
}

/* Frames of this library and of libunwind, at the top of a capture. */
static int skip_own(void *const *pcs, int n)
{
	int skip = 0;
	while (skip < n && skip < SKIP_MAX &&
	       (in_range(&self[0], (uintptr_t)pcs[skip]) || in_range(&self[1], (uintptr_t)pcs[skip])))
		skip++;
	return skip;
}

/* libunwind, set up at its first use.  Its setup opens a pipe (for
 * validating addresses) that the process then holds for good: a program
 * that counts its fds (CPython's test_subprocess does, after an exec with
 * close_fds) would see it.  Most processes never need libunwind, as
 * gt_unwind follows their every frame. */
static pthread_once_t unw_once = PTHREAD_ONCE_INIT;

static void unw_setup(void)
{
	/* libunwind's global cache takes a lock with every signal blocked
	 * (two sigprocmask calls per unwind); each thread's own needs neither. */
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

static int libunwind_backtrace(void **pcs, int n)
{
	pthread_once(&unw_once, unw_setup);
	return unw_backtrace(pcs, n);
}

/* GOALLOC_UNWIND=check: the stack gt_unwind gave (n frames, this
 * library's already passed over) against libunwind's first depth frames
 * outside it; a difference is printed and aborts. */
static void check_unwind(void *const *pcs, int n)
{
	void *ref[depth + SKIP_MAX];
	int m = libunwind_backtrace(ref, depth + SKIP_MAX);
	int a = skip_own(pcs, n), b = skip_own(ref, m);
	int na = n - a, nb = m - b;
	if (nb > depth)
		nb = depth;
	int len = na < nb ? na : nb;
	int i = 0;
	while (i < len && pcs[a + i] == ref[b + i])
		i++;
	if (i == len && na == nb)
		return;
	char buf[256];
	int k = snprintf(buf, sizeof buf,
	                 "goalloc: unwinders differ at frame %d (own %d frames, libunwind %d): %p vs %p\n", i,
	                 na, nb, i < na ? pcs[a + i] : NULL, i < nb ? ref[b + i] : NULL);
	if (k > 0)
		(void)!write(2, buf, (size_t)k < sizeof buf ? (size_t)k : sizeof buf - 1);
	abort();
}

/* ---- signal stacks ------------------------------------------------------------ */

/* A signal handler runs on an alternate stack of SIGSTKSZ (8 KiB) or so,
 * and one that allocates (a crash handler's backtrace_symbols, or glibc's
 * backtrace loading libgcc_s) may have little of it left.  Walking up from
 * it meets the signal frame, which our unwinder does not follow, and
 * libunwind's first walk (its set-up and the loader's lazy binding) took
 * more than 4 KiB: the handler's stack overflowed under --stacks=all.  So
 * the library sees each thread's sigaltstack calls; on the alternate stack
 * a stack is our unwinder's frames up to the signal frame, never
 * libunwind's, and an allocation with less than ALT_NEED bytes of the
 * alternate stack below it gets none (our capture takes under 3 KiB). */
enum { ALT_NEED = 4096 };

__attribute__((visibility("default"))) int sigaltstack(const stack_t *ss, stack_t *old)
{
	if (syscall(SYS_sigaltstack, ss, old) != 0)
		return -1; /* errno set by syscall() */
	if (ss) {
		if (ss->ss_flags & SS_DISABLE) {
			tls_alt_hi = 0;
		} else {
			tls_alt_lo = (uintptr_t)ss->ss_sp;
			tls_alt_hi = (uintptr_t)ss->ss_sp + ss->ss_size;
		}
	}
	return 0;
}

/* 0: not on the thread's alternate stack; 1: on it; -1: on it, with too
 * little of it left for a capture. */
static int on_alt_stack(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	if (sp - tls_alt_lo >= tls_alt_hi - tls_alt_lo)
		return 0;
	return sp - tls_alt_lo < ALT_NEED ? -1 : 1;
}

uint32_t gt_stack_alloc(uint64_t size)
{
	if (tls_busy || !sampled(size))
		return 0;
	int alt = GT_UNLIKELY(tls_alt_hi) ? on_alt_stack() : 0;
	if (alt < 0 || (alt && unwinder == UNWIND_LIBUNWIND))
		return 0;
	tls_busy = true;
	/* sized by the run's depth (32 by default), not the largest allowed:
	 * this runs on the program's stack, inside its malloc */
	void *pcs[depth + SKIP_MAX];
	/* ours passes over this library's frames itself: depth frames of the
	 * program's are all it walks */
	int n = unwinder == UNWIND_LIBUNWIND ? -1 : gt_unwind(pcs, depth, self[0].lo, self[0].hi, alt), skip = 0;
	if (GT_UNLIKELY(unwinder == UNWIND_CHECK) && n >= 0 && !alt)
		check_unwind(pcs, n);
	if (n < 0 && alt) {
		tls_busy = false;
		return 0;
	}
	if (n < 0) {
		n = libunwind_backtrace(pcs, depth + SKIP_MAX);
		skip = skip_own(pcs, n);
		n -= skip;
	}
	if (n > depth)
		n = depth;
	uint32_t id = n > 0 ? intern(pcs + skip, n) : 0;
	tls_busy = false;
	return id;
}

bool gt_stack_init(uint32_t stack_mode, uint32_t stack_depth, uint64_t sample_rate)
{
	if (stack_mode != GT_STACKS_SAMPLE && stack_mode != GT_STACKS_ALL)
		return false;
	/* one mapping, the large table first (where the kernel aligns a large
	 * mapping for huge pages) */
	size_t bytes = (sizeof(slot) << TABLE_SHIFT) + (sizeof(slot) << SMALL_SHIFT);
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return false;
	table = m;
	small = table + (1u << TABLE_SHIFT);
	/* Stacks land at random slots: on 4 KiB pages nearly every lookup of a
	 * program with thousands of stacks missed the TLB too.  Only when every
	 * allocation looks its stack up: huge pages back the large table (16 MiB
	 * of the target's RSS once used), where sampling touches a few 4 KiB
	 * pages. */
	if (stack_mode == GT_STACKS_ALL)
		madvise(table, sizeof(slot) << TABLE_SHIFT, MADV_HUGEPAGE);
	depth = stack_depth < 1 ? 1 : stack_depth > GT_STACK_DEPTH_MAX ? GT_STACK_DEPTH_MAX : (int)stack_depth;
	rate = sample_rate ? (double)sample_rate : 512.0 * 1024;
	const char *u = getenv("GOALLOC_UNWIND");
	unwinder = u && !strcmp(u, "libunwind") ? UNWIND_LIBUNWIND : u && !strcmp(u, "check") ? UNWIND_CHECK
	                                                                                      : UNWIND_FAST;
	if (!gt_unwind_init())
		unwinder = UNWIND_LIBUNWIND;
	self[0] = object_of((const void *)gt_stack_alloc);
	self[1] = object_of((const void *)unw_backtrace);
	mode = stack_mode;
	return true;
}

void gt_stack_fork_child(void)
{
	mod_lock = 0; /* a thread of the parent may have held it */
	gt_unwind_fork_child();
	tls_busy = false;
}
