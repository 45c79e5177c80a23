/* db_read.c: the read-only side of the trace store, for report and compare.
 * With db.c it is one of the two files that call sqlite3_* (db.c writes,
 * this file reads; no third may).  It opens a file READ-ONLY (never creating
 * or migrating it), checks that it is a goalloc database of a schema this
 * CLI knows, and loads a run's aggregates into the plain structs of
 * db_read.h.  It never queries the event table: a report costs the same on
 * a run of 100 events or 100M.
 *
 * A damaged file must never crash the CLI: every sqlite3 return code is
 * checked, every value read is treated as untrusted (a class outside
 * 0..67, a size outside 0..32768, a NULL where a number should be are
 * skipped or read as CLI_RD_NULL), and errors come back as one line.
 */
#include "db_read.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <sys/stat.h>
#include <unistd.h>

extern const int cli_schema_version;

struct cli_rd {
	sqlite3 *h;
	int version; /* the file's schema version */
	char err[512];
};

const char *cli_rd_error(cli_rd *rd)
{
	return rd->err;
}

/* An error message as one line: SQLite quotes damaged schema text, line
 * breaks and all, in its messages. */
static void one_line(char *s, size_t max)
{
	size_t n = 0;
	for (char *p = s; *p; p++, n++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (n > max)
		strcpy(s + max - 3, "...");
}

static int fail(cli_rd *rd, const char *what)
{
	snprintf(rd->err, sizeof rd->err, "cannot read %s: %s", what, sqlite3_errmsg(rd->h));
	one_line(rd->err, 300);
	return -1;
}

static int prepare(cli_rd *rd, const char *sql, sqlite3_stmt **s, const char *what)
{
	if (sqlite3_prepare_v2(rd->h, sql, -1, s, NULL) != SQLITE_OK) {
		*s = NULL;
		return fail(rd, what);
	}
	return 0;
}

/* Next row: 1, done: 0, error: -1 (rd->err set). */
static int next(cli_rd *rd, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return fail(rd, what);
}

static int bind(cli_rd *rd, sqlite3_stmt *s, int i, int64_t v, const char *what)
{
	if (sqlite3_bind_int64(s, i, v) != SQLITE_OK)
		return fail(rd, what);
	return 0;
}

static int64_t col_i64(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? CLI_RD_NULL : sqlite3_column_int64(s, i);
}

/* A count or byte figure: NULL and negative values (a damaged file) read as 0. */
static int64_t col_n(sqlite3_stmt *s, int i)
{
	int64_t v = col_i64(s, i);
	return v < 0 ? 0 : v;
}

static char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	char *r = strdup(t ? (const char *)t : "");
	if (!r)
		abort();
	return r;
}

/* An integer from a one-row query. */
static int query_int(cli_rd *rd, const char *sql, int64_t *out, const char *what)
{
	sqlite3_stmt *s;
	if (prepare(rd, sql, &s, what) != 0)
		return -1;
	int rc = next(rd, s, what);
	if (rc == 1)
		*out = col_n(s, 0);
	sqlite3_finalize(s);
	if (rc == 0) {
		snprintf(rd->err, sizeof rd->err, "cannot read %s: no row", what);
		return -1;
	}
	return rc == 1 ? 0 : -1;
}

/* Whether a table or view of that name exists. */
static int exists(cli_rd *rd, const char *name, bool *yes)
{
	sqlite3_stmt *s;
	if (prepare(rd, "SELECT count(*) FROM sqlite_master WHERE name = ?1 AND type IN ('table', 'view')", &s,
	            "the schema") != 0)
		return -1;
	if (sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_finalize(s);
		return fail(rd, "the schema");
	}
	int rc = next(rd, s, "the schema");
	*yes = rc == 1 && sqlite3_column_int64(s, 0) > 0;
	sqlite3_finalize(s);
	return rc < 0 ? -1 : 0;
}

