/* kview.c: the user half of the kernel view (kview.h): loads and attaches
 * kview.bpf.c with libbpf, seeds its process tree with the target, drains
 * its ring buffer (mm calls, process ends) without blocking from the
 * drainer's loop (a process's end also goes to the on_exit callback with
 * its status), samples every traced process's RSS and user page faults
 * every KV_SAMPLE_MS, and writes rows through db.c (mm_call, kernel_sample).
 *
 * RSS comes from /proc/PID/statm while a process runs (the kernel's
 * get_mm_counter, file + anon + shmem pages) and from the same counters read
 * by BPF at the exit tracepoint for its last value, so a program that lives
 * less than one sample period still has one.  Times are CLOCK_MONOTONIC
 * (bpf_ktime_get_ns, clock_gettime) minus the trace region's ns0, the
 * instant heap_timeline's t_ns counts from.
 *
 * Single-threaded: called only from `run`'s drain loop, like db.c.
 */
#define _GNU_SOURCE
#include "kview.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef GOALLOC_HAVE_BPF

#include "drain.h"
#include "gt_event.h"
#include "u64map.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "kview.skel.h"

typedef struct kv_pid {
	int64_t faults;   /* the last count read */
	int64_t last_brk; /* the last brk result, or -1 */
	uint64_t ended;   /* CLOCK_MONOTONIC ns of its exit record, or 0 */
	uint64_t sampled; /* ... of its last sample */
} kv_pid;

U64MAP_DEFINE(kvpidmap, kv_pid) /* pid + 1 -> what we last knew of it */

struct cli_kview {
	struct kview_bpf *skel;
	struct ring_buffer *rb;
	cli_db *db;
	int64_t run_id;
	uint64_t ns0, last_sample;
	long page_bytes;
	kvpidmap pids; /* keyed by the kernel's pid, which /proc here names */
	int64_t faults_ended; /* faults of processes that have ended */
	cli_kview_stats st;
	cli_kview_exit_fn on_exit;
	void *on_exit_ctx;
	bool error;
};

/* libbpf's messages: kept (the last warning becomes the reason a load
 * failed), printed only with GOALLOC_TRACE_BPF_DEBUG=1. */
static char last_msg[256];
static bool debug_msgs;

static int on_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (debug_msgs)
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG)
		return 0;
	char line[256];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = 0;
	if (line[0] && !strstr(line, "ulimit")) /* libbpf's guess for EPERM is misleading as root */
		snprintf(last_msg, sizeof last_msg, "%s", line);
	return 0;
}

/* Whether this process sees the initial pid namespace's pids (BPF sees
 * those): /proc/self/status lists one pid per namespace level. */
static bool in_nested_pidns(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return false;
	char line[256];
	bool nested = false;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "NSpid:", 6)) {
			int a, b;
			nested = sscanf(line + 6, "%d %d", &a, &b) == 2;
			break;
		}
	fclose(f);
	return nested;
}

