/* pprof.c: the pprof profile format (github.com/google/pprof's
 * profile.proto), encoded by hand as Go's runtime/pprof does: the message is
 * small and fixed, so a few varint and length-delimited writers replace a
 * generated codec.  Repeated messages are encoded as they are added, each
 * list into its own buffer; the string table comes last (field order does
 * not matter in protobuf).  The file is gzipped (zlib), as pprof expects.
 *
 * Field numbers (profile.proto):
 *   Profile: 1 sample_type, 2 sample, 3 mapping, 4 location, 5 function,
 *            6 string_table, 9 time_nanos, 10 duration_nanos, 11 period_type,
 *            12 period, 13 comment, 14 default_sample_type
 *   ValueType: 1 type, 2 unit          Sample: 1 location_id, 2 value, 3 label
 *   Label: 1 key, 2 str, 3 num         Mapping: 1 id, 2 memory_start,
 *   3 memory_limit, 4 file_offset, 5 filename, 7 has_functions,
 *   8 has_filenames, 9 has_line_numbers
 *   Location: 1 id, 2 mapping_id, 3 address, 4 line
 *   Line: 1 function_id, 2 line        Function: 1 id, 2 name, 3 system_name,
 *   4 filename
 */
#include "pprof.h"

#include "u64map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct buf {
	uint8_t *p;
	size_t n, cap;
} buf;

static void put(buf *b, const void *src, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
}

