/* sites.c: allocation sites in the drainer (see sites.h).
 *
 * Names: the target numbers its stacks per process (a fork child inherits
 * its parent's numbers); here each (proc, stack) pair gets a run-wide ref
 * when first seen, and counters are kept per (ref, class).  Definitions
 * and modules may arrive after the records that name them (another thread
 * defined the stack), so nothing is resolved until the end: then each ref
 * finds its frames in its process or, failing that, in the process it was
 * forked from, and so on up; the same for the module of each frame.
 * Refs whose symbolized frames are equal become one stack_id.
 *
 * Estimates: with sampling, an allocation of n bytes that carries a stack
 * stands for w(n) = 1 / (1 - exp(-n / rate)) allocations (the probability
 * that the target's sampler picks it is 1 / w(n)); counters are sums of w.
 * Its free subtracts the same w(n), so live figures stay unbiased too.
 *
 * Symbolizing can take a while (a library's compressed DWARF is inflated on
 * first use: ~60 ms for libc's debug file), so it starts while the program
 * runs: each stack, once its definition is complete, queues its frames to a
 * worker thread that owns the symbolizer and fills its cache.  At the end
 * the worker is joined and the symbolizer is the main thread's; frames the
 * worker did not see (a module that arrived late) are looked up then.  The
 * worker touches nothing but the queue (under its mutex) and the symbolizer.
 */
#define _GNU_SOURCE
#include "sites.h"

#include "frame_name.h"
#include "symbolize.h"
#include "u64map.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct stackdef {
	uint32_t n, chunks; /* frames; chunks received */
	uint64_t pcs[];
} stackdef;

typedef struct module {
	uint32_t proc, num;
	uint64_t lo, hi, bias;
	char path[1024];
} module;

typedef struct refkey {
	uint32_t proc, stack;
	uint32_t acc_ix[2]; /* a cache of acc_of for two classes: index into accs + 1, 0 = empty */
	uint8_t acc_cls[2];
} refkey;

/* A proc's stack ids are small and dense (the target counts them from 1):
 * refs by id in an array; larger ids in the hash map. */
enum { DIRECT_IDS = 1 << 22 };
typedef struct directv {
	uint32_t *ref; /* by stack id: ref, 0 = not looked up yet */
	uint32_t cap;
} directv;

typedef struct acc {
	uint32_t ref;
	uint8_t cls;
	double allocs, req, alloc, live_objs, live_bytes, live_req;
	int64_t samples;
} acc;

U64MAP_DEFINE(defmap, stackdef *) /* proc << 32 | stack -> definition */
U64MAP_DEFINE(refmap, uint32_t)   /* proc << 32 | stack -> ref, for stack ids >= DIRECT_IDS */
U64MAP_DEFINE(accmap, uint32_t)   /* (ref << 8 | cls) + 1 -> index into accs + 1 */
U64MAP_DEFINE(textmap, uint32_t)  /* hash of frames text -> canonical entry + 1 */
U64MAP_DEFINE(seenmap, bool)      /* (module index, address) queued to the worker */

typedef struct symreq {
	char *path;
	uint64_t rel;
} symreq;

/* The symbolizing thread and its queue. */
typedef struct worker {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	symreq *q;
	size_t head, n, cap;
	bool started, done;
	cli_symbolizer *z;
} worker;

