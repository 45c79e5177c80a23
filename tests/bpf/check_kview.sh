#!/bin/bash
# check_kview.sh CLI TOUCH HAVE_BPF CASE [ATTACH_TARGET]: the eBPF kernel
# view of `run`, and `attach`.
#   rss      --bpf=on on a program that touches 64 MiB then 256 MiB and frees
#            both: kernel_timeline's RSS is within 10% of what the program
#            read from /proc/self/statm at each step, its page faults grow
#            with the memory touched, it has a sample at the end, and
#            mm_calls holds the allocator's arena mmap and one
#            madvise(MADV_DONTNEED) for each scavenge event it reported
#   tree     a forked child is in the kernel view with its own RSS, and the
#            view's pids are exactly the processes the preload traced
#   sandbox  processes in another pid namespace (unshare --pid): their
#            kernel_timeline and mm_calls rows carry the pids the trace gave
#            them (so they join `process`), mm_calls their threads' ids
#            there, and the sandbox's pid 1, reaped by unshare outside it,
#            has its exit status from the kernel view
#   status   every process of the tree has its exit status in `process`,
#            also those `run` does not reap (a shell's children): exit(3),
#            a signal (128+11), a forked subshell's exit 5 and dash's _exit
#            path (6), and its end time, before the next command starts; the
#            images that ended in exec have no status
#   status_nobpf  without the kernel view: the processes that called exit()
#            or _exit (a shell's exit 3, a subshell's exit 5, dash's _exit 6,
#            python's sys.exit(4), os._exit(7) in a forked child) have its
#            status from the trace, and the signal death (128+11) the one
#            its traced parent's wait saw; the images that exec'd have none.
#            Each ended before the next command began.
#   off      --bpf=off leaves the kernel tables empty (kernel_view says off)
#   refused  without CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN: --bpf=on fails in one
#            line before starting the program and leaves no file; --bpf=auto
#            says why in one line and records the run without the view
#   attach   `attach -p` to a running glibc program making known requests:
#            every request is in the run with its size, Go's class and its
#            thread, frees match, class_stats agree with the size table, and
#            the run is marked modelled
#   attach_static  the same with ATTACH_TARGET linked statically: the
#            probes go on the malloc family in the program's symbol table
#   attach_programs  `attach -p --duration 2` to a running python3 (glibc's
#            malloc) and a running redis-server (Debian's links jemalloc:
#            the probes go on the allocator the process really calls): both
#            keep running, their requests are in the run, and `report`
#            says the figures are modelled and shows the class waste
# rss and tree exit 77 (ctest: skipped) only when BPF cannot be had here: a
# build without the kernel view, not root, or no kernel BTF; off and refused
# run everywhere (refused then checks the failure BPF's absence causes).
set -uo pipefail
cli=$(realpath "$1") touch=$(realpath "$2") have_bpf=$3 case=$4 target=${5:-}
skip() { echo "SKIP: $*"; exit 77; }
bpf_here=yes # whether BPF can be had here; off and refused run either way
if [ "$have_bpf" != ON ]; then
	bpf_here="goalloc-trace was built without the eBPF kernel view (see cmake's 'eBPF kernel view' line)"
elif [ "$(id -u)" != 0 ]; then
	bpf_here="not root: loading BPF programs needs root (or CAP_BPF and CAP_PERFMON)"
elif [ ! -r /sys/kernel/btf/vmlinux ]; then
	bpf_here="this kernel has no BTF (/sys/kernel/btf/vmlinux)"
fi
case $case in
rss | tree | status | sandbox) [ "$bpf_here" = yes ] || skip "$bpf_here" ;;
attach | attach_static | attach_programs)
	[ "$bpf_here" = yes ] || skip "$bpf_here"
	[ -e /sys/bus/event_source/devices/uprobe ] || skip "no uprobe PMU (/sys/bus/event_source/devices/uprobe)"
	;;
esac

