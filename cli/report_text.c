/* report_text.c: the text emitter of a report document (report_doc.h):
 * aligned tables that fit in 100 columns, bytes in binary units (fmt.c),
 * percentages with one decimal.  Columns are two blanks apart, or one if
 * that makes a table fit; a table still wider than 100 columns is split
 * into several, each repeating the table's key columns; a table with
 * text_max_rows shows that many evenly spaced rows (first, last and
 * text_keep_row kept);
 * records print as "label  value" lines; notes are wrapped under their
 * section. */
#include "fmt.h"
#include "report_doc.h"

#include <stdlib.h>
#include <string.h>

enum { WIDTH = 100, CELL = 128 };

/* Blanks between columns: 2, or 1 when that makes a table fit. */
static int GAP = 2;

/* A cell as text. */
static void cell_text(const cli_col *c, const cli_cell *v, char *buf, size_t n)
{
	if (v->null) {
		snprintf(buf, n, "-");
		return;
	}
	switch (c->kind) {
	case CLI_COL_INT:
		snprintf(buf, n, "%lld", (long long)v->i);
		break;
	case CLI_COL_BYTES:
		cli_fmt_bytes(buf, n, v->i);
		break;
	case CLI_COL_PCT:
		cli_fmt_pct(buf, n, v->d);
		break;
	case CLI_COL_REAL:
		snprintf(buf, n, "%.2f", v->d);
		break;
	case CLI_COL_MS:
		cli_fmt_ns(buf, n, v->i);
		break;
	case CLI_COL_TEXT:
		snprintf(buf, n, "%s", v->s ? v->s : "");
		break;
	}
	/* one line, and never wider than the page */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
	if (strlen(buf) > WIDTH - 24) {
		buf[WIDTH - 27] = 0;
		strcat(buf, "...");
	}
}

/* Word-wrapped text at indent. */
static void wrapped(FILE *f, const char *s, int indent)
{
	int col = 0;
	const char *p = s;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t w = strcspn(p, " ");
		if (!w)
			break;
		if (col > indent && col + 1 + (int)w > WIDTH) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0) {
			fprintf(f, "%*s", indent, "");
			col = indent;
		} else {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, w, f);
		col += (int)w;
		p += w;
	}
	if (col)
		fputc('\n', f);
}

static void record_text(const cli_table *t, FILE *f)
{
	int lw = 0;
	for (int c = 0; c < t->ncols; c++)
		if (!(t->cols[c].flags & CLI_COL_NO_TEXT) && (int)strlen(t->cols[c].head) > lw)
			lw = (int)strlen(t->cols[c].head);
	char buf[CELL];
	for (int c = 0; c < t->ncols; c++) {
		if (t->cols[c].flags & CLI_COL_NO_TEXT)
			continue;
		cell_text(&t->cols[c], cli_table_cell(t, 0, c), buf, sizeof buf);
		fprintf(f, "  %-*s  %s\n", lw, t->cols[c].head, buf);
	}
}

/* The rows text shows: all, or text_max_rows evenly spaced. */
static int pick_rows(const cli_table *t, int *rows)
{
	int n = t->nrows, m = t->text_max_rows;
	if (!m || n <= m) {
		for (int i = 0; i < n; i++)
			rows[i] = i;
		return n;
	}
	int k = 0;
	for (int i = 0; i < m; i++) {
		int r = (int)(((long long)i * (n - 1) + (m - 1) / 2) / (m - 1));
		if (k == 0 || rows[k - 1] != r)
			rows[k++] = r;
	}
	/* the row to keep replaces the nearest pick that is neither end */
	int keep = t->text_keep_row;
	if (keep > 0 && keep < n - 1 && k > 2) {
		int best = 1;
		for (int i = 1; i < k - 1; i++)
			if (abs(rows[i] - keep) < abs(rows[best] - keep))
				best = i;
		if (rows[best - 1] < keep && keep < rows[best + 1])
			rows[best] = keep;
	}
	return k;
}

static bool is_num(cli_col_kind k)
{
	return k != CLI_COL_TEXT;
}

