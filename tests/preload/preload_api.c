/* preload_api.c: the malloc family as a program sees it through
 * LD_PRELOAD=libgoalloc.so, in the mode GOALLOC_GO_EXACT selects.
 *   - alignment of every entry point (C17 in C-safe mode);
 *   - malloc_usable_size(malloc(n)) is exactly the mode's class size for
 *     every n in 16..32768 (Go's table, read from argv[1]) and whole 8 KiB
 *     pages above;
 *   - objects of one class requested back to back by a fresh thread come
 *     from one span, one class size apart, in address order;
 *   - tiny requests share 16-byte blocks with the mode's alignment rule;
 *     with GOALLOC_TINY=0 each takes a slot of its own class (8 or 16 B);
 *   - realloc growing and shrinking across classes and into large;
 *   - malloc(0) and calloc of zero bytes: distinct objects, 16-aligned in
 *     C-safe mode;
 *   - errors: EINVAL and ENOMEM where glibc sets them.
 */
#include "preload_check.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static unsigned nclasses;
static uint32_t class_size[80];
static int go_exact;
static int tiny_on = 1;

static size_t mode_class_size(size_t n)
{
	for (unsigned c = 1; c < nclasses; c++) {
		if (!go_exact && c == 3)
			continue; /* C-safe: Go's 24-byte class is unused */
		if (class_size[c] >= n)
			return class_size[c];
	}
	return 0;
}

static size_t c_align(size_t n)
{
	/* The alignment C17 owes an object of n bytes on x86-64. */
	if (n >= 16)
		return 16;
	size_t a = 1;
	while (a * 2 <= n)
		a *= 2;
	return a;
}

static void test_alignment(void)
{
	for (size_t n = 1; n <= 70000; n += (n < 300 ? 1 : n / 7)) {
		size_t want = go_exact ? 1 : c_align(n);
		void *p[5];
		p[0] = malloc(n);
		p[1] = calloc(1, n);
		p[2] = realloc(NULL, n);
		p[3] = reallocarray(NULL, 1, n);
		p[4] = realloc(malloc(1), n);
		for (int i = 0; i < 5; i++) {
			CHECK(p[i] != NULL, "alloc %zu (entry %d)", n, i);
			CHECK((uintptr_t)p[i] % want == 0, "entry %d: %zu bytes at %p not %zu-aligned", i, n, p[i], want);
			memset(p[i], 0x11, n);
			free(p[i]);
		}
	}
	for (size_t align = sizeof(void *); align <= (1u << 22); align <<= 1) {
		static const size_t sizes[] = {1, 8, 13, 16, 24, 100, 5000, 40000, 300000};
		for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
			size_t n = sizes[i];
			void *p = NULL;
			CHECK(posix_memalign(&p, align, n) == 0 && (uintptr_t)p % align == 0,
			      "posix_memalign(%zu, %zu) = %p", align, n, p);
			free(p);
			p = aligned_alloc(align, n);
			CHECK(p && (uintptr_t)p % align == 0, "aligned_alloc(%zu, %zu) = %p", align, n, p);
			free(p);
			p = memalign(align, n);
			CHECK(p && (uintptr_t)p % align == 0, "memalign(%zu, %zu) = %p", align, n, p);
			CHECK(malloc_usable_size(p) >= n, "memalign usable size");
			free(p);
		}
	}
	/* alignments above an arena (64 MiB): the heap grows by contiguous
	 * arenas and the object starts at the aligned page in them */
	static const size_t big_aligns[] = {(size_t)1 << 27, (size_t)1 << 30};
	static const size_t big_sizes[] = {100, (size_t)100 << 20};
	for (size_t i = 0; i < 2; i++) {
		for (size_t k = 0; k < 2; k++) {
			size_t n = big_sizes[k];
			void *q = NULL;
			size_t align = big_aligns[i];
			CHECK(posix_memalign(&q, align, n) == 0 && (uintptr_t)q % align == 0,
			      "posix_memalign(%zu, %zu) = %p", align, n, q);
			CHECK(q && malloc_usable_size(q) >= n, "posix_memalign(%zu, %zu) usable size", align, n);
			if (q) {
				memset(q, 0x22, 4096);
				memset((char *)q + n - 100, 0x33, 100);
			}
			free(q);
			q = aligned_alloc(align, n);
			CHECK(q && (uintptr_t)q % align == 0, "aligned_alloc(%zu, %zu) = %p", align, n, q);
			free(q);
		}
	}
	void *p = memalign(48, 10); /* glibc rounds a non-power-of-two up */
	CHECK(p && (uintptr_t)p % 64 == 0, "memalign(48) rounds up to 64: %p", p);
	free(p);
	long page = sysconf(_SC_PAGESIZE);
	p = valloc(100);
	CHECK(p && (uintptr_t)p % (uintptr_t)page == 0, "valloc");
	free(p);
	p = pvalloc(100);
	CHECK(p && (uintptr_t)p % (uintptr_t)page == 0 && malloc_usable_size(p) >= (size_t)page, "pvalloc");
	free(p);
}

