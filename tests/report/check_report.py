#!/usr/bin/env python3
"""check_report.py CLI WORKLOAD [--go-exact]: the acceptance test of `report`.
check_report.py CLI [--go-exact] [VAR=VALUE ...] -- PROGRAM ARGS...: the same
for a real single-process program (run with the VAR=VALUE environment).

Traces WORKLOAD (report_workload mixed) or PROGRAM with `goalloc-trace run --events`,
takes `report --format json`, and checks every figure the text report shows
against the same figure computed here, independently, from the raw events
(the `events` view) with SQL: running sums in event order for the heap
figures and their peak, counts per class and kind for the class rows, the
size_class table for the other mode's classes.  Then checks that the text
and CSV formats show the same numbers as the JSON.

A run of several processes (forks, execs) is rebuilt per process image by
procmodel.py instead; there the figures at the end and the class counts are
checked, not the peak (when a process's heap leaves the figures is not in
the events).

HeapReleased is not in the events table's columns as such (span_alloc's
count of released pages it reused is not stored), so it is recomputed from
the events' addresses: a page is released from its heap_grow (fresh pages
count as released, as in Go) or a scavenge until a span or large object
takes it.
"""
import json
import math
import re
import sqlite3
import subprocess
import sys
import tempfile
import os

from figcheck import Checks, pct
import procmodel

cli = sys.argv[1]
if "--" in sys.argv:
    # a real program: the checks that know report_workload's mix are left out
    k = sys.argv.index("--")
    opts, argv = sys.argv[2:k], sys.argv[k + 1:]
    extra = [o for o in opts if o.startswith("--")]
    env = dict(os.environ, **dict(o.split("=", 1) for o in opts if not o.startswith("--")))
    own_workload = False
else:
    argv, extra, env, own_workload = [sys.argv[2], "mixed"], sys.argv[3:], None, True
prog = argv[0]
check = Checks('report', 'events')


tmp = tempfile.mkdtemp()
db = os.path.join(tmp, "r.db")
subprocess.run([cli, "run", "-q", "--events", *extra, "-o", db, "--", *argv], check=True,
               stdout=subprocess.DEVNULL, env=env)
rep = json.loads(subprocess.run([cli, "report", db, "--format", "json"], check=True,
                                capture_output=True, text=True).stdout)
text = subprocess.run([cli, "report", db], check=True, capture_output=True, text=True).stdout
csv = subprocess.run([cli, "report", db, "--format", "csv"], check=True, capture_output=True, text=True).stdout

con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
q = lambda sql, *a: con.execute(sql, a).fetchall()
run_id = q("SELECT max(run_id) FROM runs")[0][0]

# ---- the heap figures after every event, in event order ----------------------
# HeapAlloc: + class size per small alloc, 16 per tiny block opened, whole
# pages per large object; - the same at frees.  requested: + size at allocs,
# - size at frees.  HeapInuse: + pages of spans taken (span_alloc, a large
# object's span; a large realloc in place changes its span's pages), - pages
# of spans given back (span_free).  HeapSys: + pages mapped (heap_grow).
RUNNING = """
WITH lg AS (
  SELECT seq, CASE WHEN lag(kind) OVER w = 3 THEN (lag(size) OVER w + 8191) / 8192 * 8192 END AS prev_bytes
  FROM events WHERE run_id = ?1 AND kind IN (3, 9)
  WINDOW w AS (PARTITION BY pid, span_id ORDER BY seq)),
ev AS (
  SELECT e.seq, e.t_ns, e.kind, e.class, e.size, e.addr,
    CASE WHEN e.kind = 1 THEN sc.size
         WHEN e.kind = 5 THEN 16
         WHEN e.kind = 3 THEN (e.size + 8191) / 8192 * 8192
         WHEN e.kind = 4 AND e.class > 0 THEN -sc.size
         WHEN e.kind = 4 AND e.class = 0 THEN -((e.size + 8191) / 8192 * 8192)
         WHEN e.kind = 13 THEN -16 ELSE 0 END AS d_alloc,
    CASE WHEN e.kind IN (1, 2, 3) THEN e.size WHEN e.kind IN (4, 12) THEN -e.size ELSE 0 END AS d_req,
    CASE WHEN e.kind = 8 THEN e.size * 8192 WHEN e.kind = 9 THEN -e.size * 8192
         WHEN e.kind = 3 THEN (e.size + 8191) / 8192 * 8192 - coalesce(lg.prev_bytes, 0) ELSE 0 END AS d_inuse,
    CASE WHEN e.kind = 10 THEN e.size * 8192 ELSE 0 END AS d_sys
  FROM events e LEFT JOIN size_class sc ON sc.run_id = e.run_id AND sc.class = e.class
  LEFT JOIN lg ON lg.seq = e.seq
  WHERE e.run_id = ?1)
SELECT seq, t_ns, kind, size, addr,
  sum(d_alloc) OVER o, sum(d_req) OVER o, sum(d_inuse) OVER o, sum(d_sys) OVER o
FROM ev WINDOW o AS (ORDER BY seq ROWS UNBOUNDED PRECEDING) ORDER BY seq
"""
rows = q(RUNNING, run_id)
# HeapReleased from page addresses (see the docstring)
released_pages = set()
figs = []  # per event: (seq, t, HeapAlloc, requested, HeapInuse, HeapIdle, HeapReleased, HeapSys)
for seq, t, kind, size, addr, ha, rq, hi, hs in rows:
    if kind in (10, 11):
        for p in range(size):
            released_pages.add(addr + p * 8192)
    elif kind in (8, 3):
        n = size if kind == 8 else (size + 8191) // 8192
        for p in range(n):
            released_pages.discard(addr + p * 8192)
    figs.append((seq, t, ha, rq, hi, hs - hi, len(released_pages) * 8192, hs))

