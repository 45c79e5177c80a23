/* cmd_sites.c: `goalloc-trace sites FILE`: the top allocation sites of a
 * run, each with its figures, its classes and its stack, ranked by waste,
 * bytes, count, or what was still live at exit (the leak view).  Reads the
 * site_stats and sites views only. */
#include "cli.h"
#include "db_read.h"
#include "fmt.h"
#include "ga.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: goalloc-trace sites FILE [--run ID|NAME] [--by waste|bytes|count|leaked]\n"
	           "                           [--class N] [-n K] [--frames F]\n\n"
	           "Lists the allocation sites of a run (recorded by 'run', whose --stacks sets\n"
	           "whether every allocation or a sample carries its stack), the site that\n"
	           "wastes most first.  For each: allocations, bytes requested and allocated,\n"
	           "size-class waste (allocated - requested) and its share of the run's, what\n"
	           "was still live when the program ended, the size classes it used, and its\n"
	           "stack (innermost frame first: the function that called malloc).\n\n"
	           "  --run ID|NAME  which run of FILE (default: the last one)\n"
	           "  --by KEY       waste (default), bytes (allocated), count (allocations),\n"
	           "                 leaked (bytes still live at exit: only sites with some)\n"
	           "  --class N      only allocations of size class N (0 = large objects)\n"
	           "  -n K           show the top K sites (default 10)\n"
	           "  --frames F     frames shown per stack (default 8)\n\n"
	           "With sampled stacks (the default of 'run') the figures are estimates, scaled\n"
	           "as pprof scales Go's heap profile, and are marked '~'.\n");
}

static int die(const char *path, const char *msg)
{
	fprintf(stderr, "goalloc-trace: sites: %s: %s\n", path, msg);
	return 1;
}

enum { BY_WASTE, BY_BYTES, BY_COUNT, BY_LEAKED };

static const char *const order_sql[] = {
	[BY_WASTE] = "waste DESC, allocated DESC",
	[BY_BYTES] = "allocated DESC",
	[BY_COUNT] = "allocs DESC",
	[BY_LEAKED] = "live_bytes DESC, live_objs DESC",
};