static void test_usable_sizes(void)
{
	for (size_t n = 16; n <= 32768; n++) {
		void *p = malloc(n);
		size_t want = mode_class_size(n);
		CHECK(malloc_usable_size(p) == want, "malloc_usable_size(malloc(%zu)) = %zu, want %zu", n,
		      malloc_usable_size(p), want);
		free(p);
	}
	for (size_t n = 32769; n < 600000; n += 4099) {
		void *p = malloc(n);
		CHECK(malloc_usable_size(p) == (n + 8191) / 8192 * 8192, "large usable size %zu", n);
		free(p);
	}
}

static void *placement_thread(void *arg)
{
	(void)arg;
	for (unsigned c = 3; c < nclasses; c++) {
		if (!go_exact && c == 3)
			continue;
		size_t size = class_size[c];
		char *prev = malloc(size), *first = prev;
		CHECK((uintptr_t)first % 8192 == 0, "class %u: a fresh span starts at a page: %p", c, (void *)first);
		for (int i = 1; i < 8192 / (int)size && i < 64; i++) {
			char *p = malloc(size);
			CHECK(p == prev + size, "class %u: object %d at %p, previous %p", c, i, (void *)p, (void *)prev);
			prev = p;
		}
	}
	return NULL;
}

/* GOALLOC_TINY=0: requests under 16 bytes are small objects of classes 1
 * and 2, back to back in address order from a fresh thread's spans, each
 * with its class size usable. */
static void *notiny_thread(void *arg)
{
	(void)arg;
	char *a = malloc(1), *b = malloc(8), *c = malloc(9), *d = malloc(15);
	CHECK(a && b && c && d, "small requests with tiny off");
	CHECK(malloc_usable_size(a) == 8 && malloc_usable_size(b) == 8, "tiny off: 1 and 8 B usable %zu %zu",
	      malloc_usable_size(a), malloc_usable_size(b));
	CHECK(malloc_usable_size(c) == 16 && malloc_usable_size(d) == 16, "tiny off: 9 and 15 B usable %zu %zu",
	      malloc_usable_size(c), malloc_usable_size(d));
	CHECK((uintptr_t)b == (uintptr_t)a + 8, "tiny off: 1 B and 8 B one 8-byte slot apart (%p %p)", (void *)a,
	      (void *)b);
	CHECK((uintptr_t)d == (uintptr_t)c + 16, "tiny off: 9 B and 15 B one 16-byte slot apart (%p %p)",
	      (void *)c, (void *)d);
	CHECK((uintptr_t)a % 8 == 0 && (uintptr_t)c % 16 == 0, "tiny off: slots aligned to their class");
	memset(a, 1, 1);
	memset(b, 2, 8);
	memset(c, 3, 9);
	memset(d, 4, 15);
	CHECK(a[0] == 1 && b[0] == 2 && b[7] == 2 && c[8] == 3 && d[0] == 4, "tiny off: neighbours intact");
	char *g = realloc(a, 5);
	CHECK(g == a, "tiny off: realloc within the 8-byte class stays");
	g = realloc(g, 12);
	CHECK(g != a && g[0] == 1 && malloc_usable_size(g) == 16, "tiny off: realloc to 12 B moves and copies");
	free(g), free(b), free(c), free(d);
	return NULL;
}

