/* db.c: one of the two files that call sqlite3_* (db_read.c, the other,
 * only reads, for report and compare).  Opens or creates a goalloc
 * database (schema/ compiled in, versioned by PRAGMA user_version; a new
 * file is written from the image of an empty one, an older one is brought
 * up to date by schema_apply.c), and
 * writes runs, processes, aggregates and raw events with prepared
 * statements inside large transactions.  Every return code is checked;
 * errors are kept as one line for the caller to print.
 *
 * Raw events are the bulk: they are packed into six columns (schema 003) and
 * inserted EV_BATCH rows per statement (SQLite's cost per row is mostly per
 * statement execution: a 64-row INSERT stores about 1.7x the rows per
 * second of a one-row INSERT on this kind of machine).  Rows wait in
 * db->ev until a batch is full or the transaction commits.  A row's seq
 * (the table's INTEGER PRIMARY KEY) is not bound but left to SQLite: the
 * next rowid, max(seq) + 1, which is the seq callers number their events
 * with (cli_db_last_event_seq + 1, + 2, ...).  An explicit rowid costs a
 * seek per row to check it is unique; a new one is an append.
 *
 * Durability: journal_mode=WAL, synchronous=OFF.  A transaction that
 * committed survives the CLI being killed (not a power cut), so a killed
 * run leaves a consistent prefix.
 */
#include "db.h"

#include "schema_apply.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const int cli_schema_version;
extern const unsigned char cli_schema_image[];
extern const size_t cli_schema_image_len;

enum {
	ST_RUN_INSERT,
	ST_RUN_UPDATE,
	ST_SIZE_CLASS,
	ST_CLASS_STAT,
	ST_SPAN,
	ST_TINY,
	ST_SAMPLE,
	ST_PROCESS,
	ST_EVENT,   /* one row: the tail of a batch */
	ST_EVENTS,  /* EV_BATCH rows */
	ST_SPANS,   /* SPAN_BATCH rows */
	ST_THREAD,
	ST_STACK,
	ST_FRAME,
	ST_STACK_ALIAS,
	ST_SITE_STAT,
	ST_REQ_SIZE,
	ST_CLASS_SPAN,
	ST_KVIEW,
	ST_KSAMPLE,
	ST_MMCALL,
	ST_MODELLED,
	ST_COUNT
};

static const char *const st_sql[ST_COUNT] = {
	[ST_RUN_INSERT] = "INSERT INTO run(name, command, mode, tiny, started_at, state, host, kernel, lossy, "
	                  "stacks, sample_rate, stack_depth) VALUES(?,?,?,?,?,'running',?,?,?,?,?,?)",
	[ST_RUN_UPDATE] = "UPDATE run SET duration_ns=?, events=?, dropped=?, unmatched_frees=?, exit_status=?, "
	                  "state=?, peak_t_ns=?, peak_heap_alloc=?, peak_requested=?, peak_heap_inuse=?, "
	                  "peak_heap_idle=?, peak_heap_released=?, peak_heap_sys=? WHERE run_id=?",
	[ST_SIZE_CLASS] = "INSERT OR REPLACE INTO size_class VALUES(?,?,?,?,?,?,?)",
	[ST_CLASS_STAT] = "INSERT OR REPLACE INTO class_stat VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_SPAN] = "INSERT INTO span VALUES(?,?,?,?,?,?,?,?,?,?)",
	[ST_TINY] = "INSERT OR REPLACE INTO tiny_stat VALUES(?,?,?,?)",
	[ST_SAMPLE] = "INSERT OR REPLACE INTO heap_sample VALUES(?,?,?,?,?,?,?,?)",
	[ST_PROCESS] = "INSERT OR REPLACE INTO process VALUES(?,?,?,?,?,?,?,?)",
	[ST_EVENT] = "INSERT INTO event(t_ns, info, size, addr, ref) VALUES(?,?,?,?,?)",
	[ST_EVENTS] = NULL, /* made in cli_db_open */
	[ST_SPANS] = NULL,
	[ST_THREAD] = "INSERT OR REPLACE INTO thread(tno, run_id, pid, tid) VALUES(?,?,?,?)",
	[ST_STACK] = "INSERT INTO stack(run_id, stack_id, frames, frame_ids) VALUES(?,?,?,?)",
	[ST_FRAME] = "INSERT INTO frame VALUES(?,?,?,?,?,?,?,?,?)",
	[ST_STACK_ALIAS] = "INSERT INTO stack_alias VALUES(?,?,?)",
	[ST_SITE_STAT] = "INSERT INTO site_stat VALUES(?,?,?,?,?,?,?,?,?,?,?)",
	[ST_REQ_SIZE] = "INSERT OR REPLACE INTO request_size VALUES(?,?,?,?,?)",
	[ST_CLASS_SPAN] = "INSERT OR REPLACE INTO class_span VALUES(?,?,?)",
	[ST_KVIEW] = "INSERT OR REPLACE INTO kernel_view VALUES(?,?,?,?)",
	[ST_KSAMPLE] = "INSERT OR REPLACE INTO kernel_sample VALUES(?,?,?,?,?)",
	[ST_MMCALL] = "INSERT INTO mm_call VALUES(?,?,?,?,?,?,?,?,?)",
	[ST_MODELLED] = "INSERT OR REPLACE INTO modelled_run VALUES(?,?,?)",
};

