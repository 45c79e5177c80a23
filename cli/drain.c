/* drain.c: the consumer side of the rings (gt_event.h).  Each round takes
 * every ring's records from tail to head, merges them by timestamp (each
 * ring is already in order: one producer), feeds them to the model (agg.c)
 * and, with --events, to the event table in that order, then gives the
 * space back (tail) and frees rings whose owner has exited.
 *
 * Invariants: while producers run, a round takes no record stamped after
 * its first rdtsc (`cut`), so no span handoff (stamped with rdtsc, trace.c)
 * goes into the model before the record of another ring it depends on; a
 * free that still comes before its allocation (both on the coarse clock)
 * waits for it in the model; only this file writes ring tails and
 * turns DONE rings FREE;
 * a ring is made FREE only when it is empty, so a new owner never sees an
 * old owner's records; the heartbeat is refreshed every round, so waiting
 * producers know the drainer is alive.
 */
#define _GNU_SOURCE
#include "drain.h"

#include "sites.h"
#include "trace.h"
#include "u64map.h"

#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef struct proc {
	int pid, seq, ppid;
	int64_t started_ns, exited_ns;
	int status; /* INT32_MIN: unknown */
	uint8_t status_from; /* who said: STATUS_NONE < _EXIT_CALL < _PARENT < _KERNEL < _REAPED */
	bool dirty;
	bool ended;       /* its heap has left the model (exit or exec) */
	int64_t reaped;   /* round in which the CLI reaped it, or -1 */
	uint32_t copy_from;    /* a fork child whose heap is still to be copied: its parent's index */
	uint32_t pending;      /* a parent: the first of those children (index), 0 if none */
	uint32_t pending_next; /* such a child: the next of its parent's */
	char cmd[1024];
} proc;

U64MAP_DEFINE(pidmap, uint32_t) /* pid + 1 -> index + 1 into procs (latest image) */
U64MAP_DEFINE(forkmap, uint32_t)
U64MAP_DEFINE(tnomap, uint32_t) /* (pid << 32 | tid) + 1 -> thread number for raw events */ /* (parent pid << 32 | FORK number) -> the child's proc index */

/* Sources of a process's exit status, the surer last: the status its
 * exit() or _exit call was given (PROC_EXIT; a destructor may still
 * crash), its traced parent's wait (CHILD_EXIT), the kernel's (kview), the
 * CLI's wait. */
enum { STATUS_NONE, STATUS_EXIT_CALL, STATUS_PARENT, STATUS_KERNEL, STATUS_REAPED };

typedef struct kexit {
	int pid, status;
	int64_t t_ns;
} kexit;

typedef struct cursor {
	uint32_t ring;
	uint64_t pos, end;
	int pid, tid;
	gt_record *recs;
} cursor;

struct cli_drain {
	gt_region *reg;
	cli_db *db;
	int64_t run_id;
	bool store_events;
	cli_agg *agg;
	cli_sites *sites;    /* NULL when the run records no stacks */
	bool progress;       /* say on stderr what takes long at the end */
	uint32_t cur_ix;     /* the process of the event the model is applying */
	proc *procs;
	int nprocs, cap_procs;
	pidmap pids;
	int64_t events, seq, last_t;
	uint64_t last_tsc;    /* the stamp last_t was converted from (or later) */
	double ns_per_tsc;    /* the TSC's rate: the region's, then clock_refine's */
	uint64_t refined_tsc; /* ... when last refined */
	uint64_t tick_tsc;    /* rdtsc of the last tick that moved the clock and the heartbeat */
	int r0_pid, r0_tid;
	cursor *cur;
	bool error;
	int last_pid; /* the process of the last allocator event, and its index */
	uint32_t last_ix;
	int root_pid; /* the program `run` started: its heap stays in the figures at its end */
	int64_t round;
	forkmap forks;       /* heaps copied at a parent's FORK, waiting for the child */
	tnomap tnos;         /* thread numbers of --events rows */
	uint64_t last_tkey;  /* a one-entry cache of them */
	uint32_t last_tno;
	uint32_t tno_base;   /* thread numbers are unique in the file: this run's start after it */
	uint64_t cut;        /* the round's cut (cli_drain_round) */
	uint64_t wait_key;   /* a fork child whose parent's FORK has not been drained yet */
	uint64_t wait_since; /* ... since this CLOCK_MONOTONIC ns */
	FILE *rec;           /* cli_drain_record: the records each round consumed */
	cursor *rec_cur;     /* ... the rings' cursors as the round began, */
	gt_record *rec_buf;  /* ... pointing into a copy of their records */
	uint64_t rec_cap;
	long snap_gap_us;    /* test hook: a sleep between two rings' head reads */
	bool producers_done; /* no record is published any more: rounds take all */
	struct kexit *kexits; /* process ends the kernel reported (cli_drain_kernel_exit) */
	int nkexits, cap_kexits;
};

uint64_t cli_drain_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sink(void *ctx, const gt_record *r, int pid, int tid, int64_t t_ns, int kind, uint64_t size);

cli_drain *cli_drain_new(gt_region *reg, cli_db *db, int64_t run_id, bool store_events, bool debug_files)
{
	cli_drain *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->reg = reg;
	d->db = db;
	d->run_id = run_id;
	d->store_events = store_events;
	d->agg = cli_agg_new(10 * 1000 * 1000); /* a heap sample per 10 ms of run time */
	if (reg->stack_mode != GT_STACKS_OFF) {
		d->sites = cli_sites_new(reg->stack_mode, reg->sample_rate, debug_files);
		cli_agg_set_sites(d->agg, d->sites);
	}
	if (store_events) {
		cli_agg_set_sink(d->agg, sink, d); /* no call per event otherwise */
		d->seq = cli_db_last_event_seq(db);
		d->tno_base = (uint32_t)cli_db_last_tno(db);
	}
	d->ns_per_tsc = 1e6 / (double)reg->tsc_per_ms;
	d->cur = calloc(reg->nrings, sizeof *d->cur);
	if (!pidmap_init(&d->pids, 64) || !forkmap_init(&d->forks, 16) || !tnomap_init(&d->tnos, 64) || !d->cur)
		abort();
	return d;
}

