/* report_data.c: what the report and compare commands say, computed from a
 * run's aggregates (never its raw events) into a report document.  Every
 * figure is defined here, once; the emitters only render.
 *
 * Heap figures (Go's names, summed over the run's processes): at the peak
 * they are the run table's peak_* columns (the moment HeapAlloc was
 * highest), at exit the last heap_timeline sample.  They obey
 *   HeapSys = requested + size-class waste + span waste + page-heap waste
 *             + HeapReleased
 * with size-class waste = HeapAlloc - requested, span waste = HeapInuse -
 * HeapAlloc, page-heap waste = HeapIdle - HeapReleased; every percentage of
 * the heap section is of HeapSys, so the five parts add up to 100%.
 *
 * Per size class (class_stat, cumulative over the run unless said):
 *   waste %          (allocated - requested) / allocated
 *   span utilization peak objects / (peak spans x objects per span): how
 *                    full the class's spans were at best (both peaks may
 *                    fall at different moments; the ratio is still <= 1)
 *   tail at peak     the span's tail waste x the class's peak spans
 * Class 2 counts each tiny block as one object, as Go does, and its
 * requested bytes include the tiny objects' sizes.
 *
 * Tiny allocator: bytes saved = what the tiny objects would take each in
 * its own slot of the smallest class that holds it (8 B for 1..8 bytes,
 * 16 B for 9..15) - 16 B per block opened.
 *
 * The other alignment mode: every allocation served from a size class,
 * other than tiny objects, is mapped by its requested size to the class
 * each mode's table gives (ga_size_to_class); tiny objects count as
 * recorded.  See the notes the section prints for what is not modelled.
 *
 * A damaged file may hold any number: this file is built with -fwrapv, so
 * sums and products of such numbers wrap (the figures are then as wrong as
 * the file) instead of being undefined behaviour.
 */
#include "report_data.h"

#include "ga.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_ALLOC, F_REQ, F_INUSE, F_IDLE, F_RELEASED, F_SYS };

static const struct {
	const char *key, *label;
} heap_rows[] = {
	{"heap_alloc", "HeapAlloc"},
	{"requested", "requested"},
	{"heap_inuse", "HeapInuse"},
	{"heap_idle", "HeapIdle"},
	{"heap_released", "HeapReleased"},
	{"heap_sys", "HeapSys"},
	{"size_class_waste", "size-class waste  (HeapAlloc - requested)"},
	{"span_waste", "span waste        (HeapInuse - HeapAlloc)"},
	{"page_heap_waste", "page-heap waste   (HeapIdle - HeapReleased)"},
};
enum { HEAP_ROWS = sizeof heap_rows / sizeof *heap_rows };

/* The nine heap rows' values from the six figures. */
static void heap_values(const int64_t fig[6], int64_t v[HEAP_ROWS])
{
	for (int i = 0; i < 6; i++)
		v[i] = fig[i];
	v[6] = fig[F_ALLOC] - fig[F_REQ];
	v[7] = fig[F_INUSE] - fig[F_ALLOC];
	v[8] = fig[F_IDLE] - fig[F_RELEASED];
}

/* The exit figures: the last timeline sample (false when there is none). */
static bool exit_figures(const cli_rd_data *d, int64_t fig[6], int64_t *t_ns)
{
	if (!d->nsamples)
		return false;
	const cli_rd_sample *s = &d->samples[d->nsamples - 1];
	memcpy(fig, s->fig, sizeof s->fig);
	*t_ns = s->t_ns;
	return true;
}

static bool peak_known(const cli_rd_data *d)
{
	return d->run.peak_t_ns != CLI_RD_NULL;
}

/* ---- report sections ------------------------------------------------------ */