dir=$(mktemp -d)
bg="" # background processes a case started: stopped however it ends
trap '[ -z "$bg" ] || kill $bg 2>/dev/null; rm -rf "$dir"' EXIT
die() { echo "FAIL: $*"; exit 1; }
q() { sqlite3 "$dir/t.db" "$1"; }
# The root's children that have a status each ended before the next one
# started (the root waited for each in turn).
ended_in_order() {
	local late
	late=$(q "SELECT group_concat(a.pid) FROM process a, process b, process r
	          WHERE r.seq = 0 AND r.started_ns = (SELECT min(started_ns) FROM process)
	          AND a.ppid = r.pid AND b.ppid = r.pid AND a.exit_status IS NOT NULL
	          AND b.seq = 0 AND b.started_ns > a.started_ns AND a.exited_ns > b.started_ns")
	[ -z "$late" ] || die "processes $late ended after the next command started: $(q 'SELECT * FROM process')"
}
pct_off() { # pct_off GOT WANT: |GOT - WANT| as a percentage of WANT
	awk -v g="$1" -v w="$2" 'BEGIN { d = g - w; if (d < 0) d = -d; printf "%.1f", 100 * d / w }'
}

# marker_t N PID: when the program's phase-N measurement was taken (its
# madvise(mark, (N+1) pages, MADV_NORMAL) in mm_calls)
marker_t() {
	q "SELECT t_ns FROM mm_calls WHERE pid=$2 AND call='madvise' AND addr=$mark AND len=$((($1 + 1) * 4096)) AND arg=0"
}

# check_phase N PID: the samples in the 300 ms after the marker are within
# 10% of the RSS the program read; echoes the faults of the first of them
check_phase() {
	local n=$1 pid=$2 want t rows cnt lo hi f
	want=$(sed -n "s/^phase $n pid $pid rss //p" "$dir/out")
	[ -n "$want" ] || die "the program printed no phase $n for pid $pid"
	t=$(marker_t "$n" "$pid")
	[ -n "$t" ] || die "no marker madvise for phase $n of pid $pid in mm_calls"
	rows=$(q "SELECT count(*), min(rss_bytes), max(rss_bytes) FROM kernel_timeline
	          WHERE pid=$pid AND t_ns > $t AND t_ns < $t + 300000000")
	IFS='|' read -r cnt lo hi <<<"$rows"
	[ "$cnt" -ge 2 ] || die "phase $n: $cnt samples in the 300 ms after the marker, want several (one per 50 ms)"
	for got in $lo $hi; do
		off=$(pct_off "$got" "$want")
		awk -v o="$off" 'BEGIN { exit !(o <= 10) }' ||
			die "phase $n: kernel_timeline RSS $got is $off% off the $want bytes /proc/self/statm said"
	done
	f=$(q "SELECT page_faults FROM kernel_timeline WHERE pid=$pid AND t_ns > $t ORDER BY t_ns LIMIT 1")
	echo "phase $n: statm $want B, kernel_timeline $lo..$hi B over $cnt samples, faults $f" >&2
	echo "$f"
}

case $case in
rss)
	GOALLOC_SCAVENGE_MIN_KB=0 GOALLOC_SCAVENGE_PERCENT=0 \
		"$cli" run -q --bpf=on --events -o "$dir/t.db" -- "$touch" touch >"$dir/out" 2>"$dir/err"
	rc=$?
	[ $rc = 0 ] || { cat "$dir/err"; die "run --bpf=on exited $rc"; }
	[ "$(q "SELECT state FROM kernel_view")" = on ] || die "kernel_view: $(q 'SELECT * FROM kernel_view')"
	mark=$(sed -n 's/^mark //p' "$dir/out")
	pid=$(sed -n 's/^phase 0 pid \([0-9]*\) .*/\1/p' "$dir/out")
	f0=$(check_phase 0 "$pid") || exit 1
	f1=$(check_phase 1 "$pid") || exit 1
	f2=$(check_phase 2 "$pid") || exit 1
	check_phase 3 "$pid" >/dev/null || exit 1
	d1=$((f1 - f0)) d2=$((f2 - f1))
	echo "page faults: +$d1 for 64 MiB touched, +$d2 for 256 MiB"
	# 64 MiB is 16384 OS pages (32 if every fault mapped a 2 MiB huge page)
	[ $d1 -ge 32 ] || die "only $d1 page faults while touching 64 MiB"
	[ $d2 -ge $((3 * d1)) ] || die "page faults do not grow with the memory touched: +$d1 for 64 MiB, +$d2 for 256 MiB"
	back=$(q "SELECT count(*) FROM kernel_timeline a JOIN kernel_timeline b ON a.pid=b.pid AND b.t_ns > a.t_ns
	          AND b.page_faults < a.page_faults")
	[ "$back" = 0 ] || die "cumulative page faults went down $back times"
	# the last figures, taken as the process exited
	last=$(q "SELECT t_ns, rss_bytes FROM kernel_timeline WHERE pid=$pid ORDER BY t_ns DESC LIMIT 1")
	[ "${last%%|*}" -gt "$(marker_t 3 "$pid")" ] && [ -n "${last#*|}" ] || die "no exit sample: last row $last"
	# the allocator's own calls
	n=$(q "SELECT count(*) FROM mm_calls WHERE pid=$pid AND call='mmap' AND arg=0 AND len >= 67108864 AND ret > 0")
	[ "$n" -ge 1 ] || die "no arena reservation (mmap PROT_NONE of 64 MiB or more) in mm_calls"
	sc=$(q "SELECT count(*) FROM events WHERE pid=$pid AND kind=11")
	[ "$sc" -ge 1 ] || die "the allocator reported no scavenge (the test needs one)"
	dn=$(q "SELECT count(*) FROM mm_calls WHERE pid=$pid AND call='madvise' AND arg=4")
	[ "$dn" = "$sc" ] || die "$dn madvise(MADV_DONTNEED) calls in mm_calls, the allocator reported $sc scavenges"
	miss=$(q "SELECT count(*) FROM events e WHERE e.pid=$pid AND e.kind=11 AND NOT EXISTS (SELECT 1 FROM mm_calls m
	          WHERE m.pid=e.pid AND m.call='madvise' AND m.arg=4 AND m.addr=e.addr AND m.len=e.size*8192 AND m.ret=0)")
	[ "$miss" = 0 ] || die "$miss scavenge events without their madvise(addr, pages*8192, MADV_DONTNEED) in mm_calls"
	out=$(q "SELECT count(*) FROM events e WHERE e.pid=$pid AND e.kind=11 AND NOT EXISTS (SELECT 1 FROM mm_calls m
	          WHERE m.pid=e.pid AND m.call='mmap' AND m.arg=0 AND e.addr >= m.ret AND e.addr < m.ret + m.len)")
	[ "$out" = 0 ] || die "$out scavenged ranges outside every arena mmap in mm_calls"
	echo "mm_calls: $(q "SELECT group_concat(call || ' ' || n, ', ') FROM (SELECT call, count(*) n FROM mm_calls GROUP BY 1)"); $sc scavenges matched"
	;;
tree)
	"$cli" run -q --bpf=on -o "$dir/t.db" -- "$touch" fork >"$dir/out" 2>"$dir/err" || { cat "$dir/err"; die "run failed"; }
	mark=$(sed -n 's/^mark //p' "$dir/out")
	child=$(sed -n 's/^phase 0 pid \([0-9]*\) .*/\1/p' "$dir/out")
	[ -n "$child" ] || die "the child printed nothing"
	check_phase 0 "$child" >/dev/null || exit 1
	kp=$(q "SELECT group_concat(pid) FROM (SELECT DISTINCT pid FROM kernel_timeline ORDER BY pid)")
	pp=$(q "SELECT group_concat(pid) FROM (SELECT DISTINCT pid FROM process ORDER BY pid)")
	[ "$kp" = "$pp" ] || die "kernel_timeline pids ($kp) are not the traced processes ($pp)"
	[ "$(q "SELECT count(DISTINCT pid) FROM kernel_timeline")" = 2 ] || die "want 2 processes in kernel_timeline: $kp"
	echo "processes in the kernel view: $kp"
	;;
forks)
	# four children one after another, the last touching the most (64 MiB):
	# RSS at the heap's peak (that child's malloc, before its pages are
	# touched) is the parent's and that child's, at most 64 MiB and a few,
	# not also the last samples of the three that had ended (96 MiB more);
	# at exit, the parent's alone (not 160 MiB of children)
	"$cli" run -q --bpf=on -o "$dir/t.db" -- "$touch" forks >"$dir/out" 2>"$dir/err" || { cat "$dir/err"; die "run failed"; }
	"$cli" report "$dir/t.db" --format json >"$dir/r.json" || die "report failed"
	read -r peak exit_ < <(/usr/bin/python3 -c 'import json, sys
k = json.load(open(sys.argv[1]))["kernel"]
print(k["rss_at_peak_bytes"], k["rss_at_exit_bytes"])' "$dir/r.json") || die "no kernel figures in the report"
	echo "RSS at peak $peak, at exit $exit_"
	mib=$((1 << 20))
	[ "$peak" -gt 0 ] || die "no RSS at peak"
	[ "$peak" -lt $((90 * mib)) ] || die "RSS at peak $peak: the children that had ended are counted (96 MiB of them)"
	[ "$exit_" -lt $((16 * mib)) ] || die "RSS at exit $exit_: more than the parent's"
	;;
sandbox)
	unshare --pid --fork --mount-proc true 2>/dev/null || skip "unshare --pid is not permitted here"
	"$cli" run -q --bpf=on -o "$dir/t.db" -- sh -c \
		'unshare --pid --fork --mount-proc sh -c "ls / >/dev/null; sh -c \"exit 4\"; exit 3"; exit 0' \
		>"$dir/out" 2>"$dir/err" || { cat "$dir/err"; die "run failed"; }
	kp=$(q "SELECT group_concat(pid) FROM (SELECT DISTINCT pid FROM kernel_timeline ORDER BY pid)")
	pp=$(q "SELECT group_concat(pid) FROM (SELECT DISTINCT pid FROM process ORDER BY pid)")
	[ "$kp" = "$pp" ] || die "kernel_timeline pids ($kp) are not the traced processes ($pp)"
	# the sandbox's three processes (its sh, ls, sh -c "exit 4") have trace pids of 2^30 and up
	[ "$(q "SELECT count(DISTINCT pid) FROM kernel_timeline WHERE pid >= 1073741824")" = 3 ] ||
		die "want 3 sandboxed processes in kernel_timeline: $kp"
	m=$(q "SELECT count(*) FROM mm_calls WHERE pid NOT IN (SELECT pid FROM process)")
	[ "$m" = 0 ] || die "$m mm_calls rows of pids the trace does not know"
	# in the sandbox, each process is single-threaded: its thread id is its pid there (1, 2, 3)
	t=$(q "SELECT group_concat(tid) FROM (SELECT DISTINCT tid FROM mm_calls WHERE pid >= 1073741824 ORDER BY tid)")
	[ "$t" = "1,2,3" ] || die "the sandbox's mm_calls thread ids: '$t', want 1,2,3"
	got=$(q "SELECT group_concat(exit_status, ' ') FROM (SELECT exit_status FROM process
	         WHERE pid >= 1073741824 AND command LIKE 'sh -c%' ORDER BY started_ns)")
	[ "$got" = "3 4" ] || die "the sandbox's sh statuses: '$got', want '3 4' ($(q 'SELECT * FROM process'))"
	echo "sandboxed processes in the kernel view: $kp"
	;;
