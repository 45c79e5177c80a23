#!/bin/bash
# prog_python: a part of CPython's own regression suite (Debian's
# libpython3.11-testsuite) under libgoalloc.so, compared with a plain run.
#
#   prog_python.sh <libgoalloc.so> <scratch base dir>
#
# Two comparisons:
#   suite   the default interpreter: pymalloc serves objects up to 512 bytes
#           from its own mmap'd arenas, every larger block (list and dict
#           storage, strings, buffers) and every C extension's memory goes to
#           malloc, that is to us;
#   malloc  PYTHONMALLOC=malloc: every Python object, however small, is a
#           malloc/realloc/free through our allocator (tiny blocks included).
# regrtest runs each test file in a worker process (-j2), so forked and
# exec'd children are preloaded too. What is compared is the per-test-method
# result of unittest in verbose mode ("test_x (mod.Class.test_x) ... ok"),
# the "Ran N tests" / "OK (skipped=k)" lines and regrtest's final summary;
# timings, load averages and the chatter some tests print are not results.
#
# Uses Debian's /usr/bin/python3, not whatever python3 is first on PATH
# (a pyenv shim, for example, has no test package).

. "$(dirname "$0")/lib.sh"
gt_init python "$@"

PY=/usr/bin/python3
gt_require "$PY" python3
[ -f /usr/lib/python3.11/test/libregrtest/main.py ] ||
	gt_die "CPython's regression suite is missing: install the Debian package 'libpython3.11-testsuite'"
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' ||
	gt_die "$PY is not Python 3.11, the version of libpython3.11-testsuite"

# Test files: containers and strings (most of an interpreter's malloc
# traffic), big integers and decimals (realloc growth), pickle/json/re/xml
# (many short-lived buffers), compression (large buffers), threads, fork, gc,
# weakref, mmap and ctypes. All pass on a plain Debian python3.11; about 50 s
# wall time with -j2.
SUITE="test_dict test_list test_set test_unicode test_json test_re
 test_collections test_itertools test_bytes test_deque test_heapq test_sort
 test_struct test_array test_math test_decimal test_functools test_pickle
 test_copy test_difflib test_csv test_hashlib test_zlib test_enum
 test_dataclasses test_memoryview test_long test_float test_threading
 test_thread test_weakref test_gc test_mmap test_xml_etree test_pyexpat
 test_lzma test_bz2 test_fork1 test_ctypes"
# With PYTHONMALLOC=malloc: a shorter list, every object through malloc,
# and the interpreter's system side: subprocesses (fork and exec from a
# threaded process), os, buffered I/O interrupted by signals, OpenSSL's
# allocations and threads (test_ssl, below), tracemalloc's hooks,
# faulthandler's alternate signal stack, email and logging.
MALLOC_SUITE="test_dict test_list test_set test_unicode test_json test_re
 test_bytes test_collections test_threading test_gc test_weakref test_mmap
 test_ctypes test_subprocess test_os test_io test_tracemalloc
 test_faulthandler test_email test_logging test_descr test_exceptions"

# The filter that keeps the results of a verbose regrtest run, in a stable
# order (workers finish in any order). A test method whose result line is
# interleaved with its own output is still counted in "Ran N tests" and, if
# it failed, in the "FAIL: ..." / "ERROR: ..." headers and the summary.
FILTER=$GT_WORK/regrtest-results.sh
cat >"$FILTER" <<'EOF'
raw=$(mktemp)
cat >"$raw"
sed -n -E \
	-e 's/^(test[[:alnum:]_]* \([^ ]+\) \.\.\. (ok|skipped .*|expected failure|unexpected success|FAIL|ERROR))$/\1/p' \
	-e 's/^((FAIL|ERROR|UNEXPECTED SUCCESS): test[[:alnum:]_]* \([^ ]+\)).*$/\1/p' \
	-e 's/^(Ran [0-9]+ tests?) in .*$/\1/p' \
	-e '/^(OK|FAILED)( \(.*\))?$/p' "$raw" | LC_ALL=C sort
echo "== regrtest summary"
sed -n '/^== Tests result/,$p' "$raw" | grep -v -E '^(Total duration|Tests result)'
rm -f "$raw"
EOF

# 1. The interpreter, and the interpreters it starts (as regrtest's workers
# are started), really run on libgoalloc.so: two heap reports.
gt_assert_preloaded preload-check 2 "$PY" -c '
import json, subprocess, sys
print(len(json.dumps([{"k": i} for i in range(100000)])))
subprocess.run([sys.executable, "-c", "print(sum(range(10**6)))"], check=True)
'

# 2. The regression suite, default allocator setup (pymalloc on top of malloc).
# shellcheck disable=SC2086
gt_compare suite --filter "bash $FILTER" --min-lines 5000 -- \
	"$PY" -m test -j2 -v --timeout 600 $SUITE || true

# 3. The same kind of run with every object through malloc.
# shellcheck disable=SC2086
gt_compare malloc --filter "bash $FILTER" --min-lines 1500 PYTHONMALLOC=malloc -- \
	"$PY" -m test -j2 -v --timeout 600 $MALLOC_SUITE || true

# 4. test_ssl, every object through malloc: its server threads print into
# the verbose log between a test's name and its result, in an order that
# changes from run to run, so only the totals are compared.
gt_compare ssl --min-lines 2 \
	--filter "sed -n -E -e 's/^(Ran [0-9]+ tests?) in .*\$/\1/p' -e '/^(OK|FAILED)( \(.*\))?\$/p'" PYTHONMALLOC=malloc -- \
	"$PY" -m test -v --timeout 600 test_ssl || true

gt_finish
