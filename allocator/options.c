/* options.c: start-up: reading the options from the environment once, and
 * initialising the heap on the first allocation of the process.
 *
 * Environment (all optional):
 *   GOALLOC_GO_EXACT=1         Go's size classes and tiny alignment bit for bit
 *   GOALLOC_TINY=0             no tiny merging: requests < 16 B use classes 1-2
 *   GOALLOC_STATS=1            heap figures on stderr at exit
 *   GOALLOC_STATS_FILE=PATH    ... appended to PATH instead (implies GOALLOC_STATS=1;
 *                              a relative PATH is taken from the cwd at start-up, and
 *                              libtrace passes it on to children made absolute)
 *   GOALLOC_SCAVENGE=0         never return free pages to the OS
 *   GOALLOC_SCAVENGE_PERCENT=N the heap goal is N% over the heap at its cycle (Go's GOGC, 100)
 *   GOALLOC_SCAVENGE_MIN_KB=N  always retain this many KiB of idle pages (16384)
 * Invariant: ga_opts and ga_have_popcnt are written only before ga_inited is
 * published.
 */
#include "ga_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

GA_HIDDEN ga_options ga_opts = {
	.tiny = true,
	.scavenge = true,
	.scavenge_percent = 100,
	.scavenge_min_bytes = 16u << 20,
};
GA_HIDDEN bool ga_inited;
GA_HIDDEN bool ga_have_popcnt; /* written once, before ga_inited is published */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static bool env_bool(const char *name, bool def)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	return !(v[0] == '0' || v[0] == 'n' || v[0] == 'N' || v[0] == 'f' || v[0] == 'F' ||
	         ((v[0] == 'o' || v[0] == 'O') && (v[1] == 'f' || v[1] == 'F')));
}

/* GOALLOC_STATS_FILE, made absolute at start-up: the program may chdir or
 * change its environment before exit. */
static char stats_path[1024];

static const char *env_path(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return NULL;
	size_t n = 0, len = strlen(v);
	if (v[0] != '/') {
		/* The raw call: glibc's getcwd may fall back to opendir, which
		 * allocates, and this runs inside the heap's first allocation. */
		if (syscall(SYS_getcwd, stats_path, sizeof stats_path - 2) <= 0)
			return NULL;
		n = strlen(stats_path);
		if (n > 1)
			stats_path[n++] = '/';
	}
	if (n + len >= sizeof stats_path)
		return NULL;
	memcpy(stats_path + n, v, len + 1);
	return stats_path;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	if (!v || *v < '0' || *v > '9')
		return def;
	uint64_t n = 0;
	for (; *v >= '0' && *v <= '9'; v++)
		n = n * 10 + (uint64_t)(*v - '0');
	return n;
}

void _ga_options_init(void)
{
	ga_opts.go_exact = env_bool("GOALLOC_GO_EXACT", false);
	ga_opts.tiny = env_bool("GOALLOC_TINY", true);
	ga_opts.stats_file = env_path("GOALLOC_STATS_FILE");
	ga_opts.stats = env_bool("GOALLOC_STATS", false) || ga_opts.stats_file;
	ga_opts.scavenge = env_bool("GOALLOC_SCAVENGE", true);
	ga_opts.scavenge_percent = (uint32_t)env_u64("GOALLOC_SCAVENGE_PERCENT", 100);
	ga_opts.scavenge_min_bytes = env_u64("GOALLOC_SCAVENGE_MIN_KB", 16384) << 10;
#if defined(__x86_64__)
	unsigned a, b, c, d;
	ga_have_popcnt = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_POPCNT);
#endif
}

void _ga_init_slow(void)
{
	pthread_mutex_lock(&init_lock);
	if (!ga_inited) {
		_ga_options_init();
		_ga_sizeclass_init(ga_opts.go_exact);
		_ga_mcentral_init();
		_ga_mcache_init();
		_ga_stmode_init();
		__atomic_store_n(&ga_inited, true, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&init_lock);
		if (ga_init_hook)
			ga_init_hook();
		return;
	}
	pthread_mutex_unlock(&init_lock);
}

const ga_options *ga_get_options(void)
{
	_ga_ensure_init();
	return &ga_opts;
}

/* fork: take every allocator lock so the child inherits a consistent heap. */
void ga_fork_prepare(void)
{
	if (!GA_LOAD_ACQ(&ga_inited))
		return;
	/* A thread other than T0 ends the single-threaded mode first: T0 may
	 * be inside a critical section that skipped its mutex. */
	_ga_stmode_check();
	_ga_mcaches_lock();
	_ga_mcentral_lock_all();
	pthread_mutex_lock(&ga_heap.lock.m);
	_ga_fixalloc_lock_all();
}

void ga_fork_parent(void)
{
	if (!GA_LOAD_ACQ(&ga_inited))
		return;
	_ga_fixalloc_unlock_all();
	pthread_mutex_unlock(&ga_heap.lock.m);
	_ga_mcentral_unlock_all();
	_ga_mcaches_unlock();
}

void ga_fork_child(void)
{
	if (!GA_LOAD_ACQ(&ga_inited))
		return;
	_ga_fixalloc_unlock_all();
	pthread_mutex_unlock(&ga_heap.lock.m);
	_ga_mcentral_unlock_all();
	_ga_stmode_fork_child();
	_ga_mcaches_after_fork_child();
	_ga_mcaches_unlock();
}