static void table_part(const cli_table *t, FILE *f, const int *cols, int ncols, const int *width, const int *rows,
                       int nrows)
{
	char buf[CELL];
	if (t->ngroups) {
		/* the compared runs' labels above their columns */
		char line[WIDTH * 4];
		int pos = 0, lastg = 0;
		memset(line, ' ', sizeof line);
		for (int i = 0; i < ncols; i++) {
			const cli_col *c = &t->cols[cols[i]];
			int g = c->group;
			if (g && g != lastg && g <= t->ngroups && t->group_labels[g - 1]) {
				int span = 0;
				for (int j = i; j < ncols && t->cols[cols[j]].group == g; j++)
					span += width[j] + (j > i ? GAP : 0);
				const char *lab = t->group_labels[g - 1];
				int len = (int)strlen(lab);
				if (len > span)
					len = span;
				memcpy(line + pos + GAP, lab, (size_t)len);
			}
			lastg = g;
			pos += GAP + width[i];
		}
		while (pos > 0 && line[pos - 1] == ' ')
			pos--;
		fprintf(f, "%.*s\n", pos, line);
	}
	for (int i = 0; i < ncols; i++) {
		const cli_col *c = &t->cols[cols[i]];
		if (is_num(c->kind))
			fprintf(f, "%*s%*s", GAP, "", width[i], c->head);
		else if (i == ncols - 1)
			fprintf(f, "%*s%s", GAP, "", c->head); /* no trailing blanks */
		else
			fprintf(f, "%*s%-*s", GAP, "", width[i], c->head);
	}
	fputc('\n', f);
	for (int r = 0; r < nrows; r++) {
		int pad = 0;
		for (int i = 0; i < ncols; i++) {
			const cli_col *c = &t->cols[cols[i]];
			cell_text(c, cli_table_cell(t, rows[r], cols[i]), buf, sizeof buf);
			if (is_num(c->kind))
				fprintf(f, "%*s%*s", GAP + pad, "", width[i], buf);
			else if (i == ncols - 1) {
				if ((int)strlen(buf) > width[i] && width[i] > 3)
					strcpy(buf + width[i] - 3, "...");
				fprintf(f, "%*s%s", *buf ? GAP + pad : 0, "", buf); /* no trailing blanks */
			}
			else
				fprintf(f, "%*s%-*s", GAP + pad, "", width[i], buf);
			pad = 0;
		}
		fputc('\n', f);
	}
}

static void table_text(const cli_table *t, FILE *f)
{
	int *cols = malloc(sizeof(int) * (size_t)(t->ncols + 1));
	int *width = calloc((size_t)t->ncols + 1, sizeof(int));
	int *rows = malloc(sizeof(int) * (size_t)(t->nrows + 1));
	int *pcols = malloc(sizeof(int) * (size_t)(t->ncols + 1));
	int *pwidth = malloc(sizeof(int) * (size_t)(t->ncols + 1));
	if (!cols || !width || !rows || !pcols || !pwidth)
		abort();
	int nrows = pick_rows(t, rows), ncols = 0;
	char buf[CELL];
	for (int c = 0; c < t->ncols; c++) {
		if (t->cols[c].flags & CLI_COL_NO_TEXT)
			continue;
		int w = (int)strlen(t->cols[c].head);
		for (int r = 0; r < nrows; r++) {
			cell_text(&t->cols[c], cli_table_cell(t, rows[r], c), buf, sizeof buf);
			if ((int)strlen(buf) > w)
				w = (int)strlen(buf);
		}
		width[ncols] = w;
		cols[ncols++] = c;
	}
	int total = 0;
	for (int k = 0; k < ncols; k++)
		total += 2 + width[k];
	GAP = total > WIDTH && total - ncols <= WIDTH ? 1 : 2;
	/* A text column at the end (frames, a command) is cut to fit rather
	 * than split off, when the rest leaves it room. */
	if (ncols > 1 && !is_num(t->cols[cols[ncols - 1]].kind)) {
		for (int g = 2; g >= 1; g--) {
			int rest = 0;
			for (int k = 0; k < ncols - 1; k++)
				rest += g + width[k];
			if (rest + g + width[ncols - 1] <= WIDTH)
				break; /* it fits */
			if (WIDTH - rest - g >= 24) {
				GAP = g;
				width[ncols - 1] = WIDTH - rest - g;
				break;
			}
		}
	}
	/* Split into parts that fit, each starting with the key columns. */
	int nkey = t->text_key_cols < ncols ? t->text_key_cols : 0, keyw = 0;
	for (int i = 0; i < nkey; i++)
		keyw += GAP + width[i];
	int i = nkey;
	bool first = true;
	do {
		int np = 0, w = keyw;
		for (int k = 0; k < nkey; k++) {
			pcols[np] = cols[k];
			pwidth[np++] = width[k];
		}
		while (i < ncols) {
			/* a compared run's columns stay together */
			int g = t->cols[cols[i]].group, gn = 1, gw = GAP + width[i];
			while (g && i + gn < ncols && t->cols[cols[i + gn]].group == g) {
				gw += GAP + width[i + gn];
				gn++;
			}
			if (np > nkey && w + gw > WIDTH)
				break;
			for (int k = 0; k < gn; k++, i++) {
				pcols[np] = cols[i];
				pwidth[np++] = width[i];
			}
			w += gw;
		}
		if (!first)
			fputc('\n', f);
		table_part(t, f, pcols, np, pwidth, rows, nrows);
		first = false;
	} while (i < ncols);
	if (nrows < t->nrows)
		fprintf(f, "  (%d of %d rows; all in --format json or csv)\n", nrows, t->nrows);
	free(cols);
	free(width);
	free(rows);
	free(pcols);
	free(pwidth);
}

int cli_doc_text(const cli_doc *d, FILE *f)
{
	for (int i = 0; i < d->ntables; i++) {
		const cli_table *t = d->tables[i];
		if (i)
			fputc('\n', f);
		if (t->title)
			fprintf(f, "%s\n", t->title);
		if (t->record)
			record_text(t, f);
		else if (t->nrows)
			table_text(t, f);
		for (int n = 0; n < t->nnotes; n++)
			wrapped(f, t->notes[n], 2);
	}
	return ferror(f) ? -1 : 0;
}
