/* cmd_replay.c: `goalloc-trace replay` (not listed in the help: a bench
 * tool, driven by bench/drain.py): feeds a recording of what a real run's
 * drainer consumed (GOALLOC_TRACE_RECORD=FILE goalloc-trace run ..., see
 * drain.h) through the real drain path again, at full speed, and prints
 * the drainer's events per CPU-second: the model (agg.c) always, and with
 * --events the raw event rows into SQLite (db.c) too.
 *
 * Method: the whole recording is laid out in rings of a private region
 * (one ring per ring and owner generation of the run, each large enough to
 * hold all that owner's records, so no copy happens while timing); then
 * round by round each ring's head moves to where the recorded round found
 * it and cli_drain_round runs, so the merge, the model and the database see
 * the same rounds, records and process exits as in the run.  As in `run`
 * the figures are flushed (committed) every 500 ms.  CPU time is
 * getrusage(RUSAGE_SELF) over the rounds and flushes ("drain"), and over
 * those plus the final flush and closing the database ("total").  The
 * recorded records were written long before they are read, so they come
 * from memory, not from a producer's cache (a running drainer also pays for
 * moving each ring line from the producer's core: not measured here).
 */
#define _GNU_SOURCE
#include "cli.h"
#include "db.h"
#include "drain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct step {
	uint32_t kind; /* a ring index, CLI_REC_ROUND_END, CLI_REC_PROC_EXIT or CLI_REC_PROC_GONE */
	int32_t pid, status;
	uint64_t head; /* a ring: its head after this chunk */
} step;

typedef struct owner {
	uint64_t key; /* ring << 32 | gen */
	uint64_t n;   /* records */
	int32_t pid, tid;
} owner;

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: goalloc-trace replay [--events] [-o FILE] [-n REPS] RECORDING\n\n"
	           "Replays a drainer recording (GOALLOC_TRACE_RECORD=RECORDING goalloc-trace run ...)\n"
	           "through the drain path at full speed and prints events per CPU-second.\n\n"
	           "  --events   store every raw event too (as run --events)\n"
	           "  -o FILE    the database to write (default: a temporary file, removed)\n"
	           "  -n REPS    repetitions (default 1)\n");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int replay_once(gt_region *reg, const step *steps, size_t nsteps, const cli_rec_header *h,
                       const char *path, bool events, double *drain_cpu, double *total_cpu, double *wall,
                       int64_t *nev, int64_t *bytes)
{
	char err[512];
	cli_db_remove(path);
	cli_db *db;
	if (cli_db_open(path, true, NULL, &db, err, sizeof err) != 0) {
		fprintf(stderr, "goalloc-trace: cannot open %s: %s\n", path, err);
		return -1;
	}
	cli_run_info ri = {.name = "replay", .command = "replay", .mode = "c-safe", .started_at = "",
	                   .host = "", .kernel = "", .tiny = true, .stacks = "off"};
	int64_t run_id;
	if (cli_db_begin(db) != 0 || cli_db_run_insert(db, &ri, &run_id) != 0 ||
	    cli_write_class_table(db, run_id, false) != 0) {
		fprintf(stderr, "goalloc-trace: cannot write %s: %s\n", path, cli_db_error(db));
		cli_db_close(db);
		return -1;
	}
	for (uint32_t i = 0; i < reg->nrings; i++) {
		gt_ring *r = gt_region_ring(reg, i);
		r->head = r->tail = 0;
		r->state = i ? GT_RING_OWNED : GT_RING_FREE;
	}
	cli_drain *d = cli_drain_new(reg, db, run_id, events, false);
	cli_drain_set_root(d, h->root_pid);
	cli_drain_producers_done(d); /* each round takes what the recorded round took */
	struct timespec w0, w1;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	double c0 = cpu_s();
	uint64_t last_flush = cli_drain_mono_ns();
	int rc = 0;
	for (size_t i = 0; i < nsteps && rc == 0; i++) {
		const step *s = &steps[i];
		if (s->kind == CLI_REC_PROC_EXIT) {
			cli_drain_proc_exit(d, s->pid, s->status);
		} else if (s->kind == CLI_REC_PROC_GONE) {
			cli_drain_proc_gone(d, s->pid);
		} else if (s->kind == CLI_REC_ROUND_END) {
			if (cli_drain_round(d) < 0)
				rc = -1;
			uint64_t t = cli_drain_mono_ns();
			if (t - last_flush > 500 * 1000 * 1000ull) {
				if (cli_drain_flush(d, false, "running", -1) != 0)
					rc = -1;
				last_flush = t;
			}
		} else {
			__atomic_store_n(&gt_region_ring(reg, s->kind)->head, s->head, __ATOMIC_RELEASE);
		}
	}
	for (uint32_t i = 1; i < reg->nrings; i++)
		__atomic_store_n(&gt_region_ring(reg, i)->state, GT_RING_DONE, __ATOMIC_RELEASE);
	int64_t n;
	while (rc == 0 && (n = cli_drain_round(d)) > 0)
		;
	double c1 = cpu_s();
	if (rc == 0 && cli_drain_flush(d, true, "done", 0) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "goalloc-trace: cannot write %s: %s\n", path, cli_db_error(db));
	*nev = cli_drain_events(d);
	cli_drain_free(d);
	cli_db_close(db);
	double c2 = cpu_s();
	clock_gettime(CLOCK_MONOTONIC, &w1);
	*drain_cpu = c1 - c0;
	*total_cpu = c2 - c0;
	*wall = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
	/* the database's size: the file and its WAL */
	struct stat st;
	char wal[4096 + 8];
	snprintf(wal, sizeof wal, "%s-wal", path);
	*bytes = stat(path, &st) == 0 ? st.st_size : 0;
	if (stat(wal, &st) == 0)
		*bytes += st.st_size;
	return rc;
}