struct cli_sites {
	uint32_t mode;
	double rate;
	defmap defs;
	refmap refs;
	accmap accmap;
	refkey *refv;            /* by ref - 1 */
	uint32_t nrefs, cap_refs;
	acc *accs;
	uint32_t naccs, cap_accs;
	module *mods;
	uint32_t nmods, cap_mods;
	uint32_t *parent;     /* by proc: the proc it was forked from, 0 if none */
	uint32_t cap_parent;
	directv *direct;      /* refs by proc, then stack id (ids under DIRECT_IDS) */
	uint32_t cap_direct;
	worker w;
	seenmap seen;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

/* An array indexed by a small number, grown to hold index i (to n, new
 * entries zero): the new array. */
static void *grow_zeroed(void *p, uint32_t *cap, uint32_t i, uint32_t n, size_t elem)
{
	if (i < *cap)
		return p;
	p = xrealloc(p, (size_t)n * elem);
	memset((char *)p + (size_t)*cap * elem, 0, (size_t)(n - *cap) * elem);
	*cap = n;
	return p;
}

cli_sites *cli_sites_new(uint32_t mode, uint64_t rate, bool debug_files)
{
	cli_sites *s = calloc(1, sizeof *s);
	if (!s || !defmap_init(&s->defs, 64) || !refmap_init(&s->refs, 64) || !accmap_init(&s->accmap, 64) ||
	    !seenmap_init(&s->seen, 64))
		abort();
	s->w.z = cli_sym_new(debug_files);
	pthread_mutex_init(&s->w.mu, NULL);
	pthread_cond_init(&s->w.cv, NULL);
	s->mode = mode;
	s->rate = rate ? (double)rate : 512.0 * 1024;
	return s;
}

static void worker_stop(worker *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	w->started = false;
	for (size_t i = w->head; i < w->n; i++)
		free(w->q[i].path);
	w->head = w->n = 0;
}

void cli_sites_free(cli_sites *s)
{
	if (!s)
		return;
	worker_stop(&s->w);
	free(s->w.q);
	cli_sym_free(s->w.z);
	pthread_mutex_destroy(&s->w.mu);
	pthread_cond_destroy(&s->w.cv);
	seenmap_destroy(&s->seen);
	for (uint64_t i = 0; i <= s->defs.mask; i++)
		if (s->defs.slots[i].key)
			free(s->defs.slots[i].val);
	defmap_destroy(&s->defs);
	refmap_destroy(&s->refs);
	accmap_destroy(&s->accmap);
	free(s->refv);
	for (uint32_t i = 0; i < s->cap_direct; i++)
		free(s->direct[i].ref);
	free(s->direct);
	free(s->accs);
	free(s->mods);
	free(s->parent);
	free(s);
}

static inline uint64_t key_of(uint32_t proc, uint32_t stack)
{
	return ((uint64_t)proc << 32) | stack;
}

static uint32_t parent_of(const cli_sites *s, uint32_t proc)
{
	return proc < s->cap_parent ? s->parent[proc] : 0;
}

static void module_text(cli_sites *s, uint32_t proc, const gt_record *r)
{
	for (uint32_t i = s->nmods; i-- > 0;) {
		module *m = &s->mods[i];
		if (m->proc == proc && m->num == r->stack) {
			size_t off = (size_t)r->flags * GT_TEXT_CHUNK;
			gt_record tmp = *r;
			if (off + GT_TEXT_CHUNK < sizeof m->path) {
				memcpy(m->path + off, gt_record_text(&tmp), GT_TEXT_CHUNK);
				m->path[off + GT_TEXT_CHUNK] = 0;
			}
			return;
		}
	}
}

static uint32_t module_ix(cli_sites *s, uint32_t proc, uint64_t pc);

static void *worker_main(void *arg)
{
	worker *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->head == w->n && !w->done)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->head == w->n) {
			pthread_mutex_unlock(&w->mu);
			return NULL;
		}
		symreq q = w->q[w->head++];
		pthread_mutex_unlock(&w->mu);
		cli_sym sym;
		cli_sym_lookup(w->z, q.path, q.rel, &sym);
		free(q.path);
	}
}

/* A complete stack: its frames, where the module is known, to the worker. */
static void queue_frames(cli_sites *s, uint32_t proc, const stackdef *d)
{
	worker *w = &s->w;
	for (uint32_t i = 0; i < d->n; i++) {
		uint32_t m = module_ix(s, proc, d->pcs[i]);
		if (m == UINT32_MAX)
			continue;
		uint64_t off = d->pcs[i] - s->mods[m].bias, rel = off ? off - 1 : 0;
		bool isnew;
		seenmap_put(&s->seen, (((uint64_t)m << 44) ^ rel) + 1, &isnew);
		if (!isnew)
			continue;
		char *path = strdup(s->mods[m].path);
		if (!path)
			abort();
		pthread_mutex_lock(&w->mu);
		if (w->head == w->n)
			w->head = w->n = 0;
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 256;
			w->q = xrealloc(w->q, w->cap * sizeof *w->q);
		}
		w->q[w->n++] = (symreq){path, rel};
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
		if (!w->started)
			w->started = pthread_create(&w->th, NULL, worker_main, w) == 0;
	}
}

