// check_html.js CLI SITES_PROG KNOWN_ALLOCS BUILDDIR: goalloc-trace's HTML
// pages in a real browser.  Records sites_prog with --stacks=all and
// known_allocs with --stacks=off into one database, copies it with a
// kernel_timeline table added (the RSS line), writes the report pages of
// the three runs and the compare page, and loads each in headless Debian
// chromium (driven by playwright-core, from BUILDDIR/node_modules) with
// every request but the page's own file blocked.  Each page must show no
// console error, no page error and no request; every chart's canvas or svg
// must exist and hold drawn pixels; and the numbers the page shows must
// equal the same figures computed here with the sqlite3 program from the
// database.  A full-page screenshot of each is saved as BUILDDIR/*.png and
// checked (PNG signature, size, dimensions).  Exit 0 when all pass, 1 on a
// failure, 77 (skipped) when chromium is not installed.
"use strict";
const fs = require("fs");
const path = require("path");
const {execFileSync} = require("child_process");

const [cli, sitesProg, knownAllocs, buildDir] = process.argv.slice(2);
if (!buildDir) {
  console.error("usage: check_html.js CLI SITES_PROG KNOWN_ALLOCS BUILDDIR");
  process.exit(2);
}
const chromium = process.env.GOALLOC_CHROMIUM || "/usr/bin/chromium";
if (!fs.existsSync(chromium)) {
  console.log(`SKIP: ${chromium} is not installed (Debian: apt-get install chromium, or bash scripts/setup.sh)`);
  process.exit(77);
}
const {chromium: pw} = require(path.join(buildDir, "node_modules", "playwright-core"));

