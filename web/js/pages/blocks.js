// Blocks, newest first, a page at a time; the first page grows as blocks arrive live.

import { api } from "../api.js";
import { h } from "../ui/dom.js";
import { fmtTime, shortHex } from "../ui/format.js";
import { accountLink, href, link } from "../ui/links.js";
import { table } from "../ui/table.js";

const PAGE = 25;

function row(b) {
  return { height: b.header.height, ts: b.header.timestamp_ms, txs: b.header.tx_count, proposer: b.header.proposer, hash: b.hash };
}

function blockTable(rows) {
  return table({
    caption: "Blocks, newest first",
    columns: [
      { label: "Height", cell: (r) => link(href.block(r.height), `#${r.height}`, { testid: "block-row" }) },
      { label: "Time", cell: (r) => fmtTime(r.ts) },
      { label: "Transactions", cell: (r) => String(r.txs), class: "num" },
      { label: "Proposer", cell: (r) => accountLink(r.proposer) },
      { label: "Hash", cell: (r) => h("span", { class: "mono", title: r.hash }, shortHex(r.hash)) },
    ],
    rows,
    empty: "No blocks.",
  });
}

export async function render(ctx) {
  ctx.setTitle("Blocks");
  const status = await api.status();
  const beforeParam = Number(ctx.query.get("before"));
  const top = Number.isSafeInteger(beforeParam) && beforeParam > 0 ? Math.min(beforeParam - 1, status.height) : status.height;
  const lowest = Math.max(1, top - PAGE + 1);
  const blocks = top >= 1 ? (await api.blockHeaders(lowest, top)).reverse() : [];
  if (!ctx.alive()) return;
  let rows = blocks.map(row);
  const box = h("div", null, blockTable(rows));
  const pager = h(
    "nav",
    { class: "pager", "aria-label": "Pages of blocks" },
    top < status.height ? link(href.blocks(Math.min(status.height + 1, top + PAGE + 1)), "← Newer") : null,
    top < status.height ? link(href.blocks(), "Latest") : null,
    lowest > 1 ? link(href.blocks(lowest), "Older →") : null,
  );
  ctx.view.append(
    h("h1", null, "Blocks"),
    h("p", { class: "note" }, `Heights ${lowest} to ${top} of ${status.height}. Headers and certificates are public; what a block's transactions did is shown to those they concern.`),
    box,
    pager,
  );
  if (top === status.height) {
    // The stream's event lacks the proposer, so read the new header.
    ctx.onBlock((b) => {
      api.blockHeader(b.height).then((full) => {
        if (!ctx.alive() || rows.some((r) => r.height === full.header.height)) return;
        rows = [row(full), ...rows].sort((x, y) => y.height - x.height).slice(0, PAGE);
        box.replaceChildren(blockTable(rows));
      }, () => {});
    });
  }
}
