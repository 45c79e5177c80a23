/* cmd_run.c: `goalloc-trace run`: start the target under libgoalloc.so with
 * a trace region, drain its events into the database while it runs, and
 * exit with its status.
 *
 * Lifecycle: parse -> open database (run row in an open transaction) ->
 * kernel view (kview.c: BPF loaded and attached before the target exists)
 * -> region -> fork; the child waits until its pid is in the kernel view's
 * process tree, then execs (exec failure reported through a CLOEXEC pipe,
 * and then nothing is left behind) -> drain loop (reaping every process of
 * the tree: the CLI is their subreaper; the kernel view polled without
 * blocking) -> final drain -> summary.
 * Signals: SIGTERM, SIGHUP and a SIGINT sent to the CLI alone are passed to
 * the target; a terminal's Ctrl-C reaches the target directly.  Either way
 * the CLI keeps draining until the target is gone, then finishes the file.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "daemons.h"
#include "db.h"
#include "drain.h"
#include "fmt.h"
#include "ga.h"
#include "kview.h"
#include "pace.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { NRINGS = 64, RING_CAP = 1 << 16,  /* 64 x 65536 x 40 B = 160 MiB, touched as used */
       RING_CAP_MIN = 1 << 10 };          /* 2.5 MiB, when address space is short */

enum bpf_mode { BPF_AUTO, BPF_ON, BPF_OFF };

typedef struct run_opts {
	const char *out, *name;
	enum bpf_mode bpf;
	bool lossy, events, go_exact, force, quiet, debug_files, wait_daemons;
	uint32_t stacks;      /* GT_STACKS_* */
	uint64_t sample_rate; /* bytes */
	uint32_t stack_depth;
	char **argv;
} run_opts;

static volatile sig_atomic_t got_signal;
static volatile pid_t target_pid;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_signal = sig;
	/* A terminal's signal already reached the target's process group. */
	if (target_pid > 0 && (sig != SIGINT || si->si_code == SI_USER || si->si_code == SI_QUEUE))
		kill(target_pid, sig);
}

static void on_child(int sig)
{
	(void)sig;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: goalloc-trace run [-o FILE] [--name LABEL] [--lossy] [--events] [--go-exact]\n"
	        "                         [--stacks=sample|all|off] [--sample-rate BYTES]\n"
	        "                         [--stack-depth N] [--bpf=auto|on|off] [--wait-daemons]\n"
	        "                         [--force] [-q] -- PROG [ARGS...]\n\n"
	        "Runs PROG with its malloc family served by the Go-style heap and records every\n"
	        "decision the heap makes into FILE (SQLite).  Processes PROG forks or execs are\n"
	        "traced too, and the run ends when the last of them has exited, except daemons\n"
	        "(processes that left PROG's session: gpg-agent, ssh-agent).  Exits with PROG's\n"
	        "status (128+N if a signal N ended it).\n\n"
	        "  -o FILE       database to write; an existing goalloc database gets one more run\n"
	        "                (default: goalloc-PROG-PID.db in the current directory)\n"
	        "  --name LABEL  the run's name in reports (default: PROG)\n"
	        "  --events      also store every raw event (the events view); aggregates are\n"
	        "                always stored\n"
	        "  --lossy       never make PROG wait for the drainer: drop events when a ring is\n"
	        "                full and count them (runs.dropped)\n"
	        "  --go-exact    Go's size classes and tiny alignment bit for bit (see README)\n"
	        "  --stacks=MODE which allocations record their call stack (see 'goalloc-trace\n"
	        "                sites'): sample (default: Go's heap profile sampling, a mean of\n"
	        "                one allocation per --sample-rate bytes; per-site figures are\n"
	        "                scaled estimates), all (every allocation: exact, slower), off\n"
	        "  --sample-rate BYTES  mean bytes between sampled stacks (default 512K, Go's\n"
	        "                MemProfileRate; K, M and G suffixes)\n"
	        "  --stack-depth N  frames kept per stack (default 32, at most 128)\n"
	        "  --debug-files file:line for frames in system libraries too, from their\n"
	        "                separate debug files (/usr/lib/debug: libc6-dbg, ...); slower:\n"
	        "                they are compressed (0.1-0.3 s more per run).  Without it such\n"
	        "                frames show the function and library; programs built with -g\n"
	        "                always get file:line\n"
	        "  --bpf=MODE    the kernel's view through eBPF: RSS and user page faults of every\n"
	        "                process of the tree every 50 ms and at its end (kernel_timeline),\n"
	        "                and its mmap/munmap/mprotect/madvise/brk/mremap calls (mm_calls).\n"
	        "                auto (default): on if BPF can be loaded (root, kernel BTF), else\n"
	        "                one line says why and the run goes on without it; on: fail\n"
	        "                before starting PROG if it cannot be loaded; off: none\n"
	        "  --wait-daemons  wait for the daemons PROG started too (a server that puts\n"
	        "                itself in the background: the run ends when it stops)\n"
	        "  --force       overwrite FILE if it exists\n"
	        "  -q            no status line and no summary\n");
}

