#!/bin/bash
# run_cases.sh CLI KNOWN CASE [PROG]: one end-to-end case of `goalloc-trace run`.
#   crash      the target dies by SIGSEGV half-way: every event it emitted
#              is in the database, run exits 139 and marks the run crashed
#   killed-cli the CLI is SIGKILLed mid-run: the database opens and holds a
#              consistent prefix, and the target finishes on its own
#   lossy      --lossy with a slow drainer drops and counts; the default
#              mode with the same slow drainer drops nothing
#   fork       a forked child's heap is a copy of its parent's
#   daemon     a double-forked grandchild's heap is a copy of its parent's,
#              even when its parent exited before its fork handlers ran
#   daemon-gap the same, with the drainer sleeping between two rings' head
#              reads, so that parent and child publish records while a
#              round reads the rings
#   fork-threads  children forked while other threads allocate: no
#              unmatched frees
#   fork-exec  children that exec right after fork: their copies of the
#              parent's heap are never made (no span rows of theirs)
#   clone      children made by clone() and by the raw clone system call
#              (no fork handler runs) while the parent allocates: each is a
#              process of its own whose heap is a copy of its parent's
#   pidns      three sandboxes (unshare --pid) at once, whose processes have
#              the same pids in their namespaces: each process is its own,
#              and each forked child's heap is a copy of its own parent's
#   fds        a traced program has no fds of the trace's above 2 (after it
#              closed its own and ran itself again)
#   exec-closed  a child exec'd after its parent closed every fd is traced
#   sigint     SIGINT to the CLI stops the target and finishes the database
#   sh         sh -c 'prog1; prog2' records both programs in one run
#   append     -o on an existing goalloc database adds a run
#   leftover   after the program exits, run waits for a job it left in its
#              session (whose allocations are then recorded), not for a
#              daemon it started (setsid): it says so and finishes; with
#              --wait-daemons it waits for the daemon too; a program that
#              called setsid itself still has its jobs waited for
#   bad-input  missing program, unwritable path, non-goalloc file: one line,
#              non-zero exit, nothing left behind or changed
#   untraced   a statically linked target, and a set-user-ID one (run as
#              root, owned by nobody): the loader never loads the library,
#              and run says so and why in one warning; a dynamic one does not
#   aslimit    under ulimit -v 120000 (117 MiB: less than the 160 MiB trace
#              region needs) run says it uses smaller rings and traces the
#              program completely, its heap under the same limit
#   foreign-malloc  a program that defines malloc itself: each of its
#              processes warns once, naming the program, that its calls do
#              not reach libgoalloc.so
#   small-stack  PROG = tests/e2e/small_stack: a thread on a 16 KiB stack
#              that leaves B bytes of it to the allocator, for the largest B
#              of 7000, 6000, ... 2000 that works with glibc's malloc, works
#              preloaded and traced (stacks sampled, and every stack 128
#              frames deep): the library's TLS and stack use take no more
#   signal-stack  PROG = tests/e2e/signal_stack: a crash handler on a
#              SIGSTKSZ alternate stack that allocates, traced with every
#              stack (and with libunwind's unwinder only): it finishes as it
#              does untraced, and its first allocation's site names it
#   realloc-pass  PROG = tests/e2e/realloc_pass: objects allocated by one
#              thread and resized in place, then freed, by another; with a
#              fast and with a slow drainer (whose coarse clock lags): no
#              free is left without its allocation
#   handoff    PROG = tests/e2e/handoff: spans handed between threads within
#              one tick of the coarse clock are still modelled in causal
#              order (a refill never before the SPAN_ALLOC of its span), so
#              no free is left without its allocation
#   handoff-gap  the same, with the drainer sleeping between two rings'
#              head reads (GOALLOC_TRACE_SNAPSHOT_GAP_US, as when it is
#              preempted there): a refill published in one ring after the
#              SPAN_ALLOC that another ring's head read missed still waits
#              for it
#   late-free  PROG = tests/e2e/late_free: frees made after the process's
#              exit record (by library destructors run after libgoalloc's;
#              seen with curl in a shell pipeline) still find their objects
set -uo pipefail
cli=$(realpath "$1") known=$(realpath "$2") case=$3 prog=${4:+$(realpath "$4")}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
die() { echo "FAIL: $*"; exit 1; }
q() { sqlite3 "$dir/t.db" "$1"; }
# Over processes, no class holds more objects at its peak than its spans at
# theirs have room for, and no class releases more spans than it created.
spans_agree() {
	local bad
	bad=$(q "SELECT group_concat(c.class || ': ' || c.peak_live_objects || ' objects in at most ' ||
	                s.peak_spans || ' spans of ' || (z.npages * 8192 / z.size) || ', ' ||
	                c.spans_created || ' created, ' || c.spans_released || ' released', '; ')
	         FROM class_stat c JOIN class_span s USING (run_id, class) JOIN size_class z USING (run_id, class)
	         WHERE c.class > 0 AND (c.peak_live_objects > s.peak_spans * (z.npages * 8192 / z.size)
	                                OR c.spans_released > c.spans_created)")
	[ -z "$bad" ] || die "span counts: class $bad"
}

