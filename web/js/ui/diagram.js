// The state diagram of a workflow template, drawn as SVG from the template record alone:
// states in ranks top to bottom, transitions as arrows. Given an instance, it marks the
// current state and the path its history took.
//
// Layout: transitions that lead back (found by a depth-first walk from the initial state)
// are set aside; a state's rank is then the longest path to it, so the main line of a
// lifecycle reads top to bottom and end states sink to the bottom. Within a rank, states
// follow the average column of their predecessors, then declaration order. An arrow to the
// next rank is a direct curve; any other arrow runs through the gaps between ranks and a
// lane beside the grid (right for arrows down, left for arrows back up), so arrows never
// cut through the boxes.

import { h, svg } from "./dom.js";

const ROW = 104;
const GAP_X = 48;
const NODE_H = 40;
const LANE = 18;
const MAX_LANES = 16;
const MARGIN = 24;

/** Ranks and positions of the states. Exported for tests of the layout. */
export function layout(template) {
  const states = (template.states ?? []).map((s) => s.name);
  const index = new Map(states.map((s, i) => [s, i]));
  const initial = (template.states ?? []).find((s) => s.initial)?.name ?? states[0];
  const out = new Map(states.map((s) => [s, []]));
  for (const t of template.transitions ?? []) {
    for (const f of t.from ?? []) {
      if (out.has(f) && index.has(t.to) && !out.get(f).includes(t.to)) out.get(f).push(t.to);
    }
  }
  // Depth-first from the initial state (then any state not reached): an edge to a state
  // still on the stack leads back.
  const colour = new Map();
  const back = new Set();
  const postorder = [];
  const visit = (s) => {
    colour.set(s, 1);
    for (const n of out.get(s)) {
      if (colour.get(n) === 1) back.add(`${s}\u0000${n}`);
      else if (!colour.has(n)) visit(n);
    }
    colour.set(s, 2);
    postorder.push(s);
  };
  if (initial !== undefined) visit(initial);
  for (const s of states) if (!colour.has(s)) visit(s);
  const forward = (a, b) => a !== b && !back.has(`${a}\u0000${b}`);
  const rank = new Map(states.map((s) => [s, 0]));
  for (const s of postorder.reverse()) {
    for (const n of out.get(s)) if (forward(s, n)) rank.set(n, Math.max(rank.get(n), rank.get(s) + 1));
  }
  const rows = [];
  for (const s of states) (rows[rank.get(s)] ??= []).push(s);
  for (let r = 0; r < rows.length; r++) rows[r] ??= [];
  const column = new Map();
  rows.forEach((row, r) => {
    if (r > 0) {
      const weight = (s) => {
        const p = states.filter((x) => rank.get(x) < r && out.get(x).includes(s) && forward(x, s)).map((x) => column.get(x));
        return p.length ? p.reduce((a, b) => a + b, 0) / p.length : Number.MAX_SAFE_INTEGER;
      };
      const w = new Map(row.map((s) => [s, weight(s)]));
      row.sort((a, b) => w.get(a) - w.get(b) || index.get(a) - index.get(b));
    }
    row.forEach((s, i) => column.set(s, i));
  });
  return { states, rank, column, rows, initial };
}

/** Transitions grouped by (from, to): one arrow per pair, labelled with every name. */
function edgesOf(template) {
  const byPair = new Map();
  for (const t of template.transitions ?? []) {
    for (const f of t.from ?? []) {
      const k = `${f}\u0000${t.to}`;
      if (!byPair.has(k)) byPair.set(k, { from: f, to: t.to, names: [], auto: true });
      const e = byPair.get(k);
      e.names.push(t.name);
      // Dashed only if every transition of the pair is taken by the ledger itself.
      e.auto = e.auto && Boolean(t.auto || (t.on_breach && (!t.by || t.by.length === 0)));
    }
  }
  return [...byPair.values()];
}

/** Which states and (from, to, transition) steps an instance's history went through. */
export function pathTaken(instance, initial) {
  const visited = new Set();
  const steps = new Map(); // "from\0to" -> [step numbers]
  if (!instance) return { visited, steps };
  if (initial) visited.add(initial);
  (instance.history ?? []).forEach((e, i) => {
    visited.add(e.from);
    visited.add(e.to);
    const k = `${e.from}\u0000${e.to}`;
    if (!steps.has(k)) steps.set(k, []);
    steps.get(k).push(i + 1);
  });
  if (instance.state) visited.add(instance.state);
  return { visited, steps };
}

function stepLabel(nums) {
  if (!nums || nums.length === 0) return "";
  if (nums.length > 3) return ` [${nums[0]}…${nums[nums.length - 1]}]`;
  return ` [${nums.join(", ")}]`;
}

/**
 * The diagram (`data-testid="workflow-diagram"`); state groups are `state-<name>` with
 * classes `current` and `visited` when an instance is given.
 */
