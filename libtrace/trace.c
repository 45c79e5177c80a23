/* trace.c: the target's side of tracing.  When GOALLOC_TRACE_FD names the
 * region the CLI created (gt_event.h), the allocator's observer writes one
 * record per decision into the calling thread's ring; with no region, the
 * library is a plain allocator and none of this runs.
 *
 * Invariants:
 *   - nothing here allocates through the heap (it runs inside it);
 *   - a ring has one producer: the thread that claimed it (tls_ring), or,
 *     for ring 0, whichever thread holds region->shared_lock;
 *   - a thread that exited, or a forked child before its first event,
 *     never writes to a ring it does not own;
 *   - a process made by a fork that skipped fork's handlers (a raw clone
 *     system call) writes nothing before it has started afresh (below);
 *   - lossless by default: a full ring makes its thread wait for the
 *     drainer; it stops waiting, and drops and counts instead, once the
 *     drainer is gone (heartbeat stale for GT_DRAINER_TIMEOUT_NS, or its
 *     pid no longer exists).  Lossy mode drops and counts at once.
 */
#define _GNU_SOURCE
#include "trace.h"
#include "unwind.h"

#include "ga.h"
#include "gt_event.h"
#include "stack.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A drainer silent this long is taken for dead: producers stop waiting and
 * drop (and count) until it speaks again. */
#define GT_DRAINER_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

static gt_region *region; /* NULL: not tracing */
static uint64_t ring_mask;
static __thread gt_ring *tls_ring __attribute__((tls_model("initial-exec")));
static __thread gt_record *tls_recs __attribute__((tls_model("initial-exec")));
static __thread bool tls_exited __attribute__((tls_model("initial-exec")));
static __thread int tls_tid __attribute__((tls_model("initial-exec")));
/* This thread is in shared_put (waiting for region->shared_lock or holding
 * it): a signal handler's record on it (_exit, a reap) must not wait for
 * the lock. */
static __thread bool tls_in_shared __attribute__((tls_model("initial-exec")));
static bool exit_put; /* this process image wrote its PROC_EXIT */
/* Decisions until this thread next moves the coarse clock (observe;
 * GT_CLOCK_EVERY, gt_event.h). */
static __thread int tls_clock_left __attribute__((tls_model("initial-exec")));
/* This thread's last handoff time (observe): none of its later records is
 * stamped before it. */
static __thread uint64_t tls_floor __attribute__((tls_model("initial-exec")));

/* Forks that bypass fork's handlers.  A child made by the clone system
 * call without CLONE_VM (syscall(SYS_clone), clone3; the C library's
 * clone() is wrapped as a fork, clone.c) is a copy of this process that
 * still holds its thread's ring, and two processes writing one ring break
 * its single producer (a run whose program did that while both allocated
 * never ended).  `alive` points at a page the kernel wipes in every child
 * made without CLONE_VM (MADV_WIPEONFORK, Linux 4.14; without it, at a word
 * that stays 1): every record checks it first, and a process that finds it
 * zero starts afresh as fork's child handler would, with GT_PS_CLONED on
 * its PROC_START, where the drainer copies the parent's heap.  `forking` is
 * set from fork's prepare handler to its parent or child handler: a fork
 * child that allocates before our child handler ran (in another library's
 * child handler) is a fork child, not a cloned one. */
static uint32_t alive_fallback = 1;
static volatile uint32_t *alive = &alive_fallback;
static bool forking;
static int self_pid; /* this image's pid (trace_pid): the parent of a cloned child */

/* This process's pid namespace when it is not the drainer's, else 0
 * (also when either is unknown: no /proc, or an older CLI). */
static uint32_t foreign_ns;

static void learn_pidns(void)
{
	struct stat st;
	foreign_ns = 0;
	if (region->drainer_pidns && stat("/proc/self/ns/pid", &st) == 0 &&
	    (uint32_t)st.st_ino != region->drainer_pidns)
		foreign_ns = (uint32_t)st.st_ino;
}

/* A pid of this process's namespace as the trace knows it (gt_event.h). */
static int trace_pid(int pid)
{
	return foreign_ns && pid > 0 ? gt_foreign_pid(foreign_ns, pid) : pid;
}

static int my_pid(void)
{
	return trace_pid(getpid());
}

static void clone_child(void);

