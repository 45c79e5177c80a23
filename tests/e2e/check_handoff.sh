#!/bin/bash
# check_handoff.sh CLI HANDOFF: spans handed between threads within one tick
# of the coarse clock are still modelled in causal order: a refill is never
# taken before the SPAN_ALLOC that made its span, so no free is left
# without its allocation and no class goes negative.
set -uo pipefail
cli=$(realpath "$1") prog=$(realpath "$2")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
die() { echo "FAIL: $*"; exit 1; }
q() { sqlite3 "$dir/t.db" "$1"; }
out=$("$cli" run -q --stacks=off -o "$dir/t.db" -- "$prog" 8 8 20000) || die "run failed"
n=${out#ok }
[ "$n" = 1280000 ] || die "the program said: $out"
u=$(q "SELECT unmatched_frees FROM run")
[ "$u" = 0 ] || die "$u frees left without their allocation"
neg=$(q "SELECT count(*) FROM class_stat WHERE live_objects < 0 OR live_bytes < 0 OR live_requested < 0")
[ "$neg" = 0 ] || die "$neg classes with negative live figures"
# the program's objects are 1500..8199 bytes, all freed by their threads
got=$(q "SELECT sum(c.allocs) || ' ' || sum(c.frees) FROM class_stats c JOIN size_classes s USING (run_id, class)
         WHERE s.size >= 1536 AND c.class > 0")
set -- $got
[ "$1" -ge "$n" ] && [ "$2" -ge "$n" ] || die "allocations and frees of 1.5-8 KiB: $got, the program made $n of each"
echo "ok: $got"
