/* reap.c: the wait family (wait, waitpid, wait3, wait4, waitid) of a traced
 * process.  Each passes the call on to the C library's and, when it reaped
 * a child that exited or was killed, records that child's status
 * (GT_EV_CHILD_EXIT, trace.c).  Without the kernel view this is the only
 * word of a child killed by a signal that `run` does not reap itself (a
 * shell's children): exit() and _exit leave their own PROC_EXIT, a signal
 * death leaves nothing.  The C library's internal waits (system, pclose)
 * are not seen.
 *
 * Invariants: the next definitions are resolved once, by gt_reap_init from
 * the library's constructor, before the program runs: the wrappers run in
 * signal handlers (SIGCHLD), where dlsym may not.  Until then, or if the
 * loader finds none, the raw system calls serve (without the C library's
 * cancellation point).  Nothing here allocates; errno is the call's.
 */
#define _GNU_SOURCE
#include "trace.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define GT_EXPORT __attribute__((visibility("default")))

typedef pid_t wait4_fn(pid_t, int *, int, struct rusage *);
typedef int waitid_fn(idtype_t, id_t, siginfo_t *, int);
static wait4_fn *next_wait4;
static waitid_fn *next_waitid;

void gt_reap_init(void)
{
	next_wait4 = (wait4_fn *)dlsym(RTLD_NEXT, "wait4");
	next_waitid = (waitid_fn *)dlsym(RTLD_NEXT, "waitid");
}

static pid_t do_wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	int st = 0;
	pid_t r = next_wait4 ? next_wait4(pid, &st, options, ru) : (pid_t)syscall(SYS_wait4, pid, &st, options, ru);
	if (r > 0) {
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			int saved = errno;
			gt_trace_child_exit(r, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			errno = saved;
		}
		if (status)
			*status = st;
	}
	return r;
}

GT_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	return do_wait4(pid, status, options, ru);
}

GT_EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
	return do_wait4(-1, status, options, ru);
}

GT_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	return do_wait4(pid, status, options, NULL);
}

GT_EXPORT pid_t wait(int *status)
{
	return do_wait4(-1, status, 0, NULL);
}

GT_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *infop, int options)
{
	siginfo_t own;
	siginfo_t *ip = infop ? infop : &own;
	memset(&own, 0, sizeof own);
	if (infop)
		infop->si_pid = 0; /* WNOHANG with no child ready leaves it 0 */
	int r = next_waitid ? next_waitid(idtype, id, ip, options)
	                    : (int)syscall(SYS_waitid, idtype, id, ip, options, NULL);
	if (r == 0 && !(options & WNOWAIT) && ip->si_pid > 0 &&
	    (ip->si_code == CLD_EXITED || ip->si_code == CLD_KILLED || ip->si_code == CLD_DUMPED)) {
		int saved = errno;
		gt_trace_child_exit(ip->si_pid, ip->si_code == CLD_EXITED ? ip->si_status & 0xff : 128 + ip->si_status);
		errno = saved;
	}
	return r;
}
