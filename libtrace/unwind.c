/* unwind.c: a fast local unwinder for allocation stacks (x86-64).
 *
 * A frame's caller is found from the DWARF call-frame rules of .eh_frame:
 * the CFA is rsp or rbp plus an offset, the return address is at CFA - 8,
 * and the caller's rbp is either unchanged or saved at CFA + an offset.
 * The rule at an address is computed once and cached for the process:
 * glibc's _dl_find_object names the object's .eh_frame_hdr, its sorted
 * table names the FDE, and the CIE's and FDE's instructions are run up to
 * the address.  A walk is then, per frame, one lookup in the cache and one
 * or two loads from the stack.  (unw_backtrace, which does the same from
 * its own per-IP cache, spends ~45 ns setting up a cursor and ~7.5 ns per
 * frame on this kind of machine.)
 *
 * Each thread also keeps its last walk (the memo below): a new walk that
 * meets it at the same return address and stack address takes the outer
 * frames from it once the stack words it read there are checked again.
 *
 * What it does not follow: a CFA, return-address or rbp rule that is a
 * DWARF expression or names another register (signal frames, some
 * hand-written assembly).  gt_unwind then returns -1 and the caller asks
 * libunwind.  A return address in no object, or in an object without an
 * FDE for it, ends the stack, as the outermost frame (whose return-address
 * rule is "undefined") does.
 *
 * Invariants:
 *   - the cache is insert-only and lock-free: a slot's key is claimed by
 *     CAS (0 -> address) and its rule published after it (release); a
 *     reader that finds the key before the rule computes the rule itself;
 *   - nothing here allocates or takes a lock (_dl_find_object takes none),
 *     but a thread's first walk, which takes its memos from the free list
 *     (memo_lock, held for a few stores; mmap for a new chunk);
 *   - a walk reads only words inside the frame it is stepping over
 *     ([sp, CFA)), and stops unless the CFA moves up the stack.
 *   - the memo is the thread's own (tls_memo), written only by its walks; its
 *     checks read only stack words above the current sp of the same thread.
 * Known limits: the rules of an object that is unloaded stay cached; if
 * another object is then loaded at its address, stacks through it may end
 * early or be wrong.  A thread that switches stacks (coroutines) could meet
 * its memo's addresses on a smaller stack and read past its top.
 */
#define _GNU_SOURCE
#include "unwind.h"

#include <dlfcn.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

enum {
	CACHE_SHIFT = 16, /* 64K rules, 1 MiB of address space, touched as used */
	CACHE_PROBES = 8,
	REG_RBP = 6,
	REG_RSP = 7,
	REG_RA = 16,
	STATES_MAX = 8,   /* DW_CFA_remember_state nesting */
};
#define FRAME_MAX ((uintptr_t)64 << 20) /* a CFA further up than this from sp is not believed */

/* A cached rule, one word: */
enum {
	R_PRESENT = 1,  /* the word holds a rule */
	R_END = 2,      /* no caller: the outermost frame, or no unwind information */
	R_UNSUP = 4,    /* a rule this unwinder does not follow */
	R_CFA_RBP = 8,  /* CFA = rbp + off (else rsp + off) */
	R_RBP_SAVED = 16, /* the caller's rbp is at CFA + rbp_off (else unchanged) */
};
/* bits 16..31: rbp_off (int16), bits 32..63: CFA offset (int32) */

typedef struct centry {
	uint64_t key;  /* atomic: 0 = empty, else the address looked up */
	uint64_t rule; /* atomic: 0 until published */
} centry;

static centry *cache;

/* ---- reading .eh_frame ---------------------------------------------------------- */

enum {
	PE_ABSPTR = 0x00, PE_ULEB = 0x01, PE_UDATA2 = 0x02, PE_UDATA4 = 0x03, PE_UDATA8 = 0x04,
	PE_SLEB = 0x09, PE_SDATA2 = 0x0a, PE_SDATA4 = 0x0b, PE_SDATA8 = 0x0c,
	PE_PCREL = 0x10, PE_DATAREL = 0x30, PE_INDIRECT = 0x80, PE_OMIT = 0xff,
};

/* A LEB128 number's bits at *pp; *sh: how many were read, *last: the last
 * byte (sleb's sign is its bit 6). */
