#!/usr/bin/env python3
"""fuzz_report.py CLI WORKLOAD [N]: a damaged database never crashes report.

Traces WORKLOAD into a real database, then makes N (default 200) damaged
copies with a fixed seed: truncated at a random offset, random bytes
flipped, a random 4 KiB page zeroed, or a few of those at once.  Runs
`report` (the last run, and run 1) and `compare` on each in every format,
and fails if a run is killed by a signal, hangs, prints more than one line
on stderr (or nothing when it fails), or leaves a -wal/-shm file behind."""
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


for i in range(n):
    path = os.path.join(tmp, f"m{i}.db")
    with open(path, "wb") as f:
        f.write(mutate(orig))
    for fmt in ("text", "json", "csv"):
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
