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

typedef struct cli_span_row {
	int pid;
	uint32_t span_id;
	uint8_t cls;
	bool tiny;
	uint64_t base;
	int64_t npages, created_ns, released_ns, peak;
} cli_span_row;

typedef struct cli_agg cli_agg;

cli_agg *cli_agg_new(int64_t sample_interval_ns);
void cli_agg_free(cli_agg *a);

/* One record of process `proc` (1..65535; pid for span rows) at t_ns.
 * Returns false if it is a free whose allocation has not been seen yet:
 * it is kept and applied when the allocation arrives. */
void cli_agg_event(cli_agg *a, uint32_t proc, int pid, const gt_record *r, int64_t t_ns);

/* Frees still waiting for their allocation (at the end: frees of objects
 * allocated before tracing began). */
int64_t cli_agg_unmatched(const cli_agg *a);

void cli_agg_figures(const cli_agg *a, int64_t fig[FIG_N]);
void cli_agg_peak(const cli_agg *a, int64_t fig[FIG_N], int64_t *t_ns);
void cli_agg_class(const cli_agg *a, int cls, cli_class_row *row);
void cli_agg_tiny(const cli_agg *a, int64_t *blocks, int64_t *objects, int64_t *bytes);

/* Heap samples and released spans produced since the last call; the caller
 * writes them out.  Returns how many; *out points into the model. */
int cli_agg_take_samples(cli_agg *a, const int64_t (**out)[1 + FIG_N]);
int cli_agg_take_spans(cli_agg *a, const cli_span_row **out);
/* At the end: every span still in use, as rows with released_ns -1. */
int cli_agg_live_spans(cli_agg *a, const cli_span_row **out);
/* Force a sample at t_ns (the end of the run). */
void cli_agg_sample(cli_agg *a, int64_t t_ns);

#endif