static int parse(int argc, char **argv, run_opts *o)
{
	int i;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (++i >= argc)
				goto missing;
			o->out = argv[i];
		} else if (!strcmp(a, "--name")) {
			if (++i >= argc)
				goto missing;
			o->name = argv[i];
		} else if (!strcmp(a, "--lossy")) {
			o->lossy = true;
		} else if (!strcmp(a, "--wait-daemons")) {
			o->wait_daemons = true;
		} else if (!strcmp(a, "--events")) {
			o->events = true;
		} else if (!strncmp(a, "--bpf", 5) && (a[5] == '=' || a[5] == 0)) {
			const char *m = a[5] == '=' ? a + 6 : (++i < argc ? argv[i] : NULL);
			if (!m)
				goto missing;
			if (!strcmp(m, "auto"))
				o->bpf = BPF_AUTO;
			else if (!strcmp(m, "on"))
				o->bpf = BPF_ON;
			else if (!strcmp(m, "off"))
				o->bpf = BPF_OFF;
			else {
				fprintf(stderr, "goalloc-trace: run: --bpf takes auto, on or off, not '%s'\n", m);
				return -1;
			}
		} else if (!strcmp(a, "--go-exact")) {
			o->go_exact = true;
		} else if (!strncmp(a, "--stacks", 8) && (a[8] == '=' || a[8] == 0)) {
			const char *v = a[8] ? a + 9 : (++i < argc ? argv[i] : NULL);
			if (!v)
				goto missing;
			if (!strcmp(v, "sample"))
				o->stacks = GT_STACKS_SAMPLE;
			else if (!strcmp(v, "all"))
				o->stacks = GT_STACKS_ALL;
			else if (!strcmp(v, "off"))
				o->stacks = GT_STACKS_OFF;
			else {
				fprintf(stderr, "goalloc-trace: run: --stacks takes sample, all or off, not '%s'\n", v);
				return -1;
			}
		} else if (!strcmp(a, "--sample-rate")) {
			if (++i >= argc)
				goto missing;
			char *end;
			double v = strtod(argv[i], &end);
			double mul = *end == 'K' || *end == 'k' ? 1024.0 : *end == 'M' || *end == 'm' ? 1048576.0
			             : *end == 'G' || *end == 'g' ? 1073741824.0 : 1.0;
			if (mul != 1.0)
				end++;
			if (end == argv[i] || *end || !(v * mul >= 1) || v * mul > 1e15) {
				fprintf(stderr, "goalloc-trace: run: --sample-rate takes a number of bytes >= 1 (like 512K), not '%s'\n",
				        argv[i]);
				return -1;
			}
			o->sample_rate = (uint64_t)(v * mul);
		} else if (!strcmp(a, "--stack-depth")) {
			if (++i >= argc)
				goto missing;
			char *end;
			long v = strtol(argv[i], &end, 10);
			if (end == argv[i] || *end || v < 1 || v > GT_STACK_DEPTH_MAX) {
				fprintf(stderr, "goalloc-trace: run: --stack-depth takes 1..%d, not '%s'\n", GT_STACK_DEPTH_MAX,
				        argv[i]);
				return -1;
			}
			o->stack_depth = (uint32_t)v;
		} else if (!strcmp(a, "--debug-files")) {
			o->debug_files = true;
		} else if (!strcmp(a, "--force")) {
			o->force = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "goalloc-trace: run: unknown option '%s' (see 'goalloc-trace run --help')\n", a);
			return -1;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "goalloc-trace: run: no program given (usage: goalloc-trace run [options] -- PROG ARGS)\n");
		return -1;
	}
	o->argv = argv + i;
	return 0;