case $case in
crash)
	"$cli" run -q --events -o "$dir/t.db" -- "$known" "$dir/m" crash
	rc=$?
	[ $rc -eq 139 ] || die "run exited $rc, want 139 (128+SIGSEGV)"
	[ "$(q "SELECT state FROM runs")" = crashed ] || die "run not marked crashed: $(q 'SELECT state FROM runs')"
	[ "$(q "SELECT exit_status FROM runs")" = 139 ] || die "exit_status not recorded"
	n=$(q "SELECT count(*) FROM events WHERE kind=1 AND size=4321")
	[ "$n" = 25 ] || die "$n allocations of 4321 B recorded, the program made 25 before crashing"
	want=$(grep -c '^A ' "$dir/m")
	got=$(q "SELECT count(*) FROM events WHERE kind IN (1,2,3)")
	[ "$got" -ge "$want" ] || die "$got alloc events, the program made $want"
	;;
killed-cli)
	"$cli" run -q --events -o "$dir/t.db" -- "$known" "$dir/m" spin 4 &
	clipid=$!
	sleep 1.5
	tpid=$(pgrep -P $clipid | head -1)
	[ -n "$tpid" ] || die "no target process under the CLI"
	kill -9 $clipid
	wait $clipid 2>/dev/null
	# the target must not hang: it finishes its 4 s of work and exits
	for i in $(seq 1 200); do
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$tpid" 2>/dev/null && { kill -9 "$tpid"; die "the target hung after the CLI was killed"; }
	[ "$(q "PRAGMA integrity_check")" = ok ] || die "database not intact"
	[ "$(q "SELECT state FROM runs")" = running ] || die "killed run should stay marked running"
	ev=$(q "SELECT count(*) FROM events")
	[ "$ev" -gt 0 ] || die "no events in the prefix"
	# the prefix is consistent: aggregates were committed with their events
	bad=$(q "SELECT count(*) FROM class_stats c WHERE c.allocs != (SELECT count(*) FROM events e
	          WHERE e.kind IN (1,3) AND e.class=c.class)
	          + CASE c.class WHEN 2 THEN (SELECT count(*) FROM events WHERE kind=5) ELSE 0 END")
	[ "$bad" = 0 ] || die "inconsistent prefix: $bad classes whose counts differ from their events"
	echo "prefix: $ev events"
	;;
lossy)
	GOALLOC_TRACE_DRAIN_DELAY_US=20000 "$cli" run -q --lossy -o "$dir/t.db" -- "$known" "$dir/m" spin 2 || die "lossy run failed"
	d=$(q "SELECT dropped FROM runs")
	[ "$d" -gt 0 ] || die "lossy mode with a slow drainer dropped nothing ($d)"
	GOALLOC_TRACE_DRAIN_DELAY_US=20000 "$cli" run -o "$dir/t2.db" -- "$known" "$dir/m" spin 2 2>"$dir/err" ||
		die "lossless run failed"
	d2=$(sqlite3 "$dir/t2.db" "SELECT dropped FROM runs")
	[ "$d2" = 0 ] || die "default mode dropped $d2 events"
	# the summary says the program was held instead
	w=$(sed -n 's/.*the program waited \([0-9]*\) times for the drainer.*/\1/p' "$dir/err")
	[ -n "$w" ] && [ "$w" -gt 0 ] || die "lossless run with a slow drainer: no waits in the summary: $(cat "$dir/err")"
	echo "lossy dropped $d, lossless dropped $d2 and waited $w times"
	;;
fork)
	# a forked child starts with a copy of its parent's heap: its frees of
	# inherited objects match, and its heap leaves the figures when it exits
	"$cli" run -q --events -o "$dir/t.db" -- "$known" "$dir/m" fork || die "run failed"
	[ "$(q "SELECT pids FROM runs")" = 2 ] || die "pids: $(q 'SELECT pids FROM runs')"
	[ "$(q "SELECT unmatched_frees FROM run")" = 0 ] || die "unmatched frees: $(q 'SELECT unmatched_frees FROM run')"
	child=$(q "SELECT pid FROM process WHERE ppid = (SELECT pid FROM process WHERE ppid != 0 ORDER BY started_ns LIMIT 1)")
	n=$(q "SELECT count(*) FROM events WHERE pid=$child AND kind=4 AND size=200")
	[ "$n" = 500 ] || die "the child's frees of inherited objects: $n, want 500"
	# at the end only the parent's heap is counted: its 1000 objects were freed
	live=$(q "SELECT heap_alloc FROM heap_timeline ORDER BY t_ns DESC LIMIT 1")
	req=$(q "SELECT requested FROM heap_timeline ORDER BY t_ns DESC LIMIT 1")
	[ "$live" -lt 200000 ] || die "final HeapAlloc $live still holds the child's heap"
	# the class figures at the end agree: the child's copies left them too
	cls=$(q "SELECT sum(live_bytes) || ' ' || sum(live_requested) FROM class_stat")
	[ "$cls" = "$live $req" ] || die "classes' live bytes and requested at the end: $cls, the heap's: $live $req"
	neg=$(q "SELECT count(*) FROM class_stat WHERE live_objects < 0 OR live_bytes < 0 OR live_requested < 0")
	[ "$neg" = 0 ] || die "$neg classes with negative live figures"
	# the child's copies of its parent's spans count as its spans
	spans_agree
	;;
