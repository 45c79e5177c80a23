#!/usr/bin/python3
# run.py: the benchmark driver.  It owns the list of workloads (the bench-*
# programs built from bench/ and real programs: Python, gcc, jq, sqlite3),
# the list of allocators compared (glibc with no preload, jemalloc,
# tcmalloc-minimal, mimalloc from Debian packages, and libgoalloc.so), running
# every workload under every allocator via LD_PRELOAD in one invocation, and
# the report: median wall time and median peak RSS over N repetitions, their
# ratios to glibc, and per allocator the geometric mean of the ratios.
#
# Rules it keeps:
# - Benchmarks print figures; they never pass or fail a build.  The exit
#   status is 0 even when a workload fails under some allocator (that is a
#   figure too: the cell says FAILED and the reason is listed); it is non-zero
#   only for a usage error or when nothing at all could run.
# - A run counts only if the program exits 0 and its output (stdout, plus the
#   object file for gcc) is identical to the output of a warm-up run under
#   glibc; the bench-* programs also check their own data and exit non-zero
#   when an allocator corrupted it.
# - Within a repetition the allocators run in a rotated order, so drift of a
#   shared machine's load is spread over all of them.  Ratios within one
#   invocation are what matter; absolute times vary from run to run.
# - Wall time and peak RSS are measured by bench-spawn (spawn.c), which forks
#   the program and reads ru_maxrss from wait4(2): the largest resident set of
#   the process or of any descendant it waited for (gcc's cc1, say).  A child
#   forked from this Python process would start from the driver's own RSS.
# - A peer allocator whose library is not installed is reported "not
#   installed" and skipped; a missing real program skips its workload.
#
# Standard library only; run it with Debian's /usr/bin/python3 (any Python
# >= 3.8 works).  Usage: bench/run.py --help
import argparse
import hashlib
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"  # Debian's, not a pyenv shim: a stable real program

# ---- allocators ---------------------------------------------------------

class Allocator:
	def __init__(self, name, package, sonames):
		self.name = name
		self.package = package  # Debian package, for the version line
		self.sonames = sonames  # candidate file names, first found wins
		self.lib = None         # path to preload; None means no preload
		self.missing = None     # why it cannot run, or None
		self.version = ""


def lib_dirs():
	"""Where Debian and most distributions keep shared libraries."""
	arch = sysconfig.get_config_var("MULTIARCH") or "%s-linux-gnu" % os.uname().machine
	return ["/usr/lib/" + arch, "/lib/" + arch, "/usr/lib64", "/usr/local/lib", "/usr/lib"]


def find_library(sonames):
	for so in sonames:
		for d in lib_dirs():
			p = os.path.join(d, so)
			if os.path.exists(p):
				return os.path.realpath(p)
	return None


def package_version(package):
	if not package or not shutil.which("dpkg-query"):
		return ""
	r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
	                   capture_output=True, text=True)
	return r.stdout.strip() if r.returncode == 0 else ""


def git_describe():
	if not shutil.which("git"):
		return "unknown"
	r = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
	                   capture_output=True, text=True)
	if r.returncode != 0:
		return "unknown"
	rev = r.stdout.strip()
	d = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no",
	                    "--", "allocator", "libtrace"], capture_output=True, text=True)
	return rev + ("+uncommitted allocator changes" if d.stdout.strip() else "")


def make_allocators(build):
	allocs = [Allocator("glibc", "libc6", []),
	          Allocator("jemalloc", "libjemalloc2", ["libjemalloc.so.2", "libjemalloc.so"]),
	          Allocator("tcmalloc", "libtcmalloc-minimal4",
	                    ["libtcmalloc_minimal.so.4", "libtcmalloc_minimal.so"]),
	          Allocator("mimalloc", "libmimalloc2.0",
	                    ["libmimalloc.so.2", "libmimalloc.so.2.0", "libmimalloc.so"]),
	          Allocator("goalloc", None, [])]
	for a in allocs:
		if a.name == "glibc":
			a.version = os.confstr("CS_GNU_LIBC_VERSION") or package_version("libc6")
		elif a.name == "goalloc":
			a.lib = os.path.join(build, "lib", "libgoalloc.so")
			a.version = "git " + git_describe()
			if not os.path.exists(a.lib):
				a.missing = "not built (%s missing)" % a.lib
		else:
			a.lib = find_library(a.sonames)
			a.version = package_version(a.package)
			if not a.lib:
				a.missing = "not installed (apt-get install %s)" % a.package
	return allocs


