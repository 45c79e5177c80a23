#!/bin/bash
# check_bad_input.sh CLI WORKLOAD: report and compare on bad input print one
# line, "goalloc-trace: CMD: FILE: reason", and exit 1 (data) or 2 (usage);
# they never create, change or migrate a file, nor leave -wal/-shm files.
set -uo pipefail
cli=$(realpath "$1") prog=$(realpath "$2")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
fail=0
# expect RC PATTERN CMD...: exit status RC, exactly one stderr line matching PATTERN
expect() {
	local want=$1 pat=$2
	shift 2
	"$@" >out 2>err
	local rc=$?
	if [ $rc -ne "$want" ] || [ "$(wc -l <err)" -ne 1 ] || ! grep -qE -- "$pat" err; then
		echo "FAIL: $* -> exit $rc (want $want), stderr: $(cat err)"
		fail=1
	else
		echo "ok: $* -> $(cat err)"
	fi
}
"$cli" run -q -o good.db --name first -- "$prog" odd >/dev/null || { echo "FAIL: run"; exit 1; }
"$cli" run -q -o good.db --name second -- "$prog" odd >/dev/null || { echo "FAIL: run"; exit 1; }
cp good.db good.orig
echo "hello, not a database" >text.db
sqlite3 other.db "CREATE TABLE x(a); INSERT INTO x VALUES(1);"
: >empty.db
cp good.db newer.db
sqlite3 newer.db "PRAGMA user_version = 99"
cp text.db text.orig; cp other.db other.orig; cp newer.db newer.orig
mkdir adir

for cmd in report compare; do
	expect 1 "^goalloc-trace: $cmd: missing.db: no such file$" "$cli" $cmd missing.db
	expect 1 "^goalloc-trace: $cmd: adir: is a directory$" "$cli" $cmd adir
	expect 1 "^goalloc-trace: $cmd: text.db: not a goalloc database" "$cli" $cmd text.db
	expect 1 "^goalloc-trace: $cmd: other.db: not a goalloc database" "$cli" $cmd other.db
	expect 1 "^goalloc-trace: $cmd: empty.db: not a goalloc database" "$cli" $cmd empty.db
	expect 1 "^goalloc-trace: $cmd: newer.db: written by a newer goalloc-trace" "$cli" $cmd newer.db
	expect 2 "^goalloc-trace: $cmd: unknown format 'xml'" "$cli" $cmd good.db --format xml
	expect 2 "^goalloc-trace: $cmd: unknown option '--frobnicate'" "$cli" $cmd good.db --frobnicate
	expect 2 "^goalloc-trace: $cmd: --format needs a value" "$cli" $cmd good.db --format
	expect 2 "^goalloc-trace: $cmd: no FILE given" "$cli" $cmd
	expect 1 "^goalloc-trace: $cmd: /no/such/dir/out.txt: cannot write" "$cli" $cmd good.db -o /no/such/dir/out.txt
	expect 1 "^goalloc-trace: $cmd: /dev/full: cannot write: No space left on device" "$cli" $cmd good.db --format html -o /dev/full
	"$cli" $cmd --help >out 2>err && grep -q "^usage: goalloc-trace $cmd" out && [ ! -s err ] ||
		{ echo "FAIL: $cmd --help"; fail=1; }
done
expect 1 "^goalloc-trace: report: good.db: no run with id or name '7'$" "$cli" report good.db --run 7
expect 1 "^goalloc-trace: report: good.db: no run with id or name 'third'$" "$cli" report good.db --run third
expect 2 "^goalloc-trace: report: --run needs a value" "$cli" report good.db --run
expect 2 "^goalloc-trace: report: one FILE only" "$cli" report good.db good.db
expect 1 "^goalloc-trace: compare: good.db: no run with id or name 'third'$" "$cli" compare good.db:third
expect 1 "^goalloc-trace: compare: missing.db: no such file$" "$cli" compare good.db missing.db:1

# run selection: default the last run; by id; by name (into files: grep -q
# would end a pipe early, and pipefail would see the CLI's SIGPIPE)
"$cli" report good.db --format json >j0 && grep -q '"name": "second"' j0 || { echo "FAIL: default run is not the last"; fail=1; }
"$cli" report good.db --run 1 --format json >j1 && grep -q '"name": "first"' j1 || { echo "FAIL: --run 1"; fail=1; }
"$cli" report good.db --run first --format json >j2 && grep -q '"run_id": 1,' j2 || { echo "FAIL: --run first"; fail=1; }
"$cli" report good.db -o rep.txt && grep -q "^goalloc-trace report: run 2 of good.db" rep.txt ||
	{ echo "FAIL: -o rep.txt"; fail=1; }
# the top-level help lists the new commands
"$cli" --help >h && grep -q "^  report " h && grep -q "^  compare " h ||
	{ echo "FAIL: goalloc-trace --help does not list report and compare"; fail=1; }

# nothing was changed or left behind
for f in good text other newer; do
	cmp -s $f.db $f.orig || { echo "FAIL: $f.db was changed"; fail=1; }
done
[ ! -s empty.db ] || { echo "FAIL: empty.db was written"; fail=1; }
[ ! -e missing.db ] || { echo "FAIL: missing.db was created"; fail=1; }
ls | grep -q -- '-wal\|-shm' && { echo "FAIL: left WAL files behind: $(ls)"; fail=1; }
# a read-only directory and file (a user other than root, when root runs the tests)
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	mkdir ro && cp good.db ro/ && chmod 444 ro/good.db && chmod 555 ro && chmod 755 "$dir"
	su nobody -s /bin/sh -c "'$cli' report '$dir/ro/good.db' >/dev/null" ||
		{ echo "FAIL: report in a read-only directory"; fail=1; }
	chmod 755 ro
fi
[ $fail = 0 ] && echo ok
exit $fail
