#!/bin/bash
# prog_postgres: a PostgreSQL 15 cluster made, run and loaded under
# libgoalloc.so.
#
#   prog_postgres.sh <libgoalloc.so> <scratch base dir>
#
# PostgreSQL is a multi-process server: the postmaster forks a backend per
# connection and its own background workers, every one of which keeps its
# memory contexts in blocks from malloc and frees them at once when a
# query's context is reset.  One scenario, run without and then with the
# preload (initdb, the server and every client preloaded in the second run):
#   1. initdb a cluster (it runs the server in bootstrap mode several times);
#   2. start the postmaster on a Unix socket in the run directory (no TCP
#      port, so nothing can collide) and wait for it to accept connections;
#   3. pgbench -i -s 5 (500,000 rows, its indexes), then 4 clients x 1,500
#      transactions; only "transactions processed" and the failure count are
#      compared (its balances are random);
#   4. deterministic queries: a 300,000-row table with an index, group-by
#      and count(distinct) (sorts and hashes that spill memory contexts),
#      a 100,000-level recursive CTE, jsonb built and printed, string_agg;
#   5. every process of the server maps libgoalloc.so (preloaded run) or
#      none does (plain run);
#   6. a fast shutdown: the postmaster's exit status, and the server log's
#      count of PANIC/FATAL/crash lines (0 expected), are part of the result.
# PostgreSQL refuses to run as root: as root, the server and its tools run
# as the user `postgres` (made by Debian's postgresql package), with the
# library copied into the run directory so that user can read it.

. "$(dirname "$0")/lib.sh"
gt_init postgres "$@"

PGBIN=
for d in /usr/lib/postgresql/*/bin; do
	[ -x "$d/postgres" ] && PGBIN=$d
done
[ -n "$PGBIN" ] || gt_die "no /usr/lib/postgresql/<version>/bin/postgres: install the Debian package 'postgresql' (apt-get install postgresql)"
for t in initdb pgbench psql pg_ctl; do
	gt_require "$PGBIN/$t" postgresql
done
if [ "$(id -u)" -eq 0 ]; then
	id postgres >/dev/null 2>&1 || gt_die "no user 'postgres' to run the server as (apt-get install postgresql makes it)"
	command -v runuser >/dev/null || gt_die "runuser(1) is missing: install util-linux"
	chmod 755 "$GT_WORK" || gt_die "cannot open $GT_WORK to the user postgres"
	runuser -u postgres -- test -x "$GT_WORK" ||
		gt_die "the user postgres cannot reach $GT_WORK (a parent directory is private): run with a scratch base it can reach"
fi

SCENARIO=$GT_WORK/scenario.sh
cat >"$SCENARIO" <<'EOF'
set -eu
bin=$1
as=()
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$PWD"
	as=(runuser -u postgres --)
fi
if [ -n "${LD_PRELOAD:-}" ]; then
	cp "$LD_PRELOAD" "$PWD/libgoalloc.so"
	chmod 644 "$PWD/libgoalloc.so"
	export LD_PRELOAD=$PWD/libgoalloc.so
fi
pg() { "${as[@]}" env TMPDIR="$PWD" PGHOST="$PWD" PGPORT=5432 PGDATABASE=postgres "$@"; }
pid= pm= # the server as started (runuser, as root) and the postmaster
stop() { # on the way out: a server still running is killed; the status stays
	local rc=$?
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		if [ -n "$pm" ]; then
			kill -QUIT "$pm" 2>/dev/null || true
			sleep 1
			kill -KILL "$pm" 2>/dev/null || true
		fi
		kill -KILL "$pid" 2>/dev/null || true
		echo "killed the stray postmaster ${pm:-$pid}" >&2
	fi
	exit "$rc"
}
trap stop EXIT

# 1. The cluster.
pg "$bin/initdb" -D "$PWD/data" -A trust -E UTF8 --locale=C --no-sync >initdb.log 2>&1 ||
	{ tail -n 20 initdb.log >&2; exit 2; }
echo "initdb done"

# 2. The server, on a socket in $PWD only.
pg "$bin/postgres" -D "$PWD/data" -k "$PWD" -c listen_addresses= -c fsync=off \
	-c max_connections=20 -c shared_buffers=32MB -c logging_collector=off >server.log 2>&1 &
pid=$!
for _ in $(seq 1 300); do
	kill -0 "$pid" 2>/dev/null || { tail -n 20 server.log >&2; exit 3; }
	# ready: the status line of postmaster.pid (a connection made earlier
	# would put a FATAL "starting up" line into the log)
	[ "$(sed -n 8p data/postmaster.pid 2>/dev/null)" = ready ] && break
	sleep 0.1
done
pm=$(sed -n 1p data/postmaster.pid) # the postmaster ($pid may be runuser)
pg "$bin/psql" -Atc "select 'server up'"

# 3. pgbench.
pg "$bin/pgbench" -i -s 5 -q >pgbench-init.log 2>&1 || { tail -n 20 pgbench-init.log >&2; exit 4; }
pg "$bin/psql" -Atc 'select count(*) from pgbench_accounts'
pg "$bin/pgbench" -c 4 -j 2 -t 1500 >pgbench.log 2>&1 || { tail -n 20 pgbench.log >&2; exit 5; }
grep -E '^number of (transactions actually processed|failed transactions):' pgbench.log | sed 's/ (.*//'
pg "$bin/psql" -Atc 'select count(*) from pgbench_history'

# 4. Deterministic queries.
pg "$bin/psql" -At -v ON_ERROR_STOP=1 <<'SQL'
create table t as
  select i, repeat(chr(97 + i % 26), i % 300) as s, (i::bigint * 7919) % 1000 as k
  from generate_series(1, 300000) i;
create index on t (k);
select k, count(*), sum(length(s)) from t group by k order by k limit 5;
select count(distinct s), count(distinct k), max(length(s)) from t;
select sum(i) from t where k between 100 and 120;
with recursive r(n) as (select 1 union all select n + 1 from r where n < 100000) select sum(n) from r;
select md5(string_agg(md5(i::text), ',' order by i)) from generate_series(1, 20000) i;
select md5(jsonb_agg(jsonb_build_object('i', i, 'h', md5(i::text), 'a', array[i, i * 2]))::text)
  from generate_series(1, 3000) i;
select length(string_agg(s, '' order by i)) from t where i < 20000;
delete from t where k < 500;
vacuum t;
select count(*), sum(k) from t;
SQL

# 5. On the right malloc: the postmaster and every child of it.
want=no
[ "$GT_MODE" = preload ] && want=yes
for p in $pm $(pgrep -P "$pm" || true); do
	if grep -q 'libgoalloc\.so' "/proc/$p/maps" 2>/dev/null; then on=yes; else on=no; fi
	if [ "$on" != "$want" ] && [ -e "/proc/$p" ]; then
		echo "libgoalloc.so in the maps of server process $p ($(cat /proc/$p/comm 2>/dev/null)): $on, expected $want ($GT_MODE run)" >&2
		exit 6
	fi
done
echo "server processes on the expected malloc"

# 6. Fast shutdown.
kill -INT "$pm"
rc=0
wait "$pid" || rc=$?
pid=
echo "postmaster exit status $rc"
echo "server log: $(grep -c -E 'PANIC|FATAL|TRAP|terminated by signal|was terminated' server.log || true) PANIC/FATAL/crash lines"
EOF

gt_compare scenario --min-lines 15 -- bash "$SCENARIO" "$PGBIN" || true

gt_finish