void cli_drain_free(cli_drain *d)
{
	if (!d)
		return;
	cli_agg_free(d->agg);
	cli_sites_free(d->sites);
	pidmap_destroy(&d->pids);
	forkmap_destroy(&d->forks);
	tnomap_destroy(&d->tnos);
	free(d->procs);
	free(d->cur);
	free(d->rec_cur);
	free(d->rec_buf);
	free(d->kexits);
	free(d);
}

/* The recording (cli_drain_record, read by cmd_replay.c): a header, then
 * per round one chunk per ring that gave records, then an end-of-round
 * mark; a process exit the CLI reaped is a chunk of its own. */
int cli_drain_record(cli_drain *d, FILE *f)
{
	d->rec_cur = calloc(d->reg->nrings, sizeof *d->rec_cur);
	if (!d->rec_cur)
		return -1;
	cli_rec_header h = {.magic = CLI_REC_MAGIC, .tsc0 = d->reg->tsc0, .tsc_per_ms = d->reg->tsc_per_ms,
	                    .stack_mode = d->reg->stack_mode, .sample_rate = d->reg->sample_rate,
	                    .root_pid = d->root_pid};
	d->rec = f;
	return fwrite(&h, sizeof h, 1, f) == 1 ? 0 : -1;
}

/* The records the round may consume, copied before any is consumed (once
 * a tail moves, the producer may overwrite what lies behind it). */
static void rec_snapshot(cli_drain *d, int k)
{
	uint64_t mask = d->reg->cap - 1, need = 0;
	for (int i = 0; i < k; i++)
		need += d->cur[i].end - d->cur[i].pos;
	if (need > d->rec_cap) {
		d->rec_cap = need * 2;
		d->rec_buf = realloc(d->rec_buf, d->rec_cap * sizeof *d->rec_buf);
		if (!d->rec_buf)
			abort();
	}
	gt_record *out = d->rec_buf;
	for (int i = 0; i < k; i++) {
		cursor *c = &d->cur[i];
		d->rec_cur[i] = *c;
		d->rec_cur[i].recs = out;
		for (uint64_t pos = c->pos; pos < c->end; pos++)
			*out++ = c->recs[pos & mask];
	}
}

/* What the round consumed of each ring (tails moved since the round
 * began), and the round's end. */
static void rec_round(cli_drain *d, int k)
{
	for (int i = 0; i < k; i++) {
		cursor *c = &d->rec_cur[i];
		gt_ring *r = gt_region_ring(d->reg, c->ring);
		uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
		if (tail == c->pos)
			continue;
		cli_rec_chunk ch = {.ring = c->ring, .gen = r->gen, .pid = c->pid, .tid = c->tid,
		                    .n = tail - c->pos};
		if (fwrite(&ch, sizeof ch, 1, d->rec) != 1 || fwrite(c->recs, sizeof *c->recs, ch.n, d->rec) != ch.n)
			d->error = true;
	}
	cli_rec_chunk end = {.ring = CLI_REC_ROUND_END};
	if (fwrite(&end, sizeof end, 1, d->rec) != 1)
		d->error = true;
}

uint64_t cli_tsc_pair(uint64_t *ns)
{
	/* the closest of a few (CLOCK_MONOTONIC, rdtsc, CLOCK_MONOTONIC)
	 * readings: a preempted one is far apart */
	uint64_t best = UINT64_MAX, tsc = 0;
	*ns = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t a = cli_drain_mono_ns(), c = gt_rdtsc(), b = cli_drain_mono_ns();
		if (b - a < best) {
			best = b - a;
			tsc = c;
			*ns = a + (b - a) / 2;
		}
	}
	return tsc;
}

/* A live run's TSC rate, measured again over the whole run so far: the
 * first one (2 ms, cmd_run.c) is good to ~1e-5, this to the error of one
 * reading over the run's length.  Replays (ns0 = 0) keep the recorded rate. */
static void clock_refine(cli_drain *d)
{
	gt_region *reg = d->reg;
	uint64_t ns, tsc = cli_tsc_pair(&ns);
	if (!reg->ns0 || ns < reg->ns0 + 50 * 1000 * 1000ull || tsc <= reg->tsc0)
		return;
	d->ns_per_tsc = (double)(ns - reg->ns0) / (double)(tsc - reg->tsc0);
}

static inline int64_t to_ns(const cli_drain *d, uint64_t tsc)
{
	if (tsc <= d->reg->tsc0)
		return 0;
	return (int64_t)((double)(tsc - d->reg->tsc0) * d->ns_per_tsc);
}

int64_t cli_drain_now_ns(const cli_drain *d)
{
	return to_ns(d, gt_rdtsc());
}

static bool proc_is_old_image(cli_drain *d, const proc *p);

static proc *proc_of(cli_drain *d, int pid, uint32_t *index)
{
	uint32_t *ix = pidmap_get(&d->pids, (uint64_t)pid + 1);
	if (!ix)
		return NULL;
	*index = *ix;
	return &d->procs[*ix - 1];
}

static bool proc_is_old_image(cli_drain *d, const proc *p)
{
	uint32_t ix;
	proc *latest = proc_of(d, p->pid, &ix);
	return latest != p;
}

/* Heap copies at a fork are made lazily.  A FORK notes that the child's
 * heap is its parent's as of then (copy_from), and the copy is made when
 * either process is about to change its heap: an allocator event of
 * either, a FORK of the child, the parent's end.  A child that execs or
 * exits first (fork and exec: shells, system(), git) never gets one: its
 * copy would have left the figures at once, and each cost the drainer
 * ~14 ms for a heap of a million objects and the database a row for each
 * of its spans (500 fork+execs of such a heap: 7.6 M rows, 260 MB). */