int cli_cmd_sites(int argc, char **argv)
{
	const char *path = NULL, *run_sel = NULL;
	int by = BY_WASTE, top = 10, frames_max = 8;
	long cls = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--run") || !strcmp(a, "--by") || !strcmp(a, "--class") || !strcmp(a, "-n") ||
		           !strcmp(a, "--frames")) {
			if (!v) {
				fprintf(stderr, "goalloc-trace: sites: %s needs a value\n", a);
				return 2;
			}
			i++;
			char *end;
			long n = strtol(v, &end, 10);
			bool num = end != v && !*end;
			if (!strcmp(a, "--run")) {
				run_sel = v;
			} else if (!strcmp(a, "--by")) {
				if (!strcmp(v, "waste"))
					by = BY_WASTE;
				else if (!strcmp(v, "bytes"))
					by = BY_BYTES;
				else if (!strcmp(v, "count"))
					by = BY_COUNT;
				else if (!strcmp(v, "leaked"))
					by = BY_LEAKED;
				else {
					fprintf(stderr, "goalloc-trace: sites: --by takes waste, bytes, count or leaked, not '%s'\n", v);
					return 2;
				}
			} else if (!num || n < 0 || (!strcmp(a, "--class") && n >= GA_CLASSES) || (strcmp(a, "--class") && n < 1)) {
				fprintf(stderr, "goalloc-trace: sites: %s: not a valid number '%s'\n", a, v);
				return 2;
			} else if (!strcmp(a, "--class")) {
				cls = n;
			} else if (!strcmp(a, "-n")) {
				top = (int)(n > 100000 ? 100000 : n);
			} else {
				frames_max = (int)(n > 1000 ? 1000 : n);
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "goalloc-trace: sites: unknown option '%s' (see 'goalloc-trace sites --help')\n", a);
			return 2;
		} else if (!path) {
			path = a;
		} else {
			fprintf(stderr, "goalloc-trace: sites: one FILE only ('%s' is extra)\n", a);
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "goalloc-trace: sites: no FILE given (usage: goalloc-trace sites FILE [options])\n");
		return 2;
	}
	cli_rd *db;
	char err[600];
	if (cli_rd_open(path, &db, err, sizeof err) != 0)
		return die(path, err);
	int rc = 1;
	cli_rd_rows *q = NULL;
	int64_t run_id = 0;
	char name[256];
	int got = cli_rd_select(db, run_sel, &run_id, name, sizeof name);
	if (got < 0) {
		die(path, cli_rd_error(db));
		goto out;
	}
	if (!got) {
		if (run_sel) {
			fprintf(stderr, "goalloc-trace: sites: %s: no run '%s' (see the runs view)\n", path, run_sel);
		} else {
			die(path, "holds no runs");
		}
		goto out;
	}
	if (cli_rd_version(db) < 2) {
		fprintf(stderr, "goalloc-trace: sites: %s: run %lld has no sites (written before stacks were recorded)\n",
		        path, (long long)run_id);
		goto out;
	}
	/* How stacks were recorded. */
	const int64_t rp[] = {run_id};
	if (cli_rd_query(db, "SELECT stacks, coalesce(sample_rate, 0), command FROM run WHERE run_id = ?1", rp, 1, &q) !=
	        0 ||
	    cli_rd_next(q) != 1) {
		die(path, cli_rd_error(db));
		goto out;
	}
	char stacks[16], command[512];
	snprintf(stacks, sizeof stacks, "%s", cli_rd_text(q, 0) ? cli_rd_text(q, 0) : "off");
	int64_t rate = cli_rd_int(q, 1);
	snprintf(command, sizeof command, "%s", cli_rd_text(q, 2) ? cli_rd_text(q, 2) : "");
	cli_rd_rows_free(q);
	q = NULL;
	if (!strcmp(stacks, "off")) {
		fprintf(stderr, "goalloc-trace: sites: %s: run %lld recorded no stacks (it ran with --stacks=off)\n", path,
		        (long long)run_id);
		goto out;
	}
	bool est = !strcmp(stacks, "sample");
	const char *tilde = est ? "~" : "";
	char b1[32], b2[32], b3[32], b4[32];

	const int64_t p2[] = {run_id, cls};
	const char *where = "run_id = ?1 AND (?2 < 0 OR class = ?2)";
	char sql[1024];
	snprintf(sql, sizeof sql,
	         "SELECT count(DISTINCT stack_id), coalesce(sum(waste_bytes), 0), coalesce(sum(allocated_bytes), 0), "
	         "coalesce(sum(allocs), 0), coalesce(sum(live_bytes_at_end), 0) FROM site_stats WHERE %s",
	         where);
	if (cli_rd_query(db, sql, p2, 2, &q) != 0 || cli_rd_next(q) != 1) {
		die(path, cli_rd_error(db));
		goto out;
	}
	int64_t nsites = cli_rd_int(q, 0), tot_waste = cli_rd_int(q, 1), tot_alloc = cli_rd_int(q, 2),
	        tot_allocs = cli_rd_int(q, 3), tot_live = cli_rd_int(q, 4);
	cli_rd_rows_free(q);
	q = NULL;
	/* With every stack recorded, the allocations that have none: made while
	 * the thread was taking a stack, or on a nearly full signal stack. */
	int64_t nostack = 0;
	if (!est) {
		snprintf(sql, sizeof sql, "SELECT coalesce(sum(allocs), 0) FROM class_stats WHERE %s", where);
		if (cli_rd_query(db, sql, p2, 2, &q) != 0 || cli_rd_next(q) != 1) {
			die(path, cli_rd_error(db));
			goto out;
		}
		nostack = cli_rd_int(q, 0) - tot_allocs;
		cli_rd_rows_free(q);
		q = NULL;
	}
	/* one line: control characters (a `python3 -c` script) become spaces */
	for (char *c = command; *c; c++)
		if ((unsigned char)*c < 32)
			*c = ' ';
	int room = 100 - snprintf(NULL, 0, "Run %lld '%s': ", (long long)run_id, name);
	if (room < 10)
		room = 10;
	if ((int)strlen(command) > room)
		snprintf(command + room - 3, 4, "...");
	printf("Run %lld '%s': %s\n", (long long)run_id, name, command);
	if (est)
		printf("Stacks sampled every %s on average (Go's MemProfileRate): figures marked ~ are estimates.\n",
		       cli_fmt_bytes(b1, sizeof b1, rate));
	else if (nostack > 0)
		printf("Every allocation's stack recorded but %lld (made while a stack was being taken, or in a\n"
		       "signal handler with under 4 KiB of its stack left): figures are exact for the rest.\n",
		       (long long)nostack);
	else
		printf("Every allocation's stack recorded: figures are exact.\n");
	static const char *const by_name[] = {"size-class waste", "bytes allocated", "allocations",
	                                      "bytes live at exit"};
	char clsdesc[64] = "";
	if (cls >= 0)
		snprintf(clsdesc, sizeof clsdesc, ", class %ld only", cls);
	printf("%lld sites%s, ranked by %s.\n", (long long)nsites, clsdesc, by_name[by]);
	printf("In all: %s%lld allocations, %s%s allocated, %s%s waste, %s%s live at exit\n\n", tilde,
	       (long long)tot_allocs, tilde,
	       cli_fmt_bytes(b1, sizeof b1, tot_alloc), tilde, cli_fmt_bytes(b2, sizeof b2, tot_waste), tilde,
	       cli_fmt_bytes(b3, sizeof b3, tot_live));

	snprintf(sql, sizeof sql,
	         "SELECT stack_id, sum(allocs) AS allocs, sum(requested_bytes), sum(allocated_bytes) AS allocated, "
	         "sum(waste_bytes) AS waste, sum(live_objects_at_end) AS live_objs, sum(live_bytes_at_end) AS live_bytes, "
	         "sum(samples) FROM site_stats WHERE %s GROUP BY stack_id %s ORDER BY %s, stack_id LIMIT %d",
	         where, by == BY_LEAKED ? "HAVING sum(live_objects_at_end) > 0" : "", order_sql[by], top);
	if (cli_rd_query(db, sql, p2, 2, &q) != 0) {
		die(path, cli_rd_error(db));
		goto out;
	}
	int r, rank = 0;
	while ((r = cli_rd_next(q)) == 1) {
		int64_t sid = cli_rd_int(q, 0), allocs = cli_rd_int(q, 1), req = cli_rd_int(q, 2),
		        alloc = cli_rd_int(q, 3), waste = cli_rd_int(q, 4), lobjs = cli_rd_int(q, 5),
		        lbytes = cli_rd_int(q, 6), samples = cli_rd_int(q, 7);
		rank++;
		if (by == BY_LEAKED)
			printf("#%d  live at exit: %s%lld objects, %s%s (%.1f%% of all live)  allocs %s%lld\n", rank, tilde,
			       (long long)lobjs, tilde, cli_fmt_bytes(b1, sizeof b1, lbytes),
			       tot_live ? 100.0 * (double)lbytes / (double)tot_live : 0.0, tilde, (long long)allocs);
		else
			printf("#%d  waste %s%s (%.1f%%)  allocs %s%lld  requested %s%s  allocated %s%s\n", rank, tilde,
			       cli_fmt_bytes(b1, sizeof b1, waste), tot_waste ? 100.0 * (double)waste / (double)tot_waste : 0.0,
			       tilde, (long long)allocs, tilde, cli_fmt_bytes(b2, sizeof b2, req), tilde,
			       cli_fmt_bytes(b3, sizeof b3, alloc));
		/* Its classes, by allocations. */
		const int64_t p3[] = {run_id, sid, cls};
		cli_rd_rows *qc;
		if (cli_rd_query(db,
		                 "SELECT s.class, s.allocs, coalesce(c.size, 0) FROM site_stats s LEFT JOIN size_classes c "
		                 "ON c.run_id = s.run_id AND c.class = s.class WHERE s.run_id = ?1 AND s.stack_id = ?2 "
		                 "AND (?3 < 0 OR s.class = ?3) ORDER BY s.allocs DESC, s.class",
		                 p3, 3, &qc) != 0) {
			die(path, cli_rd_error(db));
			goto out;
		}
		char line[512];
		int len = by == BY_LEAKED ? snprintf(line, sizeof line, "    classes:")
		                          : snprintf(line, sizeof line, "    live at exit %s%s; classes:", tilde,
		                                     cli_fmt_bytes(b4, sizeof b4, lbytes));
		int shown_cls = 0;
		int rr;
		while ((rr = cli_rd_next(qc)) == 1) {
			int64_t c = cli_rd_int(qc, 0), n = cli_rd_int(qc, 1), size = cli_rd_int(qc, 2);
			char one[64];
			if (c == 0)
				snprintf(one, sizeof one, " large %.0f%%", allocs ? 100.0 * (double)n / (double)allocs : 0.0);
			else
				snprintf(one, sizeof one, " %lld (%lld B) %.0f%%", (long long)c, (long long)size,
				         allocs ? 100.0 * (double)n / (double)allocs : 0.0);
			if (len + (int)strlen(one) + (shown_cls ? 1 : 0) > 78) { /* room for the samples note */
				len += snprintf(line + len, sizeof line - (size_t)len, " ...");
				break;
			}
			len += snprintf(line + len, sizeof line - (size_t)len, "%s%s", shown_cls ? "," : "", one);
			shown_cls++;
		}
		cli_rd_rows_free(qc);
		if (rr < 0) {
			die(path, cli_rd_error(db));
			goto out;
		}
		if (est)
			len += snprintf(line + len, sizeof line - (size_t)len, "   (%lld samples)", (long long)samples);
		printf("%s\n", line);
		/* Its stack. */
		const int64_t p4[] = {run_id, sid};
		if (cli_rd_query(db, "SELECT frames FROM sites WHERE run_id = ?1 AND stack_id = ?2", p4, 2, &qc) != 0 ||
		    (rr = cli_rd_next(qc)) < 0) {
			die(path, cli_rd_error(db));
			cli_rd_rows_free(qc);
			goto out;
		}
		const char *fr = rr == 1 ? cli_rd_text(qc, 0) : NULL;
		int shown = 0;
		while (fr && *fr) {
			const char *nl = strchr(fr, '\n');
			int l = nl ? (int)(nl - fr) : (int)strlen(fr);
			if (shown == frames_max) {
				int more = 1;
				for (const char *t = fr; (t = strchr(t, '\n')); t++)
					more++;
				printf("      ... %d more frames\n", more);
				break;
			}
			printf("      %.*s\n", l > 92 ? 92 : l, fr);
			shown++;
			fr = nl ? nl + 1 : NULL;
		}
		cli_rd_rows_free(qc);
		printf("\n");
	}
	if (r < 0) {
		die(path, cli_rd_error(db));
		goto out;
	}
	if (!rank)
		printf(by == BY_LEAKED ? "(no allocation with a stack was still live at exit)\n" : "(no sites)\n");
	rc = 0;
out:
	cli_rd_rows_free(q);
	cli_rd_close(db);
	return rc;
}