daemon | daemon-gap)
	# a grandchild whose parent exits right after forking it (a daemon's
	# double fork) still starts with a copy of its parent's heap, whether
	# it was reparented before its fork handlers ran or after; and (gap)
	# while a round's head reads are spread out
	gap=0
	[ "$case" = daemon-gap ] && gap=300
	GOALLOC_TRACE_SNAPSHOT_GAP_US=$gap "$cli" run -q --events -o "$dir/t.db" -- "$known" "$dir/m" daemon ||
		die "run failed"
	[ "$(q "SELECT pids FROM runs")" = 41 ] || die "pids: $(q 'SELECT pids FROM runs'), want 41"
	[ "$(q "SELECT unmatched_frees FROM run")" = 0 ] || die "unmatched frees: $(q 'SELECT unmatched_frees FROM run')"
	root=$(q "SELECT pid FROM process WHERE seq = 0 ORDER BY started_ns LIMIT 1")
	# each grandchild's ppid is the middle process that forked it
	bad=$(q "SELECT count(*) FROM process g WHERE g.ppid != $root AND g.pid != $root
	         AND NOT EXISTS (SELECT 1 FROM process m WHERE m.pid = g.ppid AND m.ppid = $root)")
	[ "$bad" = 0 ] || die "$bad grandchildren not recorded as children of their middle process"
	n=$(q "SELECT count(*) FROM events e JOIN process g ON g.pid = e.pid
	       WHERE g.ppid != $root AND g.pid != $root AND e.kind = 4 AND e.size = 200")
	[ "$n" = 10000 ] || die "the grandchildren's frees of inherited objects: $n, want 10000"
	spans_agree
	;;
fork-threads)
	# a process forking while its other threads allocate: the child's heap
	# copy holds every span it inherits, so its frees all match
	"$cli" run -q -o "$dir/t.db" -- "$known" "$dir/m" fork-threads || die "run failed"
	[ "$(q "SELECT pids FROM runs")" = 201 ] || die "pids: $(q 'SELECT pids FROM runs'), want 201"
	[ "$(q "SELECT unmatched_frees FROM run")" = 0 ] || die "unmatched frees: $(q 'SELECT unmatched_frees FROM run')"
	spans_agree
	;;
thread-rings)
	# threads that start and end one after another: each ring that goes
	# free gives its pages back, so the traced program's resident set holds
	# about the rings in use, not every ring ever written (64 of 2.5 MiB)
	"$cli" run -q -o "$dir/t.db" -- "$known" "$dir/m" thread-rings >"$dir/out" || die "run failed"
	rss=$(sed -n 's/^rss //p' "$dir/out")
	[ -n "$rss" ] && [ "$rss" -gt 0 ] || die "no resident set printed: $(cat "$dir/out")"
	echo "resident set at the end: $rss bytes"
	[ "$rss" -lt $((48 << 20)) ] || die "resident set $rss: the rings the ended threads wrote are still in it"
	[ "$(q "SELECT unmatched_frees FROM run")" = 0 ] || die "unmatched frees: $(q 'SELECT unmatched_frees FROM run')"
	n=$(q "SELECT allocs FROM class_stat WHERE class = 6")
	[ "$n" = 4000000 ] || die "class 6 (64 B) allocations: $n, want 4000000 (every thread's records drained)"
	;;
fork-exec)
	# before, each child's copy of the parent's 20000 objects was made at
	# the FORK and left at the exec: a row per span each time
	"$cli" run -q -o "$dir/t.db" -- "$known" "$dir/m" fork-exec || die "run failed"
	[ "$(q "SELECT pids FROM runs")" = 31 ] || die "pids: $(q 'SELECT pids FROM runs'), want 31"
	[ "$(q "SELECT unmatched_frees FROM run")" = 0 ] || die "unmatched frees: $(q 'SELECT unmatched_frees FROM run')"
	root=$(q "SELECT pid FROM process WHERE seq = 0 ORDER BY started_ns LIMIT 1")
	r=$(q "SELECT count(*) FROM span WHERE pid = $root")
	o=$(q "SELECT count(*) FROM span WHERE pid != $root")
	[ "$r" -ge 400 ] || die "the parent's spans: $r, want at least 400 (20000 objects of 208 bytes)"
	# each /bin/true has a few spans of its own, not a copy of the parent's
	[ "$o" -lt "$r" ] || die "the children's span rows: $o, the parent's $r"
	spans_agree
	;;
