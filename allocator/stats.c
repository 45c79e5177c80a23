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
#include "ga_internal.h"

#include <string.h>

void ga_read_stats(ga_heap_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!GA_LOAD_ACQ(&ga_inited))
		return;
	_ga_mheap_stats(&out->heap_inuse, &out->heap_sys, &out->heap_released, &out->arenas, &out->reserved, &out->next_gc);
	out->heap_idle = out->heap_sys - out->heap_inuse;
	_ga_mcaches_sum(out);
}

static void line(int fd, const char *name, uint64_t v, const char *what)
{
	char tmp[160];
	ga_buf b = {tmp, 0, sizeof tmp};
	_ga_buf_str(&b, "  ");
	_ga_buf_str(&b, name);
	for (size_t n = strlen(name); n < 13; n++)
		_ga_buf_str(&b, " ");
	_ga_buf_bytes(&b, v, 11);
	_ga_buf_str(&b, "  ");
	_ga_buf_str(&b, what);
	_ga_buf_str(&b, "\n");
	_ga_write_all(fd, b.p, b.len);
}

void ga_print_stats(int fd)
{
	ga_heap_stats st;
	ga_read_stats(&st);
	char tmp[200];
	ga_buf b = {tmp, 0, sizeof tmp};
	_ga_buf_str(&b, "goalloc: heap at exit (");
	_ga_buf_str(&b, ga_opts.go_exact ? "Go-exact" : "C-safe");
	_ga_buf_str(&b, ga_opts.tiny ? " mode, tiny on)\n" : " mode, tiny off)\n");
	_ga_write_all(fd, b.p, b.len);
	line(fd, "HeapAlloc", st.heap_alloc, "bytes in allocated objects (class size)");
	line(fd, "HeapInuse", st.heap_inuse, "bytes in in-use spans");
	line(fd, "HeapIdle", st.heap_idle, "bytes in free pages");
	line(fd, "HeapReleased", st.heap_released, "bytes of free pages returned to the OS");
	line(fd, "HeapSys", st.heap_sys, "bytes of heap memory mapped");
	line(fd, "NextGC", st.next_gc, "the heap goal the scavenger keeps to");
	b.len = 0;
	_ga_buf_str(&b, "  tiny: ");
	_ga_buf_u64(&b, st.tiny_allocs, 0);
	_ga_buf_str(&b, " objects in ");
	_ga_buf_u64(&b, st.tiny_blocks, 0);
	_ga_buf_str(&b, " blocks; arenas: ");
	_ga_buf_u64(&b, st.arenas, 0);
	_ga_buf_str(&b, "\n  class    size      allocs       frees        live\n");
	_ga_write_all(fd, b.p, b.len);
	for (unsigned cls = 0; cls < GA_CLASSES; cls++) {
		const ga_class_stats *c = &st.cls[cls];
		if (c->allocs == 0 && c->frees == 0)
			continue;
		b.len = 0;
		_ga_buf_u64(&b, cls, 7);
		if (cls == 0)
			_ga_buf_pad(&b, "large", 8);
		else
			_ga_buf_u64(&b, ga_class_to_size[cls], 8);
		_ga_buf_u64(&b, c->allocs, 12);
		_ga_buf_u64(&b, c->frees, 12);
		_ga_buf_u64(&b, c->allocs - c->frees, 12);
		_ga_buf_str(&b, "\n");
		_ga_write_all(fd, b.p, b.len);
	}
}
