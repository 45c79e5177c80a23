/* symbolize.c: function, file and line of an address in a loaded object,
 * with elfutils' libdwfl.  Each object (by path) is opened once, as an ELF
 * file reported at bias 0, so its addresses are its own virtual addresses.
 * Function names come from the symbol table (the object's own, or its
 * separate debug file's, found the standard way: build-id and
 * .gnu_debuglink under /usr/lib/debug).  Lines come from DWARF in the object
 * itself (a program built with -g); a separate debug file's DWARF is read
 * only when asked (debug_files): Debian's are compressed, and inflating
 * them costs 70 ms (libc6-dbg) to 300 ms (libpython3.11) per run.  Results are cached per (object,
 * address); the strings live until cli_sym_free.  An object that cannot be
 * opened (deleted since the run, say) gives empty results, not errors.
 */
#define _GNU_SOURCE
#include "symbolize.h"

#include "u64map.h"

#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

/* C++ names: libstdc++'s demangler (C linkage). */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

typedef struct symrec {
	uint64_t addr, size;
	const char *name; /* dwfl's string, alive with the Dwfl */
	int rank;         /* which of several names at one address to show */
} symrec;

/* Of aliases at one address, as dwfl_module_addrinfo chooses: global over
 * weak over local, then a default symbol version (name@@V) or none over an
 * old one (name@V). */
static int sym_rank(const GElf_Sym *sym, const char *name)
{
	int bind = GELF_ST_BIND(sym->st_info);
	const char *at = strchr(name, '@');
	return (bind == STB_GLOBAL ? 4 : bind == STB_WEAK ? 2 : 0) + (!at || at[1] == '@');
}

typedef struct object {
	char *path;
	Dwfl *dwfl;      /* NULL if the file could not be read */
	Dwfl_Module *mod;
	bool lines;      /* look lines up (its own DWARF, or debug files allowed) */
	bool syms_read;
	symrec *syms;    /* its functions by address (read once: see find_sym) */
	size_t nsyms;
} object;

typedef struct entry {
	uint64_t rel;
	uint32_t obj;
	cli_sym sym;
} entry;

U64MAP_DEFINE(entmap, uint32_t) /* hash(obj, rel) -> index into ents + 1 (chained by probing) */

struct cli_symbolizer {
	object *objs;
	uint32_t nobjs, cap_objs;
	entry *ents;
	uint32_t nents, cap_ents;
	entmap map;
	char **strs; /* every string handed out */
	size_t nstrs, cap_strs;
	bool debug_files;
};

static char *keep(cli_symbolizer *z, char *s)
{
	if (!s)
		return NULL;
	if (z->nstrs == z->cap_strs) {
		z->cap_strs = z->cap_strs ? z->cap_strs * 2 : 256;
		z->strs = realloc(z->strs, z->cap_strs * sizeof *z->strs);
		if (!z->strs)
			abort();
	}
	z->strs[z->nstrs++] = s;
	return s;
}

cli_symbolizer *cli_sym_new(bool debug_files)
{
	cli_symbolizer *z = calloc(1, sizeof *z);
	if (!z || !entmap_init(&z->map, 256))
		abort();
	z->debug_files = debug_files;
	return z;
}

void cli_sym_free(cli_symbolizer *z)
{
	if (!z)
		return;
	for (uint32_t i = 0; i < z->nobjs; i++) {
		if (z->objs[i].dwfl)
			dwfl_end(z->objs[i].dwfl);
		free(z->objs[i].path);
		free(z->objs[i].syms);
	}
	for (size_t i = 0; i < z->nstrs; i++)
		free(z->strs[i]);
	free(z->strs);
	free(z->objs);
	free(z->ents);
	entmap_destroy(&z->map);
	free(z);
}

static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

/* Whether the object's own file holds line information. */
static bool has_own_lines(Dwfl_Module *mod)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		const char *name;
		if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS &&
		    (name = elf_strptr(elf, shstrndx, sh.sh_name)) &&
		    (!strcmp(name, ".debug_line") || !strcmp(name, ".zdebug_line")))
			return true;
	}
	return false;
}