static void section_run(cli_doc *doc, const char *file, const cli_rd_data *d)
{
	static char title[256];
	snprintf(title, sizeof title, "goalloc-trace report: run %lld of %s", (long long)d->run.run_id, file);
	cli_table *t = cli_doc_record(doc, "run", title);
	const cli_rd_run *r = &d->run;
	cli_record_text(t, "file", "file", file);
	cli_record_int(t, "run_id", "run", CLI_COL_INT, r->run_id);
	cli_record_text(t, "name", "name", r->name);
	cli_record_text(t, "command", "command", r->command);
	cli_record_text(t, "mode", "mode", r->mode);
	cli_record_text(t, "tiny", "tiny merging", r->tiny ? "on" : "off");
	cli_record_text(t, "started_at", "started", r->started_at);
	cli_record_text(t, "state", "state", r->state);
	if (r->exit_status == CLI_RD_NULL)
		cli_record_null(t, "exit_status", "exit status", CLI_COL_INT);
	else
		cli_record_int(t, "exit_status", "exit status", CLI_COL_INT, r->exit_status);
	if (r->duration_ns == CLI_RD_NULL)
		cli_record_null(t, "duration_ns", "duration", CLI_COL_MS);
	else
		cli_record_int(t, "duration_ns", "duration", CLI_COL_MS, r->duration_ns);
	cli_record_int(t, "events", "events", CLI_COL_INT, r->events);
	cli_record_int(t, "dropped", "events dropped", CLI_COL_INT, r->dropped);
	cli_record_int(t, "processes", "processes", CLI_COL_INT, r->pids);
	cli_record_int(t, "unmatched_frees", "unmatched frees", CLI_COL_INT, r->unmatched_frees);
	if (peak_known(d))
		cli_record_int(t, "peak_t_ns", "peak at", CLI_COL_MS, r->peak_t_ns);
	else
		cli_record_null(t, "peak_t_ns", "peak at", CLI_COL_MS);
	int64_t fig[6], te;
	if (exit_figures(d, fig, &te))
		cli_record_int(t, "exit_t_ns", "exit at", CLI_COL_MS, te);
	else
		cli_record_null(t, "exit_t_ns", "exit at", CLI_COL_MS);
	cli_record_text(t, "figures", "figures", d->modelled ? "modelled" : "measured");
	if (d->modelled)
		cli_table_note(t, "MODELLED, not measured: recorded by attach from another allocator's malloc calls "
		               "(%s); Go's size classes are applied to those requests.  Only allocations, "
		               "requested bytes and HeapAlloc are modelled: spans, HeapInuse, HeapIdle, "
		               "HeapReleased, HeapSys and tiny merging are not (shown as 0 or -).",
		               d->modelled);
	if (r->dropped > 0)
		cli_table_note(t, "%lld events were dropped (--lossy): every figure below undercounts.",
		               (long long)r->dropped);
	if (strcmp(r->state, "done"))
		cli_table_note(t, "The run is marked '%s': the figures describe what was drained until then.",
		               r->state);
}

static void section_heap(cli_doc *doc, const cli_rd_data *d)
{
	cli_table *t = cli_doc_table(doc, "heap", "The heap at its peak (highest HeapAlloc) and at exit, in Go's names");
	t->keyed = true;
	cli_table_col(t, "figure", "", CLI_COL_TEXT, CLI_COL_NO_DATA);
	cli_table_col(t, "peak_bytes", "at peak", CLI_COL_BYTES, 0);
	cli_table_col(t, "peak_pct_of_heap_sys", "% HeapSys", CLI_COL_PCT, 0);
	cli_table_col(t, "exit_bytes", "at exit", CLI_COL_BYTES, 0);
	cli_table_col(t, "exit_pct_of_heap_sys", "% HeapSys", CLI_COL_PCT, 0);
	int64_t pv[HEAP_ROWS], ev[HEAP_ROWS], efig[6], te;
	bool pk = peak_known(d), ex = exit_figures(d, efig, &te);
	heap_values(d->run.peak, pv);
	if (ex)
		heap_values(efig, ev);
	for (int i = 0; i < HEAP_ROWS; i++) {
		cli_table_row(t, heap_rows[i].key);
		cli_table_text(t, heap_rows[i].label);
		if (pk) {
			cli_table_int(t, pv[i]);
			cli_table_pct(t, (double)pv[i], (double)pv[5]);
		} else {
			cli_table_null(t);
			cli_table_null(t);
		}
		if (ex) {
			cli_table_int(t, ev[i]);
			cli_table_pct(t, (double)ev[i], (double)ev[5]);
		} else {
			cli_table_null(t);
			cli_table_null(t);
		}
	}
	cli_table_note(t, "HeapSys = requested + size-class waste + span waste + page-heap waste + HeapReleased; "
	                  "every %% is of HeapSys. HeapInuse: bytes in spans in use; HeapIdle = HeapSys - "
	                  "HeapInuse; HeapReleased: idle bytes returned to the OS.");
	if (d->run.pids > 1)
		cli_table_note(t, "Each figure is the sum over the run's %lld processes at that moment: a forked "
		               "child holds its copy of its parent's heap until it exits or execs; at exit only "
		               "the heap of the program run started is left.",
		               (long long)d->run.pids);
}

typedef struct class_row {
	int cls;
	const cli_rd_class *c;
	int64_t waste;
} class_row;