table = {c: (s, p) for c, s, p in q("SELECT class, size, npages FROM size_class WHERE run_id=?", run_id)}
# several process images: a fork, or a pid that started twice (exec)
multi = q("SELECT count(*) > 1 OR sum(kind = 41) > 0 FROM events WHERE run_id=? AND kind IN (34, 41)", run_id)[0][0] == 1
root = q("SELECT pid FROM events WHERE run_id=? AND kind=34 ORDER BY seq LIMIT 1", run_id)[0][0]
go_exact = q("SELECT mode FROM runs WHERE run_id=?", run_id)[0][0] == "go-exact"


def mode_size(size, go):
    """The object size of a small request of size bytes in a mode."""
    return min(s for c, (s, p) in table.items() if c > 0 and s >= max(size, 1) and (go or c != 3))


if multi:
    weigh = lambda n: (n, mode_size(n, go_exact), mode_size(n, not go_exact))
    root, mfinal, msmall, mlive, mcreated, mreleased = procmodel.model(
        q, run_id, {c: v[0] for c, v in table.items()}, weigh)
    figs[-1] = figs[-1][:2] + mfinal + figs[-1][8:]
peak_max = max(f[2] for f in figs)
peak = next(f for f in figs if f[2] == peak_max)
final = figs[-1]
names = ["heap_alloc", "requested", "heap_inuse", "heap_idle", "heap_released", "heap_sys"]


def heap_rows(f):
    v = dict(zip(names, f[2:8]))
    v["size_class_waste"] = v["heap_alloc"] - v["requested"]
    v["span_waste"] = v["heap_inuse"] - v["heap_alloc"]
    v["page_heap_waste"] = v["heap_idle"] - v["heap_released"]
    return v


for when, f in (("exit", final),) if multi else (("peak", peak), ("exit", final)):
    want = heap_rows(f)
    for k, v in want.items():
        check(f"heap {k} at {when}", rep["heap"][k][f"{when}_bytes"], v)
        check(f"heap {k} at {when} % of HeapSys", rep["heap"][k][f"{when}_pct_of_heap_sys"],
              pct(v, want["heap_sys"]))
if not multi:
    check("peak time", rep["run"]["peak_t_ns"], peak[1])
# the exit figures are the heap when the program's process exited
exit_t = q("SELECT max(t_ns) FROM events WHERE run_id=? AND kind=35 AND pid=?", run_id, root)[0][0]
check("exit time", rep["run"]["exit_t_ns"], exit_t)
if own_workload:
    check("the peak is in the middle of the run", 0 < peak[1] < final[1] and peak[0] != figs[-1][0], True)

