-- 003_packed_events.sql: raw events (run --events) in six columns instead of
-- ten: SQLite's cost per inserted row grows with its columns (and so does
-- the file), and an event is small integers that pack well.  Thread numbers
-- (tno) become unique in the file, so a row needs no run_id: its thread
-- says which run it belongs to.  The public view `events` keeps its
-- columns.
--   info = tno << 16 | kind << 8 | class
--   ref  = stack << 32 | span_id   (stack: the drainer's number, see stack_alias)

-- old per-run thread numbers -> numbers unique in the file
CREATE TEMP TABLE tno_map AS
  SELECT run_id, tno AS old, row_number() OVER (ORDER BY run_id, tno) AS new FROM thread;
CREATE TABLE thread_new (
  tno    INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  tid    INTEGER NOT NULL
);
INSERT INTO thread_new
  SELECT m.new, t.run_id, t.pid, t.tid FROM thread t JOIN tno_map m ON m.run_id = t.run_id AND m.old = t.tno;

CREATE TABLE event_packed (
  seq  INTEGER PRIMARY KEY,
  t_ns INTEGER NOT NULL,
  info INTEGER NOT NULL,
  size INTEGER NOT NULL,
  addr INTEGER NOT NULL,
  ref  INTEGER NOT NULL
);
INSERT INTO event_packed
  SELECT e.seq, e.t_ns, (coalesce(m.new, 0) << 16) | (e.kind << 8) | e.class, e.size, e.addr,
         (e.stack_id << 32) | (e.span_id & 4294967295)
  FROM event e LEFT JOIN tno_map m ON m.run_id = e.run_id AND m.old = e.tno;
DROP TABLE tno_map;
DROP VIEW events;
DROP TABLE event;
DROP TABLE thread;
ALTER TABLE event_packed RENAME TO event;
ALTER TABLE thread_new RENAME TO thread;

CREATE VIEW events AS
  SELECT t.run_id, e.seq, e.t_ns, t.pid, t.tid, (e.info >> 8) & 255 AS kind,
         e.info & 255 AS class, e.size, e.addr, e.ref & 4294967295 AS span_id,
         CASE WHEN e.ref >> 32 = 0 THEN 0 ELSE
           (SELECT a.stack_id FROM stack_alias a WHERE a.run_id = t.run_id AND a.ref = e.ref >> 32) END
         AS stack_id
  FROM event e JOIN thread t ON t.tno = e.info >> 16;