status)
	"$cli" run -q --bpf=on -o "$dir/t.db" -- bash -c 'bash -c "exit 3"; bash -c "kill -SEGV \$\$"; (exit 5); sh -c "exit 6"; exit 2' \
		>"$dir/out" 2>"$dir/err"
	rc=$?
	[ $rc = 2 ] || { cat "$dir/err"; die "run exited $rc, not the program's 2"; }
	got=$(q "SELECT group_concat(exit_status, ' ') FROM (SELECT exit_status FROM process
	         WHERE exit_status IS NOT NULL ORDER BY started_ns, pid, seq)")
	[ "$got" = "2 3 139 5 6" ] || die "exit statuses in process: '$got', want '2 3 139 5 6' ($(q 'SELECT * FROM process'))"
	# the three fork children that exec'd: their first image has no status
	n=$(q "SELECT count(*) FROM process p WHERE exit_status IS NULL
	       AND EXISTS (SELECT 1 FROM process q WHERE q.pid = p.pid AND q.seq > p.seq)")
	t=$(q "SELECT count(*) FROM process WHERE exit_status IS NULL")
	[ "$n" = 3 ] && [ "$t" = 3 ] || die "want the 3 images that exec'd without a status, got $n of $t"
	# bash waits for each child: each one's end (the kernel's time for it) is
	# before the next one starts, the one killed by a signal too
	ended_in_order
	echo "exit statuses: $got"
	;;
status_nobpf)
	"$cli" run -q --bpf=off -o "$dir/t.db" -- bash -c 'bash -c "exit 3"; bash -c "kill -SEGV \$\$"; (exit 5);
		sh -c "exit 6"; /usr/bin/python3 -c "import sys; sys.exit(4)";
		/usr/bin/python3 -c "import os, sys; p = os.fork(); p or os._exit(7); sys.exit(os.waitpid(p, 0)[1] >> 8)";
		exit 2' >"$dir/out" 2>"$dir/err"
	rc=$?
	[ $rc = 2 ] || { cat "$dir/err"; die "run exited $rc, not the program's 2"; }
	got=$(q "SELECT group_concat(exit_status, ' ') FROM (SELECT exit_status FROM process
	         WHERE exit_status IS NOT NULL ORDER BY started_ns, pid, seq)")
	[ "$got" = "2 3 139 5 6 4 7 7" ] || die "exit statuses in process: '$got', want '2 3 139 5 6 4 7 7' ($(q 'SELECT * FROM process'))"
	none=$(q "SELECT group_concat(substr(command, 1, 8), ',') FROM (SELECT command FROM process p
	          WHERE exit_status IS NULL AND NOT EXISTS (SELECT 1 FROM process q WHERE q.pid = p.pid AND q.seq > p.seq)
	          ORDER BY started_ns)")
	[ -z "$none" ] || die "want a status for every process but the images that exec'd, none for '$none'"
	# and each one with a status ended (exit or _exit) before the next began
	ended_in_order
	echo "exit statuses: $got"
	;;
