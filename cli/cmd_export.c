/* cmd_export.c: `goalloc-trace export FILE --format pprof|folded|json`: a
 * run's allocation sites for other tools: pprof (the gzipped profile.proto
 * `go tool pprof` reads; pprof.c), folded stacks (flamegraph.pl's input)
 * and JSON.  Reads the site_stats, sites and site_frames views only. */
#include "cli.h"
#include "db_read.h"
#include "fmt.h"
#include "frame_name.h"
#include "pprof.h"
#include "report_doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: goalloc-trace export FILE --format pprof|folded|json [--run ID|NAME] [-o OUT]\n"
	           "                            [--value bytes|waste|count|live]\n\n"
	           "Writes a run's allocation sites (recorded by 'run' with --stacks=sample, the\n"
	           "default, or --stacks=all) for other tools:\n\n"
	           "  pprof   gzipped profile.proto for 'go tool pprof' (OUT; default FILE's name\n"
	           "          with .pb.gz).  Sample types: alloc_objects, alloc_space,\n"
	           "          inuse_objects, inuse_space (still live at exit), waste_space\n"
	           "          (size-class waste: allocated - requested); one sample per site and\n"
	           "          size class, labelled class=N.\n"
	           "  folded  one line per stack, outermost frame first, ';'-separated, then a\n"
	           "          value (--value; default bytes allocated): flamegraph.pl's input\n"
	           "          (default OUT: standard output)\n"
	           "  json    every site with its frames and per-class figures (standard output)\n\n"
	           "  --run ID|NAME  which run of FILE (default: the last one)\n"
	           "  -o OUT         output file ('-': standard output, not for pprof)\n"
	           "With sampled stacks the figures are estimates (scaled as pprof scales Go's\n"
	           "heap profile).\n");
}

typedef struct frame {
	uint64_t pc, offset;
	char *module, *function, *file;
	int64_t line;
	bool has_module;
} frame;

typedef struct site {
	int64_t stack_id;
	frame *frames;
	int nframes;
} site;

static int err_db(const char *path, cli_rd *db)
{
	fprintf(stderr, "goalloc-trace: export: %s: %s\n", path, cli_rd_error(db));
	return 1;
}

static char *dup_or_null(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

/* Every stack of the run with its frames, in stack_id order. */
static int load_sites(cli_rd *db, int64_t run_id, site **out, int *nout)
{
	const int64_t p[] = {run_id};
	cli_rd_rows *q;
	if (cli_rd_query(db,
	                 "SELECT stack_id, depth, pc, module, offset, function, file, line FROM site_frames "
	                 "WHERE run_id = ?1 ORDER BY stack_id, depth",
	                 p, 1, &q) != 0)
		return -1;
	site *v = NULL;
	int n = 0, cap = 0, rc;
	while ((rc = cli_rd_next(q)) == 1) {
		int64_t sid = cli_rd_int(q, 0);
		if (!n || v[n - 1].stack_id != sid) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				v = realloc(v, (size_t)cap * sizeof *v);
				if (!v)
					abort();
			}
			v[n++] = (site){.stack_id = sid};
		}
		site *s = &v[n - 1];
		s->frames = realloc(s->frames, (size_t)(s->nframes + 1) * sizeof *s->frames);
		if (!s->frames)
			abort();
		frame *f = &s->frames[s->nframes++];
		*f = (frame){.pc = (uint64_t)cli_rd_int(q, 2),
		             .has_module = !cli_rd_null(q, 3),
		             .module = dup_or_null(cli_rd_text(q, 3)),
		             .offset = (uint64_t)cli_rd_int(q, 4),
		             .function = dup_or_null(cli_rd_text(q, 5)),
		             .file = dup_or_null(cli_rd_text(q, 6)),
		             .line = cli_rd_int(q, 7)};
	}
	cli_rd_rows_free(q);
	*out = v;
	*nout = n;
	return rc < 0 ? -1 : 0;
}

static void free_sites(site *v, int n)
{
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < v[i].nframes; k++) {
			free(v[i].frames[k].module);
			free(v[i].frames[k].function);
			free(v[i].frames[k].file);
		}
		free(v[i].frames);
	}
	free(v);
}