int cli_rd_open(const char *path, cli_rd **out, char *err, size_t errlen)
{
	*out = NULL;
	if (access(path, F_OK) != 0) {
		snprintf(err, errlen, "no such file");
		return -1;
	}
	if (access(path, R_OK) != 0) {
		snprintf(err, errlen, "permission denied");
		return -1;
	}
	struct stat pst;
	if (stat(path, &pst) == 0 && S_ISDIR(pst.st_mode)) {
		snprintf(err, errlen, "is a directory");
		return -1;
	}
	cli_rd *rd = calloc(1, sizeof *rd);
	if (!rd) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Read-only, and leaving nothing behind: a file with no WAL beside it
	 * (closed cleanly, the usual case) is opened immutable, so SQLite
	 * makes no -shm or -wal file (and a read-only directory works).  A WAL
	 * means a run is writing (or was killed): then a shared-memory index
	 * is needed, and SQLite makes or uses it as for any reader.  (A run
	 * that starts writing while a report reads an immutable file can make
	 * the report fail with a one-line error; it cannot harm the file.) */
	char side[4096], uri[3 * 4096 + 64];
	struct stat st;
	snprintf(side, sizeof side, "%s-wal", path);
	bool immutable = stat(side, &st) != 0;
	snprintf(side, sizeof side, "%s-journal", path); /* a hot rollback journal, likewise */
	immutable = immutable && stat(side, &st) != 0;
	size_t u = (size_t)snprintf(uri, sizeof uri, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p && u + 4 < sizeof uri; p++) {
		if (isalnum(*p) || strchr("/._-~", *p))
			uri[u++] = (char)*p;
		else
			u += (size_t)snprintf(uri + u, sizeof uri - u, "%%%02X", *p);
	}
	snprintf(uri + u, sizeof uri - u, "?mode=ro%s", immutable ? "&immutable=1" : "");
	if (sqlite3_open_v2(uri, &rd->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "cannot open: %s", rd->h ? sqlite3_errmsg(rd->h) : "out of memory");
		goto fail;
	}
	if (sqlite3_busy_timeout(rd->h, 5000) != SQLITE_OK || sqlite3_extended_result_codes(rd->h, 1) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open: %s", sqlite3_errmsg(rd->h));
		goto fail;
	}
	int64_t tables = 0, meta = 0, version = 0;
	if (query_int(rd, "SELECT count(*) FROM sqlite_master", &tables, "the schema") != 0) {
		int code = sqlite3_errcode(rd->h) & 0xff;
		if (code == SQLITE_NOTADB)
			snprintf(err, errlen, "not a goalloc database (%s)", sqlite3_errmsg(rd->h));
		else
			snprintf(err, errlen, "%s", rd->err);
		goto fail;
	}
	if (query_int(rd, "SELECT count(*) FROM sqlite_master WHERE name = 'goalloc_meta'", &meta, "the schema") != 0 ||
	    query_int(rd, "PRAGMA user_version", &version, "the schema version") != 0) {
		snprintf(err, errlen, "%s", rd->err);
		goto fail;
	}
	if (tables == 0 || meta == 0) {
		snprintf(err, errlen, "not a goalloc database (%s)",
		         tables == 0 ? "an empty SQLite file" : "an SQLite file without goalloc tables");
		goto fail;
	}
	if (version > cli_schema_version) {
		snprintf(err, errlen, "written by a newer goalloc-trace (schema %lld; this one knows up to %d)",
		         (long long)version, cli_schema_version);
		goto fail;
	}
	if (version < 1) {
		snprintf(err, errlen, "not a goalloc database (schema version %lld)", (long long)version);
		goto fail;
	}
	rd->version = (int)version;
	*out = rd;
	return 0;
fail:
	one_line(err, errlen < 300 ? errlen - 1 : 300);
	cli_rd_close(rd);
	return -1;
}

void cli_rd_close(cli_rd *rd)
{
	if (!rd)
		return;
	sqlite3_close(rd->h);
	free(rd);
}

static void run_free(cli_rd_run *r)
{
	free(r->name);
	free(r->command);
	free(r->mode);
	free(r->started_at);
	free(r->state);
}

void cli_rd_runs_free(cli_rd_run *runs, int n)
{
	for (int i = 0; i < n; i++)
		run_free(&runs[i]);
	free(runs);
}

