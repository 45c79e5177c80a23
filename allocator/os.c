/* os.c: the allocator's only contact with the OS: reserving address space,
 * making it usable, returning pages (madvise), off-heap metadata, and the
 * fatal-error path.  Nothing here allocates through the heap.
 */
#include "ga_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* Reserve `bytes` of address space aligned to `align`, trying `hint` first
 * (Go's arena hints keep the heap contiguous).  The reservation is PROT_NONE
 * until _ga_os_map makes parts of it usable.  NULL if the OS refuses.
 * Without MAP_NORESERVE: the kernel's overcommit policy then applies when
 * pages are made usable, as it does to glibc's mmap (a PROT_NONE
 * reservation itself is not charged). */
void *_ga_os_reserve(uintptr_t hint, size_t bytes, size_t align)
{
	if (hint) {
		void *p = mmap((void *)hint, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		               0);
		if (p == (void *)hint)
			return p;
		if (p != MAP_FAILED)
			munmap(p, bytes); /* an old kernel ignored the flag: not where we asked */
	}
	size_t len = bytes + align;
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t start = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	if (start > (uintptr_t)p)
		munmap(p, start - (uintptr_t)p);
	uintptr_t end = start + bytes;
	if ((uintptr_t)p + len > end)
		munmap((void *)end, (uintptr_t)p + len - end);
	return (void *)start;
}

/* Reserve exactly [addr, addr + bytes), or NULL with *err EEXIST (some of
 * it is mapped already) or the OS's reason (ENOMEM under RLIMIT_AS). */
void *_ga_os_reserve_at(uintptr_t addr, size_t bytes, int *err)
{
	int saved = errno;
	void *p = mmap((void *)addr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	*err = p == MAP_FAILED ? errno : 0;
	errno = saved;
	if (p == (void *)addr)
		return p;
	if (p != MAP_FAILED) {
		munmap(p, bytes); /* an old kernel ignored the flag */
		*err = EEXIST;
	}
	return NULL;
}

/* Give back a reservation nothing uses. */
void _ga_os_unreserve(void *p, size_t bytes)
{
	int saved = errno;
	munmap(p, bytes);
	errno = saved;
}

/* Make reserved pages readable and writable (Go's sysMap).  0 or errno. */
int _ga_os_map(void *p, size_t bytes)
{
	return mprotect(p, bytes, PROT_READ | PROT_WRITE) == 0 ? 0 : errno;
}

/* Return pages to the OS; they read as zero when next touched (Go's
 * sysUnused with MADV_DONTNEED, the default since Go 1.16). */
void _ga_os_release(void *p, size_t bytes)
{
	int saved = errno;
	madvise(p, bytes, MADV_DONTNEED);
	errno = saved;
}

/* Zeroed memory for metadata that never lives in the heap it describes. */
void *_ga_os_alloc_meta(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* One line naming the call and the address, then abort, as glibc does. */
void _ga_fatal(const char *call, const char *what, const void *addr)
{
	char tmp[256];
	ga_buf b = {tmp, 0, sizeof tmp};
	_ga_buf_str(&b, "goalloc: ");
	_ga_buf_str(&b, call);
	_ga_buf_str(&b, "(): ");
	_ga_buf_str(&b, what);
	if (addr) {
		_ga_buf_str(&b, " ");
		_ga_buf_hex(&b, (uint64_t)(uintptr_t)addr);
	}
	_ga_buf_str(&b, "\n");
	_ga_write_all(2, b.p, b.len);
	abort();
}
