/* schema_apply.c: bringing a database to the current schema: the
 * migrations of schema/ from a given version on, in one transaction, then
 * the version (PRAGMA user_version) and the mark that says the file is a
 * goalloc database.  Used by db.c on files it opens and, at build time, by
 * mkdbimage.c, which makes the image new files are written from: the two
 * can never disagree on what a new database holds.
 */
#include "schema_apply.h"

#include <stdio.h>

extern const char *const cli_schema_migrations[];
extern const int cli_schema_version;

static int run(sqlite3 *h, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int cli_schema_apply(sqlite3 *h, int64_t from, char *err, size_t errlen)
{
	if (run(h, "BEGIN IMMEDIATE", err, errlen) != 0)
		return -1;
	char sql[128];
	snprintf(sql, sizeof sql, "PRAGMA user_version=%d", cli_schema_version);
	for (int64_t v = from; v < cli_schema_version; v++)
		if (run(h, cli_schema_migrations[v], err, errlen) != 0)
			goto rollback;
	if (run(h, sql, err, errlen) != 0 ||
	    run(h, "INSERT OR REPLACE INTO goalloc_meta VALUES('format','goalloc-trace')", err, errlen) != 0)
		goto rollback;
	return run(h, "COMMIT", err, errlen);
rollback:
	sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL); /* err keeps the first failure */
	return -1;
}
