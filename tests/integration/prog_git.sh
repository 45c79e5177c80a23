#!/bin/bash
# prog_git: git on a generated tree of 4,000 files under libgoalloc.so:
# add + commit everything, 30 more commits that edit, add, rename and delete
# files (with a side branch and a merge), then log --stat, diff, blame, grep,
# gc --aggressive, fsck.
#
#   prog_git.sh <libgoalloc.so> <scratch base dir>
#
# Made deterministic by fixed author/committer names and dates, no user or
# system configuration, and no auto gc; pack files are not compared byte for
# byte (the delta search is multithreaded), their object counts are. Every
# process of the scenario runs preloaded (bash, git and the git helpers it
# starts: pack-objects, repack, ...). The preloaded run has a
# GOALLOC_STATS_FILE and every process's exit report must be in it.

. "$(dirname "$0")/lib.sh"
gt_init git "$@"

gt_require /usr/bin/git git
gt_require /usr/bin/perl perl

# Input tree: 4,000 text files in 40 directories, generated deterministically.
TREE=$GT_WORK/tree
perl - "$TREE" <<'GEN' || gt_die "cannot generate the input tree"
use strict;
use warnings;
my $root = shift;
my $seed = 42;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return ($seed >> 16) % $_[0]; }
my @words = qw(alloc span class cache central heap arena page tiny free
	scavenge sweep mark object pointer size bytes thread lock atomic);
mkdir $root or die "$root: $!";
for my $d (0 .. 39) {
	my $dir = sprintf "%s/pkg%02d", $root, $d;
	mkdir $dir or die "$dir: $!";
	for my $f (0 .. 99) {
		open my $fh, '>', sprintf("%s/file%03d.txt", $dir, $f) or die $!;
		my $lines = 5 + rnd(60);
		for my $l (1 .. $lines) {
			print $fh join(' ', map { $words[rnd(scalar @words)] } 1 .. 3 + rnd(10)), " $d.$f.$l\n";
		}
		close $fh;
	}
}
GEN
[ "$(find "$TREE" -type f | wc -l)" -eq 4000 ] || gt_die "the input tree does not have 4000 files"

SCENARIO=$GT_WORK/scenario.sh
cat >"$SCENARIO" <<'EOF'
set -eu
tree=$1
export HOME=$PWD/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME='A U Thor' GIT_AUTHOR_EMAIL=author@example.com
export GIT_COMMITTER_NAME='C O Mitter' GIT_COMMITTER_EMAIL=committer@example.com
mkdir -p "$HOME"
tick=1700000000
commit() { # message
	tick=$((tick + 3600))
	GIT_AUTHOR_DATE="@$tick +0000" GIT_COMMITTER_DATE="@$tick +0000" \
		git commit -q -m "$1"
}
git init -q -b main repo
cd repo
git config gc.auto 0
git config gc.autoDetach false
git config maintenance.auto false
git config core.pager cat
cp -r "$tree"/. .
git add -A
commit "import 4000 files"
echo "== initial"
git rev-parse HEAD
git ls-files | wc -l
git count-objects | sed 's/, [0-9]* kilobytes$//'
for i in $(seq 1 30); do
	# edit 100 files, add 20, rename 5, delete 5: all chosen by i
	for j in $(seq 0 99); do
		f=$(printf 'pkg%02d/file%03d.txt' $(((i * 7 + j) % 40)) $(((i * 13 + j * 3) % 100)))
		if [ -f "$f" ]; then printf 'change %d.%d of the allocator\n' "$i" "$j" >>"$f"; fi
	done
	mkdir -p "new$i"
	for j in $(seq 1 20); do
		printf 'new file %d/%d\n%s\n' "$i" "$j" "$(seq "$j" $((j * i)) | tr '\n' ' ')" >"new$i/n$j.txt"
	done
	for j in 1 2 3 4 5; do
		f=$(printf 'pkg%02d/file%03d.txt' $(((i + j) % 40)) $(((i * j) % 100)))
		if [ -f "$f" ]; then git mv "$f" "$f.moved$i"; fi
		f=$(printf 'pkg%02d/file%03d.txt' $(((i * 3 + j) % 40)) $(((i * 11 + j * 17) % 100)))
		if [ -f "$f" ]; then git rm -q -f "$f"; fi
	done
	git add -A
	commit "change set $i"
	if [ "$i" = 10 ]; then
		git checkout -q -b side HEAD~3
		mkdir side
		for f in pkg07/*.txt; do
			sed 's/tiny/TINY/g' "$f" >"side/${f#pkg07/}"
		done
		git add -A
		commit "side: pkg07 shouting tiny"
		git checkout -q main
	fi
	if [ "$i" = 20 ]; then
		tick=$((tick + 60))
		GIT_AUTHOR_DATE="@$tick +0000" GIT_COMMITTER_DATE="@$tick +0000" \
			git merge -q --no-edit -m "merge side" side
	fi
done
echo "== log"
git log --stat --format='%H %an %ad %s' --date=iso-strict main
echo "== log graph"
git log --graph --oneline --all | head -n 60
echo "== diff"
git diff --stat HEAD~15 HEAD
git diff HEAD~2 HEAD -- pkg0* | head -n 400
git diff -M --summary HEAD~30 HEAD | sort | head -n 100
echo "== blame"
git blame -s pkg07/file001.txt
echo "== grep"
git grep -c 'scavenge sweep' HEAD | tail -n 50
git grep -n -e 'TINY' --and -e 'arena' HEAD~5 | head -n 50
echo "== gc"
git gc -q --aggressive --prune=now
git count-objects -v | grep -E '^(count|in-pack|packs|prune-packable|garbage):'
git fsck --full --strict --no-progress
git rev-list --all --objects | sort | sha256sum
git ls-tree -r HEAD | sha256sum
git status --porcelain | wc -l
echo "== archive"
git archive --format=tar HEAD | tar -tf - | sort | sha256sum
EOF

gt_compare scenario --stats --min-lines 2000 -- bash "$SCENARIO" "$TREE" || true

n=$(gt_count_reports scenario)
if [ "$GT_FAILED" = 0 ] && [ "$n" -lt 200 ]; then
	gt_die "only $n allocator reports in the preloaded scenario: git did not run on libgoalloc.so"
fi
gt_log "$n processes of the preloaded scenario reported their heap"

gt_finish
