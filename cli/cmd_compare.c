/* cmd_compare.c: `goalloc-trace compare FILE[:RUN]... [--format
 * text|json|csv|html] [-o OUT]`: several runs side by side (from one file or
 * many): the heap at each run's peak and its wastes, each class's share of
 * requests and waste, and the classes whose waste differs most
 * (report_data.c defines the figures).  FILE alone means every run of it.
 * Errors are one line, "goalloc-trace: compare: FILE: reason"; exit 2 for
 * usage errors, 1 for data errors. */
#include "cli.h"
#include "db_read.h"
#include "report_data.h"
#include "report_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_RUNS = 64 };

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: goalloc-trace compare FILE[:RUN]... [--format text|json|csv|html] [-o OUT]\n\n"
	        "Several runs side by side: the heap at each run's peak with its three kinds of waste,\n"
	        "per size class each run's share of requests and its size-class waste, and the classes\n"
	        "whose waste differs most between the runs.  Files are opened read-only.\n\n"
	        "  FILE            every run of FILE, in run order\n"
	        "  FILE:RUN        one run of FILE: a run id, or a name (the last run of that name).\n"
	        "                  An argument that names an existing file is always a whole FILE;\n"
	        "                  otherwise it is split at its last ':'\n"
	        "  --format F      text (default), json, csv or html (as in 'goalloc-trace report\n"
	        "                  --help'; the N-th run's CSV columns are headed runN:NAME; html\n"
	        "                  draws a chart of each table)\n"
	        "  -o OUT          write to OUT instead of stdout\n\n"
	        "The classes whose waste differs most: among the runs that used a class, spread = the\n"
	        "most minus the least waste %% (points), weighted by the largest share of a run's\n"
	        "allocated bytes the class holds; the 10 highest spread x weight are listed.\n\n"
	        "Exit status: 0, 1 for a file that cannot be read or a run that does not exist, 2 for a\n"
	        "usage error.  At most %d runs.\n",
	        MAX_RUNS);
}

typedef struct loaded {
	cli_rd_data *data;
	const char **files;
	int n;
} loaded;

static void loaded_free(loaded *l)
{
	for (int i = 0; i < l->n; i++)
		cli_rd_data_free(&l->data[i]);
	free(l->data);
	free(l->files);
}

/* Load the run(s) one argument names.  0, or 1 after printing the error. */
static int load_arg(loaded *l, const char *arg, char **file_out)
{
	char *file = strdup(arg), *spec = NULL;
	if (!file)
		abort();
	*file_out = file;
	if (access(arg, F_OK) != 0) {
		char *colon = strrchr(file, ':');
		if (colon && colon != file) {
			*colon = 0;
			spec = colon + 1;
		}
	}
	char err[600];
	cli_rd *rd;
	if (cli_rd_open(file, &rd, err, sizeof err) != 0) {
		fprintf(stderr, "goalloc-trace: compare: %s: %s\n", file, err);
		return 1;
	}
	cli_rd_run *runs;
	int n, rc = 1;
	if (cli_rd_runs(rd, &runs, &n) != 0) {
		fprintf(stderr, "goalloc-trace: compare: %s: %s\n", file, cli_rd_error(rd));
		cli_rd_close(rd);
		return 1;
	}
	int first = 0, last = n - 1;
	if (spec) {
		first = last = cli_rd_pick_run(runs, n, spec);
		if (first < 0) {
			fprintf(stderr, "goalloc-trace: compare: %s: no run with id or name '%s'\n", file, spec);
			goto done;
		}
	} else if (n == 0) {
		fprintf(stderr, "goalloc-trace: compare: %s: the file holds no run\n", file);
		goto done;
	}
	for (int i = first; i <= last; i++) {
		if (l->n == MAX_RUNS) {
			fprintf(stderr, "goalloc-trace: compare: %s: more than %d runs to compare\n", file, MAX_RUNS);
			goto done;
		}
		if (cli_rd_load(rd, &runs[i], &l->data[l->n]) != 0) {
			fprintf(stderr, "goalloc-trace: compare: %s: %s\n", file, cli_rd_error(rd));
			goto done;
		}
		l->files[l->n++] = file;
	}
	rc = 0;
done:
	cli_rd_runs_free(runs, n);
	cli_rd_close(rd);
	return rc;
}

int cli_cmd_compare(int argc, char **argv)
{
	const char *out = NULL;
	cli_out_format fmt = CLI_FMT_TEXT;
	const char **args = calloc((size_t)argc, sizeof *args);
	char **names = calloc((size_t)argc, sizeof *names);
	if (!args || !names)
		abort();
	int nargs = 0, rc = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			rc = 0;
			goto out;
		}
		if (!strcmp(a, "--format") || !strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (++i >= argc) {
				fprintf(stderr, "goalloc-trace: compare: %s needs a value\n", a);
				goto out;
			}
			if (!strcmp(a, "--format")) {
				if (cli_out_format_parse(argv[i], &fmt) != 0) {
					fprintf(stderr, "goalloc-trace: compare: unknown format '%s' (text, json, csv or html)\n",
					        argv[i]);
					goto out;
				}
			} else {
				out = argv[i];
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr,
			        "goalloc-trace: compare: unknown option '%s' (see 'goalloc-trace compare --help')\n", a);
			goto out;
		} else {
			args[nargs++] = a;
		}
	}
	if (!nargs) {
		fprintf(stderr, "goalloc-trace: compare: no FILE given (usage: goalloc-trace compare FILE[:RUN]...)\n");
		goto out;
	}
	loaded l = {.data = calloc(MAX_RUNS, sizeof *l.data), .files = calloc(MAX_RUNS, sizeof *l.files)};
	if (!l.data || !l.files)
		abort();
	rc = 0;
	for (int i = 0; i < nargs && !rc; i++)
		rc = load_arg(&l, args[i], &names[i]);
	if (!rc) {
		cli_doc *doc = cli_compare_doc(l.n, l.files, l.data);
		rc = cli_out_write(doc, NULL, fmt, out, "compare") == 0 ? 0 : 1;
		cli_doc_free(doc);
	}
	loaded_free(&l);
out:
	for (int i = 0; i < argc; i++)
		free(names[i]);
	free(names);
	free(args);
	return rc;
}