int cli_cmd_replay(int argc, char **argv)
{
	bool events = false;
	const char *out = NULL, *file = NULL;
	int reps = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--events"))
			events = true;
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!file || reps < 1) {
		usage(stderr);
		return 2;
	}
	int fd = open(file, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(cli_rec_header)) {
		fprintf(stderr, "goalloc-trace: cannot read %s: %s\n", file, fd < 0 ? strerror(errno) : "too short");
		return 2;
	}
	const char *buf = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (buf == MAP_FAILED) {
		fprintf(stderr, "goalloc-trace: cannot read %s: %s\n", file, strerror(errno));
		return 2;
	}
	cli_rec_header h;
	memcpy(&h, buf, sizeof h);
	if (h.magic != CLI_REC_MAGIC) {
		fprintf(stderr, "goalloc-trace: cannot read %s: not a drainer recording\n", file);
		return 2;
	}
	/* Pass 1: the owners (ring 0 is always replay ring 0) and their sizes. */
	size_t size = (size_t)st.st_size, off = sizeof h, nsteps = 0, nown = 1, cap_own = 64;
	owner *own = calloc(cap_own, sizeof *own);
	uint64_t total = 0;
	while (off + sizeof(cli_rec_chunk) <= size) {
		cli_rec_chunk c;
		memcpy(&c, buf + off, sizeof c);
		off += sizeof c;
		nsteps++;
		if (c.ring >= CLI_REC_PROC_GONE)
			continue;
		uint64_t key = c.ring ? ((uint64_t)c.ring << 32 | c.gen) : 0;
		size_t o = 0;
		while (o < nown && own[o].key != key)
			o++;
		if (o == nown) {
			if (nown == cap_own && !(own = realloc(own, (cap_own *= 2) * sizeof *own)))
				abort();
			own[nown++] = (owner){.key = key, .pid = c.pid, .tid = c.tid};
		}
		own[o].n += c.n;
		total += c.n;
		off += c.n * sizeof(gt_record);
	}
	if (off != size) {
		fprintf(stderr, "goalloc-trace: cannot read %s: truncated\n", file);
		return 2;
	}
	uint64_t cap = 2;
	for (size_t o = 0; o < nown; o++)
		while (cap < own[o].n)
			cap *= 2;
	size_t rings_off = 4096, records_off = (rings_off + nown * sizeof(gt_ring) + 4095) & ~(size_t)4095;
	size_t bytes = records_off + nown * cap * sizeof(gt_record);
	gt_region *reg = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	step *steps = malloc(nsteps * sizeof *steps);
	if (reg == MAP_FAILED || !steps) {
		fprintf(stderr, "goalloc-trace: cannot replay %s: out of memory (%zu bytes)\n", file, bytes);
		return 2;
	}
	*reg = (gt_region){.magic = GT_MAGIC, .version = GT_VERSION, .nrings = (uint32_t)nown,
	                   .cap = (uint32_t)cap, .rings_off = rings_off, .records_off = records_off,
	                   .bytes = bytes, .drainer_pid = getpid(), .tsc0 = h.tsc0,
	                   .tsc_per_ms = h.tsc_per_ms, .now_tsc = h.tsc0, .stack_mode = h.stack_mode,
	                   .sample_rate = h.sample_rate};
	for (size_t o = 0; o < nown; o++) {
		gt_ring *r = gt_region_ring(reg, (uint32_t)o);
		r->pid = own[o].pid;
		r->tid = own[o].tid;
		own[o].n = 0; /* now: records placed */
	}
	/* Pass 2: the records into their rings, and the steps. */
	off = sizeof h;
	nsteps = 0;
	while (off < size) {
		cli_rec_chunk c;
		memcpy(&c, buf + off, sizeof c);
		off += sizeof c;
		if (c.ring >= CLI_REC_PROC_GONE) {
			steps[nsteps++] = (step){.kind = c.ring, .pid = c.pid, .status = c.tid};
			continue;
		}
		uint64_t key = c.ring ? ((uint64_t)c.ring << 32 | c.gen) : 0;
		size_t o = 0;
		while (own[o].key != key)
			o++;
		memcpy(gt_region_records(reg, (uint32_t)o) + own[o].n, buf + off, c.n * sizeof(gt_record));
		off += c.n * sizeof(gt_record);
		own[o].n += c.n;
		steps[nsteps++] = (step){.kind = (uint32_t)o, .head = own[o].n};
	}
	munmap((void *)buf, size);
	/* Read every record once before timing: on this VM the first read of
	 * memory just written costs about four times as much as every later
	 * read (measured: 13.6M against 61M events/CPU-s on churn's first and
	 * second replay); a running target's rings are reused memory, warm
	 * after their first lap. */
	volatile uint64_t warm = 0;
	for (size_t o = 0; o < nown; o++)
		for (uint64_t i = 0; i < own[o].n; i++)
			warm += gt_region_records(reg, (uint32_t)o)[i].tsc;
	char tmp[64];
	if (!out) {
		snprintf(tmp, sizeof tmp, "/tmp/goalloc-replay-%d.db", (int)getpid());
		out = tmp;
	}
	printf("replay: %s: %llu records in %zu rings, mode %s\n", file, (unsigned long long)total, nown,
	       events ? "--events" : "aggregates");
	double *rate = calloc((size_t)reps, sizeof *rate), *rate_total = calloc((size_t)reps, sizeof *rate),
	       *rate_wall = calloc((size_t)reps, sizeof *rate);
	int64_t nev = 0, dbbytes = 0;
	for (int r = 0; r < reps; r++) {
		double dc, tc, wall;
		if (replay_once(reg, steps, nsteps, &h, out, events, &dc, &tc, &wall, &nev, &dbbytes) != 0)
			return 1;
		rate[r] = dc > 0 ? (double)nev / dc : 0;
		rate_total[r] = tc > 0 ? (double)nev / tc : 0;
		rate_wall[r] = wall > 0 ? (double)nev / wall : 0;
		printf("rep %d: %lld events; drain CPU %.3f s (%.2fM events/CPU-s); total CPU %.3f s "
		       "(%.2fM events/CPU-s); wall %.3f s (%.2fM events/s)",
		       r + 1, (long long)nev, dc, rate[r] / 1e6, tc, rate_total[r] / 1e6, wall, rate_wall[r] / 1e6);
		if (events)
			printf("; db %lld bytes, %.1f B/event", (long long)dbbytes, nev ? (double)dbbytes / (double)nev : 0);
		printf("\n");
		fflush(stdout);
	}
	qsort(rate, (size_t)reps, sizeof *rate, cmp_double);
	qsort(rate_total, (size_t)reps, sizeof *rate, cmp_double);
	qsort(rate_wall, (size_t)reps, sizeof *rate, cmp_double);
	printf("median of %d: drain %.2fM events/CPU-s (%.2f..%.2f); total %.2fM events/CPU-s (%.2f..%.2f); "
	       "wall %.2fM events/s (%.2f..%.2f)",
	       reps, rate[reps / 2] / 1e6, rate[0] / 1e6, rate[reps - 1] / 1e6, rate_total[reps / 2] / 1e6,
	       rate_total[0] / 1e6, rate_total[reps - 1] / 1e6, rate_wall[reps / 2] / 1e6, rate_wall[0] / 1e6,
	       rate_wall[reps - 1] / 1e6);
	if (events)
		printf("; %.1f B/event", nev ? (double)dbbytes / (double)nev : 0);
	printf("\n");
	if (out == tmp)
		cli_db_remove(tmp);
	free(rate);
	free(rate_total);
	free(rate_wall);
	free(steps);
	free(own);
	munmap(reg, bytes);
	return 0;
}
