/* cmd_report.c: `goalloc-trace report FILE [--run ID|NAME] [--format
 * text|json|csv|html] [-o OUT]`: one run's fragmentation report.  Opens FILE
 * read-only (db_read.c), loads the run's aggregates, builds the document
 * (report_data.c) and renders it (report_out.c).  Errors are one line,
 * "goalloc-trace: report: FILE: reason"; exit 2 for usage errors, 1 for
 * data errors. */
#include "cli.h"
#include "db_read.h"
#include "report_data.h"
#include "report_html.h"
#include "report_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: goalloc-trace report FILE [--run ID|NAME] [--format text|json|csv|html] [-o OUT]\n\n"
	        "The fragmentation report of one run of FILE (a database written by 'run'): the heap at\n"
	        "its peak and at exit in Go's names with its three kinds of waste (size-class, span,\n"
	        "page-heap), every size class used, the tiny allocator, what the other alignment mode\n"
	        "would have allocated, the heap over time, and, when the file has them, the allocation\n"
	        "sites with the most waste and the kernel's view.  FILE is opened read-only.\n\n"
	        "  --run ID|NAME   the run (default: the last run of FILE); a NAME names the last run\n"
	        "                  of that name ('goalloc-trace run --name')\n"
	        "  --format F      text (default: tables for people, at most 100 columns, bytes in\n"
	        "                  KiB/MiB/GiB), json (one object, raw byte counts, null where a\n"
	        "                  figure does not exist), csv (see below), html (one self-contained\n"
	        "                  page: charts of waste by class, the heap timeline, span use and a\n"
	        "                  flame graph of the allocation sites, with the key figures as tables;\n"
	        "                  it loads nothing from the network)\n"
	        "  -o OUT          write to OUT instead of stdout\n\n"
	        "CSV: one table per section; each section starts with a line '# section NAME' and a\n"
	        "header row, and sections are separated by a blank line.  Byte counts are raw integers.\n\n"
	        "Exit status: 0, 1 for a file that cannot be read or a run that does not exist, 2 for a\n"
	        "usage error.\n");
}

int cli_cmd_report(int argc, char **argv)
{
	const char *file = NULL, *run = NULL, *out = NULL;
	cli_out_format fmt = CLI_FMT_TEXT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--run") || !strcmp(a, "--format") || !strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (++i >= argc) {
				fprintf(stderr, "goalloc-trace: report: %s needs a value\n", a);
				return 2;
			}
			if (!strcmp(a, "--run"))
				run = argv[i];
			else if (!strcmp(a, "--format")) {
				if (cli_out_format_parse(argv[i], &fmt) != 0) {
					fprintf(stderr, "goalloc-trace: report: unknown format '%s' (text, json, csv or html)\n",
					        argv[i]);
					return 2;
				}
			} else
				out = argv[i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "goalloc-trace: report: unknown option '%s' (see 'goalloc-trace report --help')\n",
			        a);
			return 2;
		} else if (!file) {
			file = a;
		} else {
			fprintf(stderr, "goalloc-trace: report: one FILE only (to see several runs: goalloc-trace compare)\n");
			return 2;
		}
	}
	if (!file) {
		fprintf(stderr, "goalloc-trace: report: no FILE given (usage: goalloc-trace report FILE [options])\n");
		return 2;
	}
	char err[600];
	cli_rd *rd;
	if (cli_rd_open(file, &rd, err, sizeof err) != 0) {
		fprintf(stderr, "goalloc-trace: report: %s: %s\n", file, err);
		return 1;
	}
	cli_rd_run *runs;
	int n, rc = 1;
	if (cli_rd_runs(rd, &runs, &n) != 0) {
		fprintf(stderr, "goalloc-trace: report: %s: %s\n", file, cli_rd_error(rd));
		cli_rd_close(rd);
		return 1;
	}
	int pick = cli_rd_pick_run(runs, n, run);
	if (pick < 0) {
		if (run)
			fprintf(stderr, "goalloc-trace: report: %s: no run with id or name '%s'\n", file, run);
		else
			fprintf(stderr, "goalloc-trace: report: %s: the file holds no run\n", file);
		goto done;
	}
	cli_rd_data d;
	if (cli_rd_load(rd, &runs[pick], &d) != 0) {
		fprintf(stderr, "goalloc-trace: report: %s: %s\n", file, cli_rd_error(rd));
		goto done;
	}
	cli_html_extra x = {0};
	if (fmt == CLI_FMT_HTML && cli_html_load(rd, runs[pick].run_id, &x) != 0) {
		fprintf(stderr, "goalloc-trace: report: %s: %s\n", file, cli_rd_error(rd));
		cli_rd_data_free(&d);
		goto done;
	}
	cli_doc *doc = cli_report_doc(file, &d);
	rc = cli_out_write(doc, &x, fmt, out, "report") == 0 ? 0 : 1;
	cli_doc_free(doc);
	cli_html_extra_free(&x);
	cli_rd_data_free(&d);
done:
	cli_rd_runs_free(runs, n);
	cli_rd_close(rd);
	return rc;
}
