/* cmd_classes.c: `goalloc-trace classes [--go-exact]`: the size-class table
 * in Go's sizeclasses.go comment layout, with the mode's differences marked. */
#include "cli.h"
#include "ga.h"

#include <stdio.h>
#include <string.h>

int cli_cmd_classes(int argc, char **argv)
{
	bool go_exact = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--go-exact")) {
			go_exact = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: goalloc-trace classes [--go-exact]\n\n"
			       "Prints Go's size classes as the allocator uses them: bytes per object,\n"
			       "bytes per span, objects per span, tail waste, the worst-case waste of a\n"
			       "request that lands in the class, and the alignment of its slots.  In the\n"
			       "default C-safe mode class 3 (24 B, only 8-aligned) is not used: 17..24 B\n"
			       "requests go to class 4.  --go-exact shows Go's table as Go uses it.\n");
			return 0;
		} else {
			fprintf(stderr, "goalloc-trace: classes: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	printf("// mode: %s\n", go_exact ? "Go-exact" : "C-safe (default)");
	printf("// class  bytes/obj  bytes/span  objects  tail waste  max waste  min align\n");
	uint32_t prev = 0;
	for (unsigned c = 1; c < GA_CLASSES; c++) {
		uint32_t size = ga_class_size(c), span = ga_class_npages(c) * GA_PAGE_SIZE;
		uint32_t objs = ga_class_nelems(c), tail = span - objs * size;
		/* Go's mksizeclasses: the worst request is prev+1 bytes in every slot. */
		double waste = 100.0 * ((double)span - (double)(prev + 1) * objs) / span;
		uint32_t align = size & -size;
		if (align > GA_PAGE_SIZE)
			align = GA_PAGE_SIZE;
		bool unused = !go_exact && c == 3;
		printf("//  %5u %10u %11u %8u %11u %9.2f%% %10u%s\n", c, size, span, objs, tail, waste, align,
		       unused ? "   (unused: 17..24 B -> class 4)" : "");
		if (!unused)
			prev = size;
	}
	return 0;
}
