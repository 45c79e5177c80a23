/* deep_lib.c: a library preload_dlopen loads with RTLD_DEEPBIND.  Its calls
 * to the malloc family bind as its loader's flags make them bind. */
#include <malloc.h>
#include <stdlib.h>

__attribute__((visibility("default"))) void *deep_malloc(size_t n)
{
	return malloc(n);
}

__attribute__((visibility("default"))) void deep_free(void *p)
{
	free(p);
}

__attribute__((visibility("default"))) size_t deep_usable(void *p)
{
	return malloc_usable_size(p);
}
