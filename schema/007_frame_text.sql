-- 007_frame_text.sql: a stack's text is put together from its frames when
-- it is read, not stored with the stack.  python3 under --stacks=all: 12k
-- stacks over 2.8k distinct frames stored 750 bytes of text each, 12 of
-- the file's 13.8 MB, and writing them was most of what `run` did after
-- the program ended.
--
-- frame.text: the frame as `sites` shows it (`function (file:line)`,
-- `function (module)` or `module+0xoffset`); NULL for the frames of runs
-- recorded before this version, whose stacks keep their text.
-- stack.frames: '' from this version on, except for a stack without
-- frames, which holds its note.
ALTER TABLE frame ADD COLUMN text TEXT;

DROP VIEW sites;
CREATE VIEW sites AS
  SELECT s.run_id, s.stack_id,
         CASE WHEN s.frames <> '' THEN s.frames ELSE
           (SELECT group_concat(t, char(10)) FROM
              (SELECT f.text AS t FROM json_each(s.frame_ids) j
               JOIN frame f ON f.run_id = s.run_id AND f.frame_id = j.value
               ORDER BY j.key))
         END AS frames
  FROM stack s;
