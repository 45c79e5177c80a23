/* runsel.c: which run of a database a command means: `--run ID|NAME`, or
 * the last run.  A number matches a run id first, then a name; a name
 * shared by several runs means the last of them. */
#include "runsel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_run_select(cli_db *db, const char *sel, int64_t *run_id, char *name, size_t nn)
{
	cli_db_rows *q;
	if (cli_db_query(db, "SELECT run_id, name FROM run ORDER BY run_id", NULL, 0, &q) != 0)
		return -1;
	int rc, found = 0;
	char *end = NULL;
	long long want = sel ? strtoll(sel, &end, 10) : 0;
	bool by_id = sel && end != sel && !*end;
	bool id_hit = false;
	while ((rc = cli_db_next(q)) == 1) {
		int64_t id = cli_db_col_int(q, 0);
		const char *nm = cli_db_col_text(q, 1);
		bool hit_id = by_id && id == want;
		if (!sel || hit_id || (!id_hit && nm && !strcmp(nm, sel))) {
			*run_id = id;
			snprintf(name, nn, "%s", nm ? nm : "");
			found = 1;
			id_hit = id_hit || hit_id;
		}
	}
	cli_db_rows_free(q);
	return rc < 0 ? -1 : found;
}