int cli_rd_runs(cli_rd *rd, cli_rd_run **runs, int *n)
{
	*runs = NULL;
	*n = 0;
	sqlite3_stmt *s;
	if (prepare(rd,
	            "SELECT r.run_id, r.name, r.command, r.mode, r.tiny, r.started_at, r.duration_ns, r.exit_status, "
	            "r.state, r.events, r.dropped, r.unmatched_frees, "
	            "(SELECT count(DISTINCT p.pid) FROM process p WHERE p.run_id = r.run_id), r.peak_t_ns, "
	            "r.peak_heap_alloc, r.peak_requested, r.peak_heap_inuse, r.peak_heap_idle, "
	            "r.peak_heap_released, r.peak_heap_sys FROM run r ORDER BY r.run_id",
	            &s, "the runs") != 0)
		return -1;
	cli_rd_run *v = NULL;
	int cnt = 0, cap = 0, rc;
	while ((rc = next(rd, s, "the runs")) == 1) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			cli_rd_run *nv = realloc(v, (size_t)cap * sizeof *v);
			if (!nv)
				abort();
			v = nv;
		}
		cli_rd_run *r = &v[cnt++];
		*r = (cli_rd_run){.run_id = col_i64(s, 0)};
		r->name = col_text(s, 1);
		r->command = col_text(s, 2);
		r->mode = col_text(s, 3);
		r->go_exact = !strcmp(r->mode, "go-exact");
		r->tiny = col_i64(s, 4) != 0;
		r->started_at = col_text(s, 5);
		r->duration_ns = col_i64(s, 6);
		r->exit_status = col_i64(s, 7);
		r->state = col_text(s, 8);
		r->events = col_n(s, 9);
		r->dropped = col_n(s, 10);
		r->unmatched_frees = col_n(s, 11);
		r->pids = col_n(s, 12);
		r->peak_t_ns = col_i64(s, 13);
		for (int f = 0; f < 6; f++)
			r->peak[f] = col_n(s, 14 + f);
	}
	sqlite3_finalize(s);
	if (rc < 0) {
		cli_rd_runs_free(v, cnt);
		return -1;
	}
	*runs = v;
	*n = cnt;
	return 0;
}

/* Find the run named by spec (an id, else a name: the last run with it), or
 * the last run when spec is NULL.  -1 when there is none. */
int cli_rd_pick_run(const cli_rd_run *runs, int n, const char *spec)
{
	if (!spec)
		return n - 1;
	char *end;
	long long id = strtoll(spec, &end, 10);
	if (*spec && !*end)
		for (int i = 0; i < n; i++)
			if (runs[i].run_id == id)
				return i;
	for (int i = n - 1; i >= 0; i--)
		if (!strcmp(runs[i].name, spec))
			return i;
	return -1;
}

void cli_rd_data_free(cli_rd_data *d)
{
	run_free(&d->run);
	free(d->samples);
	free(d->req_allocs);
	free(d->req_live);
	for (int i = 0; i < d->nsites; i++)
		free(d->sites[i].frames);
	free(d->sites);
	free(d->modelled);
	memset(d, 0, sizeof *d);
}

/* Run a query bound to the run id (?1) and hand each row to fn. */
static int each_row(cli_rd *rd, const char *sql, int64_t run_id, const char *what,
                    void (*fn)(sqlite3_stmt *s, cli_rd_data *d), cli_rd_data *d)
{
	sqlite3_stmt *s;
	if (prepare(rd, sql, &s, what) != 0)
		return -1;
	if (bind(rd, s, 1, run_id, what) != 0) {
		sqlite3_finalize(s);
		return -1;
	}
	int rc;
	while ((rc = next(rd, s, what)) == 1)
		fn(s, d);
	sqlite3_finalize(s);
	return rc < 0 ? -1 : 0;
}

static bool class_ok(int64_t c)
{
	return c >= 0 && c < CLI_RD_CLASSES;
}

static void row_size_class(sqlite3_stmt *s, cli_rd_data *d)
{
	int64_t c = col_i64(s, 0);
	if (!class_ok(c))
		return;
	cli_rd_class *k = &d->cls[c];
	k->size = col_n(s, 1);
	k->npages = col_n(s, 2);
	k->objects = col_n(s, 3);
	k->tail_waste = col_n(s, 4);
}

static void row_class_stat(sqlite3_stmt *s, cli_rd_data *d)
{
	int64_t c = col_i64(s, 0);
	if (!class_ok(c))
		return;
	cli_rd_class *k = &d->cls[c];
	k->present = true;
	int64_t *f[] = {&k->allocs,          &k->frees,           &k->requested_bytes, &k->allocated_bytes,
	                &k->peak_live_objects, &k->peak_live_bytes, &k->live_objects,  &k->live_bytes,
	                &k->live_requested,  &k->spans_created,   &k->spans_released,  &k->refills};
	for (int i = 0; i < 12; i++)
		*f[i] = col_n(s, 1 + i);
}

static void row_class_span(sqlite3_stmt *s, cli_rd_data *d)
{
	int64_t c = col_i64(s, 0);
	if (class_ok(c))
		d->cls[c].peak_spans = col_n(s, 1);
}