void cli_sites_record(cli_sites *s, uint32_t proc, const gt_record *r)
{
	if (r->kind == GT_EV_MODULE) {
		if (s->nmods == s->cap_mods) {
			s->cap_mods = s->cap_mods ? s->cap_mods * 2 : 64;
			s->mods = xrealloc(s->mods, s->cap_mods * sizeof *s->mods);
		}
		module *m = &s->mods[s->nmods++];
		memset(m, 0, sizeof *m);
		*m = (module){.proc = proc, .num = r->stack, .lo = r->addr, .hi = r->addr + r->size,
		              .bias = (uint64_t)r->span << 32 | r->aux};
		return;
	}
	if (r->kind == GT_EV_MODPATH) {
		module_text(s, proc, r);
		return;
	}
	if (r->kind != GT_EV_STACK || !r->stack)
		return;
	uint32_t n = r->cls;
	bool isnew;
	stackdef **d = defmap_put(&s->defs, key_of(proc, r->stack), &isnew);
	if (isnew) {
		*d = calloc(1, sizeof **d + n * sizeof(uint64_t));
		if (!*d)
			abort();
		(*d)->n = n;
	}
	for (unsigned k = 0; k < GT_STACK_CHUNK; k++) {
		uint32_t i = (uint32_t)r->flags * GT_STACK_CHUNK + k;
		if (i < (*d)->n)
			(*d)->pcs[i] = gt_stack_get(r, k);
	}
	if (++(*d)->chunks == ((*d)->n + GT_STACK_CHUNK - 1) / GT_STACK_CHUNK)
		queue_frames(s, proc, *d);
}

/* The slot of (proc, stack)'s ref: an array entry for the usual small
 * ids, a hash map entry for the rest; 0 in it until the ref is made. */
static uint32_t *ref_slot(cli_sites *s, uint32_t proc, uint32_t stack)
{
	if (stack >= DIRECT_IDS) {
		bool isnew;
		return refmap_put(&s->refs, key_of(proc, stack), &isnew);
	}
	s->direct = grow_zeroed(s->direct, &s->cap_direct, proc, proc * 2 + 8, sizeof *s->direct);
	directv *d = &s->direct[proc];
	if (stack >= d->cap) {
		uint32_t n = d->cap ? d->cap : 1024;
		while (n <= stack)
			n *= 2;
		d->ref = grow_zeroed(d->ref, &d->cap, stack, n, sizeof *d->ref);
	}
	return &d->ref[stack];
}

uint32_t cli_sites_ref(cli_sites *s, uint32_t proc, uint32_t stack)
{
	uint32_t *v = ref_slot(s, proc, stack);
	if (!*v) {
		if (s->nrefs == s->cap_refs) {
			s->cap_refs = s->cap_refs ? s->cap_refs * 2 : 256;
			s->refv = xrealloc(s->refv, s->cap_refs * sizeof *s->refv);
		}
		s->refv[s->nrefs] = (refkey){.proc = proc, .stack = stack};
		*v = ++s->nrefs;
	}
	return *v;
}

static acc *acc_of(cli_sites *s, uint32_t ref, int cls)
{
	refkey *k = &s->refv[ref - 1];
	for (int i = 0; i < 2; i++)
		if (k->acc_ix[i] && k->acc_cls[i] == (uint8_t)cls)
			return &s->accs[k->acc_ix[i] - 1];
	bool isnew;
	uint32_t *ix = accmap_put(&s->accmap, ((uint64_t)ref << 8 | (uint8_t)cls) + 1, &isnew);
	if (isnew) {
		if (s->naccs == s->cap_accs) {
			s->cap_accs = s->cap_accs ? s->cap_accs * 2 : 256;
			s->accs = xrealloc(s->accs, s->cap_accs * sizeof *s->accs);
		}
		s->accs[s->naccs] = (acc){.ref = ref, .cls = (uint8_t)cls};
		*ix = ++s->naccs;
	}
	int slot = !k->acc_ix[0] ? 0 : 1; /* the first class seen stays; the second slot takes turns */
	k->acc_ix[slot] = *ix;
	k->acc_cls[slot] = (uint8_t)cls;
	return &s->accs[*ix - 1];
}

static inline double weight(const cli_sites *s, uint64_t req)
{
	if (s->mode != GT_STACKS_SAMPLE)
		return 1;
	double n = req ? (double)req : 1;
	return 1 / -expm1(-n / s->rate);
}

