// Overview: the chain's status, throughput and finality charts over the latest blocks, and
// the newest blocks, kept current by the live block stream.

import { api } from "../api.js";
import { chart } from "../ui/chart.js";
import { fields, h, section } from "../ui/dom.js";
import { fmtAgo, fmtDuration, fmtTime, plural } from "../ui/format.js";
import { accountLink, blockLink, fullHex, href, link } from "../ui/links.js";
import { errorBox, note } from "../ui/status.js";
import { table } from "../ui/table.js";

const WINDOW = 50;
const LIVE_POINTS = 50;

/** Mean of a Prometheus summary/histogram from its `_sum` and `_count` lines. */
export function metricMean(text, name) {
  const read = (suffix) => {
    const m = new RegExp(`^${name}${suffix}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const sum = read("_sum");
  const count = read("_count");
  return count > 0 ? { mean: sum / count, count } : null;
}

const fmtRate = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
// Axis ticks can be fractions of a millisecond apart on a fast chain.
const fmtMs = (v) => (v < 1000 ? `${Number.isInteger(v) ? v : v.toFixed(1)} ms` : fmtDuration(v));

function blockPoint(b, prev) {
  const ts = b.header.timestamp_ms;
  const interval = prev ? ts - prev.header.timestamp_ms : null;
  return {
    height: b.header.height,
    txs: b.header.tx_count,
    ts,
    interval,
    hash: b.hash,
    proposer: b.header.proposer,
  };
}

export async function render(ctx) {
  ctx.setTitle("Overview");
  const status = await api.status();
  if (!ctx.alive()) return;

  const statusBox = h("div");
  const txChart = h("div");
  const rateChart = h("div");
  const intervalChart = h("div");
  const liveChart = h("div");
  const metricsBox = h("div");
  const recentBox = h("div");

  ctx.view.append(
    h("h1", null, "Overview of ", h("span", { class: "mono" }, status.chain_id)),
    section("Chain", statusBox),
    section(
      "Throughput",
      note(`Transactions per block and per second over the latest ${WINDOW} blocks (tx/s is a block's transactions over the time since the block before it).`),
      h("div", { class: "charts" }, txChart, rateChart),
    ),
    section(
      "Finality",
      note(
        "A block is final once its validators' certificate is stored, which happens when it commits: there are no forks to wait out. ",
        "A transaction therefore waits at most one block interval to be included, then the block's execution and commit. ",
        "The live chart measures, for each new block, the time from its proposal timestamp until this browser received it as final over the block stream.",
      ),
      h("div", { class: "charts" }, intervalChart, liveChart),
      metricsBox,
    ),
    section("Latest blocks", recentBox),
  );

  let head = status;
  const renderStatus = () => {
    statusBox.replaceChildren(
      fields([
        ["Chain id", h("span", { class: "mono" }, head.chain_id)],
        ["Height", blockLink(head.height)],
        ["Head block", fullHex(head.block_hash)],
        ["State root", fullHex(head.state_root)],
        ["Block time", `${fmtTime(head.timestamp_ms)} (${fmtAgo(head.timestamp_ms)})`],
        ["Validators", h("ul", { class: "plain" }, (head.validators ?? []).map((v) => h("li", null, accountLink(v))))],
        ["Mempool", plural(head.mempool_size ?? 0, "transaction")],
      ]),
    );
  };
  renderStatus();

  // The latest blocks' headers (read anonymously: headers are public and small).
  const from = Math.max(1, status.height - WINDOW);
  let blocks = [];
  try {
    blocks = status.height >= 1 ? await api.blockHeaders(from, status.height) : [];
  } catch (err) {
    recentBox.replaceChildren(errorBox(err));
  }
  if (!ctx.alive()) return;
  let points = blocks.map((b, i) => blockPoint(b, blocks[i - 1])).slice(-WINDOW);
  const live = [];

  const renderCharts = () => {
    const shown = points.filter((p) => p.interval !== null);
    txChart.replaceChildren(
      chart({
        title: "Transactions per block",
        desc: `Transaction count of blocks ${points[0]?.height ?? "–"} to ${points.at(-1)?.height ?? "–"}.`,
        kind: "bar",
        points: points.map((p) => ({ x: p.height, y: p.txs, title: `block ${p.height}: ${plural(p.txs, "transaction")}` })),
        format: (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)),
        integer: true,
        testid: "chart-throughput",
      }),
    );
    rateChart.replaceChildren(
      chart({
        title: "Throughput, transactions per second",
        desc: "Each block's transactions divided by the seconds since the previous block.",
        kind: "line",
        points: shown.map((p) => ({ x: p.height, y: p.interval > 0 ? (p.txs * 1000) / p.interval : NaN })),
        format: fmtRate,
      }),
    );
    intervalChart.replaceChildren(
      chart({
        title: "Block interval",
        desc: "Time between consecutive block timestamps: the longest a transaction waits to be included.",
        kind: "line",
        points: shown.map((p) => ({ x: p.height, y: p.interval })),
        format: fmtMs,
      }),
    );
    liveChart.replaceChildren(
      live.length
        ? chart({
            title: "Finality latency (observed live)",
            desc: "For each block received over the stream: its proposal timestamp until this browser received it final.",
            kind: "line",
            points: live.map((p) => ({ x: p.height, y: p.latency })),
            format: fmtMs,
            testid: "chart-finality",
          })
        : h(
            "figure",
            { class: "chart-box empty" },
            h("figcaption", null, "Finality latency (observed live): waiting for the next block on the stream."),
          ),
    );
    const total = points.reduce((a, p) => a + p.txs, 0);
    const span = points.length > 1 ? points.at(-1).ts - points[0].ts : 0;
    txChart.append(
      note(
        `${plural(total, "transaction")} in ${plural(points.length, "block")}`,
        span > 0 ? ` over ${fmtDuration(span)}: ${fmtRate((total * 1000) / span)} tx/s on average.` : ".",
      ),
    );
  };
  renderCharts();

  const renderRecent = () => {
    const rows = points.slice(-10).reverse();
    recentBox.replaceChildren(
      table({
        caption: "Latest blocks",
        columns: [
          { label: "Height", cell: (p) => link(href.block(p.height), `#${p.height}`, { testid: "block-row" }) },
          { label: "Time", cell: (p) => fmtTime(p.ts) },
          { label: "Transactions", cell: (p) => String(p.txs), class: "num" },
          { label: "Hash", cell: (p) => link(href.block(p.hash), p.hash) },
        ],
        rows,
        empty: "No blocks yet.",
      }),
      h("p", null, link(href.blocks(), "All blocks →")),
    );
  };
  renderRecent();

  api
    .metrics()
    .then((text) => {
      if (!ctx.alive()) return;
      const exec = metricMean(text, "weft_block_execute_seconds");
      const commit = metricMean(text, "weft_block_commit_seconds");
      const admit = metricMean(text, "weft_admission_seconds");
      const ms = (m) => (m ? `${(m.mean * 1000).toFixed(2)} ms mean over ${plural(m.count, "sample")}` : "not reported");
      metricsBox.replaceChildren(
        h("h3", null, "This node since it started (from /metrics)"),
        fields([
          ["Admission (check and queue a transaction)", ms(admit)],
          ["Block execution", ms(exec)],
          ["Block commit (write block, state and certificate)", ms(commit)],
        ]),
      );
    })
    .catch(() => metricsBox.replaceChildren(note("The node's /metrics are not available.")));

  ctx.onBlock((block, receivedMs) => {
    head = {
      ...head,
      height: block.height,
      block_hash: block.hash,
      state_root: block.state_root,
      timestamp_ms: block.timestamp_ms,
    };
    renderStatus();
    const prev = points.at(-1);
    points = points
      .concat([
        {
          height: block.height,
          txs: block.tx_count,
          ts: block.timestamp_ms,
          interval: prev ? block.timestamp_ms - prev.ts : null,
          hash: block.hash,
        },
      ])
      .slice(-WINDOW);
    live.push({ height: block.height, latency: Math.max(0, receivedMs - block.timestamp_ms) });
    if (live.length > LIVE_POINTS) live.shift();
    renderCharts();
    renderRecent();
  });
}
