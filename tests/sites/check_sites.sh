#!/bin/bash
# check_sites.sh CLI PROG SRCDIR CASE: allocation sites of sites_prog (whose
# allocating lines carry SITE: markers in SRCDIR) as `goalloc-trace run`
# records them and `goalloc-trace sites` shows them.
#   exact    --stacks=all: each marked site is found by function and
#            file:line, with exact counts, classes and bytes; C++ new and a
#            shared library's allocations included; the raw events name the
#            same stacks; the leak view names leak_site with its count
#   sampled  default sampling (512 KiB): sites with enough samples are
#            within 10% of the truth; class figures stay exact
#   fork     a fork child that allocates from stacks its parent defined, and
#            two programs run by sh -c: sites add up across processes
#   off      --stacks=off records no sites and `sites` says so
#   export   export --format pprof (read back by `go tool pprof -top`),
#            folded and json carry the same figures as site_stats
#   bad      bad input to `sites`: one-line errors, non-zero exits
#   migrate  a file of schema version 5 with a run's stack is migrated by
#            `run -o` and keeps its frames beside the new run's, whose
#            stacks' text comes from their frames (schema 7)
#   programs real programs (git, sqlite3, jq, perl, python3, gcc) under
#            `run --stacks=all`: same output as without tracing, every stack
#            resolved, sites add up to the class figures
#   many     (PROG is many_stacks) 16384 distinct stacks, three
#            allocations each: each stack found with its exact count, and
#            defined once (the target's id tables find a stack again after
#            the first of them has filled)
#   unwind   the same programs and sites_prog (C++, a shared library) with
#            GOALLOC_UNWIND=check at depths 32 and 128: every allocation's stack is
#            taken by libtrace's own unwinder and by libunwind, and a stack
#            on which they differ aborts the program
set -euo pipefail
cli=$1 prog=$2 src=$3 case=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db=$dir/s.db
# shellcheck source=../checks.sh
. "$(dirname "$0")/../checks.sh"

# The real programs of `programs` and `unwind`: LABEL|COMMAND, run in $dir
# on the inputs programs_inputs writes there.
programs_inputs() {
	echo 'int f(int x) { return x * 2; }' >"$dir/x.c"
	printf '[{"a":1,"b":"x"},{"a":2,"b":"y"}]' >"$dir/in.json"
}
programs_list() {
	cat <<EOF2
git|git --git-dir=$src/../../.git log --oneline -5
sqlite3|sqlite3 :memory: 'CREATE TABLE t(a, b); INSERT INTO t SELECT value, hex(randomblob(20)) FROM generate_series(1, 20000); SELECT count(*), sum(length(b)) FROM t;'
jq|jq -c 'map(.a * 2), (group_by(.b) | length)' in.json
perl|perl -e 'my %h; \$h{\$_} = \$_ x 3 for 1 .. 20000; print scalar(keys %h), "\\n"'
python3|/usr/bin/python3 -c 'd = {str(i): [i] * 3 for i in range(50000)}; print(len(d))'
gcc|gcc -O2 -c x.c -o x.o && echo built
EOF2
}

