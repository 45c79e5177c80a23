// sites_prog.cpp: a workload whose allocation sites are known, for the
// sites tests.  Each allocating line carries a SITE: marker that the tests
// look up to know the expected file:line.
//
//   sites_prog N [K [L [B]]]   N: scale of the churn sites, K: objects
//                              leaked, L and B: counts of the sitelib and
//                              big sites
//
// Sites:
//   waste_site    malloc(40)  x N   (class 48 B: 8 B of waste each), freed
//   new_site      new Obj     x N/2 (100 B: class 112), deleted
//   sitelib_alloc malloc(200) x L (default N/4) in libsitelib.so, freed
//   big_site      malloc(2000) x B (default N/8), freed
//   leak_site     malloc(72)  x K, never freed
// With SITES_FORK=1 waste_site runs twice from one call site, the second
// time in a fork child (naming the stack its parent defined); then child
// and parent each run the other sites: every figure doubles.  And before
// the fork the parent allocates 50 objects at held_site (malloc(56)),
// which the child inherits and exits with, and the parent frees after it:
// none of them is live at exit.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

extern "C" long sitelib_alloc(long n);

struct Obj {
	char bytes[100];
};

static void *volatile sink;
void *volatile leaked[1 << 16]; // read by nobody, but volatile: kept

__attribute__((noinline)) static void waste_site(long n)
{
	for (long i = 0; i < n; i++) {
		char *p = (char *)malloc(40); /* SITE:waste */
		p[0] = 1;
		sink = p;
		free(p);
	}
}

__attribute__((noinline)) static void new_site(long n)
{
	for (long i = 0; i < n; i++) {
		Obj *o = new Obj; // SITE:new
		o->bytes[0] = 1;
		sink = o;
		delete o;
	}
}

__attribute__((noinline)) static void big_site(long n)
{
	for (long i = 0; i < n; i++) {
		char *p = (char *)malloc(2000); /* SITE:big */
		p[0] = 1;
		sink = p;
		free(p);
	}
}

__attribute__((noinline)) static void held_site(void **held, int n)
{
	for (int i = 0; i < n; i++)
		held[i] = malloc(56); /* SITE:held */
}

__attribute__((noinline)) static void leak_site(long k)
{
	for (long i = 0; i < k && i < (1 << 16); i++)
		leaked[i] = malloc(72); /* SITE:leak */
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	long k = argc > 2 ? atol(argv[2]) : 0;
	long l = argc > 3 ? atol(argv[3]) : n / 4;
	long b = argc > 4 ? atol(argv[4]) : n / 8;
	/* With SITES_FORK=1 the second round runs in a fork child, from the
	 * same call site as the first: the child allocates with a stack its
	 * parent defined.  The child then does the rest; the parent waits for
	 * it and does the rest too. */
	const char *f = getenv("SITES_FORK");
	bool forking = f && f[0] == '1';
	void *held[50];
	if (forking)
		held_site(held, 50);
	for (int round = 0; round < (forking ? 2 : 1); round++) {
		if (round == 1) {
			fflush(stdout);
			pid_t pid = fork();
			if (pid < 0)
				return 1;
			if (pid > 0) {
				int st;
				if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
					return 1;
				for (int i = 0; i < 50; i++)
					free(held[i]);
				break;
			}
		}
		waste_site(n);
	}
	new_site(n / 2);
	sitelib_alloc(l);
	big_site(b);
	leak_site(k);
	printf("done %ld %ld\n", n, k);
	return 0;
}
