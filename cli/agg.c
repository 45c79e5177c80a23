/* agg.c: the drainer's model of the traced heap (see agg.h).
 *
 * Accounting, in Go's terms, summed over the run's processes:
 *   HeapAlloc    += class size at each small alloc, 16 per tiny block
 *                   opened, whole pages per large object; -= at their frees
 *   requested    += requested bytes of every object, tiny ones included
 *   HeapInuse    += pages of a span when it is created (SPAN_ALLOC, or a
 *                   large object's span), -= when it goes back (SPAN_FREE)
 *   HeapSys      += pages mapped (HEAP_GROW)
 *   HeapReleased += pages mapped (fresh pages count as released, as in Go)
 *                   and pages scavenged; -= released pages a span reuses
 *   HeapIdle      = HeapSys - HeapInuse
 * Tiny blocks are class-2 objects (Go's tinySpanClass); the tiny objects in
 * them add to class 2's requested bytes, not to its object counts.
 *
 * Ordering: the drainer hands events over in timestamp order within a
 * drain round; a free may still arrive before its allocation (the two were
 * made on different threads and landed in different rounds), so such a
 * free waits in `pending` and is applied right after its allocation.  An
 * allocation of an address that is still live means the old object's free
 * is in flight: the old object moves to `shadow` until that free arrives
 * (told apart by timestamps).
 */
#include "agg.h"

#include "u64map.h"

#include <stdlib.h>
#include <string.h>

enum { K_SMALL = 0, K_TINY = 1, K_LARGE = 2 };

typedef struct obj {
	uint64_t size; /* requested */
	uint64_t tsc;  /* of the allocation */
	uint32_t span;
	uint8_t cls, kind;
} obj;

typedef struct spanv {
	uint64_t base;
	int64_t npages, created_ns, live, peak;
	uint8_t cls;
	bool tiny;
	int pid;
} spanv;

typedef struct pending {
	gt_record rec;
	int64_t t_ns;
	int pid, tid;
} pending;

U64MAP_DEFINE(objmap, obj)
U64MAP_DEFINE(spanmap, spanv)
U64MAP_DEFINE(pendmap, pending)

typedef struct cls_acc {
	int64_t allocs, frees, requested, allocated, live_objs, live_bytes, live_req, peak_objs, peak_bytes,
	    spans_created, spans_released, refills;
} cls_acc;

struct cli_agg {
	objmap objs;
	objmap shadow; /* superseded live objects whose free is in flight */
	spanmap spans;
	pendmap pend;
	cls_acc cls[CLI_CLASSES];
	int64_t fig[FIG_N];
	int64_t peak[FIG_N], peak_t;
	int64_t tiny_blocks, tiny_objs, tiny_bytes;
	int64_t interval, last_sample;
	int64_t (*samples)[1 + FIG_N];
	int nsamples, cap_samples;
	cli_span_row *rows;
	int nrows, cap_rows;
	cli_agg_sink sink;
	void *sink_ctx;
	uint64_t span_ckey; /* a one-entry cache of spans: key and slot (0: empty) */
	spanv *span_cval;
	int cur_tid; /* of the event being applied */
};

static const uint32_t class_size[CLI_CLASSES] = {
	0,     8,     16,    24,    32,    48,    64,    80,    96,    112,   128,   144,   160,   176,
	192,   208,   224,   240,   256,   288,   320,   352,   384,   416,   448,   480,   512,   576,
	640,   704,   768,   896,   1024,  1152,  1280,  1408,  1536,  1792,  2048,  2304,  2688,  3072,
	3200,  3456,  4096,  4864,  5376,  6144,  6528,  6784,  6912,  8192,  9472,  9728,  10240, 10880,
	12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
};

cli_agg *cli_agg_new(int64_t sample_interval_ns)
{
	cli_agg *a = calloc(1, sizeof *a);
	if (!a || !objmap_init(&a->objs, 1 << 10) || !objmap_init(&a->shadow, 64) ||
	    !spanmap_init(&a->spans, 1 << 12) || !pendmap_init(&a->pend, 64))
		abort();
	a->interval = sample_interval_ns;
	a->last_sample = -sample_interval_ns;
	return a;
}

void cli_agg_set_sink(cli_agg *a, cli_agg_sink fn, void *ctx)
{
	a->sink = fn;
	a->sink_ctx = ctx;
}

static inline void out(cli_agg *a, const gt_record *r, int pid, int64_t t_ns, int kind, uint64_t size)
{
	if (a->sink)
		a->sink(a->sink_ctx, r, pid, a->cur_tid, t_ns, kind, size);
}

