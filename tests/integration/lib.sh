# tests/integration/lib.sh: shared helpers of the real-program tests.
#
# Each prog_<name>.sh sources this file and calls
#     gt_init <name> <path of libgoalloc.so> <scratch base dir>
# then generates its inputs under $GT_WORK and calls gt_compare, which runs a
# command twice, without and with LD_PRELOAD=libgoalloc.so, and fails the test
# unless both runs exit with the expected status and print the same stdout.
#
# Contract of a compared run:
#   - it runs in the directory $GT_WORK/run (same absolute path both times, so
#     paths printed by the program do not differ); the directory is moved to
#     $GT_WORK/<label>.<mode>.d afterwards;
#   - stdin is /dev/null; stdout and stderr go to $GT_WORK/<label>.<mode>.out
#     and .err; the exit status to .rc;
#   - GT_MODE is "plain" or "preload" in the run's environment; LD_PRELOAD is
#     unset in the plain run and is the library (alone) in the preload run, and
#     is inherited by every process the command starts;
#   - a run that takes longer than GT_RUN_TIMEOUT seconds is killed and the
#     test fails with "timed out" (a hang under the preload is a failure, not
#     something for ctest's TIMEOUT to find later without a message).
#
# Output that legitimately differs between two runs must be made
# deterministic by the test itself (fixed dates, seeds, ...), or removed by a
# --filter that keeps the program's real results; never by not comparing.

set -u
set -o pipefail

GT_NAME=
GT_LIB=
GT_WORK=
GT_RUN_TIMEOUT=${GT_RUN_TIMEOUT:-300}
GT_FAILED=0

gt_log() { printf '%s: %s\n' "prog_$GT_NAME" "$*"; }

# gt_die MESSAGE...: fail the test at once.
gt_die()
{
	printf '%s: FAIL: %s\n' "prog_$GT_NAME" "$*" >&2
	exit 1
}

gt_cleanup()
{
	local rc=$?
	if [ -n "$GT_WORK" ] && [ -d "$GT_WORK" ]; then
		if [ "${GT_KEEP:-0}" = 1 ]; then
			gt_log "scratch directory kept: $GT_WORK"
		else
			rm -rf "$GT_WORK"
		fi
	fi
	return $rc
}