static void row_tiny(sqlite3_stmt *s, cli_rd_data *d)
{
	d->has_tiny = true;
	d->tiny_blocks = col_n(s, 0);
	d->tiny_objects = col_n(s, 1);
	d->tiny_bytes = col_n(s, 2);
}

static void row_sample(sqlite3_stmt *s, cli_rd_data *d)
{
	if (d->nsamples == d->cap_samples) {
		d->cap_samples = d->cap_samples ? d->cap_samples * 2 : 256;
		cli_rd_sample *n = realloc(d->samples, (size_t)d->cap_samples * sizeof *n);
		if (!n)
			abort();
		d->samples = n;
	}
	cli_rd_sample *p = &d->samples[d->nsamples++];
	p->t_ns = col_n(s, 0);
	for (int f = 0; f < 6; f++)
		p->fig[f] = col_n(s, 1 + f);
}

static void row_req(sqlite3_stmt *s, cli_rd_data *d)
{
	int64_t size = col_i64(s, 0), tiny = col_i64(s, 1);
	if (size < 0 || size > CLI_RD_MAX_SMALL || (tiny != 0 && tiny != 1))
		return;
	d->req_allocs[tiny][size] = col_n(s, 2);
	d->req_live[tiny][size] = col_n(s, 3);
}

static void row_site(sqlite3_stmt *s, cli_rd_data *d)
{
	if (d->nsites == d->cap_sites) {
		d->cap_sites = d->cap_sites ? d->cap_sites * 2 : 16;
		cli_rd_site *n = realloc(d->sites, (size_t)d->cap_sites * sizeof *n);
		if (!n)
			abort();
		d->sites = n;
	}
	cli_rd_site *p = &d->sites[d->nsites++];
	*p = (cli_rd_site){.stack_id = col_i64(s, 0),
	                   .allocs = col_n(s, 1),
	                   .requested_bytes = col_n(s, 2),
	                   .allocated_bytes = col_n(s, 3),
	                   .waste_bytes = col_i64(s, 4) == CLI_RD_NULL ? 0 : col_i64(s, 4),
	                   .live_bytes = col_n(s, 5)};
	p->frames = sqlite3_column_type(s, 6) == SQLITE_NULL ? NULL : col_text(s, 6);
}

/* The kernel's view at time t: RSS summed over the processes alive then,
 * user page faults over every process so far (a count that only grows).
 * A process of the trace is alive at t until its exit (process.exited_ns);
 * one the trace never saw (an untraced child the kernel view followed)
 * while it has a sample at or after t, its last being taken at its exit.
 * A process's RSS at t is its latest sample at or before t, or, for one
 * that started after the last sampling round, its first sample after t
 * (at most one sample period later: its exit's, for a short-lived child).
 * At the run's end (at_exit) the program run started counts with its last
 * sample, as its heap does, and so does every process the trace never saw.
 * Before, the latest sample of every process was summed, so a fork-heavy
 * run counted every child that had ended (100 children of a 90 MiB
 * python: 9.3 GiB "at exit"). */
static int kernel_at(cli_rd *rd, int64_t run_id, int64_t t, bool at_exit, cli_rd_kernel *k)
{
	sqlite3_stmt *s;
	const char *what = "kernel_timeline";
	if (prepare(rd,
	            "SELECT "
	            " (SELECT rss_bytes FROM kernel_timeline x WHERE x.run_id = ?1 AND x.pid = k.pid AND x.t_ns <= ?2 "
	            "  ORDER BY x.t_ns DESC LIMIT 1), "
	            " (SELECT rss_bytes FROM kernel_timeline x WHERE x.run_id = ?1 AND x.pid = k.pid AND x.t_ns > ?2 "
	            "  ORDER BY x.t_ns LIMIT 1), "
	            " (SELECT page_faults FROM kernel_timeline x WHERE x.run_id = ?1 AND x.pid = k.pid "
	            "  AND x.t_ns <= ?2 ORDER BY x.t_ns DESC LIMIT 1), "
	            " CASE WHEN EXISTS (SELECT 1 FROM process p WHERE p.run_id = ?1 AND p.pid = k.pid) "
	            "  THEN EXISTS (SELECT 1 FROM process p WHERE p.run_id = ?1 AND p.pid = k.pid "
	            "               AND p.started_ns <= ?2 AND (p.exited_ns IS NULL OR p.exited_ns >= ?2)) "
	            "       OR (?3 AND k.pid = (SELECT pid FROM process WHERE run_id = ?1 "
	            "                          ORDER BY started_ns, seq LIMIT 1)) "
	            "  ELSE ?3 OR EXISTS (SELECT 1 FROM kernel_timeline x WHERE x.run_id = ?1 AND x.pid = k.pid "
	            "                     AND x.t_ns >= ?2) END "
	            "FROM (SELECT DISTINCT pid FROM kernel_timeline WHERE run_id = ?1) k",
	            &s, what) != 0)
		return -1;
	if (bind(rd, s, 1, run_id, what) != 0 || bind(rd, s, 2, t, what) != 0 || bind(rd, s, 3, at_exit, what) != 0) {
		sqlite3_finalize(s);
		return -1;
	}
	*k = (cli_rd_kernel){0};
	int rc;
	while ((rc = next(rd, s, what)) == 1) {
		bool before = sqlite3_column_type(s, 0) != SQLITE_NULL;
		if (col_n(s, 3) && (before || sqlite3_column_type(s, 1) != SQLITE_NULL)) {
			k->rss_bytes += col_n(s, before ? 0 : 1);
			k->samples++;
		}
		k->page_faults += col_n(s, 2);
	}
	sqlite3_finalize(s);
	return rc < 0 ? -1 : 0;
}