static void copy_heap(cli_drain *d, uint32_t cix)
{
	proc *c = &d->procs[cix - 1];
	uint32_t pix = c->copy_from;
	c->copy_from = 0;
	cli_agg_fork(d->agg, pix, cix, c->pid > 0 ? c->pid : 0);
	if (d->sites)
		cli_sites_fork(d->sites, pix, cix);
}

/* Before process pix's heap changes: the copies its children wait for. */
static void copy_pending(cli_drain *d, uint32_t pix)
{
	uint32_t cix = d->procs[pix - 1].pending;
	d->procs[pix - 1].pending = 0;
	while (cix) {
		proc *c = &d->procs[cix - 1];
		uint32_t next = c->pending_next;
		c->pending_next = 0;
		if (c->copy_from == pix) /* else made already, or not needed */
			copy_heap(d, cix);
		cix = next;
	}
}

/* Child cix's heap is parent pix's as of now. */
static void note_fork(cli_drain *d, uint32_t pix, uint32_t cix)
{
	if (d->procs[pix - 1].copy_from)
		copy_heap(d, pix); /* a child of its own: its copy is made before its child's */
	proc *p = &d->procs[pix - 1], *c = &d->procs[cix - 1];
	c->copy_from = pix;
	c->pending_next = p->pending;
	p->pending = cix;
	d->last_pid = 0; /* the parent's next allocator event comes through handle_other */
}

/* Before the heap of process ix changes. */
static inline void heap_touch(cli_drain *d, uint32_t ix)
{
	proc *p = &d->procs[ix - 1];
	if (GT_UNLIKELY(p->pending))
		copy_pending(d, ix);
	if (GT_UNLIKELY(p->copy_from))
		copy_heap(d, ix);
}

/* A process image ended: its heap leaves the figures, unless it is the
 * program run started (whose heap at its end the figures describe). */
static void proc_end(cli_drain *d, proc *p, uint32_t ix, int64_t t_ns, bool exec)
{
	if (p->ended)
		return;
	p->ended = true;
	p->copy_from = 0; /* its copy is not needed any more */
	if (p->pending)
		copy_pending(d, ix); /* its children's are */
	if (exec || p->pid != d->root_pid || proc_is_old_image(d, p))
		cli_agg_proc_end(d->agg, ix, t_ns);
}

/* Room for one more proc entry. */
static void proc_reserve(cli_drain *d)
{
	if (d->nprocs == d->cap_procs) {
		d->cap_procs = d->cap_procs ? d->cap_procs * 2 : 16;
		d->procs = realloc(d->procs, (size_t)d->cap_procs * sizeof *d->procs);
		if (!d->procs)
			abort();
	}
}

static proc *proc_start(cli_drain *d, int pid, int ppid, int64_t t_ns, uint32_t *index, uint32_t fork_no,
                        bool cloned)
{
	proc_reserve(d);
	uint32_t old;
	proc *prev = proc_of(d, pid, &old);
	int seq = prev ? prev->seq + 1 : 0;
	proc *p = &d->procs[d->nprocs++];
	*p = (proc){.pid = pid, .seq = seq, .ppid = ppid, .started_ns = t_ns, .exited_ns = -1,
	            .status = INT32_MIN, .dirty = true, .reaped = -1};
	*index = (uint32_t)d->nprocs;
	cli_agg_set_pid(d->agg, *index, pid);
	if (prev) {
		/* exec: the old image's heap is gone */
		proc *o = &d->procs[old - 1];
		if (o->exited_ns < 0)
			o->exited_ns = t_ns;
		o->dirty = true;
		proc_end(d, o, old, t_ns, true);
	} else if (fork_no) {
		/* the heap copied at the parent's FORK becomes this process's */
		uint32_t cix;
		if (forkmap_del(&d->forks, ((uint64_t)ppid << 32) | fork_no, &cix)) {
			d->nprocs--; /* the entry just made is not needed */
			*index = cix;
			p = &d->procs[cix - 1];
			*p = (proc){.pid = pid, .seq = seq, .ppid = ppid, .started_ns = t_ns, .exited_ns = -1,
			            .status = INT32_MIN, .dirty = true, .reaped = -1, .copy_from = p->copy_from,
			            .pending = p->pending, .pending_next = p->pending_next};
			cli_agg_set_pid(d->agg, cix, pid);
		}
	} else if (cloned) {
		/* forked without fork's handlers: its heap is its parent's as of
		 * now (its first record), as near as the trace can tell */
		uint32_t pix;
		proc *parent = proc_of(d, ppid, &pix);
		if (parent && !parent->ended)
			note_fork(d, pix, *index);
	}
	bool isnew;
	*pidmap_put(&d->pids, (uint64_t)pid + 1, &isnew) = *index;
	d->last_pid = 0;
	return &d->procs[*index - 1];
}

/* One row of the event table, in the order the model applied the event. */
static void sink(void *ctx, const gt_record *r, int pid, int tid, int64_t t_ns, int kind, uint64_t size)
{
	cli_drain *d = ctx;
	if (!d->store_events || d->error)
		return;
	uint64_t addr = r->addr;
	if (kind == GT_EV_THREAD_START || kind == GT_EV_THREAD_EXIT || kind == GT_EV_PROC_START ||
	    kind == GT_EV_PROC_EXIT)
		addr = r->aux; /* tid or pid */
	uint64_t tkey = (((uint64_t)(uint32_t)pid << 32) | (uint32_t)tid) + 1;
	if (tkey != d->last_tkey) {
		bool isnew;
		uint32_t *tno = tnomap_put(&d->tnos, tkey, &isnew);
		if (isnew) {
			*tno = d->tno_base + (uint32_t)d->tnos.count;
			if (cli_db_thread(d->db, d->run_id, (int)*tno, pid, tid) != 0)
				d->error = true;
		}
		d->last_tkey = tkey;
		d->last_tno = *tno;
	}
	uint32_t stack = r->stack && d->sites ? cli_sites_ref(d->sites, d->cur_ix, r->stack) : 0;
	if (cli_db_event(d->db, d->run_id, ++d->seq, t_ns, (int)d->last_tno, kind, r->cls, size, addr, r->span,
	                 stack) != 0)
		d->error = true;
}