void cli_sites_on_alloc(cli_sites *s, uint32_t proc, uint32_t stack, int cls, uint64_t req, uint64_t alloc)
{
	acc *a = acc_of(s, cli_sites_ref(s, proc, stack), cls);
	double w = weight(s, req);
	a->samples++;
	a->allocs += w;
	a->req += w * (double)req;
	a->alloc += w * (double)alloc;
	a->live_objs += w;
	a->live_bytes += w * (double)alloc;
	a->live_req += w * (double)req;
}

void cli_sites_on_free(cli_sites *s, uint32_t proc, uint32_t stack, int cls, uint64_t req, uint64_t alloc)
{
	acc *a = acc_of(s, cli_sites_ref(s, proc, stack), cls);
	double w = weight(s, req);
	a->live_objs -= w;
	a->live_bytes -= w * (double)alloc;
	a->live_req -= w * (double)req;
}

void cli_sites_fork(cli_sites *s, uint32_t parent, uint32_t child)
{
	s->parent = grow_zeroed(s->parent, &s->cap_parent, child, child * 2 + 16, sizeof *s->parent);
	s->parent[child] = parent;
	/* The child's copies of its parent's live objects stay the parent's:
	 * a site's objects live at exit are those the process that allocated
	 * them never freed, and whether the parent's are is settled by the
	 * parent.  Counted in each child too, a parent with N children that
	 * exit showed its live objects N + 1 times (agg.c marks the copies,
	 * and their frees in the child do not come here). */
}

/* ---- the end: symbolize and write ----------------------------------------- */

static const stackdef *def_of(cli_sites *s, uint32_t proc, uint32_t stack)
{
	for (int hops = 0; proc && hops < 1000; hops++, proc = parent_of(s, proc)) {
		stackdef **d = defmap_get(&s->defs, key_of(proc, stack));
		if (d)
			return *d;
	}
	return NULL;
}

static uint32_t module_ix(cli_sites *s, uint32_t proc, uint64_t pc)
{
	for (int hops = 0; proc && hops < 1000; hops++, proc = parent_of(s, proc))
		for (uint32_t i = s->nmods; i-- > 0;) {
			const module *m = &s->mods[i];
			if (m->proc == proc && pc >= m->lo && pc < m->hi && m->path[0])
				return i;
		}
	return UINT32_MAX;
}

static const module *module_of(cli_sites *s, uint32_t proc, uint64_t pc)
{
	uint32_t i = module_ix(s, proc, pc);
	return i == UINT32_MAX ? NULL : &s->mods[i];
}

typedef struct frame {
	uint64_t pc, offset;
	const char *module, *function, *file; /* owned by mods and the symbolizer */
	int line;
	char *text;   /* as the sites view shows it */
	bool written; /* its frame row is in the database */
} frame;

/* A frame as the sites view shows it: its name, then where it is. */
static void frame_text(char *buf, size_t n, const frame *f)
{
	if (f->function && f->file)
		snprintf(buf, n, "%s (%s:%d)", f->function, f->file, f->line);
	else if (f->function && f->module)
		snprintf(buf, n, "%s (%s)", f->function, cli_base_name(f->module));
	else
		cli_frame_name(buf, n, f->function, f->module, f->offset, f->pc);
}

typedef struct canon {
	char *text;
} canon;

static uint64_t text_hash(const char *t, uint64_t h)
{
	for (; *t; t++)
		h = (h ^ (uint8_t)*t) * 1099511628211ull;
	return h ? h : 1;
}

#define FNV0 1469598103934665603ull
#define PROBE(k) ((k) + 0x9E3779B97F4A7C15ull ? (k) + 0x9E3779B97F4A7C15ull : 1)

typedef struct pcent {
	uint32_t proc, fid;
	uint64_t pc;
} pcent;
U64MAP_DEFINE(pcmap, pcent) /* hash of (proc, pc) -> its frame; probed on from the hash */

/* The run's distinct frames: by (proc, pc) as stacks name them, and by
 * (pc, module, offset) so that processes sharing a layout share frames. */
typedef struct frames {
	frame *v;          /* by frame_id - 1 */
	uint32_t n, cap;
	pcmap bypc;
	textmap byloc;     /* hash of (pc, module, offset) -> frame_id; probed on */
} frames;