static int by_waste(const void *a, const void *b)
{
	const class_row *x = a, *y = b;
	if (x->waste != y->waste)
		return x->waste < y->waste ? 1 : -1;
	return x->cls - y->cls;
}

static void section_classes(cli_doc *doc, const cli_rd_data *d)
{
	cli_table *t = cli_doc_table(doc, "classes", "Size classes by size-class waste (classes never used are left out)");
	t->text_key_cols = 2;
	cli_table_col(t, "class", "class", CLI_COL_INT, 0);
	cli_table_col(t, "size", "size", CLI_COL_INT, 0);
	cli_table_col(t, "objects_per_span", "objs/span", CLI_COL_INT, CLI_COL_NO_TEXT);
	cli_table_col(t, "requests", "requests", CLI_COL_INT, 0);
	cli_table_col(t, "requested_bytes", "requested", CLI_COL_BYTES, 0);
	cli_table_col(t, "allocated_bytes", "allocated", CLI_COL_BYTES, 0);
	cli_table_col(t, "waste_bytes", "waste", CLI_COL_BYTES, CLI_COL_NO_TEXT);
	cli_table_col(t, "waste_pct", "waste", CLI_COL_PCT, 0);
	cli_table_col(t, "live_objects", "live", CLI_COL_INT, 0);
	cli_table_col(t, "peak_objects", "peak", CLI_COL_INT, 0);
	cli_table_col(t, "spans_created", "spans+", CLI_COL_INT, 0);
	cli_table_col(t, "spans_released", "spans-", CLI_COL_INT, 0);
	cli_table_col(t, "peak_spans", "pk spans", CLI_COL_INT, CLI_COL_NO_TEXT);
	cli_table_col(t, "span_utilization_pct", "span use", CLI_COL_PCT, 0);
	cli_table_col(t, "tail_waste_bytes_per_span", "tail/span", CLI_COL_INT, CLI_COL_NO_TEXT);
	cli_table_col(t, "tail_waste_at_peak_bytes", "tail@peak", CLI_COL_BYTES, 0);
	class_row rows[CLI_RD_CLASSES];
	int n = 0;
	for (int c = 0; c < CLI_RD_CLASSES; c++) {
		const cli_rd_class *k = &d->cls[c];
		if (!k->present || k->allocs == 0)
			continue;
		rows[n++] = (class_row){.cls = c, .c = k, .waste = k->allocated_bytes - k->requested_bytes};
	}
	qsort(rows, (size_t)n, sizeof *rows, by_waste);
	for (int i = 0; i < n; i++) {
		const cli_rd_class *k = rows[i].c;
		bool large = rows[i].cls == 0;
		cli_table_row(t, NULL);
		cli_table_int(t, rows[i].cls);
		if (large) {
			cli_table_null(t);
			cli_table_null(t);
		} else {
			cli_table_int(t, k->size);
			cli_table_int(t, k->objects);
		}
		cli_table_int(t, k->allocs);
		cli_table_int(t, k->requested_bytes);
		cli_table_int(t, k->allocated_bytes);
		cli_table_int(t, rows[i].waste);
		cli_table_pct(t, (double)rows[i].waste, (double)k->allocated_bytes);
		cli_table_int(t, k->live_objects);
		cli_table_int(t, k->peak_live_objects);
		cli_table_int(t, k->spans_created);
		cli_table_int(t, k->spans_released);
		if (k->peak_spans == CLI_RD_NULL)
			cli_table_null(t);
		else
			cli_table_int(t, k->peak_spans);
		if (large || k->peak_spans == CLI_RD_NULL) {
			cli_table_null(t);
			cli_table_null(t);
			cli_table_null(t);
		} else {
			cli_table_pct(t, (double)k->peak_live_objects, (double)k->peak_spans * (double)k->objects);
			cli_table_int(t, k->tail_waste);
			cli_table_int(t, k->tail_waste * k->peak_spans);
		}
	}
	cli_table_note(t, "requests: objects allocated (class 2 counts each tiny block as one); waste: "
	                  "(allocated - requested) / allocated; live: objects at exit; peak: most objects at "
	                  "once; spans+/-: spans taken from / given back to the page heap; span use: peak "
	                  "objects / (most spans at once x objects per span); tail@peak: the span's unused "
	                  "tail x most spans at once. Class 0 is large objects (a span each, whole pages).");
	bool any_null = false;
	for (int c = 1; c < CLI_RD_CLASSES; c++)
		any_null |= d->cls[c].present && d->cls[c].allocs && d->cls[c].peak_spans == CLI_RD_NULL;
	if (any_null)
		cli_table_note(t, "span use and tail@peak need the class_span table (files of schema 004 on).");
}

