/* test_agg.c: the drainer's model (cli/agg.c) fed records in the orders the
 * merge of two threads' rings can hand them over, checked through its
 * public figures.
 *
 * The case that matters: within one tick of the coarse clock the merge
 * cannot tell the order of two threads, so a consumer's frees may come
 * after the producer's next allocations at the same addresses, even after
 * the heap gave the span back and made a new span there.  Each free must
 * still meet its own object (by span id), and none may be left unmatched.
 */
#include "agg.h"
#include "check.h"
#include "ga.h"
#include "gt_event.h"

#include <stdlib.h>
#include <string.h>

/* agg.c reports allocations with stacks to the sites model; none here. */
void cli_sites_on_alloc(struct cli_sites *s, uint32_t proc, uint32_t stack, int cls, uint64_t req, uint64_t alloc)
{
	(void)s, (void)proc, (void)stack, (void)cls, (void)req, (void)alloc;
	abort();
}
void cli_sites_on_free(struct cli_sites *s, uint32_t proc, uint32_t stack, int cls, uint64_t req, uint64_t alloc)
{
	(void)s, (void)proc, (void)stack, (void)cls, (void)req, (void)alloc;
	abort();
}

enum { P = 101, C = 102 }; /* producer and consumer thread ids */

static cli_agg *a;
static int64_t t = 1000;

static void ev(int tid, uint8_t kind, uint8_t cls, uint64_t addr, uint64_t size, uint32_t span, uint32_t aux)
{
	gt_record r = {.tsc = 1, .kind = kind, .cls = cls, .addr = addr, .size = size, .span = span, .aux = aux};
	cli_agg_event(a, 1, 4242, tid, &r, t++);
}

/* A class with exactly two objects in a one-page span. */
static unsigned two_per_page(void)
{
	for (unsigned c = 1; c < GA_CLASSES; c++)
		if (ga_class_npages(c) == 1 && ga_class_nelems(c) == 2)
			return c;
	return 0;
}

static void check_balanced(const char *what, unsigned cls, int64_t allocs, int64_t requested)
{
	cli_class_row row;
	cli_agg_class(a, (int)cls, &row);
	CHECK(cli_agg_unmatched(a) == 0, "%s: %lld frees unmatched", what, (long long)cli_agg_unmatched(a));
	CHECK(row.allocs == allocs && row.frees == allocs, "%s: allocs %lld frees %lld, want %lld each", what,
	      (long long)row.allocs, (long long)row.frees, (long long)allocs);
	CHECK(row.requested_bytes == requested, "%s: requested %lld, want %lld", what,
	      (long long)row.requested_bytes, (long long)requested);
	int64_t fig[FIG_N];
	cli_agg_figures(a, fig);
	CHECK(fig[FIG_ALLOC] == 0 && fig[FIG_REQ] == 0, "%s: HeapAlloc %lld requested %lld live at the end",
	      what, (long long)fig[FIG_ALLOC], (long long)fig[FIG_REQ]);
}

/* The order the merge produced on bench-prodcons (seen in a --events
 * database): A1 in span 1; the heap takes span 1 back and makes span 2 at
 * the same page; X and then X2 at the same address in span 2; only then the
 * consumer's frees of A1, X and X2. */
static void reused_span_then_frees(unsigned cls)
{
	uint64_t base = 0xc000068000ull, sz = ga_class_size(cls);
	a = cli_agg_new(0);
	ev(P, GT_EV_SPAN_ALLOC, (uint8_t)cls, base, 1, 1, 0);
	ev(P, GT_EV_REFILL, (uint8_t)cls, base, 1, 1, 2);
	ev(P, GT_EV_ALLOC_SMALL, (uint8_t)cls, base, sz - 100, 1, 0);     /* A1 */
	ev(P, GT_EV_SPAN_FREE, (uint8_t)cls, base, 1, 1, 0);              /* before A1's free */
	ev(P, GT_EV_SPAN_ALLOC, (uint8_t)cls, base, 1, 2, 0);
	ev(P, GT_EV_REFILL, (uint8_t)cls, base, 1, 2, 2);
	ev(P, GT_EV_ALLOC_SMALL, (uint8_t)cls, base, sz - 200, 2, 0);     /* X */
	ev(P, GT_EV_ALLOC_SMALL, (uint8_t)cls, base, sz - 300, 2, 0);     /* X2, X's free still due */
	ev(C, GT_EV_FREE, (uint8_t)cls, base, 0, 1, 0);                   /* A1 */
	ev(C, GT_EV_FREE, (uint8_t)cls, base, 0, 2, 0);                   /* X */
	ev(C, GT_EV_FREE, (uint8_t)cls, base, 0, 2, 0);                   /* X2 */
	check_balanced("reused span", cls, 3, (int64_t)(3 * sz - 600));
	cli_agg_free(a);
}