# gt_init NAME LIB SCRATCH_BASE
gt_init()
{
	GT_NAME=$1
	if [ $# -ne 3 ]; then
		gt_die "usage: prog_$1.sh <path of libgoalloc.so> <scratch base dir>"
	fi
	case $2 in
	/*) GT_LIB=$2 ;;
	*) GT_LIB=$PWD/$2 ;;
	esac
	[ -f "$GT_LIB" ] || gt_die "no preload library at $GT_LIB (build the goalloc target)"
	mkdir -p "$3" || gt_die "cannot create scratch base $3"
	GT_WORK=$(mktemp -d "$3/prog_$GT_NAME.XXXXXX") || gt_die "cannot create scratch dir under $3"
	trap gt_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# The test's own environment must not carry a preload or our knobs: the
	# plain run must be plain, and the preload run must be the default mode.
	unset LD_PRELOAD GOALLOC_GO_EXACT GOALLOC_TINY GOALLOC_STATS GOALLOC_STATS_FILE \
		GOALLOC_SCAVENGE GOALLOC_SCAVENGE_PERCENT GOALLOC_SCAVENGE_MIN_KB
	export LC_ALL=C.UTF-8 TZ=UTC
	export TMPDIR=$GT_WORK/tmp
	mkdir -p "$TMPDIR"
	command -v timeout >/dev/null || gt_die "timeout(1) is missing: install coreutils"
}

# gt_require PATH PACKAGE: fail (not skip) when a program is missing.
gt_require()
{
	[ -x "$1" ] || gt_die "$1 is missing: install the Debian package '$2' (apt-get install $2)"
}

# gt_describe_rc RC: human words for an exit status from timeout(1) / bash.
gt_describe_rc()
{
	local rc=$1
	if [ "$rc" -eq 124 ]; then
		echo "timed out after ${GT_RUN_TIMEOUT}s (a hang?)"
	elif [ "$rc" -eq 137 ]; then
		echo "killed by SIGKILL (status 137: ignored SIGTERM after the ${GT_RUN_TIMEOUT}s timeout, or the OOM killer)"
	elif [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then
		echo "killed by signal SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128))) (status $rc)"
	else
		echo "exit status $rc"
	fi
}

# gt_show_tail FILE WHAT: print the end of a run's output file for the log.
gt_show_tail()
{
	if [ -s "$1" ]; then
		printf -- '--- last lines of %s (%s) ---\n' "$2" "$1"
		tail -n 40 "$1"
		printf -- '--- end ---\n'
	fi
}

# gt_run MODE LABEL [ENV=VALUE...] -- CMD ARGS...
# Runs the command once in MODE (plain | preload | stats); "stats" is preload
# with GOALLOC_STATS_FILE=$GT_WORK/LABEL.stats.reports: every process appends
# its exit report there, not to the program's stderr (which stays the
# program's, and which coreutils close before exit). Sets GT_RC.
gt_run()
{
	local mode=$1 label=$2
	shift 2
	local envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	[ "${1-}" = -- ] && shift
	local base=$GT_WORK/$label.$mode
	local rundir=$GT_WORK/run
	rm -rf "$rundir" "$base.d" "$base.reports"
	mkdir -p "$rundir"
	local pre=()
	case $mode in
	plain) pre=(env -u LD_PRELOAD GT_MODE=plain) ;;
	preload) pre=(env LD_PRELOAD="$GT_LIB" GT_MODE=preload) ;;
	stats) pre=(env LD_PRELOAD="$GT_LIB" GOALLOC_STATS_FILE="$base.reports" GT_MODE=preload) ;;
	*) gt_die "gt_run: bad mode $mode" ;;
	esac
	local t0=$SECONDS
	GT_RC=0
	(cd "$rundir" && exec timeout -k 10 "$GT_RUN_TIMEOUT" "${pre[@]}" "${envs[@]}" "$@") \
		>"$base.out" 2>"$base.err" </dev/null || GT_RC=$?
	echo "$GT_RC" >"$base.rc"
	mv "$rundir" "$base.d"
	gt_log "$label: $mode run: $(gt_describe_rc "$GT_RC") in $((SECONDS - t0))s"
}

# gt_compare LABEL [--rc N] [--filter CMD] [--stats] [--min-lines N] [ENV=VALUE...] -- CMD ARGS...
#
# Runs CMD without and then with the preload, and compares exit status and
# stdout (after --filter, a shell command reading the raw stdout on stdin, if
# given) with diff -u. The plain run must exit with N (default 0) and print at
# least --min-lines lines (default 1), otherwise the test itself is broken.
# --stats runs the preloaded command with a GOALLOC_STATS_FILE and requires
# the allocator's exit report in it, which proves that the compared run
# itself went through libgoalloc.so.
gt_compare()
{
	local label=$1
	shift
	local want_rc=0 filter=cat stats=0 min_lines=1
	while [ $# -gt 0 ]; do
		case $1 in
		--rc) want_rc=$2; shift 2 ;;
		--filter) filter=$2; shift 2 ;;
		--stats) stats=1; shift ;;
		--min-lines) min_lines=$2; shift 2 ;;
		*) break ;;
		esac
	done
	local pmode=preload
	[ $stats = 1 ] && pmode=stats
	local p=$GT_WORK/$label.plain q=$GT_WORK/$label.$pmode

	gt_run plain "$label" "$@"
	local prc=$GT_RC
	if [ "$prc" -ne "$want_rc" ]; then
		gt_show_tail "$p.err" "stderr of the plain run"
		gt_show_tail "$p.out" "stdout of the plain run"
		gt_die "$label: the run WITHOUT the preload gave $(gt_describe_rc "$prc"), expected $want_rc: the test or this machine is broken, not the allocator"
	fi
	bash -c "$filter" <"$p.out" >"$p.cmp" || gt_die "$label: filter '$filter' failed on the plain output"
	local n
	n=$(wc -l <"$p.cmp")
	if [ "$n" -lt "$min_lines" ]; then
		gt_show_tail "$p.err" "stderr of the plain run"
		gt_die "$label: the plain run printed $n lines to compare, expected at least $min_lines: the test is too weak"
	fi

	gt_run "$pmode" "$label" "$@"
	local qrc=$GT_RC
	bash -c "$filter" <"$q.out" >"$q.cmp" || true
	local bad=0
	if [ "$qrc" -ne "$prc" ]; then
		gt_show_tail "$q.err" "stderr of the preloaded run"
		printf '%s: FAIL: %s: with LD_PRELOAD=%s: %s; without: %s\n' "prog_$GT_NAME" \
			"$label" "$GT_LIB" "$(gt_describe_rc "$qrc")" "$(gt_describe_rc "$prc")" >&2
		bad=1
	fi
	if ! diff -u --label "$label: stdout without preload" --label "$label: stdout with LD_PRELOAD=libgoalloc.so" \
		"$p.cmp" "$q.cmp" >"$GT_WORK/$label.diff"; then
		head -n 200 "$GT_WORK/$label.diff"
		[ $bad = 1 ] || gt_show_tail "$q.err" "stderr of the preloaded run"
		printf '%s: FAIL: %s: stdout differs under the preload (%s lines of diff, first 200 above)\n' \
			"prog_$GT_NAME" "$label" "$(wc -l <"$GT_WORK/$label.diff")" >&2
		bad=1
	fi
	if [ $stats = 1 ] && [ $bad = 0 ] && [ "$(gt_count_reports "$label")" -lt 1 ]; then
		gt_show_tail "$q.err" "stderr of the preloaded run"
		printf '%s: FAIL: %s: no heap report in %s (GOALLOC_STATS_FILE): the preload did not take effect\n' \
			"prog_$GT_NAME" "$label" "$q.reports" >&2
		bad=1
	fi
	if [ $bad = 1 ]; then
		GT_FAILED=1
		return 1
	fi
	gt_log "$label: same status ($prc) and stdout ($n lines compared) with and without the preload"
	return 0
}

# gt_count_reports LABEL: number of allocator exit reports in LABEL's stats
# run (one per process that ended by exit or _exit, not by a signal).
gt_count_reports()
{
	local f=$GT_WORK/$1.stats.reports
	if [ -f "$f" ]; then grep -c '^goalloc: heap at exit of ' "$f" || true; else echo 0; fi
}

# gt_assert_preloaded LABEL MIN_REPORTS CMD ARGS...: run CMD once in stats
# mode and require at least MIN_REPORTS allocator exit reports (one per
# process).
gt_assert_preloaded()
{
	local label=$1 min=$2
	shift 2
	gt_run stats "$label" -- "$@"
	local n
	n=$(gt_count_reports "$label")
	if [ "$GT_RC" -ne 0 ] || [ "$n" -lt "$min" ]; then
		gt_show_tail "$GT_WORK/$label.stats.err" "stderr"
		gt_die "$label: preloaded run with a GOALLOC_STATS_FILE gave $(gt_describe_rc "$GT_RC") and $n heap reports (expected $min): libgoalloc.so did not take effect"
	fi
	gt_log "$label: libgoalloc.so is in effect ($n heap reports)"
}

# gt_finish: exit status of the whole test.
gt_finish()
{
	if [ "$GT_FAILED" != 0 ]; then
		gt_die "at least one comparison failed (see above)"
	fi
	gt_log "PASS"
	exit 0
}