int cli_kview_open(cli_kview **out, char *why, size_t whylen)
{
	*out = NULL;
	const char *dbg = getenv("GOALLOC_TRACE_BPF_DEBUG");
	debug_msgs = dbg && dbg[0] == '1';
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(why, whylen, "this kernel has no BTF (/sys/kernel/btf/vmlinux: %s)", strerror(errno));
		return -1;
	}
	if (in_nested_pidns()) {
		snprintf(why, whylen, "running in a nested pid namespace (BPF sees the host's pids)");
		return -1;
	}
	cli_kview *kv = calloc(1, sizeof *kv);
	if (!kv || !kvpidmap_init(&kv->pids, 64)) {
		snprintf(why, whylen, "out of memory");
		free(kv);
		return -1;
	}
	kv->page_bytes = sysconf(_SC_PAGESIZE);
	libbpf_set_print(on_libbpf_print);
	last_msg[0] = 0;
	kv->skel = kview_bpf__open();
	if (!kv->skel) {
		snprintf(why, whylen, "cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	/* the namespace the trace's pids are in (cmd_run.c's drainer_pidns) */
	struct stat ns;
	if (stat("/proc/self/ns/pid", &ns) == 0)
		kv->skel->rodata->cli_pidns = (uint32_t)ns.st_ino;
	int err = kview_bpf__load(kv->skel);
	if (err) {
		int e = -err;
		if (e == EPERM || e == EACCES)
			snprintf(why, whylen, "not permitted to load BPF programs (%s: needs root, or CAP_BPF "
			         "and CAP_PERFMON)", strerror(e));
		else
			snprintf(why, whylen, "cannot load the BPF programs: %s%s%s", strerror(e),
			         last_msg[0] ? ": " : "", last_msg);
		goto fail;
	}
	err = kview_bpf__attach(kv->skel);
	if (err) {
		snprintf(why, whylen, "cannot attach the BPF programs: %s%s%s", strerror(-err),
		         last_msg[0] ? ": " : "", last_msg);
		goto fail;
	}
	kv->rb = ring_buffer__new(bpf_map__fd(kv->skel->maps.events), NULL, NULL, NULL);
	if (!kv->rb) {
		snprintf(why, whylen, "cannot open the BPF ring buffer: %s", strerror(errno));
		goto fail;
	}
	*out = kv;
	return 0;
fail:
	cli_kview_close(kv);
	return -1;
}

int cli_kview_track(cli_kview *kv, int pid)
{
	__u32 key = (__u32)pid;
	struct kv_proc zero = {0};
	return bpf_map_update_elem(bpf_map__fd(kv->skel->maps.procs), &key, &zero, BPF_ANY) == 0 ? 0 : -1;
}

/* The pid the trace knows the process by (kernel pid `pid`; `ino` and
 * `nspid` its pid namespace and pid there, ino 0 in the CLI's own): in a
 * sandbox, the trace pid libtrace gave it, so its rows join its process
 * rows and its end reaches its trace. */
static int trace_pid(int pid, uint32_t ino, uint32_t nspid)
{
	return ino ? gt_foreign_pid(ino, (int)nspid) : pid;
}

static int64_t rel_ns(const cli_kview *kv, uint64_t mono)
{
	return mono > kv->ns0 ? (int64_t)(mono - kv->ns0) : 0;
}

static kv_pid *pid_state(cli_kview *kv, int pid)
{
	bool isnew;
	kv_pid *s = kvpidmap_put(&kv->pids, (uint64_t)(uint32_t)pid + 1, &isnew);
	if (isnew)
		*s = (kv_pid){.faults = 0, .last_brk = -1, .ended = 0, .sampled = 0};
	return s;
}

static void note_rss(cli_kview *kv, int pid, int64_t rss)
{
	if (rss > kv->st.peak_rss_bytes) {
		kv->st.peak_rss_bytes = rss;
		kv->st.peak_pid = pid;
	}
}

static const char *const call_name[] = {
	[KV_MMAP] = "mmap",   [KV_MUNMAP] = "munmap", [KV_MPROTECT] = "mprotect",
	[KV_MADVISE] = "madvise", [KV_BRK] = "brk",   [KV_MREMAP] = "mremap",
};

static int on_record(void *ctx, void *data, size_t len)
{
	cli_kview *kv = ctx;
	const struct kv_record *r = data;
	if (len < sizeof *r)
		return 0;
	int64_t t = rel_ns(kv, r->t_ns);
	int pid = (int)r->pid, tpid = trace_pid(pid, (uint32_t)(r->ns >> 32), (uint32_t)r->ns);
	if (r->kind == KV_REC_EXIT) {
		int64_t rss = r->a2 ? (int64_t)r->a0 * kv->page_bytes : -1;
		if (cli_db_kernel_sample(kv->db, kv->run_id, t, tpid, rss, (int64_t)r->a1) != 0)
			goto fail;
		kv->st.samples++;
		if (rss >= 0)
			note_rss(kv, tpid, rss);
		kv->faults_ended += (int64_t)r->a1;
		if (kv->on_exit) {
			int code = (int)r->ret;
			int status = (code & 0x7f) == 0 ? (code >> 8) & 0xff : 128 + (code & 0x7f);
			kv->on_exit(kv->on_exit_ctx, tpid, status, t);
		}
		/* BPF deletes the pid from procs just after submitting this: a
		 * sample in between must not count it again. */
		kv_pid *s = pid_state(kv, pid);
		*s = (kv_pid){.faults = 0, .last_brk = -1, .ended = r->t_ns, .sampled = 0};
		return 0;
	}
	if (r->kind != KV_REC_MM || r->call < KV_MMAP || r->call > KV_MREMAP)
		return 0;
	const int64_t none = INT64_MIN;
	int64_t addr = (int64_t)r->a0, length = (int64_t)r->a1, arg = (int64_t)r->a2;
	switch (r->call) {
	case KV_MUNMAP:
		arg = none;
		break;
	case KV_BRK: {
		/* brk(addr) returns the new break: its length is the move from the
		 * last break we saw (unknown for the first call, brk(0) usually). */
		kv_pid *s = pid_state(kv, pid);
		length = s->last_brk >= 0 ? r->ret - s->last_brk : none;
		s->last_brk = r->ret;
		arg = none;
		break;
	}
	default:
		break;
	}
	if (cli_db_mm_call(kv->db, kv->run_id, t, tpid, (int)r->tid, call_name[r->call], addr, length, arg,
	                   r->ret) != 0)
		goto fail;
	kv->st.mm_calls++;
	return 0;
fail:
	kv->error = true;
	return -1;
}

void cli_kview_start(cli_kview *kv, cli_db *db, int64_t run_id, uint64_t ns0)
{
	kv->db = db;
	kv->run_id = run_id;
	kv->ns0 = ns0;
	kv->last_sample = cli_drain_mono_ns();
	/* the records go to this run from now on */
	ring_buffer__free(kv->rb);
	kv->rb = ring_buffer__new(bpf_map__fd(kv->skel->maps.events), on_record, kv, NULL);
}

void cli_kview_on_exit(cli_kview *kv, cli_kview_exit_fn fn, void *ctx)
{
	kv->on_exit = fn;
	kv->on_exit_ctx = ctx;
}

/* Resident bytes of pid from /proc/PID/statm; -1 if it is gone or has no
 * mm any more (a zombie's statm reads all zeros). */
static int64_t statm_rss(const cli_kview *kv, int pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/statm", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	long long size, resident;
	if (sscanf(buf, "%lld %lld", &size, &resident) != 2 || size == 0)
		return -1;
	return (int64_t)resident * kv->page_bytes;
}

static int sample(cli_kview *kv, uint64_t now)
{
	/* The keys first: the kernel deletes entries while we walk, and a
	 * deleted key makes get_next_key start over from the first. */
	static __u32 keys[KV_MAX_PROCS];
	int fd = bpf_map__fd(kv->skel->maps.procs), n = 0;
	__u32 *prev = NULL, next;
	while (n < KV_MAX_PROCS && bpf_map_get_next_key(fd, prev, &next) == 0) {
		keys[n] = next;
		prev = &keys[n++];
	}
	int64_t t = rel_ns(kv, now);
	for (int i = 0; i < n; i++) {
		int pid = (int)keys[i];
		kv_pid *s = pid_state(kv, pid);
		if (s->sampled == now)
			continue; /* seen twice in one walk */
		s->sampled = now;
		if (s->ended && now - s->ended < 1000 * 1000000ull)
			continue; /* its exit record is in already */
		s->ended = 0; /* (a pid used again much later is another process) */
		struct kv_proc v;
		if (bpf_map_lookup_elem(fd, &keys[i], &v) != 0)
			continue; /* it exited meanwhile: its exit record has the last figures */
		int64_t rss = statm_rss(kv, pid);
		if (rss < 0)
			continue;
		int tpid = trace_pid(pid, v.ns_ino, v.ns_pid);
		if (cli_db_kernel_sample(kv->db, kv->run_id, t, tpid, rss, (int64_t)v.faults) != 0) {
			kv->error = true;
			return -1;
		}
		kv->st.samples++;
		note_rss(kv, tpid, rss);
		s->faults = (int64_t)v.faults;
	}
	return 0;
}

int cli_kview_poll(cli_kview *kv, bool force)
{
	if (kv->error)
		return -1;
	if (ring_buffer__consume(kv->rb) < 0 && kv->error)
		return -1;
	uint64_t now = cli_drain_mono_ns();
	if (force || now - kv->last_sample >= KV_SAMPLE_MS * 1000000ull) {
		kv->last_sample = now;
		if (sample(kv, now) != 0)
			return -1;
	}
	return 0;
}

void cli_kview_stats_get(const cli_kview *kv, cli_kview_stats *st)
{
	*st = kv->st;
	st->faults = kv->faults_ended;
	for (uint64_t i = 0; i <= kv->pids.mask; i++)
		if (kv->pids.slots[i].key)
			st->faults += kv->pids.slots[i].val.faults;
	st->lost = (int64_t)kv->skel->bss->lost;
}

void cli_kview_close(cli_kview *kv)
{
	if (!kv)
		return;
	ring_buffer__free(kv->rb);
	kview_bpf__destroy(kv->skel);
	kvpidmap_destroy(&kv->pids);
	free(kv);
}

struct cli_kview_loader {
	pthread_t thread;
	bool started;
	int rc;
	cli_kview *kv;
	char why[512];
};

static void *loader_main(void *arg)
{
	cli_kview_loader *l = arg;
	l->rc = cli_kview_open(&l->kv, l->why, sizeof l->why);
	return NULL;
}

cli_kview_loader *cli_kview_open_start(void)
{
	cli_kview_loader *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->started = pthread_create(&l->thread, NULL, loader_main, l) == 0;
	if (!l->started)
		loader_main(l); /* no thread: load here */
	return l;
}

int cli_kview_open_wait(cli_kview_loader *l, cli_kview **out, char *why, size_t whylen)
{
	*out = NULL;
	if (!l) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (l->started)
		pthread_join(l->thread, NULL);
	int rc = l->rc;
	*out = l->kv;
	snprintf(why, whylen, "%s", l->why);
	free(l);
	return rc;
}

#else /* !GOALLOC_HAVE_BPF: the CLI was built without the kernel view */

#ifndef GOALLOC_NO_BPF_REASON
#define GOALLOC_NO_BPF_REASON "built without eBPF support"
#endif

int cli_kview_open(cli_kview **out, char *why, size_t whylen)
{
	*out = NULL;
	snprintf(why, whylen, "%s", GOALLOC_NO_BPF_REASON);
	return -1;
}

struct cli_kview_loader {
	int unused;
};

cli_kview_loader *cli_kview_open_start(void)
{
	return NULL;
}

int cli_kview_open_wait(cli_kview_loader *l, cli_kview **out, char *why, size_t whylen)
{
	return cli_kview_open(out, why, whylen);
}

int cli_kview_track(cli_kview *kv, int pid)
{
	return -1;
}

void cli_kview_start(cli_kview *kv, cli_db *db, int64_t run_id, uint64_t ns0)
{
}

void cli_kview_on_exit(cli_kview *kv, cli_kview_exit_fn fn, void *ctx)
{
	(void)kv, (void)fn, (void)ctx;
}

int cli_kview_poll(cli_kview *kv, bool force)
{
	return 0;
}

void cli_kview_stats_get(const cli_kview *kv, cli_kview_stats *st)
{
	memset(st, 0, sizeof *st);
}

void cli_kview_close(cli_kview *kv)
{
}

#endif
