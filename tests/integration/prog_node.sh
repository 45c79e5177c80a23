#!/bin/bash
# prog_node: a Node.js program under libgoalloc.so.  V8 keeps JavaScript
# objects in its own heap, so the program leans on what goes through malloc:
# Buffers and typed arrays (their backing stores), zlib and OpenSSL
# (compression, hashes, ciphers), JSON of large strings, the ICU collator
# and formatters, worker threads (each an isolate of its own, with its own
# allocations, started and stopped in turn), libuv's thread pool (fs and
# crypto work), and child processes (spawned with the preload inherited).
#
#   prog_node.sh <libgoalloc.so> <scratch base dir>
#
# The program's output is deterministic: a seeded generator, no times.
# The preloaded run has a GOALLOC_STATS_FILE, and every process must append
# its exit report to it.

. "$(dirname "$0")/lib.sh"
gt_init node "$@"

NODE=$(command -v node) || NODE=/usr/bin/node
gt_require "$NODE" nodejs

PROG=$GT_WORK/work.js
cat >"$PROG" <<'EOF'
'use strict';
const zlib = require('zlib');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const { execFileSync, spawnSync } = require('child_process');

let seed = 1;
function rnd(n) { seed = (seed * 1103515245 + 12345) % 2147483648; return (seed >>> 16) % n; }
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);

if (!isMainThread) {
	// A worker: its own isolate; buffers, JSON and a hash of what it built.
	seed = workerData.seed;
	const parts = [];
	for (let i = 0; i < 3000; i++)
		parts.push(Buffer.alloc(1 + rnd(2000), i & 255));
	const all = Buffer.concat(parts);
	const obj = Array.from({ length: 2000 }, (_, i) => ({ i, s: 'w'.repeat(rnd(100)) }));
	parentPort.postMessage({ id: workerData.id, bytes: all.length, sha: sha(all),
		json: JSON.stringify(obj).length });
	return;
}