fork-serial)
	# children forked one after another, each reaped by the parent before
	# the next: a dead child's copy of the heap leaves the figures at its
	# reap, not rounds later, so at most one copy is counted beside the
	# parent's
	"$cli" run -q -o "$dir/t.db" -- "$known" "$dir/m" fork-serial || die "run failed"
	[ "$(q "SELECT pids FROM runs")" = 41 ] || die "pids: $(q 'SELECT pids FROM runs'), want 41"
	[ "$(q "SELECT unmatched_frees FROM run")" = 0 ] || die "unmatched frees: $(q 'SELECT unmatched_frees FROM run')"
	heap=$((20000 * 208))
	peak=$(q "SELECT peak_heap_alloc FROM run")
	# a child's copy counts while it lives: the peak is two heaps
	[ "$peak" -ge $((heap * 19 / 10)) ] || die "peak HeapAlloc $peak: no child's copy beside the parent's $heap"
	[ "$peak" -lt $((heap * 5 / 2)) ] || die "peak HeapAlloc $peak: more than one child's copy of the parent's $heap"
	live=$(q "SELECT heap_alloc FROM heap_timeline ORDER BY t_ns DESC LIMIT 1")
	[ "$live" -lt 200000 ] || die "final HeapAlloc $live still holds a child's heap"
	spans_agree
	;;
clone)
	# before, the children wrote into the parent's ring: they were not
	# processes of the run, and the run never ended
	timeout 60 "$cli" run -q --events -o "$dir/t.db" -- "$known" "$dir/m" clone || die "run failed or hung"
	[ "$(q "SELECT pids FROM runs")" = 4 ] || die "pids: $(q 'SELECT pids FROM runs'), want 4"
	[ "$(q "SELECT unmatched_frees FROM run")" = 0 ] || die "unmatched frees: $(q 'SELECT unmatched_frees FROM run')"
	root=$(q "SELECT pid FROM process WHERE ppid != 0 ORDER BY started_ns LIMIT 1")
	# the raw-clone child that only called _exit(9): a process of the run, its status its own
	st=$(q "SELECT group_concat(exit_status) FROM process WHERE ppid = $root AND started_ns =
	        (SELECT max(started_ns) FROM process WHERE ppid = $root)")
	[ "$st" = 9 ] || die "the last clone child's status: '$st', want 9 ($(q 'SELECT * FROM process'))"
	n=$(q "SELECT group_concat(n, ' ') FROM (SELECT count(e.pid) AS n FROM process c
	       LEFT JOIN events e ON e.pid = c.pid AND e.kind = 4 AND e.size = 200
	       WHERE c.ppid = $root GROUP BY c.pid ORDER BY c.started_ns)")
	[ "$n" = "500 500 0" ] || die "each child's frees of inherited objects: '$n', want '500 500 0'"
	# the parent's own events stay its own: its 1000 frees of 200 bytes
	p=$(q "SELECT count(*) FROM events WHERE pid = $root AND kind = 4 AND size = 200")
	[ "$p" = 1000 ] || die "the parent's frees of its 1000 objects: $p"
	spans_agree
	;;
pidns)
	# before, the sandboxes' pid 1s and 2s were taken for one process each,
	# whose images followed one another: 4000 unmatched frees
	unshare --pid --fork --mount-proc true 2>/dev/null || { echo "SKIP: unshare --pid is not permitted here"; exit 77; }
	for i in 1 2 3; do
		echo "unshare --pid --fork --mount-proc '$known' '$dir/m$i' fork &"
	done >"$dir/ns.sh"
	echo wait >>"$dir/ns.sh"
	"$cli" run -q --events -o "$dir/t.db" -- sh "$dir/ns.sh" || die "run failed"
	[ "$(q "SELECT unmatched_frees FROM run")" = 0 ] || die "unmatched frees: $(q 'SELECT unmatched_frees FROM run')"
	# each sandbox's pid 1 is unshare's child, which runs known_allocs, which forks
	k=$(q "SELECT count(DISTINCT pid) FROM process WHERE command LIKE '%known_allocs%fork' AND command NOT LIKE 'unshare%'")
	[ "$k" = 6 ] || die "known_allocs processes: $k, want 6"
	n=$(q "SELECT group_concat(n, ' ') FROM (SELECT count(e.pid) AS n FROM process c
	       JOIN process p ON p.pid = c.ppid AND p.command LIKE '%known_allocs%fork' AND p.command NOT LIKE 'unshare%'
	       LEFT JOIN events e ON e.pid = c.pid AND e.kind = 4 AND e.size = 200 GROUP BY c.pid)")
	[ "$n" = "500 500 500" ] || die "each child's frees of inherited objects: '$n', want '500 500 500'"
	spans_agree
	;;