off)
	"$cli" run -q --bpf=off -o "$dir/t.db" -- "$touch" touch >"$dir/out" 2>"$dir/err" || die "run --bpf=off failed"
	[ ! -s "$dir/err" ] || die "run -q --bpf=off printed: $(cat "$dir/err")"
	[ "$(q "SELECT state FROM kernel_view")" = off ] || die "kernel_view: $(q 'SELECT * FROM kernel_view')"
	n=$(q "SELECT (SELECT count(*) FROM kernel_timeline) + (SELECT count(*) FROM mm_calls)")
	[ "$n" = 0 ] || die "--bpf=off left $n kernel rows"
	[ "$(q "SELECT state FROM runs")" = done ] || die "run not done"
	;;
refused)
	# Where BPF works, take it away honestly: drop the capabilities it needs.
	# Elsewhere the reason it is missing must be the one reported.
	nocap=() why='not permitted'
	if [ "$bpf_here" = yes ]; then
		command -v setpriv >/dev/null || die "setpriv (util-linux) is missing"
		nocap=(setpriv --bounding-set=-bpf,-perfmon,-sys_admin --inh-caps=-bpf,-perfmon,-sys_admin)
		"${nocap[@]}" true || die "setpriv cannot drop capabilities here"
	elif [ "$have_bpf" != ON ]; then
		why='built without eBPF'
	elif [ "$(id -u)" = 0 ]; then
		why='no BTF'
	fi
	"${nocap[@]}" "$cli" run -q --bpf=on -o "$dir/t.db" -- "$touch" flag "$dir/ran" >"$dir/out" 2>"$dir/err"
	rc=$?
	[ $rc != 0 ] || die "--bpf=on without the capabilities exited 0"
	[ "$(wc -l <"$dir/err")" = 1 ] || die "want one line on stderr, got: $(cat "$dir/err")"
	grep -q "kernel view.*$why" "$dir/err" || die "unclear error (want '$why'): $(cat "$dir/err")"
	[ ! -e "$dir/ran" ] || die "--bpf=on started the program although the kernel view failed"
	[ ! -e "$dir/t.db" ] || die "--bpf=on left a database behind"
	echo "--bpf=on: exit $rc: $(cat "$dir/err")"
	"${nocap[@]}" "$cli" run -q -o "$dir/t.db" -- "$touch" flag "$dir/ran" >"$dir/out" 2>"$dir/err" ||
		die "--bpf=auto without the capabilities failed: $(cat "$dir/err")"
	[ "$(wc -l <"$dir/err")" = 1 ] && grep -q "^goalloc-trace: kernel view off: .*$why" "$dir/err" ||
		die "want one line 'goalloc-trace: kernel view off: ...', got: $(cat "$dir/err")"
	[ -e "$dir/ran" ] || die "--bpf=auto did not run the program"
	[ "$(q "SELECT state FROM kernel_view")" = unavailable ] || die "kernel_view: $(q 'SELECT * FROM kernel_view')"
	[ -n "$(q "SELECT detail FROM kernel_view")" ] || die "kernel_view has no reason"
	[ "$(q "SELECT count(*) FROM kernel_timeline")" = 0 ] || die "kernel rows without a kernel view"
	echo "--bpf=auto: $(cat "$dir/err")"
	;;
