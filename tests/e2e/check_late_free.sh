#!/bin/bash
# check_late_free.sh CLI PROG: frees made after the process's exit record
# (by library destructors that run after libgoalloc's; seen with curl in a
# shell pipeline) still find their objects: the process's heap stays in the
# model until the process is gone.
set -uo pipefail
cli=$(realpath "$1") prog=$(realpath "$2")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
die() { echo "FAIL: $*"; exit 1; }
q() { sqlite3 "$dir/t.db" "$1"; }
out=$("$cli" run -q --stacks=off -o "$dir/t.db" -- bash -c "'$prog' | cat") || die "run failed"
[ "$out" = ok ] || die "the program said: $out"
u=$(q "SELECT unmatched_frees FROM run")
[ "$u" = 0 ] || die "$u frees left without their allocation"
pid=$(q "SELECT pid FROM process WHERE command LIKE '%late_free'")
[ -n "$pid" ] || die "the program is not a process of the run: $(q 'SELECT pid, seq, command FROM process')"
echo ok
