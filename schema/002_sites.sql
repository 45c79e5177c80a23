-- 002_sites.sql: allocation sites (stacks captured in the target with
-- libunwind, symbolized by the CLI after the run).

-- How the run captured stacks: 'off', 'sample' (Go's MemProfileRate: a mean
-- of one sampled allocation per sample_rate bytes) or 'all'.
ALTER TABLE run ADD COLUMN stacks TEXT NOT NULL DEFAULT 'off';
ALTER TABLE run ADD COLUMN sample_rate INTEGER;
ALTER TABLE run ADD COLUMN stack_depth INTEGER;

-- One row per distinct stack of the run (stacks with the same symbolized
-- frames in several processes are one row).  frames: one frame per line,
-- innermost (the caller of malloc) first.
CREATE TABLE stack (
  run_id   INTEGER NOT NULL,
  stack_id INTEGER NOT NULL,
  frames   TEXT NOT NULL,
  PRIMARY KEY (run_id, stack_id)
) WITHOUT ROWID;

CREATE TABLE stack_frame (
  run_id   INTEGER NOT NULL,
  stack_id INTEGER NOT NULL,
  depth    INTEGER NOT NULL,          -- 0 = innermost
  pc       INTEGER NOT NULL,          -- return address in the target
  module   TEXT,                      -- path of the loaded object, NULL if unknown
  offset   INTEGER,                   -- pc - the module's load address
  function TEXT,                      -- demangled, NULL if no symbol covers pc
  file     TEXT,                      -- source file and line where debug info exists
  line     INTEGER,
  PRIMARY KEY (run_id, stack_id, depth)
) WITHOUT ROWID;

-- Raw events (--events) name stacks by the drainer's per-process number;
-- this maps it to stack_id.
CREATE TABLE stack_alias (
  run_id   INTEGER NOT NULL,
  ref      INTEGER NOT NULL,
  stack_id INTEGER NOT NULL,
  PRIMARY KEY (run_id, ref)
) WITHOUT ROWID;

-- Per site and class.  With stacks = 'sample' the figures are estimates
-- (each sampled allocation of n bytes stands for 1 / (1 - exp(-n / rate))
-- allocations, as pprof scales Go's heap profile) and estimated = 1.
-- Tiny objects are class 2 with allocated = requested (they share 16-byte
-- blocks; the block's waste is not any one site's).
CREATE TABLE site_stat (
  run_id            INTEGER NOT NULL,
  stack_id          INTEGER NOT NULL,
  class             INTEGER NOT NULL,
  allocs            INTEGER NOT NULL,
  requested_bytes   INTEGER NOT NULL,
  allocated_bytes   INTEGER NOT NULL,
  live_objects_at_end INTEGER NOT NULL,
  live_bytes_at_end INTEGER NOT NULL,   -- at class size (whole pages for large)
  live_requested_at_end INTEGER NOT NULL,
  samples           INTEGER NOT NULL,   -- allocations with this stack actually recorded
  estimated         INTEGER NOT NULL,
  PRIMARY KEY (run_id, stack_id, class)
) WITHOUT ROWID;

CREATE VIEW sites AS
  SELECT run_id, stack_id, frames FROM stack;

CREATE VIEW site_stats AS
  SELECT run_id, stack_id, class, allocs, requested_bytes, allocated_bytes,
         allocated_bytes - requested_bytes AS waste_bytes, live_bytes_at_end,
         live_objects_at_end, live_requested_at_end, samples, estimated
  FROM site_stat;

CREATE VIEW site_frames AS
  SELECT run_id, stack_id, depth, pc, module, offset, function, file, line FROM stack_frame;

DROP VIEW events;
CREATE VIEW events AS
  SELECT e.run_id, e.seq, e.t_ns, t.pid, t.tid, e.kind, e.class, e.size, e.addr, e.span_id,
         CASE WHEN e.stack_id = 0 THEN 0 ELSE
           (SELECT a.stack_id FROM stack_alias a WHERE a.run_id = e.run_id AND a.ref = e.stack_id) END
         AS stack_id
  FROM event e JOIN thread t ON t.run_id = e.run_id AND t.tno = e.tno;
