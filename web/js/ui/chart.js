// Small SVG charts (bars or a line over points), scaled to their container's width. Each
// has a <title>/<desc> and a text summary, so what it shows is not only visual.

import { h, svg } from "./dom.js";

const W = 640;
const H = 220;
const PAD = { left: 56, right: 14, top: 14, bottom: 34 };

/** Round-number axis ticks from `lo` to at least `hi`. */
export function ticks(lo, hi, count = 4, integer = false) {
  if (!(hi > lo)) hi = lo + 1;
  const raw = integer ? Math.max(1, (hi - lo) / count) : (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const start = Math.floor(lo / step) * step;
  const out = [];
  // Up to the first tick at or above `hi`, so no value is drawn above the axis.
  for (let v = start; out.length < 12; v += step) {
    out.push(Number(v.toPrecision(12)));
    if (v >= hi) break;
  }
  return out;
}

/**
 * `points`: `[{x: label, y: number, title?: string}]`, drawn in order.
 * `kind`: "bar" or "line". `format(y)` renders axis values; `refs`: horizontal reference
 * lines `[{y, label}]` (thresholds). `marks`: indexes of points to emphasise (breaches).
 * `integer`: the values are counts, so axis ticks are whole numbers.
 */
export function chart({ title, desc, points, kind = "bar", format = String, refs = [], marks = [], testid, integer = false }) {
  const id = `chart-${Math.random().toString(36).slice(2, 9)}`;
  const ys = points.map((p) => p.y).filter(Number.isFinite);
  const refYs = refs.map((r) => r.y).filter(Number.isFinite);
  const all = ys.concat(refYs);
  const lo = kind === "bar" ? Math.min(0, ...all) : Math.min(...all);
  const hi = Math.max(...all, lo + 1);
  const yt = ticks(lo, hi, 4, integer);
  const y0 = yt[0];
  const y1 = yt[yt.length - 1];
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const sy = (v) => PAD.top + plotH - ((v - y0) / (y1 - y0 || 1)) * plotH;
  const n = Math.max(points.length, 1);
  const band = plotW / n;
  const sx = (i) => PAD.left + band * i + band / 2;

  const root = svg(
    "svg",
    {
      viewBox: `0 0 ${W} ${H}`,
      class: `chart chart-${kind}`,
      role: "img",
      "aria-labelledby": `${id}-t ${id}-d`,
      testid,
    },
    svg("title", { id: `${id}-t` }, title),
    svg("desc", { id: `${id}-d` }, desc ?? ""),
  );
  for (const t of yt) {
    root.append(
      svg("line", { class: "grid", x1: PAD.left, x2: W - PAD.right, y1: sy(t), y2: sy(t) }),
      svg("text", { class: "axis", x: PAD.left - 6, y: sy(t) + 4, "text-anchor": "end" }, format(t)),
    );
  }
  // A handful of x labels: first, last and evenly between.
  const every = Math.max(1, Math.ceil(points.length / 6));
  points.forEach((p, i) => {
    if (i % every === 0 || i === points.length - 1) {
      root.append(svg("text", { class: "axis", x: sx(i), y: H - PAD.bottom + 16, "text-anchor": "middle" }, String(p.x)));
    }
  });
  if (kind === "bar") {
    const base = sy(Math.max(y0, 0));
    points.forEach((p, i) => {
      if (!Number.isFinite(p.y)) return;
      const top = sy(p.y);
      root.append(
        svg(
          "rect",
          {
            class: marks.includes(i) ? "bar mark" : "bar",
            x: sx(i) - Math.max(1, band * 0.35),
            width: Math.max(2, band * 0.7),
            y: Math.min(top, base),
            height: Math.max(1, Math.abs(base - top)),
          },
          svg("title", null, p.title ?? `${p.x}: ${format(p.y)}`),
        ),
      );
    });
  } else {
    const pts = points
      .map((p, i) => (Number.isFinite(p.y) ? `${sx(i).toFixed(1)},${sy(p.y).toFixed(1)}` : null))
      .filter(Boolean);
    if (pts.length > 0) root.append(svg("polyline", { class: "line", points: pts.join(" ") }));
    points.forEach((p, i) => {
      if (!Number.isFinite(p.y)) return;
      root.append(
        svg(
          "circle",
          { class: marks.includes(i) ? "dot mark" : "dot", cx: sx(i), cy: sy(p.y), r: marks.includes(i) ? 5 : 3 },
          svg("title", null, p.title ?? `${p.x}: ${format(p.y)}`),
        ),
      );
    });
  }
  for (const r of refs) {
    if (!Number.isFinite(r.y)) continue;
    root.append(
      svg("line", { class: "ref", x1: PAD.left, x2: W - PAD.right, y1: sy(r.y), y2: sy(r.y) }),
      svg("text", { class: "ref-label", x: W - PAD.right - 4, y: sy(r.y) - 4, "text-anchor": "end" }, r.label),
    );
  }
  root.append(svg("line", { class: "axis-line", x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: H - PAD.bottom }));
  return h("figure", { class: "chart-box" }, root, h("figcaption", null, summary(title, ys, format)));
}

function summary(title, ys, format) {
  if (ys.length === 0) return `${title}: no data yet.`;
  const min = Math.min(...ys);
  const max = Math.max(...ys);
  const avg = ys.reduce((a, b) => a + b, 0) / ys.length;
  return `${title}: ${ys.length} points, min ${format(min)}, mean ${format(avg)}, max ${format(max)}.`;
}