export function stateDiagram(template, instance) {
  const { states, rank, column, rows, initial } = layout(template);
  const { visited, steps } = pathTaken(instance, initial);
  const longest = Math.max(8, ...states.map((s) => s.length));
  const nodeW = Math.min(260, Math.max(120, Math.round(longest * 7.4) + 28));
  const widest = Math.max(1, ...rows.map((r) => r.length));
  const edges = edgesOf(template);
  const adjacent = (e) => rank.get(e.to) === rank.get(e.from) + 1;
  const sameRowNeighbours = (e) => rank.get(e.to) === rank.get(e.from) && Math.abs(column.get(e.to) - column.get(e.from)) === 1;
  const isDown = (e) => e.from !== e.to && rank.get(e.to) > rank.get(e.from) + 1;
  const isUp = (e) => e.from !== e.to && rank.get(e.to) < rank.get(e.from);
  const rightLanes = Math.min(MAX_LANES, edges.filter(isDown).length);
  const leftLanes = Math.min(MAX_LANES, edges.filter(isUp).length);
  const leftPad = MARGIN + leftLanes * LANE + (leftLanes ? 8 : 0);
  const gridW = widest * nodeW + (widest - 1) * GAP_X;
  const width = leftPad + gridW + MARGIN + rightLanes * LANE + 50;
  const height = MARGIN * 2 + rows.length * ROW - (ROW - NODE_H);

  const pos = new Map();
  rows.forEach((row, r) => {
    // Centre each rank's boxes under the widest rank.
    const rowW = row.length * nodeW + (row.length - 1) * GAP_X;
    const x0 = leftPad + (gridW - rowW) / 2;
    row.forEach((s, i) => pos.set(s, { x: x0 + i * (nodeW + GAP_X), y: MARGIN + r * ROW }));
  });

  const uid = Math.random().toString(36).slice(2, 8);
  const current = instance?.state;
  const label = instance
    ? `State diagram of ${template.id ?? "the template"}: ${states.length} states; current state ${current}; visited ${[...visited].join(", ")}.`
    : `State diagram of ${template.id ?? "the template"}: ${states.length} states, ${(template.transitions ?? []).length} transitions.`;
  const root = svg("svg", {
    class: "diagram",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": label,
    testid: "workflow-diagram",
  });
  const marker = (id, cls) =>
    svg(
      "marker",
      { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
      svg("path", { d: "M0,0 L10,5 L0,10 z", class: cls }),
    );
  root.append(svg("defs", null, marker(`a-${uid}`, "arrowhead"), marker(`av-${uid}`, "arrowhead visited")));

  // Orthogonal path through the given points with rounded corners.
  const rounded = (pts) => {
    let d = `M${pts[0][0]},${pts[0][1]}`;
    for (let i = 1; i < pts.length - 1; i++) {
      const [px, py] = pts[i - 1];
      const [x, y] = pts[i];
      const [nx, ny] = pts[i + 1];
      const r = Math.min(8, Math.abs(x - px) / 2 + Math.abs(y - py) / 2, Math.abs(nx - x) / 2 + Math.abs(ny - y) / 2);
      const ix = x - Math.sign(x - px) * r;
      const iy = y - Math.sign(y - py) * r;
      const ox = x + Math.sign(nx - x) * r;
      const oy = y + Math.sign(ny - y) * r;
      d += ` L${ix},${iy} Q${x},${y} ${ox},${oy}`;
    }
    const [lx, ly] = pts[pts.length - 1];
    return `${d} L${lx},${ly}`;
  };

  let left = 0;
  let right = 0;
  let slot = 0;
  const gapBelow = (p, k) => p.y + NODE_H + 10 + (k % 4) * 7;
  const gapAbove = (p, k) => p.y - 12 - (k % 4) * 7;
  const edgeLayer = svg("g", { class: "edges" });
  const labelLayer = svg("g", { class: "edge-labels" });
  for (const e of edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (!a || !b) continue;
    const taken = steps.get(`${e.from}\u0000${e.to}`);
    const cls = ["edge", taken ? "visited" : null, e.auto ? "auto" : null].filter(Boolean).join(" ");
    const text = e.names.join(", ") + stepLabel(taken);
    const ax = a.x + nodeW / 2;
    const bx = b.x + nodeW / 2;
    let d;
    let labelAttrs;
    if (e.from === e.to) {
      const x = a.x + nodeW;
      const y = a.y + NODE_H / 2;
      d = `M${x},${y - 10} C${x + 44},${y - 34} ${x + 44},${y + 34} ${x},${y + 10}`;
      labelAttrs = { x: x + 40, y: y + 4, "text-anchor": "start" };
    } else if (adjacent(e)) {
      const y1 = a.y + NODE_H;
      const y2 = b.y;
      const my = (y1 + y2) / 2;
      d = `M${ax},${y1} C${ax},${my} ${bx},${my} ${bx},${y2}`;
      // The label sits past the middle, on the side the arrow heads to, so the labels of
      // arrows leaving one state apart from each other.
      const t = 0.6;
      const u = 1 - t;
      const px = ax * (u ** 3 + 3 * u * u * t) + bx * (3 * u * t * t + t ** 3);
      const py = y1 * u ** 3 + my * (3 * u * u * t + 3 * u * t * t) + y2 * t ** 3;
      labelAttrs =
        ax === bx
          ? { x: ax + 6, y: py, "text-anchor": "start" }
          : { x: px + (bx > ax ? 6 : -6), y: py, "text-anchor": bx > ax ? "start" : "end" };
    } else if (sameRowNeighbours(e)) {
      const y = a.y + NODE_H / 2;
      const x1 = b.x > a.x ? a.x + nodeW : a.x;
      const x2 = b.x > a.x ? b.x : b.x + nodeW;
      d = `M${x1},${y} L${x2},${y}`;
      labelAttrs = { x: (x1 + x2) / 2, y: y - 6, "text-anchor": "middle" };
    } else if (rank.get(e.to) === rank.get(e.from)) {
      const k = slot++;
      const gy = gapAbove(a, k);
      d = rounded([[ax + 10, a.y], [ax + 10, gy], [bx - 10, gy], [bx - 10, b.y]]);
      labelAttrs = { x: (ax + bx) / 2, y: gy - 4, "text-anchor": "middle" };
    } else if (isDown(e)) {
      const k = right++;
      const lane = leftPad + gridW + MARGIN / 2 + (k % MAX_LANES) * LANE;
      const y1 = gapBelow(a, k);
      const y2 = gapAbove(b, k);
      d = rounded([[ax + 12, a.y + NODE_H], [ax + 12, y1], [lane, y1], [lane, y2], [bx + 12, y2], [bx + 12, b.y]]);
      const my = (y1 + y2) / 2;
      labelAttrs = { x: lane - 4, y: my, "text-anchor": "middle", transform: `rotate(-90 ${lane - 4} ${my})` };
    } else {
      const k = left++;
      const lane = leftPad - 8 - (k % MAX_LANES) * LANE;
      const y1 = gapAbove(a, k);
      const y2 = gapBelow(b, k);
      d = rounded([[ax - 12, a.y], [ax - 12, y1], [lane, y1], [lane, y2], [bx - 12, y2], [bx - 12, b.y + NODE_H]]);
      const my = (y1 + y2) / 2;
      labelAttrs = { x: lane - 4, y: my, "text-anchor": "middle", transform: `rotate(-90 ${lane - 4} ${my})` };
    }
    edgeLayer.append(
      svg(
        "path",
        { d, class: cls, "marker-end": `url(#${taken ? "av" : "a"}-${uid})` },
        svg("title", null, `${e.names.join(", ")}: ${e.from} → ${e.to}${taken ? ` (taken at step${taken.length > 1 ? "s" : ""} ${taken.join(", ")})` : ""}`),
      ),
    );
    labelLayer.append(svg("text", { ...labelAttrs, class: taken ? "edge-label visited" : "edge-label" }, text));
  }
  root.append(edgeLayer, labelLayer);

  for (const s of template.states ?? []) {
    const p = pos.get(s.name);
    if (!p) continue;
    const cls = [
      "state",
      s.initial ? "initial" : null,
      s.final ? "final" : null,
      visited.has(s.name) ? "visited" : null,
      current === s.name ? "current" : null,
    ]
      .filter(Boolean)
      .join(" ");
    const what = [
      s.name,
      s.initial ? "initial" : null,
      s.final ? "final" : null,
      current === s.name ? "current state" : visited.has(s.name) ? "visited" : null,
      s.description || null,
    ]
      .filter(Boolean)
      .join(" — ");
    root.append(
      svg(
        "g",
        { class: cls, testid: `state-${s.name}`, transform: `translate(${p.x},${p.y})` },
        svg("title", null, what),
        svg("rect", { width: nodeW, height: NODE_H, rx: s.final ? 4 : 18, class: "state-box" }),
        s.final ? svg("rect", { x: 3, y: 3, width: nodeW - 6, height: NODE_H - 6, rx: 2, class: "state-inner" }) : null,
        svg("text", { x: nodeW / 2, y: NODE_H / 2 + 5, "text-anchor": "middle", class: "state-name" }, s.name),
      ),
    );
  }
  return h("div", { class: "diagram-wrap", tabindex: "0", role: "region", "aria-label": "State diagram (scrolls)" }, root);
}

/** The key to the diagram's marks. */
export function legend(withInstance) {
  const item = (cls, text) => h("li", null, h("span", { class: `swatch ${cls}`, "aria-hidden": "true" }), text);
  return h(
    "ul",
    { class: "legend" },
    withInstance ? item("current", "current state") : null,
    withInstance ? item("visited", "visited / transition taken [step]") : null,
    item("plain", "not reached"),
    item("auto", "taken by the ledger (automatic or on a sensor breach)"),
    item("final", "final state (square corners)"),
  );
}