line_of() { # line_of FILE MARKER
	grep -n "SITE:$2" "$src/$1" | head -1 | cut -d: -f1
}
# The stack whose frames hold FUNC at FILE:LINE (any depth): SQL for its id.
site() { # site FUNC FILE MARKER
	local l
	l=$(line_of "$2" "$3")
	echo "(SELECT stack_id FROM site_frames WHERE run_id = 1 AND function LIKE '$1%'
	         AND file LIKE '%/$2' AND line = $l)"
}
class_for() { # SQL: the class of a request of N bytes in this run's mode
	echo "(SELECT min(class) FROM size_class WHERE run_id = 1 AND used AND class > 0 AND size >= $1)"
}
# check_site NAME FUNC FILE MARKER ALLOCS SIZE LIVE: exact figures
check_site() {
	local s
	s=$(site "$2" "$3" "$4")
	check "$1: one stack at $3:$(line_of "$3" "$4") in $2" \
	  "SELECT 'stacks found', count(DISTINCT stack_id) FROM site_frames WHERE stack_id IN $s HAVING count(DISTINCT stack_id) <> 1"
	check "$1: $5 allocations of $6 bytes in class $(sqlite3 "$db" "SELECT $(class_for "$6")"), $7 live at exit" "
	  SELECT 'got', class, allocs, requested_bytes, allocated_bytes, waste_bytes, live_objects_at_end, estimated
	  FROM site_stats s WHERE run_id = 1 AND stack_id = $s
	    AND NOT (allocs = $5 AND class = $(class_for "$6") AND requested_bytes = $5 * $6
	             AND allocated_bytes = $5 * (SELECT size FROM size_class WHERE run_id = 1 AND class = s.class)
	             AND waste_bytes = allocated_bytes - requested_bytes AND live_objects_at_end = $7
	             AND live_bytes_at_end = $7 * (SELECT size FROM size_class WHERE run_id = 1 AND class = s.class)
	             AND estimated = 0)
	  UNION ALL SELECT 'rows', count(*), '', '', '', '', '', '' FROM site_stats WHERE run_id = 1 AND stack_id = $s
	    HAVING count(*) <> 1"
}

case $case in
exact)
	"$cli" run -q --stacks=all --events -o "$db" -- "$prog" 20000 37 >/dev/null
	check_site "waste_site" "waste_site" sites_prog.cpp waste 20000 40 0
	check_site "C++ new" "new_site" sites_prog.cpp new 10000 100 0
	check_site "shared library" "sitelib_alloc" sitelib.c sitelib 5000 200 0
	check_site "big_site" "big_site" sites_prog.cpp big 2500 2000 0
	check_site "leak_site" "leak_site" sites_prog.cpp leak 37 72 37
	check "C++ new: operator new is the innermost frame, new_site the next" "
	  SELECT 'frames', depth, function FROM site_frames WHERE run_id = 1 AND stack_id = $(site new_site sites_prog.cpp new)
	    AND depth < 2 AND NOT ((depth = 0 AND function LIKE 'operator new%') OR (depth = 1 AND function LIKE 'new_site%'))"
	check "shared library frame names its module" "
	  SELECT 'module', module FROM site_frames WHERE run_id = 1 AND stack_id = $(site sitelib_alloc sitelib.c sitelib)
	    AND depth = 0 AND module NOT LIKE '%libsitelib.so'"
	check "raw events name the same stacks (events.stack_id)" "
	  SELECT 'events with the waste_site stack', count(*) FROM events
	  WHERE run_id = 1 AND kind = 1 AND stack_id = $(site waste_site sites_prog.cpp waste) HAVING count(*) <> 20000"
	check "every allocation event carries a stack (--stacks=all)" "
	  SELECT 'alloc events without a stack', count(*) FROM events WHERE kind IN (1, 2, 3) AND stack_id = 0
	  HAVING count(*) > 0"
	check "site totals match the class totals" "
	  SELECT 'class', c.class, c.allocs, s.allocs FROM class_stats c
	  LEFT JOIN (SELECT class, sum(allocs) allocs FROM site_stats WHERE run_id = 1 AND class <> 2 GROUP BY class) s
	    ON s.class = c.class
	  WHERE c.run_id = 1 AND c.class <> 2 AND c.allocs <> coalesce(s.allocs, 0)"
	out=$("$cli" sites "$db" -n 3)
	echo "$out" | head -12
	first=$(echo "$out" | grep -m1 -A2 '^#1 ' | tail -1)
	expect "sites: waste_site ranks first by waste, with its file:line" \
		grep -q "waste_site(long) (.*sites_prog.cpp:$(line_of sites_prog.cpp waste))" <<<"$first"
	leak=$("$cli" sites "$db" --by leaked -n 50 | grep -B2 -m1 "leak_site(long) (.*sites_prog.cpp:$(line_of sites_prog.cpp leak))" || true)
	echo "$leak"
	expect "sites --by leaked: leak_site with exactly 37 objects" grep -q "live at exit: 37 objects" <<<"$leak"
	check "frames in libc have no file:line without --debug-files (its DWARF is in a separate file)" "
	  SELECT 'libc frame with a line', function, file FROM site_frames
	  WHERE run_id = 1 AND module LIKE '%/libc.so.6' AND file IS NOT NULL"
	if dpkg-query -W -f='${Status}' libc6-dbg 2>/dev/null | grep -q "install ok installed"; then
		"$cli" run -q --stacks=all --debug-files -o "$db" -- "$prog" 10 0 >/dev/null
		check "--debug-files: libc frames get file:line from libc6-dbg" "
		  SELECT 'libc frames with a line', count(*) FROM site_frames
		  WHERE run_id = 2 AND module LIKE '%/libc.so.6' AND file IS NOT NULL HAVING count(*) = 0"
	else
		echo "note: libc6-dbg is not installed: --debug-files not checked"
	fi
	cls=$(sqlite3 "$db" "SELECT $(class_for 200)")
	only=$("$cli" sites "$db" --class "$cls" -n 5)
	expect "sites --class $cls: only sitelib_alloc's site" \
		test "$(grep -c '^#' <<<"$only")" = 1 -a "$(grep -c sitelib_alloc <<<"$only")" = 1
	;;
