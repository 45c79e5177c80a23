#!/bin/bash
# prog_perl: a perl program that leans on the interpreter's memory under
# libgoalloc.so: a word-frequency hash of a generated 400,000-word text,
# regex matching, substitution and captures, nested data structures, sort
# with custom comparators, sprintf/pack/unpack, string repetition and
# growth, Storable freeze/thaw, Data::Dumper, Digest::MD5, Encode, and
# interpreter threads (each thread clones the whole interpreter).
#
#   prog_perl.sh <libgoalloc.so> <scratch base dir>
#
# Perl's hash order is randomised per process: the program sorts whatever it
# prints, and PERL_HASH_SEED is fixed besides. perl's preloaded run has a
# GOALLOC_STATS_FILE and its exit report must be in it.

. "$(dirname "$0")/lib.sh"
gt_init perl "$@"

gt_require /usr/bin/perl perl
/usr/bin/perl -MStorable -MData::Dumper -MDigest::MD5 -MEncode -MList::Util -e 1 ||
	gt_die "perl lacks a core module: install the Debian package 'perl'"
/usr/bin/perl -Mthreads -e 1 || gt_die "this perl has no threads: install Debian's 'perl'"

PROG=$GT_WORK/work.pl
cat >"$PROG" <<'EOF'
use strict;
use warnings;
use threads;
use threads::shared;
use Storable qw(freeze thaw dclone);
use Data::Dumper;
use Digest::MD5 qw(md5_hex);
use Encode qw(encode decode);
use List::Util qw(sum max min reduce shuffle);

$Data::Dumper::Sortkeys = 1;
$Data::Dumper::Indent = 1;
my $seed = 1;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return ($seed >> 16) % $_[0]; }

# 1. Text and word frequencies.
my @syll = qw(ga mo al lo ca sp an he ap ti ny fr ee sc av en ge ar);
my @vocab = map { join '', map { $syll[rnd(scalar @syll)] } 1 .. 1 + rnd(4) } 1 .. 5000;
my $text = '';
for my $i (1 .. 400000) {
	$text .= $vocab[rnd(scalar @vocab)];
	my $r = rnd(20);
	$text .= $r == 0 ? ".\n" : $r < 4 ? ', ' : ' ';
}
printf "text: %d bytes, md5 %s\n", length $text, md5_hex($text);
my %freq;
$freq{$1}++ while $text =~ /\b([a-z]+)\b/g;
my @top = (sort { $freq{$b} <=> $freq{$a} || $a cmp $b } keys %freq)[0 .. 24];
printf "words: %d distinct, %d total\n", scalar keys %freq, sum values %freq;
printf "  %-12s %6d\n", $_, $freq{$_} for @top;

# 2. Regexes: captures, alternation, substitution with code.
my @sentences = split /\.\n/, $text;
my %by_len;
push @{ $by_len{ scalar(() = /\s+/g) } }, $_ for @sentences;
printf "sentences: %d, by word count: %s\n", scalar @sentences,
	join(' ', map { "$_:" . scalar @{ $by_len{$_} } } sort { $a <=> $b } keys %by_len);
my $n = () = $text =~ /\b(ga|mo)(?:al|lo)+\w*\b/g;
print "ga/mo words: $n\n";
(my $shout = $text) =~ s/\b(\w)(\w*)\b/\U$1\E$2/g;
print "capitalised md5: ", md5_hex($shout), "\n";
(my $rev = substr $text, 0, 200000) =~ s/(\w+)/reverse $1/ge;
print "reversed md5: ", md5_hex($rev), "\n";
my @pairs = $text =~ /(\w+), (\w+)/g;
printf "comma pairs: %d, first %s/%s, last %s/%s\n", @pairs / 2, @pairs[0, 1, -2, -1];

# 3. Nested structures, sort, sprintf, pack.
my %db;
for my $i (1 .. 60000) {
	my $k = sprintf 'key%05d', rnd(20000);
	push @{ $db{$k}{hits} }, $i;
	$db{$k}{score} += rnd(1000) / 7;
	$db{$k}{tags}{ $vocab[rnd(50)] } = 1;
}
my @ranked = sort { $db{$b}{score} <=> $db{$a}{score} || $a cmp $b } keys %db;
printf "db: %d keys; best %s %.4f (%d hits); worst %s %.4f\n", scalar @ranked,
	$ranked[0], $db{ $ranked[0] }{score}, scalar @{ $db{ $ranked[0] }{hits} },
	$ranked[-1], $db{ $ranked[-1] }{score};
my $packed = join '', map { my $h = sprintf '%x', $_ * 2654435761 % 4294967296; pack 'NnC/a*', $_, length $h, $h } 1 .. 50000;
printf "packed: %d bytes, md5 %s\n", length $packed, md5_hex($packed);
my @un = unpack '(NnC/a*)*', $packed;
printf "unpacked: %d fields, sum %d\n", scalar @un, sum(grep { /^\d+$/ } @un);
my @nums = map { rnd(1000000) } 1 .. 200000;
my @sorted = sort { $a <=> $b } @nums;
my @strs = sort map { sprintf '%08.3f|%s', $_ / 1000, $vocab[$_ % 5000] } @nums[0 .. 49999];
printf "sorted: min %d max %d median %d; strs %s .. %s\n", $sorted[0], $sorted[-1],
	$sorted[@sorted / 2], $strs[0], $strs[-1];

# 4. Growth and shrink: strings, arrays, hash deletes.
my @big;
for my $i (1 .. 2000) {
	my $s = 'x' x (1 + rnd(20000));
	push @big, $s . $i;
	splice @big, rnd(scalar @big), 1 if $i % 3 == 0;
}
printf "big: %d strings, %d bytes\n", scalar @big, sum map { length } @big;
delete @db{ grep { /[02468]$/ } keys %db };
printf "db after delete: %d keys\n", scalar keys %db;

# 5. Serialisation.
my $frozen = freeze(\%db);
my $copy = thaw($frozen);
my $clone = dclone($copy);
my $dump = Dumper({ map { $_ => $clone->{$_} } (sort keys %$clone)[0 .. 9] });
printf "storable: %d bytes; dumper: %d lines, md5 %s\n", length $frozen,
	scalar(() = $dump =~ /\n/g), md5_hex($dump);
print join("\n", (split /\n/, $dump)[0 .. 15]), "\n";

# 6. Unicode.
my $u = join ' ', map { "æøå-$_-日本-" . chr(0x3b1 + $_ % 24) } 1 .. 20000;
my $bytes = encode('UTF-8', $u);
my $back = decode('UTF-8', $bytes);
printf "unicode: %d chars, %d bytes, round trip %s, uc md5 %s\n", length $u,
	length $bytes, $back eq $u ? 'ok' : 'BAD', md5_hex(encode('UTF-8', uc $back));

# 7. Threads: each clones the interpreter and builds its own data.
my %shared :shared;
my @thr = map {
	my $t = $_;
	threads->create(sub {
		my %h;
		$h{ $vocab[($_ * 7 + $t) % 5000] } .= $_ for 1 .. 10000 * $t;
		my $s = sum map { length } values %h;
		{ lock %shared; $shared{"t$t"} = $s; }
		return scalar keys %h;
	});
} 1 .. 4;
my @res = map { $_->join } @thr;
print "threads: @res; ", join(' ', map { "$_=$shared{$_}" } sort keys %shared), "\n";
print "done\n";
EOF

gt_compare work --stats --min-lines 40 PERL_HASH_SEED=12345 PERL_PERTURB_KEYS=0 -- \
	/usr/bin/perl "$PROG" || true

gt_finish
