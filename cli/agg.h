/* agg.h: the drainer's model of the traced heap, built from the event
 * stream: per-class counters, live objects, spans, tiny blocks, the heap
 * figures in Go's names over time and at their peak.  Aggregates come from
 * here, never from scanning raw events. */
#ifndef CLI_AGG_H
#define CLI_AGG_H

#include "db.h"
#include "gt_event.h"

#include <stdbool.h>
#include <stdint.h>

enum { CLI_CLASSES = 68 };

/* HeapAlloc, requested, HeapInuse, HeapIdle, HeapReleased, HeapSys */
enum { FIG_ALLOC, FIG_REQ, FIG_INUSE, FIG_IDLE, FIG_RELEASED, FIG_SYS, FIG_N };

typedef struct cli_agg cli_agg;

/* The event kinds of the database's event table beyond gt_event.h's: a FREE
 * record becomes one of three rows. */
enum { CLI_EV_FREE_TINY = 12, CLI_EV_TINY_BLOCK_FREE = 13 };

/* Called for every allocator event in the order the model applies it (a
 * free that waited for its allocation comes right after it), with the
 * database kind and, for frees, the freed object's requested size. */
typedef void (*cli_agg_sink)(void *ctx, const gt_record *r, int pid, int tid, int64_t t_ns, int kind,
                             uint64_t size);

cli_agg *cli_agg_new(int64_t sample_interval_ns);
void cli_agg_set_sink(cli_agg *a, cli_agg_sink fn, void *ctx);
/* Allocations that carry a stack, and their frees, go to s too. */
struct cli_sites;
void cli_agg_set_sites(cli_agg *a, struct cli_sites *s);
void cli_agg_free(cli_agg *a);

/* One allocator record of process `proc` (1..65535), thread tid, at t_ns.
 * A free whose allocation has not been seen yet is kept and applied when
 * the allocation arrives. */
void cli_agg_event(cli_agg *a, uint32_t proc, int pid, int tid, const gt_record *r, int64_t t_ns);

/* A process forked: child (a new proc index) starts with a copy of
 * parent's heap, and the totals grow by it. */
void cli_agg_fork(cli_agg *a, uint32_t parent, uint32_t child, int child_pid);
/* The pid of proc index proc, for its span rows. */
void cli_agg_set_pid(cli_agg *a, uint32_t proc, int pid);
/* A process (image) ended, by exit or exec: its heap (figures and class live
 * counts) leaves the totals and its spans are listed as still in use at its
 * end.  A fork child's copy of its parent's heap joins the totals the same
 * way (cli_agg_fork). */
void cli_agg_proc_end(cli_agg *a, uint32_t proc, int64_t t_ns);

/* Frees still waiting for their allocation (at the end: frees of objects
 * allocated before tracing began). */
int64_t cli_agg_unmatched(const cli_agg *a);

void cli_agg_figures(const cli_agg *a, int64_t fig[FIG_N]);
void cli_agg_peak(const cli_agg *a, int64_t fig[FIG_N], int64_t *t_ns);
void cli_agg_class(const cli_agg *a, int cls, cli_class_row *row);
void cli_agg_tiny(const cli_agg *a, int64_t *blocks, int64_t *objects, int64_t *bytes);
/* The most spans the class held at once (spans_created - spans_released). */
int64_t cli_agg_class_peak_spans(const cli_agg *a, int cls);

/* Allocations served from a size class per requested size: rows changed
 * since the last call (the caller writes them out).  *out points into the
 * model. */
typedef struct cli_req_row {
	int size, tiny; /* tiny: placed in a tiny block */
	int64_t allocs, live;
} cli_req_row;
int cli_agg_take_request_sizes(cli_agg *a, const cli_req_row **out);

/* Heap samples and released spans produced since the last call; the caller
 * writes them out.  Returns how many; *out points into the model. */
int cli_agg_take_samples(cli_agg *a, const int64_t (**out)[1 + FIG_N]);
int cli_agg_take_spans(cli_agg *a, const cli_span_row **out);
/* At the end: every span still in use, as rows with released_ns -1. */
int cli_agg_live_spans(cli_agg *a, const cli_span_row **out);
/* The program is quiet (no event waiting): if the figures changed since
 * the last sample, sample them at the last event's time, so a change
 * followed by silence is on the timeline when it happened, not at the next
 * event (samples are otherwise taken at most every sample interval). */
void cli_agg_quiet(cli_agg *a);
/* Force a sample at t_ns (the end of the run). */
void cli_agg_sample(cli_agg *a, int64_t t_ns);

#endif
