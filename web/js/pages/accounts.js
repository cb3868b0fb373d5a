// Accounts: who belongs to which organization with which roles.

import { h } from "../ui/dom.js";
import { accountLink, blockLink, href, link } from "../ui/links.js";
import { recordTable } from "../ui/records.js";

export async function render(ctx) {
  ctx.setTitle("Accounts");
  ctx.view.append(
    h("h1", null, "Accounts"),
    h("p", { class: "note" }, "An account is visible to itself, to the members of its organization and to auditors and regulators."),
    recordTable({
      prefix: "account/",
      caption: "Accounts",
      columns: [
        { label: "Account", cell: (r) => accountLink(r.id) },
        { label: "Organization", cell: (r) => (r.value?.organization ? link(href.organization(r.value.organization), r.value.organization) : "—") },
        { label: "Roles", cell: (r) => (r.value?.roles ?? []).join(", ") || "—" },
        { label: "Registered at", cell: (r) => blockLink(r.value?.registered_at ?? 0) },
      ],
      sort: (a, b) => (a.value?.registered_at ?? 0) - (b.value?.registered_at ?? 0),
    }),
  );
}