missing:
	fprintf(stderr, "goalloc-trace: run: %s needs a value\n", argv[i - 1]);
	return -1;
}

/* libgoalloc.so beside the CLI: <prefix>/bin/goalloc-trace -> <prefix>/lib. */
static int find_library(char *out, size_t n)
{
	const char *env = getenv("GOALLOC_LIB");
	if (env && *env) {
		snprintf(out, n, "%s", env);
		return access(out, R_OK) == 0 ? 0 : -1;
	}
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len <= 0)
		return -1;
	exe[len] = 0;
	char *dir = dirname(exe);
	static const char *const rel[] = {"../lib/libgoalloc.so", "../lib64/libgoalloc.so",
	                                  "../lib/x86_64-linux-gnu/libgoalloc.so", "libgoalloc.so"};
	for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
		snprintf(out, n, "%s/%s", dir, rel[i]);
		if (access(out, R_OK) == 0) {
			char *real = realpath(out, NULL);
			if (real) {
				snprintf(out, n, "%s", real);
				free(real);
			}
			return 0;
		}
	}
	return -1;
}

static uint64_t mono_ns(void)
{
	return cli_drain_mono_ns();
}

/* The trace region with rings of cap records (a power of two), or NULL
 * with errno set. */
static gt_region *make_region(int *fd_out, const run_opts *o, uint32_t cap)
{
	size_t hdr = 4096, rings = (size_t)NRINGS * sizeof(gt_ring);
	size_t rings_off = hdr, records_off = (rings_off + rings + 4095) & ~(size_t)4095;
	size_t bytes = records_off + (size_t)NRINGS * cap * sizeof(gt_record);
	int fd = memfd_create("goalloc-trace", 0); /* inherited by the target on purpose */
	if (fd < 0)
		return NULL;
	gt_region *r = ftruncate(fd, (off_t)bytes) == 0
	                   ? mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
	                   : MAP_FAILED;
	if (r == MAP_FAILED) {
		int err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	r->version = GT_VERSION;
	r->nrings = NRINGS;
	r->cap = cap;
	r->flags = o->lossy ? GT_FLAG_LOSSY : 0;
	r->stack_mode = o->stacks;
	r->stack_depth = o->stack_depth;
	r->sample_rate = o->sample_rate;
	r->rings_off = rings_off;
	r->records_off = records_off;
	r->bytes = bytes;
	r->drainer_pid = getpid();
	struct stat ns;
	if (stat("/proc/self/ns/pid", &ns) == 0)
		r->drainer_pidns = (uint32_t)ns.st_ino;
	r->heartbeat_ns = mono_ns();
	/* The TSC against CLOCK_MONOTONIC: a first rate over 2 ms (every run
	 * used to wait 20 ms here); the drainer refines it as the run goes
	 * (drain.c, clock_refine), from this same (tsc0, ns0) pair. */
	r->tsc0 = cli_tsc_pair(&r->ns0);
	r->now_tsc = r->tsc0;
	struct timespec ts = {0, 2 * 1000 * 1000};
	nanosleep(&ts, NULL);
	uint64_t t1, c1 = cli_tsc_pair(&t1);
	r->tsc_per_ms = t1 > r->ns0 ? (c1 - r->tsc0) * 1000000ull / (t1 - r->ns0) : 0;
	if (r->tsc_per_ms == 0)
		r->tsc_per_ms = 1;
	__atomic_store_n(&r->magic, GT_MAGIC, __ATOMIC_RELEASE);
	*fd_out = fd;
	return r;
}

int cli_write_class_table(cli_db *db, int64_t run_id, bool go_exact)
{
	for (int c = 0; c < GA_CLASSES; c++) {
		int64_t size = c ? ga_class_size((unsigned)c) : 0, np = c ? ga_class_npages((unsigned)c) : 0;
		int64_t objs = c ? ga_class_nelems((unsigned)c) : 0;
		if (cli_db_size_class(db, run_id, c, size, np, objs, c ? np * 8192 - objs * size : 0,
		                      c && !(c == 3 && !go_exact)) != 0)
			return -1;
	}
	return 0;
}

/* A buffer for a reason nobody will read. */
static char *why_unused(void)
{
	static char buf[1];
	return buf;
}

/* The kernel view's word on a process's end, for the ones `run` does not
 * reap. */
static void kernel_exit(void *ctx, int pid, int status, int64_t t_ns)
{
	cli_drain_kernel_exit(ctx, pid, status, t_ns);
}

static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

static void status_line(cli_drain *d, uint64_t t0, int64_t last_events, uint64_t dt_ns)
{
	int64_t fig[FIG_N];
	cli_agg_figures(cli_drain_agg(d), fig);
	char a[32], s[32];
	cli_fmt_bytes(a, sizeof a, fig[FIG_ALLOC]);
	cli_fmt_bytes(s, sizeof s, fig[FIG_SYS]);
	double rate = dt_ns ? (double)(cli_drain_events(d) - last_events) * 1e9 / (double)dt_ns : 0;
	fprintf(stderr, "\r\033[Kgoalloc-trace: %.1fs  %lld events (%.1fM/s)  HeapAlloc %s  HeapSys %s  %d proc",
	        (double)(mono_ns() - t0) / 1e9, (long long)cli_drain_events(d), rate / 1e6, a, s,
	        cli_drain_nprocs(d));
}

static void summary(cli_drain *d, cli_kview *kv, const char *prog, const char *path, int64_t run_id, int code,
                    bool crashed, uint64_t wall_ns, uint32_t waits)
{
	int64_t peak[FIG_N], t;
	cli_agg_peak(cli_drain_agg(d), peak, &t);
	char b1[32], b2[32], b3[32], b4[32];
	if (crashed)
		fprintf(stderr, "goalloc-trace: %s was killed by signal %d (%s) after %.2f s\n", prog, code - 128,
		        strsignal(code - 128), (double)wall_ns / 1e9);
	else
		fprintf(stderr, "goalloc-trace: %s exited with status %d after %.2f s\n", prog, code,
		        (double)wall_ns / 1e9);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	             ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
	fprintf(stderr, "  events     %lld (%lld dropped); drainer CPU %.2f s, %.1fM events/CPU-s\n",
	        (long long)cli_drain_events(d), (long long)cli_drain_dropped(d), cpu,
	        cpu > 0 ? (double)cli_drain_events(d) / cpu / 1e6 : 0.0);
	if (waits)
		fprintf(stderr, "             the program waited %u times for the drainer (a full ring; --lossy drops "
		        "instead)\n", waits);
	cli_fmt_bytes(b1, sizeof b1, peak[FIG_ALLOC]);
	cli_fmt_bytes(b2, sizeof b2, peak[FIG_REQ]);
	fprintf(stderr, "  HeapAlloc  peak %s for %s requested: size-class waste %.1f%%\n", b1, b2,
	        peak[FIG_ALLOC] ? 100.0 * (double)(peak[FIG_ALLOC] - peak[FIG_REQ]) / (double)peak[FIG_ALLOC] : 0.0);
	cli_fmt_bytes(b3, sizeof b3, peak[FIG_INUSE]);
	cli_fmt_bytes(b4, sizeof b4, peak[FIG_SYS]);
	fprintf(stderr, "  at peak    HeapInuse %s (span waste %.1f%%), HeapSys %s\n", b3,
	        peak[FIG_INUSE] ? 100.0 * (double)(peak[FIG_INUSE] - peak[FIG_ALLOC]) / (double)peak[FIG_INUSE] : 0.0,
	        b4);
	if (kv) {
		cli_kview_stats ks;
		cli_kview_stats_get(kv, &ks);
		cli_fmt_bytes(b1, sizeof b1, ks.peak_rss_bytes);
		fprintf(stderr, "  kernel     peak RSS %s (pid %d), %lld user page faults, %lld mm calls", b1,
		        ks.peak_pid, (long long)ks.faults, (long long)ks.mm_calls);
		if (ks.lost)
			fprintf(stderr, " (%lld records lost)", (long long)ks.lost);
		fputc('\n', stderr);
	}
	fprintf(stderr, "  database   %s (run %lld)\n", path, (long long)run_id);
}

/* The program execvp ran: prog itself when it names a path, else the first
 * executable of that name on PATH.  0 when found. */
static int find_program(const char *prog, char *out, size_t cap)
{
	if (strchr(prog, '/'))
		return snprintf(out, cap, "%s", prog) < (int)cap ? 0 : -1;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;; p++) {
		const char *e = strchrnul(p, ':');
		int n = snprintf(out, cap, "%.*s%s%s", (int)(e - p), p, e > p ? "/" : "", prog);
		if (n > 0 && n < (int)cap && access(out, X_OK) == 0)
			return 0;
		if (!*e)
			return -1;
		p = e;
	}
}

