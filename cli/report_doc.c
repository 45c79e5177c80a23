/* report_doc.c: building a report as data (see report_doc.h): sections,
 * columns, rows and notes.  Every string is copied; cli_doc_free releases
 * everything.  Allocation failure aborts (the CLI cannot report without
 * memory). */
#include "report_doc.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	char *r = strdup(s ? s : "");
	if (!r)
		abort();
	return r;
}

cli_doc *cli_doc_new(const char *kind)
{
	cli_doc *d = calloc(1, sizeof *d);
	if (!d)
		abort();
	d->kind = kind;
	return d;
}

static void table_free(cli_table *t)
{
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++)
			free(t->cells[r * t->ncols + c].s);
		if (t->row_keys)
			free(t->row_keys[r]);
	}
	for (int i = 0; i < t->nnotes; i++)
		free(t->notes[i]);
	for (int i = 0; i < t->ngroups; i++)
		free(t->group_labels[i]);
	free(t->group_labels);
	free(t->notes);
	free(t->row_keys);
	free(t->cells);
	free(t->cols);
	free(t);
}

void cli_doc_free(cli_doc *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->ntables; i++)
		table_free(d->tables[i]);
	free(d->tables);
	free(d);
}

cli_table *cli_doc_table(cli_doc *d, const char *key, const char *title)
{
	cli_table *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	t->key = key;
	t->title = title;
	t->text_keep_row = -1;
	if (d->ntables == d->cap_tables) {
		d->cap_tables = d->cap_tables ? d->cap_tables * 2 : 16;
		d->tables = xrealloc(d->tables, (size_t)d->cap_tables * sizeof *d->tables);
	}
	d->tables[d->ntables++] = t;
	return t;
}

cli_table *cli_doc_record(cli_doc *d, const char *key, const char *title)
{
	cli_table *t = cli_doc_table(d, key, title);
	t->record = true;
	cli_table_row(t, NULL);
	return t;
}

static void add_col(cli_table *t, cli_col c)
{
	if (t->ncols == t->cap_cols) {
		t->cap_cols = t->cap_cols ? t->cap_cols * 2 : 16;
		t->cols = xrealloc(t->cols, (size_t)t->cap_cols * sizeof *t->cols);
	}
	t->cols[t->ncols++] = c;
}

void cli_table_col(cli_table *t, const char *key, const char *head, cli_col_kind kind, unsigned flags)
{
	add_col(t, (cli_col){.key = key, .head = head, .kind = kind, .flags = flags});
}

void cli_table_group_col(cli_table *t, int group, const char *key, const char *head, cli_col_kind kind)
{
	add_col(t, (cli_col){.key = key, .head = head, .kind = kind, .group = group});
}

void cli_table_group_label(cli_table *t, int group, const char *label)
{
	if (group > t->ngroups) {
		t->group_labels = xrealloc(t->group_labels, (size_t)group * sizeof *t->group_labels);
		for (int i = t->ngroups; i < group; i++)
			t->group_labels[i] = NULL;
		t->ngroups = group;
	}
	free(t->group_labels[group - 1]);
	t->group_labels[group - 1] = xstrdup(label);
}

void cli_table_row(cli_table *t, const char *row_key)
{
	while (t->nrows && t->fill < t->ncols)
		cli_table_null(t); /* the last row's missing cells */
	if (t->nrows == t->cap_rows) {
		t->cap_rows = t->cap_rows ? t->cap_rows * 2 : 32;
		t->row_keys = xrealloc(t->row_keys, (size_t)t->cap_rows * sizeof *t->row_keys);
	}
	t->row_keys[t->nrows] = row_key ? xstrdup(row_key) : NULL;
	t->nrows++;
	t->fill = 0;
}

static cli_cell *next_cell(cli_table *t)
{
	if (t->fill >= t->ncols || t->nrows == 0)
		abort(); /* a programming error: more cells than columns */
	/* Cells have a stride of ncols: a table's columns are all declared
	 * before its first row; a record (one row) declares them as it goes. */
	size_t idx = (size_t)(t->nrows - 1) * (size_t)t->ncols + (size_t)t->fill++;
	if (idx >= t->cap_cells) {
		size_t cap = t->cap_cells ? t->cap_cells * 2 : 64;
		while (cap <= idx)
			cap *= 2;
		t->cells = xrealloc(t->cells, cap * sizeof *t->cells);
		t->cap_cells = cap;
	}
	cli_cell *c = &t->cells[idx];
	memset(c, 0, sizeof *c);
	return c;
}

void cli_table_int(cli_table *t, int64_t v)
{
	next_cell(t)->i = v;
}

void cli_table_real(cli_table *t, double v)
{
	cli_cell *c = next_cell(t);
	c->null = isnan(v) || isinf(v);
	c->d = v;
}

void cli_table_text(cli_table *t, const char *s)
{
	next_cell(t)->s = xstrdup(s);
}

void cli_table_null(cli_table *t)
{
	next_cell(t)->null = true;
}

void cli_table_pct(cli_table *t, double part, double whole)
{
	cli_table_real(t, whole != 0 ? 100.0 * part / whole : NAN);
}

void cli_table_note(cli_table *t, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	t->notes = xrealloc(t->notes, (size_t)(t->nnotes + 1) * sizeof *t->notes);
	t->notes[t->nnotes++] = xstrdup(buf);
}

const cli_cell *cli_table_cell(const cli_table *t, int row, int col)
{
	static const cli_cell empty = {.null = true};
	if (row >= t->nrows || col >= t->ncols || !t->cells)
		return &empty;
	if (row == t->nrows - 1 && col >= t->fill)
		return &empty;
	return &t->cells[(size_t)row * (size_t)t->ncols + (size_t)col];
}

void cli_record_int(cli_table *t, const char *key, const char *head, cli_col_kind kind, int64_t v)
{
	cli_table_col(t, key, head, kind, 0);
	cli_table_int(t, v);
}

void cli_record_real(cli_table *t, const char *key, const char *head, cli_col_kind kind, double v)
{
	cli_table_col(t, key, head, kind, 0);
	cli_table_real(t, v);
}

void cli_record_text(cli_table *t, const char *key, const char *head, const char *v)
{
	cli_table_col(t, key, head, CLI_COL_TEXT, 0);
	cli_table_text(t, v);
}

void cli_record_null(cli_table *t, const char *key, const char *head, cli_col_kind kind)
{
	cli_table_col(t, key, head, kind, 0);
	cli_table_null(t);
}

void cli_cell_number(FILE *f, const cli_col *c, const cli_cell *v)
{
	switch (c->kind) {
	case CLI_COL_PCT:
		fprintf(f, "%.2f", v->d);
		break;
	case CLI_COL_REAL:
		fprintf(f, "%.4f", v->d);
		break;
	default:
		fprintf(f, "%lld", (long long)v->i);
		break;
	}
}
