#!/bin/bash
# replay.sh CLI: `goalloc-trace replay` of a run's recording (bench/drain.py
# measures the drainer with it) gives the run's figures.  The run is a shell
# running two Pythons that exit with live heaps and a `sleep` between them:
# the Pythons and `sleep` are not the CLI's children, so the live drainer
# finds them gone (cli_drain_reap_rings) and their heaps leave the model
# then; the replay must end them at the same round, not at its end.
set -uo pipefail
cli=$(realpath "$1")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
die() { echo "FAIL: $*"; exit 1; }
prog='x=[str(i)*3 for i in range(150000)]'
GOALLOC_TRACE_RECORD="$dir/rec" PYTHONMALLOC=malloc "$cli" run -q --stacks=off --bpf=off -o "$dir/run.db" -- \
	sh -c "/usr/bin/python3 -c '$prog'; sleep 0.4; /usr/bin/python3 -c '$prog'" || die "run failed"
"$cli" replay -o "$dir/replay.db" "$dir/rec" >"$dir/out" || die "replay failed: $(cat "$dir/out")"
q() { sqlite3 "$dir/$1" "$2"; }
totals="SELECT sum(allocs), sum(frees), sum(requested_bytes), sum(allocated_bytes), sum(refills) FROM class_stats"
a=$(q run.db "$totals") b=$(q replay.db "$totals")
[ "$a" = "$b" ] || die "class_stats totals: run $a, replay $b"
seq="SELECT heap_alloc FROM heap_timeline ORDER BY t_ns"
q run.db "$seq" >"$dir/a"
q replay.db "$seq" >"$dir/b"
na=$(wc -l <"$dir/a") nb=$(wc -l <"$dir/b")
[ "$na" -gt 10 ] && [ "$na" = "$nb" ] || die "heap_timeline rows: run $na, replay $nb"
# a sample may fall one event apart (the replay converts times with its own
# clock fit, a few ns off); a heap left in the model shifts every later row
same=$(paste "$dir/a" "$dir/b" | awk '$1 == $2' | wc -l)
[ $((same * 10)) -ge $((na * 9)) ] || die "heap_timeline: $same of $na samples agree: $(paste -d: "$dir/a" "$dir/b" | tr '\n' ' ')"
echo "ok: $a; $same of $na samples agree"