# ---- the run ---------------------------------------------------------------------
check("events", rep["run"]["events"], q("SELECT count(*) FROM events WHERE run_id=?", run_id)[0][0])
check("the program allocated and freed", q("SELECT count(*) FROM events WHERE run_id=? AND kind IN (1, 2, 3)", run_id)[0][0]
      > 1000 and q("SELECT count(*) FROM events WHERE run_id=? AND kind IN (4, 12)", run_id)[0][0] > 100, True)
check("processes", rep["run"]["processes"],
      q("SELECT count(DISTINCT pid) FROM events WHERE run_id=?", run_id)[0][0])
check("dropped", rep["run"]["dropped"], 0)
# a free of an address no earlier allocation returned (in event order)
seen, unmatched = set(), 0
for kind, addr in q("SELECT kind, addr FROM events WHERE run_id=? AND kind IN (1, 2, 3, 4, 12) ORDER BY seq", run_id):
    if kind in (1, 2, 3):
        seen.add(addr)
    elif addr not in seen:
        unmatched += 1
check("unmatched frees", rep["run"]["unmatched_frees"], unmatched)
check("mode", rep["run"]["mode"], "go-exact" if "--go-exact" in extra else "c-safe")
# what the run table says about the run, against what this test knows
check("name", rep["run"]["name"], os.path.basename(prog))
check("command", rep["run"]["command"], " ".join(argv))
check("tiny merging", rep["run"]["tiny"], "on")
check("state", rep["run"]["state"], "done")
check("exit status", rep["run"]["exit_status"], 0)
check("duration: the run ends when its process exits", rep["run"]["duration_ns"], exit_t)
check("started", re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rep["run"]["started_at"]) is not None, True)

# ---- per size class --------------------------------------------------------------
CLASSES = """
WITH lg AS (
  SELECT seq, lag(kind) OVER (PARTITION BY pid, span_id ORDER BY seq) AS prev_kind
  FROM events WHERE run_id = ?1 AND kind IN (3, 9)),
d AS (  -- per event: the class it counts for, objects +-1, spans +-1
  SELECT e.seq, CASE WHEN e.kind IN (5, 13, 2, 12) THEN 2 ELSE e.class END AS class,
    CASE WHEN e.kind IN (1, 3, 5) THEN 1 WHEN e.kind = 13 OR (e.kind = 4) THEN -1 ELSE 0 END AS d_obj,
    CASE WHEN e.kind = 8 OR (e.kind = 3 AND coalesce(lg.prev_kind, 0) != 3) THEN 1
         WHEN e.kind = 9 THEN -1 ELSE 0 END AS d_span,
    CASE WHEN e.kind IN (1, 3, 5) THEN 1 ELSE 0 END AS alloc,
    CASE WHEN e.kind IN (1, 2, 3) THEN e.size ELSE 0 END AS req,
    CASE WHEN e.kind = 1 THEN sc.size WHEN e.kind = 5 THEN 16
         WHEN e.kind = 3 THEN (e.size + 8191) / 8192 * 8192 ELSE 0 END AS allocated
  FROM events e LEFT JOIN lg ON lg.seq = e.seq
  LEFT JOIN size_class sc ON sc.run_id = e.run_id AND sc.class = e.class
  WHERE e.run_id = ?1 AND e.kind IN (1, 2, 3, 4, 5, 8, 9, 12, 13)),
r AS (SELECT class, d_obj, d_span, alloc, req, allocated,
        sum(d_obj) OVER (PARTITION BY class ORDER BY seq ROWS UNBOUNDED PRECEDING) AS objs,
        sum(d_span) OVER (PARTITION BY class ORDER BY seq ROWS UNBOUNDED PRECEDING) AS spans
      FROM d)
SELECT class, sum(alloc), sum(req), sum(allocated), sum(d_obj), max(objs),
       sum(d_span > 0), sum(d_span < 0), max(spans)
FROM r GROUP BY class HAVING sum(alloc) > 0
"""
want_classes = {}
for c, allocs, req, allocated, live, peak_objs, created, released, peak_spans in q(CLASSES, run_id):
    row = {"class": c, "requests": allocs, "requested_bytes": req, "allocated_bytes": allocated,
           "waste_bytes": allocated - req, "waste_pct": pct(allocated - req, allocated),
           "live_objects": live, "peak_objects": peak_objs, "spans_created": created,
           "spans_released": released, "peak_spans": peak_spans}
    if c:
        size, npages = table[c]
        objects = npages * 8192 // size
        tail = npages * 8192 - objects * size
        row.update(size=size, objects_per_span=objects,
                   span_utilization_pct=pct(peak_objs, peak_spans * objects),
                   tail_waste_bytes_per_span=tail, tail_waste_at_peak_bytes=tail * peak_spans)
    else:
        row.update(size=None, objects_per_span=None, span_utilization_pct=None,
                   tail_waste_bytes_per_span=None, tail_waste_at_peak_bytes=None)
    if multi:
        row.update(live_objects=mlive.get(c, 0), spans_created=mcreated.get(c, 0),
                   spans_released=mreleased.get(c, 0))
        for k in ("peak_objects", "peak_spans", "span_utilization_pct", "tail_waste_at_peak_bytes"):
            del row[k]
    want_classes[c] = row
