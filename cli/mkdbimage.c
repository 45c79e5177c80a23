/* mkdbimage.c: a build-time tool.  Writes an empty goalloc database of the
 * current schema (cli_schema_apply on a fresh file, then VACUUM, in
 * rollback-journal mode so the file alone is the whole database) to the
 * path given.  The CLI embeds the file's bytes and writes a new database
 * from them: applying the migrations costs ~10 ms of CPU per new file
 * (their DROPs and ALTERs make SQLite parse the whole schema again), which
 * is a third of `goalloc-trace run -- true`.
 * Usage: mkdbimage OUT.db
 */
#include "schema_apply.h"

#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkdbimage OUT.db\n");
		return 2;
	}
	unlink(argv[1]);
	sqlite3 *h = NULL;
	char err[512] = "";
	if (sqlite3_open_v2(argv[1], &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
	    sqlite3_exec(h, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "mkdbimage: %s: %s\n", argv[1], h ? sqlite3_errmsg(h) : "cannot open");
		return 1;
	}
	if (cli_schema_apply(h, 0, err, sizeof err) != 0) {
		fprintf(stderr, "mkdbimage: cannot apply the schema: %s\n", err);
		return 1;
	}
	if (sqlite3_exec(h, "VACUUM", NULL, NULL, NULL) != SQLITE_OK || sqlite3_close(h) != SQLITE_OK) {
		fprintf(stderr, "mkdbimage: %s: %s\n", argv[1], sqlite3_errmsg(h));
		return 1;
	}
	return 0;
}