# ---- workloads ----------------------------------------------------------

class Spec:
	"""How to run a prepared workload once."""
	def __init__(self, argv, env=None, stdin=None, cwd=None, artefacts=()):
		self.argv = argv
		self.env = env or {}
		self.stdin = stdin
		self.cwd = cwd
		self.artefacts = list(artefacts)  # files hashed with stdout, removed before each run


class Workload:
	def __init__(self, name, what, prepare, needs=()):
		self.name = name
		self.what = what
		# (build, tmpdir, scale=1.0) -> Spec, or raises Missing.  scale < 1
		# shrinks the work (iterations, input size) for drivers that need
		# shorter runs, such as trace.py; run.py always uses 1.
		self.prepare = prepare
		self.needs = needs      # programs that must exist


class Missing(Exception):
	pass


def scaled(n, scale):
	return max(1, int(round(n * scale)))


def bench_program(name, defaults=(), work=0):
	"""`defaults` are the program's default arguments (see its main()) and
	defaults[work] the amount of work; that one is scaled, and the arguments
	are passed only when scale != 1."""
	def prepare(build, tmp, scale=1.0):
		exe = os.path.join(build, "bin", name)
		if not os.path.exists(exe):
			raise Missing("not built (%s missing)" % exe)
		args = []
		if scale != 1.0 and defaults:
			args = [str(scaled(a, scale) if i == work else a) for i, a in enumerate(defaults)]
		return Spec([exe] + args, cwd=tmp)
	return prepare


def prepare_python(build, tmp, scale=1.0):
	return Spec([PYTHON, "-s", os.path.join(HERE, "py_objects.py"), str(scaled(5, scale))],
	            cwd=tmp,
	            env={"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0",
	                 "PYTHONDONTWRITEBYTECODE": "1"})


