/* report_out.h: what report and compare share on the command line: the
 * --format names and writing a document to stdout or -o OUT (report_out.c). */
#ifndef CLI_REPORT_OUT_H
#define CLI_REPORT_OUT_H

#include "report_doc.h"
#include "report_html.h"

typedef enum { CLI_FMT_TEXT, CLI_FMT_JSON, CLI_FMT_CSV, CLI_FMT_HTML } cli_out_format;

/* 0 and *fmt set, or -1 for an unknown name. */
int cli_out_format_parse(const char *name, cli_out_format *fmt);
/* Write doc to out (NULL or "-": stdout); html also shows x, the run's
 * sites and RSS (report_html.h; NULL for compare).  0, or -1 after printing
 * "goalloc-trace: CMD: OUT: reason" on stderr. */
int cli_out_write(const cli_doc *doc, const cli_html_extra *x, cli_out_format fmt, const char *out,
                  const char *cmd);

#endif