static void *tiny_thread(void *arg)
{
	(void)arg;
	if (!tiny_on)
		return notiny_thread(arg);
	char *a = malloc(1), *b = malloc(2), *c = malloc(4), *d = malloc(1);
	uintptr_t blk = (uintptr_t)a;
	CHECK(blk % 16 == 0, "first tiny object at a block start");
	if (go_exact) /* Go: 1 at 0, 2 at 2, 4 at 4, 1 at 8 */
		CHECK((uintptr_t)b == blk + 2 && (uintptr_t)c == blk + 4 && (uintptr_t)d == blk + 8,
		      "Go tiny offsets %d %d %d", (int)((uintptr_t)b - blk), (int)((uintptr_t)c - blk),
		      (int)((uintptr_t)d - blk));
	else
		CHECK((uintptr_t)b == blk + 2 && (uintptr_t)c == blk + 4 && (uintptr_t)d == blk + 8,
		      "C-safe tiny offsets %d %d %d", (int)((uintptr_t)b - blk), (int)((uintptr_t)c - blk),
		      (int)((uintptr_t)d - blk));
	char *e = malloc(12); /* C-safe: 8-aligned -> 16: new block; Go: 4-aligned -> 12: new block too */
	CHECK(((uintptr_t)e >> 4) != (blk >> 4), "12 B do not fit after 9 B");
	char *f = malloc(3); /* current block still a's (e's block has 4 B left, a's 7) */
	CHECK(((uintptr_t)f >> 4) == (blk >> 4), "3 B go into the fuller block's room");
	CHECK((uintptr_t)f % (go_exact ? 1 : 2) == 0, "tiny alignment");
	CHECK(malloc_usable_size(a) == 1 && malloc_usable_size(c) == 4 && malloc_usable_size(e) == 12,
	      "tiny usable sizes are the requested sizes");
	memset(a, 1, 1);
	memset(b, 2, 2);
	memset(c, 3, 4);
	memset(d, 4, 1);
	memset(f, 6, 3);
	CHECK(a[0] == 1 && b[1] == 2 && c[3] == 3 && d[0] == 4 && f[2] == 6, "tiny neighbours intact");
	char *g = realloc(c, 3);
	CHECK(g == c, "tiny realloc shrinking stays");
	g = realloc(g, 9);
	CHECK(g != c && g[0] == 3 && g[2] == 3, "tiny realloc growing moves and copies");
	free(a), free(b), free(g), free(d), free(e), free(f);
	return NULL;
}

static void test_threads(void *(*fn)(void *))
{
	pthread_t t;
	pthread_create(&t, NULL, fn, NULL);
	pthread_join(t, NULL);
}

static void test_realloc(void)
{
	static const size_t steps[] = {3, 17, 24, 33, 500, 4096, 32768, 32769, 2000000, 70000, 1000, 8, 1};
	unsigned char *p = NULL;
	size_t have = 0;
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
		p = realloc(p, steps[i]);
		size_t keep = have < steps[i] ? have : steps[i];
		for (size_t k = 0; k < keep; k++)
			if (p[k] != (unsigned char)k) {
				CHECK(0, "realloc to %zu lost byte %zu", steps[i], k);
				break;
			}
		for (size_t k = 0; k < steps[i]; k++)
			p[k] = (unsigned char)k;
		have = steps[i];
	}
	free(p);
}

/* glibc's internal names call our allocator too: their memory is ours
 * (malloc_usable_size of an object glibc made would abort) */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
static void test_libc_names(void)
{
	char *m = malloc(100);
	size_t want = malloc_usable_size(m);
	free(m);
	char *p = __libc_malloc(100);
	CHECK(p && malloc_usable_size(p) == want, "__libc_malloc(100): usable %zu, want %zu", p ? malloc_usable_size(p) : 0, want);
	p = __libc_realloc(p, 5000);
	CHECK(p && malloc_usable_size(p) == 5376, "__libc_realloc(p, 5000): usable %zu, want 5376 (class 5376)",
	      p ? malloc_usable_size(p) : 0);
	free(p);
	int *z = __libc_calloc(10, sizeof(int));
	CHECK(z && z[9] == 0 && malloc_usable_size(z) == 48, "__libc_calloc(10, 4): usable %zu, want 48",
	      z ? malloc_usable_size(z) : 0);
	__libc_free(z);
	void *a = __libc_memalign(4096, 10);
	CHECK(a && (uintptr_t)a % 4096 == 0 && malloc_usable_size(a) >= 10, "__libc_memalign");
	free(a);
}

/* C23's sized frees (glibc has them from 2.41; Debian 12's headers do not
 * declare them): the library's own, which give the memory back. */
