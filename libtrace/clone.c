/* clone.c: the C library's clone() when it makes a process, which is a
 * fork that fork's handlers never see.  Without CLONE_VM the child is a
 * copy of the caller, heap and trace ring included, so it gets what fork()
 * gives a child: the heap's locks taken around the call (its copy of the
 * heap is consistent), the FORK record in the parent and the child's start
 * (trace.c), through the same handlers interpose.c registers with
 * pthread_atfork.  A clone with CLONE_VM (a thread, or posix_spawn's vfork)
 * shares this memory and is passed on as it is.  Raw clone system calls
 * (syscall(SYS_clone), clone3) pass no function: trace.c finds their
 * children at their first record instead.
 *
 * Invariants: the next clone is resolved by gt_clone_init from the
 * library's constructor (or by the first call, if that comes earlier);
 * nothing else here allocates; errno is the call's.
 */
#define _GNU_SOURCE
#include "trace.h"

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/types.h>

#define GT_EXPORT __attribute__((visibility("default")))

typedef int clone_fn(int (*)(void *), void *, int, void *, ...);
static clone_fn *next_clone;

void gt_clone_init(void)
{
	next_clone = (clone_fn *)dlsym(RTLD_NEXT, "clone");
}

/* The program's function and argument, read by the child from its copy of
 * the caller's stack frame. */
typedef struct start {
	int (*fn)(void *);
	void *arg;
} start;

static int child_start(void *p)
{
	start s = *(start *)p;
	gt_atfork_child();
	return s.fn(s.arg);
}

/* The three optional arguments are read as the C library's clone reads
 * them: always, whether or not flags name them. */
GT_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	pid_t *ptid = va_arg(ap, pid_t *);
	void *tls = va_arg(ap, void *);
	pid_t *ctid = va_arg(ap, pid_t *);
	va_end(ap);
	if (!next_clone)
		gt_clone_init(); /* called before our constructor ran */
	if (!next_clone) {
		errno = ENOSYS;
		return -1;
	}
	if ((flags & CLONE_VM) || !fn)
		return next_clone(fn, stack, flags, arg, ptid, tls, ctid);
	start s = {fn, arg};
	gt_atfork_prepare();
	int r = next_clone(child_start, stack, flags, &s, ptid, tls, ctid);
	int saved = errno;
	gt_atfork_parent();
	errno = saved;
	return r;
}
