#!/usr/bin/python3
"""ab.py: one program under two preload libraries, run in alternating pairs.

    bench/ab.py [-n PAIRS] [-e VAR=VALUE ...] LIB_A LIB_B -- PROGRAM [ARGS...]
    bench/ab.py [-n PAIRS] [-b BUILD] -w WORKLOAD LIB_A LIB_B

Runs PROGRAM with LD_PRELOAD=LIB_A, then with LIB_B, PAIRS times (default
8), and prints each side's median wall time and the median of the per-pair
ratios B/A.  On a shared machine whose speed drifts between runs by up to
2x, the per-pair ratio is steadier than either side's time: both halves of
a pair meet nearly the same load.  "" or "none" as a library means no
preload (glibc's malloc).  A run that exits non-zero stops the comparison:
a ratio of a failed run means nothing.  The runs get run.py's environment
(the caller's less LD_PRELOAD, PYTHONMALLOC, GOALLOC_STATS and the like)
plus each -e VAR=VALUE: python's workload is
`-e PYTHONMALLOC=malloc ... -- /usr/bin/python3 bench/py_objects.py 5`.

With -w, the program is one of run.py's workloads (bench/run.py --list),
prepared as run.py prepares it (generated inputs, its environment, such as
python's PYTHONMALLOC=malloc) and timed by bench-spawn as run.py times it;
each run's output must match the first run's, as in run.py.

For changes too small for this, or for numbers that do not move with the
machine's load, see cachesim.py.  It is a tool for comparing builds, not a
test.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def run_once(lib, argv, extra):
    env = run.base_env()  # the caller's environment less what would skew a run
    env.update(extra)
    if lib not in ("", "none"):
        env["LD_PRELOAD"] = lib
    t0 = time.monotonic()
    r = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.monotonic() - t0
    if b"cannot be preloaded" in r.stderr:
        sys.exit("ab.py: the loader did not preload %s" % lib)
    if r.returncode != 0:
        err = r.stderr.decode(errors="replace").strip().splitlines()
        sys.exit("ab.py: %s under %s exited with %d%s" % (
            argv[0], lib or "no preload", r.returncode, (": " + err[-1]) if err else ""))
    return dt


def workload_runner(build, name):
    """A function lib -> seconds running run.py's workload `name` under lib,
    and a cleanup function."""
    w = next((w for w in run.WORKLOADS if w.name == name), None)
    if w is None:
        sys.exit("ab.py: no workload %r (bench/run.py --list)" % name)
    missing = [p for p in w.needs if not os.path.exists(p) and not shutil.which(p)]
    if missing:
        sys.exit("ab.py: workload %s needs %s" % (name, ", ".join(missing)))
    spawner = os.path.join(build, "bin", "bench-spawn")
    if not os.path.exists(spawner):
        sys.exit("ab.py: %s is not built (cmake --build %s)" % (spawner, build))
    tmp = tempfile.mkdtemp(prefix="ab-")
    try:
        spec = w.prepare(build, tmp)
    except run.Missing as e:
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit("ab.py: workload %s: %s" % (name, e))
    first = []

    def once(lib):
        alloc = run.Allocator(lib or "glibc", None, [])
        alloc.lib = lib if lib not in ("", "none") else None
        r = run.run_once(spec, alloc, tmp, 300, spawner)
        if not r.ok:
            sys.exit("ab.py: %s under %s: %s" % (name, lib or "no preload", r.error))
        if "cannot be preloaded" in r.stderr:
            sys.exit("ab.py: %s: the loader did not preload %s" % (name, lib))
        if not first:
            first.append(r.digest)
        elif r.digest != first[0]:
            sys.exit("ab.py: %s under %s: its output differs from the first run's" % (name, lib or "no preload"))
        return r.secs
    return once, lambda: shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(
        description="Run a program under two preload libraries in alternating pairs; "
                    "print median times and the median per-pair ratio B/A.")
    ap.add_argument("-n", "--pairs", type=int, default=8, help="pairs of runs (default 8)")
    ap.add_argument("-e", "--env", action="append", default=[], metavar="VAR=VALUE",
                    help="set VAR in both sides' environment (repeatable)")
    ap.add_argument("-w", "--workload", help="one of run.py's workloads instead of a program")
    ap.add_argument("-b", "--build", default="build", help="build directory for -w (default ./build)")
    ap.add_argument("lib_a", help='library A (the baseline); "" or none: no preload')
    ap.add_argument("lib_b", help="library B")
    ap.add_argument("argv", nargs=argparse.REMAINDER, help="-- PROGRAM [ARGS...]")
    a = ap.parse_args()
    argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
    if not argv and not a.workload:
        ap.error("no program given (put it after --, or name a workload with -w)")
    if argv and a.workload:
        ap.error("-w runs a workload: give no program")
    if a.pairs < 1:
        ap.error("--pairs must be at least 1")
    extra = {}
    for kv in a.env:
        k, eq, v = kv.partition("=")
        if not k or not eq:
            ap.error("-e wants VAR=VALUE, not %r" % kv)
        extra[k] = v
    for lib in (a.lib_a, a.lib_b):
        if lib not in ("", "none") and not os.path.isfile(lib):
            ap.error("no such library: %s" % lib)
    # absolute: a workload runs in its own directory, where a relative
    # LD_PRELOAD would name nothing and the loader would run it on glibc
    a.lib_a, a.lib_b = (os.path.abspath(lib) if lib not in ("", "none") else lib for lib in (a.lib_a, a.lib_b))
    if a.workload:
        if extra:
            ap.error("-e does not go with -w: the workload has its own environment")
        once, cleanup = workload_runner(os.path.abspath(a.build), a.workload)
    else:
        once, cleanup = (lambda lib: run_once(lib, argv, extra)), (lambda: None)
    ta, tb, ratios = [], [], []
    try:
        for i in range(a.pairs):
            x = once(a.lib_a)
            y = once(a.lib_b)
            ta.append(x)
            tb.append(y)
            ratios.append(y / x)
            print("pair %d/%d: A %.3f s  B %.3f s  B/A %.3f" % (i + 1, a.pairs, x, y, y / x), flush=True)
    finally:
        cleanup()
    print("A median %.3f s  B median %.3f s  B/A median %.3f  (%d pairs, ratios %.3f..%.3f)" % (
        statistics.median(ta), statistics.median(tb), statistics.median(ratios), a.pairs,
        min(ratios), max(ratios)))


if __name__ == "__main__":
    main()
