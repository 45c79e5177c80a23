/* kview.bpf.c: the kernel half of the kernel view (see kview.h; kview.c
 * loads it).  Owns: which processes belong to the traced tree (map procs),
 * their user page faults (counted in procs), their mm system calls and
 * their RSS when they end (records in the ring buffer events).
 *
 * Program types: tp_btf only (BTF-typed raw tracepoints).  They need no
 * tracefs, no kprobes, and no BPF trampoline: fentry/fexit are refused with
 * EPERM on the kernels this runs on (6.18, CONFIG_KPROBES off), so the
 * syscalls are seen at sys_exit, whose pt_regs still hold the arguments.
 * Field accesses are CO-RE (vmlinux.h carries preserve_access_index).
 *
 * Invariant: a tgid is in procs from the moment its parent (a traced
 * process, or the CLI for the target) forks it until its last thread
 * exits; nothing outside the tree is ever added.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kview.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KV_MAX_PROCS);
	__type(key, __u32); /* tgid */
	__type(value, struct kv_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KV_RINGBUF_BYTES);
} events SEC(".maps");

/* The CLI's pid namespace (inode), set before load: kv_proc.ns_ino is 0
 * for the processes in it, and for all of them while it is 0 (unknown). */
const volatile __u32 cli_pidns = 0;

/* Records the ring buffer had no room for (read by kview.c at the end). */
__u64 lost = 0;
/* Processes of the tree beyond KV_MAX_PROCS, not traced. */
__u64 untracked = 0;

/* x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
#define NR_MMAP 9
#define NR_MPROTECT 10
#define NR_MUNMAP 11
#define NR_BRK 12
#define NR_MREMAP 25
#define NR_MADVISE 28
#define TS_COMPAT 0x0002 /* thread_info.status: a 32-bit syscall (other numbers) */

/* A task's pid in its own pid namespace, and that namespace: the last
 * level of its struct pid. */
static __always_inline struct upid innermost(struct task_struct *t)
{
	struct upid up = {};
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	if (level < 64)
		bpf_core_read(&up, sizeof up, &pid->numbers[level]);
	return up;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(kv_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	if (ptgid == ctgid || !bpf_map_lookup_elem(&procs, &ptgid))
		return 0; /* a thread, or not ours */
	/* The child's pid namespace is fixed from here on (an exec or a
	 * setns does not move a process). */
	struct kv_proc v = {};
	struct upid up = innermost(child);
	__u32 ino = BPF_CORE_READ(up.ns, ns.inum);
	if (cli_pidns && ino != cli_pidns) {
		v.ns_ino = ino;
		v.ns_pid = (__u32)up.nr;
	}
	if (bpf_map_update_elem(&procs, &ctgid, &v, BPF_NOEXIST) == -7 /* E2BIG: full */)
		__sync_fetch_and_add(&untracked, 1);
	return 0;
}

/* Pages of one rss_stat counter, as /proc's get_mm_counter reads it. */
static __always_inline __u64 rss_pages(struct mm_struct *mm, int member)
{
	__s64 v = BPF_CORE_READ(mm, rss_stat[member].count);
	return v > 0 ? (__u64)v : 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(kv_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct kv_proc *v = bpf_map_lookup_elem(&procs, &tgid);
	if (!v)
		return 0;
	/* signal->live was decremented before this tracepoint: 0 means this is
	 * the process's last thread. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	struct kv_record *r = bpf_ringbuf_reserve(&events, sizeof *r, 0);
	if (r) {
		/* Since 6.16ish the tracepoint fires before exit_mm(): the mm and
		 * its counters are still there.  Before, mm is NULL here. */
		struct mm_struct *mm = BPF_CORE_READ(p, mm);
		r->kind = KV_REC_EXIT;
		r->call = 0;
		r->pid = tgid;
		r->tid = p->pid;
		r->t_ns = bpf_ktime_get_ns();
		r->a0 = mm ? rss_pages(mm, MM_FILEPAGES) + rss_pages(mm, MM_ANONPAGES) + rss_pages(mm, MM_SHMEMPAGES)
		           : 0;
		r->a1 = v->faults;
		r->a2 = mm != NULL;
		/* do_exit stored it before this tracepoint: a wait status (code << 8,
		 * or the signal number, | 0x80 with a core dump) */
		r->ret = BPF_CORE_READ(p, exit_code);
		r->ns = (__u64)v->ns_ino << 32 | v->ns_pid;
		bpf_ringbuf_submit(r, 0);
	} else {
		__sync_fetch_and_add(&lost, 1);
	}
	bpf_map_delete_elem(&procs, &tgid);
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(kv_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct kv_proc *v = bpf_map_lookup_elem(&procs, &tgid);
	if (v)
		__sync_fetch_and_add(&v->faults, 1);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(kv_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 call;
	switch (regs->orig_ax) {
	case NR_MMAP:
		call = KV_MMAP;
		break;
	case NR_MUNMAP:
		call = KV_MUNMAP;
		break;
	case NR_MPROTECT:
		call = KV_MPROTECT;
		break;
	case NR_MADVISE:
		call = KV_MADVISE;
		break;
	case NR_BRK:
		call = KV_BRK;
		break;
	case NR_MREMAP:
		call = KV_MREMAP;
		break;
	default:
		return 0;
	}
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct kv_proc *v = bpf_map_lookup_elem(&procs, &tgid);
	if (!v)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	if (t->thread_info.status & TS_COMPAT)
		return 0;
	struct kv_record *r = bpf_ringbuf_reserve(&events, sizeof *r, 0);
	if (!r) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	r->kind = KV_REC_MM;
	r->call = call;
	r->pid = tgid;
	/* in a sandbox, the thread's id there, as the trace has it */
	r->tid = v->ns_ino ? (__u32)innermost(t).nr : (__u32)id;
	r->t_ns = bpf_ktime_get_ns();
	r->a0 = regs->di;
	r->a1 = regs->si;
	r->a2 = regs->dx;
	r->ret = ret;
	r->ns = (__u64)v->ns_ino << 32 | v->ns_pid;
	bpf_ringbuf_submit(r, 0);
	return 0;
}