static uint64_t leb(const uint8_t **pp, unsigned *sh, uint8_t *last)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	uint8_t b;
	*sh = 0;
	do {
		b = *p++;
		if (*sh < 64)
			v |= (uint64_t)(b & 0x7f) << *sh;
		*sh += 7;
	} while (b & 0x80);
	*pp = p;
	*last = b;
	return v;
}

static uint64_t uleb(const uint8_t **pp)
{
	unsigned sh;
	uint8_t b;
	return leb(pp, &sh, &b);
}

static int64_t sleb(const uint8_t **pp)
{
	unsigned sh;
	uint8_t b;
	uint64_t v = leb(pp, &sh, &b);
	if (sh < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << sh;
	return (int64_t)v;
}

static uint64_t rd(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	memcpy(&v, p, n);
	return v;
}

/* A pointer encoded with enc at *pp (datarel: from dbase); false for an
 * encoding not met in .eh_frame on x86-64.  Indirect pointers are not
 * followed (only the personality routine uses them, and it is skipped). */
static bool read_enc(const uint8_t **pp, uint8_t enc, uintptr_t dbase, uint64_t *out)
{
	const uint8_t *p = *pp, *start = p;
	uint64_t v;
	switch (enc & 0x0f) {
	case PE_ABSPTR: v = rd(p, 8); p += 8; break;
	case PE_ULEB: v = uleb(&p); break;
	case PE_UDATA2: v = rd(p, 2); p += 2; break;
	case PE_UDATA4: v = rd(p, 4); p += 4; break;
	case PE_UDATA8: v = rd(p, 8); p += 8; break;
	case PE_SLEB: v = (uint64_t)sleb(&p); break;
	case PE_SDATA2: v = (uint64_t)(int64_t)(int16_t)rd(p, 2); p += 2; break;
	case PE_SDATA4: v = (uint64_t)(int64_t)(int32_t)rd(p, 4); p += 4; break;
	case PE_SDATA8: v = rd(p, 8); p += 8; break;
	default: return false;
	}
	switch (enc & 0x70) {
	case 0: break;
	case PE_PCREL: v += (uintptr_t)start; break;
	case PE_DATAREL: v += dbase; break;
	default: return false;
	}
	*pp = p;
	*out = v;
	return true;
}

typedef struct cie {
	uint64_t code_align;
	int64_t data_align;
	uint8_t fde_enc;
	bool aug_z, signal;
	const uint8_t *insns, *end;
} cie;

static bool parse_cie(const uint8_t *c, cie *out)
{
	uint64_t len = rd(c, 4);
	c += 4;
	if (len == 0xffffffffu) {
		len = rd(c, 8);
		c += 8;
	}
	const uint8_t *end = c + len;
	if (rd(c, 4) != 0)
		return false; /* not a CIE */
	c += 4;
	uint8_t version = *c++;
	const char *aug = (const char *)c;
	c += strlen(aug) + 1;
	if (aug[0] == 'e' && aug[1] == 'h') {
		c += 8;
		aug += 2;
	}
	*out = (cie){.fde_enc = PE_ABSPTR, .end = end};
	out->code_align = uleb(&c);
	out->data_align = sleb(&c);
	uint64_t ra = version == 1 ? *c++ : uleb(&c);
	if (ra != REG_RA)
		return false;
	if (aug[0] == 'z') {
		out->aug_z = true;
		uint64_t alen = uleb(&c);
		const uint8_t *a = c;
		c += alen;
		for (const char *s = aug + 1; *s; s++) {
			uint64_t skip;
			if (*s == 'R') {
				out->fde_enc = *a++;
			} else if (*s == 'L') {
				a++;
			} else if (*s == 'P') {
				uint8_t e = *a++;
				if (!read_enc(&a, e & 0x0f, 0, &skip)) /* its size only */
					return false;
			} else if (*s == 'S') {
				out->signal = true;
			} else if (*s != 'B' && *s != 'G') {
				break; /* unknown: its data is skipped with the rest */
			}
		}
	} else if (aug[0]) {
		return false; /* augmentation data of unknown size */
	}
	out->insns = c;
	return true;
}

/* ---- the rule at an address --------------------------------------------------------- */

enum { HOW_SAME = 0, HOW_OFFSET, HOW_UNDEF, HOW_OTHER };

typedef struct regstate {
	uint64_t cfa_reg;
	int64_t cfa_off;
	bool cfa_expr;
	uint8_t rbp_how, ra_how;
	int64_t rbp_off, ra_off;
} regstate;

static void set_rule(regstate *s, uint64_t reg, uint8_t how, int64_t off)
{
	if (reg == REG_RBP) {
		s->rbp_how = how;
		s->rbp_off = off;
	} else if (reg == REG_RA) {
		s->ra_how = how;
		s->ra_off = off;
	}
}

static void restore_rule(regstate *s, const regstate *init, uint64_t reg)
{
	if (reg == REG_RBP) {
		s->rbp_how = init->rbp_how;
		s->rbp_off = init->rbp_off;
	} else if (reg == REG_RA) {
		s->ra_how = init->ra_how;
		s->ra_off = init->ra_off;
	}
}

/* Runs call-frame instructions [p, end) from location loc until the
 * location passes target; false on an instruction it does not know. */
static bool run_cfa(const uint8_t *p, const uint8_t *end, const cie *c, uint64_t loc, uint64_t target,
                    regstate *s, const regstate *init)
{
	regstate saved[STATES_MAX];
	int nsaved = 0;
	while (p < end) {
		uint8_t op = *p++;
		uint64_t reg, n;
		switch (op & 0xc0) {
		case 0x40:
			loc += (op & 0x3f) * c->code_align;
			if (loc > target)
				return true;
			continue;
		case 0x80:
			set_rule(s, op & 0x3f, HOW_OFFSET, (int64_t)uleb(&p) * c->data_align);
			continue;
		case 0xc0:
			restore_rule(s, init, op & 0x3f);
			continue;
		}
		switch (op) {
		case 0x00: /* nop */
			break;
		case 0x01: /* set_loc */
			if (!read_enc(&p, c->fde_enc, 0, &loc))
				return false;
			if (loc > target)
				return true;
			break;
		case 0x02:
		case 0x03:
		case 0x04: { /* advance_loc1/2/4 */
			size_t w = op == 0x02 ? 1 : op == 0x03 ? 2 : 4;
			loc += rd(p, w) * c->code_align;
			p += w;
			if (loc > target)
				return true;
			break;
		}
		case 0x05: /* offset_extended */
			reg = uleb(&p);
			set_rule(s, reg, HOW_OFFSET, (int64_t)uleb(&p) * c->data_align);
			break;
		case 0x06: /* restore_extended */
			restore_rule(s, init, uleb(&p));
			break;
		case 0x07: /* undefined */
			set_rule(s, uleb(&p), HOW_UNDEF, 0);
			break;
		case 0x08: /* same_value */
			set_rule(s, uleb(&p), HOW_SAME, 0);
			break;
		case 0x09: /* register */
		case 0x14: /* val_offset */
		case 0x15: /* val_offset_sf (a signed operand is as long as an unsigned one) */
			reg = uleb(&p);
			uleb(&p);
			set_rule(s, reg, HOW_OTHER, 0);
			break;
		case 0x0a: /* remember_state */
			if (nsaved == STATES_MAX)
				return false;
			saved[nsaved++] = *s;
			break;
		case 0x0b: /* restore_state */
			if (nsaved == 0)
				return false;
			*s = saved[--nsaved];
			break;
		case 0x0c: /* def_cfa */
			s->cfa_reg = uleb(&p);
			s->cfa_off = (int64_t)uleb(&p);
			s->cfa_expr = false;
			break;
		case 0x0d: /* def_cfa_register */
			s->cfa_reg = uleb(&p);
			s->cfa_expr = false;
			break;
		case 0x0e: /* def_cfa_offset */
			s->cfa_off = (int64_t)uleb(&p);
			break;
		case 0x0f: /* def_cfa_expression */
			n = uleb(&p);
			p += n;
			s->cfa_expr = true;
			break;
		case 0x10: /* expression */
		case 0x16: /* val_expression */
			reg = uleb(&p);
			n = uleb(&p);
			p += n;
			set_rule(s, reg, HOW_OTHER, 0);
			break;
		case 0x11: /* offset_extended_sf */
			reg = uleb(&p);
			set_rule(s, reg, HOW_OFFSET, sleb(&p) * c->data_align);
			break;
		case 0x12: /* def_cfa_sf */
			s->cfa_reg = uleb(&p);
			s->cfa_off = sleb(&p) * c->data_align;
			s->cfa_expr = false;
			break;
		case 0x13: /* def_cfa_offset_sf */
			s->cfa_off = sleb(&p) * c->data_align;
			break;
		case 0x2e: /* GNU_args_size */
			uleb(&p);
			break;
		case 0x2f: /* GNU_negative_offset_extended */
			reg = uleb(&p);
			set_rule(s, reg, HOW_OFFSET, -(int64_t)uleb(&p) * c->data_align);
			break;
		default:
			return false;
		}
	}
	return true;
}

static uint64_t encode(const regstate *s)
{
	if (s->cfa_expr || (s->cfa_reg != REG_RSP && s->cfa_reg != REG_RBP))
		return R_PRESENT | R_UNSUP;
	if (s->ra_how == HOW_UNDEF)
		return R_PRESENT | R_END;
	if (s->ra_how != HOW_OFFSET || s->ra_off != -8 || s->rbp_how == HOW_OTHER)
		return R_PRESENT | R_UNSUP;
	if (s->cfa_off < 8 || s->cfa_off > INT32_MAX ||
	    (s->rbp_how == HOW_OFFSET && (s->rbp_off >= 0 || s->rbp_off < INT16_MIN)))
		return R_PRESENT | R_UNSUP;
	uint64_t r = R_PRESENT | ((uint64_t)(uint32_t)(int32_t)s->cfa_off << 32);
	if (s->cfa_reg == REG_RBP)
		r |= R_CFA_RBP;
	if (s->rbp_how == HOW_OFFSET)
		r |= R_RBP_SAVED | ((uint64_t)(uint16_t)(int16_t)s->rbp_off << 16);
	return r;
}

/* The FDE covering pc, from the object's .eh_frame_hdr table; NULL if none. */
static const uint8_t *find_fde(uintptr_t pc)
{
	struct dl_find_object fo;
	if (_dl_find_object((void *)pc, &fo) != 0 || !fo.dlfo_eh_frame)
		return NULL;
	const uint8_t *hdr = fo.dlfo_eh_frame, *p = hdr + 4;
	uint64_t eh_frame, count;
	if (hdr[0] != 1 || hdr[1] == PE_OMIT || !read_enc(&p, hdr[1], (uintptr_t)hdr, &eh_frame) ||
	    hdr[2] == PE_OMIT || !read_enc(&p, hdr[2], (uintptr_t)hdr, &count) || count == 0)
		return NULL;
	if (hdr[3] != (PE_DATAREL | PE_SDATA4))
		return NULL; /* the only table encoding the linkers write */
	const uint8_t *tab = p;
	int64_t key = (int64_t)(pc - (uintptr_t)hdr);
	/* the last entry whose start is at or before pc */
	uint64_t lo = 0, hi = count;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if ((int32_t)rd(tab + mid * 8, 4) <= key)
			lo = mid;
		else
			hi = mid;
	}
	if ((int32_t)rd(tab + lo * 8, 4) > key)
		return NULL;
	return hdr + (int32_t)rd(tab + lo * 8 + 4, 4);
}

