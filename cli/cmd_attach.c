/* cmd_attach.c: `goalloc-trace attach`: record the malloc-family requests
 * of a running process that is not under libgoalloc.so (uprobes on its C
 * library, attach.bpf.c) and apply Go's size classes to them, so the same
 * class-waste figures as a `run` come out: the run is *modelled*, not
 * measured (table modelled_run), and holds only what the request stream
 * determines: class_stat (allocs, frees, requested and allocated bytes,
 * live and peak live objects), the run's peak HeapAlloc and requested
 * bytes, and every request as an event (with --events).  Spans, the tiny
 * allocator (modelled as GOALLOC_TINY=0: requests under 16 B use classes 1
 * and 2), HeapInuse and the page heap are not modelled.
 *
 * Lifecycle: parse -> load and attach the probes (before the database, so a
 * failure leaves no file) -> database (run row, class table) -> poll the
 * ring buffer until --duration, a signal, or the process's end -> class
 * rows -> summary.  Objects allocated before the probes were attached and
 * freed after count as unmatched frees.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "db.h"
#include "fmt.h"
#include "ga.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef GOALLOC_HAVE_BPF

#include "attach.h"
#include "drain.h"
#include "u64map.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <gelf.h>

#include "attach.skel.h"

typedef struct live_obj {
	uint64_t size;
	uint32_t cls;
} live_obj;

U64MAP_DEFINE(objmap, live_obj)  /* address -> the live object there */
U64MAP_DEFINE(tidmap, uint32_t)  /* tid + 1 -> thread number of event rows */

typedef struct model {
	cli_db *db;
	int64_t run_id, seq, requests, unmatched;
	uint32_t tno_base; /* thread numbers are unique in the file: this run's start after it */
	uint64_t t0;
	int pid;
	bool events, error;
	objmap live;
	tidmap tnos;
	cli_class_row cls[GA_CLASSES];
	int64_t heap_alloc, requested; /* live, at class size / as asked */
	int64_t peak_alloc, peak_requested, peak_t;
} model;

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static int64_t alloc_bytes(uint32_t cls, uint64_t size)
{
	return cls ? (int64_t)ga_class_size(cls) : (int64_t)((size + 8191) & ~(uint64_t)8191);
}

static void event_row(model *m, int64_t t, uint32_t tid, int kind, uint32_t cls, uint64_t size, uint64_t addr)
{
	if (!m->events || m->error)
		return;
	bool isnew;
	uint32_t *tno = tidmap_put(&m->tnos, (uint64_t)tid + 1, &isnew);
	if (isnew) {
		*tno = m->tno_base + (uint32_t)m->tnos.count;
		if (cli_db_thread(m->db, m->run_id, (int)*tno, m->pid, (int)tid) != 0)
			m->error = true;
	}
	if (cli_db_event(m->db, m->run_id, ++m->seq, t, (int)*tno, kind, (int)cls, size, addr, 0, 0) != 0)
		m->error = true;
}

static void model_alloc(model *m, int64_t t, uint32_t tid, uint64_t size, uint64_t addr)
{
	uint32_t cls = size <= GA_MAX_SMALL ? ga_size_to_class(size ? size : 1, false) : 0;
	int64_t bytes = alloc_bytes(cls, size);
	bool isnew;
	live_obj *o = objmap_put(&m->live, addr, &isnew);
	if (!isnew) { /* a free we did not see (attached mid-call): the old object is gone */
		cli_class_row *old = &m->cls[o->cls];
		old->live_objects--;
		old->live_bytes -= alloc_bytes(o->cls, o->size);
		old->live_requested -= (int64_t)o->size;
		m->heap_alloc -= alloc_bytes(o->cls, o->size);
		m->requested -= (int64_t)o->size;
	}
	*o = (live_obj){.size = size, .cls = cls};
	cli_class_row *c = &m->cls[cls];
	c->allocs++;
	c->requested_bytes += (int64_t)size;
	c->allocated_bytes += bytes;
	c->live_objects++;
	c->live_bytes += bytes;
	c->live_requested += (int64_t)size;
	if (c->live_objects > c->peak_live_objects)
		c->peak_live_objects = c->live_objects;
	if (c->live_bytes > c->peak_live_bytes)
		c->peak_live_bytes = c->live_bytes;
	m->heap_alloc += bytes;
	m->requested += (int64_t)size;
	if (m->heap_alloc > m->peak_alloc) {
		m->peak_alloc = m->heap_alloc;
		m->peak_requested = m->requested;
		m->peak_t = t;
	}
	event_row(m, t, tid, cls ? 1 : 3, cls, size, addr);
}

