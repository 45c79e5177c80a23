#!/bin/bash
# check_known.sh CLI PROG: run known_allocs under `goalloc-trace run --events`
# and check the database against the program's own manifest of what it
# allocated and freed, and the aggregate tables against the raw events:
#   - every allocation the program made is an alloc event with its address,
#     requested size, kind (tiny/small/large) and the mode's class;
#   - every free it made is a free event at that address, after the alloc;
#   - class_stats, tiny_stats and runs equal what SQL computes from events;
#   - the frees made by the second thread carry that thread's tid.
set -euo pipefail
cli=$1 prog=$2
shift 2 # the rest: extra options for run (e.g. --go-exact)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db=$dir/k.db
"$cli" run -q --events "$@" -o "$db" -- "$prog" "$dir/manifest"
# manifest -> SQL: allocations (A, and the new block of each realloc) and frees
awk 'BEGIN { print "CREATE TABLE m(op TEXT, size INT, addr INT, line INT);" ; print "BEGIN;" }
     $1 == "A" { printf "INSERT INTO m VALUES(\x27A\x27,%s,%s,%d);\n", $2, $3, NR }
     $1 == "F" { printf "INSERT INTO m VALUES(\x27F\x27,NULL,%s,%d);\n", $2, NR }
     $1 == "R" { printf "INSERT INTO m VALUES(\x27F\x27,NULL,%s,%d);\n", $2, NR;
                 printf "INSERT INTO m VALUES(\x27A\x27,%s,%s,%d);\n", $3, $4, NR }
     END { print "COMMIT;" }' "$dir/manifest" | sqlite3 "$db"
# shellcheck source=../checks.sh
. "$(dirname "$0")/../checks.sh"
check "the run finished cleanly" \
  "SELECT 'state', state, exit_status, dropped FROM runs WHERE NOT (state='done' AND exit_status=0 AND dropped=0)"
check "every allocation of the program is an alloc event with its size (multiset)" "
  WITH want AS (SELECT addr, size, count(*) n FROM m WHERE op='A' GROUP BY 1,2),
       got AS (SELECT addr, size, count(*) n FROM events WHERE kind IN (1,2,3) GROUP BY 1,2)
  SELECT 'missing', want.addr, want.size, want.n, coalesce(got.n,0) FROM want LEFT JOIN got USING(addr,size)
  WHERE coalesce(got.n,0) < want.n"
check "allocation kind follows the size (tiny < 16 B, small <= 32 KiB, large above)" "
  SELECT DISTINCT 'kind', e.size, e.kind FROM events e JOIN m ON m.op='A' AND m.addr=e.addr AND m.size=e.size
  WHERE e.kind IN (1,2,3) AND e.kind != CASE WHEN e.size < 16 THEN 2 WHEN e.size <= 32768 THEN 1 ELSE 3 END"
check "each small allocation is in the smallest class of the mode that holds it" "
  SELECT DISTINCT 'class', e.size, e.class FROM events e JOIN m ON m.op='A' AND m.addr=e.addr AND m.size=e.size
  WHERE e.kind=1 AND e.class != (SELECT min(class) FROM size_class s
        WHERE s.run_id=e.run_id AND s.used AND s.size >= e.size)"
check "every free of the program is a free event at that address (multiset)" "
  WITH want AS (SELECT addr, count(*) n FROM m WHERE op='F' GROUP BY 1),
       got AS (SELECT addr, count(*) n FROM events WHERE kind IN (4,12) GROUP BY 1)
  SELECT 'missing free', want.addr, want.n, coalesce(got.n,0) FROM want LEFT JOIN got USING(addr)
  WHERE coalesce(got.n,0) < want.n"
check "a free never precedes its allocation" "
  SELECT 'free before alloc', f.addr, f.seq FROM events f WHERE f.kind IN (4,12) AND NOT EXISTS (
    SELECT 1 FROM events a WHERE a.kind IN (1,2,3) AND a.addr=f.addr AND a.pid=f.pid AND a.seq < f.seq)"
check "a free's size is the freed object's requested size" "
  SELECT 'free size', f.addr, f.size, a.size FROM events f JOIN events a ON a.addr=f.addr AND a.pid=f.pid
    AND a.kind IN (1,2,3) AND a.seq = (SELECT max(seq) FROM events x WHERE x.addr=f.addr AND x.pid=f.pid
                                       AND x.kind IN (1,2,3) AND x.seq < f.seq)
  WHERE f.kind IN (4,12) AND f.size != a.size"
check "cross-thread frees carry the freeing thread" "
  SELECT 'tid', count(DISTINCT e.tid) FROM events e JOIN m ON m.op='F' AND m.addr=e.addr
  WHERE e.kind=4 AND m.line > (SELECT min(line) FROM m WHERE op='A' AND size=48)
  HAVING count(DISTINCT e.tid) < 2"
