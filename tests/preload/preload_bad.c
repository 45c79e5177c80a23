/* preload_bad.c: one bad call per run, named by argv[1].  The program
 * prints the address it is about to misuse on stdout, then makes the call;
 * check_fatal.sh expects the library to print one line naming the call and
 * that address, and the program to die (abort), as glibc does. */
#include "preload_check.h"

#include <malloc.h>
#include <sys/mman.h>

static void say(const void *p)
{
	printf("%p\n", p);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	require_preload();
	setvbuf(stdout, NULL, _IONBF, 0); /* no stdio buffer to reuse a freed address */
	const char *c = argc > 1 ? argv[1] : "";
	int on_stack;
	if (!strcmp(c, "free-stack")) {
		say(&on_stack);
		free(&on_stack);
	} else if (!strcmp(c, "free-mmap")) {
		void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		say(m);
		free(m);
	} else if (!strcmp(c, "free-interior-small")) {
		char *p = malloc(100);
		say(p + 8);
		free(p + 8);
	} else if (!strcmp(c, "free-interior-large")) {
		char *p = malloc(100000);
		say(p + 8192);
		free(p + 8192);
	} else if (!strcmp(c, "free-interior-tiny")) {
		char *p = malloc(8);
		say(p + 1);
		free(p + 1);
	} else if (!strcmp(c, "double-free-small")) {
		char *p = malloc(100);
		malloc(100); /* keep the span alive */
		free(p);
		say(p);
		free(p);
	} else if (!strcmp(c, "double-free-small-swept")) {
		/* the second free comes after the span was swept and reused */
		char *p = malloc(3000);
		free(p);
		for (int i = 0; i < 100; i++)
			malloc(3000);
		say(p);
		free(p); /* p was handed out again: legal... unless it was not */
		free(p);
	} else if (!strcmp(c, "double-free-tiny")) {
		char *p = malloc(5);
		malloc(5);
		free(p);
		say(p);
		free(p);
	} else if (!strcmp(c, "double-free-large")) {
		char *p = malloc(1 << 20);
		free(p);
		say(p);
		free(p);
	} else if (!strcmp(c, "realloc-invalid")) {
		char *p = malloc(200);
		say(p + 16);
		p = realloc(p + 16, 1000);
	} else if (!strcmp(c, "usable-invalid")) {
		char *p = malloc(200);
		say(p + 1);
		printf("%zu\n", malloc_usable_size(p + 1));
	} else {
		fprintf(stderr, "unknown case %s\n", c);
		return 2;
	}
	fprintf(stderr, "the bad call returned: not detected\n");
	return 0;
}
