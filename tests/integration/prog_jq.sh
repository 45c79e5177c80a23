#!/bin/bash
# prog_jq: jq on a generated 20 MB JSON document under libgoalloc.so.
#
#   prog_jq.sh <libgoalloc.so> <scratch base dir>
#
# The document is an array of 50,000 records (nested objects, arrays of
# items, strings of varied length with escapes and non-ASCII text, integers
# and floats), generated deterministically. Three jq runs, each parsing the
# whole document:
#   report  group_by / map / sort_by / reduce / select(test(regex)) / paths,
#           printed as JSON;
#   pretty  the whole document re-indented with sorted keys (-S), hashed;
#   stream  --stream -c: every (path, leaf) event, counted and hashed.
# The preloaded runs have a GOALLOC_STATS_FILE and jq's exit report must be
# in it.

# shellcheck disable=SC2016 # single-quoted scripts are expanded by their own shell
. "$(dirname "$0")/lib.sh"
gt_init jq "$@"

gt_require /usr/bin/jq jq
gt_require /usr/bin/perl perl
gt_require /usr/bin/sha256sum coreutils

DOC=$GT_WORK/doc.json
perl - >"$DOC" <<'GEN' || gt_die "cannot generate $DOC"
use strict;
use warnings;
use utf8;
binmode STDOUT, ':encoding(UTF-8)';
my $seed = 2024;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return ($seed >> 16) % $_[0]; }
my @country = qw(NO SE FI DK DE FR NL BE ES PT IT CH AT PL CZ JP KR BR AR CL);
my @words = ('alloc', 'span', 'mcache', 'mcentral', 'mheap', 'arena', 'scavenge',
	'tiny', 'size class', 'free list', 'sweep', 'page', "q\"uote", "tab\there",
	"back\\slash", 'økonomi', 'größe', '日本語', 'naïve', 'Ελληνικά');
my @kind = qw(small tiny large huge);
sub str {
	my $n = shift;
	my $s = join ' ', map { $words[rnd(scalar @words)] } 1 .. $n;
	$s =~ s/(["\\])/\\$1/g;
	$s =~ s/\t/\\t/g;
	return "\"$s\"";
}
print "[\n";
for my $i (1 .. 50000) {
	my @items;
	for my $j (1 .. 1 + rnd(5)) {
		push @items, sprintf '{"kind":"%s","qty":%d,"price":%d.%02d,"tags":[%s]}',
			$kind[rnd(scalar @kind)], 1 + rnd(50), rnd(1000), rnd(100),
			join(',', map { '"t' . rnd(30) . '"' } 1 .. rnd(4));
	}
	printf '{"id":%d,"user":{"name":%s,"country":"%s","age":%d,"active":%s},'
		. '"score":%d.%03d,"text":%s,"items":[%s],"meta":{"rev":%d,"parent":%s}}%s' . "\n",
		$i, str(2), $country[rnd(scalar @country)], 18 + rnd(70),
		rnd(3) ? 'true' : 'false', rnd(10000), rnd(1000), str(3 + rnd(12)),
		join(',', @items), rnd(100), $i > 1 && rnd(2) ? 1 + rnd($i - 1) : 'null',
		$i < 50000 ? ',' : '';
}
print "]\n";
GEN
size=$(wc -c <"$DOC")
if [ "$size" -lt 18000000 ] || [ "$size" -gt 22000000 ]; then
	gt_die "$DOC is $size bytes, expected about 20 MB"
fi
gt_log "generated $DOC: $size bytes"

REPORT='
{
  records: length,
  by_country: (group_by(.user.country) | map({
      country: .[0].user.country,
      n: length,
      active: (map(select(.user.active)) | length),
      mean_age: ((map(.user.age) | add) / length | floor),
      score: (map(.score) | add | . * 1000 | round),
      top: (sort_by(-.score, .id) | .[0:3] | map(.id))
  })),
  by_kind: ([.[].items[]] | group_by(.kind) | map({
      kind: .[0].kind,
      n: length,
      qty: (map(.qty) | add),
      value: (map(.qty * .price) | add | round),
      tags: ([.[].tags[]] | group_by(.) | map([.[0], length]) | sort_by(-.[1], .[0]) | .[0:5])
  })),
  regex: ([.[] | select(.text | test("alloc [a-z]+ span|größe|日本語"))] | length),
  escaped: ([.[] | select(.text | contains("\"") or contains("\\"))] | length),
  names: ([.[].user.name] | unique | {n: length, first: .[0:10], last: .[-10:]}),
  text: (map(.text | ascii_downcase | length) | add),
  parents: (map(select(.meta.parent != null)) | length),
  depth: (reduce (.[0:2000][] | paths | length) as $d (0; if $d > . then $d else . end)),
  lengths: (map(tojson | length) | {min: min, max: max, total: add}),
  top_scores: (sort_by(.score, .id) | reverse | .[0:20] | map({id, score, name: .user.name}))
}'

gt_compare report --stats --min-lines 200 -- jq "$REPORT" "$DOC" || true
gt_compare pretty --stats --min-lines 2 -- bash -c \
	'set -e; jq -S . "$1" >out.json; wc -lc <out.json; sha256sum <out.json' bash "$DOC" || true
gt_compare stream --stats --min-lines 2 -- bash -c \
	'set -e; jq -c --stream . "$1" >out.json; wc -lc <out.json; sha256sum <out.json' bash "$DOC" || true

gt_finish
