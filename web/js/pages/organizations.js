// Organizations (consortium members) and the roles that carry permissions.

import { h, section } from "../ui/dom.js";
import { blockLink, href, link } from "../ui/links.js";
import { recordTable } from "../ui/records.js";

export async function render(ctx) {
  ctx.setTitle("Organizations");
  ctx.view.append(
    h("h1", null, "Organizations and roles"),
    section(
      "Organizations",
      recordTable({
        prefix: "organization/",
        caption: "Organizations",
        columns: [
          { label: "Id", cell: (r) => link(href.organization(r.id), r.id) },
          { label: "Name", cell: (r) => r.value?.display_name ?? "—" },
          { label: "Registered at", cell: (r) => blockLink(r.value?.registered_at ?? 0) },
        ],
      }),
    ),
    section(
      "Roles",
      h("p", { class: "note" }, "A role grants permissions: operations (", h("code", null, "token.transfer"), ", ", h("code", null, "asset.*"), ") and reads (", h("code", null, "read.<kind>"), "). What anonymous viewers may read is the role ", h("code", null, "public"), "."),
      recordTable({
        prefix: "role/",
        caption: "Roles",
        columns: [
          { label: "Role", cell: (r) => h("strong", null, r.id) },
          {
            label: "Permissions",
            cell: (r) =>
              (r.value?.permissions ?? []).length
                ? h("span", { class: "list" }, (r.value.permissions ?? []).map((p, i) => [i ? ", " : "", h("code", null, p)]))
                : h("span", { class: "muted" }, "none (a marker role)"),
          },
        ],
      }),
    ),
  );
}
