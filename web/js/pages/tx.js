// One transaction: where it committed and with what result, its decoded operations (with
// links to what they touch), its receipt and events. Its status is visible to whoever knows
// the hash; its content only to those it concerns.

import { api, session } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { fmtTime, isNever } from "../ui/format.js";
import { accountLink, blockLink, fullHex, href, link } from "../ui/links.js";
import { note } from "../ui/status.js";
import { renderEvent, renderOperation } from "../ui/value.js";
import { statusBadge } from "./block.js";

export async function render(ctx) {
  const hash = ctx.params.hash.toLowerCase();
  ctx.setTitle(`Transaction ${hash.slice(0, 10)}`);
  const found = await api.tx(hash);
  if (!ctx.alive()) return;
  ctx.view.append(h("h1", null, "Transaction"));

  if (found.status === "pending") {
    ctx.view.append(
      section("Status", fields([["Hash", fullHex(hash)], ["Status", h("span", { class: "badge pending" }, "pending in the mempool")]])),
      note("It will show here in full once a block includes it; this page updates when it does."),
    );
    ctx.onBlock((b) => {
      if ((b.tx_hashes ?? []).includes(hash)) window.dispatchEvent(new HashChangeEvent("hashchange"));
    });
    return;
  }

  const { height, index, receipt } = found;
  let entry = null;
  let block = null;
  try {
    block = await api.block(height);
    entry = block.transactions?.[index] ?? null;
  } catch {
    // The status above is still worth showing.
  }
  if (!ctx.alive()) return;
  const body = entry && !entry.redacted ? entry.transaction : null;
  const tx = body?.tx;
  const signers = (body?.signatures ?? []).map((s) => s.account);

  ctx.view.append(
    section(
      "Summary",
      fields([
        ["Hash", fullHex(hash)],
        ["Result", statusBadge(receipt)],
        ["Block", h("span", null, blockLink(height), `, position ${index}`, block ? ` — ${fmtTime(block.header.timestamp_ms)}` : "")],
        ["Reference", found.reference ? h("span", null, h("code", { class: "hex" }, found.reference), " ", link(href.verify(found.reference), "verify its proof")) : null],
        ["Signer", tx ? accountLink(tx.signer) : null],
        ["Co-signers", signers.length > 1 ? h("ul", { class: "plain" }, signers.filter((a) => a !== tx?.signer).map((a) => h("li", null, accountLink(a)))) : null],
        ["Nonce", tx ? String(tx.nonce) : null],
        ["Valid until height", tx ? (isNever(tx.expiry_height) ? "no expiry" : String(tx.expiry_height)) : null],
        ["Memo", tx?.memo ? tx.memo : null],
        ["State writes", receipt ? String(receipt.writes) : null],
      ]),
    ),
  );

  if (receipt && receipt.status !== "success") {
    ctx.view.append(
      h(
        "div",
        { class: "warn-box", role: "note" },
        h("p", null, h("strong", null, `Failed with ${receipt.code}`), receipt.operation !== null && receipt.operation !== undefined ? ` at operation ${receipt.operation + 1}` : "", ": ", receipt.message),
        h("p", null, "Nothing it asked for was applied; only its nonce was used."),
      ),
    );
  }

  if (tx) {
    const ops = tx.operations ?? [];
    ctx.view.append(
      section(`Operations (${ops.length})`, ops.map((op, i) => renderOperation(op, i, { signer: tx.signer }))),
    );
  } else {
    ctx.view.append(
      section(
        "Operations",
        note(
          "The content of this transaction does not concern ",
          session() ? "your account" : "anonymous viewers",
          ", so the node shows only its hash and result.",
          session() ? "" : " Sign in as a member it concerns to see it.",
        ),
      ),
    );
  }

  const events = receipt?.events ?? [];
  ctx.view.append(
    section(
      `Events (${events.length})`,
      found.events_redacted
        ? note("Its events are not visible to you.")
        : events.length
          ? events.map(renderEvent)
          : note("No events."),
    ),
  );
}
