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
#include "preload_check.h"

#include <stdbool.h>

int main(int argc, char **argv)
{
	require_preload();
	if (argc != 2) {
		fprintf(stderr, "usage: preload_unwind PLUGIN\n");
		return 2;
	}
	CHECK(dlsym(RTLD_DEFAULT, "__cxa_throw") == NULL, "a C++ runtime is loaded before the plugin");
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
	CHECK(h, "dlopen: %s", dlerror());
	long (*run)(int) = h ? (long (*)(int))dlsym(h, "unwind_plugin_run") : NULL;
	CHECK(run || !h, "no unwind_plugin_run in %s", argv[1]);
	if (run) {
		/* i = 0..999, every third throws and adds 1 instead of i */
		long want = 0;
		for (int i = 0; i < 1000; i++)
			want += i % 3 == 0 ? 1 : i;
		long got = run(1000);
		CHECK(got == want, "the plugin's sum is %ld, want %ld", got, want);
	}
	void *raise = dlsym(RTLD_DEFAULT, "_Unwind_RaiseException");
	Dl_info di;
	bool named = raise && dladdr(raise, &di) && di.dli_fname;
	CHECK(named, "no _Unwind_RaiseException in the global scope");
	if (named)
		CHECK(strstr(di.dli_fname, "libgcc_s") != NULL, "_Unwind_RaiseException is %s's, not libgcc_s's",
		      di.dli_fname);
	return check_result("preload_unwind");
}