static void section_tiny(cli_doc *doc, const cli_rd_data *d)
{
	cli_table *t = cli_doc_record(doc, "tiny", "Tiny allocator (requests under 16 B packed into 16-byte blocks)");
	cli_record_int(t, "blocks", "blocks opened", CLI_COL_INT, d->tiny_blocks);
	cli_record_int(t, "objects", "tiny objects", CLI_COL_INT, d->tiny_objects);
	cli_record_real(t, "objects_per_block", "objects per block", CLI_COL_REAL,
	                d->tiny_blocks ? (double)d->tiny_objects / (double)d->tiny_blocks : NAN);
	cli_record_int(t, "requested_bytes", "bytes requested", CLI_COL_BYTES, d->tiny_bytes);
	cli_record_int(t, "block_bytes", "bytes in blocks", CLI_COL_BYTES, d->tiny_blocks * 16);
	if (d->has_req) {
		int64_t own = 0;
		for (int s = 0; s < 16; s++)
			own += d->req_allocs[1][s] * (s <= 8 ? 8 : 16);
		cli_record_int(t, "own_slot_bytes", "bytes in own slots", CLI_COL_BYTES, own);
		cli_record_int(t, "saved_bytes", "bytes saved", CLI_COL_BYTES, own - d->tiny_blocks * 16);
		cli_record_real(t, "saved_pct", "saved", CLI_COL_PCT, own ? 100.0 * (double)(own - d->tiny_blocks * 16) / (double)own : NAN);
	} else {
		cli_record_null(t, "own_slot_bytes", "bytes in own slots", CLI_COL_BYTES);
		cli_record_null(t, "saved_bytes", "bytes saved", CLI_COL_BYTES);
		cli_record_null(t, "saved_pct", "saved", CLI_COL_PCT);
	}
	if (!d->run.tiny)
		cli_table_note(t, "Tiny merging was off in this run (GOALLOC_TINY=0): small requests used classes 1-2.");
	cli_table_note(t, "Own slots: each tiny object alone in the smallest class that holds it (8 B for 1..8 "
	                  "bytes, 16 B for 9..15); saved = own slots - 16 B per block opened, over the whole run.");
	if (!d->has_req)
		cli_table_note(t, "Bytes saved need the request_size table (files of schema 004 on).");
}

