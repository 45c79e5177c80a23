/* report_html_data.c: what the HTML page needs beyond the report document,
 * read through db_read.c: every allocation site of a run with all its
 * frames (site_frames, site_stats) for the flame graph, and the kernel's
 * RSS over time (kernel_timeline, when the file has it) for the timeline.
 * Frame names are those of `export --format folded`: the function, else
 * module+0xoffset, else 0xpc; each name is stored once. */
#include "report_html.h"

#include "frame_name.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "u64map.h"

U64MAP_DEFINE(namemap, int)

static void *grow(void *p, int *cap, int want, size_t size)
{
	if (want <= *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	if (*cap < want)
		*cap = want;
	p = realloc(p, (size_t)*cap * size);
	if (!p)
		abort();
	return p;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h ? h : 1; /* 0 is the map's empty key */
}

/* The index of name in x->names, added if new.  Two names with one hash:
 * the second is stored again, unshared (rare, and still correct). */
static int intern(cli_html_extra *x, namemap *m, const char *name)
{
	bool isnew;
	int *slot = namemap_put(m, name_hash(name), &isnew);
	if (!isnew && !strcmp(x->names[*slot], name))
		return *slot;
	x->names = grow(x->names, &x->cap_names, x->nnames + 1, sizeof *x->names);
	x->names[x->nnames] = strdup(name);
	if (!x->names[x->nnames])
		abort();
	if (isnew)
		*slot = x->nnames;
	return x->nnames++;
}

static cli_html_site *find_site(cli_html_extra *x, int64_t sid)
{
	int lo = 0, hi = x->nsites - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		if (x->sites[mid].stack_id == sid)
			return &x->sites[mid];
		if (x->sites[mid].stack_id < sid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

static int load_sites(cli_rd *rd, int64_t run_id, cli_html_extra *x)
{
	bool stats, frames;
	if (cli_rd_has(rd, "site_stats", &stats) != 0 || cli_rd_has(rd, "site_frames", &frames) != 0)
		return -1;
	if (!stats || !frames)
		return 0;
	const int64_t p[] = {run_id};
	cli_rd_rows *q;
	if (cli_rd_query(rd,
	                 "SELECT stack_id, sum(allocs), sum(allocated_bytes), sum(waste_bytes), "
	                 "sum(live_bytes_at_end) FROM site_stats WHERE run_id = ?1 GROUP BY stack_id "
	                 "ORDER BY stack_id",
	                 p, 1, &q) != 0)
		return -1;
	int rc;
	while ((rc = cli_rd_next(q)) == 1) {
		x->sites = grow(x->sites, &x->cap_sites, x->nsites + 1, sizeof *x->sites);
		x->sites[x->nsites++] = (cli_html_site){.stack_id = cli_rd_int(q, 0),
		                                        .allocs = cli_rd_int(q, 1),
		                                        .allocated_bytes = cli_rd_int(q, 2),
		                                        .waste_bytes = cli_rd_int(q, 3),
		                                        .live_bytes = cli_rd_int(q, 4)};
	}
	cli_rd_rows_free(q);
	if (rc < 0)
		return -1;
	if (cli_rd_query(rd,
	                 "SELECT stack_id, depth, pc, module, offset, function FROM site_frames "
	                 "WHERE run_id = ?1 ORDER BY stack_id, depth",
	                 p, 1, &q) != 0)
		return -1;
	namemap names;
	if (!namemap_init(&names, 1024))
		abort();
	cli_html_site *s = NULL;
	int cap = 0;
	while ((rc = cli_rd_next(q)) == 1) {
		int64_t sid = cli_rd_int(q, 0);
		if (!s || s->stack_id != sid) {
			s = find_site(x, sid);
			cap = s ? s->nframes : 0;
		}
		if (!s)
			continue; /* frames of a stack without figures */
		char name[1024];
		cli_frame_name(name, sizeof name, cli_rd_text(q, 5), cli_rd_text(q, 3), (uint64_t)cli_rd_int(q, 4),
		               (uint64_t)cli_rd_int(q, 2));
		s->frames = grow(s->frames, &cap, s->nframes + 1, sizeof *s->frames);
		s->frames[s->nframes++] = intern(x, &names, name);
	}
	namemap_destroy(&names);
	cli_rd_rows_free(q);
	return rc < 0 ? -1 : 0;
}

typedef struct pid_rss {
	int64_t pid, rss;
} pid_rss;

static int load_rss(cli_rd *rd, int64_t run_id, cli_html_extra *x)
{
	bool yes;
	if (cli_rd_has(rd, "kernel_timeline", &yes) != 0)
		return -1;
	if (!yes)
		return 0;
	const int64_t p[] = {run_id};
	cli_rd_rows *q;
	if (cli_rd_query(rd, "SELECT t_ns, pid, rss_bytes FROM kernel_timeline WHERE run_id = ?1 ORDER BY t_ns, pid",
	                 p, 1, &q) != 0)
		return -1;
	/* The sum over pids of each one's latest sample: a running total. */
	pid_rss *pids = NULL;
	int npids = 0, cap = 0, rc;
	int64_t total = 0;
	while ((rc = cli_rd_next(q)) == 1) {
		int64_t t = cli_rd_int(q, 0), pid = cli_rd_int(q, 1), rss = cli_rd_null(q, 2) ? 0 : cli_rd_int(q, 2);
		int k = 0;
		while (k < npids && pids[k].pid != pid)
			k++;
		if (k == npids) {
			pids = grow(pids, &cap, npids + 1, sizeof *pids);
			pids[npids++] = (pid_rss){.pid = pid};
		}
		total += rss - pids[k].rss;
		pids[k].rss = rss;
		if (x->nrss && x->rss[x->nrss - 1].t_ns == t) {
			x->rss[x->nrss - 1].rss_bytes = total;
		} else {
			x->rss = grow(x->rss, &x->cap_rss, x->nrss + 1, sizeof *x->rss);
			x->rss[x->nrss++] = (cli_html_rss){.t_ns = t, .rss_bytes = total};
		}
	}
	free(pids);
	cli_rd_rows_free(q);
	x->has_rss = x->nrss > 0;
	return rc < 0 ? -1 : 0;
}

int cli_html_load(cli_rd *rd, int64_t run_id, cli_html_extra *x)
{
	*x = (cli_html_extra){0};
	snprintf(x->stacks, sizeof x->stacks, "off");
	if (cli_rd_version(rd) >= 2) {
		const int64_t p[] = {run_id};
		cli_rd_rows *q;
		if (cli_rd_query(rd, "SELECT stacks FROM run WHERE run_id = ?1", p, 1, &q) != 0)
			return -1;
		int rc = cli_rd_next(q);
		if (rc == 1 && cli_rd_text(q, 0))
			snprintf(x->stacks, sizeof x->stacks, "%s", cli_rd_text(q, 0));
		cli_rd_rows_free(q);
		if (rc < 0)
			return -1;
	}
	if (load_sites(rd, run_id, x) != 0 || load_rss(rd, run_id, x) != 0) {
		cli_html_extra_free(x);
		return -1;
	}
	return 0;
}

void cli_html_extra_free(cli_html_extra *x)
{
	for (int i = 0; i < x->nnames; i++)
		free(x->names[i]);
	free(x->names);
	for (int i = 0; i < x->nsites; i++)
		free(x->sites[i].frames);
	free(x->sites);
	free(x->rss);
	*x = (cli_html_extra){0};
}
