/* symbolize.h: addresses in loaded objects to function, file and line
 * (symbolize.c, elfutils' libdwfl), cached per object and per address. */
#ifndef CLI_SYMBOLIZE_H
#define CLI_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cli_symbolizer cli_symbolizer;

typedef struct cli_sym {
	const char *function; /* demangled; NULL: no symbol covers the address */
	const char *file;     /* NULL: no line information */
	int line;
} cli_sym;

/* debug_files: read line information from separate debug files too (slow:
 * see symbolize.c); function names are read from them either way. */
cli_symbolizer *cli_sym_new(bool debug_files);
void cli_sym_free(cli_symbolizer *z);
/* Address `rel` (relative to the object's load bias, i.e. an ELF virtual
 * address) in the object at `path`.  The strings live as long as z. */
void cli_sym_lookup(cli_symbolizer *z, const char *path, uint64_t rel, cli_sym *out);

#endif