enum { EV_COLS = 5, EV_BATCH = 64, SPAN_COLS = 10, SPAN_BATCH = 32 };

struct cli_db {
	sqlite3 *h;
	int64_t ev[EV_BATCH][EV_COLS]; /* event rows not inserted yet */
	int nev;
	sqlite3_stmt *st[ST_COUNT];
	char err[512];
};

const char *cli_db_error(cli_db *db)
{
	return db->err;
}

static int fail(cli_db *db, const char *what)
{
	snprintf(db->err, sizeof db->err, "%s: %s", what, sqlite3_errmsg(db->h));
	return -1;
}

static int exec(cli_db *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(db->err, sizeof db->err, "%s", msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* An integer from a one-row query; -1 with db->err set on error. */
static int query_int(cli_db *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) != SQLITE_OK)
		return fail(db, "query");
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE) {
		fail(db, "query");
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : 1;
}

/* A new file holds the image of an empty database of the current schema
 * (schema_image.c, made at build time by mkdbimage.c).  0; 1 if the file
 * appeared meanwhile (it is then opened as an existing one); -1 with err
 * set, and nothing left behind. */
static int write_image(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			return 1;
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	size_t off = 0;
	while (off < cli_schema_image_len) {
		ssize_t k = write(fd, cli_schema_image + off, cli_schema_image_len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			snprintf(err, errlen, "%s", k < 0 ? strerror(errno) : "short write");
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)k;
	}
	if (close(fd) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

/* Whether the open file is a goalloc database this version can read:
 * *tables = 0 for an empty file; one line in err if not. */
static int validate(cli_db *db, int64_t *tables, int64_t *version, char *err, size_t errlen)
{
	int64_t meta = 0;
	sqlite3_busy_timeout(db->h, 5000);
	sqlite3_extended_result_codes(db->h, 1);
	if (query_int(db, "SELECT count(*) FROM sqlite_master", tables) < 0) {
		/* SQLITE_NOTADB and friends: not an SQLite file at all. */
		snprintf(err, errlen, "not a goalloc database (%s)", sqlite3_errmsg(db->h));
		return -1;
	}
	if (query_int(db, "PRAGMA user_version", version) < 0) {
		snprintf(err, errlen, "%s", db->err);
		return -1;
	}
	if (*tables > 0) {
		if (query_int(db, "SELECT count(*) FROM sqlite_master WHERE name='goalloc_meta'", &meta) < 0 ||
		    meta == 0) {
			snprintf(err, errlen, "not a goalloc database (an SQLite file without goalloc tables)");
			return -1;
		}
		if (*version > cli_schema_version) {
			snprintf(err, errlen, "written by a newer goalloc-trace (schema %lld; this one knows up to %d)",
			         (long long)*version, cli_schema_version);
			return -1;
		}
	}
	return 0;
}

/* The INSERT of one row, sql ("... VALUES(?,...)"), made to insert n rows
 * per execution: SQLite's cost per row is mostly per statement. */
static void batch_sql(char *out, size_t cap, const char *sql, int n)
{
	const char *values = strstr(sql, "VALUES") + 6;
	int len = snprintf(out, cap, "%.*s", (int)(values - sql), sql);
	for (int i = 0; i < n; i++)
		len += snprintf(out + len, cap - (size_t)len, "%s%s", i ? "," : "", values);
}

int cli_db_open(const char *path, bool create, bool *created, cli_db **out, char *err, size_t errlen)
{
	*out = NULL;
	struct stat st;
	bool existed = stat(path, &st) == 0;
	if (existed && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "is a directory");
		return -1;
	}
	if (created)
		*created = false;
	if (!existed && !create) {
		snprintf(err, errlen, "no such file");
		return -1;
	}
	cli_db *db = calloc(1, sizeof *db);
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	bool wrote = false;
	if (!existed) {
		int w = write_image(path, err, errlen);
		if (w < 0) {
			free(db);
			return -1;
		}
		existed = w == 1;
		wrote = w == 0;
	}
	/* The CLI uses SQLite from one thread: no mutexes (they cost ~170
	 * instructions per inserted event row, measured with callgrind). */
	static bool configured;
	if (!configured) {
		sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
		configured = true;
	}
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", db->h ? sqlite3_errmsg(db->h) : "cannot open");
		sqlite3_close(db->h);
		free(db);
		return -1;
	}
	int64_t version = 0, tables = 0;
	if (validate(db, &tables, &version, err, errlen) != 0)
		goto fail;
	/* An 8 MiB page cache: the event table is appended in rowid order and
	 * the other tables are small, and 64 MiB only made a --events run
	 * fault in fresh pages (`replay --events` on jq: 2.3M -> 2.7M events
	 * per CPU-second at 8 MiB; run --events on sqlite3 2.34 -> 1.71 s). */
	if (exec(db, "PRAGMA journal_mode=WAL") != 0 || exec(db, "PRAGMA synchronous=OFF") != 0 ||
	    exec(db, "PRAGMA cache_size=-8192") != 0) {
		snprintf(err, errlen, "%s", db->err);
		goto fail;
	}
	if ((tables == 0 || version < cli_schema_version) &&
	    cli_schema_apply(db->h, tables == 0 ? 0 : version, db->err, sizeof db->err) != 0) {
		snprintf(err, errlen, "cannot create the schema: %s", db->err);
		goto fail;
	}
	char ev_sql[EV_BATCH * 16 + 64], span_sql[SPAN_BATCH * 24 + 64];
	batch_sql(ev_sql, sizeof ev_sql, st_sql[ST_EVENT], EV_BATCH);
	batch_sql(span_sql, sizeof span_sql, st_sql[ST_SPAN], SPAN_BATCH);
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(db->h, i == ST_EVENTS ? ev_sql : i == ST_SPANS ? span_sql : st_sql[i], -1,
		                       SQLITE_PREPARE_PERSISTENT, &db->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "cannot prepare statements: %s", sqlite3_errmsg(db->h));
			goto fail;
		}
	if (created)
		*created = !existed;
	*out = db;
	return 0;