sampled)
	# big_site: 1M x 2000 B = 1.9 GiB, ~3800 samples; sitelib_alloc: 7M x 200 B
	# = 1.3 GiB, ~2700; waste_site: 300k x 40 B, ~23 samples.
	"$cli" run -q -o "$db" -- "$prog" 300000 0 7000000 1000000 >/dev/null
	sqlite3 "$db" "SELECT f.function, s.allocs, s.samples FROM site_stats s JOIN site_frames f
	  ON f.run_id = s.run_id AND f.stack_id = s.stack_id AND f.depth = 0 ORDER BY s.samples DESC LIMIT 5"
	check "the run sampled at 512 KiB" "SELECT 'run', stacks, sample_rate FROM run WHERE NOT (stacks = 'sample' AND sample_rate = 524288)"
	check "sites are marked as estimates" \
	  "SELECT 'estimated', stack_id, estimated FROM site_stats WHERE run_id = 1 AND estimated <> 1"
	check "big_site (>= 2500 samples): allocations and bytes within 10%" "
	  SELECT 'big_site', allocs, requested_bytes, samples FROM site_stats WHERE run_id = 1
	    AND stack_id = $(site big_site sites_prog.cpp big)
	    AND (samples < 2500 OR abs(allocs - 1000000) > 100000 OR abs(requested_bytes - 2000000000) > 200000000)"
	check "sitelib_alloc (>= 2500 samples): allocations and bytes within 10%" "
	  SELECT 'sitelib', allocs, requested_bytes, samples FROM site_stats WHERE run_id = 1
	    AND stack_id = $(site sitelib_alloc sitelib.c sitelib)
	    AND (samples < 2500 OR abs(allocs - 7000000) > 700000 OR abs(requested_bytes - 1400000000) > 140000000)"
	check "a small site: within 5 standard errors (1/sqrt(samples)) of the truth" "
	  SELECT 'waste_site', allocs, samples FROM site_stats WHERE run_id = 1
	    AND stack_id = $(site waste_site sites_prog.cpp waste)
	    AND abs(allocs - 300000) > 300000 * 5.0 / sqrt(max(samples, 1))"
	check "class figures are exact whatever is sampled" "
	  SELECT 'class', class, allocs FROM class_stats WHERE run_id = 1 AND (
	    (class = $(class_for 2000) AND allocs NOT BETWEEN 1000000 AND 1000100) OR
	    (class = $(class_for 200) AND allocs NOT BETWEEN 7000000 AND 7000100) OR
	    (class = $(class_for 40) AND allocs NOT BETWEEN 300000 AND 300100))"
	;;