int cli_rd_load(cli_rd *rd, const cli_rd_run *run, cli_rd_data *d)
{
	memset(d, 0, sizeof *d);
	d->run = *run;
	d->run.name = strdup(run->name);
	d->run.command = strdup(run->command);
	d->run.mode = strdup(run->mode);
	d->run.started_at = strdup(run->started_at);
	d->run.state = strdup(run->state);
	if (!d->run.name || !d->run.command || !d->run.mode || !d->run.started_at || !d->run.state)
		abort();
	int64_t id = run->run_id;
	for (int c = 0; c < CLI_RD_CLASSES; c++)
		d->cls[c].peak_spans = CLI_RD_NULL;
	if (each_row(rd, "SELECT class, size, npages, objects, tail_waste FROM size_class WHERE run_id = ?1", id,
	             "size_class", row_size_class, d) != 0 ||
	    each_row(rd,
	             "SELECT class, allocs, frees, requested_bytes, allocated_bytes, peak_live_objects, "
	             "peak_live_bytes, live_objects, live_bytes, live_requested, spans_created, spans_released, "
	             "refills FROM class_stat WHERE run_id = ?1",
	             id, "class_stat", row_class_stat, d) != 0 ||
	    each_row(rd, "SELECT blocks, objects, bytes_requested FROM tiny_stat WHERE run_id = ?1", id, "tiny_stat",
	             row_tiny, d) != 0 ||
	    each_row(rd,
	             "SELECT t_ns, heap_alloc, requested, heap_inuse, heap_idle, heap_released, heap_sys "
	             "FROM heap_sample WHERE run_id = ?1 ORDER BY t_ns",
	             id, "heap_sample", row_sample, d) != 0)
		goto fail;
	bool yes;
	if (exists(rd, "class_span", &yes) != 0)
		goto fail;
	if (yes && each_row(rd, "SELECT class, peak_spans FROM class_span WHERE run_id = ?1", id, "class_span",
	                    row_class_span, d) != 0)
		goto fail;
	if (exists(rd, "request_size", &yes) != 0)
		goto fail;
	if (yes) {
		d->has_req = true;
		d->req_allocs = calloc(2, sizeof *d->req_allocs);
		d->req_live = calloc(2, sizeof *d->req_live);
		if (!d->req_allocs || !d->req_live)
			abort();
		if (each_row(rd, "SELECT size, tiny, allocs, live_objects FROM request_size WHERE run_id = ?1", id,
		             "request_size", row_req, d) != 0)
			goto fail;
	}
	/* Optional: allocation sites (site_stats + sites). */
	bool sites_ok, stats_ok;
	if (exists(rd, "site_stats", &stats_ok) != 0 || exists(rd, "sites", &sites_ok) != 0)
		goto fail;
	if (stats_ok && sites_ok &&
	    each_row(rd,
	             "WITH top AS (SELECT stack_id, sum(allocs) a, sum(requested_bytes) r, sum(allocated_bytes) b, "
	             "sum(waste_bytes) w, sum(live_bytes_at_end) l FROM site_stats WHERE run_id = ?1 "
	             "GROUP BY stack_id ORDER BY w DESC, stack_id LIMIT 10) "
	             "SELECT top.stack_id, a, r, b, w, l, (SELECT frames FROM sites s WHERE s.run_id = ?1 "
	             "AND s.stack_id = top.stack_id LIMIT 1) FROM top ORDER BY w DESC, top.stack_id",
	             id, "site_stats", row_site, d) != 0)
		goto fail;
	/* Optional: a run modelled from another allocator's requests (attach). */
	if (exists(rd, "modelled_run", &yes) != 0)
		goto fail;
	if (yes) {
		sqlite3_stmt *s;
		if (prepare(rd, "SELECT source FROM modelled_run WHERE run_id = ?1", &s, "modelled_run") != 0)
			goto fail;
		int rc = bind(rd, s, 1, id, "modelled_run") == 0 ? next(rd, s, "modelled_run") : -1;
		if (rc == 1)
			d->modelled = col_text(s, 0);
		sqlite3_finalize(s);
		if (rc < 0)
			goto fail;
	}
	/* Optional: the kernel's view. */
	if (exists(rd, "kernel_timeline", &yes) != 0)
		goto fail;
	if (yes) {
		int64_t n = 0;
		sqlite3_stmt *s;
		if (prepare(rd, "SELECT count(*) FROM kernel_timeline WHERE run_id = ?1", &s, "kernel_timeline") != 0)
			goto fail;
		int rc = bind(rd, s, 1, id, "kernel_timeline") == 0 ? next(rd, s, "kernel_timeline") : -1;
		if (rc == 1)
			n = col_n(s, 0);
		sqlite3_finalize(s);
		if (rc < 0)
			goto fail;
		if (n > 0) {
			int64_t end = run->duration_ns;
			if (end == CLI_RD_NULL || end < 0)
				end = d->nsamples ? d->samples[d->nsamples - 1].t_ns : INT64_MAX;
			if (d->nsamples && d->samples[d->nsamples - 1].t_ns > end)
				end = d->samples[d->nsamples - 1].t_ns;
			int64_t tp = run->peak_t_ns == CLI_RD_NULL ? 0 : run->peak_t_ns;
			if (kernel_at(rd, id, tp, false, &d->kernel_peak) != 0 ||
			    kernel_at(rd, id, end, true, &d->kernel_exit) != 0)
				goto fail;
			d->has_kernel = true;
		}
	}
	return 0;
fail:
	cli_rd_data_free(d);
	return -1;
}

