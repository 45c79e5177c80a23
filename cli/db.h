/* db.h: the trace store, written.  db.c and db_read.c (the read-only side,
 * for report and compare) are the only files that call sqlite3_*; the rest
 * of the CLI sees these functions and db_read.h's.  Every function returns 0 on
 * success or -1 with a one-line reason in cli_db_error(). */
#ifndef CLI_DB_H
#define CLI_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cli_db cli_db;

/* Open a goalloc database.  create: make the file (and the schema) if it
 * does not exist.  A file that is not a goalloc database, or one written by
 * a newer version, is refused.  *created tells whether this call made it. */
int cli_db_open(const char *path, bool create, bool *created, cli_db **out, char *err, size_t errlen);
/* Remove a database file and its -wal, -shm and -journal files (errors
 * ignored). */
void cli_db_remove(const char *path);
void cli_db_close(cli_db *db);
const char *cli_db_error(cli_db *db);

int cli_db_begin(cli_db *db);
int cli_db_commit(cli_db *db);

typedef struct cli_run_info {
	const char *name, *command, *mode, *started_at, *host, *kernel;
	bool tiny, lossy;
	const char *stacks;  /* 'off', 'sample' or 'all' */
	int64_t sample_rate; /* 0: none */
	int stack_depth;     /* 0: none */
} cli_run_info;

int cli_db_run_insert(cli_db *db, const cli_run_info *ri, int64_t *run_id);

typedef struct cli_run_end {
	int64_t duration_ns, events, dropped, unmatched_frees;
	int exit_status; /* -1: unknown */
	const char *state;
	/* the peak; a negative figure is stored as NULL (not modelled) */
	int64_t peak_t_ns, peak_heap_alloc, peak_requested, peak_heap_inuse, peak_heap_idle,
	    peak_heap_released, peak_heap_sys;
} cli_run_end;

int cli_db_run_update(cli_db *db, int64_t run_id, const cli_run_end *re);
int cli_db_size_class(cli_db *db, int64_t run_id, int cls, int64_t size, int64_t npages, int64_t objects,
                      int64_t tail, bool used);

typedef struct cli_class_row {
	int64_t allocs, frees, requested_bytes, allocated_bytes, peak_live_objects, peak_live_bytes,
	    live_objects, live_bytes, live_requested, spans_created, spans_released, refills;
} cli_class_row;

int cli_db_class_stat(cli_db *db, int64_t run_id, int cls, const cli_class_row *row);
/* A span's row (the model's, agg.c); released_ns -1 is NULL: in use at the end. */
typedef struct cli_span_row {
	int pid;
	uint32_t span_id;
	uint8_t cls;
	bool tiny;
	uint64_t base;
	int64_t npages, created_ns, released_ns, peak;
} cli_span_row;

int cli_db_spans(cli_db *db, int64_t run_id, const cli_span_row *rows, int n);
int cli_db_tiny_stat(cli_db *db, int64_t run_id, int64_t blocks, int64_t objects, int64_t bytes);
/* Allocations per requested size (request_size) and a class's most spans
 * at once (class_span). */
int cli_db_request_size(cli_db *db, int64_t run_id, int size, bool tiny, int64_t allocs, int64_t live);
int cli_db_class_span(cli_db *db, int64_t run_id, int cls, int64_t peak_spans);
int cli_db_heap_sample(cli_db *db, int64_t run_id, int64_t t_ns, const int64_t fig[6]);
int cli_db_process(cli_db *db, int64_t run_id, int pid, int seq, int ppid, const char *command,
                   int64_t started_ns, int64_t exited_ns /* -1 */, int exit_status /* INT32_MIN */);
/* The last event seq in the file (events of a new run continue after it). */
int64_t cli_db_last_event_seq(cli_db *db);
/* Raw events refer to threads by a small number (tno), unique in the file:
 * a new run's numbers continue after cli_db_last_tno. */
int64_t cli_db_last_tno(cli_db *db);
int cli_db_thread(cli_db *db, int64_t run_id, int tno, int pid, int tid);
int cli_db_event(cli_db *db, int64_t run_id, int64_t seq, int64_t t_ns, int tno, int kind, int cls, uint64_t size,
                 uint64_t addr, int64_t span, int64_t stack);

/* Allocation sites (sites.c): a stack (its text, and its frames as a JSON
 * array of frame ids), a frame (module NULL and offset -1 when unknown), the
 * per-process stack numbers of raw events, and per (stack, class) counters:
 * allocs, requested, allocated, live objects, live bytes, live requested. */
int cli_db_stack(cli_db *db, int64_t run_id, int64_t stack_id, const char *frames, const char *frame_ids);
int cli_db_frame(cli_db *db, int64_t run_id, int64_t frame_id, uint64_t pc, const char *module, int64_t offset,
                 const char *function, const char *file, int line, const char *text);
int cli_db_stack_alias(cli_db *db, int64_t run_id, int64_t ref, int64_t stack_id);
int cli_db_site_stat(cli_db *db, int64_t run_id, int64_t stack_id, int cls, const int64_t fig[6], int64_t samples,
                     bool estimated);
/* The kernel view (run --bpf, kview.c).  state: 'on', 'off' or
 * 'unavailable' (detail says why); lost: records its ring buffer dropped. */
int cli_db_kernel_view(cli_db *db, int64_t run_id, const char *state, const char *detail, int64_t lost);
/* RSS (-1: unknown) and cumulative user page faults of pid at t_ns. */
int cli_db_kernel_sample(cli_db *db, int64_t run_id, int64_t t_ns, int pid, int64_t rss_bytes,
                         int64_t page_faults);
/* A run whose heap figures are modelled from another allocator's request
 * stream (attach), not measured on the Go-style heap. */
int cli_db_modelled_run(cli_db *db, int64_t run_id, int pid, const char *source);
/* One mm system call; len and arg INT64_MIN: NULL (not applicable). */
int cli_db_mm_call(cli_db *db, int64_t run_id, int64_t t_ns, int pid, int tid, const char *call, int64_t addr,
                   int64_t len, int64_t arg, int64_t ret);

#endif
