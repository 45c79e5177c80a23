#!/usr/bin/env python3
"""check_compare.py CLI WORKLOAD: `compare` of two contrasting workloads
(report_workload mixed and odd), traced into one file as two runs and into
two files.  Both ways must give the same figures, and each figure is checked
against SQL over the files' tables: the peak figures (run table), each
class's requests, share and waste (class_stats), and the classes whose waste
differs most, recomputed here by the rule compare documents."""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

from figcheck import Checks, pct

cli, prog = sys.argv[1], sys.argv[2]
check = Checks('compare', 'want')


def run(*args, check_rc=True):
    p = subprocess.run([cli, *args], capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        sys.exit(f"FAIL: goalloc-trace {' '.join(args)}: exit {p.returncode}: {p.stderr}")
    return p


tmp = tempfile.mkdtemp()
one, a, b = (os.path.join(tmp, n) for n in ("one.db", "a.db", "b.db"))
for db, name, mode in ((one, "mixed", "mixed"), (one, "odd", "odd"), (a, "mixed", "mixed"), (b, "odd", "odd")):
    subprocess.run([cli, "run", "-q", "-o", db, "--name", name, "--", prog, mode], check=True,
                   stdout=subprocess.DEVNULL)

c1 = json.loads(run("compare", one, "--format", "json").stdout)
c2 = json.loads(run("compare", a, b, "--format", "json").stdout)
c3 = json.loads(run("compare", f"{one}:odd", f"{one}:1", "--format", "json").stdout)
check("one file: every run", [r["name"] for r in c1["runs"]], ["mixed", "odd"])
check("two files", [(r["name"], r["file"]) for r in c2["runs"]], [("mixed", a), ("odd", b)])
check("FILE:NAME and FILE:ID, in argument order", [(r["name"], r["run_id"]) for r in c3["runs"]],
      [("odd", 2), ("mixed", 1)])


def without_files(c):
    c = json.loads(json.dumps(c))
    for r in c["runs"]:
        del r["file"], r["run_id"], r["command"], r["events"]
    return c


# the two runs of each workload are separate executions: same program and
# seed, so the same requests; the figures may differ only in what depends on
# timing (none of the compared ones do)
check("one file and two files give the same figures", without_files(c1), without_files(c2))

con = sqlite3.connect(f"file:{one}?mode=ro", uri=True)
q = lambda sql, *p: con.execute(sql, p).fetchall()
names = ["heap_alloc", "requested", "heap_inuse", "heap_idle", "heap_released", "heap_sys"]
for i, (rid,) in enumerate(q("SELECT run_id FROM runs ORDER BY run_id")):
    p = dict(zip(names, q("""SELECT peak_heap_alloc, peak_requested, peak_heap_inuse, peak_heap_idle,
                               peak_heap_released, peak_heap_sys FROM run WHERE run_id=?""", rid)[0]))
    p["size_class_waste"] = p["heap_alloc"] - p["requested"]
    p["span_waste"] = p["heap_inuse"] - p["heap_alloc"]
    p["page_heap_waste"] = p["heap_idle"] - p["heap_released"]
    for k, v in p.items():
        check(f"run {rid} total {k}", c1["totals"][k]["runs"][i]["bytes"], v)
        check(f"run {rid} total {k} %", c1["totals"][k]["runs"][i]["pct_of_heap_sys"], pct(v, p["heap_sys"]))

stats = {}
for rid, cls, allocs, req, allocated in q("SELECT run_id, class, allocs, requested_bytes, allocated_bytes "
                                          "FROM class_stats ORDER BY run_id, class"):
    stats.setdefault(cls, {})[rid] = (allocs, req, allocated)
totals = dict(q("SELECT run_id, sum(allocs) FROM class_stats GROUP BY run_id"))
bytes_all = dict(q("SELECT run_id, sum(allocated_bytes) FROM class_stats GROUP BY run_id"))
used = sorted(c for c, per in stats.items() if any(v[0] for v in per.values()))
check("compare lists the classes any run used", [r["class"] for r in c1["classes"]], used)
want_diff = []
for r in c1["classes"]:
    c = r["class"]
    ws = []
    for i, rid in enumerate((1, 2)):
        allocs, req, allocated = stats[c].get(rid, (0, 0, 0))
        got = r["runs"][i]
        check(f"class {c} run {rid} requests", got["requests"], allocs)
        check(f"class {c} run {rid} share", got["requests_share_pct"], pct(allocs, totals[rid]))
        w = 100.0 * (allocated - req) / allocated if allocs and allocated else None
        check(f"class {c} run {rid} waste", got["waste_pct"], None if w is None else round(w, 2))
        if w is not None:
            ws.append((w, allocated / bytes_all[rid]))
    if len(ws) >= 2:
        spread = max(w for w, _ in ws) - min(w for w, _ in ws)
        score = spread * max(s for _, s in ws)
        if score > 0:
            want_diff.append((-score, c, min(w for w, _ in ws), max(w for w, _ in ws), spread,
                              100.0 * max(s for _, s in ws), score))
want_diff = sorted(want_diff)[:10]
check("the classes whose waste differs most (the documented rule)", [r["class"] for r in c1["differ_most"]],
      [d[1] for d in want_diff])
for r, d in zip(c1["differ_most"], want_diff):
    for k, v in zip(("waste_min_pct", "waste_max_pct", "spread_points", "bytes_share_pct", "score"), d[2:]):
        check(f"differ_most class {d[1]} {k}", r[k], round(v, 4 if k in ("spread_points", "score") else 2))
check("contrasting workloads: some class differs", len(want_diff) > 0, True)

text = run("compare", one).stdout
check("text fits 100 columns", max(len(l) for l in text.splitlines()), min(100, max(len(l) for l in text.splitlines())))
csv = run("compare", one, "--format", "csv").stdout
check("csv sections", [l for l in csv.splitlines() if l.startswith("# section")],
      ["# section runs", "# section totals", "# section classes", "# section differ_most"])
check("csv per-run headers", "run2:waste_pct" in csv.split("# section classes\n")[1].splitlines()[0], True)

p = run("compare", f"{one}:nosuchrun", check_rc=False)
check("unknown run: exit 1", p.returncode, 1)
check("unknown run: one line", p.stderr.count("\n"), 1)
check("unknown run: message", p.stderr.startswith(f"goalloc-trace: compare: {one}: no run"), True)

con.close()
subprocess.run(["rm", "-rf", tmp])
check.finish('compare figures differ')