void cli_agg_free(cli_agg *a)
{
	if (!a)
		return;
	objmap_destroy(&a->objs);
	objmap_destroy(&a->shadow);
	spanmap_destroy(&a->spans);
	pendmap_destroy(&a->pend);
	free(a->samples);
	free(a->rows);
	free(a);
}

static inline uint64_t obj_key(uint32_t proc, uint64_t addr)
{
	return ((uint64_t)proc << 48) | (addr & 0xffffffffffffull);
}

static inline uint64_t span_key(uint32_t proc, uint32_t span)
{
	return ((uint64_t)proc << 32) | span;
}

static void push_sample(cli_agg *a, int64_t t_ns)
{
	if (a->nsamples == a->cap_samples) {
		a->cap_samples = a->cap_samples ? a->cap_samples * 2 : 256;
		a->samples = realloc(a->samples, (size_t)a->cap_samples * sizeof *a->samples);
		if (!a->samples)
			abort();
	}
	a->fig[FIG_IDLE] = a->fig[FIG_SYS] - a->fig[FIG_INUSE];
	a->samples[a->nsamples][0] = t_ns;
	memcpy(&a->samples[a->nsamples][1], a->fig, sizeof a->fig);
	a->nsamples++;
	a->last_sample = t_ns;
}

void cli_agg_sample(cli_agg *a, int64_t t_ns)
{
	if (a->nsamples && a->samples[a->nsamples - 1][0] == t_ns)
		a->nsamples--; /* replace a sample at the same instant */
	push_sample(a, t_ns);
}

static void push_row(cli_agg *a, const spanv *v, uint32_t span_id, int64_t released_ns)
{
	if (a->nrows == a->cap_rows) {
		a->cap_rows = a->cap_rows ? a->cap_rows * 2 : 256;
		a->rows = realloc(a->rows, (size_t)a->cap_rows * sizeof *a->rows);
		if (!a->rows)
			abort();
	}
	a->rows[a->nrows++] = (cli_span_row){.pid = v->pid, .span_id = span_id, .cls = v->cls, .tiny = v->tiny,
	                                     .base = v->base, .npages = v->npages, .created_ns = v->created_ns,
	                                     .released_ns = released_ns, .peak = v->peak};
}

static inline void live_add(cli_agg *a, int cls, int64_t objs, int64_t bytes)
{
	cls_acc *c = &a->cls[cls];
	c->live_objs += objs;
	c->live_bytes += bytes;
	if (c->live_objs > c->peak_objs)
		c->peak_objs = c->live_objs;
	if (c->live_bytes > c->peak_bytes)
		c->peak_bytes = c->live_bytes;
	a->fig[FIG_ALLOC] += bytes;
	if (bytes > 0 && a->fig[FIG_ALLOC] > a->peak[FIG_ALLOC]) {
		a->fig[FIG_IDLE] = a->fig[FIG_SYS] - a->fig[FIG_INUSE];
		memcpy(a->peak, a->fig, sizeof a->fig);
		a->peak_t = -1; /* set by the caller, who knows the time */
	}
}

static inline void span_objs(cli_agg *a, uint32_t proc, uint32_t span, int64_t d)
{
	uint64_t k = span_key(proc, span);
	spanv *v;
	if (k == a->span_ckey) {
		v = a->span_cval;
	} else {
		v = spanmap_get(&a->spans, k);
		a->span_ckey = v ? k : 0;
		a->span_cval = v;
	}
	if (v) {
		v->live += d;
		if (v->live > v->peak)
			v->peak = v->live;
	}
}

static int64_t large_bytes(uint64_t size)
{
	return (int64_t)((size + 8191) / 8192 * 8192);
}

/* Apply the free of object o (already removed from the maps). */
static void apply_free(cli_agg *a, uint32_t proc, const obj *o)
{
	a->fig[FIG_REQ] -= (int64_t)o->size;
	a->cls[o->cls].live_req -= (int64_t)o->size;
	if (o->kind == K_TINY)
		return; /* its block is freed by its own event */
	cls_acc *c = &a->cls[o->cls];
	c->frees++;
	int64_t bytes = o->kind == K_LARGE ? large_bytes(o->size) : class_size[o->cls];
	live_add(a, o->cls, -1, -bytes);
	if (o->kind == K_SMALL)
		span_objs(a, proc, o->span, -1);
}

static void do_event(cli_agg *a, uint32_t proc, int pid, const gt_record *r, int64_t t_ns);