fds)
	# the traced program's fds are its own: after it closed every fd above
	# 2 and ran itself again, the new image (which finds the region again
	# and captures stacks) has none above 2
	out=$("$cli" run -q --stacks=all -o "$dir/t.db" -- "$known" "$dir/m" fds) || die "run failed"
	[ -z "$out" ] || die "fds the program did not open: $out"
	[ "$(q "SELECT count(*) FROM stack")" -gt 0 ] || die "no stacks recorded"
	;;
exec-closed)
	# a program that closes its fds before an exec (Python's subprocess
	# does) is still traced after it: the new image finds the region again
	"$cli" run -q --events -o "$dir/t.db" -- "$known" "$dir/m1" exec-closed "$dir/m2" || die "run failed"
	# the exec keeps the pid: the new image is the process's next seq
	seq=$(q "SELECT seq FROM process WHERE command LIKE '%m2' AND command NOT LIKE '%exec-closed%'")
	[ -n "$seq" ] || die "the exec'd image is not a process of the run: $(q 'SELECT pid, seq, command FROM process')"
	t0=$(q "SELECT started_ns FROM process WHERE seq=$seq")
	want=$(grep -c '^A ' "$dir/m2")
	got=$(q "SELECT count(*) FROM events WHERE t_ns >= $t0 AND kind IN (1,2,3)")
	[ "$want" -gt 0 ] && [ "$got" -ge "$want" ] || die "the child made $want allocations, $got recorded"
	[ "$(q "SELECT unmatched_frees FROM run")" = 0 ] || die "unmatched frees: $(q 'SELECT unmatched_frees FROM run')"
	;;
handoff | handoff-gap)
	gap=0
	[ "$case" = handoff-gap ] && gap=200
	out=$(GOALLOC_TRACE_SNAPSHOT_GAP_US=$gap "$cli" run -q --stacks=off -o "$dir/t.db" -- "$prog" 8 8 20000) ||
		die "run failed"
	n=${out#ok }
	[ "$n" = 1280000 ] || die "the program said: $out"
	u=$(q "SELECT unmatched_frees FROM run")
	[ "$u" = 0 ] || die "$u frees left without their allocation"
	neg=$(q "SELECT count(*) FROM class_stat WHERE live_objects < 0 OR live_bytes < 0 OR live_requested < 0")
	[ "$neg" = 0 ] || die "$neg classes with negative live figures"
	# the program's objects are 1500..8199 bytes, all freed by their threads
	got=$(q "SELECT sum(c.allocs) || ' ' || sum(c.frees) FROM class_stats c JOIN size_classes s USING (run_id, class)
	         WHERE s.size >= 1536 AND c.class > 0")
	set -- $got
	[ "$1" -ge "$n" ] && [ "$2" -ge "$n" ] || die "allocations and frees of 1.5-8 KiB: $got, the program made $n of each"
	echo "ok: $got"
	;;
late-free)
	out=$("$cli" run -q --stacks=off -o "$dir/t.db" -- bash -c "'$prog' | cat") || die "run failed"
	[ "$out" = ok ] || die "the program said: $out"
	u=$(q "SELECT unmatched_frees FROM run")
	[ "$u" = 0 ] || die "$u frees left without their allocation"
	pid=$(q "SELECT pid FROM process WHERE command LIKE '%late_free'")
	[ -n "$pid" ] || die "the program is not a process of the run: $(q 'SELECT pid, seq, command FROM process')"
	echo ok
	;;
quiet)
	# a change followed by silence is on the timeline when it happened: the
	# 64 MiB object shows within 100 ms, not at the free 300 ms later
	"$cli" run -q -o "$dir/t.db" -- "$known" "$dir/m" quiet || die "run failed"
	# (times from the program's start: under a loaded ctest -j its exec can
	# take a while)
	s0=$(q "SELECT min(started_ns) FROM process")
	t=$(q "SELECT min(t_ns) - $s0 FROM heap_timeline WHERE heap_alloc >= 67108864")
	f=$(q "SELECT t_ns - $s0 FROM heap_timeline ORDER BY t_ns DESC LIMIT 1")
	[ -n "$t" ] || die "no sample holds the 64 MiB object (samples: $(q "SELECT group_concat(t_ns || ':' || heap_alloc, ' ') FROM heap_timeline"))"
	[ "$t" -lt 100000000 ] || die "the 64 MiB object first sampled $t ns after the program started (it was silent from ~0 to 300 ms)"
	[ "$f" -gt 250000000 ] || die "the last sample $f ns after the program started, before the free"
	;;
sigint)
	# SIGINT sent to the CLI (as kill(1) does; a terminal's Ctrl-C reaches the
	# whole process group) stops the target; the database is then finished.
	# (a background job of a script starts with SIGINT ignored: undo that)
	env --default-signal=INT "$cli" run -q -o "$dir/t.db" -- "$known" "$dir/m" spin 30 &
	clipid=$!
	sleep 1
	kill -INT $clipid
	wait $clipid
	rc=$?
	[ $rc -eq 130 ] || die "run exited $rc, want 130 (128+SIGINT)"
	[ "$(q "SELECT state FROM runs")" = interrupted ] || die "state: $(q 'SELECT state FROM runs')"
	[ "$(q "SELECT events > 0 AND duration_ns > 0 FROM runs")" = 1 ] || die "run not finished"
	;;