static void section_other_mode(cli_doc *doc, const cli_rd_data *d)
{
	bool go = d->run.go_exact;
	const char *this_mode = go ? "go-exact" : "c-safe", *other = go ? "c-safe" : "go-exact";
	static char title[160];
	snprintf(title, sizeof title, "The other alignment mode: what %s would have done with this run's requests",
	         other);
	cli_table *t = cli_doc_record(doc, "other_mode", title);
	cli_record_text(t, "this_mode", "this run's mode", this_mode);
	cli_record_text(t, "other_mode", "other mode", other);
	if (!d->has_req) {
		cli_table_note(t, "Not available: the file has no request_size table (written before schema 004).");
		return;
	}
	int64_t n = 0, req = 0, a_this = 0, a_other = 0, live_req = 0, l_this = 0, l_other = 0;
	int64_t cn_this[CLI_RD_CLASSES] = {0}, cn_other[CLI_RD_CLASSES] = {0};
	for (int s = 0; s <= CLI_RD_MAX_SMALL; s++) {
		int64_t k = d->req_allocs[0][s], l = d->req_live[0][s] > 0 ? d->req_live[0][s] : 0;
		if (!k && !l)
			continue;
		size_t eff = s ? (size_t)s : 1; /* malloc(0) takes the smallest slot */
		unsigned ct = ga_size_to_class(eff, go), co = ga_size_to_class(eff, !go);
		n += k;
		req += k * s;
		live_req += l * s;
		a_this += k * ga_class_size(ct);
		a_other += k * ga_class_size(co);
		l_this += l * ga_class_size(ct);
		l_other += l * ga_class_size(co);
		cn_this[ct] += k;
		cn_other[co] += k;
	}
	int64_t recorded = 0;
	for (int c = 1; c < CLI_RD_CLASSES; c++)
		recorded += d->cls[c].allocated_bytes;
	recorded -= d->tiny_blocks * 16;
	cli_record_int(t, "requests", "requests modelled", CLI_COL_INT, n);
	cli_record_int(t, "requested_bytes", "bytes requested", CLI_COL_BYTES, req);
	cli_record_int(t, "recorded_allocated_bytes", "allocated (recorded)", CLI_COL_BYTES, recorded);
	cli_record_int(t, "this_allocated_bytes", "allocated, this mode", CLI_COL_BYTES, a_this);
	cli_record_int(t, "other_allocated_bytes", "allocated, other mode", CLI_COL_BYTES, a_other);
	cli_record_int(t, "allocated_delta_bytes", "difference", CLI_COL_BYTES, a_other - a_this);
	cli_record_real(t, "this_waste_pct", "size-class waste, this mode", CLI_COL_PCT,
	                a_this ? 100.0 * (double)(a_this - req) / (double)a_this : NAN);
	cli_record_real(t, "other_waste_pct", "size-class waste, other mode", CLI_COL_PCT,
	                a_other ? 100.0 * (double)(a_other - req) / (double)a_other : NAN);
	cli_record_int(t, "live_requested_bytes", "live at exit, requested", CLI_COL_BYTES, live_req);
	cli_record_int(t, "this_live_bytes", "live at exit, this mode", CLI_COL_BYTES, l_this);
	cli_record_int(t, "other_live_bytes", "live at exit, other mode", CLI_COL_BYTES, l_other);
	cli_record_int(t, "live_delta_bytes", "difference at exit", CLI_COL_BYTES, l_other - l_this);
	cli_record_int(t, "tiny_objects", "tiny objects (as recorded)", CLI_COL_INT, d->tiny_objects);
	cli_table_note(t, "Modelled: every allocation served from a size class, except tiny objects, mapped by "
	                  "its requested size to each mode's class (the allocator's own tables); 'allocated' "
	                  "and 'live' are over the whole run and at exit.");
	cli_table_note(t, "Not modelled: tiny objects (the other mode's tiny alignment would pack blocks "
	                  "differently; they count as recorded); the other mode's peak, spans and HeapInuse "
	                  "(which sizes were live at the peak is not recorded).");
	if (recorded != a_this)
		cli_table_note(t, "'allocated (recorded)' differs from 'this mode' by the requests that asked for an "
		                  "alignment (posix_memalign, aligned_alloc...) and were served from a larger class; "
		                  "the model maps them by size only.");
	cli_table *c = cli_doc_table(doc, "other_mode_classes", NULL);
	cli_table_col(c, "class", "class", CLI_COL_INT, 0);
	cli_table_col(c, "size", "size", CLI_COL_INT, 0);
	cli_table_col(c, "this_requests", "requests, this mode", CLI_COL_INT, 0);
	cli_table_col(c, "other_requests", "requests, other mode", CLI_COL_INT, 0);
	for (int k = 1; k < CLI_RD_CLASSES; k++) {
		if (cn_this[k] == cn_other[k])
			continue;
		cli_table_row(c, NULL);
		cli_table_int(c, k);
		cli_table_int(c, ga_class_size((unsigned)k));
		cli_table_int(c, cn_this[k]);
		cli_table_int(c, cn_other[k]);
	}
	if (!c->nrows)
		cli_table_note(c, "  The two modes put every modelled request in the same class.");
}

static void section_timeline(cli_doc *doc, const cli_rd_data *d)
{
	cli_table *t = cli_doc_table(doc, "timeline", "Heap timeline");
	t->text_max_rows = 20;
	cli_table_col(t, "t_ns", "time", CLI_COL_MS, 0);
	cli_table_col(t, "heap_alloc", "HeapAlloc", CLI_COL_BYTES, 0);
	cli_table_col(t, "requested", "requested", CLI_COL_BYTES, CLI_COL_NO_TEXT);
	cli_table_col(t, "heap_inuse", "HeapInuse", CLI_COL_BYTES, 0);
	cli_table_col(t, "heap_idle", "HeapIdle", CLI_COL_BYTES, CLI_COL_NO_TEXT);
	cli_table_col(t, "heap_released", "HeapReleased", CLI_COL_BYTES, CLI_COL_NO_TEXT);
	cli_table_col(t, "heap_sys", "HeapSys", CLI_COL_BYTES, 0);
	cli_table_col(t, "bar", "HeapAlloc (#) and HeapInuse (+) of the largest HeapSys", CLI_COL_TEXT, CLI_COL_NO_DATA);
	int64_t max = 0, top = -1;
	for (int i = 0; i < d->nsamples; i++) {
		if (d->samples[i].fig[F_SYS] > max)
			max = d->samples[i].fig[F_SYS];
		if (top < 0 || d->samples[i].fig[F_ALLOC] > d->samples[top].fig[F_ALLOC])
			top = i;
	}
	t->text_keep_row = (int)top; /* text always shows the sample with the highest HeapAlloc */
	for (int i = 0; i < d->nsamples; i++) {
		const cli_rd_sample *s = &d->samples[i];
		cli_table_row(t, NULL);
		cli_table_int(t, s->t_ns);
		for (int f = 0; f < 6; f++)
			cli_table_int(t, s->fig[f]);
		char bar[40];
		int w = 36, a = 0, u = 0;
		if (max > 0) {
			/* clamped as doubles: a damaged file may hold any value */
			double da = (double)s->fig[F_ALLOC] / (double)max * w + 0.5;
			double du = (double)s->fig[F_INUSE] / (double)max * w + 0.5;
			a = da < 0 ? 0 : da > w ? w : (int)da;
			u = du < a ? a : du > w ? w : (int)du;
		}
		memset(bar, '#', (size_t)a);
		memset(bar + a, '+', (size_t)(u - a));
		bar[u] = 0;
		cli_table_text(t, bar);
	}
	if (!d->nsamples)
		cli_table_note(t, "No samples.");
}

