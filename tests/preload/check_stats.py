#!/usr/bin/env python3
"""check_stats.py LIB: the allocator's heap reports, as users ask for them.

  GOALLOC_STATS=1          one report per process on its stderr at exit,
                           titled with the program's name, its pid and mode;
  GOALLOC_STATS_FILE=PATH  the reports appended to PATH instead: a relative
                           PATH is the one of the cwd at start (the program
                           may chdir), programs that close their stderr before
                           exit (coreutils) still report, processes that exit
                           at the same time do not interleave, and a PATH that
                           cannot be opened is one line on stderr;
  malloc_stats()           the same figures, titled "now", at the call.

Every report is parsed strictly (the figure lines, the class table, live =
allocs - frees), so a torn or partial report fails.
"""
import os
import re
import subprocess
import sys
import tempfile

LIB = os.path.abspath(sys.argv[1])
FIGURES = ["HeapAlloc", "HeapInuse", "HeapIdle", "HeapReleased", "HeapSys", "NextGC"]
TITLE = re.compile(r"^goalloc: heap (at exit|now) of (\S+) \(pid (\d+); (C-safe|Go-exact) mode, tiny (on|off)\)$")
failed = 0


def fail(msg):
    global failed
    failed += 1
    print("FAIL: " + msg)


def preload_env(extra):
    """This environment without our knobs, with the preload and extra."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("GOALLOC_")}
    e.update(LD_PRELOAD=LIB, LC_ALL="C", **extra)
    return e


def run(argv, env=None, cwd=None):
    p = subprocess.run(argv, env=preload_env(env or {}), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def parse(text, what):
    """The reports in text, as dicts; fails on any line that is not part of one."""
    reports, cur = [], None
    for ln in text.splitlines():
        m = TITLE.match(ln)
        if m:
            cur = {"when": m[1], "prog": m[2], "pid": int(m[3]), "mode": m[4], "tiny": m[5],
                   "figures": [], "classes": {}, "table": False, "tinyline": False}
            reports.append(cur)
            continue
        if cur is None:
            fail(f"{what}: a line outside any report: {ln!r}")
            continue
        f = ln.split()
        if len(cur["figures"]) < len(FIGURES):
            want = FIGURES[len(cur["figures"])]
            if not f or f[0] != want:
                fail(f"{what}: expected the {want} line, got {ln!r}")
            cur["figures"].append(want)
        elif not cur["tinyline"]:
            if not re.match(r"^  tiny: \d+ objects in \d+ blocks; arenas: \d+$", ln):
                fail(f"{what}: expected the tiny line, got {ln!r}")
            cur["tinyline"] = True
        elif not cur["table"]:
            if f != ["class", "size", "allocs", "frees", "live"]:
                fail(f"{what}: expected the class table's header, got {ln!r}")
            cur["table"] = True
        else:
            if len(f) != 5 or not all(x.isdigit() for x in f[:1] + f[2:]):
                fail(f"{what}: a bad class line {ln!r}")
                continue
            cls, _, allocs, frees, live = f
            if int(allocs) - int(frees) != int(live):
                fail(f"{what}: class {cls}: live {live} is not allocs {allocs} - frees {frees}")
            if cls in cur["classes"]:
                fail(f"{what}: class {cls} twice in one report (interleaved reports?)")
            cur["classes"][cls] = int(allocs)
    for r in reports:
        if not r["table"] or not r["classes"]:
            fail(f"{what}: the report of {r['prog']} (pid {r['pid']}) is cut short")
    return reports


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


# 1. GOALLOC_STATS=1: the report on stderr, titled with name, pid and mode.
p = subprocess.Popen(["sh", "-c", "echo hi"], env=preload_env({"GOALLOC_STATS": "1"}),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
out, err = p.communicate(timeout=60)
reps = parse(err, "sh with GOALLOC_STATS=1")
if check(len(reps) == 1, f"sh with GOALLOC_STATS=1: {len(reps)} reports on stderr, expected 1:\n{err}"):
    r = reps[0]
    check((r["when"], r["prog"], r["pid"], r["mode"], r["tiny"]) == ("at exit", "sh", p.pid, "C-safe", "on"),
          f"sh's title names {r['when']}, {r['prog']}, pid {r['pid']}, {r['mode']}, tiny {r['tiny']}; "
          f"expected at exit, sh, pid {p.pid}, C-safe, tiny on")
check(out == "hi\n" and p.returncode == 0, f"sh printed {out!r} with status {p.returncode}")

rc, out, err = run(["sh", "-c", "echo hi"], {"GOALLOC_STATS": "1", "GOALLOC_GO_EXACT": "1", "GOALLOC_TINY": "0"})
reps = parse(err, "sh in Go-exact mode, tiny off")
check([(r["mode"], r["tiny"]) for r in reps] == [("Go-exact", "off")],
      f"Go-exact, tiny off: titles {[(r['mode'], r['tiny']) for r in reps]}")

# 2. GOALLOC_STATS_FILE, relative, with a chdir, a program that closes its
# stderr (seq, ls) and a nested shell: four reports in the file, none on stderr.
with tempfile.TemporaryDirectory() as d:
    os.mkdir(os.path.join(d, "out"))
    rc, out, err = run(["sh", "-c", "cd / && seq 1 3 && ls -d / && sh -c 'exit 0'"],
                       {"GOALLOC_STATS_FILE": "out/reports.txt"}, cwd=d)
    check(rc == 0 and out == "1\n2\n3\n/\n", f"the shell gave status {rc} and stdout {out!r}")
    check(err == "", f"with a GOALLOC_STATS_FILE, stderr is the program's alone; got {err!r}")
    path = os.path.join(d, "out", "reports.txt")
    if check(os.path.exists(path), "no GOALLOC_STATS_FILE out/reports.txt in the start-up cwd"):
        reps = parse(open(path).read(), "out/reports.txt")
        progs = sorted(r["prog"] for r in reps)
        check(progs == ["ls", "seq", "sh", "sh"], f"reports from {progs}, expected ls, seq, sh, sh")
        check(len({r["pid"] for r in reps}) == len(reps), "two reports with the same pid")
        check(all(r["when"] == "at exit" for r in reps), "a report in the file is not titled 'at exit'")

    # 3. Eight processes exiting together append whole reports.
    many = os.path.join(d, "many.txt")
    rc, out, err = run(["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do seq 1 200000 >/dev/null & done; wait"],
                       {"GOALLOC_STATS_FILE": many})
    check(rc == 0 and err == "", f"the parallel run gave status {rc}, stderr {err!r}")
    reps = parse(open(many).read(), "many.txt") if os.path.exists(many) else []
    check(sorted(r["prog"] for r in reps) == ["seq"] * 8 + ["sh"],
          f"parallel run: reports from {sorted(r['prog'] for r in reps)}, expected 8 seq and sh")

# 4. A path that cannot be opened: one line on stderr, the program unharmed.
rc, out, err = run(["sh", "-c", "echo hi"], {"GOALLOC_STATS_FILE": "/nonexistent-goalloc-dir/r.txt"})
check(rc == 0 and out == "hi\n", f"with an unopenable GOALLOC_STATS_FILE: status {rc}, stdout {out!r}")
check(err == "goalloc: cannot open GOALLOC_STATS_FILE /nonexistent-goalloc-dir/r.txt: No such file or directory\n",
      f"with an unopenable GOALLOC_STATS_FILE, stderr was {err!r}")

# 5. malloc_stats(): the figures now, on stderr, and no report at exit.
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
rc, out, err = run([PY, "-S", "-c", "import ctypes\nctypes.CDLL(None).malloc_stats()\nprint('ok')"])
reps = parse(err, "malloc_stats()")
check(rc == 0 and out == "ok\n", f"python calling malloc_stats(): status {rc}, stdout {out!r}")
check([r["when"] for r in reps] == ["now"], f"malloc_stats() printed {[r['when'] for r in reps]}, expected one 'now'")

print("check_stats: %s" % ("%d failures" % failed if failed else "ok"))
sys.exit(1 if failed else 0)