static void varint(buf *b, uint64_t v)
{
	uint8_t tmp[10];
	int n = 0;
	do {
		tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	put(b, tmp, (size_t)n);
}

static void field_varint(buf *b, int field, uint64_t v)
{
	varint(b, (uint64_t)field << 3 | 0);
	varint(b, v);
}

static void field_bytes(buf *b, int field, const void *p, size_t n)
{
	varint(b, (uint64_t)field << 3 | 2);
	varint(b, n);
	put(b, p, n);
}

static void field_msg(buf *b, int field, buf *m)
{
	field_bytes(b, field, m->p, m->n);
	m->n = 0;
}

U64MAP_DEFINE(idmap, uint64_t) /* content hash (probed on collision) -> index */

typedef struct table {
	idmap map;
	char **keys; /* what each id stands for, to tell collisions apart */
	uint64_t n, cap;
} table;

static uint64_t hash_str(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* The id (1..) of key in t; *isnew when it was added. */
static uint64_t intern(table *t, const char *key, bool *isnew)
{
	uint64_t h = hash_str(key, 1469598103934665603ull);
	for (uint64_t k = h ? h : 1;; k = k + 1 ? k + 1 : 1) {
		bool fresh;
		uint64_t *v = idmap_put(&t->map, k, &fresh);
		if (!fresh) {
			if (!strcmp(t->keys[*v - 1], key)) {
				*isnew = false;
				return *v;
			}
			continue;
		}
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 64;
			t->keys = realloc(t->keys, t->cap * sizeof *t->keys);
			if (!t->keys)
				abort();
		}
		t->keys[t->n] = strdup(key);
		if (!t->keys[t->n])
			abort();
		*v = ++t->n;
		*isnew = true;
		return *v;
	}
}

static void table_init(table *t)
{
	memset(t, 0, sizeof *t);
	if (!idmap_init(&t->map, 64))
		abort();
}

static void table_free(table *t)
{
	for (uint64_t i = 0; i < t->n; i++)
		free(t->keys[i]);
	free(t->keys);
	idmap_destroy(&t->map);
}

struct cli_pprof {
	buf body, tmp, tmp2;
	table strings, funcs, maps, locs;
	int ntypes;
};

/* String table index (0 is ""). */
static int64_t str(cli_pprof *p, const char *s)
{
	bool isnew;
	return (int64_t)intern(&p->strings, s ? s : "", &isnew) - 1;
}

cli_pprof *cli_pprof_new(const char *const (*types)[2], int ntypes)
{
	cli_pprof *p = calloc(1, sizeof *p);
	if (!p)
		abort();
	table_init(&p->strings);
	table_init(&p->funcs);
	table_init(&p->maps);
	table_init(&p->locs);
	str(p, ""); /* index 0 */
	p->ntypes = ntypes;
	for (int i = 0; i < ntypes; i++) {
		field_varint(&p->tmp, 1, (uint64_t)str(p, types[i][0]));
		field_varint(&p->tmp, 2, (uint64_t)str(p, types[i][1]));
		field_msg(&p->body, 1, &p->tmp);
	}
	return p;
}

void cli_pprof_free(cli_pprof *p)
{
	if (!p)
		return;
	free(p->body.p);
	free(p->tmp.p);
	free(p->tmp2.p);
	table_free(&p->strings);
	table_free(&p->funcs);
	table_free(&p->maps);
	table_free(&p->locs);
	free(p);
}

uint64_t cli_pprof_mapping(cli_pprof *p, const char *file, uint64_t start, uint64_t limit, uint64_t offset,
                           int has_lines)
{
	char key[4200];
	snprintf(key, sizeof key, "%s\n%llx", file ? file : "", (unsigned long long)start);
	bool isnew;
	uint64_t id = intern(&p->maps, key, &isnew);
	if (isnew) {
		field_varint(&p->tmp, 1, id);
		field_varint(&p->tmp, 2, start);
		field_varint(&p->tmp, 3, limit);
		field_varint(&p->tmp, 4, offset);
		field_varint(&p->tmp, 5, (uint64_t)str(p, file));
		field_varint(&p->tmp, 7, 1);
		field_varint(&p->tmp, 8, (uint64_t)(has_lines != 0));
		field_varint(&p->tmp, 9, (uint64_t)(has_lines != 0));
		field_msg(&p->body, 3, &p->tmp);
	}
	return id;
}

uint64_t cli_pprof_function(cli_pprof *p, const char *name, const char *file)
{
	char key[4200];
	snprintf(key, sizeof key, "%s\n%s", name ? name : "", file ? file : "");
	bool isnew;
	uint64_t id = intern(&p->funcs, key, &isnew);
	if (isnew) {
		field_varint(&p->tmp, 1, id);
		field_varint(&p->tmp, 2, (uint64_t)str(p, name));
		field_varint(&p->tmp, 3, (uint64_t)str(p, name));
		field_varint(&p->tmp, 4, (uint64_t)str(p, file));
		field_msg(&p->body, 5, &p->tmp);
	}
	return id;
}

uint64_t cli_pprof_location(cli_pprof *p, uint64_t mapping, uint64_t address, uint64_t function, int64_t line)
{
	char key[96];
	snprintf(key, sizeof key, "%llx %llx %llx %lld", (unsigned long long)mapping, (unsigned long long)address,
	         (unsigned long long)function, (long long)line);
	bool isnew;
	uint64_t id = intern(&p->locs, key, &isnew);
	if (isnew) {
		field_varint(&p->tmp, 1, id);
		if (mapping)
			field_varint(&p->tmp, 2, mapping);
		field_varint(&p->tmp, 3, address);
		if (function) {
			field_varint(&p->tmp2, 1, function);
			if (line > 0)
				field_varint(&p->tmp2, 2, (uint64_t)line);
			field_msg(&p->tmp, 4, &p->tmp2);
		}
		field_msg(&p->body, 4, &p->tmp);
	}
	return id;
}

void cli_pprof_sample(cli_pprof *p, const uint64_t *locs, int nlocs, const int64_t *values, const char *label,
                      int64_t label_value)
{
	buf packed = {0};
	for (int i = 0; i < nlocs; i++)
		varint(&packed, locs[i]);
	field_bytes(&p->tmp, 1, packed.p, packed.n);
	packed.n = 0;
	for (int i = 0; i < p->ntypes; i++)
		varint(&packed, (uint64_t)values[i]);
	field_bytes(&p->tmp, 2, packed.p, packed.n);
	free(packed.p);
	if (label) {
		field_varint(&p->tmp2, 1, (uint64_t)str(p, label));
		field_varint(&p->tmp2, 3, (uint64_t)label_value);
		field_msg(&p->tmp, 3, &p->tmp2);
	}
	field_msg(&p->body, 2, &p->tmp);
}

int cli_pprof_write(cli_pprof *p, const char *path, int64_t time_ns, int64_t duration_ns, const char *comment,
                    const char *default_type)
{
	buf out = {0};
	errno = 0;
	put(&out, p->body.p, p->body.n);
	field_varint(&out, 9, (uint64_t)time_ns);
	field_varint(&out, 10, (uint64_t)duration_ns);
	if (comment)
		field_varint(&out, 13, (uint64_t)str(p, comment));
	if (default_type)
		field_varint(&out, 14, (uint64_t)str(p, default_type));
	for (uint64_t i = 0; i < p->strings.n; i++)
		field_bytes(&out, 6, p->strings.keys[i], strlen(p->strings.keys[i]));
	gzFile gz = gzopen(path, "wb");
	int rc = -1;
	if (gz) {
		size_t off = 0;
		rc = 0;
		while (off < out.n) {
			unsigned chunk = out.n - off > (1u << 30) ? 1u << 30 : (unsigned)(out.n - off);
			int w = gzwrite(gz, out.p + off, chunk);
			if (w <= 0) {
				rc = -1;
				break;
			}
			off += (size_t)w;
		}
		if (gzclose(gz) != Z_OK)
			rc = -1;
		if (rc != 0 && !errno)
			errno = EIO;
	}
	free(out.p);
	return rc;
}
