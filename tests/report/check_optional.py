#!/usr/bin/env python3
"""check_optional.py CLI WORKLOAD: the report's optional sections, against
tables this test builds itself (the real ones are being added elsewhere):
  - allocation sites: view site_stats(run_id, stack_id, class, allocs,
    requested_bytes, allocated_bytes, waste_bytes, live_bytes_at_end) and
    sites(run_id, stack_id, frames): the top 10 stacks by summed waste with
    their first three frames;
  - the kernel's view: kernel_timeline(run_id, t_ns, pid, rss_bytes,
    page_faults): RSS at the peak and at exit (per pid the latest sample at
    or before the time, summed), the gap to HeapInuse, page faults per MiB
    allocated.
Each figure is computed here with SQL; the sections must be absent when the
tables are missing or hold no rows for the run."""
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile

from figcheck import Checks

cli, prog = sys.argv[1], sys.argv[2]
check = Checks('report', 'want', tol=0.00051, either=False)


def report(db, fmt="json"):
    p = subprocess.run([cli, "report", db, "--format", fmt], capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"FAIL: report {db}: {p.stderr}")
    return json.loads(p.stdout) if fmt == "json" else p.stdout


tmp = tempfile.mkdtemp()
db = os.path.join(tmp, "o.db")
subprocess.run([cli, "run", "-q", "-o", db, "--", prog, "mixed"], check=True, stdout=subprocess.DEVNULL)
# The schema may already define these names (when the sites and kernel
# work is in): this test replaces them with tables whose rows it controls.
con = sqlite3.connect(db)
for name, kind in con.execute("SELECT name, type FROM sqlite_master WHERE name IN "
                              "('site_stats', 'sites', 'kernel_timeline') AND type IN ('table', 'view')").fetchall():
    con.execute(f"DROP {kind.upper()} {name}")
con.commit()
con.close()
base = report(db)
check("no sites section without the tables", "sites" in base, False)
check("no kernel section without the table", "kernel" in base, False)

con = sqlite3.connect(db)
rng = random.Random(7)
con.executescript("""
CREATE TABLE site_stats(run_id, stack_id, class, allocs, requested_bytes, allocated_bytes, waste_bytes,
                        live_bytes_at_end);
CREATE TABLE sites(run_id, stack_id, frames TEXT);
CREATE TABLE kernel_timeline(run_id, t_ns, pid, rss_bytes, page_faults);
""")
con.execute("INSERT INTO site_stats VALUES(99, 1, 5, 1, 1, 1, 1, 1)")  # another run: no rows for ours
con.commit()
empty = report(db)
check("no sites section when the run has no rows", "sites" in empty, False)
check("no kernel section when the run has no rows", "kernel" in empty, False)

for stack in range(1, 16):
    for cls in rng.sample(range(1, 68), rng.randint(1, 3)):
        a = rng.randint(1, 1000)
        req = a * rng.randint(8, 200)
        allocated = req + rng.randint(0, 50000)
        con.execute("INSERT INTO site_stats VALUES(1, ?, ?, ?, ?, ?, ?, ?)",
                    (stack, cls, a, req, allocated, allocated - req, rng.randint(0, allocated)))
    if stack != 4:  # stack 4 has no symbolized frames
        frames = "\n".join(f"fn{stack}_{k} (file.c:{k})" for k in range(rng.randint(1, 5)))
        con.execute("INSERT INTO sites VALUES(1, ?, ?)", (stack, frames))
    con.execute("INSERT INTO site_stats VALUES(2, ?, 5, 1, 1, 9999999, 9999998, 0)", (stack + 100,))
peak_t, end, peak_inuse = con.execute("SELECT peak_t_ns, duration_ns, peak_heap_inuse FROM run WHERE run_id=1").fetchone()
for pid, stop in ((100, end), (101, peak_t + (end - peak_t) // 2)):
    faults = 0
    for t in range(0, stop, 5_000_000):
        faults += rng.randint(0, 300)
        con.execute("INSERT INTO kernel_timeline VALUES(1, ?, ?, ?, ?)", (t, pid, rng.randint(1, 1 << 26), faults))
con.execute("INSERT INTO kernel_timeline VALUES(1, ?, 100, 123, 999999)", (end + 1,))  # after the end
con.execute("INSERT INTO kernel_timeline VALUES(2, 0, 100, 1, 1)")
con.commit()

rep = report(db)
want_sites = con.execute("""
  SELECT stack_id, sum(allocs), sum(requested_bytes), sum(allocated_bytes), sum(waste_bytes), sum(live_bytes_at_end)
  FROM site_stats WHERE run_id = 1 GROUP BY stack_id ORDER BY sum(waste_bytes) DESC LIMIT 10""").fetchall()
check("sites: the top 10 stacks by waste", [s["stack_id"] for s in rep.get("sites", [])], [w[0] for w in want_sites])
for got, w in zip(rep.get("sites", []), want_sites):
    for k, v in zip(("allocs", "requested_bytes", "allocated_bytes", "waste_bytes", "live_bytes_at_end"), w[1:]):
        check(f"site {w[0]} {k}", got[k], v)
    fr = con.execute("SELECT frames FROM sites WHERE run_id = 1 AND stack_id = ?", (w[0],)).fetchone()
    check(f"site {w[0]} frames", got["frames"], " < ".join(fr[0].split("\n")[:3]) if fr else "?")


def rss_at(t):
    return con.execute("""
      SELECT coalesce(sum(rss_bytes), 0), coalesce(sum(page_faults), 0) FROM kernel_timeline k
      WHERE run_id = 1 AND t_ns = (SELECT max(t_ns) FROM kernel_timeline k2
                                   WHERE k2.run_id = 1 AND k2.pid = k.pid AND k2.t_ns <= ?)""", (t,)).fetchone()


k = rep.get("kernel", {})
rss_peak, _ = rss_at(peak_t)
rss_exit, faults = rss_at(end)
exit_inuse = rep["heap"]["heap_inuse"]["exit_bytes"]
allocated = con.execute("SELECT sum(allocated_bytes) FROM class_stat WHERE run_id = 1").fetchone()[0]
check("kernel: RSS at peak", k.get("rss_at_peak_bytes"), rss_peak)
check("kernel: RSS - HeapInuse at peak", k.get("rss_minus_heap_inuse_at_peak_bytes"), rss_peak - peak_inuse)
check("kernel: RSS at exit", k.get("rss_at_exit_bytes"), rss_exit)
check("kernel: RSS - HeapInuse at exit", k.get("rss_minus_heap_inuse_at_exit_bytes"), rss_exit - exit_inuse)
check("kernel: page faults", k.get("page_faults"), faults)
check("kernel: bytes allocated", k.get("allocated_bytes"), allocated)
check("kernel: page faults per MiB", k.get("page_faults_per_mib"), round(faults / (allocated / 1048576), 4))
text = report(db, "text")
check("text: sites section", "Allocation sites with the most size-class waste" in text, True)
check("text: kernel section", "The kernel's view" in text, True)
check("text fits 100 columns", max(len(l) for l in text.splitlines()) <= 100, True)
con.close()
subprocess.run(["rm", "-rf", tmp])
check.finish('figures of the optional sections differ')