def gen_c_source(path, nfuncs, seed=7):
	"""A translation unit of `nfuncs` functions in groups of ten sharing a
	struct type, each with a loop, a branch and a call to an earlier function
	of its group: inlining, loop and register-allocation work for gcc -O2,
	which allocates millions of small objects for it (about 8000 per
	function, counted with GOALLOC_STATS=1)."""
	rng = random.Random(seed)
	out = ["/* generated by bench/run.py: compiler workload */", ""]
	for i in range(nfuncs):
		if i % 10 == 0:
			out.append("struct s%d { int a, b; long c; double d[%d]; };" %
			           (i // 10, rng.randint(2, 9)))
		out.append("int f%d(struct s%d *p, int x)\n{" % (i, i // 10))
		out.append("\tint r = x * %d + p->a;" % rng.randint(2, 99))
		out.append("\tfor (int i = 0; i < (x & %d); i++)" % rng.choice([3, 7, 15]))
		out.append("\t\tr += (int)p->d[i & 1] ^ (r >> %d);" % rng.randint(1, 7))
		out.append("\tif (r > %d)\n\t\tp->b += r;\n\telse\n\t\tp->c -= r;" %
		           rng.randint(0, 999))
		if i % 10:
			out.append("\tr += f%d(p, x - %d);" % (rng.randrange(i - i % 10, i),
			                                        rng.randint(1, 5)))
		out.append("\treturn r;\n}\n")
	with open(path, "w") as f:
		f.write("\n".join(out))


def prepare_gcc(build, tmp, scale=1.0):
	src = os.path.join(tmp, "gen.c")
	gen_c_source(src, scaled(300, scale))
	obj = os.path.join(tmp, "gen.o")
	return Spec([shutil.which("gcc"), "-O2", "-frandom-seed=1", "-c", src, "-o", obj],
	            cwd=tmp, env={"LC_ALL": "C"}, artefacts=[obj])


def prepare_jq(build, tmp, scale=1.0):
	data = os.path.join(tmp, "data.json")
	rng = random.Random(11)
	words = ["red", "green", "blue", "cyan", "magenta", "yellow", "black", "white"]
	with open(data, "w") as f:
		f.write("[\n")
		n = scaled(30000, scale)
		for i in range(n):
			tags = ",".join('"%s%d"' % (rng.choice(words), rng.randint(0, 50))
			                for _ in range(rng.randint(0, 6)))
			f.write('{"id":%d,"name":"%s-%d","group":"g%d","score":%.3f,"tags":[%s],'
			        '"nested":{"a":[%s],"b":"%s"}}%s\n' %
			        (i, rng.choice(words), i, rng.randint(0, 99), rng.random() * 1000, tags,
			         ",".join(str(rng.randint(0, 9999)) for _ in range(rng.randint(0, 10))),
			         "z" * rng.randint(0, 40), "," if i + 1 < n else ""))
		f.write("]\n")
	prog = ("group_by(.group) | map({group: .[0].group, n: length,"
	        " total: (map(.score) | add | floor),"
	        " tags: ([.[].tags[]] | unique | length),"
	        " sum_a: ([.[].nested.a[]] | add),"
	        " top: (sort_by(-.score) | .[0:3] | map(.name))})")
	return Spec([shutil.which("jq"), "-c", prog, data], cwd=tmp)


def prepare_sqlite(build, tmp, scale=1.0):
	script = os.path.join(tmp, "load.sql")
	rng = random.Random(13)
	with open(script, "w") as f:
		f.write("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER,"
		        " score REAL, payload TEXT);\nBEGIN;\n")
		for i in range(1, scaled(150000, scale) + 1):
			f.write("INSERT INTO t VALUES(%d,'n%x',%d,%.4f,'%s');\n" %
			        (i, rng.getrandbits(40), rng.randint(0, 199), rng.random() * 100,
			         "p" * rng.randint(0, 200)))
		f.write("COMMIT;\n"
		        "CREATE INDEX t_grp ON t(grp, score);\n"
		        "CREATE INDEX t_name ON t(name);\n"
		        "SELECT grp, count(*), round(sum(score), 2), max(length(payload))"
		        " FROM t GROUP BY grp ORDER BY grp LIMIT 20;\n"
		        "UPDATE t SET payload = payload || name WHERE id % 3 = 0;\n"
		        "DELETE FROM t WHERE id % 5 = 0;\n"
		        "SELECT count(*), sum(length(payload)) FROM t;\n"
		        "SELECT name FROM t ORDER BY name LIMIT 5;\n")
	return Spec([shutil.which("sqlite3"), ":memory:"], cwd=tmp, stdin=script)


WORKLOADS = [
	Workload("churn", "1 thread, malloc/free of 8..512 B, 40k live objects",
	         bench_program("bench-churn", (12000000, 40000))),
	Workload("realloc", "1 thread, 1 B..1 MiB buffers grown/shrunk by realloc",
	         bench_program("bench-realloc", (150000, 256))),
	Workload("prodcons", "2 threads, one mallocs, the other frees, lock-free ring",
	         bench_program("bench-prodcons", (6000000, 16384))),
	Workload("larson", "4 threads x 8 generations, random replace, cross-thread frees",
	         bench_program("bench-larson", (4, 8, 250000, 4000), work=2)),
	Workload("python", "/usr/bin/python3, PYTHONMALLOC=malloc: dicts, lists, strings",
	         prepare_python, needs=[PYTHON]),
	Workload("gcc", "gcc -O2 -c of a generated C file of 300 functions",
	         prepare_gcc, needs=["gcc"]),
	Workload("jq", "jq group_by/sort_by over a generated 5 MB JSON array",
	         prepare_jq, needs=["jq"]),
	Workload("sqlite", "sqlite3 :memory:, 150k INSERTs, indexes, update, delete",
	         prepare_sqlite, needs=["sqlite3"]),
]


# ---- running ------------------------------------------------------------

class Timeout(Exception):
	pass


def _on_alarm(signum, frame):
	raise Timeout()


class Result:
	def __init__(self, ok, secs=0.0, rss_kib=0, digest=None, error=None, stderr="",
	             leftover=False):
		self.ok = ok
		self.secs = secs
		self.rss_kib = rss_kib
		self.digest = digest
		self.error = error
		self.stderr = stderr  # the run's whole stderr, for drivers that parse it
		self.leftover = leftover  # processes were still running in its group: killed


def base_env():
	env = dict(os.environ)
	for k in ("LD_PRELOAD", "MALLOC_CONF", "MIMALLOC_VERBOSE", "MIMALLOC_SHOW_STATS",
	          "GOALLOC_STATS", "PYTHONMALLOC", "PYTHONSTARTUP"):
		env.pop(k, None)
	return env


def run_once(spec, alloc, tmp, timeout, spawner, stdout_filter=None):
	"""Run `spec` once under `alloc` (its library preloaded, if any).
	stdout_filter, if given, maps the run's stdout bytes to the bytes that
	are hashed: a wrapper's own messages can be taken out there."""
	env = base_env()
	extra = dict(spec.env)
	if alloc.lib:
		extra["LD_PRELOAD"] = alloc.lib
	out_path = os.path.join(tmp, "stdout")
	err_path = os.path.join(tmp, "stderr")
	res_path = os.path.join(tmp, "result")
	for p in spec.artefacts + [res_path]:
		if os.path.exists(p):
			os.unlink(p)
	argv = ([spawner, res_path] + ["%s=%s" % kv for kv in sorted(extra.items())] + ["--"] +
	        spec.argv)
	actions = [(os.POSIX_SPAWN_OPEN, 0, spec.stdin or os.devnull, os.O_RDONLY, 0),
	           (os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
	           (os.POSIX_SPAWN_OPEN, 2, err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)]
	cwd = os.getcwd()
	if spec.cwd:
		os.chdir(spec.cwd)
	old = signal.signal(signal.SIGALRM, _on_alarm)
	pid = None
	leftover = False
	try:
		pid = os.posix_spawn(spawner, argv, env, file_actions=actions, setpgroup=0)
		signal.setitimer(signal.ITIMER_REAL, timeout)
		_, spawn_status = os.waitpid(pid, 0)
		signal.setitimer(signal.ITIMER_REAL, 0)
		# Whatever the run left running in its process group (a wrapper that
		# died before the program it started, say) is ended here: it would
		# write into the next run's output files and take its CPU.
		try:
			os.killpg(pid, 0)
			leftover = True
			os.killpg(pid, signal.SIGKILL)
		except OSError:
			pass
		pid = None
	except Timeout:
		return Result(False, error="timeout after %g s" % timeout)
	finally:
		signal.setitimer(signal.ITIMER_REAL, 0)
		signal.signal(signal.SIGALRM, old)
		os.chdir(cwd)
		if pid is not None:  # timed out or interrupted: end the whole process group
			try:
				os.killpg(pid, signal.SIGKILL)
				os.waitpid(pid, 0)
			except OSError:
				pass
	with open(err_path, "rb") as f:
		err_text = f.read().decode("utf-8", "replace")
	err = err_text.strip().splitlines()
	last_err = err[-1][:160] if err else ""
	try:
		with open(res_path) as f:
			wall_ns, rss_kib, status = (int(x) for x in f.read().split())
	except (OSError, ValueError):
		return Result(False, error="bench-spawn failed (status %d)%s" %
		              (spawn_status, ": " + last_err if last_err else ""))
	if os.WIFSIGNALED(status):
		sig = os.WTERMSIG(status)
		return Result(False, error="killed by %s%s" % (signal.Signals(sig).name,
		                                                  ": " + last_err if last_err else ""),
		              stderr=err_text, leftover=leftover)
	code = os.WEXITSTATUS(status)
	if code != 0:
		return Result(False, error="exit status %d%s" % (code, ": " + last_err if last_err else ""),
		              stderr=err_text, leftover=leftover)
	h = hashlib.sha256()
	with open(out_path, "rb") as f:
		data = f.read()
		h.update(stdout_filter(data) if stdout_filter else data)
	for p in spec.artefacts:
		try:
			with open(p, "rb") as f:
				h.update(f.read())
		except OSError:
			return Result(False, error="did not write %s" % os.path.basename(p), stderr=err_text,
			              leftover=leftover)
	return Result(True, wall_ns / 1e9, rss_kib, h.hexdigest(), stderr=err_text, leftover=leftover)


# ---- report -------------------------------------------------------------

def geomean(xs):
	return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt_ratio(x):
	return "%.2fx" % x if x is not None else "-"


def out(line=""):
	print(line, flush=True)


def progress(text):
	"""A transient status line on a terminal's stderr; nothing when redirected."""
	if sys.stderr.isatty():
		print("\r%-60s\r%s" % ("", text), end="", file=sys.stderr, flush=True)


def machine_facts():
	model = ""
	try:
		with open("/proc/cpuinfo") as f:
			for line in f:
				if line.startswith("model name"):
					model = line.split(":", 1)[1].strip()
					break
	except OSError:
		pass
	try:
		with open("/proc/meminfo") as f:
			mem = int(f.readline().split()[1]) // 1024
	except (OSError, ValueError, IndexError):
		mem = 0
	u = os.uname()
	return ("%d CPUs (nproc), %s, %d MiB RAM, %s %s %s" %
	        (len(os.sched_getaffinity(0)), model or "unknown CPU", mem, u.sysname, u.release,
	         u.machine))


def loadavg():
	try:
		with open("/proc/loadavg") as f:
			return " ".join(f.read().split()[:3])
	except OSError:
		return "?"


def main():
	ap = argparse.ArgumentParser(
		description="Run the allocation workloads under glibc, jemalloc, tcmalloc-minimal, "
		"mimalloc and libgoalloc.so (LD_PRELOAD) and print median wall time and peak RSS, "
		"with ratios to glibc.")
	ap.add_argument("filters", nargs="*", metavar="WORKLOAD",
	                help="run only workloads whose name contains one of these (default: all)")
	ap.add_argument("-b", "--build", default="build",
	                help="the CMake build directory with bin/bench-* and lib/libgoalloc.so "
	                "(default: ./build)")
	ap.add_argument("-n", "--reps", type=int, default=5,
	                help="measured repetitions per workload and allocator (default: 5)")
	ap.add_argument("-a", "--allocators", default="",
	                help="comma-separated subset of glibc,jemalloc,tcmalloc,mimalloc,goalloc "
	                "(glibc always runs: it is the reference)")
	ap.add_argument("-t", "--timeout", type=float, default=300,
	                help="seconds before one run is killed and counted as failed (default: 300)")
	ap.add_argument("--baseline", metavar="LIB",
	                help="also run this libgoalloc.so (e.g. one built from the previous commit) "
	                "as allocator 'gobase', to measure a change of the allocator in the "
	                "same invocation")
	ap.add_argument("-l", "--list", action="store_true", help="list the workloads and exit")
	args = ap.parse_args()

	if args.list:
		for w in WORKLOADS:
			out("%-9s %s" % (w.name, w.what))
		return 0
	if args.reps < 1:
		ap.error("--reps must be at least 1")
	build = os.path.abspath(args.build)
	workloads = [w for w in WORKLOADS
	             if not args.filters or any(f in w.name for f in args.filters)]
	if not workloads:
		ap.error("no workload matches %s (see --list)" % " ".join(args.filters))

	allocs = make_allocators(build)
	if args.allocators:
		want = set(args.allocators.split(",")) | {"glibc"}
		unknown = want - {a.name for a in allocs}
		if unknown:
			ap.error("unknown allocator(s): %s" % ",".join(sorted(unknown)))
		allocs = [a for a in allocs if a.name in want]
	if args.baseline:
		b = Allocator("gobase", None, [])
		b.lib = os.path.abspath(args.baseline)
		b.version = "baseline"
		if not os.path.exists(b.lib):
			b.missing = "not found (%s)" % b.lib
		allocs.append(b)
	active = [a for a in allocs if not a.missing]
	spawner = os.path.join(build, "bin", "bench-spawn")
	if not os.path.exists(spawner):
		out("run.py: cannot find %s: build the project first (cmake -B build && "
		    "cmake --build build)" % spawner)
		return 1

	out("goalloc-trace allocator benchmarks")
	out("command:  bench/run.py %s" % " ".join(sys.argv[1:]))
	out("machine:  %s" % machine_facts())
	out("load:     %s (1/5/15 min load average at start)" % loadavg())
	out("method:   %d measured runs per cell after one warm-up run under glibc; median wall time"
	    % args.reps)
	out("          and median peak RSS (wait4 ru_maxrss); ratios are to glibc in this invocation")
	out("allocators:")
	for a in allocs:
		where = a.lib or ("no preload" if a.name == "glibc" else "-")
		state = a.missing if a.missing else (a.version or "")
		out("  %-9s %-56s %s" % (a.name, where, state))
	out()

	tmproot = tempfile.mkdtemp(prefix="goalloc-bench-")
	table = {}  # (workload, allocator) -> (median s, min s, max s, median rss KiB) or error str
	ran = []
	try:
		for w in workloads:
			missing = [p for p in w.needs if not (shutil.which(p) or os.path.exists(p))]
			tmp = os.path.join(tmproot, w.name)
			os.makedirs(tmp)
			try:
				if missing:
					raise Missing("not installed: %s" % ", ".join(missing))
				spec = w.prepare(build, tmp)
			except Missing as e:
				out("%s: skipped, %s" % (w.name, e))
				out()
				continue
			ran.append(w)
			out("%s: %s" % (w.name, w.what))
			ref = run_once(spec, allocs[0], tmp, args.timeout, spawner)  # warm-up and reference output
			if not ref.ok:
				out("  warning: the glibc warm-up run failed (%s); runs are checked only by exit"
				    " status" % ref.error)
			times = {a.name: [] for a in active}
			rss = {a.name: [] for a in active}
			errors = {}
			for rep in range(args.reps):
				k = rep % len(active)
				for a in active[k:] + active[:k]:
					if a.name in errors:
						continue
					progress("  [%s rep %d/%d %s]" % (w.name, rep + 1, args.reps, a.name))
					r = run_once(spec, a, tmp, args.timeout, spawner)
					if r.ok and ref.ok and r.digest != ref.digest:
						r = Result(False, error="output differs from the glibc run")
					if not r.ok:
						errors[a.name] = r.error
						continue
					times[a.name].append(r.secs)
					rss[a.name].append(r.rss_kib)
			progress("")
			for a in active:
				if a.name in errors:
					table[w.name, a.name] = errors[a.name]
				else:
					ts = times[a.name]
					table[w.name, a.name] = (statistics.median(ts), min(ts), max(ts),
					                         statistics.median(rss[a.name]))
			base = table.get((w.name, "glibc"))
			out("  %-9s %9s %15s %8s %10s %8s" %
			    ("allocator", "median s", "min..max s", "time", "peak RSS", "RSS"))
			for a in active:
				cell = table[w.name, a.name]
				if isinstance(cell, str):
					out("  %-9s FAILED: %s" % (a.name, cell))
					continue
				tr = cell[0] / base[0] if isinstance(base, tuple) else None
				rr = cell[3] / base[3] if isinstance(base, tuple) and base[3] else None
				out("  %-9s %9.3f %15s %8s %7.1f MiB %8s" %
				    (a.name, cell[0], "%.3f..%.3f" % (cell[1], cell[2]), fmt_ratio(tr),
				     cell[3] / 1024.0, fmt_ratio(rr)))
			out()
	except KeyboardInterrupt:
		out("interrupted")
		return 130
	finally:
		shutil.rmtree(tmproot, ignore_errors=True)

	if not ran:
		out("no workload could run")
		return 1

	# Summary: one row per workload, one "time / RSS" ratio pair per peer.
	peers = [a for a in active if a.name != "glibc"]
	out("Summary: ratio to glibc of median wall time / of median peak RSS (lower is better)")
	out("  %-9s" % "workload" + "".join("%17s" % a.name for a in peers))
	tr = {a.name: [] for a in peers}
	rr = {a.name: [] for a in peers}
	for w in ran:
		base = table.get((w.name, "glibc"))
		row = "  %-9s" % w.name
		for a in peers:
			cell = table.get((w.name, a.name))
			if isinstance(cell, str):
				row += "%17s" % "FAILED"
			elif not isinstance(base, tuple):
				row += "%17s" % "(no glibc)"
			else:
				t, m = cell[0] / base[0], cell[3] / base[3]
				tr[a.name].append(t)
				rr[a.name].append(m)
				row += "%17s" % ("%.2f / %.2f" % (t, m))
		out(row)
	out("  %-9s" % "geomean" + "".join("%17s" % ("%s / %s" % (
		fmt_ratio(geomean(tr[a.name])).rstrip("x"), fmt_ratio(geomean(rr[a.name])).rstrip("x")))
		for a in peers))
	out("  %-9s" % "max RSS" + "".join("%17s" % (fmt_ratio(max(rr[a.name])) if rr[a.name] else "-")
	                                  for a in peers))
	counted = "".join("%17s" % ("%d of %d" % (len(tr[a.name]), len(ran))) for a in peers)
	out("  %-9s" % "counted" + counted)
	for a in allocs:
		if a.missing:
			out("  %s: %s, skipped" % (a.name, a.missing))
	failures = [(w, a, table[w, a]) for (w, a) in table if isinstance(table[w, a], str)]
	if failures:
		out()
		out("Failures (not timed, left out of the geometric means):")
		for w, a, e in failures:
			out("  %s under %s: %s" % (w, a, e))
	out()
	out("load:     %s (1/5/15 min load average at the end)" % loadavg())
	return 0


if __name__ == "__main__":
	sys.exit(main())
