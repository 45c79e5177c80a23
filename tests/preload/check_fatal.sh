#!/bin/bash
# check_fatal.sh LIB PROGRAM CASE CALL: run one bad call of preload_bad under
# LD_PRELOAD=LIB and require: a non-zero exit (killed by SIGABRT), one line on
# stderr "goalloc: CALL(): ..." naming the address the program printed.
set -u
lib=$1 prog=$2 case=$3 call=$4
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
LD_PRELOAD=$lib "$prog" "$case" >"$out" 2>"$err"
status=$?
addr=$(tail -n 1 "$out")
echo "case $case: exit status $status, address $addr"
sed 's/^/  stderr: /' "$err"
if [ "$status" -eq 0 ]; then
	echo "FAIL: the bad call was not stopped"
	exit 1
fi
if [ "$status" -ne 134 ]; then
	echo "FAIL: expected death by SIGABRT (134), got $status"
	exit 1
fi
if ! grep -q "^goalloc: $call(): .*$addr" "$err"; then
	echo "FAIL: no line 'goalloc: $call(): ... $addr' on stderr"
	exit 1
fi
echo "ok"
