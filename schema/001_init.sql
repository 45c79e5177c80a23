-- 001_init.sql: the goalloc-trace database, version 1.
-- Base tables hold what the drainer computes; the views below them are the
-- public query interface (schema/README.md documents every column).
-- Times are nanoseconds since the run started; sizes are bytes; a class of
-- 0 means "large" (a span of its own).

CREATE TABLE goalloc_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE run (
  run_id      INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  command     TEXT NOT NULL,
  mode        TEXT NOT NULL,          -- 'c-safe' or 'go-exact'
  tiny        INTEGER NOT NULL,       -- 1 if tiny merging was on
  started_at  TEXT NOT NULL,          -- wall clock, ISO 8601 UTC
  duration_ns INTEGER,
  exit_status INTEGER,                -- as `run` exits: 128+N for signal N
  state       TEXT NOT NULL,          -- 'running', 'done', 'crashed', 'interrupted'
  events      INTEGER NOT NULL DEFAULT 0,
  dropped     INTEGER NOT NULL DEFAULT 0,
  host        TEXT,
  kernel      TEXT,
  lossy       INTEGER NOT NULL DEFAULT 0,
  unmatched_frees INTEGER NOT NULL DEFAULT 0, -- frees of objects allocated before tracing
  -- the heap when HeapAlloc peaked (sum over the run's processes)
  peak_t_ns         INTEGER,
  peak_heap_alloc   INTEGER,
  peak_requested    INTEGER,
  peak_heap_inuse   INTEGER,
  peak_heap_idle    INTEGER,
  peak_heap_released INTEGER,
  peak_heap_sys     INTEGER
);

CREATE TABLE process (
  run_id      INTEGER NOT NULL REFERENCES run(run_id),
  pid         INTEGER NOT NULL,
  seq         INTEGER NOT NULL,       -- 0, then 1.. for each exec of the same pid
  ppid        INTEGER,
  command     TEXT,
  started_ns  INTEGER,
  exited_ns   INTEGER,
  exit_status INTEGER,                -- NULL when unknown
  PRIMARY KEY (run_id, pid, seq)
);

CREATE TABLE size_class (
  run_id     INTEGER NOT NULL,
  class      INTEGER NOT NULL,
  size       INTEGER NOT NULL,
  npages     INTEGER NOT NULL,
  objects    INTEGER NOT NULL,
  tail_waste INTEGER NOT NULL,
  used       INTEGER NOT NULL,        -- 0 for class 3 in C-safe mode
  PRIMARY KEY (run_id, class)
);

CREATE TABLE class_stat (
  run_id            INTEGER NOT NULL,
  class             INTEGER NOT NULL,
  allocs            INTEGER NOT NULL,
  frees             INTEGER NOT NULL,
  requested_bytes   INTEGER NOT NULL,
  allocated_bytes   INTEGER NOT NULL,
  peak_live_objects INTEGER NOT NULL,
  peak_live_bytes   INTEGER NOT NULL,
  live_objects      INTEGER NOT NULL,  -- at the end of the run
  live_bytes        INTEGER NOT NULL,
  live_requested    INTEGER NOT NULL,
  spans_created     INTEGER NOT NULL,
  spans_released    INTEGER NOT NULL,
  refills           INTEGER NOT NULL,
  PRIMARY KEY (run_id, class)
);

CREATE TABLE span (
  run_id       INTEGER NOT NULL,
  pid          INTEGER NOT NULL,
  span_id      INTEGER NOT NULL,
  class        INTEGER NOT NULL,
  tiny         INTEGER NOT NULL,       -- 1 for spans of tiny blocks
  base         INTEGER NOT NULL,
  npages       INTEGER NOT NULL,
  created_ns   INTEGER,
  released_ns  INTEGER,                -- NULL while in use at the end
  peak_objects INTEGER NOT NULL
);

CREATE TABLE tiny_stat (
  run_id          INTEGER PRIMARY KEY,
  blocks          INTEGER NOT NULL,    -- 16-byte blocks opened
  objects         INTEGER NOT NULL,    -- tiny objects placed
  bytes_requested INTEGER NOT NULL
);

CREATE TABLE heap_sample (
  run_id        INTEGER NOT NULL,
  t_ns          INTEGER NOT NULL,
  heap_alloc    INTEGER NOT NULL,
  requested     INTEGER NOT NULL,
  heap_inuse    INTEGER NOT NULL,
  heap_idle     INTEGER NOT NULL,
  heap_released INTEGER NOT NULL,
  heap_sys      INTEGER NOT NULL,
  PRIMARY KEY (run_id, t_ns)
) WITHOUT ROWID;

-- Raw events (run --events).  A row is ~38 bytes: pid and tid are a small
-- thread number (`thread`) instead of two integers in every row.
CREATE TABLE thread (
  run_id INTEGER NOT NULL,
  tno    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  tid    INTEGER NOT NULL,
  PRIMARY KEY (run_id, tno)
) WITHOUT ROWID;

-- seq is the rowid: unique in the file, increasing within a run, so rows
-- are appended to the b-tree (SQLite's append fast path).
CREATE TABLE event (
  seq     INTEGER PRIMARY KEY,
  run_id  INTEGER NOT NULL,
  t_ns    INTEGER NOT NULL,
  tno     INTEGER NOT NULL,
  kind    INTEGER NOT NULL,
  class   INTEGER NOT NULL,
  size    INTEGER NOT NULL,
  addr    INTEGER NOT NULL,
  span_id INTEGER NOT NULL,
  stack_id INTEGER NOT NULL
);

CREATE TABLE event_kind (
  kind INTEGER PRIMARY KEY,
  name TEXT NOT NULL
);
INSERT INTO event_kind VALUES
  (1, 'alloc'), (2, 'alloc_tiny'), (3, 'alloc_large'), (4, 'free'),
  (5, 'tiny_open'), (6, 'tiny_retire'), (7, 'refill'), (8, 'span_alloc'),
  (9, 'span_free'), (10, 'heap_grow'), (11, 'scavenge'), (12, 'free_tiny'), (13, 'tiny_block_free'),
  (32, 'thread_start'), (33, 'thread_exit'), (34, 'process_start'), (35, 'process_exit');

-- ---- public views ----------------------------------------------------------

CREATE VIEW runs AS
  SELECT r.run_id, r.name, r.command, r.mode, r.started_at, r.duration_ns, r.exit_status,
         (SELECT count(DISTINCT p.pid) FROM process p WHERE p.run_id = r.run_id) AS pids,
         r.events, r.dropped, r.state
  FROM run r;

CREATE VIEW size_classes AS
  SELECT run_id, class, size, npages, objects, tail_waste FROM size_class;

CREATE VIEW class_stats AS
  SELECT run_id, class, allocs, frees, requested_bytes, allocated_bytes, peak_live_objects,
         peak_live_bytes, spans_created, spans_released, refills
  FROM class_stat;

CREATE VIEW spans AS
  SELECT run_id, span_id, class, base, npages, created_ns, released_ns, peak_objects, pid, tiny
  FROM span;

CREATE VIEW tiny_stats AS
  SELECT run_id, blocks, objects, bytes_requested,
         CASE WHEN blocks > 0 THEN CAST(objects AS REAL) / blocks END AS objects_per_block_avg
  FROM tiny_stat;

CREATE VIEW heap_timeline AS
  SELECT run_id, t_ns, heap_alloc, requested, heap_inuse, heap_idle, heap_released, heap_sys
  FROM heap_sample;

CREATE VIEW events AS
  SELECT e.run_id, e.seq, e.t_ns, t.pid, t.tid, e.kind, e.class, e.size, e.addr, e.span_id, e.stack_id
  FROM event e JOIN thread t ON t.run_id = e.run_id AND t.tno = e.tno;