async function main() {
	// 1. Buffers of many sizes, grown, sliced, concatenated and freed.
	let bufs = [];
	for (let i = 0; i < 20000; i++) {
		const b = Buffer.allocUnsafe(1 + rnd(i % 7 === 0 ? 65536 : 512));
		b.fill(i & 255);
		bufs.push(b);
		if (bufs.length > 500)
			bufs.splice(rnd(bufs.length), 1);
	}
	const cat = Buffer.concat(bufs);
	console.log(`buffers: ${bufs.length} kept, ${cat.length} bytes, sha ${sha(cat)}`);
	const typed = new Float64Array(1 << 18).map((_, i) => Math.sqrt(i));
	console.log(`typed: ${typed.length}, sum ${typed.reduce((a, b) => a + b, 0).toFixed(3)}`);

	// 2. zlib: gzip, deflate, brotli round trips of generated text.
	const words = Array.from({ length: 3000 }, () => 'abcdefghij'.slice(0, 2 + rnd(8)) + rnd(100));
	const text = Array.from({ length: 200000 }, () => words[rnd(words.length)]).join(' ');
	for (const [name, c, d] of [['gzip', zlib.gzipSync, zlib.gunzipSync],
		['deflate', zlib.deflateSync, zlib.inflateSync],
		['brotli', zlib.brotliCompressSync, zlib.brotliDecompressSync]]) {
		const z = c(Buffer.from(text));
		console.log(`${name}: ${text.length} -> ${z.length}, round trip ${d(z).toString() === text ? 'ok' : 'BAD'}`);
	}
	const gz = await new Promise((res, rej) => zlib.gzip(Buffer.from(text), (e, r) => e ? rej(e) : res(r)));
	console.log(`gzip on the thread pool: ${gz.length}`);

	// 3. OpenSSL: hashes, HMAC, a cipher round trip, key derivation.
	for (const h of ['md5', 'sha1', 'sha512', 'sha3-256'])
		console.log(`${h}: ${crypto.createHash(h).update(text).digest('hex').slice(0, 24)}`);
	const key = crypto.pbkdf2Sync('secret', 'salt', 2000, 32, 'sha256');
	const iv = Buffer.alloc(16, 7);
	const enc = Buffer.concat([crypto.createCipheriv('aes-256-cbc', key, iv).update(text), crypto.createCipheriv('aes-256-cbc', key, iv).final()]);
	const c2 = crypto.createCipheriv('aes-256-cbc', key, iv);
	const whole = Buffer.concat([c2.update(text), c2.final()]);
	const dc = crypto.createDecipheriv('aes-256-cbc', key, iv);
	const back = Buffer.concat([dc.update(whole), dc.final()]).toString();
	console.log(`aes: ${whole.length} bytes, sha ${sha(whole)}, round trip ${back === text ? 'ok' : 'BAD'} (${enc.length})`);
	const scr = await new Promise((res, rej) => crypto.scrypt('pw', 'salt', 64, (e, k) => e ? rej(e) : res(k)));
	console.log(`scrypt: ${scr.toString('hex').slice(0, 24)}`);

	// 4. JSON of many objects and long strings, parsed back.
	const recs = Array.from({ length: 30000 }, (_, i) => ({ id: i, name: words[rnd(words.length)],
		tags: Array.from({ length: rnd(5) }, () => words[rnd(words.length)]), v: rnd(1000) / 7 }));
	const js = JSON.stringify(recs);
	const parsed = JSON.parse(js);
	console.log(`json: ${js.length} chars, ${parsed.length} records, sha ${sha(js)}`);

	// 5. ICU: collation, number and date formatting, normalisation.
	const coll = new Intl.Collator('de', { sensitivity: 'base' });
	const names = Array.from({ length: 5000 }, (_, i) => ['Äpfel', 'apfel', 'Zebra', 'öl', 'Ol', 'ß'][i % 6] + rnd(50));
	console.log(`collate: ${names.sort(coll.compare).slice(0, 5).join(',')}`);
	const nf = new Intl.NumberFormat('en-IN', { style: 'currency', currency: 'INR' });
	console.log(`number: ${nf.format(1234567.891)}, date: ${new Intl.DateTimeFormat('fr', { timeZone: 'UTC', dateStyle: 'full' }).format(new Date(Date.UTC(2020, 1, 29)))}`);
	console.log(`normalize: ${'\u0041\u030a'.normalize('NFC').codePointAt(0)} ${'ﬁ'.normalize('NFKD')}`);

	// 6. The file system through libuv's thread pool.
	const dir = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'nd-'));
	await Promise.all(Array.from({ length: 64 }, (_, i) =>
		fs.promises.writeFile(path.join(dir, `f${i}`), Buffer.alloc(1000 + i * 100, i))));
	const sizes = await Promise.all(Array.from({ length: 64 }, (_, i) =>
		fs.promises.readFile(path.join(dir, `f${i}`)).then((b) => b.length)));
	fs.rmSync(dir, { recursive: true });
	console.log(`fs: ${sizes.length} files, ${sizes.reduce((a, b) => a + b, 0)} bytes`);

	// 7. Worker threads, two at a time, four rounds.
	for (let round = 0; round < 4; round++) {
		const res = await Promise.all([0, 1].map((k) => new Promise((ok, bad) => {
			const w = new Worker(__filename, { workerData: { id: round * 2 + k, seed: round * 2 + k + 7 } });
			w.once('message', ok);
			w.once('error', bad);
		})));
		for (const r of res)
			console.log(`worker ${r.id}: ${r.bytes} bytes, sha ${r.sha}, json ${r.json}`);
	}

	// 8. Child processes: node itself and a shell pipeline.
	console.log(`child: ${execFileSync(process.execPath, ['-e', 'console.log([...Array(1000).keys()].join("").length)']).toString().trim()}`);
	const sh = spawnSync('/bin/sh', ['-c', 'seq 1 20000 | sort -r | tail -3'],
		{ encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
	console.log(`shell: ${sh.stdout.trim().split('\n').join(' ')} (status ${sh.status})`);
	console.log('done');
}

main().catch((e) => { console.error(e); process.exit(1); });
EOF

gt_compare work --stats --min-lines 25 -- "$NODE" "$PROG" || true

# Every process printed its heap report: node, its node child, and the shell
# pipeline's sh (dash, which ends with _exit), seq, sort and tail (coreutils,
# which close their stderr before exit).
n=$(gt_count_reports work)
[ "$n" -ge 6 ] || gt_die "work: $n heap reports in the GOALLOC_STATS_FILE, expected one per process (6 or more)"
gt_log "work: $n processes printed their heap report"

gt_finish