/* A proc entry for a heap copied at a FORK, before the child is known. */
static proc *proc_start_placeholder(cli_drain *d, int ppid, int64_t t_ns, uint32_t *index)
{
	proc_reserve(d);
	proc *p = &d->procs[d->nprocs++];
	*p = (proc){.pid = -1, .ppid = ppid, .started_ns = t_ns, .exited_ns = -1, .status = INT32_MIN,
	            .reaped = -1};
	*index = (uint32_t)d->nprocs;
	return p;
}

/* A fork child's PROC_START whose parent's FORK record is not drained yet
 * must wait for it (false: leave the record for the next round), for at
 * most half a second (the FORK may have been dropped). */
static bool fork_ready(cli_drain *d, const gt_record *r)
{
	if (r->kind != GT_EV_PROC_START || !r->span)
		return true;
	uint64_t key = (r->size << 32) | r->span;
	if (forkmap_get(&d->forks, key))
		return true;
	uint32_t pix;
	proc *parent = proc_of(d, (int)r->size, &pix);
	if (!parent || parent->ended)
		return true; /* the parent is not traced (or gone): nothing to wait for */
	uint64_t now = cli_drain_mono_ns();
	if (d->wait_key != key) {
		d->wait_key = key;
		d->wait_since = now;
	}
	return now - d->wait_since > 500 * 1000 * 1000ull;
}

static void handle_other(cli_drain *d, const gt_record *r, int pid, int tid, int64_t t);

/* One record, in merge order.  The hot path (an allocator event of the
 * same process as the last) is inlined into the round's loops. */
static inline __attribute__((always_inline)) void handle(cli_drain *d, const gt_record *r, int pid, int tid)
{
	int64_t t;
	if (GT_LIKELY(r->tsc == d->last_tsc)) {
		t = d->last_t; /* a run of one tick of the coarse clock */
	} else {
		d->last_tsc = r->tsc;
		t = to_ns(d, r->tsc);
		if (t > d->last_t)
			d->last_t = t;
		else
			t = d->last_t; /* the clock's rate was refined, or a coarse time */
	}
	if (GT_LIKELY(pid == d->last_pid && r->kind <= GT_EV_SCAVENGE)) {
		d->events++;
		d->cur_ix = d->last_ix;
		cli_agg_event(d->agg, d->last_ix, pid, tid, r, t);
		return;
	}
	handle_other(d, r, pid, tid, t);
}

/* A record's place in the merge of rings: its time, then frees after
 * anything else of the same time (see cli_drain_round).  rdtsc values stay
 * far below 2^63. */
static inline uint64_t merge_key(const gt_record *r)
{
	return r->tsc << 1 | (r->kind == GT_EV_FREE);
}

/* Whether every record process pid wrote has been drained, for a process
 * known to have died before this round read the rings' heads (its reap was
 * stamped before the round's cut): all it wrote is then behind those heads,
 * so it is drained when each of its rings is consumed up to its head.  A
 * ring the round is still reading has its tail where the round began
 * (give_back moves it when the ring's cursor is done), short of its head,
 * so it counts as not drained.  Ring 0, which the reap itself came
 * through, holds its records ahead of the reap.  A ring of a later process
 * with the same pid only makes the answer no. */
static bool drained(cli_drain *d, int pid)
{
	gt_region *reg = d->reg;
	for (uint32_t i = 1; i < reg->nrings; i++) {
		gt_ring *r = gt_region_ring(reg, i);
		if (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) != GT_RING_FREE && r->pid == pid &&
		    __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) != r->tail)
			return false;
	}
	return true;
}