static void alloc_obj(cli_agg *a, uint32_t proc, int pid, const gt_record *r, uint8_t cls, uint8_t kind,
                      int64_t t_ns)
{
	uint64_t key = obj_key(proc, r->addr);
	bool isnew;
	obj *o = objmap_put(&a->objs, key, &isnew);
	if (!isnew) {
		/* the previous object's free is still in flight */
		bool n2;
		*objmap_put(&a->shadow, key, &n2) = *o;
	}
	*o = (obj){.size = r->size, .tsc = r->tsc, .span = r->span, .cls = cls, .kind = kind};
	a->fig[FIG_REQ] += (int64_t)r->size;
	a->cls[cls].live_req += (int64_t)r->size;
	(void)pid;
	(void)t_ns;
}

/* A free that arrived before this allocation is applied now. */
static void resolve_pending(cli_agg *a, uint32_t proc, const gt_record *r)
{
	pending p;
	if (a->pend.count && pendmap_del(&a->pend, obj_key(proc, r->addr), &p)) {
		int tid = a->cur_tid;
		a->cur_tid = p.tid;
		do_event(a, proc, p.pid, &p.rec, p.t_ns);
		a->cur_tid = tid;
	}
}

static void do_free(cli_agg *a, uint32_t proc, int pid, const gt_record *r, int64_t t_ns)
{
	uint64_t key = obj_key(proc, r->addr);
	obj o;
	obj *live = objmap_get(&a->objs, key);
	if (live && a->shadow.count && objmap_del(&a->shadow, key, &o)) {
		/* The address was allocated again before this free arrived: the free
		 * is the older object's (it was made before the new allocation). */
		apply_free(a, proc, &o);
		out(a, r, pid, t_ns, o.kind == K_TINY ? CLI_EV_FREE_TINY : GT_EV_FREE, o.size);
		return;
	}
	if (live) {
		o = *live;
		objmap_del(&a->objs, key, NULL);
		apply_free(a, proc, &o);
		out(a, r, pid, t_ns, o.kind == K_TINY ? CLI_EV_FREE_TINY : GT_EV_FREE, o.size);
		return;
	}
	/* Not allocated yet (as far as we have seen): wait for it. */
	bool isnew;
	pending *p = pendmap_put(&a->pend, key, &isnew);
	p->rec = *r;
	p->t_ns = t_ns;
	p->pid = pid;
	p->tid = a->cur_tid;
}

static void span_new(cli_agg *a, uint32_t proc, int pid, const gt_record *r, uint8_t cls, bool tiny,
                     int64_t npages, int64_t t_ns)
{
	bool isnew;
	a->span_ckey = 0; /* slots may move */
	spanv *v = spanmap_put(&a->spans, span_key(proc, r->span), &isnew);
	if (!isnew) {
		/* a large object's span grew or shrank in place (realloc) */
		a->fig[FIG_INUSE] += (npages - v->npages) * 8192;
		v->npages = npages;
		v->live = 1;
		return;
	}
	*v = (spanv){.base = r->addr, .npages = npages, .created_ns = t_ns, .cls = cls, .tiny = tiny, .pid = pid};
	a->cls[cls].spans_created++;
	a->fig[FIG_INUSE] += npages * 8192;
	a->fig[FIG_RELEASED] -= (int64_t)r->aux * 8192;
}