/* A free that comes before its allocation waits for an allocation in its
 * own span, not for the next one at the same address. */
static void early_free_waits_for_its_span(unsigned cls)
{
	uint64_t base = 0xc000070000ull, sz = ga_class_size(cls);
	a = cli_agg_new(0);
	ev(P, GT_EV_SPAN_ALLOC, (uint8_t)cls, base, 1, 5, 0);
	ev(P, GT_EV_ALLOC_SMALL, (uint8_t)cls, base, sz - 10, 5, 0);      /* B1 */
	ev(C, GT_EV_FREE, (uint8_t)cls, base, 0, 5, 0);                   /* B1 */
	ev(P, GT_EV_SPAN_FREE, (uint8_t)cls, base, 1, 5, 0);
	ev(C, GT_EV_FREE, (uint8_t)cls, base, 0, 7, 0);                   /* B2's free, before B2 */
	ev(P, GT_EV_SPAN_ALLOC, (uint8_t)cls, base, 1, 6, 0);
	ev(P, GT_EV_ALLOC_SMALL, (uint8_t)cls, base, sz - 20, 6, 0);      /* in span 6: not B2 */
	CHECK(cli_agg_unmatched(a) == 1, "the free of span 7's object was applied to span 6's (%lld waiting)",
	      (long long)cli_agg_unmatched(a));
	ev(C, GT_EV_FREE, (uint8_t)cls, base, 0, 6, 0);
	ev(P, GT_EV_SPAN_FREE, (uint8_t)cls, base, 1, 6, 0);
	ev(P, GT_EV_SPAN_ALLOC, (uint8_t)cls, base, 1, 7, 0);
	ev(P, GT_EV_ALLOC_SMALL, (uint8_t)cls, base, sz - 30, 7, 0);      /* B2: its free is applied */
	check_balanced("early free", cls, 3, (int64_t)(3 * sz - 60));
	cli_agg_free(a);
}

/* The live count of requested size `size` (not tiny), from the rows the
 * model reports as changed, kept since the last reset. */
static int64_t req_known[32769];

static int64_t req_live(int size)
{
	const cli_req_row *rows;
	int n = cli_agg_take_request_sizes(a, &rows);
	for (int i = 0; i < n; i++)
		if (!rows[i].tiny && rows[i].size >= 0 && rows[i].size <= 32768)
			req_known[rows[i].size] = rows[i].live;
	return req_known[size];
}

/* A span whose last free never comes (dropped by --lossy): the heap gave it
 * back (SPAN_FREE), or made a new span on its pages, with an object of it
 * still live in the model.  When the process ends, such zombies go with it:
 * no object of theirs stays live per requested size, no span stays in use,
 * and a fork child gets its own copy first. */
static void zombies_end_with_their_process(unsigned cls)
{
	uint64_t base = 0xc000078000ull, sz = ga_class_size(cls);
	a = cli_agg_new(0);
	ev(P, GT_EV_SPAN_ALLOC, (uint8_t)cls, base, 1, 1, 0);
	ev(P, GT_EV_ALLOC_SMALL, (uint8_t)cls, base, sz - 1, 1, 0);                /* freed: record lost */
	ev(P, GT_EV_SPAN_FREE, (uint8_t)cls, base, 1, 1, 0);
	ev(P, GT_EV_SPAN_ALLOC, (uint8_t)cls, base + 8192, 1, 2, 0);
	ev(P, GT_EV_ALLOC_SMALL, (uint8_t)cls, base + 8192, sz - 2, 2, 0);         /* its free lost too */
	ev(P, GT_EV_SPAN_ALLOC, (uint8_t)cls, base + 8192, 1, 3, 0);               /* span 2's SPAN_FREE lost */
	memset(req_known, 0, sizeof req_known);
	CHECK(req_live((int)sz - 1) == 1 && req_live((int)sz - 2) == 1, "before the end: live %lld, %lld",
	      (long long)req_live((int)sz - 1), (long long)req_live((int)sz - 2));
	cli_agg_fork(a, 1, 2, 4343);
	CHECK(req_live((int)sz - 1) == 2, "after the fork: %lld objects of %d B live, want 2",
	      (long long)req_live((int)sz - 1), (int)sz - 1);
	gt_record f = {.tsc = 1, .kind = GT_EV_FREE, .cls = (uint8_t)cls, .addr = base, .span = 1};
	cli_agg_event(a, 2, 4343, 4343, &f, t++); /* the child frees its copy */
	CHECK(cli_agg_unmatched(a) == 0, "the child's free of its copy found no object (%lld waiting)",
	      (long long)cli_agg_unmatched(a));
	cli_agg_proc_end(a, 1, t++);
	cli_agg_proc_end(a, 2, t++);
	int64_t l1 = req_live((int)sz - 1), l2 = req_live((int)sz - 2);
	CHECK(l1 == 0 && l2 == 0, "after the end: %lld objects of %d B and %lld of %d B still live", (long long)l1,
	      (int)sz - 1, (long long)l2, (int)sz - 2);
	cli_class_row row;
	cli_agg_class(a, (int)cls, &row);
	CHECK(row.spans_created == row.spans_released, "spans created %lld, released %lld after the end",
	      (long long)row.spans_created, (long long)row.spans_released);
	const cli_span_row *spans;
	int n = cli_agg_live_spans(a, &spans);
	CHECK(n == 0, "%d spans still in use after every process ended", n);
	cli_agg_free(a);
}