got_classes = {r["class"]: r for r in rep["classes"]}
check("the classes listed are the classes used", sorted(got_classes), sorted(want_classes))
for c, want in want_classes.items():
    for k, v in want.items():
        check(f"class {c} {k}", got_classes.get(c, {}).get(k), v)
wastes = [r["waste_bytes"] for r in rep["classes"]]
check("classes sorted by waste", wastes, sorted(wastes, reverse=True))
if own_workload:
    check("several classes, large objects and frees in the workload",
          len(want_classes) >= 8 and 0 in want_classes and
          sum(r["live_objects"] for r in want_classes.values()) * 4 < sum(r["peak_objects"] for r in want_classes.values()),
          True)

# ---- tiny allocator --------------------------------------------------------------
blocks, objs, tbytes, own = q("""
  SELECT (SELECT count(*) FROM events WHERE run_id=?1 AND kind=5), count(*), coalesce(sum(size), 0),
         coalesce(sum(CASE WHEN size <= 8 THEN 8 ELSE 16 END), 0)
  FROM events WHERE run_id=?1 AND kind=2""", run_id)[0]
tiny = rep["tiny"]
check("tiny blocks", tiny["blocks"], blocks)
check("tiny objects", tiny["objects"], objs)
check("tiny objects per block", tiny["objects_per_block"], round(objs / blocks, 4) if blocks else None)
check("tiny bytes requested", tiny["requested_bytes"], tbytes)
check("tiny bytes in blocks", tiny["block_bytes"], 16 * blocks)
check("tiny bytes in own slots", tiny["own_slot_bytes"], own)
check("tiny bytes saved", tiny["saved_bytes"], own - 16 * blocks)
check("tiny saved %", tiny["saved_pct"], pct(own - 16 * blocks, own))

# ---- the other alignment mode -------------------------------------------------------
# Each mode's class for a size: the smallest class whose objects hold it;
# C-safe mode never uses class 3 (24 B).  From the size_class table.
def mode_class_sql(go):
    return f"""(SELECT min(size) FROM size_class s WHERE s.run_id = e.run_id AND s.class > 0
                AND s.size >= max(e.size, 1) {'' if go else 'AND s.class != 3'})"""


this_sql, other_sql = mode_class_sql(go_exact), mode_class_sql(not go_exact)
n, req, a_this, a_other, recorded = q(f"""
  SELECT count(*), sum(e.size), sum({this_sql}), sum({other_sql}),
         sum((SELECT size FROM size_class s WHERE s.run_id = e.run_id AND s.class = e.class))
  FROM events e WHERE e.run_id = ? AND e.kind = 1""", run_id)[0]
l_req, l_this, l_other = q(f"""
  SELECT sum(sign * e.size), sum(sign * {this_sql}), sum(sign * {other_sql})
  FROM (SELECT *, CASE WHEN kind = 1 THEN 1 ELSE -1 END AS sign FROM events
        WHERE run_id = ? AND (kind = 1 OR (kind = 4 AND class > 0))) e""", run_id)[0]
if multi:
    l_req, l_this, l_other = msmall
