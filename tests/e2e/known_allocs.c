/* known_allocs.c: a program whose allocations are known.  It writes a
 * manifest of every allocation and free it makes ("A size addr", "F addr",
 * "R oldaddr newsize newaddr") to the file named by argv[1], with write(2)
 * from a static buffer so the manifest itself allocates nothing.  Sizes hit
 * tiny merging, several classes, large objects, realloc across classes, and
 * frees made by another thread than the allocating one.  With argv[2] ==
 * "crash" it dies by SIGSEGV half-way (after a known number of allocations
 * of 4321 bytes); with "spin N" it allocates and frees for N seconds; with
 * "quiet" it allocates 64 MiB, touches it, and is silent for 300 ms before
 * freeing it; with "exec-closed FILE" it closes every fd, gives the trace
 * region's fd number to another file and runs itself again on FILE; with
 * "daemon" it double-forks 20 times, as daemons do, and each grandchild
 * frees inherited objects; with "fork-threads" it forks 200 times while
 * three threads allocate; with "fork-exec" it forks 30 children that exec
 * /bin/true at once; with "clone" it makes two children without
 * fork() (clone() and the raw system call), each freeing inherited
 * objects while the parent allocates; with "fds" it closes every fd, runs itself
 * again, allocates and prints the fds it has above 2.  By default it pauses 700 ms before its last frees. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

static int mfd;
static char mbuf[1 << 16];
static size_t mlen;
static pthread_mutex_t mlock = PTHREAD_MUTEX_INITIALIZER;

static void mflush(void)
{
	if (mlen && write(mfd, mbuf, mlen) != (ssize_t)mlen)
		_exit(3);
	mlen = 0;
}

static void mline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void mline(const char *fmt, ...)
{
	pthread_mutex_lock(&mlock);
	if (mlen > sizeof mbuf - 128)
		mflush();
	va_list ap;
	va_start(ap, fmt);
	mlen += (size_t)vsnprintf(mbuf + mlen, sizeof mbuf - mlen, fmt, ap); /* no allocation for %zu/%p */
	va_end(ap);
	pthread_mutex_unlock(&mlock);
}

static void *A(size_t n)
{
	void *p = malloc(n);
	memset(p, 0x5a, n);
	mline("A %zu %lu\n", n, (unsigned long)(uintptr_t)p);
	return p;
}

static void F(void *p)
{
	mline("F %lu\n", (unsigned long)(uintptr_t)p);
	free(p);
}

enum { NX = 2000 };
static void *xfer[NX];

static void *freer(void *arg)
{
	(void)arg;
	for (int i = 0; i < NX; i++)
		F(xfer[i]);
	return NULL;
}

static int churn_stop;

static void *churner(void *arg)
{
	(void)arg;
	void *p[64] = {0};
	unsigned x = 1;
	while (!__atomic_load_n(&churn_stop, __ATOMIC_RELAXED)) {
		x = x * 1103515245 + 12345;
		unsigned i = (x >> 8) & 63;
		free(p[i]);
		p[i] = malloc(1 + (x >> 16) % 5000);
	}
	for (int i = 0; i < 64; i++)
		free(p[i]);
	return NULL;
}

/* The objects of 200 bytes a fork mode's children inherit. */
static void inherit(void **inh, int n)
{
	for (int i = 0; i < n; i++)
		inh[i] = A(200);
	mflush();
}

/* n children one after another, each reaped before the next is forked,
 * while the parent holds 20000 objects.  Each child execs /bin/true at once
 * (system()'s pattern), or frees 10 of the inherited objects (so its copy
 * of the heap is made) and _exits. */
static int serial_children(int n, bool exec)
{
	void *inh[20000];
	inherit(inh, 20000);
	for (int k = 0; k < n; k++) {
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			if (exec) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			for (int i = 0; i < 10; i++)
				free(inh[k * 10 + i]);
			_exit(0);
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return 1;
	}
	for (int i = 0; i < 20000; i++)
		F(inh[i]);
	mflush();
	return 0;
}

/* 40000 allocations and frees: 80000 records, more than a ring holds, so
 * the thread's ring is written all round. */
static void *ring_filler(void *arg)
{
	(void)arg;
	for (int i = 0; i < 40000; i++)
		free(malloc(64));
	return NULL;
}

/* The resident set, from /proc/self/statm: the trace's rings count in it
 * (shared memory the process wrote). */
static long long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long long size = 0, resident = 0;
	if (!f || fscanf(f, "%lld %lld", &size, &resident) != 2)
		return -1;
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

static void **clone_inh;

static int clone_child(void *arg)
{
	(void)arg;
	for (int i = 0; i < 500; i++)
		free(clone_inh[i]);
	for (int i = 0; i < 300; i++)
		(void)!malloc(3000);
	return 0;
}

/* The parent's allocations while a child runs: none of them is the
 * child's, and the parent's trace stays its own. */
