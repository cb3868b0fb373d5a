// Identity: DIDs, trusted credential issuers, status lists, attribute commitments and the
// key registry's names.

import { api } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { shortHex } from "../ui/format.js";
import { accountLink, blockLink, didLink, fullHex, href, link } from "../ui/links.js";
import { recordTable } from "../ui/records.js";
import { async, note } from "../ui/status.js";

function lookupForm(chainId) {
  const input = h("input", { id: "did-lookup", type: "text", spellcheck: "false", autocomplete: "off", placeholder: "did:weft:… or account hex" });
  const message = h("p", { class: "note", role: "alert" });
  const form = h(
    "form",
    { class: "actions" },
    h("label", { for: "did-lookup" }, "Resolve a DID"),
    input,
    h("button", { type: "submit" }, "Resolve"),
    message,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = input.value.trim();
    if (v.startsWith("did:")) location.hash = href.did(v);
    else if (/^[0-9a-fA-F]{64}$/.test(v)) location.hash = href.did(`did:weft:${chainId}:${v.toLowerCase()}`);
    else message.textContent = "Give a did:weft DID or a 64-hex account.";
  });
  return form;
}

export async function render(ctx) {
  ctx.setTitle("Identity");
  const status = await api.status();
  if (!ctx.alive()) return;
  ctx.view.append(
    h("h1", null, "Identity"),
    section(
      "DIDs",
      h("p", { class: "note" }, "Every account has a DID, ", h("code", null, `did:weft:${status.chain_id}:<account>`), "; its document lists the account's current keys. Below are the DIDs whose documents were changed since registration."),
      lookupForm(status.chain_id),
      recordTable({
        prefix: "did/",
        caption: "Updated DID documents",
        columns: [
          { label: "DID", cell: (r) => didLink(r.value.did) },
          { label: "Version", cell: (r) => String(r.value.version), class: "num" },
          { label: "Keys", cell: (r) => String(r.value.verification_methods?.length ?? 0), class: "num" },
          { label: "Status", cell: (r) => (r.value.deactivated ? h("span", { class: "badge bad" }, "deactivated") : h("span", { class: "badge ok" }, "active")) },
          { label: "Updated at", cell: (r) => blockLink(r.value.updated_height) },
        ],
        empty: "No DID document was changed since its account was registered.",
      }),
    ),
    section(
      "Trusted issuers",
      recordTable({
        prefix: "issuer/",
        caption: "Trusted credential issuers",
        columns: [
          { label: "Issuer", cell: (r) => didLink(r.value.did) },
          { label: "May issue", cell: (r) => (r.value.credential_types ?? []).join(", ") },
          { label: "Registered by", cell: (r) => accountLink(r.value.registered_by) },
          { label: "At", cell: (r) => blockLink(r.value.registered_at) },
        ],
        empty: "No trusted issuers.",
      }),
    ),
    section(
      "Credential status lists",
      recordTable({
        prefix: "status-list/",
        caption: "Status lists",
        columns: [
          { label: "List", cell: (r) => link(href.statusList(r.id.split("/")[0], r.id.split("/")[1]), r.id.split("/")[1]) },
          { label: "Issuer", cell: (r) => accountLink(r.id.split("/")[0]) },
          { label: "Purpose", cell: (r) => r.value.purpose },
          { label: "Entries", cell: (r) => String(r.value.entries), class: "num" },
          { label: "Set (revoked / suspended)", cell: (r) => String(r.value.set), class: "num" },
          { label: "Updated at", cell: (r) => blockLink(r.value.updated_at) },
        ],
        empty: "No status lists.",
      }),
    ),
    section(
      "Attribute commitments",
      h("p", { class: "note" }, "Salted hashes of verified personal data published by an issuer: the data stays with its subject, who can later disclose it and prove it matches."),
      recordTable({
        prefix: "commitment/",
        caption: "Attribute commitments",
        columns: [
          { label: "Id", cell: (r) => link(href.state(r.key), r.id) },
          { label: "Attribute", cell: (r) => r.value.attribute },
          { label: "Publisher", cell: (r) => accountLink(r.value.publisher) },
          { label: "Commitment", cell: (r) => h("span", { class: "mono", title: r.value.commitment }, shortHex(r.value.commitment)) },
          { label: "Status", cell: (r) => (r.value.withdrawn_at ? `withdrawn at ${r.value.withdrawn_at}` : "published") },
        ],
        empty: "No commitments visible to you.",
      }),
    ),
    section(
      "Key registry",
      async(async () => {
        const head = (await api.state("registry/log/head")).value;
        return head
          ? fields([["Transparency log size", String(head.size)], ["Log root", fullHex(head.root)]])
          : note("The transparency log is empty.");
      }),
      recordTable({
        prefix: "registry/name/",
        caption: "Registered names",
        columns: [
          { label: "Name", cell: (r) => link(href.registry(r.id), r.id) },
          { label: "Owner", cell: (r) => accountLink(r.value.owner) },
          { label: "Live key", cell: (r) => {
            const live = (r.value.bindings ?? []).find((b) => b.status === "live");
            return live ? h("span", { class: "mono", title: live.public_key }, shortHex(live.public_key)) : h("span", { class: "muted" }, "none");
          } },
          { label: "Bindings", cell: (r) => String(r.value.bindings?.length ?? 0), class: "num" },
          { label: "Registered at", cell: (r) => blockLink(r.value.registered_at) },
        ],
        empty: "No names registered.",
      }),
    ),
  );
}
