/* report_json.c: the JSON emitter of a report document (report_doc.h): one
 * object, {"format": "goalloc-trace", "kind": ..., "<section>": ...}, keys
 * in a fixed order, byte counts as raw integers, percentages as numbers
 * with two decimals, null where a figure does not exist.  A record is an
 * object, a keyed table an object of row objects, other tables arrays of
 * row objects; a compared run's columns are nested as "runs": [...]; a
 * section's notes follow it as "<section>_notes": [...]. */
#include "report_doc.h"

/* The length of the well-formed UTF-8 sequence at p (1..4), or 0. */
static int utf8_len(const unsigned char *p)
{
	int n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
	    (n == 4 && p[0] == 0xf0 && p[1] < 0x90) || (n == 4 && p[0] == 0xf4 && p[1] >= 0x90))
		return 0; /* overlong, surrogate, beyond U+10FFFF */
	return n;
}

void cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (*p >= 0x80) {
			int n = utf8_len(p);
			if (n) {
				fwrite(p, 1, (size_t)n, f);
				p += n - 1;
			} else {
				fputs("\\ufffd", f);
			}
		} else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void value(FILE *f, const cli_col *c, const cli_cell *v)
{
	if (v->null) {
		fputs("null", f);
		return;
	}
	if (c->kind == CLI_COL_TEXT)
		cli_json_str(f, v->s);
	else
		cli_cell_number(f, c, v);
}

static void row_object(FILE *f, const cli_table *t, int r, const char *indent)
{
	fputc('{', f);
	bool first = true;
	for (int c = 0; c < t->ncols; c++) {
		const cli_col *col = &t->cols[c];
		if ((col->flags & CLI_COL_NO_DATA) || col->group)
			continue;
		fprintf(f, "%s\n%s  ", first ? "" : ",", indent);
		cli_json_str(f, col->key);
		fputs(": ", f);
		value(f, col, cli_table_cell(t, r, c));
		first = false;
	}
	if (t->ngroups) {
		fprintf(f, "%s\n%s  \"runs\": [", first ? "" : ",", indent);
		for (int g = 1; g <= t->ngroups; g++) {
			fprintf(f, "%s{", g > 1 ? ", " : "");
			bool gfirst = true;
			for (int c = 0; c < t->ncols; c++) {
				const cli_col *col = &t->cols[c];
				if (col->group != g)
					continue;
				fputs(gfirst ? "" : ", ", f);
				cli_json_str(f, col->key);
				fputs(": ", f);
				value(f, col, cli_table_cell(t, r, c));
				gfirst = false;
			}
			fputc('}', f);
		}
		fputc(']', f);
		first = false;
	}
	fprintf(f, "\n%s}", indent);
}

int cli_doc_json(const cli_doc *d, FILE *f)
{
	fprintf(f, "{\n  \"format\": \"goalloc-trace\",\n  \"kind\": ");
	cli_json_str(f, d->kind);
	for (int i = 0; i < d->ntables; i++) {
		const cli_table *t = d->tables[i];
		fputs(",\n  ", f);
		cli_json_str(f, t->key);
		fputs(": ", f);
		if (t->record) {
			row_object(f, t, 0, "  ");
		} else if (t->keyed) {
			fputc('{', f);
			for (int r = 0; r < t->nrows; r++) {
				fprintf(f, "%s\n    ", r ? "," : "");
				cli_json_str(f, t->row_keys[r]);
				fputs(": ", f);
				row_object(f, t, r, "    ");
			}
			fputs(t->nrows ? "\n  }" : "}", f);
		} else {
			fputc('[', f);
			for (int r = 0; r < t->nrows; r++) {
				fprintf(f, "%s\n    ", r ? "," : "");
				row_object(f, t, r, "    ");
			}
			fputs(t->nrows ? "\n  ]" : "]", f);
		}
		if (t->nnotes) {
			fputs(",\n  ", f);
			fprintf(f, "\"%s_notes\": [", t->key);
			for (int n = 0; n < t->nnotes; n++) {
				fputs(n ? ",\n    " : "\n    ", f);
				cli_json_str(f, t->notes[n]);
			}
			fputs("\n  ]", f);
		}
	}
	fputs("\n}\n", f);
	return ferror(f) ? -1 : 0;
}