static void pev(uint32_t proc, uint8_t kind, uint8_t cls, uint64_t addr, uint64_t size, uint32_t span)
{
	gt_record r = {.tsc = 1, .kind = kind, .cls = cls, .addr = addr, .size = size, .span = span};
	cli_agg_event(a, proc, (int)(4240 + proc), (int)(4240 + proc), &r, t++);
}

/* Fork children's copies of a span join the live counts per requested size
 * when they first touch them (a free or an allocation there), and a child
 * that never touches its copy, or forks one on untouched, counts its
 * parent's objects until it ends, with no counts taken in between. */
static void fork_copies_count_when_touched(unsigned cls)
{
	uint64_t base = 0xc000090000ull, sz = ga_class_size(cls);
	int s1 = (int)sz - 1, s2 = (int)sz - 2, s3 = (int)sz - 3;
	a = cli_agg_new(0);
	memset(req_known, 0, sizeof req_known);
	pev(1, GT_EV_SPAN_ALLOC, (uint8_t)cls, base, 1, 1);
	pev(1, GT_EV_ALLOC_SMALL, (uint8_t)cls, base, sz - 1, 1);      /* slot 0, live */
	pev(1, GT_EV_ALLOC_SMALL, (uint8_t)cls, base + sz, sz - 2, 1); /* slot 1, freed */
	pev(1, GT_EV_FREE, (uint8_t)cls, base + sz, 0, 1);
	CHECK(req_live(s1) == 1 && req_live(s2) == 0, "before the forks: %lld and %lld live",
	      (long long)req_live(s1), (long long)req_live(s2));
	for (uint32_t child = 2; child <= 5; child++)
		cli_agg_fork(a, 1, child, (int)(4240 + child));
	cli_agg_fork(a, 5, 6, 4246);                              /* from an untouched copy */
	pev(2, GT_EV_FREE, (uint8_t)cls, base, 0, 1);               /* 2 frees its copy of slot 0 */
	pev(3, GT_EV_ALLOC_SMALL, (uint8_t)cls, base + sz, sz - 3, 1); /* 3 allocates in its copy */
	cli_agg_proc_end(a, 4, t++);                                /* 4 never touched its copy */
	pev(6, GT_EV_FREE, (uint8_t)cls, base, 0, 1);               /* 6 frees its copy of 5's copy */
	CHECK(cli_agg_unmatched(a) == 0, "%lld frees of fork copies found no object",
	      (long long)cli_agg_unmatched(a));
	/* live: 1 (the parent) + 0 (2) + 1 (3) + 1 (5) + 0 (6) */
	int64_t l1 = req_live(s1), l3 = req_live(s3);
	CHECK(l1 == 3 && l3 == 1, "with the children: %lld objects of %d B live (want 3), %lld of %d B (want 1)",
	      (long long)l1, s1, (long long)l3, s3);
	for (uint32_t child = 2; child <= 6; child++)
		cli_agg_proc_end(a, child, t++);
	l1 = req_live(s1), l3 = req_live(s3);
	CHECK(l1 == 1 && l3 == 0 && req_live(s2) == 0,
	      "after the children: %lld objects of %d B live (want 1), %lld of %d B (want 0)", (long long)l1, s1,
	      (long long)l3, s3);
	cli_agg_free(a);
}

int main(void)
{
	unsigned cls = two_per_page();
	CHECK(cls != 0, "no class with two objects per one-page span");
	if (cls) {
		reused_span_then_frees(cls);
		early_free_waits_for_its_span(cls);
		zombies_end_with_their_process(cls);
		fork_copies_count_when_touched(cls);
	}
	return check_result("test_agg");
}