om = rep["other_mode"]
check("other mode", om["other_mode"], "c-safe" if go_exact else "go-exact")
check("other mode: requests modelled", om["requests"], n)
check("other mode: bytes requested", om["requested_bytes"], req)
check("other mode: allocated, recorded", om["recorded_allocated_bytes"], recorded)
check("other mode: allocated, this mode", om["this_allocated_bytes"], a_this)
check("other mode: allocated, other mode", om["other_allocated_bytes"], a_other)
check("other mode: difference", om["allocated_delta_bytes"], a_other - a_this)
check("other mode: waste this mode", om["this_waste_pct"], pct(a_this - req, a_this))
check("other mode: waste other mode", om["other_waste_pct"], pct(a_other - req, a_other))
check("other mode: live requested", om["live_requested_bytes"], l_req)
check("other mode: live this mode", om["this_live_bytes"], l_this)
check("other mode: live other mode", om["other_live_bytes"], l_other)
check("other mode: live difference", om["live_delta_bytes"], l_other - l_this)
check("other mode: tiny objects", om["tiny_objects"], objs)
if own_workload:
    check("other mode: the workload's 17..24 B requests change class", a_this != a_other, True)
    check("other mode: the aligned requests show as recorded != modelled", recorded != a_this, True)
want_oc = {}
for c, cnt in q(f"SELECT (SELECT min(class) FROM size_class s WHERE s.run_id=e.run_id AND s.class > 0 AND "
                f"s.size >= max(e.size, 1) {'' if go_exact else 'AND s.class != 3'}), count(*) "
                f"FROM events e WHERE run_id=? AND kind=1 GROUP BY 1", run_id):
    want_oc.setdefault(c, [0, 0])[0] = cnt
for c, cnt in q(f"SELECT (SELECT min(class) FROM size_class s WHERE s.run_id=e.run_id AND s.class > 0 AND "
                f"s.size >= max(e.size, 1) {'AND s.class != 3' if go_exact else ''}), count(*) "
                f"FROM events e WHERE run_id=? AND kind=1 GROUP BY 1", run_id):
    want_oc.setdefault(c, [0, 0])[1] = cnt
want_oc = {c: v for c, v in want_oc.items() if v[0] != v[1]}
got_oc = {r["class"]: [r["this_requests"], r["other_requests"]] for r in rep["other_mode_classes"]}
check("other mode: classes whose requests change", got_oc, want_oc)

# ---- heap timeline ------------------------------------------------------------------
tl = rep["timeline"]
check("timeline: all samples in json", len(tl), q("SELECT count(*) FROM heap_timeline WHERE run_id=?", run_id)[0][0])
if own_workload:
    check("timeline: more samples than the text shows", len(tl) > 20, True)
last = tl[-1]
check("timeline: the last sample is the exit", [last[k] for k in names] + [last["t_ns"]],
      list(final[2:8]) + [exit_t])
if not multi:
    first = tl[0]
    at_first = [f for f in figs if f[1] == first["t_ns"]]
    check("timeline: the first sample is the heap after an event at its time",
          any(list(f[2:8]) == [first[k] for k in names] for f in at_first), True)

# ---- text and CSV show the same numbers as JSON --------------------------------------
def fmt_bytes(b):
    if b is None:
        return "-"
    m, units, u = float(abs(b)), ["B", "KiB", "MiB", "GiB", "TiB"], 0
    while m >= 1024 and u < 4:
        m /= 1024
        u += 1
    s = "-" if b < 0 else ""
    if u == 0:
        return f"{s}{abs(b)} B"
    return f"{s}{m:.2f} {units[u]}" if m < 10 else f"{s}{m:.1f} {units[u]}"


def fmt_pct(p):
    return "-" if p is None else f"{p:.1f}%"


def fmt_ratio(part, whole):
    """A percentage from the JSON's raw integers, as text shows it (one decimal)."""
    return "-" if part is None or not whole else f"{100.0 * part / whole:.1f}%"


lines = text.splitlines()
check("text fits 100 columns", max(len(l) for l in lines) <= 100, True)
labels = {"heap_alloc": "HeapAlloc", "requested": "requested", "heap_inuse": "HeapInuse",
          "heap_idle": "HeapIdle", "heap_released": "HeapReleased", "heap_sys": "HeapSys",
          "size_class_waste": "size-class waste", "span_waste": "span waste",
          "page_heap_waste": "page-heap waste"}
for k, lab in labels.items():
    line = next((l for l in lines if l.startswith("  " + lab + " ")), None)
    h = rep["heap"][k]
    want = [fmt_bytes(h["peak_bytes"]), fmt_ratio(h["peak_bytes"], rep["heap"]["heap_sys"]["peak_bytes"]),
            fmt_bytes(h["exit_bytes"]), fmt_ratio(h["exit_bytes"], rep["heap"]["heap_sys"]["exit_bytes"])]
    got = re.findall(r"-?[0-9.]+ (?:B|KiB|MiB|GiB)|-?[0-9.]+%", line or "")[-4:]
    check(f"text heap line {lab}", got, want)
