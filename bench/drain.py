#!/usr/bin/python3
# drain.py: the drainer's capacity, measured on its own.  For each workload
# of run.py (imported, as trace.py does) it records one real run
# (GOALLOC_TRACE_RECORD=FILE goalloc-trace run --stacks=off --bpf=off ...:
# every round's records as the drainer consumed them, and the processes the
# CLI reaped), then replays the recording N times through the real drain
# path at full speed (`goalloc-trace replay`, cli/cmd_replay.c): the model
# only (aggregates), and with --events (raw rows into SQLite as well).  It
# prints, per workload and mode, the median and range over the repetitions
# of the drainer's events per CPU-second, and for --events the database's
# bytes per event; then all workloads' events over all their median CPU
# seconds, and issue 3's drainer targets judged on those figures.
#
# What the figures are: the CPU time of the process replaying (getrusage),
# over its rounds and periodic flushes ("drain": what keeping up with a
# running program costs) and, for --events, also over the final flush and
# closing the database ("total": the rows on disk).  Unlike the drainer
# CPU in `run`'s summary they exclude idle polling while the target runs,
# and the records come from memory written long before, not from the
# producer's cache (a real drainer also pays for moving each ring line
# from the producer's core).  Same per-event work as `run`: same rounds,
# same model, same database writer.
#
# Benchmarks print figures; they never pass or fail a build.
# Standard library only; run it with Debian's /usr/bin/python3.
# Usage: bench/drain.py --help

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as rb  # noqa: E402

DEFAULT = ["churn", "prodcons", "larson", "python", "gcc", "sqlite"]
REP = re.compile(r"rep \d+: (\d+) events; drain CPU ([\d.]+) s .*?total CPU ([\d.]+) s .*?wall ([\d.]+) s"
                 r"(?:.*?db (\d+) bytes)?")


def record(cli, wl, build, tmp, scale, rec):
	spec = wl.prepare(build, tmp, scale)
	db = os.path.join(tmp, "rec.db")
	for suf in ("", "-wal", "-shm"):
		if os.path.exists(db + suf):
			os.unlink(db + suf)
	env = rb.base_env()
	env.update(spec.env)
	env["GOALLOC_TRACE_RECORD"] = rec
	stdin = open(spec.stdin) if spec.stdin else subprocess.DEVNULL
	p = subprocess.run([cli, "run", "-q", "--stacks=off", "--bpf=off", "-o", db, "--"] + spec.argv,
	                   env=env, cwd=spec.cwd or tmp, stdin=stdin, stdout=subprocess.DEVNULL,
	                   stderr=subprocess.PIPE)
	if spec.stdin:
		stdin.close()
	if p.returncode != 0:
		raise RuntimeError("recording failed (status %d): %s" % (p.returncode, p.stderr.decode()[-300:]))
	return " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(spec.argv))