sh)
	"$cli" run -q -o "$dir/t.db" -- sh -c "'$known' '$dir/m1'; '$known' '$dir/m2'" || die "run failed"
	n=$(q "SELECT count(DISTINCT pid) FROM process WHERE command NOT LIKE 'sh %' AND
	       (command LIKE '%known%m1' OR command LIKE '%known%m2')")
	[ "$n" = 2 ] || die "both programs should be processes of the run: $(q 'SELECT pid, command FROM process')"
	[ "$(q 'SELECT pids FROM runs')" -ge 3 ] || die "sh and both programs: pids = $(q 'SELECT pids FROM runs')"
	;;
leftover)
	t0=$(date +%s%N)
	"$cli" run -o "$dir/t.db" -- sh -c "setsid sleep 60 & echo \$! >'$dir/daemon';
		(sleep 1; '$known' '$dir/m2') & '$known' '$dir/m1'" >/dev/null 2>"$dir/err"
	rc=$? ms=$((($(date +%s%N) - t0) / 1000000))
	d=$(cat "$dir/daemon")
	kill -0 "$d" 2>/dev/null && alive=yes || alive=no
	kill "$d" 2>/dev/null
	[ $rc = 0 ] || die "run exited $rc: $(cat "$dir/err")"
	[ $alive = yes ] || die "the daemon $d was not running when run finished"
	[ $ms -lt 30000 ] || die "run waited $ms ms, for the daemon"
	grep -q "not waiting for the daemon it started, pid $d (sleep), which left its session" "$dir/err" ||
		die "run does not say it leaves the daemon: $(cat "$dir/err")"
	[ $ms -ge 1000 ] || die "run finished after $ms ms, before the job it had to wait for"
	grep -q "waiting for the processes it left running: pid [0-9]* (sh)" "$dir/err" ||
		die "run does not name the job it waits for: $(cat "$dir/err")"
	[ "$(q "SELECT count(*) FROM process WHERE command LIKE '%m2' AND exit_status = 0")" = 1 ] ||
		die "the job's program is not in the run: $(q 'SELECT * FROM process')"
	# a program that made its own session: its jobs are still jobs
	t0=$(date +%s%N)
	"$cli" run -q -o "$dir/s.db" -- setsid sh -c "(sleep 1; '$known' '$dir/m4') &" || die "run setsid failed"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $ms -ge 1000 ] || die "run finished after $ms ms, before the job of a program in its own session"
	t0=$(date +%s%N)
	"$cli" run --wait-daemons -o "$dir/w.db" -- sh -c "setsid sh -c \"sleep 2; '$known' '$dir/m3'\" &" \
		>/dev/null 2>"$dir/err" || die "run --wait-daemons failed: $(cat "$dir/err")"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $ms -ge 2000 ] || die "run --wait-daemons finished after $ms ms, before the daemon"
	! grep -q "not waiting" "$dir/err" || die "run --wait-daemons left the daemon: $(cat "$dir/err")"
	[ "$(sqlite3 "$dir/w.db" "SELECT count(*) FROM process WHERE command LIKE '%m3' AND exit_status = 0")" = 1 ] ||
		die "the daemon's program is not in the --wait-daemons run"
	;;
append)
	"$cli" run -q -o "$dir/t.db" --name first -- "$known" "$dir/m" || die "first run"
	"$cli" run -q -o "$dir/t.db" --name second -- "$known" "$dir/m" || die "second run"
	[ "$(q "SELECT group_concat(name) FROM (SELECT name FROM runs ORDER BY run_id)")" = "first,second" ] ||
		die "runs: $(q 'SELECT run_id, name FROM runs')"
	[ "$(q "SELECT count(DISTINCT run_id) FROM class_stats")" = 2 ] || die "class stats per run"
	# raw events of runs appended to one file: seq numbers 1..N without gaps,
	# each run's a block after the previous run's, as many as runs.events
	"$cli" run -q --events -o "$dir/t.db" --name third -- "$known" "$dir/m" || die "third run"
	"$cli" run -q --events -o "$dir/t.db" --name fourth -- "$known" "$dir/m" || die "fourth run"
	[ "$(q "SELECT min(seq) = 1 AND max(seq) = count(*) FROM events")" = 1 ] ||
		die "event seq not 1..N: $(q 'SELECT min(seq), max(seq), count(*) FROM events')"
	[ "$(q "SELECT count(*) FROM runs r WHERE r.events > 0 AND r.events = (SELECT count(*) FROM events e
	       WHERE e.run_id = r.run_id) AND r.events = 1 + (SELECT max(seq) - min(seq) FROM events e
	       WHERE e.run_id = r.run_id)")" = 2 ] || die "events per run: $(q 'SELECT run_id, events FROM runs')"
	[ "$(q "SELECT (SELECT max(seq) FROM events WHERE run_id = 3) < (SELECT min(seq) FROM events WHERE run_id = 4)")" = 1 ] ||
		die "the fourth run's events do not follow the third's"
	;;