static __attribute__((noinline)) void handle_other(cli_drain *d, const gt_record *r, int pid, int tid, int64_t t)
{
	uint32_t ix = 0;
	proc *p = proc_of(d, pid, &ix);
	switch (r->kind) {
	case GT_EV_PROC_START:
		p = proc_start(d, pid, (int)r->size, t, &ix, r->span, r->flags & GT_PS_CLONED);
		break;
	case GT_EV_FORK:
		if (p && !p->ended) {
			/* the parent's heap as of now, for the child to take */
			uint32_t cix;
			proc_start_placeholder(d, pid, t, &cix);
			note_fork(d, ix, cix);
			bool isnew;
			*forkmap_put(&d->forks, ((uint64_t)pid << 32) | r->span, &isnew) = cix;
		}
		break;
	case GT_EV_TEXT:
		if (p) {
			size_t off = (size_t)r->flags * GT_TEXT_CHUNK;
			gt_record tmp = *r;
			if (off + GT_TEXT_CHUNK < sizeof p->cmd) {
				memcpy(p->cmd + off, gt_record_text(&tmp), GT_TEXT_CHUNK);
				p->cmd[off + GT_TEXT_CHUNK] = 0;
				p->dirty = true;
			}
		}
		return;
	case GT_EV_PROC_EXIT:
		/* The record comes from libgoalloc's destructor, and libraries
		 * finalised after it still free (curl: ~700 objects): the heap
		 * leaves the figures when the process is reaped or found gone
		 * (the round loop, cli_drain_reap_rings) or at the end. */
		if (p && p->exited_ns < 0) {
			p->exited_ns = t;
			p->dirty = true;
		}
		if (p && r->size != UINT64_MAX && p->status_from < STATUS_EXIT_CALL) {
			p->status = (int)r->size;
			p->status_from = STATUS_EXIT_CALL;
			p->dirty = true;
		}
		break;
	case GT_EV_OWNER:
		return;
	case GT_EV_CHILD_EXIT: {
		/* pid reaped child aux: its latest image ended so, unless the
		 * kernel or the CLI said, or an earlier reap of the same pid
		 * (then this child was never traced and the image is older) */
		uint32_t cix;
		proc *c = proc_of(d, (int)r->aux, &cix);
		if (c && c->ppid == pid && c->status_from < STATUS_PARENT) {
			c->status = (int)r->size;
			c->status_from = STATUS_PARENT;
			if (c->exited_ns < 0)
				c->exited_ns = t;
			c->dirty = true;
		}
		/* It is dead, and wrote all it will: its heap leaves the figures
		 * here when all it wrote has been drained, else after the next
		 * round, as if the CLI had reaped it.  Here matters for a parent
		 * that forks, reaps and forks again faster than rounds come: its
		 * dead children's copied heaps would stay in the figures together
		 * (their peak a multiple of the program's).  The reap is also the
		 * only word of the end of a process in another pid namespace,
		 * which the CLI cannot look up (proc_gone). */
		if (c && c->ppid == pid && !c->ended && c->reaped < 0) {
			c->reaped = d->round;
			if (merge_key(r) < d->cut && drained(d, c->pid))
				proc_end(d, c, cix, t, false);
		}
		return;
	}
	case GT_EV_STACK:
	case GT_EV_MODULE:
	case GT_EV_MODPATH:
		if (!p) /* before the PROC_START of this pid: adopt it */
			p = proc_start(d, pid, 0, t, &ix, 0, false);
		heap_touch(d, ix);
		if (d->sites)
			cli_sites_record(d->sites, ix, r);
		return;
	case GT_EV_THREAD_START:
	case GT_EV_THREAD_EXIT:
		break; /* a process's first thread starts before its PROC_START */
	default:
		if (!p) /* events before the PROC_START of this pid: adopt it */
			p = proc_start(d, pid, 0, t, &ix, 0, false);
		d->events++;
		if (r->kind <= GT_EV_SCAVENGE) {
			heap_touch(d, ix);
			d->last_pid = pid;
			d->last_ix = ix;
			d->cur_ix = ix;
			cli_agg_event(d->agg, ix, pid, tid, r, t); /* rows come back through sink() */
		}
		return;
	}
	d->events++;
	uint64_t size = r->kind == GT_EV_PROC_START ? r->size : 0; /* ppid */
	sink(d, r, pid, tid, t, r->kind, size);
}

/* The drainer moves the coarse clock in steps of ~20 us: each store costs
 * every producer a cache miss on its next event.  The heartbeat (CLOCK_MONOTONIC
 * ns) moves with it; a drainer that is alive again also clears the
 * producers' verdict that it was gone. */
static void tick(cli_drain *d)
{
	gt_region *reg = d->reg;
	uint64_t now = gt_rdtsc();
	if (now - d->tick_tsc > reg->tsc_per_ms / 50) {
		d->tick_tsc = now;
		gt_clock_raise(reg, now); /* producers raise it too (trace.c, observe) */
		__atomic_store_n(&reg->heartbeat_ns, cli_drain_mono_ns(), __ATOMIC_RELEASE);
		if (__atomic_load_n(&reg->drainer_gone, __ATOMIC_RELAXED))
			__atomic_store_n(&reg->drainer_gone, 0, __ATOMIC_RELAXED);
		if (now - d->refined_tsc > reg->tsc_per_ms * 10) {
			clock_refine(d);
			d->refined_tsc = now;
		}
	}
}

/* Ring i, DONE and drained, can be claimed again.  Its records' pages go
 * back to the system first (a hole punched in the region's memfd, which
 * unmaps them from every process): a thread that claims the ring writes
 * only from its head on, and every process that wrote into it has them
 * in its RSS, which the kernel view reports as the program's.  Without
 * this a program that starts and ends threads (the rings are chosen by
 * thread id) came to hold nearly all 64 rings' 2.5 MiB: 157 MiB of RSS for
 * 200 threads, 10 at a time, against 2.3 MiB untraced.  Before the state
 * says FREE, so no new owner's records are in the hole.  (A private region,
 * replay's, refuses the advice: nothing to give back there.) */
static void ring_free(gt_region *reg, uint32_t i)
{
	static uintptr_t page;
	if (!page)
		page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)gt_region_records(reg, i), e = a + (uintptr_t)reg->cap * sizeof(gt_record);
	uintptr_t lo = (a + page - 1) & ~(page - 1), hi = e & ~(page - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_REMOVE);
	__atomic_store_n(&gt_region_ring(reg, i)->state, GT_RING_FREE, __ATOMIC_RELEASE);
}

/* The records of ring i before pos are consumed: their space goes back to
 * the producer, and a producer waiting for it (a futex wait on the tail's
 * low word, trace.c) is woken. */
