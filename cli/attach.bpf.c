/* attach.bpf.c: the kernel half of `goalloc-trace attach` (cmd_attach.c
 * loads it): uprobes on the C library's malloc family in one running
 * process, one ring-buffer record per request (attach.h).
 *
 * Only a thread's outermost call is recorded: a C library whose realloc
 * calls its own public malloc or free (the probes would fire again inside)
 * must not make those inner calls requests of their own.  depth counts the
 * calls in progress per thread; free has no return probe, so it only looks
 * at depth.  (Debian 12's glibc 2.36 makes no such inner calls through the
 * probed addresses: the attach test passes with or without depth.)
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "attach.h"

char LICENSE[] SEC("license") = "GPL";

struct call {
	__u64 size, old; /* old: realloc's pointer; posix_memalign's memptr */
	__u32 kind, depth;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32); /* tid */
	__type(value, struct call);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, AT_RINGBUF_BYTES);
} requests SEC(".maps");

__u64 lost = 0; /* requests the ring buffer had no room for */

static __always_inline int enter(__u32 kind, __u64 size, __u64 old)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call *c = bpf_map_lookup_elem(&calls, &tid);
	if (c) {
		c->depth++; /* inside another call of the family */
		return 0;
	}
	struct call n = {.size = size, .old = old, .kind = kind, .depth = 1};
	bpf_map_update_elem(&calls, &tid, &n, BPF_ANY);
	return 0;
}

static __always_inline void emit(__u32 kind, __u64 size, __u64 addr, __u64 old)
{
	struct at_record *r = bpf_ringbuf_reserve(&requests, sizeof *r, 0);
	if (!r) {
		__sync_fetch_and_add(&lost, 1);
		return;
	}
	__u64 id = bpf_get_current_pid_tgid();
	r->kind = kind;
	r->tid = (__u32)id;
	r->t_ns = bpf_ktime_get_ns();
	r->size = size;
	r->addr = addr;
	r->old = old;
	bpf_ringbuf_submit(r, 0);
}

static __always_inline int leave(__u64 ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call *c = bpf_map_lookup_elem(&calls, &tid);
	if (!c)
		return 0; /* attached while the call was running */
	if (c->depth > 1) {
		c->depth--;
		return 0;
	}
	__u64 addr = ret;
	if (c->kind == AT_POSIX_MEMALIGN) {
		/* returns 0 or an error; the object is at *memptr */
		addr = 0;
		if (ret == 0)
			bpf_probe_read_user(&addr, sizeof addr, (void *)c->old);
		c->old = 0;
	}
	emit(c->kind, c->size, addr, c->old);
	bpf_map_delete_elem(&calls, &tid);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(at_malloc, __u64 size)
{
	return enter(AT_MALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(at_calloc, __u64 n, __u64 size)
{
	return enter(AT_CALLOC, n * size, 0);
}

SEC("uprobe")
int BPF_KPROBE(at_realloc, __u64 old, __u64 size)
{
	return enter(AT_REALLOC, size, old);
}

SEC("uprobe")
int BPF_KPROBE(at_memalign, __u64 align, __u64 size)
{
	return enter(AT_MEMALIGN, size, 0); /* memalign and aligned_alloc */
}

SEC("uprobe")
int BPF_KPROBE(at_posix_memalign, __u64 memptr, __u64 align, __u64 size)
{
	return enter(AT_POSIX_MEMALIGN, size, memptr);
}

SEC("uretprobe")
int BPF_KRETPROBE(at_return, __u64 ret)
{
	return leave(ret);
}

SEC("uprobe")
int BPF_KPROBE(at_free, __u64 addr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	if (!addr || bpf_map_lookup_elem(&calls, &tid))
		return 0; /* free(NULL), or inside realloc */
	emit(AT_FREE, 0, addr, 0);
	return 0;
}
