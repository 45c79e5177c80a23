/* stats.c: the heap's figures in Go's names (runtime.MemStats) and their
 * plain-text rendering for GOALLOC_STATS=1.  Never allocates.
 *
 *   HeapAlloc    bytes in allocated objects, at class size (a tiny block
 *                counts as one 16-byte object, as in Go)
 *   HeapInuse    bytes in spans with at least one object (or cached)
 *   HeapIdle     bytes in free pages = HeapSys - HeapInuse
 *   HeapReleased bytes of free pages returned to the OS
 *   HeapSys      bytes of heap memory mapped
 */
#define _GNU_SOURCE /* program_invocation_short_name */
#include "ga_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static bool read_stats(ga_heap_stats *out, bool nowait)
{
	memset(out, 0, sizeof *out);
	if (!GA_LOAD_ACQ(&ga_inited))
		return true;
	if (!_ga_mheap_stats(out, nowait))
		return false;
	out->heap_idle = out->heap_sys - out->heap_inuse;
	return _ga_mcaches_sum(out, nowait);
}

void ga_read_stats(ga_heap_stats *out)
{
	(void)read_stats(out, false);
}

bool ga_read_stats_nowait(ga_heap_stats *out)
{
	return read_stats(out, true);
}

static void line(ga_buf *b, const char *name, uint64_t v, const char *what)
{
	_ga_buf_str(b, "  ");
	_ga_buf_str(b, name);
	for (size_t n = strlen(name); n < 13; n++)
		_ga_buf_str(b, " ");
	_ga_buf_bytes(b, v, 11);
	_ga_buf_str(b, "  ");
	_ga_buf_str(b, what);
	_ga_buf_str(b, "\n");
}

/* The whole report is one write(2) (68 class lines fit in 8 KiB), so the
 * reports of processes sharing a stderr pipe or a GOALLOC_STATS_FILE do not
 * interleave line by line. */
void ga_print_stats(int fd, bool at_exit)
{
	ga_heap_stats st;
	ga_read_stats(&st);
	ga_write_stats(fd, &st, at_exit);
}

void ga_write_stats(int fd, const ga_heap_stats *st, bool at_exit)
{
	char tmp[8192];
	ga_buf b = {tmp, 0, sizeof tmp};
	_ga_buf_str(&b, at_exit ? "goalloc: heap at exit of " : "goalloc: heap now of ");
	_ga_buf_str(&b, program_invocation_short_name);
	_ga_buf_str(&b, " (pid ");
	_ga_buf_u64(&b, (uint64_t)getpid(), 0);
	_ga_buf_str(&b, ga_opts.go_exact ? "; Go-exact" : "; C-safe");
	_ga_buf_str(&b, ga_opts.tiny ? " mode, tiny on)\n" : " mode, tiny off)\n");
	line(&b, "HeapAlloc", st->heap_alloc, "bytes in allocated objects (class size)");
	line(&b, "HeapInuse", st->heap_inuse, "bytes in in-use spans");
	line(&b, "HeapIdle", st->heap_idle, "bytes in free pages");
	line(&b, "HeapReleased", st->heap_released, "bytes of free pages returned to the OS");
	line(&b, "HeapSys", st->heap_sys, "bytes of heap memory mapped");
	line(&b, "NextGC", st->next_gc, "the heap goal the scavenger keeps to");
	_ga_buf_str(&b, "  tiny: ");
	_ga_buf_u64(&b, st->tiny_allocs, 0);
	_ga_buf_str(&b, " objects in ");
	_ga_buf_u64(&b, st->tiny_blocks, 0);
	_ga_buf_str(&b, " blocks; arenas: ");
	_ga_buf_u64(&b, st->arenas, 0);
	_ga_buf_str(&b, "\n  class    size      allocs       frees        live\n");
	for (unsigned cls = 0; cls < GA_CLASSES; cls++) {
		const ga_class_stats *c = &st->cls[cls];
		if (c->allocs == 0 && c->frees == 0)
			continue;
		_ga_buf_u64(&b, cls, 7);
		if (cls == 0)
			_ga_buf_pad(&b, "large", 8);
		else
			_ga_buf_u64(&b, ga_class_to_size[cls], 8);
		_ga_buf_u64(&b, c->allocs, 12);
		_ga_buf_u64(&b, c->frees, 12);
		_ga_buf_u64(&b, c->allocs - c->frees, 12);
		_ga_buf_str(&b, "\n");
	}
	_ga_write_all(fd, b.p, b.len);
}

/* GOALLOC_STATS's report at exit: on stderr, or appended to the
 * GOALLOC_STATS_FILE, opened only now (a descriptor held through the run
 * would be seen, closed or inherited by the program).  A program that closed
 * its stderr before exit (coreutils do, in close_stdout) gets no report
 * there; the file is the way to have one.  Async-signal-safe, as _exit's
 * caller may be a signal handler: no stdio, and strerrordesc_np's static,
 * locale-free text. */
void ga_write_exit_stats(const ga_heap_stats *st)
{
	if (!ga_opts.stats_file) {
		ga_write_stats(2, st, true);
		return;
	}
	int fd = open(ga_opts.stats_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		const char *why = strerrordesc_np(errno);
		char tmp[1200];
		ga_buf b = {tmp, 0, sizeof tmp};
		_ga_buf_str(&b, "goalloc: cannot open GOALLOC_STATS_FILE ");
		_ga_buf_str(&b, ga_opts.stats_file);
		_ga_buf_str(&b, ": ");
		_ga_buf_str(&b, why ? why : "unknown error");
		_ga_buf_str(&b, "\n");
		_ga_write_all(2, b.p, b.len);
		return;
	}
	ga_write_stats(fd, st, true);
	close(fd);
}