let failures = 0, passes = 0;
function check(what, got, want) {
  const ok = JSON.stringify(got) === JSON.stringify(want);
  if (ok) passes++;
  else failures++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}: ${JSON.stringify(got)}${ok ? "" : ` (want ${JSON.stringify(want)})`}`);
}
function checkTrue(what, cond, detail) {
  check(what + (detail !== undefined ? ` [${detail}]` : ""), !!cond, true);
}

const work = path.join(buildDir, "work");
fs.rmSync(work, {recursive: true, force: true});
fs.mkdirSync(work, {recursive: true});
const db = path.join(work, "trace.db"), dbk = path.join(work, "kernel.db");
function run(args) {
  return execFileSync(cli, args, {encoding: "utf8", stdio: ["ignore", "pipe", "inherit"]});
}
function sql(file, q) {
  const out = execFileSync("sqlite3", ["-json", "-readonly", file, q], {encoding: "utf8"});
  return out.trim() ? JSON.parse(out) : [];
}

// ---- the workloads, and a copy with the kernel's view ----------------------
run(["run", "-q", "--bpf=off", "--stacks=all", "--name", "sites", "-o", db, "--", sitesProg, "1000000", "37"]);
// (--bpf=off: the pages without RSS must have no kernel view; one copy gets a
// made-up one below.)
// A name that must not end the page's JSON element or open a comment in it.
const knownName = "known </script><!-- & <b>";
run(["run", "-q", "--bpf=off", "--stacks=off", "--name", knownName, "-o", db, "--", knownAllocs, path.join(work, "manifest")]);
fs.copyFileSync(db, dbk);
{
  // Two processes sampled at their own times: RSS at t is the sum of each
  // pid's latest sample at or before t.
  const end = sql(dbk, "SELECT duration_ns d FROM run WHERE run_id = 1")[0].d;
  // The schema's kernel view (005) stores samples in kernel_sample under the
  // kernel_timeline view; a file without it gets a table of that name.
  const base = sql(dbk, "SELECT count(*) n FROM sqlite_master WHERE name = 'kernel_sample'")[0].n > 0
    ? "kernel_sample" : "kernel_timeline";
  const stmts = base === "kernel_timeline"
    ? ["CREATE TABLE IF NOT EXISTS kernel_timeline(run_id, t_ns, pid, rss_bytes, page_faults);"] : [];
  const ins = `INSERT INTO ${base}(run_id, t_ns, pid, rss_bytes, page_faults) VALUES`;
  for (let i = 0; i <= 20; i++) {
    const t = Math.floor((end * i) / 20);
    stmts.push(`${ins}(1, ${t}, 100, ${(1 << 20) + i * 65536}, ${i * 10});`);
    if (i % 3 === 1)
      stmts.push(`${ins}(1, ${t + 7}, 200, ${(2 << 20) + i * 4096}, ${i});`);
  }
  stmts.push(`${ins}(2, 5, 300, 999, 1);`);
  execFileSync("sqlite3", [dbk], {input: stmts.join("\n")});
}
const pages = {
  report: {file: path.join(work, "report.html"), args: ["report", db, "--run", "1"], db: db, run: 1},
  report_nostacks: {file: path.join(work, "report_nostacks.html"), args: ["report", db, "--run", "2"], db: db, run: 2},
  report_rss: {file: path.join(work, "report_rss.html"), args: ["report", dbk, "--run", "1"], db: dbk, run: 1},
  compare: {file: path.join(work, "compare.html"), args: ["compare", db]},
};
for (const p of Object.values(pages)) run([...p.args, "--format", "html", "-o", p.file]);

// ---- the figures, from the database ----------------------------------------
function frameName(f) {
  if (f.function != null) return f.function;
  if (f.module != null) return f.module.replace(/.*\//, "") + "+0x" + BigInt(f.offset).toString(16);
  return "0x" + BigInt.asUintN(64, BigInt(f.pc)).toString(16);
}
function expected(file, runId, col) {
  col = col || "allocated_bytes";
  const e = {};
  const r = sql(file, `SELECT peak_heap_alloc, peak_heap_inuse, peak_heap_sys FROM run WHERE run_id = ${runId}`)[0];
  e.peakHeapAlloc = r.peak_heap_alloc;
  e.peakHeapInuse = r.peak_heap_inuse;
  e.peakHeapSys = r.peak_heap_sys;
  e.samples = sql(file, `SELECT count(*) n FROM heap_sample WHERE run_id = ${runId}`)[0].n;
  e.maxSampleHeapAlloc = sql(file, `SELECT max(heap_alloc) m FROM heap_sample WHERE run_id = ${runId}`)[0].m;
  const top = sql(file, `SELECT class, allocated_bytes - requested_bytes w FROM class_stat WHERE run_id = ${runId} ` +
                        `AND allocs > 0 ORDER BY w DESC, class LIMIT 1`)[0];
  e.topClass = top.class;
  e.topClassWaste = top.w;
  e.classesUsed = sql(file, `SELECT count(*) n FROM class_stat WHERE run_id = ${runId} AND allocs > 0`)[0].n;
  // The flame graph: bytes per stack, each stack's frames; the outermost
  // frame with the most bytes, and the frame under which the most bytes were
  // allocated (counted once per stack).
  const bytes = new Map();
  for (const s of sql(file, `SELECT stack_id, sum(${col}) b FROM site_stats WHERE run_id = ${runId} GROUP BY stack_id`))
    bytes.set(s.stack_id, s.b);
  const frames = new Map();
  for (const f of sql(file, `SELECT stack_id, depth, pc, module, offset, function FROM site_frames WHERE run_id = ${runId} ORDER BY stack_id, depth`)) {
    if (!frames.has(f.stack_id)) frames.set(f.stack_id, []);
    frames.get(f.stack_id).push(frameName(f));
  }
  const outer = new Map(), under = new Map();
  let total = 0, nsites = 0;
  for (const [sid, b] of bytes) {
    if (b <= 0) continue;
    total += b;
    nsites++;
    const fr = frames.get(sid) || ["(no frames)"];
    const o = fr[fr.length - 1];
    outer.set(o, (outer.get(o) || 0) + b);
    for (const n of new Set(fr)) under.set(n, (under.get(n) || 0) + b);
  }
  const best = (m) => [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  e.sites = nsites;
  e.flameTotal = total;
  e.topOuter = best(outer);
  e.topUnder = best(under);
  e.stacks = sql(file, `SELECT stacks FROM run WHERE run_id = ${runId}`)[0].stacks;
  return e;
}
// RSS over time as the kernel_timeline rows give it.
function expectedRss(file, runId) {
  const rows = sql(file, `SELECT t_ns, pid, rss_bytes FROM kernel_timeline WHERE run_id = ${runId} ORDER BY t_ns, pid`);
  const last = new Map(), out = [];
  for (const r of rows) {
    last.set(r.pid, r.rss_bytes);
    const sum = [...last.values()].reduce((a, b) => a + b, 0);
    if (out.length && out[out.length - 1][0] === r.t_ns) out[out.length - 1][1] = sum;
    else out.push([r.t_ns, sum]);
  }
  return out;
}

// ---- a PNG's dimensions ------------------------------------------------------
function pngInfo(file) {
  const b = fs.readFileSync(file);
  const sig = b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  return {sig: sig, size: b.length, width: sig ? b.readUInt32BE(16) : 0, height: sig ? b.readUInt32BE(20) : 0};
}

// ---- the browser -----------------------------------------------------------
// In the page: every canvas's chart (chart.js) with its datasets' lengths and
// the count of pixels drawn; the flame graph's svg with its frames.
function inspect() {
  const charts = [...document.querySelectorAll("canvas")].map((c) => {
    const ch = Chart.getChart(c);
    let drawn = 0;
    if (c.width && c.height) {
      const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i]) drawn++;
    }
    return {id: c.id, width: c.width, height: c.height, drawn: drawn, chart: !!ch,
            lengths: ch ? ch.data.datasets.map((d) => d.data.length) : [],
            labels: ch ? ch.data.datasets.map((d) => d.label) : []};
  });
  const svg = document.querySelector("#flame svg");
  const rects = svg ? [...svg.querySelectorAll("rect")].filter((r) => +r.getAttribute("width") > 0) : [];
  const text = (sel) => { const e = document.querySelector(sel); return e ? e.textContent : null; };
  const raw = (sel) => { const e = document.querySelector(sel + " .raw"); return e ? Number(e.textContent) : null; };
  const cells = (sel) => [...document.querySelectorAll(sel)].map((tr) => [...tr.children].map((td) => {
    const r = td.querySelector(".raw");
    return r ? Number(r.textContent) : td.textContent;
  }));
  const tl = Chart.getChart(document.getElementById("chart-timeline") || document.createElement("canvas"));
  const series = (label) => {
    const d = tl && tl.data.datasets.find((x) => x.label === label);
    return d ? d.data.map((p) => [p.x, p.y]) : null;
  };
  return {
    charts: charts, ready: document.body.getAttribute("data-ready"),
    svg: svg ? {width: +svg.getAttribute("width"), height: +svg.getAttribute("height"), frames: rects.length,
                names: [...svg.querySelectorAll("g.frame")].map((g) => g.getAttribute("name"))} : null,
    peakHeapAlloc: raw('[data-key="heap.heap_alloc.peak_bytes"]'),
    peakHeapInuse: raw('[data-key="heap.heap_inuse.peak_bytes"]'),
    peakHeapSys: raw('[data-key="heap.heap_sys.peak_bytes"]'),
    timelinePoints: text("#timeline-points"), rssPoints: text("#rss-points"), rssNone: !!document.querySelector("#rss-none"),
    heapAllocSeries: series("HeapAlloc"), rssSeries: series("RSS (kernel, all processes)"),
    wasteRows: cells("#waste-table tr:not(:first-child)"),
    wasteChart: (() => { const c = Chart.getChart(document.getElementById("chart-waste") || document.createElement("canvas"));
                         return c ? {labels: c.data.labels, data: c.data.datasets[0].data} : null; })(),
    spanBuckets: (() => { const c = Chart.getChart(document.getElementById("chart-spanuse") || document.createElement("canvas"));
                          return c ? c.data.datasets[0].data : null; })(),
    flameTop: cells("#flame-top tr:not(:first-child)"), flameFrames: cells("#flame-frames tr:not(:first-child)"),
    flameSites: text("#flame-sites"), flameTotal: text("#flame-total"), flameNone: text("#flame-none"),
    totals: cells("#totals-table tr:not(:first-child)"),
    classWaste: (() => { const c = Chart.getChart(document.getElementById("chart-classwaste") || document.createElement("canvas"));
                         return c ? c.data.labels.map((_, i) => c.data.datasets.map((d) => d.data[i])) : null; })(),
    title: document.title,
  };
}

// Two animation frames and a timer tick: d3's zero-length transitions (the
// flame graph's frame widths) have run.
function settled() {
  return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 20))));
}

(async () => {
  const browser = await pw.launch({
    executablePath: chromium, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
  try {
    for (const [name, p] of Object.entries(pages)) {
      console.log(`== ${name}: ${p.args.join(" ")} --format html`);
      const url = "file://" + p.file;
      const ctx = await browser.newContext({viewport: {width: 1280, height: 900}});
      const page = await ctx.newPage();
      const errors = [], requests = [];
      page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") errors.push(`console ${m.type()}: ${m.text()}`); });
      page.on("pageerror", (e) => errors.push("page error: " + e.message));
      page.on("request", (r) => { if (r.url() !== url) requests.push(r.url()); });
      await ctx.route("**/*", (route) => (route.request().url() === url ? route.continue() : route.abort()));
      await page.goto(url, {waitUntil: "load"});
      await page.evaluate(settled);
      const got = await page.evaluate(inspect);
      const shot = path.join(buildDir, name + ".png");
      await page.screenshot({path: shot, fullPage: true});
      let gotWaste = null;
      if (await page.$("#flame-value")) {
        await page.selectOption("#flame-value", "waste_bytes");
        await page.evaluate(settled);
        gotWaste = await page.evaluate(() => ({
          top: [...document.querySelectorAll("#flame-top tr:not(:first-child)")].map((tr) => [tr.children[0].textContent, Number(tr.querySelector(".raw").textContent)]),
          total: Number(document.querySelector("#flame-total").textContent),
          frames: [...document.querySelectorAll("#flame svg rect")].filter((r) => +r.getAttribute("width") > 0).length,
        }));
        await page.selectOption("#flame-value", "allocated_bytes");
      }
      await ctx.close();

      check(`${name}: console and page errors`, errors, []);
      check(`${name}: requests other than the page itself`, requests, []);
      check(`${name}: the page's script ran to its end`, got.ready, "1");
      const png = pngInfo(shot);
      checkTrue(`${name}: screenshot ${shot} is a PNG of at least 1280x2000 and 50 KB`,
                png.sig && png.width >= 1280 && png.height >= 2000 && png.size >= 50000,
                `${png.width}x${png.height}, ${png.size} bytes`);
      const wantCharts = name === "compare" ? ["chart-totals", "chart-share", "chart-classwaste", "chart-differ"]
                                             : ["chart-waste", "chart-timeline", "chart-spanuse"];
      check(`${name}: the charts`, got.charts.map((c) => c.id), wantCharts);
      for (const c of got.charts)
        checkTrue(`${name}: ${c.id} is a chart.js chart with data, drawn`,
                  c.chart && c.width > 300 && c.height > 150 && c.drawn > 2000 && c.lengths.length && c.lengths.every((n) => n > 0),
                  `${c.width}x${c.height}, ${c.drawn} pixels drawn, datasets ${JSON.stringify(c.lengths)}`);
      if (name === "compare") {
        const runs = [1, 2].map((r) => sql(db, `SELECT peak_heap_alloc a, peak_heap_sys s FROM run WHERE run_id = ${r}`)[0]);
        const row = (f) => got.totals.find((t) => t[0] === f) || [];
        check("compare: HeapAlloc at each run's peak", row("heap_alloc").slice(1), runs.map((r) => r.a));
        check("compare: HeapSys at each run's peak", row("heap_sys").slice(1), runs.map((r) => r.s));
        const n = sql(db, "SELECT count(DISTINCT class) n FROM class_stat WHERE allocs > 0")[0].n;
        check("compare: classes used by either run, bars per run", (got.charts.find((c) => c.id === "chart-share") || {}).lengths, [n, n]);
        check("compare: title", got.title, "goalloc-trace compare");
        // Each class's waste % per run, as plotted, against SQL (2 decimals).
        const plotted = got.classWaste;
        const want = sql(db, "SELECT c.class, " + [1, 2].map((r) => `(SELECT CASE WHEN k.allocs > 0 AND k.allocated_bytes > 0 THEN ` +
          `round(100.0 * (k.allocated_bytes - k.requested_bytes) / k.allocated_bytes, 2) END FROM class_stat k WHERE k.run_id = ${r} ` +
          `AND k.class = c.class) r${r}`).join(", ") + " FROM (SELECT DISTINCT class FROM class_stat WHERE allocs > 0) c ORDER BY c.class");
        // within 0.006 points: both sides round the same ratio to 2 decimals, perhaps differently at a tie
        const near = (a, b) => (a === null || b === null ? a === b : Math.abs(a - b) < 0.006);
        const wantRows = want.map((r) => [r.r1, r.r2]);
        checkTrue(`compare: waste % per class and run, plotted, equal SQL's ${JSON.stringify(wantRows)}`,
                  plotted && plotted.length === wantRows.length && plotted.every((r, i) => r.every((v, k) => near(v, wantRows[i][k]))),
                  JSON.stringify(plotted));
        continue;
      }
      const e = expected(p.db, p.run);
      check(`${name}: HeapAlloc at peak`, got.peakHeapAlloc, e.peakHeapAlloc);
      check(`${name}: HeapInuse at peak`, got.peakHeapInuse, e.peakHeapInuse);
      check(`${name}: HeapSys at peak`, got.peakHeapSys, e.peakHeapSys);
      check(`${name}: timeline points (text)`, Number(got.timelinePoints), e.samples);
      const plotted = got.heapAllocSeries || [], waste = got.wasteChart || {data: []}, top = got.wasteRows[0] || [];
      check(`${name}: timeline points plotted`, plotted.length, e.samples);
      check(`${name}: highest HeapAlloc plotted`, Math.max(...plotted.map((p) => p[1])), e.maxSampleHeapAlloc);
      check(`${name}: the class with the most waste, and its waste`, top.slice(0, 3), [e.topClass, top[1], e.topClassWaste]);
      check(`${name}: waste bars (one per class used)`, waste.data.length, e.classesUsed);
      check(`${name}: the tallest waste bar`, Math.max(...waste.data), e.topClassWaste);
      checkTrue(`${name}: the span-use histogram counts small classes`, (got.spanBuckets || []).reduce((a, b) => a + b, 0) > 0,
                JSON.stringify(got.spanBuckets));
      if (name === "report_rss") {
        const want = expectedRss(p.db, p.run);
        check(`${name}: RSS points`, Number(got.rssPoints), want.length);
        check(`${name}: RSS line (ms, bytes)`, got.rssSeries, want.map(([t, r]) => [t / 1e6, r]));
      } else {
        check(`${name}: no RSS line without kernel_timeline`, [got.rssNone, got.rssSeries], [true, null]);
      }
      if (name === "report_nostacks") check(`${name}: title`, got.title, "goalloc-trace report: " + knownName);
      if (e.stacks === "off") {
        check(`${name}: the flame graph says the run has no stacks`, got.flameNone,
              "This run recorded no allocation stacks (run it with --stacks=sample or --stacks=all).");
        check(`${name}: and draws none`, got.svg, null);
        continue;
      }
      check(`${name}: sites in the flame graph`, Number(got.flameSites), e.sites);
      check(`${name}: bytes in the flame graph`, Number(got.flameTotal), e.flameTotal);
      check(`${name}: the widest outermost frame and its bytes`, (got.flameTop[0] || []).slice(0, 2), e.topOuter);
      check(`${name}: the frame with the most bytes under it`, got.flameFrames[0], e.topUnder);
      checkTrue(`${name}: the flame graph's svg is drawn with frames`, got.svg && got.svg.width > 300 && got.svg.height > 50 && got.svg.frames >= e.sites,
                got.svg && `${got.svg.width}x${got.svg.height}, ${got.svg.frames} frames`);
      checkTrue(`${name}: the svg holds the widest outermost frame`, got.svg && got.svg.names.includes(e.topOuter[0]));
      const w = expected(p.db, p.run, "waste_bytes");
      check(`${name}: flame graph of waste: total`, gotWaste && gotWaste.total, w.flameTotal);
      check(`${name}: flame graph of waste: the widest outermost frame`, gotWaste && gotWaste.top[0], w.topOuter);
      checkTrue(`${name}: flame graph of waste: drawn`, gotWaste && gotWaste.frames > 1, gotWaste && gotWaste.frames);
    }
  } finally {
    await browser.close();
  }
  console.log(`${passes} passed, ${failures} failed`);
  process.exit(failures ? 1 : 0);
})().catch((err) => {
  console.error("check_html: " + (err && err.stack || err));
  process.exit(1);
});