static void model_free(model *m, int64_t t, uint32_t tid, uint64_t addr)
{
	live_obj o;
	if (!objmap_del(&m->live, addr, &o)) {
		m->unmatched++; /* allocated before we attached */
		return;
	}
	cli_class_row *c = &m->cls[o.cls];
	int64_t bytes = alloc_bytes(o.cls, o.size);
	c->frees++;
	c->live_objects--;
	c->live_bytes -= bytes;
	c->live_requested -= (int64_t)o.size;
	m->heap_alloc -= bytes;
	m->requested -= (int64_t)o.size;
	event_row(m, t, tid, 4, o.cls, o.size, addr);
}

static int on_request(void *ctx, void *data, size_t len)
{
	model *m = ctx;
	const struct at_record *r = data;
	if (len < sizeof *r)
		return 0;
	int64_t t = r->t_ns > m->t0 ? (int64_t)(r->t_ns - m->t0) : 0;
	m->requests++;
	switch (r->kind) {
	case AT_FREE:
		model_free(m, t, r->tid, r->addr);
		break;
	case AT_REALLOC:
		/* realloc(p, n): p is gone if a new block came back, or if n == 0 */
		if (r->old && (r->addr || r->size == 0))
			model_free(m, t, r->tid, r->old);
		if (r->addr)
			model_alloc(m, t, r->tid, r->size, r->addr);
		break;
	default:
		if (r->addr)
			model_alloc(m, t, r->tid, r->size, r->addr);
		break;
	}
	return m->error ? -1 : 0;
}

static int write_classes(model *m)
{
	for (int c = 0; c < GA_CLASSES; c++)
		if (cli_db_class_stat(m->db, m->run_id, c, &m->cls[c]) != 0)
			return -1;
	return 0;
}

/* Whether the ELF file at path defines (exports) a function `malloc`: in
 * its dynamic symbols, or, for a file that has none (a statically linked
 * program, whose malloc no other object can call), in its symbol table. */
