-- 006_frames.sql: each frame of a run is stored once.  A run's stacks
-- share most of their frames (python3 under --stacks=all: 12k stacks of
-- 27 frames on average, 2.8k distinct frames), and a row per stack and
-- depth made the stack tables 95% of the file and most of the time `run`
-- took after the program ended.  Now a stack lists its frames by id and
-- site_frames puts the rows together.

-- The distinct frames of a run.
CREATE TABLE frame (
  run_id   INTEGER NOT NULL,
  frame_id INTEGER NOT NULL,
  pc       INTEGER NOT NULL,          -- return address in the target
  module   TEXT,                      -- path of the loaded object, NULL if unknown
  offset   INTEGER,                   -- pc - the module's load address
  function TEXT,                      -- demangled, NULL if no symbol covers pc
  file     TEXT,                      -- source file and line where debug info exists
  line     INTEGER,
  PRIMARY KEY (run_id, frame_id)
) WITHOUT ROWID;

-- The stacks again, now a rowid table: a stack's row (~1 KB of text) stays
-- on its page, where in a WITHOUT ROWID table a row over ~1000 bytes puts
-- its tail on an overflow page of its own (two thirds of the file empty).
-- frame_ids: a JSON array of frame_id, innermost first; NULL for the
-- stacks of runs recorded before this version, whose frames stay in
-- stack_frame.
DROP VIEW sites;
DROP VIEW site_frames;
CREATE TABLE stack_v6 (
  run_id    INTEGER NOT NULL,
  stack_id  INTEGER NOT NULL,
  frames    TEXT NOT NULL,
  frame_ids TEXT,
  PRIMARY KEY (run_id, stack_id)
);
INSERT INTO stack_v6 SELECT run_id, stack_id, frames, NULL FROM stack;
DROP TABLE stack;
ALTER TABLE stack_v6 RENAME TO stack;

CREATE VIEW sites AS
  SELECT run_id, stack_id, frames FROM stack;

CREATE VIEW site_frames AS
  SELECT run_id, stack_id, depth, pc, module, offset, function, file, line FROM stack_frame
  UNION ALL
  SELECT s.run_id, s.stack_id, CAST(j.key AS INTEGER), f.pc, f.module, f.offset, f.function, f.file, f.line
  FROM stack s, json_each(s.frame_ids) j, frame f
  WHERE s.frame_ids IS NOT NULL AND f.run_id = s.run_id AND f.frame_id = j.value;
