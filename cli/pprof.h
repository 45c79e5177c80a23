/* pprof.h: a profile in pprof's format (profile.proto, gzipped), the file
 * `go tool pprof` reads (pprof.c).  Build it with interned strings,
 * functions, mappings and locations, add samples, write it. */
#ifndef CLI_PPROF_H
#define CLI_PPROF_H

#include <stdint.h>

typedef struct cli_pprof cli_pprof;

/* types/units: the sample value types, e.g. {"alloc_objects", "count"}. */
cli_pprof *cli_pprof_new(const char *const (*types)[2], int ntypes);
void cli_pprof_free(cli_pprof *p);

/* Ids (1, 2, ...) of equal arguments are equal. */
uint64_t cli_pprof_mapping(cli_pprof *p, const char *file, uint64_t start, uint64_t limit, uint64_t offset,
                           int has_lines);
uint64_t cli_pprof_function(cli_pprof *p, const char *name, const char *file);
uint64_t cli_pprof_location(cli_pprof *p, uint64_t mapping, uint64_t address, uint64_t function, int64_t line);

/* locs: innermost first (pprof's order).  label: a numeric label (key,
 * value) such as ("class", 5), or key NULL for none. */
void cli_pprof_sample(cli_pprof *p, const uint64_t *locs, int nlocs, const int64_t *values, const char *label,
                      int64_t label_value);

/* Write the gzipped profile; default_type: the sample type pprof shows first
 * (one of the types).  0, or -1 with errno. */
int cli_pprof_write(cli_pprof *p, const char *path, int64_t time_ns, int64_t duration_ns, const char *comment,
                    const char *default_type);

#endif