static void section_sites(cli_doc *doc, const cli_rd_data *d)
{
	if (!d->nsites)
		return;
	cli_table *t = cli_doc_table(doc, "sites", "Allocation sites with the most size-class waste (top 10)");
	cli_table_col(t, "stack_id", "stack", CLI_COL_INT, 0);
	cli_table_col(t, "allocs", "allocs", CLI_COL_INT, 0);
	cli_table_col(t, "requested_bytes", "requested", CLI_COL_BYTES, CLI_COL_NO_TEXT);
	cli_table_col(t, "allocated_bytes", "allocated", CLI_COL_BYTES, 0);
	cli_table_col(t, "waste_bytes", "waste", CLI_COL_BYTES, 0);
	cli_table_col(t, "live_bytes_at_end", "live at end", CLI_COL_BYTES, CLI_COL_NO_TEXT);
	cli_table_col(t, "frames", "innermost frames", CLI_COL_TEXT, 0);
	for (int i = 0; i < d->nsites; i++) {
		const cli_rd_site *s = &d->sites[i];
		cli_table_row(t, NULL);
		cli_table_int(t, s->stack_id);
		cli_table_int(t, s->allocs);
		cli_table_int(t, s->requested_bytes);
		cli_table_int(t, s->allocated_bytes);
		cli_table_int(t, s->waste_bytes);
		cli_table_int(t, s->live_bytes);
		/* the first three frames, joined */
		char buf[512] = "";
		const char *p = s->frames ? s->frames : "";
		for (int k = 0; k < 3 && *p; k++) {
			size_t len = strcspn(p, "\n");
			size_t have = strlen(buf);
			snprintf(buf + have, sizeof buf - have, "%s%.*s", k ? " < " : "", (int)len, p);
			p += len;
			if (*p == '\n')
				p++;
		}
		cli_table_text(t, s->frames ? buf : "?");
	}
	cli_table_note(t, "waste: allocated - requested over the run; frames: innermost first ('a < b': a "
	                  "called from b).");
}

static void section_kernel(cli_doc *doc, const cli_rd_data *d)
{
	if (!d->has_kernel)
		return;
	cli_table *t = cli_doc_record(doc, "kernel", "The kernel's view (eBPF)");
	int64_t efig[6], te;
	bool ex = exit_figures(d, efig, &te);
	int64_t inuse_peak = d->run.peak[F_INUSE], inuse_exit = ex ? efig[F_INUSE] : 0;
	cli_record_int(t, "rss_at_peak_bytes", "RSS at peak", CLI_COL_BYTES, d->kernel_peak.rss_bytes);
	cli_record_int(t, "rss_minus_heap_inuse_at_peak_bytes", "RSS - HeapInuse at peak", CLI_COL_BYTES,
	               d->kernel_peak.rss_bytes - inuse_peak);
	cli_record_int(t, "rss_at_exit_bytes", "RSS at exit", CLI_COL_BYTES, d->kernel_exit.rss_bytes);
	cli_record_int(t, "rss_minus_heap_inuse_at_exit_bytes", "RSS - HeapInuse at exit", CLI_COL_BYTES,
	               d->kernel_exit.rss_bytes - inuse_exit);
	int64_t allocated = 0;
	for (int c = 0; c < CLI_RD_CLASSES; c++)
		allocated += d->cls[c].allocated_bytes;
	cli_record_int(t, "page_faults", "user page faults", CLI_COL_INT, d->kernel_exit.page_faults);
	cli_record_int(t, "allocated_bytes", "bytes allocated", CLI_COL_BYTES, allocated);
	cli_record_real(t, "page_faults_per_mib", "page faults per MiB allocated", CLI_COL_REAL,
	                allocated ? (double)d->kernel_exit.page_faults / ((double)allocated / 1048576.0) : NAN);
	cli_table_note(t, "RSS at a time: summed over the processes alive then, each its latest kernel sample "
	                  "(or its first, if it started since); at exit, the program run started. The gap to "
	                  "HeapInuse is memory the program holds outside the Go-style heap (code, stacks, other "
	                  "mappings, and up to 2.5 MiB of the trace's shared ring for each thread being traced), "
	                  "less heap pages not yet touched. Page faults: the processes' user page faults at "
	                  "exit; bytes allocated: every allocation at class size, over the run.");
}