static void test_sized_free(void)
{
	void (*fs)(void *, size_t) = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, "free_sized");
	void (*fas)(void *, size_t, size_t) = (void (*)(void *, size_t, size_t))dlsym(RTLD_DEFAULT, "free_aligned_sized");
	CHECK(fs && fas, "free_sized %p, free_aligned_sized %p: not defined", (void *)fs, (void *)fas);
	size_t before = mallinfo2().uordblks;
	void *p = malloc(100000);
	CHECK(mallinfo2().uordblks == before + 13 * 8192, "malloc(100000): HeapAlloc %zu -> %zu, want 13 pages more",
	      before, mallinfo2().uordblks);
	fs(p, 100000);
	CHECK(mallinfo2().uordblks == before, "free_sized: HeapAlloc %zu, want %zu back", mallinfo2().uordblks, before);
	p = aligned_alloc(65536, 200000);
	fas(p, 65536, 200000);
	CHECK(mallinfo2().uordblks == before, "free_aligned_sized: HeapAlloc %zu, want %zu back", mallinfo2().uordblks,
	      before);
	fs(NULL, 0);
}

/* Live objects of the class 4865..5376 that malloc_info reports, or -1
 * when its output has no <goheap> element (glibc's own malloc_info). */
static long info_count_5376(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(f && malloc_info(0, f) == 0, "malloc_info(0, f) failed");
	fclose(f);
	long n = 0;
	const char *line = strstr(buf, "<size from=\"4865\" to=\"5376\"");
	if (line)
		CHECK(sscanf(strstr(line, "count="), "count=\"%ld\"", &n) == 1, "malloc_info: no count in %.60s", line);
	if (!strstr(buf, "<goheap HeapAlloc=\""))
		n = -1;
	free(buf);
	return n;
}

/* malloc_info describes this heap, not glibc's empty one. */
static void test_malloc_info(void)
{
	long before = info_count_5376();
	CHECK(before >= 0, "malloc_info printed no <goheap>: glibc's, not ours");
	void *p[10];
	for (int i = 0; i < 10; i++)
		p[i] = malloc(5000);
	long during = info_count_5376();
	CHECK(during == before + 10, "malloc_info: %ld live objects of class 5376, want %ld", during, before + 10);
	for (int i = 0; i < 10; i++)
		free(p[i]);
	CHECK(info_count_5376() == before, "malloc_info after free: %ld, want %ld", info_count_5376(), before);
	CHECK(malloc_info(1, stdout) == EINVAL, "malloc_info(1, f): want EINVAL, as glibc returns");
}

static void test_errors(void)
{
	/* volatile: keep the compiler from rejecting the sizes at build time */
	volatile size_t huge = SIZE_MAX - 4096, third = SIZE_MAX / 3;
	void *p = (void *)1;
	CHECK(posix_memalign(&p, 24, 10) == EINVAL && p == (void *)1, "posix_memalign bad alignment");
	CHECK(posix_memalign(&p, 4, 10) == EINVAL, "posix_memalign alignment below sizeof(void *)");
	/* aligned_alloc of an alignment that is not a power of two: as the C
	 * library's own (glibc before 2.38 rounds it up, later ones fail). */
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *(*c_aligned_alloc)(size_t, size_t) = libc ? (void *(*)(size_t, size_t))dlsym(libc, "aligned_alloc") : NULL;
	void (*c_free)(void *) = libc ? (void (*)(void *))dlsym(libc, "free") : NULL;
	CHECK(c_aligned_alloc && c_free && (void *)c_aligned_alloc != (void *)aligned_alloc,
	      "the C library's own aligned_alloc");
	static const size_t odd[] = {0, 3, 24, 48, 100, 3000};
	for (size_t i = 0; c_aligned_alloc && c_free && i < sizeof odd / sizeof *odd; i++) {
		errno = 0;
		void *q = c_aligned_alloc(odd[i], 10);
		int cerr = errno;
		c_free(q);
		errno = 0;
		void *r = aligned_alloc(odd[i], 10);
		size_t want = 1;
		while (want < odd[i])
			want <<= 1;
		CHECK((r != NULL) == (q != NULL) && (r || errno == cerr),
		      "aligned_alloc(%zu, 10): %p errno %d, the C library's: %p errno %d", odd[i], r, errno, q, cerr);
		CHECK(!r || (uintptr_t)r % want == 0, "aligned_alloc(%zu, 10) = %p", odd[i], r);
		free(r);
	}
	if (libc)
		dlclose(libc);
	errno = 0;
	CHECK(malloc(huge) == NULL && errno == ENOMEM, "malloc huge");
	errno = 0;
	CHECK(calloc(third, 5) == NULL && errno == ENOMEM, "calloc overflow");
	errno = 0;
	CHECK(reallocarray(NULL, third, 5) == NULL && errno == ENOMEM, "reallocarray overflow");
	CHECK(posix_memalign(&p, 64, huge) == ENOMEM, "posix_memalign huge");
	/* More than memory and swap could ever hold, in one request: refused,
	 * as glibc's mmap is, unless the kernel is told to overcommit always
	 * (vm.overcommit_memory = 1), where glibc's succeeds too. */
	FILE *oc = fopen("/proc/sys/vm/overcommit_memory", "r");
	int mode = -1;
	if (oc) {
		if (fscanf(oc, "%d", &mode) != 1)
			mode = -1;
		fclose(oc);
	}
	struct sysinfo si;
	if (mode != 1 && sysinfo(&si) == 0) {
		size_t all = ((size_t)si.totalram + (size_t)si.totalswap) * si.mem_unit;
		errno = 0;
		void *q = calloc(4, all);
		CHECK(q == NULL && errno == ENOMEM, "calloc(4, %zu) beyond memory and swap = %p", all, q);
		free(q);
		errno = 0;
		q = malloc(4 * all);
		CHECK(q == NULL && errno == ENOMEM, "malloc(%zu) beyond memory and swap = %p", 4 * all, q);
		free(q);
	} else {
		printf("note: vm.overcommit_memory is %d: requests beyond memory and swap not checked\n", mode);
	}
	free(NULL);
	CHECK(realloc(malloc(10), 0) == NULL, "realloc(p, 0) frees");
}

