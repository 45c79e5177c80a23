/* spawn.c: bench-spawn, the measuring launcher of the benchmark driver.
 *
 * It runs one program with extra environment variables (LD_PRELOAD among
 * them), waits for it and writes "<wall ns> <peak RSS KiB> <wait status>" to
 * RESULT.  It exists because the peak RSS that wait4(2) reports is the
 * largest resident set the child ever had, and a child forked from the
 * driver (a Python process) starts with the driver's memory as its resident
 * set: exec keeps that high-water mark.  A child forked from this small
 * program starts from about one MiB, so ru_maxrss measures the workload.
 * ru_maxrss also covers every descendant the child waited for (gcc's cc1).
 * The variables are set in the child only, so this launcher itself never
 * runs on the allocator under test.
 *
 * Usage: bench-spawn RESULT [NAME=VALUE]... -- PROGRAM [ARG]...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int sep = 2;
	while (sep < argc && strcmp(argv[sep], "--") != 0)
		sep++;
	if (argc < 2 || sep + 1 >= argc) {
		fprintf(stderr, "usage: bench-spawn RESULT [NAME=VALUE]... -- PROGRAM [ARG]...\n");
		return 64;
	}
	FILE *res = fopen(argv[1], "w");
	if (!res) {
		fprintf(stderr, "bench-spawn: cannot open %s: %s\n", argv[1], strerror(errno));
		return 71;
	}

	long long t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench-spawn: cannot fork: %s\n", strerror(errno));
		return 71;
	}
	if (pid == 0) {
		fclose(res);
		for (int i = 2; i < sep; i++)
			if (putenv(argv[i]) != 0)
				_exit(127);
		execv(argv[sep + 1], &argv[sep + 1]);
		fprintf(stderr, "bench-spawn: cannot run %s: %s\n", argv[sep + 1], strerror(errno));
		_exit(127);
	}

	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "bench-spawn: wait4: %s\n", strerror(errno));
			return 71;
		}
	}
	long long wall = now_ns() - t0;
	fprintf(res, "%lld %ld %d\n", wall, ru.ru_maxrss, status);
	return fclose(res) == 0 ? 0 : 71;
}
