/* report_doc.h: a report as data (report_doc.c): named sections, each a
 * table of typed columns, described once and rendered by the text, JSON and
 * CSV emitters (report_text.c, report_json.c, report_csv.c) alike.
 *
 * A section is either a table (rows) or a record (one row, shown as
 * "label  value" lines in text and as one object in JSON).  A keyed table
 * becomes a JSON object whose keys are the rows' keys.  Columns of a group
 * g >= 1 belong to the g-th compared run: JSON nests them as
 * row.runs[g-1].key, text puts the group's label above them. */
#ifndef CLI_REPORT_DOC_H
#define CLI_REPORT_DOC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
	CLI_COL_INT,   /* a count */
	CLI_COL_BYTES, /* bytes: binary units in text, raw integers in JSON and CSV */
	CLI_COL_PCT,   /* a percentage: one decimal in text */
	CLI_COL_REAL,  /* a ratio: two decimals in text */
	CLI_COL_MS,    /* nanoseconds, shown in text as milliseconds */
	CLI_COL_TEXT,
} cli_col_kind;

enum {
	CLI_COL_NO_TEXT = 1, /* JSON and CSV only */
	CLI_COL_NO_DATA = 2, /* text only (a label): not in JSON or CSV */
};

typedef struct cli_col {
	const char *key, *head; /* JSON/CSV key, text header */
	cli_col_kind kind;
	int group;              /* 0, or the compared run 1.. it belongs to */
	unsigned flags;
} cli_col;

typedef struct cli_cell {
	bool null;
	int64_t i;
	double d;
	char *s;
} cli_cell;

typedef struct cli_table {
	const char *key, *title;
	bool record, keyed;
	int text_max_rows; /* text shows at most this many rows, evenly spaced (0: all) */
	int text_keep_row; /* ... always including this row (-1: none) */
	int text_key_cols; /* columns repeated when text splits a wide table */
	int ncols, cap_cols;
	cli_col *cols;
	int nrows, cap_rows;
	cli_cell *cells;   /* nrows x ncols */
	size_t cap_cells;
	int fill;          /* cells set in the last row */
	char **row_keys;   /* keyed tables */
	int nnotes;
	char **notes;
	int ngroups;
	char **group_labels;
} cli_table;

typedef struct cli_doc {
	const char *kind; /* "report" or "compare" */
	int ntables, cap_tables;
	cli_table **tables;
} cli_doc;

cli_doc *cli_doc_new(const char *kind);
void cli_doc_free(cli_doc *d);
cli_table *cli_doc_table(cli_doc *d, const char *key, const char *title);
cli_table *cli_doc_record(cli_doc *d, const char *key, const char *title);

void cli_table_col(cli_table *t, const char *key, const char *head, cli_col_kind kind, unsigned flags);
void cli_table_group_col(cli_table *t, int group, const char *key, const char *head, cli_col_kind kind);
void cli_table_group_label(cli_table *t, int group, const char *label);
/* A new row (keyed tables: with its key); cells are then set in column order. */
void cli_table_row(cli_table *t, const char *row_key);
void cli_table_int(cli_table *t, int64_t v);
void cli_table_real(cli_table *t, double v); /* NaN: null */
void cli_table_text(cli_table *t, const char *s);
void cli_table_null(cli_table *t);
/* A percentage part/whole (null when whole is 0). */
void cli_table_pct(cli_table *t, double part, double whole);
void cli_table_note(cli_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A record's field: a column and its value at once. */
void cli_record_int(cli_table *t, const char *key, const char *head, cli_col_kind kind, int64_t v);
void cli_record_real(cli_table *t, const char *key, const char *head, cli_col_kind kind, double v);
void cli_record_text(cli_table *t, const char *key, const char *head, const char *v);
void cli_record_null(cli_table *t, const char *key, const char *head, cli_col_kind kind);

const cli_cell *cli_table_cell(const cli_table *t, int row, int col);
/* A number cell as the machine formats (json, csv) write it: integers and
 * bytes whole, percentages with 2 decimals, reals with 4. */
void cli_cell_number(FILE *f, const cli_col *c, const cli_cell *v);

/* The emitters.  0, or -1 when the output could not be written. */
int cli_doc_text(const cli_doc *d, FILE *out);
int cli_doc_json(const cli_doc *d, FILE *out);
int cli_doc_csv(const cli_doc *d, FILE *out);
/* A JSON string (report_json.c): UTF-8 passes through; bytes that are not
 * UTF-8 (a damaged file) become U+FFFD, so the output is always valid JSON. */
void cli_json_str(FILE *f, const char *s);

#endif