static void give_back(gt_region *reg, uint32_t i, uint64_t pos)
{
	gt_ring *r = gt_region_ring(reg, i);
	/* seq_cst: the store is seen before waiters is read (a producer raises
	 * waiters, then reads the tail) */
	__atomic_store_n(&r->tail, pos, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&reg->waiters, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, (uint32_t *)&r->tail, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

/* Whether a record of merge key `key` waits for the next round: stamped
 * after the round's cut, but not so far after that only a skewed clock
 * explains it (cli_drain_round). */
static inline bool after_cut(uint64_t key, uint64_t cut, uint64_t skew)
{
	return GT_UNLIKELY(key >= cut) && key - cut < skew;
}

int64_t cli_drain_round(cli_drain *d)
{
	gt_region *reg = d->reg;
	tick(d);
	/* The round takes only records stamped before it began reading heads
	 * (cut).  The heads are read one after another, so a record published
	 * in ring A just after A's head was read is not in this round, while a
	 * later record in ring B that depends on it (a refill of the span A
	 * just made) may be.  The dependent record was stamped after the first
	 * was published, so after cut: it waits for the next round with
	 * everything behind it in its ring.  (Allocator records carry the
	 * coarse clock, which tick() and producers raise to rdtsc readings of
	 * the past, so cut holds back only records stamped during the reads.) */
	uint64_t cut = d->producers_done ? UINT64_MAX : gt_rdtsc() << 1;
	/* A record stamped further past cut than any wait in the reads could
	 * explain (a CPU whose TSC runs ahead) is taken anyway: a skewed clock
	 * may misorder, but must not stall a program waiting for room. */
	uint64_t skew = (reg->tsc_per_ms * 100) << 1;
	int k = 0;
	for (uint32_t i = 0; i < reg->nrings; i++) {
		gt_ring *r = gt_region_ring(reg, i);
		if (i && __atomic_load_n(&r->state, __ATOMIC_ACQUIRE) == GT_RING_FREE)
			continue;
		if (GT_UNLIKELY(d->snap_gap_us > 0) && i) {
			struct timespec ts = {0, d->snap_gap_us * 1000};
			nanosleep(&ts, NULL);
		}
		uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		uint64_t tail = r->tail;
		if (head == tail)
			continue;
		d->cur[k++] = (cursor){.ring = i, .pos = tail, .end = head, .pid = r->pid, .tid = r->tid,
		                       .recs = gt_region_records(reg, i)};
	}
	int64_t n = 0;
	uint64_t mask = reg->cap - 1;
	int rec_k = k;
	d->cut = cut;
	if (GT_UNLIKELY(d->rec != NULL))
		rec_snapshot(d, k);
	if (k == 1 && d->cur[0].ring != 0) {
		/* one ring with data (a single-threaded program): no merge */
		cursor *c = &d->cur[0];
		uint64_t pos;
		for (pos = c->pos; pos < c->end; pos++) {
			const gt_record *r = &c->recs[pos & mask];
			if (after_cut(merge_key(r), cut, skew))
				break;
			if (GT_UNLIKELY((pos & 4095) == 0))
				tick(d);
			if (GT_UNLIKELY(r->kind == GT_EV_PROC_START) && !fork_ready(d, r))
				break;
			handle(d, r, c->pid, c->tid);
		}
		n = (int64_t)(pos - c->pos);
		give_back(reg, c->ring, pos);
		k = 0;
	}
	while (k > 0) {
		/* The cursor whose next record comes first, and the runner-up: the
		 * best cursor is drained for as long as its records stay before the
		 * runner-up's next one.  The allocator's records carry the coarse
		 * clock (region.now_tsc), so a ring's records come in runs of equal
		 * times and most records are handed over without comparing the
		 * other rings again.  "First" is by merge_key: time, then, at equal
		 * times (one tick of the coarse clock), anything before a free, then
		 * the first in cur[].  Within a tick the order of two threads is
		 * unknown, and a free of an object another thread allocated in the
		 * same tick is far more common than the reverse (a producer and its
		 * consumer): a free taken before its allocation waits for it in the
		 * model (agg.c), which is correct but costs ~150 ns. */
		int best = 0, next = -1;
		uint64_t best_key = merge_key(&d->cur[0].recs[d->cur[0].pos & mask]), next_key = UINT64_MAX;
		for (int c = 1; c < k; c++) {
			uint64_t t = merge_key(&d->cur[c].recs[d->cur[c].pos & mask]);
			if (t < best_key) {
				next = best;
				next_key = best_key;
				best_key = t;
				best = c;
			} else if (t < next_key) {
				next = c;
				next_key = t;
			}
		}
		if (after_cut(best_key, cut, skew)) {
			/* every ring's next record is from after the round began */
			for (int c = 0; c < k; c++)
				give_back(reg, d->cur[c].ring, d->cur[c].pos);
			break;
		}
		/* records of `best` before (next_key, next) in (key, position)
		 * order, and before cut */
		uint64_t lim = next < 0 ? UINT64_MAX : best < next ? next_key : next_key - 1;
		if (lim >= cut && best_key < cut)
			lim = cut - 1;
		cursor *c = &d->cur[best];
		bool held = false;
		do {
			const gt_record *r = &c->recs[c->pos & mask];
			if (GT_UNLIKELY(r->kind == GT_EV_PROC_START) && !fork_ready(d, r)) {
				held = true; /* this ring waits for the next round */
				break;
			}
			if (c->ring == 0) {
				if (r->kind == GT_EV_OWNER) {
					d->r0_pid = (int)r->size;
					d->r0_tid = (int)r->aux;
				}
				handle(d, r, d->r0_pid, d->r0_tid);
			} else {
				handle(d, r, c->pid, c->tid);
			}
			if (GT_UNLIKELY((++n & 4095) == 0))
				tick(d);
		} while (++c->pos != c->end && merge_key(&c->recs[c->pos & mask]) <= lim);
		if (held || c->pos == c->end) {
			give_back(reg, c->ring, c->pos);
			d->cur[best] = d->cur[--k];
		}
	}
	if (GT_UNLIKELY(d->rec != NULL))
		rec_round(d, rec_k);
	/* A process reaped before this round began has had all its events
	 * drained now (it wrote nothing after dying). */
	for (int i = 0; i < d->nprocs; i++) {
		proc *p = &d->procs[i];
		if (!p->ended && p->reaped >= 0 && p->reaped < d->round)
			proc_end(d, p, (uint32_t)i + 1, d->last_t, false);
	}
	d->round++;
	if (n == 0)
		cli_agg_quiet(d->agg);
	/* Rings whose owner exited and that are now empty can be claimed again. */
	for (uint32_t i = 1; i < reg->nrings; i++) {
		gt_ring *r = gt_region_ring(reg, i);
		uint32_t st = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
		if (st == GT_RING_DONE && __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == r->tail)
			ring_free(reg, i);
	}
	return d->error ? -1 : n;
}

/* Whether process pid is gone (no such process, or a zombie).  A process
 * of another pid namespace (GT_FOREIGN_PID) is not in our /proc: it is
 * taken for alive until it says it exited or the run ends. */
static bool proc_gone(int pid)
{
	if (pid & GT_FOREIGN_PID)
		return false;
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *rp = strrchr(buf, ')'); /* state follows the command in parentheses */
	return rp && rp[1] == ' ' && rp[2] == 'Z';
}

static void mark_gone(cli_drain *d, proc *p)
{
	if (d->rec) {
		cli_rec_chunk ch = {.ring = CLI_REC_PROC_GONE, .pid = p->pid};
		if (fwrite(&ch, sizeof ch, 1, d->rec) != 1)
			d->error = true;
	}
	p->reaped = d->round;
	if (p->exited_ns < 0)
		p->exited_ns = d->last_t;
	p->dirty = true;
}

void cli_drain_proc_gone(cli_drain *d, int pid)
{
	uint32_t ix;
	proc *p = proc_of(d, pid, &ix);
	if (p && !p->ended && p->reaped < 0)
		mark_gone(d, p);
}

void cli_drain_reap_rings(cli_drain *d)
{
	/* Processes that ended without a word and were not our children to
	 * reap (a child that called _exit, reaped by its own parent). */
	for (int i = 0; i < d->nprocs; i++) {
		proc *p = &d->procs[i];
		if (p->pid > 0 && !p->ended && p->reaped < 0 && !proc_is_old_image(d, p) && proc_gone(p->pid))
			mark_gone(d, p);
	}
	gt_region *reg = d->reg;
	for (uint32_t i = 1; i < reg->nrings; i++) {
		gt_ring *r = gt_region_ring(reg, i);
		if (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) != GT_RING_OWNED ||
		    __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) != r->tail || (r->pid & GT_FOREIGN_PID))
			continue; /* a foreign thread's ring is given back only by the thread (above) */
		char path[64];
		struct stat st;
		snprintf(path, sizeof path, "/proc/%d/task/%d", r->pid, r->tid);
		if (stat(path, &st) != 0) {
			uint32_t expect = GT_RING_OWNED;
			if (__atomic_compare_exchange_n(&r->state, &expect, GT_RING_DONE, false, __ATOMIC_ACQ_REL,
			                                __ATOMIC_RELAXED)) {
				ring_free(reg, i);
				/* the thread ended without telling (it never allocated, so no
				 * exit hook ran, or its process ended): record its exit, at
				 * the time of the last event (not later: the run's duration
				 * and last sample are that time) */
				gt_record ex = {.kind = GT_EV_THREAD_EXIT, .aux = (uint32_t)r->tid};
				d->events++;
				sink(d, &ex, r->pid, r->tid, d->last_t, GT_EV_THREAD_EXIT, 0);
			}
		}
	}
}