cli_doc *cli_report_doc(const char *file, const cli_rd_data *d)
{
	cli_doc *doc = cli_doc_new("report");
	section_run(doc, file, d);
	section_heap(doc, d);
	section_classes(doc, d);
	section_tiny(doc, d);
	section_other_mode(doc, d);
	section_timeline(doc, d);
	section_sites(doc, d);
	section_kernel(doc, d);
	return doc;
}

/* ---- compare --------------------------------------------------------------------- */

/* Requests of the run: objects of every class. */
static int64_t run_requests(const cli_rd_data *d)
{
	int64_t n = 0;
	for (int c = 0; c < CLI_RD_CLASSES; c++)
		n += d->cls[c].allocs;
	return n;
}

static int64_t run_allocated(const cli_rd_data *d)
{
	int64_t n = 0;
	for (int c = 0; c < CLI_RD_CLASSES; c++)
		n += d->cls[c].allocated_bytes;
	return n;
}

static double class_waste_pct(const cli_rd_class *k)
{
	return k->allocated_bytes ? 100.0 * (double)(k->allocated_bytes - k->requested_bytes) / (double)k->allocated_bytes
	                          : NAN;
}

typedef struct spread_row {
	int cls;
	double lo, hi, share, score;
} spread_row;

static int by_score(const void *a, const void *b)
{
	const spread_row *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->cls - y->cls;
}

