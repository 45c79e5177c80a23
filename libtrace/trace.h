/* trace.h: libtrace's internal interface between the entry points
 * (interpose.c) and the ring writer (trace.c). */
#ifndef GT_TRACE_H
#define GT_TRACE_H

#include <stdbool.h>

#define GT_LIKELY(x) __builtin_expect(!!(x), 1)
#define GT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GT_NOINLINE __attribute__((noinline))

/* In a fork child, before anything else: give up the parent's ring and
 * record the new process. */
void gt_trace_fork_child(void);
/* Before fork, with the heap's locks held: mark the fork point. */
void gt_trace_fork_prepare(void);
/* In the parent after fork (or a failed fork). */
void gt_trace_fork_parent(void);
/* fork's handlers as interpose.c registers them (heap and trace), for
 * clone.c's forks that the C library's fork handlers do not see. */
void gt_atfork_prepare(void);
void gt_atfork_parent(void);
void gt_atfork_child(void);
/* From the constructor: resolve the C library's clone (clone.c). */
void gt_clone_init(void);
/* At process exit (library destructor). */
void gt_trace_exit(int status_known, int status);
/* At _exit (possibly from a signal handler): the PROC_EXIT with status,
 * unless that cannot be written safely from here. */
void gt_trace_exit_now(int status);
/* Whether the caller is the process this image traces: a raw-clone child
 * (its own memory, no fork handler run) becomes one here if it had not
 * yet; a vfork child, on its parent's memory, is not. */
bool gt_trace_is_self(void);
/* A wait call of this process reaped child pid, which ended with status
 * (the exit code, or 128 + the signal). */
void gt_trace_child_exit(int pid, int status);
/* From the constructor: resolve the C library's wait family (reap.c). */
void gt_reap_init(void);
bool gt_tracing(void);

struct gt_record;
struct gt_region;
/* One record into the calling thread's ring (for stack.c). */
void gt_trace_put(const struct gt_record *rec);
struct gt_region *gt_trace_region(void);

#endif
