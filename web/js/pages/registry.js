// A name in the key registry: its owner and every binding of a key to it, with endorsements,
// revocations and the transparency-log leaves that record them.

import { api } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { accountLink, blockLink, fullHex, href, link } from "../ui/links.js";
import { table } from "../ui/table.js";

const accounts = (list) =>
  list?.length ? h("ul", { class: "plain" }, list.map((a) => h("li", null, accountLink(a)))) : h("span", { class: "muted" }, "—");

export async function render(ctx) {
  const { name } = ctx.params;
  ctx.setTitle(`Name ${name}`);
  const r = await api.registry(name);
  if (!ctx.alive()) return;
  const bindings = [...(r.history ?? [])];
  for (const b of [r.live, r.pending]) if (b && !bindings.some((x) => x.serial === b.serial)) bindings.push(b);
  bindings.sort((a, b) => a.serial - b.serial);
  ctx.view.append(
    h("h1", null, "Registry name ", h("span", { class: "mono" }, name)),
    section(
      "Name",
      fields([
        ["Owner", accountLink(r.owner)],
        ["Endorsements required", String(r.endorsers_required)],
        ["Registered at", blockLink(r.registered_at)],
        ["Live key", r.live ? fullHex(r.live.public_key) : h("span", { class: "muted" }, "none: no key is bound now")],
        ["Awaiting endorsement", r.pending ? fullHex(r.pending.public_key) : null],
      ]),
    ),
    section(
      "Bindings",
      table({
        caption: "Key bindings",
        columns: [
          { label: "Serial", cell: (b) => String(b.serial), class: "num" },
          { label: "Key", cell: (b) => fullHex(b.public_key) },
          { label: "Status", cell: (b) => h("span", { class: `badge ${b.status === "live" ? "ok" : b.status === "revoked" ? "bad" : "pending"}` }, b.status) },
          { label: "Proposed / live / ended", cell: (b) => h("span", null, blockLink(b.proposed_at), " / ", b.live_at !== null && b.live_at !== undefined ? blockLink(b.live_at) : "—", " / ", b.ended_at !== null && b.ended_at !== undefined ? blockLink(b.ended_at) : "—") },
          { label: "Endorsed by", cell: (b) => accounts(b.endorsers) },
          { label: "Revoked by", cell: (b) => (b.revoked_by?.length ? h("div", null, accounts(b.revoked_by), b.revocation_reason ? h("p", { class: "note" }, b.revocation_reason) : null) : "—") },
          { label: "Log leaves", cell: (b) => h("span", { class: "list" }, (b.log_leaves ?? []).map((i, n) => [n ? ", " : "", link(href.state(`registry/log/leaf/${i}`), String(i))])) },
        ],
        rows: bindings,
      }),
    ),
  );
}