/* Why no process of the run loaded libgoalloc.so, as far as the program's
 * file tells: the loader ignores LD_PRELOAD for a statically linked or a
 * set-user-ID program; otherwise the program dropped it from the
 * environment before it exec'd anything dynamic. */
static const char *why_untraced(const char *prog)
{
	char path[PATH_MAX];
	struct stat st;
	if (find_program(prog, path, sizeof path) != 0 || stat(path, &st) != 0)
		return "it never loaded the preload library";
	if (((st.st_mode & S_ISUID) && st.st_uid != getuid()) || ((st.st_mode & S_ISGID) && st.st_gid != getgid()))
		return "it is set-user-ID or set-group-ID, and the loader ignores LD_PRELOAD for such programs";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	bool is_static = false, is_elf = false;
	if (fd >= 0 && pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
		is_elf = true;
		is_static = true;
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph ||
			    ph.p_type == PT_INTERP) {
				is_static = false;
				break;
			}
		}
	}
	if (fd >= 0)
		close(fd);
	if (is_static)
		return "it is statically linked, and LD_PRELOAD reaches only dynamically linked programs "
		       "(goalloc-trace attach can model its malloc calls)";
	return is_elf ? "it removed LD_PRELOAD from its environment or exited before the loader ran"
	              : "it is a script, and its interpreter is statically linked or removed LD_PRELOAD";
}