fork)
	SITES_FORK=1 "$cli" run -q --stacks=all -o "$db" -- "$prog" 3000 11 >/dev/null
	check_site "waste_site in parent and fork child (the child names its parent's stack)" \
		"waste_site" sites_prog.cpp waste 6000 40 0
	check_site "C++ new in both" "new_site" sites_prog.cpp new 3000 100 0
	check_site "leak_site in both" "leak_site" sites_prog.cpp leak 22 72 22
	check_site "held_site: the child's copies of the parent's objects are the parent's, freed by it" \
		"held_site" sites_prog.cpp held 50 56 0
	check "no stack left unresolved" "SELECT 'unresolved', frames FROM sites WHERE frames LIKE '(stack not received)'"
	check "the run has two processes" "SELECT 'pids', pids FROM runs WHERE run_id = 1 AND pids <> 2"
	rm -f "$db"
	"$cli" run -q --stacks=all -o "$db" -- sh -c "'$prog' 1000 3; '$prog' 2000 5" >/dev/null
	check_site "sh -c: waste_site of both programs" "waste_site" sites_prog.cpp waste 3000 40 0
	check_site "sh -c: leak_site of both programs" "leak_site" sites_prog.cpp leak 8 72 8
	;;
export)
	"$cli" run -q --stacks=all -o "$db" -- "$prog" 20000 37 >/dev/null
	if ! command -v go >/dev/null; then
		echo "SKIP: go (Debian's golang-go) is not installed: go tool pprof cannot read the export"
		exit 77
	fi
	"$cli" export "$db" --format pprof -o "$dir/p.pb.gz"
	top=$(go tool pprof -top -sample_index=waste_space "$dir/p.pb.gz" 2>&1)
	echo "$top" | head -8
	first=$(echo "$top" | awk '/flat%/ { getline; print; exit }')
	expect "pprof -top (waste_space): waste_site first" grep -q "waste_site(long)" <<<"$first"
	expect "pprof names the program" grep -q "^File: sites_prog" <<<"$top"
	objs=$(go tool pprof -top -sample_index=alloc_objects "$dir/p.pb.gz" 2>&1 | awk '/flat%/ { getline; print $1, $NF; exit }')
	expect "pprof -top (alloc_objects): 20000 from waste_site ($objs)" test "$objs" = "20000 waste_site(long)"
	lines=$(go tool pprof -lines -top -sample_index=alloc_objects "$dir/p.pb.gz" 2>&1)
	expect "pprof -lines: waste_site at sites_prog.cpp:$(line_of sites_prog.cpp waste)" \
		grep -q "waste_site(long) .*sites_prog.cpp:$(line_of sites_prog.cpp waste)" <<<"$lines"
	"$cli" export "$db" --format folded --value count >"$dir/f.txt"
	head -3 "$dir/f.txt"
	n=$(awk '$0 ~ /;waste_site\(long\) [0-9]+$/ { s += $NF } END { print s + 0 }' "$dir/f.txt")
	expect "folded: main;waste_site(long) 20000 ($n)" test "$n" = 20000
	bad=$(awk 'NF < 2 || $NF !~ /^[0-9]+$/ || $0 !~ /^[^;]+(;[^;]+)* [0-9]+$/' "$dir/f.txt" | head -3)
	expect "folded: every line is frames;...;frames COUNT" test -z "$bad"
	"$cli" export "$db" --format json -o "$dir/s.json"
	got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
n = sum(c["allocs"] for s in d["sites"] for c in s["classes"]
        if any((f["function"] or "").startswith("waste_site") for f in s["frames"]))
print(n, d["estimated"])' "$dir/s.json")
	expect "json: waste_site's allocations ($got)" test "$got" = "20000 False"
	set +e
	msg=$("$cli" export "$db" --format pprof -o - 2>&1)
	rc=$?
	set -e
	expect "export pprof to standard output is refused ($msg)" test "$rc" = 2
	;;