fail:
	cli_db_close(db);
	if (wrote)
		cli_db_remove(path); /* ours, and not a database yet: nothing is left behind */
	return -1;
}

void cli_db_remove(const char *path)
{
	char p[4096 + 8];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-journal", path);
	unlink(p);
}

void cli_db_close(cli_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->h);
	free(db);
}

int cli_db_begin(cli_db *db)
{
	return exec(db, "BEGIN");
}

static int events_flush(cli_db *db);

int cli_db_commit(cli_db *db)
{
	if (events_flush(db) != 0)
		return -1;
	return exec(db, "COMMIT");
}

/* Bind helpers: a NULL text binds NULL. */
static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* Bind n integers to parameters first, first + 1, ... */
static void bind_i64s(sqlite3_stmt *s, int first, const int64_t *v, int n)
{
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(s, first + i, v[i]);
}

static int step(cli_db *db, int id, const char *what)
{
	sqlite3_stmt *s = db->st[id];
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return fail(db, what);
	return 0;
}

int cli_db_run_insert(cli_db *db, const cli_run_info *ri, int64_t *run_id)
{
	sqlite3_stmt *s = db->st[ST_RUN_INSERT];
	bind_text(s, 1, ri->name);
	bind_text(s, 2, ri->command);
	bind_text(s, 3, ri->mode);
	sqlite3_bind_int(s, 4, ri->tiny);
	bind_text(s, 5, ri->started_at);
	bind_text(s, 6, ri->host);
	bind_text(s, 7, ri->kernel);
	sqlite3_bind_int(s, 8, ri->lossy);
	bind_text(s, 9, ri->stacks ? ri->stacks : "off");
	if (ri->sample_rate > 0)
		sqlite3_bind_int64(s, 10, ri->sample_rate);
	else
		sqlite3_bind_null(s, 10);
	if (ri->stack_depth > 0)
		sqlite3_bind_int(s, 11, ri->stack_depth);
	else
		sqlite3_bind_null(s, 11);
	if (step(db, ST_RUN_INSERT, "insert run") != 0)
		return -1;
	*run_id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int cli_db_run_update(cli_db *db, int64_t run_id, const cli_run_end *re)
{
	sqlite3_stmt *s = db->st[ST_RUN_UPDATE];
	const int64_t head[] = {re->duration_ns, re->events, re->dropped, re->unmatched_frees};
	const int64_t peak[] = {re->peak_t_ns,       re->peak_heap_alloc,    re->peak_requested, re->peak_heap_inuse,
	                        re->peak_heap_idle, re->peak_heap_released, re->peak_heap_sys, run_id};
	bind_i64s(s, 1, head, 4);
	if (re->exit_status >= 0)
		sqlite3_bind_int(s, 5, re->exit_status);
	else
		sqlite3_bind_null(s, 5);
	bind_text(s, 6, re->state);
	bind_i64s(s, 7, peak, 8);
	for (int i = 0; i < 7; i++)
		if (peak[i] < 0)
			sqlite3_bind_null(s, 7 + i);
	return step(db, ST_RUN_UPDATE, "update run");
}

int cli_db_size_class(cli_db *db, int64_t run_id, int cls, int64_t size, int64_t npages, int64_t objects,
                      int64_t tail, bool used)
{
	const int64_t v[] = {run_id, cls, size, npages, objects, tail, used};
	bind_i64s(db->st[ST_SIZE_CLASS], 1, v, 7);
	return step(db, ST_SIZE_CLASS, "insert size class");
}

int cli_db_class_stat(cli_db *db, int64_t run_id, int cls, const cli_class_row *r)
{
	const int64_t v[] = {run_id,
	                     cls,
	                     r->allocs,
	                     r->frees,
	                     r->requested_bytes,
	                     r->allocated_bytes,
	                     r->peak_live_objects,
	                     r->peak_live_bytes,
	                     r->live_objects,
	                     r->live_bytes,
	                     r->live_requested,
	                     r->spans_created,
	                     r->spans_released,
	                     r->refills};
	bind_i64s(db->st[ST_CLASS_STAT], 1, v, 14);
	return step(db, ST_CLASS_STAT, "insert class stats");
}

static void bind_span(sqlite3_stmt *s, int first, int64_t run_id, const cli_span_row *r)
{
	const int64_t v[] = {run_id, r->pid, r->span_id, r->cls, r->tiny, (int64_t)r->base, r->npages, r->created_ns};
	bind_i64s(s, first, v, 8);
	if (r->released_ns >= 0)
		sqlite3_bind_int64(s, first + 8, r->released_ns);
	else
		sqlite3_bind_null(s, first + 8);
	sqlite3_bind_int64(s, first + 9, r->peak);
}

/* Whole batches of SPAN_BATCH rows, then one by one. */
int cli_db_spans(cli_db *db, int64_t run_id, const cli_span_row *rows, int n)
{
	int i = 0;
	for (; i + SPAN_BATCH <= n; i += SPAN_BATCH) {
		for (int j = 0; j < SPAN_BATCH; j++)
			bind_span(db->st[ST_SPANS], 1 + j * SPAN_COLS, run_id, &rows[i + j]);
		if (step(db, ST_SPANS, "insert spans") != 0)
			return -1;
	}
	for (; i < n; i++) {
		bind_span(db->st[ST_SPAN], 1, run_id, &rows[i]);
		if (step(db, ST_SPAN, "insert span") != 0)
			return -1;
	}
	return 0;
}

int cli_db_tiny_stat(cli_db *db, int64_t run_id, int64_t blocks, int64_t objects, int64_t bytes)
{
	const int64_t v[] = {run_id, blocks, objects, bytes};
	bind_i64s(db->st[ST_TINY], 1, v, 4);
	return step(db, ST_TINY, "insert tiny stats");
}

int cli_db_request_size(cli_db *db, int64_t run_id, int size, bool tiny, int64_t allocs, int64_t live)
{
	const int64_t v[] = {run_id, size, tiny, allocs, live};
	bind_i64s(db->st[ST_REQ_SIZE], 1, v, 5);
	return step(db, ST_REQ_SIZE, "insert request size");
}

int cli_db_class_span(cli_db *db, int64_t run_id, int cls, int64_t peak_spans)
{
	const int64_t v[] = {run_id, cls, peak_spans};
	bind_i64s(db->st[ST_CLASS_SPAN], 1, v, 3);
	return step(db, ST_CLASS_SPAN, "insert class spans");
}

int cli_db_heap_sample(cli_db *db, int64_t run_id, int64_t t_ns, const int64_t fig[6])
{
	sqlite3_stmt *s = db->st[ST_SAMPLE];
	const int64_t v[] = {run_id, t_ns};
	bind_i64s(s, 1, v, 2);
	bind_i64s(s, 3, fig, 6);
	return step(db, ST_SAMPLE, "insert heap sample");
}

int cli_db_process(cli_db *db, int64_t run_id, int pid, int seq, int ppid, const char *command,
                   int64_t started_ns, int64_t exited_ns, int exit_status)
{
	sqlite3_stmt *s = db->st[ST_PROCESS];
	sqlite3_bind_int64(s, 1, run_id);
	sqlite3_bind_int(s, 2, pid);
	sqlite3_bind_int(s, 3, seq);
	sqlite3_bind_int(s, 4, ppid);
	bind_text(s, 5, command);
	sqlite3_bind_int64(s, 6, started_ns);
	if (exited_ns >= 0)
		sqlite3_bind_int64(s, 7, exited_ns);
	else
		sqlite3_bind_null(s, 7);
	if (exit_status != INT32_MIN)
		sqlite3_bind_int(s, 8, exit_status);
	else
		sqlite3_bind_null(s, 8);
	return step(db, ST_PROCESS, "insert process");
}

int cli_db_thread(cli_db *db, int64_t run_id, int tno, int pid, int tid)
{
	const int64_t v[] = {tno, run_id, pid, tid};
	bind_i64s(db->st[ST_THREAD], 1, v, 4);
	return step(db, ST_THREAD, "insert thread");
}

int64_t cli_db_last_tno(cli_db *db)
{
	int64_t v = 0;
	return query_int(db, "SELECT coalesce(max(tno), 0) FROM thread", &v) == 0 ? v : 0;
}

int64_t cli_db_last_event_seq(cli_db *db)
{
	int64_t v = 0;
	return query_int(db, "SELECT coalesce(max(seq), 0) FROM event", &v) == 0 ? v : 0;
}

/* Insert the rows waiting in db->ev: whole batches, then one by one. */
static int events_flush(cli_db *db)
{
	int i = 0;
	if (db->nev == EV_BATCH) {
		bind_i64s(db->st[ST_EVENTS], 1, &db->ev[0][0], EV_BATCH * EV_COLS);
		if (step(db, ST_EVENTS, "insert events") != 0)
			return -1;
		i = EV_BATCH;
	}
	for (; i < db->nev; i++) {
		bind_i64s(db->st[ST_EVENT], 1, db->ev[i], EV_COLS);
		if (step(db, ST_EVENT, "insert event") != 0)
			return -1;
	}
	db->nev = 0;
	return 0;
}

int cli_db_event(cli_db *db, int64_t run_id, int64_t seq, int64_t t_ns, int tno, int kind, int cls, uint64_t size,
                 uint64_t addr, int64_t span, int64_t stack)
{
	int64_t *r = db->ev[db->nev++];
	(void)run_id; /* the thread (tno) says which run */
	(void)seq;    /* the next rowid: see the file's first comment */
	r[0] = t_ns;
	r[1] = (int64_t)tno << 16 | (kind & 255) << 8 | (cls & 255);
	r[2] = (int64_t)size;
	r[3] = (int64_t)addr;
	r[4] = stack << 32 | (span & 0xffffffff);
	return db->nev == EV_BATCH ? events_flush(db) : 0;
}

int cli_db_stack(cli_db *db, int64_t run_id, int64_t stack_id, const char *frames, const char *frame_ids)
{
	sqlite3_stmt *s = db->st[ST_STACK];
	const int64_t v[] = {run_id, stack_id};
	bind_i64s(s, 1, v, 2);
	bind_text(s, 3, frames);
	bind_text(s, 4, frame_ids);
	return step(db, ST_STACK, "insert stack");
}

int cli_db_frame(cli_db *db, int64_t run_id, int64_t frame_id, uint64_t pc, const char *module, int64_t offset,
                 const char *function, const char *file, int line, const char *text)
{
	sqlite3_stmt *s = db->st[ST_FRAME];
	const int64_t v[] = {run_id, frame_id, (int64_t)pc};
	bind_i64s(s, 1, v, 3);
	bind_text(s, 4, module);
	if (offset >= 0)
		sqlite3_bind_int64(s, 5, offset);
	else
		sqlite3_bind_null(s, 5);
	bind_text(s, 6, function);
	bind_text(s, 7, file);
	if (file)
		sqlite3_bind_int(s, 8, line);
	else
		sqlite3_bind_null(s, 8);
	bind_text(s, 9, text);
	return step(db, ST_FRAME, "insert frame");
}

int cli_db_stack_alias(cli_db *db, int64_t run_id, int64_t ref, int64_t stack_id)
{
	const int64_t v[] = {run_id, ref, stack_id};
	bind_i64s(db->st[ST_STACK_ALIAS], 1, v, 3);
	return step(db, ST_STACK_ALIAS, "insert stack alias");
}

int cli_db_site_stat(cli_db *db, int64_t run_id, int64_t stack_id, int cls, const int64_t fig[6], int64_t samples,
                     bool estimated)
{
	sqlite3_stmt *s = db->st[ST_SITE_STAT];
	const int64_t head[] = {run_id, stack_id, cls};
	bind_i64s(s, 1, head, 3);
	bind_i64s(s, 4, fig, 6);
	sqlite3_bind_int64(s, 10, samples);
	sqlite3_bind_int(s, 11, estimated);
	return step(db, ST_SITE_STAT, "insert site stats");
}

/* Bind v, or NULL when v is the sentinel. */
static void bind_i64_or_null(sqlite3_stmt *s, int i, int64_t v, int64_t null_value)
{
	if (v == null_value)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

int cli_db_kernel_view(cli_db *db, int64_t run_id, const char *state, const char *detail, int64_t lost)
{
	sqlite3_stmt *s = db->st[ST_KVIEW];
	sqlite3_bind_int64(s, 1, run_id);
	bind_text(s, 2, state);
	bind_text(s, 3, detail);
	sqlite3_bind_int64(s, 4, lost);
	return step(db, ST_KVIEW, "insert kernel view");
}

int cli_db_kernel_sample(cli_db *db, int64_t run_id, int64_t t_ns, int pid, int64_t rss_bytes,
                         int64_t page_faults)
{
	sqlite3_stmt *s = db->st[ST_KSAMPLE];
	const int64_t v[] = {run_id, pid, t_ns};
	bind_i64s(s, 1, v, 3);
	bind_i64_or_null(s, 4, rss_bytes, -1);
	sqlite3_bind_int64(s, 5, page_faults);
	return step(db, ST_KSAMPLE, "insert kernel sample");
}

int cli_db_mm_call(cli_db *db, int64_t run_id, int64_t t_ns, int pid, int tid, const char *call, int64_t addr,
                   int64_t len, int64_t arg, int64_t ret)
{
	sqlite3_stmt *s = db->st[ST_MMCALL];
	const int64_t v[] = {run_id, t_ns, pid, tid};
	bind_i64s(s, 1, v, 4);
	bind_text(s, 5, call);
	sqlite3_bind_int64(s, 6, addr);
	bind_i64_or_null(s, 7, len, INT64_MIN);
	bind_i64_or_null(s, 8, arg, INT64_MIN);
	sqlite3_bind_int64(s, 9, ret);
	return step(db, ST_MMCALL, "insert mm call");
}

int cli_db_modelled_run(cli_db *db, int64_t run_id, int pid, const char *source)
{
	sqlite3_stmt *s = db->st[ST_MODELLED];
	sqlite3_bind_int64(s, 1, run_id);
	sqlite3_bind_int(s, 2, pid);
	bind_text(s, 3, source);
	return step(db, ST_MODELLED, "insert modelled run");
}
