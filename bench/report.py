#!/usr/bin/python3
# report.py: how long `goalloc-trace report` and `compare` take on a large run.
# The target: report answers in under 2 seconds on a run of 100
# million events, because it reads aggregates, not raw events.
#
# It records one run of bench-churn large enough to make --events millions
# of events (default: 100M; aggregates only, as `run` stores by default),
# then times report in each format and compare of the run with itself,
# median of N repetitions each, and prints the figures and the verdict.
# --db reuses a database made before (the run must be its last).
#
# Benchmarks print figures; they never pass or fail a build (exit 0 unless
# nothing could run).  Standard library only.
import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as rb  # noqa: E402  (bench/run.py: machine facts)

T_REPORT_S = 2.0
EVENTS_PER_ITER = 2.91  # bench-churn: allocator events per iteration (measured: 99.2M for 34.1M)


def timed(argv):
	t0 = time.monotonic()
	r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
	dt = time.monotonic() - t0
	if r.returncode != 0:
		raise RuntimeError("%s exited %d: %s" % (" ".join(argv), r.returncode, r.stderr.decode()[-300:]))
	return dt


def main():
	ap = argparse.ArgumentParser(description="Time report and compare on a run of many events.")
	ap.add_argument("-b", "--build", default="build", help="the CMake build directory (default: ./build)")
	ap.add_argument("-e", "--events", type=float, default=100e6,
	                help="events the recorded run should have (default: 100e6)")
	ap.add_argument("-n", "--reps", type=int, default=5, help="repetitions per command (default: 5)")
	ap.add_argument("--db", help="use this database instead of recording a run")
	args = ap.parse_args()
	build = os.path.abspath(args.build)
	cli = os.path.join(build, "bin", "goalloc-trace")
	churn = os.path.join(build, "bin", "bench-churn")
	for p in (cli, churn):
		if not os.path.exists(p):
			print("report.py: cannot find %s: build the project first" % p)
			return 1
	tmp = tempfile.mkdtemp(prefix="goalloc-report-bench-")
	db = args.db
	print("goalloc-trace report/compare speed")
	print("command:  bench/report.py %s" % " ".join(sys.argv[1:]))
	print("load:     %s (1/5/15 min at start)" % rb.loadavg())
	if not db:
		db = os.path.join(tmp, "big.db")
		iters = int(args.events / EVENTS_PER_ITER * 1.02) + 1  # a margin: the rate varies a little
		print("recording bench-churn %d iterations (about %.0fM events)..." % (iters, args.events / 1e6),
		      flush=True)
		t = timed([cli, "run", "-q", "--stacks=off", "-o", db, "--", churn, str(iters)])
		print("recorded in %.1f s" % t)
	con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
	run_id, events = con.execute("SELECT run_id, events FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()
	con.close()
	size = os.path.getsize(db)
	print("database: %s, run %d: %.1fM events, %.1f MiB" % (db, run_id, events / 1e6, size / 2**20))
	print()
	print("  %-34s %9s %9s %9s" % ("command", "median s", "min s", "max s"))
	worst = 0.0
	for label, argv in [("report (text)", [cli, "report", db]),
	                    ("report --format json", [cli, "report", db, "--format", "json"]),
	                    ("report --format csv", [cli, "report", db, "--format", "csv"]),
	                    ("compare FILE:RUN FILE:RUN", [cli, "compare", "%s:%d" % (db, run_id),
	                                                   "%s:%d" % (db, run_id)])]:
		ts = [timed(argv) for _ in range(args.reps)]
		m = statistics.median(ts)
		if label.startswith("report"):
			worst = max(worst, m)
		print("  %-34s %9.3f %9.3f %9.3f" % (label, m, min(ts), max(ts)))
	print()
	verdict = "MET" if events >= 100e6 and worst < T_REPORT_S else "NOT MET"
	if events < 100e6:
		verdict += " (the run has fewer than 100M events: not judged)"
	print("Target: report answers in under %.0f s on a run of 100M events: slowest format %.3f s "
	      "on %.1fM events  %s" % (T_REPORT_S, worst, events / 1e6, verdict))
	if not args.db:
		for f in os.listdir(tmp):
			os.unlink(os.path.join(tmp, f))
		os.rmdir(tmp)
	return 0


if __name__ == "__main__":
	sys.exit(main())
