-- 004_request_sizes.sql: what the report needs beyond version 1 to show the
-- other alignment mode and span utilization from aggregates alone.
--   request_size: allocations served from a size class (kinds alloc and
--     alloc_tiny), per requested size 0..32768 and whether the object went
--     into a tiny block; live_objects = allocs - frees at the end of the run.
--     Requests over 32 KiB, and small requests that asked for an alignment
--     over 8 KiB (served as large objects), are not counted.
--   class_span: the most spans a class held at once (a running count of
--     spans_created - spans_released, as class_stat counts them: a forked
--     child's copies of its parent's spans count as created, and the spans a
--     child still holds when it ends count as released).

CREATE TABLE request_size (
  run_id       INTEGER NOT NULL,
  size         INTEGER NOT NULL,
  tiny         INTEGER NOT NULL,     -- 1: placed in a tiny block
  allocs       INTEGER NOT NULL,
  live_objects INTEGER NOT NULL,
  PRIMARY KEY (run_id, size, tiny)
) WITHOUT ROWID;

CREATE TABLE class_span (
  run_id     INTEGER NOT NULL,
  class      INTEGER NOT NULL,
  peak_spans INTEGER NOT NULL,
  PRIMARY KEY (run_id, class)
) WITHOUT ROWID;

CREATE VIEW request_sizes AS
  SELECT run_id, size, tiny, allocs, live_objects FROM request_size;

CREATE VIEW class_span_peaks AS
  SELECT run_id, class, peak_spans FROM class_span;