static void do_event(cli_agg *a, uint32_t proc, int pid, const gt_record *r, int64_t t_ns)
{
	uint8_t cls = r->cls < CLI_CLASSES ? r->cls : 0;
	switch (r->kind) {
	case GT_EV_ALLOC_SMALL: {
		cls_acc *c = &a->cls[cls];
		c->allocs++;
		c->requested += (int64_t)r->size;
		c->allocated += class_size[cls];
		alloc_obj(a, proc, pid, r, cls, K_SMALL, t_ns);
		live_add(a, cls, 1, class_size[cls]);
		span_objs(a, proc, r->span, 1);
		out(a, r, pid, t_ns, r->kind, r->size);
		resolve_pending(a, proc, r); /* after the allocation's own row */
		return;
	}
	case GT_EV_ALLOC_TINY:
		a->tiny_objs++;
		a->tiny_bytes += (int64_t)r->size;
		a->cls[2].requested += (int64_t)r->size;
		alloc_obj(a, proc, pid, r, 2, K_TINY, t_ns);
		out(a, r, pid, t_ns, r->kind, r->size);
		resolve_pending(a, proc, r); /* after the allocation's own row */
		return;
	case GT_EV_ALLOC_LARGE: {
		int64_t bytes = large_bytes(r->size);
		cls_acc *c = &a->cls[0];
		c->allocs++;
		c->requested += (int64_t)r->size;
		c->allocated += bytes;
		span_new(a, proc, pid, r, 0, false, bytes / 8192, t_ns);
		alloc_obj(a, proc, pid, r, 0, K_LARGE, t_ns);
		live_add(a, 0, 1, bytes);
		out(a, r, pid, t_ns, r->kind, r->size);
		resolve_pending(a, proc, r); /* after the allocation's own row */
		return;
	}
	case GT_EV_FREE:
		if (r->flags & GT_F_TINY_BLOCK) {
			a->cls[2].frees++;
			live_add(a, 2, -1, -16);
			span_objs(a, proc, r->span, -1);
			out(a, r, pid, t_ns, CLI_EV_TINY_BLOCK_FREE, 16);
		} else {
			do_free(a, proc, pid, r, t_ns); /* writes its own row, when applied */
		}
		return;
	case GT_EV_TINY_OPEN:
		a->tiny_blocks++;
		a->cls[2].allocs++;
		a->cls[2].allocated += 16;
		live_add(a, 2, 1, 16);
		span_objs(a, proc, r->span, 1);
		break;
	case GT_EV_REFILL:
		a->cls[cls].refills++;
		break;
	case GT_EV_SPAN_ALLOC:
		span_new(a, proc, pid, r, cls, r->flags & GT_F_TINY_BLOCK, (int64_t)r->size, t_ns);
		break;
	case GT_EV_SPAN_FREE: {
		spanv v;
		a->span_ckey = 0; /* slots may move */
		if (spanmap_del(&a->spans, span_key(proc, r->span), &v)) {
			a->cls[v.cls].spans_released++;
			a->fig[FIG_INUSE] -= v.npages * 8192;
			push_row(a, &v, r->span, t_ns);
		}
		break;
	}
	case GT_EV_HEAP_GROW:
		a->fig[FIG_SYS] += (int64_t)r->size * 8192;
		a->fig[FIG_RELEASED] += (int64_t)r->size * 8192;
		break;
	case GT_EV_SCAVENGE:
		a->fig[FIG_RELEASED] += (int64_t)r->size * 8192;
		break;
	default:
		break;
	}
	out(a, r, pid, t_ns, r->kind, r->size);
}

void cli_agg_event(cli_agg *a, uint32_t proc, int pid, int tid, const gt_record *r, int64_t t_ns)
{
	a->cur_tid = tid;
	do_event(a, proc, pid, r, t_ns);
	if (a->peak_t < 0)
		a->peak_t = t_ns;
	if (t_ns - a->last_sample >= a->interval)
		push_sample(a, t_ns);
}

int64_t cli_agg_unmatched(const cli_agg *a)
{
	return (int64_t)a->pend.count;
}

void cli_agg_figures(const cli_agg *a, int64_t fig[FIG_N])
{
	memcpy(fig, a->fig, sizeof a->fig);
	fig[FIG_IDLE] = fig[FIG_SYS] - fig[FIG_INUSE];
}

void cli_agg_peak(const cli_agg *a, int64_t fig[FIG_N], int64_t *t_ns)
{
	memcpy(fig, a->peak, sizeof a->peak);
	*t_ns = a->peak_t < 0 ? 0 : a->peak_t;
}

void cli_agg_class(const cli_agg *a, int cls, cli_class_row *row)
{
	const cls_acc *c = &a->cls[cls];
	*row = (cli_class_row){.allocs = c->allocs,
	                       .frees = c->frees,
	                       .requested_bytes = c->requested,
	                       .allocated_bytes = c->allocated,
	                       .peak_live_objects = c->peak_objs,
	                       .peak_live_bytes = c->peak_bytes,
	                       .live_objects = c->live_objs,
	                       .live_bytes = c->live_bytes,
	                       .live_requested = c->live_req,
	                       .spans_created = c->spans_created,
	                       .spans_released = c->spans_released,
	                       .refills = c->refills};
}

void cli_agg_tiny(const cli_agg *a, int64_t *blocks, int64_t *objects, int64_t *bytes)
{
	*blocks = a->tiny_blocks;
	*objects = a->tiny_objs;
	*bytes = a->tiny_bytes;
}

int cli_agg_take_samples(cli_agg *a, const int64_t (**out)[1 + FIG_N])
{
	int n = a->nsamples;
	*out = (const int64_t(*)[1 + FIG_N])a->samples;
	a->nsamples = 0;
	return n;
}

int cli_agg_take_spans(cli_agg *a, const cli_span_row **out)
{
	int n = a->nrows;
	*out = a->rows;
	a->nrows = 0;
	return n;
}

int cli_agg_live_spans(cli_agg *a, const cli_span_row **out)
{
	a->nrows = 0;
	for (uint64_t i = 0; i <= a->spans.mask; i++)
		if (a->spans.slots[i].key)
			push_row(a, &a->spans.slots[i].val, (uint32_t)a->spans.slots[i].key, -1);
	return cli_agg_take_spans(a, out);
}