void cli_drain_proc_exit(cli_drain *d, int pid, int status)
{
	uint32_t ix;
	proc *p = proc_of(d, pid, &ix);
	if (!p)
		return;
	if (d->rec) {
		cli_rec_chunk ch = {.ring = CLI_REC_PROC_EXIT, .pid = pid, .tid = status};
		if (fwrite(&ch, sizeof ch, 1, d->rec) != 1)
			d->error = true;
	}
	p->status = status;
	p->status_from = STATUS_REAPED;
	if (p->exited_ns < 0)
		p->exited_ns = cli_drain_now_ns(d);
	p->dirty = true;
	p->reaped = d->round;
}

void cli_drain_kernel_exit(cli_drain *d, int pid, int status, int64_t t_ns)
{
	if (d->nkexits == d->cap_kexits) {
		int cap = d->cap_kexits ? d->cap_kexits * 2 : 16;
		kexit *k = realloc(d->kexits, (size_t)cap * sizeof *k);
		if (!k)
			return; /* the status stays unknown */
		d->kexits = k;
		d->cap_kexits = cap;
	}
	d->kexits[d->nkexits++] = (kexit){.pid = pid, .status = status, .t_ns = t_ns};
}

typedef struct image_key {
	int pid, seq;
	int64_t started_ns;
	int ix;
} image_key;

static int image_cmp(const void *a, const void *b)
{
	const image_key *x = a, *y = b;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->started_ns != y->started_ns)
		return x->started_ns < y->started_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* At the end, when every image is known: each kernel-reported end belongs
 * to the image of its pid that started last before it (a pid's earlier
 * images ended in exec; a pid used again later is another process), and
 * only the first end found for an image is its own (a later one is an
 * untraced process that reused the pid).  It gives the image its end time
 * (otherwise the time its last record was drained, or that the CLI found
 * it gone or reaped it) and its status unless the CLI reaped it. */