int cli_cmd_run(int argc, char **argv)
{
	run_opts o = {.stacks = GT_STACKS_SAMPLE, .sample_rate = 512 * 1024, .stack_depth = 32};
	if (parse(argc, argv, &o) != 0)
		return 2;
	const char *prog = o.argv[0];
	char base[256];
	snprintf(base, sizeof base, "%s", prog);
	const char *pname = basename(base);

	char lib[PATH_MAX];
	if (find_library(lib, sizeof lib) != 0) {
		fprintf(stderr, "goalloc-trace: cannot find libgoalloc.so beside %s (set GOALLOC_LIB)\n", "the CLI");
		return 2;
	}
	char defpath[PATH_MAX];
	const char *path = o.out;
	if (!path) {
		snprintf(defpath, sizeof defpath, "goalloc-%s-%d.db", pname, (int)getpid());
		path = defpath;
		if (access(path, F_OK) == 0 && !o.force) {
			fprintf(stderr, "goalloc-trace: cannot write %s: file exists (use --force or -o)\n", path);
			return 2;
		}
	}
	if (o.force)
		cli_db_remove(path);

	const char *env_exact = getenv("GOALLOC_GO_EXACT");
	bool go_exact = o.go_exact || (env_exact && env_exact[0] == '1');
	const char *env_tiny = getenv("GOALLOC_TINY");
	bool tiny = !(env_tiny && env_tiny[0] == '0');

	/* The kernel view loads while the database and the trace region are
	 * made; it is ready (or has failed) before the target exists, so
	 * --bpf=on fails with nothing started. */
	cli_kview *kv = NULL;
	cli_kview_loader *kv_loader = o.bpf != BPF_OFF ? cli_kview_open_start() : NULL;
	struct rlimit memlock;
	getrlimit(RLIMIT_MEMLOCK, &memlock); /* libbpf may raise it: the target gets ours */

	cli_db *db;
	bool created;
	char err[600];
	if (cli_db_open(path, true, &created, &db, err, sizeof err) != 0) {
		fprintf(stderr, "goalloc-trace: cannot write %s: %s\n", path, err);
		if (kv_loader && cli_kview_open_wait(kv_loader, &kv, why_unused(), 1) == 0)
			cli_kview_close(kv);
		return 2;
	}
	/* The command as one line. */
	char command[4096] = "";
	for (char **a = o.argv; *a; a++) {
		size_t l = strlen(command);
		snprintf(command + l, sizeof command - l, "%s%s", l ? " " : "", *a);
	}
	char started[64];
	time_t now = time(NULL);
	strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	struct utsname un;
	uname(&un);
	cli_run_info ri = {.name = o.name ? o.name : pname, .command = command,
	                   .mode = go_exact ? "go-exact" : "c-safe", .started_at = started,
	                   .host = un.nodename, .kernel = un.release, .tiny = tiny, .lossy = o.lossy,
	                   .stacks = o.stacks == GT_STACKS_ALL ? "all" : o.stacks == GT_STACKS_SAMPLE ? "sample" : "off",
	                   .sample_rate = o.stacks == GT_STACKS_SAMPLE ? (int64_t)o.sample_rate : 0,
	                   .stack_depth = o.stacks ? (int)o.stack_depth : 0};
	int64_t run_id;
	if (cli_db_begin(db) != 0 || cli_db_run_insert(db, &ri, &run_id) != 0) {
		fprintf(stderr, "goalloc-trace: cannot write %s: %s\n", path, cli_db_error(db));
		goto fail_db;
	}
	if (cli_write_class_table(db, run_id, go_exact) != 0) {
		fprintf(stderr, "goalloc-trace: cannot write %s: %s\n", path, cli_db_error(db));
		goto fail_db;
	}

	/* Under a small RLIMIT_AS (ulimit -v) the full region's address space
	 * (in this process and in every traced one) may not be there: smaller
	 * rings make the target wait for the drainer more often, nothing else. */
	int fd;
	uint32_t cap = RING_CAP;
	gt_region *reg;
	while (!(reg = make_region(&fd, &o, cap)) && errno == ENOMEM && cap > RING_CAP_MIN)
		cap /= 8;
	if (!reg) {
		fprintf(stderr, "goalloc-trace: cannot create the trace region (%zu MiB): %s\n",
		        ((size_t)NRINGS * cap * sizeof(gt_record)) >> 20, strerror(errno));
		goto fail_db;
	}
	if (cap != RING_CAP && !o.quiet)
		fprintf(stderr, "goalloc-trace: address space is short (ulimit -v?): rings of %u records, not %u\n",
		        cap, (unsigned)RING_CAP);

	const char *kv_state = "off", *kv_detail = NULL;
	char why[512];
	if (o.bpf != BPF_OFF) {
		cli_kview_loader *l = kv_loader;
		kv_loader = NULL;
		if (cli_kview_open_wait(l, &kv, why, sizeof why) != 0) {
			if (o.bpf == BPF_ON) {
				fprintf(stderr, "goalloc-trace: cannot start the kernel view (--bpf=on): %s\n", why);
				goto fail_db;
			}
			fprintf(stderr, "goalloc-trace: kernel view off: %s\n", why);
			kv_state = "unavailable";
			kv_detail = why;
		} else {
			kv_state = "on";
		}
	}
	if (cli_db_kernel_view(db, run_id, kv_state, kv_detail, 0) != 0) {
		fprintf(stderr, "goalloc-trace: cannot write %s: %s\n", path, cli_db_error(db));
		goto fail_db;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	int pipefd[2], gofd[2] = {-1, -1};
	if (pipe2(pipefd, O_CLOEXEC) != 0 || (kv && pipe2(gofd, O_CLOEXEC) != 0)) {
		fprintf(stderr, "goalloc-trace: cannot create a pipe: %s\n", strerror(errno));
		goto fail_db;
	}
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		fprintf(stderr, "goalloc-trace: cannot fork: %s\n", strerror(errno));
		goto fail_db;
	}
	if (child == 0) {
		close(pipefd[0]);
		if (kv) {
			/* wait until the kernel view traces this pid */
			char go;
			close(gofd[1]);
			if (read(gofd[0], &go, 1) != 1)
				_exit(127);
			setrlimit(RLIMIT_MEMLOCK, &memlock);
		}
		char preload[PATH_MAX * 2], fdstr[32];
		const char *old = getenv("LD_PRELOAD");
		snprintf(preload, sizeof preload, "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "");
		/* FD@PID: a process that closed the fd finds the region again
		 * through /proc/PID/fd/FD (libtrace/trace.c, region_fd) */
		snprintf(fdstr, sizeof fdstr, "%d@%d", fd, (int)reg->drainer_pid);
		setenv("LD_PRELOAD", preload, 1);
		setenv(GT_ENV_FD, fdstr, 1);
		if (go_exact)
			setenv("GOALLOC_GO_EXACT", "1", 1);
		execvp(prog, o.argv);
		int e = errno;
		if (write(pipefd[1], &e, sizeof e) < 0) {
		}
		_exit(127);
	}
	close(pipefd[1]);
	if (kv) {
		close(gofd[0]);
		if (cli_kview_track(kv, child) != 0) {
			fprintf(stderr, "goalloc-trace: %s: cannot trace pid %d: %s\n",
			        o.bpf == BPF_ON ? "cannot start the kernel view (--bpf=on)" : "kernel view off", (int)child,
			        strerror(errno));
			if (o.bpf == BPF_ON) {
				kill(child, SIGKILL);
				waitpid(child, NULL, 0);
				goto fail_db;
			}
			cli_kview_close(kv);
			kv = NULL;
			cli_db_kernel_view(db, run_id, "unavailable", "cannot add the target to the process tree", 0);
		}
		if (write(gofd[1], "g", 1) != 1) {
		}
		close(gofd[1]);
	}
	int exec_errno = 0;
	ssize_t got = read(pipefd[0], &exec_errno, sizeof exec_errno);
	close(pipefd[0]);
	if (got == (ssize_t)sizeof exec_errno) {
		waitpid(child, NULL, 0);
		fprintf(stderr, "goalloc-trace: cannot run %s: %s\n", prog, strerror(exec_errno));
		cli_kview_close(kv);
		cli_db_close(db); /* the open transaction is rolled back */
		if (created)
			cli_db_remove(path);
		return 127;
	}
	target_pid = child;
	struct sigaction sa = {0};
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], &sa, NULL);
	/* A process that ends cuts the drainer's sleep short (the pacing
	 * futex wait returns EINTR when a handler runs, SA_RESTART or not), so
	 * the run ends when its last process does, not a sleep later. */
	struct sigaction sc = {0};
	sc.sa_handler = on_child;
	sc.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sc.sa_mask);
	sigaction(SIGCHLD, &sc, NULL);

	cli_drain *d = cli_drain_new(reg, db, run_id, o.events, o.debug_files);
	cli_drain_set_root(d, child);
	cli_drain_set_progress(d, !o.quiet);
	/* Bench hook: record what the drainer consumes, for `goalloc-trace
	 * replay` (bench/drain.py). */
	const char *rec_env = getenv("GOALLOC_TRACE_RECORD");
	FILE *rec = rec_env && *rec_env ? fopen(rec_env, "wb") : NULL;
	if (rec_env && *rec_env && (!rec || cli_drain_record(d, rec) != 0))
		fprintf(stderr, "goalloc-trace: cannot record to %s: %s\n", rec_env, strerror(errno));
	if (kv) {
		cli_kview_start(kv, db, run_id, reg->ns0);
		cli_kview_on_exit(kv, kernel_exit, d);
	}
	bool live = !o.quiet && isatty(2);
	uint64_t t0 = mono_ns(), last_flush = t0, last_status = t0, last_reap = t0, last_wait = 0, last_daemons = 0;
	int64_t last_events = 0;
	int child_status = -1;
	/* Test hook: a deliberately slow drainer (microseconds of sleep per round). */
	const char *delay_env = getenv("GOALLOC_TRACE_DRAIN_DELAY_US");
	long delay_us = delay_env ? atol(delay_env) : 0;
	/* Test hook: producers publish while a round reads the rings' heads. */
	const char *gap_env = getenv("GOALLOC_TRACE_SNAPSHOT_GAP_US");
	cli_drain_set_snapshot_gap(d, gap_env ? atol(gap_env) : 0);
	cli_pace pace;
	cli_pace_init(&pace);
	bool child_done = false, others_noted = false, dberr = false;
	long prog_sid = -1;
	for (;;) {
		int64_t n = cli_drain_round(d);
		if (n < 0) {
			dberr = true;
			break;
		}
		uint64_t tw = mono_ns();
		if (n == 0 || tw - last_wait >= 1000 * 1000 || child_done) {
			/* housekeeping, at most every millisecond while records flow */
			last_wait = tw;
			if (kv && cli_kview_poll(kv, false) != 0) {
				dberr = true;
				break;
			}
			int st;
			pid_t p = 0;
			if (!child_done) {
				pid_t sid = getsid(child); /* the program may have left ours */
				if (sid > 0)
					prog_sid = sid;
			}
			while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
				cli_drain_proc_exit(d, p, status_code(st));
				if (p == child) {
					child_status = st;
					child_done = true;
				}
			}
			if (child_done && p < 0 && errno == ECHILD)
				break;
			/* What is left (daemons.c): daemons may never exit, and what
			 * they did until now is in the rings. */
			if (child_done && tw - last_daemons >= 100 * 1000 * 1000ull) {
				last_daemons = tw;
				cli_children left;
				cli_children_scan(&left, prog_sid);
				if (!o.wait_daemons && left.jobs == 0 && left.daemons > 0) {
					if (!o.quiet) {
						char what[32] = "the daemon";
						if (left.daemons > 1)
							snprintf(what, sizeof what, "the %d daemons", left.daemons);
						fprintf(stderr,
						        "%sgoalloc-trace: %s exited; not waiting for %s it started, %s%s, which "
						        "left its session: the run has %s events until now\n",
						        live ? "\r\033[K" : "", pname, what, left.daemon_names,
						        left.daemons > 4 ? ", ..." : "", left.daemons == 1 ? "its" : "their");
					}
					break;
				}
				if (!others_noted && !o.quiet && left.jobs + left.daemons > 0) {
					bool jobs = left.jobs > 0;
					int nleft = jobs ? left.jobs : left.daemons;
					fprintf(stderr, "%sgoalloc-trace: %s exited; waiting for the processes it left running: %s%s\n",
					        live ? "\r\033[K" : "", pname, jobs ? left.job_names : left.daemon_names,
					        nleft > 4 ? ", ..." : "");
					others_noted = true;
				}
			}
			uint64_t t = mono_ns();
			if (t - last_flush > 500 * 1000 * 1000ull) {
				if (cli_drain_flush(d, false, "running", -1) != 0) {
					dberr = true;
					break;
				}
				last_flush = t;
			}
			if (t - last_reap > 200 * 1000 * 1000ull) {
				cli_drain_reap_rings(d);
				last_reap = t;
			}
			if (live && t - last_status > 250 * 1000 * 1000ull) {
				status_line(d, t0, last_events, t - last_status);
				last_events = cli_drain_events(d);
				last_status = t;
			}
		}
		if (delay_us > 0) {
			struct timespec ts = {delay_us / 1000000, (delay_us % 1000000) * 1000};
			nanosleep(&ts, NULL);
		} else {
			cli_pace_after(&pace, reg, n);
		}
	}
	if (live)
		fprintf(stderr, "\r\033[K");
	/* Every process is gone: what is in the rings is all there will be. */
	cli_drain_producers_done(d);
	while (!dberr && cli_drain_round(d) > 0)
		;
	cli_drain_reap_rings(d);
	if (kv && !dberr) {
		/* every process's exit record is in the ring buffer by now */
		cli_kview_stats ks;
		if (cli_kview_poll(kv, false) != 0)
			dberr = true;
		cli_kview_stats_get(kv, &ks);
		if (!dberr && cli_db_kernel_view(db, run_id, "on", NULL, ks.lost) != 0)
			dberr = true;
	}
	if (rec && fclose(rec) != 0)
		fprintf(stderr, "goalloc-trace: cannot record to %s: %s\n", rec_env, strerror(errno));
	int code = child_status >= 0 ? status_code(child_status) : 1;
	bool crashed = child_status >= 0 && WIFSIGNALED(child_status);
	const char *state = crashed ? (got_signal ? "interrupted" : "crashed") : "done";
	if (dberr || cli_drain_flush(d, true, state, code) != 0) {
		fprintf(stderr, "goalloc-trace: cannot write %s: %s\n", path, cli_db_error(db));
		cli_drain_free(d);
		cli_kview_close(kv);
		cli_db_close(db);
		return code ? code : 1;
	}
	if (!o.quiet)
		summary(d, kv, pname, path, run_id, code, crashed, mono_ns() - t0,
		        __atomic_load_n(&reg->waits, __ATOMIC_RELAXED));
	if (cli_drain_nprocs(d) == 0)
		fprintf(stderr, "goalloc-trace: warning: nothing was traced: no process of the run loaded libgoalloc.so; "
		        "%s: %s\n", pname, why_untraced(prog));
	cli_drain_free(d);
	cli_kview_close(kv);
	cli_db_close(db);
	return code;

fail_db:
	if (kv_loader && cli_kview_open_wait(kv_loader, &kv, why_unused(), 1) != 0)
		kv = NULL;
	cli_kview_close(kv);
	cli_db_close(db);
	if (created)
		cli_db_remove(path);
	return 2;
}