static inline void check_clone(void)
{
	if (GT_UNLIKELY(!*alive))
		clone_child();
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A precise time: rdtsc, and the coarse clock raised to it, so that the
 * allocator records after it are not stamped earlier.  For rare records
 * (thread, process, fork) and every GT_CLOCK_EVERY decisions (observe). */
static uint64_t stamp(void)
{
	return gt_clock_raise(region, gt_rdtsc());
}

static bool drainer_alive(void)
{
	uint64_t hb = __atomic_load_n(&region->heartbeat_ns, __ATOMIC_ACQUIRE);
	/* From another pid namespace the drainer's pid means nothing here */
	bool dead = (!foreign_ns && kill(region->drainer_pid, 0) != 0 && errno == ESRCH) ||
	            mono_ns() - hb > GT_DRAINER_TIMEOUT_NS;
	if (dead)
		__atomic_store_n(&region->drainer_gone, 1, __ATOMIC_RELEASE);
	return !dead;
}

/* Room for one record at ring r, whose cached tail says it may be full
 * (ring_slot), waiting for the drainer if it must.  Returns false when the
 * record is to be dropped. */
static GT_NOINLINE bool ring_room(gt_ring *r, uint64_t head)
{
	uint64_t cap = ring_mask + 1;
	r->tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	if (GT_LIKELY(head - r->tail_seen < cap))
		return true;
	if (region->flags & GT_FLAG_LOSSY)
		return false;
	if (__atomic_load_n(&region->drainer_gone, __ATOMIC_RELAXED) &&
	    ((__atomic_load_n(&r->dropped, __ATOMIC_RELAXED) & 0xffff) || !drainer_alive()))
		return false; /* gone: ask again only every 65536 drops */
	int saved = errno;
	bool ok = true;
	__atomic_fetch_add(&region->waiters, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&region->waits, 1, __ATOMIC_RELAXED);
	/* the drainer may be pacing itself in a futex wait on this word (cli/pace.c) */
	syscall(SYS_futex, &region->waiters, FUTEX_WAKE, 1, NULL, NULL, 0);
	for (unsigned spins = 0;; spins++) {
		uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		r->tail_seen = tail;
		if (head - tail < cap)
			break;
		if ((spins & 63) == 63 && !drainer_alive()) {
			ok = false;
			break;
		}
		if (spins < 8) { /* the drainer may be in the middle of a round */
			sched_yield();
			continue;
		}
		/* Sleep until the drainer moves the tail (it wakes this word when
		 * producers wait, cli/drain.c give_back), at most 1 ms: spinning
		 * here would take the CPU the drainer needs on a small machine. */
		struct timespec ts = {0, 1000 * 1000};
		syscall(SYS_futex, (uint32_t *)&r->tail, FUTEX_WAIT, (uint32_t)tail, &ts, NULL, 0);
	}
	__atomic_fetch_sub(&region->waiters, 1, __ATOMIC_RELAXED);
	errno = saved;
	return ok;
}

/* The slot of ring r (records recs) for its next record, at *head; NULL
 * when the record is dropped (counted).  Room is known without touching the
 * drainer's line while the cached tail allows it.  The writer fills the
 * slot, then ring_publish makes it the drainer's. */
static inline gt_record *ring_slot(gt_ring *r, gt_record *recs, uint64_t *head)
{
	uint64_t h = r->head;
	if (GT_UNLIKELY(h - r->tail_seen > ring_mask) && !ring_room(r, h)) {
		__atomic_fetch_add(&r->dropped, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	*head = h;
	return &recs[h & ring_mask];
}

static inline void ring_publish(gt_ring *r, uint64_t head)
{
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
}

static void ring_put(gt_ring *r, gt_record *recs, const gt_record *rec)
{
	uint64_t head;
	gt_record *slot = ring_slot(r, recs, &head);
	if (slot) {
		*slot = *rec;
		ring_publish(r, head);
	}
}

static int gettid_raw(void)
{
	return (int)syscall(SYS_gettid);
}

/* Ring 0, for threads without a ring of their own: records are tagged with
 * an OWNER record whenever the writing thread changes. */
static GT_NOINLINE void shared_put(const gt_record *rec)
{
	if (!tls_tid)
		tls_tid = gettid_raw();
	int pid = my_pid();
	gt_ring *r0 = gt_region_ring(region, 0);
	gt_record *recs = gt_region_records(region, 0);
	tls_in_shared = true;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	while (__atomic_exchange_n(&region->shared_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
	if (region->shared_pid != pid || region->shared_tid != tls_tid) {
		gt_record own = {.tsc = rec->tsc, .kind = GT_EV_OWNER, .size = (uint64_t)pid, .aux = (uint32_t)tls_tid};
		ring_put(r0, recs, &own);
		region->shared_pid = pid;
		region->shared_tid = tls_tid;
	}
	ring_put(r0, recs, rec);
	__atomic_store_n(&region->shared_lock, 0, __ATOMIC_RELEASE);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	tls_in_shared = false;
}

static void emit_thread_event(uint8_t kind);

static bool stacks_on; /* allocations carry stacks (stack.c) */

/* Claim a free ring for the calling thread; NULL when all are taken. */
static GT_NOINLINE gt_ring *ring_claim(void)
{
	if (tls_exited)
		return NULL;
	uint32_t n = region->nrings;
	int pid = my_pid();
	tls_tid = gettid_raw();
	for (uint32_t k = 0; k < n - 1; k++) {
		uint32_t i = 1 + (uint32_t)(((uint32_t)tls_tid + k) % (n - 1));
		gt_ring *r = gt_region_ring(region, i);
		uint32_t expect = GT_RING_FREE;
		if (__atomic_load_n(&r->state, __ATOMIC_RELAXED) == GT_RING_FREE &&
		    __atomic_compare_exchange_n(&r->state, &expect, GT_RING_OWNED, false, __ATOMIC_ACQ_REL,
		                                __ATOMIC_RELAXED)) {
			r->pid = pid;
			r->tid = tls_tid;
			__atomic_fetch_add(&r->gen, 1, __ATOMIC_RELEASE);
			tls_ring = r;
			tls_recs = gt_region_records(region, i);
			emit_thread_event(GT_EV_THREAD_START);
			return r;
		}
	}
	return NULL;
}

static inline void put(const gt_record *rec)
{
	check_clone();
	gt_ring *r = tls_ring;
	if (GT_UNLIKELY(!r)) {
		r = ring_claim();
		if (!r) {
			shared_put(rec);
			return;
		}
	}
	ring_put(r, tls_recs, rec);
}

static void emit_thread_event(uint8_t kind)
{
	gt_record rec = {.tsc = stamp(), .kind = kind, .aux = (uint32_t)tls_tid};
	ring_put(tls_ring, tls_recs, &rec);
}

/* Decisions that can hand a span, or pages, from one thread to another:
 * a refill (its span may come from another thread's cache, through
 * mcentral), mheap's span and page decisions, and large objects.  Within
 * one tick of the coarse clock the merge knows no order between threads,
 * and a refill merged before the SPAN_ALLOC that made its span took the
 * span's first objects from the model (their frees were left unmatched:
 * up to 44 a run with 300 threads, e2e_handoff).  So these records take
 * rdtsc, which is after every stamp of what came before them (every stamp
 * is a TSC reading from the past), and the thread's later records are
 * never stamped before it (tls_floor).  The coarse clock itself is left
 * alone: raising it here (a CAS on the line every producer reads) cost
 * bench-larson 3% of its traced time.  All are rare next to small
 * allocations and frees, and while only one thread uses the heap its
 * ring's order is the order: no rdtsc then (22 ns; bench-churn makes
 * 800,000 refills).
 * A realloc in place is one too: its free and allocation may be made
 * by a thread that was handed the object, right after the allocating
 * thread stamped it with a handoff's rdtsc, ahead of the coarse clock.
 * Stamped with the coarse clock, the pair came before the allocation, and
 * the merge matched the free with the object the pair allocated (Python
 * under --stacks=all: ~12 unmatched frees a run of test_threading;
 * tests/e2e/realloc_pass.c: 200-350).  A plain free needs none of this:
 * one merged before its allocation waits for it (cli/agg.c). */
static inline bool handoff(uint8_t kind, uint8_t cls, uint16_t evflags)
{
	return (kind >= GA_EV_REFILL && kind <= GA_EV_SCAVENGE) || kind == GA_EV_ALLOC_LARGE ||
	       (kind == GA_EV_FREE && cls == 0) || (evflags & GA_EVF_REALLOC);
}

/* The allocator's observer: one record per decision.  The record is
 * written straight into the thread's ring: built on the stack and copied,
 * its 16-byte loads waited for the narrower stores that made it (no store
 * forwarding), and ev's kind and cls, read as one 16-bit word, for the
 * byte stores that made them; the two were two thirds of observe's and
 * ring_put's samples on a traced bench-churn.  So ev's fields are read
 * once each, as bytes. */
static void observe(const ga_event *ev, void *ctx)
{
	(void)ctx;
	check_clone();
	const uint8_t kind = ev->kind;
	const uint8_t cls = __atomic_load_n(&ev->cls, __ATOMIC_RELAXED); /* a load of its own */
	const uint16_t evflags = ev->flags;
	uint64_t tsc;
	/* Every decision takes the coarse clock, so that the drainer's merge
	 * by time sees one clock: a span's refill is never stamped after the
	 * frees of its objects, nor an allocation after its free.  The drainer
	 * moves the clock every round; each thread also moves it up to rdtsc
	 * every GT_CLOCK_EVERY decisions, so that it stays fine (a few
	 * microseconds) while the drainer sleeps between rounds. */
	if (GT_UNLIKELY(--tls_clock_left <= 0)) {
		tls_clock_left = GT_CLOCK_EVERY;
		tsc = stamp();
	} else if (GT_UNLIKELY(handoff(kind, cls, evflags)) && ga_threaded()) {
		tsc = tls_floor = gt_rdtsc();
	} else {
		tsc = __atomic_load_n(&region->now_tsc, __ATOMIC_RELAXED);
		if (GT_UNLIKELY(tsc < tls_floor))
			tsc = tls_floor;
	}
	uint64_t size = ev->size;
	uint32_t stack = 0;
	if (stacks_on && kind <= GA_EV_ALLOC_LARGE)
		stack = gt_stack_alloc(size); /* may send the stack's definition first */
	uint16_t flags = 0;
	switch (kind) {
	case GA_EV_FREE:
		if (evflags & GA_EVF_TINY_SPAN)
			flags = GT_F_TINY_BLOCK;
		else if (ev->aux)
			flags = GT_F_TINY_OBJ;
		break;
	case GA_EV_REFILL:
	case GA_EV_SPAN_ALLOC:
	case GA_EV_SPAN_FREE:
	case GA_EV_HEAP_GROW:
	case GA_EV_SCAVENGE:
		size = ev->npages;
		if (evflags & GA_EVF_TINY_SPAN)
			flags = GT_F_TINY_BLOCK;
		break;
	default:
		break;
	}
	gt_ring *r = tls_ring;
	if (GT_LIKELY(r != NULL)) {
		uint64_t head;
		gt_record *slot = ring_slot(r, tls_recs, &head);
		if (!slot)
			return;
		slot->tsc = tsc;
		slot->addr = ev->addr;
		slot->size = size;
		slot->aux = (uint32_t)ev->aux;
		slot->span = (uint32_t)ev->span_id;
		slot->stack = stack;
		slot->kind = kind;
		slot->cls = cls;
		slot->flags = flags;
		ring_publish(r, head);
		return;
	}
	gt_record rec = {.tsc = tsc, .addr = ev->addr, .size = size, .aux = (uint32_t)ev->aux,
	                 .span = (uint32_t)ev->span_id, .stack = stack, .kind = kind, .cls = cls, .flags = flags};
	put(&rec); /* claims a ring, or the shared one */
}

/* The command line from /proc/self/cmdline, NULs turned into spaces, in
 * GT_EV_TEXT records after the PROC_START. */
static void emit_cmdline(void)
{
	char buf[1024];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return;
	while (n > 0 && buf[n - 1] == 0)
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == 0)
			buf[i] = ' ';
	for (ssize_t off = 0, chunk = 0; off < n; off += GT_TEXT_CHUNK, chunk++) {
		gt_record rec;
		memset(&rec, 0, sizeof rec);
		rec.tsc = stamp();
		rec.kind = GT_EV_TEXT;
		rec.flags = (uint16_t)chunk;
		memcpy(gt_record_text(&rec), buf + off, (size_t)(n - off < GT_TEXT_CHUNK ? n - off : GT_TEXT_CHUNK));
		put(&rec);
	}
}

static uint32_t fork_seq; /* FORK number of the last fork of this process */

/* ppid and fork_no name the FORK record whose heap a child copies, so the
 * ppid of a child is the pid its parent had at fork, not getppid(): a
 * parent that exits at once (a daemon's double fork) may be gone before
 * the child's handlers run, and the child reparented. */
static void emit_proc_start(uint32_t fork_no, int ppid, uint16_t psflags)
{
	const ga_options *o = ga_get_options();
	gt_record rec = {.tsc = stamp(), .kind = GT_EV_PROC_START, .aux = (uint32_t)my_pid(),
	                 .size = (uint64_t)ppid, .cls = o->go_exact, .flags = (uint16_t)(o->tiny | psflags),
	                 .span = fork_no};
	put(&rec);
	emit_cmdline();
}

/* Whether hdr is the header of a region this library can use, made by the
 * CLI with pid drainer (0: any). */
static bool region_ok(const gt_region *hdr, int drainer)
{
	return hdr->magic == GT_MAGIC && hdr->version == GT_VERSION && hdr->nrings >= 2 &&
	       !(hdr->cap & (hdr->cap - 1)) && (!drainer || hdr->drainer_pid == drainer);
}

/* "/proc/PID/fd/FD" into buf (no stdio: this runs inside malloc). */
static void proc_fd_path(char *buf, int pid, int fd)
{
	char *p = buf;
	const char *parts[] = {"/proc/", "/fd/"};
	int nums[] = {pid, fd};
	for (int k = 0; k < 2; k++) {
		for (const char *c = parts[k]; *c; c++)
			*p++ = *c;
		char digits[12];
		int n = 0;
		unsigned v = (unsigned)nums[k];
		do
			digits[n++] = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		while (n)
			*p++ = digits[--n];
	}
	*p = 0;
}

/* The region's fd and header.  GOALLOC_TRACE_FD is "FD@PID": the memfd the
 * CLI (PID) created, inherited by the whole process tree.  A program may
 * close it before an exec (Python's subprocess closes every fd it is not
 * told to pass, and so do daemons and closefrom() users) or reuse its
 * number; then the region is opened again through the CLI's own fd,
 * /proc/PID/fd/FD: the same memfd, still without a name.  Returns the fd,
 * *own set when it was opened here (the caller closes it once mapped), or
 * -1: run untraced. */
static int region_fd(const char *v, gt_region *hdr, bool *own)
{
	char *end;
	long fd = strtol(v, &end, 10);
	long drainer = *end == '@' ? strtol(end + 1, NULL, 10) : 0;
	if (fd < 0 || fd > INT32_MAX || drainer < 0 || drainer > INT32_MAX)
		return -1;
	*own = false;
	if (pread((int)fd, hdr, sizeof *hdr, 0) == (ssize_t)sizeof *hdr && region_ok(hdr, (int)drainer))
		return (int)fd;
	if (!drainer)
		return -1;
	char path[48];
	proc_fd_path(path, (int)drainer, (int)fd);
	int mine = open(path, O_RDWR | O_CLOEXEC);
	if (mine < 0)
		return -1; /* the CLI is gone, or this process may not look at it */
	if (pread(mine, hdr, sizeof *hdr, 0) != (ssize_t)sizeof *hdr || !region_ok(hdr, (int)drainer)) {
		close(mine);
		return -1;
	}
	*own = true;
	return mine;
}

static void init_tracing(void)
{
	const char *v = getenv(GT_ENV_FD);
	if (!v || !*v)
		return;
	gt_region hdr;
	bool own;
	int fd = region_fd(v, &hdr, &own);
	if (fd < 0)
		return; /* not ours: run untraced */
	void *p = mmap(NULL, hdr.bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (own)
		close(fd); /* the mapping keeps the region; children find it as this process did */
	if (p == MAP_FAILED) {
		/* Only address space can be short here (RLIMIT_AS): say so, or
		 * the run would end with a process that left no trace. */
		char line[160];
		int n = snprintf(line, sizeof line,
		                 "goalloc-trace: pid %d cannot map the trace region (%llu MiB): %s; it runs untraced\n",
		                 (int)getpid(), (unsigned long long)(hdr.bytes >> 20), strerrordesc_np(errno));
		if (n > 0)
			(void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
		return;
	}
	region = p;
	ring_mask = region->cap - 1;
	/* After an exec, rings this pid owned belong to the old image, whose
	 * threads are gone: hand them to the drainer. */
	learn_pidns();
	int pid = my_pid();
	for (uint32_t i = 1; i < region->nrings; i++) {
		gt_ring *r = gt_region_ring(region, i);
		if (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) == GT_RING_OWNED && r->pid == pid)
			__atomic_store_n(&r->state, GT_RING_DONE, __ATOMIC_RELEASE);
	}
	stacks_on = gt_stack_init(region->stack_mode, region->stack_depth, region->sample_rate);
	size_t page = (size_t)getpagesize();
	void *w = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w != MAP_FAILED && madvise(w, page, MADV_WIPEONFORK) == 0) {
		alive = w;
		*alive = 1;
	} else if (w != MAP_FAILED) {
		munmap(w, page);
	}
	self_pid = pid;
	ga_set_observer(observe, NULL);
	emit_proc_start(0, trace_pid(getppid()), 0);
}

/* Runs once, from the allocator's first initialisation: inside the
 * program's first malloc, whose errno the failed probes must not change. */
void ga_init_hook(void)
{
	int saved = errno;
	init_tracing();
	errno = saved;
}

/* After the thread's mcache was flushed: its last events are in its ring. */
void ga_thread_exit_hook(void)
{
	gt_unwind_thread_exit();
	if (!region)
		return;
	gt_ring *r = tls_ring;
	tls_exited = true; /* late events of this thread go to ring 0 */
	if (!r)
		return;
	emit_thread_event(GT_EV_THREAD_EXIT);
	tls_ring = NULL;
	tls_recs = NULL;
	__atomic_store_n(&r->state, GT_RING_DONE, __ATOMIC_RELEASE);
}

/* Before fork, with the heap's locks held (interpose.c): the point whose
 * heap the child will copy.  Nothing here allocates. */
void gt_trace_fork_prepare(void)
{
	if (!region)
		return;
	check_clone(); /* first: it numbers this process's forks afresh */
	forking = true;
	gt_record rec = {.tsc = stamp(), .kind = GT_EV_FORK, .span = ++fork_seq};
	put(&rec);
}

void gt_trace_fork_parent(void)
{
	forking = false;
}

/* A child process starts afresh: the parent's thread owns tls_ring. */
static void start_child(uint32_t parent_fork, int ppid, uint16_t psflags)
{
	*alive = 1;
	forking = false;
	learn_pidns(); /* clone(CLONE_NEWPID), or a fork after unshare(CLONE_NEWPID) */
	self_pid = my_pid();
	gt_stack_fork_child();
	tls_ring = NULL;
	tls_recs = NULL;
	tls_exited = false;
	tls_tid = 0;
	fork_seq = 0; /* this process's own forks count from 1 */
	exit_put = false;
	emit_proc_start(parent_fork, ppid, psflags);
}

/* Unless the child already started from its first record (check_clone). */
void gt_trace_fork_child(void)
{
	if (region && forking)
		start_child(fork_seq, self_pid, 0); /* the parent's pid, in the copy */
}

static GT_NOINLINE void clone_child(void)
{
	if (forking)
		gt_trace_fork_child();
	else
		start_child(0, self_pid, GT_PS_CLONED);
}

bool gt_trace_is_self(void)
{
	if (!region)
		return false;
	check_clone();
	return my_pid() == self_pid;
}

void gt_trace_exit(int status_known, int status)
{
	if (!region || exit_put)
		return;
	exit_put = true;
	gt_record rec = {.tsc = stamp(), .kind = GT_EV_PROC_EXIT, .aux = (uint32_t)my_pid(),
	                 .size = status_known ? (uint64_t)(uint32_t)status : UINT64_MAX};
	put(&rec);
}

/* _exit may run in a signal handler that interrupted this thread's put.
 * Then its own ring is still safe to write: the interrupted put never
 * resumes, and the record takes the slot it had not yet published.  Ring
 * 0's lock is not: a thread in shared_put records nothing. */
void gt_trace_exit_now(int status)
{
	if (tls_in_shared)
		return;
	gt_trace_exit(1, status);
}

/* A reap may run in a SIGCHLD handler that interrupted a put on this
 * thread's ring, which resumes after it: the record goes to ring 0, under
 * its lock, unless this thread is already in shared_put. */
void gt_trace_child_exit(int pid, int status)
{
	if (!region || tls_in_shared)
		return;
	check_clone();
	gt_record rec = {.tsc = stamp(), .kind = GT_EV_CHILD_EXIT, .aux = (uint32_t)trace_pid(pid),
	                 .size = (uint64_t)(uint32_t)status};
	shared_put(&rec);
}

bool gt_tracing(void)
{
	return region != NULL;
}

void gt_trace_put(const gt_record *rec)
{
	put(rec);
}

gt_region *gt_trace_region(void)
{
	return region;
}
