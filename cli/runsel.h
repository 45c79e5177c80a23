/* runsel.h: which run of a database a command means (runsel.c). */
#ifndef CLI_RUNSEL_H
#define CLI_RUNSEL_H

#include "db.h"

#include <stddef.h>
#include <stdint.h>

/* sel: a run id or name, NULL for the last run.  1 and *run_id (and its
 * name) when found, 0 when not, -1 on a database error. */
int cli_run_select(cli_db *db, const char *sel, int64_t *run_id, char *name, size_t nn);

#endif
