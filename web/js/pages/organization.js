// One organization and the accounts that belong to it (as far as the viewer may see them).

import { api } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { accountLink, blockLink } from "../ui/links.js";
import { recordTable } from "../ui/records.js";
import { note } from "../ui/status.js";

export async function render(ctx) {
  const { id } = ctx.params;
  ctx.setTitle(`Organization ${id}`);
  const r = await api.state(`organization/${id}`);
  if (!ctx.alive()) return;
  ctx.view.append(h("h1", null, r.value?.display_name ?? id, " ", h("span", { class: "muted mono" }, id)));
  if (!r.value) {
    ctx.view.append(note(`There is no organization ${id}.`));
    return;
  }
  ctx.view.append(
    section("Organization", fields([["Id", id], ["Name", r.value.display_name], ["Registered at", blockLink(r.value.registered_at)]])),
    section(
      "Accounts",
      recordTable({
        prefix: "account/",
        caption: `Accounts of ${id}`,
        filter: (a) => a.value?.organization === id,
        columns: [
          { label: "Account", cell: (a) => accountLink(a.id) },
          { label: "Roles", cell: (a) => (a.value?.roles ?? []).join(", ") || "—" },
          { label: "Registered at", cell: (a) => blockLink(a.value?.registered_at ?? 0) },
        ],
        empty: "No accounts of this organization are visible to you (accounts are visible to their organization and to auditors).",
      }),
    ),
  );
}
