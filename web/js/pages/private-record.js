// One private record: commitment, policy, consent, grants and its access log. The payload
// itself is never shown here (reading it is a logged transaction of its own).

import { api } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { fmtTime, plural } from "../ui/format.js";
import { accountLink, blockLink, fullHex } from "../ui/links.js";
import { note } from "../ui/status.js";
import { table } from "../ui/table.js";

const purposes = (list) => (list?.length ? list.join(", ") : "none");

function what(entry) {
  switch (entry.event) {
    case "created":
      return "created with its commitment";
    case "granted":
      return h("span", null, "granted ", accountLink(entry.grantee), ` for ${purposes(entry.purposes)}`, entry.expires_at_ms ? ` until ${fmtTime(entry.expires_at_ms)}` : "");
    case "revoked":
      return h("span", null, "revoked ", h("span", { class: "list" }, (entry.grantees ?? []).map((g, i) => [i ? ", " : "", accountLink(g)])));
    case "accessed":
      return `read the payload for ${entry.purpose}`;
    case "consent":
      return `set consent to ${purposes(entry.purposes)}`;
    case "purged":
      return `erased the payload: ${entry.reason}`;
    default:
      return entry.event;
  }
}

export async function render(ctx) {
  const { id } = ctx.params;
  ctx.setTitle(`Private record ${id}`);
  const res = await api.privateRecord(id);
  if (!ctx.alive()) return;
  const r = res.record;
  const grants = Object.entries(r.grants ?? {});
  ctx.view.append(
    h("h1", null, "Private record ", h("span", { class: "mono" }, id)),
    r.purged
      ? h("div", { class: "warn-box", role: "note" }, `Erased at block ${r.purged.height} (${fmtTime(r.purged.timestamp_ms)}): ${r.purged.reason}. The payload is gone from every store; the commitment still proves what was recorded.`)
      : null,
    section(
      "Record",
      fields([
        ["Data type", r.data_type],
        ["Controller", accountLink(r.controller)],
        ["Subject", r.subject ? accountLink(r.subject) : "—"],
        ["Commitment (salted SHA-256)", fullHex(r.commitment)],
        ["Payload size", plural(r.size, "byte")],
        ["Created", h("span", null, blockLink(r.created_at), ` — ${fmtTime(r.created_ms)}`)],
        ["Held by this node", res.stored_here ? "yes (encrypted at rest)" : "no"],
      ]),
      note("The payload is never shown by the explorer: a grantee reads it once per logged access transaction, through the API."),
    ),
    section(
      "Usage policy and consent",
      fields([
        ["Allowed purposes", purposes(r.policy?.purposes)],
        ["Keep until", r.policy?.retain_until_ms ? fmtTime(r.policy.retain_until_ms) : "no limit"],
        ["Grantees may grant onwards", r.policy?.onward_grants ? "yes" : "no"],
        ["Subject's consent", r.subject ? purposes(r.consent) : "no subject"],
      ]),
    ),
    section(
      "Grants",
      table({
        caption: "Current grants",
        columns: [
          { label: "Grantee", cell: ([a]) => accountLink(a) },
          { label: "Purposes", cell: ([, g]) => purposes(g.purposes) },
          { label: "Expires", cell: ([, g]) => (g.expires_at_ms ? fmtTime(g.expires_at_ms) : "never") },
          { label: "Granted by", cell: ([, g]) => accountLink(g.granted_by) },
          { label: "At", cell: ([, g]) => blockLink(g.granted_at) },
        ],
        rows: grants,
        empty: "No current grants.",
      }),
    ),
    section(
      "Access log",
      table({
        caption: "Access log",
        columns: [
          { label: "#", cell: (e) => String(e.index), class: "num" },
          { label: "Who", cell: (e) => accountLink(e.actor) },
          { label: "What", cell: what },
          { label: "Block", cell: (e) => blockLink(e.height) },
          { label: "Time", cell: (e) => fmtTime(e.timestamp_ms) },
        ],
        rows: res.log ?? [],
        empty: "No log entries.",
      }),
      (res.log ?? []).length < (r.log_size ?? 0) ? note(`Showing ${res.log.length} of ${r.log_size} entries.`) : null,
    ),
  );
}
