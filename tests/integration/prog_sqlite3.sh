#!/bin/bash
# prog_sqlite3: the sqlite3 shell on a generated SQL script under
# libgoalloc.so: 20,000 customers, 2,000 products and 200,000 orders as
# individual INSERT statements, indexes, joins, GROUP BY aggregates, window
# functions, a recursive CTE, UPDATE/DELETE, VACUUM, integrity_check.
#
#   prog_sqlite3.sh <libgoalloc.so> <scratch base dir>
#
# The database is a file in the run directory (page cache, journal, vacuum);
# sqlite3's preloaded run has a GOALLOC_STATS_FILE and its exit report must
# be in it. Every query is ORDER BY'd so its output is defined.

. "$(dirname "$0")/lib.sh"
gt_init sqlite3 "$@"

gt_require /usr/bin/sqlite3 sqlite3
gt_require /usr/bin/perl perl

SQL=$GT_WORK/script.sql
perl - >"$SQL" <<'GEN' || gt_die "cannot generate $SQL"
use strict;
use warnings;
my $seed = 7;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return ($seed >> 16) % $_[0]; }
my @first = qw(Ada Alan Barbara Claude Donald Edsger Frances Grace John Ken
	Leslie Margaret Niklaus Radia Robert Rob Sophie Tony Whitfield Yukihiro);
my @last = qw(Lovelace Turing Liskov Shannon Knuth Dijkstra Allen Hopper
	McCarthy Thompson Lamport Hamilton Wirth Perlman Pike Wilson Hoare Diffie);
my @cat = qw(span arena page class cache heap);
print <<'SQL';
PRAGMA journal_mode = DELETE;
PRAGMA cache_size = -4000;
CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT, since INTEGER);
CREATE TABLE product (id INTEGER PRIMARY KEY, title TEXT NOT NULL, category TEXT, price REAL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customer,
	product INTEGER REFERENCES product, qty INTEGER, note TEXT, day INTEGER);
BEGIN;
SQL
for my $i (1 .. 20000) {
	printf "INSERT INTO customer VALUES(%d, '%s %s', 'city%03d', %d);\n",
		$i, $first[rnd(scalar @first)], $last[rnd(scalar @last)], rnd(300), 2000 + rnd(25);
}
for my $i (1 .. 2000) {
	printf "INSERT INTO product VALUES(%d, '%s-%s-%d', '%s', %d.%02d);\n",
		$i, $cat[rnd(scalar @cat)], $last[rnd(scalar @last)], $i, $cat[rnd(scalar @cat)], 1 + rnd(500), rnd(100);
}
for my $i (1 .. 200000) {
	my $note = rnd(4) == 0 ? "'" . ('x' x rnd(200)) . "note $i'" : 'NULL';
	printf "INSERT INTO orders(customer, product, qty, note, day) VALUES(%d, %d, %d, %s, %d);\n",
		1 + rnd(20000), 1 + rnd(2000), 1 + rnd(9), $note, rnd(365);
}
print <<'SQL';
COMMIT;
CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX orders_product ON orders(product, day);
CREATE INDEX customer_city ON customer(city, name);
ANALYZE;
.print == counts
SELECT (SELECT count(*) FROM customer), (SELECT count(*) FROM product), (SELECT count(*) FROM orders);
.print == revenue by category
SELECT p.category, count(*), sum(o.qty), printf('%.2f', sum(o.qty * p.price))
	FROM orders o JOIN product p ON p.id = o.product GROUP BY p.category ORDER BY p.category;
.print == top customers
SELECT c.id, c.name, count(o.id) AS n, printf('%.2f', sum(o.qty * p.price)) AS total
	FROM customer c JOIN orders o ON o.customer = c.id JOIN product p ON p.id = o.product
	GROUP BY c.id ORDER BY sum(o.qty * p.price) DESC, c.id LIMIT 50;
.print == cities
SELECT city, count(DISTINCT c.id), count(o.id), min(o.day), max(o.day)
	FROM customer c LEFT JOIN orders o ON o.customer = c.id
	GROUP BY city ORDER BY count(o.id) DESC, city LIMIT 40;
.print == window
SELECT day, n, sum(n) OVER (ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS week,
	rank() OVER (ORDER BY n DESC, day) AS r
	FROM (SELECT day, count(*) AS n FROM orders GROUP BY day) ORDER BY day;
.print == names
SELECT substr(name, 1, instr(name, ' ') - 1) AS first, count(*),
	group_concat(DISTINCT substr(name, instr(name, ' ') + 1))
	FROM (SELECT name FROM customer ORDER BY name) GROUP BY first ORDER BY first;
.print == notes
SELECT count(*), sum(length(note)), max(length(note)) FROM orders WHERE note LIKE '%note 1%';
.print == recursive
WITH RECURSIVE fib(n, a, b) AS (SELECT 1, 0, 1 UNION ALL SELECT n + 1, b, (a + b) % 1000000007 FROM fib WHERE n < 5000)
	SELECT n, a FROM fib WHERE n % 250 = 0 ORDER BY n;
.print == update delete vacuum
UPDATE orders SET qty = qty * 2, note = coalesce(note, '') || ' doubled' WHERE day % 7 = 3;
DELETE FROM orders WHERE customer % 13 = 0;
DELETE FROM customer WHERE id % 13 = 0;
SELECT changes(), total_changes() > 0;
VACUUM;
SELECT count(*), sum(qty), sum(length(note)) FROM orders;
SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customer c WHERE c.id = o.customer);
.print == json
SELECT json_group_array(json_object('id', id, 'title', title, 'price', price))
	FROM (SELECT * FROM product ORDER BY price DESC, id LIMIT 20);
.print == integrity
PRAGMA integrity_check;
SQL
GEN
[ "$(grep -c '^INSERT' "$SQL")" -eq 222000 ] || gt_die "$SQL does not have 222000 inserts"
gt_log "generated $SQL: $(wc -c <"$SQL") bytes"

gt_compare script --stats --min-lines 400 -- \
	sqlite3 -bail -batch test.db ".read $SQL" || true

gt_finish
