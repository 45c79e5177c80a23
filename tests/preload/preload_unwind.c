/* preload_unwind.c: C++ exceptions in a library a C program dlopens are
 * unwound by libgcc_s, as without us.  libgoalloc.so needs libunwind.so.8,
 * which defines the _Unwind_* API too; as a dependency of a preloaded
 * object it is in the global scope ahead of any libgcc_s loaded later, so
 * such a library's throws used to bind to it (67x slower throws; libgcc_s
 * and libunwind mixed in one process).  libgoalloc.so now needs libgcc_s
 * first.
 *
 * usage: preload_unwind PLUGIN (with LD_PRELOAD=libgoalloc.so): dlopens
 * PLUGIN (unwind_plugin.cc), whose run() throws and catches 1000
 * exceptions, checks its sum, and that the global scope's
 * _Unwind_RaiseException is libgcc_s's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                               \
	do {                                                                                                       \
		if (!(c)) {                                                                                            \
			fprintf(stderr, "preload_unwind: %s:%d: %s\n", __FILE__, __LINE__, #c);                            \
			exit(1);                                                                                           \
		}                                                                                                      \
	} while (0)

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	CHECK(malloc_usable_size(malloc(1000)) == 1024); /* the preload is in */
	CHECK(dlsym(RTLD_DEFAULT, "__cxa_throw") == NULL); /* no C++ runtime yet */
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
	if (!h)
		fprintf(stderr, "preload_unwind: %s\n", dlerror());
	CHECK(h);
	long (*run)(int) = (long (*)(int))dlsym(h, "unwind_plugin_run");
	CHECK(run);
	/* i = 0..999, every third throws and adds 1 instead of i */
	long want = 0;
	for (int i = 0; i < 1000; i++)
		want += i % 3 == 0 ? 1 : i;
	CHECK(run(1000) == want);
	void *raise = dlsym(RTLD_DEFAULT, "_Unwind_RaiseException");
	Dl_info di;
	CHECK(raise && dladdr(raise, &di) && di.dli_fname);
	if (!strstr(di.dli_fname, "libgcc_s"))
		fprintf(stderr, "preload_unwind: _Unwind_RaiseException is %s's\n", di.dli_fname);
	CHECK(strstr(di.dli_fname, "libgcc_s") != NULL);
	printf("ok: %s\n", di.dli_fname);
	return 0;
}
