// Anchored documents: the ledger keeps each version's hash and who signed it, never the
// content itself.

import { h } from "../ui/dom.js";
import { plural, shortHex } from "../ui/format.js";
import { accountLink, blockLink, href, link } from "../ui/links.js";
import { recordTable } from "../ui/records.js";

function signedState(d) {
  const latest = d.versions?.at(-1);
  const signed = latest?.signatures?.length ?? 0;
  if (!d.required_signatures) return "no signatures required";
  return signed >= d.required_signatures
    ? h("span", { class: "badge ok" }, `signed ${signed}/${d.required_signatures}`)
    : h("span", { class: "badge pending" }, `awaiting ${d.required_signatures - signed} of ${d.required_signatures}`);
}

export async function render(ctx) {
  ctx.setTitle("Documents");
  ctx.view.append(
    h("h1", null, "Documents"),
    h("p", { class: "note" }, "Only a document's hash (its commitment) and signatures are on the ledger; the content stays with the parties. A document is visible to its owner and parties, and to auditors."),
    recordTable({
      prefix: "document/",
      caption: "Documents",
      columns: [
        { label: "Document", cell: (r) => link(href.document(r.id), r.id) },
        { label: "Type", cell: (r) => r.value.media_type },
        { label: "Owner", cell: (r) => accountLink(r.value.owner) },
        { label: "Parties", cell: (r) => plural(r.value.parties?.length ?? 0, "party", "parties") },
        { label: "Versions", cell: (r) => String(r.value.versions?.length ?? 0), class: "num" },
        { label: "Latest hash", cell: (r) => h("span", { class: "mono", title: r.value.versions?.at(-1)?.hash }, shortHex(r.value.versions?.at(-1)?.hash ?? "")) },
        { label: "Signatures", cell: (r) => signedState(r.value) },
        { label: "Anchored at", cell: (r) => blockLink(r.value.versions?.[0]?.anchored_at ?? 0) },
      ],
    }),
  );
}