cli_doc *cli_compare_doc(int n, const char *const *files, const cli_rd_data *d)
{
	cli_doc *doc = cli_doc_new("compare");
	cli_table *t = cli_doc_table(doc, "runs", "goalloc-trace compare: the runs");
	t->text_key_cols = 1;
	cli_table_col(t, "run", "#", CLI_COL_INT, 0);
	cli_table_col(t, "file", "file", CLI_COL_TEXT, 0);
	cli_table_col(t, "run_id", "run", CLI_COL_INT, 0);
	cli_table_col(t, "name", "name", CLI_COL_TEXT, 0);
	cli_table_col(t, "mode", "mode", CLI_COL_TEXT, 0);
	cli_table_col(t, "events", "events", CLI_COL_INT, 0);
	cli_table_col(t, "requests", "requests", CLI_COL_INT, 0);
	cli_table_col(t, "allocated_bytes", "allocated", CLI_COL_BYTES, 0);
	cli_table_col(t, "command", "command", CLI_COL_TEXT, 0);
	char (*label)[48] = calloc((size_t)n, sizeof *label);
	if (!label)
		abort();
	for (int i = 0; i < n; i++) {
		cli_table_row(t, NULL);
		cli_table_int(t, i + 1);
		cli_table_text(t, files[i]);
		cli_table_int(t, d[i].run.run_id);
		cli_table_text(t, d[i].run.name);
		cli_table_text(t, d[i].run.mode);
		cli_table_int(t, d[i].run.events);
		cli_table_int(t, run_requests(&d[i]));
		cli_table_int(t, run_allocated(&d[i]));
		cli_table_text(t, d[i].run.command);
		snprintf(label[i], sizeof label[i], "#%d %s", i + 1, d[i].run.name);
	}
	/* totals: the heap at each run's peak */
	t = cli_doc_table(doc, "totals", "The heap at each run's peak (% of that run's HeapSys)");
	t->keyed = true;
	t->text_key_cols = 1;
	cli_table_col(t, "figure", "", CLI_COL_TEXT, CLI_COL_NO_DATA);
	for (int i = 0; i < n; i++) {
		cli_table_group_col(t, i + 1, "bytes", "bytes", CLI_COL_BYTES);
		cli_table_group_col(t, i + 1, "pct_of_heap_sys", "%", CLI_COL_PCT);
		cli_table_group_label(t, i + 1, label[i]);
	}
	for (int r = 0; r < HEAP_ROWS; r++) {
		cli_table_row(t, heap_rows[r].key);
		cli_table_text(t, heap_rows[r].label);
		for (int i = 0; i < n; i++) {
			int64_t v[HEAP_ROWS];
			heap_values(d[i].run.peak, v);
			if (!peak_known(&d[i])) {
				cli_table_null(t);
				cli_table_null(t);
				continue;
			}
			cli_table_int(t, v[r]);
			cli_table_pct(t, (double)v[r], (double)v[5]);
		}
	}
	/* per class: share of requests and waste */
	t = cli_doc_table(doc, "classes", "Per size class: each run's share of its requests, and the class's size-class waste");
	t->text_key_cols = 2;
	cli_table_col(t, "class", "class", CLI_COL_INT, 0);
	cli_table_col(t, "size", "size", CLI_COL_INT, 0);
	for (int i = 0; i < n; i++) {
		cli_table_group_col(t, i + 1, "requests", "requests", CLI_COL_INT);
		cli_table_group_col(t, i + 1, "requests_share_pct", "share", CLI_COL_PCT);
		cli_table_group_col(t, i + 1, "waste_pct", "waste", CLI_COL_PCT);
		cli_table_group_label(t, i + 1, label[i]);
	}
	spread_row sp[CLI_RD_CLASSES];
	int nsp = 0;
	for (int c = 0; c < CLI_RD_CLASSES; c++) {
		bool used = false;
		for (int i = 0; i < n; i++)
			used |= d[i].cls[c].allocs > 0;
		if (!used)
			continue;
		cli_table_row(t, NULL);
		cli_table_int(t, c);
		if (c)
			cli_table_int(t, (int64_t)ga_class_size((unsigned)c));
		else
			cli_table_null(t);
		spread_row s = {.cls = c, .lo = INFINITY, .hi = -INFINITY};
		int users = 0;
		for (int i = 0; i < n; i++) {
			const cli_rd_class *k = &d[i].cls[c];
			cli_table_int(t, k->allocs);
			cli_table_pct(t, (double)k->allocs, (double)run_requests(&d[i]));
			if (k->allocs) {
				double w = class_waste_pct(k);
				cli_table_real(t, w);
				if (!isnan(w)) {
					users++;
					s.lo = w < s.lo ? w : s.lo;
					s.hi = w > s.hi ? w : s.hi;
					int64_t all = run_allocated(&d[i]);
					double share = all ? (double)k->allocated_bytes / (double)all : 0;
					s.share = share > s.share ? share : s.share;
				}
			} else {
				cli_table_null(t);
			}
		}
		if (users >= 2) {
			s.score = (s.hi - s.lo) * s.share;
			if (s.score > 0)
				sp[nsp++] = s;
		}
	}
	cli_table_note(t, "share: the class's requests / all the run's requests; waste: (allocated - requested) "
	                  "/ allocated; '-': the run never used the class.");
	/* the classes whose waste differs most */
	qsort(sp, (size_t)nsp, sizeof *sp, by_score);
	t = cli_doc_table(doc, "differ_most", "The classes whose waste differs most across the runs (top 10)");
	cli_table_col(t, "class", "class", CLI_COL_INT, 0);
	cli_table_col(t, "size", "size", CLI_COL_INT, 0);
	cli_table_col(t, "waste_min_pct", "least waste", CLI_COL_PCT, 0);
	cli_table_col(t, "waste_max_pct", "most waste", CLI_COL_PCT, 0);
	cli_table_col(t, "spread_points", "spread (points)", CLI_COL_REAL, 0);
	cli_table_col(t, "bytes_share_pct", "bytes share", CLI_COL_PCT, 0);
	cli_table_col(t, "score", "score", CLI_COL_REAL, 0);
	for (int i = 0; i < nsp && i < 10; i++) {
		cli_table_row(t, NULL);
		cli_table_int(t, sp[i].cls);
		if (sp[i].cls)
			cli_table_int(t, (int64_t)ga_class_size((unsigned)sp[i].cls));
		else
			cli_table_null(t);
		cli_table_real(t, sp[i].lo);
		cli_table_real(t, sp[i].hi);
		cli_table_real(t, sp[i].hi - sp[i].lo);
		cli_table_real(t, 100.0 * sp[i].share);
		cli_table_real(t, sp[i].score);
	}
	cli_table_note(t, "Rule: among the runs that used the class, spread = most - least waste %% (percentage "
	                  "points); weight = the largest share of a run's allocated bytes the class holds; score "
	                  "= spread x weight. Classes used by fewer than two runs are left out.");
	if (!nsp)
		cli_table_note(t, "No class is used by two runs with different waste.");
	free(label);
	return doc;
}