static uint32_t frame_of(cli_sites *s, cli_symbolizer *z, frames *fx, uint32_t proc, uint64_t pc)
{
	uint64_t k = u64map_hash(pc ^ u64map_hash(proc + 1));
	for (k = k ? k : 1;; k = PROBE(k)) {
		pcent *e = pcmap_get(&fx->bypc, k);
		if (!e)
			break;
		if (e->proc == proc && e->pc == pc)
			return e->fid;
	}
	frame f = {.pc = pc};
	const module *m = module_of(s, proc, pc);
	if (m) {
		f.module = m->path;
		f.offset = pc - m->bias;
		cli_sym sym;
		/* a return address: the call is the byte before it */
		cli_sym_lookup(z, m->path, f.offset ? f.offset - 1 : 0, &sym);
		f.function = sym.function;
		f.file = sym.file;
		f.line = sym.line;
	}
	uint64_t lk = text_hash(f.module ? f.module : "", u64map_hash(pc) ^ u64map_hash(f.offset + 1));
	uint32_t fid = 0;
	for (;; lk = PROBE(lk)) {
		uint32_t *id = textmap_get(&fx->byloc, lk);
		if (!id)
			break;
		const frame *g = &fx->v[*id - 1];
		bool same_module = g->module == f.module || (g->module && f.module && !strcmp(g->module, f.module));
		if (g->pc == pc && g->offset == f.offset && same_module) {
			fid = *id;
			break;
		}
	}
	if (!fid) {
		char line[1536];
		frame_text(line, sizeof line, &f);
		if (!(f.text = strdup(line)))
			abort();
		if (fx->n == fx->cap) {
			fx->cap = fx->cap ? fx->cap * 2 : 1024;
			fx->v = xrealloc(fx->v, fx->cap * sizeof *fx->v);
		}
		fx->v[fx->n] = f;
		fid = ++fx->n;
		bool isnew;
		*textmap_put(&fx->byloc, lk, &isnew) = fid;
	}
	bool isnew;
	*pcmap_put(&fx->bypc, k, &isnew) = (pcent){proc, fid, pc};
	return fid;
}

/* The frames of ref r, as frame ids, into fids (at most GT_STACK_DEPTH_MAX). */
static uint32_t resolve(cli_sites *s, cli_symbolizer *z, frames *fx, uint32_t r, uint32_t *fids)
{
	const refkey *rf = &s->refv[r - 1];
	const stackdef *d = def_of(s, rf->proc, rf->stack);
	if (!d)
		return 0;
	uint32_t n = d->n < GT_STACK_DEPTH_MAX ? d->n : GT_STACK_DEPTH_MAX;
	for (uint32_t i = 0; i < n; i++)
		fids[i] = frame_of(s, z, fx, rf->proc, d->pcs[i]);
	return n;
}

/* Into the database: the frames of a new stack not written yet, then the
 * stack itself, with its frames as a JSON array of ids. */
static int write_stack(cli_db *db, int64_t run_id, uint32_t id, const char *text, frames *fx, const uint32_t *fids,
                       uint32_t n, char **json, size_t *cap)
{
	size_t need = (size_t)n * 11 + 3, len = 0;
	if (need > *cap) {
		*cap = need * 2;
		*json = xrealloc(*json, *cap);
	}
	(*json)[len++] = '[';
	for (uint32_t i = 0; i < n; i++) {
		frame *f = &fx->v[fids[i] - 1];
		if (!f->written) {
			if (cli_db_frame(db, run_id, fids[i], f->pc, f->module, f->module ? (int64_t)f->offset : -1, f->function,
			                 f->file, f->line, f->text) != 0)
				return -1;
			f->written = true;
		}
		len += (size_t)sprintf(*json + len, "%s%u", i ? "," : "", fids[i]);
	}
	(*json)[len++] = ']';
	(*json)[len] = 0;
	/* the text is the frames' (the sites view joins them), but for the
	 * note of a stack without frames */
	return cli_db_stack(db, run_id, id, n ? "" : text, *json);
}