start = lines.index(next(l for l in lines if l.startswith("Size classes")))
hdr = lines[start + 1].split()
for r in rep["classes"]:
    line = next((l for l in lines[start + 2:] if l.split() and l.split()[0] == str(r["class"])), "")
    f = re.split(r"(?<=\S)\s+(?=\S)", line.strip())
    # class size requests requested allocated waste live peak spans+ spans- span-use tail@peak
    vals = re.findall(r"-?[0-9.]+ (?:B|KiB|MiB|GiB)|-?[0-9.]+%|-?\d+|-", line)
    want = [str(r["class"]), "-" if r["size"] is None else str(r["size"]), str(r["requests"]),
            fmt_bytes(r["requested_bytes"]), fmt_bytes(r["allocated_bytes"]),
            fmt_ratio(r["waste_bytes"], r["allocated_bytes"]),
            str(r["live_objects"]), str(r["peak_objects"]), str(r["spans_created"]),
            str(r["spans_released"]),
            fmt_ratio(r["peak_objects"], (r["peak_spans"] or 0) * (r["objects_per_span"] or 0)),
            fmt_bytes(r["tail_waste_at_peak_bytes"])]
    check(f"text class row {r['class']}", vals, want)
for key, lab in (("blocks", "blocks opened"), ("objects", "tiny objects"), ("saved_bytes", "bytes saved")):
    line = next((l for l in lines if l.startswith("  " + lab + " ")), "")
    v = tiny[key]
    check(f"text tiny {lab}", line.split(lab, 1)[1].strip() if line else None,
          fmt_bytes(v) if key.endswith("bytes") else str(v))
for key, lab in (("this_allocated_bytes", "allocated, this mode"), ("other_allocated_bytes", "allocated, other mode")):
    line = next((l for l in lines if l.startswith("  " + lab + " ")), "")
    check(f"text other mode {lab}", line.split(lab, 1)[1].strip() if line else None, fmt_bytes(om[key]))
tstart = lines.index("Heap timeline")
trows = [l for l in lines[tstart + 2:] if re.match(r"\s+[0-9.]+ m?s ", l)]
check("text timeline: at most 20 rows", 2 <= len(trows) <= 20, True)
for row, sample in ((trows[0], tl[0]), (trows[-1], tl[-1])):
    got = re.findall(r"-?[0-9.]+ (?:B|KiB|MiB|GiB)", row.split("s ", 1)[1])[:3]
    check("text timeline endpoint", got, [fmt_bytes(sample[k]) for k in ("heap_alloc", "heap_inuse", "heap_sys")])
top = max(tl, key=lambda x: x["heap_alloc"])
check("text timeline shows the sample with the highest HeapAlloc",
      any(re.findall(r"-?[0-9.]+ (?:B|KiB|MiB|GiB)", r.split("s ", 1)[1])[:1] == [fmt_bytes(top["heap_alloc"])]
          for r in trows), True)
sections = re.findall(r"^# section (\S+)$", csv, re.M)
check("csv sections", sections, [k for k in rep if k not in ("format", "kind") and not k.endswith("_notes")])
csv_heap = csv.split("# section heap\n")[1].split("\n\n")[0].splitlines()
check("csv heap header", csv_heap[0], "key,peak_bytes,peak_pct_of_heap_sys,exit_bytes,exit_pct_of_heap_sys")
check("csv heap_alloc row", csv_heap[1].split(",")[1], str(rep["heap"]["heap_alloc"]["peak_bytes"]))

con.close()

# ---- report reads aggregates only: the same report without the event table -----
noev = os.path.join(tmp, "noev.db")
subprocess.run(["cp", db, noev], check=True)
c2 = sqlite3.connect(noev)
c2.executescript("DROP VIEW events; DROP TABLE event; VACUUM;")
c2.close()
rep2 = json.loads(subprocess.run([cli, "report", noev, "--format", "json"], check=True,
                                 capture_output=True, text=True).stdout)
rep2["run"]["file"] = rep["run"]["file"]
check("the report does not read the event table", rep2 == rep, True)
subprocess.run(["rm", "-rf", tmp])
check.finish("of the report's figures differ from the events")
