#!/bin/bash
# demo.sh: set up, build, and run the bundled demo workload (demo/wordfreq:
# a word-frequency count over generated text, heavy in small strings) on the
# Go-style heap in three configurations, printing the heap's figures at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
lib=$PWD/build/lib/libgoalloc.so
prog=$PWD/build/bin/demo-wordfreq
echo
echo "== goalloc-trace classes (the size classes in use, first rows)"
build/bin/goalloc-trace classes | head -12
for mode in "default (C-safe, tiny merging on)::" "Go-exact:GOALLOC_GO_EXACT=1:" \
            "tiny merging off:GOALLOC_TINY=0:"; do
	IFS=: read -r label env _ <<<"$mode"
	echo
	echo "== demo-wordfreq, $label"
	env ${env:+"$env"} LD_PRELOAD="$lib" GOALLOC_STATS=1 "$prog" 400000 2>&1 | head -40
done
