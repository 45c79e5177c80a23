#!/bin/bash
# prog_redis: redis-server under libgoalloc.so, loaded by redis-cli and
# redis-benchmark on loopback.
#
#   prog_redis.sh <libgoalloc.so> <scratch base dir>
#
# Debian's redis-server is linked with libjemalloc; the preload takes its
# malloc/calloc/realloc/free/malloc_usable_size over (jemalloc keeps only
# mallctl/nallocx, which redis uses for statistics). One scenario, run
# without and then with the preload (server, redis-cli and redis-benchmark
# all preloaded in the second run):
#   1. start redis-server on 127.0.0.1 at a random free port, no persistence;
#   2. load database 0 with 20,000 strings of 1..4,000 bytes, 300 lists,
#      300 hashes, 200 sets and 100 sorted sets from a generated command
#      file, then grow, overwrite and delete part of it;
#   3. redis-benchmark (bounded: -n 50000 per test, 4 clients, random keys of 1 KB)
#      on database 1 for set,get,lpush,lpop,incr, then FLUSHDB there;
#   4. check database 0: DBSIZE, known values, and a SHA-1 over every key and
#      value computed by a Lua script in the server (sorted, so independent
#      of the server's randomised hash order);
#   5. check the server is alive and that libgoalloc.so is (preloaded run)
#      or is not (plain run) in its /proc/<pid>/maps;
#   6. SHUTDOWN NOSAVE; the server must exit 0 and, in the preloaded run
#      (GOALLOC_STATS=1 for the server only), print its heap report.
# Timings from redis-benchmark are not results: only which tests completed
# is compared. A trap kills the server by pid if the scenario stops early.

. "$(dirname "$0")/lib.sh"
gt_init redis "$@"

gt_require /usr/bin/redis-server redis-server
gt_require /usr/bin/redis-cli redis-tools
gt_require /usr/bin/redis-benchmark redis-tools
gt_require /usr/bin/perl perl

DATA=$GT_WORK/load.redis
perl - >"$DATA" <<'GEN' || gt_die "cannot generate $DATA"
use strict;
use warnings;
my $seed = 99;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return ($seed >> 16) % $_[0]; }
my @alpha = ('a' .. 'z', 'A' .. 'Z', 0 .. 9);
sub word { join '', map { $alpha[rnd(scalar @alpha)] } 1 .. $_[0] }
for my $i (1 .. 20000) { printf "SET gt:str:%05d %s\n", $i, word(1 + rnd(16)) x (1 + rnd(250)) }
for my $i (1 .. 300) { print "RPUSH gt:list:$i ", join(' ', map { word(1 + rnd(40)) } 1 .. 1 + rnd(300)), "\n" }
for my $i (1 .. 300) { print "HSET gt:hash:$i ", join(' ', map { "f$_ " . word(1 + rnd(100)) } 1 .. 1 + rnd(200)), "\n" }
for my $i (1 .. 200) { print "SADD gt:set:$i ", join(' ', map { word(3 + rnd(10)) } 1 .. 1 + rnd(500)), "\n" }
for my $i (1 .. 100) { print "ZADD gt:zset:$i ", join(' ', map { rnd(100000) . ' m' . $_ } 1 .. 1 + rnd(400)), "\n" }
for my $i (1 .. 5000) { printf "APPEND gt:str:%05d %s\n", 1 + rnd(20000), word(1 + rnd(2000)) }
for my $i (1 .. 3000) { printf "SETRANGE gt:str:%05d %d %s\n", 1 + rnd(20000), rnd(3000), word(1 + rnd(50)) }
for my $i (1 .. 2000) { printf "DEL gt:str:%05d\n", 1 + rnd(20000) }
for my $i (1 .. 500) { printf "LPOP gt:list:%d %d\n", 1 + rnd(300), 1 + rnd(20) }
for my $i (1 .. 500) { printf "HDEL gt:hash:%d f%d f%d\n", 1 + rnd(300), 1 + rnd(200), 1 + rnd(200) }
for my $i (1 .. 300) { printf "ZINCRBY gt:zset:%d %d m%d\n", 1 + rnd(100), rnd(1000), 1 + rnd(400) }
print "SET gt:known:a hello\nSET gt:known:b ", 'x' x 100000, "\nINCRBY gt:known:n 41\nINCR gt:known:n\n";
GEN

