/* interpose.c: the malloc-family entry points of libgoalloc.so.  Loaded with
 * LD_PRELOAD they replace the C library's allocator for the whole process
 * (the C library itself calls malloc through these symbols), so there is no
 * dlsym bootstrap and nothing is forwarded to glibc's malloc.
 *
 * Each entry point adds C's contract on top of allocator/ (ga.h): argument
 * checks and errno as glibc sets them, alignment rules of posix_memalign,
 * memalign, valloc and pvalloc.  The fork handlers are registered by the
 * library constructor, before the program runs.
 */
#define _GNU_SOURCE
#include "ga.h"
#include "trace.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GT_EXPORT __attribute__((visibility("default")))

GT_EXPORT void *malloc(size_t size)
{
	return ga_malloc(size);
}

GT_EXPORT void free(void *p)
{
	ga_free(p);
}

GT_EXPORT void cfree(void *p)
{
	ga_free(p);
}

/* C23's sized frees (glibc 2.41 and later define them too): the size and
 * alignment are the caller's word, which the allocator does not need. */
GT_EXPORT void free_sized(void *p, size_t size)
{
	(void)size;
	ga_free(p);
}

GT_EXPORT void free_aligned_sized(void *p, size_t align, size_t size)
{
	(void)align;
	(void)size;
	ga_free(p);
}

GT_EXPORT void *calloc(size_t n, size_t size)
{
	return ga_calloc(n, size);
}

GT_EXPORT void *realloc(void *p, size_t size)
{
	return ga_realloc(p, size);
}

GT_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return ga_realloc(p, total);
}

GT_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	int saved = errno;
	void *p = ga_aligned_alloc(align, size);
	if (!p) {
		int err = errno;
		errno = saved;
		return err ? err : ENOMEM;
	}
	*out = p;
	return 0;
}

/* aligned_alloc as the C library under us has it: before glibc 2.38 it was
 * memalign (an alignment that is not a power of two, 0 included, rounded
 * up to one), since then C17's (EINVAL).  Programs built against the
 * older one may rely on that. */
static bool aligned_alloc_rounds(void)
{
	static int rounds = -1; /* racing first callers compute the same value */
	if (rounds < 0) {
		unsigned major = 0, minor = 0;
		const char *v = gnu_get_libc_version(); /* a static string */
		while (*v >= '0' && *v <= '9')
			major = major * 10 + (unsigned)(*v++ - '0');
		if (*v == '.')
			for (v++; *v >= '0' && *v <= '9'; v++)
				minor = minor * 10 + (unsigned)(*v - '0');
		rounds = major < 2 || (major == 2 && minor < 38);
	}
	return rounds;
}

GT_EXPORT void *memalign(size_t align, size_t size);

GT_EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (aligned_alloc_rounds())
		return memalign(align, size);
	return ga_aligned_alloc(align, size);
}

/* glibc's memalign rounds an alignment that is not a power of two up to one. */
GT_EXPORT void *memalign(size_t align, size_t size)
{
	if (align == 0)
		align = 1;
	if (align & (align - 1)) {
		if (align > SIZE_MAX / 2 + 1) {
			errno = EINVAL;
			return NULL;
		}
		size_t a = 1;
		while (a < align)
			a <<= 1;
		align = a;
	}
	return ga_aligned_alloc(align, size);
}

