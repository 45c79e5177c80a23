#!/bin/bash
# prog_gcc: gcc -O2 compiling a generated C file of ~28,000 lines (2,200
# functions: loops over a 4096-entry table, 16-way switches, snprintf/hash,
# floating point, a call graph between functions), under libgoalloc.so.
#
#   prog_gcc.sh <libgoalloc.so> <scratch base dir>
#
# The whole tool chain runs preloaded (gcc driver, cc1, as, collect2, ld) and
# so does the compiled program. Compared: the program's output and the exact
# bytes of the object file (sha256; gcc is deterministic for the same source,
# flags and path, and both runs use the same path), and the section sizes.
# The preloaded run has a GOALLOC_STATS_FILE, and the allocator's exit report
# must appear once per process of the tool chain.

# shellcheck disable=SC2016 # single-quoted scripts are expanded by their own shell
. "$(dirname "$0")/lib.sh"
gt_init gcc "$@"

gt_require /usr/bin/gcc gcc
gt_require /usr/bin/perl perl
gt_require /usr/bin/sha256sum coreutils
gt_require /usr/bin/size binutils

SRC=$GT_WORK/big.c
perl - 2200 >"$SRC" <<'GEN' || gt_die "cannot generate $SRC"
use strict;
use warnings;
my $n = shift // 2000;
my $seed = 12345;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return ($seed >> 16) % $_[0]; }
print "#include <stdio.h>\n#include <stdint.h>\n#include <string.h>\n\n";
print "struct rec { uint32_t a, b; int64_t c; char name[24]; double d; };\n\n";
print "static const uint32_t table[4096] = {\n";
for my $i (0..4095) { print rnd(1000000007), ($i % 8 == 7 ? ",\n" : ", "); }
print "};\n\n";
for my $i (0..$n-1) {
    my $k = rnd(5);
    print "static uint64_t f$i(uint64_t x, struct rec *r)\n{\n";
    if ($k == 0) {
        my $m = 4 + rnd(12);
        print "\tuint64_t acc = x ^ $i;\n\tfor (int j = 0; j < $m; j++) {\n";
        print "\t\tacc = acc * 6364136223846793005ULL + table[(acc >> 7) & 4095];\n";
        print "\t\tif (acc & 1) r->a += (uint32_t)acc; else r->b ^= (uint32_t)(acc >> 32);\n\t}\n";
        print "\treturn acc + r->a + r->b;\n";
    } elsif ($k == 1) {
        print "\tswitch (x % 16) {\n";
        for my $c (0..15) { print "\tcase $c: x = x * ", 3 + rnd(100), " + ", rnd(1000), "; r->c -= ", rnd(50), "; break;\n"; }
        print "\t}\n\treturn x ^ (uint64_t)r->c;\n";
    } elsif ($k == 2) {
        print "\tchar buf[64];\n\tint len = snprintf(buf, sizeof buf, \"f$i:%llu:%u\", (unsigned long long)(x % 100000), r->a % 1000);\n";
        print "\tuint64_t h = 1469598103934665603ULL;\n\tfor (int j = 0; j < len; j++) h = (h ^ (unsigned char)buf[j]) * 1099511628211ULL;\n";
        print "\tmemcpy(r->name, buf, len < 23 ? len : 23); r->name[23] = 0;\n\treturn h;\n";
    } elsif ($k == 3) {
        my $v = rnd(1000) / 7.0;
        print "\tdouble s = r->d;\n\tfor (int j = 1; j <= 8; j++) s = s * 0.5 + (double)((x >> j) & 255) / ($v + j);\n";
        print "\tr->d = s;\n\treturn (uint64_t)(s * 1000.0) + x;\n";
    } else {
        my $p = $i > 0 ? rnd($i) : 0;
        my $q = $i > 0 ? rnd($i) : 0;
        if ($i > 0) { print "\tif (x & 4) return f$p(x >> 1, r) + 1;\n\treturn f$q(x ^ 0x5555, r) * 3;\n"; }
        else { print "\treturn x;\n"; }
    }
    print "}\n\n";
}
print "int main(void)\n{\n\tstruct rec r; memset(&r, 0, sizeof r);\n\tuint64_t sum = 0;\n";
print "\tstatic uint64_t (*const fns[])(uint64_t, struct rec *) = {\n";
for my $i (0..$n-1) { print "\t\tf$i,\n"; }
print "\t};\n\tfor (unsigned i = 0; i < sizeof fns / sizeof fns[0]; i++) {\n";
print "\t\tsum = sum * 31 + fns[i](sum + i, &r);\n\t\tif (i % 500 == 0) printf(\"%u %llu %s\\n\", i, (unsigned long long)sum, r.name);\n\t}\n";
print "\tprintf(\"sum %llu a %u b %u c %lld d %.6f\\n\", (unsigned long long)sum, r.a, r.b, (long long)r.c, r.d);\n\treturn 0;\n}\n";
GEN
lines=$(wc -l <"$SRC")
[ "$lines" -gt 20000 ] || gt_die "generated $SRC has only $lines lines"
gt_log "generated $SRC: $lines lines"

# One run: compile with -O2, link, run, and fingerprint the object file.
gt_compare build --stats --min-lines 8 -- bash -c '
	set -e
	gcc -O2 -Wall -c "$1" -o big.o
	gcc big.o -o big
	./big
	sha256sum big.o
	size big.o
' bash "$SRC" || true

# gcc, cc1, as, collect2 and ld each print a report at exit (plus bash and
# the program itself); fewer than 5 means part of the tool chain ran on
# another malloc.
n=$(gt_count_reports build)
if [ "$GT_FAILED" = 0 ] && [ "$n" -lt 5 ]; then
	gt_die "only $n allocator reports in the preloaded build: the tool chain did not all run on libgoalloc.so"
fi
gt_log "$n processes of the preloaded build reported their heap"

gt_finish
