/* lrreport report: interactive charts (uPlot), the triage table, and links that work inside a
   notebook's frame. The report reads the same without it: every chart has a static picture. */
(function () {
  "use strict";
  var doc = document, root = doc.documentElement;
  var framed = window.parent !== window;
  var smoothing = 0.6;
  var live = [];
  var px = (window.uPlot && uPlot.pxRatio) || window.devicePixelRatio || 1;

  function css(name) { return getComputedStyle(root).getPropertyValue(name).trim() || "#888888"; }
  function alpha(hex, a) {
    var m = /^#([0-9a-f]{6})$/i.exec(hex);
    if (!m) return hex;
    var n = parseInt(m[1], 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }
  function trim(s) { return s.indexOf("e") < 0 && s.indexOf(".") >= 0 ? s.replace(/0+$/, "").replace(/\.$/, "") : s; }
  function num(v) {
    if (v == null || typeof v !== "number" || isNaN(v)) return v == null ? "—" : "NaN";
    if (!isFinite(v)) return v > 0 ? "∞" : "−∞";
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e");
    if (a >= 1000 && v === Math.round(v)) return v.toLocaleString("en-US");
    return trim(v.toPrecision(4));
  }
  function tick(u, vals) { return vals.map(function (v) { return v == null ? "" : num(v); }); }
  function stepText(v) { return v == null ? "—" : (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en-US") : num(v)); }

  /* TensorBoard's smoothing, on possibly downsampled points: a point k raw points after the
     previous one decays the average k times (dt: the raw spacing). NaN/Inf (null) pass through. */
  function ema(xs, ys, w, dt) {
    var out = new Array(ys.length), last = 0, acc = 1, prev = null, i, y, k, wk, constant = true, first = null;
    for (i = 0; i < ys.length; i++) {
      y = ys[i];
      if (y == null) continue;
      if (first === null) first = y; else if (y !== first) constant = false;
    }
    for (i = 0; i < ys.length; i++) {
      y = ys[i];
      if (y == null || w <= 0 || constant) { out[i] = y; continue; }
      k = prev === null ? 1 : Math.max(1, (xs[i] - prev) / (dt || 1));
      wk = Math.pow(w, k);
      last = last * wk + (1 - wk) * y;
      acc *= wk;
      prev = xs[i];
      out[i] = acc < 1 ? last / (1 - acc) : y;
    }
    return out;
  }

  function sectionData(el) {
    var sec = el.closest("article");
    if (!sec) return null;
    if (!sec._lrData) {
      var block = sec.querySelector("script.lr-data");
      sec._lrData = block ? JSON.parse(block.textContent) : {};
    }
    return sec._lrData;
  }

  function specFor(el) {
    var data = sectionData(el), kind = el.getAttribute("data-chart");
    if (!data) return null;
    if (kind === "more") return (data.more || [])[+el.getAttribute("data-index")] || null;
    return data[kind] || null;
  }

  /* ---- drawing on the canvas -------------------------------------------------------- */
  function sevColor(sev) { return css(sev === "error" ? "--error" : sev === "warning" ? "--warning" : "--info"); }

  function drawBands(u) {
    var spec = u._lr.spec, ctx = u.ctx, b = u.bbox;
    if (spec.ex && spec.ex.range) {  // a sweep's good range
      var r = spec.ex.range, a = u.valToPos(r[0], "x", true), z = u.valToPos(r[1], "x", true);
      ctx.save();
      ctx.fillStyle = css("--pos-best");
      if (z - a >= 2 * px) { ctx.globalAlpha = 0.12; ctx.fillRect(a, b.top, z - a, b.height); }
      else { ctx.globalAlpha = 0.55; ctx.fillRect(a - px, b.top, 2 * px, b.height); }
      ctx.restore();
    }
    if (!spec.bands.length) return;
    ctx.save();
    ctx.font = (10 * px) + "px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    spec.bands.slice(0, 8).forEach(function (bd, i) {
      var x0 = u.valToPos(bd[0], "x", true), x1 = u.valToPos(bd[1], "x", true);
      x1 = Math.max(x1, x0 + 3 * px);
      x0 = Math.max(b.left, x0); x1 = Math.min(b.left + b.width, x1);
      if (x1 <= x0) return;
      var y = b.top + (1 + 12 * (i % 4)) * px;
      ctx.fillStyle = sevColor(bd[3]);
      ctx.globalAlpha = 0.08; ctx.fillRect(x0, b.top, x1 - x0, b.height);
      ctx.globalAlpha = 0.8; ctx.fillRect(x0, y, x1 - x0, 10 * px);
      ctx.globalAlpha = 1; ctx.fillStyle = "#1d1d1f";
      ctx.save(); ctx.beginPath(); ctx.rect(x0, y, Math.max(x1 - x0, 80 * px), 10 * px); ctx.clip();
      ctx.fillText(bd[2], x0 + 3 * px, y + 5 * px); ctx.restore();
    });
    ctx.restore();
  }

  function drawMarks(u) {
    var spec = u._lr.spec, ctx = u.ctx, b = u.bbox, right = b.left + b.width;
    ctx.save();
    ctx.font = "bold " + (9 * px) + "px system-ui, sans-serif";
    ctx.textAlign = "center"; ctx.textBaseline = "middle";
    spec.chg.slice(0, 60).forEach(function (c, i) {
      var x = u.valToPos(c[0], "x", true);
      if (x < b.left || x > right) return;
      var color = css(c[3] === 1 ? "--c-helped" : c[3] === 0 ? "--c-hurt" : "--c-unclear");
      ctx.strokeStyle = color; ctx.lineWidth = px; ctx.setLineDash([3 * px, 3 * px]);
      ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
      ctx.setLineDash([]);
      if (i < 12) {
        var y = b.top + b.height - 9 * px;
        ctx.fillStyle = color; ctx.beginPath(); ctx.arc(x, y, 7 * px, 0, 2 * Math.PI); ctx.fill();
        ctx.fillStyle = css("--bg"); ctx.fillText(String(i + 1), x, y + 0.5 * px);
      }
    });
    ctx.strokeStyle = css("--c-bad"); ctx.fillStyle = css("--c-bad"); ctx.lineWidth = 2 * px;
    spec.bad.slice(0, 200).forEach(function (p) {
      var x = u.valToPos(p[0], "x", true), y = b.top + 5 * px;
      if (x < b.left || x > right) return;
      ctx.beginPath(); ctx.moveTo(x - 4 * px, y - 4 * px); ctx.lineTo(x + 4 * px, y + 4 * px);
      ctx.moveTo(x + 4 * px, y - 4 * px); ctx.lineTo(x - 4 * px, y + 4 * px); ctx.stroke();
    });
    if (u._lr.clip) {
      spec.clip.slice(0, 200).forEach(function (p) {
        var x = u.valToPos(p[0], "x", true), y = b.top;
        if (x < b.left || x > right) return;
        ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x - 4 * px, y + 7 * px); ctx.lineTo(x + 4 * px, y + 7 * px); ctx.fill();
      });
    }
    if (spec.k === "lrfind") drawPicks(u);
    if (spec.k === "sweep") drawPositions(u);
    ctx.restore();
  }

  function drawPicks(u) {
    var spec = u._lr.spec, ctx = u.ctx, b = u.bbox, x, picks = spec.ex.picks || {}, s = spec.ex.suggested;
    ctx.font = (10 * px) + "px system-ui, sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "top";
    Object.keys(picks).forEach(function (name) {
      if (!(picks[name] > 0) || picks[name] === s) return;
      x = u.valToPos(picks[name], "x", true);
      ctx.strokeStyle = css("--c-grey"); ctx.lineWidth = px; ctx.setLineDash([4 * px, 3 * px]);
      ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke(); ctx.setLineDash([]);
      ctx.fillStyle = css("--muted"); ctx.fillText(name, x + 3 * px, b.top + b.height - 14 * px);
    });
    if (s > 0) {
      x = u.valToPos(s, "x", true);
      ctx.strokeStyle = css("--c-bad"); ctx.lineWidth = 2 * px;
      ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
      ctx.fillStyle = css("--c-bad"); ctx.fillText("suggested " + num(s), x + 4 * px, b.top + 3 * px);
    }
  }

  var SHAPES = {
    best: function (c, x, y, r) { for (var i = 0; i < 10; i++) { var a = Math.PI / 5 * i - Math.PI / 2, q = i % 2 ? r * 0.45 : r * 1.2; c[i ? "lineTo" : "moveTo"](x + q * Math.cos(a), y + q * Math.sin(a)); } },
    good: function (c, x, y, r) { c.arc(x, y, r * 0.8, 0, 2 * Math.PI); },
    near: function (c, x, y, r) { c.arc(x, y, r * 0.6, 0, 2 * Math.PI); },
    too_low: function (c, x, y, r) { c.moveTo(x - r, y - r * 0.8); c.lineTo(x + r, y - r * 0.8); c.lineTo(x, y + r * 0.9); },
    too_high: function (c, x, y, r) { c.moveTo(x - r, y + r * 0.8); c.lineTo(x + r, y + r * 0.8); c.lineTo(x, y - r * 0.9); }
  };

  function drawPositions(u) {
    var spec = u._lr.spec, ctx = u.ctx, b = u.bbox, runs = spec.ex.runs, xs = u.data[0], ys = u.data[1];
    var label = runs.length <= 10, right = b.left + b.width;
    ctx.font = (10 * px) + "px system-ui, sans-serif"; ctx.textBaseline = "middle";
    runs.forEach(function (r, i) {
      var x = u.valToPos(xs[i], "x", true), pos = r[1], y;
      if (x < b.left - 1 || x > right + 1) return;
      if (ys[i] == null) {
        y = b.top + 6 * px;
        ctx.strokeStyle = css("--c-bad"); ctx.lineWidth = 2 * px; ctx.beginPath();
        ctx.moveTo(x - 5 * px, y - 5 * px); ctx.lineTo(x + 5 * px, y + 5 * px); ctx.moveTo(x + 5 * px, y - 5 * px); ctx.lineTo(x - 5 * px, y + 5 * px); ctx.stroke();
      } else {
        y = u.valToPos(ys[i], "y", true);
        ctx.fillStyle = css("--pos-" + (SHAPES[pos] ? pos : "near")); ctx.strokeStyle = css("--bg"); ctx.lineWidth = px;
        ctx.beginPath(); (SHAPES[pos] || SHAPES.near)(ctx, x, y, 6 * px); ctx.closePath(); ctx.fill(); ctx.stroke();
      }
      if (label) {
        var name = r[0].split("/").pop(), w;
        if (name.length > 22) name = name.slice(0, 21) + "…";
        w = ctx.measureText(name).width;
        // Right of the point, or left of it near the right edge; above it, or below it near the top.
        var left = x + 8 * px + w > right, ty = y - 10 * px < b.top + 4 * px ? y + 11 * px : y - 10 * px;
        ctx.textAlign = left ? "right" : "left"; ctx.fillStyle = css("--fg");
        ctx.fillText(name, left ? x - 8 * px : x + 8 * px, ty);
      }
    });
  }

  /* ---- building a chart ----------------------------------------------------------------- */
  var SEQ = 8;
  function seq(i, n) { return n <= 1 ? 0 : Math.round(i * (SEQ - 1) / (n - 1)); }

  /* Log axes: a line and a label per power of ten (uPlot's default draws 1..9 in each
     decade); inside one decade, 1, 2 and 5. */
  function logSplits(u, axisIdx, min, max) {
    var out = [], k = Math.floor(Math.log10(min)), top = Math.ceil(Math.log10(max)), e, v;
    var every = Math.max(1, Math.ceil((top - k) / 8));
    for (e = k; e <= top; e += every) { v = Math.pow(10, e); if (v >= min * 0.999 && v <= max * 1.001) out.push(v); }
    if (out.length >= 2) return out;
    out = [];
    for (e = k; e <= top; e++) [1, 2, 5].forEach(function (m) { v = m * Math.pow(10, e); if (v >= min * 0.999 && v <= max * 1.001) out.push(v); });
    return out.length ? out : [min, max];
  }

  function allPositive(cols, from) {
    for (var c = from; c < cols.length; c++) for (var i = 0; i < cols[c].length; i++) { var v = cols[c][i]; if (v != null && v <= 0) return false; }
    return true;
  }

  function build(el, spec, st) {
    var kind = spec.k, lines = spec.s, overlay = kind === "overlay", sweep = kind === "sweep";
    var data = lines.length === 1 ? [lines[0].x, lines[0].y] : uPlot.join(lines.map(function (l) { return [l.x, l.y]; }));
    var cols = [data[0]], series = [{ label: spec.xl, value: function (u, v) { return spec.xlog ? num(v) : stepText(v); } }];
    var smooth = [], hasLR = false;
    lines.forEach(function (l, i) {
      var raw = data[i + 1], color = overlay ? css("--seq" + seq(i, lines.length)) : css("--c-" + l.c);
      var scale = l.a === "y2" ? "lr" : "y";
      if (scale === "lr") hasLR = true;
      if (l.sm) {
        if (!overlay) {
          cols.push(raw);
          series.push({ label: l.l + " raw", scale: scale, stroke: alpha(color, 0.3), width: 1, value: function (u, v) { return num(v); } });
        }
        cols.push(ema(data[0], raw, st.smooth, l.dt));
        smooth.push({ col: cols.length - 1, raw: raw, dt: l.dt });
        series.push({ label: l.l, scale: scale, stroke: color, width: 1.6, value: function (u, v) { return num(v); } });
      } else {
        cols.push(raw);
        series.push({
          label: sweep ? spec.yl : l.l, scale: scale, stroke: sweep ? alpha(css("--c-grey"), 0.5) : color,
          width: sweep ? 1 : (l.a === "y2" ? 1.4 : 1.6), dash: l.d ? [6, 4] : undefined, spanGaps: sweep,
          paths: l.st ? uPlot.paths.stepped({ align: 1 }) : undefined,
          points: { show: sweep ? false : !!l.p, size: 5, fill: color, stroke: color },
          value: function (u, v) { return num(v); }
        });
      }
    });
    var positive = allPositive(cols, 1);
    var ylog = st.log && positive;
    function yRange(u, min, max) {
      if (min == null || max == null) return [0, 1];
      if (st.clip && spec.yr) { min = Math.max(min, spec.yr[0]); max = Math.min(max, spec.yr[1]); if (max <= min) max = spec.yr[1]; }
      if (ylog) { min = Math.max(min, 1e-300); return [min / 1.15, max * 1.15]; }
      var pad = (max - min) * 0.06 || Math.abs(max) * 0.06 || 1;
      return [min - pad, max + pad];
    }
    var muted = css("--muted"), grid = css("--grid");
    var axes = [
      { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, values: spec.xlog ? tick : function (u, vals) { return vals.map(stepText); }, size: 30 },
      { scale: "y", stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, values: tick, size: 58 }
    ];
    if (spec.xlog) axes[0].splits = logSplits;
    if (ylog) axes[1].splits = logSplits;
    var scales = { x: { time: false, distr: spec.xlog ? 3 : 1 }, y: { distr: ylog ? 3 : 1, range: yRange } };
    if (hasLR) {
      scales.lr = { distr: spec.y2log ? 3 : 1, range: function (u, min, max) { if (min == null) return [0, 1]; if (spec.y2log) return [min / 1.3, max * 1.3]; var p = (max - min) * 0.08 || Math.abs(max) * 0.1 || 1; return [min - p, max + p]; } };
      axes.push({ scale: "lr", side: 1, stroke: css("--c-lr"), grid: { show: false }, ticks: { stroke: grid }, values: tick, size: 58 });
      if (spec.y2log) axes[2].splits = logSplits;
    }
    var readout = null;
    var opts = {
      width: Math.max(280, el.clientWidth || 700), height: spec.h, scales: scales, axes: axes, series: series,
      legend: { show: !overlay && !sweep, live: true },
      cursor: { drag: { x: true, y: false }, focus: { prox: overlay ? 24 : -1 } },
      focus: { alpha: overlay ? 0.25 : 1 },
      hooks: { drawClear: [drawBands], draw: [drawMarks] }
    };
    if (overlay || sweep) {
      readout = doc.createElement("div"); readout.className = "readout";
      opts.hooks.setSeries = [function (u, i) { u._lr.focus = i; }];
      opts.hooks.setCursor = [function (u) { readout.textContent = describeCursor(u); }];
    }
    var holder = doc.createElement("div");
    el.appendChild(holder);
    var u = new uPlot(opts, cols, holder);
    u._lr = { spec: spec, clip: st.clip, smooth: smooth, readout: readout };
    if (readout) el.appendChild(readout);
    return u;
  }

  function describeCursor(u) {
    var i = u.cursor.idx, spec = u._lr.spec;
    if (i == null) return "";
    if (spec.k === "sweep") {
      var r = spec.ex.runs[i];
      return r ? r[0] + " · LR " + num(u.data[0][i]) + " · best " + num(u.data[1][i]) + " · " + r[1].replace("_", " ") : "";
    }
    var s = u._lr.focus;
    if (s == null || s < 1) return "step " + stepText(u.data[0][i]);
    var line = spec.s[s - 1];
    var lr = spec.ex && spec.ex.lrs ? spec.ex.lrs[s - 1] : null;
    return line.l + (lr != null ? " (LR " + num(lr) + ")" : "") + " · step " + stepText(u.data[0][i]) + " · " + num(u.data[s][i]);
  }

  function button(text, title, pressed, onclick) {
    var b = doc.createElement("button");
    b.type = "button"; b.textContent = text; b.title = title;
    if (pressed != null) b.setAttribute("aria-pressed", String(pressed));
    b.addEventListener("click", onclick);
    return b;
  }

  function create(el) {
    if (el._lr || !window.uPlot) return;
    var spec = specFor(el);
    if (!spec) return;
    var svg = el.querySelector("svg");
    var label = svg ? svg.getAttribute("aria-label") : spec.t;
    var st = { log: !!spec.ylog, clip: !!spec.yr, smooth: smoothing };
    var entry = { el: el, spec: spec, st: st, u: null };
    el._lr = entry;
    el.textContent = "";
    el.setAttribute("role", "figure");
    el.setAttribute("aria-label", label || "");
    var tools = doc.createElement("div");
    tools.className = "chart-tools";
    if (spec.note) { var note = doc.createElement("span"); note.className = "note"; note.textContent = spec.note; tools.appendChild(note); }
    var logBtn = button("log scale", "Logarithmic y axis", st.log, function () {
      st.log = !st.log; logBtn.setAttribute("aria-pressed", String(st.log)); rebuild(entry);
    });
    tools.appendChild(logBtn);
    if (spec.yr && spec.clip.length) {
      var clipBtn = button("all points", "Show the " + spec.clip.length + " point(s) above the axis too (up to " + num(Math.max.apply(null, spec.clip.map(function (p) { return p[1]; }))) + ")", false, function () {
        st.clip = !st.clip; clipBtn.setAttribute("aria-pressed", String(!st.clip)); rebuild(entry);
      });
      tools.appendChild(clipBtn);
    }
    tools.appendChild(button("reset zoom", "Back to the whole run (or double-click the chart)", null, function () { rebuild(entry); }));
    el.appendChild(tools);
    entry.tools = tools;
    entry.u = build(el, spec, st);
    live.push(entry);
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        var w = el.clientWidth;
        if (entry.u && w > 0 && Math.abs(w - entry.u.width) > 2) entry.u.setSize({ width: w, height: spec.h });
      }).observe(el);
    }
    postHeight();
  }

  function rebuild(entry) {
    if (entry.u) entry.u.destroy();
    Array.prototype.slice.call(entry.el.children).forEach(function (c) { if (c !== entry.tools) entry.el.removeChild(c); });
    entry.st.smooth = smoothing;
    entry.u = build(entry.el, entry.spec, entry.st);
  }

  function resmooth(entry) {
    var u = entry.u;
    if (!u || !u._lr.smooth.length) return;
    var data = u.data.slice();
    u._lr.smooth.forEach(function (s) { data[s.col] = ema(data[0], s.raw, smoothing, s.dt); });
    entry.st.smooth = smoothing;
    u.setData(data, false);
    u.redraw(false, false);
  }

  /* ---- charts appear when they scroll into view ----------------------------------------- */
  function startCharts() {
    var els = doc.querySelectorAll(".chart[data-chart]");
    if (!window.uPlot || !els.length) return;
    var toolbar = doc.querySelector(".toolbar");
    if (toolbar) toolbar.hidden = false;
    if (window.IntersectionObserver) {
      var io = new IntersectionObserver(function (items) {
        items.forEach(function (it) { if (it.isIntersecting) { io.unobserve(it.target); create(it.target); } });
      }, { rootMargin: "400px 0px" });
      els.forEach(function (el) { io.observe(el); });
    } else {
      els.forEach(create);
    }
    var slider = doc.getElementById("smoothing"), out = doc.getElementById("smoothing-value");
    if (slider) {
      smoothing = +slider.value;
      slider.addEventListener("input", function () {
        smoothing = +slider.value;
        if (out) out.textContent = slider.value;
        live.forEach(resmooth);
      });
    }
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)");
    if (dark && dark.addEventListener) dark.addEventListener("change", function () { live.forEach(rebuild); });
    window.addEventListener("beforeprint", function () { els.forEach(create); });
  }

  /* ---- the triage table: sort and filter -------------------------------------------------- */
  function startTable() {
    var table = doc.getElementById("run-table");
    if (!table) return;
    var body = table.tBodies[0], heads = table.querySelectorAll("th[data-sort]");
    heads.forEach(function (th) {
      th.tabIndex = 0;
      function sort() {
        var col = th.cellIndex, kind = th.getAttribute("data-sort");
        var dir = th.getAttribute("aria-sort") === "descending" ? 1 : -1;
        if (!th.hasAttribute("aria-sort") && kind === "text") dir = 1;
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.forEach(function (r, i) { r._i = i; });
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col], c;
          if (kind === "text") c = x.textContent.localeCompare(y.textContent);
          else c = (+x.getAttribute("data-v") || 0) - (+y.getAttribute("data-v") || 0);
          return c * dir || a._i - b._i;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
    var box = doc.querySelector(".filter"), text = doc.getElementById("run-filter"),
        sev = doc.getElementById("sev-filter"), verdict = doc.getElementById("verdict-filter"), out = doc.getElementById("filter-count");
    if (!box || !text || !sev) return;
    box.hidden = false;
    var rank = { ok: 0, info: 1, warning: 2, error: 3 };
    function apply() {
      var q = text.value.toLowerCase(), min = +sev.value, v = verdict ? verdict.value : "", shown = 0, all = 0;
      doc.querySelectorAll("[data-run]").forEach(function (el) {
        var hay = (el.getAttribute("data-run") + " " + el.getAttribute("data-verdict") + " " + (el.getAttribute("data-codes") || "")).toLowerCase();
        var ok = hay.indexOf(q) >= 0 && rank[el.getAttribute("data-sev")] >= min && (!v || el.getAttribute("data-verdict") === v);
        el.hidden = !ok;
        if (el.tagName === "TR") { all++; if (ok) shown++; }
      });
      out.textContent = shown + " of " + all + " runs";
      postHeight();
    }
    text.addEventListener("input", apply);
    sev.addEventListener("change", apply);
    if (verdict) verdict.addEventListener("change", apply);
  }

  /* ---- links inside the page, also inside a notebook's frame -------------------------------- */
  function startLinks() {
    doc.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("a[href^='#']");
      if (!a) return;
      var id = decodeURIComponent(a.getAttribute("href").slice(1));
      var target = id ? doc.getElementById(id) : null;
      if (!target) return;
      e.preventDefault();
      for (var p = target; p; p = p.parentElement) if (p.tagName === "DETAILS") p.open = true;
      var inner = target.querySelector && target.querySelector(":scope > details");
      if (inner) inner.open = true;
      target.scrollIntoView({ block: "start" });
      if (framed) {
        var y = target.getBoundingClientRect().top + (window.pageYOffset || root.scrollTop);
        try { window.parent.postMessage({ lrreport: "scroll", y: y }, "*"); } catch (err) { /* no parent to tell */ }
      }
    });
  }

  var posted = 0;
  function postHeight() {
    if (!framed) return;
    var h = Math.max(root.scrollHeight, doc.body ? doc.body.scrollHeight : 0);
    if (Math.abs(h - posted) < 2) return;
    posted = h;
    try { window.parent.postMessage({ lrreport: "height", h: h }, "*"); } catch (err) { /* no parent to tell */ }
  }

  function start() {
    startTable();
    startLinks();
    startCharts();
    if (framed) {
      postHeight();
      if (window.ResizeObserver) new ResizeObserver(postHeight).observe(doc.body);
      doc.addEventListener("toggle", postHeight, true);
    }
  }
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start); else start();
})();