static size_t os_page(void)
{
	static size_t page;
	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

GT_EXPORT void *valloc(size_t size)
{
	return ga_aligned_alloc(os_page(), size);
}

GT_EXPORT void *pvalloc(size_t size)
{
	size_t page = os_page();
	if (size > SIZE_MAX - page) {
		errno = ENOMEM;
		return NULL;
	}
	size = size ? (size + page - 1) & ~(page - 1) : page;
	return ga_aligned_alloc(page, size);
}

GT_EXPORT size_t malloc_usable_size(void *p)
{
	return ga_usable_size(p);
}

/* glibc's internal names, which a few programs and libraries call
 * directly (malloc hooks of old, wrappers that want "the real malloc"):
 * memory from them is freed with free, so they are ours too, as in
 * tcmalloc and jemalloc. */
GT_EXPORT void *__libc_malloc(size_t size)
{
	return malloc(size);
}

GT_EXPORT void __libc_free(void *p)
{
	free(p);
}

GT_EXPORT void __libc_cfree(void *p)
{
	free(p);
}

GT_EXPORT void *__libc_calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

GT_EXPORT void *__libc_realloc(void *p, size_t size)
{
	return realloc(p, size);
}

GT_EXPORT void *__libc_memalign(size_t align, size_t size)
{
	return memalign(align, size);
}

GT_EXPORT void *__libc_valloc(size_t size)
{
	return valloc(size);
}

GT_EXPORT void *__libc_pvalloc(size_t size)
{
	return pvalloc(size);
}

GT_EXPORT int __posix_memalign(void **out, size_t align, size_t size)
{
	return posix_memalign(out, align, size);
}

GT_EXPORT int malloc_trim(size_t pad)
{
	(void)pad;
	ga_release_all();
	return 1;
}

/* Tuning knobs of glibc's allocator have no meaning here: accepted, ignored. */
GT_EXPORT int mallopt(int param, int value)
{
	(void)param;
	(void)value;
	return 1;
}

GT_EXPORT struct mallinfo2 mallinfo2(void)
{
	ga_heap_stats st;
	ga_read_stats(&st);
	struct mallinfo2 mi;
	memset(&mi, 0, sizeof mi);
	mi.arena = st.heap_sys;
	mi.uordblks = st.heap_alloc;
	mi.fordblks = st.heap_sys - st.heap_alloc;
	mi.keepcost = st.heap_idle - st.heap_released;
	return mi;
}

GT_EXPORT struct mallinfo mallinfo(void)
{
	struct mallinfo2 m2 = mallinfo2();
	struct mallinfo mi;
	memset(&mi, 0, sizeof mi);
	mi.arena = (int)m2.arena;
	mi.uordblks = (int)m2.uordblks;
	mi.fordblks = (int)m2.fordblks;
	mi.keepcost = (int)m2.keepcost;
	return mi;
}

GT_EXPORT void malloc_stats(void)
{
	ga_print_stats(2, false);
}

/* The totals glibc prints for each heap and again for the process. */
static void info_totals(FILE *fp, const ga_heap_stats *st)
{
	unsigned long long sys = st->heap_sys;
	fprintf(fp, "<total type=\"fast\" count=\"0\" size=\"0\"/>\n");
	fprintf(fp, "<total type=\"rest\" count=\"0\" size=\"%llu\"/>\n", sys - st->heap_alloc);
	fprintf(fp, "<system type=\"current\" size=\"%llu\"/>\n<system type=\"max\" size=\"%llu\"/>\n", sys, sys);
	fprintf(fp, "<aspace type=\"total\" size=\"%llu\"/>\n<aspace type=\"mprotect\" size=\"%llu\"/>\n",
	        (unsigned long long)st->reserved, sys);
}

/* glibc's XML shape (a <heap> with <sizes>, then <total>, <system> and
 * <aspace> elements), filled with this heap's figures: one <size> per
 * size class with live objects (count them, total their class bytes; the
 * large objects last, from 32769 bytes), "rest" the bytes mapped but not
 * allocated (HeapSys - HeapAlloc), and the Go names as attributes of
 * <goheap>.  The snapshot is taken before the first write: the stream
 * may allocate. */
GT_EXPORT int malloc_info(int options, FILE *fp)
{
	if (options != 0)
		return EINVAL; /* glibc's value (its manual says -1 and errno) */
	ga_heap_stats st;
	ga_read_stats(&st);
	unsigned long long small = 0;
	fprintf(fp, "<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n");
	for (unsigned c = 1; c < GA_CLASSES; c++) {
		const ga_class_stats *cs = &st.cls[c];
		if (cs->allocs <= cs->frees)
			continue;
		unsigned long long n = cs->allocs - cs->frees, sz = ga_class_size(c);
		small += n * sz;
		fprintf(fp, "<size from=\"%llu\" to=\"%llu\" total=\"%llu\" count=\"%llu\"/>\n",
		        c > 1 ? ga_class_size(c - 1) + 1ull : 1ull, sz, n * sz, n);
	}
	if (st.large_allocs > st.large_frees && st.heap_alloc > small)
		fprintf(fp, "<size from=\"%u\" to=\"%llu\" total=\"%llu\" count=\"%llu\"/>\n",
		        ga_class_size(GA_CLASSES - 1) + 1, st.heap_alloc - small, st.heap_alloc - small,
		        (unsigned long long)(st.large_allocs - st.large_frees));
	fprintf(fp, "</sizes>\n");
	info_totals(fp, &st);
	fprintf(fp, "</heap>\n<goheap HeapAlloc=\"%llu\" HeapInuse=\"%llu\" HeapIdle=\"%llu\" HeapReleased=\"%llu\""
	        " HeapSys=\"%llu\"/>\n",
	        (unsigned long long)st.heap_alloc, (unsigned long long)st.heap_inuse,
	        (unsigned long long)st.heap_idle, (unsigned long long)st.heap_released,
	        (unsigned long long)st.heap_sys);
	info_totals(fp, &st);
	fprintf(fp, "</malloc>\n");
	return 0;
}

void gt_atfork_prepare(void)
{
	/* The FORK record after the heap's locks are taken: no span, refill or
	 * page decision of another thread falls between it and the fork, so
	 * the child's copy of the model holds every span the child inherits
	 * (before, a span made in that window was missing and the child's
	 * frees in it went unmatched).  Other threads' allocations from their
	 * own cached spans take no lock and may still fall there. */
	ga_fork_prepare();
	gt_trace_fork_prepare();
}

void gt_atfork_parent(void)
{
	gt_trace_fork_parent();
	ga_fork_parent();
}

static pid_t gt_pid;

void gt_atfork_child(void)
{
	gt_pid = (pid_t)syscall(SYS_getpid);
	gt_trace_fork_child(); /* first: the parent's thread owns this thread's ring */
	ga_fork_child();
}

/* The loader binds every object's malloc to the first definition in the
 * global scope: ours, unless the executable defines malloc itself (as
 * Chromium's and rustc's do) or an object ahead of us does.  Then the
 * program's allocations never reach this library, and a trace of it would
 * be a quiet near-empty heap: say so (naming the object dladdr1 finds),
 * when tracing or printing statistics. */
static void warn_foreign_malloc(void)
{
	void *(*volatile bound)(size_t) = malloc; /* through the GOT: the loader's binding */
	if (!gt_tracing() && !ga_get_options()->stats)
		return;
	Dl_info bound_di, own_di;
	const ElfW(Sym) *sym = NULL;
	if (!dladdr1((void *)bound, &bound_di, (void **)&sym, RTLD_DL_SYMENT) ||
	    !dladdr((void *)warn_foreign_malloc, &own_di) || bound_di.dli_fbase == own_di.dli_fbase)
		return;
	/* A non-PIE executable that takes malloc's address owns its canonical
	 * address: a PLT stub (an undefined symbol with a value) that jumps on
	 * to the real malloc, ours.  That is no malloc of its own. */
	if (!sym || sym->st_shndx == SHN_UNDEF)
		return;
	const char *where = bound_di.dli_fname && *bound_di.dli_fname ? bound_di.dli_fname : "the program";
	char line[512];
	int n = snprintf(line, sizeof line,
	                 "goalloc: warning: %s (pid %d) calls the malloc of %s, which comes before libgoalloc.so's: "
	                 "only the calls it passes on are %s\n",
	                 program_invocation_short_name, (int)getpid(), where, gt_tracing() ? "traced" : "counted");
	if (n > 0)
		(void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* The status exit() was given, for the trace's PROC_EXIT.  The handler is
 * registered by our constructor, before libc's start code registers the
 * ELF destructors' runner, so exit() runs it after gt_fini: gt_fini then
 * leaves the PROC_EXIT to it, as nothing else runs in between.  _exit
 * records its own (exit_now); a process killed by a signal has none (its
 * traced parent's wait, reap.c, the kernel view or run's wait know those). */
static bool exit_hooked, exit_seen, fini_done;
static int exit_code;

static void note_exit(int status, void *arg)
{
	(void)arg;
	exit_code = status & 0xff;
	exit_seen = true;
	if (fini_done)
		gt_trace_exit(1, exit_code);
}

__attribute__((constructor)) static void gt_init(void)
{
	gt_pid = (pid_t)syscall(SYS_getpid);
	const ga_options *o = ga_get_options(); /* initialise the heap (and tracing) before the program runs */
	/* A relative GOALLOC_STATS_FILE is the first process's: its children,
	 * which may start in other directories, inherit it made absolute. */
	const char *sf = getenv("GOALLOC_STATS_FILE");
	if (o->stats_file && sf && sf[0] != '/')
		setenv("GOALLOC_STATS_FILE", o->stats_file, 1);
	pthread_atfork(gt_atfork_prepare, gt_atfork_parent, gt_atfork_child);
	gt_reap_init();
	gt_clone_init();
	if (gt_tracing())
		exit_hooked = on_exit(note_exit, NULL) == 0;
	warn_foreign_malloc();
}

__attribute__((destructor)) static void gt_fini(void)
{
	if (ga_get_options()->stats) {
		ga_heap_stats st;
		ga_read_stats(&st);
		ga_write_exit_stats(&st);
	}
	if (exit_hooked && !exit_seen)
		fini_done = true; /* note_exit, next, says how it ended */
	else
		gt_trace_exit(exit_seen, exit_code);
}

/* _exit and _Exit skip the destructors, and processes end that way on
 * purpose: dash (Debian's /bin/sh) always, Python's os._exit (its
 * multiprocessing workers), forked children.  They leave their PROC_EXIT
 * with the status here (gt_trace_exit_now says when it cannot), and with
 * GOALLOC_STATS print their report.  _exit may be called from a signal
 * handler that interrupted the heap on this thread, so the figures are read
 * without waiting for a lock (no report when one is held).  A vfork child
 * (which runs on its parent's memory, atfork handlers not run: its pid is
 * not the one recorded) does neither: the ring and the figures are its
 * parent's.  A child of the raw clone system call has its own memory and
 * its own trace (trace.c): it does both. */
static _Noreturn void exit_now(int status)
{
	if ((pid_t)syscall(SYS_getpid) == gt_pid || gt_trace_is_self()) {
		if (ga_get_options()->stats) {
			ga_heap_stats st;
			if (ga_read_stats_nowait(&st))
				ga_write_exit_stats(&st);
		}
		gt_trace_exit_now(status & 0xff);
	}
	for (;;)
		syscall(SYS_exit_group, status);
}

GT_EXPORT void _exit(int status)
{
	exit_now(status);
}

GT_EXPORT void _Exit(int status)
{
	exit_now(status);
}