DIGEST=$GT_WORK/digest.lua
cat >"$DIGEST" <<'EOF'
local keys = redis.call('KEYS', 'gt:*')
table.sort(keys)
local d = ''
for _, k in ipairs(keys) do
	local t = redis.call('TYPE', k)['ok']
	local v
	if t == 'string' then
		v = redis.call('GET', k)
	elseif t == 'list' then
		v = table.concat(redis.call('LRANGE', k, 0, -1), '\n')
	elseif t == 'hash' then
		local h = redis.call('HGETALL', k)
		local e = {}
		for i = 1, #h, 2 do e[#e + 1] = h[i] .. '=' .. h[i + 1] end
		table.sort(e)
		v = table.concat(e, '\n')
	elseif t == 'set' then
		local s = redis.call('SMEMBERS', k)
		table.sort(s)
		v = table.concat(s, '\n')
	elseif t == 'zset' then
		v = table.concat(redis.call('ZRANGE', k, 0, -1, 'WITHSCORES'), '\n')
	end
	d = redis.sha1hex(d .. k .. t .. redis.sha1hex(v))
end
return {#keys, d}
EOF

SCENARIO=$GT_WORK/scenario.sh
cat >"$SCENARIO" <<'EOF'
set -eu
data=$1 digest=$2
pid=
stop() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		echo "killed the stray redis-server $pid" >&2
	fi
}
trap stop EXIT

listening() { # port: is something listening on 127.0.0.1/any at it?
	local hex
	hex=$(printf ':%04X ' "$1")
	awk -v p="$hex" '$4 == "0A" && index($2, p) { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6
}

# 1. Start the server; retry on another port if someone took ours meanwhile.
server_env=()
[ "$GT_MODE" = preload ] && server_env=(GOALLOC_STATS=1)
for attempt in 1 2 3 4 5 6 7 8 9 10; do
	port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
	listening "$port" && continue
	env "${server_env[@]}" redis-server --bind 127.0.0.1 --port "$port" \
		--save '' --appendonly no --daemonize no --protected-mode yes \
		--dir "$PWD" --logfile "$PWD/server.log" 2>server.err &
	pid=$!
	for _ in $(seq 1 100); do
		if ! kill -0 "$pid" 2>/dev/null; then break; fi
		if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then break 2; fi
		sleep 0.1
	done
	stop
	wait "$pid" 2>/dev/null || true
	pid=
	echo "redis-server did not start on port $port (attempt $attempt):" >&2
	tail -n 5 server.log >&2 || true
done
[ -n "$pid" ] || { echo "cannot start redis-server" >&2; exit 2; }
cli() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }
echo "server up"

# 2. Load database 0.
cli <"$data" >load.out
echo "load: $(wc -l <load.out) replies, $(grep -c '^OK$' load.out) OK, sha256 $(sha256sum <load.out | cut -c1-64)"
cli dbsize

# 3. The benchmark on database 1 (timings are not compared, test names are).
redis-benchmark -h 127.0.0.1 -p "$port" --dbnum 1 -q -n 50000 -c 4 -r 100000 -d 1024 \
	-t set,get,lpush,lpop,incr >bench.out 2>bench.err
tr '\r' '\n' <bench.out | sed -n -E 's/^([A-Z_]+( \([^)]*\))?): [0-9.]+ requests per second.*/bench \1 done/p'
[ "$(cli -n 1 dbsize)" -gt 1000 ] && echo "bench: database 1 has over 1000 keys"
cli -n 1 flushdb
cli -n 1 dbsize

# 4. Database 0 is intact.
cli dbsize
cli get gt:known:a
cli get gt:known:b | wc -c
cli get gt:known:n
cli strlen gt:str:00001
cli llen gt:list:7
cli lrange gt:list:7 0 4
cli hlen gt:hash:9
cli scard gt:set:5
cli zrange gt:zset:3 0 9 withscores
cli --eval "$digest"

# 5. Still alive, and on the right malloc.
kill -0 "$pid" && echo "server alive"
if grep -q 'libgoalloc\.so' "/proc/$pid/maps"; then on=yes; else on=no; fi
want=no
[ "$GT_MODE" = preload ] && want=yes
if [ "$on" != "$want" ]; then
	echo "libgoalloc.so in the maps of redis-server: $on, expected $want ($GT_MODE run)" >&2
	exit 3
fi

# 6. Shut down; the server's own exit status is part of the result.
cli shutdown nosave || true
rc=0
wait "$pid" || rc=$?
pid=
echo "server exit status $rc"
if [ "$GT_MODE" = preload ] && ! grep -q HeapAlloc server.err; then
	echo "redis-server printed no heap report at exit with GOALLOC_STATS=1" >&2
	exit 4
fi
EOF

gt_compare scenario --min-lines 20 -- bash "$SCENARIO" "$DATA" "$DIGEST" || true

gt_finish