static uint32_t object_of(cli_symbolizer *z, const char *path)
{
	for (uint32_t i = 0; i < z->nobjs; i++)
		if (!strcmp(z->objs[i].path, path))
			return i;
	if (z->nobjs == z->cap_objs) {
		z->cap_objs = z->cap_objs ? z->cap_objs * 2 : 16;
		z->objs = realloc(z->objs, z->cap_objs * sizeof *z->objs);
		if (!z->objs)
			abort();
	}
	object *o = &z->objs[z->nobjs];
	memset(o, 0, sizeof *o);
	o->path = strdup(path);
	if (!o->path)
		abort();
	o->dwfl = dwfl_begin(&callbacks);
	if (o->dwfl) {
		dwfl_report_begin(o->dwfl);
		o->mod = dwfl_report_elf(o->dwfl, path, path, -1, 0, false);
		dwfl_report_end(o->dwfl, NULL, NULL);
		if (!o->mod) {
			dwfl_end(o->dwfl);
			o->dwfl = NULL;
		} else {
			o->lines = z->debug_files || has_own_lines(o->mod);
		}
	}
	return z->nobjs++;
}

static char *demangle(const char *name)
{
	if (name[0] == '_' && name[1] == 'Z') {
		int status = -1;
		char *d = __cxa_demangle(name, NULL, NULL, &status);
		if (d && status == 0)
			return d;
		free(d);
	}
	return strdup(name);
}

static int sym_cmp(const void *a, const void *b)
{
	const symrec *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr ? 1 : 0;
}

/* The function whose code holds rel.  dwfl_module_addrinfo scans the whole
 * symbol table on every call (cc1: ~10 s for one gcc run's stacks), so each
 * object's function symbols are read once, sorted by address and searched
 * by bisection; a symbol of size 0 covers up to the next one. */
static const char *find_sym(object *o, uint64_t rel)
{
	if (!o->syms_read) {
		o->syms_read = true;
		int n = dwfl_module_getsymtab(o->mod);
		size_t cap = n > 0 ? (size_t)n : 0;
		o->syms = cap ? malloc(cap * sizeof *o->syms) : NULL;
		for (int i = 1; o->syms && i < n; i++) {
			GElf_Sym sym;
			GElf_Addr addr;
			const char *name = dwfl_module_getsym_info(o->mod, i, &sym, &addr, NULL, NULL, NULL);
			if (name && *name && GELF_ST_TYPE(sym.st_info) == STT_FUNC && sym.st_shndx != SHN_UNDEF)
				o->syms[o->nsyms++] = (symrec){addr, sym.st_size, name, sym_rank(&sym, name)};
		}
		if (o->nsyms)
			qsort(o->syms, o->nsyms, sizeof *o->syms, sym_cmp);
	}
	size_t lo = 0, hi = o->nsyms;
	while (lo < hi) { /* the first symbol above rel */
		size_t mid = lo + (hi - lo) / 2;
		if (o->syms[mid].addr <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* among the symbols at the highest address <= rel that cover it, the best
	 * ranked (a symbol of size 0 covers up to the next address) */
	const symrec *best = NULL;
	for (size_t i = lo; i-- > 0 && o->syms[i].addr == o->syms[lo - 1].addr;) {
		const symrec *r = &o->syms[i];
		if ((r->size ? rel < r->addr + r->size : true) && (!best || r->rank > best->rank))
			best = r;
	}
	return best ? best->name : NULL;
}

static void lookup(cli_symbolizer *z, object *o, uint64_t rel, cli_sym *out)
{
	memset(out, 0, sizeof *out);
	if (!o->mod)
		return;
	const char *name = find_sym(o, rel);
	if (name)
		out->function = keep(z, demangle(name));
	Dwfl_Line *line = o->lines ? dwfl_module_getsrc(o->mod, rel) : NULL;
	if (line) {
		int lineno = 0;
		const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
		if (file) {
			out->file = keep(z, strdup(file));
			out->line = lineno;
		}
	}
}

void cli_sym_lookup(cli_symbolizer *z, const char *path, uint64_t rel, cli_sym *out)
{
	uint32_t obj = object_of(z, path);
	uint64_t k = (rel * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)obj << 40) ^ obj;
	if (!k)
		k = 1;
	for (;; k = k + 1 ? k + 1 : 1) {
		uint32_t *ix = entmap_get(&z->map, k);
		if (!ix)
			break;
		const entry *e = &z->ents[*ix - 1];
		if (e->rel == rel && e->obj == obj) {
			*out = e->sym;
			return;
		}
	}
	if (z->nents == z->cap_ents) {
		z->cap_ents = z->cap_ents ? z->cap_ents * 2 : 256;
		z->ents = realloc(z->ents, z->cap_ents * sizeof *z->ents);
		if (!z->ents)
			abort();
	}
	entry *e = &z->ents[z->nents];
	e->rel = rel;
	e->obj = obj;
	lookup(z, &z->objs[obj], rel, &e->sym);
	bool isnew;
	*entmap_put(&z->map, k, &isnew) = ++z->nents;
	*out = e->sym;
}
