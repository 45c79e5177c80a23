/* main.c: the goalloc-trace command: subcommand dispatch, help and version.
 * Each subcommand lives in its own file (cmd_<name>.c). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"run", cli_cmd_run, "run a program on the Go-style heap and record what the heap did"},
	{"report", cli_cmd_report, "the fragmentation report of a run: heap figures, waste, size classes"},
	{"compare", cli_cmd_compare, "several runs side by side: waste per size class across workloads"},
	{"sites", cli_cmd_sites, "the allocation sites of a run: who wastes, who allocates, who leaks"},
	{"export", cli_cmd_export, "a run's allocation sites for pprof, flame graphs (folded) or JSON"},
	{"attach", cli_cmd_attach, "record a running process's malloc calls (uprobes) and model Go's classes"},
	{"classes", cli_cmd_classes, "print the size-class table in use (Go's sizeclasses.go layout)"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: goalloc-trace <command> [options]\n\n"
	           "Runs programs on a faithful C implementation of Go's heap allocator and\n"
	           "reports what it did.  Commands:\n\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nExample: goalloc-trace run -o trace.db -- ./prog args\n"
	           "         goalloc-trace report trace.db\n"
	           "         goalloc-trace compare a.db b.db\n"
	           "\nThe allocator alone, without tracing:\n"
	           "  LD_PRELOAD=%s GOALLOC_STATS=1 PROG ARGS\n"
	           "prints the heap's figures (HeapAlloc, HeapInuse, ...) when PROG exits.\n"
	           "\n'goalloc-trace <command> --help' describes a command.\n",
	        "<prefix>/lib/libgoalloc.so");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("goalloc-trace %s\n", GOALLOC_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "replay")) /* a bench tool: not listed */
		return cli_cmd_replay(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "goalloc-trace: unknown command '%s' (see 'goalloc-trace --help')\n", argv[1]);
	return 2;
}