static const site *find_site(const site *v, int n, int64_t sid)
{
	int lo = 0, hi = n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (v[mid].stack_id == sid)
			return &v[mid];
		if (v[mid].stack_id < sid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* A frame's name as the folded format and pprof show it. */
static void frame_name(const frame *f, char *buf, size_t n)
{
	cli_frame_name(buf, n, f->function, f->module, f->offset, f->pc);
}

#define STAT_COLS "stack_id, class, allocs, allocated_bytes, live_objects_at_end, live_bytes_at_end, waste_bytes, requested_bytes"

static int write_pprof(cli_rd *db, const char *path, int64_t run_id, const site *sites, int nsites, const char *out,
                       const char *comment)
{
	static const char *const types[][2] = {{"alloc_objects", "count"}, {"alloc_space", "bytes"},
	                                       {"inuse_objects", "count"}, {"inuse_space", "bytes"},
	                                       {"waste_space", "bytes"}};
	cli_pprof *pp = cli_pprof_new(types, 5);
	/* Mappings: each module's load address and the highest pc seen in it. */
	const int64_t p[] = {run_id};
	cli_rd_rows *q;
	if (cli_rd_query(db,
	                 "SELECT module, pc - offset AS base, max(pc), max(file IS NOT NULL) FROM site_frames "
	                 "WHERE run_id = ?1 AND module IS NOT NULL GROUP BY module, base "
	                 /* the program first (pprof names the profile after its first mapping): the
	                    module of the outermost frames (_start) */
	                 "ORDER BY module = (SELECT module FROM site_frames WHERE run_id = ?1 AND module IS NOT NULL "
	                 "GROUP BY module ORDER BY max(depth) DESC LIMIT 1) DESC, module",
	                 p, 1, &q) != 0)
		goto dberr;
	int rc;
	while ((rc = cli_rd_next(q)) == 1)
		cli_pprof_mapping(pp, cli_rd_text(q, 0), (uint64_t)cli_rd_int(q, 1),
		                  (uint64_t)cli_rd_int(q, 2) + 1, 0, (int)cli_rd_int(q, 3));
	cli_rd_rows_free(q);
	if (rc < 0)
		goto dberr;
	if (cli_rd_query(db, "SELECT " STAT_COLS " FROM site_stats WHERE run_id = ?1 ORDER BY stack_id, class", p, 1,
	                 &q) != 0)
		goto dberr;
	uint64_t locs[1024];
	while ((rc = cli_rd_next(q)) == 1) {
		const site *s = find_site(sites, nsites, cli_rd_int(q, 0));
		int nl = 0;
		for (int k = 0; s && k < s->nframes && nl < 1024; k++) {
			const frame *f = &s->frames[k];
			char name[1024];
			frame_name(f, name, sizeof name);
			uint64_t map = f->module ? cli_pprof_mapping(pp, f->module, f->pc - f->offset, 0, 0, 0) : 0;
			uint64_t fn = cli_pprof_function(pp, name, f->file);
			locs[nl++] = cli_pprof_location(pp, map, f->pc, fn, f->file ? f->line : 0);
		}
		const int64_t values[5] = {cli_rd_int(q, 2), cli_rd_int(q, 3), cli_rd_int(q, 4),
		                           cli_rd_int(q, 5), cli_rd_int(q, 6)};
		cli_pprof_sample(pp, locs, nl, values, "class", cli_rd_int(q, 1));
	}
	cli_rd_rows_free(q);
	if (rc < 0)
		goto dberr;
	if (cli_pprof_write(pp, out, 0, 0, comment, "alloc_space") != 0) {
		fprintf(stderr, "goalloc-trace: export: cannot write %s: %s\n", out, strerror(errno));
		cli_pprof_free(pp);
		return 1;
	}
	cli_pprof_free(pp);
	return 0;
dberr:
	cli_pprof_free(pp);
	return err_db(path, db);
}

enum { V_BYTES, V_WASTE, V_COUNT, V_LIVE };

static int write_folded(cli_rd *db, const char *path, int64_t run_id, const site *sites, int nsites, FILE *f,
                        int value)
{
	static const char *const col[] = {"sum(allocated_bytes)", "sum(waste_bytes)", "sum(allocs)",
	                                  "sum(live_bytes_at_end)"};
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT stack_id, %s FROM site_stats WHERE run_id = ?1 GROUP BY stack_id ORDER BY stack_id",
	         col[value]);
	const int64_t p[] = {run_id};
	cli_rd_rows *q;
	if (cli_rd_query(db, sql, p, 1, &q) != 0)
		return err_db(path, db);
	int rc;
	while ((rc = cli_rd_next(q)) == 1) {
		int64_t v = cli_rd_int(q, 1);
		const site *s = find_site(sites, nsites, cli_rd_int(q, 0));
		if (v <= 0 || !s)
			continue;
		for (int k = s->nframes - 1; k >= 0; k--) {
			char name[1024];
			frame_name(&s->frames[k], name, sizeof name);
			for (char *c = name; *c; c++)
				if (*c == ';' || *c == '\n')
					*c = ':';
			fprintf(f, "%s%s", name, k ? ";" : "");
		}
		fprintf(f, " %lld\n", (long long)v);
	}
	cli_rd_rows_free(q);
	return rc < 0 ? err_db(path, db) : 0;
}

/* A JSON string, or null for a missing one (no symbol, no module). */
static void json_opt(FILE *f, const char *s)
{
	if (s)
		cli_json_str(f, s);
	else
		fputs("null", f);
}

static int write_json(cli_rd *db, const char *path, int64_t run_id, const char *name, const char *stacks,
                      const site *sites, int nsites, FILE *f)
{
	const int64_t p[] = {run_id};
	cli_rd_rows *q;
	if (cli_rd_query(db, "SELECT " STAT_COLS " FROM site_stats WHERE run_id = ?1 ORDER BY stack_id, class", p, 1,
	                 &q) != 0)
		return err_db(path, db);
	fprintf(f, "{\"run_id\": %lld, \"name\": ", (long long)run_id);
	json_opt(f, name);
	fprintf(f, ", \"stacks\": ");
	json_opt(f, stacks);
	fprintf(f, ", \"estimated\": %s, \"sites\": [", strcmp(stacks, "sample") ? "false" : "true");
	int64_t cur = -1;
	int rc, nsite = 0;
	while ((rc = cli_rd_next(q)) == 1) {
		int64_t sid = cli_rd_int(q, 0);
		if (sid != cur) {
			if (cur >= 0)
				fprintf(f, "]}");
			fprintf(f, "%s\n  {\"stack_id\": %lld, \"frames\": [", nsite++ ? "," : "", (long long)sid);
			const site *s = find_site(sites, nsites, sid);
			for (int k = 0; s && k < s->nframes; k++) {
				const frame *fr = &s->frames[k];
				fprintf(f, "%s{\"pc\": %llu, \"module\": ", k ? ", " : "", (unsigned long long)fr->pc);
				json_opt(f, fr->module);
				fprintf(f, ", \"function\": ");
				json_opt(f, fr->function);
				fprintf(f, ", \"file\": ");
				json_opt(f, fr->file);
				if (fr->file)
					fprintf(f, ", \"line\": %lld}", (long long)fr->line);
				else
					fprintf(f, ", \"line\": null}");
			}
			fprintf(f, "], \"classes\": [");
			cur = sid;
		} else {
			fprintf(f, ", ");
		}
		fprintf(f,
		        "{\"class\": %lld, \"allocs\": %lld, \"allocated_bytes\": %lld, \"live_objects_at_end\": %lld, "
		        "\"live_bytes_at_end\": %lld, \"waste_bytes\": %lld, \"requested_bytes\": %lld}",
		        (long long)cli_rd_int(q, 1), (long long)cli_rd_int(q, 2), (long long)cli_rd_int(q, 3),
		        (long long)cli_rd_int(q, 4), (long long)cli_rd_int(q, 5), (long long)cli_rd_int(q, 6),
		        (long long)cli_rd_int(q, 7));
	}
	cli_rd_rows_free(q);
	if (cur >= 0)
		fprintf(f, "]}");
	fprintf(f, "\n]}\n");
	return rc < 0 ? err_db(path, db) : 0;
}

int cli_cmd_export(int argc, char **argv)
{
	const char *path = NULL, *run_sel = NULL, *format = NULL, *out = NULL;
	int value = V_BYTES;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--run") || !strcmp(a, "--format") || !strcmp(a, "-o") || !strcmp(a, "--value")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "goalloc-trace: export: %s needs a value\n", a);
				return 2;
			}
			const char *v = argv[++i];
			if (!strcmp(a, "--run"))
				run_sel = v;
			else if (!strcmp(a, "--format"))
				format = v;
			else if (!strcmp(a, "-o"))
				out = v;
			else if (!strcmp(v, "bytes"))
				value = V_BYTES;
			else if (!strcmp(v, "waste"))
				value = V_WASTE;
			else if (!strcmp(v, "count"))
				value = V_COUNT;
			else if (!strcmp(v, "live"))
				value = V_LIVE;
			else {
				fprintf(stderr, "goalloc-trace: export: --value takes bytes, waste, count or live, not '%s'\n", v);
				return 2;
			}
		} else if (!strncmp(a, "--format=", 9)) {
			format = a + 9;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "goalloc-trace: export: unknown option '%s' (see 'goalloc-trace export --help')\n", a);
			return 2;
		} else if (!path) {
			path = a;
		} else {
			fprintf(stderr, "goalloc-trace: export: one FILE only ('%s' is extra)\n", a);
			return 2;
		}
	}
	if (!path || !format) {
		fprintf(stderr, "goalloc-trace: export: %s (usage: goalloc-trace export FILE --format pprof|folded|json)\n",
		        !path ? "no FILE given" : "no --format given");
		return 2;
	}
	bool pprof = !strcmp(format, "pprof"), folded = !strcmp(format, "folded"), json = !strcmp(format, "json");
	if (!pprof && !folded && !json) {
		fprintf(stderr, "goalloc-trace: export: --format takes pprof, folded or json, not '%s'\n", format);
		return 2;
	}
	if (pprof && out && !strcmp(out, "-")) {
		fprintf(stderr, "goalloc-trace: export: pprof output is binary: give a file with -o\n");
		return 2;
	}
	cli_rd *db;
	char err[600];
	if (cli_rd_open(path, &db, err, sizeof err) != 0) {
		fprintf(stderr, "goalloc-trace: export: %s: %s\n", path, err);
		return 1;
	}
	int rc = 1;
	site *sites = NULL;
	int nsites = 0;
	int64_t run_id;
	char name[256], stacks[16] = "off", defout[4096];
	int got = cli_rd_select(db, run_sel, &run_id, name, sizeof name);
	if (got < 0) {
		err_db(path, db);
		goto done;
	}
	if (!got) {
		fprintf(stderr, "goalloc-trace: export: %s: %s\n", path, run_sel ? "no such run (see the runs view)" : "holds no runs");
		goto done;
	}
	if (cli_rd_version(db) >= 2) {
		cli_rd_rows *q;
		const int64_t p[] = {run_id};
		if (cli_rd_query(db, "SELECT stacks FROM run WHERE run_id = ?1", p, 1, &q) != 0) {
			err_db(path, db);
			goto done;
		}
		if (cli_rd_next(q) == 1 && cli_rd_text(q, 0))
			snprintf(stacks, sizeof stacks, "%s", cli_rd_text(q, 0));
		cli_rd_rows_free(q);
	}
	if (!strcmp(stacks, "off")) {
		fprintf(stderr, "goalloc-trace: export: %s: run %lld recorded no stacks (run it with --stacks=sample or all)\n",
		        path, (long long)run_id);
		goto done;
	}
	if (load_sites(db, run_id, &sites, &nsites) != 0) {
		err_db(path, db);
		goto done;
	}
	if (pprof) {
		if (!out) {
			size_t l = strlen(path);
			if (l > 3 && !strcmp(path + l - 3, ".db"))
				l -= 3;
			snprintf(defout, sizeof defout, "%.*s.pb.gz", (int)l, path);
			out = defout;
		}
		char comment[512];
		snprintf(comment, sizeof comment, "goalloc-trace run %lld '%s' (stacks: %s)", (long long)run_id, name, stacks);
		rc = write_pprof(db, path, run_id, sites, nsites, out, comment);
		goto done;
	}
	FILE *f = stdout;
	if (out && strcmp(out, "-") && !(f = fopen(out, "w"))) {
		fprintf(stderr, "goalloc-trace: export: cannot write %s: %s\n", out, strerror(errno));
		goto done;
	}
	rc = folded ? write_folded(db, path, run_id, sites, nsites, f, value)
	            : write_json(db, path, run_id, name, stacks, sites, nsites, f);
	if (f != stdout && fclose(f) != 0 && rc == 0) {
		fprintf(stderr, "goalloc-trace: export: cannot write %s: %s\n", out, strerror(errno));
		rc = 1;
	} else if (f == stdout && fflush(stdout) != 0 && rc == 0) {
		rc = 1;
	}
done:
	free_sites(sites, nsites);
	cli_rd_close(db);
	return rc;
}