def replay(cli, rec, reps, events, tmp):
	argv = [cli, "replay", "-n", str(reps), "-o", os.path.join(tmp, "replay.db")]
	if events:
		argv.append("--events")
	p = subprocess.run(argv + [rec], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
	if p.returncode != 0:
		raise RuntimeError("replay failed: %s" % p.stderr.decode()[-300:])
	runs = [m.groups() for m in REP.finditer(p.stdout.decode())]
	return [(int(n), float(dc), float(tc), float(w), int(b) if b else 0) for n, dc, tc, w, b in runs]


def fmt_rate(xs):
	xs = sorted(xs)
	return "%6.2fM %6.2f..%-6.2f" % (statistics.median(xs) / 1e6, xs[0] / 1e6, xs[-1] / 1e6)


def main():
	ap = argparse.ArgumentParser(description="The drainer's capacity: record real runs, replay them "
	                             "through the drain path, print events per CPU-second.")
	ap.add_argument("-b", "--build", default="build", help="build directory (default ./build)")
	ap.add_argument("-n", "--reps", type=int, default=5, help="replays per workload and mode (default 5)")
	ap.add_argument("-s", "--scale", type=float, default=0.25, help="workload size (default 0.25)")
	ap.add_argument("-m", "--modes", default="agg,events", help="agg, events or both (default)")
	ap.add_argument("--keep", help="directory to keep the recordings in (reused if present)")
	ap.add_argument("workloads", nargs="*", help="default: %s" % " ".join(DEFAULT))
	a = ap.parse_args()
	build = os.path.abspath(a.build)
	cli = os.path.join(build, "bin", "goalloc-trace")
	names = a.workloads or DEFAULT
	modes = a.modes.split(",")
	wls = {w.name: w for w in rb.WORKLOADS}
	print("goalloc-trace drainer capacity (bench/drain.py %s)" % " ".join(sys.argv[1:]))
	print("load:     %s (1/5/15 min load average at start)" % " ".join(open("/proc/loadavg").read().split()[:3]))
	print("build:    %s, git %s" % (build, subprocess.run(["git", "-C", os.path.dirname(__file__), "rev-parse",
	                                                       "--short", "HEAD"], stdout=subprocess.PIPE).stdout.decode().strip()))
	print("method:   one recorded run per workload (scale %g, --stacks=off --bpf=off), replayed %d times "
	      "per mode;\n          median (min..max) of events per CPU-second of the replaying process" % (a.scale, a.reps))
	print()
	print("  %-9s %9s  %-26s %-26s %-26s %8s" % ("workload", "events", "aggregates: drain ev/CPU-s",
	                                          "--events: drain ev/CPU-s", "--events: total ev/CPU-s", "B/event"))
	tot = {"agg": [0, 0.0], "ev": [0, 0.0]}
	worst_ev = None
	max_b = 0.0
	with tempfile.TemporaryDirectory(prefix="goalloc-drain-") as tmp:
		for name in names:
			wl = wls[name]
			rec = os.path.join(a.keep or tmp, name + ".rec")
			try:
				if not (a.keep and os.path.exists(rec)):
					record(cli, wl, build, tmp, a.scale, rec)
				cells = []
				nev = 0
				if "agg" in modes:
					r = replay(cli, rec, a.reps, False, tmp)
					nev = r[0][0]
					cells.append(fmt_rate([n / dc for n, dc, _, _, _ in r]))
					tot["agg"][0] += nev
					tot["agg"][1] += statistics.median(dc for _, dc, _, _, _ in r)
				else:
					cells.append("-")
				if "events" in modes:
					r = replay(cli, rec, a.reps, True, tmp)
					nev = r[0][0]
					cells.append(fmt_rate([n / dc for n, dc, _, _, _ in r]))
					rates = [n / tc for n, _, tc, _, _ in r]
					cells.append(fmt_rate(rates))
					bpe = statistics.median(b / n for n, _, _, _, b in r)
					cells.append("%8.1f" % bpe)
					tot["ev"][0] += nev
					tot["ev"][1] += statistics.median(tc for _, _, tc, _, _ in r)
					med = statistics.median(rates)
					if worst_ev is None or med < worst_ev[1]:
						worst_ev = (name, med)
					max_b = max(max_b, bpe)
				else:
					cells += ["-", "-"]
				print("  %-9s %8.2fM  %-26s %-26s %-26s %8s" % (name, nev / 1e6, *cells[:3], cells[3] if len(cells) > 3 else "-"))
			except (RuntimeError, rb.Missing) as e:
				print("  %-9s FAILED: %s" % (name, e))
			sys.stdout.flush()
	print()
	if tot["agg"][1] > 0:
		agg = tot["agg"][0] / tot["agg"][1]
		print("all workloads, aggregates: %.2fM events / %.3f CPU-s = %.2fM events per drainer CPU-second" %
		      (tot["agg"][0] / 1e6, tot["agg"][1], agg / 1e6))
		print("  target: drainer keeps up with 30M events/s into the aggregates: %s" %
		      ("MET" if agg >= 30e6 else "NOT MET"))
	if tot["ev"][1] > 0:
		ev = tot["ev"][0] / tot["ev"][1]
		print("all workloads, --events: %.2fM events / %.3f CPU-s = %.2fM raw events stored per CPU-second"
		      " (lowest %s %.2fM); at most %.1f B/event" %
		      (tot["ev"][0] / 1e6, tot["ev"][1], ev / 1e6, worst_ev[0], worst_ev[1] / 1e6, max_b))
		print("  target: --events stores >= 1.5M raw events/s at <= 40 B each: %s (judged on the lowest)" %
		      ("MET" if worst_ev[1] >= 1.5e6 and max_b <= 40 else "NOT MET"))
	print("load:     %s (at the end)" % " ".join(open("/proc/loadavg").read().split()[:3]))


if __name__ == "__main__":
	main()
