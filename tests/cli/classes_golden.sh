#!/bin/bash
# classes_golden.sh CLI TSV: `classes --go-exact` must reproduce Go's table
# (every column of TSV, including max waste and alignment), and the default
# mode must mark class 3 unused.
set -euo pipefail
cli=$1 tsv=$2
got=$(mktemp)
trap 'rm -f "$got"' EXIT
"$cli" classes --go-exact | awk 'NR>2 {gsub("%","",$7); print $2"\t"$3"\t"$4"\t"$5"\t"$6"\t"$7"\t"$8}' >"$got"
tail -n +2 "$tsv" | diff -u - "$got"
"$cli" classes >"$got"
grep -q "^//      3 .*unused" "$got" || { echo "C-safe table does not mark class 3 unused"; exit 1; }
echo ok