static void apply_kernel_exits(cli_drain *d)
{
	if (d->nkexits == 0)
		return;
	image_key *keys = malloc((size_t)(d->nprocs ? d->nprocs : 1) * sizeof *keys);
	if (!keys)
		return;
	int n = 0;
	for (int i = 0; i < d->nprocs; i++)
		if (d->procs[i].pid > 0)
			keys[n++] = (image_key){d->procs[i].pid, d->procs[i].seq, d->procs[i].started_ns, i};
	qsort(keys, (size_t)n, sizeof *keys, image_cmp);
	bool *taken = calloc((size_t)(n ? n : 1), sizeof *taken);
	if (!taken) {
		free(keys);
		return;
	}
	for (int e = 0; e < d->nkexits; e++) {
		const kexit *k = &d->kexits[e];
		int lo = 0, hi = n; /* first key after (pid, t_ns) */
		while (lo < hi) {
			int mid = lo + (hi - lo) / 2;
			if (keys[mid].pid < k->pid || (keys[mid].pid == k->pid && keys[mid].started_ns <= k->t_ns))
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0 || keys[lo - 1].pid != k->pid || taken[lo - 1])
			continue;
		taken[lo - 1] = true;
		proc *p = &d->procs[keys[lo - 1].ix];
		if (p->status_from < STATUS_KERNEL) {
			p->status = k->status;
			p->status_from = STATUS_KERNEL;
		}
		p->exited_ns = k->t_ns;
		p->dirty = true;
	}
	free(taken);
	free(keys);
	d->nkexits = 0;
}

void cli_drain_set_root(cli_drain *d, int pid)
{
	d->root_pid = pid;
}

static int fail(cli_drain *d)
{
	d->error = true;
	return -1;
}

int cli_drain_flush(cli_drain *d, bool final, const char *state, int exit_status)
{
	cli_db *db = d->db;
	if (d->error)
		return -1;
	if (final) {
		/* Every process is gone now; the figures keep the program's heap
		 * at its end (and heaps copied for forks whose child never showed up
		 * go too). */
		for (int i = 0; i < d->nprocs; i++)
			if (!d->procs[i].ended && (d->procs[i].pid != d->root_pid || proc_is_old_image(d, &d->procs[i]))) {
				d->procs[i].ended = true;
				cli_agg_proc_end(d->agg, (uint32_t)i + 1, d->last_t);
			}
		cli_agg_sample(d->agg, d->last_t);
		apply_kernel_exits(d);
	}
	const int64_t(*samples)[1 + FIG_N];
	int ns = cli_agg_take_samples(d->agg, &samples);
	for (int i = 0; i < ns; i++)
		if (cli_db_heap_sample(db, d->run_id, samples[i][0], &samples[i][1]) != 0)
			return fail(d);
	const cli_span_row *rows;
	int nr = cli_agg_take_spans(d->agg, &rows);
	for (int pass = 0; pass < (final ? 2 : 1); pass++) {
		if (cli_db_spans(db, d->run_id, rows, nr) != 0)
			return fail(d);
		if (final && pass == 0)
			nr = cli_agg_live_spans(d->agg, &rows);
	}
	for (int i = 0; i < d->nprocs; i++) {
		proc *p = &d->procs[i];
		if (!p->dirty)
			continue;
		p->dirty = false;
		if (cli_db_process(db, d->run_id, p->pid, p->seq, p->ppid, p->cmd, p->started_ns, p->exited_ns,
		                   p->status) != 0)
			return fail(d);
	}
	for (int c = 0; c < CLI_CLASSES; c++) {
		cli_class_row row;
		cli_agg_class(d->agg, c, &row);
		if (cli_db_class_stat(db, d->run_id, c, &row) != 0 ||
		    cli_db_class_span(db, d->run_id, c, cli_agg_class_peak_spans(d->agg, c)) != 0)
			return fail(d);
	}
	const cli_req_row *req;
	int nreq = cli_agg_take_request_sizes(d->agg, &req);
	for (int i = 0; i < nreq; i++)
		if (cli_db_request_size(db, d->run_id, req[i].size, req[i].tiny, req[i].allocs, req[i].live) != 0)
			return fail(d);
	int64_t blocks, objs, bytes;
	cli_agg_tiny(d->agg, &blocks, &objs, &bytes);
	if (cli_db_tiny_stat(db, d->run_id, blocks, objs, bytes) != 0)
		return fail(d);
	if (final && d->sites && cli_sites_write(d->sites, db, d->run_id, d->progress) != 0)
		return fail(d);
	int64_t peak[FIG_N], peak_t;
	cli_agg_peak(d->agg, peak, &peak_t);
	cli_run_end re = {.duration_ns = final ? d->last_t : cli_drain_now_ns(d),
	                  .events = d->events,
	                  .dropped = cli_drain_dropped(d),
	                  .unmatched_frees = cli_agg_unmatched(d->agg),
	                  .exit_status = exit_status,
	                  .state = state,
	                  .peak_t_ns = peak_t,
	                  .peak_heap_alloc = peak[FIG_ALLOC],
	                  .peak_requested = peak[FIG_REQ],
	                  .peak_heap_inuse = peak[FIG_INUSE],
	                  .peak_heap_idle = peak[FIG_SYS] - peak[FIG_INUSE],
	                  .peak_heap_released = peak[FIG_RELEASED],
	                  .peak_heap_sys = peak[FIG_SYS]};
	if (cli_db_run_update(db, d->run_id, &re) != 0 || cli_db_commit(db) != 0)
		return fail(d);
	if (!final && cli_db_begin(db) != 0)
		return fail(d);
	return 0;
}

void cli_drain_set_progress(cli_drain *d, bool on)
{
	d->progress = on;
}

void cli_drain_producers_done(cli_drain *d)
{
	d->producers_done = true;
}

void cli_drain_set_snapshot_gap(cli_drain *d, long us)
{
	d->snap_gap_us = us > 0 && us < 1000000 ? us : 0;
}

int64_t cli_drain_events(const cli_drain *d)
{
	return d->events;
}

int64_t cli_drain_dropped(const cli_drain *d)
{
	int64_t n = 0;
	for (uint32_t i = 0; i < d->reg->nrings; i++)
		n += (int64_t)__atomic_load_n(&gt_region_ring(d->reg, i)->dropped, __ATOMIC_RELAXED);
	return n;
}

int cli_drain_nprocs(const cli_drain *d)
{
	return d->nprocs;
}

const cli_agg *cli_drain_agg(const cli_drain *d)
{
	return d->agg;
}
