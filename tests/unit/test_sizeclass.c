/* test_sizeclass.c: Go's size-class table and both lookups, against Go's
 * table as data (go-sizeclasses.tsv, the path is argv[1]).
 *   - every class: bytes/obj, pages/span, objects, tail waste as Go's;
 *   - every request size 1..32768 maps to the smallest class that fits
 *     (Go-exact), and in C-safe mode 17..24 map to class 4 (32 B);
 *   - Go's divMul: (offset * divmagic) >> 32 == offset / size for every
 *     object start of every class. */
#include "check.h"
#include "ga_internal.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_sizeclass go-sizeclasses.tsv\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	char line[256];
	int rows = 0;
	uint32_t go_size[GA_CLASSES] = {0};
	CHECK(fgets(line, sizeof line, f) != NULL, "header");
	while (fgets(line, sizeof line, f)) {
		unsigned cls, size, span, objs, tail;
		if (sscanf(line, "%u\t%u\t%u\t%u\t%u", &cls, &size, &span, &objs, &tail) != 5)
			continue;
		rows++;
		CHECK(cls < GA_CLASSES, "class %u out of range", cls);
		if (cls >= GA_CLASSES)
			continue;
		go_size[cls] = size;
		CHECK(ga_class_size(cls) == size, "class %u size %u, Go %u", cls, ga_class_size(cls), size);
		CHECK(ga_class_npages(cls) * GA_PAGE_SIZE == span, "class %u span bytes", cls);
		CHECK(ga_class_nelems(cls) == objs, "class %u objects %u, Go %u", cls, ga_class_nelems(cls), objs);
		CHECK(span - objs * size == tail, "class %u tail waste", cls);
	}
	fclose(f);
	CHECK(rows == GA_CLASSES - 1, "%d rows in the table, want %d", rows, GA_CLASSES - 1);

	for (size_t n = 1; n <= GA_MAX_SMALL; n++) {
		unsigned want = 0;
		for (unsigned c = 1; c < GA_CLASSES; c++)
			if (go_size[c] >= n) {
				want = c;
				break;
			}
		unsigned got = ga_size_to_class(n, true);
		CHECK(got == want, "Go-exact: size %zu -> class %u, want %u", n, got, want);
		unsigned csafe = ga_size_to_class(n, false);
		unsigned want_c = (n >= 17 && n <= 24) ? 4 : want;
		CHECK(csafe == want_c, "C-safe: size %zu -> class %u, want %u", n, csafe, want_c);
	}
	CHECK(ga_size_to_class(0, false) == 0 && ga_size_to_class(GA_MAX_SMALL + 1, false) == 0, "large");

	for (unsigned c = 1; c < GA_CLASSES; c++) {
		uint32_t size = ga_class_size(c), n = ga_class_nelems(c);
		for (uint32_t i = 0; i < n; i++) {
			uint64_t off = (uint64_t)i * size;
			CHECK(((off * ga_class_to_divmagic[c]) >> 32) == i, "divmagic class %u index %u", c, i);
			if (i + 1 < n) /* an interior offset maps to its object, not the next */
				CHECK((((off + size - 1) * ga_class_to_divmagic[c]) >> 32) == i, "divmagic interior");
		}
	}
	return check_result("test_sizeclass");
}
