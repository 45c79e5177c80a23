#!/usr/bin/python3
# cachesim.py: the bench-* workloads under every allocator, counted rather
# than timed.  Each runs once per allocator under valgrind's cachegrind
# (instructions executed, data reads and writes, simulated L1d and last-level
# misses with a fixed cache geometry), and the counts are printed as ratios
# to glibc's.  A count is the same from run to run on a shared, noisy
# machine, where wall time of the same binary varies by 2x (BENCHMARKS.md);
# it says where an allocator's time goes (its own instructions, or the
# misses its placement gives the program), not how long it takes.
#
# Reuses run.py's allocator discovery and workload list; only the bench-*
# programs are counted (real programs under valgrind take too long), at a
# reduced scale.  Multi-threaded workloads are serialised by valgrind, so
# their counts show instructions and misses, not contention.
# Usage: bench/cachesim.py --help
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

# Counted events, in cachegrind's summary wording.
FIELDS = [("Ir", r"I\s+refs:\s+([\d,]+)"),
          ("Dr+Dw", r"D\s+refs:\s+([\d,]+)"),
          ("D1 rd miss", r"D1\s+misses:\s+[\d,]+\s+\(\s*([\d,]+) rd"),
          ("D1 wr miss", r"D1\s+misses:\s+[\d,]+\s+\(\s*[\d,]+ rd\s+\+\s+([\d,]+) wr"),
          ("LLd miss", r"LLd misses:\s+([\d,]+)")]


def count(spec, alloc, tmp, args):
	"""Cachegrind's counts for one run, or a string saying why there are none."""
	env = run.base_env()
	env.update(spec.env)
	if alloc.lib:
		env["LD_PRELOAD"] = alloc.lib
	log = os.path.join(tmp, "cg.log")
	argv = ["valgrind", "--tool=cachegrind", "--cache-sim=yes",
	        "--I1=32768,8,64", "--D1=%d,8,64" % args.d1, "--LL=%d,16,64" % args.ll,
	        "--cachegrind-out-file=/dev/null", "--log-file=" + log] + spec.argv
	try:
		r = subprocess.run(argv, env=env, cwd=spec.cwd or tmp, stdout=subprocess.DEVNULL,
		                   stderr=subprocess.DEVNULL, timeout=args.timeout)
	except subprocess.TimeoutExpired:
		return "timed out"
	if r.returncode != 0:
		return "exit status %d" % r.returncode
	text = open(log).read()
	out = {}
	for name, rx in FIELDS:
		m = re.search(rx, text)
		if not m:
			return "no %s in cachegrind's log" % name
		out[name] = int(m.group(1).replace(",", ""))
	return out


def main():
	names = [w.name for w in run.WORKLOADS if w.name in ("churn", "realloc", "prodcons", "larson")]
	p = argparse.ArgumentParser(
		description="Count instructions and simulated cache misses of the bench-* workloads "
		            "under glibc, jemalloc, tcmalloc-minimal, mimalloc and libgoalloc.so "
		            "(valgrind's cachegrind), as ratios to glibc.")
	p.add_argument("workloads", nargs="*", help="subset of: " + " ".join(names))
	p.add_argument("-b", "--build", default=os.path.join(run.REPO, "build"),
	               help="build directory holding bin/ and lib/ (default: ./build)")
	p.add_argument("-a", "--allocators", help="comma-separated subset (glibc always runs)")
	p.add_argument("-s", "--scale", type=float, default=0.15,
	               help="fraction of each workload's default work (default 0.15)")
	p.add_argument("--d1", type=int, default=32768, help="simulated L1d bytes (default 32 KiB)")
	p.add_argument("--ll", type=int, default=1 << 20,
	               help="simulated last-level bytes (default 1 MiB, standing in for a core's "
	                    "L2, since the working sets fit a shared L3)")
	p.add_argument("--timeout", type=int, default=900, help="seconds per run (default 900)")
	args = p.parse_args()
	if not shutil.which("valgrind"):
		sys.exit("cachesim.py: valgrind is not installed (apt-get install valgrind)")
	bad = [w for w in args.workloads if w not in names]
	if bad:
		sys.exit("cachesim.py: unknown workload %s (have: %s)" % (", ".join(bad), " ".join(names)))
	chosen = [w for w in run.WORKLOADS if w.name in (args.workloads or names)]
	allocs = run.make_allocators(os.path.abspath(args.build))
	if args.allocators:
		keep = set(args.allocators.split(",")) | {"glibc"}
		allocs = [a for a in allocs if a.name in keep]
	for a in allocs:
		if a.missing:
			run.out("%-9s %s" % (a.name, a.missing))
	allocs = [a for a in allocs if not a.missing]
	run.out("cachegrind: D1 %d B 8-way, LL %d B 16-way, 64 B lines; scale %g"
	      % (args.d1, args.ll, args.scale))
	with tempfile.TemporaryDirectory(prefix="goalloc-cachesim-") as tmp:
		for w in chosen:
			spec = w.prepare(os.path.abspath(args.build), tmp, args.scale)
			run.out("\n%s: %s" % (w.name, " ".join(os.path.basename(a) if i == 0 else a
			                                     for i, a in enumerate(spec.argv))))
			res = {}
			for a in allocs:
				run.progress("%s under %s ..." % (w.name, a.name))
				res[a.name] = count(spec, a, tmp, args)
			run.progress("")
			base = res.get("glibc")
			run.out("  %-10s" % "" + "".join("%14s" % f for f, _ in FIELDS))
			for a in allocs:
				r = res[a.name]
				if isinstance(r, str):
					run.out("  %-10s FAILED: %s" % (a.name, r))
					continue
				cells = []
				for f, _ in FIELDS:
					if isinstance(base, dict) and base[f]:
						cells.append("%14s" % ("%.1fM %.2fx" % (r[f] / 1e6, r[f] / base[f])))
					else:
						cells.append("%14s" % ("%.1fM" % (r[f] / 1e6)))
				run.out("  %-10s" % a.name + "".join(cells))
	return 0


if __name__ == "__main__":
	sys.exit(main())
