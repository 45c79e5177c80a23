/* report.js: draws goalloc-trace's HTML page (report_html.c) from the JSON
 * object in <script id="goalloc-data">: charts with chart.js (bars, lines,
 * the histogram) and d3-flame-graph (the flame graph), and every figure as
 * a table, so the page reads without the charts too.  Key figures carry
 * stable ids and data-key attributes (heap.<figure>.<column>) for tests.
 * Draws synchronously, without animation: when the load event fires the
 * page is complete.  Loads nothing. */
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("goalloc-data").textContent);
  const doc = data.doc;
  const app = document.getElementById("app");
  app.textContent = "";
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = "system-ui, sans-serif";
  const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                   "#bcbd22", "#17becf"];

  /* ---- small helpers ---------------------------------------------------- */
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  }
  function bytes(n) {
    if (n == null) return "-";
    const a = Math.abs(n);
    if (a < 1024) return n + " B";
    const u = ["KiB", "MiB", "GiB", "TiB"];
    let v = n / 1024, i = 0;
    while (Math.abs(v) >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return v.toFixed(Math.abs(v) < 10 ? 2 : 1) + " " + u[i];
  }
  /* A number cell: the raw value as text, bytes also in binary units. */
  function numCell(v, isBytes, key) {
    const td = el("td", key ? {"data-key": key} : {});
    if (v == null) { td.textContent = "-"; return td; }
    td.append(el("span", {class: "raw", text: String(v)}));
    if (isBytes && Math.abs(v) >= 1024) td.append(el("span", {class: "human", text: "(" + bytes(v) + ")"}));
    return td;
  }
  const isBytesKey = (k) => /bytes|^heap_|^requested$/.test(k);
  function section(id, title, ...kids) {
    const s = el("section", {id: id}, el("h2", {text: title}), ...kids);
    app.append(s);
    return s;
  }
  function note(text) { return el("p", {class: "note", text: text}); }
  function canvas(id, small) {
    const c = el("canvas", {id: id});
    return [el("div", {class: small ? "chart small" : "chart"}, c), c];
  }
  function notes(key) { return (doc[key + "_notes"] || []).map(note); }
  /* A generic table of row objects; a compared run's columns flattened as runN.key. */
  function rowsTable(id, rows, keyCol) {
    const cols = [];
    const flat = rows.map((r) => {
      const o = {};
      for (const [k, v] of Object.entries(r)) {
        if (k === "runs") v.forEach((g, i) => { for (const [gk, gv] of Object.entries(g)) o["run" + (i + 1) + "." + gk] = gv; });
        else o[k] = v;
      }
      for (const k of Object.keys(o)) if (!cols.includes(k)) cols.push(k);
      return o;
    });
    const t = el("table", {id: id});
    const head = el("tr", {}, ...(keyCol ? [el("th", {class: "text", text: keyCol})] : []),
                    ...cols.map((c) => el("th", {text: c})));
    t.append(el("thead", {}, head));
    const body = el("tbody");
    flat.forEach((o, i) => {
      const tr = el("tr");
      if (keyCol) tr.append(el("td", {class: "text", text: rows[i].__key}));
      for (const c of cols) {
        const v = o[c];
        if (typeof v === "string" || v === undefined) tr.append(el("td", {class: "text", text: v == null ? "-" : v}));
        else tr.append(numCell(v, isBytesKey(c.replace(/^run\d+\./, "")), null));
      }
      body.append(tr);
    });
    t.append(body);
    return el("div", {class: "scroll"}, t);
  }
  function recordTable(id, rec) {
    const t = el("table", {id: id});
    for (const [k, v] of Object.entries(rec)) {
      const tr = el("tr", {}, el("th", {class: "text", text: k}));
      if (typeof v === "string") tr.append(el("td", {class: "text", text: v}));
      else tr.append(numCell(v, isBytesKey(k), id + "." + k));
      t.append(tr);
    }
    return t;
  }
  function keyedRows(obj) { return Object.entries(obj).map(([k, v]) => Object.assign({__key: k}, v)); }
  /* Every section of the document as a table, under one fold. */
  function allTables() {
    const d = el("details", {id: "all-tables"}, el("summary", {text: "All figures of the report, as tables"}));
    for (const [k, v] of Object.entries(doc)) {
      if (k === "format" || k === "kind" || k.endsWith("_notes")) continue;
      d.append(el("h3", {text: k}));
      if (Array.isArray(v)) d.append(v.length ? rowsTable("table-" + k, v) : note("(no rows)"));
      else if (Object.values(v).every((x) => x !== null && typeof x === "object")) d.append(rowsTable("table-" + k, keyedRows(v).map(stripKey), null));
      else d.append(recordTable("table-" + k, v));
      notes(k).forEach((n) => d.append(n));
    }
    return d;
  }
  function stripKey(r) { const o = {figure: r.__key}; for (const [k, v] of Object.entries(r)) if (k !== "__key") o[k] = v; return o; }
  const classLabel = (c) => (c.class === 0 ? "large (0)" : c.class + ": " + c.size + " B");
  const bytesAxis = {ticks: {callback: (v) => bytes(v)}};

  /* ---- report ----------------------------------------------------------- */
  function report() {
    const run = doc.run;
    app.append(el("h1", {text: "goalloc-trace report: " + (run.name || "run " + run.run_id)}));
    app.append(note(run.command + "  (run " + run.run_id + " of " + run.file + ", " + run.mode + " mode)"));

    /* The heap at peak and exit: the key figures. */
    const ht = el("table", {id: "heap-table"});
    ht.append(el("thead", {}, el("tr", {}, el("th", {class: "text", text: "figure"}), el("th", {text: "at peak (bytes)"}),
                                 el("th", {text: "% HeapSys"}), el("th", {text: "at exit (bytes)"}), el("th", {text: "% HeapSys"}))));
    for (const [k, r] of Object.entries(doc.heap)) {
      ht.append(el("tr", {}, el("td", {class: "text", text: k}), numCell(r.peak_bytes, true, "heap." + k + ".peak_bytes"),
                   numCell(r.peak_pct_of_heap_sys, false, null), numCell(r.exit_bytes, true, "heap." + k + ".exit_bytes"),
                   numCell(r.exit_pct_of_heap_sys, false, null)));
    }
    section("heap", "The heap at its peak and at exit", ht, ...notes("heap"));

    /* Waste by class: bars of each class's size-class waste, by class number. */
    const classes = doc.classes.slice();
    const byClass = classes.slice().sort((a, b) => a.class - b.class);
    const [wdiv, wc] = canvas("chart-waste");
    const wt = el("table", {id: "waste-table"});
    wt.append(el("tr", {}, el("th", {text: "class"}), el("th", {text: "size"}), el("th", {text: "waste (bytes)"}),
                 el("th", {text: "waste %"}), el("th", {text: "allocated (bytes)"})));
    classes.slice(0, 10).forEach((c) => wt.append(el("tr", {}, numCell(c.class), numCell(c.size),
      numCell(c.waste_bytes, true), numCell(c.waste_pct), numCell(c.allocated_bytes, true))));
    section("waste", "Size-class waste by class (allocated - requested)", wdiv,
            el("h3", {text: "The classes with the most waste"}), wt, ...notes("classes"));
    new Chart(wc, {
      type: "bar",
      data: {labels: byClass.map(classLabel),
             datasets: [{label: "size-class waste (bytes)", data: byClass.map((c) => c.waste_bytes), backgroundColor: palette[3]},
                        {label: "requested (bytes)", data: byClass.map((c) => c.requested_bytes), backgroundColor: palette[0], hidden: true}]},
      options: {scales: {y: bytesAxis}, plugins: {tooltip: {callbacks: {label: (i) => i.dataset.label + ": " + bytes(i.raw)}}}},
    });

    /* The heap timeline: every sample, and RSS when the kernel's view was recorded. */
    const tl = doc.timeline;
    const series = [["HeapAlloc", "heap_alloc"], ["requested", "requested"], ["HeapInuse", "heap_inuse"],
                    ["HeapIdle", "heap_idle"], ["HeapReleased", "heap_released"], ["HeapSys", "heap_sys"]];
    const ds = series.map(([label, key], i) => ({label: label, data: tl.map((s) => ({x: s.t_ns / 1e6, y: s[key]})),
      borderColor: palette[i], backgroundColor: palette[i], pointRadius: tl.length > 60 ? 0 : 2, borderWidth: 1.5,
      stepped: "before", hidden: key === "heap_idle" || key === "heap_released"}));
    /* The peak is exact (tracked at every event); samples are 10 ms apart and may miss it. */
    if (run.peak_t_ns != null && doc.heap.heap_alloc.peak_bytes != null)
      ds.push({label: "HeapAlloc at its peak", data: [{x: run.peak_t_ns / 1e6, y: doc.heap.heap_alloc.peak_bytes}],
               type: "scatter", borderColor: palette[0], backgroundColor: "#fff", pointRadius: 5, pointStyle: "rectRot", borderWidth: 2});
    if (data.rss) ds.push({label: "RSS (kernel, all processes)", data: data.rss.map(([t, r]) => ({x: t / 1e6, y: r})),
      borderColor: "#000", backgroundColor: "#000", borderDash: [4, 3], pointRadius: 0, borderWidth: 1.5, stepped: "before"});
    const [tdiv, tc] = canvas("chart-timeline");
    const tinfo = el("p", {class: "note"}, "Samples plotted: ", el("span", {id: "timeline-points", text: String(tl.length)}),
      data.rss ? el("span", {}, "; RSS points: ", el("span", {id: "rss-points", text: String(data.rss.length)})) : null,
      data.rss ? null : el("span", {id: "rss-none", text: " (no kernel_timeline rows: no RSS line)"}));
    section("timeline", "The heap over time", tdiv, tinfo, ...notes("timeline"));
    new Chart(tc, {type: "line", data: {datasets: ds},
      options: {parsing: false, normalized: true, interaction: {mode: "nearest", axis: "x", intersect: false},
                scales: {x: {type: "linear", title: {display: true, text: "time (ms)"}}, y: bytesAxis},
                plugins: {tooltip: {callbacks: {label: (i) => i.dataset.label + ": " + bytes(i.raw.y)}}}}});

    /* Span utilization: small classes bucketed by their span use at the peak. */
    const used = classes.filter((c) => c.span_utilization_pct != null);
    const buckets = Array.from({length: 10}, (_, i) => ({lo: i * 10, classes: []}));
    for (const c of used) buckets[Math.min(9, Math.floor(c.span_utilization_pct / 10))].classes.push(c);
    const [sdiv, sc] = canvas("chart-spanuse", true);
    const st = el("table", {id: "spanuse-table"});
    st.append(el("tr", {}, el("th", {text: "span use"}), el("th", {text: "classes"}), el("th", {class: "text", text: "which"})));
    buckets.forEach((b) => st.append(el("tr", {}, el("td", {text: b.lo + "-" + (b.lo + 10) + "%"}), numCell(b.classes.length),
      el("td", {class: "text", text: b.classes.map((c) => c.class).join(" ")}))));
    section("spanuse", "Span utilization at the peak (histogram of size classes)", sdiv, st,
            note("span use = peak objects / (most spans at once x objects per span); classes bucketed by 10 points (100% in the last)."),
            used.length ? null : el("p", {class: "none", id: "spanuse-none", text: "No class has a span use figure (needs the class_span table)."}));
    new Chart(sc, {type: "bar",
      data: {labels: buckets.map((b) => b.lo + "-" + (b.lo + 10) + "%"),
             datasets: [{label: "size classes", data: buckets.map((b) => b.classes.length), backgroundColor: palette[2],
                         barPercentage: 1.0, categoryPercentage: 1.0}]},
      options: {scales: {y: {ticks: {precision: 0}, title: {display: true, text: "classes"}}},
                plugins: {tooltip: {callbacks: {afterLabel: (i) => buckets[i.dataIndex].classes.map(classLabel).join(", ")}}}}});

    flame();

    if (doc.sites) section("sites", "Allocation sites with the most size-class waste", rowsTable("sites-table", doc.sites), ...notes("sites"));
    app.append(el("section", {id: "tables"}, allTables()));
  }

  /* The flame graph of allocation sites: outermost frame at the bottom,
   * width = the chosen per-site figure (site_stats) under that frame. */
  const flameValues = [["allocated_bytes", "bytes allocated", true], ["waste_bytes", "size-class waste", true],
                       ["allocs", "allocations", false], ["live_bytes_at_end", "bytes live at exit", true]];
  function flame() {
    const sites = data.sites || [];
    const s = section("flamegraph", "Allocation sites: flame graph");
    if (data.stacks === "off" || !sites.length) {
      s.append(el("p", {class: "none", id: "flame-none", text: data.stacks === "off"
        ? "This run recorded no allocation stacks (run it with --stacks=sample or --stacks=all)."
        : "This run holds no allocation sites."}));
      return;
    }
    const pick = el("select", {id: "flame-value"}, ...flameValues.map(([k, label]) => el("option", {value: k, text: label})));
    const body = el("div");
    s.append(el("p", {class: "note"}, "Stacks: " + data.stacks + (data.stacks === "sample" ? " (sampled: figures are estimates)" : "") +
                     ". Width: ", pick, ". Click a frame to zoom in, the bottom frame to zoom out."), body);
    pick.addEventListener("change", () => drawFlame(body, sites, pick.value));
    drawFlame(body, sites, pick.value);
  }
  function drawFlame(body, sites, key) {
    const [, what, isBytes] = flameValues.find((v) => v[0] === key);
    const fmt = (v) => (isBytes ? bytes(v) : String(v));
    body.textContent = "";
    const root = {name: "all sites", value: 0, children: [], index: new Map()};
    const total = new Map(); /* each frame's total: the sites whose stacks hold it, once per stack */
    let nsites = 0;
    for (const site of sites) {
      const v = site[key];
      if (!(v > 0)) continue;
      nsites++;
      root.value += v;
      let node = root;
      const frames = site.frames.length ? site.frames.slice().reverse().map((i) => data.names[i]) : ["(no frames)"];
      for (const name of frames) {
        let child = node.index.get(name);
        if (!child) {
          child = {name: name, value: 0, children: [], index: new Map()};
          node.index.set(name, child);
          node.children.push(child);
        }
        child.value += v;
        node = child;
      }
      for (const name of new Set(frames)) total.set(name, (total.get(name) || 0) + v);
    }
    const strip = (n) => ({name: n.name, value: n.value, children: n.children.map(strip)});
    const tree = strip(root);
    window.goallocFlame = tree;
    const holder = el("div", {id: "flame"});
    body.append(holder);
    if (!tree.value) {
      holder.append(el("p", {class: "none", text: "No site has any " + what + "."}));
    } else {
      const fg = flamegraph.default().width(Math.max(600, holder.clientWidth || 1100)).cellHeight(18)
        .transitionDuration(0).minFrameSize(1).sort(true).title("")
        .label((d) => d.data.name + ": " + fmt(d.value) + " (" + (100 * d.value / tree.value).toFixed(1) + "%)");
      d3.select(holder).datum(tree).call(fg);
    }
    const pct = (v) => (tree.value ? (100 * v / tree.value).toFixed(1) : "-");
    const top = tree.children.slice().sort((a, b) => b.value - a.value || (a.name < b.name ? -1 : 1));
    const ft = el("table", {id: "flame-top"});
    ft.append(el("tr", {}, el("th", {class: "text", text: "outermost frame"}), el("th", {text: what}), el("th", {text: "%"})));
    top.slice(0, 10).forEach((n) => ft.append(el("tr", {}, el("td", {class: "text frame", text: n.name}), numCell(n.value, isBytes),
                                                   el("td", {text: pct(n.value)}))));
    const hot = [...total.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const fh = el("table", {id: "flame-frames"});
    fh.append(el("tr", {}, el("th", {class: "text", text: "frame"}), el("th", {text: what + " under it"})));
    hot.slice(0, 15).forEach(([n, v]) => fh.append(el("tr", {}, el("td", {class: "text frame", text: n}), numCell(v, isBytes))));
    body.append(el("p", {class: "note"}, "Sites: ", el("span", {id: "flame-sites", text: String(nsites)}),
                   "; " + what + " at them: ", el("span", {id: "flame-total", text: String(tree.value)})),
                el("h3", {text: "Outermost frames"}), ft, el("h3", {text: "Frames by " + what + " under them"}), fh);
  }

  /* ---- compare ---------------------------------------------------------- */
  function compare() {
    const runs = doc.runs;
    const label = (i) => "#" + (i + 1) + " " + (runs[i].name || "run " + runs[i].run_id);
    app.append(el("h1", {text: "goalloc-trace compare: " + runs.length + " runs"}));
    section("runs", "The runs", rowsTable("runs-table", runs));

    /* The heap at each run's peak: one group of bars per figure. */
    const figs = Object.keys(doc.totals);
    const [tdiv, tc] = canvas("chart-totals");
    const tt = el("table", {id: "totals-table"});
    tt.append(el("tr", {}, el("th", {class: "text", text: "figure"}), ...runs.map((_, i) => el("th", {text: label(i) + " (bytes)"}))));
    for (const f of figs) tt.append(el("tr", {}, el("td", {class: "text", text: f}),
      ...doc.totals[f].runs.map((r, i) => numCell(r.bytes, true, "totals." + f + ".run" + (i + 1)))));
    section("totals", "The heap at each run's peak", tdiv, tt, ...notes("totals"));
    new Chart(tc, {type: "bar", data: {labels: figs,
      datasets: runs.map((_, i) => ({label: label(i), data: figs.map((f) => doc.totals[f].runs[i].bytes), backgroundColor: palette[i % 10]}))},
      options: {scales: {y: bytesAxis}, plugins: {tooltip: {callbacks: {label: (i) => i.dataset.label + ": " + bytes(i.raw)}}}}});

    /* Per class: each run's share of requests, and its waste %. */
    const cls = doc.classes;
    const labels = cls.map((c) => (c.class === 0 ? "large" : c.class + ": " + c.size + " B"));
    const [sdiv, sc] = canvas("chart-share");
    const [wdiv, wc] = canvas("chart-classwaste");
    section("classes", "Per size class: share of requests and size-class waste", el("h3", {text: "Share of each run's requests (%)"}), sdiv,
            el("h3", {text: "Size-class waste (% of the class's allocated bytes)"}), wdiv,
            rowsTable("classes-table", cls), ...notes("classes"));
    new Chart(sc, {type: "bar", data: {labels: labels, datasets: runs.map((_, i) => ({label: label(i),
      data: cls.map((c) => c.runs[i].requests_share_pct), backgroundColor: palette[i % 10]}))}, options: {scales: {y: {title: {display: true, text: "%"}}}}});
    new Chart(wc, {type: "bar", data: {labels: labels, datasets: runs.map((_, i) => ({label: label(i),
      data: cls.map((c) => c.runs[i].waste_pct), backgroundColor: palette[i % 10]}))}, options: {scales: {y: {title: {display: true, text: "%"}}}}});

    /* The classes whose waste differs most: least and most waste. */
    const dm = doc.differ_most;
    const [ddiv, dc] = canvas("chart-differ", true);
    section("differ", "The classes whose waste differs most across the runs", ddiv, rowsTable("differ-table", dm), ...notes("differ_most"),
            dm.length ? null : el("p", {class: "none", id: "differ-none", text: "No class is used by two runs with different waste."}));
    new Chart(dc, {type: "bar", data: {labels: dm.map((c) => (c.class === 0 ? "large" : c.class + ": " + c.size + " B")),
      datasets: [{label: "least waste %", data: dm.map((c) => c.waste_min_pct), backgroundColor: palette[2]},
                 {label: "most waste %", data: dm.map((c) => c.waste_max_pct), backgroundColor: palette[3]}]},
      options: {scales: {y: {title: {display: true, text: "%"}}}}});
    app.append(el("section", {id: "tables"}, allTables()));
  }

  if (data.kind === "compare") compare();
  else report();
  document.body.setAttribute("data-ready", "1");
})();