static uint64_t compute(uintptr_t pc)
{
	const uint8_t *f = find_fde(pc);
	if (!f)
		return R_PRESENT | R_END;
	uint64_t len = rd(f, 4);
	f += 4;
	if (len == 0xffffffffu) {
		len = rd(f, 8);
		f += 8;
	}
	if (len == 0)
		return R_PRESENT | R_END;
	const uint8_t *end = f + len;
	uint32_t cie_off = (uint32_t)rd(f, 4);
	if (cie_off == 0)
		return R_PRESENT | R_END; /* a CIE where an FDE was expected */
	cie c;
	if (!parse_cie(f - cie_off, &c))
		return R_PRESENT | R_UNSUP;
	if (c.signal)
		return R_PRESENT | R_UNSUP;
	f += 4;
	uint64_t begin, range;
	if (!read_enc(&f, c.fde_enc, 0, &begin) || !read_enc(&f, c.fde_enc & 0x0f, 0, &range))
		return R_PRESENT | R_UNSUP;
	if (pc < begin || pc - begin >= range)
		return R_PRESENT | R_END;
	if (c.aug_z) {
		uint64_t alen = uleb(&f); /* apart: f += uleb(&f) reads f unsequenced with the call */
		f += alen;
	}
	regstate init = {.cfa_reg = REG_RSP, .cfa_off = 8}, s;
	if (!run_cfa(c.insns, c.end, &c, 0, UINT64_MAX, &init, &init))
		return R_PRESENT | R_UNSUP;
	s = init;
	if (!run_cfa(f, end, &c, begin, pc, &s, &init))
		return R_PRESENT | R_UNSUP;
	return encode(&s);
}

