// Confidential data: the records whose payload lives off the ledger in authorized nodes'
// private stores; the ledger keeps the commitment, the usage policy, grants and a log.

import { h } from "../ui/dom.js";
import { fmtTime } from "../ui/format.js";
import { accountLink, blockLink, href, link } from "../ui/links.js";
import { recordTable } from "../ui/records.js";

export async function render(ctx) {
  ctx.setTitle("Private data");
  ctx.view.append(
    h("h1", null, "Private data"),
    h(
      "p",
      { class: "note" },
      "Each record's payload is encrypted in the private stores of the nodes that may hold it; the ledger keeps only its commitment (a salted hash), the usage policy, consent, grants and a log of every access. A record is visible to its controller, its subject, its grantees and data-protection auditors.",
    ),
    recordTable({
      prefix: "private/record/",
      caption: "Private records",
      columns: [
        { label: "Record", cell: (r) => link(href.privateRecord(r.id), r.id) },
        { label: "Data type", cell: (r) => r.value.data_type },
        { label: "Controller", cell: (r) => accountLink(r.value.controller) },
        { label: "Subject", cell: (r) => (r.value.subject ? accountLink(r.value.subject) : "—") },
        { label: "Grants", cell: (r) => String(Object.keys(r.value.grants ?? {}).length), class: "num" },
        { label: "Log entries", cell: (r) => String(r.value.log_size ?? 0), class: "num" },
        { label: "Status", cell: (r) => (r.value.purged ? h("span", { class: "badge bad" }, `erased ${fmtTime(r.value.purged.timestamp_ms).slice(0, 10)}`) : h("span", { class: "badge ok" }, "held")) },
        { label: "Created at", cell: (r) => blockLink(r.value.created_at) },
      ],
    }),
  );
}
