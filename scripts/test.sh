#!/bin/bash
# test.sh: set up, build with warnings as errors, and run every test
# (unit, preload and real programs) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DGOALLOC_WERROR=ON
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure -j2
