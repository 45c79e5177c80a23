#!/bin/bash
# demo.sh: set up, build, and trace the bundled demo workload (demo/wordfreq:
# a word-frequency count over generated text, heavy in small strings) with
# `goalloc-trace run`, once in the default C-safe mode and once Go-exact,
# into one database; then show what the heap did, with SQL over the views.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
cli=build/bin/goalloc-trace
db=build/demo.db
rm -f "$db" "$db-wal" "$db-shm"
echo
echo "== goalloc-trace run -o $db --name c-safe -- build/bin/demo-wordfreq 400000"
"$cli" run -o "$db" --name c-safe -- build/bin/demo-wordfreq 400000
echo
echo "== goalloc-trace run -o $db --name go-exact --go-exact -- build/bin/demo-wordfreq 400000"
"$cli" run -o "$db" --name go-exact --go-exact -- build/bin/demo-wordfreq 400000 >/dev/null
q() { sqlite3 -header -column "$db" "$1"; }
echo
echo "== the runs"
q "SELECT run_id, name, mode, duration_ns/1000000 AS ms, events, dropped, exit_status FROM runs"
echo
echo "== the heap at its peak (Go's names; waste = size-class, span, page-heap)"
q "SELECT name, peak_heap_alloc AS HeapAlloc, peak_requested AS requested,
          peak_heap_alloc - peak_requested AS size_class_waste,
          peak_heap_inuse - peak_heap_alloc AS span_waste, peak_heap_sys AS HeapSys
   FROM run ORDER BY run_id"
echo
echo "== size-class waste by class, both modes (top 8 by requests)"
q "SELECT c.class, s.size,
          sum(CASE WHEN r.mode='c-safe' THEN c.allocs END) AS allocs,
          printf('%.1f%%', 100.0 * sum(CASE WHEN r.mode='c-safe' THEN c.allocated_bytes - c.requested_bytes END)
                 / max(1, sum(CASE WHEN r.mode='c-safe' THEN c.allocated_bytes END))) AS waste_csafe,
          printf('%.1f%%', 100.0 * sum(CASE WHEN r.mode='go-exact' THEN c.allocated_bytes - c.requested_bytes END)
                 / max(1, sum(CASE WHEN r.mode='go-exact' THEN c.allocated_bytes END))) AS waste_goexact
   FROM class_stats c JOIN runs r USING(run_id) JOIN size_classes s USING(run_id, class)
   GROUP BY c.class ORDER BY sum(c.allocs) DESC LIMIT 8"
echo
echo "== tiny allocator"
q "SELECT r.name, t.blocks, t.objects, printf('%.2f', t.objects_per_block_avg) AS per_block
   FROM tiny_stats t JOIN runs r USING(run_id)"
echo
echo "The database is $db; schema/README.md documents every view."