static bool defines_malloc(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool found = false;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	Elf32_Word want = SHT_SYMTAB;
	for (Elf_Scn *scn = NULL; e && (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_DYNSYM)
			want = SHT_DYNSYM;
	}
	for (Elf_Scn *scn = NULL; e && !found && (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != want || !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;
			if (gelf_getsym(d, (int)i, &sym) && sym.st_shndx != SHN_UNDEF &&
			    GELF_ST_TYPE(sym.st_info) == STT_FUNC && (name = elf_strptr(e, sh.sh_link, sym.st_name)) &&
			    !strcmp(name, "malloc")) {
				found = true;
				break;
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return found;
}

/* The object whose malloc family pid calls (the file its probes go on):
 * the first object mapped, the program or a library, that defines malloc
 * other than the C library (jemalloc for Debian's redis-server, tcmalloc,
 * mimalloc...; the dynamic linker binds every malloc call to it), else the
 * C library; and whether the process is under libgoalloc.so already. */
static int find_allocator(int pid, char *out, size_t n, bool *preloaded)
{
	char path[64], line[4096], libc[4200] = "", seen[4200] = "";
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	*preloaded = false;
	out[0] = 0;
	while (fgets(line, sizeof line, f)) {
		char *p = strchr(line, '/');
		if (!p)
			continue;
		p[strcspn(p, "\n")] = 0;
		if (!strcmp(p, seen))
			continue; /* the next mapping of the same object */
		snprintf(seen, sizeof seen, "%s", p);
		const char *base = strrchr(p, '/') + 1;
		char full[4200];
		snprintf(full, sizeof full, "/proc/%d/root%s", pid, p);
		if (strstr(base, "libgoalloc"))
			*preloaded = true;
		if (!strncmp(base, "libc.so", 7) || !strncmp(base, "libc-2.", 7)) {
			if (!libc[0])
				snprintf(libc, sizeof libc, "%s", full);
		} else if (!out[0] && strncmp(base, "ld-linux", 8) && defines_malloc(full)) {
			snprintf(out, n, "%s", full);
		}
	}
	fclose(f);
	if (!out[0])
		snprintf(out, n, "%s", libc);
	return out[0] ? 0 : -1;
}

static void read_text(const char *path, char *out, size_t n, bool nul_to_space)
{
	out[0] = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t got = fread(out, 1, n - 1, f);
	fclose(f);
	out[got] = 0;
	if (nul_to_space) { /* a command line: its arguments may hold newlines */
		for (size_t i = 0; i + 1 < got; i++)
			if (out[i] == 0)
				out[i] = ' ';
	} else {
		out[strcspn(out, "\n")] = 0;
	}
}

static bool proc_alive(int pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	read_text(path, buf, sizeof buf, false);
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* What a probed malloc-family call costs on this machine, measured now: a
 * child of this process times malloc(64)+free pairs, then the same with
 * the probes attach puts on them (entry and return of malloc, entry of
 * free); the difference per call, in microseconds, or a negative number if
 * it could not be measured.  About 60 ms. */
static double probe_cost_us(void)
{
	enum { N = 4000 };
	int up[2], down[2];
	if (pipe(up) != 0)
		return -1;
	if (pipe(down) != 0) {
		close(up[0]);
		close(up[1]);
		return -1;
	}
	pid_t child = fork();
	if (child < 0)
		return -1;
	if (child == 0) {
		close(up[0]);
		close(down[1]);
		double t[2];
		for (int pass = 0; pass < 2; pass++) {
			char go;
			if (pass && read(down[0], &go, 1) != 1)
				_exit(1);
			struct timespec a, b;
			clock_gettime(CLOCK_MONOTONIC, &a);
			for (int i = 0; i < N; i++) {
				void *volatile q = malloc(64);
				free(q);
			}
			clock_gettime(CLOCK_MONOTONIC, &b);
			t[pass] = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
			if (!pass && write(up[1], "b", 1) != 1)
				_exit(1);
		}
		if (write(up[1], t, sizeof t) != (ssize_t)sizeof t)
			_exit(1);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	double us = -1, t[2];
	char b;
	char libc[4200];
	bool preloaded;
	struct attach_bpf *skel = NULL;
	struct bpf_link *l[3] = {NULL, NULL, NULL};
	if (read(up[0], &b, 1) == 1 && find_allocator(child, libc, sizeof libc, &preloaded) == 0 &&
	    (skel = attach_bpf__open_and_load())) {
		LIBBPF_OPTS(bpf_uprobe_opts, e, .func_name = "malloc");
		LIBBPF_OPTS(bpf_uprobe_opts, r, .func_name = "malloc", .retprobe = true);
		LIBBPF_OPTS(bpf_uprobe_opts, f, .func_name = "free");
		l[1] = bpf_program__attach_uprobe_opts(skel->progs.at_return, child, libc, 0, &r);
		l[0] = bpf_program__attach_uprobe_opts(skel->progs.at_malloc, child, libc, 0, &e);
		l[2] = bpf_program__attach_uprobe_opts(skel->progs.at_free, child, libc, 0, &f);
	}
	if (write(down[1], "g", 1) == 1 && read(up[0], t, sizeof t) == (ssize_t)sizeof t && l[0] && l[1] && l[2])
		us = (t[1] - t[0]) / N / 2 / 1000; /* two calls per pair */
	for (int i = 0; i < 3; i++)
		bpf_link__destroy(l[i]);
	attach_bpf__destroy(skel);
	close(up[0]);
	close(down[1]);
	waitpid(child, NULL, 0);
	return us;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: goalloc-trace attach [-p] PID [-o FILE] [--duration S] [--events] [--name LABEL]\n"
	        "                            [--force] [-q]\n\n"
	        "Records the malloc-family requests (sizes, frees, threads) of a running process\n"
	        "that is not under libgoalloc.so, through uprobes on the allocator it calls (its\n"
	        "C library's, a library's or the program's own malloc, a static program's too),\n"
	        "and applies Go's size classes to them: the run's class_stats and size-class\n"
	        "waste are modelled, not measured (table modelled_run); spans, tiny merging and\n"
	        "the page heap are not modelled.  Needs root (BPF and uprobes).  Stops after S seconds,\n"
	        "on Ctrl-C, or when the process exits; the process is not otherwise disturbed.\n\n"
	        "  -p PID        the process (-p may be left out)\n"
	        "  -o FILE       database (default: goalloc-COMM-PID.db); an existing goalloc\n"
	        "                database gets one more run\n"
	        "  --duration S  stop after S seconds (default: until the process exits)\n"
	        "  --events      also store every request as an event (the events view)\n"
	        "  --name LABEL  the run's name (default: the process's name)\n"
	        "  --force       overwrite FILE\n"
	        "  -q            no summary\n");
}

int cli_cmd_attach(int argc, char **argv)
{
	int pid = 0;
	double duration = 0;
	const char *out = NULL, *name = NULL;
	bool force = false, quiet = false, events = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if ((!strcmp(a, "-p") || !strcmp(a, "--pid")) && more)
			pid = atoi(argv[++i]);
		else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && more)
			out = argv[++i];
		else if (!strcmp(a, "--duration") && more)
			duration = atof(argv[++i]);
		else if (!strcmp(a, "--name") && more)
			name = argv[++i];
		else if (!strcmp(a, "--events"))
			events = true;
		else if (!strcmp(a, "--force"))
			force = true;
		else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
			quiet = true;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!pid && a[0] >= '1' && a[0] <= '9' && strspn(a, "0123456789") == strlen(a)) {
			pid = atoi(a); /* a bare PID, as in 'attach 1234' */
		} else {
			fprintf(stderr, "goalloc-trace: attach: bad argument '%s' (see 'goalloc-trace attach --help')\n", a);
			return 2;
		}
	}
	if (pid <= 0) {
		fprintf(stderr, "goalloc-trace: attach: -p PID is required\n");
		return 2;
	}
	char libc[4200], comm[64], cmdline[4096], p[64];
	bool preloaded;
	if (kill(pid, 0) != 0 && errno == ESRCH) {
		fprintf(stderr, "goalloc-trace: cannot attach to %d: no such process\n", pid);
		return 2;
	}
	if (find_allocator(pid, libc, sizeof libc, &preloaded) != 0) {
		fprintf(stderr,
		        "goalloc-trace: cannot attach to %d: no malloc to probe: no C library mapped, and no object "
		        "defines malloc (a stripped static program?), or /proc/%d/maps unreadable\n",
		        pid, pid);
		return 2;
	}
	if (preloaded) {
		fprintf(stderr, "goalloc-trace: cannot attach to %d: it runs under libgoalloc.so already (use run)\n", pid);
		return 2;
	}
	snprintf(p, sizeof p, "/proc/%d/comm", pid);
	read_text(p, comm, sizeof comm, false);
	snprintf(p, sizeof p, "/proc/%d/cmdline", pid);
	read_text(p, cmdline, sizeof cmdline, true);

	/* Probes first: a failure leaves no file behind. */
	libbpf_set_print(NULL);
	double cost = probe_cost_us();
	if (cost > 0 && !quiet)
		fprintf(stderr,
		        "goalloc-trace: attach slows the process: each malloc-family call costs about %.1f us more "
		        "while attached (measured now; a call takes ~0.01-0.1 us unprobed), so a process making "
		        "1M calls/s would run ~%.0fx slower%s\n",
		        cost, 1 + cost, duration > 0 ? "" : "; --duration S bounds it");
	struct attach_bpf *skel = attach_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "goalloc-trace: cannot load the uprobe programs: %s%s\n", strerror(errno),
		        errno == EPERM ? " (needs root, or CAP_BPF and CAP_PERFMON)" : "");
		return 2;
	}
	static const struct {
		const char *fn;
		int which; /* 0 malloc 1 calloc 2 realloc 3 memalign 4 posix_memalign 5 free */
	} probes[] = {{"malloc", 0},   {"calloc", 1},         {"realloc", 2}, {"memalign", 3},
	              {"aligned_alloc", 3}, {"posix_memalign", 4}, {"free", 5}};
	struct bpf_link *links[16];
	int nlinks = 0, rc = 2;
	for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
		struct bpf_program *entry[] = {skel->progs.at_malloc, skel->progs.at_calloc, skel->progs.at_realloc,
		                               skel->progs.at_memalign, skel->progs.at_posix_memalign,
		                               skel->progs.at_free};
		/* The return probe first: a call that enters between the two would
		 * otherwise leave an entry whose return is never seen, and the BPF
		 * side would take every later call of that thread for a nested one
		 * (redis-server's busy thread then recorded nothing at all). */
		int nprobes = probes[i].which == 5 ? 1 : 2;
		for (int k = 0; k < nprobes; k++) {
			int ret = nprobes == 2 && k == 0;
			LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = probes[i].fn, .retprobe = ret == 1);
			struct bpf_link *l = bpf_program__attach_uprobe_opts(ret ? skel->progs.at_return
			                                                         : entry[probes[i].which],
			                                                     pid, libc, 0, &uo);
			if (!l && probes[i].which != 0 && probes[i].which != 5 && errno == ENOENT)
				break; /* an allocator without this entry point (only malloc and free are required) */
			if (!l) {
				fprintf(stderr, "goalloc-trace: cannot attach a uprobe to %s in %s: %s\n", probes[i].fn,
				        libc, strerror(errno));
				goto out_links;
			}
			links[nlinks++] = l;
		}
	}
	struct ring_buffer *rb = NULL;
	model m = {.pid = pid, .events = events};
	if (!objmap_init(&m.live, 1 << 16) || !tidmap_init(&m.tnos, 64)) {
		fprintf(stderr, "goalloc-trace: out of memory\n");
		goto out_links;
	}
	char defpath[512];
	if (!out) {
		snprintf(defpath, sizeof defpath, "goalloc-%s-%d.db", comm[0] ? comm : "attached", pid);
		out = defpath;
		if (access(out, F_OK) == 0 && !force) {
			fprintf(stderr, "goalloc-trace: cannot write %s: file exists (use --force or -o)\n", out);
			goto out_model;
		}
	}
	if (force)
		unlink(out);
	bool created;
	char err[600];
	if (cli_db_open(out, true, &created, &m.db, err, sizeof err) != 0) {
		fprintf(stderr, "goalloc-trace: cannot write %s: %s\n", out, err);
		goto out_model;
	}
	char started[64];
	time_t now = time(NULL);
	strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	struct utsname un;
	uname(&un);
	cli_run_info ri = {.name = name ? name : comm, .command = cmdline[0] ? cmdline : comm, .mode = "c-safe",
	                   .started_at = started, .host = un.nodename, .kernel = un.release, .tiny = false};
	char src[4400];
	snprintf(src, sizeof src, "uprobes on %s", libc);
	if (cli_db_begin(m.db) != 0 || cli_db_run_insert(m.db, &ri, &m.run_id) != 0 ||
	    cli_write_class_table(m.db, m.run_id, false) != 0 || cli_db_modelled_run(m.db, m.run_id, pid, src) != 0 ||
	    cli_db_process(m.db, m.run_id, pid, 0, 0, cmdline, 0, -1, INT32_MIN) != 0 ||
	    cli_db_kernel_view(m.db, m.run_id, "off", "attach records requests only", 0) != 0) {
		fprintf(stderr, "goalloc-trace: cannot write %s: %s\n", out, cli_db_error(m.db));
		goto out_db;
	}
	m.seq = events ? cli_db_last_event_seq(m.db) : 0;
	m.tno_base = events ? (uint32_t)cli_db_last_tno(m.db) : 0;
	m.t0 = cli_drain_mono_ns();
	rb = ring_buffer__new(bpf_map__fd(skel->maps.requests), on_request, &m, NULL);
	if (!rb) {
		fprintf(stderr, "goalloc-trace: cannot open the ring buffer: %s\n", strerror(errno));
		goto out_db;
	}
	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!quiet)
		fprintf(stderr, "goalloc-trace: attached to %d (%s): %d uprobes on %s\n", pid, comm, nlinks, libc);
	uint64_t last_flush = m.t0;
	bool gone = false;
	while (!stop_signal && !m.error) {
		if (ring_buffer__poll(rb, 1) < 0 && m.error)
			break;
		uint64_t t = cli_drain_mono_ns();
		if (duration > 0 && (double)(t - m.t0) >= duration * 1e9)
			break;
		if (t - last_flush > 500 * 1000000ull) {
			last_flush = t;
			if (!proc_alive(pid)) {
				gone = true;
				break;
			}
			if (write_classes(&m) != 0 || cli_db_commit(m.db) != 0 || cli_db_begin(m.db) != 0)
				m.error = true;
		}
	}
	while (!m.error && ring_buffer__consume(rb) > 0)
		;
	int64_t lost = (int64_t)skel->bss->lost;
	int64_t dur = (int64_t)(cli_drain_mono_ns() - m.t0);
	cli_run_end re = {.duration_ns = dur, .events = m.requests, .dropped = lost, .unmatched_frees = m.unmatched,
	                  .exit_status = -1, .state = stop_signal ? "interrupted" : "done",
	                  .peak_t_ns = m.peak_t, .peak_heap_alloc = m.peak_alloc, .peak_requested = m.peak_requested,
	                  .peak_heap_inuse = -1, .peak_heap_idle = -1, .peak_heap_released = -1, .peak_heap_sys = -1};
	if (m.error || write_classes(&m) != 0 || cli_db_tiny_stat(m.db, m.run_id, 0, 0, 0) != 0 ||
	    (gone && cli_db_process(m.db, m.run_id, pid, 0, 0, cmdline, 0, dur, INT32_MIN) != 0) ||
	    cli_db_run_update(m.db, m.run_id, &re) != 0 || cli_db_commit(m.db) != 0) {
		fprintf(stderr, "goalloc-trace: cannot write %s: %s\n", out, cli_db_error(m.db));
		goto out_db;
	}
	if (!quiet) {
		char b1[32], b2[32];
		cli_fmt_bytes(b1, sizeof b1, m.peak_alloc);
		cli_fmt_bytes(b2, sizeof b2, m.peak_requested);
		fprintf(stderr, "goalloc-trace: %s after %.2f s: %lld requests (%lld lost), %lld frees of objects "
		        "from before\n", gone ? "the process exited" : "detached", (double)dur / 1e9,
		        (long long)m.requests, (long long)lost, (long long)m.unmatched);
		fprintf(stderr, "  modelled   HeapAlloc peak %s for %s requested: size-class waste %.1f%%\n", b1, b2,
		        m.peak_alloc ? 100.0 * (double)(m.peak_alloc - m.peak_requested) / (double)m.peak_alloc : 0.0);
		fprintf(stderr, "  database   %s (run %lld, modelled)\n", out, (long long)m.run_id);
	}
	rc = 0;
out_db:
	ring_buffer__free(rb);
	cli_db_close(m.db);
	if (rc != 0 && created)
		unlink(out);
out_model:
	objmap_destroy(&m.live);
	tidmap_destroy(&m.tnos);
out_links:
	while (nlinks > 0)
		bpf_link__destroy(links[--nlinks]);
	attach_bpf__destroy(skel);
	return rc;
}

#else

int cli_cmd_attach(int argc, char **argv)
{
	fprintf(stderr, "goalloc-trace: cannot attach: %s\n",
#ifdef GOALLOC_NO_BPF_REASON
	        GOALLOC_NO_BPF_REASON
#else
	        "built without eBPF support"
#endif
	);
	return 2;
}

#endif