static inline uint64_t slot_of(uintptr_t pc)
{
	return (pc ^ (pc >> CACHE_SHIFT)) & ((1u << CACHE_SHIFT) - 1);
}

/* The rule at pc when it is not in its first slot: the other probes, else
 * computed and cached. */
static __attribute__((noinline)) uint64_t rule_slow(uintptr_t pc)
{
	uint64_t h = slot_of(pc);
	for (int probe = 0; probe < CACHE_PROBES; probe++) {
		centry *e = &cache[(h + (uint64_t)probe) & ((1u << CACHE_SHIFT) - 1)];
		uint64_t k = __atomic_load_n(&e->key, __ATOMIC_ACQUIRE);
		if (k == pc) {
			uint64_t r = __atomic_load_n(&e->rule, __ATOMIC_ACQUIRE);
			return r ? r : compute(pc);
		}
		if (k == 0) {
			uint64_t r = compute(pc);
			if (__atomic_compare_exchange_n(&e->key, &k, pc, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				__atomic_store_n(&e->rule, r, __ATOMIC_RELEASE);
				return r;
			}
			if (k == pc)
				return r;
			/* another address took the slot: probe on */
		}
	}
	return compute(pc);
}

static inline uint64_t rule_of(const centry *c, uintptr_t pc)
{
	const centry *e = &c[slot_of(pc)];
	if (__builtin_expect(__atomic_load_n(&e->key, __ATOMIC_ACQUIRE) == pc, 1)) {
		uint64_t r = __atomic_load_n(&e->rule, __ATOMIC_ACQUIRE);
		if (__builtin_expect(r != 0, 1))
			return r;
	}
	return rule_slow(pc);
}

/* ---- the walk --------------------------------------------------------------------- */

bool gt_unwind_init(void)
{
	if (cache)
		return true;
	void *m = mmap(NULL, sizeof(centry) << CACHE_SHIFT, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return false;
	cache = m;
	return true;
}

/* One frame up, from the registers of a frame whose rule is r to its
 * caller's: -1 to decline the stack, 0 at its end, 1 stepped.  at is set
 * to where the caller's rbp was read (0: not read).  A CFA above top (the
 * thread's stack ends there) ends the stack. */
#define STEP(r, ip, sp, bp, at, top)                                                          \
	({                                                                                        \
		at = 0;                                                                               \
		int st_ = 1;                                                                          \
		uint64_t r_ = (r);                                                                    \
		if (__builtin_expect(r_ & (R_UNSUP | R_END), 0)) {                                  \
			st_ = (r_ & R_UNSUP) ? -1 : 0;                                                    \
		} else {                                                                              \
			uintptr_t cfa_ = ((r_ & R_CFA_RBP) ? bp : sp) + (uintptr_t)(int64_t)(int32_t)(r_ >> 32); \
			if (cfa_ < sp + 8 || cfa_ > (top)) {                                              \
				st_ = 0;                                                                      \
			} else {                                                                          \
				if (r_ & R_RBP_SAVED) {                                                       \
					uintptr_t at_ = cfa_ + (uintptr_t)(int64_t)(int16_t)(r_ >> 16);           \
					if (at_ < sp) {                                                           \
						st_ = 0;                                                              \
					} else {                                                                  \
						bp = *(const uintptr_t *)at_;                                         \
						at = at_;                                                             \
					}                                                                         \
				}                                                                             \
				if (st_) {                                                                    \
					ip = *(const uintptr_t *)(cfa_ - 8);                                      \
					sp = cfa_;                                                                \
					st_ = ip >= 4096;                                                         \
				}                                                                             \
			}                                                                                 \
		}                                                                                     \
		st_;                                                                                  \
	})

/* The last walk of this thread, from its first kept frame out: each
 * level's registers and where the step from it read its caller's rbp.  A
 * walk is a function of its registers and of the stack words it reads, so
 * a new walk that reaches a level of the last one with the same ip and sp
 * (and bp, if the rest of the walk reads it) has the rest of its frames
 * already, once the words the last walk read from there on are checked to
 * hold what they held then: independent loads instead of a lookup and a
 * dependent load per frame.  (A program's allocations share most of their
 * outer frames: python3's stacks are 30+ frames deep.)  Two memos per
 * thread: the walk records into the other one, then they swap. */
enum { MEMO_LEVELS = 64 };
typedef struct level {
	uintptr_t ip, sp, bp, bp_at;
} level;
typedef struct memo {
	int n;         /* levels, innermost first; 0: none */
	bool complete; /* the walk ended after lv[n - 1] by its rule (else it was cut) */
	bool dep[MEMO_LEVELS]; /* the walk from this level on reads this level's bp */
	level lv[MEMO_LEVELS];
} memo;
/* A thread's two memos live off its static TLS: 4 KiB there is carved
 * from the top of every thread's stack, traced or not, and a thread on a
 * 16 KiB PTHREAD_STACK_MIN stack had 4 KiB less of it than under glibc's
 * malloc (tests/e2e/small_stack.c).  Taken at the thread's first walk from a free list refilled
 * by the chunk, given back at its exit (gt_unwind_thread_exit). */
typedef struct memo_pair {
	memo m[2];
	struct memo_pair *next;
} memo_pair;
enum { MEMO_CHUNK = 32 };
static __thread memo_pair *tls_memo __attribute__((tls_model("initial-exec")));
static __thread unsigned tls_cur __attribute__((tls_model("initial-exec")));
static memo_pair *memo_free, *memo_chunk; /* under memo_lock */
static unsigned memo_chunk_left;
static int memo_lock;

static void memo_lock_take(void)
{
	while (__atomic_exchange_n(&memo_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

/* A pair with no walk in it, or NULL when no memory can be mapped. */
static memo_pair *memo_get(void)
{
	memo_lock_take();
	memo_pair *p = memo_free;
	if (p) {
		memo_free = p->next;
	} else {
		if (!memo_chunk_left) {
			void *m = mmap(NULL, MEMO_CHUNK * sizeof(memo_pair), PROT_READ | PROT_WRITE,
			               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m != MAP_FAILED) {
				memo_chunk = m;
				memo_chunk_left = MEMO_CHUNK;
			}
		}
		if (memo_chunk_left) {
			p = memo_chunk++;
			memo_chunk_left--;
		}
	}
	__atomic_store_n(&memo_lock, 0, __ATOMIC_RELEASE);
	if (p)
		p->m[0].n = p->m[1].n = 0;
	return p;
}

void gt_unwind_thread_exit(void)
{
	memo_pair *p = tls_memo;
	if (!p)
		return;
	tls_memo = NULL;
	memo_lock_take();
	p->next = memo_free;
	memo_free = p;
	__atomic_store_n(&memo_lock, 0, __ATOMIC_RELEASE);
}

void gt_unwind_fork_child(void)
{
	memo_lock = 0; /* a thread of the parent may have held it; the list is whole at every store */
}

/* Whether the stack still holds what old's walk read from level k out. */
static inline bool memo_holds(const memo *old, int k)
{
	bool ok = true;
	for (int i = k; i + 1 < old->n; i++) {
		const level *a = &old->lv[i], *b = &old->lv[i + 1];
		ok &= *(const uintptr_t *)(b->sp - 8) == b->ip;
		if (a->bp_at)
			ok &= *(const uintptr_t *)a->bp_at == b->bp;
	}
	return ok;
}

/* Where the calling thread's stack ends, from its sp: a walk reads nothing
 * above it, so that a wrong rule (an object unloaded and another loaded at
 * its address, see the known limits) ends a stack instead of faulting.
 * A thread glibc made has its TCB (the thread pointer, %fs:0) just above
 * its stack and static TLS, on its own stack's mapping or a stack the
 * program gave it; the main thread's stack ends a little above
 * __libc_stack_end (its sp at _start: argv, the environment and the
 * auxiliary vector lie above it).  A stack of neither kind (a coroutine's)
 * is bounded only by FRAME_MAX. */
extern void *__libc_stack_end;
static inline uintptr_t stack_top(uintptr_t sp)
{
	uintptr_t tp, end = (uintptr_t)__libc_stack_end;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	if (sp < tp && tp - sp < ((uintptr_t)1 << 30))
		return tp;
	if (sp <= end && end - sp < ((uintptr_t)1 << 32))
		return end + 4096;
	return sp + FRAME_MAX;
}

__attribute__((noinline)) int gt_unwind(void **pcs, int max, uintptr_t skip_lo, uintptr_t skip_hi, bool partial)
{
	uintptr_t ip, sp, bp, at;
	/* this frame's registers, all at the address taken */
	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" : "=r"(ip), "=r"(sp), "=r"(bp));
	const centry *c = __atomic_load_n(&cache, __ATOMIC_RELAXED);
	uintptr_t top = stack_top(sp);
	int st = STEP(rule_of(c, ip), ip, sp, bp, at, top);
	/* the caller's own frames, not kept and not counted */
	while (st > 0 && ip - skip_lo < skip_hi - skip_lo)
		st = STEP(rule_of(c, ip - 1), ip, sp, bp, at, top);
	memo_pair *mp = tls_memo;
	if (__builtin_expect(!mp, 0)) {
		mp = memo_get();
		if (!mp)
			return -1; /* no memory for a memo: libunwind's walk */
		tls_memo = mp;
	}
	memo *old = &mp->m[tls_cur], *nw = &mp->m[tls_cur ^ 1u];
	bool rbp_cfa[MEMO_LEVELS];
	int n = 0, k = 0, hit = -1;
	uint64_t r = 0;
	while (st > 0 && n < max) {
		/* the old walk's first level at or above this sp */
		while (k < old->n && old->lv[k].sp < sp)
			k++;
		if (k < old->n && old->lv[k].sp == sp && old->lv[k].ip == ip && (!old->dep[k] || old->lv[k].bp == bp) &&
		    memo_holds(old, k)) {
			hit = k;
			break;
		}
		/* a return address is looked up by the call before it */
		r = rule_of(c, ip - 1);
		if (n < MEMO_LEVELS) {
			nw->lv[n] = (level){ip, sp, bp, 0};
			rbp_cfa[n] = r & R_CFA_RBP;
		}
		pcs[n++] = (void *)ip;
		st = STEP(r, ip, sp, bp, at, top);
		if (n <= MEMO_LEVELS)
			nw->lv[n - 1].bp_at = at;
	}
	if (st < 0)
		return partial && n > 0 ? n : -1; /* the memos are as they were */
	int rec = n; /* levels this walk made itself */
	bool complete;
	if (hit >= 0) {
		int take = old->n - hit;
		if (take > max - n)
			take = max - n;
		for (int i = 0; i < take; i++)
			pcs[n++] = (void *)old->lv[hit + i].ip;
		if (n < max && !old->complete) {
			/* the old walk was cut short of where this one may go: on from
			 * its last level, without a memo of this walk */
			const level *l = &old->lv[old->n - 1];
			ip = l->ip, sp = l->sp, bp = l->bp;
			st = STEP(rule_of(c, ip - 1), ip, sp, bp, at, top);
			while (st > 0 && n < max) {
				pcs[n++] = (void *)ip;
				st = STEP(rule_of(c, ip - 1), ip, sp, bp, at, top);
			}
			if (st < 0)
				return partial ? n : -1;
			return n;
		}
		if (rec + (old->n - hit) > MEMO_LEVELS)
			return n; /* keep the old memo */
		memcpy(&nw->lv[rec], &old->lv[hit], (size_t)(old->n - hit) * sizeof(level));
		memcpy(&nw->dep[rec], &old->dep[hit], (size_t)(old->n - hit) * sizeof(bool));
		nw->n = rec + old->n - hit;
		complete = old->complete;
	} else {
		if (rec > MEMO_LEVELS || rec == 0)
			return n;
		nw->n = rec;
		complete = st == 0 && (r & R_END); /* else cut at max, or stopped by a check */
		/* the last level: a complete walk's last step read nothing; after
		 * a cut, whoever goes on from it reads its bp */
		nw->dep[rec - 1] = !complete;
		rec--;
	}
	nw->complete = complete;
	for (int i = rec - 1; i >= 0; i--)
		nw->dep[i] = rbp_cfa[i] || (!nw->lv[i].bp_at && nw->dep[i + 1]);
	tls_cur ^= 1u;
	return n;
}
