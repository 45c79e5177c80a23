#!/bin/bash
# demo.sh: set up, build, and trace the two bundled demo workloads with
# `goalloc-trace run` into one database, as two runs: demo/wordfreq (a
# word-frequency count: strings of many sizes, a growing array of lines)
# and demo/records (mostly 17..48-byte objects).  Then show the
# fragmentation report of one run and the two side by side, as text and as
# HTML pages (build/demo-report.html, build/demo-compare.html).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
cli=build/bin/goalloc-trace
db=build/demo.db
rm -f "$db" "$db-wal" "$db-shm"
echo
echo "== goalloc-trace run -o $db --name wordfreq -- build/bin/demo-wordfreq 400000"
"$cli" run -o "$db" --name wordfreq -- build/bin/demo-wordfreq 400000
echo
echo "== goalloc-trace run -o $db --name records -- build/bin/demo-records 200000"
"$cli" run -o "$db" --name records -- build/bin/demo-records 200000
echo
echo "== goalloc-trace report $db --run records"
"$cli" report "$db" --run records
echo
echo "== goalloc-trace compare $db"
"$cli" compare "$db"
echo
echo "== goalloc-trace report $db --run records --format html -o build/demo-report.html"
"$cli" report "$db" --run records --format html -o build/demo-report.html
echo "== goalloc-trace compare $db --format html -o build/demo-compare.html"
"$cli" compare "$db" --format html -o build/demo-compare.html
echo "Open in a browser (self-contained, no network):"
echo "  $PWD/build/demo-report.html"
echo "  $PWD/build/demo-compare.html"
echo
echo "The database is $db: 'goalloc-trace report $db --format json' (or csv) for"
echo "machines; schema/README.md documents the views for SQL."
