/* attach.h: what crosses between attach.bpf.c and cmd_attach.c: one record
 * per malloc-family request of the attached process, in fixed-width types. */
#ifndef CLI_ATTACH_H
#define CLI_ATTACH_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define AT_RINGBUF_BYTES (8u << 20) /* 200k records; drained every millisecond */

enum at_kind {
	AT_MALLOC = 1,
	AT_CALLOC,
	AT_REALLOC,         /* old: the pointer passed in */
	AT_MEMALIGN,        /* memalign, aligned_alloc */
	AT_POSIX_MEMALIGN,  /* addr read from *memptr when it returned 0 */
	AT_FREE,            /* addr */
};

/* size: bytes asked for (calloc: n * size); addr: the object returned (0:
 * the call failed) or freed; t_ns: CLOCK_MONOTONIC when it returned. */
struct at_record {
	__u32 kind, tid;
	__u64 t_ns, size, addr, old;
};

#endif
