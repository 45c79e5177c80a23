/* report_csv.c: the CSV emitter of a report document (report_doc.h): one
 * table per section, each introduced by a line "# section KEY" and a header
 * row of column keys, sections separated by a blank line.  A keyed table's
 * first column is "key" (the row's JSON key); the columns of the N-th
 * compared run are headed "runN:key" (N as in the runs section); byte counts are
 * raw integers.  Fields are quoted (RFC 4180) when they hold a comma, a
 * quote, a line break or leading/trailing blanks. */
#include "report_doc.h"

#include <string.h>

static void field(FILE *f, const char *s)
{
	s = s ? s : "";
	size_t n = strlen(s);
	bool quote = strpbrk(s, ",\"\r\n") || (n && (s[0] == ' ' || s[n - 1] == ' ')) || s[0] == '#';
	if (!quote) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void value(FILE *f, const cli_col *c, const cli_cell *v)
{
	if (v->null)
		return; /* an empty field */
	if (c->kind == CLI_COL_TEXT)
		field(f, v->s);
	else
		cli_cell_number(f, c, v);
}

int cli_doc_csv(const cli_doc *d, FILE *f)
{
	for (int i = 0; i < d->ntables; i++) {
		const cli_table *t = d->tables[i];
		fprintf(f, "%s# section %s\n", i ? "\n" : "", t->key);
		bool first = true;
		if (t->keyed) {
			fputs("key", f);
			first = false;
		}
		for (int c = 0; c < t->ncols; c++) {
			const cli_col *col = &t->cols[c];
			if (col->flags & CLI_COL_NO_DATA)
				continue;
			if (!first)
				fputc(',', f);
			first = false;
			if (col->group) {
				char h[256];
				snprintf(h, sizeof h, "run%d:%s", col->group, col->key);
				field(f, h);
			} else {
				field(f, col->key);
			}
		}
		fputc('\n', f);
		for (int r = 0; r < t->nrows; r++) {
			first = true;
			if (t->keyed) {
				field(f, t->row_keys[r]);
				first = false;
			}
			for (int c = 0; c < t->ncols; c++) {
				if (t->cols[c].flags & CLI_COL_NO_DATA)
					continue;
				if (!first)
					fputc(',', f);
				first = false;
				value(f, &t->cols[c], cli_table_cell(t, r, c));
			}
			fputc('\n', f);
		}
	}
	return ferror(f) ? -1 : 0;
}
