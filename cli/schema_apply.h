/* schema_apply.h: the migrations of schema/ applied to an open database. */
#ifndef CLI_SCHEMA_APPLY_H
#define CLI_SCHEMA_APPLY_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* Apply migrations from..current in one transaction and mark the file as a
 * goalloc database of the current version.  0, or -1 with one line in err
 * (everything rolled back). */
int cli_schema_apply(sqlite3 *h, int64_t from, char *err, size_t errlen);

#endif