int cli_sites_write(cli_sites *s, cli_db *db, int64_t run_id, bool progress)
{
	if (!s->nrefs)
		return 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	worker_stop(&s->w); /* its symbolizer, with what it has looked up, is ours now */
	cli_symbolizer *z = s->w.z;
	uint32_t *stack_of = calloc(s->nrefs + 1, sizeof *stack_of); /* ref -> stack_id */
	canon *canons = calloc(s->nrefs, sizeof *canons);
	uint32_t *fids = malloc(GT_STACK_DEPTH_MAX * sizeof *fids);
	size_t cap_text = 65536, cap_json = 0;
	char *text = malloc(cap_text), *json = NULL;
	frames fx = {0};
	textmap tm;
	if (!stack_of || !canons || !fids || !text || !textmap_init(&tm, 64) || !pcmap_init(&fx.bypc, 1024) ||
	    !textmap_init(&fx.byloc, 1024))
		abort();
	uint32_t ncanon = 0;
	int rc = 0;
	bool said = false;
	for (uint32_t r = 1; r <= s->nrefs && rc == 0; r++) {
		uint32_t n = resolve(s, z, &fx, r, fids);
		size_t len = 0;
		text[0] = 0;
		for (uint32_t i = 0; i < n; i++) {
			const char *line = fx.v[fids[i] - 1].text;
			size_t l = strlen(line);
			if (len + l + 2 > cap_text) {
				cap_text = (len + l + 2) * 2;
				text = xrealloc(text, cap_text);
			}
			memcpy(text + len, line, l);
			len += l;
			text[len++] = i + 1 < n ? '\n' : 0;
		}
		if (!n)
			snprintf(text, cap_text, "(stack not received)");
		/* Refs whose frames read the same are one stack (the same code in
		 * processes with different layouts): its frames are the first's. */
		uint64_t h = text_hash(text, FNV0);
		uint32_t id = 0;
		for (uint64_t k = h;; k = PROBE(k)) {
			uint32_t *c = textmap_get(&tm, k);
			if (!c)
				break;
			if (!strcmp(canons[*c - 1].text, text)) {
				id = *c;
				break;
			}
		}
		if (!id) {
			canon *c = &canons[ncanon];
			if (!(c->text = strdup(text)))
				abort();
			id = ++ncanon;
			uint64_t k = h;
			bool isnew;
			for (;; k = PROBE(k)) {
				uint32_t *slot = textmap_put(&tm, k, &isnew);
				if (isnew) {
					*slot = id;
					break;
				}
			}
			if (write_stack(db, run_id, id, text, &fx, fids, n, &json, &cap_json) != 0)
				rc = -1;
		}
		stack_of[r] = id;
		if (rc == 0 && cli_db_stack_alias(db, run_id, r, id) != 0)
			rc = -1;
		if (progress && !said && (r & 255) == 0) {
			struct timespec t1;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (t1.tv_sec - t0.tv_sec >= 2) {
				fprintf(stderr, "goalloc-trace: symbolizing %u stacks...\n", s->nrefs);
				said = true;
			}
		}
	}
	/* Counters per (stack_id, class): refs with equal frames add up. */
	accmap merged;
	acc *out = calloc(s->naccs + 1, sizeof *out);
	uint32_t nout = 0;
	if (!out || !accmap_init(&merged, 64))
		abort();
	for (uint32_t i = 0; i < s->naccs; i++) {
		const acc *a = &s->accs[i];
		uint32_t id = stack_of[a->ref];
		bool isnew;
		uint32_t *ix = accmap_put(&merged, ((uint64_t)id << 8 | a->cls) + 1, &isnew);
		if (isnew) {
			out[nout] = (acc){.ref = id, .cls = a->cls};
			*ix = ++nout;
		}
		acc *o = &out[*ix - 1];
		o->allocs += a->allocs;
		o->req += a->req;
		o->alloc += a->alloc;
		o->live_objs += a->live_objs;
		o->live_bytes += a->live_bytes;
		o->live_req += a->live_req;
		o->samples += a->samples;
	}
	bool est = s->mode == GT_STACKS_SAMPLE;
	for (uint32_t i = 0; i < nout && rc == 0; i++) {
		const acc *o = &out[i];
		int64_t v[6] = {llround(o->allocs), llround(o->req), llround(o->alloc), llround(o->live_objs),
		                llround(o->live_bytes), llround(o->live_req)};
		for (int k = 3; k < 6; k++)
			if (v[k] < 0)
				v[k] = 0; /* rounding of estimates */
		if (cli_db_site_stat(db, run_id, o->ref, o->cls, v, o->samples, est) != 0)
			rc = -1;
	}
	accmap_destroy(&merged);
	free(out);
	for (uint32_t i = 0; i < ncanon; i++)
		free(canons[i].text);
	free(canons);
	textmap_destroy(&tm);
	for (uint32_t i = 0; i < fx.n; i++)
		free(fx.v[i].text);
	free(fx.v);
	pcmap_destroy(&fx.bypc);
	textmap_destroy(&fx.byloc);
	free(text);
	free(json);
	free(fids);
	free(stack_of);
	return rc;
}
