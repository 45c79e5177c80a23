#!/usr/bin/env python3
"""fuzz_report.py CLI WORKLOAD [N]: a damaged database never crashes report.

Traces WORKLOAD into a real database, then makes N (default 200) damaged
copies with a fixed seed: truncated at a random offset, random bytes
flipped, a random 4 KiB page zeroed, or a few of those at once; and one in
four a well-formed copy whose numbers are made absurd (NULL, negative,
int64 extremes, text, blobs).  Runs
`report` (the last run, and run 1) and `compare` on each in every format,
and fails if a run is killed by a signal, hangs, prints more than one line
on stderr (or nothing when it fails), writes JSON that does not parse (in
html: the page's data element), or leaves a -wal/-shm file behind."""
import json
import os
import random
import subprocess
import sys
import tempfile

cli, prog = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
tmp = tempfile.mkdtemp()
good = os.path.join(tmp, "good.db")
subprocess.run([cli, "run", "-q", "-o", good, "--", prog, "mixed"], check=True, stdout=subprocess.DEVNULL)
subprocess.run([cli, "run", "-q", "-o", good, "--name", "odd", "--", prog, "odd"], check=True,
               stdout=subprocess.DEVNULL)
orig = open(good, "rb").read()
rng = random.Random(20261122)
failures, outcomes = [], {"ok": 0, "error": 0}


def mutate(data):
    data = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        kind = rng.choice(("truncate", "flip", "flip", "zero_page"))
        if kind == "truncate" and len(data) > 1:
            del data[rng.randrange(1, len(data)):]
        elif kind == "flip":
            for _ in range(rng.randint(1, 24)):
                if data:
                    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == "zero_page" and len(data) >= 4096:
            p = rng.randrange(len(data) // 4096)
            data[p * 4096:(p + 1) * 4096] = bytes(4096)
    return bytes(data)


# Value mutants: a well-formed file whose numbers are absurd (NULL,
# negative, the extremes of int64, text, blobs, huge reals).
import sqlite3
ABSURD = [None, -1, -(1 << 63), (1 << 63) - 1, 1 << 62, "text", b"\x00\xff", 1e300, -1e300, 0,
          "line\nbreak \"quoted\", comma", "\u00e9\u20ac"]
COLUMNS = {"run": ["run_id", "mode", "tiny", "duration_ns", "exit_status", "peak_t_ns", "peak_heap_alloc",
                   "peak_requested", "peak_heap_inuse", "peak_heap_idle", "peak_heap_released",
                   "peak_heap_sys", "events", "name"],
           "class_stat": ["class", "allocs", "requested_bytes", "allocated_bytes", "peak_live_objects",
                          "live_objects", "spans_created", "spans_released"],
           "size_class": ["class", "size", "npages", "objects", "tail_waste"],
           "tiny_stat": ["blocks", "objects", "bytes_requested"],
           "heap_sample": ["t_ns", "heap_alloc", "heap_inuse", "heap_sys"],
           "request_size": ["size", "tiny", "allocs", "live_objects"],
           "class_span": ["class", "peak_spans"]}


def value_mutant(path):
    with open(path, "wb") as f:
        f.write(orig)
    con = sqlite3.connect(path)
    for _ in range(rng.randint(1, 6)):
        table = rng.choice(sorted(COLUMNS))
        col = rng.choice(COLUMNS[table])
        where = "" if rng.random() < 0.3 else f" WHERE rowid IN (SELECT rowid FROM {table} ORDER BY random() LIMIT 3)"
        if table in ("heap_sample", "request_size", "class_span"):  # WITHOUT ROWID
            where = ""
        try:
            con.execute(f"UPDATE OR IGNORE {table} SET {col} = ?{where}", (rng.choice(ABSURD),))
        except sqlite3.DatabaseError:
            pass
    con.commit()
    con.close()


for i in range(n):
    path = os.path.join(tmp, f"m{i}.db")
    if i % 4 == 3:
        value_mutant(path)
    else:
        with open(path, "wb") as f:
            f.write(mutate(orig))
    for fmt in ("text", "json", "csv", "html"):
        for extra in ([], ["--run", "1"], ["compare"]):
            args = ["compare", path, "--format", fmt] if extra == ["compare"] else \
                ["report", path, "--format", fmt, *extra]
            try:
                p = subprocess.run([cli, *args], capture_output=True, timeout=20)
            except subprocess.TimeoutExpired:
                failures.append(f"m{i} {fmt} {extra}: hung")
                continue
            err = p.stderr.decode(errors="replace")
            if p.returncode < 0:
                failures.append(f"m{i} {fmt} {extra}: killed by signal {-p.returncode}: {err.strip()}")
            elif err.count("\n") > 1 or (p.returncode != 0 and not err.strip()):
                failures.append(f"m{i} {fmt} {extra}: exit {p.returncode}, stderr {err!r}")
            elif p.returncode == 0 and not p.stdout:
                failures.append(f"m{i} {fmt} {extra}: exit 0 with no output")
            elif p.returncode == 0 and fmt in ("json", "html"):
                try:
                    text = p.stdout.decode("utf-8")
                    if fmt == "html":
                        start = text.index('id="goalloc-data">') + len('id="goalloc-data">')
                        text = text[start:text.index("</script>", start)]
                    json.loads(text)
                except (ValueError, UnicodeDecodeError) as e:
                    failures.append(f"m{i} {fmt} {extra}: not valid JSON: {e}")
            outcomes["ok" if p.returncode == 0 else "error"] += 1
    os.unlink(path)
    for side in ("-wal", "-shm"):
        if os.path.exists(path + side):
            failures.append(f"m{i}: report left {path + side} behind")
            os.unlink(path + side)

subprocess.run(["rm", "-rf", tmp])
for f in failures[:30]:
    print("FAIL:", f)
print(f"{'FAIL' if failures else 'ok'}: {n} damaged copies, {outcomes['ok']} reports, "
      f"{outcomes['error']} one-line errors, {len(failures)} failures")
sys.exit(1 if failures else 0)
