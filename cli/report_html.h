/* report_html.h: the HTML page of report and compare (report_html.c): one
 * self-contained file, the figures of the report document (report_doc.h)
 * plus what the charts need beyond them (report_html_data.c reads it),
 * drawn by chart.js and d3-flame-graph inlined into the page. */
#ifndef CLI_REPORT_HTML_H
#define CLI_REPORT_HTML_H

#include "db_read.h"
#include "report_doc.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* One allocation site: its figures summed over classes (site_stats) and its
 * frames, innermost first, as indexes into cli_html_extra.names. */
typedef struct cli_html_site {
	int64_t stack_id, allocs, allocated_bytes, waste_bytes, live_bytes;
	int nframes;
	int *frames;
} cli_html_site;

typedef struct cli_html_rss {
	int64_t t_ns, rss_bytes; /* summed over the run's pids: each pid's latest sample at or before t_ns */
} cli_html_rss;

/* What one run's page shows beyond its report document. */
typedef struct cli_html_extra {
	char stacks[16];  /* run.stacks: off, sample or all ("off" before schema 2) */
	int nnames, nsites, nrss;
	char **names;     /* frame names, each once */
	cli_html_site *sites;
	bool has_rss;     /* kernel_timeline holds rows for the run */
	cli_html_rss *rss;
	int cap_names, cap_sites, cap_rss; /* report_html_data.c's */
} cli_html_extra;

/* Read the run's sites with all their frames and its RSS over time
 * (report_html_data.c).  0, or -1 with the reason in cli_rd_error(rd). */
int cli_html_load(cli_rd *rd, int64_t run_id, cli_html_extra *x);
void cli_html_extra_free(cli_html_extra *x);

/* Write the page of a report (x: the run's extras) or of a compare (x
 * NULL).  0, or -1 when the output could not be written. */
int cli_doc_html(const cli_doc *doc, const cli_html_extra *x, FILE *f);

#endif