static void clone_churn(void)
{
	void *p[64] = {0};
	unsigned x = 7;
	for (int k = 0; k < 200000; k++) {
		x = x * 1103515245 + 12345;
		unsigned i = (x >> 8) & 63;
		free(p[i]);
		p[i] = malloc(201 + (x >> 16) % 3000); /* never 200: the inherited size */
	}
	for (int i = 0; i < 64; i++)
		free(p[i]);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	mfd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (mfd < 0)
		return 2;
	const char *mode = argc > 2 ? argv[2] : "";
	if (!strcmp(mode, "fork")) {
		/* the child inherits 1000 objects, frees 500 of them, makes 300 */
		void *inh[1000];
		inherit(inh, 1000);
		pid_t pid = fork();
		if (pid == 0) {
			for (int i = 0; i < 500; i++)
				free(inh[i]);
			for (int i = 0; i < 300; i++)
				(void)!malloc(3000);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		for (int i = 0; i < 1000; i++)
			F(inh[i]);
		mflush();
		return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
	}
	if (!strcmp(mode, "daemon")) {
		/* as a daemon starts: fork, the child forks again and exits at
		 * once, the grandchild (reparented before or after its fork
		 * handlers run) frees 500 of the 1000 inherited objects; 20 times */
		void *inh[1000];
		inherit(inh, 1000);
		for (int round = 0; round < 20; round++) {
			int done[2];
			if (pipe(done) != 0)
				return 1;
			pid_t mid = fork();
			if (mid < 0)
				return 1;
			if (mid == 0) {
				if (fork() == 0) {
					for (int i = 0; i < 500; i++)
						free(inh[i]);
					(void)!write(done[1], "x", 1);
					_exit(0);
				}
				_exit(0);
			}
			close(done[1]);
			char c;
			int st;
			if (read(done[0], &c, 1) != 1 || waitpid(mid, &st, 0) != mid)
				return 1;
			close(done[0]);
		}
		for (int i = 0; i < 1000; i++)
			F(inh[i]);
		mflush();
		return 0;
	}
	if (!strcmp(mode, "clone")) {
		/* two children made without fork(): one by the C library's clone
		 * and one by the raw system call, which no fork handler sees.
		 * Each frees 500 of the 1000 inherited objects and makes 300
		 * while the parent churns objects of its own */
		void *inh[1000];
		inherit(inh, 1000);
		static char stack[1 << 16];
		clone_inh = inh;
		pid_t a = clone(clone_child, stack + sizeof stack, SIGCHLD, NULL);
		if (a < 0)
			return 1;
		clone_churn();
		pid_t b = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
		if (b < 0)
			return 1;
		if (b == 0)
			_exit(clone_child(NULL));
		clone_churn();
		/* and one that ends before it allocates anything: its _exit
		 * starts its trace, so it is a process of the run too */
		pid_t c = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
		if (c < 0)
			return 1;
		if (c == 0)
			_exit(9);
		int sa, sb, sc;
		if (waitpid(a, &sa, 0) != a || waitpid(b, &sb, 0) != b || waitpid(c, &sc, 0) != c ||
		    !WIFEXITED(sc) || WEXITSTATUS(sc) != 9)
			return 1;
		for (int i = 0; i < 1000; i++)
			F(inh[i]);
		mflush();
		return WIFEXITED(sa) && WEXITSTATUS(sa) == 0 && WIFEXITED(sb) && WEXITSTATUS(sb) == 0 ? 0 : 1;
	}
	if (!strcmp(mode, "fork-exec"))
		return serial_children(30, true);
	if (!strcmp(mode, "fork-serial"))
		return serial_children(40, false);
	if (!strcmp(mode, "thread-rings")) {
		/* 100 threads one after another, each writing its ring all round;
		 * then the resident set, on stdout */
		for (int k = 0; k < 100; k++) {
			pthread_t t;
			if (pthread_create(&t, NULL, ring_filler, NULL) != 0 || pthread_join(t, NULL) != 0)
				return 1;
		}
		printf("rss %lld\n", rss_bytes());
		mflush();
		return 0;
	}
	if (!strcmp(mode, "fork-threads")) {
		/* fork 200 times while 3 threads allocate and free objects of many
		 * classes (new spans, refills); each child allocates and frees
		 * its own objects, which may come from spans the threads made
		 * just before the fork */
		pthread_t t[3];
		for (int i = 0; i < 3; i++)
			if (pthread_create(&t[i], NULL, churner, NULL) != 0)
				return 1;
		for (int k = 0; k < 200; k++) {
			pid_t pid = fork();
			if (pid < 0)
				return 1;
			if (pid == 0) {
				void *q[100];
				for (int i = 0; i < 100; i++)
					q[i] = malloc((size_t)(i * 37 + 1));
				for (int i = 0; i < 100; i++)
					free(q[i]);
				_exit(0);
			}
			int st;
			if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				return 1;
		}
		__atomic_store_n(&churn_stop, 1, __ATOMIC_RELAXED);
		for (int i = 0; i < 3; i++)
			pthread_join(t[i], NULL);
		return 0;
	}
	if (!strcmp(mode, "fds")) {
		/* as Python's subprocess with close_fds: close every fd but 0-2,
		 * then exec; the new image allocates (with stacks, under
		 * --stacks=all), then prints the fds it has above 2: the trace
		 * must leave none (CPython's test_pass_fds_redirected counts them) */
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		char *args[] = {argv[0], argv[1], "fds-list", NULL};
		execv("/proc/self/exe", args);
		return 127;
	}
	if (!strcmp(mode, "fds-list")) {
		for (int i = 0; i < 2000; i++)
			F(A((size_t)(16 + i % 3000)));
		mflush();
		close(mfd);
		DIR *d = opendir("/proc/self/fd");
		if (!d)
			return 1;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			int fd = atoi(e->d_name);
			if (e->d_name[0] != '.' && fd > 2 && fd != dirfd(d)) {
				char path[64], to[256];
				snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
				ssize_t n = readlink(path, to, sizeof to - 1);
				to[n > 0 ? n : 0] = 0;
				printf("%d %s\n", fd, to);
			}
		}
		closedir(d);
		return 0;
	}
	if (!strcmp(mode, "exec-closed")) {
		/* as a program that closes every fd it does not pass before an
		 * exec (Python's subprocess): the trace region's fd is closed and
		 * its number given to another file; then run the default
		 * workload again, writing the manifest argv[3] */
		if (argc < 4)
			return 2;
		const char *env = getenv("GOALLOC_TRACE_FD");
		int tfd = env ? atoi(env) : -1;
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		int other = open("/proc/self/exe", O_RDONLY);
		if (tfd >= 0 && other >= 0 && other != tfd && dup2(other, tfd) < 0)
			return 1;
		char *args[] = {argv[0], argv[3], NULL};
		execv("/proc/self/exe", args);
		return 127;
	}
	if (!strcmp(mode, "quiet")) {
		char *big = malloc(64 << 20);
		if (!big)
			return 1;
		memset(big, 1, 64 << 20);
		struct timespec ts = {0, 300 * 1000 * 1000};
		nanosleep(&ts, NULL);
		free(big);
		return 0;
	}
	if (!strcmp(mode, "spin")) {
		int secs = argc > 3 ? atoi(argv[3]) : 3;
		time_t end = time(NULL) + secs;
		void *slots[256] = {0};
		unsigned x = 1;
		while (time(NULL) < end)
			for (int i = 0; i < 100000; i++) {
				x = x * 1103515245 + 12345;
				free(slots[x >> 24]);
				slots[x >> 24] = malloc(1 + (x >> 8) % 300);
			}
		return 0;
	}
	/* tiny objects: sizes 1..15, merged into 16-byte blocks */
	void *tiny[300];
	for (int i = 0; i < 300; i++)
		tiny[i] = A((size_t)(1 + i % 15));
	/* small objects of several classes */
	static const size_t sizes[] = {16, 17, 24, 33, 100, 777, 1000, 4000, 4321, 20000, 32768};
	void *small[11][50];
	for (int c = 0; c < 11; c++)
		for (int i = 0; i < 50; i++) {
			small[c][i] = A(sizes[c]);
			if (!strcmp(mode, "crash") && c == 8 && i == 24) {
				mflush();
				raise(SIGSEGV); /* 25 allocations of 4321 bytes made */
			}
		}
	/* large objects */
	void *large[5];
	for (int i = 0; i < 5; i++)
		large[i] = A(40000 + (size_t)i * 100000);
	/* realloc across classes and into large */
	void *r = A(10);
	static const size_t steps[] = {20, 200, 3000, 50000, 300000, 64, 5};
	for (int i = 0; i < 7; i++) {
		void *q = realloc(r, steps[i]);
		mline("R %lu %zu %lu\n", (unsigned long)(uintptr_t)r, steps[i], (unsigned long)(uintptr_t)q);
		r = q;
	}
	F(r);
	/* objects allocated here, freed by another thread */
	for (int i = 0; i < NX; i++)
		xfer[i] = A(48 + (size_t)(i % 3) * 16);
	pthread_t t;
	pthread_create(&t, NULL, freer, NULL);
	pthread_join(t, NULL);
	/* quiet for longer than the drainer's 500 ms between flushes, so that
	 * the frees below change rows written once already */
	struct timespec pause = {0, 700 * 1000 * 1000};
	nanosleep(&pause, NULL);
	/* free most of the rest; leave some live */
	for (int i = 0; i < 300; i += 2)
		F(tiny[i]);
	for (int c = 0; c < 11; c++)
		for (int i = 0; i < 50; i += (c % 2) + 1)
			F(small[c][i]);
	for (int i = 0; i < 5; i++)
		F(large[i]);
	mflush();
	return 0;
}