/* ---- any query: the sites and export commands --------------------------- */

int cli_rd_select(cli_rd *rd, const char *spec, int64_t *run_id, char *name, size_t nn)
{
	cli_rd_run *runs;
	int n;
	if (cli_rd_runs(rd, &runs, &n) != 0)
		return -1;
	int ix = cli_rd_pick_run(runs, n, spec);
	if (ix >= 0) {
		*run_id = runs[ix].run_id;
		snprintf(name, nn, "%s", runs[ix].name ? runs[ix].name : "");
	}
	cli_rd_runs_free(runs, n);
	return ix >= 0;
}

int cli_rd_version(const cli_rd *rd)
{
	return rd->version;
}

int cli_rd_has(cli_rd *rd, const char *name, bool *yes)
{
	return exists(rd, name, yes);
}

struct cli_rd_rows {
	cli_rd *rd;
	sqlite3_stmt *st;
};

int cli_rd_query(cli_rd *rd, const char *sql, const int64_t *params, int nparams, cli_rd_rows **out)
{
	*out = NULL;
	cli_rd_rows *q = calloc(1, sizeof *q);
	if (!q)
		abort();
	q->rd = rd;
	if (prepare(rd, sql, &q->st, "the database") != 0) {
		free(q);
		return -1;
	}
	for (int i = 0; i < nparams; i++)
		if (bind(rd, q->st, i + 1, params[i], "the database") != 0) {
			cli_rd_rows_free(q);
			return -1;
		}
	*out = q;
	return 0;
}

int cli_rd_next(cli_rd_rows *q)
{
	return next(q->rd, q->st, "the database");
}

int64_t cli_rd_int(cli_rd_rows *q, int col)
{
	return sqlite3_column_int64(q->st, col);
}

const char *cli_rd_text(cli_rd_rows *q, int col)
{
	return (const char *)sqlite3_column_text(q->st, col);
}

bool cli_rd_null(cli_rd_rows *q, int col)
{
	return sqlite3_column_type(q->st, col) == SQLITE_NULL;
}

void cli_rd_rows_free(cli_rd_rows *q)
{
	if (!q)
		return;
	sqlite3_finalize(q->st);
	free(q);
}
