/* kview_touch.c: a program that touches known amounts of memory, for the
 * kernel-view tests (check_kview.sh).  It prints what it measures of itself
 * from /proc/self/statm, and after each measurement makes a marker call the
 * kernel view records -- madvise(mark, (N+1) OS pages, MADV_NORMAL), a no-op
 * -- so a test can find in mm_calls when the measurement was taken.
 *
 *   kview_touch touch      phase 0: nothing touched; 1: 64 MiB malloc'd and
 *                          written; 2: 256 MiB more; 3: both freed
 *   kview_touch fork       a child touches 32 MiB (phase 0 in the child)
 *   kview_touch forks      4 children one after another, child k touching
 *                          16 (k + 1) MiB (phase k in it)
 *   kview_touch flag FILE  creates FILE (tells a test the program ran)
 *
 * Each measurement line: "phase N pid P rss BYTES".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char mark[16 * 4096] __attribute__((aligned(4096)));

static long long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long long size = 0, resident = 0;
	if (!f || fscanf(f, "%lld %lld", &size, &resident) != 2) {
		perror("kview_touch: /proc/self/statm");
		exit(1);
	}
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Measure, print, mark, and hold still long enough for several samples. */
static void phase(int n)
{
	printf("phase %d pid %d rss %lld\n", n, (int)getpid(), rss_bytes());
	fflush(stdout);
	madvise(mark, (size_t)(n + 1) * 4096, MADV_NORMAL);
	sleep_ms(400);
}

static char *touch(size_t mib)
{
	size_t n = mib << 20;
	char *p = malloc(n);
	if (!p) {
		perror("kview_touch: malloc");
		exit(1);
	}
	/* one write per OS page, in steps, as a program filling a buffer would */
	for (size_t i = 0; i < n; i += 4096)
		p[i] = (char)(i >> 12);
	return p;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	mark[0] = 1; /* the marker pages are mapped */
	printf("mark %llu\n", (unsigned long long)(uintptr_t)mark);
	if (!strcmp(argv[1], "touch")) {
		phase(0);
		char *a = touch(64);
		phase(1);
		char *b = touch(256);
		phase(2);
		if (a[4096] != 1 || b[8192] != 2)
			return 1;
		/* The 256 MiB began a scavenger cycle, and pages freed within a
		 * second of its start keep the cycle's goal (scavenge.c): wait
		 * that second out, so that the frees release pages however fast
		 * the touching went. */
		sleep_ms(700);
		free(b);
		free(a);
		phase(3);
		return 0;
	}
	if (!strcmp(argv[1], "fork")) {
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			char *p = touch(32);
			phase(0);
			return p[4096] == 1 ? 0 : 1;
		}
		int st;
		waitpid(c, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	if (!strcmp(argv[1], "forks")) {
		for (int k = 0; k < 4; k++) {
			fflush(stdout);
			pid_t c = fork();
			if (c == 0) {
				char *p = touch((size_t)16 * (k + 1));
				phase(k);
				return p[4096] == 1 ? 0 : 1;
			}
			int st;
			if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				return 1;
		}
		return 0;
	}
	if (!strcmp(argv[1], "flag") && argc > 2) {
		FILE *f = fopen(argv[2], "w");
		return f && fclose(f) == 0 ? 0 : 1;
	}
	return 2;
}