check "class_stats equal the events, class by class" "
  WITH ev AS (
    SELECT c.class,
      (SELECT count(*) FROM events WHERE kind IN (1,3) AND class=c.class)
        + CASE c.class WHEN 2 THEN (SELECT count(*) FROM events WHERE kind=5) ELSE 0 END AS allocs,
      (SELECT count(*) FROM events WHERE kind=4 AND class=c.class)
        + CASE c.class WHEN 2 THEN (SELECT count(*) FROM events WHERE kind=13) ELSE 0 END AS frees,
      (SELECT coalesce(sum(size),0) FROM events WHERE kind IN (1,3) AND class=c.class)
        + CASE c.class WHEN 2 THEN (SELECT coalesce(sum(size),0) FROM events WHERE kind=2) ELSE 0 END AS req,
      (SELECT count(*) FROM events WHERE kind=8 AND class=c.class) AS spans,
      (SELECT count(*) FROM events WHERE kind=7 AND class=c.class) AS refills
    FROM class_stats c)
  SELECT 'class', c.class, c.allocs, ev.allocs, c.frees, ev.frees, c.requested_bytes, ev.req,
         c.refills, ev.refills
  FROM class_stats c JOIN ev USING(class)
  WHERE c.allocs != ev.allocs OR c.frees != ev.frees OR c.requested_bytes != ev.req
     OR c.refills != ev.refills OR (c.class > 0 AND c.spans_created != ev.spans)"
check "allocated bytes are class size times objects (pages for large)" "
  SELECT 'allocated', c.class, c.allocated_bytes FROM class_stats c JOIN size_classes s USING(run_id, class)
  WHERE c.class > 0 AND c.allocated_bytes != c.allocs * s.size
  UNION ALL
  SELECT 'large', 0, c.allocated_bytes FROM class_stats c WHERE c.class = 0 AND c.allocated_bytes !=
    (SELECT coalesce(sum((size + 8191) / 8192 * 8192), 0) FROM events WHERE kind = 3)"
check "tiny_stats equal the events" "
  SELECT 'tiny', t.blocks, t.objects, t.bytes_requested FROM tiny_stats t WHERE
    t.blocks != (SELECT count(*) FROM events WHERE kind=5) OR
    t.objects != (SELECT count(*) FROM events WHERE kind=2) OR
    t.bytes_requested != (SELECT coalesce(sum(size),0) FROM events WHERE kind=2)"
check "per class, every allocation the program made is counted in class_stats" "
  WITH mc AS (SELECT (SELECT min(class) FROM size_class s WHERE s.used AND s.size >= m.size) AS class,
                     count(*) AS n
              FROM m WHERE op='A' AND m.size >= 16 AND m.size <= 32768 GROUP BY 1)
  SELECT 'undercount', mc.class, mc.n, c.allocs FROM mc JOIN class_stats c USING(class) WHERE c.allocs < mc.n
  UNION ALL
  SELECT 'large undercount', 0, (SELECT count(*) FROM m WHERE op='A' AND size > 32768), c.allocs
  FROM class_stats c WHERE c.class = 0 AND c.allocs < (SELECT count(*) FROM m WHERE op='A' AND size > 32768)
  UNION ALL
  SELECT 'tiny undercount', 2, (SELECT count(*) FROM m WHERE op='A' AND size < 16), t.objects
  FROM tiny_stats t WHERE t.objects < (SELECT count(*) FROM m WHERE op='A' AND size < 16)"
check "request_sizes equal the events, size by size (allocs and objects live at the end)" "
  WITH a AS (SELECT kind=2 AS tiny, size, count(*) n FROM events WHERE kind IN (1,2) GROUP BY 1,2),
       f AS (SELECT kind=12 AS tiny, size, count(*) n FROM events WHERE kind IN (4,12) AND class > 0 GROUP BY 1,2),
       ev AS (SELECT a.tiny, a.size, a.n AS allocs, a.n - coalesce(f.n,0) AS live FROM a LEFT JOIN f USING(tiny,size))
  SELECT 'request size', ev.tiny, ev.size, ev.allocs, r.allocs, ev.live, r.live_objects
  FROM ev LEFT JOIN request_sizes r ON r.tiny=ev.tiny AND r.size=ev.size
  WHERE r.allocs IS NOT ev.allocs OR r.live_objects IS NOT ev.live
  UNION ALL
  SELECT 'request size not in events', r.tiny, r.size, r.allocs, 0, 0, 0 FROM request_sizes r
  WHERE NOT EXISTS (SELECT 1 FROM ev WHERE ev.tiny=r.tiny AND ev.size=r.size)"
check "runs.events counts every event" \
  "SELECT 'events', r.events, (SELECT count(*) FROM events) FROM runs r WHERE r.events != (SELECT count(*) FROM events)"
check "the heap timeline ends at the final figures and HeapSys = HeapInuse + HeapIdle" "
  SELECT 'timeline', t_ns, heap_sys, heap_inuse, heap_idle FROM heap_timeline WHERE heap_sys != heap_inuse + heap_idle
  UNION ALL
  SELECT 'final HeapAlloc', h.heap_alloc, (SELECT sum(live_bytes) FROM class_stat), 0, 0 FROM heap_timeline h
  WHERE h.t_ns = (SELECT max(t_ns) FROM heap_timeline) AND h.heap_alloc != (SELECT sum(live_bytes) FROM class_stat)"
exit $fail
