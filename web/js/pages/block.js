// One block: its header, the validators' finality certificate and its transactions (in full
// where the viewer may see them, else only their hashes).

import { api, session } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { fmtAgo, fmtTime, plural } from "../ui/format.js";
import { accountLink, fullHex, href, link, txLink } from "../ui/links.js";
import { note } from "../ui/status.js";
import { table } from "../ui/table.js";

/** The badge for a receipt's status. */
export function statusBadge(receipt) {
  if (!receipt) return h("span", { class: "badge" }, "unknown");
  if (receipt.status === "success") return h("span", { class: "badge success" }, "success");
  return h("span", { class: "badge failed", title: receipt.message ?? "" }, `failed: ${receipt.code ?? "error"}`);
}

/** A consensus epoch or view as text; absent (an older node's certificate) shows nothing. */
function roundNumber(n) {
  return n === null || n === undefined ? null : String(n);
}

function opSummary(tx) {
  const ops = tx.transaction?.tx?.operations ?? [];
  const types = ops.map((o) => String(o.type).replace(/_/g, " "));
  if (types.length <= 3) return types.join(", ");
  return `${types.slice(0, 3).join(", ")} and ${types.length - 3} more`;
}

export async function render(ctx) {
  const block = await api.block(ctx.params.id);
  if (!ctx.alive()) return;
  const hd = block.header;
  ctx.setTitle(`Block ${hd.height}`);
  const visible = block.transactions.filter((t) => !t.redacted).length;
  const hidden = block.transactions.length - visible;
  ctx.view.append(
    h("h1", null, `Block #${hd.height}`),
    h(
      "nav",
      { class: "pager", "aria-label": "Neighbouring blocks" },
      hd.height > 1 ? link(href.block(hd.height - 1), `← #${hd.height - 1}`) : null,
      link(href.block(hd.height + 1), `#${hd.height + 1} →`),
      link(href.blocks(hd.height + 1), "In the list"),
    ),
    section(
      "Header",
      fields([
        ["Hash", fullHex(block.hash)],
        ["Chain", h("span", { class: "mono" }, hd.chain_id)],
        ["Time", `${fmtTime(hd.timestamp_ms)} (${fmtAgo(hd.timestamp_ms)})`],
        ["Parent", hd.height > 1 ? link(href.block(hd.parent), hd.parent) : fullHex(hd.parent)],
        ["Proposer", accountLink(hd.proposer)],
        ["Transactions", String(hd.tx_count)],
        ["Transactions root", fullHex(hd.tx_root)],
        ["State root (after this block)", fullHex(hd.state_root)],
        ["Receipts root", fullHex(hd.receipts_root)],
        ["Validator set hash", fullHex(hd.validator_set_hash)],
      ]),
    ),
    section(
      "Finality certificate",
      block.finalization
        ? h(
            "div",
            null,
            note(
              `Signed by ${plural(block.finalization.signatures.length, "validator")}: each signed the consensus engine's finalize vote for this block hash in the round below; the block is final.`,
            ),
            fields([
              ["Epoch", roundNumber(block.finalization.epoch)],
              ["View", roundNumber(block.finalization.view)],
              ["Parent's view", roundNumber(block.finalization.parent_view)],
            ]),
            table({
              caption: "Validator signatures",
              columns: [
                { label: "Validator", cell: (s) => accountLink(s.validator) },
                { label: "Signature", cell: (s) => h("code", { class: "hex" }, s.signature) },
              ],
              rows: block.finalization.signatures,
            }),
          )
        : note("No certificate stored for this block."),
    ),
    section(
      "Transactions",
      hidden > 0
        ? note(
            `${plural(hidden, "transaction")} of this block ${hidden === 1 ? "does" : "do"} not concern ${session() ? "your account" : "anonymous viewers"}: only ${hidden === 1 ? "its" : "their"} hash is shown.`,
            session() ? "" : " Sign in to see what concerns you.",
          )
        : null,
      table({
        caption: `Transactions of block ${hd.height}`,
        columns: [
          { label: "#", cell: (t) => String(t.index), class: "num" },
          { label: "Hash", cell: (t) => txLink(t.tx_hash) },
          { label: "Signer", cell: (t) => (t.redacted ? h("span", { class: "muted" }, "not visible") : accountLink(t.transaction.tx.signer)) },
          { label: "Operations", cell: (t) => (t.redacted ? "—" : opSummary(t)) },
          { label: "Status", cell: (t) => (t.redacted ? "—" : statusBadge(t.receipt)) },
        ],
        rows: block.transactions,
        empty: "This block has no transactions.",
      }),
    ),
  );
}
