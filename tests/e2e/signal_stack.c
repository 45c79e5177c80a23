/* signal_stack.c: a crash handler on an alternate signal stack of
 * SIGSTKSZ bytes (a guard page below it, so that an overflow faults
 * instead of writing over whatever lies there) that allocates: first
 * with most of that stack free, then through glibc's backtrace (which
 * loads libgcc_s: the loader's deep frames) and backtrace_symbols.
 * Prints "caught", exits 3 (run_cases.sh signal-stack). */
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

__attribute__((noinline)) static void on_segv(int sig)
{
	char *m = malloc(100);
	snprintf(m, 100, "caught %d", sig);
	void *b[32];
	int n = backtrace(b, 32);
	char **s = backtrace_symbols(b, n);
	printf("%s, %s\n", m, n > 0 && s ? "a backtrace" : "no backtrace");
	fflush(stdout);
	free(s);
	free(m);
	_exit(3);
}

static int *volatile nowhere; /* NULL: the crash */

int main(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size = SIGSTKSZ;
	char *g = mmap(NULL, page + size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED || mprotect(g, page, PROT_NONE) != 0)
		return 2;
	stack_t ss = {.ss_sp = g + page, .ss_size = size};
	if (sigaltstack(&ss, NULL) != 0)
		return 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_segv;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGSEGV, &sa, NULL);
	for (int i = 1; i < 200; i++)
		free(malloc((size_t)i * 40));
	*nowhere = 1;
	return 0;
}