off)
	"$cli" run -q --stacks=off -o "$db" -- "$prog" 1000 3 >/dev/null
	check "no sites with --stacks=off" "SELECT 'rows', count(*) FROM site_stats HAVING count(*) > 0"
	check "runs.stacks says off" "SELECT 'stacks', stacks FROM run WHERE stacks <> 'off'"
	set +e
	msg=$("$cli" sites "$db" 2>&1 >/dev/null)
	rc=$?
	set -e
	echo "$msg"
	expect "sites on a run without stacks: one line, exit 1" \
		test "$rc" = 1 -a "$(wc -l <<<"$msg")" = 1 -a -n "$(grep 'no stacks' <<<"$msg")"
	;;
bad)
	"$cli" run -q -o "$db" -- "$prog" 1000 0 >/dev/null
	echo "not a database" >"$dir/text.db"
	sqlite3 "$dir/other.db" "CREATE TABLE t(x)"
	for args in "$dir/missing.db" "$dir/text.db" "$dir/other.db" "$db --run 7" "$db --run nosuch" \
		"$db --by nothing" "$db --class 99" "$db -n x" ""; do
		set +e
		# shellcheck disable=SC2086
		msg=$("$cli" sites $args 2>&1 >/dev/null)
		rc=$?
		set -e
		expect "sites $args: '$msg' (exit $rc)" \
			test "$rc" -ne 0 -a "$rc" -lt 128 -a "$(wc -l <<<"$msg")" = 1 -a -n "$msg"
	done
	;;
programs)
	programs_inputs
	n=0
	while IFS="|" read -r label cmd; do
		n=$((n + 1))
		want=$(cd "$dir" && eval "$cmd" 2>&1) || { echo "FAIL: $label: the plain run failed"; fail=1; continue; }
		got=$(cd "$dir" && eval "'$cli' run -q --stacks=all -o '$db' -- $cmd" 2>&1) || {
			echo "FAIL: $label: the traced run failed: $got"
			fail=1
			continue
		}
		expect "$label: same output traced" test "$want" = "$got"
		check "$label: sites recorded, every stack resolved" "
		  SELECT 'no sites', count(*) FROM sites WHERE run_id = $n HAVING count(*) = 0
		  UNION ALL SELECT 'unresolved', count(*) FROM sites WHERE run_id = $n AND frames = '(stack not received)'
		  HAVING count(*) > 0"
		check "$label: site allocations = class allocations (small and large)" "
		  SELECT 'class', c.class, c.allocs, s.allocs FROM class_stats c
		  LEFT JOIN (SELECT class, sum(allocs) allocs FROM site_stats WHERE run_id = $n GROUP BY class) s
		    ON s.class = c.class
		  WHERE c.run_id = $n AND c.class <> 2 AND c.allocs <> coalesce(s.allocs, 0)"
	done < <(programs_list)
	;;
unwind)
	programs_inputs
	{ echo "sites_prog|'$prog' 2000 3"; programs_list; } >"$dir/list"
	while IFS='|' read -r label cmd; do
		for depth in 32 128; do # the default, and the most (stacks over 64 frames: no memo)
			rm -f "$db"
			expect "$label, depth $depth: both unwinders give the same stacks" \
				bash -c "cd '$dir' && GOALLOC_UNWIND=check '$cli' run -q --stacks=all --stack-depth $depth -o '$db' -- $cmd >/dev/null"
			check "$label, depth $depth: stacks recorded" "SELECT 'no sites', count(*) FROM sites HAVING count(*) = 0"
		done
	done <"$dir/list"
	;;
many)
	levels=14 repeat=3
	"$cli" run -q --stacks=all --stack-depth 64 -o "$db" -- "$prog" $levels $repeat >/dev/null
	check "$((1 << levels)) stacks through leaf, $repeat allocations each" "
	  SELECT 'stacks', count(*), sum(n = $repeat) FROM
	    (SELECT s.stack_id, sum(s.allocs) AS n FROM site_stats s
	     WHERE s.run_id = 1 AND s.stack_id IN (SELECT stack_id FROM site_frames WHERE run_id = 1 AND function = 'leaf')
	     GROUP BY s.stack_id)
	  HAVING count(*) <> $((1 << levels)) OR sum(n = $repeat) <> count(*)"
	check "each stack defined once by the target" "
	  SELECT 'refs', (SELECT count(*) FROM stack_alias WHERE run_id = 1), 'stacks', count(*) FROM stack WHERE run_id = 1
	  HAVING count(*) <> (SELECT count(*) FROM stack_alias WHERE run_id = 1)"
	;;
