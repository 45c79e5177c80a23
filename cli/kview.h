/* kview.h: the kernel view of a run (eBPF): what crosses between the kernel
 * half (kview.bpf.c) and the user half (kview.c), in fixed-width types, and
 * the user half's API for `run`.
 *
 * The kernel half keeps, per traced process (tgid), a count of user page
 * faults in the map `procs`, and writes one kv_record per mm system call and
 * one at the end of each process into the ring buffer `events`.  The user
 * half seeds `procs` with the target before it execs, samples RSS
 * (/proc/PID/statm) and the fault counts every KV_SAMPLE_MS, and writes the
 * records and samples to the database (db.c).
 */
#ifndef CLI_KVIEW_H
#define CLI_KVIEW_H

#ifdef __bpf__
/* vmlinux.h (included first by kview.bpf.c) defines the __u types */
#else
#include <linux/types.h>
#endif

#define KV_MAX_PROCS 16384   /* processes of the tree alive at once */
#define KV_RINGBUF_BYTES (1u << 20) /* 16k records of 64 B; drained at least every 2 ms */

/* What the kernel half counts per process: written by BPF (atomic adds),
 * read by the user half at each sample. */
struct kv_proc {
	__u64 faults; /* user page faults so far (page_fault_user) */
	/* Its pid namespace (the inode /proc/PID/ns/pid shows) and its pid
	 * there, set by BPF at the fork when that is not the CLI's namespace
	 * (0 otherwise, and for the target, which `run` adds).  Such a process
	 * has a trace pid of its own (gt_foreign_pid), which the user half
	 * puts in its rows; its mm calls carry its threads' ids there. */
	__u32 ns_ino, ns_pid;
};

enum kv_kind {
	KV_REC_MM = 1,   /* one mm system call returned */
	KV_REC_EXIT = 2, /* the last thread of a process is exiting */
};

/* The mm calls, as stored in mm_calls.call (kview.c names them). */
enum kv_call {
	KV_MMAP = 1,
	KV_MUNMAP,
	KV_MPROTECT,
	KV_MADVISE,
	KV_BRK,
	KV_MREMAP,
};

/* One ring-buffer record (64 bytes).  t_ns: CLOCK_MONOTONIC (bpf_ktime_get_ns).
 *   KV_REC_MM:   a0..a2 the call's first three arguments, ret its result.
 *   KV_REC_EXIT: a0 resident pages (file + anon + shmem, as statm counts them),
 *                a1 the process's user page faults, a2 1 if a0 is known (the
 *                mm was still attached when the exit tracepoint fired), ret the
 *                exit code as wait(2) would report it (task_struct.exit_code).
 *   Both: ns the process's kv_proc.ns_ino << 32 | ns_pid. */
struct kv_record {
	__u32 kind, call;
	__u32 pid, tid;
	__u64 t_ns;
	__u64 a0, a1, a2;
	__s64 ret;
	__u64 ns;
};

#ifndef __bpf__
#include "db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KV_SAMPLE_MS 50

typedef struct cli_kview cli_kview;

/* Load the BPF programs and attach them (before the target starts).
 * 0, or -1 with a one-line reason in why (not root, no BTF, refused by the
 * verifier, built without eBPF). */
int cli_kview_open(cli_kview **out, char *why, size_t whylen);
/* The same, in a thread: loading takes ~20-40 ms (libbpf parses the
 * kernel's BTF for the CO-RE relocations), which `run` overlaps with its own
 * start-up.  Every cli_kview_open_start() is followed by one _wait(). */
typedef struct cli_kview_loader cli_kview_loader;
cli_kview_loader *cli_kview_open_start(void);
int cli_kview_open_wait(cli_kview_loader *l, cli_kview **out, char *why, size_t whylen);
/* Trace pid and every process it forks from now on (call before it execs). */
int cli_kview_track(cli_kview *kv, int pid);
/* Where the records go: db and run, and the CLOCK_MONOTONIC ns at which the
 * run's t_ns is 0 (the trace region's ns0, heap_timeline's origin). */
void cli_kview_start(cli_kview *kv, cli_db *db, int64_t run_id, uint64_t ns0);
/* Called for every traced process's end with its status as `run` reports
 * statuses (code, or 128+signal) and the run's t_ns of the end: the kernel
 * knows it for processes the CLI does not reap (a shell's children). */
typedef void (*cli_kview_exit_fn)(void *ctx, int pid, int status, int64_t t_ns);
void cli_kview_on_exit(cli_kview *kv, cli_kview_exit_fn fn, void *ctx);
/* Take what the ring buffer holds now (never blocks) and, when KV_SAMPLE_MS
 * have passed since the last sample (or always with force), sample every
 * traced process.  -1 on a database error (cli_db_error). */
int cli_kview_poll(cli_kview *kv, bool force);

typedef struct cli_kview_stats {
	int64_t peak_rss_bytes; /* the largest RSS one process had in a sample */
	int peak_pid;
	int64_t faults;   /* user page faults of every traced process */
	int64_t mm_calls; /* rows written to mm_calls */
	int64_t samples;  /* rows written to kernel_timeline */
	int64_t lost;     /* records the ring buffer had no room for */
} cli_kview_stats;

void cli_kview_stats_get(const cli_kview *kv, cli_kview_stats *st);
void cli_kview_close(cli_kview *kv);
#endif

#endif