/* malloc(0) and its relatives give distinct objects that can be freed; in
 * C-safe mode each is 16-aligned, as glibc's are. */
static void test_zero_size(void)
{
	enum { N = 64 };
	void *p[N];
	for (int i = 0; i < N; i++) {
		switch (i % 4) {
		case 0: p[i] = malloc(0); break;
		case 1: p[i] = calloc(0, 8); break;
		case 2: p[i] = calloc(8, 0); break;
		default: p[i] = realloc(NULL, 0); break;
		}
		CHECK(p[i] != NULL, "zero-size request %d returned NULL", i);
		if (!go_exact)
			CHECK((uintptr_t)p[i] % 16 == 0, "zero-size request %d at %p not 16-aligned", i, p[i]);
		for (int j = 0; j < i; j++)
			CHECK(p[i] != p[j], "zero-size requests %d and %d both at %p", j, i, p[i]);
	}
	/* A tiny request after them still packs as the mode says. */
	char *t = malloc(1);
	size_t want = tiny_on ? 1 : 8;
	CHECK(t && malloc_usable_size(t) == want, "malloc(1) after malloc(0): usable %zu, want %zu",
	      t ? malloc_usable_size(t) : 0, want);
	free(t);
	for (int i = 0; i < N; i++)
		free(p[i]);
}

int main(int argc, char **argv)
{
	require_preload();
	if (argc < 2) {
		fprintf(stderr, "usage: preload_api go-sizeclasses.tsv\n");
		return 2;
	}
	const char *ge = getenv("GOALLOC_GO_EXACT");
	go_exact = ge && ge[0] == '1';
	const char *gt = getenv("GOALLOC_TINY");
	tiny_on = !(gt && gt[0] == '0');
	FILE *f = fopen(argv[1], "r");
	char line[256];
	nclasses = 1;
	if (!f || !fgets(line, sizeof line, f)) {
		perror(argv[1]);
		return 2;
	}
	while (fgets(line, sizeof line, f) && nclasses < 80)
		if (sscanf(line, "%*u\t%u", &class_size[nclasses]) == 1)
			nclasses++;
	fclose(f);
	printf("mode %s, tiny %s, %u classes\n", go_exact ? "Go-exact" : "C-safe", tiny_on ? "on" : "off", nclasses);
	test_threads(placement_thread); /* first: needs spans no one has used */
	test_threads(tiny_thread);
	test_alignment();
	test_zero_size();
	test_usable_sizes();
	test_realloc();
	test_errors();
	test_libc_names();
	test_sized_free();
	test_malloc_info();
	return check_result("preload_api");
}