migrate)
	# A file of schema version 5 (a row per stack and depth in stack_frame)
	# holding one run's stack; `run -o` on it migrates it and appends.
	for m in "$src"/../../schema/00[1-5]_*.sql; do cat "$m"; echo; done | sqlite3 "$db"
	sqlite3 "$db" "PRAGMA user_version = 5; INSERT INTO goalloc_meta VALUES('format', 'goalloc-trace');
	  INSERT INTO stack VALUES(99, 1, 'old_inner (a.c:3)'||char(10)||'old_outer (a.c:9)');
	  INSERT INTO stack_frame VALUES(99, 1, 0, 4096, '/bin/a', 4000, 'old_inner', 'a.c', 3),
	                                (99, 1, 1, 4200, '/bin/a', 4100, 'old_outer', 'a.c', 9);"
	"$cli" run -q --stacks=all -o "$db" -- "$prog" 1000 3 >/dev/null
	check "the file is at the current version" "SELECT 'version', user_version FROM pragma_user_version WHERE user_version < 7"
	check "the new run stores its frames' text once, in frame, not in its stacks (schema 7)" "
	  SELECT 'stored', count(*) FROM stack WHERE run_id = 1 AND frames <> '' HAVING count(*) > 0
	  UNION ALL SELECT 'no text', count(*) FROM frame WHERE run_id = 1 AND text IS NULL HAVING count(*) > 0"
	check "the new run's text is its frames', innermost first" "
	  SELECT 'text', s.stack_id FROM sites s WHERE s.run_id = 1 AND s.frames NOT LIKE
	    (SELECT f.text FROM stack k, json_each(k.frame_ids) j, frame f
	     WHERE k.run_id = 1 AND k.stack_id = s.stack_id AND j.key = 0 AND f.run_id = 1 AND f.frame_id = j.value) || '%'"
	check "the old run's frames read as before" "
	  SELECT 'old frames', group_concat(depth||':'||function||':'||line, ' ') FROM site_frames WHERE run_id = 99
	  HAVING count(*) <> 2 OR sum(depth = 0 AND function = 'old_inner' AND line = 3 AND pc = 4096) <> 1
	     OR sum(depth = 1 AND function = 'old_outer' AND offset = 4100) <> 1
	  UNION ALL SELECT 'old sites', frames FROM sites WHERE run_id = 99 AND frames NOT LIKE 'old_inner (a.c:3)%old_outer%'"
	check "the new run's frames: every stack's depths 0..n-1, each line of its text a frame" "
	  SELECT 'depths', stack_id, count(*), max(depth) FROM site_frames WHERE run_id = 1 GROUP BY stack_id
	  HAVING count(*) <> max(depth) + 1 OR min(depth) <> 0
	  UNION ALL
	  SELECT 'lines', s.stack_id, length(s.frames) - length(replace(s.frames, char(10), '')) + 1, count(f.depth)
	  FROM sites s LEFT JOIN site_frames f USING (run_id, stack_id) WHERE s.run_id = 1 GROUP BY s.stack_id
	  HAVING count(f.depth) <> length(s.frames) - length(replace(s.frames, char(10), '')) + 1
	  UNION ALL SELECT 'no stacks', 0, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM sites WHERE run_id = 1)"
	check "the new run's innermost frames name the program's allocating functions" "
	  SELECT 'missing', 'new_site' WHERE NOT EXISTS (
	    SELECT 1 FROM site_frames WHERE run_id = 1 AND function LIKE 'new_site%' AND file LIKE '%sites_prog.cpp')"
	;;
*)
	echo "unknown case $case" >&2
	exit 2
	;;
esac
exit $fail
