/* preload_aslimit: a program under a small RLIMIT_AS gets what address
 * space there is, and an ENOMEM (not an abort) when it runs out.
 *
 * Run as `preload_aslimit LIBGOALLOC`, without LD_PRELOAD: the parent (on
 * the C library's malloc) reads its own VmSize, sets RLIMIT_AS to that plus
 * 48 MiB and re-executes itself with LD_PRELOAD=LIBGOALLOC, so the heap
 * starts under the limit, as it would for `ulimit -v`.  The child then
 *   - allocates 100 KB objects until malloc fails: at least 24 MiB of them,
 *     and the failure is NULL with errno ENOMEM;
 *   - frees them and allocates 16 MiB of 100 B objects from the same pages;
 *   - frees those, and malloc, calloc and realloc still work;
 *   - malloc_info's reserved address space (aspace total) is what the
 *     limit allowed, not whole 64 MiB arenas.
 * A heap that reserves whole 64 MiB arenas (or a 16 MiB arena map) up front
 * gets nothing under this limit.
 */
#define _GNU_SOURCE
#include "preload_check.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define HEADROOM (48ul << 20)
#define MAXOBJ (1u << 20)

static unsigned long vm_size_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long kb = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmSize: %lu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static int child(void)
{
	require_preload();
	/* The pointer table comes first, so what follows measures the heap. */
	void **p = calloc(MAXOBJ, sizeof *p);
	CHECK(p != NULL, "the pointer table");
	if (!p)
		return 1;

	size_t n = 0;
	errno = 0;
	while (n < MAXOBJ && (p[n] = malloc(100000)) != NULL) {
		memset(p[n], 0xa5, 100000); /* really usable, not only reserved */
		n++;
	}
	int err = errno;
	size_t large_bytes = n * 100000;
	printf("100 KB objects: %zu (%zu MiB) before malloc failed (errno %d)\n", n, large_bytes >> 20, err);
	CHECK(n < MAXOBJ, "malloc never failed under the limit");
	CHECK(large_bytes >= 24ul << 20, "only %zu MiB of 48 MiB of address space", large_bytes >> 20);
	CHECK(err == ENOMEM, "errno %d, not ENOMEM", err);
	for (size_t i = 0; i < n; i++)
		free(p[i]);

	size_t want = (16ul << 20) / 100, m = 0;
	while (m < want && (p[m] = malloc(100)) != NULL) {
		memset(p[m], 0x5a, 100);
		m++;
	}
	printf("100 B objects after the free: %zu of %zu\n", m, want);
	CHECK(m == want, "malloc(100) failed after %zu objects", m);
	for (size_t i = 0; i < m; i++)
		free(p[i]);

	char *a = malloc(1000), *b = calloc(1000, 1), *c = realloc(NULL, 50000);
	CHECK(a && b && c, "malloc %p calloc %p realloc %p", (void *)a, (void *)b, (void *)c);
	CHECK(b && b[0] == 0 && b[999] == 0, "calloc memory not zero");
	free(a);
	free(b);
	free(c);
	free(p);

	char *xml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&xml, &len);
	CHECK(f && malloc_info(0, f) == 0, "malloc_info");
	if (f)
		fclose(f);
	const char *t = xml ? strstr(xml, "<aspace type=\"total\" size=\"") : NULL;
	unsigned long long total = t ? strtoull(t + strlen("<aspace type=\"total\" size=\""), NULL, 10) : 0;
	printf("malloc_info: aspace total %llu MiB\n", total >> 20);
	CHECK(total >= large_bytes && total < HEADROOM, "aspace total %llu bytes, for %zu bytes under a 48 MiB headroom",
	      total, large_bytes);
	free(xml);
	return check_result("preload_aslimit");
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "child") == 0)
		return child();
	if (argc != 2) {
		fprintf(stderr, "usage: %s LIBGOALLOC\n", argv[0]);
		return 2;
	}
	if (getenv("LD_PRELOAD")) {
		fprintf(stderr, "run the parent without LD_PRELOAD: it sets the limit before the heap starts\n");
		return 2;
	}
	unsigned long kb = vm_size_kb();
	CHECK(kb > 0, "no VmSize in /proc/self/status");
	struct rlimit rl = {.rlim_cur = (kb << 10) + HEADROOM, .rlim_max = (kb << 10) + HEADROOM};
	CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit: %s", strerror(errno));
	printf("VmSize %lu kB; RLIMIT_AS %lu MiB\n", kb, (unsigned long)(rl.rlim_cur >> 20));
	fflush(stdout);
	setenv("LD_PRELOAD", argv[1], 1);
	execl("/proc/self/exe", argv[0], "child", (char *)NULL);
	perror("exec");
	return 1;
}
