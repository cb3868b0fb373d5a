// A DID resolved by the node (W3C DID resolution result): its document's keys and services.

import { api } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { accountLink, blockLink, href, link } from "../ui/links.js";
import { table } from "../ui/table.js";

export async function render(ctx) {
  const { did } = ctx.params;
  ctx.setTitle(`DID ${did.slice(0, 24)}`);
  const res = await api.did(did);
  if (!ctx.alive()) return;
  const doc = res.didDocument ?? {};
  const meta = res.didDocumentMetadata ?? {};
  const account = did.split(":").at(-1);
  const purposes = (id) =>
    [
      (doc.authentication ?? []).includes(id) ? "authentication" : null,
      (doc.assertionMethod ?? []).includes(id) ? "assertion" : null,
      (doc.keyAgreement ?? []).includes(id) ? "key agreement" : null,
      (doc.capabilityInvocation ?? []).includes(id) ? "capability invocation" : null,
    ]
      .filter(Boolean)
      .join(", ") || "—";
  ctx.view.append(
    h("h1", null, "DID"),
    section(
      "Document",
      fields([
        ["DID", h("code", { class: "hex" }, doc.id ?? did)],
        ["Account", /^[0-9a-f]{64}$/.test(account) ? accountLink(account) : null],
        ["Status", meta.deactivated ? h("span", { class: "badge bad" }, "deactivated") : h("span", { class: "badge ok" }, "active")],
        ["Version", meta.versionId ?? "1 (as registered)"],
        ["Created at", meta.createdHeight !== undefined ? blockLink(meta.createdHeight) : null],
        ["Updated at", meta.updatedHeight !== undefined ? blockLink(meta.updatedHeight) : null],
        ["Controllers", (doc.controller ?? []).length ? [doc.controller].flat().join(", ") : null],
        ["Resolved at height", String(res.didResolutionMetadata?.height ?? "")],
      ]),
    ),
    section(
      "Keys",
      table({
        caption: "Verification methods",
        columns: [
          { label: "Id", cell: (m) => h("code", null, String(m.id).split("#")[1] ?? m.id) },
          { label: "Type", cell: (m) => m.type },
          { label: "Key", cell: (m) => h("code", { class: "hex" }, m.publicKeyMultibase ?? JSON.stringify(m.publicKeyJwk ?? "")) },
          { label: "Used for", cell: (m) => purposes(m.id) },
        ],
        rows: doc.verificationMethod ?? [],
        empty: "No keys (a deactivated DID has none).",
      }),
    ),
    section(
      "Services",
      table({
        caption: "Services",
        columns: [
          { label: "Id", cell: (s) => h("code", null, String(s.id).split("#")[1] ?? s.id) },
          { label: "Type", cell: (s) => [s.type].flat().join(", ") },
          {
            label: "Endpoint",
            cell: (s) => {
              const ep = String(s.serviceEndpoint ?? "");
              return ep.startsWith("weft://") ? link(href.verify(ep), ep) : h("code", { class: "hex" }, ep);
            },
          },
        ],
        rows: doc.service ?? [],
        empty: "No services.",
      }),
    ),
    h("details", null, h("summary", null, "Resolution result (JSON)"), h("pre", null, JSON.stringify(res, null, 2))),
  );
}
