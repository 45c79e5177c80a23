#!/bin/bash
# prog_php: PHP, whose extensions are dlopen'ed with RTLD_DEEPBIND (pdo.so
# frees at startup what the interpreter allocated: a preloaded allocator
# that does not clear the flag crashes PHP before its first line; see
# libtrace/deepbind.c), under libgoalloc.so.  The program: arrays and hash
# tables, string building, sorting with callbacks, preg, json and
# serialize round trips, objects and closures, SplFixedArray, generators.
# It runs twice: with PHP's own allocator (Zend MM: the interpreter's
# persistent data and the extensions' startup through malloc) and with
# USE_ZEND_ALLOC=0 (every allocation through malloc).
#
#   prog_php.sh <libgoalloc.so> <scratch base dir>

. "$(dirname "$0")/lib.sh"
gt_init php "$@"

gt_require /usr/bin/php php-cli
# PDO is the extension whose RTLD_DEEPBIND load this test is about. Debian's
# php8.2-common enables it; where a machine's php.ini scan dir does not (a
# conf.d left empty, phpdismod), the test loads it itself rather than skip
# the case. (Asked of php itself: `php -m | grep -q` under pipefail fails
# when grep exits before php's last line-by-line write, and php dies of
# SIGPIPE; a loaded CI machine did exactly that.)
php_has_pdo() { /usr/bin/php "$@" -r 'exit(extension_loaded("PDO") ? 0 : 1);'; }
PHPX=()
if ! php_has_pdo; then
	extdir=$(/usr/bin/php -r 'echo ini_get("extension_dir");')
	[ -f "$extdir/pdo.so" ] || gt_die "php has no PDO extension ($extdir/pdo.so is missing; Debian's php8.2-common ships it)"
	PHPX=(-d extension=pdo)
	php_has_pdo "${PHPX[@]}" || gt_die "php does not load $extdir/pdo.so even with -d extension=pdo"
	gt_log "PDO is not enabled in php's configuration here: loading it with -d extension=pdo"
fi

PROG=$GT_WORK/work.php
cat >"$PROG" <<'EOF'
<?php
mt_srand(7);
// 1. Hash tables and arrays.
$h = [];
for ($i = 0; $i < 300000; $i++) {
	$k = "k" . ($i * 2654435761 % 100003);
	$h[$k] = ($h[$k] ?? 0) + $i % 97;
}
ksort($h);
printf("hash: %d keys, sum %d, first %s last %s\n", count($h), array_sum($h),
       array_key_first($h), array_key_last($h));
$list = range(1, 200000);
shuffle($list);
usort($list, fn($a, $b) => ($a % 1000) <=> ($b % 1000) ?: $a <=> $b);
printf("usort: %d %d %d\n", $list[0], $list[100000], $list[199999]);
$chunks = array_chunk($list, 1000);
$sums = array_map('array_sum', $chunks);
printf("chunks: %d, max sum %d, md5 %s\n", count($chunks), max($sums), md5(implode(',', $sums)));

// 2. Strings: building, replacing, splitting.
$words = [];
for ($i = 0; $i < 5000; $i++)
	$words[] = substr(str_repeat(chr(97 + $i % 26) . chr(97 + ($i * 7) % 26), 1 + $i % 6), 0, 2 + $i % 9);
$text = '';
for ($i = 0; $i < 400000; $i++)
	$text .= $words[mt_rand(0, 4999)] . ($i % 17 == 0 ? ".\n" : ' ');
printf("text: %d bytes, md5 %s\n", strlen($text), md5($text));
$freq = array_count_values(str_word_count($text, 1));
arsort($freq);
printf("words: %d distinct; top %s\n", count($freq), implode(' ', array_slice(array_keys($freq), 0, 8)));
$up = preg_replace_callback('/\b(\w)(\w*)\b/', fn($m) => strtoupper($m[1]) . $m[2], substr($text, 0, 300000));
printf("preg: md5 %s, %d matches\n", md5($up), preg_match_all('/\b[a-f]\w{3,}\b/', $text));
$lines = explode("\n", $text);
printf("lines: %d, longest %d\n", count($lines), max(array_map('strlen', $lines)));

// 3. Round trips.
$data = [];
for ($i = 0; $i < 20000; $i++)
	$data[] = ['id' => $i, 'name' => $words[$i % 5000], 'tags' => array_slice($words, $i % 4990, $i % 7),
	           'score' => round(($i * 37 % 1000) / 7, 3)];
$json = json_encode($data);
$back = json_decode($json, true);
$ser = serialize($back);
$again = unserialize($ser);
printf("json %d bytes, serialize %d bytes, round trips %s %s\n", strlen($json), strlen($ser),
       json_encode($back) === $json ? 'yes' : 'no', $again === $back ? 'yes' : 'no');

// 4. Objects, closures, generators, SPL.
class Node { public $next = null; public function __construct(public int $v, public string $s) {} }
$head = null;
for ($i = 0; $i < 20000; $i++) { $n = new Node($i, str_repeat('n', $i % 40)); $n->next = $head; $head = $n; }
$t = 0; for ($n = $head; $n; $n = $n->next) $t += $n->v + strlen($n->s);
printf("list: %d\n", $t);
for ($n = $head; $n; $n = $m) { $m = $n->next; $n->next = null; } // no deep recursive release
$head = null;
function gen($n) { for ($i = 0; $i < $n; $i++) yield $i => str_repeat('g', $i % 50); }
$g = 0; foreach (gen(200000) as $k => $v) $g += strlen($v) ^ $k;
printf("generator: %d\n", $g);
$fa = new SplFixedArray(100000);
for ($i = 0; $i < 100000; $i++) $fa[$i] = $i * $i % 1009;
$heap = new SplMinHeap();
foreach ($fa as $v) $heap->insert($v);
$top = []; for ($i = 0; $i < 5; $i++) $top[] = $heap->extract();
printf("spl: %s, memory %s\n", implode(' ', $top), memory_get_usage() > 0 ? 'counted' : 'zero');
echo "done\n";
EOF

gt_compare zend --min-lines 12 -- /usr/bin/php "${PHPX[@]}" "$PROG" || true
gt_compare malloc --min-lines 12 USE_ZEND_ALLOC=0 -- /usr/bin/php "${PHPX[@]}" "$PROG" || true

gt_finish