bad-input)
	cd "$dir"
	out=$("$cli" run -o "$dir/a.db" -- /no/such/program 2>&1); rc=$?
	[ $rc -ne 0 ] || die "missing program: exit 0"
	[ "$(echo "$out" | wc -l)" = 1 ] || die "missing program: not one line: $out"
	echo "$out" | grep -q "cannot run /no/such/program" || die "missing program: message: $out"
	[ ! -e "$dir/a.db" ] || die "missing program: left $dir/a.db behind"
	out=$("$cli" run -o /proc/no/such/dir/x.db -- true 2>&1); rc=$?
	[ $rc -ne 0 ] && [ "$(echo "$out" | wc -l)" = 1 ] || die "unwritable path: rc $rc: $out"
	echo "$out" | grep -q "cannot write /proc/no/such/dir/x.db" || die "unwritable path message: $out"
	mkdir "$dir/adir"
	out=$("$cli" run -o "$dir/adir" -- true 2>&1); rc=$?
	[ $rc -ne 0 ] && [ "$(echo "$out" | wc -l)" = 1 ] || die "a directory: rc $rc: $out"
	echo "$out" | grep -q "cannot write $dir/adir: is a directory" || die "a directory: message: $out"
	[ -z "$(ls -A "$dir/adir")" ] || die "a directory: files left in it: $(ls -A "$dir/adir")"
	echo "hello, not a database" >"$dir/text.db"
	cp "$dir/text.db" "$dir/text.orig"
	out=$("$cli" run -o "$dir/text.db" -- true 2>&1); rc=$?
	[ $rc -ne 0 ] && [ "$(echo "$out" | wc -l)" = 1 ] || die "text file: rc $rc: $out"
	echo "$out" | grep -q "not a goalloc database" || die "text file message: $out"
	cmp -s "$dir/text.db" "$dir/text.orig" || die "text file was changed"
	sqlite3 "$dir/other.db" "CREATE TABLE x(a); INSERT INTO x VALUES(1);"
	cp "$dir/other.db" "$dir/other.orig"
	out=$("$cli" run -o "$dir/other.db" -- true 2>&1); rc=$?
	[ $rc -ne 0 ] && [ "$(echo "$out" | wc -l)" = 1 ] || die "foreign sqlite: rc $rc: $out"
	echo "$out" | grep -q "not a goalloc database" || die "foreign sqlite message: $out"
	cmp -s "$dir/other.db" "$dir/other.orig" || die "foreign sqlite file was changed"
	ls "$dir" | grep -q -- '-wal\|-shm' && die "left WAL files behind: $(ls "$dir")"
	out=$("$cli" run 2>&1); rc=$?
	[ $rc -ne 0 ] && echo "$out" | grep -q "no program given" || die "no program: $out"
	# attach takes its PID with or without -p; a PID no process has is one line
	for args in "-p 2147483647" "2147483647"; do
		out=$("$cli" attach $args 2>&1); rc=$?
		[ $rc -ne 0 ] && [ "$(echo "$out" | wc -l)" = 1 ] || die "attach $args: rc $rc: $out"
		echo "$out" | grep -q "cannot attach to 2147483647: no such process" || die "attach $args: $out"
	done
	out=$("$cli" attach 12x 2>&1); rc=$?
	[ $rc = 2 ] && echo "$out" | grep -q "bad argument '12x'" || die "attach 12x: rc $rc: $out"
	;;
aslimit)
	(ulimit -v 120000 && "$cli" run --bpf=off --events -o "$dir/t.db" -- "$known" "$dir/m") 2>"$dir/err" ||
		die "run under ulimit -v 120000 failed: $(cat "$dir/err")"
	grep -q 'address space is short.*rings of 8192 records' "$dir/err" ||
		die "no line about the smaller rings: $(cat "$dir/err")"
	[ "$(q "SELECT unmatched_frees FROM run")" = 0 ] || die "unmatched frees: $(q 'SELECT unmatched_frees FROM run')"
	want=$(grep -c '^A ' "$dir/m")
	got=$(q "SELECT count(*) FROM events WHERE kind IN (1,2,3)")
	[ "$got" -ge "$want" ] || die "$got alloc events, the program made $want"
	echo "under ulimit -v 120000: $got alloc events for $want allocations"
	;;
