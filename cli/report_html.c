/* report_html.c: the HTML emitter of report and compare: one
 * self-contained page.  It holds, in this order: the third-party licenses
 * (a comment), our stylesheet, the libraries inlined at build time
 * (chart.js, d3, d3-flame-graph: html_assets.c, from cli/html/), the data
 * as one JSON object in <script type="application/json" id="goalloc-data">,
 * and our cli/html/report.js, which draws the charts from the data and
 * writes the key figures as tables.  The data is
 *
 *   {"kind": "report"|"compare", "doc": <the JSON report (report_json.c)>,
 *    "stacks": "off"|"sample"|"all",            (report only, as is the rest)
 *    "names": [frame name, ...],
 *    "sites": [{"stack_id", "allocs", "allocated_bytes", "waste_bytes",
 *               "live_bytes_at_end", "frames": [name index, innermost first]}],
 *    "rss": [[t_ns, rss_bytes], ...] or null}
 *
 * so every figure the page shows is one the text and JSON reports show,
 * plus the sites' full stacks and the RSS line.  Inside the JSON element
 * "</" is written "<\/" and "<!--" "\u003c!--", so no string can end the
 * element or open a comment.  A Content-Security-Policy of default-src
 * 'none' forbids any request at view time: the page loads nothing. */
#include "report_html.h"

#include <stdlib.h>
#include <string.h>

extern const char cli_html_chartjs[], cli_html_d3[], cli_html_flamegraph[], cli_html_report_js[],
    cli_html_report_css[], cli_html_licenses[];

static void extra_json(FILE *f, const cli_html_extra *x)
{
	fputs(",\n\"stacks\": ", f);
	cli_json_str(f, x->stacks);
	fputs(",\n\"names\": [", f);
	for (int i = 0; i < x->nnames; i++) {
		fputs(i ? ",\n" : "\n", f);
		cli_json_str(f, x->names[i]);
	}
	fputs("],\n\"sites\": [", f);
	for (int i = 0; i < x->nsites; i++) {
		const cli_html_site *s = &x->sites[i];
		fprintf(f,
		        "%s\n{\"stack_id\": %lld, \"allocs\": %lld, \"allocated_bytes\": %lld, \"waste_bytes\": %lld, "
		        "\"live_bytes_at_end\": %lld, \"frames\": [",
		        i ? "," : "", (long long)s->stack_id, (long long)s->allocs, (long long)s->allocated_bytes,
		        (long long)s->waste_bytes, (long long)s->live_bytes);
		for (int k = 0; k < s->nframes; k++)
			fprintf(f, "%s%d", k ? "," : "", s->frames[k]);
		fputs("]}", f);
	}
	fputs("],\n\"rss\": ", f);
	if (!x->has_rss) {
		fputs("null", f);
		return;
	}
	fputc('[', f);
	for (int i = 0; i < x->nrss; i++)
		fprintf(f, "%s[%lld, %lld]", i ? ",\n" : "\n", (long long)x->rss[i].t_ns, (long long)x->rss[i].rss_bytes);
	fputc(']', f);
}

/* buf into f with "</" as "<\/" and "<!--" as "\u003c!--" (both only ever
 * inside JSON strings, where the two spellings mean the same). */
static void write_escaped(FILE *f, const char *buf, size_t n)
{
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '<')
			continue;
		if (i + 1 < n && buf[i + 1] == '/') {
			fwrite(buf + from, 1, i + 1 - from, f);
			fputc('\\', f);
			from = i + 1;
		} else if (i + 3 < n && !memcmp(buf + i, "<!--", 4)) {
			fwrite(buf + from, 1, i - from, f);
			fputs("\\u003c", f);
			from = i + 1;
		}
	}
	fwrite(buf + from, 1, n - from, f);
}

/* The page's title: "goalloc-trace report: NAME" or "goalloc-trace compare",
 * HTML-escaped. */
static void title(FILE *f, const cli_doc *doc)
{
	fprintf(f, "goalloc-trace %s", doc->kind);
	const cli_table *run = doc->ntables && doc->tables[0]->record ? doc->tables[0] : NULL;
	for (int c = 0; run && c < run->ncols; c++) {
		const cli_cell *v = cli_table_cell(run, 0, c);
		if (strcmp(run->cols[c].key, "name") || v->null || !v->s)
			continue;
		fputs(": ", f);
		for (const char *p = v->s; *p; p++) {
			switch (*p) {
			case '<': fputs("&lt;", f); break;
			case '>': fputs("&gt;", f); break;
			case '&': fputs("&amp;", f); break;
			default: fputc(*p, f);
			}
		}
	}
}

int cli_doc_html(const cli_doc *doc, const cli_html_extra *x, FILE *f)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	if (!m)
		return -1;
	fputs("{\"kind\": ", m);
	cli_json_str(m, doc->kind);
	fputs(",\n\"doc\": ", m);
	int rc = cli_doc_json(doc, m);
	if (x)
		extra_json(m, x);
	fputs("}\n", m);
	if (fclose(m) != 0 || rc != 0) {
		free(buf);
		return -1;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", f);
	fputs("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n",
	      f);
	fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
	title(f, doc);
	fputs("</title>\n<!-- Written by goalloc-trace; the scripts below are inlined from npm packages "
	      "whose licenses follow.\n",
	      f);
	fputs(cli_html_licenses, f);
	fputs("-->\n<style>\n", f);
	fputs(cli_html_report_css, f);
	fputs("</style>\n<script>\n", f);
	fputs(cli_html_chartjs, f);
	fputs("\n</script>\n<script>\n", f);
	fputs(cli_html_d3, f);
	fputs("\n</script>\n<script>\n/* d3-flame-graph 5.0.0, Copyright Martin Spier, Apache License 2.0 "
	      "(the full text is in the comment above). */\n",
	      f);
	fputs(cli_html_flamegraph, f);
	fputs("\n</script>\n</head>\n<body>\n<main id=\"app\"><noscript>This report draws its charts and "
	      "tables with JavaScript.</noscript></main>\n<script type=\"application/json\" id=\"goalloc-data\">\n",
	      f);
	write_escaped(f, buf, n);
	free(buf);
	fputs("</script>\n<script>\n", f);
	fputs(cli_html_report_js, f);
	fputs("</script>\n</body>\n</html>\n", f);
	return ferror(f) ? -1 : 0;
}
