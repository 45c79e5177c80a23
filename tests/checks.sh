# checks.sh: what the test scripts share, sourced (not run).  A test sets
# $db (the database `check` queries), calls check/expect for each property,
# and exits with $fail: every failure is printed, not just the first.
fail=0

# check NAME SQL: SQL returns rows that describe failures; no row = pass.
check() {
	local out
	out=$(sqlite3 -separator ' ' "$db" "$2")
	if [ -n "$out" ]; then
		echo "FAIL: $1"
		echo "$out" | head -20 | sed 's/^/    /'
		fail=1
	else
		echo "ok: $1"
	fi
}

# expect NAME CMD ARGS...: a command that succeeds = pass.
expect() {
	local name=$1
	shift
	if "$@"; then
		echo "ok: $name"
	else
		echo "FAIL: $name"
		fail=1
	fi
}
