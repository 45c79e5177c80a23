/* db_read.h: reading a goalloc database for report, compare, sites and
 * export (db_read.c).
 * Read-only: the file is never created, written or migrated.  Every
 * function returns 0 on success or -1 with a one-line reason in
 * cli_rd_error().  Only aggregates are read: never the event table. */
#ifndef CLI_DB_READ_H
#define CLI_DB_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cli_rd cli_rd;

enum { CLI_RD_CLASSES = 68, CLI_RD_MAX_SMALL = 32768, CLI_RD_NULL = INT64_MIN };

/* A run as the runs view and the run table describe it.  Integers that are
 * NULL in the file read as CLI_RD_NULL. */
typedef struct cli_rd_run {
	int64_t run_id;
	char *name, *command, *mode, *started_at, *state;
	bool go_exact, tiny;
	int64_t duration_ns, exit_status, events, dropped, pids, unmatched_frees;
	/* the heap when HeapAlloc peaked: t_ns, then HeapAlloc, requested,
	 * HeapInuse, HeapIdle, HeapReleased, HeapSys */
	int64_t peak_t_ns, peak[6];
} cli_rd_run;

typedef struct cli_rd_class {
	bool present;                           /* a class_stat row exists */
	int64_t size, npages, objects, tail_waste; /* size_class */
	int64_t allocs, frees, requested_bytes, allocated_bytes, peak_live_objects, peak_live_bytes,
	    live_objects, live_bytes, live_requested, spans_created, spans_released, refills;
	int64_t peak_spans;                     /* class_span; CLI_RD_NULL if not recorded */
} cli_rd_class;

typedef struct cli_rd_sample {
	int64_t t_ns, fig[6]; /* HeapAlloc, requested, HeapInuse, HeapIdle, HeapReleased, HeapSys */
} cli_rd_sample;

typedef struct cli_rd_site {
	int64_t stack_id, allocs, requested_bytes, allocated_bytes, waste_bytes, live_bytes;
	char *frames; /* the first three frames, one per line; NULL if unknown */
} cli_rd_site;

typedef struct cli_rd_kernel {
	int64_t rss_bytes, page_faults, samples; /* summed over pids; samples: pids counted */
} cli_rd_kernel;

/* Everything the report shows about one run. */
typedef struct cli_rd_data {
	cli_rd_run run;
	cli_rd_class cls[CLI_RD_CLASSES];
	bool has_tiny;
	int64_t tiny_blocks, tiny_objects, tiny_bytes;
	cli_rd_sample *samples;
	int nsamples;
	/* request_size (schema 004): allocs and live objects per requested size
	 * 0..32768, [tiny][size]; has_req false in older files */
	bool has_req;
	int64_t (*req_allocs)[CLI_RD_MAX_SMALL + 1], (*req_live)[CLI_RD_MAX_SMALL + 1];
	/* optional tables, when they exist and hold rows for the run */
	cli_rd_site *sites;
	int nsites;
	/* modelled_run (attach): how the requests were seen; NULL for a run
	 * measured on the Go-style heap */
	char *modelled;
	bool has_kernel;
	cli_rd_kernel kernel_peak, kernel_exit; /* at peak_t_ns and at the end */
	int cap_samples, cap_sites;             /* db_read.c's */
} cli_rd_data;

/* Open FILE read-only; refuses files that are not goalloc databases or were
 * written by a newer schema. */
int cli_rd_open(const char *path, cli_rd **out, char *err, size_t errlen);
void cli_rd_close(cli_rd *rd);
const char *cli_rd_error(cli_rd *rd);

/* Every run of the file, by run_id. */
int cli_rd_runs(cli_rd *rd, cli_rd_run **runs, int *n);
void cli_rd_runs_free(cli_rd_run *runs, int n);

/* The run named by spec: a run id, else a name (the last run with that
 * name); the last run when spec is NULL.  An index into runs, or -1. */
int cli_rd_pick_run(const cli_rd_run *runs, int n, const char *spec);

/* Everything about one run; cli_rd_data_free releases it. */
int cli_rd_load(cli_rd *rd, const cli_rd_run *run, cli_rd_data *out);
void cli_rd_data_free(cli_rd_data *d);

/* Any query (the sites and export commands): integer parameters ?1..?n;
 * cli_rd_next gives 1 per row, 0 at the end, -1 on an error; text lives
 * until the next cli_rd_next.  cli_rd_version: the file's schema version;
 * cli_rd_has: whether a table or view exists. */
typedef struct cli_rd_rows cli_rd_rows;
/* cli_rd_pick_run's choice as a run id and name: 1, 0 if no such run, -1 on
 * an error. */
int cli_rd_select(cli_rd *rd, const char *spec, int64_t *run_id, char *name, size_t nn);
int cli_rd_version(const cli_rd *rd);
int cli_rd_has(cli_rd *rd, const char *name, bool *yes);
int cli_rd_query(cli_rd *rd, const char *sql, const int64_t *params, int nparams, cli_rd_rows **out);
int cli_rd_next(cli_rd_rows *q);
int64_t cli_rd_int(cli_rd_rows *q, int col);
const char *cli_rd_text(cli_rd_rows *q, int col);
bool cli_rd_null(cli_rd_rows *q, int col);
void cli_rd_rows_free(cli_rd_rows *q);

#endif
