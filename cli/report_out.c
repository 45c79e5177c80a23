/* report_out.c: the output side report and compare share: --format names
 * and writing a rendered document (text, json, csv or html) to stdout or to
 * -o OUT, with write errors (a full disk, a closed pipe) reported as one
 * line. */
#include "report_out.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cli_out_format_parse(const char *name, cli_out_format *fmt)
{
	if (!strcmp(name, "text"))
		*fmt = CLI_FMT_TEXT;
	else if (!strcmp(name, "json"))
		*fmt = CLI_FMT_JSON;
	else if (!strcmp(name, "csv"))
		*fmt = CLI_FMT_CSV;
	else if (!strcmp(name, "html"))
		*fmt = CLI_FMT_HTML;
	else
		return -1;
	return 0;
}

int cli_out_write(const cli_doc *doc, const cli_html_extra *x, cli_out_format fmt, const char *out,
                  const char *cmd)
{
	bool to_stdout = !out || !strcmp(out, "-");
	FILE *f = to_stdout ? stdout : fopen(out, "w");
	if (!f) {
		fprintf(stderr, "goalloc-trace: %s: %s: cannot write: %s\n", cmd, out, strerror(errno));
		return -1;
	}
	int rc = fmt == CLI_FMT_JSON   ? cli_doc_json(doc, f)
	         : fmt == CLI_FMT_CSV  ? cli_doc_csv(doc, f)
	         : fmt == CLI_FMT_HTML ? cli_doc_html(doc, x, f)
	                               : cli_doc_text(doc, f);
	errno = 0;
	if (fflush(f) != 0 || ferror(f))
		rc = -1;
	int e = errno;
	if (!to_stdout && fclose(f) != 0) {
		rc = -1;
		e = errno;
	}
	if (rc != 0) {
		fprintf(stderr, "goalloc-trace: %s: %s: cannot write: %s\n", cmd, to_stdout ? "stdout" : out,
		        e ? strerror(e) : "output error");
		return -1;
	}
	return 0;
}
