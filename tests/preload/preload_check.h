/* preload_check.h: shared by the preload tests: CHECK (from unit/check.h)
 * and a guard that the program's malloc really is libgoalloc.so's, so a
 * test can never pass by running on the C library's allocator. */
#ifndef PRELOAD_CHECK_H
#define PRELOAD_CHECK_H

#define _GNU_SOURCE
#include "../unit/check.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

static inline void require_preload(void)
{
	Dl_info info;
	void *fn = dlsym(RTLD_DEFAULT, "malloc");
	if (!fn || !dladdr(fn, &info) || !info.dli_fname || !strstr(info.dli_fname, "libgoalloc")) {
		fprintf(stderr, "malloc is not libgoalloc.so's (%s): run with LD_PRELOAD=libgoalloc.so\n",
		        fn && info.dli_fname ? info.dli_fname : "?");
		exit(2);
	}
}

#endif
