/* preload_dlopen.c: a library dlopen'ed with RTLD_DEEPBIND calls
 * libgoalloc.so's malloc family, as PHP's extensions must (libtrace/
 * deepbind.c), and dlopen still searches its caller's RUNPATH.
 *
 * usage: preload_dlopen [keep]
 *   (none)  run with LD_PRELOAD=libgoalloc.so: libgt_deep.so, found by its
 *           bare name through this program's RUNPATH, allocates from our
 *           heap (usable size of 1000 B is the 1024 B class) and frees
 *           across the boundary both ways
 *   keep    run with GOALLOC_DEEPBIND=1 too: the library keeps glibc's
 *           malloc (usable size not 1024), as without us
 */
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                               \
	do {                                                                                                       \
		if (!(c)) {                                                                                            \
			fprintf(stderr, "preload_dlopen: %s:%d: %s\n", __FILE__, __LINE__, #c);                            \
			exit(1);                                                                                           \
		}                                                                                                      \
	} while (0)

int main(int argc, char **argv)
{
	int keep = argc > 1 && strcmp(argv[1], "keep") == 0;
	CHECK(malloc_usable_size(malloc(1000)) == 1024); /* the preload is in */
	void *h = dlopen("libgt_deep.so", RTLD_NOW | RTLD_DEEPBIND);
	if (!h)
		fprintf(stderr, "preload_dlopen: %s\n", dlerror());
	CHECK(h); /* found through this program's RUNPATH: dlopen saw its real caller */
	void *(*dmalloc)(size_t) = (void *(*)(size_t))dlsym(h, "deep_malloc");
	void (*dfree)(void *) = (void (*)(void *))dlsym(h, "deep_free");
	size_t (*dusable)(void *) = (size_t(*)(void *))dlsym(h, "deep_usable");
	CHECK(dmalloc && dfree && dusable);
	void *q = dmalloc(1000);
	CHECK(q);
	if (keep) {
		CHECK(dusable(q) != 1024); /* glibc's, bound in the library's own scope */
		dfree(q);
		printf("ok keep\n");
		return 0;
	}
	CHECK(dusable(q) == 1024);
	CHECK(malloc_usable_size(q) == 1024);
	memset(q, 1, 1000);
	free(q); /* the library's object freed here */
	for (int i = 0; i < 1000; i++) {
		char *p = malloc((size_t)i % 300 + 1);
		memset(p, 2, (size_t)i % 300 + 1);
		dfree(p); /* ours freed there */
		p = dmalloc((size_t)i + 1);
		memset(p, 3, (size_t)i + 1);
		free(p);
	}
	CHECK(dlclose(h) == 0);
	printf("ok\n");
	return 0;
}