attach | attach_static)
	if [ "$case" = attach_static ]; then
		file -L "$target" | grep -q 'statically linked' || die "$target is not statically linked"
		libc_re=.
	else
		libc_re='libc[.-]'
	fi
	"$target" "$dir/go" >"$dir/out" &
	tpid=$!
	# attach to the program, not to the shell's child before its exec (whose
	# maps hold no C library for a moment: "cannot attach ... no C library")
	for i in $(seq 1 100); do
		[ "$(readlink /proc/$tpid/exe 2>/dev/null)" = "$(realpath "$target")" ] &&
			grep -q "$libc_re" /proc/$tpid/maps 2>/dev/null && break
		sleep 0.02
	done
	"$cli" attach -p $tpid --events -o "$dir/t.db" 2>"$dir/err" &
	apid=$!
	for i in $(seq 1 200); do
		grep -q 'attached to' "$dir/err" && break
		kill -0 $apid 2>/dev/null || break
		sleep 0.05
	done
	grep -q 'attached to' "$dir/err" || { kill $tpid; cat "$dir/err"; die "attach did not start"; }
	touch "$dir/go"
	wait $tpid || die "the target failed"
	wait $apid || { cat "$dir/err"; die "attach exited $?"; }
	cat "$dir/err"
	[ "$(q "SELECT pid FROM modelled_run")" = $tpid ] || die "run not marked modelled: $(q 'SELECT * FROM modelled_run')"
	[ "$(q "SELECT state FROM runs")" = done ] || die "state $(q 'SELECT state FROM runs')"
	n() { q "SELECT count(*) FROM events WHERE kind=$1 AND size=$2"; }
	[ "$(n 1 100)" = 1000 ] || die "$(n 1 100) allocations of 100 B recorded, the program made 1000"
	[ "$(n 4 100)" = 300 ] || die "$(n 4 100) frees of 100 B objects, the program made 300"
	[ "$(n 1 2000)" = 501 ] || die "$(n 1 2000) objects of 2000 B, want 500 callocs + 1 realloc"
	[ "$(n 4 2000)" = 501 ] || die "$(n 4 2000) frees of 2000 B objects, want 501"
	[ "$(n 3 100000)" = 10 ] && [ "$(n 4 100000)" = 10 ] || die "large objects: $(n 3 100000) allocs, $(n 4 100000) frees, want 10, 10"
	for sz in 1000 4000; do [ "$(n 1 $sz)" -ge 1 ] || die "the realloc chain's $sz B block is missing"; done
	# calls glibc makes inside realloc are part of it, not requests of their own
	[ "$(n 1 600)" = 1 ] && [ "$(n 4 600)" = 1 ] || die "realloc(NULL, 600): $(n 1 600) allocs, $(n 4 600) frees, want 1, 1"
	[ "$(n 1 300)" = 1 ] && [ "$(n 4 300)" = 1 ] || die "realloc(p, 0) of 300 B: $(n 1 300) allocs, $(n 4 300) frees, want 1, 1"
	[ "$(n 1 700)" = 200 ] && [ "$(n 4 700)" = 200 ] || die "second thread: $(n 1 700) allocs, $(n 4 700) frees of 700 B, want 200, 200"
	[ "$(q "SELECT count(DISTINCT tid) FROM events WHERE size=700")" = 1 ] &&
		[ "$(q "SELECT count(*) FROM events a JOIN events b ON a.tid=b.tid WHERE a.size=700 AND b.size=100 LIMIT 1")" = 0 ] ||
		die "the 700 B requests are not on a thread of their own"
	bad=$(q "SELECT count(*) FROM events e WHERE e.kind=1 AND e.class != (SELECT min(class) FROM size_class s
	          WHERE s.run_id=e.run_id AND s.used AND s.size >= e.size)")
	[ "$bad" = 0 ] || die "$bad allocations not in the smallest C-safe class that holds them"
	bad=$(q "SELECT count(*) FROM class_stat c JOIN size_class s USING(run_id, class) WHERE c.class > 0 AND
	          c.allocated_bytes != c.allocs * s.size")
	[ "$bad" = 0 ] || die "$bad classes whose allocated bytes are not allocs x class size"
	bad=$(q "SELECT count(*) FROM class_stat c WHERE c.allocs != (SELECT count(*) FROM events e WHERE e.class=c.class
	          AND e.kind IN (1,3)) OR c.frees != (SELECT count(*) FROM events e WHERE e.class=c.class AND e.kind=4)")
	[ "$bad" = 0 ] || die "$bad classes whose counts differ from the request stream"
	c100=$(q "SELECT class FROM size_class WHERE used AND size >= 100 ORDER BY size LIMIT 1")
	echo "100 B requests: class $c100; class_stats: $(q "SELECT allocs, frees, requested_bytes, allocated_bytes FROM class_stats WHERE class=$c100")"
	;;
attach_programs)
	# attach_check NAME PID: attach for 2 s, then the checks; PID keeps running
	attach_check() {
		local name=$1 pid=$2 db=$dir/$1.db
		"$cli" attach -p "$pid" --duration 2 -o "$db" 2>"$dir/err" || { cat "$dir/err"; die "$name: attach exited $?"; }
		cat "$dir/err"
		kill -0 "$pid" 2>/dev/null || die "$name: the process is gone after attach"
		local n
		n=$(sqlite3 "$db" "SELECT sum(allocs) FROM class_stats")
		[ "${n:-0}" -gt 100 ] || die "$name: $n allocations recorded in 2 s of a busy process"
		bad=$(sqlite3 "$db" "SELECT count(*) FROM class_stat c JOIN size_class s USING(run_id, class)
		                     WHERE c.class > 0 AND c.allocated_bytes != c.allocs * s.size")
		[ "$bad" = 0 ] || die "$name: $bad classes whose allocated bytes are not allocs x class size"
		"$cli" report "$db" >"$dir/report.txt" || die "$name: report failed"
		grep -q "MODELLED, not measured" "$dir/report.txt" || die "$name: report does not say the figures are modelled"
		grep -A3 "^Size classes" "$dir/report.txt"
		fig=$("$cli" report "$db" --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["run"]["figures"])')
		[ "$fig" = modelled ] || die "$name: report json says figures $fig"
		echo "$name: $n requests modelled"
	}
	/usr/bin/python3 -c '
import time
t = time.time()
while time.time() - t < 30:
    d = {str(i): [i] * 10 for i in range(20000)}
' &
	ppid=$!
	bg="$bg $ppid"
	sleep 0.5
	attach_check python3 $ppid
	# the command as /proc has it, its program's newlines kept
	python3 - "$dir/python3.db" $ppid <<'PY' || exit 1
import sqlite3, sys
got = sqlite3.connect(sys.argv[1]).execute("SELECT command FROM run").fetchone()[0]
want = open(f"/proc/{sys.argv[2]}/cmdline", "rb").read().rstrip(b"\0").replace(b"\0", b" ").decode()
sys.exit(0 if got == want else f"FAIL: attach recorded the command {got!r}, /proc says {want!r}")
PY
	kill $ppid
	if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
		sock=$dir/redis.sock # a socket of its own: no TCP port to collide with
		redis-server --port 0 --unixsocket "$sock" --save '' --appendonly no >/dev/null 2>&1 &
		rpid=$!
		bg="$bg $rpid"
		for i in $(seq 1 50); do redis-cli -s "$sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
		redis-benchmark -s "$sock" -q -l -r 1000000 -t set,lpush >/dev/null 2>"$dir/bench.err" &
		bpid=$!
		bg="$bg $bpid"
		# SETs of random keys (-r) and LPUSHes allocate on every command (GETs
		# and SETs of one key reuse buffers: a 2 s window could see none);
		# attach once redis is serving the benchmark
		busy=0
		for i in $(seq 1 100); do
			busy=$(redis-cli -s "$sock" info stats 2>/dev/null | tr -d '\r' |
			       awk -F: '$1 == "total_commands_processed" { print $2 + 0 }')
			[ "${busy:-0}" -gt 5000 ] && break
			sleep 0.1
		done
		[ "${busy:-0}" -gt 5000 ] || { cat "$dir/bench.err"; die "redis-server is not busy ($busy commands): the benchmark did not run"; }
		attach_check redis-server $rpid
		grep -q "libjemalloc" "$dir/err" || echo "note: redis-server's allocator: $(grep -o 'uprobes on [^ ]*' "$dir/err")"
		kill $bpid 2>/dev/null
		redis-cli -s "$sock" shutdown nosave >/dev/null 2>&1 || kill $rpid
		wait $rpid 2>/dev/null
	else
		echo "note: redis-server not installed: attach checked on python3 only"
	fi
	;;
*)
	die "unknown case $case"
	;;
esac
echo "ok: $case"