untraced)
	printf '#include <stdio.h>\nint main(void) { puts("static"); return 3; }\n' >"$dir/st.c"
	cc -static -o "$dir/st" "$dir/st.c" || die "cannot build a static program (libc6-dev's libc.a)"
	out=$("$cli" run -q -o "$dir/t.db" -- "$dir/st" 2>&1); rc=$?
	[ $rc = 3 ] || die "static: run exited $rc, the program 3"
	[ "$(echo "$out" | grep -c 'warning: nothing was traced')" = 1 ] || die "static: no one warning: $out"
	echo "$out" | grep -q "st: it is statically linked" || die "static: reason: $out"
	out=$("$cli" run -q -o "$dir/t.db" -- true 2>&1)
	[ -z "$out" ] || die "a dynamic program: $out"
	if [ "$(id -u)" = 0 ]; then
		cp "$(type -P true)" "$dir/suid"
		chown nobody "$dir/suid" && chmod 4755 "$dir/suid"
		chmod 755 "$dir"
		out=$("$cli" run -q -o "$dir/t.db" -- "$dir/suid" 2>&1)
		echo "$out" | grep -q "suid: it is set-user-ID" || die "set-user-ID: $out"
	else
		echo "not root: the set-user-ID part needs a file owned by another user; not checked"
	fi
	;;
foreign-malloc)
	cat >"$dir/own.c" <<'EOF'
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static char pool[1 << 20];
static size_t used;
void *malloc(size_t n) { n = (n + 15) & ~(size_t)15; if (used + n > sizeof pool) return NULL; used += n; return pool + used - n; }
void free(void *p) { (void)p; }
void *calloc(size_t a, size_t b) { void *p = malloc(a * b); if (p) memset(p, 0, a * b); return p; }
void *realloc(void *p, size_t n) { void *q = malloc(n); if (p && q) memcpy(q, p, n); return q; }
int main(int argc, char **argv) { char *s = strdup("own"); printf("%s %zu\n", s, used); fflush(stdout);
	if (argc == 1 && fork() == 0) execl(argv[0], "own-child", "x", (char *)NULL); wait(NULL); return 0; }
EOF
	cc -O1 -o "$dir/own" "$dir/own.c" || die "cannot build own.c"
	out=$("$cli" run -q -o "$dir/t.db" -- "$dir/own" 2>&1 >/dev/null)
	[ "$(echo "$out" | grep -c "calls the malloc of .*, which comes before libgoalloc.so's")" = 2 ] ||
		die "not one warning per process: $out"
	echo "$out" | grep -q "^goalloc: warning: own (pid [0-9]*) calls the malloc of $dir/own," || die "names: $out"
	out=$("$cli" run -q -o "$dir/t.db" -- sh -c 'ls / >/dev/null' 2>&1)
	[ -z "$out" ] || die "programs with the C library's malloc: $out"
	;;
small-stack)
	b=
	for try in 7000 6000 5000 4000 3000 2000; do
		"$prog" "$try" 2>/dev/null && { b=$try; break; }
	done
	[ -n "$b" ] || die "small_stack fails without the preload at every size"
	env LD_PRELOAD="$(dirname "$cli")/../lib/libgoalloc.so" "$prog" "$b"; rc=$?
	[ $rc = 0 ] || die "preloaded: exit $rc with $b bytes of the stack used (glibc's malloc: 0)"
	"$cli" run -q -o "$dir/t.db" -- "$prog" "$b"; rc=$?
	[ $rc = 0 ] || die "traced: exit $rc with $b bytes used"
	"$cli" run -q --stacks=all --stack-depth 128 -o "$dir/t.db" -- "$prog" "$b"; rc=$?
	[ $rc = 0 ] || die "traced, every stack: exit $rc with $b bytes used"
	;;
signal-stack)
	want=$("$prog"); rc=$?
	[ $rc = 3 ] && [ "$want" = "caught 11, a backtrace" ] || die "untraced: exit $rc: $want"
	for unw in fast libunwind; do
		out=$(GOALLOC_UNWIND=$unw "$cli" run -q --stacks=all -o "$dir/t.db" -- "$prog"); rc=$?
		[ $rc = 3 ] && [ "$out" = "$want" ] || die "traced ($unw unwinder): exit $rc: $out"
	done
	"$cli" sites "$dir/t.db" --run 1 >"$dir/sites" || die "sites failed"
	grep -q "on_segv" "$dir/sites" || die "no site names the handler: $(cat "$dir/sites")"
	;;
realloc-pass)
	for delay in 0 1000; do
		out=$(GOALLOC_TRACE_DRAIN_DELAY_US=$delay "$cli" run -q --stacks=off -o "$dir/t.db" -- "$prog" 20000) ||
			die "run failed (drainer delay $delay us)"
		[ "${out%% *}" = ok ] || die "the program said: $out"
	done
	u=$(q "SELECT group_concat(unmatched_frees, ' ') FROM run")
	[ "$u" = "0 0" ] || die "frees left without their allocation, per run: $u"
	neg=$(q "SELECT count(*) FROM class_stat WHERE live_objects < 0 OR live_bytes < 0 OR live_requested < 0")
	[ "$neg" = 0 ] || die "$neg classes with negative live figures"
	# the child's copies of its parent's spans count as its spans
	spans_agree
	;;
*)
	die "unknown case $case"
	;;
esac
echo ok
